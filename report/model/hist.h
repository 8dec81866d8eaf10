/* hist.h - quantiles from the kernel's latency histograms (hist.c). */
#ifndef NP_HIST_H
#define NP_HIST_H

#include <stdint.h>

#include "bpf/netprof.h"

/* Estimated q-quantile (0..1) in ns of a log2 histogram (bucket i holds
 * 2^i <= ns < 2^(i+1)), interpolated linearly inside the bucket and never
 * above max_ns.  0 for an empty histogram. */
uint64_t np_hist_quantile(const __u64 *hist, int buckets, double q, uint64_t max_ns);
/* The same over a log-linear exchange histogram (NP_XH_BUCKETS buckets,
 * bpf/exchange.h), whose buckets are at most 1/8 of their value wide. */
uint64_t np_xh_quantile(const uint64_t *hist, double q, uint64_t max_ns);

#endif /* NP_HIST_H */
