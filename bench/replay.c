/*
 * replay.c — `antrean-bench replay TRACE.jsonl` (SPEC §10): the engine
 * in-process on a recorded or simulated hall day, on the trace's clock, and
 * for every issued ticket what the estimator told the citizen at issue
 * (eta_s, position: exactly what the issue reply would have carried) beside
 * what then happened (the first call). This is how the estimator is scored.
 *
 * Every command goes through eng_apply as the API would apply it, preceded by
 * eng_tick as the server's one-second timer would (rollover, refreshes). A
 * line the engine or the trace format refuses stops the run: "line N: code:
 * message" on stderr, exit status 1. Nothing here trusts the trace: every
 * field is checked before it reaches the engine.
 *
 * With --baselines the summary also scores, on the same trace, the two
 * estimators a hall has without antrean: naive ((tickets ahead in the service
 * + 1) × mean service time ÷ open counters serving it) and LES (the wait of
 * the last ticket called in that service), and known-μ ((n + 1) ÷ (s μ) with
 * μ from est_service_s, 0 when a counter serving it is free) — the optimum
 * for an M/M/s hall whose config states the true mean.
 */
#include "bench.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

typedef struct rp_ticket {
    char *ref; /* owned */
    uint8_t tid[ENG_TID_LEN];
    int svc;
    int64_t issued_at, called_at; /* called_at 0: not called */
    uint32_t eta_s, position;
    double naive_s, les_s, known_s; /* baselines at issue */
} rp_ticket;

/* Per service: what the baselines need, kept from the commands seen. */
typedef struct rp_svc {
    double served_sum_s; /* called → done of finished tickets */
    uint32_t served_n;
    double last_wait_s; /* LES */
} rp_svc;

typedef struct rp_state {
    eng_hall *h;
    eng_evbuf ev;
    rp_ticket *t; /* owned, issue order */
    size_t n, cap;
    uint32_t *slots; /* owned open-addressing index by ref: t index + 1, 0 empty */
    size_t nslots;
    rp_svc *svc;           /* owned, one per configured service */
    int *cur;              /* owned: per counter, index of its called/serving ticket or -1 */
    int64_t *cur_called;   /* per counter: when it was called */
    const eng_config *cfg; /* borrowed from h */
    uint64_t id_seq;       /* deterministic ids and secrets */
    int64_t last_at;
} rp_state;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill16(uint64_t *seq, uint8_t out[16])
{
    uint64_t a = splitmix(seq), b = splitmix(seq);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

static uint64_t str_hash(const char *s)
{
    uint64_t x = 1469598103934665603ull;
    for (; *s; s++)
        x = (x ^ (uint8_t)*s) * 1099511628211ull;
    return x;
}

/* Index of the ticket with this ref, or -1. */
static int ref_find(const rp_state *st, const char *ref)
{
    if (!st->nslots)
        return -1;
    for (size_t i = str_hash(ref) & (st->nslots - 1);; i = (i + 1) & (st->nslots - 1)) {
        uint32_t k = st->slots[i];
        if (!k)
            return -1;
        if (strcmp(st->t[k - 1].ref, ref) == 0)
            return (int)(k - 1);
    }
}

static int ref_grow(rp_state *st)
{
    size_t ns = st->nslots ? st->nslots * 2 : 1024;
    uint32_t *sl = calloc(ns, sizeof *sl);
    if (!sl)
        return -1;
    for (size_t k = 0; k < st->n; k++)
        for (size_t i = str_hash(st->t[k].ref) & (ns - 1);; i = (i + 1) & (ns - 1))
            if (!sl[i]) {
                sl[i] = (uint32_t)(k + 1);
                break;
            }
    free(st->slots);
    st->slots = sl;
    st->nslots = ns;
    return 0;
}

/* Append a ticket record with this ref (not yet indexed). NULL on ENOMEM. */
static rp_ticket *ticket_add(rp_state *st, const char *ref)
{
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 1024;
        rp_ticket *t = realloc(st->t, nc * sizeof *t);
        if (!t)
            return NULL;
        st->t = t;
        st->cap = nc;
    }
    if ((st->n + 1) * 2 > st->nslots && ref_grow(st) != 0)
        return NULL;
    rp_ticket *t = &st->t[st->n];
    memset(t, 0, sizeof *t);
    if (!(t->ref = strdup(ref)))
        return NULL;
    for (size_t i = str_hash(ref) & (st->nslots - 1);; i = (i + 1) & (st->nslots - 1))
        if (!st->slots[i]) {
            st->slots[i] = (uint32_t)(st->n + 1);
            break;
        }
    st->n++;
    return t;
}

