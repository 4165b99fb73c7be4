/*
 * hist.c — bench_hist, see hist.h. Bucket i < 128 holds the value i; above,
 * with shift = msb(v) - 6, v >> shift is in [64, 128) and the bucket is
 * shift * 64 + (v >> shift), so buckets are contiguous and ordered.
 */
#include "hist.h"

#include <string.h>

#define SUB (1u << BENCH_HIST_SUB_BITS) /* 64 */

void bench_hist_reset(bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

unsigned bench_hist_index(uint64_t v)
{
    if (v < 2 * SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - BENCH_HIST_SUB_BITS;
    return shift * SUB + (unsigned)(v >> shift);
}

uint64_t bench_hist_bucket_lo(unsigned i)
{
    if (i < 2 * SUB)
        return i;
    unsigned shift = i / SUB - 1;
    uint64_t sub = i % SUB + SUB;
    return sub << shift;
}

uint64_t bench_hist_bucket_hi(unsigned i)
{
    if (i < 2 * SUB)
        return i;
    unsigned shift = i / SUB - 1;
    uint64_t sub = i % SUB + SUB;
    return ((sub + 1) << shift) - 1; /* the top bucket ends at UINT64_MAX without overflow */
}

void bench_hist_record_n(bench_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    h->b[bench_hist_index(v)] += n;
    h->count += n;
    h->sum += (double)v * (double)n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void bench_hist_record(bench_hist *h, uint64_t v)
{
    bench_hist_record_n(h, v, 1);
}

void bench_hist_merge(bench_hist *into, const bench_hist *from)
{
    if (from->count == 0)
        return;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t bench_hist_percentile(const bench_hist *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    /* the rank of the wanted value, 1-based: at least 1, at most count */
    uint64_t rank = (uint64_t)((pct / 100.0) * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bench_hist_bucket_hi(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double bench_hist_mean(const bench_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
