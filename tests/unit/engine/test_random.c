/*
 * test_random.c — the engine against a deliberately simple model.
 *
 * Several halls (different utc offsets, hours, policies, priority and
 * no-show settings, quotas, config replacements) each get tens of thousands
 * of random commands, valid and invalid, with time moving on randomly
 * (same millisecond, seconds, minutes, whole days) and eng_tick between
 * them. The model (eng_model.h) knows SPEC §3 and nothing of the engine's insides:
 * plain arrays, linear scans, the calling rules written out again. After
 * every command the result code and the events must be exactly what the
 * model expects; every so often the whole state is compared (every
 * ticket's state, service, counter and recalls, every counter, the waiting
 * lists in order, positions that never go down within a service), and a
 * shadow hall that was fed every event through the codec (full msgpack,
 * decoded, eng_replay) and a decode(encode()) copy must give the same
 * snapshot bytes. Closed days' figures are compared at each rollover.
 *
 * The seed comes from ant_test_seed() (`make test SEED=…` or ANT_SEED=…);
 * ANT_RANDOM_SCALE=N multiplies the number of commands.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "eng_fixture.h"
#include "eng_model.h"

#define CMDS_PER_HALL 30000
#define IDEM_POOL 24

/* ---- randomness ----------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t x = (r->s += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static unsigned below(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

static bool chance(rng *r, unsigned percent_x10)
{
    return below(r, 1000) < percent_x10;
}

/* ---- generated commands ---------------------------------------------------- */

typedef struct gen_cmd {
    eng_cmd c;
    char svc[ENG_ID_MAX + 8], ctr[ENG_ID_MAX + 8], to[ENG_ID_MAX + 8];
    char idem[80], nik[24], phone[24], name[16], comment[ENG_COMMENT_MAX + 8];
    int cfg_variant; /* ENG_CMD_CONFIG: which variant, -1: broken JSON */
    bool tick;
} gen_cmd;

/* long enough never to turn up by chance in a public encoding (the fixture looks) */
static const char *const IDEMS[IDEM_POOL] = {
    "kiosk-key-00", "kiosk-key-01", "kiosk-key-02", "kiosk-key-03", "kiosk-key-04", "kiosk-key-05",
    "kiosk-key-06", "kiosk-key-07", "kiosk-key-08", "kiosk-key-09", "kiosk-key-10", "kiosk-key-11",
    "kiosk-key-12", "kiosk-key-13", "kiosk-key-14", "kiosk-key-15", "kiosk-key-16", "kiosk-key-17",
    "kiosk-key-18", "kiosk-key-19", "kiosk key 20", "kiosk#key@21", "kiosk-key-22", "kiosk-key-23"};

/* ---- the halls -------------------------------------------------------------- */

typedef struct hall_spec {
    const char *name;
    fx_hall v[3]; /* config variants; v[0] is the first */
    int nv;
    const char *start; /* local date */
} hall_spec;

