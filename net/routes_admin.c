/*
 * routes_admin.c — admin routes (halls, tokens), /metrics and the pages.
 *
 * Changes made here (a new hall, a replaced config, a token) are answered
 * only once storage reports them durable, like every command. A config is
 * validated whole before anything changes, and every problem is listed in
 * the error message. Pages are static files from the web directory
 * (--web-dir), read per request; paths are never allowed outside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "route.h"

/* A reply that waits for durability (no engine command behind it). */
typedef struct later {
    conn *c;
    int status;
    codec_buf body;
} later;

static void later_done(void *arg, int rc)
{
    later *l = arg;
    conn *c = l->c;
    if (!c->closing) {
        if (rc == 0)
            http_respond(c, l->status, "application/json", NULL, l->body.data, l->body.len);
        else
            http_respond_error(c, ANT_EUNAVAILABLE, "storage unavailable; nothing was saved");
        http_done(c);
    }
    codec_buf_free(&l->body);
    conn_unref(c);
    free(l);
}

/* Reply with the JSON in srv.scratch once storage has it. */
static void reply_when_durable(route_req *r, int status)
{
    later *l = calloc(1, sizeof *l);
    if (!l || jo_end(&r->w) != 0) {
        free(l);
        route_error(r, ANT_EINTERNAL, "could not encode the reply");
        return;
    }
    l->c = r->c;
    l->status = status;
    codec_buf_init(&l->body);
    if (codec_buf_append(&l->body, r->c->s->scratch.data, r->c->s->scratch.len) != 0) {
        free(l);
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    conn_ref(r->c);
    if (srv_when_durable(r->c->s, later_done, l) != 0)
        later_done(l, ANT_EUNAVAILABLE);
}

static int storage_ok(route_req *r)
{
    char m[256];
    if (r->c->s->broken || stor_health(r->c->s->st, m) != 0) {
        route_error(r, ANT_EUNAVAILABLE, "storage unavailable; no changes are accepted");
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

/* Parse a config from the body, listing every problem on failure. */
static eng_config *parse_config(route_req *r)
{
    http_state *hs = &r->c->h;
    eng_config *cfg = NULL;
    eng_problems *p = calloc(1, sizeof *p);
    if (!p) {
        route_error(r, ANT_ENOMEM, "out of memory");
        return NULL;
    }
    if (eng_config_parse(hs->body.data ? hs->body.data : "", hs->body.len, &cfg, p) != 0) {
        codec_buf *b = &r->c->s->scratch2;
        codec_buf_reset(b);
        char head[64];
        int n = snprintf(head, sizeof head, "invalid hall config (%d problem%s): ", p->count,
                         p->count == 1 ? "" : "s");
        codec_buf_append(b, head, (size_t)n);
        for (int i = 0; i < p->count && i < ENG_PROBLEMS_MAX; i++) {
            if (i)
                codec_buf_append(b, "; ", 2);
            codec_buf_append(b, p->msg[i], strlen(p->msg[i]));
        }
        codec_buf_append(b, "", 1);
        char *msg = strdup(b->data);
        route_error(r, ANT_EBADREQ, msg ? msg : "invalid hall config");
        free(msg);
        free(p);
        return NULL;
    }
    free(p);
    return cfg;
}

static int config_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                         void *arg)
{
    (void)s, (void)cmd, (void)res, (void)arg;
    char *json = eng_config_public_json(eng_hall_config(h->h));
    if (json)
        jo_raw(w, json, strlen(json));
    else
        jo_null(w);
    free(json);
    return 200;
}

void route_hall_put(route_req *r, srv_hall *h)
{
    auth_token *tok;
    if (route_auth(r, PERM_ADMIN, h->id, &tok) != 0 || storage_ok(r) != 0)
        return;
    eng_config *cfg = parse_config(r);
    if (!cfg)
        return;
    bool same = strcmp(cfg->id, h->id) == 0;
    eng_config_free(cfg);
    if (!same) {
        route_error(r, ANT_EBADREQ, "id: the config's id must match the hall in the path");
        return;
    }
    codec_request *req = &r->c->s->req;
    memset(req, 0, sizeof *req);
    req->cmd.type = ENG_CMD_CONFIG;
    req->cmd.config_json = r->c->h.body.data;
    req->cmd.config_len = r->c->h.body.len;
    srv_origin o = {.c = r->c, .kind = 0, .fmt = JO_JSON, .route = RT_HALL_PUT};
    srv_command(r->c->s, h, &req->cmd, &o, config_result, NULL);
}

void route_hall_post(route_req *r)
{
    srv *s = r->c->s;
    auth_token *tok;
    if (route_auth(r, PERM_ADMIN, NULL, &tok) != 0 || storage_ok(r) != 0)
        return;
    eng_config *cfg = parse_config(r);
    if (!cfg)
        return;
    if (halls_find(s, cfg->id)) {
        eng_config_free(cfg);
        route_error(r, ANT_ESTATE, "a hall with this id exists; replace it with PUT");
        return;
    }
    char id[ENG_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", cfg->id);
    int64_t now = srv_now_ms(); /* the same `created` for storage and engine */
    if (stor_put_hall_at(s->st, id, now, cfg->json, cfg->json_len) != 0) {
        eng_config_free(cfg);
        route_error(r, ANT_EUNAVAILABLE, "storage unavailable; the hall was not saved");
        return;
    }
    eng_hall *eh = eng_hall_new(cfg, now);
    srv_hall *h = NULL;
    if (!eh || halls_add(s, eh, &h) != 0) {
        route_error(r, ANT_ENOMEM, "out of memory");
        return;
    }
    log_line("info", "hall added", "hall=%s", id);
    char *json = eng_config_public_json(eng_hall_config(h->h));
    jo *w = route_begin(r);
    if (json)
        jo_raw(w, json, strlen(json));
    else
        jo_null(w);
    free(json);
    reply_when_durable(r, 201);
}

void route_tokens(route_req *r, const char *id)
{
    srv *s = r->c->s;
    auth_token *tok;
    if (!id && r->method != HTTP_GET && r->method != HTTP_POST) {
        route_error(r, ANT_EMETHOD, "method not allowed here; use GET, POST");
        return;
    }
    if (id && r->method != HTTP_DELETE) {
        route_error(r, ANT_EMETHOD, "method not allowed here; use DELETE");
        return;
    }
    if (route_auth(r, PERM_ADMIN, NULL, &tok) != 0)
        return;
    if (r->method == HTTP_GET) {
        jo *w = route_begin(r);
        jo_arr(w);
        for (auth_token *t = s->tokens; t; t = t->next)
            auth_write(t, NULL, w);
        jo_arr_end(w);
        route_end(r, 200);
        return;
    }
    if (storage_ok(r) != 0)
        return;
    if (id) {
        int rc = auth_delete(s, id);
        if (rc != 0) {
            route_error(r, rc, rc == ANT_ENOTFOUND ? "no such token" : "could not delete");
            return;
        }
        log_line("info", "token deleted", "id=%s", id);
        jo *w = route_begin(r);
        jo_obj(w);
        jo_kstr(w, "id", id);
        jo_kbool(w, "deleted", true);
        jo_obj_end(w);
        reply_when_durable(r, 200);
        return;
    }
    json_error_t err;
    json_t *body = json_loadb(r->c->h.body.data ? r->c->h.body.data : "", r->c->h.body.len,
                              JSON_REJECT_DUPLICATES, &err);
    const char *role_s = body ? json_string_value(json_object_get(body, "role")) : NULL;
    json_t *halls = body ? json_object_get(body, "halls") : NULL;
    json_t *label = body ? json_object_get(body, "label") : NULL;
    int role = auth_role_from_name(role_s);
    const char *problem = NULL;
    if (!json_is_object(body))
        problem = "request body: expected a JSON object {role, halls, label}";
    else if (role < 0)
        problem = "role: expected admin, manager, operator, kiosk or display";
    else if (!halls || !(json_is_array(halls) ||
                         (json_is_string(halls) && strcmp(json_string_value(halls), "*") == 0)))
        problem = "halls: expected \"*\" or an array of hall ids";
    else if (label && (!json_is_string(label) || json_string_length(label) > 64))
        problem = "label: expected a string of at most 64 bytes";
    else if (json_object_size(body) > (size_t)(2 + (label != NULL)))
        problem = "request body: only role, halls and label are allowed";
    if (problem) {
        json_decref(body);
        route_error(r, ANT_EBADREQ, problem);
        return;
    }
    char text[64];
    auth_token *t = NULL;
    int rc = auth_create(s, role, halls, label ? json_string_value(label) : "", NULL, text,
                         sizeof text, &t);
    json_decref(body);
    if (rc != 0) {
        route_error(r, rc,
                    rc == ANT_EBADREQ ? "halls: expected \"*\" or valid hall ids"
                                      : "could not create the token");
        return;
    }
    log_line("info", "token created", "id=%s role=%s", t->id, auth_role_name(t->role));
    auth_write(t, text, route_begin(r)); /* the only time the token text is shown */
    reply_when_durable(r, 201);
}

void route_metrics(route_req *r)
{
    codec_buf *b = &r->c->s->scratch;
    codec_buf_reset(b);
    metrics_write(r->c->s, b);
    route_reply_extra(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b->data, b->len);
}

/* ---- pages ------------------------------------------------------------------ */

static const char *ctype_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".mp3", "audio/mpeg"},
        {".wav", "audio/wav"},
        {".webmanifest", "application/manifest+json"},
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static bool serve_file(route_req *r, const char *rel)
{
    srv *s = r->c->s;
    if (!s->o.web_dir || strstr(rel, "..") || strchr(rel, '\\'))
        return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s->o.web_dir, rel);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (8 << 20))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    codec_buf *b = &s->scratch;
    codec_buf_reset(b);
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        codec_buf_append(b, chunk, n);
    fclose(f);
    route_reply_extra(r, 200, ctype_of(path), "Cache-Control: no-cache\r\n", b->data, b->len);
    return true;
}

void route_page(route_req *r)
{
    if (r->method != HTTP_GET) {
        route_error(r, ANT_ENOTFOUND, "no such route");
        return;
    }
    char rel[300];
    bool ok = false;
    if (r->nseg == 0) {
        ok = serve_file(r, "index.html");
    } else if (strchr(r->seg[r->nseg - 1], '.')) {
        /* an asset: the path as is, inside the web directory */
        ok = serve_file(r, r->path[0] == '/' ? r->path + 1 : r->path);
    } else {
        snprintf(rel, sizeof rel, "%s.html", r->seg[0]);
        ok = serve_file(r, rel);
        if (!ok) {
            snprintf(rel, sizeof rel, "%s/index.html", r->seg[0]);
            ok = serve_file(r, rel);
        }
    }
    if (!ok)
        route_error(r, ANT_ENOTFOUND, "no such route");
}
