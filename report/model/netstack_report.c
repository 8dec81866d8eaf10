/* netstack_report.c - the kernel stack part of a report (see netstack.h). */
#include "report/model/netstack_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/render/jsonout.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "report/render/textout.h"

/* CPUs numbered beyond this are ignored (a crafted recording). */
#define MAX_CPUS 8192

static void reason_name(const struct np_recording *rec, uint32_t reason, char *out, size_t len)
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
	const struct np_rec_reason_count *rc = np_recording_records(rec, NP_BLK_NET_REASON_COUNT, &n);
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
			reason_name(rec, rc[i].reason, ns->reasons[j].name, sizeof(ns->reasons[j].name));
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
	uint64_t ex = x->retrans + x->drops + x->rcvq_full, ey = y->retrans + y->drops + y->rcvq_full;

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
			np_format_endpoint(e->family, e->laddr, e->lport, c->local, sizeof(c->local));
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
		ns->cpus[c].rx_p99_ns =
			np_hist_quantile(ns->cpus[c].rx.hist, NP_HIST_BUCKETS, 0.99, ns->cpus[c].rx.max_ns);
		ns->cpus[c].tx_p99_ns =
			np_hist_quantile(ns->cpus[c].tx.hist, NP_HIST_BUCKETS, 0.99, ns->cpus[c].tx.max_ns);
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
		if (t[i].ts_ns < prev_ts || t[i].t.drops < prev.drops || t[i].t.retrans < prev.retrans)
			continue; /* out of order: only a crafted file */
		w->start_ns = prev_ts;
		w->end_ns = t[i].ts_ns;
		w->drops = t[i].t.drops - prev.drops;
		w->retrans = t[i].t.retrans - prev.retrans;
		w->rcvq_full = t[i].t.rcvq_full >= prev.rcvq_full ? t[i].t.rcvq_full - prev.rcvq_full : 0;
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
		np_ns_report_free(ns);
	return rc;
}

void np_ns_report_free(struct np_ns_report *ns)
{
	free(ns->reasons);
	free(ns->conns);
	free(ns->cpus);
	free(ns->windows);
	memset(ns, 0, sizeof(*ns));
}

/* ---- text ------------------------------------------------------------------ */

#define TEXT_MAX_REASONS 12
#define TEXT_MAX_CONNS 10

