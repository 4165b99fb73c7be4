/*
 * codec_request.c — requests of SPEC §5 ({"op","rid",…}) from msgpack; JSON
 * requests arrive here too, re-packed by codec_json.c.
 *
 * One validator (req_field) for every field of every op. The rid is read in
 * a first pass, before anything else can fail, so an error reply can carry
 * it. Messages name the field and the problem; they never echo citizen data
 * (phone, name, nik, comment) or secrets (token, ticket secret). Other values
 * may be echoed as a short, sanitized, quoted prefix.
 *
 * Choices where SPEC is silent: an optional field given as nil, or phone /
 * name / nik / comment given as "", is absent; a missing channel means
 * "kiosk"; "staff" is not a channel a client may claim; hall is optional on
 * reinstate, cancel and feedback (the ticket id names the target); fields an
 * op does not take are errors, not ignored.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "codec_priv.h"

#define B(f) CODEC_BIT(f)

/* ---- requests ---------------------------------------------------------- */

enum rfid {
    R_OP,
    R_RID,
    R_HALL,
    R_TOKEN,
    R_SINCE,
    R_SERVICE,
    R_COUNTER,
    R_TICKET,
    R_SECRET,
    R_PRIORITY,
    R_CHANNEL,
    R_IDEM,
    R_PHONE,
    R_NAME,
    R_NIK,
    R_TRANSFER_TO,
    R_PLACEMENT,
    R_SCORE,
    R_COMMENT,
    R_DATE,
    R_SLOT,
    R_BOOKING,
    R_APPOINTMENT,
    R_ELEMENTS,
    R__COUNT
};
static const char *const req_keys[R__COUNT] = {
    "op",        "rid",      "hall",    "token", "since", "service", "counter",     "ticket",
    "secret",    "priority", "channel", "idem",  "phone", "name",    "nik",         "transfer_to",
    "placement", "score",    "comment", "date",  "slot",  "booking", "appointment", "elements",
};

#define R_ISSUE_OPT (B(R_PRIORITY) | B(R_CHANNEL) | B(R_IDEM) | B(R_PHONE) | B(R_NAME) | B(R_NIK))
#define R_HC (B(R_HALL) | B(R_COUNTER))

/* Ops: name, enum codec_op, eng_cmd type, required and optional fields (op, rid aside). */
static const struct reqop {
    const char *name;
    uint8_t op, cmd;
    uint32_t req, opt;
} req_ops[] = {
    {"auth", CODEC_OP_AUTH, 0, B(R_TOKEN), 0},
    {"subscribe", CODEC_OP_SUBSCRIBE, 0, B(R_HALL), B(R_SINCE)},
    {"unsubscribe", CODEC_OP_UNSUBSCRIBE, 0, B(R_HALL), 0},
    {"ping", CODEC_OP_PING, 0, 0, 0},
    {"issue", CODEC_OP_COMMAND, ENG_CMD_ISSUE, B(R_HALL) | B(R_SERVICE), R_ISSUE_OPT},
    {"call", CODEC_OP_COMMAND, ENG_CMD_CALL, R_HC, B(R_TICKET)},
    {"recall", CODEC_OP_COMMAND, ENG_CMD_RECALL, R_HC, 0},
    {"start", CODEC_OP_COMMAND, ENG_CMD_START, R_HC, 0},
    {"finish", CODEC_OP_COMMAND, ENG_CMD_FINISH, R_HC, B(R_TRANSFER_TO) | B(R_PLACEMENT)},
    {"no_show", CODEC_OP_COMMAND, ENG_CMD_NO_SHOW, R_HC, 0},
    /* hall is optional where the ticket id alone names the target */
    {"reinstate", CODEC_OP_COMMAND, ENG_CMD_REINSTATE, B(R_TICKET), B(R_HALL)},
    {"cancel", CODEC_OP_COMMAND, ENG_CMD_CANCEL, B(R_TICKET), B(R_HALL) | B(R_SECRET)},
    /* score or the nine SKM elements (SPEC §14): exactly one, checked after the fields */
    {"feedback", CODEC_OP_COMMAND, ENG_CMD_FEEDBACK, B(R_TICKET),
     B(R_HALL) | B(R_SECRET) | B(R_COMMENT) | B(R_SCORE) | B(R_ELEMENTS)},
    {"counter_open", CODEC_OP_COMMAND, ENG_CMD_COUNTER_OPEN, R_HC, 0},
    {"counter_close", CODEC_OP_COMMAND, ENG_CMD_COUNTER_CLOSE, R_HC, 0},
    {"counter_pause", CODEC_OP_COMMAND, ENG_CMD_COUNTER_PAUSE, R_HC, 0},
    {"counter_resume", CODEC_OP_COMMAND, ENG_CMD_COUNTER_RESUME, R_HC, 0},
    /* appointments (SPEC §11) */
    {"book", CODEC_OP_COMMAND, ENG_CMD_BOOK, B(R_HALL) | B(R_SERVICE) | B(R_DATE) | B(R_SLOT),
     B(R_IDEM) | B(R_PHONE) | B(R_NAME) | B(R_NIK)},
    {"checkin", CODEC_OP_COMMAND, ENG_CMD_CHECKIN, B(R_HALL) | B(R_BOOKING),
     B(R_IDEM) | B(R_CHANNEL)},
    {"appointment_cancel", CODEC_OP_COMMAND, ENG_CMD_APPT_CANCEL, B(R_APPOINTMENT),
     B(R_HALL) | B(R_SECRET)},
};

