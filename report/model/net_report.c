/* net_report.c - sockets, interfaces, CPUs, TCP counters and configuration from a
 * recording (see net_report.h); their text section is report/render/text_net.c.
 *
 * Samples are written only when they change (profiler/format/netrec.h), so a
 * counter's delta is the difference between its first and last sample, and
 * the delta of one sample is attributed to the window holding the poll
 * that observed it.  Every id in a record is checked against the entities
 * the recording declared: the file is untrusted.
 */
#include "report/model/net_report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"

static const char *tcp_state_name(unsigned int st)
{
	static const char *const names[] = {"UNKNOWN",    "ESTAB",      "SYN-SENT",  "SYN-RECV",
					    "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSE",
					    "CLOSE-WAIT", "LAST-ACK",   "LISTEN",    "CLOSING"};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "UNKNOWN";
}

static const char *udp_state_name(unsigned int st)
{
	return st == 1 ? "ESTAB" : "UNCONN";
}

bool np_net_ethstat_is_drop(const char *name)
{
	static const char *const words[] = {"drop",          "miss",    "discard",
					    "no_buf",        "nobuf",   "no_buffer",
					    "out_of_buffer", "overrun", "fifo"};

	if (strstr(name, "xdp_tx") && !strstr(name, "drop"))
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(name, words[i]))
			return true;
	return false;
}

/* A digit run that stands for a queue: "rx_queue_0_drops", "rx0_drops",
 * "queue_1_rx", "tx-3.packets". */
bool np_net_ethstat_is_per_queue(const char *name)
{
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			continue;
		const char *q = p;

		while (*q >= '0' && *q <= '9')
			q++;
		bool before = p > name &&
			      (p[-1] == '_' || p[-1] == '-' || p[-1] == 'x' || p[-1] == 'q');
		bool after = *q == '_' || *q == '.' || *q == '-';

		if (before && after)
			return true;
		p = q - 1;
	}
	return false;
}

/* Recorded strings come from another host: printable ASCII only. */
static void clean(char *s, size_t len)
{
	for (size_t i = 0; i < len && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	if (len)
		s[len - 1] = '\0';
}

/* ---- config ---- */

static int parse_config(struct np_net_report *n, const char *text, size_t len)
{
	size_t cap = 0, kept = 0;
	int rc = np_kvtext_parse(text, len, &n->config, &n->n_config, &cap);

	/* The snapshot has no empty keys (only a crafted file does: dropped),
	 * and what is shown goes to a terminal: other bytes become '?'. */
	for (size_t i = 0; i < n->n_config; i++) {
		struct np_meta_kv *kv = &n->config[i];

		if (!kv->key[0]) {
			free(kv->key);
			free(kv->value);
			continue;
		}
		clean(kv->key, strlen(kv->key) + 1);
		clean(kv->value, strlen(kv->value) + 1);
		n->config[kept++] = *kv;
	}
	n->n_config = kept;
	return rc;
}

int np_net_iface_by_traffic(const void *a, const void *b)
{
	const struct np_net_iface *x = *(const struct np_net_iface *const *)a;
	const struct np_net_iface *y = *(const struct np_net_iface *const *)b;
	uint64_t tx = x->delta.rx_packets + x->delta.tx_packets;
	uint64_t ty = y->delta.rx_packets + y->delta.tx_packets;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return x->info.id < y->info.id ? -1 : x->info.id > y->info.id;
}

const char *np_net_config(const struct np_net_report *n, const char *key)
{
	for (size_t i = n->n_config; i-- > 0;)
		if (!strcmp(n->config[i].key, key))
			return n->config[i].value;
	return NULL;
}

bool np_net_backlog_clamped(const struct np_net_report *n, const struct np_net_sock *s)
{
	const char *v = np_net_config(n, "sysctl.net.core.somaxconn");
	unsigned long somax;

	if (!v || !(s->info.flags & NP_SOCK_LISTENER))
		return false;
	somax = strtoul(v, NULL, 10);
	return somax && s->info.backlog_limit >= somax;
}

/* ---- windows ---- */

static struct np_net_window *window_at(struct np_net_report *n, uint64_t ts)
{
	size_t i;

	if (!n->n_windows || ts < n->windows[0].start_ns)
		return n->n_windows ? &n->windows[0] : NULL;
	i = (size_t)((ts - n->windows[0].start_ns) / n->window_ns);
	return &n->windows[i < n->n_windows ? i : n->n_windows - 1];
}

static int make_windows(struct np_net_report *n, uint64_t start, uint64_t end, uint64_t poll_ns)
{
	uint64_t dur = end > start ? end - start : 0, w = dur / 120;

	if (w < poll_ns)
		w = poll_ns;
	if (w < 100000000ull)
		w = 100000000ull;
	n->window_ns = w;
	n->n_windows = dur ? (size_t)((dur + w - 1) / w) : 1;
	n->windows = calloc(n->n_windows, sizeof(*n->windows));
	if (!n->windows)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_windows; i++) {
		n->windows[i].start_ns = start + i * w;
		n->windows[i].end_ns = start + (i + 1) * w < end ? start + (i + 1) * w : end;
		if (n->n_cpus) {
			n->windows[i].net_rx_cpu = calloc(n->n_cpus, sizeof(uint64_t));
			if (!n->windows[i].net_rx_cpu)
				return -ENOMEM;
		}
	}
	return 0;
}

