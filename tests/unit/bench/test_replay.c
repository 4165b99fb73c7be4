/*
 * test_replay.c — antrean-bench replay (bench/replay.c, SPEC §10): a
 * hand-written trace with known answers, and every malformed line refused
 * with its line number. replay.c is compiled in (antrean-bench is a program).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"

#include "../../../bench/replay.c"

#define HALL                                                                                       \
    "{\"hall\":{\"id\":\"h\",\"name\":\"H\",\"utc_offset_min\":0,"                                 \
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"                                          \
    "\"agencies\":[{\"id\":\"a\",\"name\":\"A\"}],"                                                \
    "\"services\":[{\"id\":\"s\",\"agency\":\"a\",\"name\":\"S\",\"prefix\":\"A\","                \
    "\"est_service_s\":100}],"                                                                     \
    "\"counters\":[{\"id\":\"c1\",\"label\":\"L1\",\"services\":[\"s\"]}]}}\n"

#define T0 "1780000000000"

/* Runs a trace; returns the exit status and fills out/err (caller frees). */
static int run(const char *trace, char **out, char **err)
{
    FILE *in = fmemopen((void *)trace, strlen(trace), "r");
    size_t ol, el;
    FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
    cr_assert(in && o && e);
    int rc = bench_replay_run(in, o, e, BENCH_REPLAY_BASELINES);
    fclose(in);
    fclose(o);
    fclose(e);
    return rc;
}

Test(replay, known_answers)
{
    /* one counter, 100 s per ticket: t1 is called at once; t2 waits for t1 to
     * finish (100 s); t3 behind both (200 s); t3 is never called */
    const char *trace =
        HALL "{\"at\":" T0 ",\"op\":\"counter_open\",\"counter\":\"c1\"}\n"
             "{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"t1\"}\n"
             "{\"at\":" T0 ",\"op\":\"call\",\"counter\":\"c1\",\"ref\":\"t1\"}\n"
             "{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"t2\"}\n"
             "{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"t3\"}\n"
             "{\"at\":1780000090000,\"op\":\"start\",\"counter\":\"c1\"}\n"
             "{\"at\":1780000100000,\"op\":\"finish\",\"counter\":\"c1\"}\n"
             "{\"at\":1780000100000,\"op\":\"call\",\"counter\":\"c1\",\"ref\":\"t2\"}\n";
    char *out, *err;
    cr_assert_eq(run(trace, &out, &err), 0, "%s", err);
    cr_expect_str_eq(out, "{\"ref\":\"t1\",\"service\":\"s\",\"issued_at\":" T0
                          ",\"eta_s\":0,\"position\":0,\"called_at\":" T0 "}\n"
                          "{\"ref\":\"t2\",\"service\":\"s\",\"issued_at\":" T0
                          ",\"eta_s\":100,\"position\":0,\"called_at\":1780000100000}\n"
                          "{\"ref\":\"t3\",\"service\":\"s\",\"issued_at\":" T0
                          ",\"eta_s\":200,\"position\":1,\"called_at\":null}\n");
    /* t1 exact, t2 exact: RMSE 0 over the two called */
    cr_expect(strstr(err, "tickets 3 called 2\n") != NULL, "%s", err);
    cr_expect(strstr(err, "antrean  rmse_s 0.0 mae_s 0.0\n") != NULL, "%s", err);
    free(out);
    free(err);
}

static const struct {
    const char *line, *want;
} bad[] = {
    {"{\"at\":1,\"op\":", "line 2: bad_request: malformed JSON"},
    {"[1,2]", "line 2: bad_request: expected a JSON object"},
    {"{\"op\":\"issue\",\"service\":\"s\",\"ref\":\"x\"}", "line 2: bad_request: at: missing"},
    {"{\"at\":\"now\",\"op\":\"issue\"}", "line 2: bad_request: at: expected milliseconds"},
    {"{\"at\":" T0 ",\"op\":\"dance\"}", "line 2: bad_request: op: unknown op 'dance'"},
    {"{\"at\":" T0 ",\"op\":\"issue\",\"ref\":\"x\"}", "line 2: bad_request: service: missing"},
    {"{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"zz\",\"ref\":\"x\"}",
     "line 2: not_found: service 'zz' not found"},
    {"{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"x\",\"priority\":\"vip\"}",
     "line 2: bad_request: priority: expected one of"},
    {"{\"at\":" T0 ",\"op\":\"cancel\",\"ref\":\"nobody\"}",
     "line 2: not_found: ref: unknown ticket 'nobody'"},
    {"{\"at\":" T0 ",\"op\":\"call\",\"counter\":\"c1\"}", "line 2: invalid_state:"},
    {"{\"at\":" T0 ",\"op\":\"counter_open\",\"counter\":\"c9\"}", "line 2: not_found:"},
    {"{\"at\":" T0 ",\"op\":\"counter_open\"}", "line 2: bad_request: counter: missing"},
};

Test(replay, malformed_lines_stop_with_their_number)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char trace[2048];
        snprintf(trace, sizeof trace, "%s%s\n", HALL, bad[i].line);
        char *out, *err;
        cr_expect_eq(run(trace, &out, &err), 1, "case %zu", i);
        cr_expect(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "case %zu: got %s", i, err);
        free(out);
        free(err);
    }
}

Test(replay, time_going_backwards_and_duplicate_refs_are_refused)
{
    const char *trace = HALL "{\"at\":" T0 ",\"op\":\"counter_open\",\"counter\":\"c1\"}\n"
                             "\n"
                             "{\"at\":1779999999999,\"op\":\"counter_close\",\"counter\":\"c1\"}\n";
    char *out, *err;
    cr_expect_eq(run(trace, &out, &err), 1);
    cr_expect(strncmp(err, "line 4: bad_request: at: time goes backwards", 44) == 0, "%s", err);
    free(out);
    free(err);
    trace = HALL "{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"x\"}\n"
                 "{\"at\":" T0 ",\"op\":\"issue\",\"service\":\"s\",\"ref\":\"x\"}\n";
    cr_expect_eq(run(trace, &out, &err), 1);
    cr_expect(strncmp(err, "line 3: bad_request: ref: 'x' already issued", 44) == 0, "%s", err);
    free(out);
    free(err);
}

Test(replay, a_bad_hall_line_is_line_1)
{
    const char *traces[] = {"", "{\"hall\":{\"id\":\"BAD\"}}\n{\"at\":1,\"op\":\"issue\"}\n",
                            "{\"nohall\":1}\n"};
    for (size_t i = 0; i < 3; i++) {
        char *out, *err;
        cr_expect_eq(run(traces[i], &out, &err), 1, "case %zu", i);
        cr_expect(strncmp(err, "line 1: bad_request: ", 21) == 0, "case %zu: %s", i, err);
        free(out);
        free(err);
    }
}