/* ---- baselines --------------------------------------------------------- */

static int svc_index(const eng_config *cfg, const char *id)
{
    for (int i = 0; i < cfg->nservices; i++)
        if (strcmp(cfg->services[i].id, id) == 0)
            return i;
    return -1;
}

static void baselines_at_issue(rp_state *st, rp_ticket *t, uint32_t waiting_before)
{
    const eng_config *cfg = st->cfg;
    const rp_svc *s = &st->svc[t->svc];
    double est = cfg->services[t->svc].est_service_s;
    double mean = s->served_n ? s->served_sum_s / s->served_n : est;
    int open = 0, free_open = 0, configured = 0;
    for (int c = 0; c < cfg->ncounters; c++) {
        const eng_counter_cfg *k = &cfg->counters[c];
        bool serves = false;
        for (int j = 0; j < k->nservices; j++)
            serves |= k->services[j] == t->svc;
        if (!serves)
            continue;
        configured++;
        eng_counter_live live;
        eng_counter_live_get(st->h, c, &live);
        if (live.state == ENG_CS_OPEN) {
            open++;
            free_open += st->cur[c] < 0;
        }
    }
    int k = open ? open : (configured ? configured : 1);
    t->naive_s = (waiting_before + 1.0) * mean / k;
    t->les_s = s->last_wait_s;
    t->known_s = free_open && waiting_before == 0 ? 0 : (waiting_before + 1.0) * est / k;
}

/* ---- one trace line ---------------------------------------------------- */

#define LINE_ERR(code, ...)                                                                        \
    do {                                                                                           \
        snprintf(msg, 200, __VA_ARGS__);                                                           \
        return (code);                                                                             \
    } while (0)

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static int need_str(json_t *o, const char *key, const char **out, char msg[200])
{
    json_t *v = json_object_get(o, key);
    if (!v)
        LINE_ERR(ANT_EBADREQ, "%s: missing", key);
    if (!json_is_string(v))
        LINE_ERR(ANT_EBADREQ, "%s: expected a string", key);
    *out = json_string_value(v);
    return 0;
}

static const struct {
    const char *op;
    uint8_t type;
    bool counter, ref;
} OPS[] = {
    {"issue", ENG_CMD_ISSUE, false, true},
    {"call", ENG_CMD_CALL, true, false}, /* ref optional: without it, call next */
    {"recall", ENG_CMD_RECALL, true, false},
    {"start", ENG_CMD_START, true, false},
    {"finish", ENG_CMD_FINISH, true, false},
    {"no_show", ENG_CMD_NO_SHOW, true, false},
    {"cancel", ENG_CMD_CANCEL, false, true},
    {"reinstate", ENG_CMD_REINSTATE, false, true},
    {"counter_open", ENG_CMD_COUNTER_OPEN, true, false},
    {"counter_close", ENG_CMD_COUNTER_CLOSE, true, false},
    {"counter_pause", ENG_CMD_COUNTER_PAUSE, true, false},
    {"counter_resume", ENG_CMD_COUNTER_RESUME, true, false},
};

static int counter_index(const eng_config *cfg, const char *id)
{
    for (int i = 0; i < cfg->ncounters; i++)
        if (strcmp(cfg->counters[i].id, id) == 0)
            return i;
    return -1;
}