/* ---- sockets ---- */

static int by_sock_id(const void *a, const void *b)
{
	const struct np_net_sock *x = a, *y = b;

	return x->info.id < y->info.id ? -1 : x->info.id > y->info.id;
}

static struct np_net_sock *sock_by_id(struct np_net_report *n, uint32_t id)
{
	struct np_net_sock key = {.info.id = id};

	return bsearch(&key, n->socks, n->n_socks, sizeof(*n->socks), by_sock_id);
}

static int busiest_sock(const void *a, const void *b)
{
	const struct np_net_sock *x = a, *y = b;
	uint64_t qx = (uint64_t)x->sum.recv_q_max +
		      (x->info.flags & NP_SOCK_LISTENER ? 0 : x->sum.send_q_max);
	uint64_t qy = (uint64_t)y->sum.recv_q_max +
		      (y->info.flags & NP_SOCK_LISTENER ? 0 : y->sum.send_q_max);

	if (qx != qy)
		return qx < qy ? 1 : -1;
	if (x->sum.retrans != y->sum.retrans)
		return x->sum.retrans < y->sum.retrans ? 1 : -1;
	return x->info.id < y->info.id ? -1 : x->info.id > y->info.id;
}

struct pid_at {
	uint64_t inode;
	size_t at; /* file order */
	uint32_t pid;
};

static int by_inode_then_order(const void *a, const void *b)
{
	const struct pid_at *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Each socket's process: the latest record of its inode (sorted, then a
 * binary search per socket, so a crafted file cannot make it quadratic). */
static int attach_sock_pids(struct np_net_report *n, const struct np_rec_sock_pid *pids,
			    size_t npids)
{
	struct pid_at *v = calloc(npids, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < npids; i++)
		v[i] = (struct pid_at){.inode = pids[i].inode, .at = i, .pid = pids[i].pid};
	qsort(v, npids, sizeof(*v), by_inode_then_order);
	for (size_t k = 0; k < n->n_socks; k++) {
		size_t lo = 0, hi = npids;
		uint64_t inode = n->socks[k].info.inode;

		while (lo < hi) { /* the first entry past inode */
			size_t mid = lo + (hi - lo) / 2;

			if (v[mid].inode <= inode)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo && v[lo - 1].inode == inode)
			n->socks[k].pid = v[lo - 1].pid;
	}
	free(v);
	return 0;
}

