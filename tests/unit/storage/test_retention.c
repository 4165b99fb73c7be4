/*
 * test_retention.c — keep_days and keep_pii_days: old records go only when
 * their hall's snapshot covers them and their day's stats are stored;
 * citizen data and feedback comments are erased from records older than
 * keep_pii_days and kept in younger ones; recovery still gives the same state.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ant_test.h"
#include "stor_int.h"
#include "stor_live.h"

#define DAY 86400000LL

static uv_loop_t loop;
static char *dir;
static live L;
static bool live_on;

static void setup(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    dir = fx_tmpdir();
    live_on = false;
}

static void teardown(void)
{
    if (live_on) {
        fx_close(L.s, &loop);
        live_free(&L);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    fx_rmdir(dir);
}

TestSuite(stor_retention, .init = setup, .fini = teardown);

static eng_result cmd(int type, const char *arg, bool pii)
{
    eng_cmd c = {.type = (uint8_t)type};
    if (type == ENG_CMD_ISSUE) {
        c.service = arg;
        live_fill_id(&L, c.tid, 16);
        live_fill_id(&L, c.secret, 16);
        if (pii) {
            c.phone = "081234567890";
            c.name = "Budi Santoso";
            c.nik = "3173000000000002";
        }
    } else {
        c.counter = arg;
    }
    eng_result res;
    cr_assert_eq(live_cmd(&L, &c, &res), 0, "%s", res.msg);
    return res;
}

static void serve_one(void)
{
    cmd(ENG_CMD_CALL, "l01", false);
    cmd(ENG_CMD_START, "l01", false);
    cmd(ENG_CMD_FINISH, "l01", false);
}

static void wait_runs(uint64_t runs)
{
    stor_metrics m;
    for (int i = 0; i < 1000; i++) {
        stor_metrics_get(L.s, &m);
        if (m.retention_runs >= runs)
            return;
        fx_run_turn(&loop);
        usleep(2000);
    }
    cr_assert_fail("retention did not finish");
}

typedef struct seen_rec {
    int32_t day;
    int type;
    bool pii, comment;
} seen_rec;

/* Every log record's hall-local day, type and whether it still has citizen data. */
static size_t scan(seen_rec *out, size_t cap, uint64_t *pii_pos)
{
    fx_raw r;
    fx_raw_open(&r, dir, false);
    MDB_cursor *c;
    mdb_cursor_open(r.txn, r.log, &c);
    MDB_val k, v;
    eng_evbuf arena;
    eng_evbuf_init(&arena);
    size_t n = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && n < cap;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        stor_loghdr h;
        cr_assert_eq(stor_loghdr_parse(v.mv_data, v.mv_size, &h), 0);
        eng_event ev;
        char msg[200];
        eng_evbuf_reset(&arena);
        cr_assert_eq(codec_event_decode(h.ev, h.ev_len, &ev, &arena, msg), 0, "%s", msg);
        out[n].day = eng_hall_day_of(L.ref, h.at);
        out[n].type = ev.type;
        out[n].pii = ev.has_pii;
        out[n].comment = ev.comment != NULL;
        n++;
    }
    mdb_cursor_close(c);
    eng_evbuf_free(&arena);
    MDB_val pk = {7, "pii_pos"}, pv;
    *pii_pos = mdb_get(r.txn, r.meta, &pk, &pv) == 0 ? stor_be64_get(pv.mv_data) : 0;
    fx_raw_close(&r, false);
    return n;
}