/* Length of the valid UTF-8 sequence at p (n bytes left) that is not a control character; 0 if
 * none. */
static size_t utf8_char(const unsigned char *p, size_t n, bool allow_newline)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        if (c >= 0x20 && c != 0x7f)
            return 1;
        return allow_newline && (c == '\n' || c == '\r' || c == '\t') ? 1 : 0;
    }
    len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || n < len)
        return 0;
    cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

static bool text_ok(const char *s, size_t n, bool allow_newline)
{
    for (size_t k = 0, l; k < n; k += l)
        if (!(l = utf8_char((const unsigned char *)s + k, n - k, allow_newline)))
            return false;
    return true;
}

static bool id_ok(const char *s, size_t n)
{
    if (n < 1 || n > ENG_ID_MAX)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && k > 0)))
            return false;
    }
    return true;
}

static bool ascii_ok(const char *s, size_t n, char lo)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] < lo || s[k] > 0x7e)
            return false;
    return true;
}

static bool digits_ok(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return true;
}

static void set(char *dst, const codec_mval *v)
{
    memcpy(dst, v->s, v->n);
    dst[v->n] = '\0';
}

static int req_rid(codec_mrd *r, const codec_mval *v, codec_request *req)
{
    req->rid_type = 0;
    switch (v->kind) {
    case MK_NIL:
        return 0;
    case MK_INT:
        req->rid_type = 1;
        req->rid_i = v->i;
        return 0;
    case MK_UINT:
        req->rid_type = 2;
        req->rid_u = v->u;
        return 0;
    case MK_STR:
        if (v->n > 64)
            return codec_fail(r->msg, "field 'rid': longer than 64 bytes");
        if (!text_ok(v->s, v->n, false))
            return codec_fail(r->msg, "field 'rid': invalid UTF-8 or control characters");
        req->rid_type = 3;
        set(req->rid_s, v);
        return 0;
    default:
        return codec_fail(r->msg, "field 'rid': expected integer, string or nil, got %s",
                          codec_kind_name(v->kind));
    }
}

/*
 * The one validator of request fields, for msgpack and JSON alike. Values of
 * citizen data and secrets never reach a message.
 */