void np_ns_report_text(struct np_text *o, const struct np_report *r)
{
	const struct np_ns_report *ns = &r->ns;
	char b[8][32], name[200], where[400];

	np_text_heading(o, "Kernel network stack (host-wide; the target's sockets apart)");
	if (!ns->present) {
		fprintf(o->f, "  not collected (see Sources)\n");
		return;
	}
	fprintf(o->f,
		"  packets dropped %" PRIu64 " (on the target's sockets %" PRIu64
		"), TCP retransmits %" PRIu64 " (%" PRIu64 "),\n  receive queue full %" PRIu64
		" (%" PRIu64 ")\n",
		(uint64_t)ns->t.drops, (uint64_t)ns->t.target_drops, (uint64_t)ns->t.retrans,
		(uint64_t)ns->t.target_retrans, (uint64_t)ns->t.rcvq_full,
		(uint64_t)ns->t.target_rcvq_full);
	if (ns->n_reasons) {
		fprintf(o->f, "  %-28s %10s  %s\n", "drop reason", "drops", "where (most first)");
		for (size_t i = 0; i < ns->n_reasons && i < TEXT_MAX_REASONS; i++) {
			const struct np_ns_reason *x = &ns->reasons[i];
			size_t used = 0;

			where[0] = '\0';
			for (size_t k = 0; k < x->n_loc && used < sizeof(where); k++)
				used += (size_t)snprintf(where + used, sizeof(where) - used, "%s%s (%" PRIu64 ")",
							 k ? ", " : "", x->loc[k].where, x->loc[k].count);
			np_sanitize(x->name, name, sizeof(name), true);
			fprintf(o->f, "  ");
			np_fput_cols(o->f, name, 28);
			fprintf(o->f, " %10" PRIu64 "  ", x->count);
			np_sanitize(where, name, sizeof(name), true);
			np_text_wrapped(o, name[0] ? name : "-", 43, 45);
		}
		if (ns->n_reasons > TEXT_MAX_REASONS)
			fprintf(o->f, "  ... %zu more reasons in the JSON report\n",
				ns->n_reasons - TEXT_MAX_REASONS);
	}
	if (ns->n_conns) {
		fprintf(o->f, "  the target's connections:\n  %-46s %8s %8s %10s\n", "local -> peer",
			"retrans", "drops", "rcvq full");
		for (size_t i = 0; i < ns->n_conns && i < TEXT_MAX_CONNS; i++) {
			const struct np_ns_conn *c = &ns->conns[i];

			snprintf(name, sizeof(name), "%s -> %s", c->local, c->peer);
			fprintf(o->f, "  ");
			np_fput_cols(o->f, name, 46);
			fprintf(o->f, " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n", c->retrans, c->drops,
				c->rcvq_full);
		}
		if (ns->n_conns > TEXT_MAX_CONNS)
			fprintf(o->f, "  ... %zu more connections in the JSON report\n",
				ns->n_conns - TEXT_MAX_CONNS);
	}
	if (ns->t.lost_events || ns->writer_drops)
		fprintf(o->f, "  %" PRIu64 " events on the target's sockets could not be recorded\n",
			(uint64_t)ns->t.lost_events + ns->writer_drops);
	if (!ns->n_cpus)
		return;
	fprintf(o->f, "  %4s %10s %8s %9s %10s %8s %9s %8s %9s %7s\n", "cpu", "NET_RX", "runs",
		"p99", "NET_TX", "runs", "p99", "polls", "packets", "budget");
	for (size_t i = 0; i < ns->n_cpus; i++) {
		const struct np_ns_cpu *c = &ns->cpus[i];

		fprintf(o->f,
			"  %4u %10s %8" PRIu64 " %9s %10s %8" PRIu64 " %9s %8" PRIu64 " %9" PRIu64
			" %7" PRIu64 "\n",
			c->cpu, np_fmt_ns(c->rx.total_ns, b[0], sizeof(b[0])), (uint64_t)c->rx.count,
			np_fmt_ns(c->rx_p99_ns, b[1], sizeof(b[1])),
			np_fmt_ns(c->tx.total_ns, b[2], sizeof(b[2])), (uint64_t)c->tx.count,
			np_fmt_ns(c->tx_p99_ns, b[3], sizeof(b[3])), (uint64_t)c->napi.polls,
			(uint64_t)c->napi.work, (uint64_t)c->napi.exhausted);
	}
	fprintf(o->f, "  (softirq time from irq:softirq_entry/exit; 'budget': NAPI polls that used "
		      "their whole budget)\n");
}

/* ---- JSON ------------------------------------------------------------------ */

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *softirq_json(const struct np_softirq_stats *s, uint64_t p99)
{
	json_object *o = json_object_new_object();

	add(o, "count", np_ju64(s->count));
	add(o, "total_ns", np_ju64(s->total_ns));
	add(o, "p50_ns", np_ju64(np_hist_quantile(s->hist, NP_HIST_BUCKETS, 0.5, s->max_ns)));
	add(o, "p99_ns", np_ju64(p99));
	add(o, "max_ns", np_ju64(s->max_ns));
	return o;
}

