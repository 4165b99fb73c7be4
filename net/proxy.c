/*
 * proxy.c — trusted reverse proxies and the client address behind them.
 *
 * Behind nginx every request comes from the proxy's address, so the per-IP
 * issue limit (ratelimit.c) would see one client for the whole city. With
 * `--trusted-proxy CIDR` the server believes X-Forwarded-For, but only from
 * a peer inside a listed range: the list is walked from the right (the hop
 * nearest to us) past every trusted address, and the first address that is
 * not trusted is the client. A header from an untrusted peer is ignored
 * whole, so a citizen cannot pick their own bucket by sending one. An entry
 * that is not an address ends the walk at the last hop known to be real.
 *
 * The address is used for rate limiting only; it is never logged.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

/* Fill a 16-byte address; IPv4 and IPv4-mapped IPv6 both become family 4. */
static bool parse_addr(const char *text, size_t n, int *family, uint8_t addr[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *p = buf;
    /* "[v6]" or "[v6]:port" (RFC 7239 style), "v4:port" */
    if (*p == '[') {
        char *end = strchr(p, ']');
        if (!end)
            return false;
        *end = '\0';
        p++;
    } else {
        char *colon = strchr(p, ':');
        if (colon && !strchr(colon + 1, ':'))
            *colon = '\0';
    }
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, p, addr) == 1) {
        *family = 4;
        return true;
    }
    uint8_t a6[16];
    if (inet_pton(AF_INET6, p, a6) != 1)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a6, mapped, 12) == 0) {
        memcpy(addr, a6 + 12, 4);
        *family = 4;
    } else {
        memcpy(addr, a6, 16);
        *family = 6;
    }
    return true;
}

int proxy_parse_cidr(const char *text, proxy_cidr *out)
{
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (!parse_addr(text, n, &out->family, out->addr) || text[0] == '[')
        return ANT_EBADREQ;
    int max = out->family == 4 ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > max)
            return ANT_EBADREQ;
        out->bits = (int)b;
    }
    return 0;
}

static bool in_cidr(const proxy_cidr *c, int family, const uint8_t addr[16])
{
    if (c->family != family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

static bool trusted(const srv_opts *o, int family, const uint8_t addr[16])
{
    for (int i = 0; i < o->ntrusted; i++)
        if (in_cidr(&o->trusted[i], family, addr))
            return true;
    return false;
}

static void format_addr(int family, const uint8_t addr[16], char out[48])
{
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, 48))
        snprintf(out, 48, "?");
}

/*
 * Walk one header value from its right end, leaving the client so far in ip.
 * Returns true when the walk ended here (an untrusted or unparsable hop);
 * false when every entry was trusted, to go on with the header before it.
 */
static bool walk_value(const srv_opts *o, const char *v, size_t n, char ip[48])
{
    size_t end = n;
    for (;;) {
        size_t start = end;
        while (start > 0 && v[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        int family;
        uint8_t addr[16];
        if (b > a) {
            if (!parse_addr(v + a, b - a, &family, addr))
                return true; /* garbage: keep the last real hop */
            format_addr(family, addr, ip);
            if (!trusted(o, family, addr))
                return true;
        }
        if (start == 0)
            return false;
        end = start - 1;
    }
}

void proxy_client_ip(conn *c)
{
    const srv_opts *o = &c->s->o;
    memcpy(c->ip, c->peer, sizeof c->ip);
    if (o->ntrusted == 0)
        return;
    int family;
    uint8_t addr[16];
    if (!parse_addr(c->peer, strlen(c->peer), &family, addr) || !trusted(o, family, addr))
        return;
    /* several X-Forwarded-For headers read as one list, in order */
    http_state *h = &c->h;
    for (int i = h->nhdr - 1; i >= 0; i--) {
        http_hdr *x = &h->hdr[i];
        if (x->name_len != 15 || strncasecmp(h->head.data + x->name_off, "X-Forwarded-For", 15))
            continue;
        if (walk_value(o, h->head.data + x->val_off, x->val_len, c->ip))
            return;
    }
}
