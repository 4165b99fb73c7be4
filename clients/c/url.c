/*
 * url.c — server addresses ("host:port") and request targets.
 *
 * Every value that goes into a path or a query is percent-encoded here, so
 * an argument typed on a command line (a hall id, a ticket id, a date) can
 * never add a path segment, a query field or a fragment to a request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_priv.h"

static int fail(char *err, const char *fmt, const char *arg)
{
    if (err)
        snprintf(err, ACL_ERRLEN, fmt, arg);
    return ACL_EARG;
}

static bool host_char(char ch, bool v6)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    if (ch == '-' || ch == '.' || ch == '_')
        return true;
    return v6 && (ch == ':' || ch == '%');
}

static bool valid_port(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int acl_addr_parse(const char *server, acl_addr *out, char err[ACL_ERRLEN])
{
    memset(out, 0, sizeof *out);
    if (!server || !*server)
        return fail(err, "empty server address%s", "");
    const char *s = server;
    if (strncasecmp(s, "http://", 7) == 0)
        s += 7;
    else if (strncasecmp(s, "ws://", 5) == 0)
        s += 5;
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '/')
        n--;
    if (n == 0 || n > 300)
        return fail(err, "bad server address '%.64s': expected HOST:PORT", server);

    const char *host = s, *port = NULL;
    size_t hlen = n, plen = 0;
    bool v6 = false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return fail(err, "bad server address '%.64s': missing ']'", server);
        host = s + 1;
        hlen = (size_t)(close - host);
        v6 = true;
        size_t rest = n - (size_t)(close + 1 - s);
        if (rest > 0) {
            if (close[1] != ':')
                return fail(err, "bad server address '%.64s': expected ':' after ']'", server);
            port = close + 2;
            plen = rest - 1;
        }
    } else {
        const char *c1 = memchr(s, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s)) : NULL;
        if (c2) {
            v6 = true; /* a bare IPv6 literal, no port */
        } else if (c1) {
            hlen = (size_t)(c1 - s);
            port = c1 + 1;
            plen = n - hlen - 1;
        }
    }
    if (hlen == 0 || hlen >= sizeof out->host)
        return fail(err, "bad server address '%.64s': bad host", server);
    for (size_t i = 0; i < hlen; i++)
        if (!host_char(host[i], v6))
            return fail(err, "bad server address '%.64s': bad character in host", server);
    if (port && !valid_port(port, plen))
        return fail(err, "bad server address '%.64s': port must be 1-65535", server);
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (port) {
        memcpy(out->port, port, plen);
        out->port[plen] = '\0';
    } else {
        snprintf(out->port, sizeof out->port, "%s", ACL_DEFAULT_PORT);
    }
    return 0;
}

static bool unreserved(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Appends one byte; false when out is full (one byte kept for the NUL). */
static bool put(char *out, size_t cap, size_t *k, char ch)
{
    if (*k + 1 >= cap)
        return false;
    out[(*k)++] = ch;
    return true;
}

static bool put_escaped(char *out, size_t cap, size_t *k, const char *arg)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (unreserved(*p)) {
            if (!put(out, cap, k, (char)*p))
                return false;
        } else if (!put(out, cap, k, '%') || !put(out, cap, k, hex[*p >> 4]) ||
                   !put(out, cap, k, hex[*p & 15])) {
            return false;
        }
    }
    return true;
}

int acl_path(char *out, size_t cap, const char *fmt, int nargs, ...)
{
    if (!out || cap == 0 || !fmt)
        return ACL_EARG;
    out[0] = '\0';
    va_list ap;
    va_start(ap, nargs);
    size_t k = 0;
    int used = 0, rc = 0;
    bool query = false;
    for (const char *f = fmt; *f && rc == 0; f++) {
        if (*f != '%') {
            if (*f == '?')
                query = true;
            if (!put(out, cap, &k, *f))
                rc = ACL_ETOOBIG;
            continue;
        }
        f++;
        if (*f == '%') {
            if (!put(out, cap, &k, '%'))
                rc = ACL_ETOOBIG;
            continue;
        }
        if (*f != 's' || used >= nargs) {
            rc = ACL_EARG;
            break;
        }
        const char *arg = va_arg(ap, const char *);
        used++;
        if (!arg || (!query && (!*arg || !strcmp(arg, ".") || !strcmp(arg, "..")))) {
            rc = ACL_EARG;
            break;
        }
        if (!put_escaped(out, cap, &k, arg))
            rc = ACL_ETOOBIG;
    }
    va_end(ap);
    if (rc == 0 && used != nargs)
        rc = ACL_EARG;
    out[rc == 0 ? k : 0] = '\0';
    return rc;
}

void acl_base64(const void *p, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    size_t k = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = tab[(v >> 6) & 63];
        out[k++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[k++] = '=';
    }
    out[k] = '\0';
}
