/*
 * storage_bench.c — storage-bench: what the disk path costs.
 *
 *   storage-bench [--dir DIR] [--seconds S] [--events N] [--only raw|group|recover] [--json]
 *
 * (a) one event per fsync'd LMDB transaction, no storage layer: the floor
 *     every `always`-mode command pays when it is alone; then 64 and 512
 *     events per transaction: what the disk charges for a bigger commit;
 * (b) durable events per second through stor_append + stor_when_durable
 *     (group commit) with 1, 8, 64 and 512 concurrent submitters, each
 *     re-submitting the moment its previous event is durable, with p50/p99
 *     time from append to completion and the mean batch per commit;
 * (c) recovery: a log of N (default 2,000,000) real events over 10 halls
 *     (issue/call/start/finish through the engine), then stor_recover,
 *     events replayed per second.
 * DIR defaults to a fresh directory under /tmp (removed at the end); put it
 * on the disk you care about.
 */
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "engine.h"
#include "storage.h"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *subdir(const char *base, const char *name)
{
    size_t n = strlen(base) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", base, name);
    rm_rf(p);
    return p;
}

static const char *hall_config(int i, char *buf, size_t cap)
{
    snprintf(
        buf, cap,
        "{\"id\":\"bench-%d\",\"name\":\"Bench %d\",\"utc_offset_min\":420,"
        "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"
        "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Dukcapil\"}],"
        "\"services\":[{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP\",\"prefix\":\"A\"},"
        "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"KK\",\"prefix\":\"B\"}],"
        "\"counters\":[{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"]},"
        "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"kk\",\"ktp\"]}]}",
        i, i);
    return buf;
}

/* A realistic stored record: a full-mode ticket.issued with citizen data. */
static size_t sample_record(char *out, size_t cap)
{
    eng_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ENG_EV_TICKET_ISSUED;
    ev.seq = 123456;
    ev.at = 1790000000000LL;
    snprintf(ev.hall, sizeof ev.hall, "bench-0");
    memset(ev.tid, 0xab, sizeof ev.tid);
    memset(ev.secret, 0xcd, sizeof ev.secret);
    snprintf(ev.code, sizeof ev.code, "A123");
    snprintf(ev.service, sizeof ev.service, "ktp");
    ev.number = 123;
    ev.has_pii = true;
    snprintf(ev.pii.phone, sizeof ev.pii.phone, "081234567890");
    snprintf(ev.pii.name, sizeof ev.pii.name, "Siti Rahayu");
    snprintf(ev.pii.nik, sizeof ev.pii.nik, "3173000000000001");
    codec_buf b;
    codec_buf_init(&b);
    codec_event_msgpack(&ev, CODEC_FULL, &b);
    size_t n = b.len < cap ? b.len : cap;
    memcpy(out, b.data, n);
    codec_buf_free(&b);
    return n;
}

/* ---- (a) ----------------------------------------------------------------- */

/*
 * `batch` events per fsync'd commit straight into LMDB, no storage layer:
 * batch 1 is the floor a lone command pays; larger batches show what the
 * disk charges for a bigger commit, the ceiling for group commit at that
 * batch size.
 */
static void bench_raw(const char *dir, double seconds, bool json, int batch)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    mkdir(dir, 0700);
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, (size_t)8 << 30); /* sparse; 512-event commits fill it fast */
    if (mdb_env_open(env, dir, 0, 0600) != 0) {
        fprintf(stderr, "storage-bench: cannot open %s\n", dir);
        exit(1);
    }
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    char rec[512];
    size_t len = sample_record(rec, sizeof rec);
    uint64_t n = 0;
    double t0 = mono_s(), t;
    uint64_t commits = 0;
    do {
        mdb_txn_begin(env, NULL, 0, &txn);
        for (int b = 0; b < batch; b++) {
            unsigned char kb[8];
            uint64_t k = ++n;
            for (int i = 7; i >= 0; i--, k >>= 8)
                kb[i] = (unsigned char)k;
            MDB_val key = {8, kb}, val = {len, rec};
            mdb_put(txn, dbi, &key, &val, MDB_APPEND);
        }
        commits++;
        if (mdb_txn_commit(txn) != 0) {
            fprintf(stderr, "storage-bench: commit failed\n");
            exit(1);
        }
        t = mono_s();
    } while (t - t0 < seconds);
    mdb_env_close(env);
    double rate = (double)commits / (t - t0);
    if (json)
        printf("{\"test\":\"raw_fsync_commit\",\"batch\":%d,\"commits_per_s\":%.0f,"
               "\"mean_ms\":%.3f,\"events_per_s\":%.0f}\n",
               batch, rate, 1000.0 / rate, rate * batch);
    else if (batch == 1)
        printf("(a) one event per fsync'd LMDB commit: %.0f commits/s, %.3f ms each\n", rate,
               1000.0 / rate);
    else
        printf("(a) %3d events per fsync'd LMDB commit: %.0f commits/s, %.3f ms each, %.0f "
               "events/s\n",
               batch, rate, 1000.0 / rate, rate * batch);
}

