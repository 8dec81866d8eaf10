/* signals_net.c - the network counters' part of struct np_signals
 * (np_signals_from_net): sockets, listeners, TCP/IP counters, conntrack,
 * per-CPU softnet and softirq counters, interfaces (link, driver, qdisc,
 * offloads, RPS), over the whole window and per correlation window.
 *
 * The whole-window numbers come from the net report (report/model/net_report.c); the
 * per-window ones from its 100 ms `windows`, summed into the 1 s windows of
 * the signals, except where a rule needs a per-interface split the net
 * report does not keep (NIC-layer drops and errors, root qdisc queue
 * length): those are taken from the raw samples here.
 *
 * Which interfaces are the NIC layer: hardware devices, and the device end
 * of a virtual NIC (veth, tun/tap, netkit), whose driver counts what a
 * NIC's would (ring full, XDP drops).  Loopback, bridges and bonds are not:
 * their drops are the software path's.  And on any interface, drops that
 * the software path explains are never the NIC's: rx_dropped also counts
 * the per-CPU backlog's drops (softnet_stat), and qdisc, netfilter and
 * socket drops are counted elsewhere (the nic.rx_drops rule subtracts the
 * softnet drops).
 *
 * Not for display: report/render/text_net.c and json.c print the network
 * sections from report/model/net_report.c.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/attribution/signals.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void name_copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "local -> peer", cut to fit */
static void sock_name(char *dst, size_t len, const struct np_net_sock *so)
{
	char buf[sizeof(so->local) + sizeof(so->peer) + 8];

	snprintf(buf, sizeof(buf), "%s -> %s", so->local, so->peer);
	name_copy(dst, len, buf);
}

/* --- sockets ------------------------------------------------------------- */

struct sock_peak {
	uint32_t id;
	uint32_t mem_peak, rcvbuf; /* largest queue memory seen, and the buffer then */
};

static int by_id(const void *a, const void *b)
{
	const struct sock_peak *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Each socket's largest receive-queue memory (skmem r) in its samples:
 * Recv-Q counts payload bytes, while the limit applies to their memory,
 * so a full buffer shows here first. */
static struct sock_peak *mem_peaks(const struct np_net_report *n, size_t *out_n)
{
	struct sock_peak *v = calloc(n->n_socks ? n->n_socks : 1, sizeof(*v));
	size_t m = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n->n_socks; i++)
		v[m++].id = n->socks[i].info.id;
	qsort(v, m, sizeof(*v), by_id);
	for (size_t i = 0; i < n->n_sock_samples; i++) {
		const struct np_rec_sock_sample *ss = &n->sock_samples[i];
		struct sock_peak key = {.id = ss->id}, *p;

		p = bsearch(&key, v, m, sizeof(*v), by_id);
		if (!p || !ss->rcvbuf)
			continue;
		if (!p->rcvbuf ||
		    (uint64_t)ss->rmem_alloc * p->rcvbuf > (uint64_t)p->mem_peak * ss->rcvbuf) {
			p->mem_peak = ss->rmem_alloc;
			p->rcvbuf = ss->rcvbuf;
		}
	}
	*out_n = m;
	return v;
}

static double fill_of(uint64_t q, uint64_t buf)
{
	return buf ? (double)q / (double)buf : 0.0;
}

