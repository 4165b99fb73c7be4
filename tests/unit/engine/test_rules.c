/*
 * test_rules.c — the rules and errors of SPEC §3 for tickets: numbering,
 * quota, hours, the day boundary, calling rules, recall, start, finish and
 * transfer, no-show, reinstate, cancel, feedback (the rest of §3 is in
 * test_rules_hall.c), one table or script per rule. Scripts use the transcript syntax of
 * eng_fixture.h; their result is compared with the short event form ("called A001@l01",
 * "!queue_empty"). Every command also passes the fixture's checks (gapless seq, events stamped with
 * the command's time, no citizen data in any public encoding or message), and most tests end by
 * replaying the whole event log into a fresh hall and comparing snapshots.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "eng_rules.h"

/* ---- issue: numbering, quota ---------------------------------------------- */

Test(issue, numbering_is_per_service_and_day)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; issue kk; issue ktp; issue paspor; issue kk; issue skck",
        "issued A001 | issued B001 | issued A002 | issued P001 | issued B002 | issued C001");
    eng_ticket_view v = rules_view(&f, "B002");
    cr_assert_str_eq(v.service, "kk");
    cr_assert_eq(v.state, ENG_ST_WAITING);
    /* the next open day starts again at 001 in every service */
    RUN(&f, "2026-03-03T08:00:00 issue kk; issue ktp",
        "rollover 2026-03-03, issued B001 | issued A001");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(issue, codes_grow_past_three_digits)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:01", p.utc));
    char want[8];
    for (unsigned i = 1; i <= 1001; i++) {
        cr_assert_eq(fx_issue(&f, "ktp", 0, NULL), 0);
        snprintf(want, sizeof want, "A%03u", i);
        cr_assert_str_eq(f.res.ticket.code, want);
    }
    cr_assert_str_eq(rules_view(&f, "A999").code, "A999");
    cr_assert_str_eq(rules_view(&f, "A1000").code, "A1000");
    fx_free(&f);
}

Test(issue, quota_exhausted_past_daily_quota)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue paspor; issue paspor; cancel P002; issue paspor",
        "issued P001 | issued P002 | cancelled P002 | issued P003");
    /* a cancelled ticket was still issued: the quota counts issues */
    RUN(&f, "issue paspor", "!quota_exhausted");
    rules_msg_names(&f, "paspor", "3");
    /* other services are not limited; the next day has a fresh quota */
    RUN(&f, "issue ktp; 2026-03-03T08:00:00 issue paspor",
        "issued A001 | rollover 2026-03-03, issued P001");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(issue, unknown_service_and_bad_fields)
{
    fx f;
    rules_open_base(&f);
    fx_at(&f, "08:00:00");
    cr_assert_eq(fx_issue(&f, "sim", 0, NULL), ANT_ENOTFOUND);
    rules_msg_names(&f, "sim", NULL);
    cr_assert_eq(fx_issue(&f, NULL, 0, NULL), ANT_EBADREQ);
    rules_msg_names(&f, "service", NULL);
    cr_assert_eq(fx_issue(&f, "ktp", 9, NULL), ANT_EBADREQ);
    rules_msg_names(&f, "priority", NULL);
    eng_cmd c = {.type = ENG_CMD_ISSUE, .service = "ktp", .channel = 9};
    cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ);
    rules_msg_names(&f, "channel", NULL);
    eng_cmd bad = {.type = 99};
    cr_assert_eq(fx_apply(&f, &bad), ANT_EBADREQ);
    rules_msg_names(&f, "unknown command", "99");
    cr_assert_eq(eng_hall_seq(f.h), 0);
    fx_free(&f);
}

/* ---- hall hours, in hall-local time --------------------------------------- */

struct hours_case {
    const char *date, *time;
    int rc;
    const char *msg; /* the message names this */
};

static const struct hours_case hours_cases[] = {
    {"2026-03-02", "07:59:59", ANT_ECLOSED, "08:00"},      /* before open */
    {"2026-03-02", "08:00:00", 0, NULL},                   /* at open */
    {"2026-03-02", "14:59:59", 0, NULL},                   /* last second */
    {"2026-03-02", "15:00:00", ANT_ECLOSED, "15:00"},      /* issue_until */
    {"2026-03-02", "15:30:00", ANT_ECLOSED, "15:00"},      /* open, but no more tickets */
    {"2026-03-02", "16:30:00", ANT_ECLOSED, "15:00"},      /* after close */
    {"2026-03-02", "00:10:00", ANT_ECLOSED, "08:00"},      /* just after local midnight */
    {"2026-03-02", "23:50:00", ANT_ECLOSED, "15:00"},      /* just before local midnight */
    {"2026-03-19", "10:00:00", ANT_ECLOSED, "2026-03-19"}, /* closed date (a Thursday) */
    {"2026-03-20", "10:00:00", 0, NULL},                   /* the day after it */
    {"2026-03-08", "10:00:00", ANT_ECLOSED, "weekday"},    /* Sunday */
    {"2026-03-07", "10:00:00", 0, NULL},                   /* Saturday is open */
    {"2026-03-09", "08:00:00", 0, NULL},                   /* Monday after the Sunday */
};

