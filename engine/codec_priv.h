/*
 * codec_priv.h — the codec's own bounded msgpack reader, shared by the codec's
 * decoding files (codec_msgpack.c: reader and events, codec_request.c:
 * requests) and by nobody else. Everything outside goes through codec.h.
 *
 * The reader never trusts a length header: every str/bin length and every
 * array/map count is checked against the bytes that remain (each item takes
 * at least one byte) before it is used, and nothing is allocated from it.
 */
#ifndef ENG_CODEC_PRIV_H
#define ENG_CODEC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_MP_MAX_DEPTH 8 /* nesting cap */
#define CODEC_MP_MAX_MAP 64  /* entries of a top-level event or request map */
#define CODEC_BIT(f) (1u << (f))

enum codec_mkind { MK_NIL, MK_BOOL, MK_INT, MK_UINT, MK_FLOAT, MK_STR, MK_BIN, MK_ARRAY, MK_MAP };

/* One value: scalars in full, str/bin as a view into the input, array/map as a count. */
typedef struct codec_mval {
    uint8_t kind; /* enum codec_mkind; MK_INT only for negative integers */
    bool b;
    int64_t i;  /* MK_INT */
    uint64_t u; /* MK_UINT */
    double f;   /* MK_FLOAT */
    const char *s;
    size_t n; /* str/bin bytes, array items, map entries */
} codec_mval;

/* A cursor over borrowed bytes; msg (200 bytes, caller-owned) receives errors. */
typedef struct codec_mrd {
    const uint8_t *p, *end;
    char *msg;
} codec_mrd;

/* Reads one value's header (and a str/bin's bytes). 0 or ANT_EBADREQ with msg set. */
int codec_mp_next(codec_mrd *r, codec_mval *v);
/* Skips the items of the array/map whose header v was just read, at nesting depth. */
int codec_mp_skip(codec_mrd *r, const codec_mval *v, int depth);

/* Formats msg (200 bytes) and returns ANT_EBADREQ. */
int codec_fail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A short printable copy of s for messages (≤ 32 bytes, odd bytes as '?'); returns out. */
const char *codec_echo(const char *s, size_t n, char out[40]);
/* True when the str value k equals name. */
bool codec_keyeq(const codec_mval *k, const char *name);
const char *codec_kind_name(int kind);
/* Index k in [0, n) with name(k) equal to the str value v (empty names skipped), or -1. */
int codec_name_index(const codec_mval *v, const char *(*name)(int), int n);
/* "first" / "last" for enum eng_placement, NULL otherwise. */
const char *codec_place_name(int p);

#endif
