/*
 * batch.c — the loop side of storage: every write of one loop turn goes into
 * one batch (bytes copied, owned by storage), handed to the writer at the end
 * of the turn (uv_check after I/O callbacks, uv_prepare for anything queued
 * later); completions wait in a FIFO until the writer posts their batch as
 * durable through uv_async. Also keeps per-hall bookkeeping (seq order,
 * snapshot due). Runs on the loop thread only; never blocks except when the
 * hand-off queue is full (the disk cannot keep up).
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "stor_int.h"

#define STOR_QUEUE_MAX_BYTES (64u << 20) /* hand-off queue bound: beyond it the loop waits */

/* ---- halls --------------------------------------------------------------- */

static uint32_t stor_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

stor_hall *stor_hall_find(stor *s, const char *id, size_t len)
{
    if (!s->hidx_cap)
        return NULL;
    size_t mask = s->hidx_cap - 1;
    for (size_t i = stor_hash(id, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = s->hidx[i];
        if (!v)
            return NULL;
        stor_hall *h = &s->halls[v - 1];
        if (strlen(h->id) == len && memcmp(h->id, id, len) == 0)
            return h;
    }
}

static int stor_hidx_rebuild(stor *s, size_t cap)
{
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return ANT_ENOMEM;
    for (size_t n = 0; n < s->nhalls; n++) {
        size_t i = stor_hash(s->halls[n].id, strlen(s->halls[n].id)) & (cap - 1);
        while (idx[i])
            i = (i + 1) & (cap - 1);
        idx[i] = (uint32_t)n + 1;
    }
    free(s->hidx);
    s->hidx = idx;
    s->hidx_cap = cap;
    return 0;
}

stor_hall *stor_hall_add(stor *s, const char *id)
{
    size_t len = strlen(id);
    stor_hall *h = stor_hall_find(s, id, len);
    if (h)
        return h;
    if (s->nhalls == s->halls_cap) {
        size_t ncap = s->halls_cap ? s->halls_cap * 2 : 8;
        stor_hall *nh = realloc(s->halls, ncap * sizeof *nh);
        if (!nh)
            return NULL;
        s->halls = nh;
        s->halls_cap = ncap;
    }
    h = &s->halls[s->nhalls++];
    memset(h, 0, sizeof *h);
    memcpy(h->id, id, len);
    if (s->nhalls * 2 > s->hidx_cap) {
        if (stor_hidx_rebuild(s, s->hidx_cap ? s->hidx_cap * 2 : 16) != 0) {
            s->nhalls--;
            return NULL;
        }
        return h;
    }
    size_t i = stor_hash(id, len) & (s->hidx_cap - 1);
    while (s->hidx[i])
        i = (i + 1) & (s->hidx_cap - 1);
    s->hidx[i] = (uint32_t)s->nhalls;
    return h;
}

static void stor_async_ref(stor *s, bool want)
{
    if (want != s->async_ref) {
        if (want)
            uv_ref((uv_handle_t *)&s->h->async);
        else
            uv_unref((uv_handle_t *)&s->h->async);
        s->async_ref = want;
    }
}

/* ---- the current batch ---------------------------------------------------- */

static stor_batch *stor_cur(stor *s)
{
    if (s->cur)
        return s->cur;
    stor_batch *b = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->spare) {
        b = s->spare;
        s->spare = b->next;
        s->nspare--;
    }
    pthread_mutex_unlock(&s->mu);
    if (!b && !(b = calloc(1, sizeof *b)))
        return NULL;
    b->next = NULL;
    b->id = s->next_batch++;
    b->n = b->len = 0;
    b->nevents = 0;
    b->retention = false;
    s->cur = b;
    if (s->h)
        stor_async_ref(s, true); /* the loop must live to the end of this turn */
    return b;
}

/* Room for one operation of klen + vlen bytes; returns where to write them, NULL on ENOMEM. */
static char *stor_reserve(stor *s, int db, int op, size_t klen, size_t vlen)
{
    stor_batch *b = stor_cur(s);
    if (!b)
        return NULL;
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        stor_item *ni = realloc(b->items, ncap * sizeof *ni);
        if (!ni)
            return NULL;
        b->items = ni;
        b->cap = ncap;
    }
    size_t need = b->len + klen + vlen;
    if (need > b->bcap) {
        size_t ncap = b->bcap ? b->bcap : 16384;
        while (ncap < need)
            ncap *= 2;
        char *nb = realloc(b->buf, ncap);
        if (!nb)
            return NULL;
        b->buf = nb;
        b->bcap = ncap;
    }
    stor_item *it = &b->items[b->n++];
    it->db = (uint8_t)db;
    it->op = (uint8_t)op;
    it->klen = (uint32_t)klen;
    it->vlen = (uint32_t)vlen;
    it->off = b->len;
    b->len = need;
    return b->buf + it->off;
}