/* ---- (b) ----------------------------------------------------------------- */

typedef struct gc {
    uv_loop_t loop;
    stor *s;
    char rec[512];
    size_t len;
    uint64_t seq, done;
    int64_t *lat; /* ns, one per completed event */
    size_t nlat, caplat;
    bool stop;
    int live; /* submitters still running */
} gc;

typedef struct sub {
    gc *g;
    int64_t t0;
} sub;

static void submit(sub *u);

static void on_durable(void *arg, int rc)
{
    sub *u = arg;
    gc *g = u->g;
    if (rc) {
        fprintf(stderr, "storage-bench: completion failed: %d\n", rc);
        exit(1);
    }
    if (g->nlat == g->caplat) {
        g->caplat = g->caplat ? g->caplat * 2 : 1 << 16;
        g->lat = realloc(g->lat, g->caplat * sizeof *g->lat);
    }
    g->lat[g->nlat++] = mono_ns() - u->t0;
    g->done++;
    if (g->stop) {
        g->live--;
        return;
    }
    submit(u);
}

static void submit(sub *u)
{
    gc *g = u->g;
    u->t0 = mono_ns();
    if (stor_append(g->s, "bench-0", ++g->seq, 1790000000000LL, g->rec, g->len) != 0 ||
        stor_when_durable(g->s, on_durable, u) != 0) {
        fprintf(stderr, "storage-bench: append failed\n");
        exit(1);
    }
}

