/*
 * writer.c — the writer thread: owns every LMDB write transaction. Takes all
 * batches queued while it was busy and commits them in ONE transaction with
 * one fsync (group commit), then posts the highest durable batch id to the
 * loop through uv_async. MDB_MAP_FULL grows the map and retries the same
 * transaction; any other failure stops the writer for good (the environment
 * may be in MDB_PANIC): it never retries, never acknowledges what it did not
 * commit, and from then on every write completes with ANT_EUNAVAILABLE.
 */
#include <errno.h>
#include <fiu-local.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stor_int.h"

#define WAL_SYNC_MS 100          /* batch mode: fsync at least this often */
#define WAL_SPARE_MAX 4          /* recycled batches kept */
#define WAL_SPARE_BUF (4u << 20) /* … when their buffers are no bigger */

void wal_batch_free(stor_batch *b)
{
    if (!b)
        return;
    free(b->items);
    free(b->buf);
    free(b);
}

static void wal_recycle(stor *s, stor_batch *list)
{
    while (list) {
        stor_batch *b = list;
        list = b->next;
        pthread_mutex_lock(&s->mu);
        if (s->nspare < WAL_SPARE_MAX && b->bcap <= WAL_SPARE_BUF && b->cap <= 65536) {
            b->next = s->spare;
            s->spare = b;
            s->nspare++;
            b = NULL;
        }
        pthread_mutex_unlock(&s->mu);
        wal_batch_free(b);
    }
}

int wal_fault(stor *s, const char *point)
{
    (void)point; /* unused when libfiu is compiled out */
    if (!atomic_load_explicit(&s->has_fault, memory_order_relaxed))
        return fiu_fail(point) ? EIO : 0;
    pthread_mutex_lock(&s->mu);
    stor_fault_fn fn = s->fault;
    void *arg = s->fault_arg;
    pthread_mutex_unlock(&s->mu);
    return fn ? fn(arg, point) : 0;
}

static const char *wal_strerror(int rc)
{
    return mdb_strerror(rc); /* covers errno values too */
}

void wal_fail(stor *s, const char *fmt, ...)
{
    if (atomic_load_explicit(&s->failed, memory_order_acquire))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    for (char *p = s->reason; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\\')
            *p = '\'';
    fprintf(stderr, "level=error msg=\"storage failed\" reason=\"%s\"\n", s->reason);
    atomic_store_explicit(&s->failed, true, memory_order_release);
    pthread_mutex_lock(&s->mu);
    s->m.failed = true;
    pthread_cond_broadcast(&s->cv_space);
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->h->async);
}

int wal_txn_run(stor *s, wal_txn_fn fn, void *arg)
{
    for (;;) {
        MDB_txn *txn;
        int rc = stor_txn_begin(s, 0, &txn);
        if (rc)
            return rc;
        rc = fn(s, txn, arg);
        if (rc == 0)
            rc = wal_fault(s, "stor/commit");
        if (rc) {
            mdb_txn_abort(txn);
        } else {
            rc = mdb_txn_commit(txn);
        }
        pthread_rwlock_unlock(&s->maplock);
        if (rc != MDB_MAP_FULL)
            return rc;
        /* nothing of this transaction is kept: grow and write it again */
        if (stor_map_grow(s) != 0)
            return MDB_MAP_FULL;
    }
}

/* Every operation of every batch in list, in order. */
static int wal_apply(stor *s, MDB_txn *txn, void *arg)
{
    stor_batch *list = arg;
    MDB_cursor *log;
    int rc = mdb_cursor_open(txn, s->dbi[STOR_DB_LOG], &log);
    if (rc)
        return rc;
    if ((rc = wal_fault(s, "stor/put")) != 0) {
        mdb_cursor_close(log);
        return rc;
    }
    for (stor_batch *b = list; b && rc == 0; b = b->next) {
        for (size_t i = 0; i < b->n && rc == 0; i++) {
            const stor_item *it = &b->items[i];
            MDB_val k = {it->klen, b->buf + it->off};
            MDB_val v = {it->vlen, b->buf + it->off + it->klen};
            switch (it->op) {
            case STOR_OP_APPEND:
                rc = mdb_cursor_put(log, &k, &v, MDB_APPEND);
                break;
            case STOR_OP_PUT:
                rc = mdb_put(txn, s->dbi[it->db], &k, &v, 0);
                break;
            case STOR_OP_DEL:
                rc = mdb_del(txn, s->dbi[it->db], &k, NULL);
                if (rc == MDB_NOTFOUND)
                    rc = 0;
                break;
            }
        }
    }
    mdb_cursor_close(log);
    return rc;
}

static int wal_bucket(uint64_t v, const uint64_t *limits, int n)
{
    for (int i = 0; i < n; i++)
        if (v <= limits[i])
            return i;
    return n;
}

