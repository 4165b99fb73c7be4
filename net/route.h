/*
 * route.h — HTTP routes of SPEC §4: the request as routes see it, the
 * helpers they share (route.c) and the handlers (routes_*.c).
 *
 * A route decodes, checks auth, and either reads (board, wait, ticket,
 * stats…) or hands a command to srv_command; it holds no domain rule. Every
 * handler answers exactly once and then calls http_done (the helpers below
 * do both).
 */
#ifndef NET_ROUTE_H
#define NET_ROUTE_H

#include "srv.h"

typedef struct route_req {
    conn *c;
    int method;
    const char *path; /* NUL-terminated, without the query */
    const char *query;
    char seg[8][96]; /* path segments */
    int nseg;
    jo w; /* reply writer over srv.scratch (route_begin) */
} route_req;

/* Reply with body (JSON) and finish the request. */
void route_reply(route_req *r, int status, const codec_buf *body);
void route_reply_extra(route_req *r, int status, const char *ctype, const char *extra,
                       const char *body, size_t len);
/* Error reply {"error":{code,message}} and finish. */
void route_error(route_req *r, int rc, const char *msg);
/* Start a JSON reply in srv.scratch; finish it with route_end. */
jo *route_begin(route_req *r);
void route_end(route_req *r, int status);
/* Check the bearer token for perm in hall (NULL: global); answers 401/403 itself. */
int route_auth(route_req *r, int perm, const char *hall, auth_token **out);
/* A query parameter (copied, NUL-terminated); false when absent. */
bool route_query(const route_req *r, const char *name, char *out, size_t outsz);
/*
 * Decode the JSON body as a request of op: only fields in `allowed` (NULL-
 * terminated) may appear; `extra` (taken, may be NULL) adds the route's own
 * fields (hall, counter, ticket). Answers 400 itself on failure.
 */
int route_body_request(route_req *r, const char *op, const char *const *allowed, json_t *extra,
                       codec_request *req);
/* Parse a ticket id path segment; answers 404 itself on failure. */
int route_ticket_id(route_req *r, const char *hex, uint8_t tid[ENG_TID_LEN]);

/* routes_public.c */
void route_health(route_req *r);
void route_halls(route_req *r);
void route_hall_get(route_req *r, srv_hall *h);
void route_board(route_req *r, srv_hall *h);
void route_wait(route_req *r, srv_hall *h, const char *service);
void route_issue(route_req *r, srv_hall *h);
void route_ticket(route_req *r, const char *id);
void route_ticket_delete(route_req *r, const char *id);
void route_feedback(route_req *r, const char *id);
void route_page(route_req *r);
/* GET /v1/halls/{hall}/events: turn the connection into an SSE stream (sse.c). */
void route_events(route_req *r, srv_hall *h);
/* GET /v1/halls/{hall}/report (routes_report.c). */
void route_report(route_req *r, srv_hall *h);
/* A ticket as its citizen sees it (no secret, no citizen data). */
void route_write_ticket_public(const eng_ticket_view *v, const char *hall, jo *w, bool with_id);

/* routes_staff.c */
void route_counter(route_req *r, srv_hall *h, const char *counter, const char *action);
void route_reinstate(route_req *r, const char *id);
void route_tickets(route_req *r, srv_hall *h);
void route_stats(route_req *r, srv_hall *h);

/* routes_admin.c */
void route_hall_put(route_req *r, srv_hall *h);
void route_hall_post(route_req *r);
void route_tokens(route_req *r, const char *id);
void route_metrics(route_req *r);

/* route_backup.c: POST /v1/admin/backup {"dest"} (admin): online compacted copy */
void route_backup(route_req *r);

/* routes_appt.c: the appointment routes of SPEC §11; false when the path is not one */
bool route_appt_dispatch(route_req *r);

/* route_qr.c: GET /v1/qr?text=… (image/svg+xml; the text is never logged) */
void route_qr(route_req *r);

#endif
