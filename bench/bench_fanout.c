/*
 * bench_fanout.c — the fanout scenario of antrean-bench: N WebSocket
 * subscribers (antrean.v1.msgpack) to one hall, and a driver (the HTTP load
 * of bench_http.c, open loop at --rate) issuing tickets. Delivery latency is
 * measured from the driver's intended send time of an issue request to each
 * subscriber's receipt of the ticket.issued event with the code the reply
 * named.
 *
 * The event may reach a subscriber before the issue reply reaches the
 * driver (the server releases both at the same commit), so receipts of a
 * code not yet known wait in its slot until the reply names it. Slots are a
 * fixed ring indexed by the code's number; a slot holds at most one receipt
 * per subscriber.
 *
 * The frame reader trusts nothing: lengths are capped (BUF_CAP), frames the
 * scenario does not expect (fragments, masked, oversized) close the
 * subscriber and count as an error, and the msgpack walker checks every
 * length against the bytes that remain and caps nesting.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_CAP (1u << 20)      /* one subscriber's unread bytes (the subscribe reply is largest) */
#define RING 65536              /* code slots */
#define SETUP_NS 20000000000ull /* subscribers connect and subscribe within this */
#define AFTER_NS 2000000000ull  /* after the driver stops: wait this long for deliveries */
#define MAX_DEPTH 32

enum { S_CONNECTING, S_HANDSHAKE, S_SUBSCRIBING, S_READY, S_DEAD };

typedef struct fan fan;

typedef struct sub {
    uv_tcp_t tcp;
    uv_connect_t creq;
    fan *f;
    int state;
    bool open;
    size_t rlen;
    char *rbuf;
} sub;

typedef struct slot {
    char code[16];
    uint64_t ts; /* the driver's intended send time; 0 while unknown */
    bool measured;
    uint64_t *pend; /* receipt times waiting for ts */
    uint32_t npend, cap;
} slot;

struct fan {
    uv_loop_t loop;
    const bench_opts *o;
    bench_opts dopts; /* the driver's options */
    bench_result *r;
    sub *s;
    int n, nready, nopen;
    slot *ring;
    uv_timer_t timer;
    int phase; /* 0 setup, 1 driving, 2 after, 3 closing */
    uint64_t setup_deadline, close_at;
    bench_load *driver;
    unsigned mask_rng;
};

typedef struct wreq {
    uv_write_t w;
    char data[];
} wreq;

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
}

static void sub_close(sub *s);

static void sub_write(sub *s, const void *data, size_t len)
{
    wreq *w = malloc(sizeof *w + len);
    if (!w) {
        sub_close(s);
        return;
    }
    memcpy(w->data, data, len);
    w->w.data = w;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->w, (uv_stream_t *)&s->tcp, &b, 1, on_written) < 0) {
        free(w);
        s->f->r->sub_errors++;
        sub_close(s);
    }
}

/* A masked client frame (payload ≤ 125 bytes: all this scenario sends). */
static void sub_send_frame(sub *s, int opcode, const unsigned char *p, size_t len)
{
    unsigned char fr[2 + 4 + 125];
    if (len > 125)
        return;
    fan *f = s->f;
    f->mask_rng = f->mask_rng * 1664525u + 1013904223u;
    unsigned char m[4] = {(unsigned char)(f->mask_rng >> 24), (unsigned char)(f->mask_rng >> 16),
                          (unsigned char)(f->mask_rng >> 8), (unsigned char)f->mask_rng};
    fr[0] = (unsigned char)(0x80 | opcode);
    fr[1] = (unsigned char)(0x80 | len);
    memcpy(fr + 2, m, 4);
    for (size_t i = 0; i < len; i++)
        fr[6 + i] = p[i] ^ m[i % 4];
    sub_write(s, fr, 6 + len);
}

static void on_sub_close(uv_handle_t *h)
{
    sub *s = h->data;
    s->open = false;
    s->f->nopen--;
}

static void sub_close(sub *s)
{
    if (s->state == S_READY)
        s->f->nready--;
    s->state = S_DEAD;
    if (s->open && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_sub_close);
}

