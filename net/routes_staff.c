/*
 * routes_staff.c — the routes for hall staff (SPEC §4 "Staff"): counter
 * actions, reinstate, the ticket list and the day statistics.
 *
 * Every route checks the bearer token's role and hall scope first. Citizen
 * data appears only in the ticket list, and only for manager and admin
 * tokens. Statistics of closed days come from storage as the JSON blob
 * written at rollover; CSV is rendered from that same JSON so both formats
 * always agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static const struct {
    const char *action, *op;
    const char *const *allowed;
} actions[] = {
    {"open", "counter_open", NULL},
    {"close", "counter_close", NULL},
    {"pause", "counter_pause", NULL},
    {"resume", "counter_resume", NULL},
    {"call", "call", (const char *const[]){"ticket", NULL}},
    {"recall", "recall", NULL},
    {"start", "start", NULL},
    {"finish", "finish", (const char *const[]){"transfer_to", "placement", NULL}},
    {"no-show", "no_show", NULL},
};

int route_counter_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                         void *arg)
{
    (void)s, (void)arg;
    const eng_config *cfg = eng_hall_config(h->h);
    const char *cid = res->counter[0] ? res->counter : cmd->counter ? cmd->counter : "";
    int idx = eng_config_counter(cfg, cid);
    jo_obj(w);
    jo_key(w, "counter");
    if (idx >= 0) {
        eng_counter_live cl = {0};
        eng_counter_live_get(h->h, idx, &cl);
        jo_obj(w);
        jo_kstr(w, "id", cfg->counters[idx].id);
        jo_kstr(w, "label", cfg->counters[idx].label);
        jo_kstr(w, "state", eng_counter_state_name(cl.state));
        jo_obj_end(w);
    } else {
        jo_null(w);
    }
    jo_key(w, "ticket");
    if (res->has_ticket) {
        char id[2 * ENG_TID_LEN + 1];
        codec_hex(res->ticket.tid, ENG_TID_LEN, id);
        jo_obj(w);
        jo_kstr(w, "id", id);
        jo_kstr(w, "code", res->ticket.code);
        jo_kstr(w, "service", res->ticket.service);
        jo_kstr(w, "state", eng_state_name(res->ticket.state));
        jo_kuint(w, "recalls", res->ticket.recalls);
        jo_kbool(w, "priority", res->ticket.prio != ENG_PRIO_NONE);
        if (res->ticket.appointment) /* SPEC §11: the counter page marks it */
            jo_kbool(w, "appointment", true);
        jo_obj_end(w);
    } else {
        jo_null(w);
    }
    jo_obj_end(w);
    return 200;
}

void route_counter(route_req *r, srv_hall *h, const char *counter, const char *action)
{
    auth_token *tok;
    if (route_auth(r, PERM_COUNTER, h->id, &tok) != 0)
        return;
    int a = -1;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0] && a < 0; i++)
        if (strcmp(actions[i].action, action) == 0)
            a = (int)i;
    if (a < 0) {
        route_error(r, ANT_ENOTFOUND,
                    "no such counter action (open close pause resume call recall start finish "
                    "no-show)");
        return;
    }
    if (eng_config_counter(eng_hall_config(h->h), counter) < 0) {
        route_error(r, ANT_ENOTFOUND, "no such counter in this hall");
        return;
    }
    codec_request *req = &r->c->s->req;
    json_t *extra = json_pack("{ssss}", "hall", h->id, "counter", counter);
    if (route_body_request(r, actions[a].op, actions[a].allowed, extra, req) != 0)
        return;
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_COUNTER};
    srv_command(r->c->s, h, &req->cmd, &o, route_counter_result, NULL);
}

void route_reinstate(route_req *r, const char *id)
{
    uint8_t tid[ENG_TID_LEN];
    srv_hall *h;
    eng_ticket_view v;
    if (route_ticket_id(r, id, tid) != 0)
        return;
    bool present;
    auth_token *tok = auth_of_request(r->c, &present);
    if (!tok) {
        route_error(r, ANT_EUNAUTH,
                    present ? "unknown token" : "this route needs Authorization: Bearer TOKEN");
        return;
    }
    if (halls_find_ticket(r->c->s, tid, &h, &v) != 0) {
        route_error(r, ANT_ENOTFOUND, "no such ticket today");
        return;
    }
    if (route_auth(r, PERM_COUNTER, h->id, &tok) != 0)
        return;
    codec_request *req = &r->c->s->req;
    memset(req, 0, sizeof *req);
    req->cmd.type = ENG_CMD_REINSTATE;
    req->cmd.has_ticket = true;
    memcpy(req->cmd.tid, tid, ENG_TID_LEN);
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_REINSTATE};
    srv_command(r->c->s, h, &req->cmd, &o, route_ticket_result, NULL);
}

