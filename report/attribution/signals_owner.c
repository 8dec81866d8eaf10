/* signals_owner.c - whose evidence a host- or namespace-wide counter is
 * (np_signals_owner, see signals.h).
 *
 * /proc/net/snmp and netstat count for every socket of the namespace,
 * softnet_stat and the kfree_skb reasons for the whole host: an
 * unrelated process whose UDP socket overflows moves UdpRcvbufErrors and
 * SOCKET_RCVBUFF exactly as the target's would.  So a shared counter is the
 * target's only when the target's own side shows the same fault: its
 * sockets' drop counts (skmem d), the stack source's drops on its
 * connections, a queue of its own at its limit, a CPU its threads ran on.
 * Not measured is unknown, never "elsewhere": a recording without the
 * sockets or the scheduler keeps the rules' old judgement.
 */
#include <stdio.h>
#include <string.h>

#include "report/attribution/signals.h"

const char *np_owner_name(enum np_owner o)
{
	switch (o) {
	case NP_OWNER_TARGET:
		return "target";
	case NP_OWNER_ELSEWHERE:
		return "elsewhere";
	default:
		return "unknown";
	}
}

/* Keeps the largest of the counters offered: the one to name. */
static void counter(struct np_sig_owner *o, const char *name, uint64_t v)
{
	if (v > o->value || !o->counter[0]) {
		snprintf(o->counter, sizeof(o->counter), "%s", name);
		o->value = v;
	}
}

static bool own(struct np_sig_owner *o, const char *name, uint64_t v)
{
	if (!v)
		return false;
	snprintf(o->own, sizeof(o->own), "%s", name);
	o->own_value = v;
	return true;
}

static double fill(uint64_t q, uint64_t limit)
{
	return limit ? (double)q / (double)limit : 0.0;
}

static void socket_drops(const struct np_signals *s, struct np_sig_owner *o)
{
	uint64_t q = s->recvq_mem_peak_bytes > s->recvq_peak_bytes ? s->recvq_mem_peak_bytes
								   : s->recvq_peak_bytes;

	if (s->have_udp_counters)
		counter(o, "UdpRcvbufErrors", s->udp_rcvbuf_errors);
	if (s->have_tcp_counters) {
		counter(o, "TcpExtPruneCalled", s->prune_called);
		counter(o, "TcpExtTCPRcvQDrop", s->rcvq_drops);
		counter(o, "TcpExtTCPBacklogDrop", s->backlog_drops);
		counter(o, "TcpExtOfoPruned", s->ofo_pruned);
	}
	if (s->have_drop_reasons) {
		counter(o, "kfree_skb SOCKET_RCVBUFF", s->drops_rcvbuf);
		counter(o, "kfree_skb SOCKET_BACKLOG", s->drops_backlog);
	}
	snprintf(o->none, sizeof(o->none),
		 "the service's own sockets dropped nothing and their receive queues stayed "
		 "below their limits");
	if (!s->have_sockets && !s->have_target_events)
		return;
	if ((s->have_sockets &&
	     own(o, "target_socket_drops", s->sock_drops_tcp + s->sock_drops_udp)) ||
	    (s->have_target_events && own(o, "target_buffer_drops", s->target_buffer_drops))) {
		o->owner = NP_OWNER_TARGET;
		return;
	}
	/* A queue seen at its limit overflows between two polls too. */
	if (s->have_sockets && s->recvq_rcvbuf_bytes &&
	    fill(q, s->recvq_rcvbuf_bytes) >= NP_OWN_QUEUE_NEAR_LIMIT) {
		own(o, "recv_q_peak_bytes", q);
		o->owner = NP_OWNER_TARGET;
		return;
	}
	o->owner = NP_OWNER_ELSEWHERE;
}

static void listen_drops(const struct np_signals *s, struct np_sig_owner *o)
{
	if (s->have_tcp_counters) {
		counter(o, "TcpExtListenOverflows", s->listen_overflows);
		counter(o, "TcpExtListenDrops", s->listen_drops);
	}
	snprintf(o->none, sizeof(o->none),
		 "the service's listeners dropped nothing and their accept queues stayed below "
		 "their limits");
	/* Without the sockets source the listeners are unknown; with it, a
	 * target without a listener overflows none. */
	if (!s->have_sockets)
		return;
	/* tcp_listendrop() counts each drop on the listener too (skmem d) */
	if (own(o, "listen_sock_drops", s->listen_sock_drops) ||
	    (s->have_listen && s->acceptq_limit && s->acceptq_peak >= s->acceptq_limit &&
	     own(o, "accept_q_peak", s->acceptq_peak))) {
		o->owner = NP_OWNER_TARGET;
		return;
	}
	o->owner = NP_OWNER_ELSEWHERE;
}

static bool target_cpu(const struct np_signals *s, uint32_t cpu)
{
	return cpu < NP_SIG_MAX_CPUS && (s->target_cpus[cpu / 64] >> (cpu % 64) & 1);
}

static void softnet_drops(const struct np_signals *s, struct np_sig_owner *o)
{
	uint64_t all = 0, mine = 0;

	for (size_t i = 0; i < s->n_cpus; i++) {
		all += s->cpus[i].softnet_dropped;
		if (target_cpu(s, s->cpus[i].cpu))
			mine += s->cpus[i].softnet_dropped;
	}
	if (s->have_softirq)
		counter(o, "softnet_stat dropped", all);
	snprintf(o->none, sizeof(o->none), "none on the CPUs the service's threads ran on");
	if (!s->have_target_cpus)
		return;
	o->owner = own(o, "softnet_drops_on_target_cpus", mine) ? NP_OWNER_TARGET
								: NP_OWNER_ELSEWHERE;
}

static void netfilter_drops(const struct np_signals *s, struct np_sig_owner *o)
{
	if (s->have_drop_reasons)
		counter(o, "kfree_skb NETFILTER_DROP", s->drops_netfilter);
	snprintf(o->none, sizeof(o->none),
		 "the service's connections lost nothing (no drop or retransmission on them)");
	if (!s->have_sockets && !s->have_target_events)
		return;
	/* An input drop happens before the socket lookup as often as not: the
	 * target's sign is then the retransmission it causes. */
	if ((s->have_target_events &&
	     (own(o, "target_netfilter_drops", s->target_netfilter_drops) ||
	      own(o, "target_retrans", s->target_retrans))) ||
	    (s->have_sockets && own(o, "socket_retrans", s->sock_retrans))) {
		o->owner = NP_OWNER_TARGET;
		return;
	}
	o->owner = NP_OWNER_ELSEWHERE;
}

void np_signals_owner(const struct np_signals *s, enum np_shared what, struct np_sig_owner *o)
{
	memset(o, 0, sizeof(*o));
	switch (what) {
	case NP_SHARED_NONE:
		o->owner = NP_OWNER_TARGET;
		break;
	case NP_SHARED_SOCKET_DROPS:
		socket_drops(s, o);
		break;
	case NP_SHARED_LISTEN_DROPS:
		listen_drops(s, o);
		break;
	case NP_SHARED_SOFTNET_DROPS:
		softnet_drops(s, o);
		break;
	case NP_SHARED_NETFILTER_DROPS:
		netfilter_drops(s, o);
		break;
	default:
		o->owner = NP_OWNER_UNKNOWN;
		break;
	}
}
