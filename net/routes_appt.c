/*
 * routes_appt.c — the appointment routes of SPEC §11 and their WebSocket
 * ops (book, checkin, appointment_cancel):
 *
 *   GET    /v1/halls/{hall}/services/{service}/slots?date=   public
 *   POST   /v1/halls/{hall}/appointments                     self_service or kiosk+ token
 *   GET    /v1/halls/{hall}/appointments?date=               operator+ (citizen data manager+)
 *   GET    /v1/appointments/{id}                             X-Ticket-Secret or operator+
 *   DELETE /v1/appointments/{id}                             X-Ticket-Secret or operator+
 *   POST   /v1/halls/{hall}/checkin                          self_service or kiosk+ token
 *
 * Like every route it decodes, checks who asks and hands a command to the
 * engine; what a booking may be is the engine's to say. The booking code,
 * id and secret are drawn here from the CSPRNG and travel in the command.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

/* ---- replies ------------------------------------------------------------ */

static void write_appt(const eng_appt_view *a, srv_hall *h, jo *w, bool with_secret, bool pii)
{
    char id[2 * ENG_TID_LEN + 1], sec[2 * ENG_SECRET_LEN + 1], url[100];
    codec_hex(a->id, ENG_TID_LEN, id);
    jo_obj(w);
    jo_kstr(w, "id", id);
    if (with_secret) {
        codec_hex(a->secret, ENG_SECRET_LEN, sec);
        snprintf(url, sizeof url, "/a/%s#%s", id, sec);
        jo_kstr(w, "secret", sec);
    }
    jo_kstr(w, "booking", a->booking);
    jo_kstr(w, "hall", h->id);
    jo_kstr(w, "service", a->service);
    jo_kstr(w, "date", a->date);
    jo_kstr(w, "slot", a->slot);
    jo_kint(w, "slot_at", a->slot_at);
    jo_kstr(w, "state", eng_appt_state_name(a->state));
    if (a->state == ENG_APPT_CHECKED_IN)
        jo_kbool(w, "late", a->late);
    if (with_secret)
        jo_kstr(w, "url", url);
    eng_ticket_view t;
    if (a->has_ticket && eng_ticket_get(h->h, a->ticket, srv_now_ms(), &t) == 0) {
        jo_key(w, "ticket");
        route_write_ticket_public(&t, h->id, w, true);
        if (with_secret) { /* the booking's holder is the ticket's holder */
            char tid[2 * ENG_TID_LEN + 1], ts[2 * ENG_SECRET_LEN + 1], tu[100];
            codec_hex(t.tid, ENG_TID_LEN, tid);
            codec_hex(t.secret, ENG_SECRET_LEN, ts);
            snprintf(tu, sizeof tu, "/t/%s#%s", tid, ts);
            jo_kstr(w, "ticket_url", tu);
        }
    }
    if (pii && a->has_pii) {
        if (a->pii.phone[0])
            jo_kstr(w, "phone", a->pii.phone);
        if (a->pii.name[0])
            jo_kstr(w, "name", a->pii.name);
        if (a->pii.nik[0])
            jo_kstr(w, "nik", a->pii.nik);
    }
    jo_obj_end(w);
}

/* 201 {"id","secret","booking","service","date","slot","url",…} */
static int book_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                       void *arg)
{
    (void)s, (void)cmd, (void)arg;
    write_appt(&res->appt, h, w, true, false);
    return 201;
}

static int cancel_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                         void *arg)
{
    (void)s, (void)cmd, (void)arg;
    write_appt(&res->appt, h, w, false, false);
    return 200;
}

/* 201: the ticket reply of §4 plus "appointment" and, when it came too late, "late" */
static int checkin_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                          void *arg)
{
    (void)s, (void)cmd, (void)arg;
    eng_ticket_view fresh;
    const eng_ticket_view *t = &res->ticket;
    if (eng_ticket_get(h->h, res->ticket.tid, srv_now_ms(), &fresh) == 0)
        t = &fresh;
    char id[2 * ENG_TID_LEN + 1], sec[2 * ENG_SECRET_LEN + 1], url[100];
    codec_hex(t->tid, ENG_TID_LEN, id);
    codec_hex(t->secret, ENG_SECRET_LEN, sec);
    snprintf(url, sizeof url, "/t/%s#%s", id, sec);
    jo_obj(w);
    jo_kstr(w, "id", id);
    jo_kstr(w, "secret", sec);
    jo_kstr(w, "code", t->code);
    jo_kstr(w, "service", t->service);
    jo_kbool(w, "priority", t->prio != ENG_PRIO_NONE);
    jo_kuint(w, "position", t->position);
    jo_kuint(w, "eta_s", t->eta_s);
    jo_kint(w, "issued_at", t->issued_at);
    jo_kstr(w, "url", url);
    jo_kbool(w, "appointment", t->appointment);
    if (res->has_appt && res->appt.late)
        jo_kbool(w, "late", true);
    jo_obj_end(w);
    return 201;
}