/* ---- a bounded msgpack walk ---------------------------------------------- */

typedef struct mp {
    const unsigned char *p, *end;
} mp;

static int mp_need(mp *m, size_t n)
{
    return (size_t)(m->end - m->p) >= n ? 0 : -1;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads a str header; sets *s and *len and moves past the string. -1 if not a str or short. */
static int mp_str(mp *m, const char **s, size_t *len)
{
    if (mp_need(m, 1) < 0)
        return -1;
    unsigned t = *m->p;
    size_t hl, l;
    if ((t & 0xe0) == 0xa0)
        hl = 1, l = t & 0x1f;
    else if (t == 0xd9 && mp_need(m, 2) == 0)
        hl = 2, l = m->p[1];
    else if (t == 0xda && mp_need(m, 3) == 0)
        hl = 3, l = (size_t)be(m->p + 1, 2);
    else if (t == 0xdb && mp_need(m, 5) == 0)
        hl = 5, l = (size_t)be(m->p + 1, 4);
    else
        return -1;
    if (mp_need(m, hl + l) < 0)
        return -1;
    *s = (const char *)m->p + hl;
    *len = l;
    m->p += hl + l;
    return 0;
}

static int mp_skip(mp *m, int depth)
{
    if (depth > MAX_DEPTH || mp_need(m, 1) < 0)
        return -1;
    unsigned t = *m->p;
    uint64_t n = 0;
    size_t hl = 1, body = 0;
    int kind = 0; /* 0 scalar/blob, 1 array of n, 2 map of n */
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
    } else if ((t & 0xf0) == 0x80) {
        kind = 2, n = t & 0x0f;
    } else if ((t & 0xf0) == 0x90) {
        kind = 1, n = t & 0x0f;
    } else if ((t & 0xe0) == 0xa0) {
        body = t & 0x1f;
    } else {
        switch (t) {
        case 0xcc:
        case 0xd0:
            body = 1;
            break;
        case 0xcd:
        case 0xd1:
            body = 2;
            break;
        case 0xce:
        case 0xd2:
        case 0xca:
            body = 4;
            break;
        case 0xcf:
        case 0xd3:
        case 0xcb:
            body = 8;
            break;
        case 0xd4:
            body = 2;
            break;
        case 0xd5:
            body = 3;
            break;
        case 0xd6:
            body = 5;
            break;
        case 0xd7:
            body = 9;
            break;
        case 0xd8:
            body = 17;
            break;
        case 0xc4:
        case 0xd9:
            hl = 2;
            break;
        case 0xc5:
        case 0xda:
            hl = 3;
            break;
        case 0xc6:
        case 0xdb:
            hl = 5;
            break;
        case 0xc7:
            hl = 2;
            break;
        case 0xc8:
            hl = 3;
            break;
        case 0xc9:
            hl = 5;
            break;
        case 0xdc:
            hl = 3, kind = 1;
            break;
        case 0xdd:
            hl = 5, kind = 1;
            break;
        case 0xde:
            hl = 3, kind = 2;
            break;
        case 0xdf:
            hl = 5, kind = 2;
            break;
        default:
            return -1;
        }
        if (mp_need(m, hl) < 0)
            return -1;
        if (hl > 1) {
            uint64_t v = be(m->p + 1, (int)hl - 1);
            if (kind)
                n = v;
            else
                body = (size_t)v + (t >= 0xc7 && t <= 0xc9 ? 1 : 0); /* ext: type byte */
        }
    }
    if (mp_need(m, hl + body) < 0)
        return -1;
    m->p += hl + body;
    if (kind == 0)
        return 0;
    uint64_t items = kind == 2 ? 2 * n : n;
    if (items > (uint64_t)(m->end - m->p)) /* every item is at least one byte */
        return -1;
    for (uint64_t i = 0; i < items; i++)
        if (mp_skip(m, depth + 1) < 0)
            return -1;
    return 0;
}

/* The top-level fields this scenario needs: is it a reply (rid), and ev / code of an event. */
typedef struct msg_info {
    bool has_rid, ok;
    char ev[32], code[16];
} msg_info;

