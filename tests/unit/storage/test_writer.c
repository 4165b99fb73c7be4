/*
 * test_writer.c — the raw log and the writer: what is appended is what is
 * stored, completions run only after their commit and in order, one loop
 * turn is one transaction, the map grows, and every failure ends in
 * `unavailable` with nothing acknowledged. Records here are opaque bytes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ant_test.h"
#include "stor_fixture.h"
#include "stor_int.h"

static uv_loop_t loop;
static char *dir;
static stor *st;

static void setup(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    dir = fx_tmpdir();
    st = NULL;
}

static void teardown(void)
{
    if (st)
        fx_close(st, &loop);
    st = NULL;
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    fx_rmdir(dir);
    dir = NULL;
}

TestSuite(stor_writer, .init = setup, .fini = teardown);

static void open_with_hall(stor_opts *o)
{
    st = fx_open(o, &loop);
    cr_assert_eq(stor_put_hall(st, "h1", stor_fx_config, strlen(stor_fx_config)), 0);
}

Test(stor_writer, append_and_read_back)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    char rec[64];
    for (uint64_t i = 1; i <= 100; i++) {
        int n = snprintf(rec, sizeof rec, "record %llu", (unsigned long long)i);
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0 + (int64_t)i, rec, (size_t)n), 0);
    }
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    cr_assert(fx_run_until(&loop, &d.fired, 5000));
    cr_assert_eq(d.rc, 0);
    fx_close(st, &loop);
    st = NULL;

    fx_raw r;
    fx_raw_open(&r, dir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 100);
    MDB_cursor *c;
    mdb_cursor_open(r.txn, r.log, &c);
    MDB_val k, v;
    uint64_t want = 1;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), want++) {
        cr_assert_eq(k.mv_size, 8);
        cr_assert_eq(stor_be64_get(k.mv_data), want);
        stor_loghdr h;
        cr_assert_eq(stor_loghdr_parse(v.mv_data, v.mv_size, &h), 0);
        cr_assert_eq(h.hall_len, 2);
        cr_assert_eq(memcmp(h.hall, "h1", 2), 0);
        cr_assert_eq(h.seq, want);
        cr_assert_eq(h.at, STOR_FX_T0 + (int64_t)want);
        int n = snprintf(rec, sizeof rec, "record %llu", (unsigned long long)want);
        cr_assert_eq(h.ev_len, (size_t)n);
        cr_assert_eq(memcmp(h.ev, rec, (size_t)n), 0);
    }
    mdb_cursor_close(c);
    MDB_val fk = {6, "format"}, fv;
    cr_assert_eq(mdb_get(r.txn, r.meta, &fk, &fv), 0);
    cr_assert_eq(fv.mv_size, 1);
    cr_assert_eq(memcmp(fv.mv_data, "1", 1), 0);
    fx_raw_close(&r, false);

    /* reopen: the log continues at the next key */
    st = fx_open(&o, &loop);
    cr_assert_eq(fx_append_sync(st, &loop, "h1", 101, "x", 1), 0);
    fx_close(st, &loop);
    st = NULL;
    fx_raw_open(&r, dir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 101);
    fx_raw_close(&r, false);
}

/* A completion may see its own write through a read: it was committed first. */
typedef struct seen {
    stor *s;
    int32_t day;
    bool fired, found;
    int rc, order;
    int *counter;
} seen;

static void seen_cb(void *arg, int rc)
{
    seen *x = arg;
    void *blob;
    size_t len;
    x->fired = true;
    x->rc = rc;
    x->order = (*x->counter)++;
    x->found = stor_get_stats(x->s, "h1", x->day, &blob, &len) == 0;
    if (x->found)
        free(blob);
}

static int slow_commit(void *arg, const char *point)
{
    (void)arg;
    if (strcmp(point, "stor/commit") == 0)
        usleep(2000);
    return 0;
}

