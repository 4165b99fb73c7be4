/*
 * test_config.c — hall configuration parsing and validation (SPEC §2).
 *
 * Most cases start from one full valid config (FULL), change one field by its
 * path, and expect exactly one problem with an exact message: that pins both
 * the rule and the absence of cascading problems.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "config.h"
#include "errors.h"

/* SPEC §2's example, extended to 2 agencies, 3 services, 3 counters. */
static const char FULL[] =
    "{\"id\":\"mpp-demo\",\"name\":\"Mal Pelayanan Publik Demo\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"08:00\",\"close\":\"16:00\",\"issue_until\":\"15:00\","
    "\"weekdays\":[1,2,3,4,5],\"closed_dates\":[\"2026-12-25\",\"2026-08-17\",\"2026-12-25\"]},"
    "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Disdukcapil\"},"
    "{\"id\":\"imigrasi\",\"name\":\"Kantor Imigrasi\"}],"
    "\"services\":["
    "{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\","
    "\"est_service_s\":300,\"sla_wait_s\":1800,\"daily_quota\":200},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"Kartu Keluarga\",\"prefix\":\"B\","
    "\"est_service_s\":420,\"sla_wait_s\":2400,\"daily_quota\":0},"
    "{\"id\":\"paspor\",\"agency\":\"imigrasi\",\"name\":\"Paspor\",\"prefix\":\"PA\","
    "\"est_service_s\":600,\"sla_wait_s\":3600,\"daily_quota\":150}],"
    "\"counters\":["
    "{\"id\":\"l01\",\"label\":\"Loket "
    "1\",\"services\":[\"ktp\",\"kk\"],\"policy\":\"longest_wait\"},"
    "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"kk\",\"ktp\"],\"policy\":\"in_order\"},"
    "{\"id\":\"l03\",\"label\":\"Loket 3\",\"services\":[\"paspor\"]}],"
    "\"priority\":{\"max_consecutive\":3},"
    "\"no_show\":{\"min_recalls\":2,\"reinstate_within_s\":900},"
    "\"self_service\":true}";

/* Only the required fields. */
static const char MINIMAL[] =
    "{\"id\":\"h1\",\"name\":\"Hall\",\"utc_offset_min\":-90,"
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"
    "\"agencies\":[{\"id\":\"a\",\"name\":\"Agency\"}],"
    "\"services\":[{\"id\":\"s\",\"agency\":\"a\",\"name\":\"Layanan \xc3\xa9\",\"prefix\":\"Z\"}],"
    "\"counters\":[{\"id\":\"c\",\"label\":\"Loket\",\"services\":[\"s\"]}]}";

/* What MINIMAL normalizes to: defaults filled in, keys sorted, compact. */
static const char MINIMAL_CANON[] =
    "{\"agencies\":[{\"id\":\"a\",\"name\":\"Agency\"}],"
    "\"counters\":[{\"id\":\"c\",\"label\":\"Loket\",\"policy\":\"longest_wait\","
    "\"services\":[\"s\"]}],"
    "\"hours\":{\"close\":\"24:00\",\"closed_dates\":[],\"issue_until\":\"24:00\","
    "\"open\":\"00:00\",\"weekdays\":[1,2,3,4,5,6,7]},"
    "\"id\":\"h1\",\"name\":\"Hall\",\"no_show\":{\"min_recalls\":1,\"reinstate_within_s\":1800},"
    "\"priority\":{\"max_consecutive\":2},\"self_service\":false,"
    "\"services\":[{\"agency\":\"a\",\"daily_quota\":0,\"est_service_s\":300,\"id\":\"s\","
    "\"name\":\"Layanan \xc3\xa9\",\"prefix\":\"Z\",\"sla_wait_s\":1800}],"
    "\"utc_offset_min\":-90}";

static eng_config *parse_ok(const char *text)
{
    eng_problems pr;
    eng_config *cfg = NULL;
    int rc = eng_config_parse(text, strlen(text), &cfg, &pr);
    cr_assert_eq(rc, 0, "parse failed (%d problems), first: %s", pr.count,
                 pr.count ? pr.msg[0] : "-");
    cr_assert_not_null(cfg);
    return cfg;
}

static int parse_bad(const char *text, eng_problems *pr)
{
    eng_config *cfg = (eng_config *)1;
    int rc = eng_config_parse(text, strlen(text), &cfg, pr);
    cr_assert_eq(rc, ANT_EBADREQ, "expected rejection of %s", text);
    cr_assert_null(cfg);
    return pr->count;
}

static bool has_problem(const eng_problems *pr, const char *msg)
{
    for (int i = 0; i < pr->count && i < ENG_PROBLEMS_MAX; i++)
        if (strcmp(pr->msg[i], msg) == 0)
            return true;
    return false;
}

static void dump_problems(const eng_problems *pr)
{
    for (int i = 0; i < pr->count && i < ENG_PROBLEMS_MAX; i++)
        cr_log_info("  problem %d: %s", i, pr->msg[i]);
}

/*
 * Set (val = JSON text) or delete (val = NULL) the member at path, e.g.
 * "services[0].prefix" or "hours.weekdays[1]". An index equal to the array's
 * size appends.
 */
