/* signals_stack.c - the exchange source's and the kernel stack source's
 * parts of struct np_signals (np_signals_from_exchanges,
 * np_signals_from_netstack).
 *
 * Exchanges: the served requests' latency and the sum of its components.
 * A component the kernel saw for only some exchanges (queued: the data's
 * arrival; tx: the last segment leaving) is kept twice: scaled from the
 * exchanges it was seen for to all of them, an estimate of the time (the
 * breakdown's), and as seen, a part of the total latency (the shares'; an
 * exchange whose tx was not seen has none in its total, so the scaled sum
 * can exceed the total).  The transmit part ends when the driver takes the segment:
 * all of it is the stack's (qdisc included), none the NIC's; the qdisc's
 * part of it is known where the segments' departure from TCP was seen.
 *
 * Kernel stack: drops by the kernel's reason (host-wide: a packet dropped
 * before socket lookup, as netfilter's are, has no owner yet), and
 * NET_RX/NET_TX softirq time per CPU, per window from the once-a-second
 * cumulative snapshots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/attribution/signals.h"

static uint64_t scaled(uint64_t sum, uint64_t seen, uint64_t all)
{
	if (!seen)
		return 0;
	if (seen >= all)
		return sum;
	return np_u64_sat((double)sum * (double)all / (double)seen);
}

/* Exchanges whose tx lies in [NP_ACK_DELAY_MIN_NS, NP_ACK_DELAY_MAX_NS),
 * to the bucket (within 1/8 of the value). */
static uint64_t ack_delay_count(const uint64_t *tx_hist)
{
	uint64_t n = 0;

	if (!tx_hist)
		return 0;
	for (uint32_t b = 0; b < NP_XH_BUCKETS; b++) {
		uint64_t lo = np_xh_lower(b);

		if (lo >= NP_ACK_DELAY_MIN_NS && lo < NP_ACK_DELAY_MAX_NS)
			n += tx_hist[b];
	}
	return n;
}

int np_signals_from_exchanges(struct np_signals *s, const struct np_recording *rec,
			      const struct np_report *r)
{
	const struct np_xch_report *x = &r->xch;

	(void)rec;
	if (x->n_out_groups) {
		const struct np_xch_out_group *g = &x->out_groups[0]; /* slowest p99 first */

		s->have_slowest_op = true;
		snprintf(s->slowest_op, sizeof(s->slowest_op), "%s", g->label);
		snprintf(s->slowest_op_peer, sizeof(s->slowest_op_peer), "%s", g->peer);
		s->slowest_op_p99_ns = g->p99_ns;
		s->slowest_op_count = g->count;
	}
	s->exch_reply_parts = x->reply_parts;
	s->exch_reply_parts_ack_delay = x->reply_parts_ack_delay;
	s->exch_reply_part_p50_ns = x->reply_part_p50_ns;
	if (!x->present || !x->count)
		return 0;
	s->have_exchanges = true;
	s->exch_count = x->count;
	s->exch_outbound_count = x->outbound_count;
	s->exch_p50_ns = x->total.p50_ns;
	s->exch_p99_ns = x->total.p99_ns;
	s->exch_total_ns = x->total.sum_ns;
	s->exch_app_ns = x->app.sum_ns;
	s->exch_peer_ns = x->peer.sum_ns;
	if (x->queued.known) {
		s->exch_queued_ns = scaled(x->queued.sum_ns, x->queued.n, x->count);
		s->exch_queued_seen_ns = x->queued.sum_ns;
	}
	if (x->tx.known) {
		s->exch_tx_ns = scaled(x->tx.sum_ns, x->tx.n, x->count);
		s->exch_tx_seen_ns = x->tx.sum_ns;
	}
	if (x->tx.known) {
		s->exch_tx_known = x->tx.n;
		s->exch_tx_p50_ns = x->tx.p50_ns;
		s->exch_tx_ack_delay = ack_delay_count(x->hist[NP_XH_TX]);
	}
	s->exch_nagle_held = x->nagle_held;
	if (x->loss.known && x->loss.hit_events) {
		s->have_exch_loss = true;
		s->exch_loss_share = np_xch_loss_share(&x->loss);
		s->exch_loss_events = x->loss.hit_events;
		s->exch_loss_p50_ns = x->loss.hit_p50_ns;
		s->exch_loss_others_p50_ns = x->loss.others_p50_ns;
		if (x->loss.n_reasons)
			snprintf(s->exch_loss_reason, sizeof(s->exch_loss_reason), "%s",
				 x->loss.reasons[0].name);
	}
	if (x->tx.known && x->qdisc_known) {
		s->have_exch_qdisc = true;
		s->exch_tx_qdisc_ns = scaled(x->qdisc_ns, x->qdisc_known, x->count);
		s->exch_tx_qdisc_seen_ns = x->qdisc_ns;
	}
	for (size_t i = 0; i < x->n_windows; i++) {
		const struct np_xch_window_row *w = &x->windows[i];
		long k = np_signals_window_of(s, w->start_ns + (w->end_ns - w->start_ns) / 2);
		uint64_t *v;

		if (k < 0)
			continue;
		v = s->windows[k].v;
		/* recorder and signal windows are both a second long: one each */
		v[NP_W_EXCH_COUNT] += w->count;
		if (w->p50_ns > v[NP_W_EXCH_P50_NS])
			v[NP_W_EXCH_P50_NS] = w->p50_ns;
		if (w->p99_ns > v[NP_W_EXCH_P99_NS])
			v[NP_W_EXCH_P99_NS] = w->p99_ns;
	}
	if (x->n_windows)
		s->wknown |= 1ull << NP_W_EXCH_COUNT | 1ull << NP_W_EXCH_P50_NS |
			     1ull << NP_W_EXCH_P99_NS;
	return 0;
}

