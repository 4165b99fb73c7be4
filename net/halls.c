/*
 * halls.c — the registry of halls served by this process.
 *
 * At start, every hall stored in the data directory is recovered (snapshot +
 * log, through storage); a --hall FILE or the --demo hall is loaded from its
 * JSON only when no hall with that id is stored yet, so the data directory,
 * not the command line, is the source of truth after the first start (an
 * admin replaces a config through the API). Lookups by ticket id scan the
 * halls: a process serves a handful, and each lookup is a hash probe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

int halls_add(srv *s, eng_hall *eh, srv_hall **out)
{
    const eng_config *cfg = eng_hall_config(eh);
    if (halls_find(s, cfg->id)) {
        eng_hall_free(eh);
        return ANT_EBADREQ;
    }
    if (s->nhalls == s->hcap) {
        size_t nc = s->hcap ? s->hcap * 2 : 8;
        srv_hall **n = realloc(s->halls, nc * sizeof *n);
        if (!n) {
            eng_hall_free(eh);
            return ANT_ENOMEM;
        }
        s->halls = n;
        s->hcap = nc;
    }
    srv_hall *h = calloc(1, sizeof *h);
    if (!h) {
        eng_hall_free(eh);
        return ANT_ENOMEM;
    }
    h->h = eh;
    snprintf(h->id, sizeof h->id, "%s", cfg->id);
    if (bcast_hall_init(s, h) != 0) {
        eng_hall_free(eh);
        free(h);
        return ANT_ENOMEM;
    }
    s->halls[s->nhalls++] = h;
    if (out)
        *out = h;
    return 0;
}

srv_hall *halls_find(srv *s, const char *id)
{
    for (size_t i = 0; i < s->nhalls; i++)
        if (strcmp(s->halls[i]->id, id) == 0)
            return s->halls[i];
    return NULL;
}

int halls_find_ticket(srv *s, const uint8_t tid[ENG_TID_LEN], srv_hall **hall,
                      eng_ticket_view *view)
{
    int64_t now = srv_now_ms();
    for (size_t i = 0; i < s->nhalls; i++) {
        if (eng_ticket_get(s->halls[i]->h, tid, now, view) == 0) {
            *hall = s->halls[i];
            return 0;
        }
    }
    return ANT_ENOTFOUND;
}

static int on_recovered(void *arg, eng_hall *eh)
{
    srv *s = arg;
    int rc = halls_add(s, eh, NULL);
    if (rc == 0)
        log_line("info", "hall recovered", "hall=%s seq=%llu", eng_hall_config(eh)->id,
                 (unsigned long long)eng_hall_seq(eh));
    return rc;
}

char *halls_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            if (cap >= (16u << 20)) {
                errno = EFBIG;
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Create a hall from config JSON unless one with its id exists. */
static int load_config(srv *s, const char *json, size_t len, const char *origin, char msg[256])
{
    eng_config *cfg = NULL;
    eng_problems *probs = calloc(1, sizeof *probs);
    if (!probs)
        return ANT_ENOMEM;
    int rc = eng_config_parse(json, len, &cfg, probs);
    if (rc != 0) {
        snprintf(msg, 256, "%s: %d problem(s), first: %s", origin, probs->count,
                 probs->count > 0 ? probs->msg[0] : "invalid");
        for (int i = 0; i < probs->count && i < ENG_PROBLEMS_MAX; i++)
            log_line("error", "hall config problem", "file=%s problem=\"%s\"", origin,
                     probs->msg[i]);
        free(probs);
        return rc;
    }
    free(probs);
    if (halls_find(s, cfg->id)) {
        log_line("info", "hall already stored; file ignored", "hall=%s file=%s", cfg->id, origin);
        eng_config_free(cfg);
        return 0;
    }
    char id[ENG_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", cfg->id);
    /* the same `created` for storage and engine: recovery rebuilds the first day exactly */
    int64_t now = srv_now_ms();
    rc = stor_put_hall_at(s->st, id, now, cfg->json, cfg->json_len);
    if (rc != 0) {
        snprintf(msg, 256, "%s: cannot store hall %s", origin, id);
        eng_config_free(cfg);
        return rc;
    }
    eng_hall *eh = eng_hall_new(cfg, now);
    if (!eh)
        return ANT_ENOMEM;
    rc = halls_add(s, eh, NULL);
    if (rc == 0)
        log_line("info", "hall loaded", "hall=%s file=%s", id, origin);
    return rc;
}

static int on_tail_event(void *arg, const char *hall, const eng_event *ev)
{
    srv *s = arg;
    srv_hall *h = halls_find(s, hall);
    return h ? bcast_backfill(s, h, ev) : 0;
}

/* The retained history of every recovered hall, so `since` resumes survive a restart. */
static int backfill_history(srv *s, char msg[256])
{
    if (!s->nhalls)
        return 0;
    const char **ids = calloc(s->nhalls, sizeof *ids);
    if (!ids)
        return ANT_ENOMEM;
    for (size_t i = 0; i < s->nhalls; i++)
        ids[i] = s->halls[i]->id;
    uint32_t max = s->halls[0]->ring_cap;
    int rc = stor_log_tail(s->st, ids, s->nhalls, max, on_tail_event, s, msg);
    free(ids);
    for (size_t i = 0; i < s->nhalls; i++)
        bcast_backfill_done(s->halls[i]);
    return rc;
}

int halls_load(srv *s, char msg[256])
{
    int rc = stor_recover(s->st, srv_now_ms(), on_recovered, s, msg);
    if (rc != 0)
        return rc;
    rc = backfill_history(s, msg);
    if (rc != 0)
        return rc;
    for (int i = 0; i < s->o.nhall_files; i++) {
        size_t len = 0;
        char *json = halls_read_file(s->o.hall_files[i], &len);
        if (!json) {
            snprintf(msg, 256, "cannot read hall file %s: %s", s->o.hall_files[i], strerror(errno));
            return ANT_EBADREQ;
        }
        rc = load_config(s, json, len, s->o.hall_files[i], msg);
        free(json);
        if (rc != 0)
            return rc;
    }
    if (s->o.demo) {
        rc = load_config(s, demo_hall_json, strlen(demo_hall_json), "(demo)", msg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void halls_free(srv *s)
{
    for (size_t i = 0; i < s->nhalls; i++) {
        srv_hall *h = s->halls[i];
        bcast_hall_free(h);
        eng_hall_free(h->h);
        free(h);
    }
    free(s->halls);
    s->halls = NULL;
    s->nhalls = s->hcap = 0;
}
