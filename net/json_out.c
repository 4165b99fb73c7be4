/* json_out.c — the JSON / msgpack reply writer of json_out.h. */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

static void put(jo *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (codec_buf_append(w->b, p, n) != 0)
        w->err = ANT_ENOMEM;
}

static void put_c(jo *w, uint8_t c)
{
    put(w, &c, 1);
}

static void put_be(jo *w, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(w, t, (size_t)bytes);
}

/* Count one item at the current level and, in JSON, write the separator. */
static void item(jo *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->st[w->depth - 1].map) {
            w->err = w->err ? w->err : ANT_EINTERNAL; /* value without key */
            return;
        }
        if (w->fmt == JO_JSON && w->st[w->depth - 1].n > 0)
            put_c(w, ',');
        w->st[w->depth - 1].n++;
    }
}

void jo_init(jo *w, codec_buf *b, int fmt)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->fmt = fmt;
}

static void open_container(jo *w, bool map)
{
    item(w);
    if (w->depth >= JO_MAX_DEPTH) {
        w->err = w->err ? w->err : ANT_EINTERNAL;
        return;
    }
    w->st[w->depth].pos = w->b->len;
    w->st[w->depth].n = 0;
    w->st[w->depth].map = map;
    w->depth++;
    if (w->fmt == JO_JSON) {
        put_c(w, map ? '{' : '[');
    } else {
        uint8_t hdr[3] = {map ? 0xde : 0xdc, 0, 0}; /* map16 / array16, patched at the end */
        put(w, hdr, 3);
    }
}

static void close_container(jo *w, bool map)
{
    if (w->depth == 0 || w->st[w->depth - 1].map != map || w->after_key) {
        w->err = w->err ? w->err : ANT_EINTERNAL;
        return;
    }
    w->depth--;
    if (w->err)
        return;
    if (w->fmt == JO_JSON) {
        put_c(w, map ? '}' : ']');
        return;
    }
    uint32_t n = w->st[w->depth].n;
    char *h = w->b->data + w->st[w->depth].pos;
    if (n > 0xffff) {
        w->err = ANT_EINTERNAL;
    } else if (n <= 15) {
        /* shrink to fixmap / fixarray */
        h[0] = (char)((map ? 0x80 : 0x90) | n);
        size_t body = w->b->len - (w->st[w->depth].pos + 3);
        memmove(h + 1, h + 3, body);
        w->b->len -= 2;
    } else {
        h[1] = (char)(n >> 8);
        h[2] = (char)(n & 0xff);
    }
}

void jo_obj(jo *w)
{
    open_container(w, true);
}

void jo_obj_end(jo *w)
{
    close_container(w, true);
}

void jo_arr(jo *w)
{
    open_container(w, false);
}

void jo_arr_end(jo *w)
{
    close_container(w, false);
}

static void json_escape(jo *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put_c(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[7];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(w, esc, 6);
        }
    }
    put(w, s + run, n - run);
    put_c(w, '"');
}

static void mp_str(jo *w, const char *s, size_t n)
{
    if (n <= 31) {
        put_c(w, (uint8_t)(0xa0 | n));
    } else if (n <= 0xff) {
        put_c(w, 0xd9);
        put_be(w, n, 1);
    } else if (n <= 0xffff) {
        put_c(w, 0xda);
        put_be(w, n, 2);
    } else {
        put_c(w, 0xdb);
        put_be(w, n, 4);
    }
    put(w, s, n);
}

void jo_key(jo *w, const char *k)
{
    if (w->depth == 0 || !w->st[w->depth - 1].map || w->after_key) {
        w->err = w->err ? w->err : ANT_EINTERNAL;
        return;
    }
    size_t n = strlen(k);
    if (w->fmt == JO_JSON) {
        if (w->st[w->depth - 1].n > 0)
            put_c(w, ',');
        json_escape(w, k, n);
        put_c(w, ':');
    } else {
        mp_str(w, k, n);
    }
    w->st[w->depth - 1].n++;
    w->after_key = true;
}

void jo_strn(jo *w, const char *s, size_t n)
{
    item(w);
    if (w->fmt == JO_JSON)
        json_escape(w, s, n);
    else
        mp_str(w, s, n);
}

