/* series_net.c - the network source's series for the timeline: socket
 * queues (the largest per poll, and the busiest sockets'), the accept
 * queue, NET_RX per CPU, each interface's packet rates, drops wherever
 * they were counted, TCP retransmits and events, and the root qdiscs'
 * backlog.
 *
 * Counters are rates per second over the net report's windows (100 ms, or
 * 1/120 of a long recording); gauges are the polled values.  Series whose
 * counters never moved are left out, except the ones that say so on their
 * own (a drops track only appears when something was dropped).
 *
 * Not for the rules: signals_net.c gives them their numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/model/series.h"

#define TL_SOCKETS 4 /* busiest sockets with a Recv-Q series of their own */
#define TL_IFACES 4  /* interfaces with a packet-rate track */

/* A rate over the nominal window length: the last window of a recording
 * is shorter, but its counts come from a whole poll interval. */
static double per_s(uint64_t v, const struct np_net_report *n)
{
	return n->window_ns ? (double)v * 1e9 / (double)n->window_ns : 0;
}

static size_t window_index(const struct np_net_report *n, uint64_t ts)
{
	size_t i;

	if (!n->n_windows || ts <= n->windows[0].start_ns || !n->window_ns)
		return 0;
	i = (size_t)((ts - n->windows[0].start_ns) / n->window_ns);
	return i < n->n_windows ? i : n->n_windows - 1;
}

/* One counter series from per-window values, as rates; skipped when every
 * value is 0 and `keep_zero` is false. */
static int counter(struct np_timeline *tl, const struct np_net_report *n, const char *track,
		   const char *name, const uint64_t *v, bool keep_zero)
{
	struct np_series *s;
	bool any = keep_zero;

	for (size_t i = 0; i < n->n_windows && !any; i++)
		any = v[i] != 0;
	if (!any)
		return 0;
	s = np_timeline_series(tl, track, name, "per second", NP_SERIES_COUNTER, 0);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_windows; i++) {
		const struct np_net_window *w = &n->windows[i];

		if (np_series_add(s, w->start_ns, w->end_ns - w->start_ns, per_s(v[i], n), 0))
			return -ENOMEM;
	}
	return 0;
}

static int poll_queues(struct np_timeline *tl, const struct np_net_report *n)
{
	struct np_series *rq, *sq, *aq = NULL, *lim = NULL;
	uint32_t limit = 0;
	bool listeners = false;

	if (!n->n_polls)
		return 0;
	for (size_t i = 0; i < n->n_socks; i++)
		if (n->socks[i].info.flags & NP_SOCK_LISTENER) {
			listeners = true;
			if (n->socks[i].info.backlog_limit > limit)
				limit = n->socks[i].info.backlog_limit;
		}
	rq = np_timeline_series(tl, "Socket queues", "Recv-Q, largest", "bytes", NP_SERIES_GAUGE,
				0);
	sq = np_timeline_series(tl, "Socket queues", "Send-Q, largest", "bytes", NP_SERIES_GAUGE,
				0);
	if (!rq || !sq)
		return -ENOMEM;
	if (listeners) {
		aq = np_timeline_series(tl, "Accept queue", "connections waiting, largest", "count",
					NP_SERIES_GAUGE, 0);
		lim = np_timeline_series(tl, "Accept queue", "limit", "count", NP_SERIES_GAUGE, 0);
		if (!aq || !lim)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n->n_polls; i++) {
		const struct np_rec_net_poll *p = &n->polls[i];

		if (np_series_add(rq, p->ts_ns, 0, p->recv_q_max, 0) ||
		    np_series_add(sq, p->ts_ns, 0, p->send_q_max, 0) ||
		    (aq && np_series_add(aq, p->ts_ns, 0, p->accept_q_max, 0)))
			return -ENOMEM;
	}
	if (lim && (np_series_add(lim, n->polls[0].ts_ns, 0, limit, 0) ||
		    np_series_add(lim, n->polls[n->n_polls - 1].ts_ns, 0, limit, 0)))
		return -ENOMEM;
	return 0;
}

/* The Recv-Q of the few sockets whose queues peaked highest, from their
 * samples (written when the socket changed). */