static void make_specs(hall_spec *hs)
{
    /* 1: a weekday MPP in WIB with a quota and a closed date */
    hall_spec *h = &hs[0];
    memset(h, 0, sizeof *h);
    h->name = "wib-weekdays";
    h->start = "2026-03-16";
    h->v[0] = (fx_hall){
        .id = "r-wib",
        .utc = 420,
        .open = "08:00",
        .close = "16:00",
        .until = "15:00",
        .weekdays = "[1,2,3,4,5]",
        .closed_dates = "[\"2026-03-19\",\"2026-03-20\"]",
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0},
                {"kk", "dukcapil", "B", 420, 2400, 0},
                {"paspor", "imigrasi", "P", 600, 3600, 40},
                {"skck", "polri", "S", 240, 1800, 0}},
        .ctr = {{"l01", NULL, "ktp,kk", NULL},
                {"l02", NULL, "kk,ktp", "in_order"},
                {"l03", NULL, "paspor", NULL},
                {"l04", NULL, "skck,paspor,ktp", "in_order"},
                {"l05", NULL, "ktp,kk,paspor,skck", NULL}},
        .max_consec = 2,
        .min_recalls = 1,
        .reinstate_s = 600,
    };
    h->v[1] = h->v[0]; /* kk leaves; l02 goes; l05 changes its list */
    h->v[1].svc[1] = h->v[1].svc[3];
    h->v[1].svc[3] = (fx_svc){0};
    h->v[1].ctr[0].services = "ktp";
    h->v[1].ctr[1] = h->v[1].ctr[4];
    h->v[1].ctr[1].services = "skck,ktp";
    h->v[1].ctr[4] = (fx_ctr){0};
    h->v[2] = h->v[0]; /* kk back, a new service, a new counter, other rules */
    h->v[2].svc[4] = (fx_svc){"npwp", "pajak", "N", 200, 900, 5};
    h->v[2].ctr[5] = (fx_ctr){"l06", NULL, "npwp,ktp", NULL};
    h->v[2].max_consec = 1;
    h->v[2].min_recalls = 0;
    h->nv = 3;

    /* 2: around the clock in WITA, all in_order, one priority call at a time */
    h = &hs[1];
    memset(h, 0, sizeof *h);
    h->name = "wita-24h";
    h->start = "2026-06-01";
    h->v[0] = (fx_hall){
        .id = "r-wita",
        .utc = 480,
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0},
                {"kk", "dukcapil", "B", 420, 2400, 0},
                {"pkb", "samsat", "K", 200, 900, 25}},
        .ctr = {{"c1", NULL, "ktp,kk,pkb", "in_order"},
                {"c2", NULL, "pkb,kk", "in_order"},
                {"c3", NULL, "kk", "in_order"}},
        .max_consec = 1,
        .min_recalls = 0,
        .reinstate_s = 120,
    };
    h->v[1] = h->v[0]; /* pkb leaves */
    h->v[1].svc[2] = (fx_svc){0};
    h->v[1].ctr[0].services = "ktp,kk";
    h->v[1].ctr[1].services = "kk";
    h->nv = 2;

    /* 3: WIT, long hours, six services, strict no-shows */
    h = &hs[2];
    memset(h, 0, sizeof *h);
    h->name = "wit-long";
    h->start = "2026-12-28";
    h->v[0] = (fx_hall){
        .id = "r-wit",
        .utc = 540,
        .open = "07:00",
        .close = "22:00",
        .until = "21:30",
        .weekdays = "[1,2,3,4,5,6]",
        .closed_dates = "[\"2027-01-01\"]",
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0},
                {"kk", "dukcapil", "B", 420, 2400, 15},
                {"akta", "dukcapil", "C", 360, 2400, 0},
                {"paspor", "imigrasi", "P", 600, 3600, 15},
                {"sim", "polri", "M", 500, 3600, 0},
                {"bpjs", "bpjs", "J", 300, 1800, 0}},
        .ctr = {{"a1", NULL, "ktp,kk,akta", NULL},
                {"a2", NULL, "akta,kk", NULL},
                {"a3", NULL, "paspor", NULL},
                {"a4", NULL, "sim,bpjs", NULL},
                {"a5", NULL, "bpjs", NULL},
                {"a6", NULL, "ktp,kk,akta,paspor,sim,bpjs", NULL}},
        .max_consec = 3,
        .min_recalls = 2,
        .reinstate_s = 1800,
    };
    h->nv = 1;

    /* 4: a hall west of Greenwich, two services, priority without a limit */
    h = &hs[3];
    memset(h, 0, sizeof *h);
    h->name = "utc-minus";
    h->start = "2026-10-30";
    h->v[0] = (fx_hall){
        .id = "r-west",
        .utc = -300,
        .open = "06:00",
        .close = "24:00",
        .svc = {{"ktp", "dukcapil", "A", 300, 1800, 0}, {"kk", "dukcapil", "B", 420, 2400, 0}},
        .ctr = {{"w1", NULL, "ktp,kk", NULL}, {"w2", NULL, "kk", NULL}},
        .max_consec = 1000,
        .min_recalls = -1,
        .reinstate_s = -1,
    };
    h->nv = 1;
}

/* ---- the run ------------------------------------------------------------------- */

typedef struct run {
    rng r;
    fx f;
    model m;
    const hall_spec *spec;
    char *cfg_json[3];
    eng_hall *shadow; /* fed every event through the codec */
    eng_evbuf arena;
    codec_buf enc;
    uint64_t seed;
    int step;
    char what[200]; /* the current command, for messages */
    unsigned n_ok, n_err, n_events;
    unsigned ev_count[ENG_EV__COUNT]; /* events by type, to see what the run exercised */
    uint8_t last_no_show[ENG_TID_LEN];
} run;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            char m_[400];                                                                          \
            if (snprintf(m_, sizeof m_, __VA_ARGS__) < 0) /* may be cut short: that is fine */     \
                m_[0] = '\0';                                                                      \
            cr_assert_fail("hall %s, seed %llu, command %d (%s): %s", ru->spec->name,              \
                           (unsigned long long)ru->seed, ru->step, ru->what, m_);                  \
        }                                                                                          \
    } while (0)

static const char *pick_svc_id(run *ru)
{
    const model *m = &ru->m;
    unsigned k = below(&ru->r, 100);
    if (k < 3)
        return "nope";
    if (k < 6) { /* any service this hall ever had, gone or not */
        for (int v = 0; v < ru->spec->nv; v++)
            for (int i = 0; i < FX_MAX_SVC && ru->spec->v[v].svc[i].id; i++)
                if (chance(&ru->r, 300))
                    return ru->spec->v[v].svc[i].id;
    }
    int act[M_SVC], n = 0;
    for (int i = 0; i < m->nsvc; i++)
        if (m->svc[i].active && !m->svc[i].ghost)
            act[n++] = i;
    return n ? m->svc[act[below(&ru->r, (unsigned)n)]].id : "nope";
}

enum { WANT_ANY, WANT_FREE, WANT_CALLED, WANT_SERVING, WANT_NOT_OPEN, WANT_IDLE, WANT_PAUSED };