Test(stor_writer, completions_after_commit_in_order)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    stor_test_set_fault(st, slow_commit, NULL);
    enum { N = 40 };
    seen x[N];
    int counter = 0;
    for (int i = 0; i < N; i++) {
        x[i] = (seen){.s = st, .day = 20000 + i, .counter = &counter};
        cr_assert_eq(stor_put_stats(st, "h1", x[i].day, "blob", 4), 0);
        cr_assert_eq(stor_when_durable(st, seen_cb, &x[i]), 0);
        if (i % 4 == 3)
            fx_run_turn(&loop); /* several batches, some in flight at once */
    }
    cr_assert(fx_run_until(&loop, &x[N - 1].fired, 10000));
    for (int i = 0; i < N; i++) {
        cr_assert(x[i].fired);
        cr_assert_eq(x[i].rc, 0);
        cr_assert(x[i].found, "completion %d ran before its commit", i);
        cr_assert_eq(x[i].order, i, "completion %d ran as #%d", i, x[i].order);
    }
}

Test(stor_writer, one_turn_is_one_commit)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    fx_done d0 = {0};
    stor_when_durable(st, fx_done_cb, &d0);
    cr_assert(fx_run_until(&loop, &d0.fired, 5000)); /* the hall on its own */
    stor_metrics m0;
    stor_metrics_get(st, &m0);

    char rec[100];
    memset(rec, 'r', sizeof rec);
    fx_done d[1000];
    memset(d, 0, sizeof d);
    for (uint64_t i = 1; i <= 1000; i++) {
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0, rec, sizeof rec), 0);
        stor_when_durable(st, fx_done_cb, &d[i - 1]);
    }
    cr_assert(fx_run_until(&loop, &d[999].fired, 5000));
    stor_metrics m;
    stor_metrics_get(st, &m);
    cr_assert_eq(m.commits - m0.commits, 1, "1000 appends of one turn took %llu commits",
                 (unsigned long long)(m.commits - m0.commits));
    cr_assert_eq(m.events - m0.events, 1000);
    cr_assert_eq(m.batch_hist[5] - m0.batch_hist[5], 1); /* 256–1023 */
    for (int i = 0; i < 1000; i++)
        cr_assert(d[i].fired && d[i].rc == 0);
    cr_assert_eq(m.failed, false);
}

static int slow_commit10(void *arg, const char *point)
{
    (void)arg;
    if (strcmp(point, "stor/commit") == 0)
        usleep(10000);
    return 0;
}

Test(stor_writer, batches_grow_while_the_writer_is_busy)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    stor_test_set_fault(st, slow_commit10, NULL);
    enum { TURNS = 50 };
    fx_done d[TURNS];
    memset(d, 0, sizeof d);
    for (int i = 0; i < TURNS; i++) {
        cr_assert_eq(stor_append(st, "h1", (uint64_t)i + 1, STOR_FX_T0, "e", 1), 0);
        stor_when_durable(st, fx_done_cb, &d[i]);
        fx_run_turn(&loop);
        usleep(1000);
    }
    cr_assert(fx_run_until(&loop, &d[TURNS - 1].fired, 10000));
    stor_metrics m;
    stor_metrics_get(st, &m);
    cr_assert_lt(m.commits, TURNS / 2, "%llu commits for %d turns", (unsigned long long)m.commits,
                 TURNS);
    cr_assert_eq(m.events, TURNS);
}

Test(stor_writer, format_mismatch_refused_untouched)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    fx_close(st, &loop);
    st = NULL;

    fx_raw r;
    fx_raw_open(&r, dir, true);
    MDB_val k = {6, "format"}, v = {1, "2"};
    cr_assert_eq(mdb_put(r.txn, r.meta, &k, &v, 0), 0);
    fx_raw_close(&r, true);

    stor *s2 = NULL;
    char msg[256];
    cr_assert_eq(stor_open(&o, &loop, &s2, msg), ANT_EUNAVAILABLE);
    cr_assert_null(s2);
    cr_assert(strstr(msg, "meta") && strstr(msg, "format") && strstr(msg, "version 2"), "%s", msg);

    fx_raw_open(&r, dir, true);
    cr_assert_eq(mdb_get(r.txn, r.meta, &k, &v), 0);
    cr_assert_eq(memcmp(v.mv_data, "2", 1), 0, "stor_open overwrote the format");
    MDB_val bad = {3, "x\001y"};
    cr_assert_eq(mdb_put(r.txn, r.meta, &k, &bad, 0), 0);
    fx_raw_close(&r, true);
    cr_assert_eq(stor_open(&o, &loop, &s2, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "meta") && strstr(msg, "format") && strstr(msg, "undecodable"), "%s",
              msg);

    fx_raw_open(&r, dir, true);
    cr_assert_eq(mdb_del(r.txn, r.meta, &k, NULL), 0);
    fx_raw_close(&r, true);
    cr_assert_eq(stor_open(&o, &loop, &s2, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "format") && strstr(msg, "missing"), "%s", msg);
}

