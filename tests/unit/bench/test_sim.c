/*
 * test_sim.c — the hall simulator (bench/sim.c, bench/sim_scenarios.c):
 * traces are deterministic per seed, well-formed SPEC §10 lines, accepted
 * by a fresh engine fed only the trace (refs mapped to ids of its own), the
 * recorded calls are the ones the calling rules make, and the configured
 * shares and breaks show in the output. antrean-bench is a program, not a
 * library, so the simulator's sources are compiled in here.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"

#include "../../../bench/sim.c"
#include "../../../bench/sim_scenarios.c"

#define T_MAX_REFS 200000

typedef struct t_trace {
    char *buf;
    size_t len;
    bench_sim_stats st;
} t_trace;

static void t_run(const bench_sim_scenario *sc, int days, uint64_t seed, t_trace *t)
{
    bench_sim_opts o = {.sc = sc, .days = days, .seed = seed};
    cr_assert_eq(eng_parse_date("2026-03-02", &o.start_day), 0);
    FILE *f = open_memstream(&t->buf, &t->len);
    cr_assert(f);
    char err[512] = "";
    int rc = bench_sim_run(&o, f, &t->st, err, sizeof err);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rc, 0, "%s %d days seed %llu: %s", sc->name, days, (unsigned long long)seed, err);
}

typedef struct t_counts {
    uint64_t lines, issues, priority, calls, starts, finishes, recalls, no_shows, cancels;
    uint64_t call_start_same_instant; /* starts at the instant of their counter's call */
    int days;                         /* distinct hall-local days with commands */
    int lunch_closes, lunch_opens, lunch_calls, early_closes;
} t_counts;

static const char *t_str(json_t *o, const char *k, bool required, int line)
{
    json_t *v = json_object_get(o, k);
    if (!v && !required)
        return NULL;
    cr_assert(json_is_string(v), "line %d: '%s' must be a string", line, k);
    return json_string_value(v);
}

static uint32_t t_ref(json_t *o, int line)
{
    const char *r = t_str(o, "ref", true, line);
    char *end;
    unsigned long n = strtoul(r + 1, &end, 10);
    cr_assert(r[0] == 't' && *end == 0 && n > 0 && n < T_MAX_REFS, "line %d: ref '%s'", line, r);
    return (uint32_t)n;
}

