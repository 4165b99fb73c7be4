/*
 * eta.c — wait estimates (SPEC §3): position and eta_s for every waiting
 * ticket, eta_s for a new ticket per service.
 *
 * Method: simulate the calling rules forward. Every counter open now
 * becomes free when its current ticket's learned service time has passed;
 * the counter free earliest calls next, by calling.c's rules. A ticket's eta
 * is the simulated time of its call; its position is how many simulated
 * calls come before it, at an earlier instant, at counters that serve its
 * service. A ticket no open counter will reach (a hall before opening, a
 * service whose counters are all closed) gets its rank in its own service
 * as position, and rank × service time ÷ the counters configured for the
 * service as eta: "n people ahead, about this long once counters open". Service times are learned
 * per service from finished tickets (EWMA, α = 0.2, seeded from
 * est_service_s). Estimates are computed lazily: at most once a second, and
 * at the next read after any change.
 */
#include <stdlib.h>
#include <string.h>

#include "calling.h"
#include "hall_priv.h"

#define EWMA_ALPHA 0.02
#define RESIDUAL_FLOOR 0.4
#define ETA_FULL_MAX 2000 /* waiting tickets a hall re-simulates after every change */

void eta_learn(eng_svc *s, double seconds)
{
    if (seconds < 1)
        seconds = 1;
    s->svc_time_s = s->svc_time_s * (1 - EWMA_ALPHA) + seconds * EWMA_ALPHA;
}

void eta_mark_dirty(eng_hall *h)
{
    h->eta_dirty = true;
}

typedef struct sim_ctr {
    int64_t free_at;
    uint32_t consec;
    bool active;
} sim_ctr;

/* Start of the hall-local day that holds `at`, in ms since the epoch. */
static int64_t day_start(const eng_hall *h, int64_t at)
{
    return (int64_t)eng_hall_day_of(h, at) * 86400000 - (int64_t)h->cfg->utc_offset_min * 60000;
}

/* A counter serves nobody during its planned breaks (SPEC §10): a free time
 * inside one moves to its end. Breaks are sorted, so one pass suffices. */
static int64_t after_breaks(const eng_hall *h, uint16_t c, int64_t at)
{
    const eng_counter_cfg *k = c < h->cfg->ncounters ? &h->cfg->counters[c] : NULL;
    if (!k || !k->nbreaks)
        return at;
    int64_t d0 = day_start(h, at);
    for (uint8_t b = 0; b < k->nbreaks; b++) {
        int64_t from = d0 + (int64_t)k->breaks[b].from_min * 60000;
        int64_t to = d0 + (int64_t)k->breaks[b].to_min * 60000;
        if (at >= from && at < to)
            at = to;
    }
    return at;
}

/* A closed counter inside one of its planned breaks comes back at its end. */
static bool in_break(const eng_hall *h, uint16_t c, int64_t now)
{
    return after_breaks(h, c, now) != now;
}

static int64_t svc_ms(const eng_hall *h, uint16_t s)
{
    return (int64_t)(h->svc[s].svc_time_s * 1000.0);
}

/* Counters the config gives a service (open or not); at least 1 for a divisor. */
static int64_t counters_for(const eng_hall *h, uint16_t s)
{
    int64_t k = 0;
    for (uint16_t i = 0; i < h->nctr; i++)
        k += hall_ctr_serves(&h->ctr[i], s);
    return k ? k : 1;
}

static uint32_t to_s(int64_t ms)
{
    return ms <= 0 ? 0 : (uint32_t)((ms + 999) / 1000);
}

static uint32_t hall_waiting(const eng_hall *h)
{
    uint32_t n = 0;
    for (uint16_t s = 0; s < h->nsvc; s++)
        n += h->svc[s].lane[LANE_NORMAL].count + h->svc[s].lane[LANE_PRIO].count;
    return n;
}

/* When counter i is next free for a new ticket, from the last full estimate's end state. */
static int64_t end_free(const eng_hall *h, uint16_t i, int64_t now)
{
    int64_t f = h->ctr[i].eta_end > now ? h->ctr[i].eta_end : now;
    return after_breaks(h, i, f);
}

/* One ticket at the back of its lane, estimated as the full simulation would
 * continue: the counter serving its service that runs out of work first calls
 * it; its position counts the calls simulated before that instant at counters
 * serving its service. O(counters). */
