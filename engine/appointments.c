/*
 * appointments.c — bookings (SPEC §11): book, cancel, check in, and the
 * reads behind the slot list and the booking page.
 *
 * A booking is state like a ticket: commands here check and build the
 * events appointment.booked / appointment.cancelled, and a check-in builds
 * a ticket.issued that names the booking; events.c applies all of them
 * through the appt_on_* functions below, for commands and replay alike.
 * Bookings outlive the day they were made on (they are for up to
 * days_ahead days later) and are forgotten when their own day has passed.
 * Booking codes, ids and secrets come in with the command: no randomness
 * here. Citizen data never reaches a message.
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

#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (msg)                                                                                   \
            snprintf(msg, 200, __VA_ARGS__);                                                       \
        return ANT_EINTERNAL;                                                                      \
    } while (0)

/* ---- small helpers ------------------------------------------------------ */

static void fmt_hm(unsigned m, char out[6])
{
    snprintf(out, 6, "%02u:%02u", (m / 60) % 100, m % 60);
}

/* "HH:MM" → minute of the day, -1 when malformed */
static int parse_slot(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && !isdigit((unsigned char)s[i]))
            return -1;
    int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (hh > 23 || mm > 59)
        return -1;
    return hh * 60 + mm;
}

static int64_t slot_at(const eng_config *cfg, int32_t day, unsigned slot)
{
    return (int64_t)day * MS_PER_DAY + (int64_t)slot * 60000 - (int64_t)cfg->utc_offset_min * 60000;
}

static const struct eng_appt_cfg *appt_cfg(const eng_config *cfg, const char *service)
{
    int i = eng_config_service(cfg, service);
    return i < 0 ? NULL : &cfg->services[i].appt;
}

static struct eng_appt *find_id(const eng_hall *h, const uint8_t id[ENG_TID_LEN])
{
    for (uint32_t i = 0; i < h->nappts; i++)
        if (memcmp(h->appts[i].id, id, ENG_TID_LEN) == 0)
            return &h->appts[i];
    return NULL;
}

static struct eng_appt *find_code(const eng_hall *h, const char *code)
{
    for (uint32_t i = 0; i < h->nappts; i++)
        if (strcmp(h->appts[i].booking, code) == 0)
            return &h->appts[i];
    return NULL;
}

/* The same idem key on the same hall day returns the same booking (as an issue). */
static struct eng_appt *find_idem(const eng_hall *h, const char *idem)
{
    for (uint32_t i = 0; i < h->nappts; i++) {
        const struct eng_appt *a = &h->appts[i];
        if (a->idem && strcmp(a->idem, idem) == 0 && eng_hall_day_of(h, a->booked_at) == h->day)
            return &h->appts[i];
    }
    return NULL;
}

static uint32_t slot_taken(const eng_hall *h, const char *service, int32_t day, uint16_t slot)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->nappts; i++) {
        const struct eng_appt *a = &h->appts[i];
        n += a->day == day && a->slot == slot && a->state != ENG_APPT_CANCELLED &&
             strcmp(a->service, service) == 0;
    }
    return n;
}

uint32_t appt_booked_count(const eng_hall *h, const char *service, int32_t day)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->nappts; i++) {
        const struct eng_appt *a = &h->appts[i];
        n += a->day == day && a->state == ENG_APPT_BOOKED && strcmp(a->service, service) == 0;
    }
    return n;
}

static void view_of(const eng_hall *h, const struct eng_appt *a, eng_appt_view *v)
{
    memset(v, 0, sizeof *v);
    memcpy(v->id, a->id, ENG_TID_LEN);
    memcpy(v->secret, a->secret, ENG_SECRET_LEN);
    memcpy(v->booking, a->booking, sizeof v->booking);
    memcpy(v->service, a->service, sizeof v->service);
    eng_format_date(a->day, v->date);
    fmt_hm(a->slot, v->slot);
    v->slot_at = slot_at(h->cfg, a->day, a->slot);
    v->state = a->state;
    v->late = a->late;
    v->has_ticket = a->has_ticket;
    memcpy(v->ticket, a->ticket, ENG_TID_LEN);
    v->has_pii = a->x && a->x->has_pii;
    if (v->has_pii)
        v->pii = a->x->pii;
}