static int netns_by_inode(const void *a, const void *b)
{
	const struct np_rec_sock_netns *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Distinct values of v[0..n), sorted in place. */
static uint32_t distinct(uint64_t *v, size_t n)
{
	uint32_t k = 0;

	qsort(v, n, sizeof(*v), np_u64_cmp);
	for (size_t i = 0; i < n; i++)
		k += !i || v[i] != v[i - 1];
	return k;
}

/* Namespaces and sockets of NP_BLK_SOCK_NETNS, counted; returns the
 * records sorted by inode (NULL when there are none), for
 * attach_sock_netns().  A socket can have several records (its identity
 * changed while its namespace could not be entered): each counts once. */
static struct np_rec_sock_netns *
count_sock_netns(struct np_net_report *n, const struct np_recording *rec, size_t *nr, int *err)
{
	const struct np_rec_sock_netns *src = np_recording_records(rec, NP_BLK_SOCK_NETNS, nr);
	struct np_rec_sock_netns *v;
	uint64_t *polled, *unpolled, *socks;
	size_t np = 0, nu = 0;

	*err = 0;
	if (!*nr)
		return NULL;
	v = malloc(*nr * sizeof(*v));
	polled = malloc(*nr * sizeof(*polled));
	unpolled = malloc(*nr * sizeof(*unpolled));
	socks = malloc(*nr * sizeof(*socks));
	if (!v || !polled || !unpolled || !socks) {
		free(v);
		v = NULL;
		*err = -ENOMEM;
		goto out;
	}
	memcpy(v, src, *nr * sizeof(*v));
	qsort(v, *nr, sizeof(*v), netns_by_inode);
	for (size_t i = 0; i < *nr; i++) {
		if (v[i].flags & NP_SOCKNS_UNPOLLED) {
			socks[nu] = v[i].inode;
			unpolled[nu++] = v[i].netns_ino;
		} else {
			polled[np++] = v[i].netns_ino;
		}
	}
	n->have_sock_netns = true;
	n->netns_primary = v[0].primary_ino;
	n->netns_polled = 1 + distinct(polled, np);
	n->netns_unpolled = distinct(unpolled, nu);
	n->sockets_unpolled = distinct(socks, nu);
out:
	free(polled);
	free(unpolled);
	free(socks);
	return v;
}

/* Each socket's namespace: the primary's unless a record names another. */
static void attach_sock_netns(struct np_net_report *n, const struct np_rec_sock_netns *v, size_t nr)
{
	for (size_t k = 0; k < n->n_socks; k++) {
		struct np_net_sock *s = &n->socks[k];
		struct np_rec_sock_netns key = {.inode = s->info.inode};
		const struct np_rec_sock_netns *f = bsearch(&key, v, nr, sizeof(*v),
							    netns_by_inode);

		s->netns_ino = n->netns_primary;
		if (f && !(f->flags & NP_SOCKNS_UNPOLLED) && f->netns_ino != n->netns_primary) {
			s->netns_ino = f->netns_ino;
			s->netns_other = true;
		}
	}
}

static int sock_netns(struct np_net_report *n, const struct np_recording *rec)
{
	size_t nr;
	int err;
	struct np_rec_sock_netns *v = count_sock_netns(n, rec, &nr, &err);

	if (v)
		attach_sock_netns(n, v, nr);
	free(v);
	return err;
}

void np_net_netns_note(const struct np_net_report *n, char *buf, size_t len, bool *degraded)
{
	size_t at;

	buf[0] = '\0';
	*degraded = n->netns_unpolled > 0;
	if (!n->have_sock_netns)
		return;
	if (n->netns_polled > 1)
		snprintf(buf, len,
			 "; polled in %u network namespaces: the primary target's (net:[%llu]) "
			 "and %u other%s where target processes live",
			 n->netns_polled, (unsigned long long)n->netns_primary, n->netns_polled - 1,
			 n->netns_polled > 2 ? "s" : "");
	at = strlen(buf);
	if (n->netns_unpolled && at < len)
		snprintf(buf + at, len - at,
			 "; %u socket%s in %u more namespace%s not polled (past the cap of 16, "
			 "or not enterable)",
			 n->sockets_unpolled, n->sockets_unpolled == 1 ? "" : "s",
			 n->netns_unpolled, n->netns_unpolled == 1 ? "" : "s");
	at = strlen(buf);
	if (at < len)
		snprintf(buf + at, len - at,
			 "; nic and tcp_counters cover the primary target's namespace only "
			 "(softirq is host-wide)");
}

static int build_sockets(struct np_net_report *n, const struct np_recording *rec)
{
	size_t ni, ns, np;
	const struct np_rec_sock_info *infos = np_recording_records(rec, NP_BLK_SOCK_INFO, &ni);
	const struct np_rec_sock_summary *sums = np_recording_records(rec, NP_BLK_SOCK_SUMMARY,
								      &ns);
	const struct np_rec_net_poll *polls = np_recording_records(rec, NP_BLK_NET_POLL, &np);
	size_t out = 0;

	n->polls = polls;
	n->n_polls = np;
	n->sock_samples = np_recording_records(rec, NP_BLK_SOCK_SAMPLE, &n->n_sock_samples);
	if (!ni)
		return sock_netns(n, rec);
	n->socks = calloc(ni, sizeof(*n->socks));
	if (!n->socks)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++)
		n->socks[i].info = infos[i];
	n->n_socks = ni;
	qsort(n->socks, ni, sizeof(*n->socks), by_sock_id);
	/* one entry per id (a crafted file may repeat one) */
	for (size_t i = 0; i < ni; i++)
		if (!out || n->socks[out - 1].info.id != n->socks[i].info.id)
			n->socks[out++] = n->socks[i];
	n->n_socks = out;
	{
		size_t npids;
		const struct np_rec_sock_pid *pids = np_recording_records(rec, NP_BLK_SOCK_PIDS,
									  &npids);

		/* the pid column only when the sockets belong to several processes */
		for (size_t i = 1; i < npids; i++)
			n->have_sock_pids |= pids[i].pid != pids[0].pid;
		if (n->have_sock_pids && attach_sock_pids(n, pids, npids))
			return -ENOMEM;
	}
	if (sock_netns(n, rec))
		return -ENOMEM;
	for (size_t i = 0; i < ns; i++) {
		struct np_net_sock *s = sock_by_id(n, sums[i].id);

		if (s && sums[i].ts_ns >= s->sum.ts_ns)
			s->sum = sums[i];
	}
	for (size_t i = 0; i < n->n_socks; i++) {
		struct np_net_sock *s = &n->socks[i];
		uint8_t fam = s->info.family == AF_INET6 ? AF_INET6 : AF_INET;

		s->proto = s->info.proto == IPPROTO_UDP ? "udp" : "tcp";
		s->state = s->info.proto == IPPROTO_UDP
				   ? udp_state_name(s->sum.polls ? s->sum.state_last
								 : s->info.state)
				   : tcp_state_name(s->sum.polls ? s->sum.state_last
								 : s->info.state);
		np_format_endpoint(fam, s->info.laddr, s->info.lport, s->local, sizeof(s->local));
		np_format_endpoint(fam, s->info.raddr, s->info.rport, s->peer, sizeof(s->peer));
		if (s->sum.flags & NP_SOCKSUM_CLOSED)
			n->sockets_closed++;
		if (s->sum.rtt_us_min == UINT32_MAX)
			s->sum.rtt_us_min = 0;
		if (s->sum.cwnd_min == UINT32_MAX)
			s->sum.cwnd_min = 0;
	}
	qsort(n->socks, n->n_socks, sizeof(*n->socks), busiest_sock);
	for (size_t i = 0; i < np; i++)
		if (polls[i].skipped > n->sockets_skipped_max)
			n->sockets_skipped_max = polls[i].skipped;
	return 0;
}