static bool stor_down(stor *s)
{
    return s->closing || atomic_load_explicit(&s->failed, memory_order_acquire);
}

int stor_put_hall(stor *s, const char *hall, const char *config_json, size_t len)
{
    return stor_put_hall_at(s, hall, stor_wall_ms(), config_json, len);
}

int stor_put_hall_at(stor *s, const char *hall, int64_t created, const char *config_json,
                     size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t hl = strlen(hall);
    if (!stor_id_ok(hall, hl) || len == 0 || len > STOR_REC_MAX)
        return ANT_EBADREQ;
    /* a config that could not be parsed back would make the hall unrecoverable */
    eng_config *cfg = NULL;
    if (eng_config_parse(config_json, len, &cfg, NULL) != 0)
        return ANT_EBADREQ;
    bool same = strcmp(cfg->id, hall) == 0;
    eng_config_free(cfg);
    if (!same)
        return ANT_EBADREQ;
    stor_hall *h = stor_hall_find(s, hall, hl);
    if (h && (h->has_snap || !h->seq_known || h->last_seq > 0))
        return ANT_ESTATE; /* config changes of a live hall travel as hall.config events */
    if (!h && !(h = stor_hall_add(s, hall)))
        return ANT_ENOMEM;
    h->seq_known = true;
    char *p = stor_reserve(s, STOR_DB_META, STOR_OP_PUT, 5 + hl, len);
    if (!p)
        return ANT_ENOMEM;
    memcpy(p, "hall/", 5);
    memcpy(p + 5, hall, hl);
    memcpy(p + 5 + hl, config_json, len);
    unsigned char *c = (unsigned char *)stor_reserve(s, STOR_DB_META, STOR_OP_PUT, 8 + hl, 8);
    if (!c)
        return ANT_ENOMEM;
    memcpy(c, "created/", 8);
    memcpy(c + 8, hall, hl);
    stor_be64_put(c + 8 + hl, (uint64_t)created);
    return 0;
}

int stor_append(stor *s, const char *hall, uint64_t seq, int64_t at, const void *rec, size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t hl = strlen(hall);
    stor_hall *h = stor_hall_find(s, hall, hl);
    if (!h || len == 0 || len > STOR_REC_MAX)
        return ANT_EINTERNAL; /* unknown hall: it must be stored (stor_put_hall) first */
    if (h->seq_known && seq != h->last_seq + 1)
        return ANT_EINTERNAL; /* the log of a hall is gapless */
    unsigned char *p = (unsigned char *)stor_reserve(s, STOR_DB_LOG, STOR_OP_APPEND, 8,
                                                     STOR_LOG_HDR_FIXED + hl + len);
    if (!p)
        return ANT_ENOMEM;
    stor_be64_put(p, s->next_pos++);
    p += 8;
    p[0] = STOR_LOG_MAGIC;
    p[1] = (unsigned char)hl;
    memcpy(p + 2, hall, hl);
    stor_be64_put(p + 2 + hl, seq);
    stor_be64_put(p + 10 + hl, (uint64_t)at);
    memcpy(p + STOR_LOG_HDR_FIXED + hl, rec, len);
    s->cur->nevents++;
    h->last_seq = seq;
    h->seq_known = true;
    h->since_snap++;
    return 0;
}

int stor_put_snapshot(stor *s, const char *hall, const void *snap, size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t hl = strlen(hall);
    stor_hall *h = stor_hall_find(s, hall, hl);
    if (!h || len == 0 || len > STOR_REC_MAX)
        return ANT_EINTERNAL;
    unsigned char *p =
        (unsigned char *)stor_reserve(s, STOR_DB_SNAP, STOR_OP_PUT, hl, STOR_SNAP_HDR + len);
    if (!p)
        return ANT_ENOMEM;
    int64_t now = stor_wall_ms();
    memcpy(p, hall, hl);
    p += hl;
    p[0] = STOR_SNAP_MAGIC;
    stor_be64_put(p + 1, s->next_pos); /* covers every log key below this one */
    stor_be64_put(p + 9, h->seq_known ? h->last_seq : UINT64_MAX);
    stor_be64_put(p + 17, (uint64_t)now);
    memcpy(p + STOR_SNAP_HDR, snap, len);
    h->has_snap = true;
    h->snap_at = now;
    h->since_snap = 0;
    return 0;
}

