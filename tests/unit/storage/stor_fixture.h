/*
 * stor_fixture.h — shared helpers of the storage tests: a fresh data
 * directory under /tmp per test (removed at the end), a loop, running it
 * until a flag flips, a valid hall config, and raw LMDB access for checking
 * (and damaging) what storage wrote, used only while no stor is open.
 */
#ifndef STOR_FIXTURE_H
#define STOR_FIXTURE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "storage.h"

extern const char stor_fx_config[]; /* hall "h1", open every day 00:00–24:00 */
#define STOR_FX_T0 1767232800000LL  /* 2026-01-01 02:00 UTC (09:00 in the hall, UTC+7) */

char *fx_tmpdir(void);    /* mkdtemp'd directory; free with fx_rmdir */
void fx_rmdir(char *dir); /* rm -rf and free */
void fx_opts(stor_opts *o, const char *dir);
stor *fx_open(const stor_opts *o, uv_loop_t *loop); /* asserts success */
void fx_close(stor *s, uv_loop_t *loop);            /* stor_close + run the loop to finish */
/* Run the loop until *flag is true or ms pass; returns *flag. */
bool fx_run_until(uv_loop_t *loop, volatile bool *flag, int ms);
void fx_run_turn(uv_loop_t *loop); /* one non-blocking turn */

/* Completion recorder. */
typedef struct fx_done {
    bool fired;
    int rc;
    int order;
    int *counter; /* optional shared sequence counter */
} fx_done;
void fx_done_cb(void *arg, int rc);
/* Append + when_durable + wait; returns the completion rc. */
int fx_append_sync(stor *s, uv_loop_t *loop, const char *hall, uint64_t seq, const void *rec,
                   size_t len);

/* Raw LMDB view of a closed data directory. */
typedef struct fx_raw {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi log, snap, meta, stats;
} fx_raw;
void fx_raw_open(fx_raw *r, const char *dir, bool write);
void fx_raw_close(fx_raw *r, bool commit);
size_t fx_raw_count(fx_raw *r, MDB_dbi dbi);

#endif