static int req_field(codec_mrd *r, int f, const codec_mval *v, codec_request *req)
{
    const char *key = req_keys[f];
    eng_cmd *c = &req->cmd;
    char e[40];
    int k;
    if (f == R_SINCE || f == R_SCORE) {
        uint64_t max = f == R_SINCE ? UINT64_MAX : 4;
        if (v->kind != MK_UINT || v->u > max || (f == R_SCORE && v->u < 1))
            return codec_fail(r->msg, f == R_SINCE
                                          ? "field 'since': expected a non-negative integer"
                                          : "field 'score': expected an integer from 1 to 4");
        if (f == R_SINCE) {
            req->has_since = true;
            req->since = v->u;
        } else {
            c->score = (uint8_t)v->u;
        }
        return 0;
    }
    if (v->kind != MK_STR)
        return codec_fail(r->msg, "field '%s': expected string, got %s", key,
                          codec_kind_name(v->kind));
    if (memchr(v->s, 0, v->n))
        return codec_fail(r->msg, "field '%s': contains a NUL byte", key);
    switch (f) {
    case R_HALL:
    case R_SERVICE:
    case R_COUNTER:
    case R_TRANSFER_TO:
        if (!id_ok(v->s, v->n))
            return codec_fail(r->msg, "field '%s': invalid id '%s' (want [a-z0-9][a-z0-9-]{0,31})",
                              key, codec_echo(v->s, v->n, e));
        set(f == R_HALL      ? req->hall
            : f == R_SERVICE ? req->s_service
            : f == R_COUNTER ? req->s_counter
                             : req->s_transfer,
            v);
        return 0;
    case R_TOKEN:
        if (v->n < 1 || v->n > 128 || !ascii_ok(v->s, v->n, 0x21))
            return codec_fail(r->msg, "field 'token': expected 1-128 printable ASCII characters");
        set(req->token, v);
        return 0;
    case R_TICKET:
    case R_APPOINTMENT:
        if (codec_unhex(v->s, v->n, c->tid, ENG_TID_LEN))
            return codec_fail(r->msg, "field '%s': expected 32 hex digits", key);
        c->has_ticket = true;
        return 0;
    case R_DATE:
    case R_SLOT:
    case R_BOOKING: {
        /* syntax is the engine's to judge (its messages say which part is wrong) */
        size_t max = f == R_DATE ? 10 : f == R_SLOT ? 5 : 16;
        if (v->n < 1 || v->n > max || !ascii_ok(v->s, v->n, 0x20))
            return codec_fail(r->msg, "field '%s': expected %s", key,
                              f == R_DATE   ? "a date YYYY-MM-DD"
                              : f == R_SLOT ? "a slot HH:MM"
                                            : "a booking code");
        set(f == R_DATE ? req->s_date : f == R_SLOT ? req->s_slot : req->s_booking, v);
        return 0;
    }
    case R_SECRET: {
        uint8_t tmp[ENG_SECRET_LEN];
        if (codec_unhex(v->s, v->n, tmp, ENG_SECRET_LEN))
            return codec_fail(r->msg, "field 'secret': expected 32 hex digits");
        codec_hex(tmp, ENG_SECRET_LEN, req->ticket_secret); /* normalized to lower case */
        return 0;
    }
    case R_PRIORITY:
        k = v->n < 16 ? codec_name_index(v, eng_prio_name, 5) : -1;
        if (k <= 0)
            return codec_fail(r->msg,
                              "field 'priority': expected one of elderly, disabled, pregnant, "
                              "child");
        c->prio = (uint8_t)k;
        return 0;
    case R_CHANNEL:
        k = v->n < 16 ? codec_name_index(v, eng_channel_name, 3)
                      : -1; /* "staff" is not for clients */
        if (k < 0)
            return codec_fail(r->msg, "field 'channel': expected one of kiosk, web, app");
        c->channel = (uint8_t)k;
        return 0;
    case R_PLACEMENT:
        k = v->n < 16 ? codec_name_index(v, codec_place_name, 2) : -1;
        if (k < 0)
            return codec_fail(r->msg, "field 'placement': expected first or last");
        c->placement = (uint8_t)k;
        return 0;
    case R_IDEM:
        if (v->n < 1 || v->n > ENG_IDEM_MAX || !ascii_ok(v->s, v->n, 0x20))
            return codec_fail(r->msg, "field 'idem': expected 1-64 printable ASCII characters");
        set(req->s_idem, v);
        return 0;
    case R_PHONE: {
        size_t plus = v->n && v->s[0] == '+';
        if (v->n && (v->n - plus < 6 || v->n - plus > 16 || !digits_ok(v->s + plus, v->n - plus)))
            return codec_fail(r->msg,
                              "field 'phone': expected 6-16 digits with an optional leading '+'");
        set(req->s_phone, v);
        return 0;
    }
    case R_NIK:
        if (v->n && (v->n != ENG_NIK_LEN || !digits_ok(v->s, v->n)))
            return codec_fail(r->msg, "field 'nik': expected exactly 16 digits");
        set(req->s_nik, v);
        return 0;
    case R_NAME:
    case R_COMMENT: {
        size_t max = f == R_NAME ? ENG_PERSON_NAME_MAX : ENG_COMMENT_MAX;
        if (v->n > max)
            return codec_fail(r->msg, "field '%s': longer than %zu bytes", key, max);
        if (!text_ok(v->s, v->n, f == R_COMMENT))
            return codec_fail(r->msg, "field '%s': invalid UTF-8 or control characters", key);
        set(f == R_NAME ? req->s_name : req->s_comment, v);
        return 0;
    }
    }
    return codec_fail(r->msg, "internal: unhandled field '%s'", key);
}