void jo_str(jo *w, const char *s)
{
    jo_strn(w, s, strlen(s));
}

void jo_uint(jo *w, uint64_t v)
{
    item(w);
    if (w->fmt == JO_JSON) {
        char t[24];
        int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
        put(w, t, (size_t)n);
    } else if (v <= 0x7f) {
        put_c(w, (uint8_t)v);
    } else if (v <= 0xff) {
        put_c(w, 0xcc);
        put_be(w, v, 1);
    } else if (v <= 0xffff) {
        put_c(w, 0xcd);
        put_be(w, v, 2);
    } else if (v <= 0xffffffffu) {
        put_c(w, 0xce);
        put_be(w, v, 4);
    } else {
        put_c(w, 0xcf);
        put_be(w, v, 8);
    }
}

void jo_int(jo *w, int64_t v)
{
    if (v >= 0) {
        jo_uint(w, (uint64_t)v);
        return;
    }
    item(w);
    if (w->fmt == JO_JSON) {
        char t[24];
        int n = snprintf(t, sizeof t, "%lld", (long long)v);
        put(w, t, (size_t)n);
    } else if (v >= -32) {
        put_c(w, (uint8_t)(int8_t)v);
    } else if (v >= INT8_MIN) {
        put_c(w, 0xd0);
        put_be(w, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        put_c(w, 0xd1);
        put_be(w, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        put_c(w, 0xd2);
        put_be(w, (uint64_t)v, 4);
    } else {
        put_c(w, 0xd3);
        put_be(w, (uint64_t)v, 8);
    }
}

void jo_double(jo *w, double v)
{
    if (!isfinite(v))
        v = 0;
    item(w);
    if (w->fmt == JO_JSON) {
        char t[32];
        int n;
        if (v == (double)(int64_t)v && fabs(v) < 1e15)
            n = snprintf(t, sizeof t, "%lld", (long long)v);
        else
            n = snprintf(t, sizeof t, "%.4f", v);
        put(w, t, (size_t)n);
    } else {
        uint64_t bits;
        memcpy(&bits, &v, 8);
        put_c(w, 0xcb);
        put_be(w, bits, 8);
    }
}

void jo_bool(jo *w, bool v)
{
    item(w);
    if (w->fmt == JO_JSON)
        put(w, v ? "true" : "false", v ? 4 : 5);
    else
        put_c(w, v ? 0xc3 : 0xc2);
}

void jo_null(jo *w)
{
    item(w);
    if (w->fmt == JO_JSON)
        put(w, "null", 4);
    else
        put_c(w, 0xc0);
}

void jo_raw(jo *w, const char *p, size_t n)
{
    item(w);
    put(w, p, n);
}

void jo_json(jo *w, const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        jo_obj(w);
        json_object_foreach((json_t *)v, k, x)
        {
            jo_key(w, k);
            jo_json(w, x);
        }
        jo_obj_end(w);
        break;
    case JSON_ARRAY:
        jo_arr(w);
        json_array_foreach(v, i, x) jo_json(w, x);
        jo_arr_end(w);
        break;
    case JSON_STRING:
        jo_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jo_int(w, json_integer_value(v));
        break;
    case JSON_REAL:
        jo_double(w, json_real_value(v));
        break;
    case JSON_TRUE:
        jo_bool(w, true);
        break;
    case JSON_FALSE:
        jo_bool(w, false);
        break;
    default:
        jo_null(w);
    }
}

int jo_end(jo *w)
{
    if (!w->err && (w->depth != 0 || w->after_key))
        w->err = ANT_EINTERNAL;
    return w->err;
}

void jo_kstr(jo *w, const char *k, const char *v)
{
    jo_key(w, k);
    jo_str(w, v);
}

void jo_kint(jo *w, const char *k, int64_t v)
{
    jo_key(w, k);
    jo_int(w, v);
}

void jo_kuint(jo *w, const char *k, uint64_t v)
{
    jo_key(w, k);
    jo_uint(w, v);
}

void jo_kbool(jo *w, const char *k, bool v)
{
    jo_key(w, k);
    jo_bool(w, v);
}
