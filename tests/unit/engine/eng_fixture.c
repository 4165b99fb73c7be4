/*
 * eng_fixture.c — see eng_fixture.h.
 */
#include "eng_fixture.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small things ------------------------------------------------------- */

void fx_printf(codec_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0);
    if ((size_t)n < sizeof tmp) {
        cr_assert_eq(codec_buf_append(b, tmp, (size_t)n), 0);
        return;
    }
    char *big = malloc((size_t)n + 1);
    cr_assert_not_null(big);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cr_assert_eq(codec_buf_append(b, big, (size_t)n), 0);
    free(big);
}

const char *fx_cstr(codec_buf *b)
{
    cr_assert_eq(codec_buf_append(b, "", 1), 0);
    b->len--;
    return b->data;
}

bool fx_has(const char *s, const char *sub)
{
    return s && sub && strstr(s, sub) != NULL;
}

static bool mem_has(const char *p, size_t n, const char *sub)
{
    size_t k = strlen(sub);
    if (!k || k > n)
        return false;
    for (size_t i = 0; i + k <= n; i++)
        if (p[i] == sub[0] && memcmp(p + i, sub, k) == 0)
            return true;
    return false;
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void derive(uint64_t n, uint64_t salt, uint8_t out[16])
{
    uint64_t a = splitmix(n * 4 + salt), b = splitmix(n * 4 + salt + 2);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

/* ---- configs ------------------------------------------------------------ */

char *fx_hall_json(const fx_hall *p)
{
    codec_buf b;
    codec_buf_init(&b);
    fx_printf(&b, "{\"id\":\"%s\",\"name\":\"Hall %s\",\"utc_offset_min\":%d,", p->id, p->id,
              p->utc);
    fx_printf(&b, "\"hours\":{\"open\":\"%s\",\"close\":\"%s\"", p->open ? p->open : "00:00",
              p->close ? p->close : "24:00");
    if (p->until)
        fx_printf(&b, ",\"issue_until\":\"%s\"", p->until);
    fx_printf(&b, ",\"weekdays\":%s", p->weekdays ? p->weekdays : "[1,2,3,4,5,6,7]");
    fx_printf(&b, ",\"closed_dates\":%s},", p->closed_dates ? p->closed_dates : "[]");
    /* agencies: every distinct one the services name */
    fx_printf(&b, "\"agencies\":[");
    int na = 0;
    for (int i = 0; i < FX_MAX_SVC && p->svc[i].id; i++) {
        bool seen = false;
        for (int k = 0; k < i; k++)
            if (strcmp(p->svc[k].agency, p->svc[i].agency) == 0)
                seen = true;
        if (!seen)
            fx_printf(&b, "%s{\"id\":\"%s\",\"name\":\"Agency %s\"}", na++ ? "," : "",
                      p->svc[i].agency, p->svc[i].agency);
    }
    fx_printf(&b, "],\"services\":[");
    for (int i = 0; i < FX_MAX_SVC && p->svc[i].id; i++) {
        const fx_svc *s = &p->svc[i];
        fx_printf(&b,
                  "%s{\"id\":\"%s\",\"agency\":\"%s\",\"name\":\"Service %s\",\"prefix\":\"%s\","
                  "\"est_service_s\":%u,\"sla_wait_s\":%u,\"daily_quota\":%u}",
                  i ? "," : "", s->id, s->agency, s->id, s->prefix, s->est_s ? s->est_s : 300,
                  s->sla_s ? s->sla_s : 1800, s->quota);
    }
    fx_printf(&b, "],\"counters\":[");
    for (int i = 0; i < FX_MAX_CTR && p->ctr[i].id; i++) {
        const fx_ctr *c = &p->ctr[i];
        fx_printf(&b, "%s{\"id\":\"%s\",\"label\":\"%s\",\"services\":[", i ? "," : "", c->id,
                  c->label ? c->label : c->id);
        const char *s = c->services;
        for (int k = 0; *s; k++) {
            size_t n = strcspn(s, ",");
            fx_printf(&b, "%s\"%.*s\"", k ? "," : "", (int)n, s);
            s += n;
            if (*s == ',')
                s++;
        }
        fx_printf(&b, "],\"policy\":\"%s\"}", c->policy ? c->policy : "longest_wait");
    }
    fx_printf(&b, "]");
    if (p->max_consec)
        fx_printf(&b, ",\"priority\":{\"max_consecutive\":%d}", p->max_consec);
    if (p->min_recalls >= 0 || p->reinstate_s >= 0) {
        fx_printf(&b, ",\"no_show\":{");
        if (p->min_recalls >= 0)
            fx_printf(&b, "\"min_recalls\":%d", p->min_recalls);
        if (p->reinstate_s >= 0)
            fx_printf(&b, "%s\"reinstate_within_s\":%d", p->min_recalls >= 0 ? "," : "",
                      p->reinstate_s);
        fx_printf(&b, "}");
    }
    fx_printf(&b, ",\"self_service\":%s}", p->self_service ? "true" : "false");
    char *s = strdup(fx_cstr(&b));
    codec_buf_free(&b);
    cr_assert_not_null(s);
    return s;
}

/* ---- time --------------------------------------------------------------- */

int64_t fx_time(const char *date, const char *hms, int utc)
{
    int32_t day;
    int hh, mm, ss;
    cr_assert_eq(eng_parse_date(date, &day), 0, "bad date %s", date);
    cr_assert_eq(sscanf(hms, "%d:%d:%d", &hh, &mm, &ss), 3, "bad time %s", hms);
    return ((int64_t)day * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)utc * 60) * 1000;
}

static int utc_of(const fx *f)
{
    return eng_hall_config(f->h)->utc_offset_min;
}

static void local_date(const fx *f, char out[16])
{
    eng_format_date(eng_hall_day_of(f->h, f->now), out);
}

void fx_at(fx *f, const char *hms)
{
    char date[16];
    local_date(f, date);
    f->now = fx_time(date, hms, utc_of(f));
}

void fx_at_date(fx *f, const char *date, const char *hms)
{
    f->now = fx_time(date, hms, utc_of(f));
}

/* ---- the harness -------------------------------------------------------- */

void fx_init(fx *f, const char *json, int64_t now)
{
    memset(f, 0, sizeof *f);
    eng_config *cfg = NULL;
    eng_problems pr;
    int rc = eng_config_parse(json, strlen(json), &cfg, &pr);
    cr_assert_eq(rc, 0, "test config does not parse: %s", pr.count ? pr.msg[0] : "?");
    f->h = eng_hall_new(cfg, now);
    cr_assert_not_null(f->h);
    f->now = f->t0 = now;
    f->cfg0 = strdup(json);
    eng_evbuf_init(&f->ev);
    codec_buf_init(&f->log);
    codec_buf_init(&f->scratch);
}

void fx_init_p(fx *f, const fx_hall *p, int64_t now)
{
    char *json = fx_hall_json(p);
    fx_init(f, json, now);
    free(json);
}

void fx_free(fx *f)
{
    eng_hall_free(f->h);
    eng_evbuf_free(&f->ev);
    codec_buf_free(&f->log);
    codec_buf_free(&f->scratch);
    free(f->cfg0);
    free(f->codes);
    for (int i = 0; i < f->ncfgs; i++)
        free(f->cfgs[i].json);
    memset(f, 0, sizeof *f);
}

void fx_add_pii(fx *f, const char *s)
{
    if (!s || !*s)
        return;
    for (int i = 0; i < f->npii; i++)
        if (strcmp(f->pii[i], s) == 0)
            return;
    cr_assert_lt(f->npii, FX_MAX_PII);
    snprintf(f->pii[f->npii++], sizeof f->pii[0], "%s", s);
}

void fx_add_config(fx *f, const char *name, const char *json)
{
    cr_assert_lt(f->ncfgs, 8);
    snprintf(f->cfgs[f->ncfgs].name, sizeof f->cfgs[0].name, "%s", name);
    f->cfgs[f->ncfgs].json = strdup(json);
    f->ncfgs++;
}

static void remember_code(fx *f, const eng_event *ev)
{
    if (f->ncodes == f->capcodes) {
        f->capcodes = f->capcodes ? f->capcodes * 2 : 64;
        f->codes = realloc(f->codes, f->capcodes * sizeof *f->codes);
        cr_assert_not_null(f->codes);
    }
    fx_code *c = &f->codes[f->ncodes++];
    memcpy(c->code, ev->code, sizeof c->code);
    memcpy(c->tid, ev->tid, ENG_TID_LEN);
}

const uint8_t *fx_tid_of(fx *f, const char *code)
{
    for (size_t i = f->ncodes; i-- > 0;)
        if (strcmp(f->codes[i].code, code) == 0)
            return f->codes[i].tid;
    cr_assert_fail("no ticket %s today", code);
    return NULL;
}

/* The checks every event of every command must pass. */
static void check_events(fx *f, size_t from)
{
    const char *hall = eng_hall_config(f->h)->id;
    for (size_t i = from; i < f->ev.n; i++) {
        const eng_event *ev = &f->ev.ev[i];
        cr_assert_str_eq(ev->hall, hall);
        cr_assert_eq(ev->at, f->now, "%s stamped %lld, command at %lld", eng_ev_name(ev->type),
                     (long long)ev->at, (long long)f->now);
        /* every event takes the next seq, service.wait and feedback included */
        cr_assert_eq(ev->seq, f->seq + 1, "%s seq %llu does not follow %llu", eng_ev_name(ev->type),
                     (unsigned long long)ev->seq, (unsigned long long)f->seq);
        f->seq = ev->seq;
        if (ev->type == ENG_EV_TICKET_ISSUED) {
            remember_code(f, ev);
            if (ev->has_pii) {
                fx_add_pii(f, ev->pii.phone);
                fx_add_pii(f, ev->pii.name);
                fx_add_pii(f, ev->pii.nik);
            }
        }
        /* public encodings: no citizen data, no reason, no secret, no idem */
        if (eng_ev_public(ev->type)) {
            for (int mode = 0; mode < 2; mode++) {
                codec_buf_reset(&f->scratch);
                int rc = mode ? codec_event_msgpack(ev, CODEC_PUBLIC, &f->scratch)
                              : codec_event_json(ev, CODEC_PUBLIC, &f->scratch);
                cr_assert_eq(rc, 0, "public encoding of %s failed", eng_ev_name(ev->type));
                for (int k = 0; k < f->npii; k++)
                    cr_assert(!mem_has(f->scratch.data, f->scratch.len, f->pii[k]),
                              "public %s of %s carries citizen data", mode ? "msgpack" : "json",
                              eng_ev_name(ev->type));
                if (ev->type == ENG_EV_TICKET_ISSUED) {
                    char hex[33];
                    codec_hex(ev->secret, ENG_SECRET_LEN, hex);
                    cr_assert(!mem_has(f->scratch.data, f->scratch.len, hex));
                    if (ev->prio)
                        cr_assert(
                            !mem_has(f->scratch.data, f->scratch.len, eng_prio_name(ev->prio)),
                            "public %s of ticket.issued names the priority reason",
                            mode ? "msgpack" : "json");
                    if (ev->idem)
                        cr_assert(!mem_has(f->scratch.data, f->scratch.len, ev->idem));
                }
            }
        }
        if (!f->no_log) {
            codec_buf_reset(&f->scratch);
            cr_assert_eq(codec_event_msgpack(ev, CODEC_FULL, &f->scratch), 0);
            uint32_t n = (uint32_t)f->scratch.len;
            cr_assert_eq(codec_buf_append(&f->log, &n, sizeof n), 0);
            cr_assert_eq(codec_buf_append(&f->log, f->scratch.data, n), 0);
            f->nlog++;
        }
    }
    cr_assert_eq(eng_hall_seq(f->h), f->seq);
}

int fx_apply(fx *f, const eng_cmd *c)
{
    eng_evbuf_reset(&f->ev);
    int rc = eng_apply(f->h, c, f->now, &f->ev, &f->res);
    f->rc = rc;
    cr_assert_eq(rc, f->res.rc, "eng_apply returned %d, res.rc %d", rc, f->res.rc);
    if (rc) {
        cr_assert(f->res.msg[0], "error %s without a message", ant_err_code(rc));
        cr_assert_neq(rc, ANT_EINTERNAL, "internal error: %s", f->res.msg);
        /* a failed command changes nothing but a possible day rollover */
        cr_assert(f->ev.n == 0 || (f->ev.n == 1 && f->ev.ev[0].type == ENG_EV_DAY_ROLLOVER),
                  "failed command (%s) emitted %zu events", f->res.msg, f->ev.n);
    }
    if (c->phone)
        fx_add_pii(f, c->phone);
    if (c->name)
        fx_add_pii(f, c->name);
    if (c->nik)
        fx_add_pii(f, c->nik);
    for (int k = 0; k < f->npii; k++)
        cr_assert(!fx_has(f->res.msg, f->pii[k]), "message carries citizen data: %s", f->res.msg);
    check_events(f, 0);
    return rc;
}

int fx_tick(fx *f)
{
    eng_evbuf_reset(&f->ev);
    memset(&f->res, 0, sizeof f->res);
    f->rc = eng_tick(f->h, f->now, &f->ev);
    cr_assert_eq(f->rc, 0);
    check_events(f, 0);
    return f->rc;
}

static void new_ids(fx *f, eng_cmd *c)
{
    f->tid_ctr++;
    derive(f->tid_ctr, 0, c->tid);
    derive(f->tid_ctr, 1, c->secret);
}

int fx_issue(fx *f, const char *svc, int prio, const char *idem)
{
    eng_cmd c = {.type = ENG_CMD_ISSUE, .service = svc, .prio = (uint8_t)prio, .idem = idem};
    new_ids(f, &c);
    return fx_apply(f, &c);
}

int fx_ctr_cmd(fx *f, int type, const char *ctr)
{
    eng_cmd c = {.type = (uint8_t)type, .counter = ctr};
    return fx_apply(f, &c);
}

int fx_call_tid(fx *f, const char *ctr, const uint8_t tid[ENG_TID_LEN])
{
    eng_cmd c = {.type = ENG_CMD_CALL, .counter = ctr, .has_ticket = true};
    memcpy(c.tid, tid, ENG_TID_LEN);
    return fx_apply(f, &c);
}

int fx_finish(fx *f, const char *ctr, const char *transfer_to, int placement)
{
    eng_cmd c = {.type = ENG_CMD_FINISH,
                 .counter = ctr,
                 .transfer_to = transfer_to,
                 .placement = (uint8_t)placement};
    return fx_apply(f, &c);
}

int fx_tkt_cmd(fx *f, int type, const uint8_t tid[ENG_TID_LEN])
{
    eng_cmd c = {.type = (uint8_t)type, .has_ticket = true};
    memcpy(c.tid, tid, ENG_TID_LEN);
    return fx_apply(f, &c);
}

int fx_feedback(fx *f, const uint8_t tid[ENG_TID_LEN], int score, const char *comment)
{
    eng_cmd c = {
        .type = ENG_CMD_FEEDBACK, .has_ticket = true, .score = (uint8_t)score, .comment = comment};
    memcpy(c.tid, tid, ENG_TID_LEN);
    return fx_apply(f, &c);
}

/* ---- short event form ---------------------------------------------------- */

void fx_ev_short(const eng_event *ev, codec_buf *o)
{
    char day[16];
    switch (ev->type) {
    case ENG_EV_TICKET_ISSUED:
        fx_printf(o, "issued %s%s%s", ev->code, ev->prio ? "*" : "",
                  !ev->checkin ? ""
                  : ev->late   ? " late"
                               : " appt");
        break;
    case ENG_EV_APPT_BOOKED:
    case ENG_EV_APPT_CANCELLED:
        eng_format_date(ev->day, day);
        fx_printf(o, "%s %s %s %02u:%02u", ev->type == ENG_EV_APPT_BOOKED ? "booked" : "unbooked",
                  ev->service, day, ev->slot / 60u, ev->slot % 60u);
        break;
    case ENG_EV_TICKET_CALLED:
        fx_printf(o, "called %s@%s", ev->code, ev->counter);
        break;
    case ENG_EV_TICKET_RECALLED:
        fx_printf(o, "recalled %s@%s x%u", ev->code, ev->counter, ev->recalls);
        break;
    case ENG_EV_TICKET_SERVING:
        fx_printf(o, "serving %s@%s", ev->code, ev->counter);
        break;
    case ENG_EV_TICKET_DONE:
        fx_printf(o, "done %s@%s", ev->code, ev->counter);
        break;
    case ENG_EV_TICKET_NO_SHOW:
        fx_printf(o, "no_show %s@%s", ev->code, ev->counter);
        break;
    case ENG_EV_TICKET_REINSTATED:
        fx_printf(o, "reinstated %s", ev->code);
        break;
    case ENG_EV_TICKET_TRANSFERRED:
        fx_printf(o, "transferred %s %s>%s %s@%s", ev->code, ev->from_service, ev->service,
                  ev->placement == ENG_PLACE_FIRST ? "first" : "last", ev->counter);
        break;
    case ENG_EV_TICKET_CANCELLED:
        fx_printf(o, "cancelled %s", ev->code);
        break;
    case ENG_EV_TICKET_FEEDBACK:
        fx_printf(o, "feedback %s %u", ev->code, ev->score);
        break;
    case ENG_EV_COUNTER_STATE:
        fx_printf(o, "%s %s", ev->counter, eng_counter_state_name(ev->counter_state));
        break;
    case ENG_EV_SERVICE_WAIT:
        fx_printf(o, "wait");
        for (int i = 0; i < ev->nwait; i++)
            fx_printf(o, "%s%s:%u", i ? "," : " ", ev->wait[i].service, ev->wait[i].waiting);
        break;
    case ENG_EV_HALL_CONFIG:
        fx_printf(o, "config");
        break;
    case ENG_EV_DAY_ROLLOVER:
        eng_format_date(ev->day, day);
        fx_printf(o, "rollover %s", day);
        break;
    default:
        fx_printf(o, "?%d", ev->type);
    }
}

/* ---- golden form of one event: public JSON as key=value ------------------- */

static void golden_value(codec_buf *o, json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        bool plain = *s != '\0';
        for (const char *p = s; *p; p++)
            if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p >= 0x7f)
                plain = false;
        if (plain) {
            fx_printf(o, "%s", s);
            return;
        }
    }
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert_not_null(d);
    fx_printf(o, "%s", d);
    free(d);
}