static int u64_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double q)
{
	return n ? v[(size_t)((double)(n - 1) * q + 0.5)] : 0;
}

static int build_poll_cost(struct np_net_report *n)
{
	uint64_t *all, *s, *d, *h, *q;

	if (!n->n_polls)
		return 0;
	all = calloc(n->n_polls, sizeof(*all));
	s = calloc(n->n_polls, sizeof(*s));
	d = calloc(n->n_polls, sizeof(*d));
	h = calloc(n->n_polls, sizeof(*h));
	q = calloc(n->n_polls, sizeof(*q));
	if (!all || !s || !d || !h || !q) {
		free(all);
		free(s);
		free(d);
		free(h);
		free(q);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n->n_polls; i++) {
		const struct np_rec_net_poll *p = &n->polls[i];

		s[i] = p->sock_cpu_ns;
		d[i] = p->nic_cpu_ns;
		h[i] = p->host_cpu_ns;
		q[i] = p->dumped;
		all[i] = s[i] + d[i] + h[i];
		if (p->sockets > n->poll_sockets_max)
			n->poll_sockets_max = p->sockets;
	}
	qsort(all, n->n_polls, sizeof(*all), u64_order);
	qsort(s, n->n_polls, sizeof(*s), u64_order);
	qsort(d, n->n_polls, sizeof(*d), u64_order);
	qsort(h, n->n_polls, sizeof(*h), u64_order);
	qsort(q, n->n_polls, sizeof(*q), u64_order);
	n->poll_cpu_p50_ns = pct(all, n->n_polls, 0.5);
	n->poll_cpu_p95_ns = pct(all, n->n_polls, 0.95);
	n->poll_cpu_max_ns = pct(all, n->n_polls, 1.0);
	n->poll_sock_p50_ns = pct(s, n->n_polls, 0.5);
	n->poll_nic_p50_ns = pct(d, n->n_polls, 0.5);
	n->poll_host_p50_ns = pct(h, n->n_polls, 0.5);
	n->poll_queried_p50 = (uint32_t)pct(q, n->n_polls, 0.5);
	free(q);
	free(all);
	free(s);
	free(d);
	free(h);
	return 0;
}

/* ---- interfaces ---- */

static struct np_net_iface *iface_by_id(struct np_net_report *n, uint32_t id)
{
	for (size_t i = 0; i < n->n_ifs; i++)
		if (n->ifs[i].info.id == id)
			return &n->ifs[i];
	return NULL;
}

/* One X-macro list, laid out by hand. */
/* clang-format off */
#define LINK_FIELDS(X)                                                                     \
	X(rx_packets) X(tx_packets) X(rx_bytes) X(tx_bytes) X(rx_errors) X(tx_errors)       \
	X(rx_dropped) X(tx_dropped) X(multicast) X(collisions) X(rx_length_errors)          \
	X(rx_over_errors) X(rx_crc_errors) X(rx_frame_errors) X(rx_fifo_errors)             \
	X(rx_missed_errors) X(tx_aborted_errors) X(tx_carrier_errors) X(tx_fifo_errors)     \
	X(tx_heartbeat_errors) X(tx_window_errors) X(rx_nohandler)
/* clang-format on */

static void link_delta(const struct np_rec_link_sample *a, const struct np_rec_link_sample *b,
		       struct np_rec_link_sample *d)
{
#define SUB(f) d->f = b->f >= a->f ? b->f - a->f : 0;
	LINK_FIELDS(SUB)
#undef SUB
	d->carrier_changes = b->carrier_changes >= a->carrier_changes
				     ? b->carrier_changes - a->carrier_changes
				     : 0;
	d->operstate = b->operstate;
}

#define ETH_DROP 1
#define ETH_PERQ 2

