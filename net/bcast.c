/*
 * bcast.c — public event feeds: encode once, share the bytes, keep history.
 *
 * Each event is encoded once per protocol (public JSON, public msgpack) into
 * a complete, unmasked WebSocket frame with a reference count; every
 * subscriber's write queue points at the same frame. A hall keeps the last
 * opts.history published events (both frames) so a board that reconnects
 * with `since` gets exactly the events it missed. A subscriber whose unsent
 * output passes opts.ws_max_out is dropped with 1008 and counted. Every
 * event is public (eng_ev_public), so history is indexable by seq; a
 * frameless item would only appear for a type that is not. Nothing here
 * sees citizen data: only public encodings are built.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

bcast_frame *bcast_frame_new(int opcode, const char *payload, size_t len)
{
    size_t hl = len < 126 ? 2 : len <= 0xffff ? 4 : 10;
    if (len > UINT32_MAX - 16)
        return NULL;
    bcast_frame *f = malloc(sizeof *f + hl + len);
    if (!f)
        return NULL;
    f->refs = 1;
    f->len = (uint32_t)(hl + len);
    uint8_t *h = (uint8_t *)f->data;
    h[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(f->data + hl, payload, len);
    return f;
}

void bcast_frame_unref(bcast_frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

void bcast_item_release(bcast_item *it)
{
    bcast_frame_unref(it->fj);
    bcast_frame_unref(it->fm);
    bcast_frame_unref(it->fs);
    it->fj = it->fm = it->fs = NULL;
}

int bcast_encode(srv *s, const eng_event *ev, bcast_item *it)
{
    memset(it, 0, sizeof *it);
    it->seq = ev->seq;
    it->type = ev->type;
    codec_buf *b = &s->scratch;
    codec_buf_reset(b);
    int rc = codec_event_json(ev, CODEC_PUBLIC, b);
    if (rc != 0)
        return rc;
    it->fj = bcast_frame_new(1, b->data, b->len);
    codec_buf_reset(b);
    rc = codec_event_msgpack(ev, CODEC_PUBLIC, b);
    if (rc == 0)
        it->fm = bcast_frame_new(2, b->data, b->len);
    if (rc == 0 && (!it->fj || !it->fm))
        rc = ANT_ENOMEM;
    if (rc != 0)
        bcast_item_release(it);
    return rc;
}

int bcast_hall_init(srv *s, srv_hall *h)
{
    h->ring_cap = s->o.history ? s->o.history : 1;
    h->ring = calloc(h->ring_cap, sizeof *h->ring);
    h->ring_start = h->ring_n = 0;
    h->bcast_seq = eng_hall_seq(h->h);
    return h->ring ? 0 : ANT_ENOMEM;
}

void bcast_hall_free(srv_hall *h)
{
    if (h->ring) {
        for (uint32_t i = 0; i < h->ring_n; i++)
            bcast_item_release(&h->ring[(h->ring_start + i) % h->ring_cap]);
        free(h->ring);
        h->ring = NULL;
    }
    h->ring_n = 0;
}

static void retain(srv_hall *h, const bcast_item *it)
{
    bcast_item *slot;
    if (h->ring_n == h->ring_cap) {
        slot = &h->ring[h->ring_start];
        bcast_item_release(slot);
        h->ring_start = (h->ring_start + 1) % h->ring_cap;
        h->ring_n--;
    }
    slot = &h->ring[(h->ring_start + h->ring_n) % h->ring_cap];
    *slot = *it;
    if (slot->fj)
        slot->fj->refs++;
    if (slot->fm)
        slot->fm->refs++;
    if (slot->fs)
        slot->fs->refs++;
    h->ring_n++;
}

static void ring_clear(srv_hall *h)
{
    for (uint32_t i = 0; i < h->ring_n; i++)
        bcast_item_release(&h->ring[(h->ring_start + i) % h->ring_cap]);
    h->ring_start = h->ring_n = 0;
}

int bcast_backfill(srv *s, srv_hall *h, const eng_event *ev)
{
    if (ev->seq > h->bcast_seq)
        return 0; /* not published yet: cannot happen after recovery */
    if (h->ring_n) {
        const bcast_item *last = &h->ring[(h->ring_start + h->ring_n - 1) % h->ring_cap];
        if (ev->seq != last->seq + 1)
            ring_clear(h); /* keep the history contiguous: only what follows a gap */
    }
    bcast_item it;
    int rc = bcast_encode(s, ev, &it);
    if (rc)
        return rc;
    retain(h, &it);
    bcast_item_release(&it);
    return 0;
}

void bcast_backfill_done(srv_hall *h)
{
    if (!h->ring_n)
        return;
    const bcast_item *last = &h->ring[(h->ring_start + h->ring_n - 1) % h->ring_cap];
    if (last->seq != h->bcast_seq)
        ring_clear(h); /* a history that does not reach the present would skip events */
}

/* SSE bytes are built lazily, once per event, only while the hall has an SSE subscriber. */
static void ensure_sse(srv *s, srv_hall *h, bcast_item *it)
{
    if (h->nsse && !it->fs && it->fj)
        it->fs = sse_frame_of(s, it);
}

