// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - the cheapest syscall hook this kernel allows, as the
 * yardstick for netprof's own (tests/bench/overhead.sh, mode "floor"): a
 * raw tracepoint pair that only asks whether the calling process is the
 * target.  Whatever a tracer adds on top of this is its own cost. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Set by the loader before load: the verifier sees a constant. */
const volatile __u32 target_tgid = 0;

/* The result is returned (and ignored by the kernel) so that the compiler
 * keeps the comparison a real filter would make. */
SEC("raw_tp/sys_enter")
int floor_sys_enter(void *ctx)
{
	(void)ctx;
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("raw_tp/sys_exit")
int floor_sys_exit(void *ctx)
{
	(void)ctx;
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

char LICENSE[] SEC("license") = "GPL";
