/*
 * codec.c — the byte buffer, hex, and the encoding of events (msgpack, JSON).
 *
 * Both encodings are written from one list of fields built per event type and
 * mode (ev_fields), so msgpack and JSON carry the same content in the same,
 * fixed order: the same event always gives the same bytes. The public mode
 * leaves out everything SPEC §3 keeps from public subscribers (citizen data,
 * the priority reason, the secret, the idem key, the ticket id, feedback).
 *
 * hall.config: in full mode the config travels as the string field
 * "config_json". In public mode both encodings carry the object "config":
 * the public form of the config (eng_config_public_json, as GET
 * /v1/halls/{hall} serves it), a JSON object or a msgpack map. Config
 * changes are rare, so that path may parse and allocate.
 *
 * The hot path (broadcast) allocates nothing but buffer growth.
 */
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* ---- codec_buf --------------------------------------------------------- */

void codec_buf_init(codec_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void codec_buf_reset(codec_buf *b)
{
    b->len = 0;
}

void codec_buf_free(codec_buf *b)
{
    free(b->data);
    codec_buf_init(b);
}

static int buf_grow(codec_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return ANT_ENOMEM;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d)
        return ANT_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int codec_buf_append(codec_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - b->len || buf_grow(b, b->len + n))
        return ANT_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---- hex --------------------------------------------------------------- */

void codec_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* hex digit value + 1, 0 for anything else (upper case accepted) */
static const uint8_t hex_plus1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c)
{
    return (int)hex_plus1[(uint8_t)c] - 1;
}

/* Upper-case digits are accepted too; output is always lower-case. */
int codec_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (slen != 2 * n)
        return ANT_EBADREQ;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ANT_EBADREQ;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* ---- the field list ---------------------------------------------------- */

enum fkind {
    FK_STR,
    FK_U64,
    FK_I64,
    FK_BOOL,
    FK_NIL,
    FK_HEX,
    FK_RAW,
    FK_WAIT,
    FK_CONFIG,
    FK_ELEMENTS /* ev->elements: an array of ENG_SKM_N small integers */
};

typedef struct efield {
    const char *key;
    uint8_t kind;
    const char *s; /* FK_STR, FK_RAW; FK_HEX: the bytes */
    size_t n;      /* length of s */
    uint64_t u;    /* FK_U64, FK_BOOL */
    int64_t i;     /* FK_I64 */
} efield;

#define EV_FIELDS_MAX 24

typedef struct evfields {
    efield f[EV_FIELDS_MAX];
    int n;
    char day[16];
    char slot[6];
} evfields;

static void add(evfields *fl, const char *key, int kind, const char *s, size_t n, uint64_t u,
                int64_t i)
{
    efield *f = &fl->f[fl->n++];
    f->key = key;
    f->kind = (uint8_t)kind;
    f->s = s;
    f->n = n;
    f->u = u;
    f->i = i;
}

static void add_str(evfields *fl, const char *key, const char *s)
{
    add(fl, key, FK_STR, s, strlen(s), 0, 0);
}

static void add_u64(evfields *fl, const char *key, uint64_t u)
{
    add(fl, key, FK_U64, NULL, 0, u, 0);
}

static void add_hex(evfields *fl, const char *key, const uint8_t *bytes)
{
    add(fl, key, FK_HEX, (const char *)bytes, ENG_TID_LEN, 0, 0);
}

static bool has_counter_field(int type)
{
    switch (type) {
    case ENG_EV_TICKET_CALLED:
    case ENG_EV_TICKET_RECALLED:
    case ENG_EV_TICKET_SERVING:
    case ENG_EV_TICKET_DONE:
    case ENG_EV_TICKET_NO_SHOW:
    case ENG_EV_TICKET_TRANSFERRED:
        return true;
    default:
        return false;
    }
}

static const char *placement_name(int p)
{
    return p == ENG_PLACE_FIRST ? "first" : "last";
}

