/*
 * engine.h — the queue domain of SPEC §3 as a pure, deterministic state
 * machine. One eng_hall holds one hall's whole state.
 *
 * The engine does no I/O, reads no clock and draws no randomness: time and
 * ticket ids/secrets arrive with each command. Same commands and times give
 * the same events, byte for byte. Every state change is an event; applying a
 * command validates it, builds its events and applies each through the one
 * function per event type that replay (eng_replay) also uses, so the two
 * cannot drift. It must never touch the network, the disk or the clock.
 */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "errors.h"

#define ENG_TID_LEN 16    /* ticket id bytes (128-bit random) */
#define ENG_SECRET_LEN 16 /* ticket secret bytes */
#define ENG_IDEM_MAX 64
#define ENG_PHONE_MAX 20
#define ENG_PERSON_NAME_MAX 100
#define ENG_NIK_LEN 16
#define ENG_COMMENT_MAX 500
/* The nine elements of the national SKM survey (SPEC §14), each answered 1..4. */
#define ENG_SKM_N 9
#define ENG_NOW_CALLING 10 /* board shows the last 10 calls and recalls */
#define ENG_BOOKING_LEN 6  /* booking code, "R7K2QX" (SPEC §11) */

enum eng_state {
    ENG_ST_WAITING = 0,
    ENG_ST_CALLED,
    ENG_ST_SERVING,
    ENG_ST_DONE,
    ENG_ST_NO_SHOW,
    ENG_ST_CANCELLED,
    ENG_ST_EXPIRED,
};
enum eng_counter_state { ENG_CS_CLOSED = 0, ENG_CS_OPEN, ENG_CS_PAUSED };
enum eng_prio {
    ENG_PRIO_NONE = 0,
    ENG_PRIO_ELDERLY,
    ENG_PRIO_DISABLED,
    ENG_PRIO_PREGNANT,
    ENG_PRIO_CHILD
};
enum eng_channel { ENG_CH_KIOSK = 0, ENG_CH_WEB, ENG_CH_APP, ENG_CH_STAFF };
enum eng_placement { ENG_PLACE_LAST = 0, ENG_PLACE_FIRST };

/* Name <-> enum helpers; *_from_name return -1 for an unknown name. */
const char *eng_state_name(int st);
const char *eng_counter_state_name(int cs);
const char *eng_prio_name(int p); /* "" for ENG_PRIO_NONE */
int eng_prio_from_name(const char *s);
const char *eng_channel_name(int ch);
int eng_channel_from_name(const char *s);

/* ---- commands ---------------------------------------------------------- */

enum eng_cmd_type {
    ENG_CMD_ISSUE = 1,
    ENG_CMD_CALL, /* call next, or the named ticket when has_ticket */
    ENG_CMD_RECALL,
    ENG_CMD_START,
    ENG_CMD_FINISH, /* optional transfer_to + placement */
    ENG_CMD_NO_SHOW,
    ENG_CMD_REINSTATE,
    ENG_CMD_CANCEL,
    ENG_CMD_FEEDBACK, /* score 1..4, optional comment; once, after done */
    ENG_CMD_COUNTER_OPEN,
    ENG_CMD_COUNTER_CLOSE,
    ENG_CMD_COUNTER_PAUSE,
    ENG_CMD_COUNTER_RESUME,
    ENG_CMD_CONFIG,      /* replace the hall's config (config_json) */
    ENG_CMD_BOOK,        /* appointment (SPEC §11): service, date, slot, booking, tid, secret */
    ENG_CMD_APPT_CANCEL, /* tid names the appointment */
    ENG_CMD_CHECKIN,     /* booking code; tid/secret/channel of the new ticket */
    ENG_CMD__COUNT
};

/* Citizen data: never in a public event, board, log, metric or error message. */
typedef struct eng_pii {
    char phone[ENG_PHONE_MAX + 1];
    char name[ENG_PERSON_NAME_MAX + 1];
    char nik[ENG_NIK_LEN + 1];
} eng_pii;

/*
 * A command. All strings are borrowed for the duration of eng_apply and
 * NUL-terminated; the caller has already checked lengths (the codec does).
 */