Test(stor_writer, foreign_environment_refused)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create(&env);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    MDB_val k = {3, "key"}, v = {5, "value"};
    mdb_put(txn, dbi, &k, &v, 0);
    mdb_txn_commit(txn);
    mdb_env_close(env);

    stor_opts o;
    fx_opts(&o, dir);
    stor *s2 = NULL;
    char msg[256];
    cr_assert_eq(stor_open(&o, &loop, &s2, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "meta") && strstr(msg, "not an antrean"), "%s", msg);
}

Test(stor_writer, one_server_per_directory)
{
    stor_opts o;
    fx_opts(&o, dir);
    st = fx_open(&o, &loop);
    stor *s2 = NULL;
    char msg[256];
    cr_assert_eq(stor_open(&o, &loop, &s2, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "in use"), "%s", msg);
}

Test(stor_writer, map_grows_from_a_tiny_size)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.map_size = 128 << 10;
    o.max_data_size = 64 << 20;
    open_with_hall(&o);
    char *rec = malloc(4000);
    memset(rec, 'g', 4000);
    uint64_t seq = 0;
    for (int turn = 0; turn < 20; turn++) {
        for (int i = 0; i < 50; i++)
            cr_assert_eq(stor_append(st, "h1", ++seq, STOR_FX_T0, rec, 4000), 0);
        fx_done d = {0};
        stor_when_durable(st, fx_done_cb, &d);
        cr_assert(fx_run_until(&loop, &d.fired, 10000));
        cr_assert_eq(d.rc, 0, "turn %d: %d", turn, d.rc);
    }
    free(rec);
    stor_metrics m;
    stor_metrics_get(st, &m);
    cr_assert_geq(m.map_size, 4u << 20, "map %llu", (unsigned long long)m.map_size);
    cr_assert(!m.failed);
    fx_close(st, &loop);
    st = NULL;
    fx_raw r;
    fx_raw_open(&r, dir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 1000);
    fx_raw_close(&r, false);
    /* a grown environment reopens with a small map_size */
    st = fx_open(&o, &loop);
    cr_assert_eq(fx_append_sync(st, &loop, "h1", 1001, "z", 1), 0);
}

Test(stor_writer, map_full_at_the_limit_is_unavailable)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.map_size = 128 << 10;
    o.max_data_size = 512 << 10;
    open_with_hall(&o);
    cr_assert_eq(stor_put_stats(st, "h1", 20100, "kept", 4), 0);
    cr_assert_eq(stor_put_token(st, "t1", "tok", 3), 0);
    fx_done d0 = {0};
    stor_when_durable(st, fx_done_cb, &d0);
    cr_assert(fx_run_until(&loop, &d0.fired, 5000));
    cr_assert_eq(d0.rc, 0);

    char rec[2000];
    memset(rec, 'f', sizeof rec);
    uint64_t seq = 0;
    int last = 0;
    for (int turn = 0; turn < 200 && last == 0; turn++) {
        for (int i = 0; i < 20; i++)
            cr_assert_eq(stor_append(st, "h1", ++seq, STOR_FX_T0, rec, sizeof rec), 0);
        fx_done d = {0};
        stor_when_durable(st, fx_done_cb, &d);
        cr_assert(fx_run_until(&loop, &d.fired, 10000));
        last = d.rc;
    }
    cr_assert_eq(last, ANT_EUNAVAILABLE);
    cr_assert_eq(stor_append(st, "h1", seq + 1, STOR_FX_T0, rec, 10), ANT_EUNAVAILABLE);
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    cr_assert(fx_run_until(&loop, &d.fired, 5000));
    cr_assert_eq(d.rc, ANT_EUNAVAILABLE);
    char msg[256];
    cr_assert_eq(stor_health(st, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "limit"), "%s", msg);
    stor_metrics m;
    stor_metrics_get(st, &m);
    cr_assert(m.failed);
    cr_assert_eq(m.map_size, 512 << 10);
    /* reads keep working */
    void *blob;
    size_t len;
    cr_assert_eq(stor_get_stats(st, "h1", 20100, &blob, &len), 0);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(blob, "kept", 4), 0);
    free(blob);
}

