/* netstack_report.c - the kernel stack part of a report (see
 * netstack_report.h; printed by report/render/text_netstack.c and
 * json_netstack.c). */
#include "report/model/netstack_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/model/report_model.h"

/* CPUs numbered beyond this are ignored (a crafted recording). */
#define MAX_CPUS 8192

void np_ns_reason_name(const struct np_recording *rec, uint32_t reason, char *out, size_t len)
{
	size_t n;
	const struct np_rec_drop_reason *names = np_recording_records(rec, NP_BLK_NET_REASONS, &n);

	for (size_t i = 0; i < n; i++)
		if (names[i].reason == reason) {
			char name[sizeof(names[i].name)];

			memcpy(name, names[i].name, sizeof(name));
			name[sizeof(name) - 1] = '\0';
			if (name[0]) {
				snprintf(out, len, "%s", name);
				return;
			}
		}
	snprintf(out, len, "reason %u", reason);
}

static int by_count_desc(const void *a, const void *b)
{
	const struct np_ns_reason *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static int build_reasons(const struct np_recording *rec, struct np_ns_report *ns)
{
	size_t n, n_loc;
	const struct np_rec_reason_count *rc = np_recording_records(rec, NP_BLK_NET_REASON_COUNT,
								    &n);
	const struct np_rec_net_drop *loc = np_recording_records(rec, NP_BLK_NET_DROPS, &n_loc);

	if (!n)
		return 0;
	ns->reasons = calloc(n, sizeof(*ns->reasons));
	if (!ns->reasons)
		return -ENOMEM;
	/* cumulative records: the latest of each reason counts */
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < ns->n_reasons; j++)
			if (ns->reasons[j].reason == rc[i].reason)
				break;
		if (j == ns->n_reasons) {
			ns->reasons[j].reason = rc[i].reason;
			np_ns_reason_name(rec, rc[i].reason, ns->reasons[j].name,
					  sizeof(ns->reasons[j].name));
			ns->n_reasons++;
		}
		ns->reasons[j].count = rc[i].count;
	}
	for (size_t j = 0; j < ns->n_reasons; j++) {
		struct np_ns_reason *r = &ns->reasons[j];

		/* the top locations of this reason (a handful: simple selection) */
		for (size_t i = 0; i < n_loc; i++) {
			size_t k = r->n_loc, last;

			if (loc[i].reason != r->reason)
				continue;
			while (k > 0 && r->loc[k - 1].count < loc[i].count)
				k--;
			if (k >= NP_NS_TOP_LOCATIONS)
				continue;
			last = r->n_loc < NP_NS_TOP_LOCATIONS ? r->n_loc : NP_NS_TOP_LOCATIONS - 1;
			for (size_t m = last; m > k; m--)
				r->loc[m] = r->loc[m - 1];
			r->loc[k].count = loc[i].count;
			memcpy(r->loc[k].where, loc[i].where, sizeof(r->loc[k].where));
			r->loc[k].where[sizeof(r->loc[k].where) - 1] = '\0';
			if (!r->loc[k].where[0])
				snprintf(r->loc[k].where, sizeof(r->loc[k].where), "0x%" PRIx64,
					 loc[i].location);
			if (r->n_loc < NP_NS_TOP_LOCATIONS)
				r->n_loc++;
		}
	}
	qsort(ns->reasons, ns->n_reasons, sizeof(*ns->reasons), by_count_desc);
	return 0;
}