Test(hours, hall_closed_in_hall_local_time)
{
    static const int offsets[] = {420, 480, 540, -300, 0};
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
        for (size_t i = 0; i < sizeof hours_cases / sizeof hours_cases[0]; i++) {
            const struct hours_case *hc = &hours_cases[i];
            fx f;
            fx_hall p = rules_base_hall();
            p.utc = offsets[o];
            fx_init_p(&f, &p, fx_time("2026-03-01", "00:00:00", p.utc));
            fx_at_date(&f, hc->date, hc->time);
            int rc = fx_issue(&f, "ktp", 0, NULL);
            cr_assert_eq(rc, hc->rc, "utc %+d, %s %s: got %s (%s)", offsets[o], hc->date, hc->time,
                         rc ? ant_err_code(rc) : "ok", f.res.msg);
            if (hc->msg)
                rules_msg_names(&f, hc->msg, NULL);
            if (rc == 0)
                cr_assert_str_eq(f.res.ticket.code, "A001");
            fx_free(&f);
        }
    }
}

Test(hours, issue_until_defaults_to_close)
{
    fx f;
    fx_hall p = rules_base_hall();
    p.until = NULL;
    fx_init_p(&f, &p, fx_time(DAY1, "07:30:00", p.utc));
    RUN(&f, "15:59:59 issue ktp; 16:00:00 issue ktp", "issued A001 | !hall_closed");
    fx_free(&f);
}

/* ---- the day boundary ------------------------------------------------------ */

Test(day, boundary_is_local_midnight)
{
    static const int offsets[] = {420, 480, 540};
    for (size_t o = 0; o < 3; o++) {
        fx f;
        fx_hall p = rules_one_service(2);
        p.utc = offsets[o];
        fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
        int32_t d1;
        cr_assert_eq(eng_parse_date(DAY1, &d1), 0);
        RUN(&f, "23:59:58 issue ktp; 23:59:59 issue ktp", "issued A001 | issued A002");
        cr_assert_eq(eng_hall_day(f.h), d1, "utc %+d", offsets[o]);
        /* local midnight is 17:00, 16:00, 15:00 UTC: the UTC date does not change here */
        RUN(&f, "2026-03-03T00:00:00 issue ktp; issue ktp",
            "rollover 2026-03-03, issued A001 | issued A002");
        cr_assert_eq(eng_hall_day(f.h), d1 + 1);
        cr_assert_eq(eng_hall_day_of(f.h, f.now - 1), d1);
        /* time passing alone rolls the day over too */
        RUN(&f, "2026-03-03T23:59:59 tick; 2026-03-04T00:00:00 tick; tick",
            "wait ktp:2 | rollover 2026-03-04, wait ktp:0 | -");
        fx_check_replay(&f);
        fx_free(&f);
    }
}