/* ---- injected failures ---------------------------------------------------- */

typedef struct fault_plan {
    const char *point;
    int err;
    int after; /* let this many hits pass first */
    int hits;
} fault_plan;

static int plan_fault(void *arg, const char *point)
{
    fault_plan *p = arg;
    if (strcmp(point, p->point) != 0)
        return 0;
    return p->hits++ >= p->after ? p->err : 0;
}

static void failed_commit_case(const char *point, bool may_be_on_disk)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    cr_assert_eq(fx_append_sync(st, &loop, "h1", 1, "one", 3), 0);
    fault_plan plan = {.point = point, .err = EIO};
    stor_test_set_fault(st, plan_fault, &plan);

    fx_done d[3];
    memset(d, 0, sizeof d);
    cr_assert_eq(stor_append(st, "h1", 2, STOR_FX_T0, "two", 3), 0);
    stor_when_durable(st, fx_done_cb, &d[0]);
    cr_assert_eq(stor_append(st, "h1", 3, STOR_FX_T0, "three", 5), 0);
    stor_when_durable(st, fx_done_cb, &d[1]);
    cr_assert(fx_run_until(&loop, &d[1].fired, 5000));
    cr_assert_eq(d[0].rc, ANT_EUNAVAILABLE);
    cr_assert_eq(d[1].rc, ANT_EUNAVAILABLE);
    /* for good: no retry, later writes refused, later completions unavailable */
    stor_test_set_fault(st, NULL, NULL);
    cr_assert_eq(stor_append(st, "h1", 4, STOR_FX_T0, "four", 4), ANT_EUNAVAILABLE);
    cr_assert_eq(stor_put_token(st, "t", "x", 1), ANT_EUNAVAILABLE);
    stor_when_durable(st, fx_done_cb, &d[2]);
    cr_assert(fx_run_until(&loop, &d[2].fired, 5000));
    cr_assert_eq(d[2].rc, ANT_EUNAVAILABLE);
    char msg[256];
    cr_assert_eq(stor_health(st, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "Input/output"), "%s", msg);
    fx_close(st, &loop);
    st = NULL;

    fx_raw r;
    fx_raw_open(&r, dir, false);
    size_t n = fx_raw_count(&r, r.log);
    fx_raw_close(&r, false);
    if (may_be_on_disk)
        cr_assert(n == 1 || n == 3, "%zu records", n);
    else
        cr_assert_eq(n, 1, "%zu records: a failed commit left data", n);
}

Test(stor_writer, failed_commit_acknowledges_nothing)
{
    failed_commit_case("stor/commit", false);
}

Test(stor_writer, failed_fsync_acknowledges_nothing)
{
    failed_commit_case("stor/fsync", true);
}

Test(stor_writer, failed_put_acknowledges_nothing)
{
    failed_commit_case("stor/put", false);
}

Test(stor_writer, batch_mode_completes_without_waiting)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.durability = STOR_BATCH;
    open_with_hall(&o);
    fault_plan plan = {.point = "stor/commit", .err = 0};
    stor_test_set_fault(st, plan_fault, &plan);
    fx_done d = {0};
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "b", 1), 0);
    stor_when_durable(st, fx_done_cb, &d);
    fx_run_turn(&loop);
    cr_assert(d.fired, "batch mode must not wait for the commit");
    cr_assert_eq(d.rc, 0);
    for (uint64_t i = 2; i <= 50; i++) {
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0, "b", 1), 0);
        fx_run_turn(&loop);
    }
    fx_close(st, &loop);
    st = NULL;
    fx_raw r;
    fx_raw_open(&r, dir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 50);
    fx_raw_close(&r, false);
}

