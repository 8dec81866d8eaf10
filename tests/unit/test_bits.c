/* test_bits.c - bpf/bits.bpf.h, the one log2 of the BPF programs (syscall
 * and softirq histograms, exchange buckets), compiled here as user space. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "bpf/bits.bpf.h"

Test(bits, log2_of_zero_and_one_is_zero)
{
	cr_assert_eq(np_log2_u64(0), 0);
	cr_assert_eq(np_log2_u64(1), 0);
}

Test(bits, log2_is_the_floor_at_every_power_of_two_and_around_it)
{
	for (unsigned i = 1; i < 64; i++) {
		uint64_t p = 1ull << i;

		cr_assert_eq(np_log2_u64(p), i, "2^%u", i);
		cr_assert_eq(np_log2_u64(p - 1), i - 1, "2^%u - 1", i);
		cr_assert_eq(np_log2_u64(p + 1), i == 0 ? 1 : i, "2^%u + 1", i);
	}
	cr_assert_eq(np_log2_u64(UINT64_MAX), 63);
}

Test(bits, log2_matches_the_count_of_leading_zeros)
{
	uint64_t v = 1;

	for (int i = 0; i < 5000; i++, v = v * 3 + 7)
		if (v)
			cr_assert_eq(np_log2_u64(v), 63u - (unsigned)__builtin_clzll(v), "v=%llu",
				     (unsigned long long)v);
}
