/*
 * eng_model.c — see eng_model.h.
 */
#include "eng_model.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hm(const char *s)
{
    int h, m;
    cr_assert_eq(sscanf(s, "%d:%d", &h, &m), 2);
    return h * 60 + m;
}

static void model_cfg(model *m, const fx_hall *p)
{
    m_cfg *c = &m->cfg;
    memset(c, 0, sizeof *c);
    c->utc = p->utc;
    c->open_min = p->open ? hm(p->open) : 0;
    c->until_min = p->until ? hm(p->until) : p->close ? hm(p->close) : 1440;
    c->weekdays = 0;
    const char *w = p->weekdays ? p->weekdays : "[1,2,3,4,5,6,7]";
    for (; *w; w++)
        if (*w >= '1' && *w <= '7')
            c->weekdays |= 1u << (*w - '1');
    if (p->closed_dates)
        for (const char *d = strchr(p->closed_dates, '"'); d; d = strchr(d + 12, '"')) {
            char date[11];
            memcpy(date, d + 1, 10);
            date[10] = '\0';
            cr_assert_eq(eng_parse_date(date, &c->closed[c->nclosed++]), 0);
        }
    c->max_consec = p->max_consec ? p->max_consec : 2;
    c->min_recalls = p->min_recalls >= 0 ? p->min_recalls : 1;
    c->reinstate_s = p->reinstate_s >= 0 ? p->reinstate_s : 1800;
}

int model_svc_find(const model *m, const char *id)
{
    for (int i = 0; i < m->nsvc; i++)
        if (m->svc[i].active && strcmp(m->svc[i].id, id) == 0)
            return i;
    return -1;
}

int model_ctr_find(const model *m, const char *id)
{
    for (int i = 0; i < m->nctr; i++)
        if (m->ctr[i].active && strcmp(m->ctr[i].id, id) == 0)
            return i;
    return -1;
}

int model_tk_find(const model *m, const uint8_t tid[ENG_TID_LEN])
{
    for (int i = 0; i < m->ntk; i++)
        if (memcmp(m->tk[i].tid, tid, ENG_TID_LEN) == 0)
            return i;
    return -1;
}

static bool ctr_serves(const m_ctr *c, int s)
{
    for (int i = 0; i < c->nsvcs; i++)
        if (c->svcs[i] == s)
            return true;
    return false;
}

/* Take on a config: services and counters by id, ghosts for used services that left. */
void model_apply_config(model *m, const fx_hall *p)
{
    model_cfg(m, p);
    bool in_cfg[M_SVC] = {0};
    for (int k = 0; k < FX_MAX_SVC && p->svc[k].id; k++) {
        int s = model_svc_find(m, p->svc[k].id);
        if (s < 0) { /* new, or back after it left: a fresh service either way */
            for (s = 0; s < m->nsvc && strcmp(m->svc[s].id, p->svc[k].id) != 0; s++)
                ;
            if (s == m->nsvc) {
                cr_assert_lt(m->nsvc, M_SVC);
                m->nsvc++;
            }
            memset(&m->svc[s], 0, sizeof m->svc[s]);
            snprintf(m->svc[s].id, sizeof m->svc[s].id, "%s", p->svc[k].id);
            m->svc[s].next = 1;
        }
        m_svc *sv = &m->svc[s];
        sv->active = true;
        sv->ghost = false;
        snprintf(sv->prefix, sizeof sv->prefix, "%s", p->svc[k].prefix);
        sv->quota = p->svc[k].quota;
        in_cfg[s] = true;
    }
    for (int s = 0; s < m->nsvc; s++) {
        if (!m->svc[s].active || in_cfg[s])
            continue;
        bool used = m->svc[s].touched;
        for (int t = 0; t < m->ntk && !used; t++)
            used = m->tk[t].svc == s;
        if (used)
            m->svc[s].ghost = true;
        else
            m->svc[s].active = false;
    }
    bool keep[M_CTR] = {0};
    for (int k = 0; k < FX_MAX_CTR && p->ctr[k].id; k++) {
        int c = model_ctr_find(m, p->ctr[k].id);
        int old[M_SVC_OF_CTR], nold = 0;
        if (c < 0) {
            for (c = 0; c < m->nctr && strcmp(m->ctr[c].id, p->ctr[k].id) != 0; c++)
                ;
            if (c == m->nctr) {
                cr_assert_lt(m->nctr, M_CTR);
                m->nctr++;
            }
            memset(&m->ctr[c], 0, sizeof m->ctr[c]);
            snprintf(m->ctr[c].id, sizeof m->ctr[c].id, "%s", p->ctr[k].id);
            m->ctr[c].cur = -1;
            m->ctr[c].state = ENG_CS_CLOSED;
        } else {
            nold = m->ctr[c].nsvcs;
            memcpy(old, m->ctr[c].svcs, sizeof old);
        }
        m_ctr *ct = &m->ctr[c];
        ct->active = true;
        ct->in_order = p->ctr[k].policy && strcmp(p->ctr[k].policy, "in_order") == 0;
        ct->nsvcs = 0;
        for (const char *s = p->ctr[k].services; *s;) {
            size_t n = strcspn(s, ",");
            char id[ENG_ID_MAX + 1];
            snprintf(id, sizeof id, "%.*s", (int)n, s);
            ct->svcs[ct->nsvcs++] = model_svc_find(m, id);
            s += n;
            if (*s == ',')
                s++;
        }
        for (int i = 0; i < nold; i++) /* the ghosts it served */
            if (m->svc[old[i]].active && m->svc[old[i]].ghost)
                ct->svcs[ct->nsvcs++] = old[i];
        keep[c] = true;
    }
    for (int c = 0; c < m->nctr; c++)
        if (!keep[c])
            m->ctr[c].active = false;
}