static void mutate(json_t *root, const char *path, const char *val)
{
    json_t *cur = root, *nv = NULL;
    const char *p = path;
    if (val) {
        json_error_t err;
        nv = json_loads(val, JSON_DECODE_ANY, &err);
        cr_assert_not_null(nv, "bad test value %s: %s", val, err.text);
    }
    for (;;) {
        char key[512];
        size_t n = strcspn(p, ".[");
        cr_assert_lt(n, sizeof key);
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (*p == '\0') { /* last component: a key */
            if (nv)
                json_object_set_new(cur, key, nv);
            else
                json_object_del(cur, key);
            return;
        }
        if (n)
            cur = json_object_get(cur, key);
        while (*p == '[') {
            size_t idx = strtoul(p + 1, (char **)&p, 10);
            cr_assert_eq(*p, ']');
            p++;
            if (*p == '\0') { /* last component: an index */
                if (!nv)
                    json_array_remove(cur, idx);
                else if (idx == json_array_size(cur))
                    json_array_append_new(cur, nv);
                else
                    json_array_set_new(cur, idx, nv);
                return;
            }
            cur = json_array_get(cur, idx);
        }
        cr_assert_eq(*p, '.', "bad test path %s", path);
        p++;
        cr_assert_not_null(cur, "test path %s does not exist", path);
    }
}

