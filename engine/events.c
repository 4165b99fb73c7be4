/*
 * events.c — one function per event type that changes the hall. Commands
 * (apply.c) build an event and pass it here; replay passes stored events
 * here. Nothing else mutates hall state, so the two paths cannot drift.
 * A function here may only refuse an event that does not fit the state,
 * which for a command means a bug and for replay a corrupt log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall_priv.h"

#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (msg)                                                                                   \
            snprintf(msg, 200, __VA_ARGS__);                                                       \
        return ANT_EINTERNAL;                                                                      \
    } while (0)

eng_event *events_new(eng_hall *h, eng_evbuf *out, int type, int64_t at)
{
    eng_event *ev = eng_evbuf_push(out);
    if (!ev)
        return NULL;
    ev->type = (uint8_t)type;
    ev->seq = h->seq + 1;
    ev->at = at;
    memcpy(ev->hall, h->cfg->id, sizeof ev->hall);
    return ev;
}

static struct eng_ticket *ticket_of(eng_hall *h, const eng_event *ev)
{
    struct eng_ticket *t = hall_ticket_find(h, ev->tid);
    h->hint = t;
    return t;
}

static int lane_of(const struct eng_ticket *t)
{
    return t->prio ? LANE_PRIO : LANE_NORMAL;
}

/*
 * Front of a lane. The ticket keeps its age for longest_wait across
 * services, or takes the head's if that is older, so it is never compared
 * as younger than the ticket it went before.
 */
static void put_first(eng_lane *l, struct eng_ticket *t)
{
    if (l->head && l->head->rank_at < t->rank_at)
        t->rank_at = l->head->rank_at;
    lane_push_front(l, t);
}

static void push_call(eng_hall *h, const struct eng_ticket *t, const eng_ctr *c, int64_t at)
{
    eng_call_rec *r = &h->calls[h->call_head];
    memcpy(r->code, t->code, sizeof r->code);
    memcpy(r->service, h->svc[t->service].id, sizeof r->service);
    memcpy(r->counter, c->id, sizeof r->counter);
    r->at = at;
    h->call_head = (h->call_head + 1) % ENG_NOW_CALLING;
    if (h->ncalls < ENG_NOW_CALLING)
        h->ncalls++;
}

/* A ticket at a counter: the event's ticket must be the counter's current one. */
static int at_counter(eng_hall *h, const eng_event *ev, int state, struct eng_ticket **pt,
                      eng_ctr **pc, char msg[200])
{
    struct eng_ticket *t = ticket_of(h, ev);
    int ci = hall_ctr_find(h, ev->counter);
    if (!t || ci < 0)
        BAD("%s: unknown ticket or counter '%s'", eng_ev_name(ev->type), ev->counter);
    if (h->ctr[ci].cur != t || t->state != state)
        BAD("%s: ticket %s is not %s at counter '%s'", eng_ev_name(ev->type), t->code,
            eng_state_name(state), ev->counter);
    *pt = t;
    *pc = &h->ctr[ci];
    return 0;
}

static int ev_issued(eng_hall *h, const eng_event *ev, char msg[200])
{
    int si = hall_svc_find(h, ev->service);
    if (si < 0)
        BAD("ticket.issued: unknown service '%s'", ev->service);
    if (hall_ticket_find(h, ev->tid))
        BAD("ticket.issued: duplicate ticket id");
    struct eng_ticket *t = hall_ticket_new(h);
    if (!t)
        return ANT_ENOMEM;
    memcpy(t->tid, ev->tid, ENG_TID_LEN);
    memcpy(t->secret, ev->secret, ENG_SECRET_LEN);
    memcpy(t->code, ev->code, sizeof t->code);
    t->code[sizeof t->code - 1] = '\0';
    t->service = (uint16_t)si;
    t->number = ev->number;
    t->prio = ev->prio;
    t->channel = ev->channel;
    t->state = ENG_ST_WAITING;
    t->issued_at = t->enqueued_at = t->rank_at = ev->at;
    t->order = ++h->order;
    if (ev->has_pii) {
        struct eng_ticket_extra *x = hall_ticket_extra(t);
        if (!x)
            return ANT_ENOMEM;
        x->has_pii = true;
        x->pii = ev->pii;
    }
    if (ev->idem) {
        t->idem = strdup(ev->idem);
        if (!t->idem)
            return ANT_ENOMEM;
    }
    eng_svc *s = &h->svc[si];
    if (ev->checkin) {
        int rc = appt_on_checkin(h, t, ev, msg); /* marks the booking, places the ticket */
        if (rc)
            return rc;
    } else {
        lane_push_back(&s->lane[lane_of(t)], t);
    }
    if (ev->number >= s->next_number)
        s->next_number = ev->number + 1;
    s->issued_today++;
    s->acc.issued++;
    return hall_ticket_index(h, t);
}