/* ---- the slot rule ------------------------------------------------------ */

/*
 * Is (day, slot) a bookable slot of a service now? 0, or ANT_EBADREQ with the
 * reason. Slots start at `open` every slot_min minutes, end by `close` and
 * start before `issue_until` (a late check-in is a walk-in, which needs issuing
 * to be open). slot < 0 checks the day only.
 */
static int check_slot(const eng_hall *h, const struct eng_appt_cfg *ac, const char *service,
                      int32_t day, int slot, int64_t now, char msg[200])
{
    const eng_config *cfg = h->cfg;
    char date[16], a[6], b[6];
    eng_format_date(day, date);
    if (day < h->day) {
        snprintf(msg, 200, "date: %s is in the past", date);
        return ANT_EBADREQ;
    }
    if (day > h->day + (int32_t)ac->days_ahead) {
        snprintf(msg, 200, "date: %s is beyond days_ahead (%u days from today) for service '%s'",
                 date, ac->days_ahead, service);
        return ANT_EBADREQ;
    }
    if (!apply_day_open(cfg, day)) {
        snprintf(msg, 200, "date: the hall is closed on %s", date);
        return ANT_EBADREQ;
    }
    if (slot < 0)
        return 0;
    unsigned s = (unsigned)slot;
    if (s < cfg->open_min || s + ac->slot_min > cfg->close_min || s >= cfg->issue_until_min ||
        (s - cfg->open_min) % ac->slot_min) {
        fmt_hm(cfg->open_min, a);
        fmt_hm(cfg->issue_until_min, b);
        char sl[6];
        fmt_hm(s, sl);
        snprintf(msg, 200,
                 "slot: %s is outside opening hours or not a slot of service '%s' (every %u min "
                 "from %s, starting before %s)",
                 sl, service, ac->slot_min, a, b);
        return ANT_EBADREQ;
    }
    if (slot_at(cfg, day, s) <= now) {
        char sl[6];
        fmt_hm(s, sl);
        snprintf(msg, 200, "slot: %s on %s has already started", sl, date);
        return ANT_EBADREQ;
    }
    return 0;
}

/* Service by id with bookings on; NULL with res filled otherwise. */
static const struct eng_appt_cfg *bookable_service(const eng_hall *h, const char *service,
                                                   eng_result *res)
{
    if (!service) {
        snprintf(res->msg, sizeof res->msg, "service: missing");
        res->rc = ANT_EBADREQ;
        return NULL;
    }
    int si = hall_svc_find(h, service);
    if (si < 0 || h->svc[si].ghost) {
        snprintf(res->msg, sizeof res->msg, "service '%.32s' not found in hall '%s'", service,
                 h->cfg->id);
        res->rc = ANT_ENOTFOUND;
        return NULL;
    }
    const struct eng_appt_cfg *ac = appt_cfg(h->cfg, service);
    if (!ac || !ac->slot_min) {
        snprintf(res->msg, sizeof res->msg, "service '%s' takes no appointments", h->svc[si].id);
        res->rc = ANT_EBADREQ;
        return NULL;
    }
    return ac;
}

static bool valid_code(const char *s)
{
    if (!s || strlen(s) != ENG_BOOKING_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr(ENG_BOOKING_ALPHABET, *p))
            return false;
    return true;
}

/* ---- commands ----------------------------------------------------------- */