/* Track what the baselines need from a successful command's events. */
static void observe(rp_state *st)
{
    for (size_t i = 0; i < st->ev.n; i++) {
        const eng_event *e = &st->ev.ev[i];
        int c = e->counter[0] ? counter_index(st->cfg, e->counter) : -1;
        if (e->type == ENG_EV_DAY_ROLLOVER) {
            for (int k = 0; k < st->cfg->ncounters; k++)
                st->cur[k] = -1;
            continue;
        }
        if (c < 0)
            continue;
        if (e->type == ENG_EV_TICKET_CALLED) {
            int ti = -1;
            /* the ticket called: by id among this trace's tickets (newest first) */
            for (size_t k = st->n; k-- > 0;)
                if (memcmp(st->t[k].tid, e->tid, ENG_TID_LEN) == 0) {
                    ti = (int)k;
                    break;
                }
            st->cur[c] = ti;
            st->cur_called[c] = e->at;
            if (ti >= 0 && !st->t[ti].called_at) {
                st->t[ti].called_at = e->at;
                st->svc[st->t[ti].svc].last_wait_s = (e->at - st->t[ti].issued_at) / 1000.0;
            }
        } else if (e->type == ENG_EV_TICKET_DONE || e->type == ENG_EV_TICKET_TRANSFERRED) {
            int si =
                svc_index(st->cfg, e->type == ENG_EV_TICKET_DONE ? e->service : e->from_service);
            if (si >= 0) {
                st->svc[si].served_sum_s += (e->at - st->cur_called[c]) / 1000.0;
                st->svc[si].served_n++;
            }
            st->cur[c] = -1;
        } else if (e->type == ENG_EV_TICKET_NO_SHOW) {
            st->cur[c] = -1;
        }
    }
}

static int apply_line(rp_state *st, json_t *o, char msg[200])
{
    json_t *atv = json_object_get(o, "at");
    if (!atv)
        LINE_ERR(ANT_EBADREQ, "at: missing");
    if (!json_is_integer(atv) || json_integer_value(atv) < 0)
        LINE_ERR(ANT_EBADREQ, "at: expected milliseconds since the epoch");
    int64_t at = json_integer_value(atv);
    if (at < st->last_at)
        LINE_ERR(ANT_EBADREQ, "at: time goes backwards (%lld after %lld)", (long long)at,
                 (long long)st->last_at);
    const char *op;
    int rc = need_str(o, "op", &op, msg);
    if (rc)
        return rc;
    size_t k = 0;
    while (k < sizeof OPS / sizeof OPS[0] && strcmp(OPS[k].op, op) != 0)
        k++;
    if (k == sizeof OPS / sizeof OPS[0])
        LINE_ERR(ANT_EBADREQ, "op: unknown op '%.40s'", op);

    eng_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = OPS[k].type;
    cmd.channel = ENG_CH_KIOSK;
    const char *ref = NULL;
    if (OPS[k].counter && (rc = need_str(o, "counter", &cmd.counter, msg)) != 0)
        return rc;
    if (OPS[k].ref && (rc = need_str(o, "ref", &ref, msg)) != 0)
        return rc;
    if (cmd.type == ENG_CMD_CALL && json_object_get(o, "ref") &&
        (rc = need_str(o, "ref", &ref, msg)) != 0)
        return rc;

    rp_ticket *nt = NULL;
    uint32_t waiting_before = 0;
    if (cmd.type == ENG_CMD_ISSUE) {
        if ((rc = need_str(o, "service", &cmd.service, msg)) != 0)
            return rc;
        if (strlen(ref) == 0 || strlen(ref) > 200)
            LINE_ERR(ANT_EBADREQ, "ref: must be 1 to 200 characters");
        if (ref_find(st, ref) >= 0)
            LINE_ERR(ANT_EBADREQ, "ref: '%.40s' already issued in this trace", ref);
        json_t *pv = json_object_get(o, "priority");
        if (pv && !json_is_null(pv)) {
            int p = json_is_string(pv) ? eng_prio_from_name(json_string_value(pv)) : -1;
            if (p <= 0)
                LINE_ERR(ANT_EBADREQ,
                         "priority: expected one of elderly, disabled, pregnant, child");
            cmd.prio = (uint8_t)p;
        }
        fill16(&st->id_seq, cmd.tid);
        fill16(&st->id_seq, cmd.secret);
        int si = svc_index(st->cfg, cmd.service);
        if (si >= 0) {
            eng_service_live live;
            if (eng_service_live_get(st->h, si, at, &live) == 0)
                waiting_before = live.waiting;
        }
    } else if (ref) {
        int ti = ref_find(st, ref);
        if (ti < 0)
            LINE_ERR(ANT_ENOTFOUND, "ref: unknown ticket '%.40s'", ref);
        memcpy(cmd.tid, st->t[ti].tid, ENG_TID_LEN);
        cmd.has_ticket = true;
    }
    if (cmd.type == ENG_CMD_FINISH) {
        cmd.transfer_to = get_str(o, "transfer_to");
        if (json_object_get(o, "transfer_to") && !cmd.transfer_to)
            LINE_ERR(ANT_EBADREQ, "transfer_to: expected a string");
        const char *pl = get_str(o, "placement");
        if (pl && strcmp(pl, "first") == 0)
            cmd.placement = ENG_PLACE_FIRST;
        else if (pl && strcmp(pl, "last") != 0)
            LINE_ERR(ANT_EBADREQ, "placement: expected \"first\" or \"last\"");
    }

    eng_evbuf_reset(&st->ev);
    if ((rc = eng_tick(st->h, at, &st->ev)) != 0)
        LINE_ERR(rc, "the engine could not advance to %lld", (long long)at);
    st->cfg = eng_hall_config(st->h);
    observe(st);
    eng_evbuf_reset(&st->ev);
    eng_result res;
    rc = eng_apply(st->h, &cmd, at, &st->ev, &res);
    st->cfg = eng_hall_config(st->h); /* a rollover replaces the config object */
    observe(st);                      /* a rollover may precede a refusal */
    if (rc) {
        snprintf(msg, 200, "%s", res.msg);
        return rc;
    }
    st->last_at = at;
    if (cmd.type == ENG_CMD_ISSUE) {
        if (!(nt = ticket_add(st, ref)))
            LINE_ERR(ANT_ENOMEM, "out of memory");
        memcpy(nt->tid, cmd.tid, ENG_TID_LEN);
        nt->svc = svc_index(st->cfg, cmd.service);
        nt->issued_at = at;
        /* what the issue reply carries: the ticket read back at the same instant */
        eng_ticket_view v;
        if (eng_ticket_get(st->h, cmd.tid, at, &v) == 0) {
            nt->eta_s = v.eta_s;
            nt->position = v.position;
        }
        baselines_at_issue(st, nt, waiting_before);
    }
    return 0;
}

