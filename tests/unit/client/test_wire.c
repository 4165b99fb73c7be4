/*
 * test_wire.c — the client's encodings: JSON → msgpack → JSON round trips,
 * the bounded msgpack reader against hostile input, UTF-8 checks, server
 * addresses and request targets.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "client.h"
#include "common/ant_test.h"

/* msgpack bytes → JSON text via the library; rc returned, text copied into out. */
static int mp2json(const void *p, size_t n, char *out, size_t cap)
{
    codec_buf b;
    codec_buf_init(&b);
    char err[ACL_ERRLEN];
    int rc = acl_msgpack_to_json(p, n, &b, err);
    if (rc == 0) {
        cr_assert_eq(b.data[b.len], '\0');
        snprintf(out, cap, "%s", b.data);
    } else {
        cr_assert_eq(b.len, 0);
        cr_assert_neq(err[0], '\0');
        snprintf(out, cap, "%s", err);
    }
    codec_buf_free(&b);
    return rc;
}

Test(wire, json_msgpack_round_trip)
{
    const char *src = "{\"op\":\"issue\",\"rid\":-70000,\"big\":9007199254740993,\"f\":1.5,"
                      "\"t\":true,\"n\":null,\"a\":[1,\"dua\",[],{}],\"s\":\"q\\\"\\\\\\n\\u0001"
                      "é\"}";
    json_t *v = json_loads(src, 0, NULL);
    cr_assert_not_null(v);
    codec_buf mp;
    codec_buf_init(&mp);
    cr_assert_eq(acl_json_to_msgpack(v, &mp), 0);
    char text[512];
    cr_assert_eq(mp2json(mp.data, mp.len, text, sizeof text), 0, "%s", text);
    json_t *back = json_loads(text, 0, NULL);
    cr_assert_not_null(back, "%s", text);
    cr_assert(json_equal(v, back), "%s", text);
    json_decref(back);
    json_decref(v);
    codec_buf_free(&mp);

    codec_buf t;
    codec_buf_init(&t);
    v = json_pack("{si}", "rid", 3);
    cr_assert_eq(acl_json_to_text(v, &t), 0);
    cr_assert_eq(t.len, 9);
    cr_assert(memcmp(t.data, "{\"rid\":3}", 9) == 0);
    json_decref(v);
    codec_buf_free(&t);
}