Test(day, tickets_in_flight_at_midnight)
{
    fx f;
    fx_hall p = rules_base_hall();
    p.open = "00:00";
    p.close = "24:00";
    p.until = NULL;
    p.weekdays = NULL;
    fx_init_p(&f, &p, fx_time(DAY1, "22:00:00", p.utc));
    RUN(&f,
        "23:00:00 open l01; open l02; open l03; issue ktp; issue kk; issue ktp; issue paspor; "
        "issue paspor; call l01; call l02; start l02; call l03; start l03; finish l03; "
        "call l03; recall l03; noshow l03",
        "l01 open | l02 open | l03 open | issued A001 | issued B001 | issued A002 | issued P001 | "
        "issued P002 | called A001@l01 | called B001@l02 | serving B001@l02 | called P001@l03 | "
        "serving P001@l03 | done P001@l03 | called P002@l03 | recalled P002@l03 x1 | "
        "no_show P002@l03");
    uint8_t a1[ENG_TID_LEN], p2[ENG_TID_LEN];
    memcpy(a1, fx_tid_of(&f, "A001"), ENG_TID_LEN);
    memcpy(p2, fx_tid_of(&f, "P002"), ENG_TID_LEN);
    /* A001 called, B001 serving, A002 waiting, P002 no-show (within its window) */
    RUN(&f, "2026-03-03T00:00:05 call l01", "rollover 2026-03-03, !queue_empty");
    /* l01 holds nothing any more (not counter_busy), l02 neither */
    eng_counter_live cl;
    for (int i = 0; i < 3; i++) {
        eng_counter_live_get(f.h, i, &cl);
        cr_assert_str_eq(cl.ticket, "", "counter %d still holds %s", i, cl.ticket);
        cr_assert_eq(cl.state, ENG_CS_OPEN); /* counter states survive the night */
    }
    eng_ticket_view v;
    cr_assert_eq(eng_ticket_get(f.h, a1, f.now, &v), ANT_ENOTFOUND);
    cr_assert_eq(fx_tkt_cmd(&f, ENG_CMD_REINSTATE, p2), ANT_ENOTFOUND);
    eng_day_stats st;
    cr_assert_eq(eng_stats_last_closed(f.h, &st), 0);
    char date[16];
    eng_format_date(st.day, date);
    cr_assert_str_eq(date, DAY1);
    const eng_stat_row *ktp = rules_row(st.services, st.nservices, "ktp");
    const eng_stat_row *kk = rules_row(st.services, st.nservices, "kk");
    const eng_stat_row *pas = rules_row(st.services, st.nservices, "paspor");
    cr_assert_eq(ktp->issued, 2);
    cr_assert_eq(ktp->expired, 2, "called A001 and waiting A002 expire");
    cr_assert_eq(ktp->served, 0);
    cr_assert_eq(kk->served, 1, "serving B001 is done");
    cr_assert_eq(kk->expired, 0);
    cr_assert_eq(pas->served, 1);
    cr_assert_eq(pas->no_show, 1);
    cr_assert_eq(pas->expired, 0);
    eng_day_stats_free(&st);
    /* no ticket of today yet */
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(rules_row(st.services, st.nservices, "ktp")->issued, 0);
    eng_day_stats_free(&st);
    RUN(&f, "issue ktp; call l01", "issued A001 | called A001@l01");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(day, forced_end_of_service_does_not_teach_service_times)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    /* the operator forgets to finish A001; the night ends it */
    RUN(&f, "15:00:00 open c1; issue ktp; call c1; start c1",
        "c1 open | issued A001 | called A001@c1 | serving A001@c1");
    RUN(&f, "2026-03-03T08:00:00 issue ktp; issue ktp",
        "rollover 2026-03-03, issued A001 | issued A002");
    /* c1 is idle: A001 is called now, A002 one service time later; with the
     * 17 hours of the forgotten ticket learned it would be hours */
    eng_ticket_view v = rules_view(&f, "A002");
    cr_assert_eq(v.position, 1);
    cr_assert_leq(v.eta_s, 300, "eta %u s: the forced end was learned as a service time", v.eta_s);
    eng_day_stats st;
    cr_assert_eq(eng_stats_last_closed(f.h, &st), 0);
    const eng_stat_row *r = rules_row(st.services, st.nservices, "ktp");
    cr_assert_eq(r->served, 1);
    cr_assert_leq(r->service_mean_s, 3600, "mean service %u s", r->service_mean_s);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

/* ---- call -------------------------------------------------------------------- */

Test(call, counter_must_be_open_and_free)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; issue ktp; call l01",
        "issued A001 | issued A002 | !invalid_state");
    rules_msg_names(&f, "l01", "closed");
    RUN(&f, "open l01; pause l01; call l01", "l01 open | l01 paused | !invalid_state");
    rules_msg_names(&f, "l01", "paused");
    RUN(&f, "resume l01; call l01; call l01", "l01 open | called A001@l01 | !counter_busy");
    rules_msg_names(&f, "l01", "A001");
    RUN(&f, "start l01; call l01", "serving A001@l01 | !counter_busy");
    rules_msg_names(&f, "A001", "serving");
    RUN(&f, "call l99", "!not_found");
    rules_msg_names(&f, "l99", NULL);
    RUN(&f, "open l03; call l03", "l03 open | !queue_empty");
    rules_msg_names(&f, "l03", NULL);
    eng_cmd c = {.type = ENG_CMD_CALL};
    cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ);
    rules_msg_names(&f, "counter", NULL);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(call, specific_ticket)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 open l01; open l04; open l03; issue ktp; issue ktp; issue paspor",
        "l01 open | l04 open | l03 open | issued A001 | issued A002 | issued P001");
    /* not the head: the operator may pick any waiting ticket of its services */
    RUN(&f, "call l01 A002", "called A002@l01");
    RUN(&f, "call l04 A002", "!invalid_state");
    rules_msg_names(&f, "A002", "called");
    RUN(&f, "call l04 unknown", "!not_found");
    rules_msg_names(&f, "ticket", "not found");
    RUN(&f, "call l03 A001", "!bad_request");
    rules_msg_names(&f, "l03", "ktp");
    RUN(&f, "cancel A001; call l04 A001", "cancelled A001 | !invalid_state");
    rules_msg_names(&f, "A001", "cancelled");
    RUN(&f, "call l03 P001", "called P001@l03");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(call, specific_call_of_a_normal_ticket_resets_the_priority_run)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    RUN(&f,
        "08:00:00 open c1; issue ktp; issue ktp; issue ktp prio=elderly; issue ktp prio=child; "
        "issue ktp prio=pregnant; issue ktp prio=disabled",
        "c1 open | issued A001 | issued A002 | issued A003* | issued A004* | issued A005* | "
        "issued A006*");
    /* P, then a normal one by name, then two priority calls are allowed again */
    RUN(&f,
        "call c1; start c1; finish c1; call c1 A002; start c1; finish c1; call c1; start c1; "
        "finish c1; call c1; start c1; finish c1; call c1",
        "called A003@c1 | serving A003@c1 | done A003@c1 | called A002@c1 | serving A002@c1 | "
        "done A002@c1 | called A004@c1 | serving A004@c1 | done A004@c1 | called A005@c1 | "
        "serving A005@c1 | done A005@c1 | called A001@c1");
    fx_free(&f);
}

