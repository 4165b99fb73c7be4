/*
 * config.c — parse and validate a hall's configuration (SPEC §2).
 *
 * Validation walks the whole document and records every problem it finds
 * ("path: reason") instead of stopping at the first, so an admin fixes a
 * config in one round trip. References are resolved against the ids as
 * written, even invalid ones, so one bad id is reported once and does not
 * cascade into "unknown agency" problems elsewhere.
 *
 * The canonical JSON (cfg->json) is rebuilt from the parsed struct rather than
 * copied from the input (config_json.c): defaults are filled in, dates sorted
 * and deduplicated, keys sorted. Parsing it again gives the same struct and
 * the same bytes, which is what makes persisting and replaying a config exact.
 *
 * Every message is valid UTF-8 and shorter than 160 bytes: user values are
 * quoted at most QUOTE_MAX bytes, control characters and invalid bytes become
 * '?', and a cut never splits a multi-byte sequence.
 */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "errors.h"

#define QUOTE_MAX 40 /* bytes of a user value quoted in a message */
#define CFG_PATH_LEN 128

/* Bounds of numeric fields; generous, but they keep arithmetic in range. */
#define UTC_OFFSET_MIN (-720)
#define UTC_OFFSET_MAX 840
#define EST_SERVICE_DEFAULT 300
#define EST_SERVICE_MAX 86400
#define SLA_WAIT_DEFAULT 1800
#define SLA_WAIT_MAX 86400
#define DAILY_QUOTA_MAX 1000000
#define MAX_CONSECUTIVE_DEFAULT 2
#define MAX_CONSECUTIVE_MAX 1000
#define MIN_RECALLS_DEFAULT 1
#define MIN_RECALLS_MAX 100
#define REINSTATE_DEFAULT 1800
#define REINSTATE_MAX 86400

typedef struct vctx {
    eng_problems *probs; /* caller's, may be NULL */
    int count;
    bool nomem;
    char path[CFG_PATH_LEN];
    size_t plen;
} vctx;

/* ---- UTF-8-safe text -------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/*
 * Copy src into dst (room for max + 4 bytes) as printable UTF-8 of at most
 * max bytes; invalid bytes and control characters become '?', and "..." marks
 * a cut, which never falls inside a sequence.
 */
static void clean_copy(char *dst, const char *src, size_t max)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t n = strlen(src), i = 0, o = 0;
    while (i < n) {
        size_t k = utf8_seq(s + i, n - i);
        if (o + (k ? k : 1) > max) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (k == 0 || (k == 1 && (s[i] < 0x20 || s[i] == 0x7F))) {
            dst[o++] = '?';
            i++;
        } else {
            memcpy(dst + o, s + i, k);
            o += k;
            i += k;
        }
    }
    dst[o] = '\0';
}

/* Drop a multi-byte sequence that a truncating snprintf left incomplete. */
static void trim_partial_utf8(char *m)
{
    size_t len = strlen(m), j = len, back = 0;
    while (j > 0 && back < 4 && ((unsigned char)m[j - 1] & 0xC0) == 0x80)
        j--, back++;
    if (j == 0)
        return;
    j--; /* the lead byte */
    if (utf8_seq((const unsigned char *)m + j, len - j) == 0)
        m[j] = '\0';
}

/* ---- problems and paths ----------------------------------------------- */