static int mp_top(const unsigned char *p, size_t len, msg_info *mi)
{
    mp m = {p, p + len};
    memset(mi, 0, sizeof *mi);
    if (mp_need(&m, 1) < 0)
        return -1;
    unsigned t = *m.p;
    uint64_t n;
    if ((t & 0xf0) == 0x80)
        n = t & 0x0f, m.p++;
    else if (t == 0xde && mp_need(&m, 3) == 0)
        n = be(m.p + 1, 2), m.p += 3;
    else if (t == 0xdf && mp_need(&m, 5) == 0)
        n = be(m.p + 1, 4), m.p += 5;
    else
        return -1;
    if (n > len)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        const char *k, *v;
        size_t kl, vl;
        if (mp_str(&m, &k, &kl) < 0)
            return -1;
        if (kl == 3 && memcmp(k, "rid", 3) == 0) {
            mi->has_rid = true;
        } else if (kl == 2 && memcmp(k, "ok", 2) == 0 && mp_need(&m, 1) == 0) {
            mi->ok = *m.p == 0xc3;
        } else if (kl == 2 && memcmp(k, "ev", 2) == 0) {
            if (mp_str(&m, &v, &vl) < 0 || vl >= sizeof mi->ev)
                return -1;
            memcpy(mi->ev, v, vl);
            continue;
        } else if (kl == 4 && memcmp(k, "code", 4) == 0) {
            mp save = m;
            if (mp_str(&m, &v, &vl) == 0 && vl < sizeof mi->code) {
                memcpy(mi->code, v, vl);
                continue;
            }
            m = save;
        }
        if (mp_skip(&m, 1) < 0)
            return -1;
    }
    return 0;
}

/* ---- matching codes -------------------------------------------------------- */

static slot *slot_for(fan *f, const char *code)
{
    const char *d = code;
    while (*d && (*d < '0' || *d > '9'))
        d++;
    if (!*d)
        return NULL;
    slot *s = &f->ring[strtoul(d, NULL, 10) % RING];
    if (strcmp(s->code, code) != 0) { /* a new code takes the slot over */
        snprintf(s->code, sizeof s->code, "%s", code);
        s->ts = 0;
        s->measured = false;
        s->npend = 0;
    }
    return s;
}

static void deliver(fan *f, slot *s, uint64_t tr)
{
    if (!s->measured)
        return;
    f->r->deliveries++;
    bench_hist_record(&f->r->deliv, tr > s->ts ? (tr - s->ts) / 1000 : 0);
}

static void on_event(fan *f, const char *code, uint64_t tr)
{
    slot *s = slot_for(f, code);
    if (!s)
        return;
    if (s->ts) {
        deliver(f, s, tr);
        return;
    }
    if (s->npend == s->cap) {
        if (s->cap >= (uint32_t)f->n) /* more receipts than subscribers: not ours */
            return;
        uint32_t nc = s->cap ? s->cap * 2 : 8;
        if (nc > (uint32_t)f->n)
            nc = (uint32_t)f->n;
        uint64_t *np = realloc(s->pend, nc * sizeof *np);
        if (!np)
            return;
        s->pend = np;
        s->cap = nc;
    }
    s->pend[s->npend++] = tr;
}

static void on_issue_reply(void *arg, uint64_t intended, uint64_t now, bool measured, int status,
                           const char *body, size_t len)
{
    (void)now;
    fan *f = arg;
    if (status != 201)
        return;
    const char *k = memmem(body, len, "\"code\":\"", 8);
    if (!k)
        return;
    k += 8;
    const char *e = memchr(k, '"', len - (size_t)(k - body));
    if (!e || e - k >= 16)
        return;
    char code[16];
    memcpy(code, k, (size_t)(e - k));
    code[e - k] = 0;
    slot *s = slot_for(f, code);
    if (!s)
        return;
    s->ts = intended ? intended : 1;
    s->measured = measured;
    if (measured) {
        f->r->issued++;
        f->r->expected += (uint64_t)f->nready;
    }
    for (uint32_t i = 0; i < s->npend; i++)
        deliver(f, s, s->pend[i]);
    s->npend = 0;
}

