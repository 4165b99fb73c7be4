/*
 * engine_bench.c — the in-process engine benchmark (no network, no disk).
 *
 * 100 halls, each with 500 waiting tickets, run issue/call/start/finish
 * cycles round-robin across halls, so the queues stay at 500. Prints
 * commands per second on one core, and heap bytes per waiting ticket
 * (measured with mallinfo2 around issuing the waiting tickets).
 *
 *   engine-bench [--halls N] [--waiting N] [--cycles N] [--json]
 *
 * For a stable figure run it under callgrind with few cycles and divide the
 * instruction count of the cycle phase by the commands (bench/RESULTS.md).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

static const char *bench_config(int hall, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "{\"id\":\"hall-%d\",\"name\":\"Bench hall %d\",\"utc_offset_min\":420,"
             "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"
             "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Dukcapil\"},"
             "{\"id\":\"imigrasi\",\"name\":\"Imigrasi\"}],"
             "\"services\":["
             "{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\"},"
             "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"KK\",\"prefix\":\"B\"},"
             "{\"id\":\"akta\",\"agency\":\"dukcapil\",\"name\":\"Akta\",\"prefix\":\"C\"},"
             "{\"id\":\"paspor\",\"agency\":\"imigrasi\",\"name\":\"Paspor\",\"prefix\":\"P\"}],"
             "\"counters\":["
             "{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"]},"
             "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"ktp\",\"kk\",\"akta\"]},"
             "{\"id\":\"l03\",\"label\":\"Loket 3\",\"services\":[\"akta\"],"
             "\"policy\":\"in_order\"},"
             "{\"id\":\"l04\",\"label\":\"Loket 4\",\"services\":[\"paspor\"]}]}",
             hall, hall);
    return buf;
}

static const char *const services[] = {"ktp", "kk", "akta", "paspor"};
static const char *const counters[] = {"l01", "l02", "l03", "l04"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        p[i] = (uint8_t)rng_state;
    }
}

static int apply(eng_hall *h, eng_cmd *c, int64_t now, eng_evbuf *out)
{
    eng_result res;
    eng_evbuf_reset(out);
    int rc = eng_apply(h, c, now, out, &res);
    if (rc) {
        fprintf(stderr, "engine-bench: command %d failed: %s\n", c->type, res.msg);
        exit(1);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int nhalls = 100, waiting = 500, json = 0;
    long cycles = 2000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--halls") && i + 1 < argc)
            nhalls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--waiting") && i + 1 < argc)
            waiting = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            cycles = atol(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr,
                    "usage: engine-bench [--halls N] [--waiting N] [--cycles N] [--json]\n");
            return 2;
        }
    }
    eng_hall **halls = calloc((size_t)nhalls, sizeof *halls);
    eng_evbuf out;
    eng_evbuf_init(&out);
    int64_t now = 1790000000000LL; /* a fixed instant: runs are comparable */
    char cfgbuf[2048];
    for (int i = 0; i < nhalls; i++) {
        eng_config *cfg;
        eng_problems probs;
        const char *j = bench_config(i, cfgbuf, sizeof cfgbuf);
        if (eng_config_parse(j, strlen(j), &cfg, &probs) != 0) {
            fprintf(stderr, "engine-bench: bad config: %s\n", probs.msg[0]);
            return 1;
        }
        halls[i] = eng_hall_new(cfg, now);
        for (int k = 0; k < 4; k++) {
            eng_cmd c = {.type = ENG_CMD_COUNTER_OPEN, .counter = counters[k]};
            apply(halls[i], &c, now, &out);
        }
    }
    /* the waiting tickets, measured */
    struct mallinfo2 before = mallinfo2();
    for (int w = 0; w < waiting; w++)
        for (int i = 0; i < nhalls; i++) {
            eng_cmd c = {.type = ENG_CMD_ISSUE,
                         .service = services[w % 4],
                         .prio = (w % 10 == 0) ? ENG_PRIO_ELDERLY : ENG_PRIO_NONE};
            fill_random(c.tid, sizeof c.tid);
            fill_random(c.secret, sizeof c.secret);
            apply(halls[i], &c, now + w, &out);
        }
    struct mallinfo2 after = mallinfo2();
    double per_ticket = (double)(after.uordblks - before.uordblks) / ((double)waiting * nhalls);

    /* cycles: issue, call, start, finish on one counter of one hall */
    double t0 = now_s();
    long commands = 0;
    for (long cyc = 0; cyc < cycles; cyc++) {
        eng_hall *h = halls[cyc % nhalls];
        int k = (int)((cyc / nhalls) % 4);
        int64_t t = now + 1000 + cyc / 16;
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = services[k]};
        fill_random(c.tid, sizeof c.tid);
        fill_random(c.secret, sizeof c.secret);
        apply(h, &c, t, &out);
        eng_cmd call = {.type = ENG_CMD_CALL, .counter = counters[k]};
        apply(h, &call, t, &out);
        eng_cmd start = {.type = ENG_CMD_START, .counter = counters[k]};
        apply(h, &start, t, &out);
        eng_cmd fin = {.type = ENG_CMD_FINISH, .counter = counters[k]};
        apply(h, &fin, t, &out);
        commands += 4;
    }
    double dt = now_s() - t0;
    double rate = commands / dt;
    if (json)
        printf("{\"halls\":%d,\"waiting_per_hall\":%d,\"commands\":%ld,\"seconds\":%.3f,"
               "\"commands_per_s\":%.0f,\"bytes_per_waiting_ticket\":%.1f}\n",
               nhalls, waiting, commands, dt, rate, per_ticket);
    else
        printf("engine-bench: %d halls x %d waiting, %ld commands in %.3f s = %.0f commands/s "
               "(one core); %.1f heap bytes per waiting ticket\n",
               nhalls, waiting, commands, dt, rate, per_ticket);
    for (int i = 0; i < nhalls; i++)
        eng_hall_free(halls[i]);
    free(halls);
    eng_evbuf_free(&out);
    return 0;
}
