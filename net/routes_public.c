/*
 * routes_public.c — the routes that need no token (SPEC §4 "Public"):
 * health, halls, board, wait, self-service issue, and the citizen's own
 * ticket (with its secret).
 *
 * Board and wait are the hot read paths: they are written straight from the
 * engine's live figures into the reused buffer, carry an ETag made of the
 * hall's seq and a hash of the body, and answer a matching If-None-Match
 * with 304. Nothing public carries citizen data, the priority reason or a secret
 * (except the issue reply, which gives the citizen their own ticket secret).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

void route_health(route_req *r)
{
    srv *s = r->c->s;
    char m[256];
    bool ok = !s->broken && stor_health(s->st, m) == 0;
    jo *w = route_begin(r);
    jo_obj(w);
    jo_kbool(w, "ok", ok);
    jo_kstr(w, "version", SRV_VERSION);
    jo_kstr(w, "durability", stor_durability_name(s->o.durability));
    if (!ok)
        jo_kstr(w, "storage", "unavailable");
    jo_obj_end(w);
    route_end(r, 200);
}

void route_halls(route_req *r)
{
    srv *s = r->c->s;
    jo *w = route_begin(r);
    jo_arr(w);
    for (size_t i = 0; i < s->nhalls; i++) {
        const eng_config *cfg = eng_hall_config(s->halls[i]->h);
        jo_obj(w);
        jo_kstr(w, "id", cfg->id);
        jo_kstr(w, "name", cfg->name);
        jo_obj_end(w);
    }
    jo_arr_end(w);
    route_end(r, 200);
}

void route_hall_get(route_req *r, srv_hall *h)
{
    char *json = eng_config_public_json(eng_hall_config(h->h));
    if (!json) {
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    route_reply_extra(r, 200, "application/json", NULL, json, strlen(json));
    free(json);
}

void route_write_board(srv *s, srv_hall *h, jo *w)
{
    (void)s;
    int64_t now = srv_now_ms();
    const eng_config *cfg = eng_hall_config(h->h);
    eng_board_call calls[ENG_NOW_CALLING];
    int nc = eng_now_calling(h->h, calls);
    jo_obj(w);
    jo_kstr(w, "hall", h->id);
    jo_kuint(w, "seq", eng_hall_seq(h->h));
    jo_key(w, "now_calling");
    jo_arr(w);
    for (int i = 0; i < nc; i++) {
        jo_obj(w);
        jo_kstr(w, "code", calls[i].code);
        jo_kstr(w, "service", calls[i].service);
        jo_kstr(w, "counter", calls[i].counter);
        jo_kstr(w, "label", calls[i].label);
        jo_kint(w, "at", calls[i].at);
        jo_obj_end(w);
    }
    jo_arr_end(w);
    jo_key(w, "services");
    jo_arr(w);
    for (int i = 0; i < cfg->nservices; i++) {
        eng_service_live live = {0};
        eng_service_live_get(h->h, i, now, &live);
        jo_obj(w);
        jo_kstr(w, "id", cfg->services[i].id);
        jo_kstr(w, "name", cfg->services[i].name);
        jo_kuint(w, "waiting", live.waiting);
        jo_kuint(w, "eta_s", live.eta_s);
        jo_kuint(w, "oldest_wait_s", live.oldest_wait_s);
        jo_obj_end(w);
    }
    jo_arr_end(w);
    jo_key(w, "counters");
    jo_arr(w);
    for (int i = 0; i < cfg->ncounters; i++) {
        eng_counter_live cl = {0};
        eng_counter_live_get(h->h, i, &cl);
        jo_obj(w);
        jo_kstr(w, "id", cfg->counters[i].id);
        jo_kstr(w, "label", cfg->counters[i].label);
        jo_kstr(w, "state", eng_counter_state_name(cl.state));
        jo_key(w, "ticket");
        cl.ticket[0] ? jo_str(w, cl.ticket) : jo_null(w);
        jo_obj_end(w);
    }
    jo_arr_end(w);
    jo_obj_end(w);
}

/*
 * Board and wait: the ETag is the hall's seq plus a 64-bit FNV-1a hash of
 * the body itself, so it changes whenever the body does (estimates and
 * oldest_wait_s move with time, not only with events). A matching
 * If-None-Match gets 304 without a body.
 */
