/* bits.bpf.h - bit arithmetic every BPF program needs, once (as
 * libbpf-tools' bits.bpf.h): the log2 that picks a latency histogram's
 * bucket.
 *
 * Plain C over the kernel's fixed-width types, so that user space can
 * include it too: the exchange histogram's bucket arithmetic (exchange.h) is
 * shared code, and the report reads buckets back with the same log2.
 */
#ifndef NP_BITS_BPF_H
#define NP_BITS_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* floor(log2(v)), and 0 for v = 0 (so 0 and 1 share bucket 0): a fixed
 * five-step binary search, no loop for the verifier to bound. */
static inline __attribute__((always_inline)) __u32 np_log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

#endif /* NP_BITS_BPF_H */
