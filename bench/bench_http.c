/*
 * bench_http.c — the HTTP load of antrean-bench: keep-alive connections on
 * one libuv loop, one request in flight per connection, closed loop or open
 * loop at a fixed rate.
 *
 * Open loop is coordinated-omission safe: request i is due at
 * start + i / rate whatever the server does; due requests wait in a FIFO for
 * a free connection, and latency runs from the due time, so a stalled server
 * shows up as latency instead of as fewer requests. The FIFO is bounded: a
 * request that does not fit is counted in err_backlog.
 *
 * The response parser knows only what antrean and a static-file server send:
 * a status line, Content-Length (chunked is a protocol error here), ETag and
 * Connection: close. Heads and bodies are capped.
 */
#include "bench.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RBUF_CAP (256 * 1024)    /* one response, head and body */
#define WBUF_CAP 1024            /* one request */
#define FIFO_CAP (1u << 20)      /* due open-loop requests waiting for a connection */
#define DRAIN_NS 2000000000ull   /* after the end: wait this long for replies in flight */
#define CONNECT_NS 5000000000ull /* all connections made within this, or start anyway */
#define MAX_RECONNECTS 100       /* per connection */

enum { C_CONNECTING, C_IDLE, C_BUSY, C_DEAD };

typedef struct hconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct bench_load *l;
    int state;
    bool open;          /* tcp handle initialised and not yet closed */
    bool write_pending; /* wbuf is still being written */
    bool in_idle;       /* in the idle stack (maybe stale: check state when popping) */
    unsigned reconnects;
    uint64_t intended; /* ns */
    char etag[96];
    size_t rlen;
    char *rbuf;
    char wbuf[WBUF_CAP];
} hconn;

struct bench_load {
    uv_loop_t *loop;
    const bench_opts *o;
    bench_result *r;
    bench_reply_cb cb;
    bench_done_cb done;
    void *arg;
    hconn *c;
    int n, nconnected, nclosing;
    uv_timer_t tick;
    bool tick_open;
    int phase; /* 0 connecting, 1 sending, 2 draining, 3 closed */
    uint64_t t0, t_meas, t_end, t_connect_deadline;
    uint64_t next_i; /* open loop: index of the next due request */
    uint64_t *fifo;
    size_t fhead, flen;
    int *idle;
    int nidle;
    uint64_t seq; /* idem keys */
    unsigned rng;
};

static unsigned rnd(struct bench_load *l)
{
    l->rng = l->rng * 1103515245u + 12345u;
    return (l->rng >> 8) & 0xffffff;
}

static void conn_connect(hconn *c);
static void conn_send(hconn *c, uint64_t intended);
static void load_finish(struct bench_load *l);

static void on_close(uv_handle_t *h)
{
    hconn *c = h->data;
    struct bench_load *l = c->l;
    c->open = false;
    l->nclosing--;
    if (c->state != C_DEAD && l->phase == 1 && c->reconnects < MAX_RECONNECTS) {
        c->reconnects++;
        l->r->reconnects++;
        conn_connect(c);
        return;
    }
    c->state = C_DEAD;
    load_finish(l);
}

static void conn_close(hconn *c, bool dead)
{
    if (dead)
        c->state = C_DEAD;
    else
        c->state = C_CONNECTING;
    if (c->open && !uv_is_closing((uv_handle_t *)&c->tcp)) {
        c->l->nclosing++;
        uv_close((uv_handle_t *)&c->tcp, on_close);
    }
}

/* A connection that may take work: take the oldest due request, or wait in the idle stack. */
static void conn_ready(hconn *c)
{
    struct bench_load *l = c->l;
    uint64_t now = uv_hrtime();
    if (l->phase != 1 || now >= l->t_end) {
        conn_close(c, true);
        return;
    }
    c->state = C_IDLE;
    if (l->o->rate <= 0) {
        conn_send(c, now);
    } else if (l->flen > 0) {
        uint64_t t = l->fifo[l->fhead];
        l->fhead = (l->fhead + 1) % FIFO_CAP;
        l->flen--;
        conn_send(c, t);
    } else if (!c->in_idle) {
        c->in_idle = true;
        l->idle[l->nidle++] = (int)(c - l->c);
    }
}