/* Points cmd at the strings the request holds ("" means absent). */
static void req_finish(codec_request *req, const struct reqop *op)
{
    eng_cmd *c = &req->cmd;
    c->type = op->cmd;
#define OPT(s) ((s)[0] ? (s) : NULL)
    c->service = OPT(req->s_service);
    c->counter = OPT(req->s_counter);
    c->transfer_to = OPT(req->s_transfer);
    c->idem = OPT(req->s_idem);
    c->phone = OPT(req->s_phone);
    c->name = OPT(req->s_name);
    c->nik = OPT(req->s_nik);
    c->comment = OPT(req->s_comment);
    c->date = OPT(req->s_date);
    c->slot = OPT(req->s_slot);
    c->booking = OPT(req->s_booking);
#undef OPT
}

/* feedback `elements`: the nine SKM answers, each an integer 1..4. */
static int req_elements(codec_mrd *r, const codec_mval *v, codec_request *req)
{
    if (v->kind != MK_ARRAY || v->n != ENG_SKM_N) {
        if (v->kind == MK_ARRAY || v->kind == MK_MAP)
            codec_mp_skip(r, v, 1);
        return codec_fail(r->msg, "field 'elements': expected an array of %d answers 1 to 4",
                          ENG_SKM_N);
    }
    for (int k = 0; k < ENG_SKM_N; k++) {
        codec_mval x;
        if (codec_mp_next(r, &x))
            return ANT_EBADREQ;
        if (x.kind != MK_UINT || x.u < 1 || x.u > 4)
            return codec_fail(r->msg, "field 'elements[%d]': expected an integer from 1 to 4", k);
        req->cmd.elements[k] = (uint8_t)x.u;
    }
    return 0;
}

