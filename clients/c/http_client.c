/*
 * http_client.c — HTTP/1.1 requests and responses over an acl_conn.
 *
 * Strict on what the server sends: a status line "HTTP/1.x NNN", header
 * lines "name: value" without folding or control bytes, at most one framing
 * (Content-Length or chunked, never both, never conflicting lengths), every
 * length checked against the caps before a byte of body is stored. A
 * response that ends early is an error, never a short body. Requests refuse
 * CR, LF and NUL in anything that goes into the head.
 */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_priv.h"

#define MAX_INTERIM 8   /* 1xx responses skipped before the real one */
#define MAX_TRAILERS 64 /* trailer lines after the last chunk */
#define CHUNK_LINE 256  /* a chunk-size line, extensions included */

/* ---- the request ----------------------------------------------------------- */

static bool head_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

static bool token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

static bool target_ok(const char *t)
{
    if (t[0] != '/')
        return false;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || *t == 0x7f)
            return false;
    return true;
}

static int add_header(codec_buf *b, const char *name, const char *value)
{
    if (!token(name) || !head_safe(value))
        return ACL_EARG;
    if (codec_buf_append(b, name, strlen(name)) || codec_buf_append(b, ": ", 2) ||
        codec_buf_append(b, value, strlen(value)) || codec_buf_append(b, "\r\n", 2))
        return ACL_ENOMEM;
    return 0;
}

static int build_request(acl_conn *c, const acl_http_req *q, codec_buf *b)
{
    if (!q->method || !token(q->method) || !q->target || !target_ok(q->target))
        return acl_io_fail(c, ACL_EARG, "bad request method or target");
    if (q->body_len && !q->body)
        return acl_io_fail(c, ACL_EARG, "body_len without a body");
    char line[64];
    int rc = 0;
    if (codec_buf_append(b, q->method, strlen(q->method)) || codec_buf_append(b, " ", 1) ||
        codec_buf_append(b, q->target, strlen(q->target)) ||
        codec_buf_append(b, " HTTP/1.1\r\n", 11))
        return acl_io_fail(c, ACL_ENOMEM, "out of memory");
    rc = rc ? rc : add_header(b, "Host", c->hostport);
    rc = rc ? rc : add_header(b, "User-Agent", "antrean-client/1");
    rc = rc ? rc : add_header(b, "Accept", "application/json, text/csv, */*");
    if (q->bearer) {
        char auth[600];
        if (snprintf(auth, sizeof auth, "Bearer %s", q->bearer) >= (int)sizeof auth)
            rc = rc ? rc : ACL_EARG;
        rc = rc ? rc : add_header(b, "Authorization", auth);
    }
    if (q->ticket_secret)
        rc = rc ? rc : add_header(b, "X-Ticket-Secret", q->ticket_secret);
    if (q->if_none_match)
        rc = rc ? rc : add_header(b, "If-None-Match", q->if_none_match);
    for (size_t i = 0; i < q->nheaders && rc == 0; i++)
        rc = q->headers[i].name && q->headers[i].value
                 ? add_header(b, q->headers[i].name, q->headers[i].value)
                 : ACL_EARG;
    bool has_body = q->body != NULL || !strcmp(q->method, "POST") || !strcmp(q->method, "PUT");
    if (has_body) {
        if (q->body)
            rc = rc ? rc
                    : add_header(b, "Content-Type",
                                 q->content_type ? q->content_type : "application/json");
        snprintf(line, sizeof line, "%zu", q->body_len);
        rc = rc ? rc : add_header(b, "Content-Length", line);
    }
    if (rc == 0 && (codec_buf_append(b, "\r\n", 2) ||
                    (q->body_len && codec_buf_append(b, q->body, q->body_len))))
        rc = ACL_ENOMEM;
    if (rc == ACL_EARG)
        return acl_io_fail(c, rc, "a request header has a bad name or a CR/LF in its value");
    if (rc)
        return acl_io_fail(c, rc, "out of memory");
    return 0;
}

/* ---- the response head ------------------------------------------------------ */

void acl_http_resp_free(acl_http_resp *r)
{
    free(r->headers);
    free(r->body);
    free(r->head_);
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
}

