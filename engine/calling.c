/*
 * calling.c — the calling rules of SPEC §3, in one place so that calling and
 * the wait estimate (eta.c) cannot disagree:
 *   1. candidates are the heads of the counter's services' queues;
 *   2. priority tickets go first, except that after max_consecutive priority
 *      calls in a row at this counter a waiting normal ticket goes next;
 *   3. among the rest the counter's policy decides: longest_wait (oldest
 *      rank) or in_order (first listed service with anyone waiting); ties go
 *      to the earlier enqueue.
 * Appointments (SPEC §11) change only where a checked-in ticket enters its
 * service's normal lane (calling_appt_after); once there it is called by
 * the same three rules, so priority tickets still go first.
 */
#include "calling.h"

#include "hall_priv.h"

static bool earlier(const struct eng_ticket *a, const struct eng_ticket *b)
{
    if (a->rank_at != b->rank_at)
        return a->rank_at < b->rank_at;
    return a->order < b->order;
}

struct eng_ticket *calling_pick_from(const eng_hall *h, const eng_ctr *c, uint32_t consec,
                                     struct eng_ticket *const *heads)
{
    bool any_prio = false, any_norm = false;
    for (uint16_t i = 0; i < c->nsvc; i++) {
        uint16_t s = c->svc[i];
        if (heads[s * 2 + LANE_PRIO])
            any_prio = true;
        if (heads[s * 2 + LANE_NORMAL])
            any_norm = true;
    }
    if (!any_prio && !any_norm)
        return NULL;
    int lane = LANE_NORMAL;
    if (any_prio && (!any_norm || consec < h->cfg->prio_max_consecutive))
        lane = LANE_PRIO;
    struct eng_ticket *best = NULL;
    for (uint16_t i = 0; i < c->nsvc; i++) {
        struct eng_ticket *t = heads[c->svc[i] * 2 + lane];
        if (!t)
            continue;
        if (c->policy == ENG_POLICY_IN_ORDER)
            return t;
        if (!best || earlier(t, best))
            best = t;
    }
    return best;
}

struct eng_ticket *calling_pick(const eng_hall *h, const eng_ctr *c)
{
    /* heads of every service's lanes, only those the counter serves filled */
    struct eng_ticket *heads[2 * 64];
    struct eng_ticket **hp = heads;
    struct eng_ticket **big = NULL;
    size_t need = (size_t)h->nsvc * 2;
    if (need > sizeof heads / sizeof heads[0]) {
        big = calloc(need, sizeof *big);
        if (!big)
            return NULL;
        hp = big;
    }
    for (uint16_t i = 0; i < c->nsvc; i++) {
        uint16_t s = c->svc[i];
        hp[s * 2 + LANE_NORMAL] = h->svc[s].lane[LANE_NORMAL].head;
        hp[s * 2 + LANE_PRIO] = h->svc[s].lane[LANE_PRIO].head;
    }
    struct eng_ticket *t = calling_pick_from(h, c, c->consec_prio, hp);
    free(big);
    return t;
}

/*
 * SPEC §11: a ticket checked in for a booking goes ahead of every normal
 * ticket of its service issued after `cutoff` (slot start − early_min), but
 * never ahead of another booking placed for the same or an earlier anchor
 * (its slot's start, or its check-in if later): bookings keep their order
 * among themselves. Walking back from the tail, step over the tickets it
 * must pass; the first one it must not pass is the one it goes after.
 * Tickets of the lane that came in by reinstatement or transfer count by
 * their issue time like any other. NULL: the ticket goes to the front.
 */
struct eng_ticket *calling_appt_after(const eng_lane *l, int64_t cutoff, int64_t anchor)
{
    struct eng_ticket *t = l->tail;
    while (t && (t->appt ? t->rank_at > anchor : t->issued_at > cutoff))
        t = t->prev;
    return t;
}