bool stor_snapshot_due(stor *s, const char *hall, int64_t now)
{
    stor_hall *h = stor_hall_find(s, hall, strlen(hall));
    if (!h || h->since_snap == 0)
        return false;
    if (s->o.snap_every_events && h->since_snap >= s->o.snap_every_events)
        return true;
    return s->o.snap_every_s && now - h->snap_at >= (int64_t)s->o.snap_every_s * 1000;
}

int stor_put_stats(stor *s, const char *hall, int32_t day, const void *blob, size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t hl = strlen(hall);
    if (!stor_id_ok(hall, hl) || len > STOR_REC_MAX)
        return ANT_EBADREQ;
    char key[STOR_STATS_KEY_MAX];
    size_t kl = stor_stats_key(key, hall, hl, day);
    char *p = stor_reserve(s, STOR_DB_STATS, STOR_OP_PUT, kl, len);
    if (!p)
        return ANT_ENOMEM;
    memcpy(p, key, kl);
    if (len)
        memcpy(p + kl, blob, len);
    return 0;
}

int stor_put_dayrec(stor *s, const char *hall, int32_t day, const void *rec, size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t hl = strlen(hall);
    if (!stor_id_ok(hall, hl) || len > STOR_REC_MAX)
        return ANT_EBADREQ;
    char key[STOR_STATS_KEY_MAX];
    size_t kl = stor_dayrec_key(key, hall, hl, day);
    char *p = stor_reserve(s, STOR_DB_STATS, STOR_OP_PUT, kl, len);
    if (!p)
        return ANT_ENOMEM;
    memcpy(p, key, kl);
    if (len)
        memcpy(p + kl, rec, len);
    return 0;
}

#define STOR_TOKEN_ID_MAX 200

int stor_put_token(stor *s, const char *id, const void *rec, size_t len)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t il = strlen(id);
    if (il == 0 || il > STOR_TOKEN_ID_MAX || len > STOR_REC_MAX)
        return ANT_EBADREQ;
    char *p = stor_reserve(s, STOR_DB_META, STOR_OP_PUT, 6 + il, len);
    if (!p)
        return ANT_ENOMEM;
    memcpy(p, "token/", 6);
    memcpy(p + 6, id, il);
    if (len)
        memcpy(p + 6 + il, rec, len);
    return 0;
}

int stor_del_token(stor *s, const char *id)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    size_t il = strlen(id);
    if (il == 0 || il > STOR_TOKEN_ID_MAX)
        return ANT_EBADREQ;
    char *p = stor_reserve(s, STOR_DB_META, STOR_OP_DEL, 6 + il, 0);
    if (!p)
        return ANT_ENOMEM;
    memcpy(p, "token/", 6);
    memcpy(p + 6, id, il);
    return 0;
}

int stor_retention_run(stor *s, int64_t now)
{
    if (stor_down(s))
        return ANT_EUNAVAILABLE;
    stor_batch *b = stor_cur(s);
    if (!b)
        return ANT_ENOMEM;
    b->retention = true;
    b->retention_now = now;
    return 0;
}

/* ---- completions ---------------------------------------------------------- */

static void stor_on_idle(uv_idle_t *h);

/* Run, in order, every completion whose fate is known. */
static void stor_run_done(stor *s)
{
    while (s->done_n) {
        /* failed before durable: once failed is seen, durable is final */
        bool failed = atomic_load_explicit(&s->failed, memory_order_acquire);
        uint64_t durable = atomic_load_explicit(&s->durable, memory_order_acquire);
        stor_done c = s->done[s->done_head];
        int rc;
        if (failed && (s->o.durability != STOR_ALWAYS || c.target > durable))
            rc = ANT_EUNAVAILABLE;
        else if (c.target <= durable)
            rc = 0;
        else
            break;
        s->done_head = (s->done_head + 1) % s->done_cap;
        s->done_n--;
        c.fn(c.arg, rc); /* may append or queue more */
    }
    if (s->h)
        stor_async_ref(s, s->done_n > 0 || s->cur != NULL);
}