static void golden_event(fx *f, const eng_event *ev, codec_buf *o)
{
    if (!eng_ev_public(ev->type)) {
        /* stored but never broadcast: shown in the short form */
        fx_printf(o, "  (private) ");
        fx_ev_short(ev, o);
        fx_printf(o, "\n");
        return;
    }
    codec_buf_reset(&f->scratch);
    cr_assert_eq(codec_event_json(ev, CODEC_PUBLIC, &f->scratch), 0);
    json_error_t err;
    json_t *j = json_loadb(f->scratch.data, f->scratch.len, 0, &err);
    cr_assert_not_null(j, "public JSON does not parse: %s", err.text);
    const char *key;
    json_t *v;
    /* ev first, then seq; hall and at are checked, not printed */
    fx_printf(o, "  %s #%lld", json_string_value(json_object_get(j, "ev")),
              (long long)json_integer_value(json_object_get(j, "seq")));
    cr_assert_str_eq(json_string_value(json_object_get(j, "hall")), ev->hall);
    cr_assert_eq(json_integer_value(json_object_get(j, "at")), f->now);
    json_object_foreach(j, key, v)
    {
        if (!strcmp(key, "ev") || !strcmp(key, "seq") || !strcmp(key, "hall") || !strcmp(key, "at"))
            continue;
        fx_printf(o, " %s=", key);
        golden_value(o, v);
    }
    fx_printf(o, "\n");
    json_decref(j);
}