static int eth_order(const void *a, const void *b)
{
	const struct np_net_ethstat *x = a, *y = b;

	if (x->delta != y->delta)
		return x->delta < y->delta ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int build_ethtool(struct np_net_report *n, const struct np_recording *rec)
{
	size_t nn;
	const struct np_rec_ethtool_name *names = np_recording_records(rec, NP_BLK_ETHTOOL_NAME,
								       &nn);
	const struct np_rec_ethtool_sample *es = n->eth_samples;

	for (size_t k = 0; k < n->n_ifs; k++) {
		struct np_net_iface *f = &n->ifs[k];
		uint32_t count = 0;
		struct np_net_ethstat *all;
		uint64_t agg = 0, perq = 0;
		bool *seen;

		/* the latest name table of this interface */
		for (size_t i = 0; i < nn; i++)
			if (names[i].id == f->info.id && names[i].index + 1 > count &&
			    names[i].index < 65536)
				count = names[i].index + 1;
		if (!count)
			continue;
		all = calloc(count, sizeof(*all));
		seen = calloc(count, sizeof(*seen));
		if (!all || !seen) {
			free(all);
			free(seen);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nn; i++)
			if (names[i].id == f->info.id && names[i].index < count) {
				memcpy(all[names[i].index].name, names[i].name,
				       sizeof(all[0].name));
				clean(all[names[i].index].name, sizeof(all[0].name));
			}
		for (size_t i = 0; i < n->n_eth_samples; i++) {
			struct np_net_ethstat *e;

			if (es[i].id != f->info.id || es[i].index >= count)
				continue;
			e = &all[es[i].index];
			if (!seen[es[i].index]) {
				e->first = es[i].value;
				seen[es[i].index] = true;
			}
			e->last = es[i].value;
		}
		f->n_eth_total = count;
		f->eth_flags = calloc(count, 1);
		if (!f->eth_flags) {
			free(all);
			free(seen);
			return -ENOMEM;
		}
		size_t out = 0;

		for (uint32_t i = 0; i < count; i++) {
			struct np_net_ethstat *e = &all[i];

			e->delta = e->last >= e->first ? e->last - e->first : 0;
			e->drop = np_net_ethstat_is_drop(e->name);
			e->per_queue = np_net_ethstat_is_per_queue(e->name);
			f->eth_flags[i] = (e->drop ? ETH_DROP : 0) | (e->per_queue ? ETH_PERQ : 0);
			if (e->drop)
				*(e->per_queue ? &perq : &agg) += e->delta;
			if (e->delta)
				all[out++] = *e;
		}
		qsort(all, out, sizeof(*all), eth_order);
		f->eth = all;
		f->n_eth = out;
		f->driver_drops = agg > perq ? agg : perq;
		free(seen);
	}
	return 0;
}

static int build_ifaces(struct np_net_report *n, const struct np_recording *rec)
{
	size_t ni;
	const struct np_rec_iface *infos = np_recording_records(rec, NP_BLK_IFACE, &ni);

	n->link_samples = np_recording_records(rec, NP_BLK_LINK_SAMPLE, &n->n_link_samples);
	n->qdisc_samples = np_recording_records(rec, NP_BLK_QDISC_SAMPLE, &n->n_qdisc_samples);
	n->eth_samples = np_recording_records(rec, NP_BLK_ETHTOOL_SAMPLE, &n->n_eth_samples);
	if (!ni)
		return 0;
	n->ifs = calloc(ni, sizeof(*n->ifs));
	if (!n->ifs)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++) {
		if (iface_by_id(n, infos[i].id))
			continue;
		struct np_rec_iface *fi = &n->ifs[n->n_ifs].info;

		*fi = infos[i];
		clean(fi->name, sizeof(fi->name));
		clean(fi->kind, sizeof(fi->kind));
		clean(fi->driver, sizeof(fi->driver));
		clean(fi->netns, sizeof(fi->netns));
		n->n_ifs++;
	}
	for (size_t i = 0; i < n->n_link_samples; i++) {
		const struct np_rec_link_sample *s = &n->link_samples[i];
		struct np_net_iface *f = iface_by_id(n, s->id);

		if (!f)
			continue;
		if (!f->have_link)
			f->first = *s;
		f->last = *s;
		f->have_link = true;
	}
	for (size_t k = 0; k < n->n_ifs; k++) {
		struct np_net_iface *f = &n->ifs[k];

		if (f->have_link)
			link_delta(&f->first, &f->last, &f->delta);
	}
	/* qdiscs: per (interface, handle, parent) first and last */
	for (size_t i = 0; i < n->n_qdisc_samples; i++) {
		const struct np_rec_qdisc_sample *s = &n->qdisc_samples[i];
		struct np_net_iface *f = iface_by_id(n, s->id);
		struct np_net_qdisc *q = NULL;

		if (!f)
			continue;
		for (size_t j = 0; j < f->n_qdiscs; j++)
			if (f->qdiscs[j].handle == s->handle && f->qdiscs[j].parent == s->parent)
				q = &f->qdiscs[j];
		if (!q) {
			void *p;

			if (f->n_qdiscs >= 256)
				continue;
			p = reallocarray(f->qdiscs, f->n_qdiscs + 1, sizeof(*f->qdiscs));
			if (!p)
				return -ENOMEM;
			f->qdiscs = p;
			q = &f->qdiscs[f->n_qdiscs++];
			memset(q, 0, sizeof(*q));
			q->handle = s->handle;
			q->parent = s->parent;
			q->root = s->parent == 0xffffffffu;
			memcpy(q->kind, s->kind, sizeof(q->kind));
			clean(q->kind, sizeof(q->kind));
			/* first sample: the baseline */
			q->bytes = s->bytes;
			q->packets = s->packets;
			q->drops = s->drops;
			q->overlimits = s->overlimits;
			q->requeues = s->requeues;
		}
		if (s->backlog_bytes > q->backlog_max_bytes)
			q->backlog_max_bytes = s->backlog_bytes;
		if (s->qlen > q->qlen_max)
			q->qlen_max = s->qlen;
	}
	/* turn baselines into deltas with each qdisc's last sample */
	for (size_t k = 0; k < n->n_ifs; k++) {
		struct np_net_iface *f = &n->ifs[k];

		for (size_t j = 0; j < f->n_qdiscs; j++) {
			struct np_net_qdisc *q = &f->qdiscs[j];
			const struct np_rec_qdisc_sample *last = NULL;

			for (size_t i = 0; i < n->n_qdisc_samples; i++) {
				const struct np_rec_qdisc_sample *s = &n->qdisc_samples[i];

				if (s->id == f->info.id && s->handle == q->handle &&
				    s->parent == q->parent)
					last = s;
			}
			if (last) {
				q->bytes = last->bytes >= q->bytes ? last->bytes - q->bytes : 0;
				q->packets = last->packets >= q->packets
						     ? last->packets - q->packets
						     : 0;
				q->drops = last->drops >= q->drops ? last->drops - q->drops : 0;
				q->overlimits = last->overlimits >= q->overlimits
							? last->overlimits - q->overlimits
							: 0;
				q->requeues = last->requeues >= q->requeues
						      ? last->requeues - q->requeues
						      : 0;
			}
			if (q->root && !f->root)
				f->root = q;
		}
	}
	return build_ethtool(n, rec);
}