int stor_when_durable(stor *s, stor_done_fn fn, void *arg)
{
    if (s->done_n == s->done_cap) {
        size_t ncap = s->done_cap ? s->done_cap * 2 : 64;
        stor_done *nd = malloc(ncap * sizeof *nd);
        if (!nd)
            return ANT_ENOMEM;
        for (size_t i = 0; i < s->done_n; i++)
            nd[i] = s->done[(s->done_head + i) % s->done_cap];
        free(s->done);
        s->done = nd;
        s->done_cap = ncap;
        s->done_head = 0;
    }
    uint64_t target = 0;
    if (s->o.durability == STOR_ALWAYS)
        target = s->cur ? s->cur->id : s->last_handed;
    s->done[(s->done_head + s->done_n) % s->done_cap] = (stor_done){fn, arg, target};
    s->done_n++;
    if (s->h) {
        stor_async_ref(s, true); /* keep the loop alive until it has run */
        if (target <= atomic_load_explicit(&s->durable, memory_order_acquire) ||
            atomic_load_explicit(&s->failed, memory_order_acquire))
            uv_idle_start(&s->h->idle, stor_on_idle); /* nothing to wait for */
    }
    return 0;
}

/* ---- hand-off ------------------------------------------------------------- */

static void stor_handoff(stor *s)
{
    stor_batch *b = s->cur;
    if (!b)
        return;
    s->cur = NULL;
    s->last_handed = b->id;
    pthread_mutex_lock(&s->mu);
    while (s->q_bytes > STOR_QUEUE_MAX_BYTES && !s->stopping &&
           !atomic_load_explicit(&s->failed, memory_order_acquire))
        pthread_cond_wait(&s->cv_space, &s->mu);
    if (s->q_tail)
        s->q_tail->next = b;
    else
        s->q_head = b;
    s->q_tail = b;
    s->q_bytes += b->len;
    s->q_n++;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
}

static void stor_turn_end(stor *s)
{
    /* completions may append again: hand that over too before poll can block */
    do {
        stor_handoff(s);
        stor_run_done(s);
    } while (s->cur);
}

static void stor_on_check(uv_check_t *h)
{
    if (h->data)
        stor_turn_end(h->data);
}

static void stor_on_prepare(uv_prepare_t *h)
{
    if (h->data)
        stor_turn_end(h->data);
}

static void stor_on_idle(uv_idle_t *h)
{
    uv_idle_stop(h);
    if (h->data)
        stor_turn_end(h->data);
}

static void stor_on_async(uv_async_t *h)
{
    if (h->data)
        stor_run_done(h->data);
}

int stor_loop_init(stor *s)
{
    stor_handles *h = calloc(1, sizeof *h);
    if (!h)
        return ANT_ENOMEM;
    if (uv_async_init(s->loop, &h->async, stor_on_async) != 0) {
        free(h);
        return ANT_EINTERNAL;
    }
    uv_check_init(s->loop, &h->check);
    uv_prepare_init(s->loop, &h->prepare);
    uv_idle_init(s->loop, &h->idle);
    h->async.data = h->check.data = h->prepare.data = h->idle.data = s;
    h->open = 4;
    uv_check_start(&h->check, stor_on_check);
    uv_prepare_start(&h->prepare, stor_on_prepare);
    uv_unref((uv_handle_t *)&h->check);
    uv_unref((uv_handle_t *)&h->prepare);
    uv_unref((uv_handle_t *)&h->async);
    s->h = h;
    return 0;
}

static void stor_on_handle_closed(uv_handle_t *uh)
{
    stor_handles *h = uh->data;
    if (--h->open == 0)
        free(h);
}

void stor_loop_close(stor *s)
{
    if (s->cur && !s->closing)
        stor_handoff(s);
    s->closing = true;
    wal_stop(s); /* commits everything queued, then joins */
    stor_run_done(s);
    while (s->done_n) { /* only when the writer never started */
        stor_done c = s->done[s->done_head];
        s->done_head = (s->done_head + 1) % s->done_cap;
        s->done_n--;
        c.fn(c.arg, ANT_EUNAVAILABLE);
    }
    if (s->cur) {
        wal_batch_free(s->cur);
        s->cur = NULL;
    }
    while (s->spare) {
        stor_batch *b = s->spare;
        s->spare = b->next;
        wal_batch_free(b);
    }
    while (s->q_head) {
        stor_batch *b = s->q_head;
        s->q_head = b->next;
        wal_batch_free(b);
    }
    s->q_tail = NULL;
    stor_handles *h = s->h;
    s->h = NULL;
    if (h) {
        h->async.data = h->check.data = h->prepare.data = h->idle.data = h;
        uv_close((uv_handle_t *)&h->async, stor_on_handle_closed);
        uv_close((uv_handle_t *)&h->check, stor_on_handle_closed);
        uv_close((uv_handle_t *)&h->prepare, stor_on_handle_closed);
        uv_close((uv_handle_t *)&h->idle, stor_on_handle_closed);
    }
}
