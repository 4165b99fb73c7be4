/*
 * routes_report.c — GET /v1/halls/{hall}/report (SPEC §14), manager+.
 *
 * ?from=YYYY-MM-DD&to=YYYY-MM-DD&by=service|agency|counter|day|hour
 * [&format=csv]: rows of issued, served, no_show, cancelled, expired,
 * appointments, wait p50/p90, service time p50, share within SLA, and the
 * SKM index (IKM) per element and overall with its grade. Computed from the
 * stored day records of closed days (storage days.c) plus today's, built
 * from the live hall at the request; the adding up is engine/report.c. No
 * citizen data is in a day record, so none can reach a report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "route.h"

/* The longest range a report takes: two years, so one request stays well under a second. */
#define REPORT_MAX_DAYS 731

static const char *const by_names[] = {"service", "agency", "counter", "day", "hour"};
/* SPEC §14 order of the nine SKM elements, as CSV column names */
static const char *const el_names[ENG_SKM_N] = {"requirements", "procedure",  "time",
                                                "cost",         "product",    "competence",
                                                "conduct",      "facilities", "complaints"};

static int add_day(void *arg, int32_t day, const void *rec, size_t len)
{
    (void)day;
    char msg[200];
    int rc = eng_report_add(arg, rec, len, msg);
    if (rc == ANT_EBADREQ) {
        /* a record this build cannot read is skipped, not fatal to the report */
        log_line("warn", "day record skipped", "day=%d reason=\"%s\"", (int)day, msg);
        return 0;
    }
    return rc;
}

static double round2(double x)
{
    return (double)(long long)(x * 100 + (x >= 0 ? 0.5 : -0.5)) / 100;
}

static void write_row(jo *w, const char *by, const eng_report_row *x)
{
    jo_obj(w);
    jo_kstr(w, by, x->key);
    jo_kuint(w, "issued", x->issued);
    jo_kuint(w, "served", x->served);
    jo_kuint(w, "no_show", x->no_show);
    jo_kuint(w, "cancelled", x->cancelled);
    jo_kuint(w, "expired", x->expired);
    jo_kuint(w, "appointments", x->appointments);
    jo_kuint(w, "called", x->called);
    jo_kuint(w, "wait_p50_s", x->wait_p50_s);
    jo_kuint(w, "wait_p90_s", x->wait_p90_s);
    jo_kuint(w, "service_p50_s", x->service_p50_s);
    jo_key(w, "within_sla");
    jo_double(w, round2(x->within_sla * 100) / 100);
    jo_kuint(w, "skm_count", x->skm_count);
    jo_kuint(w, "skm_elements_count", x->skm_el_count);
    jo_key(w, "ikm");
    x->skm_count ? jo_double(w, round2(x->ikm)) : jo_null(w);
    jo_key(w, "grade");
    if (x->grade) {
        char g[2] = {x->grade, 0};
        jo_str(w, g);
    } else {
        jo_null(w);
    }
    jo_key(w, "ikm_elements");
    if (x->skm_el_count) {
        jo_arr(w);
        for (int k = 0; k < ENG_SKM_N; k++)
            jo_double(w, round2(x->ikm_el[k]));
        jo_arr_end(w);
    } else {
        jo_null(w);
    }
    jo_obj_end(w);
}

static void csv_row(codec_buf *b, const eng_report_row *x)
{
    char line[640];
    int n = snprintf(line, sizeof line, "%s,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%.4f,%u,%u,", x->key,
                     x->issued, x->served, x->no_show, x->cancelled, x->expired, x->appointments,
                     x->called, x->wait_p50_s, x->wait_p90_s, x->service_p50_s, x->within_sla,
                     x->skm_count, x->skm_el_count);
    codec_buf_append(b, line, (size_t)n);
    if (x->skm_count)
        n = snprintf(line, sizeof line, "%.2f,%c", round2(x->ikm), x->grade);
    else
        n = snprintf(line, sizeof line, ",");
    codec_buf_append(b, line, (size_t)n);
    for (int k = 0; k < ENG_SKM_N; k++) {
        n = x->skm_el_count ? snprintf(line, sizeof line, ",%.2f", round2(x->ikm_el[k]))
                            : snprintf(line, sizeof line, ",");
        codec_buf_append(b, line, (size_t)n);
    }
    codec_buf_append(b, "\r\n", 2);
}

