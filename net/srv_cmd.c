/*
 * srv_cmd.c — the command path: apply, persist, then (only then) answer.
 *
 * eng_apply validates and applies a command and yields its events; each
 * stored event is appended to the log (full msgpack) and each public one is
 * encoded once per protocol right away. The reply is built at apply time but
 * held, together with the encoded events, until stor_when_durable reports
 * the batch committed: only then does the reply leave and the events reach
 * subscribers. Storage runs completions in append order, so per-hall
 * broadcast order is seq order. If a commit fails, the in-memory state is
 * ahead of the disk: the server refuses every later write (`unavailable`)
 * and never acknowledges what was not persisted. Every event takes a seq
 * and is stored, service.wait included (docs/engine.md), so the log and the
 * feeds are gapless.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "srv.h"

typedef struct pending {
    srv *s;
    srv_hall *h;
    conn *c; /* ref'd; NULL: no reply */
    int kind, route, status, rc;
    char msg[200];
    srv_rid rid;
    codec_buf reply; /* HTTP: body; WS: the whole reply message */
    bcast_item *items;
    size_t n;
    uint64_t t0_us;
} pending;

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t srv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int srv_random(uint8_t *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : ANT_EINTERNAL;
}

static void pending_free(pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        bcast_item_release(&p->items[i]);
    free(p->items);
    codec_buf_free(&p->reply);
    if (p->c)
        conn_unref(p->c);
    free(p);
}

static void send_reply(pending *p)
{
    conn *c = p->c;
    if (!c || c->closing)
        return;
    if (p->kind == 0) {
        if (p->rc == 0) {
            http_respond(c, p->status, "application/json", NULL, p->reply.data, p->reply.len);
        } else {
            http_respond_error(c, p->rc, p->msg);
        }
        http_done(c);
    } else {
        if (p->rc == 0)
            ws_send_msg(c, &p->reply);
        else
            ws_reply_error(c, &p->rid, p->rc, p->msg);
    }
}

static void on_durable(void *arg, int rc)
{
    pending *p = arg;
    srv *s = p->s;
    s->pending_cmds--;
    if (rc != 0) {
        if (!s->broken)
            log_line("error", "storage failed; refusing writes from now on", "rc=%s",
                     ant_err_code(rc));
        s->broken = true;
        if (p->rc == 0 || p->n > 0) {
            p->rc = ANT_EUNAVAILABLE;
            snprintf(p->msg, sizeof p->msg, "storage unavailable; the command was not saved");
        }
        send_reply(p);
        pending_free(p);
        return;
    }
    send_reply(p);
    if (p->n > 0 && p->h)
        bcast_publish(s, p->h, p->items, p->n);
    if (p->c)
        metrics_cmd_latency(s, srv_mono_us() - p->t0_us);
    pending_free(p);
}

/* Save the statistics of the day a rollover just closed (JSON blob). */
static void save_closed_day(srv *s, srv_hall *h)
{
    eng_day_stats st;
    if (eng_stats_last_closed(h->h, &st) != 0)
        return;
    codec_buf b;
    codec_buf_init(&b);
    jo w;
    jo_init(&w, &b, JO_JSON);
    route_write_stats(h, &st, &w);
    if (jo_end(&w) == 0 && st.day > 0)
        stor_put_stats(s->st, h->id, st.day, b.data, b.len);
    codec_buf_free(&b);
    /* the day's per-ticket record for reports (SPEC §14), in the same commit */
    const void *rec;
    size_t rl;
    int32_t rday;
    if (eng_dayrec_last_closed(h->h, &rec, &rl) == 0 && eng_dayrec_day(rec, rl, &rday) == 0)
        stor_put_dayrec(s->st, h->id, rday, rec, rl);
    eng_day_stats_free(&st);
}

/*
 * Persist and encode the events of evs for hall h into p. Returns 0 or
 * ANT_EUNAVAILABLE / ANT_ENOMEM; on failure the server is broken (the state
 * has moved past what storage holds).
 */
