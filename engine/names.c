/* names.c — the wire names of the engine's enums (SPEC §3, §5). */
#include <string.h>

#include "engine.h"

static const char *const state_names[] = {"waiting", "called",    "serving", "done",
                                          "no_show", "cancelled", "expired"};
static const char *const counter_state_names[] = {"closed", "open", "paused"};
static const char *const prio_names[] = {"", "elderly", "disabled", "pregnant", "child"};
static const char *const channel_names[] = {"kiosk", "web", "app", "staff"};
static const char *const ev_names[ENG_EV__COUNT] = {
    [ENG_EV_TICKET_ISSUED] = "ticket.issued",
    [ENG_EV_TICKET_CALLED] = "ticket.called",
    [ENG_EV_TICKET_RECALLED] = "ticket.recalled",
    [ENG_EV_TICKET_SERVING] = "ticket.serving",
    [ENG_EV_TICKET_DONE] = "ticket.done",
    [ENG_EV_TICKET_NO_SHOW] = "ticket.no_show",
    [ENG_EV_TICKET_REINSTATED] = "ticket.reinstated",
    [ENG_EV_TICKET_TRANSFERRED] = "ticket.transferred",
    [ENG_EV_TICKET_CANCELLED] = "ticket.cancelled",
    [ENG_EV_TICKET_FEEDBACK] = "ticket.feedback",
    [ENG_EV_COUNTER_STATE] = "counter.state",
    [ENG_EV_SERVICE_WAIT] = "service.wait",
    [ENG_EV_HALL_CONFIG] = "hall.config",
    [ENG_EV_DAY_ROLLOVER] = "day.rollover",
    [ENG_EV_APPT_BOOKED] = "appointment.booked",
    [ENG_EV_APPT_CANCELLED] = "appointment.cancelled",
};
static const char *const appt_state_names[] = {"booked", "cancelled", "checked_in"};

#define NAMES_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : NULL;
}

static int index_of(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] && names[i][0] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *eng_state_name(int st)
{
    return name_of(state_names, NAMES_LEN(state_names), st);
}

const char *eng_counter_state_name(int cs)
{
    return name_of(counter_state_names, NAMES_LEN(counter_state_names), cs);
}

const char *eng_prio_name(int p)
{
    return name_of(prio_names, NAMES_LEN(prio_names), p);
}

int eng_prio_from_name(const char *s)
{
    return index_of(prio_names, NAMES_LEN(prio_names), s);
}

const char *eng_channel_name(int ch)
{
    return name_of(channel_names, NAMES_LEN(channel_names), ch);
}

int eng_channel_from_name(const char *s)
{
    return index_of(channel_names, NAMES_LEN(channel_names), s);
}

const char *eng_ev_name(int type)
{
    return name_of(ev_names, NAMES_LEN(ev_names), type);
}

int eng_ev_from_name(const char *s)
{
    return index_of(ev_names, NAMES_LEN(ev_names), s);
}

bool eng_ev_public(int type)
{
    /* every event reaches subscribers, so their seq has no gaps; what is
     * private in an event (feedback score and comment, citizen data, secrets)
     * is left out of its public encoding by the codec */
    return type > 0 && type < ENG_EV__COUNT;
}

const char *eng_appt_state_name(int st)
{
    return name_of(appt_state_names, NAMES_LEN(appt_state_names), st);
}