static int by_cookie(const void *a, const void *b)
{
	const struct np_net_event *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static int by_events_desc(const void *a, const void *b)
{
	const struct np_ns_conn *x = a, *y = b;
	uint64_t ex = x->retrans + x->drops + x->rcvq_full,
		 ey = y->retrans + y->drops + y->rcvq_full;

	if (ex != ey)
		return ex < ey ? 1 : -1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int build_conns(const struct np_recording *rec, struct np_ns_report *ns)
{
	size_t n;
	const struct np_net_event *ev = np_recording_records(rec, NP_BLK_NET_EVENTS, &n);
	struct np_net_event *sorted;

	ns->events = n;
	if (!n)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	ns->conns = calloc(n, sizeof(*ns->conns));
	if (!sorted || !ns->conns) {
		free(sorted);
		return -ENOMEM;
	}
	memcpy(sorted, ev, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_cookie);
	for (size_t i = 0; i < n; i++) {
		const struct np_net_event *e = &sorted[i];
		struct np_ns_conn *c;

		if (!ns->n_conns || ns->conns[ns->n_conns - 1].cookie != e->cookie) {
			c = &ns->conns[ns->n_conns++];
			c->cookie = e->cookie;
			c->first_ns = e->ts_ns;
			np_format_endpoint(e->family, e->laddr, e->lport, c->local,
					   sizeof(c->local));
			np_format_endpoint(e->family, e->raddr, e->rport, c->peer, sizeof(c->peer));
		}
		c = &ns->conns[ns->n_conns - 1];
		c->last_ns = e->ts_ns;
		if (e->kind == NP_NET_RETRANS)
			c->retrans++;
		else if (e->kind == NP_NET_DROP)
			c->drops++, c->last_drop_reason = e->reason;
		else if (e->kind == NP_NET_RCVQ_FULL)
			c->rcvq_full++;
	}
	free(sorted);
	qsort(ns->conns, ns->n_conns, sizeof(*ns->conns), by_events_desc);
	return 0;
}

static int build_cpus(const struct np_recording *rec, struct np_ns_report *ns)
{
	size_t n;
	const struct np_rec_softirq *s = np_recording_records(rec, NP_BLK_NET_SOFTIRQ, &n);
	uint32_t max_cpu = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i].cpu < MAX_CPUS && s[i].cpu + 1 > max_cpu)
			max_cpu = s[i].cpu + 1;
	if (!max_cpu)
		return 0;
	ns->cpus = calloc(max_cpu, sizeof(*ns->cpus));
	if (!ns->cpus)
		return -ENOMEM;
	ns->n_cpus = max_cpu;
	for (uint32_t c = 0; c < max_cpu; c++)
		ns->cpus[c].cpu = c;
	for (size_t i = 0; i < n; i++) {
		struct np_ns_cpu *c;

		if (s[i].cpu >= MAX_CPUS)
			continue;
		c = &ns->cpus[s[i].cpu];
		c->rx = s[i].rx;
		c->tx = s[i].tx;
		c->napi = s[i].napi;
	}
	for (uint32_t c = 0; c < max_cpu; c++) {
		ns->cpus[c].rx_p99_ns = np_hist_quantile(ns->cpus[c].rx.hist, NP_HIST_BUCKETS, 0.99,
							 ns->cpus[c].rx.max_ns);
		ns->cpus[c].tx_p99_ns = np_hist_quantile(ns->cpus[c].tx.hist, NP_HIST_BUCKETS, 0.99,
							 ns->cpus[c].tx.max_ns);
	}
	return 0;
}

/* Per-window differences of the cumulative snapshots (one a second). */
static int build_windows(const struct np_recording *rec, uint64_t start_ns, struct np_ns_report *ns)
{
	size_t n_tot, n_sirq;
	const struct np_rec_net_totals *t = np_recording_records(rec, NP_BLK_NET_TOTALS, &n_tot);
	const struct np_rec_softirq *s = np_recording_records(rec, NP_BLK_NET_SOFTIRQ, &n_sirq);
	struct np_net_totals prev = {0};
	uint64_t prev_ts = start_ns, prev_rx = 0, prev_tx = 0;
	size_t j = 0;

	if (!n_tot)
		return 0;
	ns->windows = calloc(n_tot, sizeof(*ns->windows));
	if (!ns->windows)
		return -ENOMEM;
	for (size_t i = 0; i < n_tot; i++) {
		struct np_ns_window *w = &ns->windows[ns->n_windows];
		uint64_t rx = 0, tx = 0;

		/* the softirq records written with this snapshot share its time */
		while (j < n_sirq && s[j].ts_ns < t[i].ts_ns)
			j++;
		for (; j < n_sirq && s[j].ts_ns == t[i].ts_ns; j++) {
			rx += s[j].rx.total_ns;
			tx += s[j].tx.total_ns;
		}
		if (t[i].ts_ns < prev_ts || t[i].t.drops < prev.drops ||
		    t[i].t.retrans < prev.retrans)
			continue; /* out of order: only a crafted file */
		w->start_ns = prev_ts;
		w->end_ns = t[i].ts_ns;
		w->drops = t[i].t.drops - prev.drops;
		w->retrans = t[i].t.retrans - prev.retrans;
		w->rcvq_full = t[i].t.rcvq_full >= prev.rcvq_full
				       ? t[i].t.rcvq_full - prev.rcvq_full
				       : 0;
		w->net_rx_ns = rx >= prev_rx ? rx - prev_rx : 0;
		w->net_tx_ns = tx >= prev_tx ? tx - prev_tx : 0;
		ns->n_windows++;
		prev = t[i].t;
		prev_ts = t[i].ts_ns;
		prev_rx = rx;
		prev_tx = tx;
	}
	return 0;
}

int np_ns_report_build(const struct np_recording *rec, uint64_t start_ns, struct np_ns_report *ns)
{
	size_t n;
	const struct np_rec_net_totals *t = np_recording_records(rec, NP_BLK_NET_TOTALS, &n);
	int rc;

	memset(ns, 0, sizeof(*ns));
	if (!n)
		return 0;
	ns->present = true;
	ns->t = t[n - 1].t;
	ns->writer_drops = t[n - 1].writer_drops;
	rc = build_reasons(rec, ns);
	if (!rc)
		rc = build_conns(rec, ns);
	if (!rc)
		rc = build_cpus(rec, ns);
	if (!rc)
		rc = build_windows(rec, start_ns, ns);
	if (rc)
		np_ns_report_fini(ns);
	return rc;
}

void np_ns_report_fini(struct np_ns_report *ns)
{
	free(ns->reasons);
	free(ns->conns);
	free(ns->cpus);
	free(ns->windows);
	memset(ns, 0, sizeof(*ns));
}
