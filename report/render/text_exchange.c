/* text_exchange.c - the exchanges section of the text report (model:
 * report/model/exchange_report.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"
#include "report/render/textout.h"

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
		ns_or_dash(c, c->p50_ns, b[2], sizeof(b[2])),
		ns_or_dash(c, c->p90_ns, b[3], sizeof(b[3])),
		ns_or_dash(c, c->p99_ns, b[4], sizeof(b[4])),
		ns_or_dash(c, c->max_ns, b[5], sizeof(b[5])), note);
}

static const char *label_text(const struct np_xch_row *row, char *buf, size_t len)
{
	char raw[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8];

	if (!row->labelled) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (np_label_proto_name(row->label.proto))
		np_label_format(&row->label, raw, sizeof(raw));
	else
		snprintf(raw, sizeof(raw), "%s %s", row->label.method, row->label.path);
	return np_sanitize(raw, buf, len, true);
}

/* Requests to peers per operation: the ten slowest by p99. */
static void out_groups_table(struct np_text *o, const struct np_xch_report *x)
{
	size_t n = x->n_out_groups > 10 ? 10 : x->n_out_groups;
	char b[3][32], label[NP_XCH_GROUP_LABEL * 3 + 8];

	np_text_heading(o, x->sample_every > 1 ? "Requests to peers by operation (recorded ones)"
					       : "Requests to peers by operation");
	fprintf(o->f, "  %-24s %-28s %8s %10s %10s %10s\n", "peer", "operation", "count", "p50",
		"p99", "max");
	for (size_t i = 0; i < n; i++) {
		const struct np_xch_out_group *g = &x->out_groups[i];

		fprintf(o->f, "  %-24s %-28s %8" PRIu64 " %10s %10s %10s\n", g->peer,
			g->label[0] ? np_sanitize(g->label, label, sizeof(label), true) : "-",
			g->count, np_fmt_ns(g->p50_ns, b[0], sizeof(b[0])),
			np_fmt_ns(g->p99_ns, b[1], sizeof(b[1])),
			np_fmt_ns(g->max_ns, b[2], sizeof(b[2])));
	}
	if (n < x->n_out_groups)
		fprintf(o->f, "  (%zu more in the JSON report)\n", x->n_out_groups - n);
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
		fprintf(o->f, "  %8s %7s %-12s %9s %9s %9s %9s %9s %6s\n%12s%s\n", "at", "tid",
			"comm", "total", "queued", "app", "tx", "peer", "status", "",
			"request  (local <- client)");
	for (size_t i = 0; i < n; i++) {
		const struct np_xch_row *row = &rows[i];
		const struct np_xch_event *e = &row->ev;
		double at = (double)(e->start_ns > r->start_ns ? e->start_ns - r->start_ns : 0) /
			    1e9;
		char status[8] = "-", line[sizeof(label) + 400];
		size_t used;

		if (e->status >= 100 && e->status <= 999)
			snprintf(status, sizeof(status), "%u", e->status);
		np_sanitize(row->comm, comm, sizeof(comm), true);
		label_text(row, label, sizeof(label));
		fprintf(o->f, "  %7.3fs %7u ", at, e->tid);
		if (outbound) {
			np_fput_cols(o->f, comm, 15);
			fprintf(o->f, " %10s %6s\n", np_fmt_ns(e->total_ns, b[0], sizeof(b[0])),
				status);
			snprintf(line, sizeof(line), "%s -> %s", label,
				 row->peer[0] ? row->peer : "?");
			fprintf(o->f, "%12s", "");
			np_text_wrapped(o, line, 12, 14);
			continue;
		}
		np_fput_cols(o->f, comm, 12);
		fprintf(o->f, " %9s %9s %9s %9s %9s %6s\n",
			np_fmt_ns(e->total_ns, b[0], sizeof(b[0])),
			e->flags & NP_XEV_ARRIVAL ? np_fmt_ns(e->queued_ns, b[1], sizeof(b[1]))
						  : "-",
			np_fmt_ns(e->app_ns, b[2], sizeof(b[2])),
			e->flags & NP_XEV_WIRE ? np_fmt_ns(e->tx_ns, b[3], sizeof(b[3])) : "-",
			np_fmt_ns(e->peer_ns, b[4], sizeof(b[4])), status);
		used = (size_t)snprintf(line, sizeof(line), "%s  (%s <- %s%s", label,
					row->local[0] ? row->local : "?",
					row->peer[0] ? row->peer : "?",
					e->flags & NP_XEV_PIPELINED ? ", pipelined" : "");
		if (e->flags2 & NP_XEV2_TLS && used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used, ", TLS");
		if (e->tls_ns && used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 ", handshake %s in total",
						 np_fmt_ns(e->tls_ns, b[0], sizeof(b[0])));
		if (e->retrans && used < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 ", %u retransmits", e->retrans);
		if (row->split.known && used < sizeof(line))
			used += (size_t)
				snprintf(line + used, sizeof(line) - used,
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

/* Requests hit by loss: only when some were, and only with the sampler,
 * whose fast exchanges the share needs. */
static void text_loss(struct np_text *o, const struct np_xch_loss *l)
{
	char b[2][32], line[320];

	if (!l->known || !l->hit_events)
		return;
	snprintf(line, sizeof(line),
		 "requests hit by loss (a retransmit or a drop on their connection while in "
		 "flight): %.1f%% (about %" PRIu64 "), p50 %s against %s for the others",
		 np_xch_loss_share(l) * 100.0, l->hit_requests,
		 np_fmt_ns(l->hit_p50_ns, b[0], sizeof(b[0])),
		 l->others_p50_ns ? np_fmt_ns(l->others_p50_ns, b[1], sizeof(b[1])) : "-");
	fprintf(o->f, "  ");
	np_text_wrapped(o, line, 2, 4);
	for (size_t i = 0; i < l->n_reasons; i++)
		fprintf(o->f, "    drop reason %s: about %" PRIu64 " requests\n",
			l->reasons[i].name[0] ? l->reasons[i].name : "?", l->reasons[i].requests);
}

void np_xch_report_text(struct np_text *o, const struct np_report *r)
{
	const struct np_xch_report *x = &r->xch;
	char b[8][32], note[128];

	np_text_heading(o,
			"Exchanges (requests served: data arrival -> read -> response written -> "
			"on the wire)");
	if (!x->present) {
		fprintf(o->f, "  not collected (see Sources)\n");
		return;
	}
	fprintf(o->f,
		"  %" PRIu64 " served, %" PRIu64 " made to peers (outbound), %" PRIu64
		" unanswered; %s in, %s out\n",
		x->count, x->outbound_count, x->unanswered,
		np_fmt_bytes(x->bytes_in, b[0], sizeof(b[0])),
		np_fmt_bytes(x->bytes_out, b[1], sizeof(b[1])));
	/* HTTP/2: each stream is one of the exchanges above */
	if (x->h2_conns)
		fprintf(o->f,
			"  %-9s %" PRIu64 " streams on %" PRIu64
			" connections; streams open at once: max %u, mean %.1f\n",
			"http2", x->h2_streams, x->h2_conns, x->h2_max_open,
			x->h2_streams ? (double)x->h2_open_sum / x->h2_streams : 0.0);
	if (x->h2_joined)
		fprintf(o->f,
			"  %-9s %" PRIu64 " connection(s) opened before recording carried HTTP/2: "
			"their header blocks need the ones sent earlier (HPACK), so their streams "
			"are not counted\n",
			"http2", x->h2_joined);
	if (!x->count && !x->outbound_count)
		return;
	fprintf(o->f, "  %-9s %10s %10s %10s %10s %10s %10s\n", "component", "sum", "mean", "p50",
		"p90", "p99", "max");
	component_line(o, "total", &x->total, "");
	/* TLS handshakes: part of the first exchange of each connection */
	if (x->tls_known)
		fprintf(o->f,
			"  %-9s %10s %10s  (TLS handshake, in the first exchange of %" PRIu64
			" connections)\n",
			"tls", np_fmt_ns(x->tls_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->tls_ns / x->tls_known, b[1], sizeof(b[1])), x->tls_known);
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
		fprintf(o->f,
			"  %-9s %10s %10s  (of tx: below TCP, qdisc and device; %" PRIu64
			" seen)\n",
			"  qdisc", np_fmt_ns(x->qdisc_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->qdisc_ns / x->qdisc_known, b[1], sizeof(b[1])),
			x->qdisc_known);
	component_line(o, "peer", &x->peer, "(part of app)");
	if (x->outbound_count)
		component_line(o, "outbound", &x->outbound, "(requests to peers)");
	if (x->app_split.known)
		fprintf(o->f,
			"  app time: on-CPU %s, off-CPU %s, runnable %s (from sampled exchanges)\n",
			np_fmt_ns(x->app_split.on_cpu_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->app_split.off_cpu_ns, b[1], sizeof(b[1])),
			np_fmt_ns(x->app_split.runnable_ns, b[2], sizeof(b[2])));
	else
		fprintf(o->f,
			"  app time on-CPU / off-CPU / runnable: unknown (needs the scheduler "
			"tracer)\n");
	if (x->retrans || x->pipelined)
		fprintf(o->f,
			"  %" PRIu64 " retransmitted segments inside exchanges; %" PRIu64
			" pipelined requests\n",
			x->retrans, x->pipelined);
	text_loss(o, &x->loss);
	if (x->nagle_held)
		fprintf(o->f,
			"  %" PRIu64 " exchanges had a response write held by Nagle's algorithm "
			"(TCP_NODELAY off)\n",
			x->nagle_held);
	if (x->reply_parts)
		fprintf(o->f,
			"  %" PRIu64 " outbound replies came in two parts, %" PRIu64
			" of them a delayed ACK apart (30-500 ms); median wait %.1f ms\n",
			x->reply_parts, x->reply_parts_ack_delay,
			(double)x->reply_part_p50_ns / 1e6);
	fprintf(o->f, "  Percentiles from log-linear histograms (within 1/8 of the value).\n");
	if (x->lost_events || x->writer_drops)
		fprintf(o->f,
			"  %" PRIu64 " individual exchanges could not be recorded (the totals "
			"above are still complete)\n",
			x->lost_events + x->writer_drops);

	if (x->n_windows > 1) {
		size_t step = (x->n_windows + TEXT_MAX_WINDOWS - 1) / TEXT_MAX_WINDOWS;

		np_text_heading(o, "Exchanges per window");
		fprintf(o->f, "  %8s %9s %10s %10s %10s %10s %10s %10s\n", "at", "served", "p50",
			"p99", "queued", "app", "tx", "peer");
		for (size_t i = 0; i < x->n_windows; i += step) {
			const struct np_xch_window_row *w = &x->windows[i];
			double at = (double)(w->start_ns > r->start_ns ? w->start_ns - r->start_ns
								       : 0) /
				    1e9;

			fprintf(o->f, "  %7.1fs %9" PRIu64 " %10s %10s %10s %10s %10s %10s\n", at,
				w->count, np_fmt_ns(w->p50_ns, b[0], sizeof(b[0])),
				np_fmt_ns(w->p99_ns, b[1], sizeof(b[1])),
				x->queued.known ? np_fmt_ns(w->queued_ns, b[2], sizeof(b[2])) : "-",
				np_fmt_ns(w->app_ns, b[3], sizeof(b[3])),
				x->tx.known ? np_fmt_ns(w->tx_ns, b[4], sizeof(b[4])) : "-",
				np_fmt_ns(w->peer_ns, b[5], sizeof(b[5])));
		}
		if (step > 1)
			fprintf(o->f, "  (every %zu. window shown; all are in the JSON report)\n",
				step);
	}
	slowest_table(o, r, "Slowest exchanges served", x->slowest, x->n_slowest, x->slow_total,
		      false);
	if (x->outbound_count)
		slowest_table(o, r, "Slowest requests to peers", x->slowest_out,
			      x->n_slowest_out > 5 ? 5 : x->n_slowest_out, x->slow_out_total, true);
	if (x->n_out_groups)
		out_groups_table(o, x);
}
