/*
 * sim_scenarios.c — the simulator's built-in halls (docs/simulator.md), their
 * §2 configs, and `antrean-bench simulate`'s command line.
 *
 * The scenarios are the ones issue 8 asks the estimator to be scored on; their
 * figures are chosen so the load is known in closed form (mms is an M/M/5 at
 * ρ 0.9, the others have a base ρ of about 0.8 spread over the counters that
 * can serve each service), which is what makes the estimator's errors
 * interpretable.
 */
#include "sim.h"

#include "bench.h"
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Hall hours are fixed for every scenario: the estimator is scored on the day's shape, not on
 * odd calendars. Every weekday is open so --days N gives N simulated days. */
#define SIM_HOURS                                                                                  \
    "\"hours\":{\"open\":\"08:00\",\"close\":\"16:00\",\"issue_until\":\"15:00\","                 \
    "\"weekdays\":[1,2,3,4,5,6,7],\"closed_dates\":[]}"

/* Rush halls: A is served by c1–c3 (about 2.5 counters of load), B by c3–c5 (2), C by c5–c6
 * (1.5); rates give ρ = 0.8 on that split: λ = 0.8 × counters × 3600 / mean. */
#define RUSH_SERVICES                                                                              \
    .nservices = 3, .services = {                                                                  \
                        {.id = "ktp",                                                              \
                         .name = "KTP-el",                                                         \
                         .prefix = "A",                                                            \
                         .rate_per_h = 30.0,                                                       \
                         .mean_s = 240,                                                            \
                         .cv = 0.6},                                                               \
                        {.id = "kk",                                                               \
                         .name = "Kartu Keluarga",                                                 \
                         .prefix = "B",                                                            \
                         .rate_per_h = 13.7,                                                       \
                         .mean_s = 420,                                                            \
                         .cv = 0.6},                                                               \
                        {.id = "akta",                                                             \
                         .name = "Akta Kelahiran",                                                 \
                         .prefix = "C",                                                            \
                         .rate_per_h = 7.2,                                                        \
                         .mean_s = 600,                                                            \
                         .cv = 0.6},                                                               \
    }

/* lunch_a, lunch_b: whether c2 and c4 take the noon break. */
#define RUSH_COUNTERS(lunch_a, lunch_b)                                                            \
    .ncounters = 6, .counters = {                                                                  \
                        {.id = "c1", .services = {"ktp"}, .nservices = 1},                         \
                        {.id = "c2", .services = {"ktp"}, .nservices = 1, .lunch = lunch_a},       \
                        {.id = "c3", .services = {"ktp", "kk"}, .nservices = 2, .in_order = true}, \
                        {.id = "c4", .services = {"kk"}, .nservices = 1, .lunch = lunch_b},        \
                        {.id = "c5", .services = {"kk", "akta"}, .nservices = 2},                  \
                        {.id = "c6", .services = {"akta"}, .nservices = 1},                        \
    }

#define RUSH_PEOPLE                                                                                \
    .rush_factor = 2.0, .rush_h = 2.0, .walk_mean_s = 30, .walk_cv = 0.5, .react_mean_s = 5,       \
    .patience_mean_s = 1800, .recall_after_s = 60, .noshow_after_s = 60

static const bench_sim_scenario scenarios[] = {
    {
        .name = "mms",
        .about = "one service, 5 counters, M/M/5 at rho 0.9 (exponential service, mean 300 s)",
        .nservices = 1,
        .services = {{.id = "layanan",
                      .name = "Layanan Umum",
                      .prefix = "A",
                      .rate_per_h = 0.9 * 5 / 300.0 * 3600,
                      .mean_s = 300,
                      .exponential = true}},
        .ncounters = 5,
        .counters = {{.id = "c1", .services = {"layanan"}, .nservices = 1},
                     {.id = "c2", .services = {"layanan"}, .nservices = 1},
                     {.id = "c3", .services = {"layanan"}, .nservices = 1},
                     {.id = "c4", .services = {"layanan"}, .nservices = 1},
                     {.id = "c5", .services = {"layanan"}, .nservices = 1}},
        .rush_factor = 1.0,
        .recall_after_s = 60,
        .noshow_after_s = 60,
    },
    {
        .name = "rush",
        .about = "3 services, 6 counters with mixed skills, base rho 0.8, arrivals x2 for 2 h",
        RUSH_SERVICES,
        RUSH_COUNTERS(false, false),
        RUSH_PEOPLE,
    },
    {
        .name = "noshow",
        .about = "rush + 20% no-shows (called, recalled, no_show) + 10% priority",
        RUSH_SERVICES,
        RUSH_COUNTERS(false, false),
        RUSH_PEOPLE,
        .noshow_share = 0.2,
        .priority_share = 0.1,
    },
    {
        .name = "lunch",
        .about = "noshow + counters c2 and c4 on a 12:00-13:00 break",
        RUSH_SERVICES,
        RUSH_COUNTERS(true, true),
        RUSH_PEOPLE,
        .noshow_share = 0.2,
        .priority_share = 0.1,
    },
};

const bench_sim_scenario *bench_sim_scenario_at(int i)
{
    return i >= 0 && (size_t)i < sizeof scenarios / sizeof scenarios[0] ? &scenarios[i] : NULL;
}