static void prob(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void prob(vctx *v, const char *fmt, ...)
{
    int idx = v->count++;
    if (!v->probs)
        return;
    v->probs->count = v->count;
    if (idx >= ENG_PROBLEMS_MAX)
        return;
    char *m = v->probs->msg[idx];
    size_t cap = sizeof v->probs->msg[idx];
    int n = snprintf(m, cap, "%s: ", v->plen ? v->path : "config");
    if (n < 0 || (size_t)n >= cap) {
        trim_partial_utf8(m);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(m + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= cap - (size_t)n)
        trim_partial_utf8(m);
}

static size_t path_push(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a path component; returns the length to restore with path_pop. */
static size_t path_push(vctx *v, const char *fmt, ...)
{
    size_t old = v->plen, room = sizeof v->path - old;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->path + old, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    v->plen = (size_t)n < room ? old + (size_t)n : sizeof v->path - 1;
    return old;
}

static size_t path_key(vctx *v, const char *key)
{
    char k[QUOTE_MAX + 4];
    clean_copy(k, key, QUOTE_MAX);
    return path_push(v, "%s%s", v->plen ? "." : "", k);
}

static size_t path_idx(vctx *v, size_t i)
{
    return path_push(v, "[%zu]", i);
}

static void path_pop(vctx *v, size_t old)
{
    v->plen = old;
    v->path[old] = '\0';
}

/* A user value ready for quoting in a message. */
typedef struct quoted {
    char s[QUOTE_MAX + 4];
} quoted;

static quoted q(const char *s)
{
    quoted r;
    clean_copy(r.s, s, QUOTE_MAX);
    return r;
}

/* ---- field readers: each reports its own problems at its own path ------ */

static void check_unknown(vctx *v, json_t *obj, const char *const *known)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t i;
        (void)val;
        for (i = 0; known[i]; i++)
            if (strcmp(known[i], key) == 0)
                break;
        if (!known[i]) {
            size_t o = path_key(v, key);
            prob(v, "unknown field");
            path_pop(v, o);
        }
    }
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ENG_ID_MAX || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* Index of id among raw[0..n) (NULL entries skipped), or -1. */
static int find_raw(const char *const *raw, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (raw[i] && strcmp(raw[i], id) == 0)
            return (int)i;
    return -1;
}

/* The string at the current path, or NULL after reporting it missing or mistyped. */
static const char *str_at(vctx *v, json_t *val, bool required)
{
    if (val && json_is_string(val))
        return json_string_value(val);
    if (val)
        prob(v, "expected a string");
    else if (required)
        prob(v, "required");
    return NULL;
}

/*
 * Required id field: copied to dst when valid. *raw gets the string as written
 * (or NULL); a valid id that already occurs in seen[0..nseen) is a duplicate.
 */
static void get_id(vctx *v, json_t *obj, const char *key, char *dst, const char **raw,
                   const char *const *seen, size_t nseen)
{
    size_t o = path_key(v, key);
    const char *s = *raw = str_at(v, json_object_get(obj, key), true);
    if (s && !valid_id(s))
        prob(v, "invalid id '%s' (want [a-z0-9][a-z0-9-]{0,31})", q(s).s);
    else if (s && find_raw(seen, nseen, s) >= 0)
        prob(v, "duplicate id '%s'", q(s).s);
    else if (s)
        strcpy(dst, s);
    path_pop(v, o);
}

/* Required display name or label: non-empty, at most ENG_NAME_MAX bytes, no control chars. */
static void get_name(vctx *v, json_t *obj, const char *key, char *dst)
{
    size_t o = path_key(v, key);
    const char *s = str_at(v, json_object_get(obj, key), true);
    size_t n = s ? strlen(s) : 0, i = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != 0x7F)
        i++;
    if (s && n == 0)
        prob(v, "must not be empty");
    else if (s && n > ENG_NAME_MAX)
        prob(v, "longer than %d bytes", ENG_NAME_MAX);
    else if (s && i < n)
        prob(v, "must not contain control characters");
    else if (s)
        memcpy(dst, s, n + 1);
    path_pop(v, o);
}

/* Integer field in [lo, hi]; def when absent (a problem if required). obj may be NULL. */
static long long get_int(vctx *v, json_t *obj, const char *key, bool required, long long def,
                         long long lo, long long hi)
{
    size_t o = path_key(v, key);
    json_t *val = obj ? json_object_get(obj, key) : NULL;
    long long x = def;
    if (!val && required)
        prob(v, "required");
    else if (val && !json_is_integer(val))
        prob(v, "expected an integer");
    else if (val && (json_integer_value(val) < lo || json_integer_value(val) > hi))
        prob(v, "must be between %lld and %lld", lo, hi);
    else if (val)
        x = json_integer_value(val);
    path_pop(v, o);
    return x;
}

/* "HH:MM" → minutes; "24:00" only when allow_24. Returns -1 when invalid. */
static int parse_hhmm(const char *s, bool allow_24)
{
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : !(s[i] >= '0' && s[i] <= '9'))
            return -1;
    if (s[5] != '\0')
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h == 24 && m == 0 && allow_24)
        return 1440;
    return h > 23 || m > 59 ? -1 : h * 60 + m;
}