/* ---- CPUs, snmp, IRQs ---- */

static int build_cpus(struct np_net_report *n, const struct np_recording *rec)
{
	const struct np_rec_netcpu_sample *cs;
	struct np_rec_netcpu_sample *first, *last;
	uint32_t max_cpu = 0;
	uint64_t total_rx = 0;

	cs = np_recording_records(rec, NP_BLK_NETCPU_SAMPLE, &n->n_cpu_samples);
	n->cpu_samples = cs;
	if (!n->n_cpu_samples)
		return 0;
	for (size_t i = 0; i < n->n_cpu_samples; i++)
		if (cs[i].cpu < NP_NET_MAX_CPUS && cs[i].cpu + 1 > max_cpu)
			max_cpu = cs[i].cpu + 1;
	first = calloc(max_cpu, sizeof(*first));
	last = calloc(max_cpu, sizeof(*last));
	n->cpus = calloc(max_cpu, sizeof(*n->cpus));
	if (!first || !last || !n->cpus) {
		free(first);
		free(last);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n->n_cpu_samples; i++) {
		const struct np_rec_netcpu_sample *s = &cs[i];

		if (s->cpu >= max_cpu)
			continue;
		if (!first[s->cpu].have)
			first[s->cpu] = *s;
		last[s->cpu] = *s;
		if (s->backlog > n->cpus[s->cpu].backlog_max)
			n->cpus[s->cpu].backlog_max = s->backlog;
	}
	for (uint32_t c = 0; c < max_cpu; c++) {
		struct np_net_cpu *o = &n->cpus[n->n_cpus];
		const struct np_rec_netcpu_sample *a = &first[c], *b = &last[c];
		uint32_t bl = n->cpus[c].backlog_max;

		if (!a->have)
			continue;
#define D(f) (b->f >= a->f ? b->f - a->f : 0)
		*o = (struct np_net_cpu){.cpu = c,
					 .have = a->have | b->have,
					 .processed = D(processed),
					 .dropped = D(dropped),
					 .time_squeeze = D(time_squeeze),
					 .received_rps = D(received_rps),
					 .flow_limit = D(flow_limit),
					 .net_rx = D(net_rx),
					 .net_tx = D(net_tx),
					 .user_ns = D(user_ns) + D(nice_ns),
					 .system_ns = D(system_ns),
					 .idle_ns = D(idle_ns),
					 .iowait_ns = D(iowait_ns),
					 .irq_ns = D(irq_ns),
					 .softirq_ns = D(softirq_ns),
					 .steal_ns = D(steal_ns)};
#undef D
		o->backlog_max = bl;
		total_rx += o->net_rx;
		n->n_cpus++;
	}
	for (size_t i = 0; i < n->n_cpus; i++)
		n->cpus[i].net_rx_share = total_rx ? (double)n->cpus[i].net_rx / (double)total_rx
						   : 0;
	free(first);
	free(last);
	return 0;
}

