/*
 * test_recover.c — recovery rebuilds exactly the state that was served:
 * a scripted day with a restart after every step (from the config, from a
 * snapshot plus the log after it), several halls in one log, and a damaged
 * log refused with the database, key and problem named.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "stor_int.h"
#include "stor_live.h"

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
    live_on = false;
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    fx_rmdir(dir);
    dir = NULL;
}

TestSuite(stor_recover, .init = setup, .fini = teardown);

static void start(stor_opts *o)
{
    fx_opts(o, dir);
    stor *s = fx_open(o, &loop);
    live_init(&L, &loop, s, stor_fx_config, STOR_FX_T0);
    live_on = true;
}

/* ---- the scripted day ---------------------------------------------------- */

typedef struct step {
    const char *what;
    int cmd;         /* ENG_CMD_*, 0: tick */
    const char *arg; /* service or counter */
    int ticket;
    uint8_t prio;
    const char *idem;
    bool pii;
    const char *transfer;
    uint8_t score;
    const char *comment;
    int64_t advance_ms;
    bool snapshot; /* take a snapshot after this step */
} step;

#define MINUTE 60000LL

/* ticket: 1-based index of an issued ticket the command names, 0 none */
static const step day_script[] = {
    {.what = "open l01", .cmd = ENG_CMD_COUNTER_OPEN, .arg = "l01"},
    {.what = "open l02", .cmd = ENG_CMD_COUNTER_OPEN, .arg = "l02"},
    {.what = "issue ktp with citizen data",
     .cmd = ENG_CMD_ISSUE,
     .arg = "ktp",
     .idem = "kiosk-1",
     .pii = true,
     .advance_ms = MINUTE},
    {.what = "issue ktp elderly",
     .cmd = ENG_CMD_ISSUE,
     .arg = "ktp",
     .prio = ENG_PRIO_ELDERLY,
     .advance_ms = MINUTE},
    {.what = "issue kk", .cmd = ENG_CMD_ISSUE, .arg = "kk", .advance_ms = MINUTE},
    {.what = "issue kk idem",
     .cmd = ENG_CMD_ISSUE,
     .arg = "kk",
     .idem = "kiosk-2",
     .advance_ms = MINUTE,
     .snapshot = true},
    {.what = "idem retry", .cmd = ENG_CMD_ISSUE, .arg = "kk", .idem = "kiosk-2"},
    {.what = "call l01", .cmd = ENG_CMD_CALL, .arg = "l01", .advance_ms = 2 * MINUTE},
    {.what = "recall l01", .cmd = ENG_CMD_RECALL, .arg = "l01", .advance_ms = MINUTE},
    {.what = "start l01", .cmd = ENG_CMD_START, .arg = "l01", .advance_ms = MINUTE},
    {.what = "finish l01 transfer kk",
     .cmd = ENG_CMD_FINISH,
     .arg = "l01",
     .transfer = "kk",
     .advance_ms = 5 * MINUTE},
    {.what = "call l02", .cmd = ENG_CMD_CALL, .arg = "l02", .advance_ms = MINUTE},
    {.what = "recall l02", .cmd = ENG_CMD_RECALL, .arg = "l02", .advance_ms = MINUTE},
    {.what = "no-show l02",
     .cmd = ENG_CMD_NO_SHOW,
     .arg = "l02",
     .advance_ms = MINUTE,
     .snapshot = true},
    {.what = "reinstate", .cmd = ENG_CMD_REINSTATE, .ticket = 5, .advance_ms = MINUTE},
    {.what = "cancel kk", .cmd = ENG_CMD_CANCEL, .ticket = 3, .advance_ms = MINUTE},
    {.what = "pause l02", .cmd = ENG_CMD_COUNTER_PAUSE, .arg = "l02"},
    {.what = "call l01 again", .cmd = ENG_CMD_CALL, .arg = "l01", .advance_ms = MINUTE},
    {.what = "start l01 again", .cmd = ENG_CMD_START, .arg = "l01", .advance_ms = MINUTE},
    {.what = "finish l01", .cmd = ENG_CMD_FINISH, .arg = "l01", .advance_ms = 4 * MINUTE},
    {.what = "feedback with comment",
     .cmd = ENG_CMD_FEEDBACK,
     .ticket = 1,
     .score = 4,
     .comment = "cepat sekali"},
    {.what = "resume l02", .cmd = ENG_CMD_COUNTER_RESUME, .arg = "l02", .advance_ms = MINUTE},
    {.what = "tick", .advance_ms = 2000},
    {.what = "call l02 specific",
     .cmd = ENG_CMD_CALL,
     .arg = "l02",
     .ticket = 5,
     .advance_ms = MINUTE,
     .snapshot = true},
    {.what = "issue late", .cmd = ENG_CMD_ISSUE, .arg = "ktp", .advance_ms = 14 * 60 * MINUTE},
    {.what = "next day rollover", .advance_ms = 10 * 60 * MINUTE},
    {.what = "issue next day",
     .cmd = ENG_CMD_ISSUE,
     .arg = "ktp",
     .idem = "kiosk-1",
     .pii = true,
     .advance_ms = MINUTE},
    {.what = "close l01", .cmd = ENG_CMD_COUNTER_CLOSE, .arg = "l01"},
};