/* FULL with a list of (path, value) changes applied; caller frees. */
static char *full_with(const char *const *changes, size_t n)
{
    json_error_t err;
    json_t *root = json_loads(FULL, 0, &err);
    cr_assert_not_null(root, "FULL does not parse: %s", err.text);
    for (size_t i = 0; i + 1 < n; i += 2)
        mutate(root, changes[i], changes[i + 1]);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static void expect_same(const eng_config *a, const eng_config *b)
{
    cr_expect_str_eq(a->id, b->id);
    cr_expect_str_eq(a->name, b->name);
    cr_expect_eq(a->utc_offset_min, b->utc_offset_min);
    cr_expect_eq(a->open_min, b->open_min);
    cr_expect_eq(a->close_min, b->close_min);
    cr_expect_eq(a->issue_until_min, b->issue_until_min);
    cr_expect_eq(a->weekdays, b->weekdays);
    cr_assert_eq(a->nclosed, b->nclosed);
    for (int i = 0; i < a->nclosed; i++)
        cr_expect_eq(a->closed_days[i], b->closed_days[i]);
    cr_assert_eq(a->nagencies, b->nagencies);
    for (int i = 0; i < a->nagencies; i++) {
        cr_expect_str_eq(a->agencies[i].id, b->agencies[i].id);
        cr_expect_str_eq(a->agencies[i].name, b->agencies[i].name);
    }
    cr_assert_eq(a->nservices, b->nservices);
    for (int i = 0; i < a->nservices; i++) {
        const eng_service_cfg *x = &a->services[i], *y = &b->services[i];
        cr_expect_str_eq(x->id, y->id);
        cr_expect_str_eq(x->name, y->name);
        cr_expect_str_eq(x->prefix, y->prefix);
        cr_expect_eq(x->agency, y->agency);
        cr_expect_eq(x->est_service_s, y->est_service_s);
        cr_expect_eq(x->sla_wait_s, y->sla_wait_s);
        cr_expect_eq(x->daily_quota, y->daily_quota);
    }
    cr_assert_eq(a->ncounters, b->ncounters);
    for (int i = 0; i < a->ncounters; i++) {
        const eng_counter_cfg *x = &a->counters[i], *y = &b->counters[i];
        cr_expect_str_eq(x->id, y->id);
        cr_expect_str_eq(x->label, y->label);
        cr_expect_eq(x->policy, y->policy);
        cr_assert_eq(x->nservices, y->nservices);
        for (int j = 0; j < x->nservices; j++)
            cr_expect_eq(x->services[j], y->services[j]);
    }
    cr_expect_eq(a->prio_max_consecutive, b->prio_max_consecutive);
    cr_expect_eq(a->min_recalls, b->min_recalls);
    cr_expect_eq(a->reinstate_within_s, b->reinstate_within_s);
    cr_expect_eq(a->self_service, b->self_service);
    cr_assert_eq(a->json_len, b->json_len);
    cr_expect_str_eq(a->json, b->json);
}

Test(config, full_valid_config_parses)
{
    eng_config *c = parse_ok(FULL);
    cr_expect_str_eq(c->id, "mpp-demo");
    cr_expect_str_eq(c->name, "Mal Pelayanan Publik Demo");
    cr_expect_eq(c->utc_offset_min, 420);
    cr_expect_eq(c->open_min, 8 * 60);
    cr_expect_eq(c->close_min, 16 * 60);
    cr_expect_eq(c->issue_until_min, 15 * 60);
    cr_expect_eq(c->weekdays, 0x1F);
    cr_assert_eq(c->nclosed, 2);            /* sorted, duplicate dropped */
    cr_expect_eq(c->closed_days[0], 20682); /* 2026-08-17 */
    cr_expect_eq(c->closed_days[1], 20812); /* 2026-12-25 */

    cr_assert_eq(c->nagencies, 2);
    cr_expect_str_eq(c->agencies[1].id, "imigrasi");
    cr_expect_str_eq(c->agencies[1].name, "Kantor Imigrasi");

    cr_assert_eq(c->nservices, 3);
    cr_expect_str_eq(c->services[0].id, "ktp");
    cr_expect_str_eq(c->services[0].name, "KTP-el");
    cr_expect_str_eq(c->services[0].prefix, "A");
    cr_expect_eq(c->services[0].agency, 0);
    cr_expect_eq(c->services[0].est_service_s, 300);
    cr_expect_eq(c->services[0].sla_wait_s, 1800);
    cr_expect_eq(c->services[0].daily_quota, 200);
    cr_expect_eq(c->services[1].daily_quota, 0);
    cr_expect_eq(c->services[1].sla_wait_s, 2400);
    cr_expect_str_eq(c->services[2].prefix, "PA");
    cr_expect_eq(c->services[2].agency, 1);
    cr_expect_eq(c->services[2].est_service_s, 600);

    cr_assert_eq(c->ncounters, 3);
    cr_expect_str_eq(c->counters[0].label, "Loket 1");
    cr_expect_eq(c->counters[0].policy, ENG_POLICY_LONGEST_WAIT);
    cr_assert_eq(c->counters[0].nservices, 2);
    cr_expect_eq(c->counters[0].services[0], 0);
    cr_expect_eq(c->counters[0].services[1], 1);
    cr_expect_eq(c->counters[1].policy, ENG_POLICY_IN_ORDER);
    cr_expect_eq(c->counters[1].services[0], 1); /* listed order is kept */
    cr_expect_eq(c->counters[1].services[1], 0);
    cr_expect_eq(c->counters[2].policy, ENG_POLICY_LONGEST_WAIT);
    cr_expect_eq(c->counters[2].nservices, 1);
    cr_expect_eq(c->counters[2].services[0], 2);

    cr_expect_eq(c->prio_max_consecutive, 3);
    cr_expect_eq(c->min_recalls, 2);
    cr_expect_eq(c->reinstate_within_s, 900);
    cr_expect(c->self_service);
    cr_expect_eq(c->json_len, strlen(c->json));

    cr_expect_eq(eng_config_service(c, "paspor"), 2);
    cr_expect_eq(eng_config_service(c, "nope"), -1);
    cr_expect_eq(eng_config_service(c, NULL), -1);
    cr_expect_eq(eng_config_counter(c, "l02"), 1);
    cr_expect_eq(eng_config_counter(c, "l04"), -1);
    cr_expect_eq(eng_config_agency(c, "imigrasi"), 1);
    cr_expect_eq(eng_config_agency(c, "polri"), -1);
    eng_config_free(c);
}

Test(config, defaults_are_filled_in)
{
    eng_config *c = parse_ok(MINIMAL);
    cr_expect_eq(c->utc_offset_min, -90);
    cr_expect_eq(c->open_min, 0);
    cr_expect_eq(c->close_min, 1440);
    cr_expect_eq(c->issue_until_min, 1440);
    cr_expect_eq(c->weekdays, 0x7F);
    cr_expect_eq(c->nclosed, 0);
    cr_expect_eq(c->services[0].est_service_s, 300);
    cr_expect_eq(c->services[0].sla_wait_s, 1800);
    cr_expect_eq(c->services[0].daily_quota, 0);
    cr_expect_eq(c->counters[0].policy, ENG_POLICY_LONGEST_WAIT);
    cr_expect_eq(c->prio_max_consecutive, 2);
    cr_expect_eq(c->min_recalls, 1);
    cr_expect_eq(c->reinstate_within_s, 1800);
    cr_expect_not(c->self_service);
    cr_expect_str_eq(c->json, MINIMAL_CANON);
    eng_config_free(c);
}

Test(config, canonical_json_is_idempotent)
{
    const char *inputs[] = {FULL, MINIMAL};
    for (size_t i = 0; i < 2; i++) {
        eng_config *a = parse_ok(inputs[i]);
        eng_config *b = parse_ok(a->json);
        expect_same(a, b);
        eng_config *c = parse_ok(b->json);
        cr_expect_str_eq(c->json, a->json);
        eng_config_free(a);
        eng_config_free(b);
        eng_config_free(c);
    }
}

Test(config, canonical_json_is_independent_of_input_form)
{
    /* key order, whitespace and defaults spelled out make no difference */
    const char *changes[] = {"hours.weekdays", "[5,4,3,2,1,1]", "counters[2].policy",
                             "\"longest_wait\""};
    char *text = full_with(changes, 4);
    eng_config *a = parse_ok(FULL), *b = parse_ok(text);
    cr_expect_str_eq(a->json, b->json);
    eng_config_free(a);
    eng_config_free(b);
    free(text);
}

Test(config, dup_equals_original)
{
    eng_config *a = parse_ok(FULL);
    eng_config *b = eng_config_dup(a);
    cr_assert_not_null(b);
    cr_expect_neq(a->agencies, b->agencies);
    cr_expect_neq(a->services, b->services);
    cr_expect_neq(a->counters, b->counters);
    cr_expect_neq(a->json, b->json);
    expect_same(a, b);
    eng_config_free(a);
    /* the copy stands alone */
    cr_expect_str_eq(b->counters[2].label, "Loket 3");
    cr_expect_eq(eng_config_service(b, "kk"), 1);
    eng_config_free(b);
    cr_expect_null(eng_config_dup(NULL));
    eng_config_free(NULL);
}

Test(config, public_json_has_the_public_subset)
{
    eng_config *c = parse_ok(FULL);
    char *pub = eng_config_public_json(c);
    cr_assert_not_null(pub);
    json_error_t err;
    json_t *o = json_loads(pub, 0, &err);
    cr_assert_not_null(o, "%s", err.text);
    const char *want[] = {"id",       "name",     "utc_offset_min", "hours",
                          "agencies", "services", "counters",       "self_service"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect_not_null(json_object_get(o, want[i]), "public json lacks %s", want[i]);
    cr_expect_eq(json_object_size(o), sizeof want / sizeof want[0]);
    json_t *s2 = json_array_get(json_object_get(o, "services"), 2);
    cr_expect_str_eq(json_string_value(json_object_get(s2, "agency")), "imigrasi");
    cr_expect_str_eq(json_string_value(json_object_get(s2, "prefix")), "PA");
    cr_expect_eq(json_integer_value(json_object_get(s2, "est_service_s")), 600);
    cr_expect_eq(json_integer_value(json_object_get(s2, "sla_wait_s")), 3600);
    cr_expect_eq(json_integer_value(json_object_get(s2, "daily_quota")), 150);
    json_t *c1 = json_array_get(json_object_get(o, "counters"), 1);
    cr_expect_str_eq(json_string_value(json_object_get(c1, "label")), "Loket 2");
    cr_expect_str_eq(json_string_value(json_object_get(c1, "policy")), "in_order");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(c1, "services"), 0)), "kk");
    json_t *h = json_object_get(o, "hours");
    cr_expect_str_eq(json_string_value(json_object_get(h, "issue_until")), "15:00");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(h, "closed_dates"), 0)),
                     "2026-08-17");
    cr_expect(json_is_true(json_object_get(o, "self_service")));
    json_decref(o);
    free(pub);
    eng_config_free(c);
}

