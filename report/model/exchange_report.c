/* exchange_report.c - the exchange part of a report (see exchange_report.h):
 * totals and percentiles per component from the window records and the
 * slowest exchanges from the individual events (printed by
 * report/render/text_exchange.c and json_exchange.c).
 */
#include "report/model/exchange_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/model/netstack_report.h"
#include "report/model/report_model.h"
#include "report/model/values.h"

/* ---- split ----------------------------------------------------------------- */

static int interval_order(const void *a, const void *b)
{
	const struct np_sched_interval *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

void np_sched_intervals_sort(struct np_sched_interval *iv, size_t n)
{
	if (n)
		qsort(iv, n, sizeof(*iv), interval_order);
}

int np_xch_split(const struct np_sched_interval *iv, size_t n, uint32_t tid, uint64_t start_ns,
		 uint64_t end_ns, struct np_xch_split *out)
{
	size_t lo = 0, hi = n, first;

	memset(out, 0, sizeof(*out));
	if (end_ns <= start_ns)
		return -ENOENT;
	/* first interval of the thread starting at or after start_ns: a
	 * thread has millions of intervals in a long recording, and each
	 * exchange must cost a search, not a scan */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (iv[mid].tid < tid || (iv[mid].tid == tid && iv[mid].start_ns < start_ns))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* and the one before it, which may run into the range */
	first = lo > 0 && iv[lo - 1].tid == tid ? lo - 1 : lo;
	for (size_t i = first; i < n && iv[i].tid == tid && iv[i].start_ns < end_ns; i++) {
		uint64_t a = iv[i].start_ns > start_ns ? iv[i].start_ns : start_ns;
		uint64_t b = iv[i].end_ns < end_ns ? iv[i].end_ns : end_ns;

		if (b <= a)
			continue;
		switch (iv[i].state) {
		case NP_TSTATE_ON_CPU:
			out->on_cpu_ns += b - a;
			break;
		case NP_TSTATE_RUNNABLE:
			out->runnable_ns += b - a;
			break;
		case NP_TSTATE_OFF_CPU:
			out->off_cpu_ns += b - a;
			break;
		default:
			continue;
		}
		out->covered_ns += b - a;
		out->known = true;
	}
	return out->known ? 0 : -ENOENT;
}

/* ---- build --------------------------------------------------------------- */

static void component(struct np_xch_component *c, bool known, uint64_t n, uint64_t sum,
		      const uint64_t *hist, uint64_t max_ns)
{
	c->known = known;
	if (!known)
		return;
	c->n = n;
	c->sum_ns = sum;
	/* the histograms have no maximum of their own: use their top bucket */
	if (!max_ns)
		for (uint32_t i = NP_XH_BUCKETS; i-- > 0;)
			if (hist[i]) {
				max_ns = i + 1 < NP_XH_BUCKETS ? np_xh_lower(i + 1) - 1
							       : np_xh_lower(i);
				break;
			}
	c->max_ns = n ? max_ns : 0;
	c->p50_ns = np_xh_quantile(hist, 0.50, max_ns);
	c->p90_ns = np_xh_quantile(hist, 0.90, max_ns);
	c->p99_ns = np_xh_quantile(hist, 0.99, max_ns);
}

static void cap_component(struct np_xch_component *c, uint64_t max_ns)
{
	if (c->max_ns > max_ns)
		c->max_ns = max_ns;
	if (c->p99_ns > c->max_ns)
		c->p99_ns = c->max_ns;
	if (c->p90_ns > c->p99_ns)
		c->p90_ns = c->p99_ns;
	if (c->p50_ns > c->p90_ns)
		c->p50_ns = c->p90_ns;
}

static int by_total_desc(const void *a, const void *b)
{
	const struct np_xch_row *x = a, *y = b;

	if (x->ev.total_ns != y->ev.total_ns)
		return x->ev.total_ns < y->ev.total_ns ? 1 : -1;
	return x->ev.start_ns < y->ev.start_ns ? -1 : x->ev.start_ns > y->ev.start_ns;
}

static void comm_of(const struct np_recording *rec, uint32_t tid, char out[16])
{
	out[0] = '\0';
	for (size_t i = 0; i < rec->n_threads; i++)
		if (rec->threads[i].tid == tid) {
			memcpy(out, rec->threads[i].comm, 16);
			out[15] = '\0';
			return;
		}
}

void np_xch_row_fill(const struct np_recording *rec, struct np_xch_row *row)
{
	const struct np_xch_event *e = &row->ev;
	size_t len = e->label_len < NP_XCH_LABEL_BYTES ? e->label_len : NP_XCH_LABEL_BYTES;

	row->labelled = (e->flags & NP_XEV_LABEL) &&
			np_xch_parse_label(e->proto, e->label, len, e->label_cut != 0,
					   &row->label) == 0;
	np_format_endpoint(e->family, e->laddr, e->lport, row->local, sizeof(row->local));
	np_format_endpoint(e->family, e->raddr, e->rport, row->peer, sizeof(row->peer));
	comm_of(rec, e->tid, row->comm);
}

static int build_slowest(const struct np_recording *rec, bool outbound, size_t max_slow,
			 struct np_xch_row **out, size_t *n_out, uint64_t *slow_total)
{
	size_t n_ev, n = 0;
	const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);
	struct np_xch_row *rows;

	*slow_total = 0;
	for (size_t i = 0; i < n_ev; i++)
		if (!!(ev[i].flags & NP_XEV_OUTBOUND) == outbound) {
			n++;
			*slow_total += !!(ev[i].flags & NP_XEV_SLOW);
		}
	if (!n || !max_slow)
		return 0;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < n_ev; i++)
		if (!!(ev[i].flags & NP_XEV_OUTBOUND) == outbound)
			rows[n++].ev = ev[i];
	qsort(rows, n, sizeof(*rows), by_total_desc);
	if (n > max_slow)
		n = max_slow;
	for (size_t i = 0; i < n; i++)
		np_xch_row_fill(rec, &rows[i]);
	*out = rows;
	*n_out = n;
	return 0;
}

