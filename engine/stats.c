/*
 * stats.c — day statistics per service and per counter (SPEC §4 stats):
 * counts, wait percentiles (nearest rank), mean service time, share called
 * within the service's SLA, and the SKM satisfaction score and index.
 */
#include <stdlib.h>
#include <string.h>

#include "hall_priv.h"

void acc_add_wait(eng_acc *a, uint32_t wait_s)
{
    if (a->waits.n == a->waits.cap) {
        uint32_t ncap = a->waits.cap ? a->waits.cap * 2 : 32;
        uint32_t *nv = realloc(a->waits.v, ncap * sizeof *nv);
        if (!nv)
            return; /* a lost sample only blurs a percentile */
        a->waits.v = nv;
        a->waits.cap = ncap;
    }
    a->waits.v[a->waits.n++] = wait_s;
}

void acc_free(eng_acc *a)
{
    free(a->waits.v);
    memset(a, 0, sizeof *a);
}

int acc_copy(eng_acc *dst, const eng_acc *src)
{
    *dst = *src;
    dst->waits.v = NULL;
    dst->waits.cap = 0;
    if (src->waits.n) {
        dst->waits.v = malloc(src->waits.n * sizeof *dst->waits.v);
        if (!dst->waits.v) {
            dst->waits.n = 0;
            return ANT_ENOMEM;
        }
        memcpy(dst->waits.v, src->waits.v, src->waits.n * sizeof *dst->waits.v);
        dst->waits.cap = src->waits.n;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted v */
static uint32_t pct(const uint32_t *v, uint32_t n, unsigned p)
{
    if (!n)
        return 0;
    uint32_t rank = (uint32_t)(((uint64_t)p * n + 99) / 100);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void row_from_acc(eng_stat_row *r, const char *id, const eng_acc *a)
{
    memset(r, 0, sizeof *r);
    strncpy(r->id, id, ENG_ID_MAX);
    r->issued = a->issued;
    r->served = a->served;
    r->no_show = a->no_show;
    r->cancelled = a->cancelled;
    r->expired = a->expired;
    if (a->waits.n) {
        uint32_t *v = malloc(a->waits.n * sizeof *v);
        if (v) {
            memcpy(v, a->waits.v, a->waits.n * sizeof *v);
            qsort(v, a->waits.n, sizeof *v, cmp_u32);
            r->wait_p50_s = pct(v, a->waits.n, 50);
            r->wait_p90_s = pct(v, a->waits.n, 90);
            r->wait_max_s = v[a->waits.n - 1];
            free(v);
        }
    }
    r->service_mean_s = a->service_n ? (uint32_t)(a->service_s_sum / a->service_n) : 0;
    r->within_sla = a->called ? (double)a->within_sla / a->called : 0;
    r->skm_count = a->skm_n;
    /* sum9: a survey counts with its exact mean, not the rounded score */
    r->skm_score = a->skm_n ? (double)a->skm_sum9 / (9.0 * a->skm_n) : 0;
    r->skm_index = r->skm_score * 25;
}

int eng_stats_today(const eng_hall *h, eng_day_stats *out)
{
    memset(out, 0, sizeof *out);
    out->day = h->day;
    out->services = calloc(h->nsvc ? h->nsvc : 1, sizeof *out->services);
    out->counters = calloc(h->nctr ? h->nctr : 1, sizeof *out->counters);
    if (!out->services || !out->counters) {
        eng_day_stats_free(out);
        return ANT_ENOMEM;
    }
    for (uint16_t i = 0; i < h->nsvc; i++)
        row_from_acc(&out->services[i], h->svc[i].id, &h->svc[i].acc);
    for (uint16_t i = 0; i < h->nctr; i++)
        row_from_acc(&out->counters[i], h->ctr[i].id, &h->ctr[i].acc);
    out->nservices = h->nsvc;
    out->ncounters = h->nctr;
    appt_stats(h, out);
    return 0;
}

static int stats_copy(const eng_day_stats *src, eng_day_stats *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->day = src->day;
    dst->services = calloc(src->nservices ? src->nservices : 1, sizeof *dst->services);
    dst->counters = calloc(src->ncounters ? src->ncounters : 1, sizeof *dst->counters);
    if (!dst->services || !dst->counters) {
        eng_day_stats_free(dst);
        return ANT_ENOMEM;
    }
    if (src->nservices)
        memcpy(dst->services, src->services, src->nservices * sizeof *dst->services);
    if (src->ncounters)
        memcpy(dst->counters, src->counters, src->ncounters * sizeof *dst->counters);
    dst->nservices = src->nservices;
    dst->ncounters = src->ncounters;
    return 0;
}

int eng_stats_last_closed(const eng_hall *h, eng_day_stats *out)
{
    return stats_copy(&h->last_closed, out);
}

void eng_day_stats_free(eng_day_stats *s)
{
    free(s->services);
    free(s->counters);
    s->services = s->counters = NULL;
    s->nservices = s->ncounters = 0;
}

void stats_close_day(eng_hall *h)
{
    eng_day_stats_free(&h->last_closed);
    if (eng_stats_today(h, &h->last_closed) != 0)
        memset(&h->last_closed, 0, sizeof h->last_closed);
}

void stats_reset_today(eng_hall *h)
{
    for (uint16_t i = 0; i < h->nsvc; i++)
        acc_free(&h->svc[i].acc);
    for (uint16_t i = 0; i < h->nctr; i++)
        acc_free(&h->ctr[i].acc);
}