/* --- kernel stack ---------------------------------------------------------- */

static bool is_reason(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

/* The kernel's names (enum skb_drop_reason without SKB_DROP_REASON_). */
static const char *const rcvbuf_reasons[] = {"SOCKET_RCVBUFF", "PROTO_MEM", "TCP_OFO_QUEUE_PRUNE",
					     NULL};
static const char *const backlog_reasons[] = {"SOCKET_BACKLOG", "TCP_BACKLOG", NULL};
/* Drops that are the protocol's normal business, not a fault: a duplicate,
 * a segment outside the window, a packet to a closed port.  They still
 * appear in the report's drop table; the rules do not count them. */
static const char *const benign_reasons[] = {"NOT_SPECIFIED",
					     "NO_SOCKET",
					     "TCP_OLD_DATA",
					     "TCP_OVERWINDOW",
					     "TCP_OLD_ACK",
					     "TCP_TOO_OLD_ACK",
					     "TCP_ACK_UNSENT_DATA",
					     "TCP_CLOSE",
					     "TCP_RESET",
					     "TCP_INVALID_SEQUENCE",
					     "TCP_OLD_SEQUENCE",
					     "SOCKET_CLOSE",
					     "UNHANDLED_PROTO",
					     "OTHERHOST",
					     "PKT_TOO_SMALL",
					     "DUP_FRAG",
					     "TCP_FLAGS",
					     "TCP_ZEROWINDOW",
					     "TCP_RFC7323_PAWS",
					     "IP_NOPROTO",
					     "IPV6DISABLED",
					     "NEIGH_DEAD",
					     NULL};

static void fill_reasons(struct np_signals *s, const struct np_ns_report *ns)
{
	s->have_drop_reasons = true;
	for (size_t i = 0; i < ns->n_reasons; i++) {
		const struct np_ns_reason *x = &ns->reasons[i];

		if (!x->count)
			continue;
		if (!strcmp(x->name, "NETFILTER_DROP"))
			s->drops_netfilter += x->count;
		else if (!strcmp(x->name, "SOCKET_FILTER"))
			s->drops_socket_filter += x->count;
		else if (is_reason(x->name, rcvbuf_reasons))
			s->drops_rcvbuf += x->count;
		else if (is_reason(x->name, backlog_reasons))
			s->drops_backlog += x->count;
		else if (!is_reason(x->name, benign_reasons))
			s->drops_other += x->count;
		else
			continue;
		if (s->n_reasons < NP_SIG_MAX_REASONS) {
			struct np_sig_reason *o = &s->top_reasons[s->n_reasons++];

			snprintf(o->name, sizeof(o->name), "%s", x->name);
			o->count = x->count;
		}
	}
}

/* The events on the target's own sockets, for np_signals_owner(): the
 * host-wide reasons above may be anyone's. */
static void fill_target_events(struct np_signals *s, const struct np_recording *rec)
{
	size_t n;
	const struct np_net_event *ev = np_recording_records(rec, NP_BLK_NET_EVENTS, &n);
	char name[64];

	s->have_target_events = true;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == NP_NET_RETRANS) {
			s->target_retrans++;
		} else if (ev[i].kind == NP_NET_RCVQ_FULL) {
			s->target_buffer_drops++;
		} else if (ev[i].kind == NP_NET_DROP) {
			np_ns_reason_name(rec, ev[i].reason, name, sizeof(name));
			if (!strcmp(name, "NETFILTER_DROP"))
				s->target_netfilter_drops++;
			else if (is_reason(name, rcvbuf_reasons) ||
				 is_reason(name, backlog_reasons))
				s->target_buffer_drops++;
		}
	}
}