/* ---- who may ask -------------------------------------------------------- */

/*
 * Book and check in: a kiosk-or-better token of the hall, or nobody when the
 * hall is self-service (then the per-IP limit of public issue applies). Fills
 * the command's fresh id, secret and (book) booking code. 0, or an error
 * with msg set; ra > 0 on a rate limit (seconds to wait).
 */
static int prepare(conn *c, srv_hall *h, eng_cmd *cmd, auth_token *tok, bool present,
                   char code[ENG_BOOKING_LEN + 1], char msg[128], uint32_t *ra)
{
    srv *s = c->s;
    *ra = 0;
    if (present) {
        int rc = auth_check(tok, PERM_ISSUE, h->id);
        if (rc) {
            snprintf(msg, 128, "%s",
                     rc == ANT_EUNAUTH ? "unknown token" : "the token does not allow this here");
            return rc;
        }
    } else if (!eng_hall_config(h->h)->self_service) {
        snprintf(msg, 128, "this hall books and checks in at its kiosks only (kiosk token)");
        return ANT_EUNAUTH;
    } else {
        if ((*ra = rl_take(s->rl, c->ip, srv_now_ms())) != 0) {
            s->m.rate_limited++;
            snprintf(msg, 128, "too many requests from this address; retry in %u s", *ra);
            return ANT_ERATELIMIT;
        }
        if (cmd->channel == ENG_CH_STAFF)
            cmd->channel = ENG_CH_APP;
    }
    if (srv_random(cmd->tid, ENG_TID_LEN) != 0 || srv_random(cmd->secret, ENG_SECRET_LEN) != 0) {
        snprintf(msg, 128, "no randomness available");
        return ANT_EINTERNAL;
    }
    if (cmd->type != ENG_CMD_BOOK)
        return 0;
    /* 31^6 ≈ 887 million codes: a clash is rare, and then another draw settles it */
    static const char alpha[] = ENG_BOOKING_ALPHABET;
    for (int tries = 0; tries < 8; tries++) {
        uint8_t rnd[ENG_BOOKING_LEN];
        if (srv_random(rnd, sizeof rnd) != 0)
            break;
        for (int i = 0; i < ENG_BOOKING_LEN; i++)
            code[i] = alpha[rnd[i] % (sizeof alpha - 1)]; /* bias of 256 % 31 is harmless */
        code[ENG_BOOKING_LEN] = '\0';
        if (!eng_booking_code_used(h->h, code)) {
            cmd->booking = code;
            return 0;
        }
    }
    snprintf(msg, 128, "could not draw a free booking code");
    return ANT_EINTERNAL;
}