static int64_t wal_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void wal_commit(stor *s, stor_batch *list)
{
    if (atomic_load_explicit(&s->failed, memory_order_acquire)) {
        wal_recycle(s, list);
        return;
    }
    int64_t t0 = wal_mono_us();
    int rc = wal_txn_run(s, wal_apply, list);
    if (rc == 0 && s->o.durability == STOR_ALWAYS)
        rc = wal_fault(s, "stor/fsync"); /* as if the fsync inside the commit had failed */
    int64_t us = wal_mono_us() - t0;
    if (rc) {
        if (rc == MDB_MAP_FULL)
            wal_fail(s, "data size limit reached (max_data_size %llu bytes)",
                     (unsigned long long)s->o.max_data_size);
        else
            wal_fail(s, "commit: %s", wal_strerror(rc));
        wal_recycle(s, list);
        return;
    }
    uint64_t last = 0, events = 0, bytes = 0, items = 0;
    for (stor_batch *b = list; b; b = b->next) {
        last = b->id;
        events += b->nevents;
        bytes += b->len;
        items += b->n;
    }
    static const uint64_t size_lim[7] = {1, 3, 15, 63, 255, 1023, 4095};
    static const uint64_t us_lim[9] = {100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000};
    pthread_mutex_lock(&s->mu);
    s->m.commits++;
    s->m.events += events;
    s->m.bytes += bytes;
    s->m.batch_hist[wal_bucket(events ? events : items, size_lim, 7)]++;
    s->m.commit_us_hist[wal_bucket((uint64_t)us, us_lim, 9)]++;
    s->m.commit_us_sum += (uint64_t)us;
    pthread_mutex_unlock(&s->mu);
    atomic_store_explicit(&s->durable, last, memory_order_release);
    uv_async_send(&s->h->async);
    if (s->o.durability == STOR_BATCH)
        s->unsynced = true;
    for (stor_batch *b = list; b; b = b->next)
        if (b->retention)
            wal_retention_start(s, b->retention_now);
    wal_recycle(s, list);
}

static void wal_sync(stor *s)
{
    int rc = wal_fault(s, "stor/fsync");
    if (rc == 0)
        rc = mdb_env_sync(s->env, 1);
    s->unsynced = false;
    s->last_sync = stor_mono_ms();
    if (rc)
        wal_fail(s, "fsync: %s", wal_strerror(rc));
}

static void wal_deadline(struct timespec *ts, int64_t mono_ms)
{
    ts->tv_sec = mono_ms / 1000;
    ts->tv_nsec = (mono_ms % 1000) * 1000000;
}

static void *wal_main(void *arg)
{
    stor *s = arg;
    s->last_sync = stor_mono_ms();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (;;) {
            bool failed = atomic_load_explicit(&s->failed, memory_order_acquire);
            if (s->q_head || s->stopping || (s->ret.active && !failed))
                break;
            if (s->unsynced && !failed) {
                int64_t due = s->last_sync + WAL_SYNC_MS;
                if (stor_mono_ms() >= due)
                    break;
                struct timespec ts;
                wal_deadline(&ts, due);
                pthread_cond_timedwait(&s->cv_work, &s->mu, &ts);
            } else {
                pthread_cond_wait(&s->cv_work, &s->mu);
            }
        }
        stor_batch *list = s->q_head;
        s->q_head = s->q_tail = NULL;
        s->q_bytes = 0;
        s->q_n = 0;
        bool stop = s->stopping && !list;
        pthread_cond_broadcast(&s->cv_space);
        pthread_mutex_unlock(&s->mu);

        if (list)
            wal_commit(s, list);
        bool failed = atomic_load_explicit(&s->failed, memory_order_acquire);
        if (s->unsynced && !failed && (stop || stor_mono_ms() - s->last_sync >= WAL_SYNC_MS))
            wal_sync(s);
        if (s->ret.active && !failed && !stop) {
            int rc = wal_retention_step(s);
            if (rc)
                wal_fail(s, "retention: %s", wal_strerror(rc));
        }
        pthread_mutex_lock(&s->mu);
        if (stop)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    /* a clean stop leaves nothing unsynced, whatever the mode */
    if (s->o.durability != STOR_ALWAYS && !atomic_load(&s->failed))
        mdb_env_sync(s->env, 1);
    return NULL;
}

int wal_start(stor *s)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals belong to the loop thread */
    int rc = pthread_create(&s->thread, NULL, wal_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return ANT_EINTERNAL;
    s->thread_started = true;
    pthread_setname_np(s->thread, "ant-writer");
    return 0;
}

void wal_stop(stor *s)
{
    if (!s->thread_started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_started = false;
}
