/* test_hist.c - np_hist_quantile over the kernel's log2 histograms. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "report/report.h"

#define B NP_HIST_BUCKETS

static uint64_t lo_of(int i)
{
	return i == 0 ? 0 : 1ull << i;
}

Test(hist, empty_histogram_gives_zero)
{
	__u64 h[B] = {0};

	cr_assert_eq(np_hist_quantile(h, B, 0.0, 0), 0);
	cr_assert_eq(np_hist_quantile(h, B, 0.5, 1000), 0);
	cr_assert_eq(np_hist_quantile(h, B, 1.0, 1000), 0);
	cr_assert_eq(np_hist_quantile(h, 0, 0.5, 1000), 0);
}

Test(hist, single_bucket_quantiles_stay_inside_the_bucket)
{
	for (int i = 1; i < B; i++) {
		__u64 h[B] = {0};
		uint64_t max = lo_of(i) + (lo_of(i) >> 1); /* inside bucket i */

		h[i] = 1000;
		for (int k = 0; k <= 100; k++) {
			uint64_t v = np_hist_quantile(h, B, k / 100.0, max);

			cr_assert_geq(v, lo_of(i), "bucket %d q=%d: %lu below the bucket", i, k,
				      (unsigned long)v);
			cr_assert_leq(v, max, "bucket %d q=%d: %lu above max", i, k,
				      (unsigned long)v);
		}
	}
}

Test(hist, bucket_zero_holds_zero_and_one_ns)
{
	__u64 h[B] = {0};

	h[0] = 7;
	cr_assert_leq(np_hist_quantile(h, B, 0.5, 1), 1);
	cr_assert_leq(np_hist_quantile(h, B, 1.0, 1), 1);
}

Test(hist, single_call_is_its_bucket_bounded_by_max)
{
	__u64 h[B] = {0};

	h[12] = 1; /* one call of 5000 ns */
	cr_assert_eq(np_hist_quantile(h, B, 0.5, 5000), 5000);
	cr_assert_eq(np_hist_quantile(h, B, 0.99, 5000), 5000);
}

Test(hist, p50_below_p99_for_a_spread_distribution)
{
	__u64 h[B] = {0};
	uint64_t max = 3u << 20;
	uint64_t p50, p90, p99;

	h[10] = 900; /* ~1-2 us */
	h[15] = 90;  /* ~32-64 us */
	h[21] = 10;  /* ~2-4 ms */
	p50 = np_hist_quantile(h, B, 0.50, max);
	p90 = np_hist_quantile(h, B, 0.90, max);
	p99 = np_hist_quantile(h, B, 0.99, max);
	cr_assert_geq(p50, 1u << 10);
	cr_assert_leq(p50, 1u << 11);
	cr_assert_lt(p50, p99, "p50 %lu p99 %lu", (unsigned long)p50, (unsigned long)p99);
	cr_assert_leq(p90, p99);
	cr_assert_geq(p99, 1u << 15);
	cr_assert_leq(p99, 1u << 16);
	cr_assert_geq(np_hist_quantile(h, B, 0.999, max), 1u << 21);
}

Test(hist, quantiles_never_decrease_with_q)
{
	__u64 h[B] = {0};
	uint64_t prev = 0;

	h[3] = 5;
	h[9] = 50;
	h[10] = 500;
	h[17] = 3;
	h[30] = 1;
	for (int k = 0; k <= 1000; k++) {
		uint64_t v = np_hist_quantile(h, B, k / 1000.0, (1ull << 30) + 12345);

		cr_assert_geq(v, prev, "q=%d/1000 went down: %lu < %lu", k, (unsigned long)v,
			      (unsigned long)prev);
		prev = v;
	}
}

Test(hist, never_above_max_ns)
{
	__u64 h[B] = {0};
	uint64_t max = (1ull << 20) + 1;

	h[5] = 10;
	h[20] = 10; /* max is just past the bucket's start */
	for (int k = 0; k <= 100; k++)
		cr_assert_leq(np_hist_quantile(h, B, k / 100.0, max), max);
	cr_assert_eq(np_hist_quantile(h, B, 1.0, max), max);
}

Test(hist, top_bucket_is_handled)
{
	__u64 h[B] = {0};
	uint64_t max = (1ull << (B - 1)) + 99;

	h[B - 1] = 2;
	cr_assert_geq(np_hist_quantile(h, B, 0.5, max), 1ull << (B - 1));
	cr_assert_leq(np_hist_quantile(h, B, 1.0, max), max);
}

Test(hist, q_is_clamped_to_zero_and_one)
{
	__u64 h[B] = {0};
	uint64_t max = 1u << 25;

	h[4] = 3;
	h[8] = 3;
	h[24] = 3;
	cr_assert_eq(np_hist_quantile(h, B, -0.5, max), np_hist_quantile(h, B, 0.0, max));
	cr_assert_eq(np_hist_quantile(h, B, -INFINITY, max), np_hist_quantile(h, B, 0.0, max));
	cr_assert_eq(np_hist_quantile(h, B, 1.5, max), np_hist_quantile(h, B, 1.0, max));
	cr_assert_eq(np_hist_quantile(h, B, INFINITY, max), np_hist_quantile(h, B, 1.0, max));
	cr_assert_leq(np_hist_quantile(h, B, 0.0, max), 1u << 5);
	cr_assert_eq(np_hist_quantile(h, B, 1.0, max), max);
}

/* Counts come from a recording, which may be crafted: they must not wrap
 * the running total and move the quantile into the wrong bucket. */
Test(hist, huge_counts_do_not_overflow)
{
	__u64 h[B] = {0};
	uint64_t max = (1ull << 31) - 1;
	uint64_t p01, p50, p99;

	h[10] = UINT64_MAX / 2;
	h[20] = UINT64_MAX / 2;
	h[30] = UINT64_MAX / 2;
	p01 = np_hist_quantile(h, B, 0.01, max);
	p50 = np_hist_quantile(h, B, 0.50, max);
	p99 = np_hist_quantile(h, B, 0.99, max);
	cr_assert(p01 >= 1u << 10 && p01 < 1u << 11, "p1 %lu not in bucket 10", (unsigned long)p01);
	cr_assert(p50 >= 1u << 20 && p50 <= 1u << 21, "p50 %lu not in bucket 20 (of 10, 20, 30)",
		  (unsigned long)p50);
	cr_assert(p99 >= 1u << 30 && p99 <= max, "p99 %lu not in bucket 30", (unsigned long)p99);
}

Test(hist, one_huge_bucket_is_fine)
{
	__u64 h[B] = {0};

	h[7] = UINT64_MAX;
	cr_assert_geq(np_hist_quantile(h, B, 0.5, 200), 128);
	cr_assert_leq(np_hist_quantile(h, B, 0.5, 200), 200);
}