int codec_request_msgpack(const char *p, size_t len, codec_request *req, char msg[200])
{
    codec_mrd r = {(const uint8_t *)p, (const uint8_t *)p + len, msg};
    codec_mval m, key, val, opv = {0};
    char e[40];
    memset(req, 0, sizeof *req);
    req->cmd.channel = ENG_CH_KIOSK; /* a request that names no channel comes from a kiosk */
    req->cmd.placement = ENG_PLACE_LAST;
    msg[0] = '\0';
    if (codec_mp_next(&r, &m))
        return ANT_EBADREQ;
    if (m.kind != MK_MAP)
        return codec_fail(msg, "request: expected map, got %s", codec_kind_name(m.kind));
    if (m.n > CODEC_MP_MAX_MAP)
        return codec_fail(msg, "request: more than %d fields", CODEC_MP_MAX_MAP);
    /* pass 1: structure, rid and op, so an error reply can carry the rid */
    const uint8_t *body = r.p;
    bool have_op = false, have_rid = false, bad_key = false;
    int rid_rc = 0;
    for (size_t k = 0; k < m.n; k++) {
        if (codec_mp_next(&r, &key) || codec_mp_skip(&r, &key, 1) || codec_mp_next(&r, &val) ||
            codec_mp_skip(&r, &val, 1))
            return ANT_EBADREQ;
        if (key.kind != MK_STR) {
            bad_key = true;
        } else if (codec_keyeq(&key, "rid") && !have_rid) {
            have_rid = true;
            rid_rc = req_rid(&r, &val, req);
        } else if (codec_keyeq(&key, "op") && !have_op) {
            opv = val;
            have_op = true;
        }
    }
    if (r.p != r.end)
        return codec_fail(msg, "request: %zu trailing bytes after the map", (size_t)(r.end - r.p));
    if (rid_rc)
        return rid_rc;
    if (bad_key)
        return codec_fail(msg, "request: field names must be strings");
    if (!have_op)
        return codec_fail(msg, "missing field 'op'");
    if (opv.kind != MK_STR)
        return codec_fail(msg, "field 'op': expected string, got %s", codec_kind_name(opv.kind));
    const struct reqop *op = NULL;
    for (size_t k = 0; k < sizeof req_ops / sizeof req_ops[0] && !op; k++)
        if (codec_keyeq(&opv, req_ops[k].name))
            op = &req_ops[k];
    if (!op)
        return codec_fail(msg, "field 'op': unknown op '%s'", codec_echo(opv.s, opv.n, e));
    req->op = op->op;
    snprintf(req->op_name, sizeof req->op_name, "%s", op->name);

    /* pass 2: every other field, in the order given */
    uint32_t seen = 0;
    r.p = body;
    for (size_t k = 0; k < m.n; k++) {
        /* cannot fail: pass 1 walked the same bytes */
        (void)(codec_mp_next(&r, &key) || codec_mp_next(&r, &val));
        int f = -1;
        for (int q = 0; q < R__COUNT && f < 0; q++)
            if (codec_keyeq(&key, req_keys[q]))
                f = q;
        if (f < 0)
            return codec_fail(msg, "unknown field '%s'", codec_echo(key.s, key.n, e));
        if (seen & B(f))
            return codec_fail(msg, "duplicate field '%s'", req_keys[f]);
        seen |= B(f);
        if (f == R_OP || f == R_RID) { /* done in pass 1 */
            codec_mp_skip(&r, &val, 1);
            continue;
        }
        if (!((op->req | op->opt) & B(f)))
            return codec_fail(msg, "field '%s' is not allowed for op '%s'", req_keys[f], op->name);
        if (val.kind == MK_NIL && (op->opt & B(f)))
            continue; /* an optional field given as nil is absent */
        if (f == R_ELEMENTS) {
            if (req_elements(&r, &val, req))
                return ANT_EBADREQ;
            continue;
        }
        if (val.kind == MK_ARRAY || val.kind == MK_MAP)
            return codec_fail(msg, "field '%s': expected %s, got %s", req_keys[f],
                              f == R_SINCE || f == R_SCORE ? "integer" : "string",
                              codec_kind_name(val.kind));
        if (req_field(&r, f, &val, req))
            return ANT_EBADREQ;
    }
    for (int f = 0; f < R__COUNT; f++)
        if ((op->req & B(f)) && !(seen & B(f)))
            return codec_fail(msg, "missing field '%s'", req_keys[f]);
    if (op->cmd == ENG_CMD_FEEDBACK && op->op == CODEC_OP_COMMAND) {
        bool sc = seen & B(R_SCORE) && req->cmd.score, el = req->cmd.elements[0] != 0;
        if (sc == el)
            return codec_fail(msg, sc ? "feedback: give either 'score' or 'elements', not both"
                                      : "missing field 'score' (1 to 4) or 'elements' (nine "
                                        "answers 1 to 4)");
    }
    if (op->op == CODEC_OP_COMMAND)
        req_finish(req, op);
    return 0;
}
