/*
 * storage.h — durable state in one LMDB environment (SPEC §6, DESIGN.md).
 *
 * Named databases: `log` (key: global big-endian u64 log position, value:
 * a small header — hall, hall seq, time — then the full-mode msgpack event
 * from codec.h, so recovery routes and retention dates without decoding),
 * `snap` (latest snapshot per hall, with its log position), `meta` (format
 * version, halls with their first config and creation time, tokens,
 * retention progress), `stats` (closed days' stats).
 *
 * Threads: the libuv loop thread calls everything here except where noted;
 * one writer thread owns the LMDB write transaction. Records appended during
 * one loop turn are handed to the writer as one batch (one transaction, one
 * fsync); completions run on the loop thread, in append order, only after
 * their batch is durable. The hand-off queue is bounded (64 MiB): when the
 * disk falls that far behind, the loop waits at the end of its turn. A
 * failed commit stops the writer for good: every pending and later write
 * completes with ANT_EUNAVAILABLE; reads keep working. This module must
 * never acknowledge anything that is not committed (in `always` mode) and
 * never retries a failed commit.
 */
#ifndef STOR_STORAGE_H
#define STOR_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine.h"

enum stor_durability {
    STOR_ALWAYS = 0, /* reply after commit + fsync (default) */
    STOR_BATCH,      /* commit at least every 100 ms; completions do not wait */
    STOR_NONE,       /* no fsync at all; completions do not wait */
};
const char *stor_durability_name(int d);      /* "always" | "batch" | "none" */
int stor_durability_from_name(const char *s); /* -1 when unknown */

typedef struct stor_opts {
    const char *dir;            /* data directory; created if missing */
    int durability;             /* enum stor_durability */
    uint64_t map_size;          /* initial LMDB map size, bytes (default 64 MiB) */
    uint64_t max_data_size;     /* map may grow up to this (default 16 GiB) */
    uint32_t snap_every_events; /* snapshot a hall after this many events (default 10000) */
    uint32_t snap_every_s;      /* … or this many seconds after its last one (default 300) */
    uint32_t keep_days;         /* prune the log of older days (default 400) */
    uint32_t keep_pii_days;     /* erase citizen data from older records (default 30) */
} stor_opts;
void stor_opts_default(stor_opts *o);

typedef struct stor stor;

/*
 * Open (creating if needed) the environment in o->dir and start the writer
 * thread; `loop` receives completions. A format-version mismatch or an
 * unreadable meta record fails with ANT_EUNAVAILABLE and msg naming the
 * database, key and problem; nothing is overwritten. So does a directory
 * another process has open (one server per data directory: an flock on
 * data.mdb). *out caller-owned.
 */
int stor_open(const stor_opts *o, uv_loop_t *loop, stor **out, char msg[256]);

/*
 * Stop: hand over what is pending, wait for the writer to commit it, run the
 * remaining completions, join the thread, close the environment, free. Safe
 * with NULL. Must be called on the loop thread with the loop still alive;
 * its loop handles end through uv_close, so run the loop once more (e.g.
 * uv_run(loop, UV_RUN_NOWAIT)) before uv_loop_close.
 */
void stor_close(stor *s);

/*
 * Recovery, before serving: rebuild every stored hall from its newest
 * snapshot (or its stored config) plus the log after it, through
 * eng_snapshot_decode / codec_event_decode / eng_replay. Calls fn once per
 * hall with a hall the callee then owns (fn's non-zero return stops the calls,
 * frees the halls not yet handed over, and is returned). Loop thread; also
 * primes stor_append's seq check and stor_snapshot_due. Returns 0, or
 * ANT_EINTERNAL with msg naming the database, key and problem (corrupt
 * record, seq gap).
 */
typedef int (*stor_hall_fn)(void *arg, eng_hall *hall);
int stor_recover(stor *s, int64_t now, stor_hall_fn fn, void *arg, char msg[256]);

/* ---- writes (loop thread) --------------------------------------------- */

/*
 * Register a new hall with its config JSON (copied; it must parse with
 * eng_config_parse and carry this id) and the `created` time given to
 * eng_hall_new — what recovery starts from while the hall has no snapshot
 * (the hall's first day must come back exactly). Part of the current batch.
 * ANT_EBADREQ for a bad config; ANT_ESTATE when the hall already has events
 * or a snapshot (config changes of a live hall are hall.config events).
 * stor_put_hall is stor_put_hall_at with the wall clock as `created`.
 */
int stor_put_hall_at(stor *s, const char *hall, int64_t created, const char *config_json,
                     size_t len);
int stor_put_hall(stor *s, const char *hall, const char *config_json, size_t len);

/*
 * Append one stored event (full-mode msgpack from codec_event_msgpack,
 * copied) for hall/seq to the current batch. ANT_EUNAVAILABLE once the
 * writer has failed. Events of one hall must be appended in seq order:
 * ANT_EINTERNAL for a hall not stored (stor_put_hall / recovered) or a seq
 * that is not the hall's last + 1. So every event that takes a hall seq is
 * appended, service.wait included (the engine numbers and replays it). All
 * events appended in one loop turn are committed together or not at all.
 */