static void estimate_back(eng_hall *h, struct eng_ticket *t, int64_t now)
{
    int best = -1;
    int64_t at = 0;
    for (uint16_t i = 0; i < h->nctr; i++) {
        if (!h->ctr[i].eta_active || !hall_ctr_serves(&h->ctr[i], t->service))
            continue;
        int64_t f = end_free(h, i, now);
        if (best < 0 || f < at) {
            best = i;
            at = f;
        }
    }
    t->est_valid = 1;
    if (best < 0) { /* no counter will reach it: rank in the service, as the full estimate */
        t->position = t->prev && t->prev->est_valid ? t->prev->position + 1 : 0;
        t->eta_s = to_s((int64_t)t->position * svc_ms(h, t->service) / counters_for(h, t->service));
        return;
    }
    uint32_t pos = 0;
    for (uint16_t i = 0; i < h->nctr; i++) {
        const eng_ctr *c = &h->ctr[i];
        if (c->eta_active && hall_ctr_serves(c, t->service))
            pos += c->eta_ncalls - (c->eta_ncalls && c->eta_lastcall >= at ? 1 : 0);
    }
    t->position = pos;
    t->eta_s = to_s(at - now);
    eng_ctr *c = &h->ctr[best];
    c->eta_ncalls++;
    c->eta_lastcall = at;
    c->eta_end = after_breaks(h, (uint16_t)best, at + svc_ms(h, t->service));
}

/* Between full estimates of a big hall: estimate only the tickets that
 * entered at the back of a lane since, and each service's figure for a new
 * ticket. The tickets not yet estimated are a run at the tail of each lane. */
static void eta_append(eng_hall *h, int64_t now)
{
    for (uint16_t s = 0; s < h->nsvc; s++)
        for (int l = LANE_PRIO; l >= LANE_NORMAL; l--) {
            struct eng_ticket *t = h->svc[s].lane[l].tail;
            while (t && !t->est_valid)
                t = t->prev;
            for (t = t ? t->next : h->svc[s].lane[l].head; t; t = t->next)
                estimate_back(h, t, now);
        }
    for (uint16_t s = 0; s < h->nsvc; s++) {
        int64_t first = -1;
        for (uint16_t i = 0; i < h->nctr; i++) {
            if (!h->ctr[i].eta_active || !hall_ctr_serves(&h->ctr[i], s))
                continue;
            int64_t f = end_free(h, i, now);
            if (first < 0 || f < first)
                first = f;
        }
        if (first >= 0)
            h->svc[s].est_eta_s = to_s(first - now);
    }
}

