/*
 * hall_priv.h — the engine's private state layout, shared by the engine's
 * own files (hall.c, apply.c, calling.c, eta.c, stats.c, snapshot.c) and by
 * nobody else. Everything outside engine/ goes through engine.h.
 */
#ifndef ENG_HALL_PRIV_H
#define ENG_HALL_PRIV_H

#include "engine.h"

enum { LANE_NORMAL = 0, LANE_PRIO = 1 };

struct eng_ticket {
    uint8_t tid[ENG_TID_LEN];
    uint8_t secret[ENG_SECRET_LEN];
    struct eng_ticket *hnext;       /* id hash chain */
    struct eng_ticket *prev, *next; /* lane links while waiting */
    uint64_t order;                 /* hall-wide enqueue counter: ties go to the earlier */
    /* finished_at: done, cancelled, or marked no-show */
    int64_t issued_at, enqueued_at, rank_at, called_at, started_at, finished_at;
    uint32_t number;
    uint32_t idx;             /* position in hall->all */
    char code[8];             /* fixed at issue: a transfer keeps it */
    uint32_t position, eta_s; /* last estimate (eta.c) */
    uint16_t service;         /* index into hall->svc */
    uint16_t counter;         /* index into hall->ctr, ENG_NONE when none */
    uint8_t state, prio, channel, recalls, score;
    uint8_t wait_recorded;      /* first call of this enqueue already counted in stats */
    uint8_t appt;               /* checked in on time for a booking: placed by calling_appt_after */
    uint8_t est_valid;          /* position/eta_s were computed since it last entered a lane */
    char *idem;                 /* owned, NULL when none */
    struct eng_ticket_extra *x; /* owned, NULL when none: rare data kept out of line */
};

/* What few tickets carry; out of line so a waiting ticket stays small. */
struct eng_ticket_extra {
    bool has_pii;
    eng_pii pii;
    char *comment;          /* owned feedback comment, NULL when none */
    uint8_t skm[ENG_SKM_N]; /* SKM survey answers 1..4, all 0 when the rating was a score */
};

typedef struct eng_lane {
    struct eng_ticket *head, *tail;
    uint32_t count;
} eng_lane;

/* A growable array of u32 samples (wait seconds). */
typedef struct eng_samples {
    uint32_t *v;
    uint32_t n, cap;
} eng_samples;

/* Day accumulators for one service or one counter. */
typedef struct eng_acc {
    uint32_t issued, served, no_show, cancelled, expired;
    uint32_t called, within_sla;
    uint64_t service_s_sum;
    uint32_t service_n;
    uint32_t skm_sum, skm_n;
    /* SKM (SPEC §14): sum9 adds 9 × each rating's value (a score, or the
     * sum of its nine elements), so the overall mean is exact for both forms */
    uint32_t skm_sum9;
    uint32_t skm_el_n, skm_el_sum[ENG_SKM_N]; /* ratings that carried the nine elements */
    eng_samples waits;
} eng_acc;

/* A service at run time: its config fields plus its queues and counters. */
typedef struct eng_svc {
    char id[ENG_ID_MAX + 1];
    char name[ENG_NAME_MAX + 1];
    char prefix[3];
    uint32_t est_service_s, sla_wait_s, daily_quota;
    bool ghost;           /* gone from the config; waiting tickets stay callable today */
    eng_lane lane[2];     /* LANE_NORMAL, LANE_PRIO */
    uint32_t next_number; /* next daily number (starts at 1) */
    uint32_t issued_today;
    double svc_time_s; /* learned service time (EWMA), seeded from est_service_s */
    /* last figures sent in service.wait */
    uint32_t sent_waiting, sent_eta_s, sent_oldest_s;
    /* estimates (eta.c) */
    uint32_t est_eta_s;
    int64_t oldest_enq; /* earliest enqueued_at of its waiting tickets, 0 when none */
    eng_acc acc;
} eng_svc;

