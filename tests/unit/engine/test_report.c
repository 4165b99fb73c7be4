/*
 * test_report.c — day records and reports over date ranges (SPEC §14):
 * what a closed day's record carries, adding days up by each grouping,
 * exact percentiles, the IKM per element and its grade bands, and that a
 * malformed record is refused without a crash.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "codec.h"
#include "eng_rules.h"
#include "report.h"

static int feedback_el(fx *f, const char *code, const uint8_t el[ENG_SKM_N])
{
    eng_cmd c = {.type = ENG_CMD_FEEDBACK, .has_ticket = true};
    memcpy(c.tid, fx_tid_of(f, code), ENG_TID_LEN);
    memcpy(c.elements, el, ENG_SKM_N);
    return fx_apply(f, &c);
}

static const eng_report_row *row(const eng_report_row *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    cr_assert_fail("no row '%s'", key);
    return NULL;
}

/* Day 1: A001 waits 60 s and is served 120 s with a survey, A002 waits 300 s
 * and is rated 2, A003 is cancelled, B001 expires at the rollover. Day 2:
 * A001 waits (today, still open). */
static void two_days(fx *f, codec_buf *day1, codec_buf *day2)
{
    rules_open_base(f);
    fx_run(f, "08:00:00 open l01; issue ktp; issue ktp; issue ktp; issue kk");
    fx_run(f, "08:01:00 call l01; start l01");
    fx_run(f, "08:03:00 finish l01; cancel A003");
    const uint8_t el[ENG_SKM_N] = {4, 4, 4, 3, 3, 3, 2, 2, 1}; /* sum 26 */
    cr_assert_eq(feedback_el(f, "A001", el), 0);
    fx_run(f, "08:05:00 call l01; start l01; finish l01; feedback A002 score=2");
    const void *rec;
    size_t len;
    cr_assert_eq(eng_dayrec_last_closed(f->h, &rec, &len), ANT_ENOTFOUND);
    fx_run(f, "2026-03-03T08:00:00 issue ktp");
    cr_assert_eq(eng_dayrec_last_closed(f->h, &rec, &len), 0);
    int32_t d;
    cr_assert_eq(eng_dayrec_day(rec, len, &d), 0);
    char ds[16];
    eng_format_date(d, ds);
    cr_assert_str_eq(ds, DAY1);
    codec_buf_append(day1, rec, len);
    cr_assert_eq(eng_dayrec_today(f->h, day2), 0);
}

