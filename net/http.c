/*
 * http.c — HTTP/1.1 requests on a connection, behind http-parser.
 *
 * Keep-alive and pipelining: the parser is paused at the end of every
 * message, the request is dispatched, and parsing resumes only after its
 * response has been queued, so responses leave in request order even when a
 * command waits for its commit. The limits of SPEC §9 are counted here: a
 * head over max_head gets 431, a body over max_body 413 (from Content-Length
 * before any body byte is read, or while a chunked body grows), each with
 * Connection: close. Only the url and the header bytes of the current request
 * are kept; http-parser is reachable only through this file.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

static int on_message_begin(http_parser *p)
{
    conn *c = p->data;
    http_state *h = &c->h;
    codec_buf_reset(&h->head);
    codec_buf_reset(&h->body);
    h->url_len = 0;
    h->nhdr = 0;
    h->last_was_value = false;
    h->head_bytes = 16; /* request line framing */
    h->in_message = true;
    h->headers_done = false;
    h->complete = false;
    h->err = 0;
    h->started_ms = srv_now_ms();
    h->t0_us = srv_mono_us();
    h->route = RT_NONE;
    conn_arm_timer(c);
    return 0;
}

static int head_add(conn *c, const char *at, size_t len, size_t overhead)
{
    http_state *h = &c->h;
    h->head_bytes += len + overhead;
    if (h->head_bytes > c->s->o.max_head) {
        h->err = ANT_EHEADTOOLARGE;
        return -1;
    }
    if (codec_buf_append(&h->head, at, len) != 0) {
        h->err = ANT_ENOMEM;
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (c->h.nhdr > 0) {
        c->h.err = ANT_EBADREQ;
        return -1;
    }
    if (head_add(c, at, len, 0) != 0)
        return -1;
    c->h.url_len += (uint32_t)len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    http_state *h = &c->h;
    if (h->nhdr == 0 || h->last_was_value) {
        if (h->nhdr == HTTP_MAX_HEADERS) {
            h->err = ANT_EHEADTOOLARGE;
            return -1;
        }
        http_hdr *x = &h->hdr[h->nhdr++];
        x->name_off = (uint32_t)h->head.len;
        x->name_len = 0;
        x->val_off = x->val_len = 0;
        h->last_was_value = false;
        h->head_bytes += 4; /* ": " and CRLF */
    }
    if (head_add(c, at, len, 0) != 0)
        return -1;
    h->hdr[h->nhdr - 1].name_len += (uint32_t)len;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    http_state *h = &c->h;
    if (h->nhdr == 0)
        return 0;
    http_hdr *x = &h->hdr[h->nhdr - 1];
    if (!h->last_was_value) {
        x->val_off = (uint32_t)h->head.len;
        x->val_len = 0;
        h->last_was_value = true;
    }
    if (head_add(c, at, len, 0) != 0)
        return -1;
    x->val_len += (uint32_t)len;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    conn *c = p->data;
    c->h.headers_done = true;
    proxy_client_ip(c); /* a keep-alive proxy connection carries many clients */
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->s->o.max_body) {
        c->h.err = ANT_ETOOLARGE;
        return -1;
    }
    size_t n;
    const char *ex = http_header(c, "Expect", &n);
    if (ex && n == 12 && strncasecmp(ex, "100-continue", 12) == 0 && !p->upgrade)
        conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25); /* curl waits for it */
    conn_arm_timer(c); /* from the head deadline to the body (idle) deadline */
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    http_state *h = &c->h;
    if (h->body.len + len > c->s->o.max_body) {
        h->err = ANT_ETOOLARGE;
        return -1;
    }
    if (codec_buf_append(&h->body, at, len) != 0) {
        h->err = ANT_ENOMEM;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    conn *c = p->data;
    c->h.complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_conn_init(conn *c)
{
    http_parser_init(&c->h.p, HTTP_REQUEST);
    c->h.p.data = c;
    codec_buf_init(&c->h.head);
    codec_buf_init(&c->h.body);
    c->h.keep_alive = true;
}

void http_conn_free(conn *c)
{
    codec_buf_free(&c->h.head);
    codec_buf_free(&c->h.body);
}

const char *http_header(conn *c, const char *name, size_t *n)
{
    http_state *h = &c->h;
    size_t nl = strlen(name);
    for (int i = 0; i < h->nhdr; i++) {
        http_hdr *x = &h->hdr[i];
        if (x->name_len == nl && strncasecmp(h->head.data + x->name_off, name, nl) == 0) {
            const char *v = h->head.data + x->val_off;
            size_t vl = x->val_len;
            while (vl > 0 && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (n)
                *n = vl;
            return v;
        }
    }
    return NULL;
}

static const char *reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

void http_respond(conn *c, int status, const char *ctype, const char *extra_headers,
                  const char *body, size_t blen)
{
    srv *s = c->s;
    http_state *h = &c->h;
    if (c->closing)
        return;
    bool close = !h->keep_alive || s->stopping || status == 431 || status == 413 ||
                 (status == 400 && !h->complete);
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s", status,
                     reason(status), ctype ? "Content-Type: " : "", ctype ? ctype : "",
                     ctype ? "\r\n" : "", blen, close ? "Connection: close\r\n" : "");
    size_t mark;
    codec_buf *b = conn_begin(c, &mark);
    int rc = codec_buf_append(b, head, (size_t)n);
    if (rc == 0 && extra_headers)
        rc = codec_buf_append(b, extra_headers, strlen(extra_headers));
    if (rc == 0)
        rc = codec_buf_append(b, "\r\n", 2);
    if (rc == 0 && blen)
        rc = codec_buf_append(b, body, blen);
    if (rc != 0) {
        b->len = mark;
        conn_close(c);
        return;
    }
    conn_commit(c, mark);
    uint64_t us = h->t0_us ? srv_mono_us() - h->t0_us : 0;
    metrics_request(s, h->route, status);
    if (s->o.access_log)
        log_access(s, c, h->p.method, h->route, status, us);
    if (close)
        conn_close_after_write(c);
}

void http_respond_error_ra(conn *c, int rc, const char *msg, uint32_t retry_after)
{
    srv *s = c->s;
    codec_buf *b = &s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, JO_JSON);
    jo_obj(&w);
    jo_key(&w, "error");
    jo_obj(&w);
    jo_kstr(&w, "code", ant_err_code(rc));
    jo_kstr(&w, "message", msg && *msg ? msg : ant_err_code(rc));
    jo_obj_end(&w);
    jo_obj_end(&w);
    jo_end(&w);
    int status = ant_err_status(rc);
    char extra[64] = "";
    if (status == 429 || status == 503)
        snprintf(extra, sizeof extra, "Retry-After: %u\r\n", retry_after ? retry_after : 1);
    http_respond(c, status, "application/json", extra, b->data, b->len);
}