int32_t model_day_of(const model *m, int64_t now)
{
    int64_t local = now + (int64_t)m->cfg.utc * 60000;
    int64_t d = local / 86400000;
    if (local % 86400000 < 0)
        d--;
    return (int32_t)d;
}

static void q_remove(m_svc *s, int lane, int t)
{
    for (int i = 0; i < s->nq[lane]; i++)
        if (s->q[lane][i] == t) {
            memmove(&s->q[lane][i], &s->q[lane][i + 1],
                    (size_t)(s->nq[lane] - i - 1) * sizeof(int));
            s->nq[lane]--;
            return;
        }
    cr_assert_fail("model: ticket %d not in its queue", t);
}

static void q_push(model *m, int s, int t, bool front)
{
    m_svc *sv = &m->svc[s];
    int lane = m->tk[t].prio ? P_PRIO : P_NORMAL;
    cr_assert_lt(sv->nq[lane], M_Q);
    if (front) {
        memmove(&sv->q[lane][1], &sv->q[lane][0], (size_t)sv->nq[lane] * sizeof(int));
        sv->q[lane][0] = t;
    } else {
        sv->q[lane][sv->nq[lane]] = t;
    }
    sv->nq[lane]++;
}

/* The head's rank of t's lane in service s, or `dflt` when the lane is empty. */
static int64_t head_rank(const model *m, int s, int lane, int64_t dflt)
{
    const m_svc *sv = &m->svc[s];
    if (!sv->nq[lane])
        return dflt;
    int64_t r = m->tk[sv->q[lane][0]].rank;
    return r < dflt ? r : dflt;
}

/* The calling rules of SPEC §3, written out plainly. */
int model_pick(const model *m, const m_ctr *c)
{
    bool any[2] = {false, false};
    for (int i = 0; i < c->nsvcs; i++)
        for (int l = 0; l < 2; l++)
            if (m->svc[c->svcs[i]].nq[l])
                any[l] = true;
    if (!any[0] && !any[1])
        return -1;
    int lane = any[P_PRIO] && (!any[P_NORMAL] || c->consec < (unsigned)m->cfg.max_consec)
                   ? P_PRIO
                   : P_NORMAL;
    int best = -1;
    for (int i = 0; i < c->nsvcs; i++) {
        const m_svc *sv = &m->svc[c->svcs[i]];
        if (!sv->nq[lane])
            continue;
        int t = sv->q[lane][0];
        if (c->in_order)
            return t;
        if (best < 0 || m->tk[t].rank < m->tk[best].rank ||
            (m->tk[t].rank == m->tk[best].rank && m->tk[t].order < m->tk[best].order))
            best = t;
    }
    return best;
}