Test(report, by_service_and_totals)
{
    fx f;
    codec_buf d1, d2;
    codec_buf_init(&d1);
    codec_buf_init(&d2);
    two_days(&f, &d1, &d2);
    eng_report *r = eng_report_new(ENG_BY_SERVICE);
    char msg[200];
    cr_assert_eq(eng_report_add(r, d1.data, d1.len, msg), 0, "%s", msg);
    cr_assert_eq(eng_report_add(r, d2.data, d2.len, msg), 0, "%s", msg);
    const eng_report_row *rows;
    size_t n;
    eng_report_row tot;
    cr_assert_eq(eng_report_rows(r, &rows, &n, &tot), 0);
    const eng_report_row *ktp = row(rows, n, "ktp"), *kk = row(rows, n, "kk");
    cr_assert_eq(ktp->issued, 4);
    cr_assert_eq(ktp->served, 2);
    cr_assert_eq(ktp->cancelled, 1);
    cr_assert_eq(ktp->called, 2);
    cr_assert_eq(ktp->wait_p50_s, 60);
    cr_assert_eq(ktp->wait_p90_s, 300);
    cr_assert_eq(ktp->service_p50_s, 0, "A002 served in 0 s is the lower half");
    cr_assert_float_eq(ktp->within_sla, 1.0, 1e-9);
    cr_assert_eq(ktp->skm_count, 2);
    cr_assert_eq(ktp->skm_el_count, 1);
    /* overall: (26/9 + 2) / 2 × 25 */
    cr_assert_float_eq(ktp->ikm, (26.0 / 9 + 2) / 2 * 25, 1e-9);
    cr_assert_float_eq(ktp->ikm_el[0], 100, 1e-9);
    cr_assert_float_eq(ktp->ikm_el[8], 25, 1e-9);
    cr_assert_eq(ktp->grade, 'D');
    cr_assert_eq(kk->issued, 1);
    cr_assert_eq(kk->expired, 1);
    cr_assert_eq(kk->skm_count, 0);
    cr_assert_eq(kk->grade, 0);
    cr_assert_eq(tot.issued, 5);
    cr_assert_eq(tot.served, 2);
    cr_assert_eq(tot.expired, 1);
    eng_report_free(r);

    /* the same tickets by day, by hour, by counter, by agency */
    static const int bys[] = {ENG_BY_DAY, ENG_BY_HOUR, ENG_BY_COUNTER, ENG_BY_AGENCY};
    for (int b = 0; b < 4; b++) {
        r = eng_report_new(bys[b]);
        cr_assert_eq(eng_report_add(r, d1.data, d1.len, msg), 0);
        cr_assert_eq(eng_report_add(r, d2.data, d2.len, msg), 0);
        cr_assert_eq(eng_report_rows(r, &rows, &n, &tot), 0);
        cr_assert_eq(tot.issued, 5);
        uint32_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += rows[i].issued;
        cr_assert_eq(sum, 5, "rows add up to the total (by %d)", bys[b]);
        if (bys[b] == ENG_BY_DAY) {
            cr_assert_eq(n, 2);
            cr_assert_str_eq(rows[0].key, DAY1);
            cr_assert_eq(row(rows, n, "2026-03-03")->issued, 1);
        } else if (bys[b] == ENG_BY_HOUR) {
            cr_assert_eq(row(rows, n, "08")->issued, 5);
        } else if (bys[b] == ENG_BY_COUNTER) {
            cr_assert_eq(row(rows, n, "l01")->served, 2);
            cr_assert_eq(row(rows, n, "-")->issued, 3, "never called: no counter");
        } else {
            cr_assert_eq(row(rows, n, "dukcapil")->issued, 5);
        }
        eng_report_free(r);
    }
    codec_buf_free(&d1);
    codec_buf_free(&d2);
    fx_free(&f);
}

Test(report, malformed_records_are_refused)
{
    fx f;
    codec_buf d1, d2;
    codec_buf_init(&d1);
    codec_buf_init(&d2);
    two_days(&f, &d1, &d2);
    eng_report *r = eng_report_new(ENG_BY_COUNTER);
    char msg[200];
    /* every truncation, and every single-byte corruption of the header and tables */
    for (size_t cut = 0; cut < d1.len; cut++)
        cr_assert_eq(eng_report_add(r, d1.data, cut, msg), ANT_EBADREQ, "cut at %zu", cut);
    for (size_t i = 0; i < d1.len; i++) {
        char save = d1.data[i];
        d1.data[i] = (char)0xff;
        int rc = eng_report_add(r, d1.data, d1.len, msg);
        cr_assert(rc == 0 || rc == ANT_EBADREQ, "byte %zu: %d", i, rc);
        d1.data[i] = save;
    }
    const eng_report_row *rows;
    size_t n;
    eng_report_row tot;
    cr_assert_eq(eng_report_rows(r, &rows, &n, &tot), 0);
    eng_report_free(r);
    codec_buf_free(&d1);
    codec_buf_free(&d2);
    fx_free(&f);
}

Test(report, grade_bands)
{
    cr_assert_eq(eng_ikm_grade(100), 'A');
    cr_assert_eq(eng_ikm_grade(88.31), 'A');
    cr_assert_eq(eng_ikm_grade(88.30), 'B');
    cr_assert_eq(eng_ikm_grade(76.61), 'B');
    cr_assert_eq(eng_ikm_grade(76.60), 'C');
    cr_assert_eq(eng_ikm_grade(65.00), 'C');
    cr_assert_eq(eng_ikm_grade(64.99), 'D');
    cr_assert_eq(eng_ikm_grade(25), 'D');
    cr_assert_eq(eng_report_by_from_name("agency"), ENG_BY_AGENCY);
    cr_assert_eq(eng_report_by_from_name("week"), -1);
}