const bench_sim_scenario *bench_sim_scenario_find(const char *name)
{
    for (int i = 0; bench_sim_scenario_at(i); i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

/* ---- config ------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool full;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->full = true;
    else
        b->len += (size_t)n;
}

int bench_sim_config_json(const bench_sim_scenario *sc, char *buf, size_t cap)
{
    sbuf b = {buf, 0, cap, cap == 0};
    put(&b, "{\"id\":\"sim-%s\",\"name\":\"Simulated hall (%s)\",\"utc_offset_min\":420,%s,",
        sc->name, sc->name, SIM_HOURS);
    put(&b, "\"agencies\":[{\"id\":\"mpp\",\"name\":\"Mal Pelayanan Publik\"}],\"services\":[");
    for (int i = 0; i < sc->nservices; i++) {
        const bench_sim_service *s = &sc->services[i];
        /* est_service_s is the true mean: a hall that configured it well; learning does the rest */
        put(&b,
            "%s{\"id\":\"%s\",\"agency\":\"mpp\",\"name\":\"%s\",\"prefix\":\"%s\","
            "\"est_service_s\":%.0f,\"sla_wait_s\":3600,\"daily_quota\":0}",
            i ? "," : "", s->id, s->name, s->prefix, s->mean_s);
    }
    put(&b, "],\"counters\":[");
    for (int i = 0; i < sc->ncounters; i++) {
        const bench_sim_counter *c = &sc->counters[i];
        put(&b, "%s{\"id\":\"%s\",\"label\":\"Loket %d\",\"services\":[", i ? "," : "", c->id,
            i + 1);
        for (int k = 0; k < c->nservices; k++)
            put(&b, "%s\"%s\"", k ? "," : "", c->services[k]);
        put(&b, "],\"policy\":\"%s\"", c->in_order ? "in_order" : "longest_wait");
        if (c->lunch)
            put(&b, ",\"breaks\":[{\"from\":\"12:00\",\"to\":\"13:00\"}]");
        put(&b, "}");
    }
    put(&b, "],\"priority\":{\"max_consecutive\":2},"
            "\"no_show\":{\"min_recalls\":1,\"reinstate_within_s\":1800},\"self_service\":true}");
    return b.full ? -1 : (int)b.len;
}

/* ---- command line -------------------------------------------------------- */

static void sim_usage(FILE *f)
{
    fprintf(f, "usage: antrean-bench simulate --scenario NAME [--days N] [--seed S]\n"
               "                               [--start YYYY-MM-DD] > trace.jsonl\n"
               "       antrean-bench simulate --list\n"
               "Writes a SPEC §10 trace of N simulated days (default 1) from seed S (default 1),\n"
               "starting on --start (default 2026-03-02). See docs/simulator.md.\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "antrean-bench simulate: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    sim_usage(stderr);
    return 2;
}

int bench_simulate_main(int argc, char **argv)
{
    bench_sim_opts o = {.days = 1, .seed = 1};
    const char *start = "2026-03-02";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            for (int k = 0; bench_sim_scenario_at(k); k++)
                printf("%-8s %s\n", scenarios[k].name, scenarios[k].about);
            return 0;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            sim_usage(stdout);
            return 0;
        }
        if (!v)
            return bad("'%s' needs a value (or is unknown)", a);
        i++;
        char *end;
        errno = 0;
        if (strcmp(a, "--scenario") == 0) {
            if (!(o.sc = bench_sim_scenario_find(v)))
                return bad("unknown scenario '%s' (see --list)", v);
        } else if (strcmp(a, "--days") == 0) {
            long d = strtol(v, &end, 10);
            if (errno || *end || end == v || d < 1 || d > 366)
                return bad("--days must be 1 to 366, not '%s'", v);
            o.days = (int)d;
        } else if (strcmp(a, "--seed") == 0) {
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *end || end == v || v[0] == '-')
                return bad("--seed must be an unsigned 64-bit integer, not '%s'", v);
            o.seed = s;
        } else if (strcmp(a, "--start") == 0) {
            start = v;
        } else {
            return bad("unknown option '%s'", a);
        }
    }
    if (!o.sc)
        return bad("%s", "--scenario is required (see --list)");
    if (eng_parse_date(start, &o.start_day) != 0)
        return bad("--start must be a real date YYYY-MM-DD, not '%s'", start);
    char err[512];
    bench_sim_stats st;
    int rc = bench_sim_run(&o, stdout, &st, err, sizeof err);
    if (fflush(stdout) != 0 && rc == 0) {
        snprintf(err, sizeof err, "cannot write the trace: %s", strerror(errno));
        rc = ANT_EINTERNAL;
    }
    if (rc) {
        fprintf(stderr, "antrean-bench simulate: %s\n", err);
        return 1;
    }
    fprintf(stderr,
            "simulate %s: %d days, seed %llu: %llu lines, %llu issued (%llu priority), "
            "%llu called, %llu served, %llu no-show, %llu cancelled, %llu left waiting at close\n",
            o.sc->name, o.days, (unsigned long long)o.seed, (unsigned long long)st.lines,
            (unsigned long long)st.issued, (unsigned long long)st.priority,
            (unsigned long long)st.called, (unsigned long long)st.served,
            (unsigned long long)st.no_show, (unsigned long long)st.cancelled,
            (unsigned long long)st.left_waiting);
    return 0;
}
