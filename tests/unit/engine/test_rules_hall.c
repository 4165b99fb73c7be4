/*
 * test_rules_hall.c — SPEC §3's rules beyond one ticket's life: counter
 * states, idempotency, config replacement, citizen data, wait estimates and
 * snapshots. Same conventions as test_rules.c: scripts in the transcript
 * syntax of eng_fixture.h compared in the short event form, the fixture's
 * per-command checks, and a replay of the whole event log at the end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "eng_rules.h"

/* ---- counters ------------------------------------------------------------------ */

Test(counter, states_and_no_ops)
{
    fx f;
    rules_open_base(&f);
    RUN(&f,
        "08:00:00 open l01; open l01; pause l01; pause l01; resume l01; resume l01; close l01; "
        "close l01",
        "l01 open | - | l01 paused | - | l01 open | - | l01 closed | -");
    RUN(&f, "pause l01; resume l01", "!invalid_state | !invalid_state");
    rules_msg_names(&f, "l01", "closed");
    RUN(&f, "open l01; pause l01; close l01; open l01; pause l01; open l01",
        "l01 open | l01 paused | l01 closed | l01 open | l01 paused | l01 open");
    RUN(&f, "open l77", "!not_found");
    rules_msg_names(&f, "l77", NULL);
    eng_counter_live cl;
    eng_counter_live_get(f.h, 0, &cl);
    cr_assert_eq(cl.state, ENG_CS_OPEN);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(counter, busy_while_a_ticket_is_at_it)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; open l01; call l01; close l01",
        "issued A001 | l01 open | called A001@l01 | !counter_busy");
    rules_msg_names(&f, "l01", "A001");
    RUN(&f, "pause l01; open l01; resume l01", "!counter_busy | - | -");
    RUN(&f, "start l01; close l01; pause l01",
        "serving A001@l01 | !counter_busy | "
        "!counter_busy");
    rules_msg_names(&f, "A001", "serving");
    eng_counter_live cl;
    eng_counter_live_get(f.h, 0, &cl);
    cr_assert_str_eq(cl.ticket, "A001");
    RUN(&f, "finish l01; pause l01; close l01", "done A001@l01 | l01 paused | l01 closed");
    fx_check_replay(&f);
    fx_free(&f);
}

/* ---- idempotency ------------------------------------------------------------------ */

