/*
 * wire.c — the two encodings of the WebSocket API on the client side:
 * requests built as jansson values go out as JSON text or msgpack
 * (msgpack-c's packer), and msgpack messages come back as JSON text.
 *
 * Reading msgpack never uses msgpack-c's unpacker, which trusts length
 * headers (see DESIGN.md, "Known traps"): an own bounded walker checks
 * every length and count against the bytes that remain before using it and
 * caps nesting, so hostile input costs at most its own size in output.
 */
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"

#define MAX_DEPTH 32

/* ---- UTF-8 ------------------------------------------------------------------ */

bool acl_utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len > n - i)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* ---- jansson → msgpack / JSON text ----------------------------------------- */

static int mp_write(void *data, const char *buf, size_t len)
{
    return codec_buf_append(data, buf, len) ? -1 : 0;
}

static int pack(msgpack_packer *pk, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return ACL_EARG;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        if (msgpack_pack_map(pk, json_object_size(v)))
            return ACL_ENOMEM;
        json_object_foreach((json_t *)v, k, item)
        {
            size_t kl = strlen(k);
            if (msgpack_pack_str(pk, kl) || msgpack_pack_str_body(pk, k, kl))
                return ACL_ENOMEM;
            int rc = pack(pk, item, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        if (msgpack_pack_array(pk, json_array_size(v)))
            return ACL_ENOMEM;
        json_array_foreach(v, i, item)
        {
            int rc = pack(pk, item, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JSON_STRING: {
        size_t n = json_string_length(v);
        return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, json_string_value(v), n)
                   ? ACL_ENOMEM
                   : 0;
    }
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, json_integer_value(v)) ? ACL_ENOMEM : 0;
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(v)) ? ACL_ENOMEM : 0;
    case JSON_TRUE:
        return msgpack_pack_true(pk) ? ACL_ENOMEM : 0;
    case JSON_FALSE:
        return msgpack_pack_false(pk) ? ACL_ENOMEM : 0;
    case JSON_NULL:
        return msgpack_pack_nil(pk) ? ACL_ENOMEM : 0;
    }
    return ACL_EARG;
}

int acl_json_to_msgpack(const json_t *v, codec_buf *out)
{
    if (!v)
        return ACL_EARG;
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, mp_write);
    int rc = pack(&pk, v, 0);
    if (rc)
        out->len = mark;
    return rc;
}

static int text_write(const char *buf, size_t len, void *data)
{
    return codec_buf_append(data, buf, len) ? -1 : 0;
}