const char *acl_http_header(const acl_http_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* Reads up to and including the blank line; *head is malloc'ed and NUL-terminated. */
static int read_head(acl_conn *c, int64_t deadline, char **head)
{
    size_t scanned = 0;
    for (size_t round = 0; round <= ACL_MAX_HEAD + 1; round++) {
        const char *s = (const char *)c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        size_t from = scanned > 3 ? scanned - 3 : 0;
        for (size_t i = from; i + 1 < avail; i++) {
            size_t end = 0;
            if (s[i] == '\n' && s[i + 1] == '\n')
                end = i + 2;
            else if (s[i] == '\n' && s[i + 1] == '\r' && i + 2 < avail && s[i + 2] == '\n')
                end = i + 3;
            if (!end)
                continue;
            if (end > ACL_MAX_HEAD)
                break;
            *head = malloc(end + 1);
            if (!*head)
                return acl_io_fail(c, ACL_ENOMEM, "out of memory");
            memcpy(*head, s, end);
            (*head)[end] = '\0';
            c->rpos += end;
            return 0;
        }
        scanned = avail;
        if (avail > ACL_MAX_HEAD)
            return acl_io_fail(c, ACL_ETOOBIG, "response head over %d bytes", ACL_MAX_HEAD);
        int rc = acl_io_fill(c, deadline);
        if (rc == ACL_ECLOSED && avail > 0)
            return acl_io_fail(c, ACL_EPROTO, "truncated response head from %s", c->hostport);
        if (rc)
            return rc;
    }
    return acl_io_fail(c, ACL_ETOOBIG, "response head over %d bytes", ACL_MAX_HEAD);
}

static bool value_ok(const char *v)
{
    for (; *v; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
            return false;
    return true;
}

/* Splits head (in place) into the status and header lines of r. */
static int parse_head(acl_conn *c, char *head, acl_http_resp *r)
{
    size_t nlines = 0;
    for (const char *p = head; *p; p++)
        nlines += *p == '\n';
    if (nlines < 2 || nlines - 2 > ACL_MAX_HEADERS)
        return acl_io_fail(c, nlines < 2 ? ACL_EPROTO : ACL_ETOOBIG,
                           "response has %zu header lines (at most %d)", nlines, ACL_MAX_HEADERS);
    r->headers = calloc(nlines, sizeof *r->headers);
    if (!r->headers)
        return acl_io_fail(c, ACL_ENOMEM, "out of memory");
    char *line = head;
    for (size_t ln = 0; *line; ln++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        char *next = nl + 1;
        if (ln == 0) {
            /* "HTTP/1.x NNN" then the end or " reason" */
            const char *l = line;
            if (strncmp(l, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)l[7]) || l[8] != ' ' ||
                !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
                !isdigit((unsigned char)l[11]) || (l[12] != '\0' && l[12] != ' ') || l[9] < '1' ||
                l[9] > '5')
                return acl_io_fail(c, ACL_EPROTO, "bad status line from %s", c->hostport);
            r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
            r->minor_version = l[7] - '0';
        } else if (*line) {
            char *colon = strchr(line, ':');
            if (!colon || *line == ' ' || *line == '\t')
                return acl_io_fail(c, ACL_EPROTO, "bad header line from %s", c->hostport);
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            char *e = v + strlen(v);
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                *--e = '\0';
            if (!token(line) || !value_ok(v))
                return acl_io_fail(c, ACL_EPROTO, "bad header line from %s", c->hostport);
            r->headers[r->nheaders].name = line;
            r->headers[r->nheaders].value = v;
            r->nheaders++;
        }
        line = next;
    }
    return 0;
}

static bool has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *st = p;
        while (*p && *p != ',')
            p++;
        const char *en = p;
        while (en > st && (en[-1] == ' ' || en[-1] == '\t'))
            en--;
        if ((size_t)(en - st) == tl && strncasecmp(st, tok, tl) == 0)
            return true;
    }
    return false;
}

/* Body framing from the headers. */
enum framing { F_NONE, F_LENGTH, F_CHUNKED, F_CLOSE };