Test(idem, same_key_same_day_same_ticket)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp idem=k1", "issued A001");
    uint8_t tid[ENG_TID_LEN];
    memcpy(tid, f.res.ticket.tid, ENG_TID_LEN);
    cr_assert(!f.res.replayed);
    RUN(&f, "08:00:03 issue ktp idem=k1", "=");
    cr_assert(f.res.replayed);
    cr_assert(f.res.has_ticket);
    cr_assert_str_eq(f.res.ticket.code, "A001");
    cr_assert_eq(memcmp(f.res.ticket.tid, tid, ENG_TID_LEN), 0);
    /* the key alone decides, as for a kiosk retrying a lost reply */
    RUN(&f, "issue kk idem=k1; issue ktp idem=k2; issue ktp", "= | issued A002 | issued A003");
    /* a retry still gets its ticket after issuing stopped, or past the quota */
    RUN(&f,
        "issue paspor idem=p1; issue paspor idem=p2; issue paspor idem=p3; issue paspor idem=p4",
        "issued P001 | issued P002 | issued P003 | !quota_exhausted");
    RUN(&f, "issue paspor idem=p2; 15:30:00 issue ktp idem=k1; issue ktp idem=k9",
        "= | = | !hall_closed");
    rules_msg_names(&f, "15:00", NULL);
    /* a new day: the same key gives a new ticket */
    RUN(&f, "2026-03-03T08:00:00 issue ktp idem=k1", "rollover 2026-03-03, issued A001");
    cr_assert_neq(memcmp(f.res.ticket.tid, tid, ENG_TID_LEN), 0);
    RUN(&f, "issue ktp idem=k1", "=");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(idem, key_syntax)
{
    fx f;
    rules_open_base(&f);
    fx_at(&f, "08:00:00");
    char key[ENG_IDEM_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    cr_assert_eq(fx_issue(&f, "ktp", 0, key), ANT_EBADREQ, "65 characters");
    rules_msg_names(&f, "idem", NULL);
    key[ENG_IDEM_MAX] = '\0';
    cr_assert_eq(fx_issue(&f, "ktp", 0, key), 0, "64 characters");
    cr_assert_eq(fx_issue(&f, "ktp", 0, ""), ANT_EBADREQ);
    cr_assert_eq(fx_issue(&f, "ktp", 0, "bad\x01key"), ANT_EBADREQ);
    cr_assert_eq(fx_issue(&f, "ktp", 0, "bad\x7fkey"), ANT_EBADREQ);
    cr_assert_eq(fx_issue(&f, "ktp", 0, "kiosk 7 #12"), 0, "space is printable (as the codec)");
    cr_assert_eq(fx_issue(&f, "ktp", 0, "kiosk 7 #12"), 0);
    cr_assert(f.res.replayed);
    fx_free(&f);
}

/* ---- config replacement ----------------------------------------------------------- */

/* base_hall without kk, with npwp; l05 serves npwp now */
static char *config_b(void)
{
    fx_hall b = rules_base_hall();
    b.svc[1] = (fx_svc){"npwp", "pajak", "N", 300, 1800, 0};
    b.ctr[0].services = "ktp";
    b.ctr[1].services = "ktp";
    b.ctr[3].services = "ktp,paspor,skck";
    b.ctr[4].services = "npwp";
    return fx_hall_json(&b);
}

Test(reconfig, replacement_keeps_tickets_and_ghost_services)
{
    fx f;
    rules_open_base(&f);
    char *b = config_b();
    fx_add_config(&f, "b", b);
    free(b);
    RUN(&f,
        "08:00:00 issue ktp; 08:00:01 issue ktp; 08:00:02 issue kk; 08:00:03 issue kk; "
        "08:00:04 issue kk; open l02; call l02",
        "issued A001 | issued A002 | issued B001 | issued B002 | issued B003 | l02 open | "
        "called B001@l02");
    RUN(&f, "08:05:00 config b", "config");
    cr_assert_eq(eng_config_service(eng_hall_config(f.h), "kk"), -1);
    /* kk is gone for new tickets and transfers, but its tickets stay */
    RUN(&f, "issue kk", "!not_found");
    rules_msg_names(&f, "kk", NULL);
    RUN(&f, "issue npwp; start l02; finish l02", "issued N001 | serving B001@l02 | done B001@l02");
    /* l02 now lists ktp only; kk stays callable there as a ghost, after ktp */
    cr_assert_str_eq(rules_serve_n(&f, "l02", 2), "A001 A002");
    RUN(&f, "call l02; start l02; finish l02 transfer=kk",
        "called B002@l02 | serving B002@l02 | "
        "!not_found");
    RUN(&f, "finish l02; open l01; call l01", "done B002@l02 | l01 open | called B003@l01");
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(rules_row(st.services, st.nservices, "kk")->issued, 3);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    /* the ghost ends with the day */
    RUN(&f, "2026-03-03T08:00:00 issue ktp", "rollover 2026-03-03, issued A001");
    cr_assert_eq(eng_stats_last_closed(f.h, &st), 0);
    cr_assert_eq(rules_row(st.services, st.nservices, "kk")->served, 2);
    cr_assert_eq(rules_row(st.services, st.nservices, "kk")->expired, 1, "B003 was called");
    eng_day_stats_free(&st);
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(st.nservices, 4);
    for (int i = 0; i < st.nservices; i++)
        cr_assert_str_neq(st.services[i].id, "kk");
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(reconfig, a_prefix_that_numbered_today_does_not_pass_to_another_service)
{
    fx f;
    rules_open_base(&f);
    fx_hall c = rules_base_hall();
    c.svc[1] = (fx_svc){"npwp", "pajak", "B", 300, 1800, 0}; /* kk's prefix, kk gone */
    c.ctr[0].services = "ktp";
    c.ctr[1].services = "ktp";
    c.ctr[3].services = "ktp,paspor,skck";
    c.ctr[4].services = "npwp";
    char *json = fx_hall_json(&c);
    fx_add_config(&f, "c", json);
    free(json);
    /* before kk issued anything today the prefix is free to move */
    RUN(&f, "08:00:00 issue kk; config c", "issued B001 | !bad_request");
    rules_msg_names(&f, "prefix", "'B'");
    rules_msg_names(&f, "kk", NULL);
    cr_assert_eq(eng_config_service(eng_hall_config(f.h), "kk"), 1, "nothing changed");
    /* tomorrow B is free again: no B001 is issued twice in one day */
    RUN(&f, "2026-03-03T08:00:00 config c; issue npwp",
        "rollover 2026-03-03, config | issued B001");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(reconfig, invalid_config_lists_problems_and_changes_nothing)
{
    fx f;
    rules_open_base(&f);
    fx_hall bad = rules_base_hall();
    bad.svc[0].prefix = "a1";
    bad.ctr[0].services = "ktp,xyz";
    char *json = fx_hall_json(&bad);
    fx_add_config(&f, "bad", json);
    free(json);
    fx_hall other = rules_base_hall();
    other.id = "mpp-other";
    json = fx_hall_json(&other);
    fx_add_config(&f, "other", json);
    free(json);
    RUN(&f, "08:00:00 issue ktp; config bad", "issued A001 | !bad_request");
    rules_msg_names(&f, "2 problems", "services[0].prefix");
    rules_msg_names(&f, "counters[0].services[1]", "xyz");
    RUN(&f, "config other", "!bad_request");
    rules_msg_names(&f, "mpp-other", "mpp-t");
    cr_assert_str_eq(eng_hall_config(f.h)->services[0].prefix, "A");
    cr_assert_eq(eng_hall_seq(f.h), 1);
    eng_cmd c = {.type = ENG_CMD_CONFIG};
    cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ);
    fx_free(&f);
}

Test(reconfig, a_counter_with_a_ticket_cannot_disappear)
{
    fx f;
    rules_open_base(&f);
    fx_hall c = rules_base_hall();
    c.ctr[0] = c.ctr[4];
    c.ctr[4] = (fx_ctr){0};
    char *json = fx_hall_json(&c);
    fx_add_config(&f, "nol01", json);
    free(json);
    RUN(&f, "08:00:00 issue ktp; open l01; call l01; config nol01",
        "issued A001 | l01 open | called A001@l01 | !counter_busy");
    rules_msg_names(&f, "l01", NULL);
    cr_assert_eq(eng_hall_config(f.h)->ncounters, 5);
    RUN(&f, "start l01; finish l01; config nol01; open l01",
        "serving A001@l01 | done A001@l01 | "
        "config | !not_found");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(reconfig, numbering_continues_when_a_service_comes_back)
{
    fx f;
    rules_open_base(&f);
    char *b = config_b();
    fx_add_config(&f, "b", b);
    free(b);
    fx_hall a = rules_base_hall();
    char *json = fx_hall_json(&a);
    fx_add_config(&f, "a", json);
    free(json);
    /* B001's only ticket moves to ktp, then kk leaves and comes back the same day */
    RUN(&f, "08:00:00 issue kk; open l05; call l05; start l05; finish l05 transfer=ktp",
        "issued B001 | l05 open | called B001@l05 | serving B001@l05 | "
        "transferred B001 kk>ktp last@l05");
    RUN(&f, "config b; config a; issue kk", "config | config | issued B002");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(reconfig, done_tickets_keep_their_counter)
{
    fx f;
    rules_open_base(&f);
    fx_hall a = rules_base_hall();
    a.ctr[0].label = "Loket Satu";
    char *json = fx_hall_json(&a);
    fx_add_config(&f, "relabel", json);
    free(json);
    RUN(&f, "08:00:00 issue ktp; open l01; call l01; start l01; finish l01; config relabel",
        "issued A001 | l01 open | called A001@l01 | serving A001@l01 | done A001@l01 | config");
    eng_ticket_view v = rules_view(&f, "A001");
    cr_assert_str_eq(v.counter, "l01");
    cr_assert_str_eq(v.label, "Loket Satu");
    RUN(&f, "feedback A001 score=4", "feedback A001 4");
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(rules_row(st.counters, st.ncounters, "l01")->skm_count, 1);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

/* ---- citizen data ----------------------------------------------------------------- */

#define S_PHONE "+6281234567890"
#define S_NAME "Siti_Rahayu_Sentinel"
#define S_NIK "3171234567890123"

static int collect_pii(const eng_ticket_view *v, void *arg)
{
    if (v->has_pii && strcmp(v->pii.nik, S_NIK) == 0)
        (*(int *)arg)++;
    return 0;
}

Test(pii, never_public_never_in_messages)
{
    fx f;
    rules_open_base(&f);
    fx_add_pii(&f, S_PHONE);
    fx_add_pii(&f, S_NAME);
    fx_add_pii(&f, S_NIK);
    /* refused for another reason: the message still says nothing of it */
    RUN(&f, "07:59:00 issue ktp nik=" S_NIK " phone=" S_PHONE " name=" S_NAME, "!hall_closed");
    RUN(&f,
        "08:00:00 issue ktp prio=pregnant idem=kiosk-7-0001 phone=" S_PHONE " name=" S_NAME
        " nik=" S_NIK,
        "issued A001*");
    /* staff see it: stored in the full encoding and in views */
    codec_buf b;
    codec_buf_init(&b);
    cr_assert_eq(codec_event_json(&f.ev.ev[0], CODEC_FULL, &b), 0);
    cr_assert_eq(codec_buf_append(&b, "", 1), 0);
    cr_assert(fx_has(b.data, S_NIK) && fx_has(b.data, S_NAME) && fx_has(b.data, S_PHONE));
    codec_buf_free(&b);
    eng_ticket_view v = rules_view(&f, "A001");
    cr_assert(v.has_pii);
    cr_assert_str_eq(v.pii.nik, S_NIK);
    int n = 0;
    eng_tickets_each(f.h, -1, f.now, collect_pii, &n);
    cr_assert_eq(n, 1);
    /* every event of its life, public encodings checked by the fixture; after
     * two priority calls in a row l01 takes the normal B001 first */
    RUN(&f,
        "issue kk; open l01; call l01; recall l01; noshow l01; reinstate A001; call l01; "
        "start l01; finish l01 transfer=kk placement=first; call l01; start l01; finish l01; "
        "call l01; start l01; finish l01; feedback A001 score=4 comment=ok; cancel A001",
        "issued B001 | l01 open | called A001@l01 | recalled A001@l01 x1 | no_show A001@l01 | "
        "reinstated A001 | called A001@l01 | serving A001@l01 | "
        "transferred A001 ktp>kk first@l01 | called B001@l01 | serving B001@l01 | "
        "done B001@l01 | called A001@l01 | serving A001@l01 | done A001@l01 | "
        "feedback A001 4 | !invalid_state");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(pii, nik_must_be_16_digits)
{
    static const char *const bad_nik[] = {
        "317123456789012",  "31712345678901234", "3171234567890abc",    "",
        "+317123456789012", "3171 23456789012",  "317123456789012\xd9",
    };
    static const char *const bad_phone[] = {"12345", "phone-number", "+62", "",
                                            "+62812345678901234"};
    fx f;
    rules_open_base(&f);
    fx_at(&f, "08:00:00");
    for (size_t i = 0; i < sizeof bad_nik / sizeof bad_nik[0]; i++) {
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp", .nik = bad_nik[i], .name = S_NAME};
        c.tid[0] = (uint8_t)i;
        cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ, "nik '%s' accepted", bad_nik[i]);
        rules_msg_names(&f, "nik", "16 digits");
        if (bad_nik[i][0])
            cr_assert(!fx_has(f.res.msg, bad_nik[i]));
    }
    for (size_t i = 0; i < sizeof bad_phone / sizeof bad_phone[0]; i++) {
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp", .phone = bad_phone[i]};
        c.tid[0] = (uint8_t)(100 + i);
        cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ, "phone '%s' accepted", bad_phone[i]);
        rules_msg_names(&f, "phone", NULL);
        if (bad_phone[i][0])
            cr_assert(!fx_has(f.res.msg, bad_phone[i]));
    }
    eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp", .name = ""};
    cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ);
    rules_msg_names(&f, "name", NULL);
    c = (eng_cmd){.type = ENG_CMD_ISSUE, .service = "ktp", .nik = S_NIK};
    cr_assert_eq(fx_apply(&f, &c), 0);
    cr_assert_eq(eng_hall_seq(f.h), 1);
    fx_free(&f);
}

/* ---- wait estimates ------------------------------------------------------------------ */

Test(estimate, positions_and_eta)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    RUN(&f, "08:00:00 open c1; issue ktp; issue ktp; issue ktp",
        "c1 open | issued A001 | "
        "issued A002 | issued A003");
    static const char *const codes[] = {"A001", "A002", "A003", "A004"};
    for (unsigned i = 0; i < 3; i++) {
        eng_ticket_view v = rules_view(&f, codes[i]);
        cr_assert_eq(v.position, i, "%s", codes[i]);
        cr_assert_eq(v.eta_s, i * 300, "%s eta %u", codes[i], v.eta_s);
    }
    RUN(&f, "issue ktp prio=elderly", "issued A004*");
    cr_assert_eq(rules_view(&f, "A004").position, 0);
    cr_assert_eq(rules_view(&f, "A003").position, 3);
    eng_service_live live;
    cr_assert_eq(eng_service_live_get(f.h, 0, f.now, &live), 0);
    cr_assert_eq(live.waiting, 4);
    cr_assert_eq(live.eta_s, 1200, "a new ticket waits for all four: %u", live.eta_s);
    /* a second counter halves the wait; tickets called at the same instant
     * at two counters are not "before" each other: A004 and A001 are both 0 */
    RUN(&f, "open c2", "c2 open");
    static const unsigned pos2[] = {0, 2, 2, 0}, eta2[] = {0, 300, 300, 0};
    for (unsigned i = 0; i < 4; i++) {
        eng_ticket_view v = rules_view(&f, codes[i]);
        cr_assert_eq(v.position, pos2[i], "%s position %u", codes[i], v.position);
        cr_assert_eq(v.eta_s, eta2[i], "%s eta %u", codes[i], v.eta_s);
    }
    fx_at(&f, "08:10:00");
    cr_assert_eq(eng_service_live_get(f.h, 0, f.now, &live), 0);
    cr_assert_eq(live.oldest_wait_s, 600);
    fx_free(&f);
}

Test(estimate, before_any_counter_opens)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    /* no counter open: rank in the service, and rank x 300 s / 2 counters */
    RUN(&f, "07:50:00 issue ktp; issue ktp; issue ktp", "issued A001 | issued A002 | issued A003");
    static const char *const codes[] = {"A001", "A002", "A003"};
    for (unsigned i = 0; i < 3; i++) {
        eng_ticket_view v = rules_view(&f, codes[i]);
        cr_assert_eq(v.position, i, "%s position %u", codes[i], v.position);
        cr_assert_eq(v.eta_s, i * 150, "%s eta %u", codes[i], v.eta_s);
    }
    eng_service_live live;
    cr_assert_eq(eng_service_live_get(f.h, 0, f.now, &live), 0);
    cr_assert_eq(live.eta_s, 450, "a new ticket: 3 ahead x 300 s / 2 counters");
    /* the first counter opens: the simulation takes over */
    RUN(&f, "08:00:00 open c1", "c1 open");
    cr_assert_eq(rules_view(&f, "A003").position, 2);
    cr_assert_eq(rules_view(&f, "A003").eta_s, 600);
    fx_free(&f);
}

struct pos_walk {
    char order[128];
    uint32_t last;
    bool sorted;
};

static int walk_positions(const eng_ticket_view *v, void *arg)
{
    struct pos_walk *w = arg;
    size_t n = strlen(w->order);
    snprintf(w->order + n, sizeof w->order - n, "%s%s", n ? " " : "", v->code);
    if (n && v->position < w->last)
        w->sorted = false;
    w->last = v->position;
    return 0;
}

Test(estimate, waiting_list_follows_the_calling_order)
{
    fx f;
    fx_hall p = rules_one_service(1);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    RUN(&f,
        "08:00:00 open c1; issue ktp prio=elderly; issue ktp prio=elderly; issue ktp; issue ktp",
        "c1 open | issued A001* | issued A002* | issued A003 | issued A004");
    struct pos_walk w = {.sorted = true};
    eng_tickets_each(f.h, ENG_ST_WAITING, f.now, walk_positions, &w);
    cr_assert(w.sorted, "positions go down in the waiting list: %s", w.order);
    cr_assert_str_eq(w.order, "A001 A003 A002 A004");
    cr_assert_str_eq(rules_serve_n(&f, "c1", 4), "A001 A003 A002 A004");
    fx_free(&f);
}

Test(estimate, oldest_wait_counts_every_waiting_ticket)
{
    fx f;
    rules_open_base(&f);
    RUN(&f,
        "08:00:00 issue kk; issue ktp; open l04; call l04 A001; start l04; "
        "08:30:00 finish l04 transfer=kk placement=first",
        "issued B001 | issued A001 | l04 open | called A001@l04 | serving A001@l04 | "
        "transferred A001 ktp>kk first@l04");
    eng_service_live live;
    int kk = eng_config_service(eng_hall_config(f.h), "kk");
    cr_assert_eq(eng_service_live_get(f.h, kk, f.now, &live), 0);
    cr_assert_eq(live.waiting, 2);
    cr_assert_eq(live.oldest_wait_s, 1800, "B001 has waited 30 minutes, not %u s",
                 live.oldest_wait_s);
    fx_free(&f);
}

Test(estimate, service_wait_events)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; issue ktp; tick; tick",
        "issued A001 | issued A002 | "
        "wait ktp:2 | -");
    cr_assert_eq(f.ev.n, 0, "at most one service.wait a second");
    RUN(&f, "+1s tick; +58s tick; +2s tick", "- | - | wait ktp:2");
    cr_assert_eq(f.ev.ev[0].wait[0].oldest_wait_s, 61);
    RUN(&f, "cancel A001; cancel A002; tick; +1s tick",
        "cancelled A001 | cancelled A002 | - | "
        "wait ktp:0");
    fx_check_replay(&f);
    fx_free(&f);
}