/* ---- the command interpreter -------------------------------------------- */

#define MAX_WORDS 16

static int split(char *s, char **w)
{
    int n = 0;
    for (char *tok = strtok(s, " \t\r"); tok && n < MAX_WORDS; tok = strtok(NULL, " \t\r"))
        w[n++] = tok;
    return n;
}

/* value of key=... among words[from..n), or NULL */
static const char *opt(char **w, int n, int from, const char *key)
{
    size_t k = strlen(key);
    for (int i = from; i < n; i++)
        if (strncmp(w[i], key, k) == 0 && w[i][k] == '=')
            return w[i] + k + 1;
    return NULL;
}

static void check_opts(char **w, int n, int from, const char *const *known)
{
    for (int i = from; i < n; i++) {
        const char *eq = strchr(w[i], '=');
        cr_assert_not_null(eq, "unexpected word '%s'", w[i]);
        bool ok = false;
        for (int k = 0; known[k]; k++)
            if (strlen(known[k]) == (size_t)(eq - w[i]) && !strncmp(w[i], known[k], eq - w[i]))
                ok = true;
        cr_assert(ok, "unknown option '%s'", w[i]);
    }
}

static bool parse_time(fx *f, const char *w)
{
    int a, b, c, y, mo, d;
    char tail;
    if (w[0] == '+') {
        long v;
        char unit;
        cr_assert_eq(sscanf(w + 1, "%ld%c", &v, &unit), 2, "bad time step %s", w);
        f->now += v * (unit == 'h' ? 3600000 : unit == 'm' ? 60000 : 1000);
        return true;
    }
    if (sscanf(w, "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &a, &b, &c, &tail) == 6) {
        char date[16], hms[16];
        snprintf(date, sizeof date, "%04d-%02d-%02d", y, mo, d);
        snprintf(hms, sizeof hms, "%02d:%02d:%02d", a, b, c);
        fx_at_date(f, date, hms);
        return true;
    }
    if (strlen(w) == 8 && sscanf(w, "%d:%d:%d%c", &a, &b, &c, &tail) == 3) {
        fx_at(f, w);
        return true;
    }
    return false;
}

static const uint8_t *code_tid(fx *f, const char *code)
{
    static uint8_t unknown[ENG_TID_LEN];
    if (strcmp(code, "unknown") == 0) {
        derive(0xdeadbeef, 7, unknown);
        return unknown;
    }
    return fx_tid_of(f, code);
}

static int prio_of(const char *s)
{
    if (!s)
        return ENG_PRIO_NONE;
    int p = eng_prio_from_name(s);
    cr_assert(p > 0, "unknown priority %s", s);
    return p;
}

static void result(fx *f, const char *cmd, bool golden, codec_buf *out)
{
    if (!golden) {
        if (f->rc) {
            for (size_t i = 0; i < f->ev.n; i++) { /* a rollover before the failure */
                fx_ev_short(&f->ev.ev[i], out);
                fx_printf(out, ", ");
            }
            fx_printf(out, "!%s", ant_err_code(f->rc));
        } else if (f->ev.n == 0) {
            fx_printf(out, "%s", f->res.replayed ? "=" : "-");
        } else {
            for (size_t i = 0; i < f->ev.n; i++) {
                if (i)
                    fx_printf(out, ", ");
                fx_ev_short(&f->ev.ev[i], out);
            }
        }
        return;
    }
    for (size_t i = 0; i < f->ev.n; i++)
        golden_event(f, &f->ev.ev[i], out);
    if (f->rc) {
        fx_printf(out, "  ! %s: %s\n", ant_err_code(f->rc), f->res.msg);
        return;
    }
    if (strcmp(cmd, "issue") == 0) {
        eng_ticket_view v;
        cr_assert_eq(eng_ticket_get(f->h, f->res.ticket.tid, f->now, &v), 0);
        if (v.state == ENG_ST_WAITING)
            fx_printf(out, "  = %s%s position=%u\n", v.code, f->res.replayed ? " replayed" : "",
                      v.position);
        else
            fx_printf(out, "  = %s%s state=%s\n", v.code, f->res.replayed ? " replayed" : "",
                      eng_state_name(v.state));
        return;
    }
    if (f->ev.n == 0)
        fx_printf(out, "  (no events)\n");
}

int fx_exec(fx *f, const char *line, bool golden, codec_buf *out)
{
    char copy[512];
    char *w[MAX_WORDS];
    cr_assert_lt(strlen(line), sizeof copy, "command line too long");
    snprintf(copy, sizeof copy, "%s", line);
    int n = split(copy, w);
    cr_assert_gt(n, 0, "empty command");
    int i = 0;
    if (parse_time(f, w[0]))
        i++;
    cr_assert_lt(i, n, "no command after the time in '%s'", line);
    const char *cmd = w[i];
    const char *arg = i + 1 < n ? w[i + 1] : NULL;
    eng_cmd c = {0};
    static const char *const no_opts[] = {NULL};
    if (!strcmp(cmd, "issue")) {
        static const char *const known[] = {"prio", "idem", "ch", "phone", "name", "nik", NULL};
        cr_assert_not_null(arg, "issue needs a service");
        check_opts(w, n, i + 2, known);
        c.type = ENG_CMD_ISSUE;
        c.service = arg;
        c.prio = (uint8_t)prio_of(opt(w, n, i + 2, "prio"));
        c.idem = opt(w, n, i + 2, "idem");
        const char *ch = opt(w, n, i + 2, "ch");
        if (ch) {
            int k = eng_channel_from_name(ch);
            cr_assert(k >= 0, "unknown channel %s", ch);
            c.channel = (uint8_t)k;
        }
        c.phone = opt(w, n, i + 2, "phone");
        c.name = opt(w, n, i + 2, "name");
        c.nik = opt(w, n, i + 2, "nik");
        new_ids(f, &c);
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "call")) {
        cr_assert_not_null(arg, "call needs a counter");
        cr_assert(n <= i + 3, "call CTR [CODE]");
        c.type = ENG_CMD_CALL;
        c.counter = arg;
        if (i + 2 < n) {
            c.has_ticket = true;
            memcpy(c.tid, code_tid(f, w[i + 2]), ENG_TID_LEN);
        }
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "finish")) {
        static const char *const known[] = {"transfer", "placement", NULL};
        cr_assert_not_null(arg, "finish needs a counter");
        check_opts(w, n, i + 2, known);
        c.type = ENG_CMD_FINISH;
        c.counter = arg;
        c.transfer_to = opt(w, n, i + 2, "transfer");
        const char *pl = opt(w, n, i + 2, "placement");
        c.placement = pl && !strcmp(pl, "first")  ? ENG_PLACE_FIRST
                      : pl && !strcmp(pl, "last") ? ENG_PLACE_LAST
                      : pl                        ? 7
                                                  : ENG_PLACE_LAST;
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "recall") || !strcmp(cmd, "start") || !strcmp(cmd, "noshow") ||
               !strcmp(cmd, "open") || !strcmp(cmd, "close") || !strcmp(cmd, "pause") ||
               !strcmp(cmd, "resume")) {
        cr_assert_not_null(arg, "%s needs a counter", cmd);
        check_opts(w, n, i + 2, no_opts);
        c.type = !strcmp(cmd, "recall")   ? ENG_CMD_RECALL
                 : !strcmp(cmd, "start")  ? ENG_CMD_START
                 : !strcmp(cmd, "noshow") ? ENG_CMD_NO_SHOW
                 : !strcmp(cmd, "open")   ? ENG_CMD_COUNTER_OPEN
                 : !strcmp(cmd, "close")  ? ENG_CMD_COUNTER_CLOSE
                 : !strcmp(cmd, "pause")  ? ENG_CMD_COUNTER_PAUSE
                                          : ENG_CMD_COUNTER_RESUME;
        c.counter = arg;
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "reinstate") || !strcmp(cmd, "cancel") || !strcmp(cmd, "feedback")) {
        static const char *const known[] = {"score", "comment", NULL};
        cr_assert_not_null(arg, "%s needs a ticket code", cmd);
        check_opts(w, n, i + 2, known);
        c.type = !strcmp(cmd, "reinstate") ? ENG_CMD_REINSTATE
                 : !strcmp(cmd, "cancel")  ? ENG_CMD_CANCEL
                                           : ENG_CMD_FEEDBACK;
        c.has_ticket = true;
        memcpy(c.tid, code_tid(f, arg), ENG_TID_LEN);
        const char *sc = opt(w, n, i + 2, "score");
        c.score = sc ? (uint8_t)atoi(sc) : 0;
        c.comment = opt(w, n, i + 2, "comment");
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "config")) {
        cr_assert_not_null(arg, "config needs a name");
        const char *json = NULL;
        for (int k = 0; k < f->ncfgs; k++)
            if (!strcmp(f->cfgs[k].name, arg))
                json = f->cfgs[k].json;
        cr_assert_not_null(json, "no config named %s", arg);
        c.type = ENG_CMD_CONFIG;
        c.config_json = json;
        c.config_len = strlen(json);
        fx_apply(f, &c);
    } else if (!strcmp(cmd, "tick")) {
        cr_assert_null(arg, "tick takes no argument");
        fx_tick(f);
    } else {
        cr_assert_fail("unknown command '%s' in '%s'", cmd, line);
    }
    result(f, cmd, golden, out);
    return f->rc;
}