struct rule_case {
    const char *path;
    const char *value; /* JSON text; NULL deletes */
    const char *problem;
};

static const struct rule_case rule_cases[] = {
    {"id", "\"MPP\"", "id: invalid id 'MPP' (want [a-z0-9][a-z0-9-]{0,31})"},
    {"id", "\"-mpp\"", "id: invalid id '-mpp' (want [a-z0-9][a-z0-9-]{0,31})"},
    {"id", "\"abcdefghijklmnopqrstuvwxyz0123456\"",
     "id: invalid id 'abcdefghijklmnopqrstuvwxyz0123456' (want [a-z0-9][a-z0-9-]{0,31})"},
    {"id", "\"\"", "id: invalid id '' (want [a-z0-9][a-z0-9-]{0,31})"},
    {"id", "42", "id: expected a string"},
    {"id", NULL, "id: required"},
    {"name", "\"\"", "name: must not be empty"},
    {"name", "\"a\\nb\"", "name: must not contain control characters"},
    {"name", "null", "name: expected a string"},
    {"utc_offset_min", "841", "utc_offset_min: must be between -720 and 840"},
    {"utc_offset_min", "-721", "utc_offset_min: must be between -720 and 840"},
    {"utc_offset_min", "7.5", "utc_offset_min: expected an integer"},
    {"utc_offset_min", NULL, "utc_offset_min: required"},
    {"hours", NULL, "hours: required"},
    {"hours", "[]", "hours: expected an object"},
    {"hours.open", NULL, "hours.open: required"},
    {"hours.open", "\"8:00\"", "hours.open: expected \"HH:MM\""},
    {"hours.open", "\"24:00\"", "hours.open: expected \"HH:MM\""},
    {"hours.open", "480", "hours.open: expected \"HH:MM\""},
    {"hours.close", "\"24:01\"", "hours.close: expected \"HH:MM\""},
    {"hours.close", "\"16:60\"", "hours.close: expected \"HH:MM\""},
    {"hours.close", "\"16:00 \"", "hours.close: expected \"HH:MM\""},
    {"hours.close", "\"08:00\"", "hours.close: must be later than hours.open"},
    {"hours.issue_until", "\"16:01\"",
     "hours.issue_until: must be between hours.open and hours.close"},
    {"hours.issue_until", "\"07:59\"",
     "hours.issue_until: must be between hours.open and hours.close"},
    {"hours.weekdays", "[]", "hours.weekdays: must list at least one day"},
    {"hours.weekdays", "\"mon-fri\"", "hours.weekdays: expected an array"},
    {"hours.weekdays[1]", "8", "hours.weekdays[1]: expected a weekday 1-7 (1 = Monday)"},
    {"hours.weekdays[1]", "0", "hours.weekdays[1]: expected a weekday 1-7 (1 = Monday)"},
    {"hours.weekdays[1]", "\"2\"", "hours.weekdays[1]: expected a weekday 1-7 (1 = Monday)"},
    {"hours.closed_dates", "{}", "hours.closed_dates: expected an array"},
    {"hours.closed_dates[0]", "\"2026-02-30\"",
     "hours.closed_dates[0]: expected \"YYYY-MM-DD\" (a real date), got '2026-02-30'"},
    {"hours.closed_dates[1]", "\"2026-8-17\"",
     "hours.closed_dates[1]: expected \"YYYY-MM-DD\" (a real date), got '2026-8-17'"},
    {"hours.closed_dates[1]", "20260817", "hours.closed_dates[1]: expected a string"},
    {"hours.colour", "\"red\"", "hours.colour: unknown field"},
    {"agencies", NULL, "agencies: required"},
    {"agencies", "[]", "agencies: must not be empty"},
    {"agencies", "{}", "agencies: expected an array"},
    {"agencies[2]", "\"polri\"", "agencies[2]: expected an object"},
    {"agencies[2]", "{\"id\":\"dukcapil\",\"name\":\"Dup\"}",
     "agencies[2].id: duplicate id 'dukcapil'"},
    {"agencies[2]", "{\"id\":\"polri\"}", "agencies[2].name: required"},
    {"agencies[1].url", "\"x\"", "agencies[1].url: unknown field"},
    {"services", "[]", "services: must not be empty"},
    {"services[0].agency", "\"imigrasi-x\"", "services[0].agency: unknown agency 'imigrasi-x'"},
    {"services[0].agency", NULL, "services[0].agency: required"},
    {"services[0].name", NULL, "services[0].name: required"},
    {"services[0].prefix", "\"a\"",
     "services[0].prefix: invalid prefix 'a' (want 1-2 upper-case letters A-Z)"},
    {"services[0].prefix", "\"ABC\"",
     "services[0].prefix: invalid prefix 'ABC' (want 1-2 upper-case letters A-Z)"},
    {"services[0].prefix", "\"\"",
     "services[0].prefix: invalid prefix '' (want 1-2 upper-case letters A-Z)"},
    {"services[0].prefix", "\"A1\"",
     "services[0].prefix: invalid prefix 'A1' (want 1-2 upper-case letters A-Z)"},
    {"services[1].prefix", "\"A\"", "services[1].prefix: prefix 'A' already used by service 'ktp'"},
    {"services[2].prefix", "\"B\"", "services[2].prefix: prefix 'B' already used by service 'kk'"},
    {"services[0].est_service_s", "0", "services[0].est_service_s: must be between 1 and 86400"},
    {"services[0].sla_wait_s", "\"1800\"", "services[0].sla_wait_s: expected an integer"},
    {"services[0].daily_quota", "-1", "services[0].daily_quota: must be between 0 and 1000000"},
    {"services[2].colour", "\"red\"", "services[2].colour: unknown field"},
    {"services[3]", "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"KK\",\"prefix\":\"K\"}",
     "services[3].id: duplicate id 'kk'"},
    {"counters", NULL, "counters: required"},
    {"counters[0].services", "[]", "counters[0].services: must not be empty"},
    {"counters[0].services", NULL, "counters[0].services: required"},
    {"counters[0].services[1]", "\"xyz\"", "counters[0].services[1]: unknown service 'xyz'"},
    {"counters[0].services[1]", "\"ktp\"", "counters[0].services[1]: duplicate service 'ktp'"},
    {"counters[0].services[1]", "7", "counters[0].services[1]: expected a string"},
    {"counters[0].policy", "\"fifo\"",
     "counters[0].policy: expected \"longest_wait\" or \"in_order\""},
    {"counters[0].policy", "1", "counters[0].policy: expected \"longest_wait\" or \"in_order\""},
    {"counters[1].label", "3", "counters[1].label: expected a string"},
    {"counters[0].breaks", "{}", "counters[0].breaks: expected an array"},
    {"counters[0].breaks", "[{\"from\":\"13:00\",\"to\":\"12:00\"}]",
     "counters[0].breaks[0]: from must be before to"},
    {"counters[0].breaks",
     "[{\"from\":\"12:00\",\"to\":\"13:00\"},{\"from\":\"12:30\",\"to\":\"14:00\"}]",
     "counters[0].breaks[1]: breaks must be in order and must not overlap"},
    {"counters[0].breaks", "[{\"from\":\"12:00\"}]", "counters[0].breaks[0].to: required"},
    {"counters[0].breaks", "[{\"from\":\"1200\",\"to\":\"13:00\"}]",
     "counters[0].breaks[0].from: expected \"HH:MM\""},
    {"counters[0].breaks", "[1]", "counters[0].breaks[0]: expected an object {\"from\",\"to\"}"},
    {"counters[0].breaks", "[{\"from\":\"12:00\",\"to\":\"13:00\",\"x\":1}]",
     "counters[0].breaks[0].x: unknown field"},
    {"counters[0].breaks",
     "[{\"from\":\"01:00\",\"to\":\"02:00\"},{\"from\":\"03:00\",\"to\":\"04:00\"},"
     "{\"from\":\"05:00\",\"to\":\"06:00\"},{\"from\":\"07:00\",\"to\":\"08:00\"},"
     "{\"from\":\"09:00\",\"to\":\"10:00\"}]",
     "counters[0].breaks: at most 4 items allowed (got 5)"},
    {"counters[2].id", "\"l01\"", "counters[2].id: duplicate id 'l01'"},
    {"priority", "true", "priority: expected an object"},
    {"priority.max_consecutive", "0", "priority.max_consecutive: must be between 1 and 1000"},
    {"no_show.min_recalls", "-1", "no_show.min_recalls: must be between 0 and 100"},
    {"no_show.reinstate_within_s", "1e3", "no_show.reinstate_within_s: expected an integer"},
    {"no_show.grace_s", "1", "no_show.grace_s: unknown field"},
    {"self_service", "\"yes\"", "self_service: expected true or false"},
    {"colour", "\"red\"", "colour: unknown field"},
};