static void build_windows(struct np_xch_report *x, const struct np_rec_xch_window *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct np_xch_stats *d = &w[i].d;
		struct np_xch_window_row *row = &x->windows[x->n_windows++];
		uint64_t hist[NP_XH_BUCKETS];

		for (uint32_t b = 0; b < NP_XH_BUCKETS; b++)
			hist[b] = d->hist[NP_XH_TOTAL][b];
		row->start_ns = w[i].start_ns;
		row->end_ns = w[i].ts_ns;
		row->count = d->served;
		row->outbound = d->outbound;
		row->p50_ns = np_xh_quantile(hist, 0.50, d->max_total_ns);
		row->p99_ns = np_xh_quantile(hist, 0.99, d->max_total_ns);
		row->queued_ns = d->queued_ns;
		row->app_ns = d->app_ns;
		row->tx_ns = d->tx_ns;
		row->peer_ns = d->peer_ns;
		row->outbound_ns = d->outbound_ns;
		row->qdisc_ns = d->qdisc_ns;
		row->queued_known = d->queued_known;
		row->tx_known = d->tx_known;
	}
}

/* Streams open at once on the HTTP/2 connections. */
static void h2_concurrency(const struct np_recording *rec, struct np_xch_report *x)
{
	size_t n;
	const struct np_rec_h2_conn *c = np_recording_records(rec, NP_BLK_H2_CONNS, &n);

	for (size_t i = 0; i < n; i++) {
		x->h2_conns++;
		x->h2_streams += c[i].streams;
		x->h2_open_sum += c[i].open_sum;
		if (c[i].max_open > x->h2_max_open)
			x->h2_max_open = c[i].max_open;
	}
}

static void reason_name(void *rec, uint32_t reason, char *buf, size_t len)
{
	np_ns_reason_name(rec, reason, buf, len);
}

/* Outbound replies that came in two parts, from their events (every one is
 * recorded: the kernel side emits one per reply at most). */
static int reply_parts(const struct np_recording *rec, struct np_xch_report *x)
{
	size_t n = 0;
	const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_REPLY_PARTS, &n);
	uint64_t *gaps;

	if (!n)
		return 0;
	gaps = calloc(n, sizeof(*gaps));
	if (!gaps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		gaps[i] = ev[i].total_ns;
		x->reply_parts_ack_delay += gaps[i] >= NP_ACK_DELAY_MIN_NS &&
					    gaps[i] < NP_ACK_DELAY_MAX_NS;
	}
	qsort(gaps, n, sizeof(*gaps), np_u64_cmp);
	x->reply_parts = n;
	x->reply_part_p50_ns = gaps[(n - 1) / 2];
	free(gaps);
	return 0;
}