static void count_wait(eng_hall *h, struct eng_ticket *t, eng_ctr *c, int64_t at)
{
    if (t->wait_recorded)
        return;
    eng_svc *s = &h->svc[t->service];
    uint32_t w = at > t->enqueued_at ? (uint32_t)((at - t->enqueued_at) / 1000) : 0;
    bool sla = w <= s->sla_wait_s;
    eng_acc *accs[2] = {&s->acc, &c->acc};
    for (int i = 0; i < 2; i++) {
        acc_add_wait(accs[i], w);
        accs[i]->called++;
        accs[i]->within_sla += sla;
    }
    t->wait_recorded = 1;
}

static int ev_called(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t = ticket_of(h, ev);
    int ci = hall_ctr_find(h, ev->counter);
    if (!t || ci < 0)
        BAD("ticket.called: unknown ticket or counter '%s'", ev->counter);
    eng_ctr *c = &h->ctr[ci];
    if (t->state != ENG_ST_WAITING || c->cur)
        BAD("ticket.called: ticket %s not waiting or counter '%s' busy", t->code, c->id);
    lane_remove(&h->svc[t->service].lane[lane_of(t)], t);
    t->state = ENG_ST_CALLED;
    t->called_at = ev->at;
    t->started_at = 0;
    t->counter = (uint16_t)ci;
    t->recalls = 0;
    c->cur = t;
    c->consec_prio = t->prio ? c->consec_prio + 1 : 0;
    count_wait(h, t, c, ev->at);
    push_call(h, t, c, ev->at);
    return 0;
}

static int ev_recalled(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t;
    eng_ctr *c;
    int rc = at_counter(h, ev, ENG_ST_CALLED, &t, &c, msg);
    if (rc)
        return rc;
    t->recalls = ev->recalls;
    push_call(h, t, c, ev->at);
    return 0;
}

static int ev_serving(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t;
    eng_ctr *c;
    int rc = at_counter(h, ev, ENG_ST_CALLED, &t, &c, msg);
    if (rc)
        return rc;
    t->state = ENG_ST_SERVING;
    t->started_at = ev->at;
    return 0;
}

/* The service part of a ticket ends at `at`: count it and learn from it. */
static void count_served(eng_hall *h, struct eng_ticket *t, eng_ctr *c, int64_t at)
{
    eng_svc *s = &h->svc[t->service];
    int64_t from = t->started_at ? t->started_at : t->called_at;
    uint32_t secs = at > from ? (uint32_t)((at - from) / 1000) : 0;
    s->acc.served++;
    s->acc.service_s_sum += secs;
    s->acc.service_n++;
    if (c) {
        c->acc.served++;
        c->acc.service_s_sum += secs;
        c->acc.service_n++;
    }
    if (t->called_at && at > t->called_at)
        eta_learn(s, (double)(at - t->called_at) / 1000.0);
}

static int ev_done(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t;
    eng_ctr *c;
    int rc = at_counter(h, ev, ENG_ST_SERVING, &t, &c, msg);
    if (rc)
        return rc;
    count_served(h, t, c, ev->at);
    t->state = ENG_ST_DONE;
    t->finished_at = ev->at;
    c->cur = NULL;
    return 0;
}

static int ev_transferred(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t;
    eng_ctr *c;
    int rc = at_counter(h, ev, ENG_ST_SERVING, &t, &c, msg);
    if (rc)
        return rc;
    int si = hall_svc_find(h, ev->service);
    if (si < 0)
        BAD("ticket.transferred: unknown service '%s'", ev->service);
    count_served(h, t, c, ev->at);
    c->cur = NULL;
    t->service = (uint16_t)si;
    t->state = ENG_ST_WAITING;
    t->counter = ENG_NONE;
    t->recalls = 0;
    t->called_at = t->started_at = 0;
    t->enqueued_at = t->rank_at = ev->at;
    t->wait_recorded = 0;
    t->order = ++h->order;
    eng_lane *l = &h->svc[si].lane[lane_of(t)];
    if (ev->placement == ENG_PLACE_FIRST)
        put_first(l, t);
    else
        lane_push_back(l, t);
    return 0;
}

