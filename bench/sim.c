/*
 * sim.c — the hall simulator's engine room: random draws, the event queue,
 * citizens and operators, and the one path that applies a command to the
 * engine and writes it as a trace line (see sim.h).
 *
 * Time is integer ms since the epoch throughout, so the trace's `at` is the
 * instant the engine saw. Events at the same ms run in the order they were
 * scheduled, which keeps the output a function of the seed alone.
 */
#include "sim.h"

#include "engine.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000LL
#define MIN_MS 60000LL
#define LUNCH_FROM_MIN (12 * 60)
#define LUNCH_TO_MIN (13 * 60)
#define MAX_DURATION_S (3 * 3600.0) /* no draw may carry a ticket past midnight */

/* ---- randomness: xoshiro256**, seeded by splitmix64 --------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* One stream per purpose, so that a seed's citizens (arrival times, priority, no-show) are the
 * same whatever the counters do: noshow and lunch differ only in the break. */
static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1): never 0, so log() below is always finite. */
static double rng_unit(rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_exp(rng *r, double mean)
{
    return -mean * log(rng_unit(r));
}

static double rng_normal(rng *r)
{
    /* Box–Muller, one value per pair: simpler than caching the twin, and cheap enough */
    double u = rng_unit(r), v = rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static double rng_lognormal(rng *r, double mean, double cv)
{
    if (mean <= 0)
        return 0;
    double s2 = log(1.0 + cv * cv);
    return exp(log(mean) - s2 / 2 + sqrt(s2) * rng_normal(r));
}

static int64_t ms_of(double s)
{
    if (s > MAX_DURATION_S)
        s = MAX_DURATION_S;
    return (int64_t)llround(s * 1000.0);
}

/* ---- event queue: a binary heap on (at, seq) ---------------------------- */

enum ev_kind {
    EV_DAY_OPEN,
    EV_ARRIVAL,    /* idx: service */
    EV_TRY,        /* idx: counter; the free operator calls the next ticket */
    EV_START,      /* idx: counter; the citizen reached it */
    EV_FINISH,     /* idx: counter */
    EV_RECALL,     /* idx: counter */
    EV_NO_SHOW,    /* idx: counter */
    EV_LUNCH_FROM, /* idx: counter */
    EV_LUNCH_TO,   /* idx: counter */
    EV_ISSUE_END,  /* issue_until: idle counters with nobody to call go home */
    EV_CLOSE,      /* closing time: every free counter closes */
    EV_CANCEL,     /* idx: ticket; the citizen gives up if still waiting */
};

typedef struct sev {
    int64_t at;
    uint64_t seq;
    uint8_t kind;
    uint32_t idx, gen;
} sev;

/* Counter phases as the simulator sees them; the engine holds the real state. */
enum { PH_CLOSED, PH_IDLE, PH_TRYING, PH_CALLED, PH_SERVING };

typedef struct sctr {
    int phase;
    uint32_t gen; /* counter events carry it; a later phase change makes older ones stale */
    bool lunch_due, on_lunch;
    uint32_t ref; /* the ticket it called last */
    int nsvc;
    int svc[BENCH_SIM_MAX_SKILLS];
} sctr;

enum { TK_WAITING, TK_CALLED, TK_GONE };
typedef struct stk {
    uint16_t service;
    uint8_t state;
    bool noshow;
} stk;

typedef struct sim {
    const bench_sim_opts *o;
    const bench_sim_scenario *sc;
    FILE *out;
    bench_sim_stats *st;
    char *err;
    size_t errcap;
    eng_hall *h;
    eng_evbuf ev;
    rng r_arrive, r_people, r_service, r_staff, r_walk;
    sev *heap;
    size_t nheap, capheap;
    uint64_t seq;
    stk *tk;
    size_t ntk, captk;
    sctr ctr[BENCH_SIM_MAX_COUNTERS];
    uint32_t waiting[BENCH_SIM_MAX_SERVICES];
    int day, next_day; /* 0-based simulated day */
    int64_t midnight, open_at, issue_end_at, close_at, lunch_from_at;
} sim;

static int fail(sim *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errcap, fmt, ap);
    va_end(ap);
    return rc;
}

static int push(sim *s, int64_t at, int kind, uint32_t idx, uint32_t gen)
{
    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 256;
        sev *p = realloc(s->heap, cap * sizeof *p);
        if (!p)
            return fail(s, ANT_ENOMEM, "out of memory");
        s->heap = p;
        s->capheap = cap;
    }
    sev e = {at, s->seq++, (uint8_t)kind, idx, gen};
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p].at < e.at || (s->heap[p].at == e.at && s->heap[p].seq < e.seq))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = e;
    return 0;
}