/* "HH:MM" field; returns minutes, or -1 (absent or bad). */
static int get_hhmm(vctx *v, json_t *obj, const char *key, bool required, bool allow_24)
{
    size_t o = path_key(v, key);
    json_t *val = json_object_get(obj, key);
    int r = -1;
    if (!val && required)
        prob(v, "required");
    else if (val &&
             (!json_is_string(val) || (r = parse_hhmm(json_string_value(val), allow_24)) < 0))
        prob(v, "expected \"HH:MM\"");
    path_pop(v, o);
    return r;
}

/* Object member: returns it, or NULL when absent or of the wrong type (reported). */
static json_t *get_object(vctx *v, json_t *obj, const char *key, bool required)
{
    json_t *val = json_object_get(obj, key);
    if (val && json_is_object(val))
        return val;
    size_t o = path_key(v, key);
    if (val)
        prob(v, "expected an object");
    else if (required)
        prob(v, "required");
    path_pop(v, o);
    return NULL;
}

/*
 * Array member; required ones must be non-empty. Returns it and its usable
 * length in *n (capped at max), or NULL.
 */
static json_t *get_array(vctx *v, json_t *obj, const char *key, bool required, size_t max,
                         size_t *n)
{
    size_t o = path_key(v, key);
    json_t *val = json_object_get(obj, key);
    *n = val && json_is_array(val) ? json_array_size(val) : 0;
    if (!val && required)
        prob(v, "required");
    else if (val && !json_is_array(val))
        prob(v, "expected an array");
    else if (val && *n == 0 && required)
        prob(v, "must not be empty");
    else if (*n > max)
        prob(v, "at most %zu items allowed (got %zu)", max, *n);
    if (*n > max)
        *n = max;
    path_pop(v, o);
    return val && json_is_array(val) ? val : NULL;
}

/* ---- sections --------------------------------------------------------- */

/* Insert day into the sorted, unique days[0..*n); false when full. */
static bool add_day(int32_t *days, uint16_t *n, int32_t day)
{
    size_t i = 0;
    while (i < *n && days[i] < day)
        i++;
    if (i < *n && days[i] == day)
        return true;
    if (*n >= ENG_MAX_CLOSED_DATES)
        return false;
    memmove(days + i + 1, days + i, (*n - i) * sizeof *days);
    days[i] = day;
    (*n)++;
    return true;
}

static void parse_days(vctx *v, json_t *hours, eng_config *cfg)
{
    size_t n, i, o;
    json_t *d, *wd = get_array(v, hours, "weekdays", false, SIZE_MAX, &n);
    bool full = false;

    cfg->weekdays = 0x7F;
    o = path_key(v, "weekdays");
    if (wd && n == 0)
        prob(v, "must list at least one day");
    else if (wd)
        cfg->weekdays = 0;
    json_array_foreach(wd, i, d)
    {
        long long x = json_is_integer(d) ? json_integer_value(d) : 0;
        size_t oi = path_idx(v, i);
        if (x >= 1 && x <= 7)
            cfg->weekdays |= (uint8_t)(1u << (x - 1));
        else
            prob(v, "expected a weekday 1-7 (1 = Monday)");
        path_pop(v, oi);
    }
    path_pop(v, o);

    json_t *cd = get_array(v, hours, "closed_dates", false, SIZE_MAX, &n);
    o = path_key(v, "closed_dates");
    json_array_foreach(cd, i, d)
    {
        size_t oi = path_idx(v, i);
        const char *s = str_at(v, d, true);
        int32_t day;
        if (s && eng_parse_date(s, &day) != 0)
            prob(v, "expected \"YYYY-MM-DD\" (a real date), got '%s'", q(s).s);
        else if (s && !add_day(cfg->closed_days, &cfg->nclosed, day))
            full = true;
        path_pop(v, oi);
    }
    if (full)
        prob(v, "at most %d distinct dates allowed", ENG_MAX_CLOSED_DATES);
    path_pop(v, o);
}

