/*
 * eng_rules.c — see eng_rules.h.
 */
#include "eng_rules.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/*
 * Four services of three agencies, four counters. Open 08:00-16:00, tickets
 * until 15:00, Monday to Saturday, closed on 2026-03-19 (Nyepi). paspor has a
 * daily quota of 3.
 */
fx_hall rules_base_hall(void)
{
    fx_hall p = {
        .id = "mpp-t",
        .utc = 420,
        .open = "08:00",
        .close = "16:00",
        .until = "15:00",
        .weekdays = "[1,2,3,4,5,6]",
        .closed_dates = "[\"2026-03-19\"]",
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0},
                {"kk", "dukcapil", "B", 420, 2400, 0},
                {"paspor", "imigrasi", "P", 600, 3600, 3},
                {"skck", "polri", "C", 240, 1800, 0}},
        .ctr = {{"l01", "Loket 1", "ktp,kk", NULL},
                {"l02", "Loket 2", "kk,ktp", "in_order"},
                {"l03", "Loket 3", "paspor", NULL},
                {"l04", "Loket 4", "ktp,kk,paspor,skck", NULL},
                {"l05", "Loket 5", "kk", NULL}},
        .max_consec = 2,
        .min_recalls = -1,
        .reinstate_s = -1,
    };
    return p;
}

/* One service, two counters, open around the clock. */
fx_hall rules_one_service(int max_consec)
{
    fx_hall p = {
        .id = "mpp-one",
        .utc = 420,
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0}},
        .ctr = {{"c1", "Loket 1", "ktp", NULL}, {"c2", "Loket 2", "ktp", NULL}},
        .max_consec = max_consec,
        .min_recalls = -1,
        .reinstate_s = -1,
    };
    return p;
}

void rules_open_base(fx *f)
{
    fx_hall p = rules_base_hall();
    fx_init_p(f, &p, fx_time(DAY1, "07:30:00", p.utc));
}

/* The last command failed with `code` and its message names every given word. */
void rules_msg_names(fx *f, const char *w1, const char *w2)
{
    cr_assert(fx_has(f->res.msg, w1), "message '%s' does not name '%s'", f->res.msg, w1);
    if (w2)
        cr_assert(fx_has(f->res.msg, w2), "message '%s' does not name '%s'", f->res.msg, w2);
}

eng_ticket_view rules_view(fx *f, const char *code)
{
    eng_ticket_view v;
    cr_assert_eq(eng_ticket_get(f->h, fx_tid_of(f, code), f->now, &v), 0, "%s not found", code);
    return v;
}

const eng_stat_row *rules_row(const eng_stat_row *rows, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    cr_assert_fail("no stats row %s", id);
    return NULL;
}

/* Call, start, finish n times at counter ctr; returns the called codes, space-separated. */
const char *rules_serve_n(fx *f, const char *ctr, int n)
{
    static char out[512];
    char cmd[64];
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(cmd, sizeof cmd, "call %s", ctr);
        codec_buf b;
        codec_buf_init(&b);
        int rc = fx_exec(f, cmd, false, &b);
        codec_buf_free(&b);
        cr_assert_eq(rc, 0, "call %d at %s: %s", i, ctr, f->res.msg);
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "", f->res.ticket.code);
        cr_assert_eq(fx_ctr_cmd(f, ENG_CMD_START, ctr), 0);
        cr_assert_eq(fx_finish(f, ctr, NULL, 0), 0);
    }
    return out;
}