const char *fx_run(fx *f, const char *script)
{
    static codec_buf out;
    codec_buf_free(&out);
    char *s = strdup(script);
    cr_assert_not_null(s);
    char *save = NULL;
    int k = 0;
    for (char *line = strtok_r(s, ";\n", &save); line; line = strtok_r(NULL, ";\n", &save)) {
        if (strspn(line, " \t") == strlen(line))
            continue;
        if (k++)
            fx_printf(&out, " | ");
        fx_exec(f, line, false, &out);
    }
    free(s);
    fx_printf(&out, "%s", "");
    return fx_cstr(&out);
}

/* ---- replay and snapshots ------------------------------------------------ */

char *fx_snapshot(const eng_hall *h, size_t *len)
{
    char *buf = NULL;
    cr_assert_eq(eng_snapshot_encode(h, &buf, len), 0);
    cr_assert_not_null(buf);
    return buf;
}

static void expect_same_snapshot(const eng_hall *a, const eng_hall *b, const char *what)
{
    size_t la, lb;
    char *sa = fx_snapshot(a, &la), *sb = fx_snapshot(b, &lb);
    size_t first = 0;
    while (first < la && first < lb && sa[first] == sb[first])
        first++;
    bool same = la == lb && first == la;
    free(sa);
    free(sb);
    cr_assert(same, "%s: snapshots differ (%zu vs %zu bytes, first difference at byte %zu)", what,
              la, lb, first);
}