typedef struct eng_cmd {
    uint8_t type;             /* enum eng_cmd_type */
    const char *service;      /* issue */
    const char *counter;      /* counter commands */
    bool has_ticket;          /* ticket id is set (call specific, reinstate, cancel, feedback) */
    uint8_t tid[ENG_TID_LEN]; /* issue: the new id (from a CSPRNG); else the target */
    uint8_t secret[ENG_SECRET_LEN]; /* issue: the new secret (from a CSPRNG) */
    uint8_t prio;                   /* issue: enum eng_prio */
    uint8_t channel;                /* issue: enum eng_channel */
    const char *idem;               /* issue: NULL or 1–64 printable chars */
    const char *phone, *name, *nik; /* issue: NULL or the citizen data (validated by eng_apply) */
    const char *transfer_to;        /* finish: NULL or a service id */
    uint8_t placement;              /* finish: enum eng_placement */
    uint8_t score;                  /* feedback: 1..4, or 0 with elements */
    uint8_t elements[ENG_SKM_N];    /* feedback: all 0 (absent) or each 1..4 (SKM survey) */
    const char *comment;            /* feedback: NULL or text */
    const char *config_json;        /* config: the new config JSON */
    size_t config_len;
    const char *date;    /* book: "YYYY-MM-DD" (checked by eng_apply) */
    const char *slot;    /* book: "HH:MM" (checked by eng_apply) */
    const char *booking; /* book: the new code (from a CSPRNG, ENG_BOOKING_LEN chars of
                          * ENG_BOOKING_ALPHABET); checkin: the code the citizen gives */
} eng_cmd;

/* Booking codes use these letters and digits: no 0/O, 1/I/L to misread on a phone. */
#define ENG_BOOKING_ALPHABET "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

/* ---- events ------------------------------------------------------------ */

enum eng_ev_type {
    ENG_EV_TICKET_ISSUED = 1,
    ENG_EV_TICKET_CALLED,
    ENG_EV_TICKET_RECALLED,
    ENG_EV_TICKET_SERVING,
    ENG_EV_TICKET_DONE,
    ENG_EV_TICKET_NO_SHOW,
    ENG_EV_TICKET_REINSTATED,
    ENG_EV_TICKET_TRANSFERRED,
    ENG_EV_TICKET_CANCELLED,
    ENG_EV_TICKET_FEEDBACK, /* public form: code and service only (no score, no comment) */
    ENG_EV_COUNTER_STATE,
    ENG_EV_SERVICE_WAIT, /* takes a seq, stored and replayed (docs/engine.md) */
    ENG_EV_HALL_CONFIG,
    ENG_EV_DAY_ROLLOVER,
    ENG_EV_APPT_BOOKED,    /* public form: service, date, slot only */
    ENG_EV_APPT_CANCELLED, /* public form: service, date, slot only */
    ENG_EV__COUNT
};

/* "ticket.issued", … as in SPEC §5; NULL for an unknown type. */
const char *eng_ev_name(int type);
int eng_ev_from_name(const char *s);
/* True when the event goes to public subscribers: every valid type (seq stays gapless). */
bool eng_ev_public(int type);

/*
 * One event. Only the fields of its type are meaningful; others are zero.
 * Variable-length fields (idem, comment, config_json) point into memory owned
 * by the eng_evbuf that holds the event (or, for decoded events, by the
 * decoder's arena) and live as long as it.
 */