/* ---- snapshots ------------------------------------------------------------------------ */

static const char MORNING[] =
    "08:00:00 open l01; open l02; open l03; open l04; issue ktp prio=elderly; issue kk; "
    "issue ktp idem=k1 nik=3171234567890123; issue paspor; issue skck; 08:01:00 call l01; "
    "call l02; call l03; start l01; recall l02; 08:03:00 noshow l02; finish l01 transfer=kk; "
    "issue kk; call l01; start l01; finish l01; feedback A001 score=3; issue paspor; issue kk";

static const char NEXT[] =
    "08:05:00 reinstate B001; issue ktp idem=k1; issue ktp idem=k2; call l02; start l02; "
    "finish l02 transfer=skck placement=first; call l04; start l03; finish l03; call l03; "
    "recall l03; 08:06:00 tick; pause l01; close l01; issue skck prio=child; call l04; "
    "08:20:00 cancel B003; tick; issue ktp; 08:25:00 tick; 2026-03-03T08:00:00 issue kk; "
    "open l05; call l05; tick; issue ktp; issue kk prio=elderly; issue kk; issue skck";

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void expect_same_event(const eng_event *a, const eng_event *b, size_t i)
{
    cr_assert_eq(a->type, b->type, "event %zu", i);
    cr_assert_eq(a->seq, b->seq);
    cr_assert_eq(a->at, b->at);
    cr_assert_str_eq(a->hall, b->hall);
    cr_assert_eq(memcmp(a->tid, b->tid, ENG_TID_LEN), 0);
    cr_assert_eq(memcmp(a->secret, b->secret, ENG_SECRET_LEN), 0);
    cr_assert_str_eq(a->code, b->code);
    cr_assert_str_eq(a->service, b->service);
    cr_assert_str_eq(a->from_service, b->from_service);
    cr_assert_str_eq(a->counter, b->counter);
    cr_assert_eq(a->number, b->number);
    cr_assert_eq(a->prio, b->prio);
    cr_assert_eq(a->channel, b->channel);
    cr_assert_eq(a->placement, b->placement);
    cr_assert_eq(a->counter_state, b->counter_state);
    cr_assert_eq(a->recalls, b->recalls);
    cr_assert_eq(a->score, b->score);
    cr_assert_eq(a->day, b->day);
    cr_assert_eq(a->has_pii, b->has_pii);
    if (a->has_pii) /* the event's tail is meaningful only as has_pii says */
        cr_assert_eq(memcmp(&a->pii, &b->pii, sizeof a->pii), 0);
    cr_assert(same_str(a->idem, b->idem));
    cr_assert(same_str(a->comment, b->comment));
    cr_assert_eq(a->config_len, b->config_len);
    cr_assert(a->config_len == 0 || memcmp(a->config_json, b->config_json, a->config_len) == 0);
    cr_assert_eq(a->nwait, b->nwait);
    for (int k = 0; k < a->nwait; k++) { /* field by field: the items have padding */
        cr_assert_str_eq(a->wait[k].service, b->wait[k].service);
        cr_assert_eq(a->wait[k].waiting, b->wait[k].waiting);
        cr_assert_eq(a->wait[k].eta_s, b->wait[k].eta_s);
        cr_assert_eq(a->wait[k].oldest_wait_s, b->wait[k].oldest_wait_s);
    }
}