m_ev *model_expect(m_out *o, int type)
{
    cr_assert_lt(o->n, 4);
    m_ev *e = &o->ev[o->n++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

static m_ev *model_expect_tk(model *m, m_out *o, int type, int t, int c)
{
    m_ev *e = model_expect(o, type);
    memcpy(e->code, m->tk[t].code, sizeof e->code);
    snprintf(e->svc, sizeof e->svc, "%s", m->svc[m->tk[t].svc].id);
    if (c >= 0)
        snprintf(e->ctr, sizeof e->ctr, "%s", m->ctr[c].id);
    return e;
}

int model_rollover(model *m, int64_t now, m_out *o, m_closed *closed)
{
    int32_t d = model_day_of(m, now);
    if (d <= m->day)
        return 0;
    model_expect(o, ENG_EV_DAY_ROLLOVER)->day = d;
    for (int t = 0; t < m->ntk; t++) {
        m_tk *k = &m->tk[t];
        if (k->state == ENG_ST_SERVING) {
            m->svc[k->svc].st_served++;
            k->state = ENG_ST_DONE;
        } else if (k->state == ENG_ST_WAITING || k->state == ENG_ST_CALLED) {
            m->svc[k->svc].st_expired++;
            k->state = ENG_ST_EXPIRED;
        }
        memcpy(m->old[m->nold++ % M_OLD], k->tid, ENG_TID_LEN);
    }
    int nc = 0;
    for (int s = 0; s < m->nsvc; s++) {
        m_svc *sv = &m->svc[s];
        if (!sv->active)
            continue;
        m_closed *c = &closed[nc++];
        snprintf(c->id, sizeof c->id, "%s", sv->id);
        c->issued = sv->st_issued;
        c->served = sv->st_served;
        c->noshow = sv->st_noshow;
        c->cancel = sv->st_cancel;
        c->expired = sv->st_expired;
        sv->st_issued = sv->st_served = sv->st_noshow = sv->st_cancel = sv->st_expired = 0;
        sv->nq[0] = sv->nq[1] = 0;
        sv->next = 1;
        sv->issued = 0;
        sv->touched = false;
        if (sv->ghost)
            sv->active = sv->ghost = false;
    }
    for (int c = 0; c < m->nctr; c++) {
        m_ctr *ct = &m->ctr[c];
        ct->cur = -1;
        ct->consec = 0;
        int n = 0;
        for (int i = 0; i < ct->nsvcs; i++)
            if (m->svc[ct->svcs[i]].active)
                ct->svcs[n++] = ct->svcs[i];
        ct->nsvcs = n;
    }
    m->ntk = 0;
    m->day = d;
    return nc;
}

static bool digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool model_hall_open(const model *m, int64_t now)
{
    int32_t d = model_day_of(m, now);
    for (int i = 0; i < m->cfg.nclosed; i++)
        if (m->cfg.closed[i] == d)
            return false;
    int wd = (int)((((int64_t)d % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday */
    if (!(m->cfg.weekdays & (1u << (wd - 1))))
        return false;
    int64_t local = now + (int64_t)m->cfg.utc * 60000;
    int minute = (int)((local % 86400000 + 86400000) % 86400000 / 60000);
    return minute >= m->cfg.open_min && minute < m->cfg.until_min;
}

void model_issue(model *m, const eng_cmd *c, int64_t now, m_out *o)
{
    if (c->idem) {
        size_t n = strlen(c->idem);
        bool ok = n >= 1 && n <= ENG_IDEM_MAX;
        for (size_t i = 0; i < n; i++)
            if (c->idem[i] < 0x20 || c->idem[i] > 0x7e)
                ok = false;
        if (!ok) {
            o->rc = ANT_EBADREQ;
            return;
        }
        for (int t = 0; t < m->ntk; t++)
            if (strcmp(m->tk[t].idem, c->idem) == 0) {
                o->replay_of = t;
                return;
            }
    }
    int s = c->service ? model_svc_find(m, c->service) : -1;
    if (!c->service)
        o->rc = ANT_EBADREQ;
    else if (s < 0 || m->svc[s].ghost)
        o->rc = ANT_ENOTFOUND;
    else if (c->prio > ENG_PRIO_CHILD || c->channel > ENG_CH_STAFF)
        o->rc = ANT_EBADREQ;
    else if ((c->nik && !digits(c->nik, 16, 16)) ||
             (c->phone && !digits(c->phone[0] == '+' ? c->phone + 1 : c->phone, 6, 16)) ||
             (c->name && !c->name[0]))
        o->rc = ANT_EBADREQ;
    else if (!model_hall_open(m, now))
        o->rc = ANT_ECLOSED;
    else if (m->svc[s].quota && m->svc[s].issued >= m->svc[s].quota)
        o->rc = ANT_EQUOTA;
    if (o->rc)
        return;
    m_svc *sv = &m->svc[s];
    if (m->ntk == m->captk) {
        m->captk = m->captk ? m->captk * 2 : 256;
        m->tk = realloc(m->tk, (size_t)m->captk * sizeof *m->tk);
        cr_assert_not_null(m->tk);
    }
    int t = m->ntk++;
    m_tk *k = &m->tk[t];
    memset(k, 0, sizeof *k);
    memcpy(k->tid, c->tid, ENG_TID_LEN);
    snprintf(k->code, sizeof k->code, "%s%03u", sv->prefix, sv->next);
    k->svc = s;
    k->ctr = -1;
    k->state = ENG_ST_WAITING;
    k->prio = c->prio;
    k->rank = now;
    k->order = ++m->order;
    snprintf(k->idem, sizeof k->idem, "%s", c->idem ? c->idem : "");
    k->callable = true;
    q_push(m, s, t, false);
    m_ev *e = model_expect_tk(m, o, ENG_EV_TICKET_ISSUED, t, -1);
    e->prio = c->prio;
    e->number = sv->next;
    sv->next++;
    sv->issued++;
    sv->st_issued++;
    sv->touched = true;
}

static void call_ticket(model *m, int c, int t, m_out *o)
{
    m_tk *k = &m->tk[t];
    cr_assert(k->callable, "model: %s called from no queue", k->code);
    q_remove(&m->svc[k->svc], k->prio ? P_PRIO : P_NORMAL, t);
    k->state = ENG_ST_CALLED;
    k->ctr = c;
    k->recalls = 0;
    k->callable = false;
    m->ctr[c].cur = t;
    m->ctr[c].consec = k->prio ? m->ctr[c].consec + 1 : 0;
    m->svc[k->svc].touched = true;
    model_expect_tk(m, o, ENG_EV_TICKET_CALLED, t, c);
}

void model_counter_cmd(model *m, const eng_cmd *cmd, int64_t now, m_out *o)
{
    int c = cmd->counter ? model_ctr_find(m, cmd->counter) : -1;
    if (c < 0) {
        o->rc = cmd->counter ? ANT_ENOTFOUND : ANT_EBADREQ;
        return;
    }
    m_ctr *ct = &m->ctr[c];
    int cur = ct->cur;
    switch (cmd->type) {
    case ENG_CMD_CALL: {
        if (ct->state != ENG_CS_OPEN) {
            o->rc = ANT_ESTATE;
            return;
        }
        if (cur >= 0) {
            o->rc = ANT_EBUSY;
            return;
        }
        int t;
        if (cmd->has_ticket) {
            t = model_tk_find(m, cmd->tid);
            if (t < 0)
                o->rc = ANT_ENOTFOUND;
            else if (m->tk[t].state != ENG_ST_WAITING)
                o->rc = ANT_ESTATE;
            else if (!ctr_serves(ct, m->tk[t].svc))
                o->rc = ANT_EBADREQ;
        } else {
            t = model_pick(m, ct);
            if (t < 0)
                o->rc = ANT_EEMPTY;
        }
        if (!o->rc)
            call_ticket(m, c, t, o);
        return;
    }
    case ENG_CMD_RECALL:
    case ENG_CMD_START:
    case ENG_CMD_NO_SHOW:
        if (cur < 0 || m->tk[cur].state != ENG_ST_CALLED) {
            o->rc = ANT_ESTATE;
            return;
        }
        if (cmd->type == ENG_CMD_RECALL) {
            m->tk[cur].recalls++;
            model_expect_tk(m, o, ENG_EV_TICKET_RECALLED, cur, c)->recalls = m->tk[cur].recalls;
        } else if (cmd->type == ENG_CMD_START) {
            m->tk[cur].state = ENG_ST_SERVING;
            model_expect_tk(m, o, ENG_EV_TICKET_SERVING, cur, c);
        } else {
            if (m->tk[cur].recalls < m->cfg.min_recalls) {
                o->rc = ANT_ETOOEARLY;
                return;
            }
            m->tk[cur].state = ENG_ST_NO_SHOW;
            m->tk[cur].noshow_at = now;
            m->svc[m->tk[cur].svc].st_noshow++;
            ct->cur = -1;
            model_expect_tk(m, o, ENG_EV_TICKET_NO_SHOW, cur, c);
        }
        return;
    case ENG_CMD_FINISH: {
        if (cur < 0 || m->tk[cur].state != ENG_ST_SERVING) {
            o->rc = ANT_ESTATE;
            return;
        }
        m_tk *k = &m->tk[cur];
        if (!cmd->transfer_to) {
            k->state = ENG_ST_DONE;
            m->svc[k->svc].st_served++;
            ct->cur = -1;
            model_expect_tk(m, o, ENG_EV_TICKET_DONE, cur, c);
            return;
        }
        int s = model_svc_find(m, cmd->transfer_to);
        if (s < 0 || m->svc[s].ghost)
            o->rc = ANT_ENOTFOUND;
        else if (s == k->svc || cmd->placement > ENG_PLACE_FIRST)
            o->rc = ANT_EBADREQ;
        if (o->rc)
            return;
        m_ev *e = model_expect_tk(m, o, ENG_EV_TICKET_TRANSFERRED, cur, c);
        snprintf(e->from, sizeof e->from, "%s", m->svc[k->svc].id);
        snprintf(e->svc, sizeof e->svc, "%s", m->svc[s].id);
        e->placement = cmd->placement;
        m->svc[k->svc].st_served++;
        ct->cur = -1;
        bool first = cmd->placement == ENG_PLACE_FIRST;
        k->svc = s;
        k->state = ENG_ST_WAITING;
        k->ctr = -1;
        k->recalls = 0;
        k->rank = first ? head_rank(m, s, k->prio ? P_PRIO : P_NORMAL, now) : now;
        k->order = ++m->order;
        k->callable = true;
        q_push(m, s, cur, first);
        return;
    }
    default: {
        int to = cmd->type == ENG_CMD_COUNTER_CLOSE   ? ENG_CS_CLOSED
                 : cmd->type == ENG_CMD_COUNTER_PAUSE ? ENG_CS_PAUSED
                                                      : ENG_CS_OPEN;
        if ((cmd->type == ENG_CMD_COUNTER_PAUSE || cmd->type == ENG_CMD_COUNTER_RESUME) &&
            ct->state == ENG_CS_CLOSED) {
            o->rc = ANT_ESTATE;
            return;
        }
        if (to != ENG_CS_OPEN && cur >= 0) {
            o->rc = ANT_EBUSY;
            return;
        }
        if (ct->state == to)
            return;
        ct->state = to;
        m_ev *e = model_expect(o, ENG_EV_COUNTER_STATE);
        snprintf(e->ctr, sizeof e->ctr, "%s", ct->id);
        e->cstate = to;
        return;
    }
    }
}

void model_ticket_cmd(model *m, const eng_cmd *cmd, int64_t now, m_out *o)
{
    int t = cmd->has_ticket ? model_tk_find(m, cmd->tid) : -1;
    if (t < 0) {
        o->rc = cmd->has_ticket ? ANT_ENOTFOUND : ANT_EBADREQ;
        return;
    }
    m_tk *k = &m->tk[t];
    switch (cmd->type) {
    case ENG_CMD_REINSTATE:
        if (k->state != ENG_ST_NO_SHOW || now - k->noshow_at > (int64_t)m->cfg.reinstate_s * 1000) {
            o->rc = ANT_ESTATE;
            return;
        }
        model_expect_tk(m, o, ENG_EV_TICKET_REINSTATED, t, -1)->placement = ENG_PLACE_FIRST;
        k->rank = head_rank(m, k->svc, k->prio ? P_PRIO : P_NORMAL, k->rank);
        k->order = ++m->order;
        k->state = ENG_ST_WAITING;
        k->ctr = -1;
        k->recalls = 0;
        k->callable = true;
        q_push(m, k->svc, t, true);
        return;
    case ENG_CMD_CANCEL:
        if (k->state != ENG_ST_WAITING) {
            o->rc = ANT_ESTATE;
            return;
        }
        q_remove(&m->svc[k->svc], k->prio ? P_PRIO : P_NORMAL, t);
        k->state = ENG_ST_CANCELLED;
        k->callable = false;
        m->svc[k->svc].st_cancel++;
        model_expect_tk(m, o, ENG_EV_TICKET_CANCELLED, t, -1);
        return;
    default: /* feedback */
        if (cmd->score < 1 || cmd->score > 4 ||
            (cmd->comment && strlen(cmd->comment) > ENG_COMMENT_MAX))
            o->rc = ANT_EBADREQ;
        else if (k->state != ENG_ST_DONE || k->score)
            o->rc = ANT_ESTATE;
        if (o->rc)
            return;
        k->score = cmd->score;
        model_expect_tk(m, o, ENG_EV_TICKET_FEEDBACK, t, -1)->score = cmd->score;
        return;
    }
}

void model_config(model *m, const fx_hall *p, m_out *o)
{
    for (int ci = 0; ci < m->nctr && !o->rc; ci++) {
        if (!m->ctr[ci].active || m->ctr[ci].cur < 0)
            continue;
        bool kept = false;
        for (int q = 0; q < FX_MAX_CTR && p->ctr[q].id; q++)
            kept |= !strcmp(p->ctr[q].id, m->ctr[ci].id);
        if (!kept)
            o->rc = ANT_EBUSY;
    }
    if (o->rc)
        return;
    model_apply_config(m, p);
    model_expect(o, ENG_EV_HALL_CONFIG);
}