static void add_checkin(evfields *fl, const eng_event *ev, bool full);

static void add_pii(evfields *fl, const eng_event *ev)
{
    if (ev->has_pii) {
        if (ev->pii.phone[0])
            add_str(fl, "phone", ev->pii.phone);
        if (ev->pii.name[0])
            add_str(fl, "name", ev->pii.name);
        if (ev->pii.nik[0])
            add_str(fl, "nik", ev->pii.nik);
    }
}

static void add_issued(evfields *fl, const eng_event *ev, bool full)
{
    if (!full) {
        add(fl, "priority", FK_BOOL, NULL, 0, ev->prio != ENG_PRIO_NONE, 0);
        add_checkin(fl, ev, false);
        return;
    }
    const char *reason = eng_prio_name(ev->prio);
    if (ev->prio != ENG_PRIO_NONE && reason)
        add_str(fl, "priority", reason);
    else
        add(fl, "priority", FK_NIL, NULL, 0, 0, 0);
    add_hex(fl, "secret", ev->secret);
    add_u64(fl, "number", ev->number);
    const char *ch = eng_channel_name(ev->channel);
    add_str(fl, "channel", ch ? ch : "kiosk");
    if (ev->idem)
        add_str(fl, "idem", ev->idem);
    add_pii(fl, ev);
    add_checkin(fl, ev, true);
}

/* A ticket issued by checking in a booking (SPEC §11): the public sees
 * whether it is an appointment ticket and whether it came late. */
static void add_checkin(evfields *fl, const eng_event *ev, bool full)
{
    if (!ev->checkin)
        return;
    if (full)
        add_hex(fl, "appointment_id", ev->appt_id);
    add(fl, "appointment", FK_BOOL, NULL, 0, !ev->late, 0);
    if (ev->late)
        add(fl, "late", FK_BOOL, NULL, 0, 1, 0);
}

/* appointment.*: the public form says which slot filled or freed, nothing more */
static void add_appt(evfields *fl, const eng_event *ev, bool full)
{
    if (full)
        add_hex(fl, "appointment_id", ev->appt_id);
    add_str(fl, "service", ev->service);
    eng_format_date(ev->day, fl->day);
    add_str(fl, "date", fl->day);
    snprintf(fl->slot, sizeof fl->slot, "%02u:%02u", (unsigned)(ev->slot / 60) % 100,
             (unsigned)ev->slot % 60);
    add_str(fl, "slot", fl->slot);
    if (!full || ev->type != ENG_EV_APPT_BOOKED)
        return;
    add_hex(fl, "secret", ev->secret);
    add_str(fl, "booking", ev->booking);
    if (ev->idem)
        add_str(fl, "idem", ev->idem);
    add_pii(fl, ev);
}