static bool ctr_fits(const model *m, const m_ctr *c, int want)
{
    int st = c->cur >= 0 ? m->tk[c->cur].state : -1;
    switch (want) {
    case WANT_FREE:
        return c->state == ENG_CS_OPEN && c->cur < 0;
    case WANT_CALLED:
        return st == ENG_ST_CALLED;
    case WANT_SERVING:
        return st == ENG_ST_SERVING;
    case WANT_NOT_OPEN:
        return c->state != ENG_CS_OPEN;
    case WANT_IDLE:
        return c->state == ENG_CS_OPEN && c->cur < 0;
    case WANT_PAUSED:
        return c->state == ENG_CS_PAUSED;
    default:
        return true;
    }
}

/* A counter: mostly one where the command can work, sometimes any, rarely an unknown one. */
static const char *pick_ctr_id(run *ru, int want)
{
    const model *m = &ru->m;
    if (chance(&ru->r, 20))
        return "zz9";
    int act[M_CTR], n = 0, fit[M_CTR], nf = 0;
    for (int i = 0; i < m->nctr; i++)
        if (m->ctr[i].active) {
            act[n++] = i;
            if (ctr_fits(m, &m->ctr[i], want))
                fit[nf++] = i;
        }
    if (nf && chance(&ru->r, 800))
        return m->ctr[fit[below(&ru->r, (unsigned)nf)]].id;
    return n ? m->ctr[act[below(&ru->r, (unsigned)n)]].id : "zz9";
}

/* A ticket id: mostly today's (biased to waiting or at a counter), some old or unknown. */
static void pick_tid(run *ru, uint8_t out[ENG_TID_LEN], int want_state)
{
    model *m = &ru->m;
    unsigned k = below(&ru->r, 100);
    if (k < 3 || (k < 6 && !m->nold)) {
        for (int i = 0; i < ENG_TID_LEN; i++)
            out[i] = (uint8_t)rnd(&ru->r);
        return;
    }
    if (k < 6) {
        int n = m->nold < M_OLD ? m->nold : M_OLD;
        memcpy(out, m->old[below(&ru->r, (unsigned)n)], ENG_TID_LEN);
        return;
    }
    if (!m->ntk) {
        memset(out, 0xab, ENG_TID_LEN);
        return;
    }
    int n = 0, pick = -1;
    if (k < 80) /* reservoir sampling over the tickets in the wanted state, newest favoured */
        for (int t = m->ntk; t-- > 0 && n < 8;)
            if (m->tk[t].state == want_state && below(&ru->r, (unsigned)++n) == 0)
                pick = t;
    if (pick < 0)
        pick = (int)below(&ru->r, (unsigned)m->ntk);
    memcpy(out, m->tk[pick].tid, ENG_TID_LEN);
}

static const char *pick_code(const model *m, const uint8_t tid[ENG_TID_LEN])
{
    int t = model_tk_find(m, tid);
    return t >= 0 ? m->tk[t].code : "?";
}