static void build_snmp(struct np_net_report *n, const struct np_recording *rec)
{
	const struct np_rec_snmp_sample *ss = np_recording_records(rec, NP_BLK_SNMP_SAMPLE,
								   &n->n_snmp_samples);

	n->snmp_samples = ss;
	if (!n->n_snmp_samples)
		return;
	const struct np_rec_snmp_sample *a = &ss[0], *b = &ss[n->n_snmp_samples - 1];

	n->have_snmp = (a->present & b->present) != 0;
	n->snmp_present = a->present & b->present;
	for (unsigned int i = 0; i < NP_SNMP_COUNT; i++) {
		if (!(n->snmp_present & (1ull << i)))
			continue;
		n->snmp_last[i] = b->v[i];
		n->snmp_delta[i] = np_snmp_is_gauge(i)
					   ? b->v[i]
					   : (b->v[i] >= a->v[i] ? b->v[i] - a->v[i] : 0);
	}
	for (size_t i = 0; i < n->n_snmp_samples; i++) {
		if (ss[i].have_extra & NP_SNMP_HAVE_CONNTRACK) {
			n->have_conntrack = true;
			if (ss[i].conntrack_count > n->conntrack_max_seen)
				n->conntrack_max_seen = ss[i].conntrack_count;
		}
		if (ss[i].have_extra & NP_SNMP_HAVE_CONNTRACK_MAX)
			n->conntrack_limit = ss[i].conntrack_max;
	}
}

static int build_irqs(struct np_net_report *n, const struct np_recording *rec)
{
	size_t ni, ns;
	const struct np_rec_irq_info *infos = np_recording_records(rec, NP_BLK_IRQ_INFO, &ni);
	const struct np_rec_irq_sample *is = np_recording_records(rec, NP_BLK_IRQ_SAMPLE, &ns);

	if (!ni)
		return 0;
	n->irqs = calloc(ni, sizeof(*n->irqs));
	if (!n->irqs)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++) {
		struct np_net_irq *q = &n->irqs[n->n_irqs++];

		q->info = infos[i];
		clean(q->info.desc, sizeof(q->info.desc));
		clean(q->info.affinity, sizeof(q->info.affinity));
		clean(q->info.effective, sizeof(q->info.effective));
		for (uint32_t c = 0; c < 64; c++) {
			bool have = false;
			uint64_t a = 0, b = 0;

			for (size_t k = 0; k < ns; k++) {
				if (is[k].irq != q->info.irq || is[k].cpu != c)
					continue;
				if (!have)
					a = is[k].count;
				b = is[k].count;
				have = true;
			}
			q->per_cpu[c] = b >= a ? b - a : 0;
			q->total += q->per_cpu[c];
		}
	}
	return 0;
}