typedef struct eng_event {
    uint8_t type; /* enum eng_ev_type */
    uint64_t seq; /* hall seq, +1 per event, gapless */
    int64_t at;   /* ms since the epoch */
    char hall[ENG_ID_MAX + 1];
    uint8_t tid[ENG_TID_LEN];       /* ticket events */
    uint8_t secret[ENG_SECRET_LEN]; /* issued (never public) */
    char code[8];                   /* ticket events: "A001"… */
    char service[ENG_ID_MAX +
                 1]; /* ticket events: the ticket's service (transferred: the new one) */
    char from_service[ENG_ID_MAX + 1]; /* transferred: the old one */
    char counter[ENG_ID_MAX +
                 1];       /* called/recalled/serving/done/no_show/transferred, counter.state */
    uint32_t number;       /* issued: daily number within the service */
    uint8_t prio;          /* issued: reason (never public; public sees prio != 0) */
    uint8_t channel;       /* issued */
    uint8_t placement;     /* transferred, reinstated (always first) */
    uint8_t counter_state; /* counter.state */
    uint8_t recalls;       /* recalled: the count after this recall */
    uint8_t score;         /* feedback */
    uint8_t elements[ENG_SKM_N]; /* feedback: all 0 or each 1..4 (never public) */
    int32_t day;                 /* day.rollover: the new day; appointment.*: the booked day */
    uint16_t slot;               /* appointment.*: the slot's start, hall-local minute of the day */
    char booking[ENG_BOOKING_LEN + 1]; /* appointment.booked (never public) */
    bool checkin;                      /* ticket.issued: by checking in appointment appt_id */
    bool late;                    /* ticket.issued by check-in: past late_min, an ordinary ticket */
    uint8_t appt_id[ENG_TID_LEN]; /* appointment.*, checked-in ticket.issued (never public) */
    bool has_pii;                 /* pii below is meaningful */
    const char *idem;             /* issued: NULL or key */
    const char *comment;          /* feedback: NULL or text (never public) */
    const char *config_json;      /* hall.config: the full config JSON */
    size_t config_len;
    uint8_t nwait; /* service.wait: items of wait[] in use */
    /* Large tail, read only as has_pii / nwait say: eng_evbuf_push zeroes
     * the event only up to here, which keeps the command path cheap. */
    eng_pii pii; /* issued (never public) */
    /* service.wait: up to 16 services whose estimate changed */
    struct eng_wait_item {
        char service[ENG_ID_MAX + 1];
        uint32_t waiting, eta_s, oldest_wait_s;
    } wait[16];
} eng_event;

/* A growable list of events plus the bytes their strings point into. */
struct eng_arena_block;
typedef struct eng_evbuf {
    eng_event *ev; /* owned */
    size_t n, cap;
    struct eng_arena_block *blocks; /* owned; strings of the events; blocks never move */
} eng_evbuf;

void eng_evbuf_init(eng_evbuf *b);
void eng_evbuf_reset(eng_evbuf *b); /* forget the events, keep the memory */
void eng_evbuf_free(eng_evbuf *b);
/* Append a zeroed event; NULL on allocation failure. Pointer valid until the next push. */
eng_event *eng_evbuf_push(eng_evbuf *b);
/*
 * Copy len bytes (plus a NUL) into the buffer's arena and set *out to the
 * copy, which stays valid until eng_evbuf_reset/free. 0 or ANT_ENOMEM.
 */
int eng_evbuf_strdup(eng_evbuf *b, const char *s, size_t len, const char **out);

/* ---- the hall ---------------------------------------------------------- */

typedef struct eng_ticket eng_ticket; /* opaque; read through eng_ticket_view */
typedef struct eng_hall eng_hall;     /* opaque */

/* A read-only copy of what one may say about a ticket. */
typedef struct eng_ticket_view {
    uint8_t tid[ENG_TID_LEN];
    uint8_t secret[ENG_SECRET_LEN];
    char code[8];
    char service[ENG_ID_MAX + 1];
    char counter[ENG_ID_MAX + 1]; /* "" when not at a counter */
    char label[ENG_NAME_MAX + 1]; /* counter label, "" when none */
    uint8_t state, prio, channel, recalls, score;
    bool appointment; /* checked in on time for a booking (SPEC §11) */
    int64_t issued_at, called_at, started_at, finished_at;
    uint32_t position, eta_s; /* meaningful while waiting */
    bool has_pii;
    eng_pii pii;
} eng_ticket_view;

/*
 * Create a hall from a parsed config; the hall takes ownership of cfg (also
 * on failure). `now` (ms since epoch) fixes the current hall-local day.
 * Returns NULL on allocation failure. Free with eng_hall_free.
 */
eng_hall *eng_hall_new(eng_config *cfg, int64_t now);
void eng_hall_free(eng_hall *h);