typedef struct eng_ctr {
    char id[ENG_ID_MAX + 1];
    char label[ENG_NAME_MAX + 1];
    uint8_t policy;
    uint8_t state; /* enum eng_counter_state */
    uint16_t nsvc;
    uint16_t *svc;          /* owned: service indices, config order then ghosts */
    struct eng_ticket *cur; /* called or serving here, NULL when none */
    uint32_t consec_prio;   /* priority calls in a row */
    /* the last full estimate's end state (eta.c): when this counter runs out of
     * the tickets waiting then, how many it was simulated to call, and when
     * its last call was; new tickets at the back continue from here */
    int64_t eta_end, eta_lastcall;
    uint32_t eta_ncalls;
    bool eta_active;
    eng_acc acc;
} eng_ctr;

typedef struct eng_call_rec {
    char code[8];
    char service[ENG_ID_MAX + 1];
    char counter[ENG_ID_MAX + 1];
    int64_t at;
} eng_call_rec;

/* Tickets live in fixed-size chunks that never move until the day ends. */
#define ENG_CHUNK 256
typedef struct eng_chunk {
    struct eng_chunk *next;
    uint32_t used;
    struct eng_ticket t[ENG_CHUNK];
} eng_chunk;

struct eng_hall {
    eng_config *cfg; /* owned */
    uint64_t seq;
    int32_t day;
    uint64_t order;
    eng_svc *svc; /* owned, nsvc */
    uint16_t nsvc;
    eng_ctr *ctr; /* owned, nctr */
    uint16_t nctr;
    /* tickets of the current day */
    eng_chunk *chunks;       /* owned */
    struct eng_ticket **all; /* owned array of pointers, issue order */
    uint32_t nall, capall;
    struct eng_ticket **byid;    /* owned hash buckets */
    uint32_t nbuckets;           /* power of two, ≥ nall */
    struct eng_ticket **byidem;  /* owned open-addressing table of tickets with an idem key */
    uint32_t nidem, nidem_slots; /* slots: power of two, ≥ 2 × nidem */
    struct eng_ticket *hint;     /* last ticket a command resolved: its events find it first */
    /* board */
    eng_call_rec calls[ENG_NOW_CALLING];
    uint32_t ncalls, call_head; /* ring: call_head is the next slot */
    /* estimates */
    bool eta_dirty;
    int64_t eta_at;
    uint16_t eta_nctr;  /* counters when the last full estimate ran (a config change resets) */
    int64_t wait_ev_at; /* last service.wait */
    /* statistics of the last closed day */
    eng_day_stats last_closed;
    /* report.c: the day record of the day the last rollover closed (owned, NULL when none) */
    char *last_rec;
    size_t last_rec_len;
    /* bookings of today and the days ahead (appointments.c) */
    struct eng_appt *appts; /* owned, nappts, in booking order */
    uint32_t nappts, capappts;
};

/* One booking (SPEC §11). Kept until its day has passed; the service is
 * named by id, since a config replacement renumbers services. */
struct eng_appt {
    uint8_t id[ENG_TID_LEN];
    uint8_t secret[ENG_SECRET_LEN];
    char booking[ENG_BOOKING_LEN + 1];
    char service[ENG_ID_MAX + 1];
    int32_t day;
    uint16_t slot; /* hall-local minute of the slot's start */
    uint8_t state; /* enum eng_appt_state */
    bool late;
    bool has_ticket;
    uint8_t ticket[ENG_TID_LEN];
    int64_t booked_at;
    char *idem;                 /* owned, NULL when none */
    struct eng_ticket_extra *x; /* owned, NULL when none: citizen data */
};