/* ---- the calling rules ------------------------------------------------------- */

Test(calling, priority_first_with_max_consecutive)
{
    static const struct {
        int max;
        const char *order;
    } cases[] = {
        /* A001-A003 normal, A004-A009 priority, all waiting before the first call */
        {1, "A004 A001 A005 A002 A006 A003 A007 A008 A009"},
        {2, "A004 A005 A001 A006 A007 A002 A008 A009 A003"},
        {3, "A004 A005 A006 A001 A007 A008 A009 A002 A003"},
        {1000, "A004 A005 A006 A007 A008 A009 A001 A002 A003"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx f;
        fx_hall p = rules_one_service(cases[i].max);
        fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
        RUN(&f, "08:00:00 open c1; issue ktp; issue ktp; issue ktp",
            "c1 open | issued A001 | "
            "issued A002 | issued A003");
        for (int k = 0; k < 6; k++)
            cr_assert_eq(fx_issue(&f, "ktp", ENG_PRIO_ELDERLY + k % 4, NULL), 0);
        cr_assert_str_eq(rules_serve_n(&f, "c1", 9), cases[i].order, "max_consecutive %d",
                         cases[i].max);
        fx_check_replay(&f);
        fx_free(&f);
    }
}

Test(calling, consecutive_priority_calls_count_per_counter)
{
    fx f;
    fx_hall p = rules_one_service(2);
    fx_init_p(&f, &p, fx_time(DAY1, "00:00:00", p.utc));
    RUN(&f,
        "08:00:00 open c1; open c2; issue ktp; issue ktp; issue ktp prio=elderly; "
        "issue ktp prio=elderly; issue ktp prio=elderly; issue ktp prio=elderly",
        "c1 open | c2 open | issued A001 | issued A002 | issued A003* | issued A004* | "
        "issued A005* | issued A006*");
    RUN(&f,
        "call c1; call c2; start c1; finish c1; call c1; start c1; finish c1; call c1; "
        "start c2; finish c2; call c2; start c2; finish c2; call c2",
        "called A003@c1 | called A004@c2 | serving A003@c1 | done A003@c1 | called A005@c1 | "
        "serving A005@c1 | done A005@c1 | called A001@c1 | serving A004@c2 | done A004@c2 | "
        "called A006@c2 | serving A006@c2 | done A006@c2 | called A002@c2");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(calling, longest_wait_across_services)
{
    fx f;
    rules_open_base(&f);
    /* l01 lists ktp first, but B001 has waited longest */
    RUN(&f, "08:00:00 issue kk; 08:00:10 issue ktp; 08:00:20 issue kk; 08:01:00 open l01",
        "issued B001 | issued A001 | issued B002 | l01 open");
    cr_assert_str_eq(rules_serve_n(&f, "l01", 3), "B001 A001 B002");
    fx_free(&f);
}

Test(calling, in_order_takes_the_first_listed_service)
{
    fx f;
    rules_open_base(&f);
    /* l02 lists kk first: B001 goes first although A001 waited longer */
    RUN(&f, "08:00:00 issue ktp; 08:00:10 issue kk; 08:00:20 issue kk; 08:01:00 open l02",
        "issued A001 | issued B001 | issued B002 | l02 open");
    cr_assert_str_eq(rules_serve_n(&f, "l02", 3), "B001 B002 A001");
    /* priority still comes first: a priority ktp ticket beats waiting kk ones */
    RUN(&f, "issue kk; issue ktp prio=pregnant", "issued B003 | issued A002*");
    cr_assert_str_eq(rules_serve_n(&f, "l02", 2), "A002 B003");
    fx_free(&f);
}

Test(calling, ties_go_to_the_earlier_enqueue)
{
    for (int rev = 0; rev < 2; rev++) {
        fx f;
        rules_open_base(&f);
        /* same millisecond: only the enqueue order tells them apart */
        RUN(&f,
            rev ? "08:00:00 open l01; issue kk; issue ktp; issue kk"
                : "08:00:00 open l01; issue ktp; issue kk; issue ktp",
            rev ? "l01 open | issued B001 | issued A001 | issued B002"
                : "l01 open | issued A001 | issued B001 | issued A002");
        cr_assert_str_eq(rules_serve_n(&f, "l01", 3), rev ? "B001 A001 B002" : "A001 B001 A002");
        fx_free(&f);
    }
}

Test(calling, priority_tickets_compete_by_age)
{
    fx f;
    rules_open_base(&f);
    RUN(&f,
        "08:00:00 issue ktp; 08:00:05 issue kk prio=child; 08:00:10 issue ktp prio=elderly; "
        "08:00:15 issue kk; 08:01:00 open l01",
        "issued A001 | issued B001* | issued A002* | issued B002 | l01 open");
    cr_assert_str_eq(rules_serve_n(&f, "l01", 4), "B001 A002 A001 B002");
    fx_free(&f);
}

Test(calling, queue_empty_when_only_other_services_wait)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; issue skck; open l05; call l05",
        "issued A001 | issued C001 | "
        "l05 open | !queue_empty");
    RUN(&f, "open l04; call l04; call l01", "l04 open | called A001@l04 | !invalid_state");
    fx_free(&f);
}