/* ---- subscribers ------------------------------------------------------------- */

static void sub_message(sub *s, const unsigned char *p, size_t len)
{
    fan *f = s->f;
    msg_info mi;
    if (mp_top(p, len, &mi) < 0) {
        f->r->sub_errors++;
        return;
    }
    if (s->state == S_SUBSCRIBING && mi.has_rid) {
        if (!mi.ok) {
            f->r->sub_errors++;
            sub_close(s);
            return;
        }
        s->state = S_READY;
        f->nready++;
        return;
    }
    if (s->state == S_READY && strcmp(mi.ev, "ticket.issued") == 0 && mi.code[0])
        on_event(f, mi.code, uv_hrtime());
}

/* Handles every complete frame in rbuf; returns -1 when the subscriber must close. */
static int sub_frames(sub *s)
{
    size_t off = 0;
    const unsigned char *b = (const unsigned char *)s->rbuf;
    while (s->rlen - off >= 2) {
        const unsigned char *h = b + off;
        size_t avail = s->rlen - off;
        int op = h[0] & 0x0f;
        bool fin = h[0] & 0x80;
        if (h[1] & 0x80)
            return -1; /* server frames are never masked */
        uint64_t plen = h[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (avail < 4)
                break;
            plen = be(h + 2, 2), hl = 4;
        } else if (plen == 127) {
            if (avail < 10)
                break;
            plen = be(h + 2, 8), hl = 10;
        }
        if (plen > BUF_CAP - 16)
            return -1;
        if (avail < hl + plen)
            break;
        const unsigned char *p = h + hl;
        if (!fin || op == 0)
            return -1; /* the server sends whole messages */
        if (op == 1 || op == 2)
            sub_message(s, p, (size_t)plen);
        else if (op == 9)
            sub_send_frame(s, 0xA, p, plen <= 125 ? (size_t)plen : 0);
        else if (op == 8)
            return -1;
        off += hl + (size_t)plen;
        if (s->state == S_DEAD)
            return 0;
    }
    memmove(s->rbuf, s->rbuf + off, s->rlen - off);
    s->rlen -= off;
    return 0;
}

static void sub_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    sub *s = h->data;
    buf->base = s->rbuf + s->rlen;
    buf->len = BUF_CAP - s->rlen;
}

static void sub_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    sub *s = st->data;
    fan *f = s->f;
    if (nread == 0 || s->state == S_DEAD)
        return;
    if (nread < 0) {
        if (f->phase < 3)
            f->r->sub_errors++;
        sub_close(s);
        return;
    }
    s->rlen += (size_t)nread;
    if (s->state == S_HANDSHAKE) {
        char *he = memmem(s->rbuf, s->rlen, "\r\n\r\n", 4);
        if (!he) {
            if (s->rlen > 16384) {
                f->r->sub_errors++;
                sub_close(s);
            }
            return;
        }
        if (s->rlen < 12 || memcmp(s->rbuf + 9, "101", 3) != 0) {
            f->r->sub_errors++;
            sub_close(s);
            return;
        }
        size_t hl = (size_t)(he - s->rbuf) + 4;
        memmove(s->rbuf, s->rbuf + hl, s->rlen - hl);
        s->rlen -= hl;
        s->state = S_SUBSCRIBING;
        /* {"op":"subscribe","rid":1,"hall":HALL} in msgpack */
        unsigned char m[128];
        size_t n = 0, hlen = strlen(f->o->hall);
        m[n++] = 0x83;
        m[n++] = 0xa2, memcpy(m + n, "op", 2), n += 2;
        m[n++] = 0xa9, memcpy(m + n, "subscribe", 9), n += 9;
        m[n++] = 0xa3, memcpy(m + n, "rid", 3), n += 3;
        m[n++] = 0x01;
        m[n++] = 0xa4, memcpy(m + n, "hall", 4), n += 4;
        m[n++] = (unsigned char)(0xa0 | hlen), memcpy(m + n, f->o->hall, hlen), n += hlen;
        sub_send_frame(s, 0x2, m, n);
    }
    if (s->state != S_DEAD && sub_frames(s) < 0) {
        f->r->sub_errors++;
        sub_close(s);
        return;
    }
    if (s->state != S_DEAD && s->rlen >= BUF_CAP) {
        f->r->sub_errors++;
        sub_close(s);
    }
}