/* An id scheme unlike the simulator's: the trace must not depend on its ids. */
static void t_tid(uint32_t ref, uint8_t tid[ENG_TID_LEN])
{
    for (int i = 0; i < ENG_TID_LEN; i++)
        tid[i] = (uint8_t)((ref * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)(i * 37);
}

/*
 * Applies a trace to a new hall built from its first line, checking every
 * line's shape. call_next: apply each call as "call next" and require the
 * engine to pick the ticket the trace names (else call that ticket, as replay does).
 */
static void t_apply(const t_trace *t, bool call_next, t_counts *n)
{
    memset(n, 0, sizeof *n);
    char *save = NULL, *text = strndup(t->buf, t->len);
    cr_assert(text);
    eng_hall *h = NULL;
    eng_evbuf ev;
    eng_evbuf_init(&ev);
    int64_t last_at = 0;
    int32_t last_day = -1;
    const eng_config *cfg = NULL;
    int64_t call_at[ENG_MAX_COUNTERS]; /* each counter's last call */
    for (int i = 0; i < ENG_MAX_COUNTERS; i++)
        call_at[i] = -1;
    int line = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        json_error_t je;
        json_t *o = json_loads(l, JSON_REJECT_DUPLICATES, &je);
        cr_assert(json_is_object(o), "line %d: not a JSON object: %s", line, je.text);
        if (line == 1) {
            cr_assert_eq(json_object_size(o), 1);
            char *hj = json_dumps(json_object_get(o, "hall"), JSON_COMPACT);
            cr_assert(hj, "line 1: no hall");
            eng_config *c;
            cr_assert_eq(eng_config_parse(hj, strlen(hj), &c, NULL), 0, "line 1: bad config");
            free(hj);
            h = eng_hall_new(c, 0);
            cr_assert(h);
            cfg = eng_hall_config(h);
            json_decref(o);
            continue;
        }
        json_t *at = json_object_get(o, "at");
        cr_assert(json_is_integer(at), "line %d: at", line);
        int64_t now = json_integer_value(at);
        cr_assert_geq(now, last_at, "line %d: at goes backwards", line);
        last_at = now;
        cfg = eng_hall_config(h); /* a day rollover replaces the hall's config copy */
        int32_t day = eng_hall_day_of(h, now);
        n->days += day != last_day;
        last_day = day;
        int minute = (int)((now + cfg->utc_offset_min * MIN_MS) % MS_PER_DAY / MIN_MS);
        const char *op = t_str(o, "op", true, line);
        eng_cmd cmd = {0};
        size_t keys = 2;
        uint32_t ref = 0;
        if (strcmp(op, "issue") == 0) {
            cmd.type = ENG_CMD_ISSUE;
            cmd.service = t_str(o, "service", true, line);
            const char *p = t_str(o, "priority", false, line);
            if (p) {
                int pr = eng_prio_from_name(p);
                cr_assert(pr > 0, "line %d: priority '%s'", line, p);
                cmd.prio = (uint8_t)pr;
                n->priority++;
                keys++;
            }
            t_tid(ref = t_ref(o, line), cmd.tid);
            keys += 2;
            n->issues++;
        } else if (strcmp(op, "cancel") == 0) {
            cmd.type = ENG_CMD_CANCEL;
            cmd.has_ticket = true;
            t_tid(ref = t_ref(o, line), cmd.tid);
            keys++;
            n->cancels++;
        } else {
            static const struct {
                const char *op;
                int type;
            } ops[] = {{"call", ENG_CMD_CALL},
                       {"recall", ENG_CMD_RECALL},
                       {"start", ENG_CMD_START},
                       {"finish", ENG_CMD_FINISH},
                       {"no_show", ENG_CMD_NO_SHOW},
                       {"counter_open", ENG_CMD_COUNTER_OPEN},
                       {"counter_close", ENG_CMD_COUNTER_CLOSE}};
            for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
                if (strcmp(op, ops[i].op) == 0)
                    cmd.type = (uint8_t)ops[i].type;
            cr_assert(cmd.type, "line %d: unexpected op '%s'", line, op);
            cmd.counter = t_str(o, "counter", true, line);
            keys++;
            if (cmd.type == ENG_CMD_CALL) {
                t_tid(ref = t_ref(o, line), cmd.tid);
                cmd.has_ticket = !call_next;
                keys++;
            }
        }
        cr_assert_eq(json_object_size(o), keys, "line %d: unexpected keys", line);
        int ci = eng_config_counter(cfg, cmd.counter ? cmd.counter : "");
        cr_assert(!cmd.counter || ci >= 0, "line %d: unknown counter", line);
        bool lunch = ci >= 0 && cfg->counters[ci].nbreaks > 0;
        bool in_lunch = minute >= LUNCH_FROM_MIN && minute < LUNCH_TO_MIN;
        switch (cmd.type) {
        case ENG_CMD_CALL:
            n->calls++;
            n->lunch_calls += lunch && in_lunch;
            call_at[ci] = now;
            break;
        case ENG_CMD_START:
            n->starts++;
            n->call_start_same_instant += now == call_at[ci];
            break;
        case ENG_CMD_FINISH:
            n->finishes++;
            break;
        case ENG_CMD_RECALL:
            n->recalls++;
            break;
        case ENG_CMD_NO_SHOW:
            n->no_shows++;
            break;
        case ENG_CMD_COUNTER_CLOSE:
            n->lunch_closes += lunch && in_lunch;
            n->early_closes += minute < (int)cfg->issue_until_min && !(lunch && in_lunch);
            break;
        case ENG_CMD_COUNTER_OPEN:
            n->lunch_opens += lunch && minute == LUNCH_TO_MIN && now % MIN_MS == 0;
            break;
        }
        eng_result res;
        eng_evbuf_reset(&ev);
        int rc = eng_apply(h, &cmd, now, &ev, &res);
        cr_assert_eq(rc, 0, "line %d (%s): %s: %s", line, l, ant_err_code(rc), res.msg);
        if (cmd.type == ENG_CMD_CALL) {
            uint8_t want[ENG_TID_LEN];
            t_tid(ref, want);
            cr_assert(memcmp(res.ticket.tid, want, ENG_TID_LEN) == 0,
                      "line %d: the engine called %s, the trace says t%u", line, res.ticket.code,
                      ref);
        }
        json_decref(o);
    }
    n->lines = (uint64_t)line;
    cr_assert_eq(n->lines, t->st.lines);
    eng_evbuf_free(&ev);
    eng_hall_free(h);
    free(text);
}

