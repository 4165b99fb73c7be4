/*
 * report_bench.c — how fast is a report over a year of a big hall (SPEC §14)?
 *
 *   report-bench [--days 365] [--tickets 5000] [--keep DIR]
 *
 * Plays one busy day through the engine (12 services of 6 agencies, 60
 * counters, N tickets between 08:00 and 15:00, service times of 1–10 min,
 * 30 % of tickets rated, half of those with the nine SKM elements), takes
 * that day's record (engine/report.h) and stores it for each of D days in
 * a fresh LMDB environment, as the server does at each rollover. Then it
 * times what GET /v1/halls/{hall}/report does for the whole range: read the
 * records (storage) and add them up (engine), for each grouping, best and
 * median of 5 runs. With --keep DIR the environment stays (hall "bench-mpp"
 * stored in it) so a real antrean-server can serve the same report over
 * HTTP. Prints one line per grouping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "codec.h"
#include "engine.h"
#include "report.h"
#include "storage.h"

#define NSVC 12
#define NCTR 60

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t config(char *out, size_t cap)
{
    static const char *const ag[6] = {"dukcapil", "imigrasi", "polri", "samsat", "pajak", "bpjs"};
    size_t n =
        (size_t)snprintf(out, cap,
                         "{\"id\":\"bench-mpp\",\"name\":\"Bench MPP\",\"utc_offset_min\":420,"
                         "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\",\"issue_until\":"
                         "\"24:00\",\"weekdays\":[1,2,3,4,5,6,7]},\"agencies\":[");
    for (int i = 0; i < 6; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s{\"id\":\"%s\",\"name\":\"%s\"}", i ? "," : "",
                              ag[i], ag[i]);
    n += (size_t)snprintf(out + n, cap - n, "],\"services\":[");
    for (int i = 0; i < NSVC; i++)
        n += (size_t)snprintf(out + n, cap - n,
                              "%s{\"id\":\"s%02d\",\"agency\":\"%s\",\"name\":\"S%d\",\"prefix\":"
                              "\"%c\",\"est_service_s\":300,\"sla_wait_s\":1800,\"daily_quota\":0}",
                              i ? "," : "", i, ag[i % 6], i, 'A' + i);
    n += (size_t)snprintf(out + n, cap - n, "],\"counters\":[");
    for (int c = 0; c < NCTR; c++) {
        n += (size_t)snprintf(out + n, cap - n,
                              "%s{\"id\":\"l%02d\",\"label\":\"Loket %d\",\"services\":[",
                              c ? "," : "", c, c + 1);
        for (int k = 0; k < 3; k++) /* three services each, every service at 15 counters */
            n +=
                (size_t)snprintf(out + n, cap - n, "%s\"s%02d\"", k ? "," : "", (c + k * 4) % NSVC);
        n += (size_t)snprintf(out + n, cap - n, "],\"policy\":\"longest_wait\"}");
    }
    n += (size_t)snprintf(out + n, cap - n, "],\"self_service\":true}");
    return n;
}

static int apply(eng_hall *h, eng_cmd *c, int64_t at, eng_evbuf *ev)
{
    eng_result res;
    eng_evbuf_reset(ev);
    return eng_apply(h, c, at, ev, &res);
}

/* One day through the engine; returns its record in rec. */
static void play_day(const char *cfgjson, size_t cl, int tickets, codec_buf *rec)
{
    eng_config *cfg;
    if (eng_config_parse(cfgjson, cl, &cfg, NULL) != 0) {
        fprintf(stderr, "report-bench: bad config\n");
        exit(1);
    }
    int64_t day0 = 1796428800000LL - 420 * 60000LL; /* 2026-12-05 00:00 hall-local */
    eng_hall *h = eng_hall_new(cfg, day0 + 7 * 3600000LL);
    eng_evbuf ev;
    eng_evbuf_init(&ev);
    char ctr[NCTR][8];
    int64_t busy_until[NCTR] = {0};
    uint8_t serving[NCTR][ENG_TID_LEN];
    for (int c = 0; c < NCTR; c++) {
        snprintf(ctr[c], sizeof ctr[c], "l%02d", c);
        eng_cmd o = {.type = ENG_CMD_COUNTER_OPEN, .counter = ctr[c]};
        apply(h, &o, day0 + 7 * 3600000LL, &ev);
    }
    int issued = 0, served = 0;
    for (int64_t t = day0 + 8 * 3600000LL; t < day0 + 17 * 3600000LL; t += 5000) {
        int64_t until = day0 + 8 * 3600000LL + (int64_t)issued * 25200000LL / tickets;
        while (issued < tickets && until <= t && t < day0 + 15 * 3600000LL) {
            char svc[8];
            snprintf(svc, sizeof svc, "s%02u", rnd(NSVC));
            eng_cmd c = {.type = ENG_CMD_ISSUE, .service = svc, .channel = ENG_CH_KIOSK};
            uint64_t x = (uint64_t)issued * 2654435761u + 1;
            memcpy(c.tid, &x, 8);
            memcpy(c.secret, &x, 8);
            if (apply(h, &c, t, &ev) == 0)
                issued++;
            until = day0 + 8 * 3600000LL + (int64_t)issued * 25200000LL / tickets;
        }
        for (int c = 0; c < NCTR; c++) {
            if (busy_until[c] && busy_until[c] <= t) {
                eng_cmd f = {
                    .type = ENG_CMD_FINISH, .counter = ctr[c], .placement = ENG_PLACE_LAST};
                apply(h, &f, t, &ev);
                busy_until[c] = 0;
                served++;
                uint32_t r = rnd(20);
                if (r < 6) {
                    eng_cmd fb = {.type = ENG_CMD_FEEDBACK, .has_ticket = true};
                    memcpy(fb.tid, serving[c], ENG_TID_LEN);
                    if (r < 3)
                        for (int k = 0; k < ENG_SKM_N; k++)
                            fb.elements[k] = (uint8_t)(2 + rnd(3));
                    else
                        fb.score = (uint8_t)(1 + rnd(4));
                    apply(h, &fb, t, &ev);
                }
            }
            if (!busy_until[c]) {
                eng_cmd call = {.type = ENG_CMD_CALL, .counter = ctr[c]};
                eng_result res;
                eng_evbuf_reset(&ev);
                if (eng_apply(h, &call, t, &ev, &res) != 0)
                    continue;
                memcpy(serving[c], res.ticket.tid, ENG_TID_LEN);
                eng_cmd st = {.type = ENG_CMD_START, .counter = ctr[c]};
                apply(h, &st, t + 30000, &ev);
                busy_until[c] = t + 30000 + 60000 + (int64_t)rnd(540) * 1000;
            }
        }
    }
    if (eng_dayrec_today(h, rec) != 0) {
        fprintf(stderr, "report-bench: out of memory\n");
        exit(1);
    }
    fprintf(stderr, "report-bench: one day: %d tickets issued, %d served, record %zu bytes\n",
            issued, served, rec->len);
    eng_evbuf_free(&ev);
    eng_hall_free(h);
}

