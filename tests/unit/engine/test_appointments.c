/*
 * test_appointments.c — SPEC §11 in the engine: the config section, booking
 * (every refusal with its code and a message naming the reason), cancel,
 * check-in (too early, on time, late, twice), the interleave rule, the
 * shared daily quota, idempotency, stats, rollover, and replay/snapshots of
 * all of it through the fixture's per-command checks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "eng_rules.h"

/* Monday 2026-03-02 (DAY1), hall open 08:00–16:00, issuing until 15:00, Mon–Sat. */
static const char *hall_fmt =
    "{\"id\":\"mpp-a\",\"name\":\"A\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"08:00\",\"close\":\"16:00\",\"issue_until\":\"15:00\","
    "\"weekdays\":[1,2,3,4,5,6],\"closed_dates\":[\"2026-03-04\"]},"
    "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Dukcapil\"}],"
    "\"services\":[{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP\",\"prefix\":\"A\","
    "\"daily_quota\":%d,\"appointments\":{\"slot_min\":15,\"per_slot\":2,\"days_ahead\":7,"
    "\"early_min\":30,\"late_min\":10}},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"KK\",\"prefix\":\"B\"}],"
    "\"counters\":[{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"]}],"
    "\"self_service\":true}";

static uint64_t ids;

static void new_id(uint8_t *id, uint64_t n, uint8_t tag)
{
    memset(id, tag, ENG_TID_LEN);
    memcpy(id, &n, sizeof n);
}

/* book SVC DATE SLOT with a fresh id, secret and code; returns the rc */
static int book(fx *f, const char *svc, const char *date, const char *slot, const char *idem,
                const char *phone)
{
    eng_cmd c = {.type = ENG_CMD_BOOK,
                 .service = svc,
                 .date = date,
                 .slot = slot,
                 .idem = idem,
                 .phone = phone};
    char code[ENG_BOOKING_LEN + 1];
    uint64_t n = ++ids;
    new_id(c.tid, n, 0xA0);
    new_id(c.secret, n, 0x5E);
    for (int i = 0; i < ENG_BOOKING_LEN; i++)
        code[i] = ENG_BOOKING_ALPHABET[(n >> (i * 4)) % 31];
    code[ENG_BOOKING_LEN] = '\0';
    c.booking = code;
    return fx_apply(f, &c);
}

static int checkin(fx *f, const char *code)
{
    eng_cmd c = {.type = ENG_CMD_CHECKIN, .booking = code, .channel = ENG_CH_KIOSK};
    uint64_t n = ++ids;
    new_id(c.tid, n, 0x71);
    new_id(c.secret, n, 0x72);
    return fx_apply(f, &c);
}

static int unbook(fx *f, const uint8_t id[ENG_TID_LEN])
{
    eng_cmd c = {.type = ENG_CMD_APPT_CANCEL, .has_ticket = true};
    memcpy(c.tid, id, ENG_TID_LEN);
    return fx_apply(f, &c);
}

static char hall_json[2048];

static void start_q(fx *f, const char *hms, int quota)
{
    snprintf(hall_json, sizeof hall_json, hall_fmt, quota);
    fx_init(f, hall_json, fx_time(DAY1, hms, 420));
}

static void start(fx *f, const char *hms)
{
    start_q(f, hms, 0);
}

Test(appointments, config_paths)
{
    static const struct {
        const char *appt, *problem;
    } cases[] = {
        {"{\"per_slot\":2}", "services[0].appointments.slot_min: required"},
        {"{\"slot_min\":15,\"per_slot\":0}", "services[0].appointments.per_slot: must be between"},
        {"{\"slot_min\":15,\"per_slot\":1,\"late_min\":-1}",
         "services[0].appointments.late_min: must be between"},
        {"{\"slot_min\":15,\"per_slot\":1,\"x\":1}", "services[0].appointments"},
        {"3", "services[0].appointments: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        snprintf(
            json, sizeof json,
            "{\"id\":\"h\",\"name\":\"H\",\"utc_offset_min\":0,\"hours\":{\"open\":\"08:00\","
            "\"close\":\"16:00\"},\"agencies\":[{\"id\":\"a\",\"name\":\"A\"}],\"services\":"
            "[{\"id\":\"s\",\"agency\":\"a\",\"name\":\"S\",\"prefix\":\"A\",\"appointments\":%s}"
            "],\"counters\":[{\"id\":\"c\",\"label\":\"C\",\"services\":[\"s\"]}]}",
            cases[i].appt);
        eng_config *cfg = NULL;
        eng_problems probs;
        cr_assert_neq(eng_config_parse(json, strlen(json), &cfg, &probs), 0, "case %zu", i);
        bool found = false;
        for (int k = 0; k < probs.count && k < ENG_PROBLEMS_MAX; k++)
            found |= fx_has(probs.msg[k], cases[i].problem);
        cr_assert(found, "case %zu: no problem '%s' (first: %s)", i, cases[i].problem,
                  probs.msg[0]);
    }
    /* defaults and round trip through the canonical JSON */
    snprintf(hall_json, sizeof hall_json, hall_fmt, 4);
    eng_config *cfg = NULL;
    cr_assert_eq(eng_config_parse(hall_json, strlen(hall_json), &cfg, NULL), 0);
    cr_assert_eq(cfg->services[0].appt.slot_min, 15);
    cr_assert_eq(cfg->services[1].appt.slot_min, 0);
    cr_assert(fx_has(cfg->json, "\"appointments\":{\"days_ahead\":7"));
    char *pub = eng_config_public_json(cfg);
    cr_assert(fx_has(pub, "\"slot_min\":15"));
    free(pub);
    eng_config_free(cfg);
}