static int decide_framing(acl_conn *c, const char *method, acl_http_resp *r, int *fr, size_t *len)
{
    bool have_len = false, chunked = false;
    uint64_t cl = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const acl_header *h = &r->headers[i];
        if (strcasecmp(h->name, "Content-Length") == 0) {
            uint64_t v = 0;
            const char *p = h->value;
            if (!*p)
                return acl_io_fail(c, ACL_EPROTO, "empty Content-Length");
            for (; *p; p++) {
                if (*p < '0' || *p > '9')
                    return acl_io_fail(c, ACL_EPROTO, "bad Content-Length '%.40s'", h->value);
                if (v > (UINT64_MAX - 9) / 10)
                    return acl_io_fail(c, ACL_ETOOBIG, "Content-Length overflows");
                v = v * 10 + (uint64_t)(*p - '0');
            }
            if (have_len && v != cl)
                return acl_io_fail(c, ACL_EPROTO, "conflicting Content-Length headers");
            have_len = true;
            cl = v;
        } else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
            if (strcasecmp(h->value, "chunked") != 0)
                return acl_io_fail(c, ACL_EPROTO, "unsupported Transfer-Encoding '%.40s'",
                                   h->value);
            if (chunked)
                return acl_io_fail(c, ACL_EPROTO, "chunked twice");
            chunked = true;
        } else if (strcasecmp(h->name, "Connection") == 0) {
            if (has_token(h->value, "close"))
                r->keep_alive = false;
            else if (has_token(h->value, "keep-alive"))
                r->keep_alive = true;
        } else if (strcasecmp(h->name, "ETag") == 0 && !r->etag) {
            r->etag = h->value;
        } else if (strcasecmp(h->name, "Content-Type") == 0 && !r->content_type) {
            r->content_type = h->value;
        } else if (strcasecmp(h->name, "Retry-After") == 0) {
            char *end;
            long v = strtol(h->value, &end, 10);
            r->retry_after = (*h->value >= '0' && *h->value <= '9' && !*end && v >= 0) ? v : -1;
        }
    }
    if (have_len && chunked)
        return acl_io_fail(c, ACL_EPROTO, "both Content-Length and chunked");
    *len = 0;
    if (!strcmp(method, "HEAD") || r->status < 200 || r->status == 204 || r->status == 304) {
        *fr = F_NONE;
    } else if (chunked) {
        *fr = F_CHUNKED;
    } else if (have_len) {
        if (cl > c->max_body)
            return acl_io_fail(c, ACL_ETOOBIG, "response body of %llu bytes (cap %zu)",
                               (unsigned long long)cl, c->max_body);
        *fr = F_LENGTH;
        *len = (size_t)cl;
    } else {
        *fr = F_CLOSE;
        r->keep_alive = false;
    }
    return 0;
}

/* ---- the response body ------------------------------------------------------ */

static int truncated(acl_conn *c, int rc)
{
    if (rc == ACL_ECLOSED)
        return acl_io_fail(c, ACL_EPROTO, "truncated response body from %s", c->hostport);
    return rc;
}