/* ---- the run ----------------------------------------------------------- */

typedef struct rp_err {
    double sq, abs;
    size_t n;
} rp_err;

static void err_add(rp_err *e, double est, double truth)
{
    double d = est - truth;
    e->sq += d * d;
    e->abs += fabs(d);
    e->n++;
}

static void err_print(FILE *f, const char *name, const rp_err *e)
{
    fprintf(f, "%-8s rmse_s %.1f mae_s %.1f\n", name, e->n ? sqrt(e->sq / e->n) : 0.0,
            e->n ? e->abs / e->n : 0.0);
}

static int load_hall(rp_state *st, json_t *root, int64_t now, char msg[200])
{
    json_t *hall = json_is_object(root) ? json_object_get(root, "hall") : NULL;
    if (!hall || !json_is_object(hall))
        LINE_ERR(ANT_EBADREQ, "hall: line 1 must be {\"hall\": {…config…}}");
    char *text = json_dumps(hall, JSON_COMPACT);
    if (!text)
        LINE_ERR(ANT_ENOMEM, "out of memory");
    eng_config *cfg = NULL;
    eng_problems pr;
    int rc = eng_config_parse(text, strlen(text), &cfg, &pr);
    free(text);
    if (rc) {
        snprintf(msg, 200, "hall: %s%s", pr.count ? pr.msg[0] : "invalid config",
                 pr.count > 1 ? " (and more)" : "");
        return rc;
    }
    if (!(st->h = eng_hall_new(cfg, now)))
        LINE_ERR(ANT_ENOMEM, "out of memory");
    st->cfg = eng_hall_config(st->h);
    st->svc = calloc(st->cfg->nservices + 1, sizeof *st->svc);
    st->cur = malloc((st->cfg->ncounters + 1) * sizeof *st->cur);
    st->cur_called = calloc(st->cfg->ncounters + 1, sizeof *st->cur_called);
    if (!st->svc || !st->cur || !st->cur_called)
        LINE_ERR(ANT_ENOMEM, "out of memory");
    for (int c = 0; c < st->cfg->ncounters; c++)
        st->cur[c] = -1;
    return 0;
}