Test(stor_writer, batch_mode_failed_sync_is_unavailable)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.durability = STOR_BATCH;
    open_with_hall(&o);
    fault_plan plan = {.point = "stor/fsync", .err = EIO};
    stor_test_set_fault(st, plan_fault, &plan);
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "b", 1), 0);
    fx_run_turn(&loop);
    char msg[256];
    for (int i = 0; i < 100 && stor_health(st, msg) == 0; i++)
        usleep(10000);
    cr_assert_eq(stor_health(st, msg), ANT_EUNAVAILABLE);
    cr_assert(strstr(msg, "fsync"), "%s", msg);
    cr_assert_eq(stor_append(st, "h1", 2, STOR_FX_T0, "b", 1), ANT_EUNAVAILABLE);
}

Test(stor_writer, none_mode_keeps_data_on_clean_close)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.durability = STOR_NONE;
    open_with_hall(&o);
    for (uint64_t i = 1; i <= 10; i++)
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0, "n", 1), 0);
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    fx_run_turn(&loop);
    cr_assert(d.fired && d.rc == 0);
    fx_close(st, &loop);
    st = NULL;
    fx_raw r;
    fx_raw_open(&r, dir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 10);
    fx_raw_close(&r, false);
}

Test(stor_writer, names_and_defaults)
{
    cr_assert_str_eq(stor_durability_name(STOR_ALWAYS), "always");
    cr_assert_str_eq(stor_durability_name(STOR_BATCH), "batch");
    cr_assert_str_eq(stor_durability_name(STOR_NONE), "none");
    cr_assert_eq(stor_durability_from_name("batch"), STOR_BATCH);
    cr_assert_eq(stor_durability_from_name("sometimes"), -1);
    stor_opts o;
    stor_opts_default(&o);
    cr_assert_eq(o.durability, STOR_ALWAYS);
    cr_assert_eq(o.map_size, 64ull << 20);
    cr_assert_eq(o.max_data_size, 16ull << 30);
    cr_assert_eq(o.snap_every_events, 10000);
    cr_assert_eq(o.snap_every_s, 300);
    cr_assert_eq(o.keep_days, 400);
    cr_assert_eq(o.keep_pii_days, 30);
    stor_close(NULL);
}

Test(stor_writer, refuses_what_would_break_recovery)
{
    stor_opts o;
    fx_opts(&o, dir);
    st = fx_open(&o, &loop);
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "x", 1), ANT_EINTERNAL); /* unknown hall */
    cr_assert_eq(stor_put_hall(st, "h1", "{}", 2), ANT_EBADREQ);
    cr_assert_eq(stor_put_hall(st, "h2", stor_fx_config, strlen(stor_fx_config)), ANT_EBADREQ);
    cr_assert_eq(stor_put_hall(st, "Bad!", stor_fx_config, strlen(stor_fx_config)), ANT_EBADREQ);
    cr_assert_eq(stor_put_hall(st, "h1", stor_fx_config, strlen(stor_fx_config)), 0);
    cr_assert_eq(stor_put_hall(st, "h1", stor_fx_config, strlen(stor_fx_config)),
                 0);                                                           /* no events */
    cr_assert_eq(stor_append(st, "h1", 2, STOR_FX_T0, "x", 1), ANT_EINTERNAL); /* gap */
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "x", 1), 0);
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "x", 1), ANT_EINTERNAL); /* repeat */
    cr_assert_eq(stor_put_hall(st, "h1", stor_fx_config, strlen(stor_fx_config)), ANT_ESTATE);
    cr_assert_eq(stor_append(st, "h1", 2, STOR_FX_T0, "x", 1), 0);
}

static int count_tokens(void *arg, const char *id, const void *rec, size_t len)
{
    char *out = arg;
    char line[64];
    snprintf(line, sizeof line, "%s=%.*s;", id, (int)len, (const char *)rec);
    strcat(out, line);
    return 0;
}