/* ---- recall, start, finish, transfer ----------------------------------------- */

Test(ticket, recall_counts)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 open l01; recall l01", "l01 open | !invalid_state");
    rules_msg_names(&f, "l01", "called");
    RUN(&f, "issue ktp; call l01; recall l01; recall l01; recall l01",
        "issued A001 | called A001@l01 | recalled A001@l01 x1 | recalled A001@l01 x2 | "
        "recalled A001@l01 x3");
    eng_ticket_view v = rules_view(&f, "A001");
    cr_assert_eq(v.recalls, 3);
    cr_assert_eq(v.state, ENG_ST_CALLED);
    cr_assert_str_eq(v.counter, "l01");
    cr_assert_str_eq(v.label, "Loket 1");
    /* the board lists calls and recalls, newest first */
    eng_board_call bc[ENG_NOW_CALLING];
    cr_assert_eq(eng_now_calling(f.h, bc), 4);
    cr_assert_str_eq(bc[0].code, "A001");
    cr_assert_str_eq(bc[0].label, "Loket 1");
    RUN(&f, "start l01; recall l01", "serving A001@l01 | !invalid_state");
    rules_msg_names(&f, "A001", "serving");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(ticket, start_and_finish)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 open l01; issue ktp; start l01; finish l01",
        "l01 open | issued A001 | !invalid_state | !invalid_state");
    RUN(&f, "call l01; finish l01", "called A001@l01 | !invalid_state");
    rules_msg_names(&f, "A001", "called");
    RUN(&f, "08:02:00 start l01; start l01", "serving A001@l01 | !invalid_state");
    rules_msg_names(&f, "A001", "serving");
    RUN(&f, "08:07:00 finish l01; call l01", "done A001@l01 | !queue_empty");
    eng_ticket_view v = rules_view(&f, "A001");
    cr_assert_eq(v.state, ENG_ST_DONE);
    cr_assert_eq(v.started_at, fx_time(DAY1, "08:02:00", 420));
    cr_assert_eq(v.finished_at, fx_time(DAY1, "08:07:00", 420));
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(rules_row(st.services, st.nservices, "ktp")->served, 1);
    cr_assert_eq(rules_row(st.services, st.nservices, "ktp")->service_mean_s, 300);
    cr_assert_eq(rules_row(st.counters, st.ncounters, "l01")->served, 1);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