void fx_check_replay(fx *f)
{
    eng_config *cfg = NULL;
    eng_problems pr;
    cr_assert_eq(eng_config_parse(f->cfg0, strlen(f->cfg0), &cfg, &pr), 0);
    eng_hall *r = eng_hall_new(cfg, f->t0);
    cr_assert_not_null(r);
    eng_evbuf arena;
    eng_evbuf_init(&arena);
    size_t off = 0;
    for (size_t i = 0; i < f->nlog; i++) {
        uint32_t n;
        memcpy(&n, f->log.data + off, sizeof n);
        off += sizeof n;
        eng_event ev;
        char msg[200];
        eng_evbuf_reset(&arena);
        int rc = codec_event_decode(f->log.data + off, n, &ev, &arena, msg);
        cr_assert_eq(rc, 0, "logged event %zu does not decode: %s", i, msg);
        rc = eng_replay(r, &ev, msg);
        cr_assert_eq(rc, 0, "replay of event %zu (%s, seq %llu) failed: %s", i,
                     eng_ev_name(ev.type), (unsigned long long)ev.seq, msg);
        off += n;
    }
    eng_evbuf_free(&arena);
    cr_assert_eq(eng_hall_seq(r), eng_hall_seq(f->h));
    expect_same_snapshot(f->h, r, "replayed hall");
    eng_hall_free(r);

    /* decode(encode(h)) encodes to the same bytes */
    size_t len;
    char *snap = fx_snapshot(f->h, &len);
    eng_hall *d = NULL;
    char msg[200];
    int rc = eng_snapshot_decode(snap, len, &d, msg);
    free(snap);
    cr_assert_eq(rc, 0, "snapshot does not decode: %s", msg);
    expect_same_snapshot(f->h, d, "decoded snapshot");
    eng_hall_free(d);
}