static int add(void *arg, int32_t day, const void *rec, size_t len)
{
    (void)day;
    char msg[200];
    return eng_report_add(arg, rec, len, msg);
}

static void on_durable(void *arg, int rc)
{
    *(int *)arg = rc == 0 ? 1 : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int days = 365, tickets = 5000;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--days") && i + 1 < argc)
            days = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tickets") && i + 1 < argc)
            tickets = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else {
            fprintf(stderr, "usage: report-bench [--days N] [--tickets N] [--keep DIR]\n");
            return 2;
        }
    }
    if (days < 1 || days > 3660 || tickets < 1 || tickets > 100000) {
        fprintf(stderr, "report-bench: days 1..3660, tickets 1..100000\n");
        return 2;
    }
    static char cfg[65536];
    size_t cl = config(cfg, sizeof cfg);
    codec_buf rec;
    codec_buf_init(&rec);
    play_day(cfg, cl, tickets, &rec);

    char tmpl[] = "/tmp/report-bench-XXXXXX";
    const char *dir = keep;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    stor_opts o;
    stor_opts_default(&o);
    o.dir = dir;
    o.map_size = 1ull << 30;
    stor *s;
    char msg[256];
    if (stor_open(&o, &loop, &s, msg) != 0) {
        fprintf(stderr, "report-bench: %s\n", msg);
        return 1;
    }
    int32_t today;
    eng_dayrec_day(rec.data, rec.len, &today);
    stor_put_hall(s, "bench-mpp", cfg, cl);
    for (int d = 1; d <= days; d++) {
        int32_t day = today - d;
        memcpy(rec.data + 4, &day, 4); /* the record's day (little-endian i32 at offset 4) */
        if (stor_put_dayrec(s, "bench-mpp", day, rec.data, rec.len) != 0) {
            fprintf(stderr, "report-bench: store failed\n");
            return 1;
        }
        if (d % 32 == 0)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    int done = 0;
    stor_when_durable(s, on_durable, &done);
    for (int i = 0; i < 100000 && !done; i++)
        uv_run(&loop, UV_RUN_ONCE);
    if (done != 1) {
        fprintf(stderr, "report-bench: commit failed\n");
        return 1;
    }
    static const char *const names[] = {"service", "agency", "counter", "day", "hour"};
    for (int by = 0; by < 5; by++) {
        double t[5];
        uint32_t issued = 0;
        for (int run = 0; run < 5; run++) {
            double t0 = now_ms();
            eng_report *r = eng_report_new(by);
            int rc = stor_get_dayrecs(s, "bench-mpp", today - days, today - 1, add, r);
            const eng_report_row *rows;
            size_t n;
            eng_report_row tot;
            if (rc == 0)
                rc = eng_report_rows(r, &rows, &n, &tot);
            t[run] = now_ms() - t0;
            if (rc != 0) {
                fprintf(stderr, "report-bench: report failed: %d\n", rc);
                return 1;
            }
            issued = tot.issued;
            eng_report_free(r);
        }
        qsort(t, 5, sizeof t[0], cmp_d);
        printf("report by=%-7s days=%d tickets=%u: best %.1f ms, median %.1f ms\n", names[by], days,
               issued, t[0], t[2]);
    }
    stor_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    codec_buf_free(&rec);
    if (!keep) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "report-bench: could not remove %s\n", dir);
    } else {
        printf("kept %s (hall bench-mpp): antrean-server --data %s\n", dir, dir);
    }
    return 0;
}