/* NETFILTER_DROP per window, from the cumulative per-reason snapshots. */
static void netfilter_windows(struct np_signals *s, const struct np_recording *rec,
			      const struct np_ns_report *ns)
{
	size_t n;
	const struct np_rec_reason_count *rc = np_recording_records(rec, NP_BLK_NET_REASON_COUNT,
								    &n);
	uint32_t reason = UINT32_MAX;
	uint64_t prev = 0;

	for (size_t i = 0; i < ns->n_reasons; i++)
		if (!strcmp(ns->reasons[i].name, "NETFILTER_DROP"))
			reason = ns->reasons[i].reason;
	s->wknown |= 1ull << NP_W_NETFILTER_DROPS;
	if (reason == UINT32_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		long w;

		if (rc[i].reason != reason || rc[i].count < prev)
			continue;
		w = np_signals_window_of(s, rc[i].ts_ns ? rc[i].ts_ns - 1 : 0);
		if (w < 0)
			w = rc[i].ts_ns < s->start_ns ? 0 : (long)s->n_windows - 1;
		if (w >= 0 && (size_t)w < s->n_windows)
			s->windows[w].v[NP_W_NETFILTER_DROPS] += rc[i].count - prev;
		prev = rc[i].count;
	}
}

/* NET_RX time per window: all CPUs, and the busiest CPU's. */
static int softirq_windows(struct np_signals *s, const struct np_recording *rec)
{
	size_t n;
	const struct np_rec_softirq *sr = np_recording_records(rec, NP_BLK_NET_SOFTIRQ, &n);
	uint32_t max_cpu = 0;
	uint64_t *prev;

	for (size_t i = 0; i < n; i++)
		if (sr[i].cpu < NP_SIG_MAX_CPUS && sr[i].cpu + 1 > max_cpu)
			max_cpu = sr[i].cpu + 1;
	if (!max_cpu)
		return 0;
	prev = calloc(max_cpu, sizeof(*prev));
	if (!prev)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t d;
		long w;

		if (sr[i].cpu >= max_cpu || sr[i].rx.total_ns < prev[sr[i].cpu])
			continue;
		d = sr[i].rx.total_ns - prev[sr[i].cpu];
		prev[sr[i].cpu] = sr[i].rx.total_ns;
		w = np_signals_window_of(s, sr[i].ts_ns ? sr[i].ts_ns - 1 : 0);
		if (w < 0)
			continue;
		s->windows[w].v[NP_W_NET_RX_NS] += d;
		/* one snapshot a window: its delta is that CPU's share of it */
		if (d > s->windows[w].v[NP_W_NET_RX_MAX_CPU_NS])
			s->windows[w].v[NP_W_NET_RX_MAX_CPU_NS] = d;
	}
	free(prev);
	s->wknown |= 1ull << NP_W_NET_RX_NS | 1ull << NP_W_NET_RX_MAX_CPU_NS;
	return 0;
}

/* Older recordings mark the softirq source degraded for want of the time
 * this source measured. */
static void drop_degraded(struct np_signals *s, const char *name)
{
	for (size_t i = 0; i < s->n_degraded; i++)
		if (!strcmp(s->degraded[i], name)) {
			memmove(&s->degraded[i], &s->degraded[i + 1],
				(s->n_degraded - i - 1) * sizeof(s->degraded[0]));
			s->n_degraded--;
			return;
		}
}

int np_signals_from_netstack(struct np_signals *s, const struct np_recording *rec,
			     const struct np_report *r)
{
	const struct np_ns_report *ns = &r->ns;
	int rc = 0;

	if (!ns->present)
		return 0;
	fill_reasons(s, ns);
	fill_target_events(s, rec);
	if (s->n_windows)
		netfilter_windows(s, rec, ns);
	if (ns->n_cpus) {
		for (size_t i = 0; i < ns->n_cpus; i++) {
			const struct np_ns_cpu *c = &ns->cpus[i];
			struct np_sig_cpu *o;

			if (!c->rx.count && !c->tx.count)
				continue;
			o = np_signals_cpu(s, c->cpu);
			if (!o)
				break;
			o->net_rx_ns = c->rx.total_ns;
			o->net_tx_ns = c->tx.total_ns;
		}
		s->have_softirq_time = true;
		drop_degraded(s, "softirq");
		if (s->n_windows)
			rc = softirq_windows(s, rec);
	}
	return rc;
}