/* Send one frame; drop the subscriber (1008) when its output backs up. */
static void deliver(srv *s, conn *c, const bcast_item *it)
{
    (void)s;
    if (!it->fj || !it->fm || c->closing || c->close_after_write || c->w.close_sent)
        return;
    if (c->proto == CONN_SSE) {
        if (!it->fs)
            return; /* ENOMEM while building it: the stream's next resume fills the gap */
        conn_write_frame(c, it->fs);
        sse_check_backlog(c);
        return;
    }
    conn_write_frame(c, c->w.fmt == JO_MSGPACK ? it->fm : it->fj);
    ws_check_backlog(c);
}

void bcast_publish(srv *s, srv_hall *h, bcast_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bcast_item *it = &items[i];
        if (it->seq <= h->bcast_seq)
            continue; /* already published (cannot happen in order; be safe) */
        ensure_sse(s, h, it);
        retain(h, it);
        h->bcast_seq = it->seq;
        h->events_total++;
        if (!it->fj)
            continue;
        bcast_sub *nx;
        for (bcast_sub *sb = h->subs; sb; sb = nx) {
            nx = sb->hnext;
            if (it->seq <= sb->from_seq)
                continue;
            deliver(s, sb->c, it);
        }
    }
}

static bcast_sub *find_sub(conn *c, srv_hall *h)
{
    for (bcast_sub *sb = c->subs; sb; sb = sb->cnext)
        if (sb->hall == h)
            return sb;
    return NULL;
}

static void unlink_sub(srv *s, bcast_sub *sb)
{
    srv_hall *h = sb->hall;
    if (sb->hprev)
        sb->hprev->hnext = sb->hnext;
    else
        h->subs = sb->hnext;
    if (sb->hnext)
        sb->hnext->hprev = sb->hprev;
    h->nsubs--;
    s->nsubs--;
    if (sb->c->proto == CONN_SSE && h->nsse > 0)
        h->nsse--;
}

int bcast_attach(srv *s, conn *c, srv_hall *h, bool has_since, uint64_t since, bool *board,
                 bool *replay)
{
    uint64_t cur = eng_hall_seq(h->h);
    bcast_sub *sb = find_sub(c, h);
    if (!sb) {
        sb = calloc(1, sizeof *sb);
        if (!sb)
            return ANT_ENOMEM;
        sb->c = c;
        sb->hall = h;
        sb->hnext = h->subs;
        if (h->subs)
            h->subs->hprev = sb;
        h->subs = sb;
        sb->cnext = c->subs;
        c->subs = sb;
        h->nsubs++;
        s->nsubs++;
    }
    *replay = false;
    *board = false;
    if (has_since && since <= cur) {
        uint64_t oldest = h->ring_n ? h->ring[h->ring_start].seq : h->bcast_seq + 1;
        if (since >= h->bcast_seq || since + 1 >= oldest) {
            /* everything after `since` is retained or still to be published */
            sb->from_seq = since > h->bcast_seq ? since : h->bcast_seq;
            *replay = since < h->bcast_seq;
            return 0;
        }
    }
    sb->from_seq = cur;
    *board = true;
    return 0;
}

int bcast_subscribe(srv *s, conn *c, srv_hall *h, bool has_since, uint64_t since, jo *w,
                    bool *replay)
{
    bool board = false;
    int rc = bcast_attach(s, c, h, has_since, since, &board, replay);
    if (rc != 0)
        return rc;
    jo_obj(w);
    jo_kuint(w, "seq", eng_hall_seq(h->h));
    if (board) {
        jo_key(w, "board");
        route_write_board(s, h, w);
        if (has_since)
            jo_kbool(w, "resync", true);
    }
    jo_obj_end(w);
    return 0;
}

void bcast_replay(srv *s, conn *c, srv_hall *h, uint64_t since)
{
    if (h->ring_n == 0)
        return;
    uint64_t oldest = h->ring[h->ring_start].seq;
    uint64_t first = since + 1 < oldest ? oldest : since + 1;
    for (uint64_t q = first; q <= h->bcast_seq && !c->closing; q++) {
        if (q - oldest >= h->ring_n)
            break;
        uint32_t idx = (uint32_t)((h->ring_start + (q - oldest)) % h->ring_cap);
        ensure_sse(s, h, &h->ring[idx]); /* kept in the ring for the next resume */
        deliver(s, c, &h->ring[idx]);
    }
}

int bcast_unsubscribe(srv *s, conn *c, srv_hall *h)
{
    for (bcast_sub **pp = &c->subs; *pp; pp = &(*pp)->cnext) {
        bcast_sub *sb = *pp;
        if (sb->hall == h) {
            *pp = sb->cnext;
            unlink_sub(s, sb);
            free(sb);
            return 0;
        }
    }
    return ANT_ENOTFOUND;
}

void bcast_unsubscribe_all(srv *s, conn *c)
{
    while (c->subs) {
        bcast_sub *sb = c->subs;
        c->subs = sb->cnext;
        unlink_sub(s, sb);
        free(sb);
    }
}
