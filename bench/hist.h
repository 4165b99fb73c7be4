/*
 * hist.h — bench_hist: an HDR-style log-linear histogram of non-negative
 * integers (antrean-bench records microseconds).
 *
 * Values below 128 have their own bucket; above, every power of two is split
 * into 64 linear sub-buckets, so a reported value is within 1/64 (1.6 %) of
 * the true one, from 0 to 2^63, in a fixed 30 KiB array: no malloc, record
 * is a few instructions and never fails. Percentiles report the highest
 * value of the bucket they fall in (as HdrHistogram does), clamped to the
 * largest value recorded, so p100 is the exact maximum.
 *
 * Not thread-safe: one histogram per thread, merged at the end.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 6 /* 64 sub-buckets per power of two */
#define BENCH_HIST_BUCKETS                                                                         \
    ((64 - BENCH_HIST_SUB_BITS) * (1 << BENCH_HIST_SUB_BITS) + (1 << BENCH_HIST_SUB_BITS))

typedef struct bench_hist {
    uint64_t count, min, max;
    double sum;
    uint64_t b[BENCH_HIST_BUCKETS];
} bench_hist;

void bench_hist_reset(bench_hist *h);
void bench_hist_record(bench_hist *h, uint64_t v);
void bench_hist_record_n(bench_hist *h, uint64_t v, uint64_t n);
void bench_hist_merge(bench_hist *into, const bench_hist *from); /* both caller-owned */
/* The value at or below which pct percent (0..100) of the recorded values are; 0 when empty. */
uint64_t bench_hist_percentile(const bench_hist *h, double pct);
double bench_hist_mean(const bench_hist *h);
/* The bucket index of v, and the lowest / highest value of bucket i (for tests). */
unsigned bench_hist_index(uint64_t v);
uint64_t bench_hist_bucket_lo(unsigned i);
uint64_t bench_hist_bucket_hi(unsigned i);

#endif /* BENCH_HIST_H */
