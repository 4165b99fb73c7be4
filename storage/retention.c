/*
 * retention.c — keep_days / keep_pii_days, run by the writer thread in
 * bounded chunks (one transaction each) between normal commits.
 *
 * Delete pass: from the front of the log, delete records of hall-local days
 * older than keep_days, but only when the hall's snapshot covers them (so
 * recovery never needs them) and that day's stats are stored; stop at the
 * first record that is young enough. Erase pass: from meta "pii_pos" on,
 * rewrite records older than keep_pii_days without citizen data and feedback
 * comments (decode, clear, re-encode), and remember how far it got.
 * Must never delete what recovery still needs.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "stor_int.h"

#define RET_CHUNK 2000 /* records looked at per transaction */

/* Per-hall facts for one run (values are conservative if they change meanwhile). */
struct stor_ret_hall {
    char id[ENG_ID_MAX + 1];
    int32_t off_min;   /* utc offset of its stored config */
    uint64_t snap_pos; /* its snapshot covers log keys below this; 0 when none */
    int32_t stats_day; /* last stats lookup */
    int stats_state;   /* 0 unknown, 1 stored, 2 absent */
};

typedef struct ret_chunk {
    uint64_t del_next, pii_next;
    bool del_done, pii_done;
    bool pii_ran; /* the erase pass ran: pii_next now reflects meta "pii_pos" */
    uint64_t deleted, erased;
    int budget;
    codec_buf *out; /* the erase pass's scratch for rewritten records */
} ret_chunk;

static int64_t ret_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int32_t ret_day(int64_t at, int32_t off_min)
{
    return (int32_t)ret_floor_div(at + (int64_t)off_min * 60000, STOR_DAY_MS);
}

void wal_retention_free(stor *s)
{
    free(s->ret.halls);
    s->ret.halls = NULL;
    s->ret.nhalls = 0;
    if (s->codec_arena) {
        eng_evbuf_free(s->codec_arena);
        free(s->codec_arena);
        s->codec_arena = NULL;
    }
}

void wal_retention_start(stor *s, int64_t now)
{
    free(s->ret.halls);
    s->ret.halls = NULL;
    s->ret.nhalls = 0;
    s->ret.active = true;
    s->ret.now = now;
    s->ret.del_next = 0;
    s->ret.del_done = s->o.keep_days == 0;
    s->ret.pii_done = s->o.keep_pii_days == 0;
    s->ret.pii_loaded = false;
    s->ret.pii_next = 0;
}

static struct stor_ret_hall *ret_hall(stor *s, MDB_txn *txn, const char *id, size_t len)
{
    for (size_t i = 0; i < s->ret.nhalls; i++)
        if (strlen(s->ret.halls[i].id) == len && memcmp(s->ret.halls[i].id, id, len) == 0)
            return &s->ret.halls[i];
    struct stor_ret_hall *nh = realloc(s->ret.halls, (s->ret.nhalls + 1) * sizeof *nh);
    if (!nh)
        return NULL;
    s->ret.halls = nh;
    struct stor_ret_hall *h = &nh[s->ret.nhalls++];
    memset(h, 0, sizeof *h);
    memcpy(h->id, id, len);
    char key[5 + ENG_ID_MAX];
    memcpy(key, "hall/", 5);
    memcpy(key + 5, id, len);
    MDB_val k = {5 + len, key}, v;
    if (mdb_get(txn, s->dbi[STOR_DB_META], &k, &v) == 0) {
        eng_config *cfg = NULL;
        if (eng_config_parse(v.mv_data, v.mv_size, &cfg, NULL) == 0) {
            h->off_min = cfg->utc_offset_min;
            eng_config_free(cfg);
        }
    }
    k.mv_size = len;
    k.mv_data = h->id;
    if (mdb_get(txn, s->dbi[STOR_DB_SNAP], &k, &v) == 0 && v.mv_size >= STOR_SNAP_HDR &&
        ((const unsigned char *)v.mv_data)[0] == STOR_SNAP_MAGIC)
        h->snap_pos = stor_be64_get((const unsigned char *)v.mv_data + 1);
    return h;
}