static int fill_sockets(struct np_signals *s, const struct np_net_report *n)
{
	size_t n_peaks = 0;
	struct sock_peak *peaks;
	double best_fill = -1, best_acc = -1;
	uint32_t best_retrans = 0, best_udp_drops = 0;
	bool best_active = false;

	if (!n->have_sockets)
		return 0;
	peaks = mem_peaks(n, &n_peaks);
	if (!peaks)
		return -ENOMEM;
	s->have_sockets = true;
	for (size_t i = 0; i < n->n_socks; i++) {
		const struct np_net_sock *so = &n->socks[i];
		const struct np_rec_sock_summary *sum = &so->sum;

		if (!sum->polls)
			continue;
		s->n_sockets++;
		if (so->info.flags & NP_SOCK_LISTENER) {
			uint64_t limit = so->info.backlog_limit ? so->info.backlog_limit
								: sum->send_q_max;
			double acc = fill_of(sum->recv_q_max, limit);

			s->have_listen = true;
			s->listen_sock_drops += sum->sk_drops;
			if (limit && acc > best_acc) {
				best_acc = acc;
				s->acceptq_peak = sum->recv_q_max;
				s->acceptq_limit = limit;
				name_copy(s->listen_where, sizeof(s->listen_where), so->local);
			}
			if (limit > s->backlog_limit) {
				s->backlog_limit = limit;
				name_copy(s->backlog_where, sizeof(s->backlog_where), so->local);
			}
			continue;
		}
		if (so->info.proto == IPPROTO_UDP) {
			if (sum->sk_drops > best_udp_drops) {
				best_udp_drops = sum->sk_drops;
				name_copy(s->udp_drops_where, sizeof(s->udp_drops_where),
					  so->local);
			}
			s->sock_drops_udp += sum->sk_drops;
		} else if (so->info.proto == IPPROTO_TCP) {
			s->sock_drops_tcp += sum->sk_drops;
		}
		s->busy_ns += sum->busy_us * 1000;
		s->rwnd_limited_ns += sum->rwnd_limited_us * 1000;
		s->sndbuf_limited_ns += sum->sndbuf_limited_us * 1000;
		s->sock_retrans += sum->retrans;
		if (sum->retrans > best_retrans) {
			best_retrans = sum->retrans;
			sock_name(s->retrans_where, sizeof(s->retrans_where), so);
		}
		{
			struct sock_peak key = {.id = so->info.id}, *p;
			uint64_t rcvbuf = sum->rcvbuf_last, peak = sum->recv_q_max, mem = 0;
			bool active = sum->polls_recv_q >= 2;
			double fill;

			p = bsearch(&key, peaks, n_peaks, sizeof(*peaks), by_id);
			if (p && p->rcvbuf) {
				mem = p->mem_peak;
				if (!rcvbuf)
					rcvbuf = p->rcvbuf;
			}
			if (!rcvbuf)
				continue;
			fill = fill_of(max_u64(peak, mem), rcvbuf);
			/* a socket that held data in two polls beats a one-poll spike */
			if ((active && !best_active) ||
			    (active == best_active && fill > best_fill)) {
				best_fill = fill;
				best_active = active;
				s->recvq_peak_bytes = peak;
				s->recvq_mem_peak_bytes = mem;
				s->recvq_rcvbuf_bytes = rcvbuf;
				s->recvq_polls = sum->polls_recv_q;
				s->recvq_udp = so->info.proto == IPPROTO_UDP;
				sock_name(s->recvq_where, sizeof(s->recvq_where), so);
			}
		}
	}
	free(peaks);
	return 0;
}

/* --- counters, CPUs ------------------------------------------------------ */

static uint64_t snmp(const struct np_net_report *n, enum np_snmp_id id)
{
	return n->snmp_present & (1ull << id) ? n->snmp_delta[id] : 0;
}