Test(config, each_rule_violation_is_reported_alone)
{
    for (size_t i = 0; i < sizeof rule_cases / sizeof rule_cases[0]; i++) {
        const struct rule_case *rc = &rule_cases[i];
        const char *changes[] = {rc->path, rc->value};
        char *text = full_with(changes, 2);
        eng_problems pr;
        int n = parse_bad(text, &pr);
        if (n != 1 || !has_problem(&pr, rc->problem)) {
            dump_problems(&pr);
            cr_expect_fail("case %zu (%s = %s): want exactly \"%s\", got %d problems", i, rc->path,
                           rc->value ? rc->value : "<deleted>", rc->problem, n);
        }
        free(text);
    }
}

Test(config, breaks_parse_and_round_trip)
{
    const char *changes[] = {"counters[2].breaks", "[{\"from\":\"12:00\",\"to\":\"13:00\"},"
                                                   "{\"from\":\"15:30\",\"to\":\"24:00\"}]"};
    char *text = full_with(changes, 2);
    eng_config *c = NULL;
    eng_problems pr;
    cr_assert_eq(eng_config_parse(text, strlen(text), &c, &pr), 0);
    cr_expect_eq(c->counters[2].nbreaks, 2);
    cr_expect_eq(c->counters[2].breaks[0].from_min, 720);
    cr_expect_eq(c->counters[2].breaks[0].to_min, 780);
    cr_expect_eq(c->counters[2].breaks[1].to_min, 1440);
    cr_expect_eq(c->counters[0].nbreaks, 0);
    cr_expect(strstr(c->json, "\"breaks\":[{\"from\":\"12:00\",\"to\":\"13:00\"},"
                              "{\"from\":\"15:30\",\"to\":\"24:00\"}]") != NULL);
    eng_config *again = NULL;
    cr_assert_eq(eng_config_parse(c->json, c->json_len, &again, &pr), 0);
    cr_expect_str_eq(again->json, c->json);
    eng_config_free(again);
    eng_config_free(c);
    free(text);
}