static void parse_hours(vctx *v, json_t *root, eng_config *cfg)
{
    static const char *const known[] = {"open",     "close",        "issue_until",
                                        "weekdays", "closed_dates", NULL};
    json_t *hours = get_object(v, root, "hours", true);
    if (!hours)
        return;
    size_t o = path_key(v, "hours");
    int open = get_hhmm(v, hours, "open", true, false);
    int close = get_hhmm(v, hours, "close", true, true);
    bool has_until = json_object_get(hours, "issue_until") != NULL;
    int until = get_hhmm(v, hours, "issue_until", false, true);
    if (open >= 0 && close >= 0 && open >= close) {
        size_t oc = path_key(v, "close");
        prob(v, "must be later than hours.open");
        path_pop(v, oc);
    } else if (open >= 0 && close >= 0 && until >= 0 && (until < open || until > close)) {
        size_t ou = path_key(v, "issue_until");
        prob(v, "must be between hours.open and hours.close");
        path_pop(v, ou);
    }
    cfg->open_min = (uint16_t)(open >= 0 ? open : 0);
    cfg->close_min = (uint16_t)(close >= 0 ? close : 0);
    cfg->issue_until_min = (uint16_t)(has_until ? (until >= 0 ? until : 0) : cfg->close_min);
    parse_days(v, hours, cfg);
    check_unknown(v, hours, known);
    path_pop(v, o);
}

/* Ids exactly as written (NULL where not a string), for duplicates and references. */
typedef struct refs {
    const char *agency[ENG_MAX_AGENCIES];
    const char *service[ENG_MAX_SERVICES];
    const char *counter[ENG_MAX_COUNTERS];
    bool have_agencies, have_services; /* lists readable: else references are not checked */
} refs;

/* Parses item i of a list into items (an array of the list's element type). */
typedef void (*item_fn)(vctx *v, json_t *e, void *items, eng_config *cfg, refs *r, size_t i);

/* A required list of objects: returns a new array of *count items of size bytes, or NULL. */
static void *parse_list(vctx *v, json_t *root, const char *key, size_t max, size_t size,
                        uint16_t *count, item_fn fn, eng_config *cfg, refs *r)
{
    size_t n;
    json_t *list = get_array(v, root, key, true, max, &n);
    void *items = list && n ? calloc(n, size) : NULL;
    *count = items ? (uint16_t)n : 0;
    if (!items) {
        v->nomem |= list && n;
        return NULL;
    }
    size_t o = path_key(v, key);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        size_t oi = path_idx(v, i);
        if (!json_is_object(e))
            prob(v, "expected an object");
        else
            fn(v, e, items, cfg, r, i);
        path_pop(v, oi);
    }
    path_pop(v, o);
    return items;
}

static void parse_agency(vctx *v, json_t *e, void *items, eng_config *cfg, refs *r, size_t i)
{
    static const char *const known[] = {"id", "name", NULL};
    eng_agency_cfg *a = (eng_agency_cfg *)items + i;
    (void)cfg;
    get_id(v, e, "id", a->id, &r->agency[i], r->agency, i);
    get_name(v, e, "name", a->name);
    check_unknown(v, e, known);
}

static bool valid_prefix(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return n >= 1 && n <= 2;
}

