/*
 * test_hist.c — bench_hist (bench/hist.c): bucket layout, error bound,
 * percentiles against exact ranks, merge. antrean-bench is a program, not a
 * library, so the histogram's one source file is compiled in here.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/ant_test.h"

#include "../../../bench/hist.c"

Test(hist, small_values_are_exact)
{
    for (uint64_t v = 0; v < 128; v++) {
        cr_assert_eq(bench_hist_index(v), v);
        cr_assert_eq(bench_hist_bucket_lo((unsigned)v), v);
        cr_assert_eq(bench_hist_bucket_hi((unsigned)v), v);
    }
}

Test(hist, buckets_are_contiguous_and_bounded)
{
    for (unsigned i = 1; i < BENCH_HIST_BUCKETS; i++) {
        cr_assert_eq(bench_hist_bucket_lo(i), bench_hist_bucket_hi(i - 1) + 1, "bucket %u", i);
        cr_assert_eq(bench_hist_index(bench_hist_bucket_lo(i)), i);
        cr_assert_eq(bench_hist_index(bench_hist_bucket_hi(i)), i);
    }
    cr_assert_eq(bench_hist_index(UINT64_MAX), BENCH_HIST_BUCKETS - 1);
    cr_assert_eq(bench_hist_bucket_hi(BENCH_HIST_BUCKETS - 1), UINT64_MAX);
}

Test(hist, relative_error_under_one_64th)
{
    uint64_t v = 1;
    for (int k = 0; k < 2000; k++) {
        unsigned i = bench_hist_index(v);
        uint64_t lo = bench_hist_bucket_lo(i), hi = bench_hist_bucket_hi(i);
        cr_assert(lo <= v && v <= hi);
        cr_assert((double)(hi - lo) <= (double)v / 64.0 + 1e-9, "v %llu [%llu, %llu]",
                  (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
        v = v + v / 7 + 1;
        if (v > (UINT64_MAX >> 2))
            break;
    }
}

Test(hist, empty)
{
    bench_hist h;
    bench_hist_reset(&h);
    cr_assert_eq(bench_hist_percentile(&h, 50), 0);
    cr_assert_eq(h.count, 0);
    cr_assert_eq(bench_hist_mean(&h), 0.0);
}

Test(hist, percentiles_of_uniform_1_to_100000)
{
    static bench_hist h;
    bench_hist_reset(&h);
    for (uint64_t v = 1; v <= 100000; v++)
        bench_hist_record(&h, v);
    cr_assert_eq(h.count, 100000);
    cr_assert_eq(h.min, 1);
    cr_assert_eq(h.max, 100000);
    const double pcts[] = {50, 90, 99, 99.9};
    for (unsigned k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        double exact = pcts[k] * 1000.0;
        double got = (double)bench_hist_percentile(&h, pcts[k]);
        cr_assert(got >= exact && got <= exact * (1 + 1.0 / 64), "p%g: %g vs %g", pcts[k], got,
                  exact);
    }
    cr_assert_eq(bench_hist_percentile(&h, 100), 100000);
    cr_assert_eq(bench_hist_percentile(&h, 0), 1);
    cr_assert_float_eq(bench_hist_mean(&h), 50000.5, 1e-6);
}

Test(hist, one_outlier_is_the_max)
{
    static bench_hist h;
    bench_hist_reset(&h);
    bench_hist_record_n(&h, 100, 9999);
    bench_hist_record(&h, 5000000);
    cr_assert_eq(bench_hist_percentile(&h, 99), 100);
    cr_assert_eq(bench_hist_percentile(&h, 99.995), 5000000);
    cr_assert_eq(bench_hist_percentile(&h, 100), 5000000);
}

Test(hist, merge_equals_recording_together)
{
    static bench_hist a, b, all;
    bench_hist_reset(&a);
    bench_hist_reset(&b);
    bench_hist_reset(&all);
    srand(7);
    for (int i = 0; i < 50000; i++) {
        uint64_t v = (uint64_t)rand() % 1000000;
        bench_hist_record(i % 2 ? &a : &b, v);
        bench_hist_record(&all, v);
    }
    bench_hist_merge(&a, &b);
    cr_assert_eq(a.count, all.count);
    cr_assert_eq(a.min, all.min);
    cr_assert_eq(a.max, all.max);
    for (double p = 0; p <= 100; p += 0.5)
        cr_assert_eq(bench_hist_percentile(&a, p), bench_hist_percentile(&all, p));
}
