/*
 * stor_int.h — storage's private layout, shared by the files of storage/
 * and by nobody else (the network layer goes through storage.h).
 *
 * Two threads touch a `stor`: the libuv loop thread (batch building,
 * completions, hall bookkeeping, recovery) and the writer thread (every LMDB
 * write transaction, map growth, retention). They share only what sits
 * under `mu` or is atomic; each field below says which side owns it.
 */
#ifndef STOR_INT_H
#define STOR_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "stor_test.h"
#include "storage.h"

/* meta key "format": bumped whenever a stored layout below changes. */
#define STOR_FORMAT "1"

/* Log value: [STOR_LOG_MAGIC][hall len][hall][seq be64][at be64][msgpack event]. */
#define STOR_LOG_MAGIC 0xA1
#define STOR_LOG_HDR_FIXED 18 /* magic, hall len, seq, at */
/* Snapshot value: [STOR_SNAP_MAGIC][log pos be64][hall seq be64][taken at be64][snapshot]. */
#define STOR_SNAP_MAGIC 0xB1
#define STOR_SNAP_HDR 25

#define STOR_REC_MAX (64u << 20) /* largest single record accepted */
#define STOR_DAY_MS 86400000LL

enum stor_db { STOR_DB_LOG = 0, STOR_DB_SNAP, STOR_DB_META, STOR_DB_STATS, STOR_NDB };
enum stor_op { STOR_OP_PUT = 0, STOR_OP_APPEND, STOR_OP_DEL };

/* One LMDB operation of a batch; key then value bytes live in batch->buf at off. */
typedef struct stor_item {
    uint8_t db, op;
    uint32_t klen, vlen;
    size_t off;
} stor_item;

/* What one loop turn produced. Built by the loop, owned by the writer once queued. */
typedef struct stor_batch {
    struct stor_batch *next;
    uint64_t id;      /* 1, 2, … in hand-off order */
    uint64_t nevents; /* log records in it */
    stor_item *items;
    size_t n, cap;
    char *buf;
    size_t len, bcap;
    bool retention; /* run retention (as of retention_now) after committing this batch */
    int64_t retention_now;
} stor_batch;

/* Loop-side bookkeeping of one stored hall. */
typedef struct stor_hall {
    char id[ENG_ID_MAX + 1];
    bool seq_known;      /* last_seq is exact (new hall, or recovered) */
    uint64_t last_seq;   /* seq of the last appended event */
    uint64_t since_snap; /* events appended since its last snapshot */
    int64_t snap_at;     /* ms since epoch of its last snapshot, 0 when none */
    bool has_snap;
} stor_hall;

typedef struct stor_done {
    stor_done_fn fn;
    void *arg;
    uint64_t target; /* batch id that must be durable */
} stor_done;

/* The loop handles live apart from `stor` so stor_close can free it at once. */
typedef struct stor_handles {
    uv_async_t async;     /* the writer: "durable up to here" */
    uv_check_t check;     /* end of a loop turn: hand the batch over */
    uv_prepare_t prepare; /* … and for what was queued after the check ran */
    uv_idle_t idle;       /* completions that may run now: keep poll from blocking */
    int open;
} stor_handles;

/* Writer-private progress of a retention run (retention.c). */
typedef struct stor_ret {
    bool active;
    int64_t now;
    uint64_t del_next; /* next log key the delete pass looks at */
    bool del_done;
    uint64_t pii_next; /* next log key the erase pass looks at */
    bool pii_done;
    bool pii_loaded;             /* pii_next read from meta "pii_pos" */
    struct stor_ret_hall *halls; /* cached per-hall facts (utc offset, snapshot pos) */
    size_t nhalls;
} stor_ret;

struct stor {
    stor_opts o;
    char *dir;
    int lock_fd; /* flock'ed data.mdb: one server per directory */
    MDB_env *env;
    MDB_dbi dbi[STOR_NDB];
    unsigned env_flags;
    size_t page;

    /*
     * Map growth (mdb_env_set_mapsize) needs every transaction of this process
     * to be finished: each transaction holds maplock shared, growth takes it
     * exclusively. Writer-preferring, so a stream of readers cannot starve it.
     */
    pthread_rwlock_t maplock;
    uint64_t map_size; /* under maplock */

    /* ---- loop thread only ---- */
    uv_loop_t *loop;
    stor_handles *h;
    stor_batch *cur;      /* batch of this loop turn, NULL when empty */
    uint64_t next_batch;  /* id the next batch gets */
    uint64_t last_handed; /* id of the last batch queued for the writer */
    uint64_t next_pos;    /* next log key */
    stor_done *done;      /* completion ring */
    size_t done_head, done_n, done_cap;
    bool async_ref;
    stor_hall *halls;
    size_t nhalls, halls_cap;
    uint32_t *hidx; /* open-addressing index into halls (value + 1), hidx_cap slots */
    size_t hidx_cap;
    bool closing;

