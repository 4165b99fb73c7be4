/*
 * route_backup.c — POST /v1/admin/backup {"dest": "/absolute/dir"} (admin):
 * a consistent, compacted copy of the data directory's LMDB environment
 * while the server runs (SPEC §6, storage.h stor_backup). The copy runs on a
 * libuv worker thread so the loop keeps serving; a server started on the
 * copy (plus an admin token) has the same state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

typedef struct backup_job {
    uv_work_t work;
    conn *c;
    stor *st;
    char dest[1024];
    int rc;
    char msg[256];
} backup_job;

static void backup_work(uv_work_t *w)
{
    backup_job *j = w->data;
    j->rc = stor_backup(j->st, j->dest, j->msg);
}

static void backup_done(uv_work_t *w, int status)
{
    backup_job *j = w->data;
    conn *c = j->c;
    if (status != 0 && j->rc == 0) {
        j->rc = ANT_EINTERNAL;
        snprintf(j->msg, sizeof j->msg, "backup could not run");
    }
    if (j->rc == 0)
        log_line("info", "backup done", "dest_len=%zu", strlen(j->dest));
    else
        log_line("error", "backup failed", "code=%s", ant_err_code(j->rc));
    if (!c->closing) {
        if (j->rc == 0) {
            codec_buf body;
            codec_buf_init(&body);
            jo w2;
            jo_init(&w2, &body, JO_JSON);
            jo_obj(&w2);
            jo_kstr(&w2, "dest", j->dest);
            jo_kbool(&w2, "ok", true);
            jo_obj_end(&w2);
            if (jo_end(&w2) == 0)
                http_respond(c, 200, "application/json", NULL, body.data, body.len);
            else
                http_respond_error(c, ANT_EINTERNAL, "could not encode the reply");
            codec_buf_free(&body);
        } else {
            http_respond_error(c, j->rc, j->msg[0] ? j->msg : "backup failed");
        }
        http_done(c);
    }
    conn_unref(c);
    free(j);
}

void route_backup(route_req *r)
{
    auth_token *tok;
    if (r->method != HTTP_POST) {
        route_error(r, ANT_EMETHOD, "method not allowed here; use POST");
        return;
    }
    if (route_auth(r, PERM_ADMIN, NULL, &tok) != 0)
        return;
    json_error_t err;
    json_t *body = json_loadb(r->c->h.body.data ? r->c->h.body.data : "", r->c->h.body.len,
                              JSON_REJECT_DUPLICATES, &err);
    const char *dest = body ? json_string_value(json_object_get(body, "dest")) : NULL;
    const char *problem = NULL;
    if (!json_is_object(body))
        problem = "request body: expected a JSON object {\"dest\": \"/absolute/dir\"}";
    else if (json_object_size(body) != 1 || !dest)
        problem = "dest: expected the one field dest, a string";
    else if (dest[0] != '/' || strlen(dest) >= sizeof((backup_job *)0)->dest)
        problem = "dest: expected an absolute path of at most 1023 bytes";
    if (problem) {
        json_decref(body);
        route_error(r, ANT_EBADREQ, problem);
        return;
    }
    backup_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    snprintf(j->dest, sizeof j->dest, "%s", dest);
    json_decref(body);
    j->c = r->c;
    j->st = r->c->s->st;
    j->work.data = j;
    conn_ref(r->c);
    if (uv_queue_work(r->c->s->loop, &j->work, backup_work, backup_done) != 0) {
        conn_unref(r->c);
        free(j);
        route_error(r, ANT_EINTERNAL, "could not start the backup");
    }
}