int np_xch_report_build(const struct np_recording *rec, struct np_xch_report *x, size_t max_slow)
{
	size_t n_cfg, n_win;
	const struct np_rec_xch_config *cfg = np_recording_records(rec, NP_BLK_XCH_CONFIG, &n_cfg);
	const struct np_rec_xch_window *win = np_recording_records(rec, NP_BLK_XCH_WINDOW, &n_win);
	uint64_t(*hist)[NP_XH_BUCKETS];
	struct np_xch_stats sum;
	uint64_t max_total = 0, max_out = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	if (!n_cfg)
		return 0;
	x->present = true;
	x->flags = cfg[0].flags;
	x->slow_ns = cfg[0].slow_ns;
	x->sample_every = cfg[0].sample_every;
	np_recording_records(rec, NP_BLK_XCH_EVENTS, &x->events);

	hist = x->hist = calloc(NP_XH_COUNT, sizeof(*hist));
	x->windows = n_win ? calloc(n_win, sizeof(*x->windows)) : NULL;
	if (!hist || (n_win && !x->windows)) {
		np_xch_report_fini(x);
		return -ENOMEM;
	}
	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < n_win; i++) {
		const struct np_xch_stats *d = &win[i].d;

		sum.served += d->served;
		sum.outbound += d->outbound;
		sum.queued_known += d->queued_known;
		sum.tx_known += d->tx_known;
		sum.total_ns += d->total_ns;
		sum.queued_ns += d->queued_ns;
		sum.app_ns += d->app_ns;
		sum.tx_ns += d->tx_ns;
		sum.peer_ns += d->peer_ns;
		sum.outbound_ns += d->outbound_ns;
		sum.retrans += d->retrans;
		sum.bytes_in += d->bytes_in;
		sum.bytes_out += d->bytes_out;
		sum.unanswered += d->unanswered;
		sum.pipelined += d->pipelined;
		sum.deferred += d->deferred;
		sum.lost_events += d->lost_events;
		sum.no_conn_mem += d->no_conn_mem;
		sum.writer_drops += d->writer_drops;
		sum.qdisc_known += d->qdisc_known;
		sum.qdisc_ns += d->qdisc_ns;
		sum.tls_known += d->tls_known;
		sum.tls_ns += d->tls_ns;
		sum.nagle_held += d->nagle_held;
		sum.h2_joined += d->h2_joined;
		if (d->max_total_ns > max_total)
			max_total = d->max_total_ns;
		if (d->max_outbound_ns > max_out)
			max_out = d->max_outbound_ns;
		for (int h = 0; h < NP_XH_COUNT; h++)
			for (int b = 0; b < NP_XH_BUCKETS; b++)
				hist[h][b] += d->hist[h][b];
	}
	build_windows(x, win, n_win);
	x->count = sum.served;
	x->outbound_count = sum.outbound;
	x->unanswered = sum.unanswered;
	x->pipelined = sum.pipelined;
	x->retrans = sum.retrans;
	x->deferred = sum.deferred;
	x->bytes_in = sum.bytes_in;
	x->bytes_out = sum.bytes_out;
	x->lost_events = sum.lost_events;
	x->writer_drops = sum.writer_drops;
	x->no_conn_mem = sum.no_conn_mem;
	x->qdisc_known = sum.qdisc_known;
	x->qdisc_ns = sum.qdisc_ns;
	x->tls_known = sum.tls_known;
	x->tls_ns = sum.tls_ns;
	x->nagle_held = sum.nagle_held;
	x->h2_joined = sum.h2_joined;
	rc = reply_parts(rec, x);
	if (rc) {
		np_xch_report_fini(x);
		return rc;
	}
	h2_concurrency(rec, x);
	component(&x->total, true, sum.served, sum.total_ns, hist[NP_XH_TOTAL], max_total);
	/* Components have no maximum of their own; each is at most the total. */
	component(&x->app, true, sum.served, sum.app_ns, hist[NP_XH_APP], 0);
	component(&x->peer, true, sum.served, sum.peer_ns, hist[NP_XH_PEER], 0);
	/* Known when the kernel could see it at all; the sum then covers the
	 * exchanges it was seen for (queued_known / tx_known of count). */
	component(&x->queued, x->flags & NP_XCFG_ARRIVAL, sum.queued_known, sum.queued_ns,
		  hist[NP_XH_QUEUED], 0);
	component(&x->tx, x->flags & NP_XCFG_WIRE, sum.tx_known, sum.tx_ns, hist[NP_XH_TX], 0);
	component(&x->outbound, true, sum.outbound, sum.outbound_ns, hist[NP_XH_OUT], max_out);
	cap_component(&x->queued, max_total);
	cap_component(&x->app, max_total);
	cap_component(&x->tx, max_total);
	cap_component(&x->peer, max_total);
	rc = build_slowest(rec, false, max_slow, &x->slowest, &x->n_slowest, &x->slow_total);
	if (!rc)
		rc = build_slowest(rec, true, max_slow, &x->slowest_out, &x->n_slowest_out,
				   &x->slow_out_total);
	if (!rc) {
		size_t n_ev;
		const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);

		rc = np_xch_out_groups(rec, ev, n_ev, &x->out_groups, &x->n_out_groups);
		if (!rc) {
			size_t n_net;
			const struct np_net_event *net = np_recording_records(rec,
									      NP_BLK_NET_EVENTS,
									      &n_net);

			rc = np_xch_loss_build(ev, n_ev, net, n_net, x->sample_every, reason_name,
					       (void *)rec, &x->loss);
		}
	}
	if (rc)
		np_xch_report_fini(x);
	return rc;
}