static void gen(run *ru, gen_cmd *g)
{
    memset(g, 0, sizeof *g);
    eng_cmd *c = &g->c;
    rng *r = &ru->r;
    unsigned k = below(r, 1000);
    if (k < 220) {
        c->type = ENG_CMD_ISSUE;
        snprintf(g->svc, sizeof g->svc, "%s", pick_svc_id(ru));
        c->service = chance(r, 3) ? NULL : g->svc;
        c->prio = chance(r, 250) ? (uint8_t)(1 + below(r, 4)) : 0;
        if (chance(r, 5))
            c->prio = 5;
        c->channel = (uint8_t)below(r, chance(r, 5) ? 9 : 4);
        if (chance(r, 250)) {
            snprintf(g->idem, sizeof g->idem, "%s", IDEMS[below(r, IDEM_POOL)]);
            if (chance(r, 20)) { /* broken keys */
                if (chance(r, 500)) {
                    memset(g->idem, 'x', 65);
                    g->idem[65] = '\0';
                } else {
                    g->idem[0] = 0x7f;
                }
            }
            c->idem = g->idem;
        }
        if (chance(r, 60)) { /* a few fixed values: the fixture checks each never leaks */
            static const char *const niks[] = {"3171012345670001", "7371019876540002",
                                               "9171015555550003", "317101234567000x",
                                               "73710198765400"};
            static const char *const phones[] = {"+6281299990001", "081377770002",
                                                 "+6285266660003"};
            static const char *const names[] = {"Siti_Aminah", "Budi_Santoso", "Wayan_Sudira", ""};
            c->nik = chance(r, 700) ? niks[below(r, 3)] : niks[3 + below(r, 2)];
            c->phone = phones[below(r, 3)];
            c->name = names[below(r, chance(r, 50) ? 4 : 3)];
        }
        uint64_t a = rnd(r), b = rnd(r);
        memcpy(c->tid, &a, 8);
        memcpy(c->tid + 8, &b, 8);
        a = rnd(r);
        b = rnd(r);
        memcpy(c->secret, &a, 8);
        memcpy(c->secret + 8, &b, 8);
        snprintf(ru->what, sizeof ru->what, "issue %s prio=%u idem=%s", c->service ? g->svc : "-",
                 c->prio, c->idem ? g->idem : "-");
        return;
    }
    if (k < 420) {
        c->type = ENG_CMD_CALL;
        snprintf(g->ctr, sizeof g->ctr, "%s", pick_ctr_id(ru, WANT_FREE));
        if (chance(r, 150)) {
            c->has_ticket = true;
            pick_tid(ru, c->tid, ENG_ST_WAITING);
        }
        snprintf(ru->what, sizeof ru->what, "call %s%s%s", g->ctr, c->has_ticket ? " " : "",
                 c->has_ticket ? pick_code(&ru->m, c->tid) : "");
    } else if (k < 710) {
        c->type = k < 470   ? ENG_CMD_RECALL
                  : k < 570 ? ENG_CMD_START
                  : k < 610 ? ENG_CMD_NO_SHOW
                            : ENG_CMD_FINISH;
        snprintf(g->ctr, sizeof g->ctr, "%s",
                 pick_ctr_id(ru, c->type == ENG_CMD_FINISH ? WANT_SERVING : WANT_CALLED));
        if (c->type == ENG_CMD_FINISH && chance(r, 300)) {
            snprintf(g->to, sizeof g->to, "%s", pick_svc_id(ru));
            c->transfer_to = g->to;
            c->placement = (uint8_t)(chance(r, 10) ? 7 : below(r, 2));
        }
        snprintf(ru->what, sizeof ru->what, "%s %s%s%s",
                 c->type == ENG_CMD_RECALL    ? "recall"
                 : c->type == ENG_CMD_START   ? "start"
                 : c->type == ENG_CMD_NO_SHOW ? "noshow"
                                              : "finish",
                 g->ctr, c->transfer_to ? " transfer=" : "", c->transfer_to ? g->to : "");
    } else if (k < 790) {
        c->type = k < 740   ? ENG_CMD_COUNTER_OPEN
                  : k < 755 ? ENG_CMD_COUNTER_CLOSE
                  : k < 770 ? ENG_CMD_COUNTER_PAUSE
                            : ENG_CMD_COUNTER_RESUME;
        snprintf(g->ctr, sizeof g->ctr, "%s",
                 pick_ctr_id(ru, c->type == ENG_CMD_COUNTER_OPEN     ? WANT_NOT_OPEN
                                 : c->type == ENG_CMD_COUNTER_RESUME ? WANT_PAUSED
                                                                     : WANT_IDLE));
        snprintf(ru->what, sizeof ru->what, "counter %d %s", c->type, g->ctr);
    } else if (k < 890) {
        c->type = k < 825 ? ENG_CMD_REINSTATE : k < 860 ? ENG_CMD_CANCEL : ENG_CMD_FEEDBACK;
        c->has_ticket = !chance(r, 5);
        pick_tid(ru, c->tid,
                 c->type == ENG_CMD_REINSTATE ? ENG_ST_NO_SHOW
                 : c->type == ENG_CMD_CANCEL  ? ENG_ST_WAITING
                                              : ENG_ST_DONE);
        int last = ru->m.ntk ? model_tk_find(&ru->m, ru->last_no_show) : -1;
        if (c->type == ENG_CMD_REINSTATE && last >= 0 && chance(r, 500))
            memcpy(c->tid, ru->last_no_show, ENG_TID_LEN); /* the citizen comes back */
        if (c->type == ENG_CMD_FEEDBACK) {
            c->score = (uint8_t)below(r, 6);
            if (chance(r, 300)) {
                size_t n = chance(r, 30) ? ENG_COMMENT_MAX + 1 : 1 + below(r, 40);
                memset(g->comment, 'c', n);
                g->comment[n] = '\0';
                c->comment = g->comment;
            }
        }
        snprintf(ru->what, sizeof ru->what, "ticket command %d %s", c->type,
                 pick_code(&ru->m, c->tid));
        return;
    } else if (k < 990) {
        g->tick = true;
        snprintf(ru->what, sizeof ru->what, "tick");
        return;
    } else if (k < 996 && ru->spec->nv > 1) {
        c->type = ENG_CMD_CONFIG;
        g->cfg_variant = chance(r, 100) ? -1 : (int)below(r, (unsigned)ru->spec->nv);
        snprintf(ru->what, sizeof ru->what, "config %d", g->cfg_variant);
        return;
    } else {
        c->type = chance(r, 500) ? 0 : ENG_CMD__COUNT + 3; /* not a command */
        snprintf(ru->what, sizeof ru->what, "bad type %d", c->type);
        return;
    }
    if (chance(r, 3))
        c->counter = NULL;
    else
        c->counter = g->ctr;
}

/* ---- comparing ---------------------------------------------------------------- */