static bool before(const sev *a, const sev *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static sev pop(sim *s)
{
    sev top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const sev *best = &last;
        if (l < s->nheap && before(&s->heap[l], best))
            best = &s->heap[m = l];
        if (l + 1 < s->nheap && before(&s->heap[l + 1], best))
            best = &s->heap[m = l + 1];
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

/* ---- applying and writing ----------------------------------------------- */

static const char *const op_names[ENG_CMD__COUNT] = {
    [ENG_CMD_ISSUE] = "issue",
    [ENG_CMD_CALL] = "call",
    [ENG_CMD_RECALL] = "recall",
    [ENG_CMD_START] = "start",
    [ENG_CMD_FINISH] = "finish",
    [ENG_CMD_NO_SHOW] = "no_show",
    [ENG_CMD_CANCEL] = "cancel",
    [ENG_CMD_COUNTER_OPEN] = "counter_open",
    [ENG_CMD_COUNTER_CLOSE] = "counter_close",
};

/* Ticket ids carry the trace ref's number, so a call's result names its ref without a map. */
static void tid_of(uint32_t ref, uint8_t tid[ENG_TID_LEN])
{
    memset(tid, 0, ENG_TID_LEN);
    for (int i = 0; i < 4; i++)
        tid[i] = (uint8_t)(ref >> (24 - 8 * i));
    memcpy(tid + 4, "antrean-sim", 11);
}

static uint32_t ref_of(const uint8_t tid[ENG_TID_LEN])
{
    return (uint32_t)tid[0] << 24 | (uint32_t)tid[1] << 16 | (uint32_t)tid[2] << 8 | tid[3];
}

/*
 * Applies cmd at now and, once the engine took it, writes its trace line.
 * ref is the ticket's trace number (0: none). A refusal is a simulator bug.
 */
static int apply(sim *s, eng_cmd *cmd, int64_t now, uint32_t ref, eng_result *res)
{
    eng_evbuf_reset(&s->ev);
    int rc = eng_apply(s->h, cmd, now, &s->ev, res);
    const char *op = op_names[cmd->type];
    if (rc)
        return fail(s, rc, "simulator bug: the engine refused line %llu (%s at %lld): %s: %s",
                    (unsigned long long)s->st->lines + 1, op, (long long)now, ant_err_code(rc),
                    res->msg);
    if (cmd->type == ENG_CMD_CALL)
        ref = ref_of(res->ticket.tid);
    fprintf(s->out, "{\"at\":%lld,\"op\":\"%s\"", (long long)now, op);
    if (cmd->type == ENG_CMD_ISSUE)
        fprintf(s->out, ",\"service\":\"%s\"", cmd->service);
    if (cmd->counter)
        fprintf(s->out, ",\"counter\":\"%s\"", cmd->counter);
    if (ref)
        fprintf(s->out, ",\"ref\":\"t%u\"", ref);
    if (cmd->prio)
        fprintf(s->out, ",\"priority\":\"%s\"", eng_prio_name(cmd->prio));
    fputs("}\n", s->out);
    s->st->lines++;
    return 0;
}

static int counter_cmd(sim *s, int type, int c, int64_t now)
{
    eng_cmd cmd = {.type = (uint8_t)type, .counter = s->sc->counters[c].id};
    eng_result res;
    return apply(s, &cmd, now, 0, &res);
}

/* ---- citizens ------------------------------------------------------------ */

static int64_t local_at(const sim *s, int minute)
{
    return s->midnight + minute * MIN_MS;
}

/* Thinning: candidates at the peak rate, kept with probability rate(t) / peak. */
static int next_arrival(sim *s, int svc, int64_t from)
{
    const bench_sim_scenario *sc = s->sc;
    double base = sc->services[svc].rate_per_h / 3600.0;
    double peak = base * (sc->rush_factor > 1 ? sc->rush_factor : 1);
    if (peak <= 0)
        return 0;
    int64_t rush_end = s->open_at + (int64_t)(sc->rush_h * 3600000.0);
    int64_t t = from;
    for (int i = 0; i < 1000000; i++) {
        t += ms_of(rng_exp(&s->r_arrive, 1.0 / peak));
        if (t >= s->issue_end_at)
            return 0;
        double rate = t < rush_end ? base * sc->rush_factor : base;
        if (rng_unit(&s->r_arrive) * peak < rate)
            return push(s, t, EV_ARRIVAL, (uint32_t)svc, 0);
    }
    return 0;
}

static const uint8_t prio_reasons[] = {ENG_PRIO_ELDERLY,  ENG_PRIO_ELDERLY,  ENG_PRIO_ELDERLY,
                                       ENG_PRIO_DISABLED, ENG_PRIO_PREGNANT, ENG_PRIO_CHILD};

static int wake_idle(sim *s, int svc, int64_t now);

static int arrive(sim *s, int svc, int64_t now)
{
    const bench_sim_scenario *sc = s->sc;
    if (s->ntk == s->captk) {
        size_t cap = s->captk ? s->captk * 2 : 1024;
        stk *p = realloc(s->tk, cap * sizeof *p);
        if (!p)
            return fail(s, ANT_ENOMEM, "out of memory");
        s->tk = p;
        s->captk = cap;
    }
    uint32_t ref = (uint32_t)++s->ntk; /* refs count from 1; tk[ref - 1] */
    stk *t = &s->tk[ref - 1];
    /* every citizen draws all its attributes (patience below too), so one share does not shift
     * the others */
    double u_prio = rng_unit(&s->r_people), u_show = rng_unit(&s->r_people);
    double u_cancel = rng_unit(&s->r_people);
    uint64_t reason = rng_next(&s->r_people) % sizeof prio_reasons;
    *t = (stk){.service = (uint16_t)svc, .state = TK_WAITING, .noshow = u_show < sc->noshow_share};
    eng_cmd cmd = {.type = ENG_CMD_ISSUE, .service = sc->services[svc].id, .has_ticket = false};
    cmd.prio = u_prio < sc->priority_share ? prio_reasons[reason] : ENG_PRIO_NONE;
    cmd.channel = ENG_CH_KIOSK;
    tid_of(ref, cmd.tid);
    uint64_t x = s->o->seed ^ ref;
    uint64_t a = splitmix64(&x), b = splitmix64(&x);
    memcpy(cmd.secret, &a, 8);
    memcpy(cmd.secret + 8, &b, 8);
    eng_result res;
    int rc = apply(s, &cmd, now, ref, &res);
    if (rc)
        return rc;
    s->st->issued++;
    s->st->priority += cmd.prio != ENG_PRIO_NONE;
    s->waiting[svc]++;
    double patience = rng_exp(&s->r_people, sc->patience_mean_s > 0 ? sc->patience_mean_s : 1);
    if (u_cancel < sc->cancel_share && (rc = push(s, now + ms_of(patience), EV_CANCEL, ref - 1, 0)))
        return rc;
    rc = wake_idle(s, svc, now);
    return rc ? rc : next_arrival(s, svc, now);
}

static int give_up(sim *s, uint32_t ti, int64_t now)
{
    stk *t = &s->tk[ti];
    if (t->state != TK_WAITING || now >= s->close_at)
        return 0; /* called meanwhile, or the hall is closing: the rollover expires it */
    eng_cmd cmd = {.type = ENG_CMD_CANCEL, .has_ticket = true};
    tid_of(ti + 1, cmd.tid);
    eng_result res;
    int rc = apply(s, &cmd, now, ti + 1, &res);
    if (rc)
        return rc;
    t->state = TK_GONE;
    s->waiting[t->service]--;
    s->st->cancelled++;
    return 0;
}

/* ---- operators ----------------------------------------------------------- */

static int schedule(sim *s, int c, int phase, int64_t at, int kind)
{
    s->ctr[c].phase = phase;
    return push(s, at, kind, (uint32_t)c, ++s->ctr[c].gen);
}

static bool has_work(const sim *s, int c)
{
    for (int k = 0; k < s->ctr[c].nsvc; k++)
        if (s->waiting[s->ctr[c].svc[k]])
            return true;
    return false;
}

static int close_counter(sim *s, int c, int64_t now)
{
    s->ctr[c].phase = PH_CLOSED;
    s->ctr[c].gen++;
    return counter_cmd(s, ENG_CMD_COUNTER_CLOSE, c, now);
}

/* The operator just became free (or the counter opened): break, home, or call after a beat. */
static int counter_free(sim *s, int c, int64_t now)
{
    sctr *k = &s->ctr[c];
    if (k->lunch_due) {
        k->lunch_due = false;
        k->on_lunch = true;
        s->st->lunch_closes++;
        return close_counter(s, c, now);
    }
    if (now >= s->close_at || (now >= s->issue_end_at && !has_work(s, c)))
        return close_counter(s, c, now);
    return schedule(s, c, PH_TRYING, now + ms_of(rng_exp(&s->r_staff, s->sc->react_mean_s)),
                    EV_TRY);
}

/* A new ticket: idle operators who serve its service notice it after their reaction time. */
static int wake_idle(sim *s, int svc, int64_t now)
{
    for (int c = 0; c < s->sc->ncounters; c++) {
        if (s->ctr[c].phase != PH_IDLE)
            continue;
        for (int k = 0; k < s->ctr[c].nsvc; k++)
            if (s->ctr[c].svc[k] == svc) {
                int rc = schedule(s, c, PH_TRYING,
                                  now + ms_of(rng_exp(&s->r_staff, s->sc->react_mean_s)), EV_TRY);
                if (rc)
                    return rc;
                break;
            }
    }
    return 0;
}

static int try_call(sim *s, int c, int64_t now)
{
    const bench_sim_scenario *sc = s->sc;
    if (!has_work(s, c)) {
        if (now >= s->issue_end_at)
            return close_counter(s, c, now);
        s->ctr[c].phase = PH_IDLE;
        return 0;
    }
    eng_cmd cmd = {.type = ENG_CMD_CALL, .counter = sc->counters[c].id};
    eng_result res;
    int rc = apply(s, &cmd, now, 0, &res);
    if (rc)
        return rc;
    uint32_t ref = ref_of(res.ticket.tid);
    if (ref == 0 || ref > s->ntk || s->tk[ref - 1].state != TK_WAITING)
        return fail(s, ANT_EINTERNAL, "simulator bug: the engine called %s, not a waiting ref",
                    res.ticket.code);
    stk *t = &s->tk[ref - 1];
    t->state = TK_CALLED;
    s->ctr[c].ref = ref;
    s->waiting[t->service]--;
    s->st->called++;
    if (t->noshow) {
        double d = sc->recall_after_s - 5 + 10 * rng_unit(&s->r_walk);
        return schedule(s, c, PH_CALLED, now + ms_of(d), EV_RECALL);
    }
    return schedule(s, c, PH_CALLED,
                    now + ms_of(rng_lognormal(&s->r_walk, sc->walk_mean_s, sc->walk_cv)), EV_START);
}

static int serve(sim *s, int c, int64_t now)
{
    int rc = counter_cmd(s, ENG_CMD_START, c, now);
    if (rc)
        return rc;
    int svc = s->tk[s->ctr[c].ref - 1].service;
    const bench_sim_service *sv = &s->sc->services[svc];
    double d = sv->exponential ? rng_exp(&s->r_service, sv->mean_s)
                               : rng_lognormal(&s->r_service, sv->mean_s, sv->cv);
    return schedule(s, c, PH_SERVING, now + ms_of(d), EV_FINISH);
}

/* ---- the day's clock ------------------------------------------------------ */

/* Citizens still waiting or called when a new day opens were expired by the engine's rollover. */
static void forget_yesterday(sim *s, size_t from)
{
    for (size_t i = from; i < s->ntk; i++)
        if (s->tk[i].state != TK_GONE) {
            s->st->left_waiting += s->tk[i].state == TK_WAITING;
            s->tk[i].state = TK_GONE;
        }
    memset(s->waiting, 0, sizeof s->waiting);
}

static int day_open(sim *s, size_t *day_first)
{
    const eng_config *cfg = eng_hall_config(s->h);
    forget_yesterday(s, *day_first);
    *day_first = s->ntk;
    s->day = s->next_day++;
    s->midnight =
        (int64_t)(s->o->start_day + s->day) * MS_PER_DAY - (int64_t)cfg->utc_offset_min * MIN_MS;
    s->open_at = local_at(s, cfg->open_min);
    s->issue_end_at = local_at(s, cfg->issue_until_min);
    s->close_at = local_at(s, cfg->close_min);
    s->lunch_from_at = local_at(s, LUNCH_FROM_MIN);
    int rc = 0;
    for (int c = 0; rc == 0 && c < s->sc->ncounters; c++) {
        s->ctr[c].lunch_due = s->ctr[c].on_lunch = false;
        rc = counter_cmd(s, ENG_CMD_COUNTER_OPEN, c, s->open_at);
        if (rc == 0)
            rc = counter_free(s, c, s->open_at);
        if (rc == 0 && s->sc->counters[c].lunch)
            rc = push(s, s->lunch_from_at, EV_LUNCH_FROM, (uint32_t)c, 0);
        if (rc == 0 && s->sc->counters[c].lunch)
            rc = push(s, local_at(s, LUNCH_TO_MIN), EV_LUNCH_TO, (uint32_t)c, 0);
    }
    for (int i = 0; rc == 0 && i < s->sc->nservices; i++)
        rc = next_arrival(s, i, s->open_at);
    if (rc == 0)
        rc = push(s, s->issue_end_at, EV_ISSUE_END, 0, 0);
    if (rc == 0)
        rc = push(s, s->close_at, EV_CLOSE, 0, 0);
    if (rc == 0 && s->day + 1 < s->o->days)
        rc = push(s, s->open_at + MS_PER_DAY, EV_DAY_OPEN, 0, 0);
    return rc;
}

static int lunch(sim *s, int c, bool from, int64_t now)
{
    sctr *k = &s->ctr[c];
    if (from) {
        if (k->phase == PH_IDLE || k->phase == PH_TRYING) {
            k->on_lunch = true;
            s->st->lunch_closes++;
            return close_counter(s, c, now);
        }
        k->lunch_due = k->phase != PH_CLOSED; /* busy: closes when this ticket is done */
        return 0;
    }
    k->lunch_due = false; /* a ticket that outlasted the break cancels it */
    if (!k->on_lunch)
        return 0;
    k->on_lunch = false;
    int rc = counter_cmd(s, ENG_CMD_COUNTER_OPEN, c, now);
    return rc ? rc : counter_free(s, c, now);
}

static int step(sim *s, const sev *e, size_t *day_first)
{
    int c = (int)e->idx, rc = 0;
    switch (e->kind) {
    case EV_DAY_OPEN:
        return day_open(s, day_first);
    case EV_ARRIVAL:
        return arrive(s, c, e->at);
    case EV_CANCEL:
        return give_up(s, e->idx, e->at);
    case EV_LUNCH_FROM:
    case EV_LUNCH_TO:
        return lunch(s, c, e->kind == EV_LUNCH_FROM, e->at);
    case EV_ISSUE_END:
    case EV_CLOSE:
        for (c = 0; rc == 0 && c < s->sc->ncounters; c++) {
            int ph = s->ctr[c].phase;
            if (ph == PH_IDLE || (e->kind == EV_CLOSE && ph == PH_TRYING))
                rc = close_counter(s, c, e->at);
        }
        return rc;
    default:
        break;
    }
    if (e->gen != s->ctr[c].gen)
        return 0; /* overtaken: the counter closed or was rescheduled */
    switch (e->kind) {
    case EV_TRY:
        return try_call(s, c, e->at);
    case EV_START:
        return serve(s, c, e->at);
    case EV_RECALL:
        rc = counter_cmd(s, ENG_CMD_RECALL, c, e->at);
        if (rc == 0) {
            double d = s->sc->noshow_after_s - 5 + 10 * rng_unit(&s->r_walk);
            rc = schedule(s, c, PH_CALLED, e->at + ms_of(d), EV_NO_SHOW);
        }
        return rc;
    case EV_NO_SHOW:
        rc = counter_cmd(s, ENG_CMD_NO_SHOW, c, e->at);
        s->st->no_show += rc == 0;
        s->tk[s->ctr[c].ref - 1].state = TK_GONE;
        return rc ? rc : counter_free(s, c, e->at);
    case EV_FINISH:
        rc = counter_cmd(s, ENG_CMD_FINISH, c, e->at);
        s->st->served += rc == 0;
        s->tk[s->ctr[c].ref - 1].state = TK_GONE;
        return rc ? rc : counter_free(s, c, e->at);
    default:
        return fail(s, ANT_EINTERNAL, "simulator bug: event kind %d", e->kind);
    }
}

static int setup(sim *s)
{
    char json[8192];
    if (bench_sim_config_json(s->sc, json, sizeof json) < 0)
        return fail(s, ANT_EINTERNAL, "scenario %s: config longer than %zu bytes", s->sc->name,
                    sizeof json);
    eng_config *cfg;
    eng_problems probs;
    if (eng_config_parse(json, strlen(json), &cfg, &probs) != 0)
        return fail(s, ANT_EBADREQ, "scenario %s: config refused: %s", s->sc->name,
                    probs.count ? probs.msg[0] : "?");
    fprintf(s->out, "{\"hall\":%.*s}\n", (int)cfg->json_len, cfg->json);
    s->st->lines++;
    for (int c = 0; c < s->sc->ncounters; c++) {
        const bench_sim_counter *k = &s->sc->counters[c];
        s->ctr[c].nsvc = k->nservices;
        for (int j = 0; j < k->nservices; j++)
            s->ctr[c].svc[j] = eng_config_service(cfg, k->services[j]);
    }
    int64_t first = (int64_t)s->o->start_day * MS_PER_DAY +
                    (int64_t)(cfg->open_min - cfg->utc_offset_min) * MIN_MS;
    if (!(s->h = eng_hall_new(cfg, first)))
        return fail(s, ANT_ENOMEM, "out of memory");
    return push(s, first, EV_DAY_OPEN, 0, 0);
}

int bench_sim_run(const bench_sim_opts *o, FILE *out, bench_sim_stats *st, char *err, size_t errcap)
{
    bench_sim_stats dummy;
    sim s = {.o = o, .sc = o->sc, .out = out, .st = st ? st : &dummy, .err = err, .errcap = errcap};
    memset(s.st, 0, sizeof *s.st);
    if (o->days < 1 || o->days > 366 || o->sc->nservices > BENCH_SIM_MAX_SERVICES ||
        o->sc->ncounters > BENCH_SIM_MAX_COUNTERS)
        return fail(&s, ANT_EBADREQ, "days must be 1 to 366 and the scenario within limits");
    rng_seed(&s.r_arrive, o->seed, 1);
    rng_seed(&s.r_people, o->seed, 2);
    rng_seed(&s.r_service, o->seed, 3);
    rng_seed(&s.r_staff, o->seed, 4);
    rng_seed(&s.r_walk, o->seed, 5);
    eng_evbuf_init(&s.ev);
    size_t day_first = 0;
    int rc = setup(&s);
    /* bounded: each day schedules a finite number of events, and days are capped */
    for (uint64_t n = 0; rc == 0 && s.nheap; n++) {
        if (n > (uint64_t)o->days * 10000000)
            rc = fail(&s, ANT_EINTERNAL, "simulator bug: more than 10M events in a day");
        sev e = pop(&s);
        if (rc == 0)
            rc = step(&s, &e, &day_first);
    }
    forget_yesterday(&s, day_first);
    if (rc == 0 && ferror(out))
        rc = fail(&s, ANT_EINTERNAL, "cannot write the trace");
    eng_evbuf_free(&s.ev);
    eng_hall_free(s.h);
    free(s.heap);
    free(s.tk);
    return rc;
}