static void fill_counters(struct np_signals *s, const struct np_net_report *n)
{
	const char *somax = np_net_config(n, "sysctl.net.core.somaxconn");

	if (n->have_snmp && (n->snmp_present & (1ull << NP_SNMP_TCP_OUT_SEGS))) {
		s->have_tcp_counters = true;
		s->out_segs = snmp(n, NP_SNMP_TCP_OUT_SEGS);
		s->retrans_segs = snmp(n, NP_SNMP_TCP_RETRANS_SEGS);
		s->tcp_timeouts = snmp(n, NP_SNMP_TCP_TIMEOUTS);
		s->loss_probes = snmp(n, NP_SNMP_TCP_LOSS_PROBES);
		s->dsack_segs = snmp(n, NP_SNMP_TCP_DSACK_RECV_SEGS);
		if (s->retrans_segs)
			s->spurious_share = s->dsack_segs >= s->retrans_segs
						    ? 1.0
						    : (double)s->dsack_segs /
							      (double)s->retrans_segs;
		s->listen_overflows = snmp(n, NP_SNMP_LISTEN_OVERFLOWS);
		s->listen_drops = snmp(n, NP_SNMP_LISTEN_DROPS);
		s->prune_called = snmp(n, NP_SNMP_PRUNE_CALLED);
		s->rcv_pruned = snmp(n, NP_SNMP_RCV_PRUNED);
		s->ofo_pruned = snmp(n, NP_SNMP_OFO_PRUNED);
		s->rcvq_drops = snmp(n, NP_SNMP_TCP_RCVQ_DROP);
		s->backlog_drops = snmp(n, NP_SNMP_TCP_BACKLOG_DROP);
		s->to_zero_window_adv = snmp(n, NP_SNMP_TCP_TO_ZERO_WINDOW_ADV);
		s->zero_window_drops = snmp(n, NP_SNMP_TCP_ZERO_WINDOW_DROP);
	}
	if (n->have_snmp && (n->snmp_present & (1ull << NP_SNMP_UDP_RCVBUF_ERRORS))) {
		s->have_udp_counters = true;
		s->udp_rcvbuf_errors = snmp(n, NP_SNMP_UDP_RCVBUF_ERRORS);
	}
	if (n->have_conntrack && n->conntrack_limit) {
		s->have_conntrack = true;
		s->conntrack_peak = n->conntrack_max_seen;
		s->conntrack_max = n->conntrack_limit;
	}
	if (somax && s->have_listen && s->backlog_limit) {
		s->have_backlog_config = true;
		s->somaxconn = strtoull(somax, NULL, 10);
	}
	for (size_t i = 0; i < n->n_cpus && s->n_cpus < NP_SIG_MAX_CPUS; i++) {
		const struct np_net_cpu *c = &n->cpus[i];
		struct np_sig_cpu *o;

		if (!(c->have & NP_CPU_SOFTNET))
			continue;
		o = &s->cpus[s->n_cpus++];
		memset(o, 0, sizeof(*o));
		o->cpu = c->cpu;
		o->softnet_dropped = c->dropped;
		o->time_squeeze = c->time_squeeze;
		o->processed_pkts = c->processed;
		o->net_rx_count = c->net_rx;
		if (c->have & NP_CPU_STAT) {
			o->softirq_ns = c->softirq_ns;
			o->steal_ns = c->steal_ns;
			o->busy_ns = c->user_ns + c->system_ns + c->irq_ns + c->softirq_ns +
				     c->steal_ns;
			o->stat_ns = o->busy_ns + c->idle_ns + c->iowait_ns;
		}
		s->have_softirq = true;
	}
	/* NET_RX/NET_TX time per CPU needs the softirq tracepoints, which the
	 * network source does not attach: have_softirq_time stays false. */
}

/* --- interfaces ---------------------------------------------------------- */

