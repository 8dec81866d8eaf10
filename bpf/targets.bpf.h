/* targets.bpf.h - is this process part of the target?
 *
 * One process (-p PID --no-children): the `target_tgid` constant, as
 * before; with `target_multi` false the verifier drops the rest, so the
 * check costs one compare.  A service (several processes, a tree, a cgroup):
 * one bit per tgid in `np_targets`, a single-element array shared by every
 * object (user space creates it and hands its fd to each loader).  An array
 * lookup is inlined by the verifier, so the check is a bounds test and one
 * load: no hash, no helper call.  The fork hook (syscalls.bpf.c) sets the
 * bit of a target's new child process and the exit hook clears it when the
 * last thread of a process exits.
 */
#ifndef NP_TARGETS_BPF_H
#define NP_TARGETS_BPF_H

#include "netprof.h"

/* Set by the loader before load. */
const volatile __u32 target_tgid = 0;
const volatile __u8 target_multi = 0;

struct np_target_bits {
	__u64 w[NP_TARGET_PID_LIMIT / 64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct np_target_bits);
} np_targets SEC(".maps");

static __always_inline struct np_target_bits *np_target_bits(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&np_targets, &k);
}

static __always_inline bool np_is_target(__u32 tgid)
{
	struct np_target_bits *b;

	if (tgid == target_tgid)
		return true;
	if (!target_multi)
		return false;
	b = np_target_bits();
	if (!b)
		return false;
	/* The mask bounds the index for the verifier: pids are below the limit
	 * anyway, and a range test would be dropped by the compiler, which
	 * then recomputes the index from the unchecked 64-bit value. */
	asm volatile("" : "+r"(tgid));
	return (b->w[(tgid / 64) & (NP_TARGET_PID_LIMIT / 64 - 1)] >> (tgid % 64)) & 1;
}

static __always_inline void np_target_mark(__u32 tgid, bool on)
{
	struct np_target_bits *b = np_target_bits();
	__u64 bit;

	if (!b)
		return;
	asm volatile("" : "+r"(tgid));
	bit = 1ull << (tgid % 64);
	if (on)
		__sync_fetch_and_or(&b->w[(tgid / 64) & (NP_TARGET_PID_LIMIT / 64 - 1)], bit);
	else
		__sync_fetch_and_and(&b->w[(tgid / 64) & (NP_TARGET_PID_LIMIT / 64 - 1)], ~bit);
}

#endif /* NP_TARGETS_BPF_H */
