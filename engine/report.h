/*
 * report.h — reports over date ranges (SPEC §14): day records and their
 * aggregation.
 *
 * A day record is one compact, self-describing blob per hall-local day: the
 * day's service, agency and counter ids and one fixed 20-byte record per
 * ticket (service, counter, issue hour, final state, flags, SKM answers,
 * wait and service seconds). The closed day's record is built at
 * day.rollover (kept in the hall until the next one) and stored by net/
 * beside the day's stats; today's is built on request. A report adds up
 * any number of day records into rows grouped by service, agency, counter,
 * day or hour. Wait and service-time percentiles come from per-group
 * histograms built from the per-ticket seconds, so they are exact over any
 * range: to the second below one hour, to 10 s up to four hours, to the
 * minute up to a day. Pure: no I/O, no clock. Citizen data never enters a
 * day record (no ids, no codes, no comments).
 */
#ifndef ENGINE_REPORT_H
#define ENGINE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "engine.h"

enum eng_report_by {
    ENG_BY_SERVICE = 0,
    ENG_BY_AGENCY,
    ENG_BY_COUNTER,
    ENG_BY_DAY,
    ENG_BY_HOUR,
};
/* "service" … "hour" → enum, -1 when unknown. */
int eng_report_by_from_name(const char *s);

/* Append today's day record (so far) to out. 0 or ANT_ENOMEM. */
int eng_dayrec_today(const eng_hall *h, codec_buf *out);
/*
 * The record of the day closed by the last day.rollover, borrowed from the
 * hall (valid until the next rollover or eng_hall_free); ANT_ENOTFOUND when
 * no day was closed since the hall was loaded.
 */
int eng_dayrec_last_closed(const eng_hall *h, const void **rec, size_t *len);
/* The day a record is about (days since 1970-01-01); ANT_EBADREQ when malformed. */
int eng_dayrec_day(const void *rec, size_t len, int32_t *day);

typedef struct eng_report_row {
    char key[ENG_ID_MAX + 1]; /* service/agency/counter id, YYYY-MM-DD, or "08" for 08:00–09:00 */
    uint32_t issued, served, no_show, cancelled, expired, appointments;
    uint32_t called;                 /* tickets called at least once */
    uint32_t wait_p50_s, wait_p90_s; /* of called tickets; 0 when none */
    uint32_t service_p50_s;          /* of served tickets with a known service time */
    double within_sla;               /* share of called tickets called within sla_wait_s */
    uint32_t skm_count;              /* ratings: single scores and surveys */
    uint32_t skm_el_count;           /* ratings with the nine elements */
    double ikm;                      /* overall index: mean × 25, 0 when no rating */
    double ikm_el[ENG_SKM_N];        /* per element, surveys only */
    char grade;                      /* 'A'…'D', or 0 when no rating */
} eng_report_row;

typedef struct eng_report eng_report;

/* A new, empty report grouped by `by`; NULL on ENOMEM. Free with eng_report_free. */
eng_report *eng_report_new(int by);
void eng_report_free(eng_report *r);
/* Add a day record (not kept). ANT_EBADREQ (msg says why) for a malformed one, ANT_ENOMEM. */
int eng_report_add(eng_report *r, const void *rec, size_t len, char msg[200]);
/*
 * The rows, in key order (services, agencies and counters in the order first
 * seen, days and hours ascending), and the total over everything in *total.
 * *rows is owned by the report and valid until the next add or free.
 */
int eng_report_rows(eng_report *r, const eng_report_row **rows, size_t *n, eng_report_row *total);
/* The SKM grade of an index (SPEC §14): 'A' 88.31–100, 'B' 76.61–88.30, 'C' 65–76.60, else 'D'. */
char eng_ikm_grade(double ikm);

#endif