void http_respond_error(conn *c, int rc, const char *msg)
{
    http_respond_error_ra(c, rc, msg, 0);
}

void http_done(conn *c)
{
    http_state *h = &c->h;
    if (!h->busy)
        return;
    h->busy = false;
    h->in_message = false;
    c->last_io_ms = srv_now_ms();
    if (!h->in_feed)
        conn_resume_input(c); /* an asynchronous reply: pipelined input may wait */
}

static const char *error_message(int rc)
{
    switch (rc) {
    case ANT_EHEADTOOLARGE:
        return "request head too large";
    case ANT_ETOOLARGE:
        return "request body too large";
    default:
        return "malformed HTTP request";
    }
}

size_t http_feed(conn *c, const char *data, size_t len)
{
    http_state *h = &c->h;
    if (h->busy)
        return 0;
    size_t total = 0;
    h->in_feed = true;
    while (total < len && !h->busy && !c->closing && !c->close_after_write &&
           c->proto == CONN_HTTP) {
        size_t n = http_parser_execute(&h->p, &settings, data + total, len - total);
        total += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&h->p);
        if (e == HPE_PAUSED) {
            http_parser_pause(&h->p, 0);
            h->busy = true;
            h->nreq++;
            h->keep_alive = http_should_keep_alive(&h->p) != 0;
            route_dispatch(c);
            continue;
        }
        if (e != HPE_OK) {
            int rc = h->err;
            if (!rc)
                rc = e == HPE_HEADER_OVERFLOW ? ANT_EHEADTOOLARGE : ANT_EBADREQ;
            h->keep_alive = false;
            h->busy = true;
            http_respond_error(c, rc, error_message(rc));
            h->in_feed = false;
            return len;
        }
        if (n == 0)
            break;
    }
    h->in_feed = false;
    return total;
}
