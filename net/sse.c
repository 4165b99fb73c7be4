/*
 * sse.c — Server-Sent Events, SPEC §13: `GET /v1/halls/{hall}/events`.
 *
 * The same public feed as a WebSocket `subscribe`, for networks whose proxies
 * break WebSocket. A stream is an HTTP response without a length that never
 * ends: each event is `id: SEQ`, `event: TYPE`, `data: JSON` and a blank
 * line. The bytes of an event are built once, from its public JSON frame,
 * and only when the hall has an SSE subscriber (bcast.c asks sse_frame_of),
 * so halls nobody follows over SSE pay nothing. Resume (`Last-Event-ID` or
 * `?since=`) and the slow-consumer limit are those of WebSocket. Nothing
 * here sees citizen data: only the public JSON encoding is reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "srv.h"

/* The JSON payload inside a WebSocket frame built by bcast_frame_new. */
static const char *frame_payload(const bcast_frame *f, size_t *len)
{
    const uint8_t *h = (const uint8_t *)f->data;
    size_t hl = (h[1] & 0x7f) < 126 ? 2 : (h[1] & 0x7f) == 126 ? 4 : 10;
    *len = f->len - hl;
    return f->data + hl;
}

/* A frame of raw bytes (no WebSocket header), refs 1; NULL on ENOMEM. */
static bcast_frame *raw_frame(const char *p, size_t n)
{
    if (n > UINT32_MAX - 16)
        return NULL;
    bcast_frame *f = malloc(sizeof *f + n);
    if (!f)
        return NULL;
    f->refs = 1;
    f->len = (uint32_t)n;
    memcpy(f->data, p, n);
    return f;
}

bcast_frame *sse_frame_of(srv *s, const bcast_item *it)
{
    if (!it->fj)
        return NULL;
    size_t jl;
    const char *json = frame_payload(it->fj, &jl);
    /* compact JSON holds no raw newline: one data line is enough */
    codec_buf *b = &s->scratch2;
    codec_buf_reset(b);
    char head[96];
    int hn = snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)it->seq,
                      eng_ev_name(it->type));
    if (codec_buf_append(b, head, (size_t)hn) != 0 || codec_buf_append(b, json, jl) != 0 ||
        codec_buf_append(b, "\n\n", 2) != 0)
        return NULL;
    return raw_frame(b->data, b->len);
}

void sse_check_backlog(conn *c)
{
    srv *s = c->s;
    if (c->out_bytes <= s->o.ws_max_out || c->closing)
        return;
    s->m.sse_dropped_slow++;
    s->m.ws_dropped_slow++; /* antrean_slow_subscribers_dropped_total counts every transport */
    log_line("warn", "slow SSE subscriber dropped", "conn=%llu unsent=%zu",
             (unsigned long long)c->id, c->out_bytes);
    conn_drop_queued(c);
    conn_close(c);
}

void sse_on_timer(conn *c, int64_t now)
{
    if (now - c->sse_last_hb_ms < (int64_t)c->s->o.sse_heartbeat_ms)
        return;
    /* a comment line: EventSource ignores it, proxies see traffic */
    static const char hb[] = ": keep-alive\n\n";
    conn_write(c, hb, sizeof hb - 1);
    c->sse_last_hb_ms = now;
    sse_check_backlog(c);
}

/* Last-Event-ID, else ?since=; -1 bad, 0 absent, 1 found. */
static int resume_point(route_req *r, uint64_t *since)
{
    char v[32];
    size_t n = 0;
    const char *p = http_header(r->c, "Last-Event-ID", &n);
    if (p) {
        if (n == 0 || n >= sizeof v)
            return n == 0 ? 0 : -1; /* an empty id means: start afresh */
        memcpy(v, p, n);
        v[n] = '\0';
    } else if (!route_query(r, "since", v, sizeof v)) {
        return 0;
    }
    if (!v[0] || strlen(v) > 19)
        return -1;
    uint64_t x = 0;
    for (const char *q = v; *q; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        x = x * 10 + (uint64_t)(*q - '0');
    }
    *since = x;
    return 1;
}

/* `event: board`: the board of §4, with "resync": true when a resume failed. */
static void write_board(srv *s, conn *c, srv_hall *h, bool resync)
{
    codec_buf *b = &s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, JO_JSON);
    route_write_board(s, h, &w);
    if (jo_end(&w) != 0 || b->len < 2) {
        conn_close(c);
        return;
    }
    char head[64];
    int hn = snprintf(head, sizeof head,
                      "id: %llu\nevent: board\ndata: ", (unsigned long long)eng_hall_seq(h->h));
    conn_write(c, head, (size_t)hn);
    if (resync) {
        conn_write(c, b->data, b->len - 1); /* the board object without its '}' */
        conn_write(c, ",\"resync\":true}", 15);
    } else {
        conn_write(c, b->data, b->len);
    }
    conn_write(c, "\n\n", 2);
}

void route_events(route_req *r, srv_hall *h)
{
    conn *c = r->c;
    srv *s = c->s;
    uint64_t since = 0;
    int has = resume_point(r, &since);
    if (has < 0) {
        route_error(r, ANT_EBADREQ, "Last-Event-ID or since must be a decimal event seq");
        return;
    }
    static const char head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/event-stream; charset=utf-8\r\n"
                               "Cache-Control: no-cache\r\n"
                               "X-Accel-Buffering: no\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "retry: 2000\n\n";
    bool board = false, replay = false;
    int rc = bcast_attach(s, c, h, has > 0, since, &board, &replay);
    if (rc != 0) {
        route_error(r, rc, "cannot subscribe to this hall's events");
        return;
    }
    conn_write(c, head, sizeof head - 1);
    metrics_request(s, RT_EVENTS, 200);
    if (s->o.access_log)
        log_access(s, c, HTTP_GET, RT_EVENTS, 200, srv_mono_us() - c->h.t0_us);
    c->proto = CONN_SSE;
    c->h.busy = false;
    c->h.in_message = false;
    c->h.keep_alive = false;
    s->nsse++;
    s->m.sse_total++;
    h->nsse++;
    c->sse_last_hb_ms = srv_now_ms();
    http_conn_free(c); /* the request is answered for good */
    if (board)
        write_board(s, c, h, has > 0);
    if (replay && !c->closing)
        bcast_replay(s, c, h, since);
    if (!c->closing)
        conn_arm_timer(c);
}