static bool date_param(route_req *r, const char *name, int32_t *day)
{
    char v[16];
    if (!route_query(r, name, v, sizeof v)) {
        char m[80];
        snprintf(m, sizeof m, "%s: required, YYYY-MM-DD", name);
        route_error(r, ANT_EBADREQ, m);
        return false;
    }
    if (eng_parse_date(v, day) != 0) {
        char m[80];
        snprintf(m, sizeof m, "%s: expected YYYY-MM-DD", name);
        route_error(r, ANT_EBADREQ, m);
        return false;
    }
    return true;
}

void route_report(route_req *r, srv_hall *h)
{
    srv *s = r->c->s;
    auth_token *tok;
    if (route_auth(r, PERM_STATS, h->id, &tok) != 0)
        return;
    int32_t from, to;
    if (!date_param(r, "from", &from) || !date_param(r, "to", &to))
        return;
    if (from > to) {
        route_error(r, ANT_EBADREQ, "from: must not be after to");
        return;
    }
    if (to - from >= REPORT_MAX_DAYS) {
        route_error(r, ANT_EBADREQ, "to: a report covers at most 731 days");
        return;
    }
    char bys[16] = "service", fmt[8] = "json";
    route_query(r, "by", bys, sizeof bys);
    int by = eng_report_by_from_name(bys);
    if (by < 0) {
        route_error(r, ANT_EBADREQ, "by: expected service, agency, counter, day or hour");
        return;
    }
    if (route_query(r, "format", fmt, sizeof fmt) && strcmp(fmt, "csv") != 0 &&
        strcmp(fmt, "json") != 0) {
        route_error(r, ANT_EBADREQ, "format: expected json or csv");
        return;
    }
    eng_report *rep = eng_report_new(by);
    if (!rep) {
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    int32_t today = eng_hall_day(h->h);
    int rc = 0;
    if (from < today)
        rc = stor_get_dayrecs(s->st, h->id, from, to < today ? to : today - 1, add_day, rep);
    if (rc == 0 && from <= today && today <= to) {
        codec_buf *b = &s->scratch2;
        codec_buf_reset(b);
        rc = eng_dayrec_today(h->h, b);
        if (rc == 0)
            rc = add_day(rep, today, b->data, b->len);
    }
    const eng_report_row *rows = NULL;
    size_t n = 0;
    eng_report_row total;
    if (rc == 0)
        rc = eng_report_rows(rep, &rows, &n, &total);
    if (rc != 0) {
        eng_report_free(rep);
        route_error(r, rc, rc == ANT_ENOMEM ? "out of memory" : "could not read the stored days");
        return;
    }
    char fd[16], td[16];
    eng_format_date(from, fd);
    eng_format_date(to, td);
    if (strcmp(fmt, "csv") == 0) {
        codec_buf *b = &s->scratch2;
        codec_buf_reset(b);
        codec_buf_append(b, bys, strlen(bys));
        static const char hdr[] = ",issued,served,no_show,cancelled,expired,appointments,called,"
                                  "wait_p50_s,wait_p90_s,service_p50_s,within_sla,skm_count,"
                                  "skm_elements_count,ikm,grade";
        codec_buf_append(b, hdr, sizeof hdr - 1);
        for (int k = 0; k < ENG_SKM_N; k++) {
            codec_buf_append(b, ",ikm_", 5);
            codec_buf_append(b, el_names[k], strlen(el_names[k]));
        }
        codec_buf_append(b, "\r\n", 2);
        for (size_t i = 0; i < n; i++)
            csv_row(b, &rows[i]);
        csv_row(b, &total);
        char extra[160];
        snprintf(extra, sizeof extra,
                 "Content-Disposition: attachment; filename=\"report-%s-%s-%s-%s.csv\"\r\n", h->id,
                 fd, td, bys);
        eng_report_free(rep);
        route_reply_extra(r, 200, "text/csv; charset=utf-8", extra, b->data, b->len);
        return;
    }
    jo *w = route_begin(r);
    jo_obj(w);
    jo_kstr(w, "hall", h->id);
    jo_kstr(w, "from", fd);
    jo_kstr(w, "to", td);
    jo_kstr(w, "by", by_names[by]);
    jo_key(w, "rows");
    jo_arr(w);
    for (size_t i = 0; i < n; i++)
        write_row(w, by_names[by], &rows[i]);
    jo_arr_end(w);
    jo_key(w, "total");
    write_row(w, by_names[by], &total);
    jo_obj_end(w);
    eng_report_free(rep);
    route_end(r, 200);
}