/* hall.c */
struct eng_ticket *hall_ticket_find(const eng_hall *h, const uint8_t tid[ENG_TID_LEN]);
struct eng_ticket *hall_ticket_by_idem(const eng_hall *h, const char *idem);
struct eng_ticket *hall_ticket_new(eng_hall *h); /* zeroed, registered in `all`; NULL on ENOMEM */
int hall_ticket_index(eng_hall *h, struct eng_ticket *t); /* add to id (and idem) hashes */
struct eng_ticket_extra *
hall_ticket_extra(struct eng_ticket *t); /* get or create; NULL on ENOMEM */
int hall_reindex(eng_hall *h);           /* rebuild both hashes from all[] */
void hall_tickets_clear(eng_hall *h);
int hall_svc_find(const eng_hall *h, const char *id);
int hall_ctr_find(const eng_hall *h, const char *id);
int hall_build_runtime(eng_hall *h, eng_config *cfg, char msg[200]); /* takes cfg */
void hall_svc_free(eng_svc *s);
void hall_ctr_free(eng_ctr *c);
void lane_push_back(eng_lane *l, struct eng_ticket *t);
void lane_push_front(eng_lane *l, struct eng_ticket *t);
void lane_remove(eng_lane *l, struct eng_ticket *t);
void hall_ticket_code(const eng_hall *h, const struct eng_ticket *t, char out[8]);
void hall_view(eng_hall *h, const struct eng_ticket *t, eng_ticket_view *v);
bool hall_ctr_serves(const eng_ctr *c, uint16_t svc);

/* events.c: the one function per event type, shared by commands and replay */
int events_apply(eng_hall *h, const eng_event *ev, char msg[200]);
/* A new event for this hall at `at`, seq = next; NULL on ENOMEM. */
eng_event *events_new(eng_hall *h, eng_evbuf *out, int type, int64_t at);

/* calling.c: the calling rules. Returns the ticket counter c would call next, or NULL. */
struct eng_ticket *calling_pick(const eng_hall *h, const eng_ctr *c);

/* The place of an appointment ticket in its lane (SPEC §11): insert after the
 * returned ticket, or at the front when NULL. */
struct eng_ticket *calling_appt_after(const eng_lane *l, int64_t cutoff, int64_t anchor);

/* appointments.c */
int appt_on_booked(eng_hall *h, const eng_event *ev, char msg[200]);
int appt_on_cancelled(eng_hall *h, const eng_event *ev, char msg[200]);
int appt_on_checkin(eng_hall *h, struct eng_ticket *t, const eng_event *ev, char msg[200]);
void appt_rollover(eng_hall *h, int32_t day); /* forget bookings of days before `day` */
void appt_free_all(eng_hall *h);
uint32_t appt_booked_count(const eng_hall *h, const char *service, int32_t day);
int appt_cmd_book(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res);
int appt_cmd_cancel(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res);
int appt_cmd_checkin(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res);
void appt_stats(const eng_hall *h, eng_day_stats *st); /* fills booked, appointments */
/* apply.c helpers shared with appointments.c */
int apply_check_pii(const eng_cmd *cmd, eng_result *res);
int apply_check_idem(const char *idem, eng_result *res);
int apply_check_hours(const eng_hall *h, int64_t now, eng_result *res);
bool apply_day_open(const eng_config *cfg, int32_t day);
int apply_issue_event(eng_hall *h, const eng_cmd *cmd, int si, int64_t now, eng_evbuf *out,
                      eng_event **pev, eng_result *res);

/* eta.c */
void eta_mark_dirty(eng_hall *h);
void eta_refresh(eng_hall *h, int64_t now);
void eta_learn(eng_svc *s, double seconds);

/* stats.c */
void acc_add_wait(eng_acc *a, uint32_t wait_s);
void acc_free(eng_acc *a);
int acc_copy(eng_acc *dst, const eng_acc *src);
void stats_close_day(eng_hall *h);  /* fills h->last_closed from today's accumulators */
void report_close_day(eng_hall *h); /* fills h->last_rec from today's tickets (report.c) */
void stats_reset_today(eng_hall *h);

#endif