static void t_free(t_trace *t)
{
    free(t->buf);
}

Test(sim, deterministic_per_seed)
{
    for (int i = 0; bench_sim_scenario_at(i); i++) {
        t_trace a, b, c;
        t_run(bench_sim_scenario_at(i), 2, 42, &a);
        t_run(bench_sim_scenario_at(i), 2, 42, &b);
        t_run(bench_sim_scenario_at(i), 2, 43, &c);
        cr_assert(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0, "%s",
                  bench_sim_scenario_at(i)->name);
        cr_assert(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0, "%s",
                  bench_sim_scenario_at(i)->name);
        t_free(&a);
        t_free(&b);
        t_free(&c);
    }
}

Test(sim, every_scenario_replays_through_the_engine)
{
    uint64_t seed = ant_test_seed();
    for (int i = 0; bench_sim_scenario_at(i); i++) {
        const bench_sim_scenario *sc = bench_sim_scenario_at(i);
        t_trace t;
        t_run(sc, 3, seed, &t);
        t_counts n, m;
        t_apply(&t, false, &n);
        t_apply(&t, true, &m); /* the calling rules pick exactly the recorded tickets */
        cr_assert_eq(n.days, 3, "%s: %d days", sc->name, n.days);
        cr_assert_eq(n.issues, t.st.issued);
        cr_assert_eq(n.calls, t.st.called);
        cr_assert_eq(n.finishes, t.st.served);
        cr_assert_eq(n.no_shows, t.st.no_show);
        cr_assert_eq(n.calls, n.starts + n.no_shows, "%s: every call starts or ends as no-show",
                     sc->name);
        cr_assert_eq(n.recalls, n.no_shows, "%s: one recall before each no-show", sc->name);
        cr_assert_eq(n.early_closes, 0, "%s: a counter closed before issue_until", sc->name);
        cr_assert_gt(n.issues, 250 * 3, "%s: %llu tickets in 3 days", sc->name,
                     (unsigned long long)n.issues);
        t_free(&t);
    }
}

Test(sim, mms_calls_and_starts_at_the_same_instant)
{
    t_trace t;
    t_run(bench_sim_scenario_find("mms"), 2, 5, &t);
    t_counts n;
    t_apply(&t, false, &n);
    cr_assert_gt(n.calls, 0);
    cr_assert_eq(n.call_start_same_instant, n.calls);
    cr_assert_eq(n.no_shows + n.priority + n.cancels, 0);
    /* M/M/5 at 54 tickets/h over the 7 issuing hours: 378 a day, Poisson sd about 19 */
    cr_assert(n.issues > 2 * 378 - 120 && n.issues < 2 * 378 + 120, "%llu",
              (unsigned long long)n.issues);
    t_free(&t);
}

Test(sim, noshow_and_priority_shares_near_the_configured_ones)
{
    uint64_t seed = ant_test_seed();
    const char *names[] = {"noshow", "lunch"};
    for (int i = 0; i < 2; i++) {
        const bench_sim_scenario *sc = bench_sim_scenario_find(names[i]);
        t_trace t;
        t_run(sc, 5, seed, &t);
        t_counts n;
        t_apply(&t, false, &n);
        /* about 2300 tickets: binomial sd under 0.01 for both shares */
        double ns = (double)n.no_shows / (double)n.calls;
        double ps = (double)n.priority / (double)n.issues;
        cr_assert(ns > sc->noshow_share - 0.04 && ns < sc->noshow_share + 0.04,
                  "%s seed %llu: no-show share %.3f", sc->name, (unsigned long long)seed, ns);
        cr_assert(ps > sc->priority_share - 0.03 && ps < sc->priority_share + 0.03,
                  "%s seed %llu: priority share %.3f", sc->name, (unsigned long long)seed, ps);
        t_free(&t);
    }
    t_trace t;
    t_run(bench_sim_scenario_find("rush"), 2, seed, &t);
    t_counts n;
    t_apply(&t, false, &n);
    cr_assert_eq(n.no_shows + n.priority, 0);
    t_free(&t);
}