/* "appointments": {"slot_min","per_slot","days_ahead","early_min","late_min"} (SPEC §11) */
static void parse_appointments(vctx *v, json_t *e, eng_service_cfg *s)
{
    static const char *const known[] = {"slot_min",  "per_slot", "days_ahead",
                                        "early_min", "late_min", NULL};
    if (!json_object_get(e, "appointments"))
        return;
    json_t *a = get_object(v, e, "appointments", false);
    if (!a)
        return;
    size_t o = path_key(v, "appointments");
    s->appt.slot_min = (uint16_t)get_int(v, a, "slot_min", true, 0, 5, 240);
    s->appt.per_slot = (uint16_t)get_int(v, a, "per_slot", true, 0, 1, 1000);
    s->appt.days_ahead = (uint16_t)get_int(v, a, "days_ahead", false, 14, 0, 366);
    s->appt.early_min = (uint16_t)get_int(v, a, "early_min", false, 30, 0, 240);
    s->appt.late_min = (uint16_t)get_int(v, a, "late_min", false, 10, 0, 240);
    check_unknown(v, a, known);
    path_pop(v, o);
}

static void parse_service(vctx *v, json_t *e, void *items, eng_config *cfg, refs *r, size_t i)
{
    static const char *const known[] = {"id",          "agency",        "name",
                                        "prefix",      "est_service_s", "sla_wait_s",
                                        "daily_quota", "appointments",  NULL};
    eng_service_cfg *svc = items, *s = svc + i;
    size_t o, j;
    const char *str;
    int a;

    get_id(v, e, "id", s->id, &r->service[i], r->service, i);

    o = path_key(v, "agency");
    s->agency = ENG_NONE;
    str = str_at(v, json_object_get(e, "agency"), true);
    if (str && (a = find_raw(r->agency, cfg->nagencies, str)) < 0) {
        if (r->have_agencies)
            prob(v, "unknown agency '%s'", q(str).s);
    } else if (str) {
        s->agency = (uint16_t)a;
    }
    path_pop(v, o);

    get_name(v, e, "name", s->name);

    o = path_key(v, "prefix");
    str = str_at(v, json_object_get(e, "prefix"), true);
    for (j = 0; str && j < i; j++)
        if (strcmp(svc[j].prefix, str) == 0)
            break;
    if (str && !valid_prefix(str))
        prob(v, "invalid prefix '%s' (want 1-2 upper-case letters A-Z)", q(str).s);
    else if (str && j < i && r->service[j])
        prob(v, "prefix '%s' already used by service '%s'", str, q(r->service[j]).s);
    else if (str && j < i)
        prob(v, "prefix '%s' already used by services[%zu]", str, j);
    else if (str)
        strcpy(s->prefix, str);
    path_pop(v, o);

    s->est_service_s =
        get_int(v, e, "est_service_s", false, EST_SERVICE_DEFAULT, 1, EST_SERVICE_MAX);
    s->sla_wait_s = get_int(v, e, "sla_wait_s", false, SLA_WAIT_DEFAULT, 1, SLA_WAIT_MAX);
    s->daily_quota = get_int(v, e, "daily_quota", false, 0, 0, DAILY_QUOTA_MAX);
    parse_appointments(v, e, s);
    check_unknown(v, e, known);
}

/* "breaks": [{"from":"HH:MM","to":"HH:MM"}…], each from < to, in order, not overlapping. */
static void parse_breaks(vctx *v, json_t *e, eng_counter_cfg *c)
{
    static const char *const known[] = {"from", "to", NULL};
    size_t n;
    json_t *list = get_array(v, e, "breaks", false, ENG_MAX_BREAKS, &n);
    size_t o = path_key(v, "breaks");
    for (size_t j = 0; list && j < n; j++) {
        size_t oj = path_idx(v, j);
        json_t *b = json_array_get(list, j);
        if (!json_is_object(b)) {
            prob(v, "expected an object {\"from\",\"to\"}");
            path_pop(v, oj);
            continue;
        }
        int from = get_hhmm(v, b, "from", true, false);
        int to = get_hhmm(v, b, "to", true, true);
        check_unknown(v, b, known);
        if (from >= 0 && to >= 0 && from >= to)
            prob(v, "from must be before to");
        else if (from >= 0 && to >= 0 && c->nbreaks && from < c->breaks[c->nbreaks - 1].to_min)
            prob(v, "breaks must be in order and must not overlap");
        else if (from >= 0 && to >= 0)
            c->breaks[c->nbreaks++] = (struct eng_break){(uint16_t)from, (uint16_t)to};
        path_pop(v, oj);
    }
    path_pop(v, o);
}

