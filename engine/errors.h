/*
 * errors.h — the one table of error codes used by every module.
 *
 * Every function in antrean returns 0 or a negative ANT_E* code from this
 * table. The table also gives the wire code string (SPEC §4) and the HTTP
 * status. Foreign codes (errno, MDB_*, UV_*, msgpack) are translated at the
 * module boundary and never travel upward.
 */
#ifndef ANT_ERRORS_H
#define ANT_ERRORS_H

/* X(NAME, wire code, HTTP status) — order fixes the numeric value. */
#define ANT_ERROR_TABLE(X)                                                                         \
    X(BADREQ, "bad_request", 400)                                                                  \
    X(UNAUTH, "unauthorized", 401)                                                                 \
    X(FORBIDDEN, "forbidden", 403)                                                                 \
    X(NOTFOUND, "not_found", 404)                                                                  \
    X(METHOD, "method_not_allowed", 405)                                                           \
    X(TOOLARGE, "too_large", 413)                                                                  \
    X(HEADTOOLARGE, "too_large", 431)                                                              \
    X(RATELIMIT, "rate_limited", 429)                                                              \
    X(OVERLOADED, "overloaded", 503)                                                               \
    X(UNAVAILABLE, "unavailable", 503)                                                             \
    X(INTERNAL, "internal", 500)                                                                   \
    X(BUSY, "counter_busy", 409)                                                                   \
    X(STATE, "invalid_state", 409)                                                                 \
    X(EMPTY, "queue_empty", 409)                                                                   \
    X(TOOEARLY, "too_early", 409)                                                                  \
    X(CLOSED, "hall_closed", 409)                                                                  \
    X(QUOTA, "quota_exhausted", 409)                                                               \
    X(NOMEM, "internal", 500)                                                                      \
    X(SLOTFULL, "slot_full", 409)

#define ANT_OK 0

/* Row indices of the table, from 0. */
enum {
#define ANT_X_ENUM(name, wire, status) ANT_E##name##_IDX,
    ANT_ERROR_TABLE(ANT_X_ENUM)
#undef ANT_X_ENUM
        ANT_E__COUNT
};

/* Negative codes: ANT_EBADREQ == -1, ... */
#define ANT_X_NEG(name, wire, status) ANT_E##name = -(ANT_E##name##_IDX + 1),
enum { ANT_ERROR_TABLE(ANT_X_NEG) };
#undef ANT_X_NEG

/* Wire code string for rc (< 0); "internal" for anything unknown. Static storage. */
const char *ant_err_code(int rc);
/* HTTP status for rc (< 0); 500 for anything unknown, 200 for 0. */
int ant_err_status(int rc);

#endif