Test(stor_writer, tokens_and_stats)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    cr_assert_eq(stor_put_token(st, "a1", "first", 5), 0);
    cr_assert_eq(stor_put_token(st, "b2", "second", 6), 0);
    cr_assert_eq(stor_put_token(st, "c3", "third", 5), 0);
    cr_assert_eq(stor_del_token(st, "b2"), 0);
    cr_assert_eq(stor_put_stats(st, "h1", -5, "neg", 3), 0);
    cr_assert_eq(stor_put_stats(st, "h1", 20500, "pos", 3), 0);
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    cr_assert(fx_run_until(&loop, &d.fired, 5000));
    char out[256] = "";
    cr_assert_eq(stor_tokens_each(st, count_tokens, out), 0);
    cr_assert_str_eq(out, "a1=first;c3=third;");
    void *blob;
    size_t len;
    cr_assert_eq(stor_get_stats(st, "h1", -5, &blob, &len), 0);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(blob, "neg", 3), 0);
    free(blob);
    cr_assert_eq(stor_get_stats(st, "h1", 20501, &blob, &len), ANT_ENOTFOUND);
    cr_assert_null(blob);
    cr_assert_eq(stor_get_stats(st, "h2", 20500, &blob, &len), ANT_ENOTFOUND);
}

Test(stor_writer, backup_is_a_working_copy)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    for (uint64_t i = 1; i <= 500; i++)
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0, "backed up", 9), 0);
    stor_put_token(st, "tk", "v", 1);
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    cr_assert(fx_run_until(&loop, &d.fired, 5000));

    char *bdir = fx_tmpdir();
    char msg[256];
    cr_assert_eq(stor_backup(st, bdir, msg), 0, "%s", msg);
    cr_assert_eq(stor_backup(st, bdir, msg), ANT_EBADREQ); /* not empty any more */
    cr_assert(strstr(msg, "not empty"), "%s", msg);
    /* the original keeps working after a backup */
    cr_assert_eq(fx_append_sync(st, &loop, "h1", 501, "after", 5), 0);

    stor_opts bo;
    fx_opts(&bo, bdir);
    uv_loop_t l2;
    uv_loop_init(&l2);
    stor *b = fx_open(&bo, &l2);
    char out[64] = "";
    cr_assert_eq(stor_tokens_each(b, count_tokens, out), 0);
    cr_assert_str_eq(out, "tk=v;");
    cr_assert_eq(fx_append_sync(b, &l2, "h1", 501, "copy", 4), 0); /* continues the log */
    fx_close(b, &l2);
    uv_loop_close(&l2);
    fx_raw r;
    fx_raw_open(&r, bdir, false);
    cr_assert_eq(fx_raw_count(&r, r.log), 501);
    fx_raw_close(&r, false);
    fx_rmdir(bdir);
}

Test(stor_writer, snapshot_due)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.snap_every_events = 5;
    o.snap_every_s = 60;
    open_with_hall(&o);
    int64_t now = stor_wall_ms();
    cr_assert(!stor_snapshot_due(st, "h1", now));
    cr_assert(!stor_snapshot_due(st, "nope", now));
    cr_assert_eq(stor_append(st, "h1", 1, STOR_FX_T0, "x", 1), 0);
    cr_assert(stor_snapshot_due(st, "h1", now)); /* never snapshotted */
    cr_assert_eq(stor_put_snapshot(st, "h1", "snapbytes", 9), 0);
    cr_assert(!stor_snapshot_due(st, "h1", now));
    for (uint64_t i = 2; i <= 5; i++)
        cr_assert_eq(stor_append(st, "h1", i, STOR_FX_T0, "x", 1), 0);
    cr_assert(!stor_snapshot_due(st, "h1", now + 1000));
    cr_assert(stor_snapshot_due(st, "h1", now + 61000));
    cr_assert_eq(stor_append(st, "h1", 6, STOR_FX_T0, "x", 1), 0);
    cr_assert(stor_snapshot_due(st, "h1", now + 1000)); /* 5 events */
    fx_done d = {0};
    stor_when_durable(st, fx_done_cb, &d);
    cr_assert(fx_run_until(&loop, &d.fired, 5000));
    fx_close(st, &loop);
    st = NULL;
    fx_raw r;
    fx_raw_open(&r, dir, false);
    MDB_val k = {2, "h1"}, v;
    cr_assert_eq(mdb_get(r.txn, r.snap, &k, &v), 0);
    const unsigned char *p = v.mv_data;
    cr_assert_eq(p[0], STOR_SNAP_MAGIC);
    cr_assert_eq(stor_be64_get(p + 1), 2); /* covers log key 1 */
    cr_assert_eq(stor_be64_get(p + 9), 1); /* at hall seq 1 */
    cr_assert_eq(memcmp(p + STOR_SNAP_HDR, "snapbytes", 9), 0);
    fx_raw_close(&r, false);
}