Test(ticket, transfer_placement)
{
    for (int first = 0; first < 3; first++) {
        fx f;
        rules_open_base(&f);
        RUN(&f,
            "08:00:00 issue kk; 08:00:05 issue ktp; 08:00:10 issue kk; open l04; call l04 A001; "
            "start l04",
            "issued B001 | issued A001 | issued B002 | l04 open | called A001@l04 | "
            "serving A001@l04");
        const char *cmd = first == 1   ? "08:10:00 finish l04 transfer=kk placement=first"
                          : first == 2 ? "08:10:00 finish l04 transfer=kk placement=last"
                                       : "08:10:00 finish l04 transfer=kk";
        RUN(&f, cmd,
            first == 1 ? "transferred A001 ktp>kk first@l04" : "transferred A001 ktp>kk last@l04");
        eng_ticket_view v = rules_view(&f, "A001");
        cr_assert_eq(v.state, ENG_ST_WAITING);
        cr_assert_str_eq(v.service, "kk");
        cr_assert_str_eq(v.code, "A001", "a transfer keeps the code");
        cr_assert_str_eq(v.counter, "");
        /* l05 serves kk only */
        RUN(&f, "open l05", "l05 open");
        cr_assert_str_eq(rules_serve_n(&f, "l05", 3),
                         first == 1 ? "A001 B001 B002" : "B001 B002 A001");
        fx_check_replay(&f);
        fx_free(&f);
    }
}

Test(ticket, transfer_errors_and_priority)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp prio=disabled; issue kk; open l01; call l01; start l01",
        "issued A001* | issued B001 | l01 open | called A001@l01 | serving A001@l01");
    RUN(&f, "finish l01 transfer=sim", "!not_found");
    rules_msg_names(&f, "sim", NULL);
    RUN(&f, "finish l01 transfer=ktp", "!bad_request");
    rules_msg_names(&f, "A001", "ktp");
    RUN(&f, "finish l01 transfer=kk placement=middle", "!bad_request");
    rules_msg_names(&f, "placement", NULL);
    /* a priority ticket stays one after a transfer: placed last, still before B001 */
    RUN(&f, "finish l01 transfer=kk placement=last; open l05; call l05",
        "transferred A001 ktp>kk last@l01 | l05 open | called A001@l05");
    RUN(&f, "start l05; finish l05 transfer=nope", "serving A001@l05 | !not_found");
    RUN(&f, "finish l05; call l01", "done A001@l05 | called B001@l01");
    fx_check_replay(&f);
    fx_free(&f);
}

/* ---- no-show, reinstate, cancel, feedback ------------------------------------- */

Test(ticket, no_show_needs_min_recalls)
{
    static const struct {
        int min;
        const char *script, *want;
    } cases[] = {
        {-1, "call l01; noshow l01; recall l01; noshow l01",
         "called A001@l01 | !too_early | recalled A001@l01 x1 | no_show A001@l01"},
        {0, "call l01; noshow l01", "called A001@l01 | no_show A001@l01"},
        {2, "call l01; recall l01; noshow l01; recall l01; noshow l01",
         "called A001@l01 | recalled A001@l01 x1 | !too_early | recalled A001@l01 x2 | "
         "no_show A001@l01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx f;
        fx_hall p = rules_base_hall();
        p.min_recalls = cases[i].min;
        fx_init_p(&f, &p, fx_time(DAY1, "07:30:00", p.utc));
        RUN(&f, "08:00:00 issue ktp; open l01", "issued A001 | l01 open");
        const char *got = fx_run(&f, cases[i].script);
        cr_assert_str_eq(got, cases[i].want, "min_recalls %d", cases[i].min);
        cr_assert_eq(rules_view(&f, "A001").state, ENG_ST_NO_SHOW);
        /* the counter is free again */
        RUN(&f, "call l01", "!queue_empty");
        fx_check_replay(&f);
        fx_free(&f);
    }
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; open l01; noshow l01; call l01",
        "issued A001 | l01 open | "
        "!invalid_state | "
        "called A001@l01");
    RUN(&f, "noshow l01", "!too_early");
    rules_msg_names(&f, "A001", "0 times");
    RUN(&f, "start l01; recall l01; noshow l01",
        "serving A001@l01 | !invalid_state | !invalid_state");
    rules_msg_names(&f, "no-show", "serving");
    fx_free(&f);
}

