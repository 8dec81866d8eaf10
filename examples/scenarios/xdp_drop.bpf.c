// SPDX-License-Identifier: GPL-2.0-only
/* xdp_drop.bpf.c - the fault of the nic.rx_drops scenario: an XDP program
 * that drops a random fraction of the IPv4 TCP packets arriving on an
 * interface, the way a NIC with a full RX ring or a driver out of buffers
 * drops them before the stack sees them.
 *
 * It is loaded by examples/scenarios/nic_rx_drops.sh on the server's veth
 * inside the scenario's network namespace (native XDP, so veth counts the
 * drops in its `ethtool -S` xdp_drops counters) and goes away with that
 * namespace.  It is a test fixture, not part of netprof: netprof never loads
 * it.  Everything that is not IPv4 TCP passes, so ARP and the like keep the
 * link usable; one program per drop rate, chosen with `ip link ... sec`,
 * because iproute2 cannot set a program's constants at load time.
 *
 * Built by examples/meson.build with clang -target bpf; needs only libbpf's
 * bpf_helpers.h, no vmlinux.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline int drop_pct(struct xdp_md *ctx, __u32 pct)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	return bpf_get_prandom_u32() % 100 < pct ? XDP_DROP : XDP_PASS;
}

/* Drops nothing: only makes veth take its native-XDP receive path, which
 * copies every packet into a page-pool buffer of its own, the way a NIC
 * driver gives each frame a whole receive buffer (stack.socket_buffers). */
SEC("xdp/pass")
int np7_xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp/drop2")
int np7_xdp_drop2(struct xdp_md *ctx)
{
	return drop_pct(ctx, 2);
}

SEC("xdp/drop5")
int np7_xdp_drop5(struct xdp_md *ctx)
{
	return drop_pct(ctx, 5);
}

SEC("xdp/drop10")
int np7_xdp_drop10(struct xdp_md *ctx)
{
	return drop_pct(ctx, 10);
}

SEC("xdp/drop20")
int np7_xdp_drop20(struct xdp_md *ctx)
{
	return drop_pct(ctx, 20);
}

char LICENSE[] SEC("license") = "GPL";