static int busy_sockets(struct np_timeline *tl, const struct np_net_report *n)
{
	size_t shown = 0;

	/* n->socks is busiest first */
	for (size_t i = 0; i < n->n_socks && shown < TL_SOCKETS; i++) {
		const struct np_net_sock *so = &n->socks[i];
		struct np_series *s;
		char name[160];

		if ((so->info.flags & NP_SOCK_LISTENER) || !so->sum.recv_q_max)
			continue;
		shown++;
		snprintf(name, sizeof(name), "%s -> %s", so->local, so->peer);
		s = np_timeline_series(tl, "Busiest sockets' Recv-Q", name, "bytes",
				       NP_SERIES_GAUGE, 0);
		if (!s)
			return -ENOMEM;
		for (size_t k = 0; k < n->n_sock_samples; k++) {
			const struct np_rec_sock_sample *ss = &n->sock_samples[k];

			if (ss->id == so->info.id && np_series_add(s, ss->ts_ns, 0, ss->recv_q, 0))
				return -ENOMEM;
		}
	}
	return 0;
}

static int net_rx_per_cpu(struct np_timeline *tl, const struct np_net_report *n)
{
	uint64_t *v;
	int rc = 0;

	if (!n->n_cpus || !n->n_windows)
		return 0;
	v = calloc(n->n_windows, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t c = 0; c < n->n_cpus && !rc; c++) {
		char name[32];

		for (size_t i = 0; i < n->n_windows; i++)
			v[i] = n->windows[i].net_rx_cpu ? n->windows[i].net_rx_cpu[c] : 0;
		snprintf(name, sizeof(name), "CPU %u", n->cpus[c].cpu);
		rc = counter(tl, n, "NET_RX softirqs per CPU", name, v, true);
	}
	free(v);
	return rc;
}

/* Packet rates of the interfaces that carried traffic, and the drops each
 * counted (link rx_dropped + rx_missed, tx_dropped). */
static int iface_rates(struct np_timeline *tl, const struct np_net_report *n)
{
	const struct np_net_iface **order;
	uint64_t *rx, *tx, *drop;
	size_t shown = 0;
	int rc = 0;

	if (!n->n_ifs || !n->n_windows)
		return 0;
	order = calloc(n->n_ifs, sizeof(*order));
	rx = calloc(n->n_windows, sizeof(*rx));
	tx = calloc(n->n_windows, sizeof(*tx));
	drop = calloc(n->n_windows, sizeof(*drop));
	if (!order || !rx || !tx || !drop) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n->n_ifs; i++)
		order[i] = &n->ifs[i];
	qsort(order, n->n_ifs, sizeof(*order), np_net_iface_by_traffic);
	for (size_t k = 0; k < n->n_ifs && shown < TL_IFACES && !rc; k++) {
		const struct np_net_iface *f = order[k];
		const struct np_rec_link_sample *p = NULL;
		char track[96], dname[96];

		if (!f->have_link || f->delta.rx_packets + f->delta.tx_packets == 0)
			continue;
		shown++;
		memset(rx, 0, n->n_windows * sizeof(*rx));
		memset(tx, 0, n->n_windows * sizeof(*tx));
		memset(drop, 0, n->n_windows * sizeof(*drop));
		for (size_t i = 0; i < n->n_link_samples; i++) {
			const struct np_rec_link_sample *s = &n->link_samples[i];
			size_t w;

			if (s->id != f->info.id)
				continue;
			if (p) {
				w = window_index(n, s->ts_ns);
#define D(fl) (s->fl >= p->fl ? s->fl - p->fl : 0)
				rx[w] += D(rx_packets);
				tx[w] += D(tx_packets);
				drop[w] += D(rx_dropped) + D(rx_missed_errors) + D(tx_dropped);
#undef D
			}
			p = s;
		}
		snprintf(track, sizeof(track), "Interface %s (packets)", f->info.name);
		rc = counter(tl, n, track, "received", rx, true);
		if (!rc)
			rc = counter(tl, n, track, "sent", tx, true);
		snprintf(dname, sizeof(dname), "%s rx/tx dropped", f->info.name);
		if (!rc)
			rc = counter(tl, n, "Drops (packets)", dname, drop, false);
	}
out:
	free(order);
	free(rx);
	free(tx);
	free(drop);
	return rc;
}

