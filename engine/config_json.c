/*
 * config_json.c — a parsed config written back as JSON: the canonical form
 * (every field, defaults filled in, dates sorted, keys sorted) that is stored
 * and replayed, and the public form served to boards and kiosks (without the
 * staff-only priority and no-show sections). Parsing the canonical form again
 * gives the same config and the same bytes.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "config_priv.h"

/* ---- canonical and public JSON ---------------------------------------- */

static void set(json_t *obj, const char *key, json_t *val, bool *ok)
{
    if (json_object_set_new(obj, key, val) != 0)
        *ok = false;
}

static void push(json_t *arr, json_t *val, bool *ok)
{
    if (json_array_append_new(arr, val) != 0)
        *ok = false;
}

static json_t *hhmm_json(unsigned min)
{
    char b[8];
    snprintf(b, sizeof b, "%02u:%02u", (min / 60) % 100, min % 60);
    return json_string(b);
}

static json_t *hours_json(const eng_config *c, bool *ok)
{
    json_t *h = json_object(), *wd = json_array(), *cd = json_array();
    char b[16];
    set(h, "open", hhmm_json(c->open_min), ok);
    set(h, "close", hhmm_json(c->close_min), ok);
    set(h, "issue_until", hhmm_json(c->issue_until_min), ok);
    for (int d = 1; d <= 7; d++)
        if (c->weekdays & (1u << (d - 1)))
            push(wd, json_integer(d), ok);
    for (size_t i = 0; i < c->nclosed; i++) {
        eng_format_date(c->closed_days[i], b);
        push(cd, json_string(b), ok);
    }
    set(h, "weekdays", wd, ok);
    set(h, "closed_dates", cd, ok);
    return h;
}

/* The config as a JSON tree; full adds the staff-only policy sections. NULL on ENOMEM. */
static json_t *config_json(const eng_config *c, bool full)
{
    bool ok = true;
    json_t *root = json_object(), *ags = json_array(), *svs = json_array(), *cts = json_array();

    set(root, "id", json_string(c->id), &ok);
    set(root, "name", json_string(c->name), &ok);
    set(root, "utc_offset_min", json_integer(c->utc_offset_min), &ok);
    set(root, "hours", hours_json(c, &ok), &ok);
    for (size_t i = 0; i < c->nagencies; i++) {
        json_t *a = json_object();
        set(a, "id", json_string(c->agencies[i].id), &ok);
        set(a, "name", json_string(c->agencies[i].name), &ok);
        push(ags, a, &ok);
    }
    for (size_t i = 0; i < c->nservices; i++) {
        const eng_service_cfg *s = &c->services[i];
        json_t *o = json_object();
        set(o, "id", json_string(s->id), &ok);
        set(o, "agency", json_string(s->agency < c->nagencies ? c->agencies[s->agency].id : ""),
            &ok);
        set(o, "name", json_string(s->name), &ok);
        set(o, "prefix", json_string(s->prefix), &ok);
        set(o, "est_service_s", json_integer(s->est_service_s), &ok);
        set(o, "sla_wait_s", json_integer(s->sla_wait_s), &ok);
        set(o, "daily_quota", json_integer(s->daily_quota), &ok);
        if (s->appt.slot_min) { /* public too: the booking page lists slots from it */
            json_t *a = json_object();
            set(a, "slot_min", json_integer(s->appt.slot_min), &ok);
            set(a, "per_slot", json_integer(s->appt.per_slot), &ok);
            set(a, "days_ahead", json_integer(s->appt.days_ahead), &ok);
            set(a, "early_min", json_integer(s->appt.early_min), &ok);
            set(a, "late_min", json_integer(s->appt.late_min), &ok);
            set(o, "appointments", a, &ok);
        }
        push(svs, o, &ok);
    }
    for (size_t i = 0; i < c->ncounters; i++) {
        const eng_counter_cfg *k = &c->counters[i];
        json_t *o = json_object(), *ss = json_array();
        set(o, "id", json_string(k->id), &ok);
        set(o, "label", json_string(k->label), &ok);
        for (size_t j = 0; j < k->nservices; j++)
            if (k->services[j] < c->nservices)
                push(ss, json_string(c->services[k->services[j]].id), &ok);
        set(o, "services", ss, &ok);
        set(o, "policy",
            json_string(k->policy == ENG_POLICY_IN_ORDER ? "in_order" : "longest_wait"), &ok);
        if (k->nbreaks) {
            json_t *bs = json_array();
            for (size_t j = 0; j < k->nbreaks; j++) {
                json_t *b = json_object();
                set(b, "from", hhmm_json(k->breaks[j].from_min), &ok);
                set(b, "to", hhmm_json(k->breaks[j].to_min), &ok);
                push(bs, b, &ok);
            }
            set(o, "breaks", bs, &ok);
        }
        push(cts, o, &ok);
    }
    set(root, "agencies", ags, &ok);
    set(root, "services", svs, &ok);
    set(root, "counters", cts, &ok);
    if (full) {
        json_t *p = json_object(), *ns = json_object();
        set(p, "max_consecutive", json_integer(c->prio_max_consecutive), &ok);
        set(ns, "min_recalls", json_integer(c->min_recalls), &ok);
        set(ns, "reinstate_within_s", json_integer(c->reinstate_within_s), &ok);
        set(root, "priority", p, &ok);
        set(root, "no_show", ns, &ok);
    }
    set(root, "self_service", json_boolean(c->self_service), &ok);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

char *config_dump(const eng_config *c, bool full)
{
    json_t *root = config_json(c, full);
    char *s = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return s;
}

char *eng_config_public_json(const eng_config *cfg)
{
    if (!cfg)
        return NULL;
    return config_dump(cfg, false);
}