static void on_write(uv_write_t *w, int status)
{
    hconn *c = w->data;
    c->write_pending = false;
    if (status < 0 && status != UV_ECANCELED && c->state == C_BUSY) {
        c->l->r->err_io++;
        conn_close(c, false);
    }
}

static int build_request(hconn *c)
{
    struct bench_load *l = c->l;
    const bench_opts *o = l->o;
    if (o->kind == BENCH_POLL) {
        char path[256];
        if (o->path)
            snprintf(path, sizeof path, "%s", o->path);
        else
            snprintf(path, sizeof path, "/v1/halls/%s/services/%s/wait", o->hall, o->service);
        bool inm = c->etag[0] && (double)rnd(l) < o->inm_ratio * 16777216.0;
        return snprintf(c->wbuf, WBUF_CAP, "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", path,
                        o->host, inm ? "If-None-Match: " : "", inm ? c->etag : "",
                        inm ? "\r\n" : "");
    }
    char body[256];
    int bn;
    if (o->idem)
        bn = snprintf(body, sizeof body,
                      "{\"service\":\"%s\",\"channel\":\"app\",\"idem\":\"b%d-%llx\"}", o->service,
                      (int)getpid(), (unsigned long long)++l->seq);
    else
        bn = snprintf(body, sizeof body, "{\"service\":\"%s\",\"channel\":\"app\"}", o->service);
    return snprintf(c->wbuf, WBUF_CAP,
                    "POST /v1/halls/%s/tickets HTTP/1.1\r\nHost: %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                    o->hall, o->host, bn, body);
}

static void conn_send(hconn *c, uint64_t intended)
{
    int n = build_request(c);
    if (n <= 0 || n >= WBUF_CAP) {
        c->l->r->err_proto++;
        conn_close(c, true);
        return;
    }
    c->state = C_BUSY;
    c->intended = intended;
    c->rlen = 0;
    uv_buf_t b = uv_buf_init(c->wbuf, (unsigned)n);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (w == n)
        return;
    if (w < 0 && w != UV_EAGAIN) {
        c->l->r->err_io++;
        conn_close(c, false);
        return;
    }
    if (w > 0) {
        b.base += w;
        b.len -= (size_t)w;
    }
    c->write_pending = true;
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        c->write_pending = false;
        c->l->r->err_io++;
        conn_close(c, false);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    hconn *c = h->data;
    buf->base = c->rbuf + c->rlen;
    buf->len = RBUF_CAP - c->rlen;
}

/* Case-insensitive search for a header line "\r\nName:" in head[0..n); returns the value or NULL.
 */
static const char *find_header(const char *head, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + 2 + nl < n; i++) {
        if (head[i] != '\r' || head[i + 1] != '\n' || strncasecmp(head + i + 2, name, nl) != 0 ||
            head[i + 2 + nl] != ':')
            continue;
        const char *v = head + i + 3 + nl;
        const char *end = head + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        const char *e = v;
        while (e < end && *e != '\r')
            e++;
        *vlen = (size_t)(e - v);
        return v;
    }
    return NULL;
}

static void record_reply(hconn *c, int status, const char *body, size_t blen)
{
    struct bench_load *l = c->l;
    uint64_t now = uv_hrtime();
    bool measured = c->intended >= l->t_meas && c->intended < l->t_end;
    if (measured) {
        bench_result *r = l->r;
        r->requests++;
        r->status[status > 0 && status < BENCH_MAX_STATUS ? status : 0]++;
        bench_hist_record(&r->lat, now > c->intended ? (now - c->intended) / 1000 : 0);
    }
    if (l->cb)
        l->cb(l->arg, c->intended, now, measured, status, body, blen);
}

