/*
 * auth.c — staff tokens (SPEC §4): roles, hall scope, hashed storage.
 *
 * A token is 40 random hex digits shown once; only its SHA-256 is kept (in
 * memory and as a JSON record through stor_put_token), and a presented token
 * is hashed and compared with CRYPTO_memcmp against every stored hash, so
 * neither the comparison nor an early exit leaks how much of a token
 * matched. The first admin token comes from ANTREAN_ADMIN_TOKEN or is
 * generated into DATA/admin.token (mode 0600). Tokens never reach a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srv.h"

static const char *const role_names[] = {"display", "kiosk", "operator", "manager", "admin"};

const char *auth_role_name(int role)
{
    return role >= 0 && role <= AUTH_ADMIN ? role_names[role] : "?";
}

int auth_role_from_name(const char *s)
{
    for (int i = 0; i <= AUTH_ADMIN; i++)
        if (s && strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

static void token_free(auth_token *t)
{
    free(t->halls);
    free(t);
}

static void hash_text(const char *text, size_t n, uint8_t out[32])
{
    SHA256((const unsigned char *)text, n, out);
}

auth_token *auth_lookup(srv *s, const char *text, size_t n)
{
    if (!text || n == 0 || n > 256)
        return NULL;
    uint8_t h[32];
    hash_text(text, n, h);
    auth_token *found = NULL;
    for (auth_token *t = s->tokens; t; t = t->next)
        if (CRYPTO_memcmp(h, t->hash, 32) == 0 && !found)
            found = t;
    return found;
}

int auth_check(const auth_token *t, int perm, const char *hall)
{
    if (!t)
        return ANT_EUNAUTH;
    int need;
    switch (perm) {
    case PERM_ISSUE:
        need = AUTH_KIOSK;
        break;
    case PERM_COUNTER:
        need = AUTH_OPERATOR;
        break;
    case PERM_PII:
    case PERM_STATS:
        need = AUTH_MANAGER;
        break;
    default:
        need = AUTH_ADMIN;
    }
    if (t->role < need)
        return ANT_EFORBIDDEN;
    if (hall && !t->all_halls) {
        for (int i = 0; i < t->nhalls; i++)
            if (strcmp(t->halls[i], hall) == 0)
                return 0;
        return ANT_EFORBIDDEN;
    }
    if (!hall && !t->all_halls && perm == PERM_ADMIN)
        return ANT_EFORBIDDEN; /* global admin actions need an all-halls admin */
    return 0;
}

auth_token *auth_of_request(conn *c, bool *present)
{
    size_t n;
    const char *v = http_header(c, "Authorization", &n);
    *present = v != NULL;
    if (!v || n < 7 || strncasecmp(v, "Bearer ", 7) != 0)
        return NULL;
    v += 7;
    n -= 7;
    while (n > 0 && *v == ' ')
        v++, n--;
    return auth_lookup(c->s, v, n);
}

void auth_write(const auth_token *t, const char *secret, jo *w)
{
    jo_obj(w);
    jo_kstr(w, "id", t->id);
    if (secret)
        jo_kstr(w, "token", secret);
    jo_kstr(w, "role", auth_role_name(t->role));
    jo_key(w, "halls");
    if (t->all_halls) {
        jo_str(w, "*");
    } else {
        jo_arr(w);
        for (int i = 0; i < t->nhalls; i++)
            jo_str(w, t->halls[i]);
        jo_arr_end(w);
    }
    jo_kstr(w, "label", t->label);
    if (!secret) /* the create reply has exactly the fields of SPEC §4 */
        jo_kint(w, "created", t->created);
    jo_obj_end(w);
}

/* halls: "*" or an array of hall ids. */
static int set_halls(auth_token *t, json_t *halls)
{
    if (json_is_string(halls) && strcmp(json_string_value(halls), "*") == 0) {
        t->all_halls = true;
        return 0;
    }
    if (!json_is_array(halls) || json_array_size(halls) > 256)
        return ANT_EBADREQ;
    size_t n = json_array_size(halls);
    t->halls = calloc(n ? n : 1, sizeof *t->halls);
    if (!t->halls)
        return ANT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(halls, i);
        const char *id = json_string_value(x);
        if (!id || strlen(id) == 0 || strlen(id) > ENG_ID_MAX)
            return ANT_EBADREQ;
        for (const char *p = id; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                return ANT_EBADREQ;
        snprintf(t->halls[t->nhalls++], ENG_ID_MAX + 1, "%s", id);
    }
    return 0;
}

static int store_token(srv *s, const auth_token *t)
{
    codec_buf b;
    codec_buf_init(&b);
    jo w;
    jo_init(&w, &b, JO_JSON);
    char hex[65];
    codec_hex(t->hash, 32, hex);
    jo_obj(&w);
    jo_kstr(&w, "id", t->id);
    jo_kstr(&w, "role", auth_role_name(t->role));
    jo_key(&w, "halls");
    if (t->all_halls) {
        jo_str(&w, "*");
    } else {
        jo_arr(&w);
        for (int i = 0; i < t->nhalls; i++)
            jo_str(&w, t->halls[i]);
        jo_arr_end(&w);
    }
    jo_kstr(&w, "label", t->label);
    jo_kstr(&w, "hash", hex);
    jo_kint(&w, "created", t->created);
    jo_obj_end(&w);
    int rc = jo_end(&w);
    if (rc == 0)
        rc = stor_put_token(s->st, t->id, b.data, b.len);
    codec_buf_free(&b);
    return rc;
}

static void unlink_token(srv *s, const char *id)
{
    for (auth_token **pp = &s->tokens; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            auth_token *t = *pp;
            *pp = t->next;
            token_free(t);
            return;
        }
    }
}