static void check_event(run *ru, const eng_event *ev, const m_ev *e)
{
    CHECK(ev->type == e->type, "event type %s, model expects %s", eng_ev_name(ev->type),
          eng_ev_name(e->type));
    switch (e->type) {
    case ENG_EV_DAY_ROLLOVER:
        CHECK(ev->day == e->day, "rollover to day %d, model %d", ev->day, e->day);
        return;
    case ENG_EV_COUNTER_STATE:
        CHECK(!strcmp(ev->counter, e->ctr) && ev->counter_state == e->cstate,
              "counter.state %s %d, model %s %d", ev->counter, ev->counter_state, e->ctr,
              e->cstate);
        return;
    case ENG_EV_HALL_CONFIG:
        return;
    default:
        break;
    }
    CHECK(!strcmp(ev->code, e->code), "%s of %s, model expects %s", eng_ev_name(ev->type), ev->code,
          e->code);
    CHECK(!strcmp(ev->service, e->svc), "%s %s in service %s, model %s", eng_ev_name(ev->type),
          ev->code, ev->service, e->svc);
    if (e->ctr[0])
        CHECK(!strcmp(ev->counter, e->ctr), "%s %s at %s, model %s", eng_ev_name(ev->type),
              ev->code, ev->counter, e->ctr);
    switch (e->type) {
    case ENG_EV_TICKET_ISSUED:
        CHECK(ev->prio == e->prio && ev->number == e->number, "issued %s prio %d number %u",
              ev->code, ev->prio, ev->number);
        break;
    case ENG_EV_TICKET_RECALLED:
        CHECK(ev->recalls == e->recalls, "recalls %d, model %d", ev->recalls, e->recalls);
        break;
    case ENG_EV_TICKET_TRANSFERRED:
        CHECK(!strcmp(ev->from_service, e->from) && ev->placement == e->placement,
              "transferred from %s placement %d, model %s %d", ev->from_service, ev->placement,
              e->from, e->placement);
        break;
    case ENG_EV_TICKET_REINSTATED:
        CHECK(ev->placement == ENG_PLACE_FIRST, "reinstated, not first");
        break;
    case ENG_EV_TICKET_FEEDBACK:
        CHECK(ev->score == e->score, "score %d, model %d", ev->score, e->score);
        break;
    default:
        break;
    }
}

/* Feed the shadow hall: full msgpack, decode, replay. */
static void shadow_feed(run *ru)
{
    for (size_t i = 0; i < ru->f.ev.n; i++) {
        codec_buf_reset(&ru->enc);
        CHECK(codec_event_msgpack(&ru->f.ev.ev[i], CODEC_FULL, &ru->enc) == 0, "encode");
        eng_event ev;
        char msg[200];
        eng_evbuf_reset(&ru->arena);
        int rc = codec_event_decode(ru->enc.data, ru->enc.len, &ev, &ru->arena, msg);
        CHECK(rc == 0, "decode %s: %s", eng_ev_name(ru->f.ev.ev[i].type), msg);
        rc = eng_replay(ru->shadow, &ev, msg);
        CHECK(rc == 0, "replay %s seq %llu: %s", eng_ev_name(ev.type), (unsigned long long)ev.seq,
              msg);
        ru->n_events++;
        if (ev.type == ENG_EV_TICKET_NO_SHOW)
            memcpy(ru->last_no_show, ev.tid, ENG_TID_LEN);
        ru->ev_count[ev.type < ENG_EV__COUNT ? ev.type : 0]++;
    }
}

static void check_closed_day(run *ru, const m_closed *closed, int n)
{
    eng_day_stats st;
    CHECK(eng_stats_last_closed(ru->f.h, &st) == 0, "stats");
    for (int i = 0; i < n; i++) {
        const m_closed *c = &closed[i];
        const eng_stat_row *r = NULL;
        for (int k = 0; k < st.nservices; k++)
            if (!strcmp(st.services[k].id, c->id))
                r = &st.services[k];
        CHECK(r, "no closing figures for service %s", c->id);
        CHECK(r->issued == c->issued && r->served == c->served && r->no_show == c->noshow &&
                  r->cancelled == c->cancel && r->expired == c->expired,
              "day figures of %s: issued %u served %u no_show %u cancelled %u expired %u, model "
              "%u %u %u %u %u",
              c->id, r->issued, r->served, r->no_show, r->cancelled, r->expired, c->issued,
              c->served, c->noshow, c->cancel, c->expired);
    }
    eng_day_stats_free(&st);
}

typedef struct walk {
    run *ru;
    int seen;
    /* waiting walk */
    char svc[ENG_ID_MAX + 1];
    uint32_t last_pos;
    int lane_pos[M_SVC][2]; /* next expected index in the model's lane */
} walk;

static int walk_all(const eng_ticket_view *v, void *arg)
{
    walk *w = arg;
    run *ru = w->ru;
    model *m = &ru->m;
    int t = model_tk_find(m, v->tid);
    CHECK(t >= 0, "engine has ticket %s the model does not", v->code);
    const m_tk *k = &m->tk[t];
    CHECK(v->state == k->state, "%s is %s, model %s", v->code, eng_state_name(v->state),
          eng_state_name(k->state));
    CHECK(!strcmp(v->code, k->code), "code %s, model %s", v->code, k->code);
    CHECK(!strcmp(v->service, m->svc[k->svc].id), "%s in %s, model %s", v->code, v->service,
          m->svc[k->svc].id);
    CHECK(v->score == k->score, "%s score %d, model %d", v->code, v->score, k->score);
    if (k->state == ENG_ST_CALLED || k->state == ENG_ST_SERVING) {
        CHECK(k->ctr >= 0 && !strcmp(v->counter, m->ctr[k->ctr].id), "%s at %s, model %s", v->code,
              v->counter, k->ctr >= 0 ? m->ctr[k->ctr].id : "-");
        CHECK(v->recalls == k->recalls, "%s recalls %d, model %d", v->code, v->recalls, k->recalls);
    }
    if (k->state == ENG_ST_WAITING)
        CHECK(!v->counter[0], "waiting %s at counter %s", v->code, v->counter);
    w->seen++;
    return 0;
}

