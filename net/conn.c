/*
 * conn.c — TCP connections on libuv: accept, read, batched writes, timers,
 * limits (SPEC §9) and graceful close.
 *
 * Reads land in one shared 64 KiB buffer while a connection has nothing
 * buffered, so an idle connection holds no read memory. Output is a queue of
 * items, each either bytes in the connection's own (double-buffered) byte
 * buffer or a reference to a shared broadcast frame; everything queued in a
 * loop turn goes out in one uv_write with several bufs from the uv_check
 * handle. One timer per connection enforces the head timeout, keep-alive
 * idle, WebSocket ping/silence and the linger after a final response.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define CONN_IN_MAX (256 * 1024)
#define CONN_LINGER_MS 2000
#define CONN_CLOSE_WAIT_MS 5000

static void conn_free(conn *c)
{
    for (size_t i = 0; i < c->qn; i++)
        if (c->q[i].f)
            bcast_frame_unref(c->q[i].f);
    for (size_t i = 0; i < c->flyn; i++)
        if (c->fly[i].f)
            bcast_frame_unref(c->fly[i].f);
    codec_buf_free(&c->ob[0]);
    codec_buf_free(&c->ob[1]);
    http_conn_free(c);
    ws_conn_free(c);
    free(c->q);
    free(c->fly);
    free(c->bufs);
    free(c->in);
    free(c);
}

void conn_ref(conn *c)
{
    c->refs++;
}

void conn_unref(conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void on_handle_closed(uv_handle_t *hd)
{
    conn_unref(hd->data);
}

void conn_close(conn *c)
{
    if (c->closing)
        return;
    srv *s = c->s;
    c->closing = true;
    bcast_unsubscribe_all(s, c);
    if (c->proto == CONN_WS && s->nws > 0)
        s->nws--;
    if (c->proto == CONN_SSE && s->nsse > 0)
        s->nsse--;
    /* unlink */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->nconns--;
    if (c->dirty) {
        conn **pp = &s->dirty;
        while (*pp && *pp != c)
            pp = &(*pp)->dirty_next;
        if (*pp)
            *pp = c->dirty_next;
        c->dirty = false;
    }
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static int64_t conn_deadline(conn *c)
{
    srv *s = c->s;
    if (c->draining)
        return c->close_at_ms + CONN_LINGER_MS;
    if (c->close_after_write)
        return c->close_at_ms + CONN_CLOSE_WAIT_MS;
    if (c->proto == CONN_WS) {
        int64_t a = c->w.last_ping_ms + s->o.ws_ping_ms;
        int64_t b = c->w.last_rx_ms + s->o.ws_silent_ms;
        return a < b ? a : b;
    }
    if (c->proto == CONN_SSE)
        return c->sse_last_hb_ms + s->o.sse_heartbeat_ms;
    if (c->h.busy)
        return -1;
    if (c->h.in_message && !c->h.headers_done)
        return c->h.started_ms + s->o.head_timeout_ms; /* slowloris */
    if (!c->h.in_message && c->h.nreq == 0)
        return c->accepted_ms + s->o.head_timeout_ms;
    return c->last_io_ms + s->o.idle_timeout_ms;
}

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->closing)
        return;
    int64_t now = srv_now_ms();
    int64_t dl = conn_deadline(c);
    if (dl < 0)
        return;
    if (now < dl) {
        uv_timer_start(&c->timer, on_timer, (uint64_t)(dl - now), 0);
        return;
    }
    if (c->draining || c->close_after_write || c->proto == CONN_HTTP) {
        /* head not complete in time, idle keep-alive over, or linger over */
        conn_close(c);
        return;
    }
    if (c->proto == CONN_SSE)
        sse_on_timer(c, now);
    else
        ws_on_timer(c, now);
    if (!c->closing)
        conn_arm_timer(c);
}

void conn_arm_timer(conn *c)
{
    if (c->closing)
        return;
    int64_t dl = conn_deadline(c);
    if (dl < 0) {
        uv_timer_stop(&c->timer);
        return;
    }
    int64_t now = srv_now_ms();
    uv_timer_start(&c->timer, on_timer, dl > now ? (uint64_t)(dl - now) : 0, 0);
}