/* Create (or with fixed_id, replace) a token; token text from `given` or random. */
static int create(srv *s, int role, json_t *halls, const char *label, const char *fixed_id,
                  const char *given, char *token_out, size_t token_sz, auth_token **out)
{
    auth_token *t = calloc(1, sizeof *t);
    if (!t)
        return ANT_ENOMEM;
    t->role = role;
    t->created = srv_now_ms();
    snprintf(t->label, sizeof t->label, "%s", label ? label : "");
    int rc = set_halls(t, halls);
    uint8_t rnd[20];
    if (rc == 0 && fixed_id) {
        snprintf(t->id, sizeof t->id, "%s", fixed_id);
    } else if (rc == 0) {
        rc = srv_random(rnd, 6);
        codec_hex(rnd, 6, t->id);
    }
    char text[48];
    if (rc == 0 && !given) {
        rc = srv_random(rnd, 20);
        codec_hex(rnd, 20, text);
        given = text;
    }
    if (rc != 0) {
        token_free(t);
        return rc;
    }
    hash_text(given, strlen(given), t->hash);
    rc = store_token(s, t);
    if (rc != 0) {
        token_free(t);
        return rc;
    }
    unlink_token(s, t->id);
    t->next = s->tokens;
    s->tokens = t;
    if (token_out)
        snprintf(token_out, token_sz, "%s", given);
    if (out)
        *out = t;
    return 0;
}

int auth_create(srv *s, int role, json_t *halls, const char *label, const char *fixed_id,
                char *token_out, size_t token_sz, auth_token **out)
{
    return create(s, role, halls, label, fixed_id, NULL, token_out, token_sz, out);
}

int auth_delete(srv *s, const char *id)
{
    for (auth_token *t = s->tokens; t; t = t->next) {
        if (strcmp(t->id, id) == 0) {
            int rc = stor_del_token(s->st, id);
            if (rc == 0)
                unlink_token(s, id);
            return rc;
        }
    }
    return ANT_ENOTFOUND;
}

static int on_token(void *arg, const char *id, const void *rec, size_t len)
{
    srv *s = arg;
    json_error_t err;
    json_t *j = json_loadb(rec, len, 0, &err);
    if (!j)
        return 0; /* skip an unreadable record rather than refuse to start */
    auth_token *t = calloc(1, sizeof *t);
    const char *hash = json_string_value(json_object_get(j, "hash"));
    int role = auth_role_from_name(json_string_value(json_object_get(j, "role")));
    if (t && hash && strlen(hash) == 64 && role >= 0 && codec_unhex(hash, 64, t->hash, 32) == 0 &&
        set_halls(t, json_object_get(j, "halls")) == 0) {
        snprintf(t->id, sizeof t->id, "%s", id);
        t->role = role;
        snprintf(t->label, sizeof t->label, "%s",
                 json_string_value(json_object_get(j, "label")) ?: "");
        t->created = json_integer_value(json_object_get(j, "created"));
        t->next = s->tokens;
        s->tokens = t;
    } else if (t) {
        token_free(t);
    }
    json_decref(j);
    return 0;
}

/* The bootstrap admin token: from the environment, the file, or new. */
static int bootstrap_admin(srv *s, char msg[256])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/admin.token", s->o.data_dir);
    json_t *all = json_string("*");
    const char *env = getenv("ANTREAN_ADMIN_TOKEN");
    int rc = 0;
    if (env && *env) {
        uint8_t h[32];
        hash_text(env, strlen(env), h);
        auth_token *cur = auth_lookup(s, env, strlen(env));
        if (!cur || cur->role != AUTH_ADMIN)
            rc = create(s, AUTH_ADMIN, all, "bootstrap admin (environment)", "admin", env, NULL, 0,
                        NULL);
        log_line("info", "admin token from ANTREAN_ADMIN_TOKEN", "id=admin");
    } else {
        char text[128] = "";
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(text, sizeof text, f))
                text[0] = '\0';
            fclose(f);
            text[strcspn(text, "\r\n ")] = '\0';
        }
        if (text[0]) {
            auth_token *cur = auth_lookup(s, text, strlen(text));
            if (!cur)
                rc = create(s, AUTH_ADMIN, all, "bootstrap admin", "admin", text, NULL, 0, NULL);
        } else {
            char tok[64];
            rc =
                create(s, AUTH_ADMIN, all, "bootstrap admin", "admin", NULL, tok, sizeof tok, NULL);
            if (rc == 0) {
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (fd < 0) {
                    snprintf(msg, 256, "cannot write %.180s: %.60s", path, strerror(errno));
                    rc = ANT_EUNAVAILABLE;
                } else {
                    fchmod(fd, 0600);
                    size_t tl = strlen(tok);
                    if (write(fd, tok, tl) != (ssize_t)tl || write(fd, "\n", 1) != 1) {
                        snprintf(msg, 256, "cannot write %.180s: %.60s", path, strerror(errno));
                        rc = ANT_EUNAVAILABLE;
                    }
                    close(fd);
                }
            }
        }
        if (rc == 0)
            printf("antrean-server: admin token in %s\n", path);
    }
    json_decref(all);
    if (rc != 0 && !msg[0])
        snprintf(msg, 256, "cannot create the admin token");
    return rc;
}

int auth_init(srv *s, char msg[256])
{
    msg[0] = '\0';
    int rc = stor_tokens_each(s->st, on_token, s);
    if (rc != 0) {
        snprintf(msg, 256, "cannot read tokens");
        return rc;
    }
    return bootstrap_admin(s, msg);
}

void auth_free(srv *s)
{
    while (s->tokens) {
        auth_token *t = s->tokens;
        s->tokens = t->next;
        token_free(t);
    }
}
