/*
 * json_out.h — one writer for both wire encodings of replies (SPEC §4, §5).
 *
 * The same calls produce a JSON text or a msgpack value into a caller-owned,
 * reused codec_buf, so a reply is built once without per-request allocation
 * churn and HTTP, WS-JSON and WS-msgpack say the same thing. Containers are
 * written with a placeholder count that is patched (and shrunk to the fix
 * form when small) when the container ends. It must never be handed citizen
 * data for a public reply: the caller decides what to write.
 */
#ifndef NET_JSON_OUT_H
#define NET_JSON_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

enum jo_fmt { JO_JSON = 0, JO_MSGPACK = 1 };

#define JO_MAX_DEPTH 16

typedef struct jo {
    codec_buf *b; /* borrowed; appended to */
    int fmt;      /* enum jo_fmt */
    int depth;
    bool after_key;
    int err; /* first error: ANT_ENOMEM or ANT_EINTERNAL (misuse) */
    struct {
        size_t pos; /* msgpack: offset of the placeholder header */
        uint32_t n; /* items (maps: keys) so far */
        bool map;
    } st[JO_MAX_DEPTH];
} jo;

/* Start writing at the end of b (b is not reset). */
void jo_init(jo *w, codec_buf *b, int fmt);
void jo_obj(jo *w);
void jo_obj_end(jo *w);
void jo_arr(jo *w);
void jo_arr_end(jo *w);
void jo_key(jo *w, const char *k);
void jo_str(jo *w, const char *s);
void jo_strn(jo *w, const char *s, size_t n);
void jo_int(jo *w, int64_t v);
void jo_uint(jo *w, uint64_t v);
void jo_double(jo *w, double v);
void jo_bool(jo *w, bool v);
void jo_null(jo *w);
/* A jansson value, converted to the writer's format (borrowed). */
void jo_json(jo *w, const json_t *v);
/* Append already-encoded bytes of the writer's format as one value. */
void jo_raw(jo *w, const char *p, size_t n);
/* 0 when everything was written, else the first error. */
int jo_end(jo *w);

/* Shorthands: key + value. */
void jo_kstr(jo *w, const char *k, const char *v);
void jo_kint(jo *w, const char *k, int64_t v);
void jo_kuint(jo *w, const char *k, uint64_t v);
void jo_kbool(jo *w, const char *k, bool v);

#endif