/* ---- input -------------------------------------------------------------- */

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = hd->data;
    srv *s = c->s;
    if (c->in_len == 0 && !s->rbuf_busy) {
        s->rbuf_busy = true;
        *buf = uv_buf_init(s->rbuf, sizeof s->rbuf);
        return;
    }
    if (c->in_cap - c->in_len < 4096) {
        size_t ncap = c->in_cap ? c->in_cap * 2 : 8192;
        if (ncap > CONN_IN_MAX)
            ncap = CONN_IN_MAX;
        if (ncap <= c->in_cap) {
            *buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
            return;
        }
        char *n = realloc(c->in, ncap);
        if (!n) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = n;
        c->in_cap = ncap;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static bool keep_input(conn *c, const char *p, size_t n)
{
    if (n == 0)
        return true;
    if (p >= c->in && p < c->in + c->in_cap) {
        memmove(c->in, p, n);
        c->in_len = n;
        return true;
    }
    if (c->in_cap < n) {
        char *nb = realloc(c->in, n < 8192 ? 8192 : n);
        if (!nb)
            return false;
        c->in = nb;
        c->in_cap = n < 8192 ? 8192 : n;
    }
    memcpy(c->in, p, n);
    c->in_len = n;
    return true;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* Feed data to the protocol until it is all consumed or the protocol waits. */
static void process(conn *c, const char *data, size_t len)
{
    conn_ref(c);
    while (len > 0 && !c->closing && !c->draining && !c->close_after_write) {
        int proto = c->proto;
        /* an SSE client has nothing more to say: its bytes are read and dropped */
        size_t n = proto == CONN_HTTP ? http_feed(c, data, len)
                   : proto == CONN_WS ? ws_feed(c, data, len)
                                      : len;
        data += n;
        len -= n;
        if (c->proto != proto)
            continue; /* upgraded: the rest is WebSocket */
        if (n == 0)
            break;
    }
    if (c->closing || c->draining || c->close_after_write)
        len = 0;
    if (!keep_input(c, data, len))
        conn_close(c);
    else if (len == 0)
        c->in_len = 0;
    conn_unref(c);
}

void conn_resume_input(conn *c)
{
    if (c->closing)
        return;
    if (c->in_len > 0)
        process(c, c->in, c->in_len);
    if (c->closing)
        return;
    if (!c->reading && !(c->proto == CONN_HTTP && c->h.busy)) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    }
    conn_arm_timer(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = st->data;
    srv *s = c->s;
    bool shared = buf->base == s->rbuf;
    if (nread < 0 || c->closing) {
        if (shared)
            s->rbuf_busy = false;
        if (!c->closing)
            conn_close(c);
        return;
    }
    if (nread == 0) {
        if (shared)
            s->rbuf_busy = false;
        return;
    }
    c->last_io_ms = srv_now_ms();
    if (c->draining) {
        if (shared)
            s->rbuf_busy = false;
        return;
    }
    if (shared) {
        process(c, s->rbuf, (size_t)nread);
        s->rbuf_busy = false;
    } else {
        c->in_len += (size_t)nread;
        process(c, c->in, c->in_len);
    }
    if (!c->closing && c->reading && c->proto == CONN_HTTP && c->h.busy) {
        /* an asynchronous reply is pending: keep pipelined input in the kernel */
        uv_read_stop(st);
        c->reading = false;
    }
}

/* ---- output ------------------------------------------------------------- */

static void on_idle(uv_idle_t *h)
{
    conn_flush_all(h->data);
}

/*
 * Output is written from the loop's check phase (conn_flush_all). Output
 * queued after it ran (by a later check or by a timer) must not wait for the
 * next I/O event: an active idle handle keeps the poll from blocking and
 * flushes at the start of the next turn.
 */
static void mark_dirty(conn *c)
{
    srv *s = c->s;
    if (c->dirty || c->closing)
        return;
    c->dirty = true;
    c->dirty_next = s->dirty;
    s->dirty = c;
    if (!s->idle_on) {
        if (!s->idle_init) {
            uv_idle_init(s->loop, &s->idle);
            s->idle.data = s;
            s->idle_init = true;
        }
        uv_idle_start(&s->idle, on_idle);
        s->idle_on = true;
    }
}

static bool q_push(conn *c, bcast_frame *f, size_t off, size_t len)
{
    if (!f && c->qn > 0 && !c->q[c->qn - 1].f && c->q[c->qn - 1].off + c->q[c->qn - 1].len == off) {
        c->q[c->qn - 1].len += len; /* contiguous own bytes: one buf */
        return true;
    }
    if (c->qn == c->qcap) {
        size_t nc = c->qcap ? c->qcap * 2 : 8;
        conn_out *nq = realloc(c->q, nc * sizeof *nq);
        if (!nq)
            return false;
        c->q = nq;
        c->qcap = nc;
    }
    c->q[c->qn++] = (conn_out){f, off, len};
    return true;
}

void conn_write(conn *c, const void *p, size_t n)
{
    if (c->closing || n == 0)
        return;
    codec_buf *b = &c->ob[c->ob_cur];
    size_t off = b->len;
    if (codec_buf_append(b, p, n) != 0 || !q_push(c, NULL, off, n)) {
        conn_close(c);
        return;
    }
    c->out_bytes += n;
    mark_dirty(c);
}

codec_buf *conn_begin(conn *c, size_t *mark)
{
    *mark = c->ob[c->ob_cur].len;
    return &c->ob[c->ob_cur];
}

void conn_commit(conn *c, size_t mark)
{
    codec_buf *b = &c->ob[c->ob_cur];
    if (c->closing || b->len <= mark) {
        b->len = mark;
        return;
    }
    size_t n = b->len - mark;
    if (!q_push(c, NULL, mark, n)) {
        conn_close(c);
        return;
    }
    c->out_bytes += n;
    mark_dirty(c);
}

void conn_write_frame(conn *c, bcast_frame *f)
{
    if (c->closing)
        return;
    f->refs++;
    if (!q_push(c, f, 0, f->len)) {
        bcast_frame_unref(f);
        conn_close(c);
        return;
    }
    c->out_bytes += f->len;
    mark_dirty(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    (void)status;
    if (!c->closing && status < 0)
        conn_close(c);
    conn_unref(c);
}

static void start_drain(conn *c)
{
    c->draining = true;
    c->close_at_ms = srv_now_ms();
    c->shut.data = c;
    conn_ref(c);
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_unref(c);
        conn_close(c);
        return;
    }
    /* read (and discard) until EOF so unread input does not turn into a RST */
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
    conn_arm_timer(c);
}

static void flush(conn *c);

static void on_write(uv_write_t *wr, int status)
{
    conn *c = wr->data;
    c->writing = false;
    for (size_t i = 0; i < c->flyn; i++) {
        if (c->fly[i].f)
            bcast_frame_unref(c->fly[i].f);
        c->out_bytes -= c->fly[i].len;
    }
    c->flyn = 0;
    codec_buf_reset(&c->ob[c->ob_cur ^ 1]);
    if (c->closing) {
        conn_unref(c);
        return;
    }
    if (status < 0) {
        conn_close(c);
    } else {
        c->last_io_ms = srv_now_ms();
        if (c->qn > 0)
            flush(c);
        else if (c->close_after_write && !c->draining)
            start_drain(c);
    }
    conn_unref(c);
}

static void flush(conn *c)
{
    if (c->writing || c->closing)
        return;
    if (c->qn == 0) {
        if (c->close_after_write && !c->draining)
            start_drain(c);
        return;
    }
    if (c->bufcap < c->qn) {
        uv_buf_t *nb = realloc(c->bufs, c->qn * sizeof *nb);
        if (!nb) {
            conn_close(c);
            return;
        }
        c->bufs = nb;
        c->bufcap = c->qn;
    }
    codec_buf *b = &c->ob[c->ob_cur];
    for (size_t i = 0; i < c->qn; i++) {
        conn_out *o = &c->q[i];
        char *base = o->f ? o->f->data : b->data + o->off;
        c->bufs[i] = uv_buf_init(base, (unsigned)o->len);
    }
    /* the queue becomes the in-flight list; new output goes to the other buffer */
    conn_out *tq = c->fly;
    size_t tcap = c->flycap;
    c->fly = c->q;
    c->flycap = c->qcap;
    c->flyn = c->qn;
    c->q = tq;
    c->qcap = tcap;
    c->qn = 0;
    c->ob_cur ^= 1;
    c->wr.data = c;
    conn_ref(c);
    c->writing = true;
    int rc = uv_write(&c->wr, (uv_stream_t *)&c->tcp, c->bufs, (unsigned)c->flyn, on_write);
    if (rc != 0) {
        c->writing = false;
        conn_unref(c);
        for (size_t i = 0; i < c->flyn; i++)
            if (c->fly[i].f)
                bcast_frame_unref(c->fly[i].f);
        c->flyn = 0;
        conn_close(c);
    }
}

void conn_flush_all(srv *s)
{
    if (s->idle_on) {
        uv_idle_stop(&s->idle);
        s->idle_on = false;
    }
    while (s->dirty) {
        conn *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        flush(c);
    }
}

void conn_drop_queued(conn *c)
{
    for (size_t i = 0; i < c->qn; i++) {
        if (c->q[i].f)
            bcast_frame_unref(c->q[i].f);
        c->out_bytes -= c->q[i].len;
    }
    c->qn = 0;
    codec_buf_reset(&c->ob[c->ob_cur]);
}

void conn_close_after_write(conn *c)
{
    if (c->closing || c->close_after_write)
        return;
    c->close_after_write = true;
    c->close_at_ms = srv_now_ms();
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    conn_arm_timer(c);
    if (c->qn == 0 && !c->writing)
        start_drain(c);
    else
        mark_dirty(c);
}

/* ---- accept --------------------------------------------------------------- */

static void peer_ip(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    strcpy(c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
    }
    memcpy(c->ip, c->peer, sizeof c->ip); /* per request: proxy_client_ip */
}

static void on_connection(uv_stream_t *server, int status)
{
    srv *s = server->data;
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->s = s;
    c->id = ++s->next_conn_id;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->refs = 2; /* the two handles */
    codec_buf_init(&c->ob[0]);
    codec_buf_init(&c->ob[1]);
    http_conn_init(c);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    s->m.conns_total++;
    uv_tcp_nodelay(&c->tcp, 1);
    peer_ip(c);
    c->accepted_ms = c->last_io_ms = srv_now_ms();
    if (s->stopping || s->nconns > s->o.max_conns) {
        s->m.conns_rejected++;
        http_respond_error(c, ANT_EOVERLOADED,
                           s->stopping ? "the server is shutting down"
                                       : "too many connections; try again shortly");
        conn_close_after_write(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    c->reading = true;
    conn_arm_timer(c);
}

int conn_listen(srv *s, char msg[256])
{
    struct sockaddr_storage addr;
    int rc;
    if (strchr(s->o.host, ':'))
        rc = uv_ip6_addr(s->o.host, s->o.port, (struct sockaddr_in6 *)&addr);
    else
        rc = uv_ip4_addr(s->o.host, s->o.port, (struct sockaddr_in *)&addr);
    if (rc != 0) {
        snprintf(msg, 256, "bad listen address '%s': %s", s->o.host, uv_strerror(rc));
        return ANT_EBADREQ;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
    if (rc != 0) {
        snprintf(msg, 256, "cannot listen on %s:%d: %s", s->o.host, s->o.port, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, NULL);
        return ANT_EUNAVAILABLE;
    }
    s->listening = true;
    return 0;
}

void conn_stop_listening(srv *s)
{
    if (s->listening) {
        s->listening = false;
        uv_close((uv_handle_t *)&s->listener, NULL);
    }
}

void conn_close_all(srv *s, bool ws_going_away)
{
    conn *c = s->conns;
    while (c) {
        conn *nx = c->next;
        if (c->proto == CONN_WS && ws_going_away && !c->w.close_sent)
            ws_close(c, 1001, "server shutting down");
        else if (c->proto == CONN_HTTP && !c->h.busy && !c->close_after_write)
            conn_close(c);
        else if (c->proto == CONN_SSE && !c->close_after_write)
            conn_close_after_write(c);
        c = nx;
    }
}