static void parse_counter(vctx *v, json_t *e, void *items, eng_config *cfg, refs *r, size_t i)
{
    static const char *const known[] = {"id", "label", "services", "policy", "breaks", NULL};
    eng_counter_cfg *c = (eng_counter_cfg *)items + i;
    size_t n, o;
    const char *str;

    get_id(v, e, "id", c->id, &r->counter[i], r->counter, i);
    get_name(v, e, "label", c->label);

    json_t *list = get_array(v, e, "services", true, ENG_MAX_SERVICES, &n);
    o = path_key(v, "services");
    for (size_t j = 0; list && j < n; j++) {
        size_t oj = path_idx(v, j), k;
        int si = -1;
        str = str_at(v, json_array_get(list, j), true);
        if (str && (si = find_raw(r->service, cfg->nservices, str)) < 0 && r->have_services)
            prob(v, "unknown service '%s'", q(str).s);
        for (k = 0; si >= 0 && k < c->nservices; k++)
            if (c->services[k] == (uint16_t)si)
                break;
        if (si >= 0 && k < c->nservices)
            prob(v, "duplicate service '%s'", q(str).s);
        else if (si >= 0)
            c->services[c->nservices++] = (uint16_t)si;
        path_pop(v, oj);
    }
    path_pop(v, o);

    o = path_key(v, "policy");
    json_t *val = json_object_get(e, "policy");
    str = val && json_is_string(val) ? json_string_value(val) : "";
    c->policy = ENG_POLICY_LONGEST_WAIT;
    if (val && strcmp(str, "in_order") == 0)
        c->policy = ENG_POLICY_IN_ORDER;
    else if (val && strcmp(str, "longest_wait") != 0)
        prob(v, "expected \"longest_wait\" or \"in_order\"");
    path_pop(v, o);
    parse_breaks(v, e, c);
    check_unknown(v, e, known);
}

static void parse_policies(vctx *v, json_t *root, eng_config *cfg)
{
    static const char *const kprio[] = {"max_consecutive", NULL};
    static const char *const knoshow[] = {"min_recalls", "reinstate_within_s", NULL};
    json_t *obj = get_object(v, root, "priority", false);
    size_t o = path_key(v, "priority");
    cfg->prio_max_consecutive =
        get_int(v, obj, "max_consecutive", false, MAX_CONSECUTIVE_DEFAULT, 1, MAX_CONSECUTIVE_MAX);
    if (obj)
        check_unknown(v, obj, kprio);
    path_pop(v, o);

    obj = get_object(v, root, "no_show", false);
    o = path_key(v, "no_show");
    cfg->min_recalls =
        get_int(v, obj, "min_recalls", false, MIN_RECALLS_DEFAULT, 0, MIN_RECALLS_MAX);
    cfg->reinstate_within_s =
        get_int(v, obj, "reinstate_within_s", false, REINSTATE_DEFAULT, 0, REINSTATE_MAX);
    if (obj)
        check_unknown(v, obj, knoshow);
    path_pop(v, o);

    json_t *ss = json_object_get(root, "self_service");
    o = path_key(v, "self_service");
    if (ss && !json_is_boolean(ss))
        prob(v, "expected true or false");
    cfg->self_service = ss && json_is_true(ss);
    path_pop(v, o);
}