    /* ---- shared, under mu ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  /* writer: something to do */
    pthread_cond_t cv_space; /* loop: the queue has room again */
    stor_batch *q_head, *q_tail;
    size_t q_bytes, q_n;
    stor_batch *spare; /* recycled batches */
    int nspare;
    bool stopping;
    stor_fault_fn fault;
    void *fault_arg;
    atomic_bool has_fault; /* lets the writer skip the lock when no hook is set */
    stor_metrics m;

    /* ---- shared, atomic ---- */
    _Atomic uint64_t durable; /* highest batch id committed */
    atomic_bool failed;       /* set once, after `reason` is written */
    char reason[200];

    /* ---- writer thread only ---- */
    pthread_t thread;
    bool thread_started;
    bool unsynced;     /* batch mode: commits not yet fsync'd */
    int64_t last_sync; /* monotonic ms */
    stor_ret ret;
    void *codec_arena; /* eng_evbuf for retention decoding (retention.c) */
};

/* ---- env.c ---- */
int stor_err(int mdb_rc); /* MDB_* / errno → ANT_E* */
int64_t stor_mono_ms(void);
int64_t stor_wall_ms(void);
/* Begin a transaction with maplock held shared (released by stor_txn_end). */
int stor_txn_begin(stor *s, unsigned flags, MDB_txn **txn);
void stor_txn_end(stor *s, MDB_txn *txn); /* abort + release */
/* Grow the map (double, capped at max_data_size). 0, or MDB_MAP_FULL when at the limit. */
int stor_map_grow(stor *s);

/* ---- batch.c (loop thread) ---- */
int stor_loop_init(stor *s);
void stor_loop_close(stor *s); /* flush, stop writer, run completions, close handles */
stor_hall *stor_hall_find(stor *s, const char *id, size_t len);
stor_hall *stor_hall_add(stor *s, const char *id);

/* ---- writer.c ---- */
int wal_start(stor *s);
void wal_stop(stor *s); /* drain and join */
void wal_batch_free(stor_batch *b);
/* Record the failure for good (first reason wins) and tell the loop. */
void wal_fail(stor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wal_fault(stor *s, const char *point);
/* Commit one txn from fn(s, txn, arg), growing the map on MDB_MAP_FULL; MDB rc. */
typedef int (*wal_txn_fn)(stor *s, MDB_txn *txn, void *arg);
int wal_txn_run(stor *s, wal_txn_fn fn, void *arg);

/* ---- retention.c (writer thread) ---- */
void wal_retention_start(stor *s, int64_t now);
/* One bounded chunk in its own transaction; 0, or an MDB rc (writer then fails). */
int wal_retention_step(stor *s);
void wal_retention_free(stor *s);

/* ---- big-endian helpers ---- */
static inline void stor_be64_put(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static inline uint64_t stor_be64_get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* stats key: hall id, NUL, day as big-endian u32 with the sign bit flipped (sorts by day). */
#define STOR_STATS_KEY_MAX (ENG_ID_MAX + 5)
static inline size_t stor_stats_key(char out[STOR_STATS_KEY_MAX], const char *hall, size_t hl,
                                    int32_t day)
{
    uint32_t d = (uint32_t)day ^ 0x80000000u;
    memcpy(out, hall, hl);
    out[hl] = 0;
    out[hl + 1] = (char)(d >> 24);
    out[hl + 2] = (char)(d >> 16);
    out[hl + 3] = (char)(d >> 8);
    out[hl + 4] = (char)d;
    return hl + 5;
}

/* day record key (days.c): the stats key with 0x01 in place of the NUL. */
size_t stor_dayrec_key(char out[STOR_STATS_KEY_MAX], const char *hall, size_t hl, int32_t day);

/* Hall ids match [a-z0-9][a-z0-9-]{0,31} (SPEC §2). */
static inline bool stor_id_ok(const char *id, size_t n)
{
    if (n == 0 || n > ENG_ID_MAX || id[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* Parsed log value header. */
typedef struct stor_loghdr {
    const char *hall;
    size_t hall_len;
    uint64_t seq;
    int64_t at;
    const char *ev; /* the msgpack event */
    size_t ev_len;
} stor_loghdr;

static inline int stor_loghdr_parse(const void *val, size_t len, stor_loghdr *h)
{
    const unsigned char *p = val;
    if (len < STOR_LOG_HDR_FIXED || p[0] != STOR_LOG_MAGIC || p[1] == 0 || p[1] > ENG_ID_MAX ||
        len < (size_t)STOR_LOG_HDR_FIXED + p[1])
        return -1;
    h->hall = (const char *)p + 2;
    h->hall_len = p[1];
    h->seq = stor_be64_get(p + 2 + p[1]);
    h->at = (int64_t)stor_be64_get(p + 10 + p[1]);
    h->ev = (const char *)p + STOR_LOG_HDR_FIXED + p[1];
    h->ev_len = len - STOR_LOG_HDR_FIXED - p[1];
    return 0;
}

#endif
