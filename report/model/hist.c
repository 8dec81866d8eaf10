/* hist.c - quantiles from the kernel's log2 latency histograms. */
#include "bpf/exchange.h"
#include "report/model/hist.h"

uint64_t np_hist_quantile(const __u64 *hist, int buckets, double q, uint64_t max_ns)
{
	/* 128-bit sums: crafted counts must not wrap into the wrong bucket. */
	unsigned __int128 total = 0, seen = 0;
	double rank;

	for (int i = 0; i < buckets; i++)
		total += hist[i];
	if (!total)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The rank-th smallest call, 1-based, as in nearest-rank percentiles. */
	rank = q * (double)total;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < buckets; i++) {
		double lo, hi, v;

		if (!hist[i])
			continue;
		if ((double)(seen + hist[i]) < rank) {
			seen += hist[i];
			continue;
		}
		lo = i == 0 ? 0.0 : (double)(1ull << i);
		hi = i >= 63 ? 18446744073709551615.0 : (double)(1ull << (i + 1));
		v = lo + (hi - lo) * ((rank - (double)seen) / (double)hist[i]);
		if (max_ns && v > (double)max_ns)
			v = (double)max_ns;
		return (uint64_t)v;
	}
	return max_ns;
}

uint64_t np_xh_quantile(const uint64_t *hist, double q, uint64_t max_ns)
{
	unsigned __int128 total = 0, seen = 0;
	double rank;

	for (uint32_t i = 0; i < NP_XH_BUCKETS; i++)
		total += hist[i];
	if (!total)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	if (rank < 1)
		rank = 1;
	for (uint32_t i = 0; i < NP_XH_BUCKETS; i++) {
		double lo, hi, v;

		if (!hist[i])
			continue;
		if ((double)(seen + hist[i]) < rank) {
			seen += hist[i];
			continue;
		}
		lo = (double)np_xh_lower(i);
		/* the last bucket is open-ended: its upper end is the maximum */
		hi = i + 1 < NP_XH_BUCKETS ? (double)np_xh_lower(i + 1)
					   : (max_ns > lo ? (double)max_ns : lo);
		v = lo + (hi - lo) * ((rank - (double)seen) / (double)hist[i]);
		if (max_ns && v > (double)max_ns)
			v = (double)max_ns;
		return (uint64_t)v;
	}
	return max_ns;
}