static int ev_no_show(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t;
    eng_ctr *c;
    int rc = at_counter(h, ev, ENG_ST_CALLED, &t, &c, msg);
    if (rc)
        return rc;
    t->state = ENG_ST_NO_SHOW;
    t->finished_at = ev->at;
    c->cur = NULL;
    h->svc[t->service].acc.no_show++;
    c->acc.no_show++;
    return 0;
}

static int ev_reinstated(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t = ticket_of(h, ev);
    if (!t || t->state != ENG_ST_NO_SHOW)
        BAD("ticket.reinstated: ticket is not a no-show");
    eng_lane *l = &h->svc[t->service].lane[lane_of(t)];
    t->state = ENG_ST_WAITING;
    t->counter = ENG_NONE;
    t->recalls = 0;
    t->called_at = 0;
    t->order = ++h->order;
    put_first(l, t); /* front of its service, keeping its age */
    return 0;
}

static int ev_cancelled(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t = ticket_of(h, ev);
    if (!t || t->state != ENG_ST_WAITING)
        BAD("ticket.cancelled: ticket is not waiting");
    lane_remove(&h->svc[t->service].lane[lane_of(t)], t);
    t->state = ENG_ST_CANCELLED;
    t->finished_at = ev->at;
    h->svc[t->service].acc.cancelled++;
    return 0;
}

static int ev_feedback(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_ticket *t = ticket_of(h, ev);
    if (!t || t->state != ENG_ST_DONE || t->score || ev->score < 1 || ev->score > 4)
        BAD("ticket.feedback: ticket is not done, already rated, or score out of range");
    bool skm = ev->elements[0] != 0;
    uint32_t sum9 = 0;
    for (int k = 0; k < ENG_SKM_N; k++) {
        if (skm ? ev->elements[k] < 1 || ev->elements[k] > 4 : ev->elements[k] != 0)
            BAD("ticket.feedback: elements must be nine answers 1 to 4");
        sum9 += skm ? ev->elements[k] : ev->score;
    }
    t->score = ev->score;
    if (ev->comment || skm) {
        struct eng_ticket_extra *x = hall_ticket_extra(t);
        if (!x)
            return ANT_ENOMEM;
        if (ev->comment && !(x->comment = strdup(ev->comment)))
            return ANT_ENOMEM;
        if (skm)
            memcpy(x->skm, ev->elements, ENG_SKM_N);
    }
    eng_acc *acc[2] = {&h->svc[t->service].acc,
                       t->counter < h->nctr ? &h->ctr[t->counter].acc : NULL};
    for (int a = 0; a < 2 && acc[a]; a++) {
        acc[a]->skm_sum += ev->score;
        acc[a]->skm_n++;
        acc[a]->skm_sum9 += sum9;
        if (skm) {
            acc[a]->skm_el_n++;
            for (int k = 0; k < ENG_SKM_N; k++)
                acc[a]->skm_el_sum[k] += ev->elements[k];
        }
    }
    return 0;
}

static int ev_counter_state(eng_hall *h, const eng_event *ev, char msg[200])
{
    int ci = hall_ctr_find(h, ev->counter);
    if (ci < 0 || ev->counter_state > ENG_CS_PAUSED)
        BAD("counter.state: unknown counter '%s' or state", ev->counter);
    if (ev->counter_state != ENG_CS_OPEN && h->ctr[ci].cur)
        BAD("counter.state: counter '%s' is busy", ev->counter);
    h->ctr[ci].state = ev->counter_state;
    return 0;
}

static int ev_service_wait(eng_hall *h, const eng_event *ev, char msg[200])
{
    (void)msg;
    for (uint8_t i = 0; i < ev->nwait && i < 16; i++) {
        int si = hall_svc_find(h, ev->wait[i].service);
        if (si < 0)
            continue; /* a service gone since: nothing to remember */
        h->svc[si].sent_waiting = ev->wait[i].waiting;
        h->svc[si].sent_eta_s = ev->wait[i].eta_s;
        h->svc[si].sent_oldest_s = ev->wait[i].oldest_wait_s;
    }
    h->wait_ev_at = ev->at;
    return 0;
}

static int ev_hall_config(eng_hall *h, const eng_event *ev, char msg[200])
{
    eng_config *cfg = NULL;
    eng_problems probs;
    if (!ev->config_json || eng_config_parse(ev->config_json, ev->config_len, &cfg, &probs) != 0)
        BAD("hall.config: the config does not validate");
    if (strcmp(cfg->id, h->cfg->id) != 0) {
        eng_config_free(cfg);
        BAD("hall.config: the config is for another hall");
    }
    return hall_build_runtime(h, cfg, msg);
}

