/* join_text.c - netprof report A B [C ...] as text: the recordings and
 * their clocks, the verdict, each hop's split, where the end-to-end time
 * went, a waterfall of the slowest requests and what did not join.  Every
 * figure is one of the JSON's (join_json.c). */
#include <inttypes.h>
#include <stdio.h>

#include "report/join/join.h"
#include "report/render/format.h"
#include "report/render/render.h"

static const char *fmt_signed(int64_t ns, char *buf, size_t len)
{
	char b[32];
	uint64_t abs_ns = (uint64_t)(ns < 0 ? -ns : ns);

	/* an offset of hours is still known to microseconds */
	if (abs_ns >= 1000000000ull)
		snprintf(b, sizeof(b), "%.6f s", (double)abs_ns / 1e9);
	else
		np_fmt_ns(abs_ns, b, sizeof(b));
	snprintf(buf, len, "%s%s", ns < 0 ? "-" : "+", b);
	return buf;
}

static void recordings(const struct np_join *j, FILE *f)
{
	char off[40], unc[32];

	fputs("recordings (clock offsets from the first, estimated from the exchanges):\n", f);
	for (size_t i = 0; i < j->n_rec; i++) {
		const struct np_join_recording *r = &j->rec[i];

		fprintf(f, "  %-24s pid %-7u %-20s %7" PRIu64 " exchange events, sample 1/%u, ",
			r->name, r->pid, r->hostname, r->events, r->sample_every);
		if (!i)
			fputs("clock: the reference\n", f);
		else if (r->offset_known)
			fprintf(f, "clock %s +- %s\n", fmt_signed(r->offset_ns, off, sizeof(off)),
				np_fmt_ns(r->uncertainty_ns, unc, sizeof(unc)));
		else
			fputs("clock: unknown (no hop joins it)\n", f);
		if (r->cause[0])
			fprintf(f, "  %-24s its own report's verdict: %s\n", "", r->cause);
	}
}

static void hops(const struct np_join *j, FILE *f)
{
	fputs("\nhops (the caller's peer time to the first response byte, split):\n", f);
	for (size_t i = 0; i < j->n_hops; i++) {
		const struct np_join_hop *h = &j->hops[i];
		char a[32], b[32], c[32], d[32], e[32], g[32], k[40], l[40];

		fprintf(f,
			"  %s -> %s: %" PRIu64 " exchanges on %" PRIu64 " connection%s (%" PRIu64
			" unpaired, %" PRIu64 " inconsistent)\n",
			j->rec[h->caller].name, j->rec[h->callee].name, h->exchanges,
			h->connections, h->connections == 1 ? "" : "s", h->unpaired,
			h->inconsistent);
		if (!h->exchanges)
			continue;
		fprintf(f, "    peer %s (p50 %s) = network %s (%.1f%%, p50 %s, p90 %s)\n",
			np_fmt_ns(h->peer_ns, a, sizeof(a)),
			np_fmt_ns(h->peer_p50_ns, b, sizeof(b)),
			np_fmt_ns(h->network_ns, c, sizeof(c)), 100 * h->network_share,
			np_fmt_ns(h->network_p50_ns, d, sizeof(d)),
			np_fmt_ns(h->network_p90_ns, e, sizeof(e)));
		fprintf(f, "      + %s %s: queued %s, app %s, ", j->rec[h->callee].name,
			np_fmt_ns(h->callee_ns, a, sizeof(a)),
			np_fmt_ns(h->callee_queued_ns, b, sizeof(b)),
			np_fmt_ns(h->callee_app_ns, c, sizeof(c)));
		fprintf(f, "peer %s\n", np_fmt_ns(h->callee_peer_ns, g, sizeof(g)));
		fprintf(f,
			"    network by direction: request %s, response %s (each +- %s per "
			"exchange)\n",
			fmt_signed(h->request_net_ns, k, sizeof(k)),
			fmt_signed(h->response_net_ns, l, sizeof(l)),
			np_fmt_ns(h->clock.uncertainty_ns, e, sizeof(e)));
		if (h->clock.known)
			fprintf(f, "    clock: %s's - %s's = %s +- %s from %zu of %zu pairs\n",
				j->rec[h->callee].name, j->rec[h->caller].name,
				fmt_signed(h->clock.offset_ns, k, sizeof(k)),
				np_fmt_ns(h->clock.uncertainty_ns, e, sizeof(e)), h->clock.used,
				h->clock.used + h->clock.rejected + h->clock.invalid);
	}
	if (!j->n_hops)
		fputs("  none: no connection of one recording is another's\n", f);
}