static bool ret_stats_stored(stor *s, MDB_txn *txn, struct stor_ret_hall *h, int32_t day)
{
    if (h->stats_state && h->stats_day == day)
        return h->stats_state == 1;
    char key[STOR_STATS_KEY_MAX];
    MDB_val k = {stor_stats_key(key, h->id, strlen(h->id), day), key}, v;
    h->stats_day = day;
    h->stats_state = mdb_get(txn, s->dbi[STOR_DB_STATS], &k, &v) == 0 ? 1 : 2;
    return h->stats_state == 1;
}

/* Rewrite one record without citizen data; 0 also when there was nothing to erase. */
static int ret_erase_one(stor *s, MDB_txn *txn, const unsigned char *key, const stor_loghdr *lh,
                         const void *val, codec_buf *out, bool *erased)
{
    eng_evbuf *arena = s->codec_arena;
    eng_event ev;
    char msg[200];
    *erased = false;
    eng_evbuf_reset(arena);
    if (codec_event_decode(lh->ev, lh->ev_len, &ev, arena, msg) != 0)
        return 0; /* undecodable: left for recovery to report */
    if (!ev.has_pii && !ev.comment)
        return 0;
    ev.has_pii = false;
    memset(&ev.pii, 0, sizeof ev.pii);
    ev.comment = NULL;
    size_t hdr = STOR_LOG_HDR_FIXED + lh->hall_len;
    codec_buf_reset(out);
    int rc = codec_buf_append(out, val, hdr);
    if (rc == 0)
        rc = codec_event_msgpack(&ev, CODEC_FULL, out);
    if (rc)
        return ENOMEM;
    MDB_val k = {8, (void *)key}, v = {out->len, out->data};
    rc = mdb_put(txn, s->dbi[STOR_DB_LOG], &k, &v, 0);
    *erased = rc == 0;
    return rc;
}

/*
 * What a pass does to one record old enough for it: 0 with *changed when it
 * deleted or rewrote the record (the cursor must seek again), or an error.
 */
typedef int (*ret_step_fn)(stor *s, MDB_txn *txn, MDB_cursor *cur, struct stor_ret_hall *h,
                           const stor_loghdr *lh, const MDB_val *val, uint64_t pos, void *arg,
                           bool *changed);

/*
 * Walk the log from *next while the chunk has budget and records are older
 * than keep_days, applying step to each. *next ends past the last record
 * handled; *done is set when the walk reached records too young, a record
 * it does not understand (recovery reports those), or the log's end.
 */