Test(config, valid_edge_values_are_accepted)
{
    const char *const cases[][2] = {
        {"utc_offset_min", "-720"},
        {"utc_offset_min", "840"},
        {"hours.close", "\"24:00\""},
        {"hours.issue_until", "\"08:00\""},
        {"hours.issue_until", "\"16:00\""},
        {"hours.weekdays", "[7]"},
        {"hours.closed_dates", "[]"},
        {"id", "\"0-\""},
        {"id", "\"abcdefghijklmnopqrstuvwxyz012345\""},
        {"no_show.min_recalls", "0"},
        {"priority", NULL},
        {"no_show", NULL},
        {"self_service", "false"},
        {"services[0].prefix", "\"ZZ\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = full_with(cases[i], 2);
        eng_problems pr;
        eng_config *c = NULL;
        int rc = eng_config_parse(text, strlen(text), &c, &pr);
        cr_expect_eq(rc, 0, "%s = %s rejected: %s", cases[i][0], cases[i][1] ? cases[i][1] : "-",
                     pr.count ? pr.msg[0] : "");
        eng_config_free(c);
        free(text);
    }
}

Test(config, all_problems_are_listed)
{
    const char *changes[] = {
        "id",
        "\"Bad Id\"",
        "hours.open",
        "\"8am\"",
        "services[1].agency",
        "\"imigrasi-x\"",
        "counters[0].services[1]",
        "\"xyz\"",
        "services[2].colour",
        "\"red\"",
    };
    char *text = full_with(changes, sizeof changes / sizeof changes[0]);
    eng_problems pr;
    int n = parse_bad(text, &pr);
    dump_problems(&pr);
    cr_expect_eq(n, 5);
    cr_expect(has_problem(&pr, "id: invalid id 'Bad Id' (want [a-z0-9][a-z0-9-]{0,31})"));
    cr_expect(has_problem(&pr, "hours.open: expected \"HH:MM\""));
    cr_expect(has_problem(&pr, "services[1].agency: unknown agency 'imigrasi-x'"));
    cr_expect(has_problem(&pr, "counters[0].services[1]: unknown service 'xyz'"));
    cr_expect(has_problem(&pr, "services[2].colour: unknown field"));
    free(text);
}

Test(config, a_bad_id_does_not_cascade_into_references)
{
    /* the service id is invalid; counters naming it as written are not blamed again */
    const char *changes[] = {"services[0].id",          "\"KTP\"",
                             "counters[0].services[0]", "\"KTP\"",
                             "counters[1].services[1]", "\"KTP\""};
    char *text = full_with(changes, 6);
    eng_problems pr;
    int n = parse_bad(text, &pr);
    dump_problems(&pr);
    cr_expect_eq(n, 1);
    cr_expect(has_problem(&pr, "services[0].id: invalid id 'KTP' (want [a-z0-9][a-z0-9-]{0,31})"));
    free(text);
}

Test(config, malformed_json_is_one_problem)
{
    eng_problems pr;
    const char *text = "{\"id\": \"x\",\n  \"name\": }";
    cr_expect_eq(parse_bad(text, &pr), 1);
    cr_expect(strncmp(pr.msg[0], "json: ", 6) == 0, "%s", pr.msg[0]);
    cr_expect_not_null(strstr(pr.msg[0], " at line 2 column "), "%s", pr.msg[0]);

    cr_expect_eq(parse_bad("", &pr), 1);
    cr_expect(strncmp(pr.msg[0], "json: ", 6) == 0, "%s", pr.msg[0]);
    cr_expect_eq(parse_bad("{\"id\":\"a\",\"id\":\"b\"}", &pr), 1); /* duplicate key */
    cr_expect(strncmp(pr.msg[0], "json: ", 6) == 0, "%s", pr.msg[0]);
    cr_expect_eq(parse_bad("{} trailing", &pr), 1);
    cr_expect(strncmp(pr.msg[0], "json: ", 6) == 0, "%s", pr.msg[0]);

    /* invalid UTF-8 in the input must not leak into the message */
    const char bad_utf8[] = "{\"id\": \"\xff\xfe\xc3\"}";
    cr_expect_eq(parse_bad(bad_utf8, &pr), 1);
    cr_expect(strncmp(pr.msg[0], "json: ", 6) == 0, "%s", pr.msg[0]);
    for (const unsigned char *p = (const unsigned char *)pr.msg[0]; *p; p++)
        cr_expect(*p >= 0x20 && *p < 0x80, "byte 0x%02x in message", *p);

    /* not NUL-terminated: only len bytes count */
    eng_config *c = NULL;
    cr_expect_eq(eng_config_parse(FULL, sizeof FULL - 2, &c, &pr), ANT_EBADREQ);
    cr_expect_null(c);
    cr_expect_eq(eng_config_parse(FULL, sizeof FULL - 1, &c, NULL), 0);
    eng_config_free(c);
}

Test(config, top_level_must_be_an_object)
{
    const char *texts[] = {"[]", "[{\"id\":\"x\"}]", "42", "\"hall\"", "null"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        eng_problems pr;
        cr_expect_eq(parse_bad(texts[i], &pr), 1, "%s", texts[i]);
        cr_expect_str_eq(pr.msg[0], "config: expected an object");
    }
    eng_problems pr;
    cr_expect_eq(parse_bad("{}", &pr), 7); /* every required top-level field */
    cr_expect(has_problem(&pr, "id: required"));
    cr_expect(has_problem(&pr, "counters: required"));
}

Test(config, problems_beyond_the_cap_are_counted)
{
    /* 64 agencies with bad ids and bad names: 128 problems, 64 kept */
    json_t *root = json_loads(FULL, 0, NULL);
    json_t *ags = json_array();
    for (int i = 0; i < ENG_MAX_AGENCIES; i++) {
        json_t *a = json_object();
        json_object_set_new(a, "id", json_sprintf("Bad%d", i));
        json_object_set_new(a, "name", json_string(""));
        json_array_append_new(ags, a);
    }
    json_array_append_new(ags, json_pack("{s:s,s:s}", "id", "dukcapil", "name", "D"));
    json_array_append_new(ags, json_pack("{s:s,s:s}", "id", "imigrasi", "name", "I"));
    json_object_set_new(root, "agencies", ags);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    eng_problems pr;
    int n = parse_bad(text, &pr);
    /* 66 listed: the cap is reported, the last two (referenced) agencies are not read */
    cr_expect(has_problem(&pr, "agencies: at most 64 items allowed (got 66)"));
    cr_expect_gt(n, ENG_PROBLEMS_MAX);
    cr_expect_eq(n, 1 + 2 * ENG_MAX_AGENCIES + 3); /* + 3 services naming unread agencies */
    for (int i = 0; i < ENG_PROBLEMS_MAX; i++)
        cr_expect_lt(strlen(pr.msg[i]), sizeof pr.msg[i]);
    free(text);
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

Test(config, long_values_are_truncated_safely)
{
    /* 150 two-byte characters as an unknown key and as an unknown agency */
    char big[512] = "\"";
    for (int i = 0; i < 150; i++)
        strcat(big, "\xc3\xa9");
    strcat(big, "\"");
    char key[512];
    snprintf(key, sizeof key, "services[0].%.*s", (int)strlen(big) - 2, big + 1);
    const char *changes[] = {key, "1", "services[1].agency", big, "name", big};
    char *text = full_with(changes, 6);
    eng_problems pr;
    int n = parse_bad(text, &pr);
    dump_problems(&pr);
    cr_expect_eq(n, 3); /* unknown field, unknown agency, name too long */
    for (int i = 0; i < n; i++) {
        cr_expect_lt(strlen(pr.msg[i]), 160);
        cr_expect(valid_utf8(pr.msg[i]), "problem %d is not valid UTF-8", i);
    }
    cr_expect(has_problem(&pr, "name: longer than 128 bytes"));
    free(text);
}

Test(config, limits_are_enforced)
{
    json_t *root = json_loads(FULL, 0, NULL);
    json_t *cs = json_object_get(root, "counters");
    for (int i = 3; i < ENG_MAX_COUNTERS + 1; i++)
        json_array_append_new(cs, json_pack("{s:o,s:s,s:[s]}", "id", json_sprintf("c%d", i),
                                            "label", "L", "services", "kk"));
    char *text = json_dumps(root, JSON_COMPACT);
    eng_problems pr;
    cr_expect_eq(parse_bad(text, &pr), 1);
    cr_expect_str_eq(pr.msg[0], "counters: at most 256 items allowed (got 257)");
    free(text);

    json_array_remove(cs, 0);
    text = json_dumps(root, JSON_COMPACT);
    eng_config *c = parse_ok(text);
    cr_expect_eq(c->ncounters, ENG_MAX_COUNTERS);
    eng_config_free(c);
    free(text);

    /* 367 distinct closed dates are too many; 366 fit */
    json_t *cd = json_array();
    for (int d = 0; d < ENG_MAX_CLOSED_DATES + 1; d++) {
        char b[11];
        eng_format_date(20000 + 2 * d, b);
        json_array_append_new(cd, json_string(b));
    }
    json_object_set_new(json_object_get(root, "hours"), "closed_dates", cd);
    text = json_dumps(root, JSON_COMPACT);
    cr_expect_eq(parse_bad(text, &pr), 1);
    cr_expect_str_eq(pr.msg[0], "hours.closed_dates: at most 366 distinct dates allowed");
    free(text);
    json_array_remove(cd, 0);
    text = json_dumps(root, JSON_COMPACT);
    c = parse_ok(text);
    cr_expect_eq(c->nclosed, ENG_MAX_CLOSED_DATES);
    for (int i = 1; i < c->nclosed; i++)
        cr_expect_lt(c->closed_days[i - 1], c->closed_days[i]);
    eng_config_free(c);
    free(text);
    json_decref(root);
}

Test(config, dates_known_values)
{
    const struct {
        const char *s;
        int32_t day;
    } known[] = {
        {"1970-01-01", 0},       {"1969-12-31", -1},      {"2000-03-01", 11017},
        {"2024-02-29", 19782},   {"1900-01-01", -25567},  {"1600-02-29", -135081},
        {"0001-01-01", -719162}, {"9999-12-31", 2932896}, {"2026-12-25", 20812},
        {"0000-01-01", -719528}, {"2026-08-17", 20682},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        int32_t d = 12345;
        char buf[11];
        cr_expect_eq(eng_parse_date(known[i].s, &d), 0, "%s", known[i].s);
        cr_expect_eq(d, known[i].day, "%s: %d", known[i].s, d);
        eng_format_date(known[i].day, buf);
        cr_expect_str_eq(buf, known[i].s);
    }
}

Test(config, dates_round_trip)
{
    /* every day from 1600-01-01 to 2400-12-31, and every 97th day of the whole range */
    char buf[11];
    int32_t back;
    int32_t prev_y = -1, prev_m = 0, prev_d = 0;
    for (int32_t day = -135140; day <= 157000; day++) {
        eng_format_date(day, buf);
        int rc = eng_parse_date(buf, &back);
        if (rc != 0 || back != day)
            cr_assert_fail("day %d -> %s -> %d (rc %d)", day, buf, back, rc);
        int y = atoi(buf), m = atoi(buf + 5), d = atoi(buf + 8);
        /* consecutive days are consecutive dates */
        if (prev_y >= 0 && !(y == prev_y && m == prev_m && d == prev_d + 1) &&
            !(y == prev_y && m == prev_m + 1 && d == 1) && !(y == prev_y + 1 && m == 1 && d == 1))
            cr_assert_fail("%d-%d-%d follows %d-%d-%d", y, m, d, prev_y, prev_m, prev_d);
        if (d == 1 && prev_y >= 0 && m == 3) /* leap years have 29 Feb */
            cr_assert_eq(prev_d, ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : 28,
                         "Feb of %d", y);
        prev_y = y, prev_m = m, prev_d = d;
    }
    for (int32_t day = -719528; day <= 2932896; day += 97) {
        eng_format_date(day, buf);
        cr_assert_eq(eng_parse_date(buf, &back), 0, "%s", buf);
        cr_assert_eq(back, day, "%s", buf);
    }
    /* out-of-range day numbers are clamped, never overflow the buffer */
    eng_format_date(INT32_MIN, buf);
    cr_expect_str_eq(buf, "0000-01-01");
    eng_format_date(INT32_MAX, buf);
    cr_expect_str_eq(buf, "9999-12-31");
}

Test(config, dates_rejected)
{
    const char *bad[] = {"2026-02-30", "2026-2-3",   "2026-02-03x", "",           "2026-13-01",
                         "2026-00-10", "2026-01-00", " 2026-01-01", "2026/01/01", "+026-01-01",
                         "-026-01-01", "2026-01-32", "2023-02-29",  "1900-02-29", "2026-04-31",
                         "20260101",   "2026-01-1",  "2026-01-01 ", "abcd-ef-gh", "2026-0a-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t d = 777;
        cr_expect_eq(eng_parse_date(bad[i], &d), ANT_EBADREQ, "accepted '%s'", bad[i]);
        cr_expect_eq(d, 777, "'%s' wrote the output", bad[i]);
    }
    int32_t d;
    cr_expect_eq(eng_parse_date(NULL, &d), ANT_EBADREQ);
    cr_expect_eq(eng_parse_date("2000-02-29", &d), 0);
}