/* The booking and its hall; the citizen's secret or an operator+ token. Answers errors. */
static int appt_access(route_req *r, const char *idhex, srv_hall **ph, eng_appt_view *v, bool *pii,
                       bool *by_secret)
{
    *by_secret = false;
    uint8_t id[ENG_TID_LEN];
    srv *s = r->c->s;
    *pii = false;
    if (strlen(idhex) != 2 * ENG_TID_LEN || codec_unhex(idhex, strlen(idhex), id, sizeof id)) {
        route_error(r, ANT_ENOTFOUND, "no such appointment (ids are 32 hex digits)");
        return ANT_ENOTFOUND;
    }
    *ph = NULL;
    for (size_t i = 0; i < s->nhalls && !*ph; i++)
        if (eng_appt_get(s->halls[i]->h, id, v) == 0)
            *ph = s->halls[i];
    if (!*ph) {
        route_error(r, ANT_ENOTFOUND, "no such appointment");
        return ANT_ENOTFOUND;
    }
    size_t n;
    const char *sec = http_header(r->c, "X-Ticket-Secret", &n);
    if (sec) {
        uint8_t b[ENG_SECRET_LEN];
        if (n != 2 * ENG_SECRET_LEN || codec_unhex(sec, n, b, sizeof b) != 0 ||
            CRYPTO_memcmp(b, v->secret, ENG_SECRET_LEN) != 0) {
            route_error(r, ANT_EFORBIDDEN, "wrong appointment secret");
            return ANT_EFORBIDDEN;
        }
        *by_secret = true;
        return 0;
    }
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    if (present) {
        int rc = auth_check(tok, PERM_COUNTER, (*ph)->id);
        if (rc)
            route_error(r, rc, rc == ANT_EUNAUTH ? "unknown token" : "not allowed in this hall");
        else
            *pii = auth_check(tok, PERM_PII, (*ph)->id) == 0;
        return rc;
    }
    route_error(r, ANT_EUNAUTH, "this route needs the appointment secret (X-Ticket-Secret)");
    return ANT_EUNAUTH;
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct slot_ctx {
    jo *w;
} slot_ctx;

static void on_slot(const char *slot, uint32_t free_n, void *arg)
{
    slot_ctx *x = arg;
    jo_obj(x->w);
    jo_kstr(x->w, "slot", slot);
    jo_kuint(x->w, "free", free_n);
    jo_obj_end(x->w);
}

static void route_slots(route_req *r, srv_hall *h, const char *service)
{
    char date[16], msg[200];
    if (!route_query(r, "date", date, sizeof date)) {
        route_error(r, ANT_EBADREQ, "date: missing (?date=YYYY-MM-DD)");
        return;
    }
    /* check first, so that an error is not half a body */
    int rc = eng_slots_each(h->h, service, date, srv_now_ms(), NULL, NULL, msg);
    if (rc) {
        route_error(r, rc, msg);
        return;
    }
    jo *w = route_begin(r);
    slot_ctx x = {w};
    jo_arr(w);
    eng_slots_each(h->h, service, date, srv_now_ms(), on_slot, &x, msg);
    jo_arr_end(w);
    route_end(r, 200);
}

static void route_book(route_req *r, srv_hall *h)
{
    srv *s = r->c->s;
    static const char *const allowed[] = {"service", "date", "slot", "idem",
                                          "phone",   "name", "nik",  NULL};
    codec_request *req = &s->req;
    if (route_body_request(r, "book", allowed, json_pack("{ss}", "hall", h->id), req) != 0)
        return;
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    char code[ENG_BOOKING_LEN + 1]; /* srv_command applies at once: the event copies it */
    char msg[128];
    uint32_t ra;
    int rc = prepare(r->c, h, &req->cmd, tok, present, code, msg, &ra);
    if (rc == ANT_ERATELIMIT) {
        http_respond_error_ra(r->c, rc, msg, ra);
        http_done(r->c);
        return;
    }
    if (rc) {
        route_error(r, rc, msg);
        return;
    }
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_BOOK};
    srv_command(s, h, &req->cmd, &o, book_result, NULL);
}

typedef struct list_ctx {
    jo *w;
    srv_hall *h;
    const char *service;
    bool pii;
} list_ctx;

static int on_appt(const eng_appt_view *a, void *arg)
{
    list_ctx *x = arg;
    if (!x->service || strcmp(x->service, a->service) == 0)
        write_appt(a, x->h, x->w, false, x->pii);
    return 0;
}

static void route_appts(route_req *r, srv_hall *h)
{
    auth_token *tok;
    if (route_auth(r, PERM_COUNTER, h->id, &tok) != 0)
        return;
    char date[16], service[ENG_ID_MAX + 1];
    int32_t day = eng_hall_day(h->h);
    if (route_query(r, "date", date, sizeof date) &&
        (strlen(date) != 10 || eng_parse_date(date, &day))) {
        route_error(r, ANT_EBADREQ, "date: expected YYYY-MM-DD");
        return;
    }
    bool by_service = route_query(r, "service", service, sizeof service);
    jo *w = route_begin(r);
    list_ctx x = {w, h, by_service ? service : NULL, auth_check(tok, PERM_PII, h->id) == 0};
    jo_arr(w);
    eng_appts_each(h->h, day, -1, on_appt, &x);
    jo_arr_end(w);
    route_end(r, 200);
}

static void route_appt(route_req *r, const char *id)
{
    srv_hall *h;
    eng_appt_view v;
    bool pii, by_secret;
    if (appt_access(r, id, &h, &v, &pii, &by_secret) != 0)
        return;
    jo *w = route_begin(r);
    write_appt(&v, h, w, by_secret, pii); /* the holder of the secret gets the ticket's link */
    route_end(r, 200);
}

static void route_appt_delete(route_req *r, const char *id)
{
    srv_hall *h;
    eng_appt_view v;
    bool pii, by_secret;
    if (appt_access(r, id, &h, &v, &pii, &by_secret) != 0)
        return;
    eng_cmd *cmd = &r->c->s->req.cmd;
    memset(cmd, 0, sizeof *cmd);
    cmd->type = ENG_CMD_APPT_CANCEL;
    cmd->has_ticket = true;
    memcpy(cmd->tid, v.id, ENG_TID_LEN);
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_APPT};
    srv_command(r->c->s, h, cmd, &o, cancel_result, NULL);
}

