/* test_xhist.c - the exchange histograms: the kernel's bucket function
 * (bpf/exchange.h, shared code) and the report's quantiles over it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exchange.h"
#include "report/report.h"

Test(xhist, small_values_have_a_bucket_each)
{
	for (uint64_t v = 0; v < 8; v++) {
		cr_assert_eq(np_xh_bucket(v), v);
		cr_assert_eq(np_xh_lower((uint32_t)v), v);
	}
	cr_assert_eq(np_xh_bucket(8), 8);
	cr_assert_eq(np_xh_bucket(15), 15);
	cr_assert_eq(np_xh_bucket(16), 16);
}

Test(xhist, every_value_lies_inside_its_bucket)
{
	uint64_t v = 1;

	for (int i = 0; i < 4000; i++) {
		uint32_t b = np_xh_bucket(v);

		cr_assert_lt(b, NP_XH_BUCKETS);
		cr_assert_leq(np_xh_lower(b), v, "v=%lu b=%u", (unsigned long)v, b);
		if (b + 1 < NP_XH_BUCKETS)
			cr_assert_lt(v, np_xh_lower(b + 1), "v=%lu b=%u", (unsigned long)v, b);
		v = v + v / 97 + 1;
		if (v > (1ull << 41))
			break;
	}
}

Test(xhist, buckets_are_at_most_an_eighth_wide)
{
	for (uint32_t b = 8; b + 1 < NP_XH_BUCKETS; b++) {
		uint64_t lo = np_xh_lower(b), hi = np_xh_lower(b + 1);

		cr_assert_gt(hi, lo);
		cr_assert_leq((hi - lo) * 8, lo, "bucket %u: [%lu, %lu)", b, (unsigned long)lo,
			      (unsigned long)hi);
	}
}

Test(xhist, huge_values_go_to_the_last_bucket)
{
	cr_assert_eq(np_xh_bucket(UINT64_MAX), NP_XH_BUCKETS - 1);
	cr_assert_eq(np_xh_bucket(1ull << 50), NP_XH_BUCKETS - 1);
}

Test(xhist, quantiles_of_a_uniform_spread)
{
	uint64_t hist[NP_XH_BUCKETS] = {0};
	uint64_t p50, p99;

	/* 1..100 ms in steps of 10 us */
	for (uint64_t ns = 10000; ns <= 100000000; ns += 10000)
		hist[np_xh_bucket(ns)]++;
	p50 = np_xh_quantile(hist, 0.50, 100000000);
	p99 = np_xh_quantile(hist, 0.99, 100000000);
	cr_assert(p50 > 50000000 * 0.94 && p50 < 50000000 * 1.06, "p50 %lu", (unsigned long)p50);
	cr_assert(p99 > 99000000 * 0.94 && p99 <= 100000000, "p99 %lu", (unsigned long)p99);
	cr_assert_eq(np_xh_quantile(hist, 1.0, 100000000), 100000000);
}

Test(xhist, empty_and_single_value)
{
	uint64_t hist[NP_XH_BUCKETS] = {0};

	cr_assert_eq(np_xh_quantile(hist, 0.5, 0), 0);
	hist[np_xh_bucket(20000000)] = 5;
	for (int k = 0; k <= 10; k++) {
		uint64_t q = np_xh_quantile(hist, k / 10.0, 20000000);

		cr_assert(q >= np_xh_lower(np_xh_bucket(20000000)) && q <= 20000000, "%lu",
			  (unsigned long)q);
	}
	/* the open last bucket is bounded by the maximum given */
	memset(hist, 0, sizeof(hist));
	hist[NP_XH_BUCKETS - 1] = 3;
	cr_assert_leq(np_xh_quantile(hist, 0.99, 1ull << 50), 1ull << 50);
}
