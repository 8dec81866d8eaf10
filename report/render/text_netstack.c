/* text_netstack.c - the kernel stack section of the text report (model:
 * report/model/netstack_report.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"
#include "report/render/textout.h"

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
				used += (size_t)snprintf(where + used, sizeof(where) - used,
							 "%s%s (%" PRIu64 ")", k ? ", " : "",
							 x->loc[k].where, x->loc[k].count);
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
		fprintf(o->f, "  the target's connections:\n  %-46s %8s %8s %10s\n",
			"local -> peer", "retrans", "drops", "rcvq full");
		for (size_t i = 0; i < ns->n_conns && i < TEXT_MAX_CONNS; i++) {
			const struct np_ns_conn *c = &ns->conns[i];

			snprintf(name, sizeof(name), "%s -> %s", c->local, c->peer);
			fprintf(o->f, "  ");
			np_fput_cols(o->f, name, 46);
			fprintf(o->f, " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n", c->retrans,
				c->drops, c->rcvq_full);
		}
		if (ns->n_conns > TEXT_MAX_CONNS)
			fprintf(o->f, "  ... %zu more connections in the JSON report\n",
				ns->n_conns - TEXT_MAX_CONNS);
	}
	if (ns->t.lost_events || ns->writer_drops)
		fprintf(o->f,
			"  %" PRIu64 " events on the target's sockets could not be recorded\n",
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
			c->cpu, np_fmt_ns(c->rx.total_ns, b[0], sizeof(b[0])),
			(uint64_t)c->rx.count, np_fmt_ns(c->rx_p99_ns, b[1], sizeof(b[1])),
			np_fmt_ns(c->tx.total_ns, b[2], sizeof(b[2])), (uint64_t)c->tx.count,
			np_fmt_ns(c->tx_p99_ns, b[3], sizeof(b[3])), (uint64_t)c->napi.polls,
			(uint64_t)c->napi.work, (uint64_t)c->napi.exhausted);
	}
	fprintf(o->f, "  (softirq time from irq:softirq_entry/exit; 'budget': NAPI polls that used "
		      "their whole budget)\n");
}