Test(wire, msgpack_scalars_and_keys)
{
    char out[256];
    const uint8_t keys[] = {0x82, 0x05, 0xa1, 'x', 0xd0, 0xfb, 0xc4, 0x03, 'a', 'b', 'c'};
    cr_assert_eq(mp2json(keys, sizeof keys, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "{\"5\":\"x\",\"-5\":\"YWJj\"}");
    const uint8_t nums[] = {0x94, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xd3, 0x80, 0,    0,    0,    0,    0,    0,
                            0,    0xca, 0x3f, 0xc0, 0,    0,    0xe0};
    cr_assert_eq(mp2json(nums, sizeof nums, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "[18446744073709551615,-9223372036854775808,1.5,-32]");
}

typedef struct mp_bad {
    uint8_t b[16];
    size_t n;
    const char *why;
} mp_bad;

static const mp_bad mp_bads[] = {
    {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5, "array of 4 billion"},
    {{0xdf, 0x00, 0x00, 0x10, 0x00, 0x01, 0x02}, 7, "map of 4096 in 2 bytes"},
    {{0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'}, 6, "str of 4 GiB"},
    {{0xc6, 0x7f, 0xff, 0xff, 0xff}, 5, "bin of 2 GiB"},
    {{0x92, 0x01}, 2, "array short by one"},
    {{0xa5, 'a', 'b'}, 3, "short str"},
    {{0xcd, 0x01}, 2, "short uint16"},
    {{0x01, 0x02}, 2, "trailing bytes"},
    {{0xc1}, 1, "never used"},
    {{0xd4, 0x01, 0x02}, 3, "fixext"},
    {{0xc7, 0x01, 0x01, 0x02}, 4, "ext8"},
    {{0xa2, 0xc3, 0x28}, 3, "bad UTF-8"},
    {{0xa3, 0xed, 0xa0, 0x80}, 4, "a surrogate"},
    {{0x81, 0xc0, 0x01}, 3, "nil key"},
    {{0x81, 0x90, 0x01}, 3, "array key"},
    {{0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0}, 9, "infinity"},
    {{0xca, 0x7f, 0xc0, 0, 0}, 5, "NaN"},
    {{0}, 0, "empty"},
};

Test(wire, msgpack_hostile_input)
{
    char out[256];
    for (size_t i = 0; i < sizeof mp_bads / sizeof mp_bads[0]; i++)
        cr_assert_eq(mp2json(mp_bads[i].b, mp_bads[i].n, out, sizeof out), ACL_EPROTO, "%s: %s",
                     mp_bads[i].why, out);

    /* nesting: 32 levels are fine, 33 are not */
    uint8_t deep[40];
    for (int depth = 32; depth <= 33; depth++) {
        memset(deep, 0x91, (size_t)depth);
        deep[depth] = 0x00;
        int rc = mp2json(deep, (size_t)depth + 1, out, sizeof out);
        cr_assert_eq(rc, depth <= 32 ? 0 : ACL_EPROTO, "depth %d: %s", depth, out);
    }

    /* jansson → msgpack refuses what it cannot bound */
    json_t *v = json_array();
    json_t *inner = v;
    for (int i = 0; i < 40; i++) {
        json_t *a = json_array();
        json_array_append_new(inner, a);
        inner = a;
    }
    codec_buf b;
    codec_buf_init(&b);
    cr_assert_eq(acl_json_to_msgpack(v, &b), ACL_EARG);
    cr_assert_eq(b.len, 0);
    codec_buf_free(&b);
    json_decref(v);
}

Test(wire, utf8)
{
    cr_assert(acl_utf8_valid("", 0));
    const char *ok = "Loket \xe2\x86\x92 1 \xf0\x9f\x98\x80";
    cr_assert(acl_utf8_valid(ok, strlen(ok)));
    cr_assert_not(acl_utf8_valid(ok, strlen(ok) - 1));    /* the emoji cut */
    cr_assert_not(acl_utf8_valid("\xc0\xaf", 2));         /* overlong */
    cr_assert_not(acl_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    cr_assert_not(acl_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    cr_assert_not(acl_utf8_valid("\xe2\x86", 2));         /* cut */
    cr_assert_not(acl_utf8_valid("\x80", 1));             /* lone continuation */
    cr_assert_not(acl_utf8_valid("\xff", 1));
}

/* ---- addresses and targets --------------------------------------------------------------- */

typedef struct addr_case {
    const char *in, *host, *port; /* host NULL: refused */
} addr_case;

static const addr_case addr_cases[] = {
    {"127.0.0.1:8080", "127.0.0.1", "8080"},
    {"localhost", "localhost", "8080"},
    {"http://antrean.example:80/", "antrean.example", "80"},
    {"ws://h:1", "h", "1"},
    {"[::1]:9000", "::1", "9000"},
    {"[::1]", "::1", "8080"},
    {"::1", "::1", "8080"},
    {"h:65535", "h", "65535"},
    {"", NULL, NULL},
    {"h:0", NULL, NULL},
    {"h:65536", NULL, NULL},
    {"h:", NULL, NULL},
    {":80", NULL, NULL},
    {"h:8o", NULL, NULL},
    {"[::1", NULL, NULL},
    {"[::1]x", NULL, NULL},
    {"ho st:80", NULL, NULL},
    {"h/x:80", NULL, NULL},
};

Test(url, server_addresses)
{
    for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
        const addr_case *c = &addr_cases[i];
        acl_addr a;
        char err[ACL_ERRLEN] = "";
        int rc = acl_addr_parse(c->in, &a, err);
        if (!c->host) {
            cr_assert_eq(rc, ACL_EARG, "'%s' accepted", c->in);
            cr_assert_neq(err[0], '\0');
            continue;
        }
        cr_assert_eq(rc, 0, "'%s': %s", c->in, err);
        cr_assert_str_eq(a.host, c->host, "'%s'", c->in);
        cr_assert_str_eq(a.port, c->port, "'%s'", c->in);
    }
    cr_assert_eq(acl_addr_parse(NULL, &(acl_addr){0}, NULL), ACL_EARG);
}

Test(url, targets_are_escaped)
{
    char t[64];
    cr_assert_eq(acl_path(t, sizeof t, "/v1/halls/%s/board", 1, "mpp-demo"), 0);
    cr_assert_str_eq(t, "/v1/halls/mpp-demo/board");
    cr_assert_eq(acl_path(t, sizeof t, "/v1/tickets/%s", 1, "a/../b?x#y"), 0);
    cr_assert_str_eq(t, "/v1/tickets/a%2F..%2Fb%3Fx%23y");
    cr_assert_eq(acl_path(t, sizeof t, "/s?date=%s&f=%s", 2, "2026-01-02", "a&b=c"), 0);
    cr_assert_str_eq(t, "/s?date=2026-01-02&f=a%26b%3Dc");
    cr_assert_eq(acl_path(t, sizeof t, "/100%%/%s", 1, "é"), 0);
    cr_assert_str_eq(t, "/100%/%C3%A9");
    cr_assert_eq(acl_path(t, sizeof t, "/q?x=%s", 1, ""), 0);
    cr_assert_str_eq(t, "/q?x=");

    cr_assert_eq(acl_path(t, sizeof t, "/h/%s", 1, ""), ACL_EARG);
    cr_assert_eq(acl_path(t, sizeof t, "/h/%s", 1, ".."), ACL_EARG);
    cr_assert_eq(acl_path(t, sizeof t, "/h/%s", 1, (const char *)NULL), ACL_EARG);
    cr_assert_eq(acl_path(t, sizeof t, "/h/%s/%s", 1, "a"), ACL_EARG);
    cr_assert_eq(acl_path(t, sizeof t, "/h/%d", 1, "a"), ACL_EARG);
    cr_assert_eq(acl_path(t, 8, "/h/%s", 1, "abcdef"), ACL_ETOOBIG);
    cr_assert_str_eq(t, "");
}