/* Returns 1 when a complete response was handled, 0 when more bytes are needed, -1 on error. */
static int parse_reply(hconn *c, bool *keep)
{
    const char *p = c->rbuf;
    const char *he = memmem(p, c->rlen, "\r\n\r\n", 4);
    if (!he)
        return c->rlen >= 16 * 1024 ? -1 : 0;
    size_t hlen = (size_t)(he - p) + 4;
    if (c->rlen < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]))
        return -1;
    int status = atoi(p + 9);
    size_t vl;
    const char *v = find_header(p, hlen, "Transfer-Encoding", &vl);
    if (v)
        return -1;
    size_t clen = 0;
    v = find_header(p, hlen, "Content-Length", &vl);
    if (v) {
        char *end;
        unsigned long long x = strtoull(v, &end, 10);
        if (x > RBUF_CAP)
            return -1;
        clen = (size_t)x;
    } else if (status != 304 && status != 204) {
        return -1; /* read-until-close bodies are not expected from these servers */
    }
    if (c->rlen < hlen + clen)
        return 0;
    if (c->rlen > hlen + clen)
        return -1; /* one request in flight: nothing may follow */
    v = find_header(p, hlen, "ETag", &vl);
    if (v && vl < sizeof c->etag) {
        memcpy(c->etag, v, vl);
        c->etag[vl] = 0;
    }
    v = find_header(p, hlen, "Connection", &vl);
    *keep = !(v && vl == 5 && strncasecmp(v, "close", 5) == 0);
    if (hlen + clen < RBUF_CAP)
        c->rbuf[hlen + clen] = 0; /* lets a reply callback use string functions */
    record_reply(c, status, p + hlen, clen);
    return 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    hconn *c = s->data;
    struct bench_load *l = c->l;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (c->state == C_BUSY)
            l->r->err_io++;
        conn_close(c, false);
        return;
    }
    if (c->state != C_BUSY) {
        l->r->err_proto++; /* bytes nobody asked for */
        conn_close(c, false);
        return;
    }
    c->rlen += (size_t)nread;
    bool keep = true;
    int rc = parse_reply(c, &keep);
    if (rc == 0) {
        if (c->rlen >= RBUF_CAP) {
            l->r->err_proto++;
            conn_close(c, false);
        }
        return;
    }
    if (rc < 0) {
        l->r->err_proto++;
        conn_close(c, false);
        return;
    }
    c->rlen = 0;
    if (!keep) {
        conn_close(c, false);
        return;
    }
    if (c->write_pending) { /* cannot happen with one request in flight; be safe */
        l->r->err_proto++;
        conn_close(c, false);
        return;
    }
    conn_ready(c);
}

static void begin_sending(struct bench_load *l);

static void on_connect(uv_connect_t *req, int status)
{
    hconn *c = req->data;
    struct bench_load *l = c->l;
    if (status < 0) {
        if (status != UV_ECANCELED)
            l->r->err_connect++;
        conn_close(c, l->phase != 1);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        l->r->err_io++;
        conn_close(c, true);
        return;
    }
    if (l->phase == 0) {
        c->state = C_IDLE;
        if (++l->nconnected == l->n)
            begin_sending(l);
    } else {
        conn_ready(c);
    }
}

static void conn_connect(hconn *c)
{
    struct bench_load *l = c->l;
    c->state = C_CONNECTING;
    c->etag[0] = 0;
    c->rlen = 0;
    if (uv_tcp_init(l->loop, &c->tcp) < 0) {
        l->r->err_connect++;
        c->state = C_DEAD;
        return;
    }
    c->open = true;
    c->tcp.data = c;
    c->creq.data = c;
    if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&l->o->addr, on_connect) < 0) {
        l->r->err_connect++;
        conn_close(c, true);
    }
}

/* Open loop: queue every request due by now, then hand them to idle connections. */
static void due_requests(struct bench_load *l, uint64_t now)
{
    double step = 1e9 / l->o->rate;
    for (;;) {
        uint64_t t = l->t0 + (uint64_t)((double)l->next_i * step);
        if (t > now || t >= l->t_end)
            break;
        l->next_i++;
        if (l->flen == FIFO_CAP) {
            if (t >= l->t_meas)
                l->r->err_backlog++;
            continue;
        }
        l->fifo[(l->fhead + l->flen) % FIFO_CAP] = t;
        l->flen++;
    }
    while (l->flen > 0 && l->nidle > 0) {
        hconn *c = &l->c[l->idle[--l->nidle]];
        c->in_idle = false;
        if (c->state != C_IDLE)
            continue;
        uint64_t t = l->fifo[l->fhead];
        l->fhead = (l->fhead + 1) % FIFO_CAP;
        l->flen--;
        conn_send(c, t);
    }
}

static void close_all(struct bench_load *l)
{
    for (int i = 0; i < l->n; i++)
        conn_close(&l->c[i], true);
}