#define MAX_TIDS 32

static void run_step(const step *st, uint8_t tids[MAX_TIDS][ENG_TID_LEN], int *ntids)
{
    L.now += st->advance_ms;
    if (st->cmd == 0) {
        live_tick(&L);
        return;
    }
    eng_cmd c = {.type = (uint8_t)st->cmd};
    if (st->cmd == ENG_CMD_ISSUE) {
        c.service = st->arg;
        c.prio = st->prio;
        c.idem = st->idem;
        live_fill_id(&L, c.tid, sizeof c.tid);
        live_fill_id(&L, c.secret, sizeof c.secret);
        if (st->pii) {
            c.phone = "081234567890";
            c.name = "Siti Rahayu";
            c.nik = "3173000000000001";
        }
    } else {
        c.counter = st->arg;
        c.transfer_to = st->transfer;
        c.score = st->score;
        c.comment = st->comment;
        if (st->ticket > 0 && st->ticket <= *ntids) {
            c.has_ticket = true;
            memcpy(c.tid, tids[st->ticket - 1], ENG_TID_LEN);
        }
    }
    eng_result res;
    live_cmd(&L, &c, &res);
    if (st->cmd == ENG_CMD_ISSUE && res.rc == 0 && !res.replayed && *ntids < MAX_TIDS)
        memcpy(tids[(*ntids)++], res.ticket.tid, ENG_TID_LEN);
}

static void scripted_day(bool restart_each_step)
{
    stor_opts o;
    start(&o);
    uint8_t tids[MAX_TIDS][ENG_TID_LEN];
    int ntids = 0;
    for (size_t i = 0; i < sizeof day_script / sizeof day_script[0]; i++) {
        run_step(&day_script[i], tids, &ntids);
        if (day_script[i].snapshot)
            live_snapshot(&L);
        live_sync(&L);
        if (restart_each_step) {
            live_restart(&L, &o);
            live_assert_same(&L, day_script[i].what);
        }
    }
    cr_assert_geq(ntids, 6);
    live_restart(&L, &o);
    live_assert_same(&L, "end of day");
}

Test(stor_recover, scripted_day_restart_after_every_step)
{
    scripted_day(true);
}

Test(stor_recover, scripted_day_one_restart)
{
    scripted_day(false);
}

Test(stor_recover, hall_without_events_comes_back)
{
    stor_opts o;
    start(&o);
    live_sync(&L);
    L.now += 3 * 86400000LL; /* restart days later: still the day it was created */
    live_restart(&L, &o);
    live_assert_same(&L, "no events");
    eng_cmd c = {.type = ENG_CMD_COUNTER_OPEN, .counter = "l01"};
    eng_result res;
    cr_assert_eq(live_cmd(&L, &c, &res), 0); /* rolls over, in both */
    live_sync(&L);
    live_restart(&L, &o);
    live_assert_same(&L, "after the first command days later");
}

