/*
 * recover.c — rebuild every stored hall before serving: newest snapshot (or
 * the stored config), then one pass over the log after the oldest snapshot
 * position, routing each record to its hall by name, checking that every
 * hall's seqs follow without a gap, decoding and replaying through the
 * engine. Refuses (naming db, key and problem) rather than guessing: a hall
 * rebuilt from a damaged log must never be served.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "stor_int.h"

typedef struct rec_hall {
    char id[ENG_ID_MAX + 1];
    size_t idlen;
    eng_hall *hall;  /* NULL until its first record (or the end) when built from config */
    const char *cfg; /* config JSON inside the read transaction */
    size_t cfg_len;
    uint64_t start; /* first log key to replay: its snapshot position */
    uint64_t replayed;
    bool has_created;
    int64_t created; /* the time its first day was fixed with (stor_put_hall_at) */
    bool has_snap;
    int64_t snap_at;
} rec_hall;

typedef struct rec_state {
    rec_hall *h;
    size_t n, cap;
    uint32_t *idx; /* open addressing, value = index + 1 */
    size_t idx_cap;
    char *msg;
} rec_state;

static uint32_t rec_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static rec_hall *rec_find(rec_state *r, const char *id, size_t len)
{
    size_t mask = r->idx_cap - 1;
    for (size_t i = rec_hash(id, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = r->idx[i];
        if (!v)
            return NULL;
        rec_hall *h = &r->h[v - 1];
        if (h->idlen == len && memcmp(h->id, id, len) == 0)
            return h;
    }
}

static int rec_index(rec_state *r)
{
    size_t cap = 16;
    while (cap < r->n * 2)
        cap *= 2;
    if (!(r->idx = calloc(cap, sizeof *r->idx)))
        return ANT_ENOMEM;
    r->idx_cap = cap;
    for (size_t n = 0; n < r->n; n++) {
        size_t i = rec_hash(r->h[n].id, r->h[n].idlen) & (cap - 1);
        while (r->idx[i])
            i = (i + 1) & (cap - 1);
        r->idx[i] = (uint32_t)n + 1;
    }
    return 0;
}

static void rec_free(rec_state *r)
{
    for (size_t i = 0; i < r->n; i++)
        eng_hall_free(r->h[i].hall);
    free(r->h);
    free(r->idx);
}

static int rec_fail(rec_state *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rec_fail(rec_state *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, 256, fmt, ap);
    va_end(ap);
    return ANT_EINTERNAL;
}

/* Build a hall from its stored config, as of its creation (else time `at`). */
static int rec_from_config(rec_state *r, rec_hall *h, int64_t at)
{
    if (h->has_created)
        at = h->created;
    eng_config *cfg = NULL;
    eng_problems *probs = malloc(sizeof *probs);
    if (!probs)
        return ANT_ENOMEM;
    probs->count = 0;
    if (eng_config_parse(h->cfg, h->cfg_len, &cfg, probs) != 0) {
        int rc = rec_fail(r, "db meta, key hall/%s: stored config does not parse: %s", h->id,
                          probs->count ? probs->msg[0] : "invalid");
        free(probs);
        return rc;
    }
    free(probs);
    if (!(h->hall = eng_hall_new(cfg, at)))
        return rec_fail(r, "out of memory building hall %s", h->id);
    return 0;
}

/* The stored halls, each from its snapshot when there is one. */
static int rec_load_halls(stor *s, MDB_txn *txn, rec_state *r)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[STOR_DB_META], &cur);
    if (rc)
        return rec_fail(r, "db meta: %s", mdb_strerror(rc));
    MDB_val k = {5, "hall/"}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 5 || memcmp(k.mv_data, "hall/", 5) != 0)
            break;
        size_t idlen = k.mv_size - 5;
        if (!stor_id_ok((const char *)k.mv_data + 5, idlen)) {
            mdb_cursor_close(cur);
            return rec_fail(r, "db meta, key %.*s: not a hall id",
                            (int)(k.mv_size > 45 ? 45 : k.mv_size), (const char *)k.mv_data);
        }
        if (r->n == r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : 8;
            rec_hall *nh = realloc(r->h, ncap * sizeof *nh);
            if (!nh) {
                mdb_cursor_close(cur);
                return ANT_ENOMEM;
            }
            r->h = nh;
            r->cap = ncap;
        }
        rec_hall *h = &r->h[r->n++];
        memset(h, 0, sizeof *h);
        memcpy(h->id, (const char *)k.mv_data + 5, idlen);
        h->idlen = idlen;
        h->cfg = v.mv_data;
        h->cfg_len = v.mv_size;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rec_fail(r, "db meta: %s", mdb_strerror(rc));

    for (size_t i = 0; i < r->n; i++) {
        rec_hall *h = &r->h[i];
        char ck[8 + ENG_ID_MAX];
        memcpy(ck, "created/", 8);
        memcpy(ck + 8, h->id, h->idlen);
        MDB_val cv, ckv = {8 + h->idlen, ck};
        if (mdb_get(txn, s->dbi[STOR_DB_META], &ckv, &cv) == 0 && cv.mv_size == 8) {
            h->has_created = true;
            h->created = (int64_t)stor_be64_get(cv.mv_data);
        }
        MDB_val sk = {h->idlen, h->id}, sv;
        rc = mdb_get(txn, s->dbi[STOR_DB_SNAP], &sk, &sv);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return rec_fail(r, "db snap, key %s: %s", h->id, mdb_strerror(rc));
        const unsigned char *p = sv.mv_data;
        if (sv.mv_size < STOR_SNAP_HDR || p[0] != STOR_SNAP_MAGIC)
            return rec_fail(r, "db snap, key %s: undecodable snapshot header", h->id);
        char emsg[200] = "";
        if (eng_snapshot_decode((const char *)p + STOR_SNAP_HDR, sv.mv_size - STOR_SNAP_HDR,
                                &h->hall, emsg) != 0)
            return rec_fail(r, "db snap, key %s: %s", h->id, emsg);
        uint64_t seq = stor_be64_get(p + 9);
        if (seq != UINT64_MAX && eng_hall_seq(h->hall) != seq)
            return rec_fail(r, "db snap, key %s: snapshot holds seq %llu, its header says %llu",
                            h->id, (unsigned long long)eng_hall_seq(h->hall),
                            (unsigned long long)seq);
        h->start = stor_be64_get(p + 1);
        h->has_snap = true;
        h->snap_at = (int64_t)stor_be64_get(p + 17);
    }
    return rec_index(r);
}