static void on_tick(uv_timer_t *t)
{
    struct bench_load *l = t->data;
    uint64_t now = uv_hrtime();
    if (l->phase == 0) {
        int pending = 0;
        for (int i = 0; i < l->n; i++)
            pending += l->c[i].state == C_CONNECTING;
        if (pending == 0 || now >= l->t_connect_deadline)
            begin_sending(l);
        return;
    }
    if (l->phase == 1) {
        if (l->o->server_pid > 0 && !l->r->have_server && now >= l->t_meas) {
            double cpu;
            long rss, hwm;
            if (bench_proc_sample(l->o->server_pid, &cpu, &rss, &hwm) == 0) {
                l->r->have_server = true;
                l->r->cpu_s = -cpu;
                l->r->rss_kb_before = rss;
            }
        }
        if (now >= l->t_end) {
            l->phase = 2;
            l->r->measured_s = (double)(l->t_end - l->t_meas) / 1e9;
            if (l->r->have_server) {
                double cpu;
                long rss, hwm;
                if (bench_proc_sample(l->o->server_pid, &cpu, &rss, &hwm) == 0) {
                    l->r->cpu_s += cpu;
                    l->r->rss_kb_after = rss;
                    l->r->hwm_kb = hwm;
                } else {
                    l->r->have_server = false;
                }
            }
            if (l->o->rate > 0 && l->t_meas < l->t_end)
                l->r->err_backlog += l->flen; /* due, never sent */
            l->flen = 0;
            for (int i = 0; i < l->n; i++)
                if (l->c[i].state != C_BUSY)
                    conn_close(&l->c[i], true);
            if (l->done)
                l->done(l->arg);
            return;
        }
        if (l->o->rate > 0)
            due_requests(l, now);
        return;
    }
    if (l->phase == 2 && now >= l->t_end + DRAIN_NS)
        close_all(l);
    load_finish(l);
}

static void begin_sending(struct bench_load *l)
{
    if (l->phase != 0)
        return;
    l->phase = 1;
    l->t0 = uv_hrtime();
    l->t_meas = l->t0 + (uint64_t)(l->o->warmup_s * 1e9);
    l->t_end = l->t_meas + (uint64_t)(l->o->duration_s * 1e9);
    for (int i = 0; i < l->n; i++)
        if (l->c[i].state == C_IDLE)
            conn_ready(&l->c[i]);
}

static void load_finish(struct bench_load *l)
{
    if (l->phase < 2)
        return;
    for (int i = 0; i < l->n; i++)
        if (l->c[i].open)
            return;
    if (l->phase == 2) {
        l->phase = 3;
        if (l->tick_open) {
            uv_timer_stop(&l->tick);
            uv_close((uv_handle_t *)&l->tick, NULL);
        }
    }
}

int bench_load_start(uv_loop_t *loop, const bench_opts *o, bench_result *r, bench_reply_cb cb,
                     bench_done_cb done, void *arg, bench_load **out)
{
    *out = NULL;
    struct bench_load *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->loop = loop;
    l->o = o;
    l->r = r;
    l->cb = cb;
    l->done = done;
    l->arg = arg;
    l->n = o->conns;
    l->rng = (unsigned)getpid() ^ 0x9e3779b9u;
    l->c = calloc((size_t)l->n, sizeof *l->c);
    l->idle = calloc((size_t)l->n, sizeof *l->idle);
    if (o->rate > 0)
        l->fifo = malloc(FIFO_CAP * sizeof *l->fifo);
    if (!l->c || !l->idle || (o->rate > 0 && !l->fifo)) {
        bench_load_free(l);
        return -1;
    }
    for (int i = 0; i < l->n; i++) {
        l->c[i].l = l;
        l->c[i].rbuf = malloc(RBUF_CAP);
        if (!l->c[i].rbuf) {
            bench_load_free(l);
            return -1;
        }
    }
    *out = l;
    l->t_connect_deadline = uv_hrtime() + CONNECT_NS;
    uv_timer_init(loop, &l->tick);
    l->tick.data = l;
    l->tick_open = true;
    uv_timer_start(&l->tick, on_tick, 1, 1);
    for (int i = 0; i < l->n; i++)
        conn_connect(&l->c[i]);
    return 0;
}

void bench_load_free(bench_load *l)
{
    if (!l)
        return;
    if (l->c)
        for (int i = 0; i < l->n; i++)
            free(l->c[i].rbuf);
    free(l->c);
    free(l->idle);
    free(l->fifo);
    free(l);
}