static int read_chunked(acl_conn *c, int64_t deadline, acl_http_resp *r)
{
    char line[CHUNK_LINE];
    size_t total = 0;
    /* every chunk but the last carries at least one byte of a capped body */
    for (size_t n = 0; n <= c->max_body + 1; n++) {
        int rc = acl_io_line(c, line, sizeof line, deadline);
        if (rc)
            return truncated(c, rc);
        uint64_t size = 0;
        const char *p = line;
        int digits = 0;
        for (; isxdigit((unsigned char)*p); p++, digits++) {
            if (digits >= 15)
                return acl_io_fail(c, ACL_ETOOBIG, "chunk size overflows");
            size = size * 16 +
                   (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (digits == 0 || (*p && *p != ';'))
            return acl_io_fail(c, ACL_EPROTO, "bad chunk size line");
        if (size == 0)
            break;
        if (size > c->max_body - total)
            return acl_io_fail(c, ACL_ETOOBIG, "chunked body over %zu bytes", c->max_body);
        char *b = realloc(r->body, total + (size_t)size + 1);
        if (!b)
            return acl_io_fail(c, ACL_ENOMEM, "out of memory");
        r->body = b;
        rc = acl_io_read(c, r->body + total, (size_t)size, deadline);
        if (rc)
            return truncated(c, rc);
        total += (size_t)size;
        r->body[total] = '\0';
        r->body_len = total;
        rc = acl_io_line(c, line, sizeof line, deadline);
        if (rc)
            return truncated(c, rc);
        if (line[0])
            return acl_io_fail(c, ACL_EPROTO, "chunk data not followed by CRLF");
    }
    for (int t = 0; t <= MAX_TRAILERS; t++) {
        int rc = acl_io_line(c, line, sizeof line, deadline);
        if (rc)
            return truncated(c, rc);
        if (!line[0])
            return 0;
    }
    return acl_io_fail(c, ACL_ETOOBIG, "more than %d trailer lines", MAX_TRAILERS);
}

static int read_until_close(acl_conn *c, int64_t deadline, acl_http_resp *r)
{
    size_t total = 0;
    for (size_t n = 0; n <= c->max_body + 1; n++) {
        size_t avail = c->rlen - c->rpos;
        if (avail) {
            if (avail > c->max_body - total)
                return acl_io_fail(c, ACL_ETOOBIG, "response body over %zu bytes", c->max_body);
            char *b = realloc(r->body, total + avail + 1);
            if (!b)
                return acl_io_fail(c, ACL_ENOMEM, "out of memory");
            r->body = b;
            memcpy(b + total, c->rbuf + c->rpos, avail);
            total += avail;
            b[total] = '\0';
            r->body_len = total;
            c->rpos = c->rlen = 0;
        }
        int rc = acl_io_fill(c, deadline);
        if (rc == ACL_ECLOSED)
            return 0;
        if (rc)
            return rc;
    }
    return acl_io_fail(c, ACL_ETOOBIG, "response body over %zu bytes", c->max_body);
}

static int read_body(acl_conn *c, int fr, size_t len, int64_t deadline, acl_http_resp *r)
{
    int rc = 0;
    if (fr == F_LENGTH) {
        r->body = malloc(len + 1);
        if (!r->body)
            return acl_io_fail(c, ACL_ENOMEM, "out of memory");
        rc = truncated(c, acl_io_read(c, r->body, len, deadline));
        r->body_len = rc ? 0 : len;
        r->body[r->body_len] = '\0';
    } else if (fr == F_CHUNKED) {
        rc = read_chunked(c, deadline, r);
    } else if (fr == F_CLOSE) {
        rc = read_until_close(c, deadline, r);
    }
    if (rc == 0 && !r->body) {
        r->body = malloc(1);
        if (!r->body)
            return acl_io_fail(c, ACL_ENOMEM, "out of memory");
        r->body[0] = '\0';
    }
    return rc;
}

int acl_http_read_response(acl_conn *c, const char *method, bool upgrade, int64_t deadline,
                           acl_http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    for (int interim = 0; interim <= MAX_INTERIM; interim++) {
        char *head = NULL;
        int rc = read_head(c, deadline, &head);
        if (rc)
            return rc;
        r->head_ = head;
        rc = parse_head(c, head, r);
        int fr = F_NONE;
        size_t len = 0;
        r->keep_alive = r->minor_version >= 1;
        if (rc == 0)
            rc = decide_framing(c, method, r, &fr, &len);
        if (rc) {
            acl_http_resp_free(r);
            return rc;
        }
        if (r->status == 101 && upgrade)
            return 0;
        if (r->status == 101)
            rc = acl_io_fail(c, ACL_EPROTO, "unexpected 101 Switching Protocols");
        else if (r->status >= 200)
            rc = read_body(c, fr, len, deadline, r);
        else if (interim == MAX_INTERIM)
            rc = acl_io_fail(c, ACL_EPROTO, "more than %d interim responses", MAX_INTERIM);
        if (rc || r->status >= 200) {
            if (rc)
                acl_http_resp_free(r);
            return rc;
        }
        acl_http_resp_free(r); /* a 1xx: the real response follows */
    }
    return acl_io_fail(c, ACL_EPROTO, "more than %d interim responses", MAX_INTERIM);
}

/* ---- one exchange ------------------------------------------------------------ */

/*
 * A kept-alive socket the server has closed (EOF waiting) or written to
 * out of turn is not reused: checked without waiting before each request.
 */
static bool stale(acl_conn *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return false;
    return true;
}

static bool idempotent(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE");
}

int acl_http_request(acl_conn *c, const acl_http_req *q, acl_http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    codec_buf b;
    codec_buf_init(&b);
    int rc = build_request(c, q, &b);
    int64_t deadline = acl_io_deadline(c->timeout_ms);
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        if (c->fd >= 0 && (c->rpos != c->rlen || stale(c)))
            acl_io_close(c);
        bool reused = c->fd >= 0 && c->requests_done > 0;
        if (c->fd < 0)
            rc = acl_io_connect(c, deadline);
        if (rc)
            break;
        uint64_t rx_before = c->rx_bytes;
        rc = acl_io_write(c, b.data, b.len, deadline);
        if (rc == 0)
            rc = acl_http_read_response(c, q->method, false, deadline, r);
        if (rc == 0) {
            c->requests_done++;
            if (!r->keep_alive)
                acl_io_close(c);
            break;
        }
        bool nothing_back = c->rx_bytes == rx_before;
        acl_io_close(c);
        if (!(reused && nothing_back && idempotent(q->method) &&
              (rc == ACL_ECLOSED || rc == ACL_EIO)))
            break;
        rc = 0; /* the server dropped an idle keep-alive connection: once more, fresh */
    }
    codec_buf_free(&b);
    return rc;
}

bool acl_api_error(const acl_http_resp *r, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
    if (code_cap)
        code[0] = '\0';
    if (msg_cap)
        msg[0] = '\0';
    if (!r->body || !r->body_len)
        return false;
    json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *e = json_object_get(root, "error");
    const char *cs = json_string_value(json_object_get(e, "code"));
    const char *ms = json_string_value(json_object_get(e, "message"));
    bool ok = cs != NULL;
    if (ok) {
        snprintf(code, code_cap, "%s", cs);
        snprintf(msg, msg_cap, "%s", ms ? ms : "");
    }
    json_decref(root);
    return ok;
}
