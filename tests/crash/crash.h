/*
 * crash.h — the storage crash test (storage-crash-test): a child process
 * serves one hall on a real data directory, persisting through storage, and
 * prints each command only after its stor_when_durable completion; the
 * parent SIGKILLs it at random moments, restarts it on the same directory
 * and checks that what was acknowledged survived, that no command is half
 * applied, and that the recovered hall equals a hall that ran the same
 * commands without ever crashing (and a replay of the whole log).
 *
 * Commands are a pure function of (seed, index) and the state, so the parent
 * can run the same stream through a reference hall. They come in groups
 * (also fixed by seed and index) that the child applies within one loop
 * turn; storage must persist a loop turn all or nothing, so the recovered
 * seq must end at a group boundary.
 */
#ifndef CRASH_H
#define CRASH_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "engine.h"

#define CRASH_T0 1767200400000LL /* 2025-12-31 17:00 UTC = 2026-01-01 00:00 in the hall (UTC+7) */
#define CRASH_STEP_MS 60000      /* hall time between two commands: a day is 1,440 of them */
#define CRASH_HALL "crash"

extern const char crash_config[];

/* Apply command `idx` of stream `seed` to h; events (if any) land in out. Returns eng's rc. */
int crash_apply(eng_hall *h, uint64_t seed, uint64_t idx, eng_evbuf *out, eng_result *res,
                bool *is_issue, uint8_t tid[ENG_TID_LEN]);
int64_t crash_time(uint64_t idx);
/* True when command idx begins a group. */
bool crash_group_start(uint64_t seed, uint64_t idx);
eng_hall *crash_new_hall(void);

/* The child: serve from `start` until killed. Never returns normally. */
int crash_child(const char *dir, uint64_t seed, uint64_t start);

#endif
