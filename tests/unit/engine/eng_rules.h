/*
 * eng_rules.h — what the rule tests (test_rules.c, test_rules_hall.c) share:
 * the halls they run, a script assertion, and small lookups.
 */
#ifndef ENG_RULES_H
#define ENG_RULES_H

#include "eng_fixture.h"

#define DAY1 "2026-03-02" /* a Monday */

#define RUN(f, script, expect)                                                                     \
    do {                                                                                           \
        const char *got_ = fx_run((f), (script));                                                  \
        cr_assert_str_eq(got_, (expect), "script: %s\n  got: %s\n want: %s", (script), got_,       \
                         (expect));                                                                \
    } while (0)

/* Four services of three agencies, five counters; see eng_rules.c. */
fx_hall rules_base_hall(void);
/* One service (ktp), counters c1 and c2, open around the clock. */
fx_hall rules_one_service(int max_consec);
/* fx_init with rules_base_hall at DAY1 07:30 local. */
void rules_open_base(fx *f);
/* The last command's message names w1 (and w2 unless NULL); fails the test otherwise. */
void rules_msg_names(fx *f, const char *w1, const char *w2);
/* The view of the latest ticket with this code (must exist). */
eng_ticket_view rules_view(fx *f, const char *code);
/* The stats row with this id (must exist). */
const eng_stat_row *rules_row(const eng_stat_row *rows, int n, const char *id);
/* Call, start and finish n times at ctr; the called codes, space-separated (static buffer). */
const char *rules_serve_n(fx *f, const char *ctr, int n);

#endif