static void sub_connected(uv_connect_t *req, int status)
{
    sub *s = req->data;
    fan *f = s->f;
    if (status < 0) {
        if (status != UV_ECANCELED)
            f->r->sub_errors++;
        sub_close(s);
        return;
    }
    if (s->state == S_DEAD)
        return;
    char hs[512];
    int n =
        snprintf(hs, sizeof hs,
                 "GET /v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: YW50cmVhbi1iZW5jaC1rZXk=\r\n"
                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: antrean.v1.msgpack\r\n\r\n",
                 f->o->host);
    s->state = S_HANDSHAKE;
    if (uv_read_start((uv_stream_t *)&s->tcp, sub_alloc, sub_read) < 0) {
        f->r->sub_errors++;
        sub_close(s);
        return;
    }
    sub_write(s, hs, (size_t)n);
}

/* ---- the run --------------------------------------------------------------- */

static void driver_done(void *arg)
{
    fan *f = arg;
    f->phase = 2;
    f->close_at = uv_hrtime() + AFTER_NS;
}

static void on_timer(uv_timer_t *t)
{
    fan *f = t->data;
    uint64_t now = uv_hrtime();
    if (f->phase == 0) {
        int pending = 0;
        for (int i = 0; i < f->n; i++)
            pending += f->s[i].state < S_READY;
        if (pending > 0 && now < f->setup_deadline)
            return;
        f->r->subs_ready = (uint64_t)f->nready;
        f->phase = 1;
        if (f->nready == 0 || bench_load_start(&f->loop, &f->dopts, f->r, on_issue_reply,
                                               driver_done, f, &f->driver) < 0) {
            f->phase = 2;
            f->close_at = now;
        }
        return;
    }
    if (f->phase == 2 && now >= f->close_at) {
        f->phase = 3;
        for (int i = 0; i < f->n; i++)
            sub_close(&f->s[i]);
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
    }
}

int bench_run_fanout(const bench_opts *o, bench_result *r)
{
    fan *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->o = o;
    f->r = r;
    f->n = o->subs;
    f->dopts = *o;
    f->dopts.kind = BENCH_ISSUE;
    f->mask_rng = 0x2545f491u;
    f->s = calloc((size_t)f->n, sizeof *f->s);
    f->ring = calloc(RING, sizeof *f->ring);
    int rc = -1;
    if (!f->s || !f->ring || uv_loop_init(&f->loop) < 0)
        goto out;
    for (int i = 0; i < f->n; i++) {
        sub *s = &f->s[i];
        s->f = f;
        s->state = S_DEAD;
        s->rbuf = malloc(BUF_CAP);
        if (!s->rbuf)
            continue;
        if (uv_tcp_init(&f->loop, &s->tcp) < 0)
            continue;
        s->open = true;
        f->nopen++;
        s->state = S_CONNECTING;
        s->tcp.data = s;
        s->creq.data = s;
        uv_tcp_nodelay(&s->tcp, 1);
        if (uv_tcp_connect(&s->creq, &s->tcp, (const struct sockaddr *)&o->addr, sub_connected) <
            0) {
            r->sub_errors++;
            sub_close(s);
        }
    }
    f->setup_deadline = uv_hrtime() + SETUP_NS;
    uv_timer_init(&f->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_timer, 10, 10);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    rc = 0;
out:
    bench_load_free(f->driver);
    if (f->s)
        for (int i = 0; i < f->n; i++)
            free(f->s[i].rbuf);
    if (f->ring)
        for (int i = 0; i < RING; i++)
            free(f->ring[i].pend);
    free(f->s);
    free(f->ring);
    free(f);
    return rc;
}