Test(ticket, reinstate_within_window_goes_to_the_front)
{
    fx f;
    fx_hall p = rules_base_hall();
    p.reinstate_s = 600;
    fx_init_p(&f, &p, fx_time(DAY1, "07:30:00", p.utc));
    RUN(&f,
        "08:00:00 issue ktp; 08:00:01 issue ktp; 08:00:02 issue ktp; open l01; call l01; "
        "recall l01; 08:10:00 noshow l01",
        "issued A001 | issued A002 | issued A003 | l01 open | called A001@l01 | "
        "recalled A001@l01 x1 | no_show A001@l01");
    /* exactly reinstate_within_s later: still allowed; A001 goes before A002 */
    RUN(&f, "08:20:00 reinstate A001; call l01", "reinstated A001 | called A001@l01");
    cr_assert_eq(rules_view(&f, "A001").recalls, 0, "a new call starts a new recall count");
    RUN(&f, "recall l01; 08:21:00 noshow l01; 08:31:01 reinstate A001",
        "recalled A001@l01 x1 | no_show A001@l01 | !invalid_state");
    rules_msg_names(&f, "A001", "600");
    RUN(&f, "reinstate A002", "!invalid_state");
    rules_msg_names(&f, "A002", "waiting");
    RUN(&f, "reinstate unknown", "!not_found");
    eng_cmd c = {.type = ENG_CMD_REINSTATE};
    cr_assert_eq(fx_apply(&f, &c), ANT_EBADREQ);
    rules_msg_names(&f, "ticket", NULL);
    RUN(&f, "call l01", "called A002@l01");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(ticket, reinstated_ticket_keeps_its_age_across_services)
{
    fx f;
    rules_open_base(&f);
    /* l01 serves ktp and kk by longest wait; A001 came at 08:00, B001 at 08:05 */
    RUN(&f,
        "08:00:00 issue ktp; open l01; 08:01:00 call l01; recall l01; noshow l01; "
        "08:05:00 issue kk; issue ktp prio=elderly; 08:06:00 reinstate A001",
        "issued A001 | l01 open | called A001@l01 | recalled A001@l01 x1 | no_show A001@l01 | "
        "issued B001 | issued A002* | reinstated A001");
    /* front of its own lane: priority still first; then A001 by its original age */
    cr_assert_str_eq(rules_serve_n(&f, "l01", 3), "A002 A001 B001");
    fx_check_replay(&f);
    fx_free(&f);
}

Test(ticket, cancel_only_waiting)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; issue ktp; cancel A001; cancel A001",
        "issued A001 | issued A002 | cancelled A001 | !invalid_state");
    rules_msg_names(&f, "A001", "cancelled");
    RUN(&f, "open l01; call l01; cancel A002", "l01 open | called A002@l01 | !invalid_state");
    rules_msg_names(&f, "A002", "called");
    RUN(&f, "cancel unknown", "!not_found");
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    cr_assert_eq(rules_row(st.services, st.nservices, "ktp")->cancelled, 1);
    eng_day_stats_free(&st);
    fx_check_replay(&f);
    fx_free(&f);
}

/* SPEC §14: the nine SKM elements instead of a score: stored, replayed, exact in the stats. */
static int skm_feedback(fx *f, const char *code, const uint8_t el[ENG_SKM_N], int score)
{
    eng_cmd c = {.type = ENG_CMD_FEEDBACK, .has_ticket = true, .score = (uint8_t)score};
    memcpy(c.tid, fx_tid_of(f, code), ENG_TID_LEN);
    memcpy(c.elements, el, ENG_SKM_N);
    return fx_apply(f, &c);
}

Test(ticket, feedback_skm_elements)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 open l01; issue ktp; call l01; start l01; finish l01",
        "l01 open | issued A001 | called A001@l01 | serving A001@l01 | done A001@l01");
    const uint8_t bad[ENG_SKM_N] = {4, 4, 4, 4, 5, 4, 4, 4, 4};
    cr_assert_eq(skm_feedback(&f, "A001", bad, 0), ANT_EBADREQ);
    rules_msg_names(&f, "elements[4]", NULL);
    const uint8_t el[ENG_SKM_N] = {4, 3, 3, 4, 4, 3, 4, 4, 2}; /* sum 31, mean 3.444 */
    cr_assert_eq(skm_feedback(&f, "A001", el, 3), ANT_EBADREQ, "score and elements together");
    cr_assert_eq(skm_feedback(&f, "A001", el, 0), 0);
    cr_assert_eq(f.ev.n, 1);
    cr_assert_eq(f.ev.ev[0].score, 3, "score is the rounded mean");
    cr_assert_eq(memcmp(f.ev.ev[0].elements, el, ENG_SKM_N), 0);
    {
        codec_buf b;
        codec_buf_init(&b);
        cr_assert_eq(codec_event_json(&f.ev.ev[0], CODEC_PUBLIC, &b), 0);
        cr_assert(!memmem(b.data, b.len, "elements", 8), "public form: %.*s", (int)b.len, b.data);
        codec_buf_reset(&b);
        cr_assert_eq(codec_event_json(&f.ev.ev[0], CODEC_FULL, &b), 0);
        cr_assert(memmem(b.data, b.len, "\"elements\":[4,3,3,4,4,3,4,4,2]", 30), "%.*s", (int)b.len,
                  b.data);
        /* the stored form decodes back to the same answers */
        codec_buf_reset(&b);
        cr_assert_eq(codec_event_msgpack(&f.ev.ev[0], CODEC_FULL, &b), 0);
        eng_evbuf arena;
        eng_evbuf_init(&arena);
        eng_event back;
        char msg[200];
        cr_assert_eq(codec_event_decode(b.data, b.len, &back, &arena, msg), 0, "%s", msg);
        cr_assert_eq(memcmp(back.elements, el, ENG_SKM_N), 0);
        eng_evbuf_free(&arena);
        codec_buf_free(&b);
    }
    cr_assert_eq(skm_feedback(&f, "A001", el, 0), ANT_ESTATE, "once");
    RUN(&f, "issue ktp; call l01; start l01; finish l01; feedback A002 score=4",
        "issued A002 | called A002@l01 | serving A002@l01 | done A002@l01 | feedback A002 4");
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    const eng_stat_row *r = rules_row(st.services, st.nservices, "ktp");
    cr_assert_eq(r->skm_count, 2);
    /* (31/9 + 4) / 2, the survey with its exact mean */
    cr_assert_float_eq(r->skm_score, (31.0 / 9 + 4) / 2, 1e-9);
    eng_day_stats_free(&st);
    fx_check_replay(&f); /* log replay and snapshot round trip give the same state */
    fx_free(&f);
}

