/*
 * apply.c — commands (SPEC §3): check a command against the state, build
 * the events it causes and apply them through events.c. Also the passage
 * of time: day rollover and service.wait (eng_tick).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall_priv.h"

#define MS_PER_DAY 86400000LL

#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        snprintf(res->msg, sizeof res->msg, __VA_ARGS__);                                          \
        return res->rc = (code);                                                                   \
    } while (0)

/* Apply a just-built event; on the impossible failure drop it again. */
static int commit(eng_hall *h, eng_evbuf *out, eng_result *res)
{
    int rc = events_apply(h, &out->ev[out->n - 1], res->msg);
    if (rc) {
        out->n--;
        res->rc = rc;
    }
    return rc;
}

/* commit, and on success name the ticket the command acted on in res */
static int commit_ticket(eng_hall *h, eng_evbuf *out, eng_result *res, struct eng_ticket *t)
{
    int rc = commit(h, out, res);
    if (rc == 0) {
        res->has_ticket = true;
        hall_view(h, t, &res->ticket);
    }
    return rc;
}

static int rollover_if_due(eng_hall *h, int64_t now, eng_evbuf *out, char msg[200])
{
    int32_t day = eng_hall_day_of(h, now);
    if (day <= h->day)
        return 0;
    eng_event *ev = events_new(h, out, ENG_EV_DAY_ROLLOVER, now);
    if (!ev)
        return ANT_ENOMEM;
    ev->day = day;
    int rc = events_apply(h, ev, msg);
    if (rc)
        out->n--;
    return rc;
}

/* ---- issue -------------------------------------------------------------- */

static int weekday_of(int32_t day)
{
    /* 1970-01-01 was a Thursday (4); 1 = Monday … 7 = Sunday */
    return (int)(((day % 7) + 7 + 3) % 7) + 1;
}

static void fmt_hm(unsigned m, char out[6])
{
    snprintf(out, 6, "%02u:%02u", (m / 60) % 100, m % 60);
}

static bool is_closed_date(const eng_config *cfg, int32_t day)
{
    int lo = 0, hi = cfg->nclosed - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cfg->closed_days[mid] == day)
            return true;
        if (cfg->closed_days[mid] < day)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return false;
}

bool apply_day_open(const eng_config *cfg, int32_t day)
{
    return !(cfg->nclosed && is_closed_date(cfg, day)) &&
           (cfg->weekdays & (1u << (weekday_of(day) - 1)));
}

