/*
 * report.c — day records and reports over date ranges (report.h, SPEC §14).
 *
 * A day record is little-endian and positional:
 *   "ADR1", i32 day, u32 ntickets, u16 nagencies, u16 nservices, u16 ncounters, u16 0,
 *   agencies  × (u8 len, id),
 *   services  × (u8 len, id, u16 agency index or 0xffff, u32 sla_wait_s),
 *   counters  × (u8 len, id),
 *   tickets   × 20 bytes: u16 service, u16 counter (0xffff none), u8 issue hour,
 *               u8 state, u8 flags, u8 score, u32 SKM answers (2 bits each,
 *               answer − 1), u32 wait s, u32 service s.
 * Everything is read with bounds checks: a stored record is input like any
 * other. 5,000 tickets make ~100 KB a day; a year of a big hall is ~36 MB,
 * added up in one pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hall_priv.h"
#include "report.h"

#define DR_MAGIC "ADR1"
#define DR_TK 20
#define DR_NONE 0xffff

enum dr_flag {
    DR_CALLED = 1,
    DR_WITHIN_SLA = 2,
    DR_PRIO = 4,
    DR_APPOINTMENT = 8, /* reserved for booked tickets (SPEC §11) */
    DR_SKM = 16,
    DR_SVC_TIME = 32,
};

/* ---- writing ---------------------------------------------------------------- */

static int put(codec_buf *b, const void *p, size_t n)
{
    return codec_buf_append(b, p, n);
}
static int put_u8(codec_buf *b, uint8_t v)
{
    return put(b, &v, 1);
}
static int put_u16(codec_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return put(b, x, 2);
}
static int put_u32(codec_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put(b, x, 4);
}
static int put_id(codec_buf *b, const char *id)
{
    size_t n = strlen(id);
    return put_u8(b, (uint8_t)n) || put(b, id, n);
}

