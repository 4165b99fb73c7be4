/*
 * ws_ops.c — the request ops of SPEC §5 over WebSocket.
 *
 * A message is decoded by the codec (text frames as JSON, binary frames as
 * msgpack) into a codec_request; auth, subscribe, unsubscribe and ping are
 * answered here, every command goes through srv_command exactly like its
 * HTTP route, so both paths share validation, durability and replies.
 * Replies use the connection's negotiated encoding. A malformed request in
 * a valid frame gets an error reply carrying its rid when it could be read;
 * error messages come from the codec/engine and never echo citizen data.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "srv.h"

void ws_rid_of(const codec_request *r, srv_rid *out)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    out->type = r->rid_type;
    out->i = r->rid_i;
    out->u = r->rid_u;
    memcpy(out->s, r->rid_s, sizeof out->s);
    out->s[sizeof out->s - 1] = '\0';
}

static void write_rid(jo *w, const srv_rid *rid)
{
    jo_key(w, "rid");
    switch (rid ? rid->type : 0) {
    case 1:
        jo_int(w, rid->i);
        break;
    case 2:
        jo_uint(w, rid->u);
        break;
    case 3:
        jo_str(w, rid->s);
        break;
    default:
        jo_null(w);
    }
}

void ws_begin_result(jo *w, const srv_rid *rid)
{
    jo_obj(w);
    write_rid(w, rid);
    jo_kbool(w, "ok", true);
    jo_key(w, "result");
}

void ws_send_msg(conn *c, const codec_buf *b)
{
    ws_send(c, c->w.fmt == JO_MSGPACK ? 2 : 1, b->data, b->len);
}

void ws_reply_error(conn *c, const srv_rid *rid, int rc, const char *msg)
{
    codec_buf *b = &c->s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, c->w.fmt);
    jo_obj(&w);
    write_rid(&w, rid);
    jo_kbool(&w, "ok", false);
    jo_key(&w, "error");
    jo_obj(&w);
    jo_kstr(&w, "code", ant_err_code(rc));
    jo_kstr(&w, "message", msg && *msg ? msg : ant_err_code(rc));
    jo_obj_end(&w);
    jo_obj_end(&w);
    if (jo_end(&w) == 0)
        ws_send_msg(c, b);
}

static auth_token *conn_token(conn *c)
{
    if (!c->w.tok_id[0])
        return NULL;
    for (auth_token *t = c->s->tokens; t; t = t->next)
        if (strcmp(t->id, c->w.tok_id) == 0)
            return t;
    c->w.tok_id[0] = '\0'; /* deleted meanwhile */
    return NULL;
}

static void op_auth(conn *c, const codec_request *req, const srv_rid *rid)
{
    auth_token *t = auth_lookup(c->s, req->token, strlen(req->token));
    if (!t) {
        c->w.tok_id[0] = '\0';
        ws_reply_error(c, rid, ANT_EUNAUTH, "unknown token");
        return;
    }
    snprintf(c->w.tok_id, sizeof c->w.tok_id, "%s", t->id);
    codec_buf *b = &c->s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, c->w.fmt);
    ws_begin_result(&w, rid);
    auth_write(t, NULL, &w);
    jo_obj_end(&w);
    if (jo_end(&w) == 0)
        ws_send_msg(c, b);
}

static void op_subscribe(conn *c, const codec_request *req, const srv_rid *rid)
{
    srv *s = c->s;
    srv_hall *h = halls_find(s, req->hall);
    if (!h) {
        ws_reply_error(c, rid, ANT_ENOTFOUND, "no such hall");
        return;
    }
    codec_buf *b = &s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, c->w.fmt);
    ws_begin_result(&w, rid);
    bool replay = false;
    int rc = bcast_subscribe(s, c, h, req->has_since, req->since, &w, &replay);
    jo_obj_end(&w);
    if (rc == 0)
        rc = jo_end(&w);
    if (rc != 0) {
        ws_reply_error(c, rid, rc, "cannot subscribe");
        return;
    }
    ws_send_msg(c, b);
    if (replay)
        bcast_replay(s, c, h, req->since);
}

static void op_simple(conn *c, const srv_rid *rid, bool pong)
{
    codec_buf *b = &c->s->scratch2;
    codec_buf_reset(b);
    jo w;
    jo_init(&w, b, c->w.fmt);
    ws_begin_result(&w, rid);
    jo_obj(&w);
    if (pong)
        jo_kint(&w, "now", srv_now_ms());
    jo_obj_end(&w);
    jo_obj_end(&w);
    if (jo_end(&w) == 0)
        ws_send_msg(c, b);
}

static bool secret_ok(const eng_ticket_view *v, const char *hex)
{
    uint8_t sec[ENG_SECRET_LEN];
    if (strlen(hex) != 2 * ENG_SECRET_LEN || codec_unhex(hex, strlen(hex), sec, sizeof sec) != 0)
        return false;
    return CRYPTO_memcmp(sec, v->secret, ENG_SECRET_LEN) == 0;
}