int apply_check_hours(const eng_hall *h, int64_t now, eng_result *res)
{
    const eng_config *cfg = h->cfg;
    int64_t local = now + (int64_t)cfg->utc_offset_min * 60000;
    int32_t day = eng_hall_day_of(h, now);
    unsigned minute = (unsigned)(((local % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY / 60000);
    char date[16], hm[6];
    bool closed_date = cfg->nclosed && is_closed_date(cfg, day);
    if (closed_date || !(cfg->weekdays & (1u << (weekday_of(day) - 1)))) {
        eng_format_date(day, date);
        FAIL(ANT_ECLOSED,
             closed_date ? "hall is closed today (%s)" : "hall is closed on this weekday (%s)",
             date);
    }
    if (minute < cfg->open_min) {
        fmt_hm(cfg->open_min, hm);
        FAIL(ANT_ECLOSED, "hall is closed: tickets are issued from %s", hm);
    }
    if (minute >= cfg->issue_until_min) {
        fmt_hm(cfg->issue_until_min, hm);
        FAIL(ANT_ECLOSED, "hall is closed: ticket issuing ended at %s", hm);
    }
    return 0;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Citizen data is checked here too (the codec checks the wire); messages never quote it. */
int apply_check_pii(const eng_cmd *cmd, eng_result *res)
{
    if (cmd->nik && !all_digits(cmd->nik, ENG_NIK_LEN, ENG_NIK_LEN))
        FAIL(ANT_EBADREQ, "nik: must be exactly 16 digits");
    if (cmd->phone) {
        const char *p = cmd->phone[0] == '+' ? cmd->phone + 1 : cmd->phone;
        if (!all_digits(p, 6, 16))
            FAIL(ANT_EBADREQ, "phone: must be 6 to 16 digits, optionally after '+'");
    }
    if (cmd->name && (!cmd->name[0] || strlen(cmd->name) > ENG_PERSON_NAME_MAX))
        FAIL(ANT_EBADREQ, "name: must be 1 to %d bytes", ENG_PERSON_NAME_MAX);
    return 0;
}

/* "A001" … "A999", "A1000" …: the prefix and at least three digits (≤ 99999). */
static void format_code(const char *prefix, uint32_t number, char out[8])
{
    char digits[8];
    int n = 0;
    number %= 100000;
    do {
        digits[n++] = (char)('0' + number % 10);
        number /= 10;
    } while (number);
    while (n < 3)
        digits[n++] = '0';
    size_t k = strlen(prefix);
    memcpy(out, prefix, k);
    while (n)
        out[k++] = digits[--n];
    out[k] = '\0';
}

int apply_check_idem(const char *idem, eng_result *res)
{
    size_t n = strlen(idem);
    if (n < 1 || n > ENG_IDEM_MAX)
        FAIL(ANT_EBADREQ, "idem: must be 1 to 64 printable characters");
    for (size_t i = 0; i < n; i++)
        if (idem[i] < 0x20 || idem[i] > 0x7e) /* as the codec: space is printable */
            FAIL(ANT_EBADREQ, "idem: must be 1 to 64 printable characters");
    return 0;
}

/* The ticket.issued event of a new ticket of service si (not yet applied). */
int apply_issue_event(eng_hall *h, const eng_cmd *cmd, int si, int64_t now, eng_evbuf *out,
                      eng_event **pev, eng_result *res)
{
    eng_svc *s = &h->svc[si];
    /* an id collision (2^-128) is refused by events.c as a duplicate */
    eng_event *ev = events_new(h, out, ENG_EV_TICKET_ISSUED, now);
    if (!ev)
        FAIL(ANT_ENOMEM, "out of memory");
    memcpy(ev->tid, cmd->tid, ENG_TID_LEN);
    memcpy(ev->secret, cmd->secret, ENG_SECRET_LEN);
    memcpy(ev->service, s->id, sizeof ev->service);
    ev->number = s->next_number;
    format_code(s->prefix, ev->number, ev->code);
    ev->prio = cmd->prio;
    ev->channel = cmd->channel;
    if (cmd->phone || cmd->name || cmd->nik) {
        ev->has_pii = true;
        snprintf(ev->pii.phone, sizeof ev->pii.phone, "%s", cmd->phone ? cmd->phone : "");
        snprintf(ev->pii.name, sizeof ev->pii.name, "%s", cmd->name ? cmd->name : "");
        snprintf(ev->pii.nik, sizeof ev->pii.nik, "%s", cmd->nik ? cmd->nik : "");
    }
    if (cmd->idem && eng_evbuf_strdup(out, cmd->idem, strlen(cmd->idem), &ev->idem) != 0) {
        out->n--;
        FAIL(ANT_ENOMEM, "out of memory");
    }
    *pev = ev;
    return 0;
}

static int cmd_issue(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    if (cmd->idem) {
        if (apply_check_idem(cmd->idem, res))
            return res->rc;
        struct eng_ticket *t = hall_ticket_by_idem(h, cmd->idem);
        if (t) {
            eta_refresh(h, now);
            res->replayed = true;
            res->has_ticket = true;
            hall_view(h, t, &res->ticket);
            return 0;
        }
    }
    if (!cmd->service)
        FAIL(ANT_EBADREQ, "service: missing");
    int si = hall_svc_find(h, cmd->service);
    if (si < 0 || h->svc[si].ghost)
        FAIL(ANT_ENOTFOUND, "service '%.32s' not found in hall '%s'", cmd->service, h->cfg->id);
    if (cmd->prio > ENG_PRIO_CHILD)
        FAIL(ANT_EBADREQ, "priority: unknown reason");
    if (cmd->channel > ENG_CH_STAFF)
        FAIL(ANT_EBADREQ, "channel: unknown channel");
    if (apply_check_pii(cmd, res))
        return res->rc;
    if (apply_check_hours(h, now, res))
        return res->rc;
    eng_svc *s = &h->svc[si];
    /* bookings for today that have not checked in hold their share of the quota */
    if (s->daily_quota && s->issued_today + appt_booked_count(h, s->id, h->day) >= s->daily_quota)
        FAIL(ANT_EQUOTA, "service '%s' has issued its daily quota of %u tickets", s->id,
             s->daily_quota);
    eng_event *ev;
    if (apply_issue_event(h, cmd, si, now, out, &ev, res))
        return res->rc;
    if (commit(h, out, res))
        return res->rc;
    struct eng_ticket *t = h->all[h->nall - 1];
    res->has_ticket = true;
    hall_view(h, t, &res->ticket);
    return 0;
}

/* ---- counter commands -------------------------------------------------- */

static eng_ctr *counter_of(eng_hall *h, const eng_cmd *cmd, eng_result *res)
{
    int ci = cmd->counter ? hall_ctr_find(h, cmd->counter) : -1;
    if (ci < 0) {
        if (!cmd->counter)
            snprintf(res->msg, sizeof res->msg, "counter: missing");
        else
            snprintf(res->msg, sizeof res->msg, "counter '%.32s' not found in hall '%s'",
                     cmd->counter, h->cfg->id);
        res->rc = cmd->counter ? ANT_ENOTFOUND : ANT_EBADREQ;
        return NULL;
    }
    memcpy(res->counter, h->ctr[ci].id, sizeof res->counter);
    return &h->ctr[ci];
}

static eng_event *ticket_event(eng_hall *h, eng_evbuf *out, int type, int64_t now,
                               const struct eng_ticket *t, const eng_ctr *c)
{
    eng_event *ev = events_new(h, out, type, now);
    if (!ev)
        return NULL;
    h->hint = (struct eng_ticket *)t;
    memcpy(ev->tid, t->tid, ENG_TID_LEN);
    memcpy(ev->code, t->code, sizeof ev->code);
    memcpy(ev->service, h->svc[t->service].id, sizeof ev->service);
    if (c)
        memcpy(ev->counter, c->id, sizeof ev->counter);
    return ev;
}

static int cmd_call(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    eng_ctr *c = counter_of(h, cmd, res);
    if (!c)
        return res->rc;
    if (c->state != ENG_CS_OPEN)
        FAIL(ANT_ESTATE, "counter '%s' is %s; open it first", c->id,
             eng_counter_state_name(c->state));
    if (c->cur)
        FAIL(ANT_EBUSY, "counter '%s' already has ticket %s %s", c->id, c->cur->code,
             eng_state_name(c->cur->state));
    struct eng_ticket *t;
    if (cmd->has_ticket) {
        t = hall_ticket_find(h, cmd->tid);
        if (!t)
            FAIL(ANT_ENOTFOUND, "ticket not found");
        if (t->state != ENG_ST_WAITING)
            FAIL(ANT_ESTATE, "ticket %s is %s, not waiting", t->code, eng_state_name(t->state));
        if (!hall_ctr_serves(c, t->service))
            FAIL(ANT_EBADREQ, "counter '%s' does not serve service '%s' of ticket %s", c->id,
                 h->svc[t->service].id, t->code);
    } else {
        t = calling_pick(h, c);
        if (!t)
            FAIL(ANT_EEMPTY, "no ticket is waiting for the services of counter '%s'", c->id);
    }
    if (!ticket_event(h, out, ENG_EV_TICKET_CALLED, now, t, c))
        FAIL(ANT_ENOMEM, "out of memory");
    return commit_ticket(h, out, res, t);
}

/* The counter's current ticket, which must be in `state`. */
static struct eng_ticket *current(eng_hall *h, eng_ctr *c, int state, const char *verb,
                                  eng_result *res)
{
    (void)h;
    if (!c->cur || c->cur->state != state) {
        if (c->cur)
            snprintf(res->msg, sizeof res->msg, "cannot %s: ticket %s at counter '%s' is %s", verb,
                     c->cur->code, c->id, eng_state_name(c->cur->state));
        else
            snprintf(res->msg, sizeof res->msg, "cannot %s: counter '%s' has no %s ticket", verb,
                     c->id, eng_state_name(state));
        res->rc = ANT_ESTATE;
        return NULL;
    }
    return c->cur;
}

static int cmd_at_counter(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out,
                          eng_result *res)
{
    eng_ctr *c = counter_of(h, cmd, res);
    if (!c)
        return res->rc;
    struct eng_ticket *t;
    eng_event *ev;
    switch (cmd->type) {
    case ENG_CMD_RECALL:
        if (!(t = current(h, c, ENG_ST_CALLED, "recall", res)))
            return res->rc;
        if (!(ev = ticket_event(h, out, ENG_EV_TICKET_RECALLED, now, t, c)))
            FAIL(ANT_ENOMEM, "out of memory");
        ev->recalls = t->recalls < 255 ? t->recalls + 1 : 255;
        break;
    case ENG_CMD_START:
        if (!(t = current(h, c, ENG_ST_CALLED, "start", res)))
            return res->rc;
        if (!ticket_event(h, out, ENG_EV_TICKET_SERVING, now, t, c))
            FAIL(ANT_ENOMEM, "out of memory");
        break;
    case ENG_CMD_NO_SHOW:
        if (!(t = current(h, c, ENG_ST_CALLED, "mark no-show", res)))
            return res->rc;
        if (t->recalls < h->cfg->min_recalls)
            FAIL(ANT_ETOOEARLY, "ticket %s was recalled %u times; no-show needs at least %u",
                 t->code, t->recalls, h->cfg->min_recalls);
        if (!ticket_event(h, out, ENG_EV_TICKET_NO_SHOW, now, t, c))
            FAIL(ANT_ENOMEM, "out of memory");
        break;
    default: /* ENG_CMD_FINISH */
        if (!(t = current(h, c, ENG_ST_SERVING, "finish", res)))
            return res->rc;
        if (cmd->transfer_to) {
            int si = hall_svc_find(h, cmd->transfer_to);
            if (si < 0 || h->svc[si].ghost)
                FAIL(ANT_ENOTFOUND, "transfer_to: service '%.32s' not found in hall '%s'",
                     cmd->transfer_to, h->cfg->id);
            if (si == t->service)
                FAIL(ANT_EBADREQ, "transfer_to: ticket %s is already in service '%s'", t->code,
                     h->svc[si].id);
            if (cmd->placement > ENG_PLACE_FIRST)
                FAIL(ANT_EBADREQ, "placement: must be 'first' or 'last'");
            if (!(ev = ticket_event(h, out, ENG_EV_TICKET_TRANSFERRED, now, t, c)))
                FAIL(ANT_ENOMEM, "out of memory");
            memcpy(ev->from_service, ev->service, sizeof ev->from_service);
            memcpy(ev->service, h->svc[si].id, sizeof ev->service);
            ev->placement = cmd->placement;
        } else if (!ticket_event(h, out, ENG_EV_TICKET_DONE, now, t, c)) {
            FAIL(ANT_ENOMEM, "out of memory");
        }
        break;
    }
    return commit_ticket(h, out, res, t);
}

static int cmd_counter_state(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out,
                             eng_result *res)
{
    eng_ctr *c = counter_of(h, cmd, res);
    if (!c)
        return res->rc;
    int to;
    switch (cmd->type) {
    case ENG_CMD_COUNTER_OPEN:
        to = ENG_CS_OPEN;
        break;
    case ENG_CMD_COUNTER_CLOSE:
        to = ENG_CS_CLOSED;
        break;
    case ENG_CMD_COUNTER_PAUSE:
        if (c->state == ENG_CS_CLOSED)
            FAIL(ANT_ESTATE, "counter '%s' is closed; only an open counter can pause", c->id);
        to = ENG_CS_PAUSED;
        break;
    default: /* resume */
        if (c->state == ENG_CS_CLOSED)
            FAIL(ANT_ESTATE, "counter '%s' is closed; open it instead of resuming", c->id);
        to = ENG_CS_OPEN;
        break;
    }
    if (to != ENG_CS_OPEN && c->cur && c->state != to)
        FAIL(ANT_EBUSY, "counter '%s' has ticket %s %s; finish it first", c->id, c->cur->code,
             eng_state_name(c->cur->state));
    if (c->state == to)
        return 0; /* already there: not an error, no event */
    eng_event *ev = events_new(h, out, ENG_EV_COUNTER_STATE, now);
    if (!ev)
        FAIL(ANT_ENOMEM, "out of memory");
    memcpy(ev->counter, c->id, sizeof ev->counter);
    ev->counter_state = (uint8_t)to;
    return commit(h, out, res);
}

/* ---- ticket commands ---------------------------------------------------- */

static struct eng_ticket *ticket_of_cmd(eng_hall *h, const eng_cmd *cmd, eng_result *res)
{
    struct eng_ticket *t = cmd->has_ticket ? hall_ticket_find(h, cmd->tid) : NULL;
    if (!t) {
        snprintf(res->msg, sizeof res->msg,
                 cmd->has_ticket ? "ticket not found" : "ticket: missing");
        res->rc = cmd->has_ticket ? ANT_ENOTFOUND : ANT_EBADREQ;
    }
    return t;
}

static int cmd_ticket(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    struct eng_ticket *t = ticket_of_cmd(h, cmd, res);
    if (!t)
        return res->rc;
    eng_event *ev;
    switch (cmd->type) {
    case ENG_CMD_REINSTATE:
        if (t->state != ENG_ST_NO_SHOW)
            FAIL(ANT_ESTATE, "ticket %s is %s; only a no-show can be reinstated", t->code,
                 eng_state_name(t->state));
        if (now - t->finished_at > (int64_t)h->cfg->reinstate_within_s * 1000)
            FAIL(ANT_ESTATE, "ticket %s was marked no-show more than %u s ago", t->code,
                 h->cfg->reinstate_within_s);
        if (!(ev = ticket_event(h, out, ENG_EV_TICKET_REINSTATED, now, t, NULL)))
            FAIL(ANT_ENOMEM, "out of memory");
        ev->placement = ENG_PLACE_FIRST;
        break;
    case ENG_CMD_CANCEL:
        if (t->state != ENG_ST_WAITING)
            FAIL(ANT_ESTATE, "ticket %s is %s; only a waiting ticket can be cancelled", t->code,
                 eng_state_name(t->state));
        if (!ticket_event(h, out, ENG_EV_TICKET_CANCELLED, now, t, NULL))
            FAIL(ANT_ENOMEM, "out of memory");
        break;
    default: /* ENG_CMD_FEEDBACK */
        bool skm = cmd->elements[0] != 0;
        unsigned el_sum = 0;
        for (int k = 0; k < ENG_SKM_N && skm; k++) {
            if (cmd->elements[k] < 1 || cmd->elements[k] > 4)
                FAIL(ANT_EBADREQ, "elements[%d]: must be 1 to 4", k);
            el_sum += cmd->elements[k];
        }
        if (skm && cmd->score)
            FAIL(ANT_EBADREQ, "feedback: give either score or elements, not both");
        if (!skm && (cmd->score < 1 || cmd->score > 4))
            FAIL(ANT_EBADREQ, "score: must be 1 to 4");
        if (cmd->comment && strlen(cmd->comment) > ENG_COMMENT_MAX)
            FAIL(ANT_EBADREQ, "comment: longer than %d bytes", ENG_COMMENT_MAX);
        if (t->state != ENG_ST_DONE)
            FAIL(ANT_ESTATE, "ticket %s is %s; feedback is taken after service", t->code,
                 eng_state_name(t->state));
        if (t->score)
            FAIL(ANT_ESTATE, "ticket %s has already been rated", t->code);
        if (!(ev = ticket_event(h, out, ENG_EV_TICKET_FEEDBACK, now, t, NULL)))
            FAIL(ANT_ENOMEM, "out of memory");
        /* with the survey, score is the elements' mean rounded half up: the
         * single-score figures stay comparable, and a rated ticket has score != 0 */
        ev->score = skm ? (uint8_t)((2 * el_sum + ENG_SKM_N) / (2 * ENG_SKM_N)) : cmd->score;
        if (skm)
            memcpy(ev->elements, cmd->elements, ENG_SKM_N);
        if (cmd->comment &&
            eng_evbuf_strdup(out, cmd->comment, strlen(cmd->comment), &ev->comment) != 0) {
            out->n--;
            FAIL(ANT_ENOMEM, "out of memory");
        }
        break;
    }
    return commit_ticket(h, out, res, t);
}

/* ---- config ------------------------------------------------------------- */

static int cmd_config(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    eng_config *cfg = NULL;
    eng_problems probs;
    if (!cmd->config_json)
        FAIL(ANT_EBADREQ, "config: missing");
    if (eng_config_parse(cmd->config_json, cmd->config_len, &cfg, &probs) != 0) {
        size_t off =
            (size_t)snprintf(res->msg, sizeof res->msg, "config has %d problem%s:", probs.count,
                             probs.count == 1 ? "" : "s");
        for (int i = 0; i < probs.count && i < ENG_PROBLEMS_MAX && off < sizeof res->msg; i++)
            off += (size_t)snprintf(res->msg + off, sizeof res->msg - off, "%s %s", i ? ";" : "",
                                    probs.msg[i]);
        return res->rc = ANT_EBADREQ;
    }
    if (strcmp(cfg->id, h->cfg->id) != 0) {
        snprintf(res->msg, sizeof res->msg, "id: the config is for hall '%.32s', not '%s'", cfg->id,
                 h->cfg->id);
        eng_config_free(cfg);
        return res->rc = ANT_EBADREQ;
    }
    /* codes must stay unique today: a prefix that issued tickets today
     * cannot pass to another service until the day ends */
    for (uint16_t i = 0; i < h->nsvc; i++) {
        const eng_svc *old = &h->svc[i];
        if (!old->issued_today)
            continue;
        for (uint16_t k = 0; k < cfg->nservices; k++)
            if (strcmp(cfg->services[k].prefix, old->prefix) == 0 &&
                strcmp(cfg->services[k].id, old->id) != 0) {
                snprintf(res->msg, sizeof res->msg,
                         "services[%u].prefix: '%s' already numbered today's tickets of "
                         "service '%s'; reuse it tomorrow",
                         (unsigned)k, old->prefix, old->id);
                eng_config_free(cfg);
                return res->rc = ANT_EBADREQ;
            }
    }
    for (uint16_t i = 0; i < h->nctr; i++)
        if (h->ctr[i].cur && eng_config_counter(cfg, h->ctr[i].id) < 0) {
            eng_config_free(cfg);
            FAIL(ANT_EBUSY, "counter '%s' has a ticket at it and is missing from the new config",
                 h->ctr[i].id);
        }
    eng_event *ev = events_new(h, out, ENG_EV_HALL_CONFIG, now);
    int rc = ev ? eng_evbuf_strdup(out, cfg->json, cfg->json_len, &ev->config_json) : ANT_ENOMEM;
    if (ev)
        ev->config_len = cfg->json_len;
    eng_config_free(cfg);
    if (rc) {
        if (ev)
            out->n--;
        FAIL(ANT_ENOMEM, "out of memory");
    }
    return commit(h, out, res);
}

/* ---- entry points ------------------------------------------------------- */

int eng_apply(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    memset(res, 0, sizeof *res);
    int rc = rollover_if_due(h, now, out, res->msg);
    if (rc)
        return res->rc = rc;
    switch (cmd->type) {
    case ENG_CMD_ISSUE:
        return cmd_issue(h, cmd, now, out, res);
    case ENG_CMD_CALL:
        return cmd_call(h, cmd, now, out, res);
    case ENG_CMD_RECALL:
    case ENG_CMD_START:
    case ENG_CMD_FINISH:
    case ENG_CMD_NO_SHOW:
        return cmd_at_counter(h, cmd, now, out, res);
    case ENG_CMD_REINSTATE:
    case ENG_CMD_CANCEL:
    case ENG_CMD_FEEDBACK:
        return cmd_ticket(h, cmd, now, out, res);
    case ENG_CMD_COUNTER_OPEN:
    case ENG_CMD_COUNTER_CLOSE:
    case ENG_CMD_COUNTER_PAUSE:
    case ENG_CMD_COUNTER_RESUME:
        return cmd_counter_state(h, cmd, now, out, res);
    case ENG_CMD_CONFIG:
        return cmd_config(h, cmd, now, out, res);
    case ENG_CMD_BOOK:
        return appt_cmd_book(h, cmd, now, out, res);
    case ENG_CMD_APPT_CANCEL:
        return appt_cmd_cancel(h, cmd, now, out, res);
    case ENG_CMD_CHECKIN:
        return appt_cmd_checkin(h, cmd, now, out, res);
    default:
        FAIL(ANT_EBADREQ, "unknown command %d", cmd->type);
    }
}

#define WAIT_OLDEST_STEP_S 60 /* oldest_wait_s alone is re-sent when it moved this much */

int eng_tick(eng_hall *h, int64_t now, eng_evbuf *out)
{
    char msg[200];
    int rc = rollover_if_due(h, now, out, msg);
    if (rc)
        return rc;
    if (now - h->wait_ev_at < 1000)
        return 0;
    h->eta_dirty = true; /* same inputs, same figures: live and replayed halls agree */
    eta_refresh(h, now);
    eng_event *ev = NULL;
    for (uint16_t i = 0; i < h->nsvc; i++) {
        eng_service_live live;
        eng_service_live_get(h, i, now, &live);
        const eng_svc *s = &h->svc[i];
        uint32_t drift = live.oldest_wait_s > s->sent_oldest_s
                             ? live.oldest_wait_s - s->sent_oldest_s
                             : s->sent_oldest_s - live.oldest_wait_s;
        if (live.waiting == s->sent_waiting && live.eta_s == s->sent_eta_s &&
            drift < WAIT_OLDEST_STEP_S && !(live.oldest_wait_s == 0 && s->sent_oldest_s))
            continue;
        if (ev && ev->nwait == 16) {
            if ((rc = events_apply(h, ev, msg)) != 0)
                return rc;
            ev = NULL;
        }
        if (!ev && !(ev = events_new(h, out, ENG_EV_SERVICE_WAIT, now)))
            return ANT_ENOMEM;
        struct eng_wait_item *w = &ev->wait[ev->nwait++];
        memcpy(w->service, s->id, sizeof w->service);
        w->waiting = live.waiting;
        w->eta_s = live.eta_s;
        w->oldest_wait_s = live.oldest_wait_s;
    }
    if (ev)
        return events_apply(h, ev, msg);
    return 0;
}