const eng_config *eng_hall_config(const eng_hall *h); /* borrowed */
uint64_t eng_hall_seq(const eng_hall *h);
int32_t eng_hall_day(const eng_hall *h); /* current hall-local day, days since epoch */
/* Hall-local day of a time, for this hall's utc offset. */
int32_t eng_hall_day_of(const eng_hall *h, int64_t now);

/* ---- appointments (SPEC §11): a booking as one may read it ---- */

enum eng_appt_state { ENG_APPT_BOOKED = 0, ENG_APPT_CANCELLED, ENG_APPT_CHECKED_IN };
const char *eng_appt_state_name(int st);

/* A read-only copy of one booking. */
typedef struct eng_appt_view {
    uint8_t id[ENG_TID_LEN];
    uint8_t secret[ENG_SECRET_LEN];
    char booking[ENG_BOOKING_LEN + 1];
    char service[ENG_ID_MAX + 1];
    char date[11];   /* "YYYY-MM-DD" */
    char slot[6];    /* "HH:MM" */
    int64_t slot_at; /* the slot's start, ms since the epoch */
    uint8_t state;   /* enum eng_appt_state */
    bool late;       /* checked in after late_min */
    bool has_ticket; /* checked in: ticket names the ticket */
    uint8_t ticket[ENG_TID_LEN];
    bool has_pii;
    eng_pii pii;
} eng_appt_view;

/* Result of eng_apply. */
typedef struct eng_result {
    int rc;        /* 0 or ANT_E* */
    char msg[200]; /* human message naming the problem when rc < 0; no citizen data */
    bool replayed; /* issue: the idem key matched an earlier ticket; no events */
    bool has_appt; /* book, appointment cancel: the booking */
    eng_appt_view appt;
    bool has_ticket;
    /* the ticket the command acted on (call: the called one); its position
     * and eta_s are not refreshed here — commands stay cheap — so a reply
     * that shows them reads eng_ticket_get afterwards */
    eng_ticket_view ticket;
    char counter[ENG_ID_MAX + 1];
} eng_result;

/*
 * Apply one command at time `now` (ms since epoch). On success appends its
 * events to `out` (possibly preceded by a day.rollover when the hall-local
 * day changed) and returns 0; on failure returns ANT_E* with res->msg set and
 * appends nothing but a possible rollover. `res` is caller-owned and filled
 * in either case.
 */
int eng_apply(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res);

/*
 * Time passes: emit day.rollover if the hall-local day changed, and a
 * service.wait event (at most once a second; it takes a seq like every
 * event and is stored and replayed) when estimates changed. Call at least once a second. Returns 0
 * or ANT_ENOMEM.
 */
int eng_tick(eng_hall *h, int64_t now, eng_evbuf *out);

/*
 * Rebuild state from one stored event (service.wait included: it only
 * remembers what was sent). The event's seq must be eng_hall_seq(h) + 1. Returns 0, or
 * ANT_EINTERNAL with msg set when the event does not fit the state (corrupt log).
 */
int eng_replay(eng_hall *h, const eng_event *ev, char msg[200]);

/* ---- reads ------------------------------------------------------------- */

/* Find a ticket of the current day by id; fills *view (caller-owned). 0 or ANT_ENOTFOUND. */
int eng_ticket_get(eng_hall *h, const uint8_t tid[ENG_TID_LEN], int64_t now, eng_ticket_view *view);

/* Per-service live figures (estimates refreshed lazily, at most once a second or after a change).
 */
typedef struct eng_service_live {
    uint32_t waiting, eta_s, oldest_wait_s;
} eng_service_live;
int eng_service_live_get(eng_hall *h, int service_idx, int64_t now, eng_service_live *out);

/* Board snapshot (SPEC §4 board). */
typedef struct eng_board_call {
    char code[8];
    char service[ENG_ID_MAX + 1];
    char counter[ENG_ID_MAX + 1];
    char label[ENG_NAME_MAX + 1];
    int64_t at;
} eng_board_call;
typedef struct eng_counter_live {
    uint8_t state;  /* enum eng_counter_state */
    char ticket[8]; /* code of the called/serving ticket, "" when none */
} eng_counter_live;
int eng_now_calling(const eng_hall *h,
                    eng_board_call out[ENG_NOW_CALLING]); /* returns count, newest first */