static uint32_t secs(int64_t from_ms, int64_t to_ms)
{
    if (from_ms <= 0 || to_ms < from_ms)
        return 0;
    int64_t s = (to_ms - from_ms) / 1000;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

int eng_dayrec_today(const eng_hall *h, codec_buf *out)
{
    const eng_config *cfg = h->cfg;
    int rc = put(out, DR_MAGIC, 4) || put_u32(out, (uint32_t)h->day) || put_u32(out, h->nall) ||
             put_u16(out, cfg->nagencies) || put_u16(out, h->nsvc) || put_u16(out, h->nctr) ||
             put_u16(out, 0);
    for (uint16_t i = 0; i < cfg->nagencies && !rc; i++)
        rc = put_id(out, cfg->agencies[i].id);
    for (uint16_t i = 0; i < h->nsvc && !rc; i++) {
        int ci = eng_config_service(cfg, h->svc[i].id); /* a ghost service has left the config */
        rc = put_id(out, h->svc[i].id) ||
             put_u16(out, ci >= 0 ? cfg->services[ci].agency : DR_NONE) ||
             put_u32(out, h->svc[i].sla_wait_s);
    }
    for (uint16_t i = 0; i < h->nctr && !rc; i++)
        rc = put_id(out, h->ctr[i].id);
    int64_t off_ms = (int64_t)cfg->utc_offset_min * 60000;
    for (uint32_t i = 0; i < h->nall && !rc; i++) {
        const struct eng_ticket *t = h->all[i];
        int64_t local = t->issued_at + off_ms;
        int64_t ms_of_day = ((local % 86400000) + 86400000) % 86400000;
        uint8_t flags = 0;
        uint32_t wait = 0, svc = 0, skm = 0;
        if (t->called_at > 0) {
            flags |= DR_CALLED;
            wait = secs(t->enqueued_at ? t->enqueued_at : t->issued_at, t->called_at);
            if (t->service < h->nsvc && wait <= h->svc[t->service].sla_wait_s)
                flags |= DR_WITHIN_SLA;
        }
        if (t->prio != ENG_PRIO_NONE)
            flags |= DR_PRIO;
        if (t->state == ENG_ST_DONE && t->started_at > 0 && t->finished_at >= t->started_at) {
            flags |= DR_SVC_TIME;
            svc = secs(t->started_at, t->finished_at);
        }
        if (t->x && t->x->skm[0]) {
            flags |= DR_SKM;
            for (int k = 0; k < ENG_SKM_N; k++)
                skm |= (uint32_t)((t->x->skm[k] - 1) & 3) << (2 * k);
        }
        rc = put_u16(out, t->service) || put_u16(out, t->counter) ||
             put_u8(out, (uint8_t)(ms_of_day / 3600000)) || put_u8(out, t->state) ||
             put_u8(out, flags) || put_u8(out, t->score) || put_u32(out, skm) ||
             put_u32(out, wait) || put_u32(out, svc);
    }
    return rc ? ANT_ENOMEM : 0;
}

int eng_dayrec_last_closed(const eng_hall *h, const void **rec, size_t *len)
{
    if (!h->last_rec)
        return ANT_ENOTFOUND;
    *rec = h->last_rec;
    *len = h->last_rec_len;
    return 0;
}

void report_close_day(eng_hall *h)
{
    free(h->last_rec);
    h->last_rec = NULL;
    h->last_rec_len = 0;
    codec_buf b;
    codec_buf_init(&b);
    if (eng_dayrec_today(h, &b) == 0 && b.len) { /* out of memory: no record, not half a one */
        h->last_rec = b.data;
        h->last_rec_len = b.len;
    } else {
        codec_buf_free(&b);
    }
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static bool get(rd *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}
static bool get_u16(rd *r, uint16_t *v)
{
    uint8_t x[2];
    if (!get(r, x, 2))
        return false;
    *v = (uint16_t)(x[0] | x[1] << 8);
    return true;
}
static uint32_t le32(const uint8_t *x)
{
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}
static bool get_u32(rd *r, uint32_t *v)
{
    uint8_t x[4];
    if (!get(r, x, 4))
        return false;
    *v = le32(x);
    return true;
}
static bool get_id(rd *r, char out[ENG_ID_MAX + 1])
{
    uint8_t n;
    if (!get(r, &n, 1) || n == 0 || n > ENG_ID_MAX || !get(r, out, n))
        return false;
    out[n] = '\0';
    return true;
}

int eng_dayrec_day(const void *rec, size_t len, int32_t *day)
{
    const uint8_t *p = rec;
    if (len < 20 || memcmp(p, DR_MAGIC, 4) != 0)
        return ANT_EBADREQ;
    *day = (int32_t)le32(p + 4);
    return 0;
}

/* ---- aggregation ---------------------------------------------------------- */

/* Histogram buckets: 1 s to 1 h, 10 s to 4 h, 1 min to 24 h, then one overflow. */
#define HB_1 3600
#define HB_2 (HB_1 + (14400 - 3600) / 10)
#define HB_3 (HB_2 + (86400 - 14400) / 60)
#define HB_N (HB_3 + 1)

static uint32_t hb_of(uint32_t s)
{
    return s < 3600    ? s
           : s < 14400 ? HB_1 + (s - 3600) / 10
           : s < 86400 ? HB_2 + (s - 14400) / 60
                       : HB_3;
}
static uint32_t hb_low(uint32_t b)
{
    return b < HB_1   ? b
           : b < HB_2 ? 3600 + (b - HB_1) * 10
           : b < HB_3 ? 14400 + (b - HB_2) * 60
                      : 86400;
}

typedef struct grp {
    eng_report_row row;
    uint32_t *hw, *hs; /* owned histograms (HB_N), NULL until a sample comes */
    uint32_t nw, ns;
    uint64_t sum9, el_sum[ENG_SKM_N];
    uint32_t within;
} grp;

struct eng_report {
    int by;
    grp *g;
    size_t n, cap;
    grp total;
    eng_report_row *rows; /* owned, built by eng_report_rows */
};

int eng_report_by_from_name(const char *s)
{
    static const char *const names[] = {"service", "agency", "counter", "day", "hour"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

eng_report *eng_report_new(int by)
{
    eng_report *r = calloc(1, sizeof *r);
    if (r)
        r->by = by;
    return r;
}

static void grp_free(grp *g)
{
    free(g->hw);
    free(g->hs);
}

void eng_report_free(eng_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        grp_free(&r->g[i]);
    grp_free(&r->total);
    free(r->g);
    free(r->rows);
    free(r);
}

/* The group with this key, created when new; NULL on ENOMEM. */
static grp *group(eng_report *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->g[i].row.key, key) == 0)
            return &r->g[i];
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        grp *ng = realloc(r->g, nc * sizeof *ng);
        if (!ng)
            return NULL;
        r->g = ng;
        r->cap = nc;
    }
    grp *g = &r->g[r->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->row.key, sizeof g->row.key, "%s", key);
    return g;
}

static int hist_add(uint32_t **h, uint32_t s)
{
    if (!*h && !(*h = calloc(HB_N, sizeof **h)))
        return ANT_ENOMEM;
    (*h)[hb_of(s)]++;
    return 0;
}

static int grp_add(grp *g, const uint8_t *t)
{
    uint8_t state = t[5], flags = t[6], score = t[7];
    eng_report_row *w = &g->row;
    w->issued++;
    switch (state) {
    case ENG_ST_DONE:
        w->served++;
        break;
    case ENG_ST_NO_SHOW:
        w->no_show++;
        break;
    case ENG_ST_CANCELLED:
        w->cancelled++;
        break;
    case ENG_ST_EXPIRED:
        w->expired++;
        break;
    default: /* still open: today's */
        break;
    }
    if (flags & DR_APPOINTMENT)
        w->appointments++;
    if (flags & DR_CALLED) {
        w->called++;
        g->nw++;
        if (flags & DR_WITHIN_SLA)
            g->within++;
        if (hist_add(&g->hw, le32(t + 12)))
            return ANT_ENOMEM;
    }
    if (flags & DR_SVC_TIME) {
        g->ns++;
        if (hist_add(&g->hs, le32(t + 16)))
            return ANT_ENOMEM;
    }
    if (score >= 1 && score <= 4) {
        w->skm_count++;
        if (flags & DR_SKM) {
            uint32_t skm = le32(t + 8);
            w->skm_el_count++;
            for (int k = 0; k < ENG_SKM_N; k++) {
                uint32_t a = ((skm >> (2 * k)) & 3) + 1;
                g->el_sum[k] += a;
                g->sum9 += a;
            }
        } else {
            g->sum9 += 9u * score;
        }
    }
    return 0;
}

int eng_report_add(eng_report *r, const void *rec, size_t len, char msg[200])
{
    rd in = {rec, (const uint8_t *)rec + len};
    char magic[4];
    uint32_t day, ntk;
    uint16_t nag, nsvc, nctr, pad;
    if (!get(&in, magic, 4) || memcmp(magic, DR_MAGIC, 4) != 0 || !get_u32(&in, &day) ||
        !get_u32(&in, &ntk) || !get_u16(&in, &nag) || !get_u16(&in, &nsvc) ||
        !get_u16(&in, &nctr) || !get_u16(&in, &pad)) {
        snprintf(msg, 200, "day record: bad header");
        return ANT_EBADREQ;
    }
    if (nag > ENG_MAX_AGENCIES) {
        snprintf(msg, 200, "day record: too many agencies");
        return ANT_EBADREQ;
    }
    /* each index of the day → its group (or NULL when grouping by day or hour) */
    grp **gs = calloc((size_t)nsvc + nctr + 1, sizeof *gs);
    uint32_t *sla = calloc((size_t)nsvc + 1, sizeof *sla);
    char(*ag)[ENG_ID_MAX + 1] = calloc((size_t)nag + 1, sizeof *ag);
    int rc = gs && sla && ag ? 0 : ANT_ENOMEM;
    for (uint16_t i = 0; i < nag && !rc; i++)
        if (!get_id(&in, ag[i]))
            rc = ANT_EBADREQ;
    for (uint16_t i = 0; i < nsvc && !rc; i++) {
        char id[ENG_ID_MAX + 1];
        uint16_t a;
        if (!get_id(&in, id) || !get_u16(&in, &a) || !get_u32(&in, &sla[i]) ||
            (a != DR_NONE && a >= nag)) {
            rc = ANT_EBADREQ;
        } else if (r->by == ENG_BY_SERVICE || r->by == ENG_BY_AGENCY) {
            const char *key = r->by == ENG_BY_SERVICE ? id : a == DR_NONE ? "-" : ag[a];
            if (!(gs[i] = group(r, key)))
                rc = ANT_ENOMEM;
        }
    }
    for (uint16_t i = 0; i < nctr && !rc; i++) {
        char id[ENG_ID_MAX + 1];
        if (!get_id(&in, id))
            rc = ANT_EBADREQ;
        else if (r->by == ENG_BY_COUNTER && !(gs[nsvc + i] = group(r, id)))
            rc = ANT_ENOMEM;
    }
    grp *none = NULL, *dayg = NULL, *hours[24] = {0};
    if (!rc && (size_t)(in.end - in.p) != (size_t)ntk * DR_TK)
        rc = ANT_EBADREQ;
    if (!rc && r->by == ENG_BY_COUNTER && !(none = group(r, "-")))
        rc = ANT_ENOMEM;
    if (!rc && r->by == ENG_BY_DAY) {
        char d[16];
        eng_format_date((int32_t)day, d);
        if (!(dayg = group(r, d)))
            rc = ANT_ENOMEM;
    }
    for (uint32_t k = 0; k < ntk && !rc; k++) {
        const uint8_t *t = in.p + (size_t)k * DR_TK;
        uint16_t si = (uint16_t)(t[0] | t[1] << 8), ci = (uint16_t)(t[2] | t[3] << 8);
        uint8_t hour = t[4];
        if (si >= nsvc || (ci != DR_NONE && ci >= nctr) || hour > 23) {
            rc = ANT_EBADREQ;
            break;
        }
        grp *g = NULL;
        switch (r->by) {
        case ENG_BY_SERVICE:
        case ENG_BY_AGENCY:
            g = gs[si];
            break;
        case ENG_BY_COUNTER:
            g = ci == DR_NONE ? none : gs[nsvc + ci];
            break;
        case ENG_BY_DAY:
            g = dayg;
            break;
        default: {
            if (!hours[hour]) {
                char hk[4];
                snprintf(hk, sizeof hk, "%02u", hour);
                if (!(hours[hour] = group(r, hk))) {
                    rc = ANT_ENOMEM;
                    break;
                }
            }
            g = hours[hour];
        }
        }
        if (!rc)
            rc = grp_add(g, t);
        if (!rc)
            rc = grp_add(&r->total, t);
    }
    if (rc == ANT_EBADREQ)
        snprintf(msg, 200, "day record of day %d: malformed", (int)day);
    else if (rc)
        snprintf(msg, 200, "out of memory");
    free(gs);
    free(sla);
    free(ag);
    return rc;
}

char eng_ikm_grade(double ikm)
{
    /* the bands of PermenPANRB 14/2017, compared at two decimals as published */
    double x = round(ikm * 100) / 100;
    return x >= 88.31 ? 'A' : x >= 76.61 ? 'B' : x >= 65.00 ? 'C' : 'D';
}

static uint32_t pct(const uint32_t *h, uint32_t n, double p)
{
    if (!h || !n)
        return 0;
    uint64_t rank = (uint64_t)ceil(p * n);
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    for (uint32_t b = 0; b < HB_N; b++) {
        cum += h[b];
        if (cum >= rank)
            return hb_low(b);
    }
    return hb_low(HB_N - 1);
}

static void finish(grp *g)
{
    eng_report_row *w = &g->row;
    w->wait_p50_s = pct(g->hw, g->nw, 0.5);
    w->wait_p90_s = pct(g->hw, g->nw, 0.9);
    w->service_p50_s = pct(g->hs, g->ns, 0.5);
    w->within_sla = g->nw ? (double)g->within / g->nw : 0;
    w->ikm = w->skm_count ? (double)g->sum9 / (9.0 * w->skm_count) * 25 : 0;
    for (int k = 0; k < ENG_SKM_N; k++)
        w->ikm_el[k] = w->skm_el_count ? (double)g->el_sum[k] / w->skm_el_count * 25 : 0;
    w->grade = w->skm_count ? eng_ikm_grade(w->ikm) : 0;
}

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const eng_report_row *)a)->key, ((const eng_report_row *)b)->key);
}

int eng_report_rows(eng_report *r, const eng_report_row **rows, size_t *n, eng_report_row *total)
{
    free(r->rows);
    r->rows = malloc((r->n ? r->n : 1) * sizeof *r->rows);
    if (!r->rows)
        return ANT_ENOMEM;
    for (size_t i = 0; i < r->n; i++) {
        finish(&r->g[i]);
        r->rows[i] = r->g[i].row;
    }
    if (r->by == ENG_BY_DAY || r->by == ENG_BY_HOUR) /* YYYY-MM-DD and HH sort as text */
        qsort(r->rows, r->n, sizeof *r->rows, row_cmp);
    finish(&r->total);
    *total = r->total.row;
    snprintf(total->key, sizeof total->key, "total");
    *rows = r->rows;
    *n = r->n;
    return 0;
}