Test(sim, lunch_counters_closed_from_noon_to_one)
{
    const bench_sim_scenario *sc = bench_sim_scenario_find("lunch");
    int nlunch = 0;
    for (int c = 0; c < sc->ncounters; c++)
        nlunch += sc->counters[c].lunch;
    cr_assert_eq(nlunch, 2);
    t_trace t;
    t_run(sc, 4, ant_test_seed(), &t);
    t_counts n;
    t_apply(&t, false, &n);
    /* each lunch counter closes once between 12:00 and 13:00 and reopens at 13:00 sharp */
    cr_assert_eq(n.lunch_closes, 4 * nlunch);
    cr_assert_eq(n.lunch_opens, 4 * nlunch);
    cr_assert_eq(n.lunch_calls, 0);
    cr_assert_eq(t.st.lunch_closes, (uint64_t)(4 * nlunch));
    cr_assert(strstr(t.buf, "\"breaks\":[{\"from\":\"12:00\",\"to\":\"13:00\"}]"));
    t_free(&t);
    /* the same citizens without the break: no lunch closes */
    t_run(bench_sim_scenario_find("noshow"), 4, ant_test_seed(), &t);
    t_apply(&t, false, &n);
    cr_assert_eq(n.lunch_closes + n.lunch_opens, 0);
    t_free(&t);
}

Test(sim, cancels_apply_when_a_scenario_has_them)
{
    bench_sim_scenario sc = *bench_sim_scenario_find("noshow");
    sc.cancel_share = 0.3;
    sc.patience_mean_s = 900;
    t_trace t;
    t_run(&sc, 2, 9, &t);
    t_counts n;
    t_apply(&t, false, &n);
    t_apply(&t, true, &n);
    cr_assert_gt(n.cancels, 10);
    cr_assert_eq(n.cancels, t.st.cancelled);
    t_free(&t);
}

Test(sim, configs_parse_and_name_lookup)
{
    char json[8192];
    for (int i = 0; bench_sim_scenario_at(i); i++) {
        int len = bench_sim_config_json(bench_sim_scenario_at(i), json, sizeof json);
        cr_assert_gt(len, 0);
        eng_config *cfg;
        cr_assert_eq(eng_config_parse(json, (size_t)len, &cfg, NULL), 0);
        cr_assert_eq(cfg->utc_offset_min, 420);
        cr_assert_eq(cfg->weekdays, 0x7f);
        eng_config_free(cfg);
        cr_assert_eq(bench_sim_config_json(bench_sim_scenario_at(i), json, 100), -1);
    }
    cr_assert_null(bench_sim_scenario_find("nope"));
    cr_assert_null(bench_sim_scenario_at(-1));
}

Test(sim, bad_arguments_exit_2)
{
    char *cases[][6] = {
        {"antrean-bench", "simulate", NULL},
        {"antrean-bench", "simulate", "--scenario", "nope", NULL},
        {"antrean-bench", "simulate", "--scenario", "mms", "--days", "0"},
        {"antrean-bench", "simulate", "--scenario", "mms", "--seed", "-1"},
        {"antrean-bench", "simulate", "--scenario", "mms", "--start", "2026-02-30"},
        {"antrean-bench", "simulate", "--scenario", "mms", "--bogus", "1"},
        {"antrean-bench", "simulate", "--scenario", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int argc = 0;
        while (argc < 6 && cases[i][argc])
            argc++;
        cr_assert_eq(bench_simulate_main(argc, cases[i]), 2, "case %zu", i);
    }
}