Test(appointments, refusals_name_the_reason)
{
    fx f;
    start(&f, "09:00:00");
    static const struct {
        const char *svc, *date, *slot, *code, *word;
    } cases[] = {
        {"kk", "2026-03-03", "09:00", "bad_request", "no appointments"},
        {"nope", "2026-03-03", "09:00", "not_found", "nope"},
        {"ktp", "2026-3-3", "09:00", "bad_request", "YYYY-MM-DD"},
        {"ktp", "2026-03-03", "9:00", "bad_request", "HH:MM"},
        {"ktp", "2026-03-03", "25:00", "bad_request", "HH:MM"},
        {"ktp", "2026-03-01", "09:00", "bad_request", "in the past"},
        {"ktp", "2026-03-02", "08:45", "bad_request", "already started"},
        {"ktp", "2026-03-10", "09:00", "bad_request", "days_ahead"},
        {"ktp", "2026-03-04", "09:00", "bad_request", "closed"}, /* closed date */
        {"ktp", "2026-03-08", "09:00", "bad_request", "closed"}, /* a Sunday */
        {"ktp", "2026-03-03", "07:45", "bad_request", "outside opening hours"},
        {"ktp", "2026-03-03", "15:00", "bad_request", "outside opening hours"},
        {"ktp", "2026-03-03", "09:10", "bad_request", "every 15 min"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = book(&f, cases[i].svc, cases[i].date, cases[i].slot, NULL, NULL);
        cr_assert_str_eq(ant_err_code(rc), cases[i].code, "case %zu: %s", i, f.res.msg);
        cr_assert(fx_has(f.res.msg, cases[i].word), "case %zu: '%s' lacks '%s'", i, f.res.msg,
                  cases[i].word);
    }
    /* full slot: 409 slot_full naming the slot */
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "09:00", NULL, NULL), 0);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "09:00", NULL, NULL), 0);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "09:00", NULL, NULL), ANT_ESLOTFULL);
    cr_assert_eq(ant_err_status(ANT_ESLOTFULL), 409);
    rules_msg_names(&f, "09:00", "full");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(appointments, cancel_frees_the_slot_and_idem_replays)
{
    fx f;
    start(&f, "09:00:00");
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", "k1", "+628123456789"), 0);
    eng_appt_view a = f.res.appt;
    cr_assert_str_eq(fx_run(&f, "tick"), "-");
    cr_assert_str_eq(a.slot, "10:00");
    cr_assert_str_eq(a.date, "2026-03-03");
    cr_assert(a.has_pii);
    /* same key: same booking, no event */
    cr_assert_eq(book(&f, "ktp", "2026-03-05", "11:00", "k1", NULL), 0);
    cr_assert(f.res.replayed);
    cr_assert_eq(f.ev.n, 0);
    cr_assert_str_eq(f.res.appt.booking, a.booking);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", NULL, NULL), 0);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", NULL, NULL), ANT_ESLOTFULL);
    cr_assert_eq(unbook(&f, a.id), 0);
    cr_assert_eq(f.res.appt.state, ENG_APPT_CANCELLED);
    cr_assert_eq(unbook(&f, a.id), ANT_ESTATE);
    rules_msg_names(&f, "cancelled", NULL);
    uint8_t unknown[ENG_TID_LEN] = {1};
    cr_assert_eq(unbook(&f, unknown), ANT_ENOTFOUND);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", NULL, NULL), 0);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(appointments, checkin_windows)
{
    fx f;
    start(&f, "08:00:00");
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", NULL, NULL), 0);
    char code[8];
    strcpy(code, f.res.appt.booking);
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", NULL, NULL), 0);
    char code2[8];
    strcpy(code2, f.res.appt.booking);
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", NULL, NULL), 0);
    char tomorrow[8];
    strcpy(tomorrow, f.res.appt.booking);

    fx_at(&f, "09:29:59");
    cr_assert_eq(checkin(&f, code), ANT_ETOOEARLY);
    rules_msg_names(&f, "09:30", NULL);
    cr_assert_eq(checkin(&f, tomorrow), ANT_ETOOEARLY);
    rules_msg_names(&f, "2026-03-03", NULL);
    cr_assert_eq(checkin(&f, "ZZZZZZ"), ANT_ENOTFOUND);
    cr_assert_eq(checkin(&f, "abc"), ANT_EBADREQ);
    fx_at(&f, "09:30:00");
    /* typed in lower case with a dash */
    char typed[16];
    snprintf(typed, sizeof typed, "%.3s-%s", code, code + 3);
    for (char *p = typed; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    cr_assert_eq(checkin(&f, typed), 0, "%s", f.res.msg);
    cr_assert(f.res.ticket.appointment);
    cr_assert_str_eq(fx_run(&f, "tick"), "wait ktp:1");
    cr_assert_eq(checkin(&f, code), ANT_ESTATE);
    rules_msg_names(&f, "already checked in", "A001");
    /* past late_min: an ordinary ticket, flagged late */
    fx_at(&f, "10:10:01");
    cr_assert_eq(checkin(&f, code2), 0);
    cr_assert(!f.res.ticket.appointment);
    cr_assert(f.res.appt.late);
    cr_assert_eq(f.ev.ev[f.ev.n - 1].late, true);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(appointments, interleave_rule)
{
    fx f;
    start(&f, "08:00:00");
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", NULL, NULL), 0);
    char a1[8];
    strcpy(a1, f.res.appt.booking);
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", NULL, NULL), 0);
    char a2[8];
    strcpy(a2, f.res.appt.booking);
    /* A001 at 09:20 is before the cut (10:00 − 30 min); B… and A002 after it */
    cr_assert_str_eq(fx_run(&f, "09:20:00 issue ktp; 09:40:00 issue ktp; issue ktp prio=elderly"),
                     "issued A001 | issued A002 | issued A003*");
    fx_at(&f, "09:50:00");
    cr_assert_eq(checkin(&f, a1), 0); /* A004: ahead of A002, behind A001 */
    cr_assert_str_eq(fx_run(&f, "09:55:00 issue ktp"), "issued A005");
    fx_at(&f, "10:02:00");
    cr_assert_eq(checkin(&f, a2), 0); /* A006: behind A004, ahead of A002 and A005 */
    /* priority first, then the queue in its new order */
    cr_assert_str_eq(fx_run(&f, "open l01; call l01; start l01; finish l01; call l01; start l01; "
                                "finish l01; call l01; start l01; finish l01; call l01; start "
                                "l01; finish l01; call l01; start l01; finish l01; call l01"),
                     "l01 open | called A003@l01 | serving A003@l01 | done A003@l01 | "
                     "called A001@l01 | serving A001@l01 | done A001@l01 | called A004@l01 | "
                     "serving A004@l01 | done A004@l01 | called A006@l01 | serving A006@l01 | "
                     "done A006@l01 | called A002@l01 | serving A002@l01 | done A002@l01 | "
                     "called A005@l01");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(appointments, quota_is_shared_and_stats_count)
{
    fx f;
    start_q(&f, "08:00:00", 4);
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", NULL, NULL), 0);
    char code[8];
    strcpy(code, f.res.appt.booking);
    cr_assert_eq(book(&f, "ktp", DAY1, "10:15", NULL, NULL), 0);
    cr_assert_str_eq(fx_run(&f, "issue ktp; issue ktp; issue ktp"),
                     "issued A001 | issued A002 | !quota_exhausted");
    cr_assert_eq(book(&f, "ktp", DAY1, "11:00", NULL, NULL), ANT_EQUOTA);
    /* tomorrow has its own quota */
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "11:00", NULL, NULL), 0);
    fx_at(&f, "09:45:00");
    cr_assert_eq(checkin(&f, code), 0); /* a booked place becomes a ticket: no extra quota */
    cr_assert_str_eq(fx_run(&f, "issue ktp"), "!quota_exhausted");
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(st.services[0].booked, 2);
    cr_assert_eq(st.services[0].appointments, 1);
    cr_assert_eq(st.services[0].issued, 3);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

static void count_slot(const char *slot, uint32_t free_n, void *arg)
{
    int *n = arg;
    if (strcmp(slot, "10:00") == 0)
        cr_assert_eq(free_n, 1);
    (*n)++;
}

Test(appointments, slots_rollover_and_snapshot)
{
    fx f;
    start(&f, "14:20:00");
    cr_assert_eq(book(&f, "ktp", "2026-03-03", "10:00", NULL, "+628111"), 0);
    fx_add_pii(&f, "+628111");
    char code[8];
    strcpy(code, f.res.appt.booking);
    char msg[200];
    int n = 0;
    cr_assert_eq(eng_slots_each(f.h, "ktp", "2026-03-03", f.now, count_slot, &n, msg), 0);
    cr_assert_eq(n, 28, "08:00 … 14:45 every 15 min"); /* slots start before issue_until */
    n = 0;
    cr_assert_eq(eng_slots_each(f.h, "ktp", DAY1, f.now, count_slot, &n, msg), 0);
    cr_assert_eq(n, 2, "14:30 and 14:45 are still ahead today");
    cr_assert_eq(eng_slots_each(f.h, "kk", DAY1, f.now, count_slot, &n, msg), ANT_EBADREQ);
    cr_assert_eq(eng_slots_each(f.h, "ktp", "2026-03-04", f.now, count_slot, &n, msg), ANT_EBADREQ);
    /* the booking lives across the rollover, in snapshots and replay */
    fx_at_date(&f, "2026-03-03", "09:40:00");
    cr_assert_eq(checkin(&f, code), 0, "%s", f.res.msg);
    cr_assert(f.res.ticket.has_pii);
    cr_assert_str_eq(f.res.ticket.pii.phone, "+628111");
    cr_assert_eq(f.ev.ev[0].type, ENG_EV_DAY_ROLLOVER);
    fx_check_replay(&f);
    /* the next day forgets it */
    fx_at_date(&f, "2026-03-05", "09:00:00");
    cr_assert_str_eq(fx_run(&f, "tick"), "rollover 2026-03-05");
    cr_assert_eq(checkin(&f, code), ANT_ENOTFOUND);
    fx_check_replay(&f);
    fx_free(&f);
}

/* Every event of a booking's life, in both encodings: the public form has no
 * id, secret, booking code, idem key or citizen data; the full form decodes
 * back to the same fields. */
Test(appointments, public_and_stored_forms)
{
    fx f;
    start(&f, "09:00:00");
    cr_assert_eq(book(&f, "ktp", DAY1, "10:00", "idem-7", "+628555000111"), 0);
    eng_appt_view a = f.res.appt;
    eng_event booked = f.ev.ev[0];
    fx_at(&f, "09:45:00");
    cr_assert_eq(checkin(&f, a.booking), 0);
    eng_event issued = f.ev.ev[f.ev.n - 1];
    cr_assert_eq(book(&f, "ktp", DAY1, "11:00", NULL, NULL), 0);
    cr_assert_eq(unbook(&f, f.res.appt.id), 0);
    eng_event cancelled = f.ev.ev[0];
    const eng_event *evs[3] = {&booked, &issued, &cancelled};
    char idhex[33];
    codec_hex(a.id, ENG_TID_LEN, idhex);
    for (int i = 0; i < 3; i++) {
        codec_buf b;
        codec_buf_init(&b);
        cr_assert_eq(codec_event_json(evs[i], CODEC_PUBLIC, &b), 0);
        const char *s = fx_cstr(&b);
        cr_assert(!fx_has(s, a.booking) && !fx_has(s, "628555") && !fx_has(s, "idem-7") &&
                      !fx_has(s, idhex) && !fx_has(s, "secret"),
                  "public form leaks: %s", s);
        if (i != 1)
            cr_assert(fx_has(s, "\"date\":\"2026-03-02\"") && fx_has(s, "\"service\":\"ktp\""),
                      "%s", s);
        else
            cr_assert(fx_has(s, "\"appointment\":true"), "%s", s);
        codec_buf_reset(&b);
        cr_assert_eq(codec_event_msgpack(evs[i], CODEC_FULL, &b), 0);
        eng_evbuf arena;
        eng_evbuf_init(&arena);
        eng_event back;
        char msg[200];
        cr_assert_eq(codec_event_decode(b.data, b.len, &back, &arena, msg), 0, "%s", msg);
        cr_assert_eq(back.type, evs[i]->type);
        cr_assert_eq(memcmp(back.appt_id, evs[i]->appt_id, ENG_TID_LEN), 0);
        cr_assert_eq(back.day, evs[i]->day);
        cr_assert_eq(back.slot, evs[i]->slot);
        cr_assert_str_eq(back.booking, evs[i]->booking);
        cr_assert_eq(back.checkin, evs[i]->checkin);
        eng_evbuf_free(&arena);
        codec_buf_free(&b);
    }
    fx_free(&f);
}