static int commit_appt(eng_hall *h, eng_evbuf *out, eng_result *res, const uint8_t id[16])
{
    int rc = events_apply(h, &out->ev[out->n - 1], res->msg);
    if (rc) {
        out->n--;
        return res->rc = rc;
    }
    const struct eng_appt *a = find_id(h, id);
    if (a) {
        res->has_appt = true;
        view_of(h, a, &res->appt);
    }
    return 0;
}

int appt_cmd_book(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    if (cmd->idem) {
        if (apply_check_idem(cmd->idem, res))
            return res->rc;
        const struct eng_appt *a = find_idem(h, cmd->idem);
        if (a) {
            res->replayed = true;
            res->has_appt = true;
            view_of(h, a, &res->appt);
            return 0;
        }
    }
    const struct eng_appt_cfg *ac = bookable_service(h, cmd->service, res);
    if (!ac)
        return res->rc;
    int si = hall_svc_find(h, cmd->service);
    const eng_svc *s = &h->svc[si];
    int32_t day;
    if (!cmd->date)
        FAIL(ANT_EBADREQ, "date: missing");
    if (strlen(cmd->date) != 10 || eng_parse_date(cmd->date, &day))
        FAIL(ANT_EBADREQ, "date: expected YYYY-MM-DD, got '%.16s'", cmd->date);
    if (!cmd->slot)
        FAIL(ANT_EBADREQ, "slot: missing");
    int slot = parse_slot(cmd->slot);
    if (slot < 0)
        FAIL(ANT_EBADREQ, "slot: expected HH:MM, got '%.8s'", cmd->slot);
    if ((res->rc = check_slot(h, ac, s->id, day, slot, now, res->msg)))
        return res->rc;
    if (apply_check_pii(cmd, res))
        return res->rc;
    if (!valid_code(cmd->booking))
        FAIL(ANT_EBADREQ, "booking: the new code must be %d characters of %s", ENG_BOOKING_LEN,
             ENG_BOOKING_ALPHABET);
    if (find_code(h, cmd->booking))
        FAIL(ANT_EBADREQ, "booking: the new code is already in use");
    if (find_id(h, cmd->tid))
        FAIL(ANT_EBADREQ, "appointment: the new id is already in use");
    char date[16], sl[6];
    eng_format_date(day, date);
    fmt_hm((unsigned)slot, sl);
    uint32_t used = (day == h->day ? s->issued_today : 0) + appt_booked_count(h, s->id, day);
    if (s->daily_quota && used >= s->daily_quota)
        FAIL(ANT_EQUOTA, "service '%s' has no quota left on %s (%u a day)", s->id, date,
             s->daily_quota);
    uint32_t taken = slot_taken(h, s->id, day, (uint16_t)slot);
    if (taken >= ac->per_slot)
        FAIL(ANT_ESLOTFULL, "slot %s on %s of service '%s' is full (%u of %u booked)", sl, date,
             s->id, taken, ac->per_slot);

    eng_event *ev = events_new(h, out, ENG_EV_APPT_BOOKED, now);
    if (!ev)
        FAIL(ANT_ENOMEM, "out of memory");
    memcpy(ev->appt_id, cmd->tid, ENG_TID_LEN);
    memcpy(ev->secret, cmd->secret, ENG_SECRET_LEN);
    memcpy(ev->service, s->id, sizeof ev->service);
    memcpy(ev->booking, cmd->booking, sizeof ev->booking);
    ev->day = day;
    ev->slot = (uint16_t)slot;
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
    return commit_appt(h, out, res, cmd->tid);
}

int appt_cmd_cancel(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    if (!cmd->has_ticket)
        FAIL(ANT_EBADREQ, "appointment: missing");
    const struct eng_appt *a = find_id(h, cmd->tid);
    if (!a)
        FAIL(ANT_ENOTFOUND, "appointment not found");
    if (a->state != ENG_APPT_BOOKED)
        FAIL(ANT_ESTATE, "appointment is %s; only a booked one can be cancelled",
             eng_appt_state_name(a->state));
    eng_event *ev = events_new(h, out, ENG_EV_APPT_CANCELLED, now);
    if (!ev)
        FAIL(ANT_ENOMEM, "out of memory");
    memcpy(ev->appt_id, a->id, ENG_TID_LEN);
    memcpy(ev->service, a->service, sizeof ev->service);
    ev->day = a->day;
    ev->slot = a->slot;
    return commit_appt(h, out, res, cmd->tid);
}