/* Fills fl for ev; json selects how hall.config travels in public mode. */
static int ev_fields(const eng_event *ev, int mode, bool json, evfields *fl)
{
    const char *name = eng_ev_name(ev->type);
    bool full = mode == CODEC_FULL;
    if (!name || (mode != CODEC_FULL && mode != CODEC_PUBLIC))
        return ANT_EINTERNAL;
    if (!full && !eng_ev_public(ev->type))
        return ANT_EINTERNAL;
    fl->n = 0;
    add_str(fl, "ev", name);
    add_str(fl, "hall", ev->hall);
    add_u64(fl, "seq", ev->seq);
    add(fl, "at", FK_I64, NULL, 0, 0, ev->at);

    if (ev->type >= ENG_EV_TICKET_ISSUED && ev->type <= ENG_EV_TICKET_FEEDBACK) {
        if (full)
            add_hex(fl, "ticket", ev->tid);
        add_str(fl, "code", ev->code);
        add_str(fl, "service", ev->service);
        if (has_counter_field(ev->type) && ev->counter[0])
            add_str(fl, "counter", ev->counter);
    }
    switch (ev->type) {
    case ENG_EV_TICKET_ISSUED:
        add_issued(fl, ev, full);
        break;
    case ENG_EV_TICKET_RECALLED:
        add_u64(fl, "recalls", ev->recalls);
        break;
    case ENG_EV_TICKET_TRANSFERRED:
        add_str(fl, "from_service", ev->from_service);
        add_str(fl, "placement", placement_name(ev->placement));
        break;
    case ENG_EV_TICKET_REINSTATED:
        add_str(fl, "placement", placement_name(ev->placement));
        break;
    case ENG_EV_TICKET_FEEDBACK:
        if (full) { /* a rating is the citizen's: public subscribers see only that one came */
            add_u64(fl, "score", ev->score);
            if (ev->elements[0])
                add(fl, "elements", FK_ELEMENTS, NULL, 0, 0, 0);
            if (ev->comment)
                add_str(fl, "comment", ev->comment);
        }
        break;
    case ENG_EV_COUNTER_STATE: {
        const char *st = eng_counter_state_name(ev->counter_state);
        add_str(fl, "counter", ev->counter);
        add_str(fl, "state", st ? st : "closed");
        break;
    }
    case ENG_EV_SERVICE_WAIT:
        add(fl, "services", FK_WAIT, NULL, 0, 0, 0);
        break;
    case ENG_EV_HALL_CONFIG: {
        const char *cj = ev->config_json ? ev->config_json : "";
        size_t cl = ev->config_json ? ev->config_len : 0;
        (void)json;
        if (!full)
            add(fl, "config", cl ? FK_CONFIG : FK_NIL, cj, cl, 0, 0);
        else
            add(fl, "config_json", FK_STR, cj, cl, 0, 0);
        break;
    }
    case ENG_EV_DAY_ROLLOVER:
        eng_format_date(ev->day, fl->day);
        add_str(fl, "day", fl->day);
        break;
    case ENG_EV_APPT_BOOKED:
    case ENG_EV_APPT_CANCELLED:
        add_appt(fl, ev, full);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- msgpack ----------------------------------------------------------- */

static int mp_write(void *data, const char *buf, size_t len)
{
    return codec_buf_append(data, buf, len) ? -1 : 0;
}

static int mp_str(msgpack_packer *pk, const char *s, size_t n)
{
    if (n > UINT32_MAX)
        return -1;
    if (msgpack_pack_str(pk, n))
        return -1;
    return msgpack_pack_str_body(pk, s, n);
}

/*
 * The public form of a config given as the engine's canonical JSON text: the
 * same object without the staff-only sections, as eng_config_public_json
 * gives it. Caller decrefs; NULL when the text is not a JSON object.
 */
static json_t *public_config(const char *json, size_t len)
{
    json_t *v = json_loadb(json, len, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    json_object_del(v, "priority");
    json_object_del(v, "no_show");
    return v;
}

/* A JSON value as msgpack (objects as maps, in their key order). */
static int mp_json(msgpack_packer *pk, json_t *v, int depth)
{
    if (depth > 16)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        if (msgpack_pack_map(pk, json_object_size(v)))
            return -1;
        json_object_foreach(v, k, x)
        {
            if (mp_str(pk, k, strlen(k)) || mp_json(pk, x, depth + 1))
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        if (msgpack_pack_array(pk, json_array_size(v)))
            return -1;
        json_array_foreach(v, i, x)
        {
            if (mp_json(pk, x, depth + 1))
                return -1;
        }
        return 0;
    }
    case JSON_STRING:
        return mp_str(pk, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, json_integer_value(v));
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(v));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    default:
        return msgpack_pack_nil(pk);
    }
}

static int mp_config(msgpack_packer *pk, const char *json, size_t len)
{
    json_t *v = public_config(json, len);
    int rc = v ? mp_json(pk, v, 0) : -1;
    json_decref(v);
    return rc;
}

static int mp_wait(msgpack_packer *pk, const eng_event *ev)
{
    unsigned nw = ev->nwait > 16 ? 16 : ev->nwait;
    if (msgpack_pack_array(pk, nw))
        return -1;
    for (unsigned k = 0; k < nw; k++) {
        const struct eng_wait_item *w = &ev->wait[k];
        if (msgpack_pack_map(pk, 4) || mp_str(pk, "id", 2) ||
            mp_str(pk, w->service, strlen(w->service)) || mp_str(pk, "waiting", 7) ||
            msgpack_pack_uint32(pk, w->waiting) || mp_str(pk, "eta_s", 5) ||
            msgpack_pack_uint32(pk, w->eta_s) || mp_str(pk, "oldest_wait_s", 13) ||
            msgpack_pack_uint32(pk, w->oldest_wait_s))
            return -1;
    }
    return 0;
}

static int mp_field(msgpack_packer *pk, const efield *f, const eng_event *ev)
{
    char hex[2 * ENG_TID_LEN + 1];
    if (mp_str(pk, f->key, strlen(f->key)))
        return -1;
    switch (f->kind) {
    case FK_STR:
    case FK_RAW:
        return mp_str(pk, f->s, f->n);
    case FK_U64:
        return msgpack_pack_uint64(pk, f->u);
    case FK_I64:
        return msgpack_pack_int64(pk, f->i);
    case FK_BOOL:
        return f->u ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case FK_NIL:
        return msgpack_pack_nil(pk);
    case FK_HEX:
        codec_hex((const uint8_t *)f->s, f->n, hex);
        return mp_str(pk, hex, 2 * f->n);
    case FK_WAIT:
        return mp_wait(pk, ev);
    case FK_CONFIG:
        return mp_config(pk, f->s, f->n);
    case FK_ELEMENTS:
        if (msgpack_pack_array(pk, ENG_SKM_N))
            return -1;
        for (int k = 0; k < ENG_SKM_N; k++)
            if (msgpack_pack_uint8(pk, ev->elements[k]))
                return -1;
        return 0;
    }
    return -1;
}

int codec_event_msgpack(const eng_event *ev, int mode, codec_buf *out)
{
    evfields fl;
    int rc = ev_fields(ev, mode, false, &fl);
    if (rc)
        return rc;
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, mp_write);
    bool bad = msgpack_pack_map(&pk, (size_t)fl.n) != 0;
    for (int k = 0; k < fl.n && !bad; k++)
        bad = mp_field(&pk, &fl.f[k], ev) != 0;
    if (bad) {
        out->len = start;
        return ANT_ENOMEM;
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/*
 * A JSON string literal. Valid UTF-8 passes through; control characters,
 * quote and backslash are escaped; an invalid byte becomes U+FFFD so the
 * output is always valid JSON.
 */
static int json_str(codec_buf *b, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, k = 0;
    if (codec_buf_append(b, "\"", 1))
        return -1;
    while (k < n) {
        unsigned c = p[k];
        size_t sl = 1;
        char esc[8];
        size_t elen = 0;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            k++;
            continue;
        }
        if (c >= 0x80) {
            sl = utf8_seq(p + k, n - k);
            if (sl) {
                k += sl;
                continue;
            }
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
            if (named) {
                memcpy(esc, named, 2);
                elen = 2;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hexd[c >> 4];
                esc[5] = hexd[c & 15];
                elen = 6;
            }
        }
        if (codec_buf_append(b, s + run, k - run) || codec_buf_append(b, esc, elen))
            return -1;
        k += 1;
        run = k;
    }
    if (codec_buf_append(b, s + run, n - run) || codec_buf_append(b, "\"", 1))
        return -1;
    return 0;
}

static int json_u64(codec_buf *b, uint64_t v)
{
    char tmp[24];
    size_t k = sizeof tmp;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return codec_buf_append(b, tmp + k, sizeof tmp - k) ? -1 : 0;
}

static int json_i64(codec_buf *b, int64_t v)
{
    if (v >= 0)
        return json_u64(b, (uint64_t)v);
    if (codec_buf_append(b, "-", 1))
        return -1;
    return json_u64(b, (uint64_t)0 - (uint64_t)v);
}

static int json_key(codec_buf *b, const char *key, bool first)
{
    if (!first && codec_buf_append(b, ",", 1))
        return -1;
    if (json_str(b, key, strlen(key)) || codec_buf_append(b, ":", 1))
        return -1;
    return 0;
}

static int json_wait(codec_buf *b, const eng_event *ev)
{
    unsigned nw = ev->nwait > 16 ? 16 : ev->nwait;
    if (codec_buf_append(b, "[", 1))
        return -1;
    for (unsigned k = 0; k < nw; k++) {
        const struct eng_wait_item *w = &ev->wait[k];
        if ((k && codec_buf_append(b, ",", 1)) || codec_buf_append(b, "{", 1) ||
            json_key(b, "id", true) || json_str(b, w->service, strlen(w->service)) ||
            json_key(b, "waiting", false) || json_u64(b, w->waiting) ||
            json_key(b, "eta_s", false) || json_u64(b, w->eta_s) ||
            json_key(b, "oldest_wait_s", false) || json_u64(b, w->oldest_wait_s) ||
            codec_buf_append(b, "}", 1))
            return -1;
    }
    return codec_buf_append(b, "]", 1) ? -1 : 0;
}

static int json_field(codec_buf *b, const efield *f, const eng_event *ev, bool first)
{
    char hex[2 * ENG_TID_LEN + 1];
    if (json_key(b, f->key, first))
        return -1;
    switch (f->kind) {
    case FK_STR:
        return json_str(b, f->s, f->n);
    case FK_RAW:
        return codec_buf_append(b, f->s, f->n) ? -1 : 0;
    case FK_U64:
        return json_u64(b, f->u);
    case FK_I64:
        return json_i64(b, f->i);
    case FK_BOOL:
        return codec_buf_append(b, f->u ? "true" : "false", f->u ? 4 : 5) ? -1 : 0;
    case FK_NIL:
        return codec_buf_append(b, "null", 4) ? -1 : 0;
    case FK_HEX:
        codec_hex((const uint8_t *)f->s, f->n, hex);
        return json_str(b, hex, 2 * f->n);
    case FK_WAIT:
        return json_wait(b, ev);
    case FK_ELEMENTS: {
        char t[2 * ENG_SKM_N + 2];
        size_t n = 0;
        t[n++] = '[';
        for (int k = 0; k < ENG_SKM_N; k++) {
            if (k)
                t[n++] = ',';
            t[n++] = (char)('0' + ev->elements[k] % 10);
        }
        t[n++] = ']';
        return codec_buf_append(b, t, n) ? -1 : 0;
    }
    case FK_CONFIG: {
        json_t *v = public_config(f->s, f->n);
        char *pub = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        int rc = pub && codec_buf_append(b, pub, strlen(pub)) == 0 ? 0 : -1;
        free(pub);
        json_decref(v);
        return rc;
    }
    }
    return -1;
}

int codec_event_json(const eng_event *ev, int mode, codec_buf *out)
{
    evfields fl;
    int rc = ev_fields(ev, mode, true, &fl);
    if (rc)
        return rc;
    size_t start = out->len;
    bool bad = codec_buf_append(out, "{", 1) != 0;
    for (int k = 0; k < fl.n && !bad; k++)
        bad = json_field(out, &fl.f[k], ev, k == 0) != 0;
    if (!bad)
        bad = codec_buf_append(out, "}", 1) != 0;
    if (bad) {
        out->len = start;
        return ANT_ENOMEM;
    }
    return 0;
}