static void validate(vctx *v, json_t *root, eng_config *cfg)
{
    static const char *const known[] = {
        "id",       "name",     "utc_offset_min", "hours",        "agencies", "services",
        "counters", "priority", "no_show",        "self_service", NULL};
    refs r = {0};
    const char *raw;

    if (!json_is_object(root)) {
        prob(v, "expected an object");
        return;
    }
    get_id(v, root, "id", cfg->id, &raw, NULL, 0);
    get_name(v, root, "name", cfg->name);
    cfg->utc_offset_min =
        (int32_t)get_int(v, root, "utc_offset_min", true, 0, UTC_OFFSET_MIN, UTC_OFFSET_MAX);
    parse_hours(v, root, cfg);
    /* in this order: services refer to agencies, counters to services */
    cfg->agencies = parse_list(v, root, "agencies", ENG_MAX_AGENCIES, sizeof *cfg->agencies,
                               &cfg->nagencies, parse_agency, cfg, &r);
    r.have_agencies = cfg->agencies != NULL;
    cfg->services = parse_list(v, root, "services", ENG_MAX_SERVICES, sizeof *cfg->services,
                               &cfg->nservices, parse_service, cfg, &r);
    r.have_services = cfg->services != NULL;
    cfg->counters = parse_list(v, root, "counters", ENG_MAX_COUNTERS, sizeof *cfg->counters,
                               &cfg->ncounters, parse_counter, cfg, &r);
    parse_policies(v, root, cfg);
    check_unknown(v, root, known);
}

/* ---- public entry points ---------------------------------------------- */

int eng_config_parse(const char *json, size_t len, eng_config **out, eng_problems *probs)
{
    vctx v = {.probs = probs};
    json_error_t err;

    *out = NULL;
    if (probs)
        probs->count = 0;
    json_t *root = json_loadb(json ? json : "", json ? len : 0,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!root) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return ANT_ENOMEM;
        char text[QUOTE_MAX * 2 + 4];
        clean_copy(text, err.text, QUOTE_MAX * 2);
        path_push(&v, "json");
        prob(&v, "%s at line %d column %d", text, err.line, err.column);
        return ANT_EBADREQ;
    }
    eng_config *cfg = calloc(1, sizeof *cfg);
    if (cfg)
        validate(&v, root, cfg);
    json_decref(root);
    if (cfg && !v.nomem && v.count == 0 && (cfg->json = config_dump(cfg, true))) {
        cfg->json_len = strlen(cfg->json);
        *out = cfg;
        return 0;
    }
    eng_config_free(cfg);
    return !cfg || v.nomem || v.count == 0 ? ANT_ENOMEM : ANT_EBADREQ;
}

void eng_config_free(eng_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->agencies);
    free(cfg->services);
    free(cfg->counters);
    free(cfg->json);
    free(cfg);
}

static void *memdup(const void *p, size_t n, bool *ok)
{
    if (n == 0)
        return NULL;
    void *q = malloc(n);
    if (!q)
        *ok = false;
    else
        memcpy(q, p, n);
    return q;
}

eng_config *eng_config_dup(const eng_config *cfg)
{
    bool ok = true;
    if (!cfg)
        return NULL;
    eng_config *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *cfg;
    c->agencies = memdup(cfg->agencies, cfg->nagencies * sizeof *cfg->agencies, &ok);
    c->services = memdup(cfg->services, cfg->nservices * sizeof *cfg->services, &ok);
    c->counters = memdup(cfg->counters, cfg->ncounters * sizeof *cfg->counters, &ok);
    c->json = cfg->json ? memdup(cfg->json, cfg->json_len + 1, &ok) : NULL;
    if (!ok) {
        eng_config_free(c);
        return NULL;
    }
    return c;
}

int eng_config_service(const eng_config *cfg, const char *id)
{
    for (size_t i = 0; cfg && id && i < cfg->nservices; i++)
        if (strcmp(cfg->services[i].id, id) == 0)
            return (int)i;
    return -1;
}

int eng_config_counter(const eng_config *cfg, const char *id)
{
    for (size_t i = 0; cfg && id && i < cfg->ncounters; i++)
        if (strcmp(cfg->counters[i].id, id) == 0)
            return (int)i;
    return -1;
}

int eng_config_agency(const eng_config *cfg, const char *id)
{
    for (size_t i = 0; cfg && id && i < cfg->nagencies; i++)
        if (strcmp(cfg->agencies[i].id, id) == 0)
            return (int)i;
    return -1;
}
