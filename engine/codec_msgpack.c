/*
 * codec_msgpack.c — the bounded msgpack reader (codec_priv.h) and strict
 * decoding of stored events (codec_event_decode).
 *
 * Never msgpack-c's unpacker, which trusts length headers. Maps are capped
 * at 64 entries, nesting at 8 levels. An event must carry exactly the fields
 * of its type as codec.c writes them in full mode: unknown, duplicate,
 * misplaced, wrongly typed or missing fields are errors naming the field.
 * Messages never echo citizen data.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "codec_priv.h"

#define B(f) CODEC_BIT(f)

/* ---- the bounded msgpack reader ---------------------------------------- */

int codec_fail(char *msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, 200, fmt, ap);
    va_end(ap);
    return ANT_EBADREQ;
}

/* A short printable copy of s for messages: at most 32 bytes, odd bytes as '?'. */
const char *codec_echo(const char *s, size_t n, char out[40])
{
    size_t k = 0;
    for (; k < n && k < 32; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f && s[k] != '\'' ? s[k] : '?';
    if (n > 32) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v = v << 8 | p[k];
    return v;
}

/* Reads one value's header (and a str/bin's bytes). 0 or ANT_EBADREQ. */
int codec_mp_next(codec_mrd *r, codec_mval *v)
{
    static const uint8_t extra[32] = {
        /* 0xc0 … 0xdf: bytes after the type byte (0xff: unsupported) */
        0, 0xff, 0, 0, 1,    2,    4,    0xff, 0xff, 0xff, 4, 8, 1, 2, 4, 8,
        1, 2,    4, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 1,    2, 4, 2, 4, 2, 4,
    };
    memset(v, 0, sizeof *v);
    if (r->p >= r->end)
        return codec_fail(r->msg, "truncated input");
    uint8_t t = *r->p++;
    size_t left = (size_t)(r->end - r->p);
    if (t <= 0x7f || t >= 0xe0) {
        v->kind = t <= 0x7f ? MK_UINT : MK_INT;
        v->u = t;
        v->i = (int8_t)t;
        return 0;
    }
    if (t <= 0x9f) {
        v->kind = t <= 0x8f ? MK_MAP : MK_ARRAY;
        v->n = t & 15;
    } else if (t <= 0xbf) {
        v->kind = MK_STR;
        v->n = t & 31;
    } else {
        uint8_t x = extra[t - 0xc0];
        if (x == 0xff)
            return codec_fail(r->msg, "unsupported msgpack type 0x%02x", t);
        if (left < x)
            return codec_fail(r->msg, "truncated input");
        uint64_t w = be(r->p, x);
        r->p += x;
        left -= x;
        switch (t) {
        case 0xc0:
            v->kind = MK_NIL;
            return 0;
        case 0xc2:
        case 0xc3:
            v->kind = MK_BOOL;
            v->b = t == 0xc3;
            return 0;
        case 0xc4:
        case 0xc5:
        case 0xc6:
            v->kind = MK_BIN;
            v->n = (size_t)w;
            break;
        case 0xca: {
            uint32_t w32 = (uint32_t)w;
            float fl;
            memcpy(&fl, &w32, 4);
            v->kind = MK_FLOAT;
            v->f = fl;
            return 0;
        }
        case 0xcb:
            v->kind = MK_FLOAT;
            memcpy(&v->f, &w, 8);
            return 0;
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf:
            v->kind = MK_UINT;
            v->u = w;
            return 0;
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: {
            int bits = 8 * x;
            int64_t s =
                bits == 64 ? (int64_t)w : (int64_t)(w ^ (1ull << (bits - 1))) - (1ll << (bits - 1));
            v->kind = s < 0 ? MK_INT : MK_UINT;
            v->i = s;
            v->u = (uint64_t)s;
            return 0;
        }
        case 0xd9:
        case 0xda:
        case 0xdb:
            v->kind = MK_STR;
            v->n = (size_t)w;
            break;
        case 0xdc:
        case 0xdd:
            v->kind = MK_ARRAY;
            v->n = (size_t)w;
            break;
        default: /* 0xde, 0xdf */
            v->kind = MK_MAP;
            v->n = (size_t)w;
            break;
        }
    }
    /* every item takes at least one byte: no count may exceed what is left */
    if (v->kind == MK_STR || v->kind == MK_BIN) {
        if (v->n > left)
            return codec_fail(r->msg, "string of %zu bytes overruns the input", v->n);
        v->s = (const char *)r->p;
        r->p += v->n;
    } else if (v->kind == MK_ARRAY ? v->n > left : v->n > left / 2) {
        return codec_fail(r->msg, "%s of %zu items overruns the input",
                          v->kind == MK_ARRAY ? "array" : "map", v->n);
    }
    return 0;
}

/* Skips the items of an array/map whose header v was just read. */
int codec_mp_skip(codec_mrd *r, const codec_mval *v, int depth)
{
    if (v->kind != MK_ARRAY && v->kind != MK_MAP)
        return 0;
    if (depth >= CODEC_MP_MAX_DEPTH)
        return codec_fail(r->msg, "nesting deeper than %d levels", CODEC_MP_MAX_DEPTH);
    size_t items = v->kind == MK_MAP ? 2 * v->n : v->n;
    for (size_t k = 0; k < items; k++) {
        codec_mval c;
        if (codec_mp_next(r, &c) || codec_mp_skip(r, &c, depth + 1))
            return ANT_EBADREQ;
    }
    return 0;
}

bool codec_keyeq(const codec_mval *k, const char *name)
{
    size_t n = strlen(name);
    return k->n == n && memcmp(k->s, name, n) == 0;
}

const char *codec_kind_name(int kind)
{
    static const char *const names[] = {"nil",    "boolean", "integer", "integer", "float",
                                        "string", "binary",  "array",   "map"};
    return names[kind];
}

int codec_name_index(const codec_mval *v, const char *(*name)(int), int n)
{
    for (int k = 0; k < n; k++) {
        const char *s = name(k);
        if (s && s[0] && codec_keyeq(v, s))
            return k;
    }
    return -1;
}

const char *codec_place_name(int p)
{
    return p == ENG_PLACE_FIRST ? "first" : p == ENG_PLACE_LAST ? "last" : NULL;
}

/* ---- events ------------------------------------------------------------ */

enum efid {
    F_EV,
    F_HALL,
    F_SEQ,
    F_AT,
    F_TICKET,
    F_CODE,
    F_SERVICE,
    F_COUNTER,
    F_PRIORITY,
    F_SECRET,
    F_NUMBER,
    F_CHANNEL,
    F_IDEM,
    F_PHONE,
    F_NAME,
    F_NIK,
    F_RECALLS,
    F_FROM_SERVICE,
    F_PLACEMENT,
    F_SCORE,
    F_COMMENT,
    F_STATE,
    F_CONFIG_JSON,
    F_DAY,
    F_SERVICES,
    F_APPT_ID,
    F_APPT,
    F_LATE,
    F_DATE,
    F_SLOT,
    F_BOOKING,
    F_ELEMENTS,
    F__COUNT
};
static const char *const ev_keys[F__COUNT] = {
    "ev",      "hall",        "seq",     "at",           "ticket",         "code",        "service",
    "counter", "priority",    "secret",  "number",       "channel",        "idem",        "phone",
    "name",    "nik",         "recalls", "from_service", "placement",      "score",       "comment",
    "state",   "config_json", "day",     "services",     "appointment_id", "appointment", "late",
    "date",    "slot",        "booking", "elements",
};

#define EV_BASE (B(F_EV) | B(F_HALL) | B(F_SEQ) | B(F_AT))
#define EV_TK (EV_BASE | B(F_TICKET) | B(F_CODE) | B(F_SERVICE))

/* Required and allowed fields per event type (full mode, as stored). */
static const struct {
    uint32_t req, opt;
} ev_shape[ENG_EV__COUNT] = {
    [ENG_EV_TICKET_ISSUED] = {EV_TK | B(F_PRIORITY) | B(F_SECRET) | B(F_NUMBER) | B(F_CHANNEL),
                              B(F_IDEM) | B(F_PHONE) | B(F_NAME) | B(F_NIK) | B(F_APPT_ID) |
                                  B(F_APPT) | B(F_LATE)},
    [ENG_EV_TICKET_CALLED] = {EV_TK, B(F_COUNTER)},
    [ENG_EV_TICKET_RECALLED] = {EV_TK | B(F_RECALLS), B(F_COUNTER)},
    [ENG_EV_TICKET_SERVING] = {EV_TK, B(F_COUNTER)},
    [ENG_EV_TICKET_DONE] = {EV_TK, B(F_COUNTER)},
    [ENG_EV_TICKET_NO_SHOW] = {EV_TK, B(F_COUNTER)},
    [ENG_EV_TICKET_REINSTATED] = {EV_TK | B(F_PLACEMENT), 0},
    [ENG_EV_TICKET_TRANSFERRED] = {EV_TK | B(F_FROM_SERVICE) | B(F_PLACEMENT), B(F_COUNTER)},
    [ENG_EV_TICKET_CANCELLED] = {EV_TK, 0},
    [ENG_EV_TICKET_FEEDBACK] = {EV_TK | B(F_SCORE), B(F_COMMENT) | B(F_ELEMENTS)},
    [ENG_EV_COUNTER_STATE] = {EV_BASE | B(F_COUNTER) | B(F_STATE), 0},
    [ENG_EV_SERVICE_WAIT] = {EV_BASE | B(F_SERVICES), 0},
    [ENG_EV_HALL_CONFIG] = {EV_BASE | B(F_CONFIG_JSON), 0},
    [ENG_EV_DAY_ROLLOVER] = {EV_BASE | B(F_DAY), 0},
    [ENG_EV_APPT_BOOKED] = {EV_BASE | B(F_APPT_ID) | B(F_SERVICE) | B(F_DATE) | B(F_SLOT) |
                                B(F_SECRET) | B(F_BOOKING),
                            B(F_IDEM) | B(F_PHONE) | B(F_NAME) | B(F_NIK)},
    [ENG_EV_APPT_CANCELLED] = {EV_BASE | B(F_APPT_ID) | B(F_SERVICE) | B(F_DATE) | B(F_SLOT), 0},
};

/* A string value of at most max bytes without NUL bytes. */
static int want_str(codec_mrd *r, const codec_mval *v, const char *field, size_t max)
{
    if (v->kind != MK_STR)
        return codec_fail(r->msg, "field '%s': expected string, got %s", field,
                          codec_kind_name(v->kind));
    if (v->n > max)
        return codec_fail(r->msg, "field '%s': longer than %zu bytes", field, max);
    if (memchr(v->s, 0, v->n))
        return codec_fail(r->msg, "field '%s': contains a NUL byte", field);
    return 0;
}

static int copy_str(codec_mrd *r, const codec_mval *v, const char *field, char *dst, size_t cap)
{
    if (want_str(r, v, field, cap - 1))
        return ANT_EBADREQ;
    memcpy(dst, v->s, v->n);
    dst[v->n] = '\0';
    return 0;
}

static int want_uint(codec_mrd *r, const codec_mval *v, const char *field, uint64_t max,
                     uint64_t *out)
{
    if (v->kind != MK_UINT)
        return codec_fail(r->msg, "field '%s': expected unsigned integer, got %s", field,
                          v->kind == MK_INT ? "negative integer" : codec_kind_name(v->kind));
    if (v->u > max)
        return codec_fail(r->msg, "field '%s': %llu is out of range", field,
                          (unsigned long long)v->u);
    *out = v->u;
    return 0;
}

static int want_hex(codec_mrd *r, const codec_mval *v, const char *field, uint8_t out[16])
{
    if (want_str(r, v, field, 32))
        return ANT_EBADREQ;
    if (codec_unhex(v->s, v->n, out, 16))
        return codec_fail(r->msg, "field '%s': expected 32 hex digits", field);
    return 0;
}

static int ev_services(codec_mrd *r, const codec_mval *v, eng_event *ev)
{
    static const char *const keys[4] = {"id", "waiting", "eta_s", "oldest_wait_s"};
    if (v->kind != MK_ARRAY)
        return codec_fail(r->msg, "field 'services': expected array, got %s",
                          codec_kind_name(v->kind));
    if (v->n > 16)
        return codec_fail(r->msg, "field 'services': more than 16 items");
    ev->nwait = (uint8_t)v->n;
    for (size_t k = 0; k < v->n; k++) {
        struct eng_wait_item *w = &ev->wait[k];
        codec_mval m, key, val;
        unsigned seen = 0;
        if (codec_mp_next(r, &m))
            return ANT_EBADREQ;
        if (m.kind != MK_MAP)
            return codec_fail(r->msg, "field 'services[%zu]': expected map", k);
        for (size_t e = 0; e < m.n; e++) {
            if (codec_mp_next(r, &key) || codec_mp_next(r, &val))
                return ANT_EBADREQ;
            int f = -1;
            for (int q = 0; q < 4 && key.kind == MK_STR; q++)
                if (codec_keyeq(&key, keys[q]))
                    f = q;
            if (f < 0)
                return codec_fail(r->msg, "field 'services[%zu]': unknown field", k);
            if (seen & (1u << f))
                return codec_fail(r->msg, "field 'services[%zu].%s': duplicate", k, keys[f]);
            seen |= 1u << f;
            uint64_t u = 0;
            if (f == 0 ? copy_str(r, &val, "services[].id", w->service, sizeof w->service)
                       : want_uint(r, &val, keys[f], UINT32_MAX, &u))
                return ANT_EBADREQ;
            if (f == 1)
                w->waiting = (uint32_t)u;
            else if (f == 2)
                w->eta_s = (uint32_t)u;
            else if (f == 3)
                w->oldest_wait_s = (uint32_t)u;
        }
        if (seen != 15)
            return codec_fail(r->msg, "field 'services[%zu]': missing fields", k);
    }
    return 0;
}

static int ev_field(codec_mrd *r, int f, const codec_mval *v, eng_event *ev, eng_evbuf *arena)
{
    const char *key = ev_keys[f];
    uint64_t u = 0;
    char e[40];
    int k;
    switch (f) {
    case F_EV:
        if (want_str(r, v, key, 32))
            return ANT_EBADREQ;
        k = codec_name_index(v, eng_ev_name, ENG_EV__COUNT);
        if (k <= 0)
            return codec_fail(r->msg, "field 'ev': unknown event '%s'", codec_echo(v->s, v->n, e));
        ev->type = (uint8_t)k;
        return 0;
    case F_HALL:
        return copy_str(r, v, key, ev->hall, sizeof ev->hall);
    case F_SEQ:
        return want_uint(r, v, key, UINT64_MAX, &ev->seq);
    case F_AT:
        if (v->kind == MK_INT)
            ev->at = v->i;
        else if (want_uint(r, v, key, INT64_MAX, &u))
            return ANT_EBADREQ;
        else
            ev->at = (int64_t)u;
        return 0;
    case F_TICKET:
        return want_hex(r, v, key, ev->tid);
    case F_SECRET:
        return want_hex(r, v, key, ev->secret);
    case F_CODE:
        return copy_str(r, v, key, ev->code, sizeof ev->code);
    case F_SERVICE:
        return copy_str(r, v, key, ev->service, sizeof ev->service);
    case F_FROM_SERVICE:
        return copy_str(r, v, key, ev->from_service, sizeof ev->from_service);
    case F_COUNTER:
        return copy_str(r, v, key, ev->counter, sizeof ev->counter);
    case F_PRIORITY:
        if (v->kind == MK_NIL)
            return 0;
        if (want_str(r, v, key, 32))
            return ANT_EBADREQ;
        k = codec_name_index(v, eng_prio_name, 5);
        if (k <= 0)
            return codec_fail(r->msg, "field 'priority': unknown reason");
        ev->prio = (uint8_t)k;
        return 0;
    case F_NUMBER:
        if (want_uint(r, v, key, UINT32_MAX, &u))
            return ANT_EBADREQ;
        ev->number = (uint32_t)u;
        return 0;
    case F_CHANNEL:
        if (want_str(r, v, key, 32))
            return ANT_EBADREQ;
        if ((k = codec_name_index(v, eng_channel_name, 4)) < 0)
            return codec_fail(r->msg, "field 'channel': unknown channel '%s'",
                              codec_echo(v->s, v->n, e));
        ev->channel = (uint8_t)k;
        return 0;
    case F_IDEM:
    case F_COMMENT:
    case F_CONFIG_JSON: {
        size_t max = f == F_IDEM ? ENG_IDEM_MAX : f == F_COMMENT ? ENG_COMMENT_MAX : SIZE_MAX;
        const char **dst = f == F_IDEM      ? &ev->idem
                           : f == F_COMMENT ? &ev->comment
                                            : &ev->config_json;
        if (want_str(r, v, key, max))
            return ANT_EBADREQ;
        if (eng_evbuf_strdup(arena, v->s, v->n, dst))
            return ANT_ENOMEM;
        if (f == F_CONFIG_JSON)
            ev->config_len = v->n;
        return 0;
    }
    case F_PHONE:
        ev->has_pii = true;
        return copy_str(r, v, key, ev->pii.phone, sizeof ev->pii.phone);
    case F_NAME:
        ev->has_pii = true;
        return copy_str(r, v, key, ev->pii.name, sizeof ev->pii.name);
    case F_NIK:
        ev->has_pii = true;
        return copy_str(r, v, key, ev->pii.nik, sizeof ev->pii.nik);
    case F_RECALLS:
    case F_SCORE:
        if (want_uint(r, v, key, UINT8_MAX, &u))
            return ANT_EBADREQ;
        *(f == F_RECALLS ? &ev->recalls : &ev->score) = (uint8_t)u;
        return 0;
    case F_PLACEMENT:
    case F_STATE:
        if (want_str(r, v, key, 16))
            return ANT_EBADREQ;
        k = codec_name_index(v, f == F_STATE ? eng_counter_state_name : codec_place_name, 3);
        if (k < 0)
            return codec_fail(r->msg, "field '%s': unknown value '%s'", key,
                              codec_echo(v->s, v->n, e));
        *(f == F_STATE ? &ev->counter_state : &ev->placement) = (uint8_t)k;
        return 0;
    case F_DAY: {
        char d[16];
        if (want_str(r, v, key, 10))
            return ANT_EBADREQ;
        memcpy(d, v->s, v->n);
        d[v->n] = '\0';
        if (v->n != 10 || eng_parse_date(d, &ev->day))
            return codec_fail(r->msg, "field 'day': expected YYYY-MM-DD, got '%s'",
                              codec_echo(v->s, v->n, e));
        return 0;
    }
    case F_SERVICES:
        return ev_services(r, v, ev);
    case F_APPT_ID:
        ev->checkin = true; /* on ticket.issued: issued by a check-in */
        return want_hex(r, v, key, ev->appt_id);
    case F_APPT:
    case F_LATE:
        if (v->kind != MK_BOOL)
            return codec_fail(r->msg, "field '%s': expected boolean", key);
        if (f == F_LATE)
            ev->late = v->b;
        return 0;
    case F_DATE: {
        char d[16];
        if (want_str(r, v, key, 10))
            return ANT_EBADREQ;
        memcpy(d, v->s, v->n);
        d[v->n] = '\0';
        if (v->n != 10 || eng_parse_date(d, &ev->day))
            return codec_fail(r->msg, "field 'date': expected YYYY-MM-DD");
        return 0;
    }
    case F_SLOT:
        if (want_str(r, v, key, 5))
            return ANT_EBADREQ;
        if (v->n != 5 || v->s[2] != ':' || !isdigit((unsigned char)v->s[0]) ||
            !isdigit((unsigned char)v->s[1]) || !isdigit((unsigned char)v->s[3]) ||
            !isdigit((unsigned char)v->s[4]))
            return codec_fail(r->msg, "field 'slot': expected HH:MM");
        ev->slot = (uint16_t)(((v->s[0] - '0') * 10 + (v->s[1] - '0')) * 60 + (v->s[3] - '0') * 10 +
                              (v->s[4] - '0'));
        if (ev->slot >= 24 * 60)
            return codec_fail(r->msg, "field 'slot': expected HH:MM");
        return 0;
    case F_BOOKING:
        return copy_str(r, v, key, ev->booking, sizeof ev->booking);
    case F_ELEMENTS:
        if (v->kind != MK_ARRAY || v->n != ENG_SKM_N)
            return codec_fail(r->msg, "field 'elements': expected an array of %d answers",
                              ENG_SKM_N);
        for (int q = 0; q < ENG_SKM_N; q++) {
            codec_mval x;
            if (codec_mp_next(r, &x) || want_uint(r, &x, "elements[]", 4, &u))
                return ANT_EBADREQ;
            if (u < 1)
                return codec_fail(r->msg, "field 'elements[%d]': must be 1 to 4", q);
            ev->elements[q] = (uint8_t)u;
        }
        return 0;
    }
    return codec_fail(r->msg, "internal: unhandled field");
}

int codec_event_decode(const char *p, size_t len, eng_event *ev, eng_evbuf *arena, char msg[200])
{
    codec_mrd r = {(const uint8_t *)p, (const uint8_t *)p + len, msg};
    codec_mval m, key, val;
    uint32_t seen = 0;
    char e[40];
    memset(ev, 0, sizeof *ev);
    msg[0] = '\0';
    if (codec_mp_next(&r, &m))
        return ANT_EBADREQ;
    if (m.kind != MK_MAP)
        return codec_fail(msg, "event: expected map, got %s", codec_kind_name(m.kind));
    if (m.n > CODEC_MP_MAX_MAP)
        return codec_fail(msg, "event: more than %d fields", CODEC_MP_MAX_MAP);
    for (size_t k = 0; k < m.n; k++) {
        if (codec_mp_next(&r, &key))
            return ANT_EBADREQ;
        if (key.kind != MK_STR)
            return codec_fail(msg, "event: field names must be strings, got %s",
                              codec_kind_name(key.kind));
        int f = -1;
        /* first byte before the full compare: this loop runs per field on recovery */
        for (int q = 0; q < F__COUNT && f < 0; q++)
            if (key.n && ev_keys[q][0] == key.s[0] && codec_keyeq(&key, ev_keys[q]))
                f = q;
        if (f < 0)
            return codec_fail(msg, "unknown field '%s'", codec_echo(key.s, key.n, e));
        if (seen & B(f))
            return codec_fail(msg, "duplicate field '%s'", ev_keys[f]);
        seen |= B(f);
        int rc = 0;
        if (codec_mp_next(&r, &val) || (rc = ev_field(&r, f, &val, ev, arena)) == ANT_EBADREQ)
            return ANT_EBADREQ;
        if (rc) {
            snprintf(msg, 200, "event: out of memory");
            return rc;
        }
    }
    if (r.p != r.end)
        return codec_fail(msg, "event: %zu trailing bytes after the map", (size_t)(r.end - r.p));
    if (!(seen & B(F_EV)))
        return codec_fail(msg, "missing field 'ev'");
    if (ev->type != ENG_EV_TICKET_ISSUED)
        ev->checkin = false; /* appointment_id names a check-in only on ticket.issued */
    uint32_t req = ev_shape[ev->type].req, opt = ev_shape[ev->type].opt;
    for (int f = 0; f < F__COUNT; f++) {
        if ((seen & B(f)) && !((req | opt) & B(f)))
            return codec_fail(msg, "field '%s' does not belong in %s", ev_keys[f],
                              eng_ev_name(ev->type));
        if ((req & B(f)) && !(seen & B(f)))
            return codec_fail(msg, "missing field '%s'", ev_keys[f]);
    }
    return 0;
}
