/* exchange_report.c - the exchange part of a report (see exchanges.h): totals and
 * percentiles per component from the window records, the slowest exchanges
 * from the individual events, and the text section.
 */
#include "report/model/exchange_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/render/jsonout.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "report/render/textout.h"

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
				max_ns = i + 1 < NP_XH_BUCKETS ? np_xh_lower(i + 1) - 1 : np_xh_lower(i);
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

static void fill_row(const struct np_recording *rec, struct np_xch_row *row)
{
	const struct np_xch_event *e = &row->ev;
	size_t len = e->label_len < NP_XCH_LABEL_BYTES ? e->label_len : NP_XCH_LABEL_BYTES;

	row->labelled = (e->flags & NP_XEV_LABEL) &&
			np_http_parse_label(e->label, len, e->label_cut != 0, &row->label) == 0;
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
		fill_row(rec, &rows[i]);
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

int np_xch_report_build(const struct np_recording *rec, struct np_xch_report *x, size_t max_slow)
{
	size_t n_cfg, n_win;
	const struct np_rec_xch_config *cfg = np_recording_records(rec, NP_BLK_XCH_CONFIG, &n_cfg);
	const struct np_rec_xch_window *win = np_recording_records(rec, NP_BLK_XCH_WINDOW, &n_win);
	uint64_t (*hist)[NP_XH_BUCKETS];
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

	hist = calloc(NP_XH_COUNT, sizeof(*hist));
	x->windows = n_win ? calloc(n_win, sizeof(*x->windows)) : NULL;
	if (!hist || (n_win && !x->windows)) {
		free(hist);
		np_xch_report_free(x);
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
	free(hist);
	cap_component(&x->queued, max_total);
	cap_component(&x->app, max_total);
	cap_component(&x->tx, max_total);
	cap_component(&x->peer, max_total);
	rc = build_slowest(rec, false, max_slow, &x->slowest, &x->n_slowest, &x->slow_total);
	if (!rc)
		rc = build_slowest(rec, true, max_slow, &x->slowest_out, &x->n_slowest_out,
				   &x->slow_out_total);
	if (rc)
		np_xch_report_free(x);
	return rc;
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

		np_xch_split(iv, n, e->tid, app_start(e), app_start(e) + e->app_ns, &x->slowest[i].split);
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

void np_xch_report_free(struct np_xch_report *x)
{
	free(x->slowest);
	free(x->slowest_out);
	free(x->windows);
	x->slowest = x->slowest_out = NULL;
	x->windows = NULL;
	x->n_slowest = x->n_slowest_out = x->n_windows = 0;
}

/* ---- text ------------------------------------------------------------------ */

static const char *ns_or_dash(const struct np_xch_component *c, uint64_t v, char *buf, size_t len)
{
	return c->known ? np_fmt_ns(v, buf, len) : "-";
}

static void component_line(struct np_text *o, const char *name, const struct np_xch_component *c,
			   const char *note)
{
	char b[6][32];

	fprintf(o->f, "  %-9s %10s %10s %10s %10s %10s %10s  %s\n", name,
		ns_or_dash(c, c->sum_ns, b[0], sizeof(b[0])),
		c->known && c->n ? np_fmt_ns(c->sum_ns / c->n, b[1], sizeof(b[1])) : "-",
		ns_or_dash(c, c->p50_ns, b[2], sizeof(b[2])), ns_or_dash(c, c->p90_ns, b[3], sizeof(b[3])),
		ns_or_dash(c, c->p99_ns, b[4], sizeof(b[4])), ns_or_dash(c, c->max_ns, b[5], sizeof(b[5])),
		note);
}

static const char *label_text(const struct np_xch_row *row, char *buf, size_t len)
{
	char raw[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8];

	if (!row->labelled) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(raw, sizeof(raw), "%s %s", row->label.method, row->label.path);
	return np_sanitize(raw, buf, len, true);
}

static void slowest_table(struct np_text *o, const struct np_report *r, const char *title,
			  const struct np_xch_row *rows, size_t n, uint64_t total, bool outbound)
{
	const struct np_xch_report *x = &r->xch;
	char head[200], thr[32], b[6][32], label[NP_HTTP_PATH_MAX * 3 + 64], comm[64];

	snprintf(head, sizeof(head), "%s (%zu shown; %" PRIu64 " over %s)", title, n, total,
		 np_fmt_ns(x->slow_ns, thr, sizeof(thr)));
	np_text_heading(o, head);
	if (!n) {
		fprintf(o->f, "  none recorded\n");
		return;
	}
	if (outbound)
		fprintf(o->f, "  %8s %7s %-15s %10s %6s\n%12s%s\n", "at", "tid", "comm", "wait",
			"status", "", "request -> peer");
	else
		fprintf(o->f, "  %8s %7s %-12s %9s %9s %9s %9s %9s %6s\n%12s%s\n", "at", "tid", "comm",
			"total", "queued", "app", "tx", "peer", "status", "", "request  (local <- client)");
	for (size_t i = 0; i < n; i++) {
		const struct np_xch_row *row = &rows[i];
		const struct np_xch_event *e = &row->ev;
		double at = (double)(e->start_ns > r->start_ns ? e->start_ns - r->start_ns : 0) / 1e9;
		char status[8] = "-", line[sizeof(label) + 400];
		size_t used;

		if (e->status >= 100 && e->status <= 999)
			snprintf(status, sizeof(status), "%u", e->status);
		np_sanitize(row->comm, comm, sizeof(comm), true);
		label_text(row, label, sizeof(label));
		fprintf(o->f, "  %7.3fs %7u ", at, e->tid);
		if (outbound) {
			np_fput_cols(o->f, comm, 15);
			fprintf(o->f, " %10s %6s\n", np_fmt_ns(e->total_ns, b[0], sizeof(b[0])), status);
			snprintf(line, sizeof(line), "%s -> %s", label, row->peer[0] ? row->peer : "?");
			fprintf(o->f, "%12s", "");
			np_text_wrapped(o, line, 12, 14);
			continue;
		}
		np_fput_cols(o->f, comm, 12);
		fprintf(o->f, " %9s %9s %9s %9s %9s %6s\n", np_fmt_ns(e->total_ns, b[0], sizeof(b[0])),
			e->flags & NP_XEV_ARRIVAL ? np_fmt_ns(e->queued_ns, b[1], sizeof(b[1])) : "-",
			np_fmt_ns(e->app_ns, b[2], sizeof(b[2])),
			e->flags & NP_XEV_WIRE ? np_fmt_ns(e->tx_ns, b[3], sizeof(b[3])) : "-",
			np_fmt_ns(e->peer_ns, b[4], sizeof(b[4])), status);
		used = (size_t)snprintf(line, sizeof(line), "%s  (%s <- %s%s", label,
					row->local[0] ? row->local : "?", row->peer[0] ? row->peer : "?",
					e->flags & NP_XEV_PIPELINED ? ", pipelined" : "");
		if (e->retrans && used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used, ", %u retransmits",
						 e->retrans);
		if (row->split.known && used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 "; app on-CPU %s, off-CPU %s, runnable %s",
						 np_fmt_ns(row->split.on_cpu_ns, b[0], sizeof(b[0])),
						 np_fmt_ns(row->split.off_cpu_ns, b[1], sizeof(b[1])),
						 np_fmt_ns(row->split.runnable_ns, b[2], sizeof(b[2])));
		if (used < sizeof(line))
			snprintf(line + used, sizeof(line) - used, ")");
		fprintf(o->f, "%12s", "");
		np_text_wrapped(o, line, 12, 14);
	}
}

#define TEXT_MAX_WINDOWS 30

void np_xch_report_text(struct np_text *o, const struct np_report *r)
{
	const struct np_xch_report *x = &r->xch;
	char b[8][32], note[128];

	np_text_heading(o, "Exchanges (requests served: data arrival -> read -> response written -> "
			   "on the wire)");
	if (!x->present) {
		fprintf(o->f, "  not collected (see Sources)\n");
		return;
	}
	fprintf(o->f,
		"  %" PRIu64 " served, %" PRIu64 " made to peers (outbound), %" PRIu64
		" unanswered; %s in, %s out\n",
		x->count, x->outbound_count, x->unanswered, np_fmt_bytes(x->bytes_in, b[0], sizeof(b[0])),
		np_fmt_bytes(x->bytes_out, b[1], sizeof(b[1])));
	if (!x->count && !x->outbound_count)
		return;
	fprintf(o->f, "  %-9s %10s %10s %10s %10s %10s %10s\n", "component", "sum", "mean", "p50",
		"p90", "p99", "max");
	component_line(o, "total", &x->total, "");
	if (x->queued.known && x->queued.n < x->count)
		snprintf(note, sizeof(note), "(arrival seen for %" PRIu64 ")", x->queued.n);
	else
		snprintf(note, sizeof(note), "%s", x->queued.known ? "" : "(no sk_data_ready)");
	component_line(o, "queued", &x->queued, note);
	component_line(o, "app", &x->app, "");
	if (x->tx.known && x->tx.n < x->count)
		snprintf(note, sizeof(note), "(leaving seen for %" PRIu64 ")", x->tx.n);
	else
		snprintf(note, sizeof(note), "%s", x->tx.known ? "" : "(no net_dev_start_xmit)");
	component_line(o, "tx", &x->tx, note);
	/* only when it is a visible part of tx */
	if (x->flags & NP_XCFG_QDISC && x->qdisc_known && x->qdisc_ns * 20 >= x->tx.sum_ns &&
	    x->qdisc_ns >= 1000000)
		fprintf(o->f, "  %-9s %10s %10s  (of tx: below TCP, qdisc and device; %" PRIu64 " seen)\n", "  qdisc",
			np_fmt_ns(x->qdisc_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->qdisc_ns / x->qdisc_known, b[1], sizeof(b[1])), x->qdisc_known);
	component_line(o, "peer", &x->peer, "(part of app)");
	if (x->outbound_count)
		component_line(o, "outbound", &x->outbound, "(requests to peers)");
	if (x->app_split.known)
		fprintf(o->f, "  app time: on-CPU %s, off-CPU %s, runnable %s (from sampled exchanges)\n",
			np_fmt_ns(x->app_split.on_cpu_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->app_split.off_cpu_ns, b[1], sizeof(b[1])),
			np_fmt_ns(x->app_split.runnable_ns, b[2], sizeof(b[2])));
	else
		fprintf(o->f, "  app time on-CPU / off-CPU / runnable: unknown (needs the scheduler "
			      "tracer)\n");
	if (x->retrans || x->pipelined)
		fprintf(o->f, "  %" PRIu64 " retransmitted segments inside exchanges; %" PRIu64
			      " pipelined requests\n",
			x->retrans, x->pipelined);
	fprintf(o->f, "  Percentiles from log-linear histograms (within 1/8 of the value).\n");
	if (x->lost_events || x->writer_drops)
		fprintf(o->f, "  %" PRIu64 " individual exchanges could not be recorded (the totals "
			      "above are still complete)\n",
			x->lost_events + x->writer_drops);

	if (x->n_windows > 1) {
		size_t step = (x->n_windows + TEXT_MAX_WINDOWS - 1) / TEXT_MAX_WINDOWS;

		np_text_heading(o, "Exchanges per window");
		fprintf(o->f, "  %8s %9s %10s %10s %10s %10s %10s %10s\n", "at", "served", "p50", "p99",
			"queued", "app", "tx", "peer");
		for (size_t i = 0; i < x->n_windows; i += step) {
			const struct np_xch_window_row *w = &x->windows[i];
			double at = (double)(w->start_ns > r->start_ns ? w->start_ns - r->start_ns : 0) / 1e9;

			fprintf(o->f, "  %7.1fs %9" PRIu64 " %10s %10s %10s %10s %10s %10s\n", at, w->count,
				np_fmt_ns(w->p50_ns, b[0], sizeof(b[0])), np_fmt_ns(w->p99_ns, b[1], sizeof(b[1])),
				x->queued.known ? np_fmt_ns(w->queued_ns, b[2], sizeof(b[2])) : "-",
				np_fmt_ns(w->app_ns, b[3], sizeof(b[3])),
				x->tx.known ? np_fmt_ns(w->tx_ns, b[4], sizeof(b[4])) : "-",
				np_fmt_ns(w->peer_ns, b[5], sizeof(b[5])));
		}
		if (step > 1)
			fprintf(o->f, "  (every %zu. window shown; all are in the JSON report)\n", step);
	}
	slowest_table(o, r, "Slowest exchanges served", x->slowest, x->n_slowest, x->slow_total,
		      false);
	if (x->outbound_count)
		slowest_table(o, r, "Slowest requests to peers", x->slowest_out,
			      x->n_slowest_out > 5 ? 5 : x->n_slowest_out, x->slow_out_total, true);
}

/* ---- JSON ------------------------------------------------------------------ */

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

/* A sum that is null when the kernel could not see the component. */
static json_object *jknown(const struct np_xch_component *c, uint64_t v)
{
	return c->known ? np_ju64(v) : NULL;
}

static json_object *component_json(const struct np_xch_component *c)
{
	json_object *o;

	if (!c->known)
		return NULL;
	o = json_object_new_object();
	add(o, "n", np_ju64(c->n));
	add(o, "sum_ns", np_ju64(c->sum_ns));
	add(o, "mean_ns", np_ju64(c->n ? c->sum_ns / c->n : 0));
	add(o, "p50_ns", np_ju64(c->p50_ns));
	add(o, "p90_ns", np_ju64(c->p90_ns));
	add(o, "p99_ns", np_ju64(c->p99_ns));
	add(o, "max_ns", np_ju64(c->max_ns));
	return o;
}

static json_object *split_json(const struct np_xch_split *s, const char *key)
{
	if (!s->known)
		return NULL;
	if (!strcmp(key, "on"))
		return np_ju64(s->on_cpu_ns);
	if (!strcmp(key, "off"))
		return np_ju64(s->off_cpu_ns);
	return np_ju64(s->runnable_ns);
}

static json_object *row_json(const struct np_report *r, const struct np_xch_row *row)
{
	const struct np_xch_event *e = &row->ev;
	json_object *o = json_object_new_object();
	char label[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8] = "";

	if (row->labelled)
		snprintf(label, sizeof(label), "%s%s%s", row->label.method, row->label.path[0] ? " " : "",
			 row->label.path);
	add(o, "label", row->labelled ? np_jstr(label) : NULL);
	add(o, "method", row->labelled ? np_jstr(row->label.method) : NULL);
	add(o, "path", row->labelled ? np_jstr(row->label.path) : NULL);
	add(o, "status", e->status >= 100 && e->status <= 999 ? np_ju64(e->status) : NULL);
	add(o, "total_ns", np_ju64(e->total_ns));
	if (e->flags & NP_XEV_OUTBOUND) {
		add(o, "peer_ns", np_ju64(e->total_ns));
	} else {
		add(o, "queued_ns", e->flags & NP_XEV_ARRIVAL ? np_ju64(e->queued_ns) : NULL);
		add(o, "app_ns", np_ju64(e->app_ns));
		add(o, "tx_ns", e->flags & NP_XEV_WIRE ? np_ju64(e->tx_ns) : NULL);
		add(o, "tx_qdisc_ns", e->flags2 & NP_XEV2_QDISC ? np_ju64(e->qdisc_ns) : NULL);
		add(o, "peer_ns", np_ju64(e->peer_ns));
		add(o, "on_cpu_ns", split_json(&row->split, "on"));
		add(o, "off_cpu_ns", split_json(&row->split, "off"));
		add(o, "runnable_ns", split_json(&row->split, "runnable"));
	}
	add(o, "ts_ns", np_ju64(e->start_ns));
	add(o, "offset_ns", np_ju64(e->start_ns > r->start_ns ? e->start_ns - r->start_ns : 0));
	add(o, "tid", np_ju64(e->tid));
	add(o, "comm", np_jstr(row->comm));
	add(o, "local", row->local[0] ? np_jstr(row->local) : NULL);
	add(o, "peer", row->peer[0] ? np_jstr(row->peer) : NULL);
	add(o, "connection", np_ju64(e->cookie));
	add(o, "retransmits", np_ju64(e->retrans));
	add(o, "bytes_in", np_ju64(e->bytes_in));
	add(o, "bytes_out", np_ju64(e->bytes_out));
	add(o, "slow", json_object_new_boolean(e->flags & NP_XEV_SLOW));
	add(o, "sampled", json_object_new_boolean(e->flags & NP_XEV_SAMPLED));
	add(o, "pipelined", json_object_new_boolean(e->flags & NP_XEV_PIPELINED));
	add(o, "closed", json_object_new_boolean(e->flags & NP_XEV_CLOSED));
	add(o, "at_end", json_object_new_boolean(e->flags2 & NP_XEV2_AT_END));
	return o;
}

json_object *np_xch_json(const struct np_report *r)
{
	const struct np_xch_report *x = &r->xch;
	json_object *o, *comp, *slow, *slow_out, *wins;

	if (!x->present)
		return NULL;
	o = json_object_new_object();
	comp = json_object_new_object();
	slow = json_object_new_array();
	slow_out = json_object_new_array();
	wins = json_object_new_array();
	add(o, "count", np_ju64(x->count));
	add(o, "outbound_count", np_ju64(x->outbound_count));
	add(o, "p50_ns", np_ju64(x->total.p50_ns));
	add(o, "p90_ns", np_ju64(x->total.p90_ns));
	add(o, "p99_ns", np_ju64(x->total.p99_ns));
	add(o, "max_ns", np_ju64(x->total.max_ns));
	add(o, "total_ns", np_ju64(x->total.sum_ns));
	add(o, "queued_ns", jknown(&x->queued, x->queued.sum_ns));
	add(o, "app_ns", np_ju64(x->app.sum_ns));
	add(o, "tx_ns", jknown(&x->tx, x->tx.sum_ns));
	add(o, "peer_ns", np_ju64(x->peer.sum_ns));
	add(o, "outbound_ns", np_ju64(x->outbound.sum_ns));
	/* null: no qdisc tracepoint, or no qdisc on the way */
	add(o, "tx_qdisc_ns", x->flags & NP_XCFG_QDISC && x->qdisc_known ? np_ju64(x->qdisc_ns) : NULL);
	add(o, "tx_qdisc_known", np_ju64(x->qdisc_known));
	add(o, "queued_known", np_ju64(x->queued.known ? x->queued.n : 0));
	add(o, "tx_known", np_ju64(x->tx.known ? x->tx.n : 0));
	add(o, "on_cpu_ns", split_json(&x->app_split, "on"));
	add(o, "off_cpu_ns", split_json(&x->app_split, "off"));
	add(o, "runnable_ns", split_json(&x->app_split, "runnable"));
	add(comp, "total", component_json(&x->total));
	add(comp, "queued", component_json(&x->queued));
	add(comp, "app", component_json(&x->app));
	add(comp, "tx", component_json(&x->tx));
	add(comp, "peer", component_json(&x->peer));
	add(comp, "outbound", component_json(&x->outbound));
	add(o, "components", comp);
	add(o, "unanswered", np_ju64(x->unanswered));
	add(o, "pipelined", np_ju64(x->pipelined));
	add(o, "retransmits", np_ju64(x->retrans));
	add(o, "bytes_in", np_ju64(x->bytes_in));
	add(o, "bytes_out", np_ju64(x->bytes_out));
	add(o, "threshold_ns", np_ju64(x->slow_ns));
	add(o, "sample_every", np_ju64(x->sample_every));
	add(o, "labels", json_object_new_boolean(x->flags & NP_XCFG_PAYLOAD));
	add(o, "events", np_ju64(x->events));
	add(o, "lost_events", np_ju64(x->lost_events + x->writer_drops));
	for (size_t i = 0; i < x->n_slowest; i++)
		json_object_array_add(slow, row_json(r, &x->slowest[i]));
	for (size_t i = 0; i < x->n_slowest_out; i++)
		json_object_array_add(slow_out, row_json(r, &x->slowest_out[i]));
	add(o, "slowest", slow);
	add(o, "slow_total", np_ju64(x->slow_total));
	add(o, "slowest_outbound", slow_out);
	add(o, "slow_outbound_total", np_ju64(x->slow_out_total));
	for (size_t i = 0; i < x->n_windows; i++) {
		const struct np_xch_window_row *w = &x->windows[i];
		json_object *wo = json_object_new_object();

		add(wo, "offset_ns", np_ju64(w->start_ns > r->start_ns ? w->start_ns - r->start_ns : 0));
		add(wo, "duration_ns", np_ju64(w->end_ns > w->start_ns ? w->end_ns - w->start_ns : 0));
		add(wo, "count", np_ju64(w->count));
		add(wo, "outbound_count", np_ju64(w->outbound));
		add(wo, "p50_ns", np_ju64(w->p50_ns));
		add(wo, "p99_ns", np_ju64(w->p99_ns));
		add(wo, "queued_ns", x->queued.known ? np_ju64(w->queued_ns) : NULL);
		add(wo, "app_ns", np_ju64(w->app_ns));
		add(wo, "tx_ns", x->tx.known ? np_ju64(w->tx_ns) : NULL);
		add(wo, "peer_ns", np_ju64(w->peer_ns));
		add(wo, "outbound_ns", np_ju64(w->outbound_ns));
		add(wo, "tx_qdisc_ns", np_ju64(w->qdisc_ns));
		json_object_array_add(wins, wo);
	}
	add(o, "windows", wins);
	return o;
}