typedef struct list_ctx {
    jo *w;
    bool pii;
} list_ctx;

static int list_one(const eng_ticket_view *t, void *arg)
{
    list_ctx *x = arg;
    jo *w = x->w;
    char id[2 * ENG_TID_LEN + 1];
    codec_hex(t->tid, ENG_TID_LEN, id);
    jo_obj(w);
    jo_kstr(w, "id", id);
    jo_kstr(w, "code", t->code);
    jo_kstr(w, "service", t->service);
    jo_kstr(w, "state", eng_state_name(t->state));
    jo_kbool(w, "priority", t->prio != ENG_PRIO_NONE);
    if (t->appointment)
        jo_kbool(w, "appointment", true);
    jo_kstr(w, "channel", eng_channel_name(t->channel) ? eng_channel_name(t->channel) : "");
    if (t->state == ENG_ST_WAITING) {
        jo_kuint(w, "position", t->position);
        jo_kuint(w, "eta_s", t->eta_s);
    }
    jo_kuint(w, "recalls", t->recalls);
    if (t->counter[0])
        jo_kstr(w, "counter", t->counter);
    jo_kint(w, "issued_at", t->issued_at);
    if (t->called_at)
        jo_kint(w, "called_at", t->called_at);
    if (t->finished_at)
        jo_kint(w, "finished_at", t->finished_at);
    if (x->pii) {
        if (t->prio != ENG_PRIO_NONE)
            jo_kstr(w, "priority_reason", eng_prio_name(t->prio));
        if (t->has_pii && t->pii.phone[0])
            jo_kstr(w, "phone", t->pii.phone);
        if (t->has_pii && t->pii.name[0])
            jo_kstr(w, "name", t->pii.name);
        if (t->has_pii && t->pii.nik[0])
            jo_kstr(w, "nik", t->pii.nik);
    }
    jo_obj_end(w);
    return 0;
}

void route_tickets(route_req *r, srv_hall *h)
{
    auth_token *tok;
    if (route_auth(r, PERM_COUNTER, h->id, &tok) != 0)
        return;
    char st[24];
    int state = -1;
    if (route_query(r, "state", st, sizeof st) && st[0] && strcmp(st, "all") != 0) {
        for (int i = 0; i <= ENG_ST_EXPIRED && state < 0; i++)
            if (strcmp(eng_state_name(i), st) == 0)
                state = i;
        if (state < 0) {
            route_error(r, ANT_EBADREQ,
                        "state: expected waiting, called, serving, done, no_show, cancelled, "
                        "expired or all");
            return;
        }
    }
    list_ctx x = {route_begin(r), auth_check(tok, PERM_PII, h->id) == 0};
    jo_arr(x.w);
    eng_tickets_each(h->h, state, srv_now_ms(), list_one, &x);
    jo_arr_end(x.w);
    route_end(r, 200);
}

static void stat_row(jo *w, const eng_stat_row *row, bool service)
{
    jo_obj(w);
    jo_kstr(w, "id", row->id);
    jo_kuint(w, "issued", row->issued);
    jo_kuint(w, "served", row->served);
    jo_kuint(w, "no_show", row->no_show);
    jo_kuint(w, "cancelled", row->cancelled);
    jo_kuint(w, "expired", row->expired);
    jo_kuint(w, "wait_p50_s", row->wait_p50_s);
    jo_kuint(w, "wait_p90_s", row->wait_p90_s);
    jo_kuint(w, "wait_max_s", row->wait_max_s);
    jo_kuint(w, "service_mean_s", row->service_mean_s);
    if (service) {
        jo_key(w, "within_sla");
        jo_double(w, row->within_sla);
        jo_kuint(w, "booked", row->booked); /* SPEC §11: appointments appear in stats */
        jo_kuint(w, "appointments", row->appointments);
    }
    jo_kuint(w, "skm_count", row->skm_count);
    jo_key(w, "skm_score");
    jo_double(w, row->skm_score);
    jo_key(w, "skm_index");
    jo_double(w, row->skm_index);
    jo_obj_end(w);
}

void route_write_stats(srv_hall *h, const eng_day_stats *st, jo *w)
{
    char date[16];
    eng_format_date(st->day, date);
    jo_obj(w);
    jo_kstr(w, "hall", h->id);
    jo_kstr(w, "date", date);
    jo_key(w, "services");
    jo_arr(w);
    for (int i = 0; i < st->nservices; i++)
        stat_row(w, &st->services[i], true);
    jo_arr_end(w);
    jo_key(w, "counters");
    jo_arr(w);
    for (int i = 0; i < st->ncounters; i++)
        stat_row(w, &st->counters[i], false);
    jo_arr_end(w);
    jo_obj_end(w);
}