/* Upper-case the code as typed and drop spaces and dashes ("r7k-2qx" → "R7K2QX"). */
static bool normalize_code(const char *in, char out[ENG_BOOKING_LEN + 1])
{
    size_t n = 0;
    for (const char *p = in; p && *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (n == ENG_BOOKING_LEN)
            return false;
        out[n++] = (char)toupper((unsigned char)*p);
    }
    out[n] = '\0';
    return valid_code(out);
}

int appt_cmd_checkin(eng_hall *h, const eng_cmd *cmd, int64_t now, eng_evbuf *out, eng_result *res)
{
    char code[ENG_BOOKING_LEN + 1];
    if (cmd->idem) { /* a kiosk retrying a check-in gets the same ticket back */
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
    if (!cmd->booking)
        FAIL(ANT_EBADREQ, "booking: missing");
    if (!normalize_code(cmd->booking, code))
        FAIL(ANT_EBADREQ, "booking: expected a %d-character booking code", ENG_BOOKING_LEN);
    const struct eng_appt *a = find_code(h, code);
    if (!a)
        FAIL(ANT_ENOTFOUND, "booking code not found in hall '%s'", h->cfg->id);
    if (a->state == ENG_APPT_CANCELLED)
        FAIL(ANT_ESTATE, "booking was cancelled");
    if (a->state == ENG_APPT_CHECKED_IN) {
        const struct eng_ticket *t = hall_ticket_find(h, a->ticket);
        FAIL(ANT_ESTATE, "booking has already checked in (ticket %s)", t ? t->code : "?");
    }
    char date[16], hm[6];
    eng_format_date(a->day, date);
    if (a->day > h->day)
        FAIL(ANT_ETOOEARLY, "booking is for %s; check in on that day", date);
    int si = hall_svc_find(h, a->service);
    const struct eng_appt_cfg *ac = appt_cfg(h->cfg, a->service);
    if (si < 0 || h->svc[si].ghost || !ac)
        FAIL(ANT_ENOTFOUND, "service '%s' of the booking is no longer offered", a->service);
    int64_t start = slot_at(h->cfg, a->day, a->slot);
    if (now < start - (int64_t)ac->early_min * 60000) {
        fmt_hm((unsigned)(a->slot >= ac->early_min ? a->slot - ac->early_min : 0), hm);
        FAIL(ANT_ETOOEARLY, "check-in opens at %s, %u min before the slot", hm, ac->early_min);
    }
    bool late = now > start + (int64_t)ac->late_min * 60000;
    if (late && apply_check_hours(h, now, res)) /* a late citizen is a walk-in */
        return res->rc;
    if (cmd->prio > ENG_PRIO_CHILD)
        FAIL(ANT_EBADREQ, "priority: unknown reason");
    if (cmd->channel > ENG_CH_STAFF)
        FAIL(ANT_EBADREQ, "channel: unknown channel");
    /* the ticket carries the booking's citizen data (a webhook may need the phone) */
    eng_cmd c = *cmd;
    c.phone = c.name = c.nik = NULL;
    if (a->x && a->x->has_pii) {
        c.phone = a->x->pii.phone[0] ? a->x->pii.phone : NULL;
        c.name = a->x->pii.name[0] ? a->x->pii.name : NULL;
        c.nik = a->x->pii.nik[0] ? a->x->pii.nik : NULL;
    }
    eng_event *ev;
    if (apply_issue_event(h, &c, si, now, out, &ev, res))
        return res->rc;
    ev->checkin = true;
    ev->late = late;
    memcpy(ev->appt_id, a->id, ENG_TID_LEN);
    int rc = events_apply(h, ev, res->msg);
    if (rc) {
        out->n--;
        return res->rc = rc;
    }
    res->has_ticket = true;
    hall_view(h, h->all[h->nall - 1], &res->ticket);
    res->has_appt = true;
    view_of(h, find_id(h, ev->appt_id), &res->appt);
    return 0;
}

/* ---- events ------------------------------------------------------------- */

int appt_on_booked(eng_hall *h, const eng_event *ev, char msg[200])
{
    if (find_id(h, ev->appt_id))
        BAD("appointment.booked: duplicate appointment id");
    if (find_code(h, ev->booking))
        BAD("appointment.booked: duplicate booking code");
    if (h->nappts == h->capappts) {
        uint32_t cap = h->capappts ? h->capappts * 2 : 16;
        struct eng_appt *v = realloc(h->appts, cap * sizeof *v);
        if (!v)
            return ANT_ENOMEM;
        h->appts = v;
        h->capappts = cap;
    }
    struct eng_appt *a = &h->appts[h->nappts];
    memset(a, 0, sizeof *a);
    memcpy(a->id, ev->appt_id, ENG_TID_LEN);
    memcpy(a->secret, ev->secret, ENG_SECRET_LEN);
    memcpy(a->booking, ev->booking, sizeof a->booking);
    memcpy(a->service, ev->service, sizeof a->service);
    a->day = ev->day;
    a->slot = ev->slot;
    a->state = ENG_APPT_BOOKED;
    a->booked_at = ev->at;
    if (ev->idem && !(a->idem = strdup(ev->idem)))
        return ANT_ENOMEM;
    if (ev->has_pii) {
        if (!(a->x = calloc(1, sizeof *a->x))) {
            free(a->idem);
            return ANT_ENOMEM;
        }
        a->x->has_pii = true;
        a->x->pii = ev->pii;
    }
    h->nappts++;
    return 0;
}

int appt_on_cancelled(eng_hall *h, const eng_event *ev, char msg[200])
{
    struct eng_appt *a = find_id(h, ev->appt_id);
    if (!a || a->state != ENG_APPT_BOOKED)
        BAD("appointment.cancelled: appointment unknown or not booked");
    a->state = ENG_APPT_CANCELLED;
    return 0;
}

int appt_on_checkin(eng_hall *h, struct eng_ticket *t, const eng_event *ev, char msg[200])
{
    struct eng_appt *a = find_id(h, ev->appt_id);
    if (!a || a->state != ENG_APPT_BOOKED || a->day != h->day)
        BAD("ticket.issued: checked-in appointment unknown, not booked or not today");
    a->state = ENG_APPT_CHECKED_IN;
    a->late = ev->late;
    a->has_ticket = true;
    memcpy(a->ticket, t->tid, ENG_TID_LEN);
    eng_lane *l = &h->svc[t->service].lane[t->prio ? LANE_PRIO : LANE_NORMAL];
    if (ev->late) { /* past late_min: an ordinary walk-in */
        lane_push_back(l, t);
        return 0;
    }
    const struct eng_appt_cfg *ac = appt_cfg(h->cfg, a->service);
    int64_t start = slot_at(h->cfg, a->day, a->slot);
    int64_t cutoff = start - (int64_t)(ac ? ac->early_min : 0) * 60000;
    t->appt = 1;
    t->rank_at = start > ev->at ? start : ev->at;
    struct eng_ticket *after = calling_appt_after(l, cutoff, t->rank_at);
    if (!after) {
        lane_push_front(l, t);
        return 0;
    }
    t->prev = after;
    t->next = after->next;
    if (after->next)
        after->next->prev = t;
    else
        l->tail = t;
    after->next = t;
    l->count++;
    return 0;
}

static void appt_clear(struct eng_appt *a)
{
    free(a->idem);
    free(a->x);
    a->idem = NULL;
    a->x = NULL;
}

void appt_rollover(eng_hall *h, int32_t day)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->nappts; i++) {
        if (h->appts[i].day < day) {
            appt_clear(&h->appts[i]);
            continue;
        }
        h->appts[k++] = h->appts[i];
    }
    h->nappts = k;
}

