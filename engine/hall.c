/*
 * hall.c — a hall's run-time structures: services and counters built from
 * the config (and rebuilt on config replacement, keeping today's tickets),
 * the ticket pool with its id and idem hashes, queue lanes, and views.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall_priv.h"

#define MS_PER_DAY 86400000LL

/* ---- lanes ------------------------------------------------------------- */

void lane_push_back(eng_lane *l, struct eng_ticket *t)
{
    t->est_valid = 0; /* its place changed: the estimate must reach it again */
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->count++;
}

void lane_push_front(eng_lane *l, struct eng_ticket *t)
{
    t->est_valid = 0;
    t->prev = NULL;
    t->next = l->head;
    if (l->head)
        l->head->prev = t;
    else
        l->tail = t;
    l->head = t;
    l->count++;
}

void lane_remove(eng_lane *l, struct eng_ticket *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    l->count--;
}

/* ---- ticket pool and hashes -------------------------------------------- */

static uint32_t hash_tid(const uint8_t tid[ENG_TID_LEN])
{
    uint32_t h;
    memcpy(&h, tid, sizeof h); /* ids are uniformly random */
    return h;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

struct eng_ticket *hall_ticket_find(const eng_hall *h, const uint8_t tid[ENG_TID_LEN])
{
    /* a command's events name the ticket the command just resolved */
    if (h->hint && memcmp(h->hint->tid, tid, ENG_TID_LEN) == 0)
        return h->hint;
    if (!h->nbuckets)
        return NULL;
    struct eng_ticket *t = h->byid[hash_tid(tid) & (h->nbuckets - 1)];
    while (t && memcmp(t->tid, tid, ENG_TID_LEN) != 0)
        t = t->hnext;
    return t;
}

struct eng_ticket *hall_ticket_by_idem(const eng_hall *h, const char *idem)
{
    if (!h->nidem_slots)
        return NULL;
    uint32_t mask = h->nidem_slots - 1;
    for (uint32_t i = hash_str(idem) & mask;; i = (i + 1) & mask) {
        struct eng_ticket *t = h->byidem[i];
        if (!t || strcmp(t->idem, idem) == 0)
            return t;
    }
}

static void idem_put(struct eng_ticket **slots, uint32_t nslots, struct eng_ticket *t)
{
    uint32_t mask = nslots - 1;
    uint32_t i = hash_str(t->idem) & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = t;
}

/* Add t to the idem table, growing it to keep it at most half full. */
static int idem_add(eng_hall *h, struct eng_ticket *t)
{
    if ((h->nidem + 1) * 2 > h->nidem_slots) {
        uint32_t n = h->nidem_slots ? h->nidem_slots * 2 : 64;
        struct eng_ticket **slots = calloc(n, sizeof *slots);
        if (!slots)
            return ANT_ENOMEM;
        for (uint32_t i = 0; i < h->nidem_slots; i++)
            if (h->byidem[i])
                idem_put(slots, n, h->byidem[i]);
        free(h->byidem);
        h->byidem = slots;
        h->nidem_slots = n;
    }
    idem_put(h->byidem, h->nidem_slots, t);
    h->nidem++;
    return 0;
}

static int rehash(eng_hall *h, uint32_t nb)
{
    struct eng_ticket **byid = calloc(nb, sizeof *byid);
    if (!byid)
        return ANT_ENOMEM;
    for (uint32_t i = 0; i < h->nall; i++) {
        struct eng_ticket *t = h->all[i];
        uint32_t b = hash_tid(t->tid) & (nb - 1);
        t->hnext = byid[b];
        byid[b] = t;
    }
    free(h->byid);
    h->byid = byid;
    h->nbuckets = nb;
    return 0;
}

struct eng_ticket *hall_ticket_new(eng_hall *h)
{
    if (h->nall == h->capall) {
        uint32_t ncap = h->capall ? h->capall * 2 : 64;
        struct eng_ticket **na = realloc(h->all, ncap * sizeof *na);
        if (!na)
            return NULL;
        h->all = na;
        h->capall = ncap;
    }
    if (!h->chunks || h->chunks->used == ENG_CHUNK) {
        eng_chunk *c = malloc(sizeof *c);
        if (!c)
            return NULL;
        c->used = 0;
        c->next = h->chunks;
        h->chunks = c;
    }
    struct eng_ticket *t = &h->chunks->t[h->chunks->used++];
    memset(t, 0, sizeof *t);
    t->counter = ENG_NONE;
    t->idx = h->nall;
    h->all[h->nall++] = t;
    return t;
}

struct eng_ticket_extra *hall_ticket_extra(struct eng_ticket *t)
{
    if (!t->x)
        t->x = calloc(1, sizeof *t->x);
    return t->x;
}

int hall_reindex(eng_hall *h)
{
    uint32_t nb = 256;
    while (nb < h->nall)
        nb *= 2;
    int rc = rehash(h, nb);
    free(h->byidem);
    h->byidem = NULL;
    h->nidem = h->nidem_slots = 0;
    for (uint32_t i = 0; i < h->nall && rc == 0; i++)
        if (h->all[i]->idem)
            rc = idem_add(h, h->all[i]);
    return rc;
}

int hall_ticket_index(eng_hall *h, struct eng_ticket *t)
{
    if (h->nall > h->nbuckets)
        return hall_reindex(h); /* all[] already holds t: this links it too */
    uint32_t b = hash_tid(t->tid) & (h->nbuckets - 1);
    t->hnext = h->byid[b];
    h->byid[b] = t;
    return t->idem ? idem_add(h, t) : 0;
}

void hall_tickets_clear(eng_hall *h)
{
    for (uint32_t i = 0; i < h->nall; i++) {
        struct eng_ticket *t = h->all[i];
        if (t->x)
            free(t->x->comment);
        free(t->x);
        free(t->idem);
    }
    while (h->chunks) {
        eng_chunk *nx = h->chunks->next;
        free(h->chunks);
        h->chunks = nx;
    }
    h->nall = 0;
    h->hint = NULL;
    if (h->nbuckets)
        memset(h->byid, 0, h->nbuckets * sizeof *h->byid);
    if (h->nidem_slots)
        memset(h->byidem, 0, h->nidem_slots * sizeof *h->byidem);
    h->nidem = 0;
    for (uint16_t i = 0; i < h->nsvc; i++)
        memset(h->svc[i].lane, 0, sizeof h->svc[i].lane);
    for (uint16_t i = 0; i < h->nctr; i++)
        h->ctr[i].cur = NULL;
}

/* ---- services and counters ---------------------------------------------- */

int hall_svc_find(const eng_hall *h, const char *id)
{
    for (uint16_t i = 0; i < h->nsvc; i++)
        if (strcmp(h->svc[i].id, id) == 0)
            return i;
    return -1;
}

int hall_ctr_find(const eng_hall *h, const char *id)
{
    for (uint16_t i = 0; i < h->nctr; i++)
        if (strcmp(h->ctr[i].id, id) == 0)
            return i;
    return -1;
}

bool hall_ctr_serves(const eng_ctr *c, uint16_t svc)
{
    for (uint16_t i = 0; i < c->nsvc; i++)
        if (c->svc[i] == svc)
            return true;
    return false;
}

void hall_svc_free(eng_svc *s)
{
    acc_free(&s->acc);
}

void hall_ctr_free(eng_ctr *c)
{
    free(c->svc);
    c->svc = NULL;
    acc_free(&c->acc);
}

static void svc_set_config(eng_svc *s, const eng_service_cfg *sc)
{
    snprintf(s->id, sizeof s->id, "%s", sc->id);
    snprintf(s->name, sizeof s->name, "%s", sc->name);
    memcpy(s->prefix, sc->prefix, sizeof s->prefix);
    s->est_service_s = sc->est_service_s;
    s->sla_wait_s = sc->sla_wait_s;
    s->daily_quota = sc->daily_quota;
    s->ghost = false;
}

/*
 * Build services and counters for cfg, carrying over everything of the old
 * run-time arrays by id: queues, numbering, learned times, today's figures.
 * A service gone from cfg that still has waiting tickets stays as a ghost,
 * served by the counters that served it before. Takes ownership of cfg.
 */
int hall_build_runtime(eng_hall *h, eng_config *cfg, char msg[200])
{
    uint16_t nold = h->nsvc;
    uint16_t nghost = 0;
    /* a service used today stays (as a ghost if gone from cfg): one with
     * tickets, and one whose tickets all moved on by transfer, so that its
     * numbering, quota and figures go on if it comes back the same day */
    bool *used = calloc(nold ? nold : 1, sizeof *used);
    if (!used) {
        eng_config_free(cfg);
        return ANT_ENOMEM;
    }
    for (uint32_t i = 0; i < h->nall; i++)
        if (h->all[i]->service < nold)
            used[h->all[i]->service] = true;
    for (uint16_t i = 0; i < nold; i++)
        if (h->svc[i].issued_today || h->svc[i].acc.called || h->svc[i].acc.served)
            used[i] = true;
    for (uint16_t i = 0; i < nold; i++)
        if (eng_config_service(cfg, h->svc[i].id) < 0 && used[i])
            nghost++;
    uint16_t nsvc = cfg->nservices + nghost;
    eng_svc *svc = calloc(nsvc ? nsvc : 1, sizeof *svc);
    eng_ctr *ctr = calloc(cfg->ncounters ? cfg->ncounters : 1, sizeof *ctr);
    uint16_t *remap = calloc(nold ? nold : 1, sizeof *remap); /* old index -> new */
    if (!svc || !ctr || !remap) {
        free(used);
        free(svc);
        free(ctr);
        free(remap);
        eng_config_free(cfg);
        if (msg)
            snprintf(msg, 200, "out of memory");
        return ANT_ENOMEM;
    }
    for (uint16_t i = 0; i < nold; i++)
        remap[i] = ENG_NONE;
    for (uint16_t i = 0; i < cfg->nservices; i++) {
        int old = hall_svc_find(h, cfg->services[i].id);
        if (old >= 0) {
            svc[i] = h->svc[old]; /* moves queues and accumulators */
            memset(&h->svc[old].acc, 0, sizeof h->svc[old].acc);
            remap[old] = i;
        } else {
            svc[i].next_number = 1;
            svc[i].svc_time_s = cfg->services[i].est_service_s;
        }
        svc_set_config(&svc[i], &cfg->services[i]);
    }
    uint16_t g = cfg->nservices;
    for (uint16_t i = 0; i < nold; i++) {
        if (remap[i] != ENG_NONE || !used[i])
            continue;
        svc[g] = h->svc[i];
        memset(&h->svc[i].acc, 0, sizeof h->svc[i].acc);
        svc[g].ghost = true;
        remap[i] = g++;
    }
    free(used);
    for (uint16_t i = 0; i < cfg->ncounters; i++) {
        const eng_counter_cfg *cc = &cfg->counters[i];
        eng_ctr *c = &ctr[i];
        int old = hall_ctr_find(h, cc->id);
        /* the counter's services: its config list, then ghosts it served */
        uint16_t extra = 0;
        if (old >= 0)
            for (uint16_t k = 0; k < h->ctr[old].nsvc; k++) {
                uint16_t o = h->ctr[old].svc[k];
                if (remap[o] != ENG_NONE && svc[remap[o]].ghost)
                    extra++;
            }
        c->svc = calloc((size_t)cc->nservices + extra + 1, sizeof *c->svc);
        if (!c->svc) {
            for (uint16_t k = 0; k < i; k++)
                free(ctr[k].svc);
            free(svc);
            free(ctr);
            free(remap);
            eng_config_free(cfg);
            return ANT_ENOMEM;
        }
        for (uint16_t k = 0; k < cc->nservices; k++)
            c->svc[c->nsvc++] = cc->services[k];
        if (old >= 0) {
            eng_ctr *oc = &h->ctr[old];
            for (uint16_t k = 0; k < oc->nsvc; k++) {
                uint16_t o = oc->svc[k];
                if (remap[o] != ENG_NONE && svc[remap[o]].ghost)
                    c->svc[c->nsvc++] = remap[o];
            }
            c->state = oc->state;
            c->cur = oc->cur;
            c->consec_prio = oc->consec_prio;
            c->acc = oc->acc;
            memset(&oc->acc, 0, sizeof oc->acc);
            oc->cur = NULL;
        }
        snprintf(c->id, sizeof c->id, "%s", cc->id);
        snprintf(c->label, sizeof c->label, "%s", cc->label);
        c->policy = cc->policy;
    }
    /* tickets follow their services and counters to the new indices (a done
     * ticket keeps its counter for feedback and views, if the counter stays) */
    for (uint32_t i = 0; i < h->nall; i++) {
        struct eng_ticket *t = h->all[i];
        if (t->service < nold)
            t->service = remap[t->service]; /* every used service has a slot */
        if (t->counter < h->nctr) {
            int nc = eng_config_counter(cfg, h->ctr[t->counter].id);
            t->counter = nc >= 0 ? (uint16_t)nc : ENG_NONE;
        } else {
            t->counter = ENG_NONE;
        }
    }
    for (uint16_t i = 0; i < cfg->ncounters; i++)
        if (ctr[i].cur)
            ctr[i].cur->counter = i;
    /* a ticket left at a counter that vanished goes nowhere; the command
     * handler refuses such a replacement, so this only guards replay */
    for (uint16_t i = 0; i < h->nsvc; i++)
        hall_svc_free(&h->svc[i]);
    for (uint16_t i = 0; i < h->nctr; i++)
        hall_ctr_free(&h->ctr[i]);
    free(h->svc);
    free(h->ctr);
    free(remap);
    h->svc = svc;
    h->nsvc = nsvc;
    h->ctr = ctr;
    h->nctr = cfg->ncounters;
    eng_config_free(h->cfg);
    h->cfg = cfg;
    eta_mark_dirty(h);
    return 0;
}

/* ---- hall -------------------------------------------------------------- */

int32_t eng_hall_day_of(const eng_hall *h, int64_t now)
{
    int64_t local = now + (int64_t)h->cfg->utc_offset_min * 60000;
    int64_t d = local / MS_PER_DAY;
    if (local % MS_PER_DAY < 0)
        d--;
    return (int32_t)d;
}

eng_hall *eng_hall_new(eng_config *cfg, int64_t now)
{
    eng_hall *h = calloc(1, sizeof *h);
    if (!h) {
        eng_config_free(cfg);
        return NULL;
    }
    if (hall_build_runtime(h, cfg, NULL) != 0) {
        free(h);
        return NULL;
    }
    h->day = eng_hall_day_of(h, now);
    h->last_closed.day = 0;
    h->eta_dirty = true;
    return h;
}

void eng_hall_free(eng_hall *h)
{
    if (!h)
        return;
    hall_tickets_clear(h);
    for (uint16_t i = 0; i < h->nsvc; i++)
        hall_svc_free(&h->svc[i]);
    for (uint16_t i = 0; i < h->nctr; i++)
        hall_ctr_free(&h->ctr[i]);
    free(h->svc);
    free(h->ctr);
    free(h->all);
    free(h->byid);
    free(h->byidem);
    eng_day_stats_free(&h->last_closed);
    appt_free_all(h);
    free(h->last_rec);
    eng_config_free(h->cfg);
    free(h);
}

const eng_config *eng_hall_config(const eng_hall *h)
{
    return h->cfg;
}

uint64_t eng_hall_seq(const eng_hall *h)
{
    return h->seq;
}

int32_t eng_hall_day(const eng_hall *h)
{
    return h->day;
}

void hall_ticket_code(const eng_hall *h, const struct eng_ticket *t, char out[8])
{
    (void)h;
    memcpy(out, t->code, 8);
}

void hall_view(eng_hall *h, const struct eng_ticket *t, eng_ticket_view *v)
{
    /* plain copies: this runs on every command, snprintf would dominate it */
    memcpy(v->tid, t->tid, ENG_TID_LEN);
    memcpy(v->secret, t->secret, ENG_SECRET_LEN);
    memcpy(v->code, t->code, sizeof v->code);
    if (t->service < h->nsvc)
        memcpy(v->service, h->svc[t->service].id, sizeof v->service);
    else
        v->service[0] = '\0';
    if (t->counter != ENG_NONE && t->counter < h->nctr) {
        memcpy(v->counter, h->ctr[t->counter].id, sizeof v->counter);
        memcpy(v->label, h->ctr[t->counter].label, sizeof v->label);
    } else {
        v->counter[0] = v->label[0] = '\0';
    }
    v->state = t->state;
    v->prio = t->prio;
    v->channel = t->channel;
    v->recalls = t->recalls;
    v->score = t->score;
    v->appointment = t->appt;
    v->issued_at = t->issued_at;
    v->called_at = t->called_at;
    v->started_at = t->started_at;
    v->finished_at = t->finished_at;
    v->position = t->position;
    v->eta_s = t->eta_s;
    v->has_pii = t->x && t->x->has_pii;
    if (v->has_pii)
        v->pii = t->x->pii;
}

/* ---- reads ------------------------------------------------------------- */

int eng_ticket_get(eng_hall *h, const uint8_t tid[ENG_TID_LEN], int64_t now, eng_ticket_view *view)
{
    struct eng_ticket *t = hall_ticket_find(h, tid);
    if (!t)
        return ANT_ENOTFOUND;
    if (t->state == ENG_ST_WAITING)
        eta_refresh(h, now);
    hall_view(h, t, view);
    return 0;
}

/* from the estimate (eta_refresh has just run): every waiting ticket, not only the heads */
static uint32_t oldest_wait_s(const eng_svc *s, int64_t now)
{
    int64_t oldest = s->oldest_enq;
    if (!oldest || now <= oldest)
        return 0;
    return (uint32_t)((now - oldest) / 1000);
}

int eng_service_live_get(eng_hall *h, int service_idx, int64_t now, eng_service_live *out)
{
    if (service_idx < 0 || service_idx >= h->nsvc)
        return ANT_ENOTFOUND;
    eta_refresh(h, now);
    const eng_svc *s = &h->svc[service_idx];
    out->waiting = s->lane[LANE_NORMAL].count + s->lane[LANE_PRIO].count;
    out->eta_s = s->est_eta_s;
    out->oldest_wait_s = oldest_wait_s(s, now);
    return 0;
}

int eng_now_calling(const eng_hall *h, eng_board_call out[ENG_NOW_CALLING])
{
    uint32_t n = h->ncalls;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t slot = (h->call_head + ENG_NOW_CALLING - 1 - i) % ENG_NOW_CALLING;
        const eng_call_rec *r = &h->calls[slot];
        eng_board_call *b = &out[i];
        memset(b, 0, sizeof *b);
        memcpy(b->code, r->code, sizeof b->code);
        memcpy(b->service, r->service, sizeof b->service);
        memcpy(b->counter, r->counter, sizeof b->counter);
        int c = hall_ctr_find(h, r->counter);
        snprintf(b->label, sizeof b->label, "%s", c >= 0 ? h->ctr[c].label : r->counter);
        b->at = r->at;
    }
    return (int)n;
}