Test(stor_retention, deletes_covered_days_and_erases_citizen_data)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.keep_days = 400;
    o.keep_pii_days = 30;
    stor *s = fx_open(&o, &loop);
    const int64_t t0 = STOR_FX_T0;
    live_init(&L, &loop, s, stor_fx_config, t0);
    live_on = true;
    const int32_t day_a = eng_hall_day_of(L.ref, t0);

    /* day A: served, stats stored */
    cmd(ENG_CMD_COUNTER_OPEN, "l01", false);
    cmd(ENG_CMD_ISSUE, "ktp", true);
    serve_one();
    L.now = t0 + DAY;
    live_tick(&L); /* rollover into A+1 */
    cr_assert_eq(stor_put_stats(L.s, "h1", day_a, "stats-a", 7), 0);
    /* day A+2: old, but no stats stored */
    L.now = t0 + 2 * DAY;
    cmd(ENG_CMD_ISSUE, "kk", true);
    /* day A+400: kept, citizen data erased */
    L.now = t0 + 400 * DAY;
    cmd(ENG_CMD_COUNTER_OPEN, "l01", false);
    eng_result issued = cmd(ENG_CMD_ISSUE, "ktp", true);
    serve_one();
    eng_cmd fb = {.type = ENG_CMD_FEEDBACK, .has_ticket = true, .score = 3, .comment = "ramah"};
    memcpy(fb.tid, issued.ticket.tid, 16);
    eng_result res;
    cr_assert_eq(live_cmd(&L, &fb, &res), 0, "%s", res.msg);
    live_snapshot(&L);
    /* day A+450: after the snapshot, erased */
    L.now = t0 + 450 * DAY;
    cmd(ENG_CMD_ISSUE, "ktp", true);
    /* day A+499: young, untouched */
    L.now = t0 + 499 * DAY;
    cmd(ENG_CMD_ISSUE, "ktp", true);
    live_sync(&L);

    const int64_t now = t0 + 500 * DAY;
    cr_assert_eq(stor_retention_run(L.s, now), 0);
    wait_runs(1);
    stor_metrics m;
    stor_metrics_get(L.s, &m);
    cr_assert_gt(m.retention_deleted, 0);
    cr_assert_gt(m.retention_erased, 0);
    uint64_t deleted = m.retention_deleted, erased = m.retention_erased;

    /* again: nothing left to do */
    cr_assert_eq(stor_retention_run(L.s, now), 0);
    wait_runs(2);
    stor_metrics_get(L.s, &m);
    cr_assert_eq(m.retention_deleted, deleted);
    cr_assert_eq(m.retention_erased, erased);

    live_restart(&L, &o); /* also closes: the raw scan below needs it closed */
    live_assert_same(&L, "after retention");
    fx_close(L.s, &loop);
    seen_rec recs[256];
    uint64_t pii_pos;
    size_t n = scan(recs, 256, &pii_pos);
    L.s = fx_open(&o, &loop);
    bool saw_a1 = false, saw_young_pii = false, saw_comment = false;
    for (size_t i = 0; i < n; i++) {
        cr_assert_neq(recs[i].day, day_a, "a record of day A survived");
        if (recs[i].day == day_a + 1)
            saw_a1 = true;
        if (recs[i].day < day_a + 470)
            cr_assert(!recs[i].pii && !recs[i].comment, "day A+%d kept citizen data",
                      recs[i].day - day_a);
        if (recs[i].day == day_a + 499 && recs[i].type == ENG_EV_TICKET_ISSUED)
            saw_young_pii = recs[i].pii;
        saw_comment |= recs[i].comment;
    }
    cr_assert(saw_a1, "day A+1 has no stats: it must stay");
    cr_assert(saw_young_pii, "a young record lost its citizen data");
    cr_assert(!saw_comment);
    cr_assert_eq(deleted + n, eng_hall_seq(L.ref));
    cr_assert_gt(pii_pos, 0);
}

Test(stor_retention, nothing_goes_without_a_snapshot)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.keep_days = 10;
    o.keep_pii_days = 0; /* erasing off */
    stor *s = fx_open(&o, &loop);
    live_init(&L, &loop, s, stor_fx_config, STOR_FX_T0);
    live_on = true;
    const int32_t day_a = eng_hall_day_of(L.ref, STOR_FX_T0);
    cmd(ENG_CMD_ISSUE, "ktp", true);
    cr_assert_eq(stor_put_stats(L.s, "h1", day_a, "s", 1), 0);
    live_sync(&L);
    cr_assert_eq(stor_retention_run(L.s, STOR_FX_T0 + 100 * DAY), 0);
    wait_runs(1);
    stor_metrics m;
    stor_metrics_get(L.s, &m);
    cr_assert_eq(m.retention_deleted, 0);
    cr_assert_eq(m.retention_erased, 0);
    live_restart(&L, &o);
    live_assert_same(&L, "no snapshot");
}

Test(stor_retention, runs_between_commits_in_chunks)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.keep_days = 5;
    o.keep_pii_days = 2;
    stor *s = fx_open(&o, &loop);
    live_init(&L, &loop, s, stor_fx_config, STOR_FX_T0);
    live_on = true;
    const int32_t day_a = eng_hall_day_of(L.ref, STOR_FX_T0);
    for (int i = 0; i < 5000; i++) {
        L.now += 1000;
        cmd(ENG_CMD_ISSUE, i % 2 ? "ktp" : "kk", i % 3 == 0);
        if (i % 500 == 0)
            live_sync(&L);
    }
    cr_assert_eq(stor_put_stats(L.s, "h1", day_a, "s", 1), 0);
    L.now = STOR_FX_T0 + 8 * DAY;
    cmd(ENG_CMD_ISSUE, "ktp", true);
    live_snapshot(&L);
    live_sync(&L);
    cr_assert_eq(stor_retention_run(L.s, STOR_FX_T0 + 10 * DAY), 0);
    /* normal commits keep flowing while it runs */
    for (int i = 0; i < 20; i++) {
        L.now += 1000;
        cmd(ENG_CMD_ISSUE, "ktp", true);
        live_sync(&L);
    }
    wait_runs(1);
    stor_metrics m;
    stor_metrics_get(L.s, &m);
    cr_assert_eq(m.retention_deleted, 5000, "%llu", (unsigned long long)m.retention_deleted);
    live_restart(&L, &o);
    live_assert_same(&L, "chunked retention");
}
