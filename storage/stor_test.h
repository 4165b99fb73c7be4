/*
 * stor_test.h — fault injection into the storage writer, for tests only.
 *
 * The writer asks at a few named points whether to fail there:
 *   "stor/commit"  before mdb_txn_commit: the transaction is aborted and the
 *                  commit fails with the returned errno (nothing written);
 *   "stor/fsync"   the fsync of a commit (always mode: reported after the
 *                  commit as its failure; batch mode: the periodic
 *                  mdb_env_sync) fails with the returned errno;
 *   "stor/put"     an mdb_put of a batch fails with the returned code (errno or
 *                  MDB_*, e.g. MDB_MAP_FULL to exercise map growth).
 * A hook returns 0 to go on, or the error to inject. Without a hook the
 * points ask libfiu (fiu_fail) when storage is built with FIU_ENABLE and
 * linked with libfiu, so `fiu_enable("stor/commit", EIO, NULL, 0)` works too.
 * Never used by the server itself.
 */
#ifndef STOR_TEST_H
#define STOR_TEST_H

typedef struct stor stor;
typedef int (*stor_fault_fn)(void *arg, const char *point);

/* Install (or with fn NULL remove) the hook; any thread. arg is borrowed. */
void stor_test_set_fault(stor *s, stor_fault_fn fn, void *arg);

#endif