static void on_stop(uv_timer_t *t)
{
    ((gc *)t->data)->stop = true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void bench_group(const char *base, int n, double seconds, bool json)
{
    char name[32];
    snprintf(name, sizeof name, "group-%d", n);
    char *dir = subdir(base, name);
    gc g;
    memset(&g, 0, sizeof g);
    uv_loop_init(&g.loop);
    g.len = sample_record(g.rec, sizeof g.rec);
    stor_opts o;
    stor_opts_default(&o);
    o.dir = dir;
    o.map_size = 256u << 20;
    char msg[256], cfg[2048];
    if (stor_open(&o, &g.loop, &g.s, msg) != 0) {
        fprintf(stderr, "storage-bench: %s\n", msg);
        exit(1);
    }
    hall_config(0, cfg, sizeof cfg);
    stor_put_hall(g.s, "bench-0", cfg, strlen(cfg));
    sub *subs = calloc((size_t)n, sizeof *subs);
    uv_timer_t timer;
    uv_timer_init(&g.loop, &timer);
    timer.data = &g;
    stor_metrics m0, m1;
    stor_metrics_get(g.s, &m0);
    double t0 = mono_s();
    uv_update_time(&g.loop);
    uv_timer_start(&timer, on_stop, (uint64_t)(seconds * 1000), 0);
    g.live = n;
    for (int i = 0; i < n; i++) {
        subs[i].g = &g;
        submit(&subs[i]);
    }
    while (g.live > 0)
        uv_run(&g.loop, UV_RUN_ONCE);
    double dt = mono_s() - t0;
    stor_metrics_get(g.s, &m1);
    uv_close((uv_handle_t *)&timer, NULL);
    stor_close(g.s);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    uv_loop_close(&g.loop);
    qsort(g.lat, g.nlat, sizeof *g.lat, cmp_i64);
    double p50 = (double)g.lat[g.nlat / 2] / 1e6, p99 = (double)g.lat[g.nlat * 99 / 100] / 1e6;
    uint64_t commits = m1.commits - m0.commits;
    double rate = (double)g.done / dt,
           batch = commits ? (double)(m1.events - m0.events) / commits : 0;
    if (json)
        printf("{\"test\":\"group_commit\",\"submitters\":%d,\"events_per_s\":%.0f,"
               "\"commits_per_s\":%.0f,\"mean_batch\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
               n, rate, (double)commits / dt, batch, p50, p99);
    else
        printf("(b) %3d submitters: %8.0f durable events/s, %6.0f commits/s, mean batch %6.1f, "
               "append→durable p50 %.3f ms, p99 %.3f ms\n",
               n, rate, (double)commits / dt, batch, p50, p99);
    free(g.lat);
    free(subs);
    rm_rf(dir);
    free(dir);
}

/* ---- (c) ----------------------------------------------------------------- */

#define NHALLS 10

static int take(void *arg, eng_hall *h)
{
    (*(int *)arg)++;
    eng_hall_free(h);
    return 0;
}

static void bench_recover(const char *base, long events, bool json)
{
    char *dir = subdir(base, "recover");
    uv_loop_t loop;
    uv_loop_init(&loop);
    stor_opts o;
    stor_opts_default(&o);
    o.dir = dir;
    o.durability = STOR_NONE; /* building the log is not what is measured */
    o.map_size = 1ull << 30;
    stor *s;
    char msg[256], cfg[2048];
    if (stor_open(&o, &loop, &s, msg) != 0) {
        fprintf(stderr, "storage-bench: %s\n", msg);
        exit(1);
    }
    eng_hall *h[NHALLS];
    int64_t now = 1790000000000LL;
    for (int i = 0; i < NHALLS; i++) {
        eng_config *c;
        hall_config(i, cfg, sizeof cfg);
        eng_config_parse(cfg, strlen(cfg), &c, NULL);
        h[i] = eng_hall_new(c, now);
        stor_put_hall_at(s, eng_hall_config(h[i])->id, now, cfg, strlen(cfg));
    }
    eng_evbuf out;
    eng_evbuf_init(&out);
    codec_buf b;
    codec_buf_init(&b);
    long n = 0;
    uint64_t x = 88172645463325252ULL;
    static const char *const step[] = {"issue", "call", "start", "finish"};
    for (long cyc = 0; n < events; cyc++) {
        int hi = (int)(cyc % NHALLS);
        now += 350; /* ~25k events per hall-day */
        for (int k = 0; k < 4 && n < events; k++) {
            eng_cmd c = {.counter = (cyc / NHALLS) % 2 ? "l01" : "l02"};
            if (k == 0) {
                c.type = ENG_CMD_ISSUE;
                c.service = (cyc / NHALLS) % 2 ? "ktp" : "kk";
                for (int j = 0; j < 16; j++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    c.tid[j] = (uint8_t)x;
                    c.secret[j] = (uint8_t)(x >> 8);
                }
            } else {
                c.type = k == 1 ? ENG_CMD_CALL : k == 2 ? ENG_CMD_START : ENG_CMD_FINISH;
            }
            if (cyc < NHALLS * 2 && k == 1) {
                eng_cmd open = {.type = ENG_CMD_COUNTER_OPEN, .counter = c.counter};
                eng_result r;
                eng_evbuf_reset(&out);
                eng_apply(h[hi], &open, now, &out, &r);
                for (size_t e = 0; e < out.n; e++) {
                    codec_buf_reset(&b);
                    codec_event_msgpack(&out.ev[e], CODEC_FULL, &b);
                    stor_append(s, out.ev[e].hall, out.ev[e].seq, out.ev[e].at, b.data, b.len);
                    n++;
                }
            }
            eng_result r;
            eng_evbuf_reset(&out);
            if (eng_apply(h[hi], &c, now, &out, &r) != 0 && out.n == 0) {
                (void)step;
                continue;
            }
            for (size_t e = 0; e < out.n; e++) {
                codec_buf_reset(&b);
                codec_event_msgpack(&out.ev[e], CODEC_FULL, &b);
                if (stor_append(s, out.ev[e].hall, out.ev[e].seq, out.ev[e].at, b.data, b.len)) {
                    fprintf(stderr, "storage-bench: append failed\n");
                    exit(1);
                }
                n++;
            }
        }
        if (cyc % 4096 == 0)
            uv_run(&loop, UV_RUN_NOWAIT); /* hand batches to the writer */
    }
    for (int i = 0; i < NHALLS; i++)
        eng_hall_free(h[i]);
    eng_evbuf_free(&out);
    codec_buf_free(&b);
    stor_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);

    if (stor_open(&o, &loop, &s, msg) != 0) {
        fprintf(stderr, "storage-bench: %s\n", msg);
        exit(1);
    }
    int got = 0;
    double t0 = mono_s();
    int rc = stor_recover(s, now, take, &got, msg);
    double dt = mono_s() - t0;
    if (rc) {
        fprintf(stderr, "storage-bench: recover: %s\n", msg);
        exit(1);
    }
    stor_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (json)
        printf("{\"test\":\"recovery\",\"events\":%ld,\"halls\":%d,\"seconds\":%.3f,"
               "\"events_per_s\":%.0f}\n",
               n, got, dt, (double)n / dt);
    else
        printf("(c) recovery: %ld events of %d halls replayed in %.3f s = %.0f events/s\n", n, got,
               dt, (double)n / dt);
    rm_rf(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    double seconds = 3;
    long events = 2000000;
    bool json = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = atol(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(stderr, "usage: storage-bench [--dir DIR] [--seconds S] [--events N] "
                            "[--only raw|group|recover] [--json]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/ant-storage-bench-XXXXXX";
    bool own = !dir;
    if (own && !(dir = mkdtemp(tmpl))) {
        perror("storage-bench: mkdtemp");
        return 1;
    }
    static const int batches[] = {1, 64, 512};
    for (int i = 0; (!only || !strcmp(only, "raw")) && i < 3; i++) {
        char *raw = subdir(dir, "raw");
        bench_raw(raw, seconds, json, batches[i]);
        rm_rf(raw);
        free(raw);
    }
    static const int subs[] = {1, 8, 64, 512};
    for (int i = 0; (!only || !strcmp(only, "group")) && i < 4; i++)
        bench_group(dir, subs[i], seconds, json);
    if (!only || !strcmp(only, "recover"))
        bench_recover(dir, events, json);
    if (own)
        rm_rf(dir);
    return 0;
}
