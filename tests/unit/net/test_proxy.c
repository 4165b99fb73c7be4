/*
 * test_proxy.c — net/proxy.c: --trusted-proxy ranges and the client address
 * read from X-Forwarded-For, as tables of cases (the behaviour over a real
 * socket is in tests/integration/trusted_proxy.test.mjs).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/ant_test.h"
#include "srv.h"

static srv server; /* large; one per test process */

Test(proxy, parse_cidr)
{
    static const struct {
        const char *text;
        int ok, family, bits;
    } cases[] = {
        {"10.0.0.0/8", 1, 4, 8},     {"127.0.0.1", 1, 4, 32},
        {"0.0.0.0/0", 1, 4, 0},      {"::1", 1, 6, 128},
        {"2001:db8::/32", 1, 6, 32}, {"::ffff:10.0.0.0/8", 1, 4, 8}, /* IPv4-mapped reads as IPv4 */
        {"10.0.0.0/33", 0, 0, 0},    {"::1/129", 0, 0, 0},
        {"10.0.0.0/", 0, 0, 0},      {"10.0.0.0/8x", 0, 0, 0},
        {"nope", 0, 0, 0},           {"", 0, 0, 0},
        {"[::1]", 0, 0, 0},          {"10.0.0.256", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proxy_cidr c;
        int rc = proxy_parse_cidr(cases[i].text, &c);
        cr_assert_eq(rc == 0, cases[i].ok, "%s", cases[i].text);
        if (cases[i].ok) {
            cr_assert_eq(c.family, cases[i].family, "%s", cases[i].text);
            cr_assert_eq(c.bits, cases[i].bits, "%s", cases[i].text);
        }
    }
}

/* A connection from peer whose current request has the given X-Forwarded-For
 * headers (NULL-terminated), against the trusted ranges; returns c->ip. */
static const char *client_of(const char *const *trusted, const char *peer, const char *const *xff,
                             char out[48])
{
    memset(&server.o, 0, sizeof server.o);
    for (int i = 0; trusted[i]; i++)
        cr_assert_eq(proxy_parse_cidr(trusted[i], &server.o.trusted[server.o.ntrusted++]), 0);
    conn c;
    memset(&c, 0, sizeof c);
    c.s = &server;
    snprintf(c.peer, sizeof c.peer, "%s", peer);
    char head[1024];
    size_t len = 0;
    static const char name[] = "X-Forwarded-For";
    for (int i = 0; xff[i]; i++) {
        http_hdr *h = &c.h.hdr[c.h.nhdr++];
        h->name_off = (uint32_t)len;
        h->name_len = sizeof name - 1;
        memcpy(head + len, name, sizeof name - 1);
        len += sizeof name - 1;
        h->val_off = (uint32_t)len;
        h->val_len = (uint32_t)strlen(xff[i]);
        memcpy(head + len, xff[i], h->val_len);
        len += h->val_len;
    }
    c.h.head.data = head;
    c.h.head.len = len;
    proxy_client_ip(&c);
    snprintf(out, 48, "%s", c.ip);
    return out;
}

Test(proxy, client_ip)
{
    static const char *const none[] = {NULL};
    static const char *const lo[] = {"127.0.0.1/32", NULL};
    static const char *const two[] = {"127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32", NULL};
    static const struct {
        const char *const *trusted;
        const char *peer;
        const char *xff[3];
        const char *want;
    } cases[] = {
        /* no trusted proxies, or an untrusted peer: the header is ignored */
        {none, "127.0.0.1", {"203.0.113.5"}, "127.0.0.1"},
        {lo, "192.0.2.1", {"203.0.113.5"}, "192.0.2.1"},
        /* a trusted peer: the nearest untrusted hop */
        {lo, "127.0.0.1", {"203.0.113.5"}, "203.0.113.5"},
        {lo, "127.0.0.1", {"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
        {two, "127.0.0.1", {"198.51.100.7, 10.1.2.3, 127.0.0.9"}, "198.51.100.7"},
        {two, "127.0.0.1", {"198.51.100.7", "10.1.2.3"}, "198.51.100.7"}, /* two headers */
        {two, "127.0.0.1", {"10.9.9.9, 127.0.0.2"}, "10.9.9.9"},          /* all trusted */
        {lo, "127.0.0.1", {"[2001:db8::1]:4711"}, "2001:db8::1"},
        {lo, "127.0.0.1", {"198.51.100.10:5555"}, "198.51.100.10"},
        {lo, "127.0.0.1", {"::ffff:198.51.100.11"}, "198.51.100.11"},
        {two, "::ffff:127.0.0.1", {"203.0.113.9"}, "203.0.113.9"}, /* mapped peer */
        {two, "2001:db8::5", {"203.0.113.8"}, "203.0.113.8"},
        /* empty entries are skipped; garbage ends the walk at the last real hop */
        {lo, "127.0.0.1", {" , 203.0.113.6 ,, "}, "203.0.113.6"},
        {lo, "127.0.0.1", {"not-an-address"}, "127.0.0.1"},
        {two, "127.0.0.1", {"203.0.113.1, garbage, 10.0.0.1"}, "10.0.0.1"},
        {lo, "127.0.0.1", {""}, "127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[48];
        const char *xff[4] = {cases[i].xff[0], cases[i].xff[1], cases[i].xff[2], NULL};
        cr_assert_str_eq(client_of(cases[i].trusted, cases[i].peer, xff, out), cases[i].want,
                         "case %zu", i);
    }
}