static int stage_events(srv *s, srv_hall *h, eng_evbuf *evs, pending *p)
{
    if (evs->n == 0)
        return 0;
    p->items = calloc(evs->n, sizeof *p->items);
    if (!p->items)
        return ANT_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < evs->n && rc == 0; i++) {
        const eng_event *ev = &evs->ev[i];
        /* every event is stored, service.wait too: seq stays gapless on disk and on the wire */
        codec_buf *b = &s->scratch;
        codec_buf_reset(b);
        rc = codec_event_msgpack(ev, CODEC_FULL, b);
        if (rc == 0)
            rc = stor_append(s->st, h->id, ev->seq, ev->at, b->data, b->len);
        if (rc == 0 && ev->type == ENG_EV_DAY_ROLLOVER)
            save_closed_day(s, h);
        if (rc == 0 && eng_ev_public(ev->type)) {
            rc = bcast_encode(s, ev, &p->items[p->n]);
        } else if (rc == 0) {
            /* not for subscribers (none today): a frameless placeholder keeps history gapless */
            p->items[p->n] = (bcast_item){.seq = ev->seq, .type = ev->type};
        }
        if (rc == 0)
            p->n++;
    }
    if (rc != 0) {
        s->broken = true;
        log_line("error", "could not stage events; refusing writes from now on", "hall=%s rc=%s",
                 h->id, ant_err_code(rc));
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

int srv_when_durable(srv *s, stor_done_fn fn, void *arg)
{
    return stor_when_durable(s->st, fn, arg);
}

static int writable(srv *s, char msg[200])
{
    char m[256];
    if (s->broken || stor_health(s->st, m) != 0) {
        s->broken = true;
        snprintf(msg, 200, "storage unavailable; no changes are accepted");
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

void srv_command(srv *s, srv_hall *h, eng_cmd *cmd, const srv_origin *o, srv_result_fn fn,
                 void *arg)
{
    pending *p = calloc(1, sizeof *p);
    if (!p) {
        if (o->kind == 0) {
            http_respond_error(o->c, ANT_ENOMEM, "out of memory");
            http_done(o->c);
        } else {
            ws_reply_error(o->c, o->rid, ANT_ENOMEM, "out of memory");
        }
        return;
    }
    p->s = s;
    p->h = h;
    p->c = o->c;
    if (p->c)
        conn_ref(p->c);
    p->kind = o->kind;
    p->route = o->route;
    p->t0_us = o->kind == 0 && o->c ? o->c->h.t0_us : srv_mono_us();
    if (o->rid)
        p->rid = *o->rid;
    codec_buf_init(&p->reply);

    eng_result res;
    memset(&res, 0, sizeof res);
    p->rc = writable(s, p->msg);
    if (p->rc == 0) {
        eng_evbuf_reset(&s->evs);
        int64_t now = srv_now_ms();
        p->rc = eng_apply(h->h, cmd, now, &s->evs, &res);
        if (p->rc != 0)
            snprintf(p->msg, sizeof p->msg, "%s", res.msg[0] ? res.msg : ant_err_code(p->rc));
        int src = stage_events(s, h, &s->evs, p);
        if (src != 0) {
            p->rc = src;
            snprintf(p->msg, sizeof p->msg, "storage unavailable; the command was not saved");
        }
    }
    if (p->rc == 0) {
        jo w;
        jo_init(&w, &p->reply, o->kind == 0 ? JO_JSON : o->fmt);
        if (o->kind == 1)
            ws_begin_result(&w, &p->rid);
        p->status = fn(s, h, cmd, &res, &w, arg);
        if (o->kind == 1)
            jo_obj_end(&w);
        if (jo_end(&w) != 0) {
            p->rc = ANT_EINTERNAL;
            snprintf(p->msg, sizeof p->msg, "could not encode the reply");
        }
    }
    s->pending_cmds++;
    if (stor_when_durable(s->st, on_durable, p) != 0)
        on_durable(p, ANT_EUNAVAILABLE);
}

void srv_emit(srv *s, srv_hall *h, eng_evbuf *evs)
{
    if (evs->n == 0)
        return;
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->s = s;
    p->h = h;
    codec_buf_init(&p->reply);
    if (s->broken || stage_events(s, h, evs, p) != 0) {
        pending_free(p);
        return;
    }
    s->pending_cmds++;
    if (stor_when_durable(s->st, on_durable, p) != 0)
        on_durable(p, ANT_EUNAVAILABLE);
}

void srv_tick_all(srv *s)
{
    int64_t now = srv_now_ms();
    if (!s->broken && now - s->last_retention_ms >= 24 * 3600 * 1000) {
        s->last_retention_ms = now; /* keep_days / keep_pii_days, in the writer thread */
        stor_retention_run(s->st, now);
    }
    for (size_t i = 0; i < s->nhalls; i++) {
        srv_hall *h = s->halls[i];
        eng_evbuf_reset(&s->evs);
        if (eng_tick(h->h, now, &s->evs) == 0 && s->evs.n > 0)
            srv_emit(s, h, &s->evs);
        h->last_tick = now;
        if (!s->broken && stor_snapshot_due(s->st, h->id, now)) {
            char *buf = NULL;
            size_t len = 0;
            if (eng_snapshot_encode(h->h, &buf, &len) == 0)
                stor_put_snapshot(s->st, h->id, buf, len);
            free(buf);
        }
    }
}