/* One outbound event under its group's key, for sorting into groups. */
struct keyed_total {
	struct np_xch_out_group key; /* peer, proto, label */
	uint64_t total_ns;
	bool slow;
};

static int by_key_then_total(const void *a, const void *b)
{
	const struct keyed_total *x = a, *y = b;
	int c = strcmp(x->key.peer, y->key.peer);

	if (!c)
		c = (x->key.proto > y->key.proto) - (x->key.proto < y->key.proto);
	if (!c)
		c = strcmp(x->key.label, y->key.label);
	if (!c)
		c = (x->total_ns > y->total_ns) - (x->total_ns < y->total_ns);
	return c;
}

static bool same_key(const struct keyed_total *x, const struct keyed_total *y)
{
	return x->key.proto == y->key.proto && !strcmp(x->key.peer, y->key.peer) &&
	       !strcmp(x->key.label, y->key.label);
}

static int by_p99_desc(const void *a, const void *b)
{
	const struct np_xch_out_group *x = a, *y = b;
	int c;

	if (x->p99_ns != y->p99_ns)
		return x->p99_ns < y->p99_ns ? 1 : -1;
	c = strcmp(x->peer, y->peer);
	return c ? c : strcmp(x->label, y->label);
}

/* One group from its run k[0..n) of sorted totals: nearest-rank percentiles. */
static void close_group(struct np_xch_out_group *g, const struct keyed_total *k, size_t n)
{
	*g = k[0].key;
	g->count = n;
	for (size_t i = 0; i < n; i++)
		g->slow += k[i].slow;
	g->p50_ns = k[(n - 1) / 2].total_ns;
	g->p99_ns = k[(size_t)((double)(n - 1) * 0.99 + 0.5)].total_ns;
	g->max_ns = k[n - 1].total_ns;
}

int np_xch_out_groups(const struct np_recording *rec, const struct np_xch_event *ev, size_t n,
		      struct np_xch_out_group **out, size_t *n_out)
{
	struct np_xch_out_group *g;
	struct keyed_total *k;
	size_t m = 0, ng = 0;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		m += !!(ev[i].flags & NP_XEV_OUTBOUND);
	if (!m)
		return 0;
	k = calloc(m, sizeof(*k));
	g = calloc(m, sizeof(*g));
	if (!k || !g) {
		free(k);
		free(g);
		return -ENOMEM;
	}
	m = 0;
	for (size_t i = 0; i < n; i++) {
		struct np_xch_row row = {.ev = ev[i]};
		struct keyed_total *t = &k[m];

		if (!(ev[i].flags & NP_XEV_OUTBOUND))
			continue;
		np_xch_row_fill(rec, &row);
		snprintf(t->key.peer, sizeof(t->key.peer), "%s", row.peer);
		if (row.labelled) {
			t->key.proto = row.label.proto;
			np_label_format(&row.label, t->key.label, sizeof(t->key.label));
		}
		t->total_ns = ev[i].total_ns;
		t->slow = ev[i].flags & NP_XEV_SLOW;
		m++;
	}
	qsort(k, m, sizeof(*k), by_key_then_total);
	for (size_t i = 0, start = 0; i <= m; i++)
		if (i == m || !same_key(&k[start], &k[i])) {
			close_group(&g[ng++], &k[start], i - start);
			start = i;
		}
	free(k);
	qsort(g, ng, sizeof(*g), by_p99_desc);
	*out = g;
	*n_out = ng;
	return 0;
}