static int ret_walk(stor *s, MDB_txn *txn, ret_chunk *c, uint64_t *next, bool *done,
                    uint32_t keep_days, ret_step_fn step, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[STOR_DB_LOG], &cur);
    if (rc)
        return rc;
    unsigned char kb[8];
    stor_be64_put(kb, *next);
    MDB_val k = {8, kb}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && c->budget > 0) {
        c->budget--;
        stor_loghdr lh;
        if (k.mv_size != 8 || stor_loghdr_parse(v.mv_data, v.mv_size, &lh) != 0) {
            *done = true; /* not ours to judge; recovery reports it */
            break;
        }
        uint64_t pos = stor_be64_get(k.mv_data);
        struct stor_ret_hall *h = ret_hall(s, txn, lh.hall, lh.hall_len);
        if (!h) {
            rc = ENOMEM;
            break;
        }
        int32_t day = ret_day(lh.at, h->off_min);
        if (day >= ret_day(s->ret.now, h->off_min) - (int32_t)keep_days) {
            *done = true;
            break;
        }
        bool changed = false;
        if ((rc = step(s, txn, cur, h, &lh, &v, pos, arg, &changed)) != 0)
            break;
        *next = pos + 1;
        if (changed) {
            stor_be64_put(kb, *next);
            k.mv_size = 8;
            k.mv_data = kb;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        } else {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
    }
    if (rc == MDB_NOTFOUND) {
        *done = true;
        rc = 0;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Delete a record whose day is covered by the hall's snapshot and stored stats. */
static int ret_delete_step(stor *s, MDB_txn *txn, MDB_cursor *cur, struct stor_ret_hall *h,
                           const stor_loghdr *lh, const MDB_val *val, uint64_t pos, void *arg,
                           bool *changed)
{
    ret_chunk *c = arg;
    (void)val;
    if (pos >= h->snap_pos || !ret_stats_stored(s, txn, h, ret_day(lh->at, h->off_min)))
        return 0;
    int rc = mdb_cursor_del(cur, 0);
    if (rc == 0) {
        c->deleted++;
        *changed = true;
    }
    return rc;
}

static int ret_delete_pass(stor *s, MDB_txn *txn, ret_chunk *c)
{
    return ret_walk(s, txn, c, &c->del_next, &c->del_done, s->o.keep_days, ret_delete_step, c);
}

/* Erase citizen data (and feedback comments) from a record. */
static int ret_erase_step(stor *s, MDB_txn *txn, MDB_cursor *cur, struct stor_ret_hall *h,
                          const stor_loghdr *lh, const MDB_val *val, uint64_t pos, void *arg,
                          bool *changed)
{
    ret_chunk *c = arg;
    (void)cur, (void)h;
    unsigned char kb[8];
    stor_be64_put(kb, pos);
    int rc = ret_erase_one(s, txn, kb, lh, val->mv_data, c->out, changed);
    if (rc == 0 && *changed)
        c->erased++;
    return rc;
}

static int ret_erase_pass(stor *s, MDB_txn *txn, ret_chunk *c)
{
    if (!s->codec_arena) {
        if (!(s->codec_arena = malloc(sizeof(eng_evbuf))))
            return ENOMEM;
        eng_evbuf_init(s->codec_arena);
    }
    MDB_val k = {7, "pii_pos"}, v;
    if (!s->ret.pii_loaded && mdb_get(txn, s->dbi[STOR_DB_META], &k, &v) == 0 && v.mv_size == 8)
        c->pii_next = stor_be64_get(v.mv_data);
    uint64_t start = c->pii_next;
    codec_buf out;
    codec_buf_init(&out);
    c->out = &out;
    int rc = ret_walk(s, txn, c, &c->pii_next, &c->pii_done, s->o.keep_pii_days, ret_erase_step, c);
    c->out = NULL;
    codec_buf_free(&out);
    if (rc == 0 && c->pii_next != start) {
        unsigned char pb[8];
        stor_be64_put(pb, c->pii_next);
        MDB_val pk = {7, "pii_pos"}, pv = {8, pb};
        rc = mdb_put(txn, s->dbi[STOR_DB_META], &pk, &pv, 0);
    }
    return rc;
}

/* One chunk; may run twice when the map had to grow, so it starts from s->ret each time. */
static int ret_chunk_run(stor *s, MDB_txn *txn, void *arg)
{
    ret_chunk *c = arg;
    c->del_next = s->ret.del_next;
    c->pii_next = s->ret.pii_next;
    c->del_done = s->ret.del_done;
    c->pii_done = s->ret.pii_done;
    c->deleted = c->erased = 0;
    c->pii_ran = false;
    c->budget = RET_CHUNK;
    int rc = 0;
    if (!c->del_done)
        rc = ret_delete_pass(s, txn, c);
    if (rc == 0 && !c->pii_done && c->budget > 0) {
        c->pii_ran = true;
        rc = ret_erase_pass(s, txn, c);
    }
    return rc;
}

int wal_retention_step(stor *s)
{
    ret_chunk c;
    int rc = wal_txn_run(s, ret_chunk_run, &c);
    if (rc)
        return rc;
    s->ret.del_next = c.del_next;
    s->ret.pii_next = c.pii_next;
    s->ret.del_done = c.del_done;
    s->ret.pii_done = c.pii_done;
    if (c.pii_ran)
        s->ret.pii_loaded = true;
    bool finished = c.del_done && c.pii_done;
    if (finished)
        s->ret.active = false;
    pthread_mutex_lock(&s->mu);
    s->m.retention_deleted += c.deleted;
    s->m.retention_erased += c.erased;
    if (finished)
        s->m.retention_runs++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}
