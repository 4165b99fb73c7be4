/*
 * bench.h — antrean-bench, the load generator (SPEC §8): shared options,
 * results, and the pieces the scenarios are built from. One libuv loop
 * thread drives every connection; nothing here blocks.
 *
 * It talks only to a server on loopback (bench_main.c refuses any other
 * address). Every loop is bounded in count and in time: the run ends at
 * warmup + duration + a drain period whatever the server does.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <uv.h>

#include "hist.h"

enum bench_kind { BENCH_POLL, BENCH_ISSUE, BENCH_FANOUT, BENCH_DAY };

typedef struct bench_opts {
    int kind;
    char host[80]; /* for the Host header */
    struct sockaddr_storage addr;
    char hall[64], service[64];
    int conns;         /* HTTP connections (closed loop: requests in flight) */
    double rate;       /* > 0: open loop at this many requests per second in total */
    double duration_s; /* measured period */
    double warmup_s;   /* before it, not recorded */
    double inm_ratio;  /* poll: share of requests that send If-None-Match */
    bool idem;         /* issue: send a unique idem key with every ticket */
    const char *path;  /* poll: override the request target (peers) */
    int subs;          /* fanout: WebSocket subscribers */
    double speed;      /* day: simulated seconds per real second */
    int server_pid;    /* 0: no server figures */
    bool json;
} bench_opts;

#define BENCH_MAX_STATUS 600

typedef struct bench_result {
    bench_hist lat;    /* request latency, µs, from the intended send time */
    bench_hist deliv;  /* fanout: driver's intended send → subscriber receipt, µs */
    uint64_t requests; /* replies recorded (after warmup) */
    uint64_t status[BENCH_MAX_STATUS];
    uint64_t err_connect, err_io, err_proto, err_backlog, reconnects;
    double measured_s; /* wall time of the measured period */
    /* server, sampled at the start and the end of the measured period */
    bool have_server;
    double cpu_s;
    long rss_kb_before, rss_kb_after, hwm_kb;
    /* fanout */
    uint64_t issued, deliveries, expected, sub_errors, subs_ready;
} bench_result;

/* main.c: the server's CPU seconds (user + system) and RSS in KiB; 0 or -1. */
int bench_proc_sample(int pid, double *cpu_s, long *rss_kb, long *hwm_kb);

/* ---- HTTP load (bench_http.c) ----------------------------------------- */

typedef struct bench_load bench_load;

/* Called for every complete reply, measured or not; body borrowed for the call. */
typedef void (*bench_reply_cb)(void *arg, uint64_t intended_ns, uint64_t now_ns, bool measured,
                               int status, const char *body, size_t len);
/* Called once, when the load has stopped sending (end of the measured period). */
typedef void (*bench_done_cb)(void *arg);

/*
 * Starts an HTTP load on loop: o->conns keep-alive connections sending
 * o->kind requests (BENCH_POLL or BENCH_ISSUE), closed-loop or at o->rate.
 * It connects, then sends for warmup + duration, then drains for up to 2 s
 * and closes every handle. Results are added to *r (caller-owned, lives
 * until the loop ends). *out is owned by the caller: bench_load_free after
 * uv_run returned. Returns 0 or -1 (out of memory).
 */
int bench_load_start(uv_loop_t *loop, const bench_opts *o, bench_result *r, bench_reply_cb cb,
                     bench_done_cb done, void *arg, bench_load **out);
void bench_load_free(bench_load *l);

/* ---- scenarios -------------------------------------------------------- */

int bench_run_fanout(const bench_opts *o, bench_result *r); /* bench_fanout.c */

/* `antrean-bench simulate …` (sim_scenarios.c, sim.h): writes a SPEC §10 trace to stdout.
 * argv[1] is "simulate". Returns the exit status: 0, 1 (simulator bug or I/O), 2 (bad args). */
int bench_simulate_main(int argc, char **argv);

/* `antrean-bench replay TRACE.jsonl [--baselines]` (replay.c, SPEC §10). */
#define BENCH_REPLAY_BASELINES 1u /* also score naive, LES and known-μ on stderr */
int bench_replay_main(int argc, char **argv);
/* Replays the trace read from in: ticket lines to out, the summary (or "line N: code: message")
 * to err. Streams are borrowed. Returns 0, or 1 when a line was refused. */
int bench_replay_run(FILE *in, FILE *out, FILE *err, unsigned flags);

#endif /* BENCH_H */