static void reply_etag(route_req *r, char tag, uint64_t seq)
{
    srv *s = r->c->s;
    if (jo_end(&r->w) != 0) {
        route_error(r, ANT_EINTERNAL, "could not encode the reply");
        return;
    }
    uint64_t hash = 14695981039346656037ull;
    for (size_t i = 0; i < s->scratch.len; i++)
        hash = (hash ^ (uint8_t)s->scratch.data[i]) * 1099511628211ull;
    char etag[64], extra[128];
    snprintf(etag, sizeof etag, "\"%c%llx-%016llx\"", tag, (unsigned long long)seq,
             (unsigned long long)hash);
    snprintf(extra, sizeof extra, "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
    size_t n;
    const char *inm = http_header(r->c, "If-None-Match", &n);
    bool match = inm && n == 1 && inm[0] == '*';
    size_t el = strlen(etag);
    for (size_t i = 0; inm && !match && i + el <= n; i++)
        match = memcmp(inm + i, etag, el) == 0;
    if (match)
        route_reply_extra(r, 304, NULL, extra, NULL, 0);
    else
        route_reply_extra(r, 200, "application/json", extra, s->scratch.data, s->scratch.len);
}

void route_board(route_req *r, srv_hall *h)
{
    jo *w = route_begin(r);
    route_write_board(r->c->s, h, w);
    reply_etag(r, 'b', eng_hall_seq(h->h));
}

void route_wait(route_req *r, srv_hall *h, const char *service)
{
    int idx = eng_config_service(eng_hall_config(h->h), service);
    if (idx < 0) {
        route_error(r, ANT_ENOTFOUND, "no such service in this hall");
        return;
    }
    uint64_t seq = eng_hall_seq(h->h);
    eng_service_live live = {0};
    eng_service_live_get(h->h, idx, srv_now_ms(), &live);
    jo *w = route_begin(r);
    jo_obj(w);
    jo_kuint(w, "waiting", live.waiting);
    jo_kuint(w, "eta_s", live.eta_s);
    jo_kuint(w, "oldest_wait_s", live.oldest_wait_s);
    jo_kuint(w, "seq", seq);
    jo_obj_end(w);
    reply_etag(r, 'w', seq);
}

int route_issue_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                       void *arg)
{
    (void)s, (void)cmd, (void)arg;
    /* fresh position and estimate: the engine refreshes them on read */
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
    jo_obj_end(w);
    return 201;
}

void route_write_ticket_public(const eng_ticket_view *v, const char *hall, jo *w, bool with_id)
{
    jo_obj(w);
    if (with_id) {
        char id[2 * ENG_TID_LEN + 1];
        codec_hex(v->tid, ENG_TID_LEN, id);
        jo_kstr(w, "id", id);
    }
    jo_kstr(w, "hall", hall); /* ticket URLs carry no hall: the citizen page needs it */
    jo_kstr(w, "code", v->code);
    jo_kstr(w, "state", eng_state_name(v->state));
    jo_kstr(w, "service", v->service);
    jo_kbool(w, "priority", v->prio != ENG_PRIO_NONE);
    jo_kuint(w, "position", v->state == ENG_ST_WAITING ? v->position : 0);
    jo_kuint(w, "eta_s", v->state == ENG_ST_WAITING ? v->eta_s : 0);
    jo_kuint(w, "recalls", v->recalls);
    if (v->counter[0]) {
        jo_kstr(w, "counter", v->counter);
        jo_kstr(w, "label", v->label);
    }
    jo_kint(w, "issued_at", v->issued_at);
    if (v->called_at)
        jo_kint(w, "called_at", v->called_at);
    if (v->score)
        jo_kuint(w, "score", v->score);
    jo_obj_end(w);
}

int route_ticket_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                        void *arg)
{
    (void)s, (void)cmd, (void)arg;
    eng_ticket_view fresh;
    if (res->has_ticket && eng_ticket_get(h->h, res->ticket.tid, srv_now_ms(), &fresh) == 0)
        route_write_ticket_public(&fresh, h->id, w, true);
    else if (res->has_ticket)
        route_write_ticket_public(&res->ticket, h->id, w, true);
    else
        jo_null(w);
    return 200;
}

