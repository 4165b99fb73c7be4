/*
 * route_qr.c — GET /v1/qr?text=… : a QR code as image/svg+xml, for the
 * kiosk's printed-style ticket (a link to the citizen page /t/{id}#{secret}).
 *
 * The text usually carries a ticket secret, so it must never reach a log,
 * a metric label or an error message: the access log names only the route
 * template, and the errors below describe the text without quoting it. The
 * reply is marked no-store for the same reason. Only short links are
 * encoded (≤ 512 bytes, starting with "/t/" or "http"): this is not a
 * general QR service.
 *
 * libqrencode is optional at build time (CMake links it into ant_net when
 * pkg-config finds it); without it the route answers 503 unavailable and
 * the kiosk prints the link as text.
 */
#include <stdio.h>
#include <string.h>

#include "route.h"

#if defined(__has_include)
#if __has_include(<qrencode.h>)
#include <qrencode.h>
#define ANT_HAVE_QRENCODE 1
#endif
#endif

#define QR_TEXT_MAX 512

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode src into out (outsz bytes, NUL-terminated). -1 on a bad
 * escape, a control byte or a NUL; -2 when the result does not fit. */
static int url_decode(const char *src, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *p = src; *p; p++) {
        int ch = (unsigned char)*p;
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            p += 2;
        }
        if (ch < 0x20 || ch == 0x7f)
            return -1;
        if (n + 1 >= outsz)
            return -2;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return 0;
}

#ifdef ANT_HAVE_QRENCODE
/* The symbol as one SVG path, a run of dark modules per rect, with the
 * 4-module quiet zone the standard asks for. Into b (reset first). */
static int qr_svg(const QRcode *q, codec_buf *b)
{
    const int quiet = 4, w = q->width, size = w + 2 * quiet;
    char tmp[320];
    int n = snprintf(tmp, sizeof tmp,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\" role=\"img\">"
                     "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                     size, size, size, size);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ANT_EINTERNAL;
    codec_buf_reset(b);
    int rc = codec_buf_append(b, tmp, (size_t)n);
    for (int y = 0; y < w && rc == 0; y++) {
        for (int x = 0; x < w && rc == 0;) {
            if (!(q->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (q->data[y * w + x + run] & 1))
                run++;
            /* at most 4 numbers below 200: always fits */
            n = snprintf(tmp, sizeof tmp, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run, run);
            rc = codec_buf_append(b, tmp, (size_t)n);
            x += run;
        }
    }
    if (rc == 0)
        rc = codec_buf_append(b, "\"/></svg>\n", 10);
    return rc;
}
#endif

void route_qr(route_req *r)
{
    if (r->method != HTTP_GET) {
        route_error(r, ANT_EMETHOD, "method not allowed here; use GET");
        return;
    }
    char raw[2048], text[QR_TEXT_MAX + 1];
    if (!route_query(r, "text", raw, sizeof raw) || !raw[0]) {
        route_error(r, ANT_EBADREQ, "query parameter 'text' is required");
        return;
    }
    int d = url_decode(raw, text, sizeof text);
    if (d == -2) {
        route_error(r, ANT_EBADREQ, "text: at most 512 bytes");
        return;
    }
    if (d != 0) {
        route_error(r, ANT_EBADREQ, "text: invalid percent-encoding or control character");
        return;
    }
    if (strncmp(text, "/t/", 3) != 0 && strncmp(text, "http", 4) != 0) {
        route_error(r, ANT_EBADREQ, "text: must be a link starting with /t/ or http");
        return;
    }
#ifdef ANT_HAVE_QRENCODE
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) {
        route_error(r, ANT_EBADREQ, "text: cannot be encoded as a QR code");
        return;
    }
    codec_buf *b = &r->c->s->scratch;
    int rc = qr_svg(q, b);
    QRcode_free(q);
    if (rc != 0) {
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    route_reply_extra(r, 200, "image/svg+xml", "Cache-Control: no-store\r\n", b->data, b->len);
#else
    route_error(r, ANT_EUNAVAILABLE, "QR codes are not available (built without libqrencode)");
#endif
}