/* Recovery keeps the loop-side bookkeeping: the next append continues the seq. */
Test(stor_recover, appends_continue_after_recovery)
{
    stor_opts o;
    start(&o);
    for (int i = 0; i < 5; i++) {
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp"};
        live_fill_id(&L, c.tid, 16);
        live_fill_id(&L, c.secret, 16);
        eng_result res;
        cr_assert_eq(live_cmd(&L, &c, &res), 0);
    }
    live_sync(&L);
    live_restart(&L, &o);
    cr_assert_eq(stor_append(L.s, "h1", 5, STOR_FX_T0, "x", 1), ANT_EINTERNAL); /* not last+1 */
    eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "kk"};
    live_fill_id(&L, c.tid, 16);
    live_fill_id(&L, c.secret, 16);
    eng_result res;
    cr_assert_eq(live_cmd(&L, &c, &res), 0);
    live_sync(&L);
    cr_assert(stor_snapshot_due(L.s, "h1", L.now), "a hall with no snapshot is due");
    live_restart(&L, &o);
    live_assert_same(&L, "after appending past recovery");
}

/* ---- many halls, one log --------------------------------------------------- */

static char *hall_config(const char *id, int offset)
{
    size_t n = strlen(stor_fx_config) + 64;
    char *cfg = malloc(n);
    const char *rest = strstr(stor_fx_config, "\"name\"");
    snprintf(cfg, n, "{\"id\":\"%s\",%s", id, rest);
    char *off = strstr(cfg, "420");
    char num[4];
    snprintf(num, sizeof num, "%03d", offset);
    memcpy(off, num, 3);
    return cfg;
}

typedef struct many {
    eng_hall *got[8];
    int n;
} many;

static int take_many(void *arg, eng_hall *h)
{
    many *m = arg;
    cr_assert_lt(m->n, 8);
    m->got[m->n++] = h;
    return 0;
}

Test(stor_recover, many_halls_interleaved)
{
    stor_opts o;
    fx_opts(&o, dir);
    stor *s = fx_open(&o, &loop);
    enum { NH = 5 };
    live halls[NH];
    char ids[NH][8];
    for (int i = 0; i < NH; i++) {
        snprintf(ids[i], sizeof ids[i], "hall-%d", i);
        char *cfg = hall_config(ids[i], 420 + i * 60 - 120);
        live_init(&halls[i], &loop, s, cfg, STOR_FX_T0);
        halls[i].rng += (uint64_t)i;
        free(cfg);
        eng_cmd c = {.type = ENG_CMD_COUNTER_OPEN, .counter = "l01"};
        eng_result res;
        cr_assert_eq(live_cmd(&halls[i], &c, &res), 0);
    }
    for (int round = 0; round < 200; round++) {
        live *h = &halls[(round * 7) % NH];
        h->now += 10000;
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = round % 3 ? "ktp" : "kk"};
        live_fill_id(h, c.tid, 16);
        live_fill_id(h, c.secret, 16);
        eng_result res;
        cr_assert_eq(live_cmd(h, &c, &res), 0);
        if (round % 4 == 1) {
            eng_cmd call = {.type = ENG_CMD_CALL, .counter = "l01"};
            live_cmd(h, &call, &res);
            eng_cmd st = {.type = ENG_CMD_START, .counter = "l01"};
            live_cmd(h, &st, &res);
            eng_cmd fin = {.type = ENG_CMD_FINISH, .counter = "l01"};
            live_cmd(h, &fin, &res);
        }
        if (round == 100)
            live_snapshot(&halls[2]); /* one hall from a snapshot, the others from config */
        if (round % 16 == 0)
            live_sync(h);
    }
    live_sync(&halls[0]);
    fx_close(s, &loop);
    s = fx_open(&o, &loop);
    many m = {0};
    char msg[256];
    cr_assert_eq(stor_recover(s, STOR_FX_T0, take_many, &m, msg), 0, "%s", msg);
    cr_assert_eq(m.n, NH);
    for (int i = 0; i < m.n; i++) {
        const char *id = eng_hall_config(m.got[i])->id;
        int k = id[5] - '0';
        char *a, *b;
        size_t na, nb;
        eng_snapshot_encode(m.got[i], &a, &na);
        eng_snapshot_encode(halls[k].ref, &b, &nb);
        cr_assert(na == nb && memcmp(a, b, na) == 0, "hall %s differs", id);
        free(a);
        free(b);
        eng_hall_free(m.got[i]);
    }
    fx_close(s, &loop);
    for (int i = 0; i < NH; i++)
        live_free(&halls[i]);
}

/* ---- a damaged log is refused ------------------------------------------------ */