Test(ticket, feedback_once_after_done)
{
    fx f;
    rules_open_base(&f);
    RUN(&f, "08:00:00 issue ktp; feedback A001 score=4", "issued A001 | !invalid_state");
    rules_msg_names(&f, "A001", "waiting");
    RUN(&f, "open l01; call l01; feedback A001 score=4; start l01; feedback A001 score=4",
        "l01 open | called A001@l01 | !invalid_state | serving A001@l01 | !invalid_state");
    RUN(&f, "finish l01; feedback A001 score=0; feedback A001 score=5",
        "done A001@l01 | !bad_request | !bad_request");
    rules_msg_names(&f, "score", NULL);
    RUN(&f, "feedback A001 score=4 comment=ramah", "feedback A001 4");
    cr_assert(eng_ev_public(ENG_EV_TICKET_FEEDBACK), "feedback keeps the public seq gapless");
    {
        codec_buf pub;
        codec_buf_init(&pub);
        cr_assert_eq(codec_event_json(&f.ev.ev[0], CODEC_PUBLIC, &pub), 0);
        cr_assert(!memmem(pub.data, pub.len, "ramah", 5) && !memmem(pub.data, pub.len, "score", 5),
                  "public feedback carries the rating: %.*s", (int)pub.len, pub.data);
        codec_buf_free(&pub);
    }
    cr_assert_str_eq(f.ev.ev[0].comment, "ramah");
    RUN(&f, "feedback A001 score=3", "!invalid_state");
    rules_msg_names(&f, "A001", "rated");
    cr_assert_eq(rules_view(&f, "A001").score, 4);
    char long_comment[ENG_COMMENT_MAX + 2];
    memset(long_comment, 'x', sizeof long_comment - 1);
    long_comment[sizeof long_comment - 1] = '\0';
    RUN(&f, "issue ktp; call l01; start l01; finish l01",
        "issued A002 | called A002@l01 | "
        "serving A002@l01 | done A002@l01");
    cr_assert_eq(fx_feedback(&f, fx_tid_of(&f, "A002"), 2, long_comment), ANT_EBADREQ);
    rules_msg_names(&f, "comment", NULL);
    cr_assert_eq(fx_feedback(&f, fx_tid_of(&f, "A002"), 2, NULL), 0);
    eng_day_stats st;
    cr_assert_eq(eng_stats_today(f.h, &st), 0);
    const eng_stat_row *r = rules_row(st.services, st.nservices, "ktp");
    cr_assert_eq(r->skm_count, 2);
    cr_assert_float_eq(r->skm_score, 3.0, 1e-9);
    cr_assert_float_eq(r->skm_index, 75.0, 1e-9);
    cr_assert_eq(rules_row(st.counters, st.ncounters, "l01")->skm_count, 2);
    eng_day_stats_free(&st);
    /* a no-show is not rated */
    RUN(&f, "issue ktp; call l01; recall l01; noshow l01; feedback A003 score=4",
        "issued A003 | called A003@l01 | recalled A003@l01 x1 | no_show A003@l01 | "
        "!invalid_state");
    fx_check_replay(&f);
    fx_free(&f);
}