static void op_command(conn *c, codec_request *req, const srv_rid *rid)
{
    srv *s = c->s;
    eng_cmd *cmd = &req->cmd;
    auth_token *tok = conn_token(c);
    srv_hall *h = NULL;
    eng_ticket_view view;
    int rc = 0;
    srv_result_fn fn = route_counter_result;
    if (cmd->type == ENG_CMD_BOOK || cmd->type == ENG_CMD_CHECKIN ||
        cmd->type == ENG_CMD_APPT_CANCEL) {
        ws_appt_command(c, req, rid, tok);
        return;
    }
    bool ticket_cmd = cmd->type == ENG_CMD_REINSTATE || cmd->type == ENG_CMD_CANCEL ||
                      cmd->type == ENG_CMD_FEEDBACK;
    if (ticket_cmd) {
        if (halls_find_ticket(s, cmd->tid, &h, &view) != 0) {
            ws_reply_error(c, rid, ANT_ENOTFOUND, "no such ticket today");
            return;
        }
        fn = route_ticket_result;
        if (req->ticket_secret[0] && cmd->type != ENG_CMD_REINSTATE) {
            if (!secret_ok(&view, req->ticket_secret))
                rc = ANT_EFORBIDDEN;
        } else if (cmd->type == ENG_CMD_FEEDBACK) {
            rc = ANT_EUNAUTH; /* only the citizen rates, with the secret */
        } else {
            rc = auth_check(tok, PERM_COUNTER, h->id);
        }
        if (rc) {
            ws_reply_error(c, rid, rc,
                           rc == ANT_EFORBIDDEN ? "wrong ticket secret or not allowed"
                                                : "needs the ticket secret or a staff token");
            return;
        }
    } else {
        h = halls_find(s, req->hall);
        if (!h) {
            ws_reply_error(c, rid, ANT_ENOTFOUND, "no such hall");
            return;
        }
        if (cmd->type == ENG_CMD_ISSUE) {
            fn = route_issue_result;
            if (tok) {
                rc = auth_check(tok, PERM_ISSUE, h->id);
            } else if (!eng_hall_config(h->h)->self_service) {
                rc = ANT_EUNAUTH;
            } else {
                uint32_t ra = rl_take(s->rl, c->ip, srv_now_ms());
                if (ra) {
                    s->m.rate_limited++;
                    char m[96];
                    snprintf(m, sizeof m, "too many tickets from this address; retry in %u s", ra);
                    ws_reply_error(c, rid, ANT_ERATELIMIT, m);
                    return;
                }
                if (cmd->channel == ENG_CH_STAFF)
                    cmd->channel = ENG_CH_APP;
            }
            if (rc == 0 && (srv_random(cmd->tid, ENG_TID_LEN) != 0 ||
                            srv_random(cmd->secret, ENG_SECRET_LEN) != 0))
                rc = ANT_EINTERNAL;
        } else if (cmd->type == ENG_CMD_CONFIG) {
            rc = auth_check(tok, PERM_ADMIN, h->id);
        } else {
            rc = auth_check(tok, PERM_COUNTER, h->id);
        }
        if (rc) {
            ws_reply_error(c, rid, rc,
                           rc == ANT_EUNAUTH ? "this op needs a token (op auth)"
                                             : "the token does not allow this op in this hall");
            return;
        }
    }
    srv_origin o = {.c = c, .kind = 1, .fmt = c->w.fmt, .route = RT_WS, .rid = rid};
    srv_command(s, h, cmd, &o, fn, NULL);
}

void ws_on_message(conn *c, int opcode, const char *p, size_t n)
{
    codec_request *req = &c->s->req;
    char msg[200] = "";
    srv_rid rid;
    memset(req, 0, sizeof *req);
    int rc =
        opcode == 1 ? codec_request_json(p, n, req, msg) : codec_request_msgpack(p, n, req, msg);
    ws_rid_of(req, &rid);
    if (rc != 0) {
        ws_reply_error(c, &rid, rc, msg);
        return;
    }
    switch (req->op) {
    case CODEC_OP_AUTH:
        op_auth(c, req, &rid);
        break;
    case CODEC_OP_SUBSCRIBE:
        op_subscribe(c, req, &rid);
        break;
    case CODEC_OP_UNSUBSCRIBE: {
        srv_hall *h = halls_find(c->s, req->hall);
        if (!h || bcast_unsubscribe(c->s, c, h) != 0)
            ws_reply_error(c, &rid, ANT_ENOTFOUND, "not subscribed to this hall");
        else
            op_simple(c, &rid, false);
        break;
    }
    case CODEC_OP_PING:
        op_simple(c, &rid, true);
        break;
    case CODEC_OP_COMMAND:
        op_command(c, req, &rid);
        break;
    default:
        ws_reply_error(c, &rid, ANT_EBADREQ, "unknown op");
    }
}