static int ev_day_rollover(eng_hall *h, const eng_event *ev, char msg[200])
{
    if (ev->day <= h->day)
        BAD("day.rollover: day %d is not after %d", ev->day, h->day);
    for (uint32_t i = 0; i < h->nall; i++) {
        struct eng_ticket *t = h->all[i];
        eng_ctr *c = t->counter < h->nctr ? &h->ctr[t->counter] : NULL;
        if (t->state == ENG_ST_SERVING) {
            /* done, but its service time is unknown (the day ended, not the
             * operator): counted as served, not learned, not in the mean */
            h->svc[t->service].acc.served++;
            if (c)
                c->acc.served++;
            t->state = ENG_ST_DONE;
        } else if (t->state == ENG_ST_WAITING || t->state == ENG_ST_CALLED) {
            h->svc[t->service].acc.expired++;
            t->state = ENG_ST_EXPIRED;
        }
    }
    stats_close_day(h);
    report_close_day(h);
    stats_reset_today(h);
    hall_tickets_clear(h);
    for (uint16_t i = 0; i < h->nsvc; i++) {
        eng_svc *s = &h->svc[i];
        s->next_number = 1;
        s->issued_today = 0;
        /* sent_* stay: the next tick tells boards the queues are empty now */
    }
    for (uint16_t i = 0; i < h->nctr; i++)
        h->ctr[i].consec_prio = 0;
    h->ncalls = h->call_head = 0;
    memset(h->calls, 0, sizeof h->calls);
    h->day = ev->day;
    appt_rollover(h, ev->day);
    /* ghosts have no tickets left: rebuilding from the config drops them */
    eng_config *cfg = eng_config_dup(h->cfg);
    if (!cfg)
        return ANT_ENOMEM;
    return hall_build_runtime(h, cfg, msg);
}

int events_apply(eng_hall *h, const eng_event *ev, char msg[200])
{
    if (ev->seq != h->seq + 1)
        BAD("%s: seq %llu does not follow %llu",
            eng_ev_name(ev->type) ? eng_ev_name(ev->type) : "?", (unsigned long long)ev->seq,
            (unsigned long long)h->seq);
    int rc;
    switch (ev->type) {
    case ENG_EV_TICKET_ISSUED:
        rc = ev_issued(h, ev, msg);
        break;
    case ENG_EV_TICKET_CALLED:
        rc = ev_called(h, ev, msg);
        break;
    case ENG_EV_TICKET_RECALLED:
        rc = ev_recalled(h, ev, msg);
        break;
    case ENG_EV_TICKET_SERVING:
        rc = ev_serving(h, ev, msg);
        break;
    case ENG_EV_TICKET_DONE:
        rc = ev_done(h, ev, msg);
        break;
    case ENG_EV_TICKET_NO_SHOW:
        rc = ev_no_show(h, ev, msg);
        break;
    case ENG_EV_TICKET_REINSTATED:
        rc = ev_reinstated(h, ev, msg);
        break;
    case ENG_EV_TICKET_TRANSFERRED:
        rc = ev_transferred(h, ev, msg);
        break;
    case ENG_EV_TICKET_CANCELLED:
        rc = ev_cancelled(h, ev, msg);
        break;
    case ENG_EV_TICKET_FEEDBACK:
        rc = ev_feedback(h, ev, msg);
        break;
    case ENG_EV_COUNTER_STATE:
        rc = ev_counter_state(h, ev, msg);
        break;
    case ENG_EV_SERVICE_WAIT:
        rc = ev_service_wait(h, ev, msg);
        break;
    case ENG_EV_HALL_CONFIG:
        rc = ev_hall_config(h, ev, msg);
        break;
    case ENG_EV_DAY_ROLLOVER:
        rc = ev_day_rollover(h, ev, msg);
        break;
    case ENG_EV_APPT_BOOKED:
        rc = appt_on_booked(h, ev, msg);
        break;
    case ENG_EV_APPT_CANCELLED:
        rc = appt_on_cancelled(h, ev, msg);
        break;
    default:
        BAD("unknown event type %d", ev->type);
    }
    if (rc == 0) {
        h->seq = ev->seq;
        if (ev->type != ENG_EV_SERVICE_WAIT && ev->type != ENG_EV_TICKET_FEEDBACK)
            eta_mark_dirty(h);
    }
    return rc;
}

int eng_replay(eng_hall *h, const eng_event *ev, char msg[200])
{
    return events_apply(h, ev, msg);
}
