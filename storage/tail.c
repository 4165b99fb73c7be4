/*
 * tail.c — the newest events of each hall, read back from the log, so a
 * restarted server can answer `since` resumes (SPEC §5: at least the last
 * 10,000 events) as if it had never stopped.
 *
 * One backward pass over the log collects the keys of up to `max` records
 * per hall and stops as soon as every hall has its share; then each hall's
 * records are decoded oldest first and handed to the callback. Read-only.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "stor_int.h"

typedef struct tail_hall {
    uint64_t *keys; /* filled from the end: keys[max - n … max - 1], oldest first */
    uint32_t n;
} tail_hall;

static int hall_index(const char *const *halls, size_t nhalls, const stor_loghdr *lh)
{
    for (size_t i = 0; i < nhalls; i++)
        if (strlen(halls[i]) == lh->hall_len && memcmp(halls[i], lh->hall, lh->hall_len) == 0)
            return (int)i;
    return -1;
}

static int collect(stor *s, MDB_txn *txn, const char *const *halls, size_t nhalls, uint32_t max,
                   tail_hall *th)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[STOR_DB_LOG], &cur);
    if (rc)
        return rc;
    size_t full = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0 && full < nhalls;
         rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        stor_loghdr lh;
        if (k.mv_size != 8 || stor_loghdr_parse(v.mv_data, v.mv_size, &lh) != 0)
            continue; /* recovery already refused a damaged log; skip rather than guess */
        int i = hall_index(halls, nhalls, &lh);
        if (i < 0 || th[i].n == max)
            continue;
        th[i].keys[max - 1 - th[i].n] = stor_be64_get(k.mv_data);
        if (++th[i].n == max)
            full++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int replay_hall(stor *s, MDB_txn *txn, const char *hall, const tail_hall *th, uint32_t max,
                       stor_event_fn fn, void *arg, char msg[256])
{
    eng_evbuf arena;
    eng_evbuf_init(&arena);
    int rc = 0;
    for (uint32_t j = max - th->n; j < max && rc == 0; j++) {
        unsigned char kb[8];
        stor_be64_put(kb, th->keys[j]);
        MDB_val k = {8, kb}, v;
        stor_loghdr lh;
        eng_event ev;
        char m[200];
        if ((rc = mdb_get(txn, s->dbi[STOR_DB_LOG], &k, &v)) != 0) {
            rc = stor_err(rc);
            break;
        }
        eng_evbuf_reset(&arena);
        if (stor_loghdr_parse(v.mv_data, v.mv_size, &lh) != 0 ||
            codec_event_decode(lh.ev, lh.ev_len, &ev, &arena, m) != 0) {
            snprintf(msg, 256, "log key %llu: the event of hall %s does not decode",
                     (unsigned long long)th->keys[j], hall);
            rc = ANT_EINTERNAL;
            break;
        }
        rc = fn(arg, hall, &ev);
    }
    eng_evbuf_free(&arena);
    return rc;
}

int stor_log_tail(stor *s, const char *const *halls, size_t nhalls, uint32_t max, stor_event_fn fn,
                  void *arg, char msg[256])
{
    msg[0] = '\0';
    if (!nhalls || !max)
        return 0;
    tail_hall *th = calloc(nhalls, sizeof *th);
    if (!th)
        return ANT_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < nhalls && rc == 0; i++)
        if (!(th[i].keys = malloc((size_t)max * sizeof *th[i].keys)))
            rc = ANT_ENOMEM;
    MDB_txn *txn = NULL;
    if (rc == 0 && (rc = stor_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        rc = stor_err(rc);
    if (rc == 0 && (rc = collect(s, txn, halls, nhalls, max, th)) != 0)
        rc = stor_err(rc);
    for (size_t i = 0; i < nhalls && rc == 0; i++)
        rc = replay_hall(s, txn, halls[i], &th[i], max, fn, arg, msg);
    if (txn)
        stor_txn_end(s, txn);
    for (size_t i = 0; i < nhalls; i++)
        free(th[i].keys);
    free(th);
    if (rc && !msg[0])
        snprintf(msg, 256, "reading the log's newest events failed");
    return rc;
}