void eta_refresh(eng_hall *h, int64_t now)
{
    if (!h->eta_dirty && now - h->eta_at < 1000)
        return;
    /* A big hall re-simulates at most once a second; in between, a command
     * costs O(counters) whatever the queue (tickets at the back continue the
     * last simulation; the rest keep their figures until the next one). */
    if (now - h->eta_at < 1000 && h->eta_nctr == h->nctr && h->nctr &&
        hall_waiting(h) > ETA_FULL_MAX) {
        eta_append(h, now);
        return;
    }
    uint16_t nsvc = h->nsvc, nctr = h->nctr;
    sim_ctr *sc = calloc(nctr ? nctr : 1, sizeof *sc);
    struct eng_ticket **heads = calloc((size_t)nsvc * 2 + 1, sizeof *heads);
    /* calls[s]: simulated calls at counters serving s at earlier instants;
     * pend[s]: those at the current instant, which do not count as "before"
     * (two idle counters call two tickets at once: both are position 0) */
    uint32_t *calls = calloc(nsvc ? nsvc : 1, sizeof *calls);
    uint32_t *pend = calloc(nsvc ? nsvc : 1, sizeof *pend);
    if (!sc || !heads || !calls || !pend) {
        free(sc);
        free(heads);
        free(calls);
        free(pend);
        return; /* keep the old estimates; retried at the next read */
    }
    for (uint16_t i = 0; i < nctr; i++) {
        const eng_ctr *c = &h->ctr[i];
        sc[i].active = c->state == ENG_CS_OPEN;
        sc[i].consec = c->consec_prio;
        sc[i].free_at = now;
        if (!sc[i].active && !c->cur && in_break(h, i, now)) {
            sc[i].active = true;
            sc[i].free_at = after_breaks(h, i, now);
        }
        if (c->cur && c->cur->service < nsvc) {
            /* the learned time runs from the call; a ticket already past it
             * is still expected to need a share of it (RESIDUAL_FLOOR) */
            int64_t end = c->cur->called_at + svc_ms(h, c->cur->service);
            int64_t floor_end = now + (int64_t)(svc_ms(h, c->cur->service) * RESIDUAL_FLOOR);
            if (end < floor_end)
                end = floor_end;
            if (end > now)
                sc[i].free_at = end;
        }
        sc[i].free_at = after_breaks(h, i, sc[i].free_at);
        h->ctr[i].eta_active = sc[i].active;
        h->ctr[i].eta_ncalls = 0;
        h->ctr[i].eta_lastcall = 0;
    }
    uint32_t remaining = 0;
    for (uint16_t s = 0; s < nsvc; s++) {
        heads[s * 2 + LANE_NORMAL] = h->svc[s].lane[LANE_NORMAL].head;
        heads[s * 2 + LANE_PRIO] = h->svc[s].lane[LANE_PRIO].head;
        remaining += h->svc[s].lane[LANE_NORMAL].count + h->svc[s].lane[LANE_PRIO].count;
        /* fallback for tickets no open counter will reach: rank in their own
         * service; and the oldest waiting ticket, which need not be a lane's
         * head (a transfer with placement first puts a newer one before it) */
        uint32_t rank = 0;
        int64_t oldest = 0;
        int64_t per_ticket = svc_ms(h, s) / counters_for(h, s);
        for (int l = LANE_PRIO; l >= LANE_NORMAL; l--)
            for (struct eng_ticket *t = h->svc[s].lane[l].head; t; t = t->next) {
                t->eta_s = to_s((int64_t)rank * per_ticket);
                t->position = rank++;
                t->est_valid = 1;
                if (!oldest || t->enqueued_at < oldest)
                    oldest = t->enqueued_at;
            }
        h->svc[s].oldest_enq = oldest;
    }
    int64_t instant = INT64_MIN;
    while (remaining > 0) {
        int best = -1;
        for (uint16_t i = 0; i < nctr; i++)
            if (sc[i].active && (best < 0 || sc[i].free_at < sc[best].free_at))
                best = i;
        if (best < 0)
            break;
        const eng_ctr *c = &h->ctr[best];
        struct eng_ticket *t = calling_pick_from(h, c, sc[best].consec, heads);
        if (!t) {
            sc[best].active = false;
            continue;
        }
        int lane = t->prio ? LANE_PRIO : LANE_NORMAL;
        heads[t->service * 2 + lane] = t->next;
        sc[best].consec = lane == LANE_PRIO ? sc[best].consec + 1 : 0;
        if (sc[best].free_at > instant) {
            for (uint16_t k = 0; k < nsvc; k++) {
                calls[k] += pend[k];
                pend[k] = 0;
            }
            instant = sc[best].free_at;
        }
        t->position = calls[t->service];
        t->eta_s = to_s(sc[best].free_at - now);
        for (uint16_t k = 0; k < c->nsvc; k++)
            pend[c->svc[k]]++;
        h->ctr[best].eta_ncalls++;
        h->ctr[best].eta_lastcall = sc[best].free_at;
        sc[best].free_at =
            after_breaks(h, (uint16_t)best, sc[best].free_at + svc_ms(h, t->service));
        remaining--;
    }
    /* a new ticket: called when the first counter serving its service is free */
    for (uint16_t s = 0; s < nsvc; s++) {
        int64_t first = -1;
        for (uint16_t i = 0; i < nctr; i++) {
            if (h->ctr[i].state != ENG_CS_OPEN && !in_break(h, i, now))
                continue;
            if (!hall_ctr_serves(&h->ctr[i], s))
                continue;
            if (first < 0 || sc[i].free_at < first)
                first = sc[i].free_at;
        }
        uint32_t eta;
        if (first >= 0)
            eta = to_s(first - now);
        else
            eta = to_s((int64_t)(h->svc[s].lane[0].count + h->svc[s].lane[1].count) * svc_ms(h, s) /
                       counters_for(h, s));
        h->svc[s].est_eta_s = eta;
    }
    for (uint16_t i = 0; i < nctr; i++)
        h->ctr[i].eta_end = sc[i].free_at;
    h->eta_nctr = nctr;
    h->eta_dirty = false;
    h->eta_at = now;
    free(sc);
    free(heads);
    free(calls);
    free(pend);
}
