// SPDX-License-Identifier: GPL-2.0
/* xdp_drop.bpf.c - test helper: drops a random fraction of the packets an
 * interface receives (PERCENT of them), so the test can check that the
 * driver's XDP drop counters show up in netprof's ethtool statistics. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef PERCENT
#define PERCENT 30
#endif

SEC("xdp")
int xdp_drop_some(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_get_prandom_u32() % 100 < PERCENT ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