static void breakdown(const struct np_join *j, FILE *f)
{
	char a[32];

	fprintf(f, "\nwhere the time went (%" PRIu64 " requests followed across the hops, %s):\n",
		j->roots, np_fmt_ns(j->end_to_end_ns, a, sizeof(a)));
	for (size_t i = 0; i < j->n_parts; i++) {
		char name[160];

		np_join_part_name(j, &j->parts[i], name, sizeof(name));
		fprintf(f, "  %-56s %10s %6.1f%%\n", name, np_fmt_ns(j->parts[i].ns, a, sizeof(a)),
			100 * j->parts[i].share);
	}
}

static void waterfalls(const struct np_join *j, FILE *f)
{
	fprintf(f, "\nslowest requests (from the request's start, on %s's clock):\n",
		j->rec[0].name);
	for (size_t i = 0; i < j->n_slowest; i++) {
		const struct np_join_waterfall *w = &j->slowest[i];
		char a[32];

		fprintf(f, "  #%zu %s%s%s\n", i + 1, np_fmt_ns(w->total_ns, a, sizeof(a)),
			w->steps[0].label[0] ? "  " : "", w->steps[0].label);
		for (size_t k = 0; k < w->n; k++) {
			const struct np_join_step *s = &w->steps[k];
			const struct np_join_hop *h = &j->hops[s->hop];
			char t[40], p[32], n[32], q[32], ap[32], pp[32];

			fprintf(f,
				"    %*s%s -> %s at %s: %s = network %s + queued %s + app %s + "
				"peer %s\n",
				(int)(2 * k), "", j->rec[h->caller].name, j->rec[h->callee].name,
				fmt_signed(s->start_ns, t, sizeof(t)),
				np_fmt_ns(s->peer_ns, p, sizeof(p)),
				np_fmt_ns(s->network_ns, n, sizeof(n)),
				np_fmt_ns(s->callee_queued_ns, q, sizeof(q)),
				np_fmt_ns(s->callee_app_ns, ap, sizeof(ap)),
				np_fmt_ns(s->callee_peer_ns, pp, sizeof(pp)));
		}
	}
	if (!j->n_slowest)
		fputs("  none\n", f);
}

static void unjoined(const struct np_join *j, FILE *f)
{
	fprintf(f, "\nconnections not joined (%" PRIu64 "):\n", j->unjoined_connections);
	for (size_t i = 0; i < j->n_unjoined; i++) {
		const struct np_join_unjoined *u = &j->unjoined[i];

		fprintf(f, "  %-24s %-8s %s %s %s, %" PRIu64 " exchanges\n", j->rec[u->rec].name,
			u->outbound ? "called" : "served", u->outbound ? u->local : u->remote,
			u->outbound ? "->" : "->", u->outbound ? u->remote : u->local,
			u->exchanges);
	}
	if (j->n_unjoined < j->unjoined_connections && j->n_unjoined == NP_JOIN_MAX_UNJOINED)
		fputs("  (only the first ones are listed)\n", f);
	if (j->nat_note[0])
		fprintf(f, "  NAT? %s\n", j->nat_note);
	if (j->unjoined_connections)
		fputs("  (a connection joins when another recording holds its other end with the "
		      "same addresses and ports swapped)\n",
		      f);
}

int np_join_text(const struct np_join *j, FILE *f)
{
	fprintf(f, "netprof report: %zu recordings joined\n", j->n_rec);
	recordings(j, f);
	fprintf(f, "\nverdict: %s\n", j->verdict);
	if (j->sampled)
		fputs("NOTE: a recording kept fewer than every exchange (record with --sample 1 "
		      "to join them all): exchanges only one side kept are left out\n",
		      f);
	hops(j, f);
	breakdown(j, f);
	waterfalls(j, f);
	unjoined(j, f);
	return ferror(f) ? -1 : 0;
}