int acl_json_to_text(const json_t *v, codec_buf *out)
{
    if (!v)
        return ACL_EARG;
    size_t mark = out->len;
    if (json_dump_callback(v, text_write, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        out->len = mark;
        return ACL_ENOMEM;
    }
    return 0;
}

/* ---- msgpack → JSON text ----------------------------------------------------- */

typedef struct mrd {
    const uint8_t *p, *end;
    codec_buf *out;
    char *err;
    bool oom;
} mrd;

static int bad(mrd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(mrd *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (r->err)
        vsnprintf(r->err, ACL_ERRLEN, fmt, ap);
    va_end(ap);
    return ACL_EPROTO;
}

static void emit(mrd *r, const void *p, size_t n)
{
    if (codec_buf_append(r->out, p, n))
        r->oom = true;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v = v << 8 | p[k];
    return v;
}

/* Takes n bytes from the input; NULL (with err set) when fewer remain. */
static const uint8_t *take(mrd *r, uint64_t n)
{
    if (n > (uint64_t)(r->end - r->p)) {
        bad(r, "msgpack: truncated input (%llu bytes wanted, %zu left)", (unsigned long long)n,
            (size_t)(r->end - r->p));
        return NULL;
    }
    const uint8_t *s = r->p;
    r->p += n;
    return s;
}

static int emit_string(mrd *r, const uint8_t *s, size_t n)
{
    if (!acl_utf8_valid(s, n))
        return bad(r, "msgpack: a string is not valid UTF-8");
    emit(r, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        emit(r, s + run, i - run);
        char esc[8];
        if (ch == '"' || ch == '\\')
            snprintf(esc, sizeof esc, "\\%c", ch);
        else
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        emit(r, esc, strlen(esc));
        run = i + 1;
    }
    emit(r, s + run, n - run);
    emit(r, "\"", 1);
    return 0;
}

static int emit_bin(mrd *r, const uint8_t *s, size_t n)
{
    char *b64 = malloc(4 * (n / 3 + 1) + 1);
    if (!b64) {
        r->oom = true;
        return ACL_ENOMEM;
    }
    acl_base64(s, n, b64);
    emit(r, "\"", 1);
    emit(r, b64, strlen(b64));
    emit(r, "\"", 1);
    free(b64);
    return 0;
}

static int value(mrd *r, int depth, bool key);

static int container(mrd *r, uint64_t n, bool map, int depth)
{
    /* every item takes at least one byte: a count past the rest is a lie */
    if (n > (uint64_t)(r->end - r->p) / (map ? 2 : 1))
        return bad(r, "msgpack: %s of %llu items in %zu bytes", map ? "map" : "array",
                   (unsigned long long)n, (size_t)(r->end - r->p));
    if (depth >= MAX_DEPTH)
        return bad(r, "msgpack: nested deeper than %d", MAX_DEPTH);
    emit(r, map ? "{" : "[", 1);
    for (uint64_t i = 0; i < n; i++) {
        if (i)
            emit(r, ",", 1);
        int rc = value(r, depth + 1, map);
        if (rc == 0 && map) {
            emit(r, ":", 1);
            rc = value(r, depth + 1, false);
        }
        if (rc)
            return rc;
        if (r->oom)
            return ACL_ENOMEM;
    }
    emit(r, map ? "}" : "]", 1);
    return 0;
}

static int number(mrd *r, bool key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int number(mrd *r, bool key, const char *fmt, ...)
{
    char t[40];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (key)
        emit(r, "\"", 1);
    emit(r, t, (size_t)n);
    if (key)
        emit(r, "\"", 1);
    return 0;
}

/* One value; key: it is a map key (strings and integers only). */
static int value(mrd *r, int depth, bool key)
{
    const uint8_t *h = take(r, 1);
    if (!h)
        return ACL_EPROTO;
    uint8_t t = *h;
    const uint8_t *s;
    if (t <= 0x7f)
        return number(r, key, "%u", t);
    if (t >= 0xe0)
        return number(r, key, "%d", (int)(int8_t)t);
    if (t >= 0xa0 && t <= 0xbf) {
        if (!(s = take(r, t & 31)))
            return ACL_EPROTO;
        return emit_string(r, s, t & 31);
    }
    if (t >= 0xd0 && t <= 0xd3) { /* int 8/16/32/64 */
        int w = 1 << (t - 0xd0);
        if (!(s = take(r, (uint64_t)w)))
            return ACL_EPROTO;
        uint64_t u = be(s, w);
        int64_t v = w == 1 ? (int8_t)u : w == 2 ? (int16_t)u : w == 4 ? (int32_t)u : (int64_t)u;
        return number(r, key, "%lld", (long long)v);
    }
    if (t >= 0xcc && t <= 0xcf) { /* uint 8/16/32/64 */
        int w = 1 << (t - 0xcc);
        if (!(s = take(r, (uint64_t)w)))
            return ACL_EPROTO;
        return number(r, key, "%llu", (unsigned long long)be(s, w));
    }
    if (t >= 0xd9 && t <= 0xdb) { /* str 8/16/32 */
        int w = 1 << (t - 0xd9);
        if (!(s = take(r, (uint64_t)w)))
            return ACL_EPROTO;
        uint64_t n = be(s, w);
        if (!(s = take(r, n)))
            return ACL_EPROTO;
        return emit_string(r, s, (size_t)n);
    }
    if (key)
        return bad(r, "msgpack: a map key that is not a string or an integer (0x%02x)", t);
    if (t <= 0x8f)
        return container(r, t & 15, true, depth);
    if (t <= 0x9f)
        return container(r, t & 15, false, depth);
    switch (t) {
    case 0xc0:
        emit(r, "null", 4);
        return 0;
    case 0xc2:
        emit(r, "false", 5);
        return 0;
    case 0xc3:
        emit(r, "true", 4);
        return 0;
    case 0xc4: /* bin 8/16/32 */
    case 0xc5:
    case 0xc6: {
        int w = 1 << (t - 0xc4);
        if (!(s = take(r, (uint64_t)w)))
            return ACL_EPROTO;
        uint64_t n = be(s, w);
        if (!(s = take(r, n)))
            return ACL_EPROTO;
        return emit_bin(r, s, (size_t)n);
    }
    case 0xca:
    case 0xcb: {
        double d;
        if (!(s = take(r, t == 0xca ? 4 : 8)))
            return ACL_EPROTO;
        if (t == 0xca) {
            uint32_t u = (uint32_t)be(s, 4);
            float f;
            memcpy(&f, &u, 4);
            d = f;
        } else {
            uint64_t u = be(s, 8);
            memcpy(&d, &u, 8);
        }
        if (!isfinite(d))
            return bad(r, "msgpack: a float that is not finite");
        return number(r, false, "%.17g", d);
    }
    case 0xdc: /* array 16/32, map 16/32 */
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int w = t == 0xdc || t == 0xde ? 2 : 4;
        if (!(s = take(r, (uint64_t)w)))
            return ACL_EPROTO;
        return container(r, be(s, w), t >= 0xde, depth);
    }
    default:
        return bad(r, "msgpack: unsupported type byte 0x%02x", t);
    }
}

int acl_msgpack_to_json(const void *p, size_t len, codec_buf *out, char err[ACL_ERRLEN])
{
    size_t mark = out->len;
    mrd r = {.p = p, .end = (const uint8_t *)p + len, .out = out, .err = err};
    if (err)
        err[0] = '\0';
    int rc = len ? value(&r, 0, false) : bad(&r, "msgpack: empty input");
    if (rc == 0 && r.p != r.end)
        rc = bad(&r, "msgpack: %zu bytes after the value", (size_t)(r.end - r.p));
    if (rc == 0 && r.oom)
        rc = ACL_ENOMEM;
    if (rc == 0)
        emit(&r, "", 1); /* the NUL */
    if (rc == 0 && r.oom)
        rc = ACL_ENOMEM;
    if (rc) {
        out->len = mark;
        if (rc == ACL_ENOMEM && err)
            snprintf(err, ACL_ERRLEN, "out of memory");
        return rc;
    }
    out->len--;
    return 0;
}