static int walk_waiting(const eng_ticket_view *v, void *arg)
{
    walk *w = arg;
    run *ru = w->ru;
    model *m = &ru->m;
    int t = model_tk_find(m, v->tid);
    CHECK(t >= 0 && m->tk[t].state == ENG_ST_WAITING, "waiting list has %s", v->code);
    int s = m->tk[t].svc;
    int lane = m->tk[t].prio ? P_PRIO : P_NORMAL;
    if (strcmp(w->svc, v->service) != 0) {
        snprintf(w->svc, sizeof w->svc, "%s", v->service);
        w->last_pos = 0;
    }
    CHECK(v->position >= w->last_pos, "position of %s (%u) below the one before it (%u) in %s",
          v->code, v->position, w->last_pos, v->service);
    w->last_pos = v->position;
    int i = w->lane_pos[s][lane]++;
    CHECK(i < m->svc[s].nq[lane] && m->svc[s].q[lane][i] == t,
          "%s is not next in %s's %s lane (model has %s)", v->code, v->service,
          lane ? "priority" : "normal",
          i < m->svc[s].nq[lane] ? m->tk[m->svc[s].q[lane][i]].code : "nothing");
    w->seen++;
    return 0;
}

static void check_state(run *ru)
{
    model *m = &ru->m;
    eng_hall *h = ru->f.h;
    walk w = {.ru = ru};
    eng_tickets_each(h, -1, ru->f.now, walk_all, &w);
    CHECK(w.seen == m->ntk, "engine has %d tickets today, model %d", w.seen, m->ntk);
    memset(&w, 0, sizeof w);
    w.ru = ru;
    eng_tickets_each(h, ENG_ST_WAITING, ru->f.now, walk_waiting, &w);
    int nw = 0;
    for (int s = 0; s < m->nsvc; s++)
        for (int l = 0; l < 2; l++) {
            CHECK(!m->svc[s].active || w.lane_pos[s][l] == m->svc[s].nq[l],
                  "%s lane %d: engine lists %d, model %d", m->svc[s].id, l, w.lane_pos[s][l],
                  m->svc[s].nq[l]);
            nw += m->svc[s].active ? m->svc[s].nq[l] : 0;
        }
    CHECK(w.seen == nw, "engine lists %d waiting, model %d", w.seen, nw);
    /* counters: state, and at most one ticket, the model's */
    const eng_config *cfg = eng_hall_config(h);
    int nact = 0;
    for (int c = 0; c < m->nctr; c++) {
        if (!m->ctr[c].active)
            continue;
        nact++;
        int ci = eng_config_counter(cfg, m->ctr[c].id);
        CHECK(ci >= 0, "counter %s missing", m->ctr[c].id);
        eng_counter_live cl;
        eng_counter_live_get(h, ci, &cl);
        CHECK(cl.state == m->ctr[c].state, "counter %s is %s, model %s", m->ctr[c].id,
              eng_counter_state_name(cl.state), eng_counter_state_name(m->ctr[c].state));
        const char *want = m->ctr[c].cur >= 0 ? m->tk[m->ctr[c].cur].code : "";
        CHECK(!strcmp(cl.ticket, want), "counter %s holds '%s', model '%s'", m->ctr[c].id,
              cl.ticket, want);
    }
    CHECK(nact == cfg->ncounters, "%d counters, model %d", cfg->ncounters, nact);
    /* per service: waiting counts */
    for (int s = 0; s < m->nsvc; s++) {
        if (!m->svc[s].active)
            continue;
        int idx = -1;
        for (int i = 0; idx < 0 && i < cfg->nservices; i++)
            if (!strcmp(cfg->services[i].id, m->svc[s].id))
                idx = i;
        if (idx < 0)
            continue; /* a ghost: not addressable by config index */
        eng_service_live live;
        CHECK(eng_service_live_get(h, idx, ru->f.now, &live) == 0, "live %s", m->svc[s].id);
        CHECK(live.waiting == (uint32_t)(m->svc[s].nq[0] + m->svc[s].nq[1]),
              "%s: %u waiting, model %d", m->svc[s].id, live.waiting,
              m->svc[s].nq[0] + m->svc[s].nq[1]);
    }
}

static void check_snapshots(run *ru)
{
    size_t la, lb, lc;
    char *a = fx_snapshot(ru->f.h, &la);
    char *b = fx_snapshot(ru->shadow, &lb);
    CHECK(la == lb && memcmp(a, b, la) == 0,
          "the hall replayed from its events differs from the live one (%zu vs %zu bytes)", la, lb);
    eng_hall *d = NULL;
    char msg[200];
    CHECK(eng_snapshot_decode(a, la, &d, msg) == 0, "snapshot does not decode: %s", msg);
    char *c = fx_snapshot(d, &lc);
    CHECK(la == lc && memcmp(a, c, la) == 0, "decode(encode(h)) encodes differently");
    eng_hall_free(d);
    free(a);
    free(b);
    free(c);
}