static void route_checkin(route_req *r, srv_hall *h)
{
    srv *s = r->c->s;
    static const char *const allowed[] = {"booking", "idem", "channel", NULL};
    codec_request *req = &s->req;
    if (route_body_request(r, "checkin", allowed, json_pack("{ss}", "hall", h->id), req) != 0)
        return;
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    char msg[128];
    uint32_t ra;
    int rc = prepare(r->c, h, &req->cmd, tok, present, NULL, msg, &ra);
    if (rc == ANT_ERATELIMIT) {
        http_respond_error_ra(r->c, rc, msg, ra);
        http_done(r->c);
        return;
    }
    if (rc) {
        route_error(r, rc, msg);
        return;
    }
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_CHECKIN};
    srv_command(s, h, &req->cmd, &o, checkin_result, NULL);
}

static void not_allowed(route_req *r, const char *allow)
{
    char m[96];
    snprintf(m, sizeof m, "method not allowed here; use %s", allow);
    route_error(r, ANT_EMETHOD, m);
}

static srv_hall *hall_or_404(route_req *r)
{
    srv_hall *h = halls_find(r->c->s, r->seg[2]);
    if (!h)
        route_error(r, ANT_ENOTFOUND, "no such hall");
    return h;
}

static bool seg(const route_req *r, int i, const char *s)
{
    return i < r->nseg && strcmp(r->seg[i], s) == 0;
}

bool route_appt_dispatch(route_req *r)
{
    http_state *hs = &r->c->h;
    int n = r->nseg, m = r->method;
    srv_hall *h;
    if (n == 6 && seg(r, 1, "halls") && seg(r, 3, "services") && seg(r, 5, "slots")) {
        hs->route = RT_SLOTS;
        if (m != HTTP_GET)
            not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_slots(r, h, r->seg[4]);
    } else if (n == 4 && seg(r, 1, "halls") && seg(r, 3, "appointments")) {
        hs->route = m == HTTP_POST ? RT_BOOK : RT_APPTS;
        if (m != HTTP_GET && m != HTTP_POST)
            not_allowed(r, "GET, POST");
        else if ((h = hall_or_404(r)))
            m == HTTP_POST ? route_book(r, h) : route_appts(r, h);
    } else if (n == 4 && seg(r, 1, "halls") && seg(r, 3, "checkin")) {
        hs->route = RT_CHECKIN;
        if (m != HTTP_POST)
            not_allowed(r, "POST");
        else if ((h = hall_or_404(r)))
            route_checkin(r, h);
    } else if (n == 3 && seg(r, 1, "appointments")) {
        hs->route = RT_APPT;
        m == HTTP_GET      ? route_appt(r, r->seg[2])
        : m == HTTP_DELETE ? route_appt_delete(r, r->seg[2])
                           : not_allowed(r, "GET, DELETE");
    } else {
        return false;
    }
    return true;
}

/* ---- WebSocket ops ------------------------------------------------------ */

void ws_appt_command(conn *c, codec_request *req, const srv_rid *rid, auth_token *tok)
{
    srv *s = c->s;
    eng_cmd *cmd = &req->cmd;
    srv_hall *h = NULL;
    char code[ENG_BOOKING_LEN + 1]; /* cmd->booking points here until srv_command returns */
    srv_result_fn fn = cmd->type == ENG_CMD_BOOK ? book_result : checkin_result;
    if (cmd->type == ENG_CMD_APPT_CANCEL) {
        eng_appt_view v;
        for (size_t i = 0; i < s->nhalls && !h; i++)
            if (eng_appt_get(s->halls[i]->h, cmd->tid, &v) == 0)
                h = s->halls[i];
        if (!h) {
            ws_reply_error(c, rid, ANT_ENOTFOUND, "no such appointment");
            return;
        }
        uint8_t sec[ENG_SECRET_LEN];
        bool ok = req->ticket_secret[0]
                      ? codec_unhex(req->ticket_secret, strlen(req->ticket_secret), sec,
                                    sizeof sec) == 0 &&
                            CRYPTO_memcmp(sec, v.secret, ENG_SECRET_LEN) == 0
                      : auth_check(tok, PERM_COUNTER, h->id) == 0;
        if (!ok) {
            ws_reply_error(c, rid, ANT_EFORBIDDEN, "needs the appointment secret or a staff token");
            return;
        }
        fn = cancel_result;
    } else {
        if (!(h = halls_find(s, req->hall))) {
            ws_reply_error(c, rid, ANT_ENOTFOUND, "no such hall");
            return;
        }
        char msg[128];
        uint32_t ra;
        int rc = prepare(c, h, cmd, tok, tok != NULL, code, msg, &ra);
        if (rc) {
            ws_reply_error(c, rid, rc, msg);
            return;
        }
    }
    srv_origin o = {.c = c, .kind = 1, .fmt = c->w.fmt, .route = RT_WS, .rid = rid};
    srv_command(s, h, cmd, &o, fn, NULL);
}