/* One pass over the log from the oldest position any hall still needs. */
static int rec_replay(stor *s, MDB_txn *txn, rec_state *r)
{
    uint64_t from = UINT64_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->h[i].start < from)
            from = r->h[i].start;
    if (from == UINT64_MAX)
        from = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[STOR_DB_LOG], &cur);
    if (rc)
        return rec_fail(r, "db log: %s", mdb_strerror(rc));
    eng_evbuf arena;
    eng_evbuf_init(&arena);
    eng_event *ev = malloc(sizeof *ev);
    if (!ev) {
        mdb_cursor_close(cur);
        return ANT_ENOMEM;
    }
    unsigned char kb[8];
    stor_be64_put(kb, from);
    MDB_val k = {8, kb}, v;
    rec_hall *h = NULL;
    int out = 0;
    char emsg[200];
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            out = rec_fail(r, "db log: a key of %zu bytes is not a log position", k.mv_size);
            break;
        }
        unsigned long long pos = (unsigned long long)stor_be64_get(k.mv_data);
        stor_loghdr lh;
        if (stor_loghdr_parse(v.mv_data, v.mv_size, &lh) != 0) {
            out = rec_fail(r, "db log, key %llu: undecodable record header", pos);
            break;
        }
        if (!h || h->idlen != lh.hall_len || memcmp(h->id, lh.hall, lh.hall_len) != 0) {
            h = rec_find(r, lh.hall, lh.hall_len);
            if (!h) {
                out = rec_fail(r, "db log, key %llu: record of hall '%.*s', not stored in db meta",
                               pos, (int)lh.hall_len, lh.hall);
                break;
            }
        }
        if (pos < h->start)
            continue;
        if (!h->hall && (out = rec_from_config(r, h, lh.at)) != 0)
            break;
        uint64_t want = eng_hall_seq(h->hall) + 1;
        if (lh.seq != want) {
            out = rec_fail(r, "db log, key %llu: hall %s seq %llu where seq %llu was expected (%s)",
                           pos, h->id, (unsigned long long)lh.seq, (unsigned long long)want,
                           lh.seq > want ? "gap" : "repeat");
            break;
        }
        eng_evbuf_reset(&arena);
        if (codec_event_decode(lh.ev, lh.ev_len, ev, &arena, emsg) != 0) {
            out = rec_fail(r, "db log, key %llu: undecodable event: %s", pos, emsg);
            break;
        }
        if (ev->seq != lh.seq || strlen(ev->hall) != lh.hall_len ||
            memcmp(ev->hall, lh.hall, lh.hall_len) != 0) {
            out = rec_fail(
                r, "db log, key %llu: event of hall %s seq %llu in a record of %s seq %llu", pos,
                ev->hall, (unsigned long long)ev->seq, h->id, (unsigned long long)lh.seq);
            break;
        }
        if (eng_replay(h->hall, ev, emsg) != 0) {
            out = rec_fail(r, "db log, key %llu: hall %s seq %llu does not replay: %s", pos, h->id,
                           (unsigned long long)lh.seq, emsg);
            break;
        }
        h->replayed++;
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND)
        out = rec_fail(r, "db log: %s", mdb_strerror(rc));
    mdb_cursor_close(cur);
    eng_evbuf_free(&arena);
    free(ev);
    return out;
}

