/* stor_fixture.c — see stor_fixture.h. */
#define _XOPEN_SOURCE 700
#include "stor_fixture.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char stor_fx_config[] =
    "{\"id\":\"h1\",\"name\":\"Hall 1\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\",\"issue_until\":\"24:00\","
    "\"weekdays\":[1,2,3,4,5,6,7],\"closed_dates\":[]},"
    "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Disdukcapil\"}],"
    "\"services\":[{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\","
    "\"est_service_s\":300,\"sla_wait_s\":1800,\"daily_quota\":0},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"Kartu Keluarga\",\"prefix\":\"B\","
    "\"est_service_s\":240,\"sla_wait_s\":1800,\"daily_quota\":0}],"
    "\"counters\":[{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"],"
    "\"policy\":\"longest_wait\"},"
    "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"kk\"],\"policy\":\"in_order\"}],"
    "\"priority\":{\"max_consecutive\":2},"
    "\"no_show\":{\"min_recalls\":1,\"reinstate_within_s\":1800},\"self_service\":true}";

char *fx_tmpdir(void)
{
    char *d = strdup("/tmp/ant-stor-XXXXXX");
    cr_assert_not_null(d);
    cr_assert_not_null(mkdtemp(d), "mkdtemp failed");
    return d;
}

static int fx_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fx_rmdir(char *dir)
{
    if (!dir)
        return;
    nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

void fx_opts(stor_opts *o, const char *dir)
{
    stor_opts_default(o);
    o->dir = dir;
    o->map_size = 1 << 20;
}

stor *fx_open(const stor_opts *o, uv_loop_t *loop)
{
    stor *s = NULL;
    char msg[256];
    int rc = stor_open(o, loop, &s, msg);
    cr_assert_eq(rc, 0, "stor_open: %d %s", rc, msg);
    return s;
}

void fx_close(stor *s, uv_loop_t *loop)
{
    stor_close(s);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void fx_on_timer(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void fx_on_close(uv_handle_t *h)
{
    (void)h;
}

bool fx_run_until(uv_loop_t *loop, volatile bool *flag, int ms)
{
    uv_timer_t t;
    bool expired = false;
    uv_timer_init(loop, &t);
    t.data = &expired;
    uv_timer_start(&t, fx_on_timer, (uint64_t)ms, 0);
    while (!*flag && !expired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, fx_on_close);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag;
}

void fx_run_turn(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_NOWAIT);
}

void fx_done_cb(void *arg, int rc)
{
    fx_done *d = arg;
    cr_assert(!d->fired, "completion ran twice");
    d->fired = true;
    d->rc = rc;
    if (d->counter)
        d->order = (*d->counter)++;
}

int fx_append_sync(stor *s, uv_loop_t *loop, const char *hall, uint64_t seq, const void *rec,
                   size_t len)
{
    int rc = stor_append(s, hall, seq, STOR_FX_T0 + (int64_t)seq, rec, len);
    if (rc)
        return rc;
    fx_done d = {0};
    cr_assert_eq(stor_when_durable(s, fx_done_cb, &d), 0);
    cr_assert(fx_run_until(loop, &d.fired, 10000), "no completion within 10 s");
    return d.rc;
}

void fx_raw_open(fx_raw *r, const char *dir, bool write)
{
    memset(r, 0, sizeof *r);
    cr_assert_eq(mdb_env_create(&r->env), 0);
    mdb_env_set_maxdbs(r->env, 8);
    int rc = mdb_env_open(r->env, dir, 0, 0600);
    cr_assert_eq(rc, 0, "raw open: %s", mdb_strerror(rc));
    cr_assert_eq(mdb_txn_begin(r->env, NULL, write ? 0 : MDB_RDONLY, &r->txn), 0);
    cr_assert_eq(mdb_dbi_open(r->txn, "log", 0, &r->log), 0);
    cr_assert_eq(mdb_dbi_open(r->txn, "snap", 0, &r->snap), 0);
    cr_assert_eq(mdb_dbi_open(r->txn, "meta", 0, &r->meta), 0);
    cr_assert_eq(mdb_dbi_open(r->txn, "stats", 0, &r->stats), 0);
}

void fx_raw_close(fx_raw *r, bool commit)
{
    if (commit)
        cr_assert_eq(mdb_txn_commit(r->txn), 0);
    else
        mdb_txn_abort(r->txn);
    mdb_env_close(r->env);
}

size_t fx_raw_count(fx_raw *r, MDB_dbi dbi)
{
    MDB_stat st;
    cr_assert_eq(mdb_stat(r->txn, dbi, &st), 0);
    return st.ms_entries;
}