#ifdef FIU_ENABLE
#include <fiu-control.h>
#include <fiu.h>

/* The same points through libfiu, as an operator or another test would use them. */
Test(stor_writer, libfiu_commit_failure)
{
    stor_opts o;
    fx_opts(&o, dir);
    open_with_hall(&o);
    cr_assert_eq(fx_append_sync(st, &loop, "h1", 1, "one", 3), 0);
    fiu_init(0);
    cr_assert_eq(fiu_enable("stor/commit", 1, NULL, 0), 0);
    int rc = fx_append_sync(st, &loop, "h1", 2, "two", 3);
    fiu_disable("stor/commit");
    cr_assert_eq(rc, ANT_EUNAVAILABLE);
    char msg[256];
    cr_assert_eq(stor_health(st, msg), ANT_EUNAVAILABLE);
}
#endif

/* Readers on other threads while the writer remaps: the maplock keeps them apart. */
typedef struct reader {
    stor *s;
    atomic_bool stop;
    uint64_t reads;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    while (!atomic_load(&r->stop)) {
        void *blob;
        size_t len;
        if (stor_get_stats(r->s, "h1", 20100, &blob, &len) == 0) {
            cr_assert_eq(len, 4);
            free(blob);
        }
        r->reads++;
    }
    return NULL;
}

Test(stor_writer, map_grows_under_concurrent_readers)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.map_size = 64 << 10;
    o.max_data_size = 256 << 20;
    open_with_hall(&o);
    cr_assert_eq(stor_put_stats(st, "h1", 20100, "read", 4), 0);
    reader r = {.s = st};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &r);
    char *rec = calloc(1, 8000);
    uint64_t seq = 0;
    for (int turn = 0; turn < 40; turn++) {
        for (int i = 0; i < 25; i++)
            cr_assert_eq(stor_append(st, "h1", ++seq, STOR_FX_T0, rec, 8000), 0);
        fx_done d = {0};
        stor_when_durable(st, fx_done_cb, &d);
        cr_assert(fx_run_until(&loop, &d.fired, 10000));
        cr_assert_eq(d.rc, 0);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    free(rec);
    stor_metrics m;
    stor_metrics_get(st, &m);
    cr_assert_geq(m.map_size, 8u << 20);
    cr_assert_gt(r.reads, 0);
}

/* A completion that appends again (a pipelined client): nothing may wait for poll. */
typedef struct chain {
    stor *s;
    uint64_t seq, left;
    bool done;
    int rc;
} chain;

static void chain_next(void *arg, int rc)
{
    chain *c = arg;
    if (rc || c->left == 0) {
        c->rc = rc;
        c->done = true;
        return;
    }
    c->left--;
    cr_assert_eq(stor_append(c->s, "h1", ++c->seq, STOR_FX_T0, "c", 1), 0);
    cr_assert_eq(stor_when_durable(c->s, chain_next, c), 0);
}

static void chain_case(int durability)
{
    stor_opts o;
    fx_opts(&o, dir);
    o.durability = durability;
    open_with_hall(&o);
    chain c = {.s = st, .left = 300};
    chain_next(&c, 0);
    uint64_t t0 = uv_hrtime();
    cr_assert(fx_run_until(&loop, &c.done, 20000));
    cr_assert_eq(c.rc, 0);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    cr_assert_lt(ms, 5000, "300 chained commits took %.0f ms: a turn waited for poll", ms);
    stor_metrics m;
    stor_metrics_get(st, &m);
    if (durability == STOR_ALWAYS)
        cr_assert_geq(m.commits, 300); /* one at a time: each waited for the previous */
}

Test(stor_writer, chained_completions_always)
{
    chain_case(STOR_ALWAYS);
}

Test(stor_writer, chained_completions_batch)
{
    chain_case(STOR_BATCH);
}