static uint64_t app_start(const struct np_xch_event *e)
{
	return e->read_start_ns > e->start_ns ? e->read_start_ns : e->start_ns;
}

/* Adds one exchange's split to its stratum's mix. */
static void split_add(struct np_xch_split *mix, const struct np_xch_split *s)
{
	mix->on_cpu_ns += s->on_cpu_ns;
	mix->off_cpu_ns += s->off_cpu_ns;
	mix->runnable_ns += s->runnable_ns;
	mix->covered_ns += s->covered_ns;
}

static void split_scale(struct np_xch_split *out, const struct np_xch_split *mix, uint64_t app_ns)
{
	double f = (double)app_ns / (double)mix->covered_ns;

	out->on_cpu_ns += (uint64_t)((double)mix->on_cpu_ns * f);
	out->off_cpu_ns += (uint64_t)((double)mix->off_cpu_ns * f);
	out->runnable_ns += (uint64_t)((double)mix->runnable_ns * f);
}

void np_xch_report_apply_sched(const struct np_recording *rec, struct np_xch_report *x,
			       const struct np_sched_interval *iv, size_t n)
{
	size_t n_ev;
	const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);
	struct np_xch_split s, slow = {0}, fast = {0};
	uint64_t slow_app = 0, fast_app;

	for (size_t i = 0; i < x->n_slowest; i++) {
		const struct np_xch_event *e = &x->slowest[i].ev;

		np_xch_split(iv, n, e->tid, app_start(e), app_start(e) + e->app_ns,
			     &x->slowest[i].split);
	}
	/*
	 * Two strata: every slow exchange is recorded, the others only when
	 * their connection was picked by the 1-in-N sampler, a uniform sample
	 * of them.  Each stratum's mix is scaled to its share of all app time;
	 * a stratum with no covered exchange takes the other's mix (a single
	 * unsampled keep-alive connection records only its slow exchanges).
	 */
	for (size_t i = 0; i < n_ev; i++) {
		const struct np_xch_event *e = &ev[i];
		bool is_slow = e->flags & NP_XEV_SLOW;

		if (e->flags & NP_XEV_OUTBOUND)
			continue;
		if (is_slow)
			slow_app += e->app_ns;
		else if (!(e->flags & NP_XEV_SAMPLED))
			continue;
		if (np_xch_split(iv, n, e->tid, app_start(e), app_start(e) + e->app_ns, &s))
			continue;
		split_add(is_slow ? &slow : &fast, &s);
	}
	memset(&x->app_split, 0, sizeof(x->app_split));
	if (!slow.covered_ns && !fast.covered_ns)
		return;
	if (slow_app > x->app.sum_ns)
		slow_app = x->app.sum_ns; /* events and window totals disagree at the edges */
	fast_app = x->app.sum_ns - slow_app;
	split_scale(&x->app_split, slow.covered_ns ? &slow : &fast, slow_app);
	split_scale(&x->app_split, fast.covered_ns ? &fast : &slow, fast_app);
	x->app_split.known = true;
	x->app_split.covered_ns = x->app.sum_ns;
}

void np_xch_report_fini(struct np_xch_report *x)
{
	free(x->slowest);
	free(x->slowest_out);
	free(x->out_groups);
	free(x->windows);
	free(x->hist);
	x->slowest = x->slowest_out = NULL;
	x->windows = NULL;
	x->hist = NULL;
	x->n_slowest = x->n_slowest_out = x->n_windows = 0;
}