void eng_counter_live_get(const eng_hall *h, int counter_idx, eng_counter_live *out)
{
    memset(out, 0, sizeof *out);
    if (counter_idx < 0 || counter_idx >= h->nctr)
        return;
    const eng_ctr *c = &h->ctr[counter_idx];
    out->state = c->state;
    if (c->cur)
        hall_ticket_code(h, c->cur, out->ticket);
}

size_t eng_tickets_each(eng_hall *h, int state, int64_t now, eng_ticket_fn fn, void *arg)
{
    size_t visited = 0;
    eng_ticket_view v;
    if (state == ENG_ST_WAITING) {
        /* service by service, in the order the calling rules will call them:
         * the two lanes merged by the estimate's position (with
         * max_consecutive, normal tickets come between priority ones) */
        eta_refresh(h, now);
        for (uint16_t s = 0; s < h->nsvc; s++) {
            struct eng_ticket *p = h->svc[s].lane[LANE_PRIO].head;
            struct eng_ticket *n = h->svc[s].lane[LANE_NORMAL].head;
            while (p || n) {
                struct eng_ticket *t;
                if (p && (!n || p->position <= n->position)) {
                    t = p;
                    p = p->next;
                } else {
                    t = n;
                    n = n->next;
                }
                hall_view(h, t, &v);
                visited++;
                if (fn(&v, arg))
                    return visited;
            }
        }
        return visited;
    }
    for (uint32_t i = 0; i < h->nall; i++) {
        struct eng_ticket *t = h->all[i];
        if (state >= 0 && t->state != state)
            continue;
        hall_view(h, t, &v);
        visited++;
        if (fn(&v, arg))
            return visited;
    }
    return visited;
}
