/*
 * sim.h — the hall simulator behind `antrean-bench simulate` (SPEC §10,
 * docs/simulator.md): a discrete-event model of citizens and operators that
 * drives the real engine in-process and writes what happened as a §10 trace.
 *
 * The engine's calling rules pick every called ticket (a plain ENG_CMD_CALL);
 * the trace records the pick as a call naming the ticket, so replaying it
 * gives the same day. Every command is applied before it is written: a line
 * the engine refuses is a simulator bug and stops the run. Output depends on
 * the arguments only (own PRNG, no clock, no rand()).
 */
#ifndef BENCH_SIM_H
#define BENCH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_SIM_MAX_SERVICES 4
#define BENCH_SIM_MAX_COUNTERS 8
#define BENCH_SIM_MAX_SKILLS 3

typedef struct bench_sim_service {
    const char *id, *name, *prefix;
    double rate_per_h; /* base Poisson arrival rate, tickets per hour */
    double mean_s, cv; /* service time: lognormal with this mean and CV */
    bool exponential;  /* service time exponential with mean_s instead (cv ignored) */
} bench_sim_service;

typedef struct bench_sim_counter {
    const char *id;
    const char *services[BENCH_SIM_MAX_SKILLS]; /* service ids, in the counter's listed order */
    int nservices;
    bool in_order; /* policy in_order, else longest_wait */
    bool lunch;    /* "breaks" 12:00–13:00 in the config, closed and reopened by the trace */
} bench_sim_counter;

typedef struct bench_sim_scenario {
    const char *name;
    const char *about; /* one line for --list */
    int nservices, ncounters;
    bench_sim_service services[BENCH_SIM_MAX_SERVICES];
    bench_sim_counter counters[BENCH_SIM_MAX_COUNTERS];
    /* arrivals run at rate × rush_factor for the first rush_h hours after opening */
    double rush_factor, rush_h;
    double walk_mean_s, walk_cv; /* call → start, lognormal; 0: start at the call's instant */
    double react_mean_s;         /* free operator → call, exponential; 0: at once */
    double noshow_share;         /* called tickets whose citizen never comes */
    double priority_share;       /* arrivals with a priority reason */
    double cancel_share;         /* waiting citizens who give up after an exponential patience */
    double patience_mean_s;
    double recall_after_s, noshow_after_s; /* no-show: call → recall → no_show, each ±5 s */
} bench_sim_scenario;

/* The built-in scenarios (sim_scenarios.c); NULL past the end / for an unknown name. */
const bench_sim_scenario *bench_sim_scenario_at(int i);
const bench_sim_scenario *bench_sim_scenario_find(const char *name);

/*
 * The scenario's hall config (SPEC §2) as JSON into buf (NUL-terminated).
 * Returns the length, or -1 when cap is too small.
 */
int bench_sim_config_json(const bench_sim_scenario *sc, char *buf, size_t cap);

typedef struct bench_sim_opts {
    const bench_sim_scenario *sc; /* borrowed */
    int days;                     /* 1 … 366 */
    uint64_t seed;
    int32_t start_day; /* hall-local day of the first simulated day, days since the epoch */
} bench_sim_opts;

/* What the run did, for the stderr summary and the tests. */
typedef struct bench_sim_stats {
    uint64_t lines; /* trace lines written, the hall line included */
    uint64_t issued, priority, called, served, no_show, cancelled, left_waiting;
    uint64_t lunch_closes;
} bench_sim_stats;

/*
 * Run the simulation and write the trace to out (borrowed). Returns 0, or a
 * negative ANT_E* code with err (caller-owned, errcap bytes) saying why: an
 * engine refusal names the trace line, the op and the engine's code and
 * message. *st (caller-owned, may be NULL) is filled in either case.
 */
int bench_sim_run(const bench_sim_opts *o, FILE *out, bench_sim_stats *st, char *err,
                  size_t errcap);

#endif /* BENCH_SIM_H */