static int count_waiting(const eng_ticket_view *v, void *arg)
{
    (void)v;
    (*(int *)arg)++;
    return 0;
}

Test(snapshot, decoded_hall_continues_identically)
{
    fx f, g;
    rules_open_base(&f);
    fx_run(&f, MORNING);
    size_t len;
    char *snap = fx_snapshot(f.h, &len);
    eng_hall *d = NULL;
    char msg[200];
    cr_assert_eq(eng_snapshot_decode(snap, len, &d, msg), 0, "%s", msg);
    free(snap);
    /* g: the same harness state around the decoded hall */
    rules_open_base(&g);
    eng_hall_free(g.h);
    g.h = d;
    g.now = f.now;
    g.tid_ctr = f.tid_ctr;
    g.seq = f.seq;
    g.no_log = true;
    g.codes = malloc(f.capcodes * sizeof *g.codes);
    memcpy(g.codes, f.codes, f.ncodes * sizeof *g.codes);
    g.ncodes = f.ncodes;
    g.capcodes = f.capcodes;
    char *script = strdup(NEXT), *save = NULL;
    size_t nev = 0;
    for (char *line = strtok_r(script, ";", &save); line; line = strtok_r(NULL, ";", &save)) {
        codec_buf o1, o2;
        codec_buf_init(&o1);
        codec_buf_init(&o2);
        int r1 = fx_exec(&f, line, false, &o1);
        int r2 = fx_exec(&g, line, false, &o2);
        cr_assert_eq(r1, r2, "%s", line);
        cr_assert_str_eq(f.res.msg, g.res.msg);
        cr_assert_eq(f.res.replayed, g.res.replayed);
        cr_assert_eq(f.res.has_ticket, g.res.has_ticket);
        cr_assert_str_eq(f.res.ticket.code, g.res.ticket.code);
        cr_assert_eq(f.res.ticket.state, g.res.ticket.state);
        cr_assert_eq(f.ev.n, g.ev.n, "%s", line);
        for (size_t i = 0; i < f.ev.n; i++)
            expect_same_event(&f.ev.ev[i], &g.ev.ev[i], nev + i);
        nev += f.ev.n;
        codec_buf_free(&o1);
        codec_buf_free(&o2);
    }
    free(script);
    cr_assert_geq(nev, 20);
    /* the same estimates for every waiting ticket */
    int nw = 0;
    eng_tickets_each(f.h, ENG_ST_WAITING, f.now, count_waiting, &nw);
    cr_assert_gt(nw, 0);
    for (size_t i = 0; i < f.ncodes; i++) {
        eng_ticket_view a, b;
        int ra = eng_ticket_get(f.h, f.codes[i].tid, f.now, &a);
        int rb = eng_ticket_get(g.h, f.codes[i].tid, g.now, &b);
        cr_assert_eq(ra, rb);
        if (ra)
            continue;
        cr_assert_eq(a.state, b.state);
        cr_assert_eq(a.position, b.position, "%s", a.code);
        cr_assert_eq(a.eta_s, b.eta_s, "%s", a.code);
    }
    size_t la, lb;
    char *sa = fx_snapshot(f.h, &la), *sb = fx_snapshot(g.h, &lb);
    cr_assert(la == lb && memcmp(sa, sb, la) == 0, "snapshots differ after the same commands");
    free(sa);
    free(sb);
    fx_check_replay(&f);
    fx_free(&f);
    fx_free(&g);
}