static int take_and_free(void *arg, eng_hall *h)
{
    (void)arg;
    eng_hall_free(h);
    return 0;
}

static void damaged_case(void (*damage)(fx_raw *r), const char *want1, const char *want2)
{
    stor_opts o;
    start(&o);
    for (int i = 0; i < 10; i++) {
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp"};
        live_fill_id(&L, c.tid, 16);
        live_fill_id(&L, c.secret, 16);
        eng_result res;
        cr_assert_eq(live_cmd(&L, &c, &res), 0);
    }
    live_sync(&L);
    fx_close(L.s, &loop);
    fx_raw r;
    fx_raw_open(&r, dir, true);
    damage(&r);
    fx_raw_close(&r, true);
    L.s = fx_open(&o, &loop);
    char msg[256];
    int rc = stor_recover(L.s, L.now, take_and_free, NULL, msg);
    cr_assert_eq(rc, ANT_EINTERNAL, "damage not noticed");
    cr_assert(strstr(msg, want1) && strstr(msg, want2), "message: %s", msg);
}

static void drop_key5(fx_raw *r)
{
    unsigned char kb[8];
    stor_be64_put(kb, 5);
    MDB_val k = {8, kb};
    cr_assert_eq(mdb_del(r->txn, r->log, &k, NULL), 0);
}

Test(stor_recover, seq_gap_names_the_key)
{
    damaged_case(drop_key5, "db log, key 6", "gap");
}

static void garble_key3(fx_raw *r)
{
    unsigned char kb[8];
    stor_be64_put(kb, 3);
    MDB_val k = {8, kb}, v;
    cr_assert_eq(mdb_get(r->txn, r->log, &k, &v), 0);
    char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    size_t hdr = STOR_LOG_HDR_FIXED + 2;
    memset(copy + hdr, 0xc1, v.mv_size - hdr); /* 0xc1: never valid msgpack */
    MDB_val nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(r->txn, r->log, &k, &nv, 0), 0);
    free(copy);
}

Test(stor_recover, undecodable_event_names_the_key)
{
    damaged_case(garble_key3, "db log, key 3", "undecodable event");
}

static void bad_header_key7(fx_raw *r)
{
    unsigned char kb[8];
    stor_be64_put(kb, 7);
    MDB_val k = {8, kb}, v = {3, "bad"};
    cr_assert_eq(mdb_put(r->txn, r->log, &k, &v, 0), 0);
}

Test(stor_recover, bad_record_header_names_the_key)
{
    damaged_case(bad_header_key7, "db log, key 7", "header");
}

static void foreign_hall(fx_raw *r)
{
    unsigned char kb[8], v[STOR_LOG_HDR_FIXED + 2 + 1];
    stor_be64_put(kb, 11);
    v[0] = STOR_LOG_MAGIC;
    v[1] = 2;
    memcpy(v + 2, "zz", 2);
    stor_be64_put(v + 4, 1);
    stor_be64_put(v + 12, 0);
    v[20] = 0x80;
    MDB_val k = {8, kb}, val = {sizeof v, v};
    cr_assert_eq(mdb_put(r->txn, r->log, &k, &val, 0), 0);
}

Test(stor_recover, record_of_unknown_hall_names_the_key)
{
    damaged_case(foreign_hall, "db log, key 11", "'zz'");
}

static void bad_snapshot(fx_raw *r)
{
    unsigned char v[STOR_SNAP_HDR + 4] = {STOR_SNAP_MAGIC};
    stor_be64_put(v + 1, 5);
    stor_be64_put(v + 9, 4);
    memcpy(v + STOR_SNAP_HDR, "junk", 4);
    MDB_val k = {2, "h1"}, val = {sizeof v, v};
    cr_assert_eq(mdb_put(r->txn, r->snap, &k, &val, 0), 0);
}

Test(stor_recover, bad_snapshot_names_the_key)
{
    damaged_case(bad_snapshot, "db snap, key h1", ":");
}

static void bad_config(fx_raw *r)
{
    MDB_val k = {7, "hall/h1"}, v = {9, "{\"id\":1}"};
    cr_assert_eq(mdb_put(r->txn, r->meta, &k, &v, 0), 0);
}

Test(stor_recover, bad_config_names_the_key)
{
    damaged_case(bad_config, "db meta, key hall/h1", "config");
}