static void one_step(run *ru)
{
    rng *r = &ru->r;
    /* time: often the same millisecond, mostly seconds, sometimes minutes or days */
    unsigned k = below(r, 1000);
    int64_t dt = k < 200   ? 0
                 : k < 900 ? (int64_t)below(r, 30000)
                 : k < 999 ? (int64_t)below(r, 900000)
                           : (int64_t)(3600000 + below(r, 26 * 3600) * 1000ULL);
    if (!model_hall_open(&ru->m, ru->f.now) && chance(r, 50)) /* the night passes faster */
        dt += 3600000 + (int64_t)below(r, 3 * 3600) * 1000;
    ru->f.now += dt;
    gen_cmd g;
    gen(ru, &g);
    model *m = &ru->m;
    m_out o = {.replay_of = -1};
    m_closed closed[M_SVC];
    int nclosed = model_rollover(m, ru->f.now, &o, closed);
    if (g.tick) {
        fx_tick(&ru->f);
        int i = 0;
        for (; i < o.n; i++) {
            CHECK(i < (int)ru->f.ev.n, "tick: missing %s", eng_ev_name(o.ev[i].type));
            check_event(ru, &ru->f.ev.ev[i], &o.ev[i]);
        }
        for (size_t j = (size_t)i; j < ru->f.ev.n; j++) {
            const eng_event *ev = &ru->f.ev.ev[j];
            CHECK(ev->type == ENG_EV_SERVICE_WAIT, "tick gave %s", eng_ev_name(ev->type));
            CHECK(ru->f.now - m->last_wait_at >= 1000 || j > (size_t)i,
                  "two service.wait within a second");
            for (int w = 0; w < ev->nwait; w++) {
                int s = model_svc_find(m, ev->wait[w].service);
                CHECK(s >= 0, "service.wait names unknown service %s", ev->wait[w].service);
                CHECK(ev->wait[w].waiting == (uint32_t)(m->svc[s].nq[0] + m->svc[s].nq[1]),
                      "service.wait: %s has %u waiting, model %d", ev->wait[w].service,
                      ev->wait[w].waiting, m->svc[s].nq[0] + m->svc[s].nq[1]);
            }
            m->last_wait_at = ru->f.now;
        }
    } else {
        gen_cmd *gc = &g;
        if (gc->c.type == ENG_CMD_CONFIG) {
            const char *json = gc->cfg_variant < 0 ? "{\"id\":" : ru->cfg_json[gc->cfg_variant];
            gc->c.config_json = json;
            gc->c.config_len = strlen(json);
        }
        /* the model's expectation, from the state before the command */
        const eng_cmd *c = &gc->c;
        switch (c->type) {
        case ENG_CMD_ISSUE:
            model_issue(m, c, ru->f.now, &o);
            break;
        case ENG_CMD_CALL:
        case ENG_CMD_RECALL:
        case ENG_CMD_START:
        case ENG_CMD_FINISH:
        case ENG_CMD_NO_SHOW:
        case ENG_CMD_COUNTER_OPEN:
        case ENG_CMD_COUNTER_CLOSE:
        case ENG_CMD_COUNTER_PAUSE:
        case ENG_CMD_COUNTER_RESUME:
            model_counter_cmd(m, c, ru->f.now, &o);
            break;
        case ENG_CMD_REINSTATE:
        case ENG_CMD_CANCEL:
        case ENG_CMD_FEEDBACK:
            model_ticket_cmd(m, c, ru->f.now, &o);
            break;
        case ENG_CMD_CONFIG:
            if (gc->cfg_variant < 0)
                o.rc = ANT_EBADREQ;
            else
                model_config(m, &ru->spec->v[gc->cfg_variant], &o);
            break;
        default:
            o.rc = ANT_EBADREQ;
        }
        int rc = fx_apply(&ru->f, c);
        CHECK(rc == o.rc, "rc %s (%s), model expects %s", rc ? ant_err_code(rc) : "ok",
              ru->f.res.msg, o.rc ? ant_err_code(o.rc) : "ok");
        if (rc)
            ru->n_err++;
        else
            ru->n_ok++;
        if (o.replay_of >= 0) {
            CHECK(ru->f.res.replayed &&
                      !memcmp(ru->f.res.ticket.tid, m->tk[o.replay_of].tid, ENG_TID_LEN),
                  "idem key did not return ticket %s", m->tk[o.replay_of].code);
        } else if (c->type == ENG_CMD_ISSUE) {
            CHECK(!ru->f.res.replayed, "an issue without a known key was replayed");
        }
        CHECK((int)ru->f.ev.n == o.n, "%zu events, model expects %d (first: %s)", ru->f.ev.n, o.n,
              ru->f.ev.n ? eng_ev_name(ru->f.ev.ev[0].type) : "-");
        for (int i = 0; i < o.n; i++) {
            const eng_event *ev = &ru->f.ev.ev[i];
            check_event(ru, ev, &o.ev[i]);
            int t = ev->type <= ENG_EV_TICKET_FEEDBACK ? model_tk_find(m, ev->tid) : -1;
            if (ev->type == ENG_EV_TICKET_CALLED) {
                /* never called twice without going back to a queue in between */
                CHECK(t >= 0 && m->tk[t].eng_callable, "%s called twice without a requeue",
                      ev->code);
                m->tk[t].eng_callable = false;
            }
            if (t >= 0 &&
                (ev->type == ENG_EV_TICKET_ISSUED || ev->type == ENG_EV_TICKET_TRANSFERRED ||
                 ev->type == ENG_EV_TICKET_REINSTATED))
                m->tk[t].eng_callable = true;
            if (ev->type == ENG_EV_TICKET_ISSUED) {
                int same = 0;
                for (int t = 0; t < m->ntk; t++)
                    same += !strcmp(m->tk[t].code, ev->code) &&
                            !strcmp(m->svc[m->tk[t].svc].id, ev->service);
                CHECK(same == 1, "code %s issued twice in %s today", ev->code, ev->service);
            }
        }
    }
    if (nclosed)
        check_closed_day(ru, closed, nclosed);
    shadow_feed(ru);
}