/* Virtual devices whose driver stands where a NIC's would. */
static bool virtual_nic(const char *kind)
{
	static const char *const kinds[] = {"veth", "tun", "netkit"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static bool eth_is_tx(const char *name)
{
	return !strncmp(name, "tx", 2) || strstr(name, "_tx") || strstr(name, "-tx") ||
	       strstr(name, ".tx");
}

/* The driver's drop counters: per direction, the larger of the aggregate
 * and the per-queue sums (drivers often keep both).  `use_perq` says which
 * set the total came from, for the per-window split. */
struct eth_counter {
	uint32_t index;
	char name[32];
	uint64_t first, last;
	bool seen, drop, perq, tx, timeout;
};

struct eth_iface {
	struct eth_counter *c;
	uint32_t n;
	bool use_perq[2]; /* [rx, tx] */
};

static int load_eth(const struct np_recording *rec, const struct np_net_report *n,
		    const struct np_net_iface *f, struct eth_iface *e)
{
	size_t nn;
	const struct np_rec_ethtool_name *names = np_recording_records(rec, NP_BLK_ETHTOOL_NAME,
								       &nn);
	uint64_t agg[2] = {0}, perq[2] = {0};

	memset(e, 0, sizeof(*e));
	if (!f->n_eth_total)
		return 0;
	e->n = (uint32_t)f->n_eth_total;
	e->c = calloc(e->n, sizeof(*e->c));
	if (!e->c)
		return -ENOMEM;
	for (size_t i = 0; i < nn; i++) {
		struct eth_counter *c;

		if (names[i].id != f->info.id || names[i].index >= e->n)
			continue;
		c = &e->c[names[i].index];
		c->index = names[i].index;
		memcpy(c->name, names[i].name, sizeof(c->name));
		c->name[sizeof(c->name) - 1] = '\0';
		c->drop = np_net_ethstat_is_drop(c->name);
		c->perq = np_net_ethstat_is_per_queue(c->name);
		c->tx = eth_is_tx(c->name);
		c->timeout = strstr(c->name, "timeout") != NULL;
	}
	for (size_t i = 0; i < n->n_eth_samples; i++) {
		const struct np_rec_ethtool_sample *es = &n->eth_samples[i];
		struct eth_counter *c;

		if (es->id != f->info.id || es->index >= e->n)
			continue;
		c = &e->c[es->index];
		if (!c->seen)
			c->first = es->value;
		c->last = es->value;
		c->seen = true;
	}
	for (uint32_t i = 0; i < e->n; i++) {
		const struct eth_counter *c = &e->c[i];

		if (c->drop && c->seen)
			*(c->perq ? &perq[c->tx] : &agg[c->tx]) += sub0(c->last, c->first);
	}
	e->use_perq[0] = perq[0] > agg[0];
	e->use_perq[1] = perq[1] > agg[1];
	return 0;
}

static bool eth_counts(const struct eth_iface *e, const struct eth_counter *c, bool tx)
{
	return c->drop && c->tx == tx && c->perq == e->use_perq[tx];
}

static void fill_driver(struct np_sig_iface *o, const struct np_net_iface *f,
			const struct eth_iface *e)
{
	uint64_t top = 0;

	if (!e->n || f->info.ethtool_err)
		return;
	o->have_driver = true;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct eth_counter *c = &e->c[i];
		uint64_t d = sub0(c->last, c->first);

		if (!c->seen || !d)
			continue;
		if (c->timeout)
			o->tx_timeouts += d;
		if (eth_counts(e, c, false))
			o->driver_rx_drops += d;
		if (eth_counts(e, c, true))
			o->driver_tx_drops += d;
		if (c->drop && !c->tx && d > top) {
			top = d;
			name_copy(o->driver_top, sizeof(o->driver_top), c->name);
		}
	}
}

/* "on", or "off [fixed]" (the device cannot: nothing to turn on) count as
 * on; only a plain "off" is an offload someone turned off.  -1: unknown. */
static int feature(const struct np_net_report *n, uint32_t id, const char *name)
{
	char key[96];
	const char *v;

	snprintf(key, sizeof(key), "if.%u.feature.%s", id, name);
	v = np_net_config(n, key);
	if (!v)
		return -1;
	return strcmp(v, "off") != 0;
}

static void fill_config(struct np_sig_iface *o, const struct np_net_report *n,
			const struct np_net_iface *f)
{
	static const char *const tx_csum[] = {"tx-checksum-ipv4", "tx-checksum-ip-generic",
					      "tx-checksum-ipv6"};
	int tso = feature(n, f->info.id, "tx-tcp-segmentation");
	int gso = feature(n, f->info.id, "tx-generic-segmentation");
	int gro = feature(n, f->info.id, "rx-gro");
	int rxc = feature(n, f->info.id, "rx-checksum");
	int txc = -1;
	char key[96];

	for (size_t i = 0; i < sizeof(tx_csum) / sizeof(tx_csum[0]); i++) {
		int v = feature(n, f->info.id, tx_csum[i]);

		if (v > txc)
			txc = v;
	}
	if (tso >= 0 || gso >= 0 || gro >= 0 || rxc >= 0 || txc >= 0) {
		o->have_offloads = true;
		o->tso = tso != 0;
		o->gso = gso != 0;
		o->gro = gro != 0;
		o->rx_csum = rxc != 0;
		o->tx_csum = txc != 0;
	}
	o->rx_queues = f->info.num_rx_queues;
	for (uint32_t q = 0; q < f->info.num_rx_queues && q < 64; q++) {
		const char *v;

		snprintf(key, sizeof(key), "if.%u.rx-%u.rps_cpus.cpus", f->info.id, q);
		v = np_net_config(n, key);
		if (!v)
			continue;
		o->have_rps = true;
		o->rps_on |= strtoul(v, NULL, 10) > 0;
	}
}

/* Per window, for the NIC-layer interfaces: driver receive drops, missed
 * packets, rx_dropped (the softnet part is taken out per window below),
 * link errors and carrier changes. */
struct nic_windows {
	uint64_t *rx_drops, *rx_dropped, *errors;
};

static void nic_iface_windows(struct np_signals *s, const struct np_net_report *n,
			      const struct np_net_iface *f, const struct eth_iface *e,
			      struct nic_windows *nw)
{
	const struct np_rec_link_sample *p = NULL;
	const struct np_rec_ethtool_sample **prev;

	for (size_t i = 0; i < n->n_link_samples; i++) {
		const struct np_rec_link_sample *ls = &n->link_samples[i];
		long w;

		if (ls->id != f->info.id)
			continue;
		w = np_signals_window_of(s, ls->ts_ns);
		if (p && w >= 0) {
			nw->rx_drops[w] += sub0(ls->rx_missed_errors, p->rx_missed_errors);
			nw->rx_dropped[w] += sub0(ls->rx_dropped, p->rx_dropped);
			nw->errors[w] += sub0(ls->rx_errors, p->rx_errors) +
					 sub0(ls->tx_errors, p->tx_errors) +
					 (ls->carrier_changes > p->carrier_changes
						  ? ls->carrier_changes - p->carrier_changes
						  : 0);
		}
		p = ls;
	}
	if (!e->n || f->info.ethtool_err)
		return;
	prev = calloc(e->n, sizeof(*prev));
	if (!prev)
		return;
	for (size_t i = 0; i < n->n_eth_samples; i++) {
		const struct np_rec_ethtool_sample *es = &n->eth_samples[i];
		const struct eth_counter *c;
		long w;

		if (es->id != f->info.id || es->index >= e->n)
			continue;
		c = &e->c[es->index];
		w = np_signals_window_of(s, es->ts_ns);
		if (prev[es->index] && w >= 0) {
			uint64_t d = sub0(es->value, prev[es->index]->value);

			if (eth_counts(e, c, false))
				nw->rx_drops[w] += d;
			if (c->timeout)
				nw->errors[w] += d;
		}
		prev[es->index] = es;
	}
	free(prev);
}

static int fill_ifaces(struct np_signals *s, const struct np_recording *rec,
		       const struct np_net_report *n, struct nic_windows *nw)
{
	const struct np_net_iface **order;
	int rc = 0;

	if (!n->n_ifs)
		return 0;
	order = calloc(n->n_ifs, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_ifs; i++)
		order[i] = &n->ifs[i];
	qsort(order, n->n_ifs, sizeof(*order), np_net_iface_by_traffic);
	for (size_t i = 0; i < n->n_ifs && s->n_ifaces < NP_SIG_MAX_IFACES && !rc; i++) {
		const struct np_net_iface *f = order[i];
		struct np_sig_iface *o = &s->ifaces[s->n_ifaces++];
		struct eth_iface e;

		memset(o, 0, sizeof(*o));
		name_copy(o->name, sizeof(o->name), f->info.name);
		name_copy(o->kind, sizeof(o->kind), f->info.kind);
		o->hardware = !f->info.kind[0] && !(f->info.flags & IFF_LOOPBACK);
		o->nic_layer = o->hardware || virtual_nic(f->info.kind);
		if (f->have_link) {
			o->have_link = true;
			o->rx_pkts = f->delta.rx_packets;
			o->tx_pkts = f->delta.tx_packets;
			o->rx_bytes = f->delta.rx_bytes;
			o->tx_bytes = f->delta.tx_bytes;
			o->rx_dropped = f->delta.rx_dropped;
			o->tx_dropped = f->delta.tx_dropped;
			o->rx_missed = f->delta.rx_missed_errors;
			o->rx_errors = f->delta.rx_errors;
			o->tx_errors = f->delta.tx_errors;
			o->carrier_changes = f->delta.carrier_changes;
		}
		if (f->root) {
			o->have_qdisc = true;
			name_copy(o->qdisc_kind, sizeof(o->qdisc_kind), f->root->kind);
			o->qdisc_drops = f->root->drops;
			o->qdisc_overlimits = f->root->overlimits;
			o->qdisc_requeues = f->root->requeues;
			o->qdisc_backlog_max_pkts = f->root->qlen_max;
			o->qdisc_backlog_max_bytes = f->root->backlog_max_bytes;
		}
		rc = load_eth(rec, n, f, &e);
		if (rc)
			break;
		fill_driver(o, f, &e);
		fill_config(o, n, f);
		if (o->nic_layer)
			nic_iface_windows(s, n, f, &e, nw);
		free(e.c);
	}
	free(order);
	return rc;
}

/* --- per window ---------------------------------------------------------- */

/* Root qdiscs' queue length per window: the largest sample in it, and a
 * queue holds until the next sample says otherwise. */
static void qdisc_windows(struct np_signals *s, const struct np_net_report *n)
{
	for (size_t k = 0; k < n->n_ifs; k++) {
		const struct np_net_iface *f = &n->ifs[k];
		uint64_t carried = 0;
		long last_w = -1;

		if (!f->root)
			continue;
		for (size_t i = 0; i < n->n_qdisc_samples; i++) {
			const struct np_rec_qdisc_sample *q = &n->qdisc_samples[i];
			long w;

			if (q->id != f->info.id || q->handle != f->root->handle ||
			    q->parent != f->root->parent)
				continue;
			w = np_signals_window_of(s, q->ts_ns);
			if (w < 0)
				continue;
			for (long x = last_w + 1; last_w >= 0 && x < w; x++)
				s->windows[x].v[NP_W_QDISC_BACKLOG_PKTS] =
					max_u64(s->windows[x].v[NP_W_QDISC_BACKLOG_PKTS], carried);
			s->windows[w].v[NP_W_QDISC_BACKLOG_PKTS] =
				max_u64(s->windows[w].v[NP_W_QDISC_BACKLOG_PKTS], q->qlen);
			carried = q->qlen;
			last_w = w;
		}
		for (long x = last_w + 1; last_w >= 0 && (size_t)x < s->n_windows; x++)
			s->windows[x].v[NP_W_QDISC_BACKLOG_PKTS] =
				max_u64(s->windows[x].v[NP_W_QDISC_BACKLOG_PKTS], carried);
	}
}

static void net_windows(struct np_signals *s, const struct np_net_report *n,
			const struct nic_windows *nw)
{
	uint64_t *softnet = calloc(s->n_windows ? s->n_windows : 1, sizeof(*softnet));

	for (size_t i = 0; i < n->n_windows; i++) {
		const struct np_net_window *x = &n->windows[i];
		long w = np_signals_window_of(s, x->start_ns + (x->end_ns - x->start_ns) / 2);
		uint64_t *v;

		if (w < 0)
			continue;
		v = s->windows[w].v;
		v[NP_W_RECVQ_PEAK_BYTES] = max_u64(v[NP_W_RECVQ_PEAK_BYTES], x->recv_q_max);
		v[NP_W_ACCEPTQ_PEAK] = max_u64(v[NP_W_ACCEPTQ_PEAK], x->accept_q_max);
		v[NP_W_LISTEN_OVERFLOWS] += max_u64(x->snmp[NP_SNMP_LISTEN_OVERFLOWS],
						    x->snmp[NP_SNMP_LISTEN_DROPS]);
		v[NP_W_SOCKET_DROPS] += x->snmp[NP_SNMP_PRUNE_CALLED] +
					x->snmp[NP_SNMP_TCP_RCVQ_DROP] +
					x->snmp[NP_SNMP_TCP_BACKLOG_DROP] +
					x->snmp[NP_SNMP_OFO_PRUNED];
		v[NP_W_RETRANS_SEGS] += x->snmp[NP_SNMP_TCP_RETRANS_SEGS];
		v[NP_W_TCP_TIMEOUTS] += x->snmp[NP_SNMP_TCP_TIMEOUTS];
		v[NP_W_SOFTNET_DROPS] += x->softnet_dropped;
		v[NP_W_TIME_SQUEEZE] += x->time_squeeze;
		v[NP_W_QDISC_DROPS] += x->qdisc_drops;
		if (softnet)
			softnet[w] += x->softnet_dropped;
	}
	for (size_t w = 0; w < s->n_windows; w++) {
		uint64_t *v = s->windows[w].v;

		v[NP_W_NIC_RX_DROPS] = nw->rx_drops[w] +
				       (softnet && s->have_softirq
						? sub0(nw->rx_dropped[w], softnet[w])
						: 0);
		v[NP_W_NIC_ERRORS] = nw->errors[w];
		v[NP_W_RCVBUF_BYTES] = s->recvq_rcvbuf_bytes;
		v[NP_W_ACCEPTQ_LIMIT] = s->acceptq_limit;
	}
	free(softnet);
	qdisc_windows(s, n);
	if (s->have_sockets)
		s->wknown |= 1ull << NP_W_RECVQ_PEAK_BYTES;
	if (s->recvq_rcvbuf_bytes)
		s->wknown |= 1ull << NP_W_RCVBUF_BYTES;
	if (s->have_listen) {
		s->wknown |= 1ull << NP_W_ACCEPTQ_PEAK;
		if (s->acceptq_limit)
			s->wknown |= 1ull << NP_W_ACCEPTQ_LIMIT;
	}
	if (s->have_tcp_counters)
		s->wknown |= 1ull << NP_W_LISTEN_OVERFLOWS | 1ull << NP_W_SOCKET_DROPS |
			     1ull << NP_W_RETRANS_SEGS | 1ull << NP_W_TCP_TIMEOUTS;
	if (s->have_softirq)
		s->wknown |= 1ull << NP_W_SOFTNET_DROPS | 1ull << NP_W_TIME_SQUEEZE;
	if (n->have_nic) {
		s->wknown |= 1ull << NP_W_QDISC_DROPS | 1ull << NP_W_QDISC_BACKLOG_PKTS |
			     1ull << NP_W_NIC_RX_DROPS | 1ull << NP_W_NIC_ERRORS;
	}
}

int np_signals_from_net(struct np_signals *s, const struct np_recording *rec,
			const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	struct nic_windows nw;
	size_t nwin = s->n_windows ? s->n_windows : 1;
	int rc;

	if (!n->have_sockets && !n->have_nic && !n->have_host)
		return 0;
	nw.rx_drops = calloc(nwin, sizeof(uint64_t));
	nw.rx_dropped = calloc(nwin, sizeof(uint64_t));
	nw.errors = calloc(nwin, sizeof(uint64_t));
	rc = nw.rx_drops && nw.rx_dropped && nw.errors ? 0 : -ENOMEM;
	if (!rc)
		rc = fill_sockets(s, n);
	if (!rc) {
		fill_counters(s, n);
		rc = fill_ifaces(s, rec, n, &nw);
	}
	if (!rc && s->n_windows)
		net_windows(s, n, &nw);
	free(nw.rx_drops);
	free(nw.rx_dropped);
	free(nw.errors);
	return rc;
}
