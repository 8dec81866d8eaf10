/* classify.c - frame classes from function and module names.
 *
 * The kernel network stack is recognised by the prefixes of its functions
 * (TCP/IP, sockets, skb, NAPI and GRO, netfilter, qdisc, neighbour and
 * routing, the net syscalls' entry points) and by the modules that hold
 * nothing else (netfilter, NIC and virtual network drivers).  A name that
 * is ambiguous stays "kernel": the report would rather under-claim the
 * network stack than blame it for the page allocator.
 */
#include "profiler/cpu/classify.h"

#include <stdbool.h>
#include <string.h>

#include "profiler/format/timeline.h"

static const char *const net_prefixes[] = {
	"tcp_",
	"__tcp_",
	"tcp4_",
	"tcp6_",
	"tcpv6_",
	"udp_",
	"__udp",
	"udp4_",
	"udp6_",
	"udpv6_",
	"ip_",
	"__ip_",
	"ipv4_",
	"ipv6_",
	"ip6_",
	"__ip6_",
	"inet_",
	"__inet_",
	"inet6_",
	"__inet6_",
	"raw_v4_",
	"raw_v6_",
	"raw_rcv",
	"raw_sendmsg",
	"raw_recvmsg",
	"icmp_",
	"icmpv6_",
	"ping_",
	"sock_",
	"__sock_",
	"sk_",
	"__sk_",
	"sockfs_",
	"lock_sock",
	"release_sock",
	"__release_sock",
	"__lock_sock",
	"skb_",
	"__skb_",
	"kfree_skb",
	"__kfree_skb",
	"consume_skb",
	"alloc_skb",
	"__alloc_skb",
	"napi_",
	"__napi_",
	"gro_",
	"__gro",
	"dev_gro_",
	"net_rx_action",
	"net_tx_action",
	"netif_",
	"__netif_",
	"process_backlog",
	"dev_queue_xmit",
	"__dev_queue_xmit",
	"dev_hard_start_xmit",
	"__dev_xmit_skb",
	"validate_xmit_",
	"sch_",
	"qdisc_",
	"__qdisc_",
	"pfifo_",
	"fq_codel_",
	"fq_",
	"htb_",
	"tbf_",
	"netem_",
	"nf_",
	"__nf_",
	"nft_",
	"ipt_",
	"ip6t_",
	"ebt_",
	"xt_",
	"neigh_",
	"__neigh_",
	"dst_",
	"fib_",
	"__fib_",
	"fib6_",
	"rt6_",
	"ip_route_",
	"__ip_route_",
	"packet_",
	"loopback_",
	"eth_",
	"__eth_",
	"arp_",
	"xfrm_",
	"unix_",
	"__unix_",
	"csum_partial",
	"__sys_send",
	"__sys_recv",
	"__sys_accept",
	"__sys_connect",
	"__sys_socket",
	"__sys_bind",
	"__sys_listen",
	"__sys_shutdown",
	"__sys_setsockopt",
	"__sys_getsockopt",
	"tun_",
	"veth_",
	"br_",
	"vxlan_",
	"geneve_",
	"tcf_",
	"cls_",
	"bpf_skb_",
	"sk_filter",
	"inet_csk_",
	"reqsk_",
	"rtnl_",
	"rtnetlink_",
	"netlink_",
	"__netlink_",
	"__dev_queue_",
	"dev_kfree_skb",
	"__dev_kfree_skb",
	"net_",
	"__net_",
	/* congestion control, RPS backlog, XDP, socket tracepoints */
	"bbr_",
	"bictcp_",
	"cubictcp_",
	"dctcp_",
	"htcp_",
	"vegas_",
	"westwood_",
	"enqueue_to_backlog",
	"rps_",
	"xdp_",
	"bpf_dispatcher_xdp",
	"call_trace_sock",
};

/* Syscall entry points that lead into the socket layer. */
static const char *const net_syscalls[] = {
	"sendto", "recvfrom", "sendmsg",    "recvmsg",    "sendmmsg",    "recvmmsg",
	"accept", "accept4",  "connect",    "socket",     "socketpair",  "bind",
	"listen", "shutdown", "setsockopt", "getsockopt", "getsockname", "getpeername",
};

static const char *const syscall_prefixes[] = {"__x64_sys_", "__ia32_sys_", "__arm64_sys_",
					       "__se_sys_",  "__do_sys_",   "__riscv_sys_"};

/* Modules whose every function is network code. */
static const char *const net_module_prefixes[] = {
	"nf_",       "nft_",      "xt_",       "ipt_",       "ip6t_",    "ebt",        "iptable_",
	"ip6table_", "arptable_", "ip_tables", "ip6_tables", "x_tables", "nfnetlink",  "sch_",
	"cls_",      "act_",      "veth",      "virtio_net", "e1000",    "igb",        "igc",
	"ixgbe",     "i40e",      "ice",       "mlx4",       "mlx5",     "bnxt",       "tg3",
	"r8169",     "ena",       "vmxnet3",   "bonding",    "bridge",   "8021q",      "vxlan",
	"geneve",    "wireguard", "tun",       "macvlan",    "ipvlan",   "nfp",        "sfc",
	"qede",      "gve",       "hv_netvsc", "ipv6",       "tcp_",     "udp_tunnel", "ip_tunnel",
	"ip_gre",    "ipip",      "sit",       "dummy",      "ifb",
};

static const char *const softirq_entries[] = {"__do_softirq", "handle_softirqs", "do_softirq",
					      "run_ksoftirqd"};

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool net_syscall(const char *function)
{
	for (size_t i = 0; i < COUNT(syscall_prefixes); i++) {
		if (!has_prefix(function, syscall_prefixes[i]))
			continue;
		function += strlen(syscall_prefixes[i]);
		for (size_t j = 0; j < COUNT(net_syscalls); j++)
			if (!strcmp(function, net_syscalls[j]))
				return true;
		return false;
	}
	return false;
}

/* Equal up to the compiler's clone suffix: "do_softirq.part.0". */
static bool same_function(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '.');
}

uint8_t np_classify_kernel(const char *function, const char *module, uint8_t *flags)
{
	if (!function)
		function = "";
	if (!module)
		module = "";
	for (size_t i = 0; i < COUNT(softirq_entries); i++)
		if (same_function(function, softirq_entries[i]))
			*flags |= NP_FR_SOFTIRQ;
	for (size_t i = 0; module[0] && i < COUNT(net_module_prefixes); i++)
		if (has_prefix(module, net_module_prefixes[i]))
			return NP_CLS_KNET;
	if (net_syscall(function))
		return NP_CLS_KNET;
	for (size_t i = 0; i < COUNT(net_prefixes); i++)
		if (has_prefix(function, net_prefixes[i]))
			return NP_CLS_KNET;
	return NP_CLS_KERNEL;
}

uint8_t np_classify_user(uint32_t module_flags)
{
	return module_flags & (NP_MOD_MAIN | NP_MOD_ANON) ? NP_CLS_APP : NP_CLS_LIB;
}