void route_issue(route_req *r, srv_hall *h)
{
    srv *s = r->c->s;
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    if (present) {
        int rc = auth_check(tok, PERM_ISSUE, h->id);
        if (rc) {
            route_error(r, rc,
                        rc == ANT_EUNAUTH ? "unknown token"
                                          : "the token does not allow issuing in this hall");
            return;
        }
    } else if (!eng_hall_config(h->h)->self_service) {
        route_error(r, ANT_EUNAUTH, "this hall issues tickets at its kiosks only (kiosk token)");
        return;
    } else {
        uint32_t ra = rl_take(s->rl, r->c->ip, srv_now_ms());
        if (ra) {
            s->m.rate_limited++;
            char m[96];
            snprintf(m, sizeof m, "too many tickets from this address; retry in %u s", ra);
            http_respond_error_ra(r->c, ANT_ERATELIMIT, m, ra);
            http_done(r->c);
            return;
        }
    }
    static const char *const allowed[] = {"service", "priority", "channel", "idem",
                                          "phone",   "name",     "nik",     NULL};
    codec_request *req = &s->req;
    if (route_body_request(r, "issue", allowed, json_pack("{ss}", "hall", h->id), req) != 0)
        return;
    if (srv_random(req->cmd.tid, ENG_TID_LEN) != 0 ||
        srv_random(req->cmd.secret, ENG_SECRET_LEN) != 0) {
        route_error(r, ANT_EINTERNAL, "no randomness available");
        return;
    }
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_ISSUE};
    srv_command(s, h, &req->cmd, &o, route_issue_result, NULL);
}

/*
 * The citizen's access to a ticket: X-Ticket-Secret (constant-time compare),
 * or a staff token of the ticket's hall. Answers the error itself.
 */
static int ticket_access(route_req *r, const char *idhex, srv_hall **h, eng_ticket_view *v,
                         bool staff_ok)
{
    uint8_t tid[ENG_TID_LEN];
    if (route_ticket_id(r, idhex, tid) != 0)
        return ANT_ENOTFOUND;
    if (halls_find_ticket(r->c->s, tid, h, v) != 0) {
        route_error(r, ANT_ENOTFOUND, "no such ticket today");
        return ANT_ENOTFOUND;
    }
    size_t n;
    const char *sec = http_header(r->c, "X-Ticket-Secret", &n);
    if (sec) {
        uint8_t b[ENG_SECRET_LEN];
        if (n != 2 * ENG_SECRET_LEN || codec_unhex(sec, n, b, sizeof b) != 0 ||
            CRYPTO_memcmp(b, v->secret, ENG_SECRET_LEN) != 0) {
            route_error(r, ANT_EFORBIDDEN, "wrong ticket secret");
            return ANT_EFORBIDDEN;
        }
        return 0;
    }
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    if (staff_ok && present) {
        int rc = auth_check(tok, PERM_COUNTER, (*h)->id);
        if (rc)
            route_error(r, rc, rc == ANT_EUNAUTH ? "unknown token" : "not allowed in this hall");
        return rc;
    }
    route_error(r, ANT_EUNAUTH, "this route needs the ticket secret (X-Ticket-Secret header)");
    return ANT_EUNAUTH;
}

void route_ticket(route_req *r, const char *id)
{
    srv_hall *h;
    eng_ticket_view v;
    if (ticket_access(r, id, &h, &v, true) != 0)
        return;
    jo *w = route_begin(r);
    route_write_ticket_public(&v, h->id, w, false);
    route_end(r, 200);
}

void route_ticket_delete(route_req *r, const char *id)
{
    srv_hall *h;
    eng_ticket_view v;
    if (ticket_access(r, id, &h, &v, true) != 0)
        return;
    codec_request *req = &r->c->s->req;
    memset(req, 0, sizeof *req);
    req->cmd.type = ENG_CMD_CANCEL;
    req->cmd.has_ticket = true;
    memcpy(req->cmd.tid, v.tid, ENG_TID_LEN);
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_TICKET_CANCEL};
    srv_command(r->c->s, h, &req->cmd, &o, route_ticket_result, NULL);
}

void route_feedback(route_req *r, const char *id)
{
    srv_hall *h;
    eng_ticket_view v;
    if (ticket_access(r, id, &h, &v, false) != 0)
        return;
    static const char *const allowed[] = {"score", "elements", "comment", NULL};
    codec_request *req = &r->c->s->req;
    if (route_body_request(r, "feedback", allowed, json_pack("{ss}", "ticket", id), req) != 0)
        return;
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_FEEDBACK};
    srv_command(r->c->s, h, &req->cmd, &o, route_ticket_result, NULL);
}