void appt_free_all(eng_hall *h)
{
    for (uint32_t i = 0; i < h->nappts; i++)
        appt_clear(&h->appts[i]);
    free(h->appts);
    h->appts = NULL;
    h->nappts = h->capappts = 0;
}

void appt_stats(const eng_hall *h, eng_day_stats *st)
{
    for (uint16_t i = 0; i < st->nservices; i++) {
        eng_stat_row *r = &st->services[i];
        for (uint32_t k = 0; k < h->nappts; k++) {
            const struct eng_appt *a = &h->appts[k];
            if (a->day != st->day || strcmp(a->service, r->id) != 0)
                continue;
            r->booked += a->state != ENG_APPT_CANCELLED;
            r->appointments += a->state == ENG_APPT_CHECKED_IN && !a->late;
        }
    }
}

/* ---- reads -------------------------------------------------------------- */

int eng_appt_get(const eng_hall *h, const uint8_t id[ENG_TID_LEN], eng_appt_view *view)
{
    const struct eng_appt *a = find_id(h, id);
    if (!a)
        return ANT_ENOTFOUND;
    view_of(h, a, view);
    return 0;
}

bool eng_booking_code_used(const eng_hall *h, const char *code)
{
    return find_code(h, code) != NULL;
}

int eng_slots_each(const eng_hall *h, const char *service, const char *date, int64_t now,
                   eng_slot_fn fn, void *arg, char msg[200])
{
    eng_result res;
    const struct eng_appt_cfg *ac = bookable_service(h, service, &res);
    if (!ac) {
        memcpy(msg, res.msg, 200);
        return res.rc;
    }
    int32_t day;
    if (!date || strlen(date) != 10 || eng_parse_date(date, &day)) {
        snprintf(msg, 200, "date: expected YYYY-MM-DD, got '%.16s'", date ? date : "");
        return ANT_EBADREQ;
    }
    int rc = check_slot(h, ac, service, day, -1, now, msg);
    if (rc)
        return rc;
    const eng_config *cfg = h->cfg;
    for (unsigned m = cfg->open_min; m + ac->slot_min <= cfg->close_min && m < cfg->issue_until_min;
         m += ac->slot_min) {
        if (slot_at(cfg, day, m) <= now)
            continue;
        uint32_t taken = slot_taken(h, service, day, (uint16_t)m);
        char hm[6];
        fmt_hm(m, hm);
        if (fn) /* NULL: only check the day */
            fn(hm, taken < ac->per_slot ? ac->per_slot - taken : 0, arg);
    }
    return 0;
}

size_t eng_appts_each(const eng_hall *h, int32_t day, int state, eng_appt_fn fn, void *arg)
{
    /* slot order, then booking order: a stable pass per distinct slot */
    size_t visited = 0;
    int prev = -1;
    for (;;) {
        int next = 24 * 60;
        for (uint32_t i = 0; i < h->nappts; i++)
            if (h->appts[i].day == day && h->appts[i].slot > prev && h->appts[i].slot < next)
                next = h->appts[i].slot;
        if (next == 24 * 60)
            return visited;
        for (uint32_t i = 0; i < h->nappts; i++) {
            const struct eng_appt *a = &h->appts[i];
            if (a->day != day || a->slot != next || (state >= 0 && a->state != state))
                continue;
            eng_appt_view v;
            view_of(h, a, &v);
            visited++;
            if (fn(&v, arg))
                return visited;
        }
        prev = next;
    }
}