/* Drops counted elsewhere than the links, per window, and TCP's own
 * events. */
static int drops_and_tcp(struct np_timeline *tl, const struct np_net_report *n)
{
	static const struct {
		enum np_snmp_id id;
		const char *name;
	} events[] = {
		{NP_SNMP_LISTEN_DROPS, "ListenDrops"},
		{NP_SNMP_LISTEN_OVERFLOWS, "ListenOverflows"},
		{NP_SNMP_TCP_TO_ZERO_WINDOW_ADV, "TCPToZeroWindowAdv"},
		{NP_SNMP_TCP_ZERO_WINDOW_DROP, "TCPZeroWindowDrop"},
		{NP_SNMP_PRUNE_CALLED, "PruneCalled"},
		{NP_SNMP_TCP_RCVQ_DROP, "TCPRcvQDrop"},
		{NP_SNMP_TCP_BACKLOG_DROP, "TCPBacklogDrop"},
		{NP_SNMP_TCP_TIMEOUTS, "TCPTimeouts"},
		{NP_SNMP_TCP_LOSS_PROBES, "TCPLossProbes"},
	};
	uint64_t *v;
	int rc = 0;

	if (!n->n_windows)
		return 0;
	v = calloc(n->n_windows, sizeof(*v));
	if (!v)
		return -ENOMEM;
#define SERIES(track, name, expr, keep) \
	do { \
		for (size_t i = 0; i < n->n_windows; i++) { \
			const struct np_net_window *w = &n->windows[i]; \
			v[i] = (expr); \
			(void)w; \
		} \
		if (!rc) \
			rc = counter(tl, n, track, name, v, keep); \
	} while (0)
	if (n->n_cpus)
		SERIES("Drops (packets)", "softnet backlog (all CPUs)", w->softnet_dropped, false);
	if (n->n_ifs) {
		SERIES("Drops (packets)", "qdiscs", w->qdisc_drops, false);
		SERIES("Drops (packets)", "driver (ethtool)", w->driver_drops, false);
	}
	if (n->have_snmp) {
		SERIES("TCP retransmits (segments)", "RetransSegs (namespace)",
		       w->snmp[NP_SNMP_TCP_RETRANS_SEGS], true);
		for (size_t k = 0; k < sizeof(events) / sizeof(events[0]); k++)
			SERIES("TCP events", events[k].name, w->snmp[events[k].id], false);
	}
	if (n->n_polls)
		SERIES("TCP retransmits (segments)", "the service's sockets", w->sock_retrans,
		       true);
	if (n->n_cpus)
		SERIES("Softirq budget", "time_squeeze (all CPUs)", w->time_squeeze, false);
#undef SERIES
	free(v);
	return rc;
}

/* Root qdiscs' backlog in packets, where it ever held any. */
static int qdisc_backlog(struct np_timeline *tl, const struct np_net_report *n)
{
	for (size_t k = 0; k < n->n_ifs; k++) {
		const struct np_net_iface *f = &n->ifs[k];
		struct np_series *s;
		char name[96];

		if (!f->root || !f->root->qlen_max)
			continue;
		snprintf(name, sizeof(name), "%s %s", f->info.name, f->root->kind);
		s = np_timeline_series(tl, "Qdisc backlog (packets)", name, "packets",
				       NP_SERIES_GAUGE, 0);
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < n->n_qdisc_samples; i++) {
			const struct np_rec_qdisc_sample *q = &n->qdisc_samples[i];

			if (q->id == f->info.id && q->handle == f->root->handle &&
			    q->parent == f->root->parent &&
			    np_series_add(s, q->ts_ns, 0, q->qlen, 0))
				return -ENOMEM;
		}
	}
	return 0;
}

int np_timeline_add_net(struct np_timeline *tl, const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	int rc;

	rc = poll_queues(tl, n);
	if (!rc)
		rc = busy_sockets(tl, n);
	if (!rc)
		rc = net_rx_per_cpu(tl, n);
	if (!rc)
		rc = iface_rates(tl, n);
	if (!rc)
		rc = drops_and_tcp(tl, n);
	if (!rc)
		rc = qdisc_backlog(tl, n);
	return rc;
}
