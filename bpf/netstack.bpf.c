// SPDX-License-Identifier: GPL-2.0
/* netstack.bpf.c - the kernel stack source: host-wide drops, retransmits,
 * full receive queues, NET_RX/NET_TX softirq time and NAPI budget use, and
 * the same events for the target's own sockets.
 *
 * Every program here fires for the whole host, so each one does the least
 * it can: per-CPU counters without atomics (except the small drop-location
 * table), and for the per-socket part one test that returns at once for
 * sockets that are not the target's (conn_of(): the target's sockets carry
 * an entry in the `conns` socket storage, which the loader shares with the
 * syscall object where it is filled).
 *
 * Several tracepoints are optional and probed by the loader: kfree_skb has
 * three signatures (no reason before 5.17, no rx_sk before 6.12), and a
 * missing napi_poll or sock_rcvqueue_full just switches its program off.
 *
 * Not here: anything per packet that is not a drop, and qdisc statistics
 * (the interface source reads them over netlink).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "netstack.h"
#include "bits.bpf.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#include "conn.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define NP_NET_TX_SOFTIRQ 2
#define NP_NET_RX_SOFTIRQ 3

const volatile __u64 wakeup_bytes = 64 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_cpu_net);
} cpu_net SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_net_totals);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_MAX_DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} by_reason SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct np_drop_key);
	__type(value, __u64);
} by_location SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} net_events SEC(".maps");

static __always_inline struct np_net_totals *tot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

static __always_inline void emit(const struct sock *sk, const struct np_conn *c, __u32 kind,
				 __u32 reason, __u64 location, struct np_net_totals *t)
{
	struct np_net_event *e = bpf_ringbuf_reserve(&net_events, sizeof(*e), 0);
	__u16 family;

	if (!e) {
		if (t)
			t->lost_events++;
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->cookie = c->cookie;
	e->kind = kind;
	e->reason = reason;
	e->location = location;
	family = sk->__sk_common.skc_family;
	e->family = family;
	e->state = sk->__sk_common.skc_state;
	if (family == AF_INET) {
		bpf_probe_read_kernel(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_probe_read_kernel(e->raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_probe_read_kernel(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	e->lport = sk->__sk_common.skc_num;
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&net_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
}

/* The target's entry, or NULL; one accepted by a process that shares the
 * target's listener but not touched by the target is not the target's. */
static __always_inline struct np_conn *target_conn(const struct sock *sk)
{
	struct np_conn *c = conn_of(sk);

	return c && !(c->flags & CF_PROVISIONAL) ? c : NULL;
}

static __always_inline void on_drop(const struct sk_buff *skb, void *location, __u32 reason,
				    const struct sock *rx_sk)
{
	struct np_net_totals *t = tot();
	struct np_drop_key key = {.location = (__u64)location, .reason = reason};
	__u32 slot = reason < NP_MAX_DROP_REASONS ? reason : NP_MAX_DROP_REASONS - 1;
	const struct sock *sk;
	struct np_conn *c;
	__u64 *n, one = 1;

	if (t)
		t->drops++;
	np_percpu_inc(&by_reason, slot);
	n = bpf_map_lookup_elem(&by_location, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else if (bpf_map_update_elem(&by_location, &key, &one, BPF_NOEXIST)) {
		/* Lost a race with another CPU (the entry exists now), or full. */
		n = bpf_map_lookup_elem(&by_location, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
		else if (t)
			t->locations_full++;
	}
	sk = rx_sk ? rx_sk : skb->sk;
	c = target_conn(sk);
	if (!c)
		return;
	if (t)
		t->target_drops++;
	emit(sk, c, NP_NET_DROP, reason, (__u64)location, t);
}

/* Linux 6.12 and later: the receiving socket is an argument. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(np_kfree_skb4, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	on_drop(skb, location, reason, rx_sk);
	return 0;
}

/* Linux 5.17 to 6.11: a reason, no socket. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(np_kfree_skb3, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	on_drop(skb, location, reason, NULL);
	return 0;
}

/* Before 5.17: no reason (counted as 0). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(np_kfree_skb2, struct sk_buff *skb, void *location)
{
	on_drop(skb, location, 0, NULL);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(np_retransmit, const struct sock *sk)
{
	struct np_net_totals *t = tot();
	struct np_conn *c;

	if (t)
		t->retrans++;
	c = target_conn(sk);
	if (!c)
		return 0;
	if (t)
		t->target_retrans++;
	emit(sk, c, NP_NET_RETRANS, 0, 0, t);
	return 0;
}

SEC("tp_btf/sock_rcvqueue_full")
int BPF_PROG(np_rcvq_full, const struct sock *sk)
{
	struct np_net_totals *t = tot();
	struct np_conn *c;

	if (t)
		t->rcvq_full++;
	c = target_conn(sk);
	if (!c)
		return 0;
	if (t)
		t->target_rcvq_full++;
	emit(sk, c, NP_NET_RCVQ_FULL, 0, 0, t);
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(np_softirq_entry, unsigned int vec)
{
	struct np_cpu_net *c;
	__u32 zero = 0;

	if (vec != NP_NET_TX_SOFTIRQ && vec != NP_NET_RX_SOFTIRQ)
		return 0;
	c = bpf_map_lookup_elem(&cpu_net, &zero);
	if (c)
		c->entry_ns[(vec - NP_NET_TX_SOFTIRQ) & 1] = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(np_softirq_exit, unsigned int vec)
{
	struct np_softirq_stats *st;
	struct np_cpu_net *c;
	__u64 start, dur;
	__u32 zero = 0, b, i;

	if (vec != NP_NET_TX_SOFTIRQ && vec != NP_NET_RX_SOFTIRQ)
		return 0;
	c = bpf_map_lookup_elem(&cpu_net, &zero);
	if (!c)
		return 0;
	i = vec - NP_NET_TX_SOFTIRQ;
	start = c->entry_ns[i & 1];
	if (!start)
		return 0; /* entered before we attached */
	c->entry_ns[i & 1] = 0;
	dur = bpf_ktime_get_ns() - start;
	st = vec == NP_NET_RX_SOFTIRQ ? &c->rx : &c->tx;
	st->count++;
	st->total_ns += dur;
	if (dur > st->max_ns)
		st->max_ns = dur;
	b = np_log2_u64(dur);
	if (b >= NP_HIST_BUCKETS)
		b = NP_HIST_BUCKETS - 1;
	st->hist[b]++;
	return 0;
}

SEC("tp_btf/napi_poll")
int BPF_PROG(np_napi_poll, struct napi_struct *napi, int work, int budget)
{
	struct np_cpu_net *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&cpu_net, &zero);
	if (!c || work < 0 || budget < 0)
		return 0;
	c->napi.polls++;
	c->napi.work += work;
	c->napi.budget += budget;
	if (budget && work >= budget)
		c->napi.exhausted++;
	if ((__u64)work > c->napi.max_work)
		c->napi.max_work = work;
	return 0;
}