static const char *const csv_cols[] = {"id",         "issued",         "served",     "no_show",
                                       "cancelled",  "expired",        "wait_p50_s", "wait_p90_s",
                                       "wait_max_s", "service_mean_s", "within_sla", "skm_count",
                                       "skm_score",  "skm_index",      NULL};

static void csv_value(codec_buf *b, json_t *v)
{
    char t[64];
    int n = 0;
    if (json_is_string(v)) {
        /* ids are [a-z0-9-]: no quoting needed */
        codec_buf_append(b, json_string_value(v), json_string_length(v));
        return;
    }
    if (json_is_integer(v))
        n = snprintf(t, sizeof t, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        n = snprintf(t, sizeof t, "%.4f", json_real_value(v));
    if (n > 0)
        codec_buf_append(b, t, (size_t)n);
}

static void reply_csv(route_req *r, const char *json, size_t len)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!root) {
        route_error(r, ANT_EINTERNAL, "stored statistics are unreadable");
        return;
    }
    codec_buf *b = &r->c->s->scratch2;
    codec_buf_reset(b);
    const char *hdr = "kind,id,issued,served,no_show,cancelled,expired,wait_p50_s,wait_p90_s,"
                      "wait_max_s,service_mean_s,within_sla,skm_count,skm_score,skm_index\r\n";
    codec_buf_append(b, hdr, strlen(hdr));
    for (int k = 0; k < 2; k++) {
        json_t *rows = json_object_get(root, k ? "counters" : "services");
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            codec_buf_append(b, k ? "counter" : "service", k ? 7 : 7);
            for (int c = 0; csv_cols[c]; c++) {
                codec_buf_append(b, ",", 1);
                csv_value(b, json_object_get(row, csv_cols[c]));
            }
            codec_buf_append(b, "\r\n", 2);
        }
    }
    char extra[128];
    const char *date = json_string_value(json_object_get(root, "date"));
    snprintf(extra, sizeof extra,
             "Content-Disposition: attachment; filename=\"stats-%s-%s.csv\"\r\n",
             json_string_value(json_object_get(root, "hall")) ?: "hall", date ? date : "day");
    json_decref(root);
    route_reply_extra(r, 200, "text/csv; charset=utf-8", extra, b->data, b->len);
}

void route_stats(route_req *r, srv_hall *h)
{
    srv *s = r->c->s;
    auth_token *tok;
    if (route_auth(r, PERM_STATS, h->id, &tok) != 0)
        return;
    char ds[16], fmt[8] = "json";
    int32_t day = eng_hall_day(h->h);
    if (route_query(r, "date", ds, sizeof ds) && eng_parse_date(ds, &day) != 0) {
        route_error(r, ANT_EBADREQ, "date: expected YYYY-MM-DD");
        return;
    }
    if (route_query(r, "format", fmt, sizeof fmt) && strcmp(fmt, "csv") != 0 &&
        strcmp(fmt, "json") != 0) {
        route_error(r, ANT_EBADREQ, "format: expected json or csv");
        return;
    }
    eng_day_stats st;
    memset(&st, 0, sizeof st);
    int rc = ANT_ENOTFOUND;
    if (day == eng_hall_day(h->h)) {
        rc = eng_stats_today(h->h, &st);
    } else if (eng_stats_last_closed(h->h, &st) == 0) {
        rc = st.day == day ? 0 : ANT_ENOTFOUND;
        if (rc)
            eng_day_stats_free(&st);
    }
    codec_buf *b = &s->scratch;
    codec_buf_reset(b);
    if (rc == 0) {
        jo w;
        jo_init(&w, b, JO_JSON);
        route_write_stats(h, &st, &w);
        eng_day_stats_free(&st);
        if (jo_end(&w) != 0) {
            route_error(r, ANT_EINTERNAL, "could not encode the statistics");
            return;
        }
    } else {
        void *blob = NULL;
        size_t len = 0;
        if (stor_get_stats(s->st, h->id, day, &blob, &len) != 0) {
            route_error(r, ANT_ENOTFOUND, "no statistics for that date");
            return;
        }
        rc = codec_buf_append(b, blob, len);
        free(blob);
        if (rc != 0) {
            route_error(r, ANT_ENOMEM, "out of memory");
            return;
        }
    }
    if (strcmp(fmt, "csv") == 0)
        reply_csv(r, b->data, b->len);
    else
        route_reply(r, 200, b);
}