json_object *np_ns_json(const struct np_report *r)
{
	const struct np_ns_report *ns = &r->ns;
	json_object *o, *reasons, *conns, *cpus, *wins, *target;

	if (!ns->present)
		return NULL;
	o = json_object_new_object();
	reasons = json_object_new_array();
	conns = json_object_new_array();
	cpus = json_object_new_array();
	wins = json_object_new_array();
	target = json_object_new_object();
	add(o, "drops", np_ju64(ns->t.drops));
	add(o, "retransmits", np_ju64(ns->t.retrans));
	add(o, "rcvqueue_full", np_ju64(ns->t.rcvq_full));
	add(target, "drops", np_ju64(ns->t.target_drops));
	add(target, "retransmits", np_ju64(ns->t.target_retrans));
	add(target, "rcvqueue_full", np_ju64(ns->t.target_rcvq_full));
	add(o, "target", target);
	add(o, "lost_events", np_ju64(ns->t.lost_events + ns->writer_drops));
	add(o, "locations_not_counted", np_ju64(ns->t.locations_full));
	for (size_t i = 0; i < ns->n_reasons; i++) {
		const struct np_ns_reason *x = &ns->reasons[i];
		json_object *ro = json_object_new_object(), *locs = json_object_new_array();

		add(ro, "reason", np_jstr(x->name));
		add(ro, "code", np_ju64(x->reason));
		add(ro, "count", np_ju64(x->count));
		for (size_t k = 0; k < x->n_loc; k++) {
			json_object *lo = json_object_new_object();

			add(lo, "where", np_jstr(x->loc[k].where));
			add(lo, "count", np_ju64(x->loc[k].count));
			json_object_array_add(locs, lo);
		}
		add(ro, "locations", locs);
		json_object_array_add(reasons, ro);
	}
	add(o, "drop_reasons", reasons);
	for (size_t i = 0; i < ns->n_conns; i++) {
		const struct np_ns_conn *c = &ns->conns[i];
		json_object *co = json_object_new_object();
		char reason[64] = "";

		if (c->drops)
			reason_name(r->rec, c->last_drop_reason, reason, sizeof(reason));
		add(co, "local", c->local[0] ? np_jstr(c->local) : NULL);
		add(co, "peer", c->peer[0] ? np_jstr(c->peer) : NULL);
		add(co, "connection", np_ju64(c->cookie));
		add(co, "retransmits", np_ju64(c->retrans));
		add(co, "drops", np_ju64(c->drops));
		add(co, "last_drop_reason", c->drops ? np_jstr(reason) : NULL);
		add(co, "rcvqueue_full", np_ju64(c->rcvq_full));
		add(co, "first_offset_ns", np_ju64(c->first_ns > r->start_ns ? c->first_ns - r->start_ns : 0));
		add(co, "last_offset_ns", np_ju64(c->last_ns > r->start_ns ? c->last_ns - r->start_ns : 0));
		json_object_array_add(conns, co);
	}
	add(o, "connections", conns);
	for (size_t i = 0; i < ns->n_cpus; i++) {
		const struct np_ns_cpu *c = &ns->cpus[i];
		json_object *co = json_object_new_object(), *napi = json_object_new_object();

		add(co, "cpu", np_ju64(c->cpu));
		add(co, "net_rx", softirq_json(&c->rx, c->rx_p99_ns));
		add(co, "net_tx", softirq_json(&c->tx, c->tx_p99_ns));
		add(napi, "polls", np_ju64(c->napi.polls));
		add(napi, "packets", np_ju64(c->napi.work));
		add(napi, "budget", np_ju64(c->napi.budget));
		add(napi, "budget_exhausted", np_ju64(c->napi.exhausted));
		add(napi, "max_packets", np_ju64(c->napi.max_work));
		add(co, "napi", napi);
		json_object_array_add(cpus, co);
	}
	add(o, "softirq", cpus);
	for (size_t i = 0; i < ns->n_windows; i++) {
		const struct np_ns_window *w = &ns->windows[i];
		json_object *wo = json_object_new_object();

		add(wo, "offset_ns", np_ju64(w->start_ns > r->start_ns ? w->start_ns - r->start_ns : 0));
		add(wo, "duration_ns", np_ju64(w->end_ns - w->start_ns));
		add(wo, "drops", np_ju64(w->drops));
		add(wo, "retransmits", np_ju64(w->retrans));
		add(wo, "rcvqueue_full", np_ju64(w->rcvq_full));
		add(wo, "net_rx_ns", np_ju64(w->net_rx_ns));
		add(wo, "net_tx_ns", np_ju64(w->net_tx_ns));
		json_object_array_add(wins, wo);
	}
	add(o, "windows", wins);
	return o;
}