static void run_hall(const hall_spec *spec, uint64_t seed, int ncmds)
{
    run *ru = calloc(1, sizeof *ru);
    cr_assert_not_null(ru);
    ru->spec = spec;
    ru->seed = seed;
    ru->r.s = seed;
    for (int v = 0; v < spec->nv; v++)
        ru->cfg_json[v] = fx_hall_json(&spec->v[v]);
    int64_t t0 = fx_time(spec->start, "06:30:00", spec->v[0].utc);
    fx_init(&ru->f, ru->cfg_json[0], t0);
    ru->f.no_log = true;
    eng_config *cfg = NULL;
    eng_problems pr;
    cr_assert_eq(eng_config_parse(ru->cfg_json[0], strlen(ru->cfg_json[0]), &cfg, &pr), 0);
    ru->shadow = eng_hall_new(cfg, t0);
    eng_evbuf_init(&ru->arena);
    codec_buf_init(&ru->enc);
    model *m = &ru->m;
    model_apply_config(m, &spec->v[0]);
    m->day = model_day_of(m, t0);
    unsigned days = 0;
    for (ru->step = 0; ru->step < ncmds; ru->step++) {
        int32_t d = m->day;
        one_step(ru);
        days += m->day != d;
        if (ru->step % 40 == 39 || m->day != d)
            check_state(ru);
        if (ru->step % 1000 == 999)
            check_snapshots(ru);
    }
    check_state(ru);
    check_snapshots(ru);
    cr_log_info("random %s: %d commands (%u ok, %u refused), %u events, %u days", spec->name, ncmds,
                ru->n_ok, ru->n_err, ru->n_events, days);
    char mix[400];
    size_t off = 0;
    for (int t = 1; t < ENG_EV__COUNT; t++)
        off += (size_t)snprintf(mix + off, sizeof mix - off, " %s=%u", eng_ev_name(t),
                                ru->ev_count[t]);
    cr_log_info("random %s:%s", spec->name, mix);
    /* the run must have exercised the interesting paths */
    cr_assert_gt(ru->n_ok, (unsigned)ncmds / 5, "%s: too few commands succeeded", spec->name);
    cr_assert_gt(days, 3, "%s: too few days", spec->name);
    static const int must[] = {
        ENG_EV_TICKET_ISSUED,     ENG_EV_TICKET_CALLED,      ENG_EV_TICKET_RECALLED,
        ENG_EV_TICKET_SERVING,    ENG_EV_TICKET_DONE,        ENG_EV_TICKET_NO_SHOW,
        ENG_EV_TICKET_REINSTATED, ENG_EV_TICKET_TRANSFERRED, ENG_EV_TICKET_CANCELLED,
        ENG_EV_TICKET_FEEDBACK,   ENG_EV_COUNTER_STATE,      ENG_EV_SERVICE_WAIT,
        ENG_EV_DAY_ROLLOVER};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_assert_geq(ru->ev_count[must[i]], 20, "%s: only %u %s events", spec->name,
                      ru->ev_count[must[i]], eng_ev_name(must[i]));
    if (spec->nv > 1)
        cr_assert_geq(ru->ev_count[ENG_EV_HALL_CONFIG], 20, "%s: too few config changes",
                      spec->name);
    eng_hall_free(ru->shadow);
    eng_evbuf_free(&ru->arena);
    codec_buf_free(&ru->enc);
    fx_free(&ru->f);
    for (int v = 0; v < spec->nv; v++)
        free(ru->cfg_json[v]);
    free(m->tk);
    free(ru);
}

static int scale(void)
{
    const char *s = getenv("ANT_RANDOM_SCALE");
    int k = s ? atoi(s) : 1;
    return k > 0 ? k : 1;
}

static hall_spec specs[4];

static void run_spec(int i)
{
    make_specs(specs);
    uint64_t seed = ant_test_seed() ^ (0x1000193ULL * (uint64_t)(i + 1));
    run_hall(&specs[i], seed, CMDS_PER_HALL * scale());
}

/* One test per hall, so `--jobs` runs them side by side: 4 × 30,000 commands. */
Test(random, weekday_hall_wib, .timeout = 300)
{
    run_spec(0);
}

Test(random, around_the_clock_wita, .timeout = 300)
{
    run_spec(1);
}

Test(random, long_hours_wit, .timeout = 300)
{
    run_spec(2);
}

Test(random, west_of_greenwich, .timeout = 300)
{
    run_spec(3);
}