static void write_tickets(const rp_state *st, FILE *out, const char *const *svc_ids)
{
    for (size_t i = 0; i < st->n; i++) {
        const rp_ticket *t = &st->t[i];
        json_t *o = json_object();
        json_object_set_new(o, "ref", json_string(t->ref));
        json_object_set_new(o, "service", json_string(svc_ids[t->svc]));
        json_object_set_new(o, "issued_at", json_integer(t->issued_at));
        json_object_set_new(o, "eta_s", json_integer(t->eta_s));
        json_object_set_new(o, "position", json_integer(t->position));
        json_object_set_new(o, "called_at",
                            t->called_at ? json_integer(t->called_at) : json_null());
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            fprintf(out, "%s\n", s);
        free(s);
        json_decref(o);
    }
}

int bench_replay_run(FILE *in, FILE *out, FILE *err, unsigned flags)
{
    rp_state st;
    memset(&st, 0, sizeof st);
    eng_evbuf_init(&st.ev);
    st.id_seq = 0x616e747265616eull; /* fixed: a replay is deterministic */
    char *line = NULL, msg[200] = "";
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    json_t *first = NULL;
    char **svc_ids = NULL;
    while ((len = getline(&line, &cap, in)) > 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue; /* blank lines (a trailing newline) carry nothing */
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            snprintf(msg, sizeof msg, "malformed JSON at column %d: %s", je.column, je.text);
            rc = ANT_EBADREQ;
        } else if (!json_is_object(o)) {
            snprintf(msg, sizeof msg, "expected a JSON object");
            rc = ANT_EBADREQ;
        } else if (!first && !st.h) {
            first = o; /* the hall is created at the first command's time */
            o = NULL;
        } else {
            if (!st.h) {
                json_t *atv = json_object_get(o, "at");
                int64_t now = atv && json_is_integer(atv) ? json_integer_value(atv) : 0;
                long saved = lineno;
                lineno = 1;
                rc = load_hall(&st, first, now, msg);
                if (!rc)
                    lineno = saved;
            }
            if (!rc)
                rc = apply_line(&st, o, msg);
        }
        json_decref(o);
        if (rc)
            break;
    }
    if (!rc && !st.h && first) {
        lineno = 1;
        rc = load_hall(&st, first, 0, msg);
    }
    if (!rc && !first) {
        lineno = lineno ? lineno : 1;
        snprintf(msg, sizeof msg, "empty trace: line 1 must be {\"hall\": {…config…}}");
        rc = ANT_EBADREQ;
    }
    if (rc) {
        fprintf(err, "line %ld: %s: %s\n", lineno, ant_err_code(rc), msg);
    } else {
        svc_ids = calloc(st.cfg->nservices + 1, sizeof *svc_ids);
        for (int i = 0; svc_ids && i < st.cfg->nservices; i++)
            svc_ids[i] = (char *)st.cfg->services[i].id;
        if (svc_ids)
            write_tickets(&st, out, (const char *const *)svc_ids);
        rp_err e = {0}, naive = {0}, les = {0}, known = {0};
        for (size_t i = 0; i < st.n; i++) {
            const rp_ticket *t = &st.t[i];
            if (!t->called_at)
                continue;
            double truth = (t->called_at - t->issued_at) / 1000.0;
            err_add(&e, t->eta_s, truth);
            err_add(&naive, t->naive_s, truth);
            err_add(&les, t->les_s, truth);
            err_add(&known, t->known_s, truth);
        }
        fprintf(err, "tickets %zu called %zu\n", st.n, e.n);
        err_print(err, "antrean", &e);
        if (flags & BENCH_REPLAY_BASELINES) {
            err_print(err, "naive", &naive);
            err_print(err, "les", &les);
            err_print(err, "known_mu", &known);
        }
    }
    free(svc_ids);
    json_decref(first);
    free(line);
    for (size_t i = 0; i < st.n; i++)
        free(st.t[i].ref);
    free(st.t);
    free(st.slots);
    free(st.svc);
    free(st.cur);
    free(st.cur_called);
    eng_evbuf_free(&st.ev);
    eng_hall_free(st.h);
    return rc ? 1 : 0;
}

int bench_replay_main(int argc, char **argv)
{
    unsigned flags = 0;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--baselines") == 0)
            flags |= BENCH_REPLAY_BASELINES;
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: antrean-bench replay TRACE.jsonl [--baselines]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: antrean-bench replay TRACE.jsonl [--baselines]\n");
        return 2;
    }
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "antrean-bench replay: cannot open %s\n", path);
        return 2;
    }
    int rc = bench_replay_run(in, stdout, stderr, flags);
    if (in != stdin)
        fclose(in);
    return rc;
}