/* Every change delta in the window of the poll that saw it. */
static void fill_windows(struct np_net_report *n)
{
	for (size_t i = 0; i < n->n_polls; i++) {
		struct np_net_window *w = window_at(n, n->polls[i].ts_ns);

		w->polls++;
		if (n->polls[i].recv_q_max > w->recv_q_max)
			w->recv_q_max = n->polls[i].recv_q_max;
		if (n->polls[i].send_q_max > w->send_q_max)
			w->send_q_max = n->polls[i].send_q_max;
		if (n->polls[i].accept_q_max > w->accept_q_max)
			w->accept_q_max = n->polls[i].accept_q_max;
		w->sock_retrans += n->polls[i].retrans;
	}
	for (size_t i = 1; i < n->n_snmp_samples; i++) {
		const struct np_rec_snmp_sample *a = &n->snmp_samples[i - 1],
						*b = &n->snmp_samples[i];
		struct np_net_window *w = window_at(n, b->ts_ns);

		for (unsigned int k = 0; k < NP_SNMP_COUNT; k++)
			if ((a->present & b->present & (1ull << k)) && !np_snmp_is_gauge(k) &&
			    b->v[k] >= a->v[k])
				w->snmp[k] += b->v[k] - a->v[k];
	}
	/* per-CPU: delta from the previous sample of the same CPU */
	if (n->n_cpus) {
		const struct np_rec_netcpu_sample **prev = calloc(NP_NET_MAX_CPUS, sizeof(*prev));

		for (size_t i = 0; prev && i < n->n_cpu_samples; i++) {
			const struct np_rec_netcpu_sample *s = &n->cpu_samples[i], *p;
			struct np_net_window *w;

			if (s->cpu >= NP_NET_MAX_CPUS)
				continue;
			p = prev[s->cpu];
			prev[s->cpu] = s;
			if (!p)
				continue;
			w = window_at(n, s->ts_ns);
#define D(f) (s->f >= p->f ? s->f - p->f : 0)
			w->softnet_dropped += D(dropped);
			w->time_squeeze += D(time_squeeze);
			w->net_rx += D(net_rx);
			w->net_tx += D(net_tx);
			for (size_t c = 0; c < n->n_cpus; c++)
				if (n->cpus[c].cpu == s->cpu)
					w->net_rx_cpu[c] += D(net_rx);
#undef D
		}
		free(prev);
	}
	for (size_t k = 0; k < n->n_ifs; k++) {
		struct np_net_iface *f = &n->ifs[k];
		const struct np_rec_link_sample *p = NULL;
		uint32_t carried = 0;
		const struct np_rec_qdisc_sample *pq = NULL;
		size_t wi = 0;

		for (size_t i = 0; i < n->n_link_samples; i++) {
			const struct np_rec_link_sample *s = &n->link_samples[i];
			struct np_net_window *w;

			if (s->id != f->info.id)
				continue;
			if (p) {
				w = window_at(n, s->ts_ns);
#define D(fl) (s->fl >= p->fl ? s->fl - p->fl : 0)
				w->if_rx_packets += D(rx_packets);
				w->if_tx_packets += D(tx_packets);
				w->if_rx_dropped += D(rx_dropped) + D(rx_missed_errors);
				w->if_tx_dropped += D(tx_dropped);
				w->if_errors += D(rx_errors) + D(tx_errors);
#undef D
			}
			p = s;
		}
		if (f->root) {
			for (size_t i = 0; i < n->n_qdisc_samples; i++) {
				const struct np_rec_qdisc_sample *s = &n->qdisc_samples[i];
				struct np_net_window *w = window_at(n, s->ts_ns);
				size_t idx = (size_t)(w - n->windows);

				if (s->id != f->info.id || s->handle != f->root->handle ||
				    s->parent != f->root->parent)
					continue;
				/* a backlog holds until the next sample says otherwise */
				for (; wi < idx; wi++)
					if (carried > n->windows[wi + 1].qdisc_backlog_max_bytes)
						n->windows[wi + 1].qdisc_backlog_max_bytes =
							carried;
				if (pq && s->drops >= pq->drops)
					w->qdisc_drops += s->drops - pq->drops;
				if (s->backlog_bytes > w->qdisc_backlog_max_bytes)
					w->qdisc_backlog_max_bytes = s->backlog_bytes;
				carried = s->backlog_bytes;
				pq = s;
			}
			for (; wi + 1 < n->n_windows; wi++)
				if (carried > n->windows[wi + 1].qdisc_backlog_max_bytes)
					n->windows[wi + 1].qdisc_backlog_max_bytes = carried;
		}
	}
	/* driver drops: the ethtool drop counters of the kind (per queue or
	 * aggregate) that the interface's total used */
	for (size_t k = 0; k < n->n_ifs; k++) {
		const struct np_net_iface *f = &n->ifs[k];
		const struct np_rec_ethtool_sample **prev;
		uint64_t agg = 0, perq = 0;
		uint8_t want;

		if (!f->n_eth_total || !f->eth_flags)
			continue;
		for (size_t j = 0; j < f->n_eth; j++)
			if (f->eth[j].drop)
				*(f->eth[j].per_queue ? &perq : &agg) += f->eth[j].delta;
		want = ETH_DROP | (perq > agg ? ETH_PERQ : 0);
		prev = calloc(f->n_eth_total, sizeof(*prev));
		if (!prev)
			continue;
		for (size_t i = 0; i < n->n_eth_samples; i++) {
			const struct np_rec_ethtool_sample *s = &n->eth_samples[i];

			if (s->id != f->info.id || s->index >= f->n_eth_total)
				continue;
			if (prev[s->index] && f->eth_flags[s->index] == want &&
			    s->value >= prev[s->index]->value)
				window_at(n, s->ts_ns)->driver_drops += s->value -
									prev[s->index]->value;
			prev[s->index] = s;
		}
		free(prev);
	}
}

int np_net_build(const struct np_recording *rec, uint64_t start_ns, uint64_t end_ns,
		 struct np_net_report *n)
{
	size_t len;
	const char *cfg;
	int rc;

	memset(n, 0, sizeof(*n));
	cfg = np_recording_records(rec, NP_BLK_NET_CONFIG, &len);
	rc = cfg ? parse_config(n, cfg, len) : 0;
	if (!rc)
		rc = build_sockets(n, rec);
	if (!rc)
		rc = build_poll_cost(n);
	if (!rc)
		rc = build_ifaces(n, rec);
	if (!rc)
		rc = build_cpus(n, rec);
	if (!rc) {
		build_snmp(n, rec);
		rc = build_irqs(n, rec);
	}
	if (!rc)
		rc = make_windows(n, start_ns, end_ns,
				  np_recording_meta_u64(rec, "poll_ms", 100) * 1000000ull);
	if (!rc)
		fill_windows(n);
	n->have_sockets = n->n_polls > 0;
	n->have_nic = n->n_ifs > 0;
	n->have_host = n->n_cpus > 0 || n->have_snmp;
	if (rc)
		np_net_fini(n);
	return rc;
}

void np_net_fini(struct np_net_report *n)
{
	for (size_t i = 0; i < n->n_config; i++) {
		free(n->config[i].key);
		free(n->config[i].value);
	}
	free(n->config);
	free(n->socks);
	for (size_t i = 0; i < n->n_ifs; i++) {
		free(n->ifs[i].qdiscs);
		free(n->ifs[i].eth);
		free(n->ifs[i].eth_flags);
	}
	free(n->ifs);
	free(n->cpus);
	free(n->irqs);
	for (size_t i = 0; i < n->n_windows; i++)
		free(n->windows[i].net_rx_cpu);
	free(n->windows);
	memset(n, 0, sizeof(*n));
}