void eng_counter_live_get(const eng_hall *h, int counter_idx, eng_counter_live *out);

/*
 * Iterate the current day's tickets, optionally only one state (state < 0:
 * all): in issue order, but waiting ones service by service in the order
 * they are expected to be called (positions never go down within a service). Calls fn for each;
 * stop when fn returns non-zero. Returns the number visited.
 */
typedef int (*eng_ticket_fn)(const eng_ticket_view *t, void *arg);
size_t eng_tickets_each(eng_hall *h, int state, int64_t now, eng_ticket_fn fn, void *arg);

/* ---- appointments (SPEC §11) ------------------------------------------ */

/* Find a booking by id; fills *view. 0 or ANT_ENOTFOUND. */
int eng_appt_get(const eng_hall *h, const uint8_t id[ENG_TID_LEN], eng_appt_view *view);
/* True when a booking of this hall already has this code (the caller draws another). */
bool eng_booking_code_used(const eng_hall *h, const char *code);

/*
 * The slots of a service on a day (SPEC §11): only those inside opening
 * hours and not started by `now`. Calls fn(slot "HH:MM", free places, arg)
 * for each in order (fn may be NULL: check only). Returns 0, or ANT_ENOTFOUND (service),
 * ANT_EBADREQ (no bookings, bad date, closed day, beyond days_ahead) with msg set.
 */
typedef void (*eng_slot_fn)(const char *slot, uint32_t free, void *arg);
int eng_slots_each(const eng_hall *h, const char *service, const char *date, int64_t now,
                   eng_slot_fn fn, void *arg, char msg[200]);

/* Every booking of a day (state < 0: all states), in slot order then booking order. */
typedef int (*eng_appt_fn)(const eng_appt_view *a, void *arg);
size_t eng_appts_each(const eng_hall *h, int32_t day, int state, eng_appt_fn fn, void *arg);

/* ---- day statistics ---------------------------------------------------- */

typedef struct eng_stat_row {
    char id[ENG_ID_MAX + 1]; /* service or counter id */
    uint32_t issued, served, no_show, cancelled, expired;
    uint32_t wait_p50_s, wait_p90_s, wait_max_s;
    uint32_t service_mean_s;
    double within_sla; /* share 0..1 of called tickets called within sla_wait_s; services only */
    uint32_t skm_count;
    double skm_score;      /* mean of scores 1..4; 0 when none */
    double skm_index;      /* mean × 25 */
    uint32_t booked;       /* services: bookings for the day, cancelled ones not counted */
    uint32_t appointments; /* services: tickets checked in on time for a booking */
} eng_stat_row;
typedef struct eng_day_stats {
    int32_t day;
    uint16_t nservices, ncounters;
    eng_stat_row *services; /* owned */
    eng_stat_row *counters; /* owned */
} eng_day_stats;

/* Statistics of the current day so far. *out is caller-owned: free with eng_day_stats_free. */
int eng_stats_today(const eng_hall *h, eng_day_stats *out);
/* Statistics of the day closed by the last day.rollover (day 0 when none yet); caller-owned copy.
 */
int eng_stats_last_closed(const eng_hall *h, eng_day_stats *out);
void eng_day_stats_free(eng_day_stats *s);

/* ---- snapshots --------------------------------------------------------- */

/*
 * Serialize the whole hall state (config, seq, day, tickets with citizen data,
 * counters, idem keys, learned service times, today's statistics) to msgpack.
 * *buf is malloc'ed, caller frees. Deterministic: equal states give equal bytes.
 */
int eng_snapshot_encode(const eng_hall *h, char **buf, size_t *len);
/* Rebuild a hall from a snapshot; *out caller-owned. ANT_EBADREQ with msg on a bad snapshot. */
int eng_snapshot_decode(const char *buf, size_t len, eng_hall **out, char msg[200]);

#endif
