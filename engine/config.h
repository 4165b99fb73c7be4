/*
 * config.h — a hall's configuration (SPEC §2): parse, validate, free.
 *
 * Parsing never stops at the first problem: every problem is listed with its
 * field path ("services[3].agency: unknown agency 'imigrasi'"). A config that
 * has any problem is rejected whole. This module does no I/O.
 */
#ifndef ENG_CONFIG_H
#define ENG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENG_ID_MAX 32    /* ids match [a-z0-9][a-z0-9-]{0,31} */
#define ENG_NAME_MAX 128 /* display names and labels, bytes of UTF-8 */
#define ENG_MAX_AGENCIES 64
#define ENG_MAX_SERVICES 128
#define ENG_MAX_COUNTERS 256
#define ENG_MAX_CLOSED_DATES 366
#define ENG_MAX_BREAKS 4 /* planned breaks per counter */
#define ENG_NONE 0xFFFF  /* "no index" for uint16_t service/counter references */

enum eng_policy { ENG_POLICY_LONGEST_WAIT = 0, ENG_POLICY_IN_ORDER = 1 };

typedef struct eng_agency_cfg {
    char id[ENG_ID_MAX + 1];
    char name[ENG_NAME_MAX + 1];
} eng_agency_cfg;

typedef struct eng_service_cfg {
    char id[ENG_ID_MAX + 1];
    char name[ENG_NAME_MAX + 1];
    char prefix[3];  /* 1–2 upper-case letters, NUL-terminated */
    uint16_t agency; /* index into eng_config.agencies */
    uint32_t est_service_s;
    uint32_t sla_wait_s;
    uint32_t daily_quota; /* 0 = unlimited */
    /* "appointments" (SPEC §11); slot_min 0 = the service takes no bookings */
    struct eng_appt_cfg {
        uint16_t slot_min, per_slot, days_ahead, early_min, late_min;
    } appt;
} eng_service_cfg;

typedef struct eng_counter_cfg {
    char id[ENG_ID_MAX + 1];
    char label[ENG_NAME_MAX + 1];
    uint16_t nservices;
    uint16_t services[ENG_MAX_SERVICES]; /* indices into eng_config.services, in listed order */
    uint8_t policy;                      /* enum eng_policy */
    /* planned breaks, hall-local minutes [from, to) every open day, sorted and
     * disjoint (SPEC §10): the estimator counts the counter as serving nobody */
    uint8_t nbreaks;
    struct eng_break {
        uint16_t from_min, to_min;
    } breaks[ENG_MAX_BREAKS];
} eng_counter_cfg;

typedef struct eng_config {
    char id[ENG_ID_MAX + 1];
    char name[ENG_NAME_MAX + 1];
    int32_t utc_offset_min; /* -720 … 840 */
    /* hours, minutes after hall-local midnight; close may be 1440 ("24:00") */
    uint16_t open_min, close_min, issue_until_min;
    uint8_t weekdays; /* bit (d-1) set for weekday d, 1 = Monday … 7 = Sunday */
    uint16_t nclosed;
    int32_t closed_days[ENG_MAX_CLOSED_DATES]; /* days since 1970-01-01, sorted */
    uint16_t nagencies, nservices, ncounters;
    eng_agency_cfg *agencies;      /* owned, nagencies items */
    eng_service_cfg *services;     /* owned, nservices items */
    eng_counter_cfg *counters;     /* owned, ncounters items */
    uint32_t prio_max_consecutive; /* priority.max_consecutive, default 2 */
    uint32_t min_recalls;          /* no_show.min_recalls, default 1 */
    uint32_t reinstate_within_s;   /* no_show.reinstate_within_s, default 1800 */
    bool self_service;
    char *json; /* owned: canonical JSON text of the whole config (compact, sorted keys) */
    size_t json_len;
} eng_config;

/* Problems found while validating; each a "path: reason" line. */
#define ENG_PROBLEMS_MAX 64
typedef struct eng_problems {
    int count; /* may exceed ENG_PROBLEMS_MAX; only the first ENG_PROBLEMS_MAX are kept */
    char msg[ENG_PROBLEMS_MAX][160];
} eng_problems;

/*
 * Parse and validate a hall config from JSON text (len bytes, need not be
 * NUL-terminated). On success returns 0 and *out is a new config the caller
 * owns (free with eng_config_free). On failure returns ANT_EBADREQ, *out is
 * NULL and probs (caller-owned, may be NULL) lists every problem.
 */
int eng_config_parse(const char *json, size_t len, eng_config **out, eng_problems *probs);

/* Free a config from eng_config_parse or eng_config_dup. NULL is fine. */
void eng_config_free(eng_config *cfg);

/* Deep copy; returns NULL on allocation failure. Caller owns the copy. */
eng_config *eng_config_dup(const eng_config *cfg);

/* Index of the service / counter / agency with this id, or -1. */
int eng_config_service(const eng_config *cfg, const char *id);
int eng_config_counter(const eng_config *cfg, const char *id);
int eng_config_agency(const eng_config *cfg, const char *id);

/*
 * Public form of the config (for GET /v1/halls/{hall}): a new NUL-terminated
 * JSON string the caller frees with free(). Has everything a board, kiosk or
 * citizen needs (id, name, utc_offset_min, hours, agencies, services with
 * prefix and est/sla, counters with label and services, self_service).
 */
char *eng_config_public_json(const eng_config *cfg);

/* Days since 1970-01-01 from "YYYY-MM-DD"; returns 0 and sets *day, or ANT_EBADREQ. */
int eng_parse_date(const char *s, int32_t *day);
/* Format a day number as "YYYY-MM-DD" into buf (at least 11 bytes). */
void eng_format_date(int32_t day, char *buf);

#endif
