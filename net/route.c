/*
 * route.c — the URL map of SPEC §4 and the helpers every route shares.
 *
 * Routing is a match on path segments; a known path with the wrong method
 * answers 405 and an unknown one 404. JSON bodies are decoded by the same
 * codec as WebSocket requests (the body's fields plus the route's hall,
 * counter or ticket, re-packed as a request of the matching op), so HTTP and
 * WebSocket share one validator and one set of messages. Handlers answer
 * synchronously with route_reply or asynchronously through srv_command;
 * either way they end with http_done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

const char *const route_names[RT__COUNT] = {
    [RT_NONE] = "other",
    [RT_HEALTH] = "/v1/health",
    [RT_HALLS] = "/v1/halls",
    [RT_HALL] = "/v1/halls/{hall}",
    [RT_BOARD] = "/v1/halls/{hall}/board",
    [RT_WAIT] = "/v1/halls/{hall}/services/{service}/wait",
    [RT_ISSUE] = "POST /v1/halls/{hall}/tickets",
    [RT_TICKET] = "GET /v1/tickets/{id}",
    [RT_TICKET_CANCEL] = "DELETE /v1/tickets/{id}",
    [RT_FEEDBACK] = "/v1/tickets/{id}/feedback",
    [RT_COUNTER] = "/v1/halls/{hall}/counters/{counter}/{action}",
    [RT_REINSTATE] = "/v1/tickets/{id}/reinstate",
    [RT_TICKETS] = "GET /v1/halls/{hall}/tickets",
    [RT_STATS] = "/v1/halls/{hall}/stats",
    [RT_HALL_PUT] = "PUT /v1/halls/{hall}",
    [RT_HALL_POST] = "POST /v1/halls",
    [RT_TOKENS] = "/v1/tokens",
    [RT_WS] = "/v1/ws",
    [RT_METRICS] = "/metrics",
    [RT_PAGE] = "pages",
    [RT_QR] = "/v1/qr",
    [RT_BACKUP] = "/v1/admin/backup",
    [RT_SLOTS] = "/v1/halls/{hall}/services/{service}/slots",
    [RT_BOOK] = "POST /v1/halls/{hall}/appointments",
    [RT_APPTS] = "GET /v1/halls/{hall}/appointments",
    [RT_APPT] = "/v1/appointments/{id}",
    [RT_CHECKIN] = "/v1/halls/{hall}/checkin",
    [RT_EVENTS] = "/v1/halls/{hall}/events",
    [RT_REPORT] = "/v1/halls/{hall}/report",
};

void route_reply(route_req *r, int status, const codec_buf *body)
{
    http_respond(r->c, status, "application/json", NULL, body->data, body->len);
    http_done(r->c);
}

void route_reply_extra(route_req *r, int status, const char *ctype, const char *extra,
                       const char *body, size_t len)
{
    http_respond(r->c, status, ctype, extra, body, len);
    http_done(r->c);
}

void route_error(route_req *r, int rc, const char *msg)
{
    http_respond_error(r->c, rc, msg);
    http_done(r->c);
}

jo *route_begin(route_req *r)
{
    codec_buf_reset(&r->c->s->scratch);
    jo_init(&r->w, &r->c->s->scratch, JO_JSON);
    return &r->w;
}

void route_end(route_req *r, int status)
{
    if (jo_end(&r->w) != 0) {
        route_error(r, ANT_EINTERNAL, "could not encode the reply");
        return;
    }
    route_reply(r, status, &r->c->s->scratch);
}

int route_auth(route_req *r, int perm, const char *hall, auth_token **out)
{
    bool present;
    auth_token *t = auth_of_request(r->c, &present);
    *out = t;
    int rc = auth_check(t, perm, hall);
    if (rc == ANT_EUNAUTH)
        route_error(r, rc,
                    present ? "unknown token" : "this route needs Authorization: Bearer TOKEN");
    else if (rc)
        route_error(r, rc,
                    hall ? "the token's role or halls do not allow this in this hall"
                         : "the token's role does not allow this");
    return rc;
}

bool route_query(const route_req *r, const char *name, char *out, size_t outsz)
{
    const char *q = r->query;
    size_t nl = strlen(name);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= outsz)
                vl = outsz - 1;
            memcpy(out, q + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        if (len == nl && strncmp(q, name, nl) == 0) {
            out[0] = '\0';
            return true;
        }
        q = amp ? amp + 1 : NULL;
    }
    return false;
}

int route_body_request(route_req *r, const char *op, const char *const *allowed, json_t *extra,
                       codec_request *req)
{
    http_state *h = &r->c->h;
    json_error_t err;
    json_t *body;
    char msg[200];
    if (h->body.len == 0) {
        body = json_object();
    } else {
        body = json_loadb(h->body.data, h->body.len, JSON_REJECT_DUPLICATES, &err);
        if (!body) {
            snprintf(msg, sizeof msg, "request body: invalid JSON at line %d, column %d", err.line,
                     err.column);
            route_error(r, ANT_EBADREQ, msg);
            json_decref(extra);
            return ANT_EBADREQ;
        }
    }
    if (!json_is_object(body)) {
        json_decref(body);
        json_decref(extra);
        route_error(r, ANT_EBADREQ, "request body: expected a JSON object");
        return ANT_EBADREQ;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed && allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], k) == 0;
        if (!ok) {
            char kk[40];
            snprintf(kk, sizeof kk, "%s", k);
            for (char *p = kk; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
                    *p = '?';
            snprintf(msg, sizeof msg, "request body: field '%s' is not allowed here", kk);
            json_decref(body);
            json_decref(extra);
            route_error(r, ANT_EBADREQ, msg);
            return ANT_EBADREQ;
        }
    }
    json_object_set_new(body, "op", json_string(op));
    if (extra)
        json_object_update(body, extra);
    json_decref(extra);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        route_error(r, ANT_EINTERNAL, "could not read the request body");
        return ANT_EINTERNAL;
    }
    int rc = codec_request_json(text, strlen(text), req, msg);
    free(text);
    if (rc != 0) {
        route_error(r, rc, msg);
        return rc;
    }
    return 0;
}

int route_ticket_id(route_req *r, const char *hex, uint8_t tid[ENG_TID_LEN])
{
    if (strlen(hex) != 2 * ENG_TID_LEN || codec_unhex(hex, strlen(hex), tid, ENG_TID_LEN) != 0) {
        route_error(r, ANT_ENOTFOUND, "no such ticket (ticket ids are 32 hex digits)");
        return ANT_ENOTFOUND;
    }
    return 0;
}

static void split(route_req *r)
{
    const char *p = r->path;
    r->nseg = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (r->nseg == 8 || n >= sizeof r->seg[0]) {
            r->nseg = -1;
            return;
        }
        memcpy(r->seg[r->nseg], p, n);
        r->seg[r->nseg][n] = '\0';
        r->nseg++;
        p += n;
    }
}

static bool is(const route_req *r, int i, const char *s)
{
    return i < r->nseg && strcmp(r->seg[i], s) == 0;
}

static void method_not_allowed(route_req *r, const char *allow)
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

#define M(x) (r->method == HTTP_##x)

static void dispatch_v1(route_req *r)
{
    http_state *hs = &r->c->h;
    int n = r->nseg;
    srv_hall *h;
    if (route_appt_dispatch(r))
        return;
    if (n == 2 && is(r, 1, "health")) {
        hs->route = RT_HEALTH;
        M(GET) ? route_health(r) : method_not_allowed(r, "GET");
    } else if (n == 2 && is(r, 1, "ws")) {
        hs->route = RT_WS;
        if (hs->p.upgrade)
            ws_handshake(r->c);
        else
            route_error(r, ANT_EBADREQ, "/v1/ws is a WebSocket endpoint; send an upgrade");
    } else if (n == 2 && is(r, 1, "halls")) {
        hs->route = M(POST) ? RT_HALL_POST : RT_HALLS;
        M(GET) ? route_halls(r) : M(POST) ? route_hall_post(r) : method_not_allowed(r, "GET, POST");
    } else if (n == 3 && is(r, 1, "halls")) {
        hs->route = M(PUT) ? RT_HALL_PUT : RT_HALL;
        if (!M(GET) && !M(PUT))
            method_not_allowed(r, "GET, PUT");
        else if ((h = hall_or_404(r)))
            M(GET) ? route_hall_get(r, h) : route_hall_put(r, h);
    } else if (n == 4 && is(r, 1, "halls") && is(r, 3, "board")) {
        hs->route = RT_BOARD;
        if (!M(GET))
            method_not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_board(r, h);
    } else if (n == 4 && is(r, 1, "halls") && is(r, 3, "report")) {
        hs->route = RT_REPORT;
        if (!M(GET))
            method_not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_report(r, h);
    } else if (n == 4 && is(r, 1, "halls") && is(r, 3, "events")) {
        hs->route = RT_EVENTS;
        if (!M(GET))
            method_not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_events(r, h);
    } else if (n == 6 && is(r, 1, "halls") && is(r, 3, "services") && is(r, 5, "wait")) {
        hs->route = RT_WAIT;
        if (!M(GET))
            method_not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_wait(r, h, r->seg[4]);
    } else if (n == 4 && is(r, 1, "halls") && is(r, 3, "tickets")) {
        hs->route = M(POST) ? RT_ISSUE : RT_TICKETS;
        if (!M(GET) && !M(POST))
            method_not_allowed(r, "GET, POST");
        else if ((h = hall_or_404(r)))
            M(POST) ? route_issue(r, h) : route_tickets(r, h);
    } else if (n == 4 && is(r, 1, "halls") && is(r, 3, "stats")) {
        hs->route = RT_STATS;
        if (!M(GET))
            method_not_allowed(r, "GET");
        else if ((h = hall_or_404(r)))
            route_stats(r, h);
    } else if (n == 6 && is(r, 1, "halls") && is(r, 3, "counters")) {
        hs->route = RT_COUNTER;
        if (!M(POST))
            method_not_allowed(r, "POST");
        else if ((h = hall_or_404(r)))
            route_counter(r, h, r->seg[4], r->seg[5]);
    } else if (n == 3 && is(r, 1, "tickets")) {
        hs->route = M(DELETE) ? RT_TICKET_CANCEL : RT_TICKET;
        M(GET)      ? route_ticket(r, r->seg[2])
        : M(DELETE) ? route_ticket_delete(r, r->seg[2])
                    : method_not_allowed(r, "GET, DELETE");
    } else if (n == 4 && is(r, 1, "tickets") && is(r, 3, "feedback")) {
        hs->route = RT_FEEDBACK;
        M(POST) ? route_feedback(r, r->seg[2]) : method_not_allowed(r, "POST");
    } else if (n == 4 && is(r, 1, "tickets") && is(r, 3, "reinstate")) {
        hs->route = RT_REINSTATE;
        M(POST) ? route_reinstate(r, r->seg[2]) : method_not_allowed(r, "POST");
    } else if (n == 3 && is(r, 1, "admin") && is(r, 2, "backup")) {
        hs->route = RT_BACKUP;
        route_backup(r);
    } else if (n == 2 && is(r, 1, "qr")) {
        hs->route = RT_QR;
        route_qr(r);
    } else if ((n == 2 || n == 3) && is(r, 1, "tokens")) {
        hs->route = RT_TOKENS;
        route_tokens(r, n == 3 ? r->seg[2] : NULL);
    } else {
        route_error(r, ANT_ENOTFOUND, "no such route");
    }
}

void route_dispatch(conn *c)
{
    http_state *h = &c->h;
    route_req r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.method = h->p.method;
    /* url: first url_len bytes of head; split off the query */
    char path[2048];
    if (h->url_len == 0 || h->url_len >= sizeof path) {
        route_error(&r, h->url_len ? ANT_ENOTFOUND : ANT_EBADREQ, "bad request target");
        return;
    }
    memcpy(path, h->head.data, h->url_len);
    path[h->url_len] = '\0';
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    r.path = path;
    r.query = q;
    split(&r);
    if (r.nseg < 0) {
        route_error(&r, ANT_ENOTFOUND, "no such route");
    } else if (r.nseg >= 1 && is(&r, 0, "v1")) {
        dispatch_v1(&r);
    } else if (r.nseg == 1 && is(&r, 0, "metrics")) {
        h->route = RT_METRICS;
        r.method == HTTP_GET ? route_metrics(&r) : method_not_allowed(&r, "GET");
    } else {
        h->route = RT_PAGE;
        route_page(&r);
    }
}