int stor_append(stor *s, const char *hall, uint64_t seq, int64_t at, const void *rec, size_t len);

/*
 * Call fn(arg, rc) on the loop thread once everything appended so far is
 * durable (rc 0) or can never be (rc ANT_EUNAVAILABLE). In batch/none
 * modes fn runs at the end of the current loop turn without waiting.
 */
typedef void (*stor_done_fn)(void *arg, int rc);
int stor_when_durable(stor *s, stor_done_fn fn, void *arg);

/* Store a hall snapshot (bytes from eng_snapshot_encode, copied) at the current log position. */
int stor_put_snapshot(stor *s, const char *hall, const void *snap, size_t len);
/* True when a hall is due for a snapshot (events or seconds since its last one). */
bool stor_snapshot_due(stor *s, const char *hall, int64_t now);

/* Closed-day statistics blob (opaque to storage), keyed by hall and day. */
int stor_put_stats(stor *s, const char *hall, int32_t day, const void *blob, size_t len);
/* A day record for reports (engine/report.h; opaque here), keyed by hall and day (days.c). */
int stor_put_dayrec(stor *s, const char *hall, int32_t day, const void *rec, size_t len);

/*
 * Retention (SPEC §6 data keeping): delete log records of hall-local days
 * older than keep_days, but only records already covered by their hall's
 * snapshot and of days whose stats are stored (stor_put_stats); rewrite
 * records of days older than keep_pii_days with citizen data (phone, name,
 * NIK) and feedback comments erased. 0 disables either. Runs in the writer
 * thread after the current batch, in bounded chunks interleaved with normal
 * commits; call it about once a day. Progress: stor_metrics retention_*.
 * 0, or ANT_EUNAVAILABLE once the writer has failed.
 */
int stor_retention_run(stor *s, int64_t now);

/* Tokens: opaque records keyed by token id. */
int stor_put_token(stor *s, const char *id, const void *rec, size_t len);
int stor_del_token(stor *s, const char *id);

/* ---- reads (any thread; own read transaction) -------------------------- */

/* Copy out a closed day's stats blob: *blob malloc'ed, caller frees. ANT_ENOTFOUND when none. */
int stor_get_stats(stor *s, const char *hall, int32_t day, void **blob, size_t *len);
/*
 * Call fn(arg, day, rec, len) for each stored day record of hall with day in
 * [from, to], oldest first; rec is valid during the call only. fn runs
 * inside a read transaction (no copy of a year of records): it must be quick
 * and must not call storage. fn's non-zero return stops the walk and is
 * returned; else 0 or ANT_E*.
 */
typedef int (*stor_dayrec_fn)(void *arg, int32_t day, const void *rec, size_t len);
int stor_get_dayrecs(stor *s, const char *hall, int32_t from, int32_t to, stor_dayrec_fn fn,
                     void *arg);
typedef int (*stor_token_fn)(void *arg, const char *id, const void *rec, size_t len);
int stor_tokens_each(stor *s, stor_token_fn fn, void *arg);

/*
 * The newest events of each named hall, oldest first (for a restarted
 * server's `since` history): up to max per hall, read with one backward pass
 * over the log. fn gets each event (valid during the call only) and may not
 * call storage; a non-zero return stops the walk and is returned. Returns 0,
 * or an ANT_E* code with msg naming the problem. Loop thread, after recovery.
 */
typedef int (*stor_event_fn)(void *arg, const char *hall, const eng_event *ev);
int stor_log_tail(stor *s, const char *const *halls, size_t nhalls, uint32_t max, stor_event_fn fn,
                  void *arg, char msg[256]);

/* 0 while writable, else ANT_EUNAVAILABLE with the reason (no citizen data) in msg. */
int stor_health(stor *s, char msg[256]);

/*
 * Consistent compacted copy of the environment into dest_dir (created,
 * must be empty) while the server runs (mdb_env_copy2 + MDB_CP_COMPACT).
 * Blocking: call from a worker thread (uv_queue_work) or a CLI.
 */
int stor_backup(stor *s, const char *dest_dir, char msg[256]);

/* Figures for /metrics. */
typedef struct stor_metrics {
    uint64_t commits, events, bytes;
    /* batch sizes (events per commit): 1, 2-3, 4-15, 16-63, 64-255, 256-1023, 1024-4095, more */
    uint64_t batch_hist[8];
    /* commit+fsync latency (µs): ≤100, ≤250, ≤500, ≤1k, ≤2.5k, ≤5k, ≤10k, ≤50k, ≤250k, more */
    uint64_t commit_us_hist[10];
    uint64_t commit_us_sum;
    uint64_t map_size;
    bool failed;
    uint64_t retention_runs;    /* completed stor_retention_run passes */
    uint64_t retention_deleted; /* log records deleted by retention */
    uint64_t retention_erased;  /* log records rewritten without citizen data */
} stor_metrics;
void stor_metrics_get(stor *s, stor_metrics *m);

#endif