Test(snapshot, truncated_or_damaged_snapshots_fail_cleanly)
{
    fx f;
    rules_open_base(&f);
    fx_run(&f, MORNING);
    size_t len;
    char *snap = fx_snapshot(f.h, &len);
    char msg[200];
    for (size_t n = 0; n < len; n++) {
        eng_hall *d = (eng_hall *)1;
        int rc = eng_snapshot_decode(snap, n, &d, msg);
        cr_assert_eq(rc, ANT_EBADREQ, "a snapshot cut at %zu of %zu bytes decoded", n, len);
        cr_assert_null(d);
        cr_assert(msg[0]);
    }
    /* single-byte damage: refused, or a hall that works */
    char *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(copy, snap, len);
            copy[i] ^= (char)(1 << bit);
            eng_hall *d = NULL;
            if (eng_snapshot_decode(copy, len, &d, msg) == 0) {
                char *again = NULL;
                size_t alen;
                cr_assert_eq(eng_snapshot_encode(d, &again, &alen), 0);
                free(again);
                eng_hall_free(d);
            }
        }
    }
    free(copy);
    free(snap);
    fx_free(&f);
}

/* ---- larger halls ----------------------------------------------------------------------- */

Test(estimate, service_wait_splits_past_16_services)
{
    static char ids[20][8], prefixes[20][3];
    for (int i = 0; i < 18; i++) {
        snprintf(ids[i], sizeof ids[i], "s%02d", i);
        snprintf(prefixes[i], sizeof prefixes[i], "%c%c", 'A' + i / 26, 'A' + i % 26);
    }
    /* fx_hall holds 16 services; the JSON by hand for 18 */
    codec_buf b;
    codec_buf_init(&b);
    fx_printf(&b, "{\"id\":\"mpp-big\",\"name\":\"Big\",\"utc_offset_min\":420,"
                  "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"
                  "\"agencies\":[{\"id\":\"a\",\"name\":\"A\"}],\"services\":[");
    for (int i = 0; i < 18; i++)
        fx_printf(&b, "%s{\"id\":\"%s\",\"agency\":\"a\",\"name\":\"S\",\"prefix\":\"%s\"}",
                  i ? "," : "", ids[i], prefixes[i]);
    fx_printf(&b, "],\"counters\":[{\"id\":\"c1\",\"label\":\"C\",\"services\":[\"s00\"]}]}");
    fx f;
    fx_init(&f, fx_cstr(&b), fx_time(DAY1, "08:00:00", 420));
    codec_buf_free(&b);
    for (int i = 0; i < 18; i++)
        cr_assert_eq(fx_issue(&f, ids[i], 0, NULL), 0);
    fx_tick(&f);
    cr_assert_eq(f.ev.n, 2, "18 changed services need two service.wait events");
    cr_assert_eq(f.ev.ev[0].nwait, 16);
    cr_assert_eq(f.ev.ev[1].nwait, 2);
    cr_assert_str_eq(f.ev.ev[1].wait[1].service, "s17");
    cr_assert_eq(f.ev.ev[1].wait[1].waiting, 1);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(idem, many_keys_survive_growth_and_snapshots)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:01", p.utc));
    enum { N = 700 };
    static uint8_t tids[N][ENG_TID_LEN];
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "kiosk-%d-%04d", i % 7, i);
        cr_assert_eq(fx_issue(&f, "ktp", 0, key), 0);
        cr_assert(!f.res.replayed);
        memcpy(tids[i], f.res.ticket.tid, ENG_TID_LEN);
    }
    /* every key finds its own ticket, in the live hall and in a decoded copy */
    size_t len;
    char *snap = fx_snapshot(f.h, &len);
    eng_hall *d = NULL;
    char msg[200];
    cr_assert_eq(eng_snapshot_decode(snap, len, &d, msg), 0, "%s", msg);
    free(snap);
    for (int i = N; i-- > 0;) {
        snprintf(key, sizeof key, "kiosk-%d-%04d", i % 7, i);
        eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp", .idem = key};
        c.tid[0] = 0xee;
        cr_assert_eq(fx_apply(&f, &c), 0);
        cr_assert(f.res.replayed, "key %s", key);
        cr_assert_eq(memcmp(f.res.ticket.tid, tids[i], ENG_TID_LEN), 0, "key %s", key);
        eng_evbuf ev;
        eng_evbuf_init(&ev);
        eng_result res;
        cr_assert_eq(eng_apply(d, &c, f.now, &ev, &res), 0);
        cr_assert(res.replayed && memcmp(res.ticket.tid, tids[i], ENG_TID_LEN) == 0);
        eng_evbuf_free(&ev);
    }
    eng_hall_free(d);
    fx_check_replay(&f);
    fx_free(&f);
}