int stor_recover(stor *s, int64_t now, stor_hall_fn fn, void *arg, char msg[256])
{
    msg[0] = 0;
    rec_state r = {.msg = msg};
    MDB_txn *txn;
    int rc = stor_txn_begin(s, MDB_RDONLY, &txn);
    if (rc) {
        snprintf(msg, 256, "cannot begin a read transaction: %s", mdb_strerror(rc));
        return ANT_EINTERNAL;
    }
    rc = rec_load_halls(s, txn, &r);
    if (rc == 0)
        rc = rec_replay(s, txn, &r);
    for (size_t i = 0; rc == 0 && i < r.n; i++)
        if (!r.h[i].hall)
            rc = rec_from_config(&r, &r.h[i], now);
    stor_txn_end(s, txn);
    if (rc) {
        if (!msg[0])
            snprintf(msg, 256, "out of memory during recovery");
        rec_free(&r);
        return rc == ANT_ENOMEM ? ANT_EINTERNAL : rc;
    }
    for (size_t i = 0; i < r.n; i++) {
        stor_hall *sh = stor_hall_add(s, r.h[i].id);
        if (!sh) {
            snprintf(msg, 256, "out of memory during recovery");
            rec_free(&r);
            return ANT_EINTERNAL;
        }
        sh->seq_known = true;
        sh->last_seq = eng_hall_seq(r.h[i].hall);
        sh->since_snap = r.h[i].replayed;
        sh->has_snap = r.h[i].has_snap;
        sh->snap_at = r.h[i].snap_at;
    }
    rc = 0;
    for (size_t i = 0; i < r.n; i++) {
        eng_hall *hall = r.h[i].hall;
        r.h[i].hall = NULL; /* the callee owns it now */
        if (rc == 0)
            rc = fn(arg, hall);
        else
            eng_hall_free(hall);
    }
    rec_free(&r);
    return rc;
}
