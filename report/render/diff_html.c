/* diff_html.c - netprof diff as one self-contained HTML page
 * (--format html): the notes, both recordings, the headline, the
 * significant changes and the configuration changes as tables, the
 * exchange latency distributions of both recordings overlaid, and
 * differential flame graphs of the on-CPU and off-CPU stacks.
 *
 * Unlike the report page this one has no script: everything is static
 * markup and inline SVG, so its Content-Security-Policy (htmlout.c) allows
 * no script at all, and every string that came from a recording (process
 * and host names, paths, labels, frames, configuration values) goes
 * through np_html_str(), the only way text reaches the page.
 *
 * The distributions are drawn from each recording's histograms of every
 * exchange (exchange_report.h), not from the recorded events, which are a
 * biased selection.
 *
 * The flame graph merges both recordings' folded stacks into one tree.
 * Each side is normalised to its own total, so recordings of different
 * lengths or load compare.  A frame's width is the mean of its two shares:
 * unlike after's share alone it keeps frames that vanished visible, and
 * unlike the larger of the two it adds up, so children always fit inside
 * their parent.  Its colour is the change of its share: red grew, blue
 * shrank, the stronger the larger; its <title> gives both shares.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exchange.h"
#include "report/diff/diff.h"
#include "report/model/exchange_report.h"
#include "report/model/folded.h"
#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/htmlout.h"
#include "report/render/render.h"

#define esc(f, s) np_html_str((f), (s), 0)

/* ---- who was compared ------------------------------------------------------ */

static void side_row(FILE *f, const char *name, const char *b, const char *a)
{
	fprintf(f, "<tr><td>%s</td><td>", name);
	esc(f, b);
	fputs("</td><td>", f);
	esc(f, a);
	fputs("</td></tr>\n", f);
}

static void side_verdict(const struct np_diff_side *s, char *buf, size_t len)
{
	if (s->verdict)
		snprintf(buf, len, "%s (%s, score %.2g)", s->verdict, s->verdict_severity,
			 s->verdict_score);
	else
		snprintf(buf, len, "none");
}

static void put_sides(FILE *f, const struct np_diff *d)
{
	const struct np_diff_side *s[2] = {&d->before, &d->after};
	char v[2][256];

	fputs("<h2 id=\"sides\">The two recordings</h2>\n<div class=\"tablewrap\"><table "
	      "class=\"sides\">\n<thead><tr><th></th><th>before</th><th>after</th></tr></thead>"
	      "\n<tbody>\n",
	      f);
	side_row(f, "command", s[0]->comm[0] ? s[0]->comm : "?", s[1]->comm[0] ? s[1]->comm : "?");
	side_row(f, "executable", s[0]->exe, s[1]->exe);
	for (int i = 0; i < 2; i++)
		snprintf(v[i], sizeof(v[i]), "%u", s[i]->pid);
	side_row(f, "pid", v[0], v[1]);
	side_row(f, "host", s[0]->hostname[0] ? s[0]->hostname : "?",
		 s[1]->hostname[0] ? s[1]->hostname : "?");
	side_row(f, "kernel", s[0]->kernel, s[1]->kernel);
	side_row(f, "started", s[0]->start_time[0] ? s[0]->start_time : "?",
		 s[1]->start_time[0] ? s[1]->start_time : "?");
	for (int i = 0; i < 2; i++)
		snprintf(v[i], sizeof(v[i]), "%.1f s", (double)s[i]->duration_ns / 1e9);
	side_row(f, "duration", v[0], v[1]);
	for (int i = 0; i < 2; i++)
		snprintf(v[i], sizeof(v[i]), "%" PRIu64 " (%.1f/s)", s[i]->requests,
			 s[i]->requests_per_s);
	side_row(f, "requests", v[0], v[1]);
	for (int i = 0; i < 2; i++)
		side_verdict(s[i], v[i], sizeof(v[i]));
	side_row(f, "verdict", v[0], v[1]);
	for (int i = 0; i < 2; i++) {
		char t[32];

		snprintf(v[i], sizeof(v[i]), "%s, 1 in %u of the rest",
			 np_fmt_ns(s[i]->threshold_ns, t, sizeof(t)), s[i]->sample_every);
	}
	side_row(f, "exchanges recorded", v[0], v[1]);
	for (int i = 0; i < 2; i++)
		snprintf(v[i], sizeof(v[i]), "%u", s[i]->version);
	side_row(f, "format version", v[0], v[1]);
	fputs("</tbody></table></div>\n", f);
}

static void put_host_speed(FILE *f, const struct np_diff_host *h)
{
	if (h->known)
		fprintf(f,
			"<p class=\"muted\">Host speed (netprof's own BPF programs, %zu compared): "
			"%.0f ns per run before, %.0f ns after, %.2fx%s.</p>\n",
			h->programs, h->before_ns, h->after_ns, h->ratio,
			h->noisy ? ": the host ran at another speed, latencies that moved the same "
				   "way are marked host noise"
			: !h->comparable ? " (not used: the target's call rate differs "
					   "too much for the programs to do the same work)"
					 : "");
	if (h->load_known)
		fprintf(f,
			"<p class=\"muted\">Other work on the host: %.0f%% of its CPUs before, "
			"%.0f%% after%s.</p>\n",
			h->load_before * 100, h->load_after * 100,
			h->load_noisy ? ": latencies that moved the same way are marked host noise"
				      : "");
}

/* ---- the changes ------------------------------------------------------------ */

static void change_name(FILE *f, const struct np_diff_change *c)
{
	if (c->section == NP_DS_FINDING) {
		esc(f, c->where);
		fprintf(f, " %s", np_diff_status_name(c->status));
		return;
	}
	esc(f, c->metric);
	if (c->where[0]) {
		fputs(" <span class=\"muted\">", f);
		esc(f, c->where);
		fputs("</span>", f);
	}
}

/* The configuration changes c is paired with (it acts on c directly). */
static void paired_keys(FILE *f, const struct np_diff *d, const struct np_diff_change *c)
{
	for (size_t k = 0; k < c->n_paired; k++) {
		fputs(k ? ", " : " <span class=\"muted\">&larr; ", f);
		esc(f, d->c[c->paired[k]].metric);
	}
	if (c->n_paired)
		fputs("</span>", f);
}

/* The significant moves paired with configuration change k. */
static void paired_moves(FILE *f, const struct np_diff *d, size_t k)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		for (size_t j = 0; d->c[i].significant && j < d->c[i].n_paired; j++)
			if (d->c[i].paired[j] == k) {
				if (n++)
					fputs(", ", f);
				change_name(f, &d->c[i]);
			}
	if (!n)
		fputs("-", f);
}

static void change_row(FILE *f, const struct np_diff *d, const struct np_diff_change *c, bool all)
{
	char b[160], a[160];
	bool up, down;

	np_diff_fmt_value(c, false, b, sizeof(b));
	np_diff_fmt_value(c, true, a, sizeof(a));
	up = !c->is_text && c->have_before && c->have_after && c->after > c->before;
	down = !c->is_text && c->have_before && c->have_after && c->after < c->before;
	fprintf(f, "<tr><td>%s</td><td>", np_diff_section_name(c->section));
	change_name(f, c);
	paired_keys(f, d, c);
	fputs("</td><td class=\"num\">", f);
	esc(f, b);
	fprintf(f, "</td><td class=\"num%s\">", up ? " grew" : down ? " shrank" : "");
	esc(f, a);
	fprintf(f, "</td><td>%s</td><td class=\"num\">", np_diff_method_name(c->method));
	if (c->tested)
		fprintf(f, "%.2g", c->p);
	else
		fputs("-", f);
	fputs("</td>", f);
	if (all)
		fprintf(f, "<td>%s</td>", np_diff_mark(c));
	fputs("</tr>\n", f);
}

static void changes_table(FILE *f, const struct np_diff *d, bool all)
{
	fprintf(f,
		"<div class=\"tablewrap\"><table class=\"%s\">\n<thead><tr><th>section</th>"
		"<th>what</th><th class=\"num\">before</th><th class=\"num\">after</th>"
		"<th>method</th><th class=\"num\">p</th>%s</tr></thead>\n<tbody>\n",
		all ? "all-changes" : "significant", all ? "<th>counts as</th>" : "");
	for (size_t i = 0; i < d->n; i++)
		if (all || d->c[i].significant)
			change_row(f, d, &d->c[i], all);
	fputs("</tbody></table></div>\n", f);
}

static void put_changes(FILE *f, const struct np_diff *d)
{
	size_t n_cfg = 0;

	fprintf(f,
		"<h2 id=\"significant\">Significant changes</h2>\n<p class=\"muted\">%zu of the "
		"figures that differ; %zu statistical tests, Holm-corrected at %.2g.</p>\n",
		d->n_significant, d->n_tested, NP_DIFF_ALPHA);
	if (d->n_significant)
		changes_table(f, d, false);
	else
		fputs("<p class=\"empty\">none</p>\n", f);

	fputs("<h2 id=\"config\">What changed between the two recordings (configuration)</h2>\n",
	      f);
	for (size_t i = 0; i < d->n; i++) {
		const struct np_diff_change *c = &d->c[i];
		char b[160], a[160];

		if (c->section != NP_DS_CONFIG)
			continue;
		if (!n_cfg++)
			fputs("<div class=\"tablewrap\"><table class=\"config\">\n<thead><tr>"
			      "<th>setting</th><th>before</th><th>after</th>"
			      "<th>significant moves it acts on</th></tr></thead>\n<tbody>\n",
			      f);
		np_diff_fmt_value(c, false, b, sizeof(b));
		np_diff_fmt_value(c, true, a, sizeof(a));
		fputs("<tr><td>", f);
		change_name(f, c);
		fputs("</td><td>", f);
		esc(f, b);
		fputs("</td><td>", f);
		esc(f, a);
		fputs("</td><td>", f);
		paired_moves(f, d, i);
		fputs("</td></tr>\n", f);
	}
	if (n_cfg)
		fputs("</tbody></table></div>\n", f);
	else
		fputs("<p class=\"empty\">nothing</p>\n", f);
}

/* ---- latency distributions -------------------------------------------------- */

#define DIST_W 420
#define DIST_H 210
#define DIST_L 22    /* side margins: half an axis label */
#define DIST_B 22    /* bottom margin: the axis labels */
#define DIST_T 8     /* top margin */
#define DIST_GROUP 4 /* histogram buckets per bin: half an octave */
#define DIST_BINS (NP_XH_BUCKETS / DIST_GROUP)

static const char *const dist_colour[2] = {"#7d8a97", "#d9822b"};

struct dist {
	const char *title;
	int hist;
	const struct np_xch_component *c[2];
};

/* Share of the exchanges per bin, over the bin's width in octaves, so that
 * the log-linear buckets' unequal widths do not bend the curve. */
static bool dist_density(const uint64_t *h, double *dens)
{
	uint64_t total = 0;

	for (int i = 0; i < NP_XH_BUCKETS; i++)
		total += h[i];
	if (!total)
		return false;
	for (int g = 0; g < DIST_BINS; g++) {
		uint64_t n = 0;
		double lo = (double)np_xh_lower((uint32_t)(g * DIST_GROUP));
		double hi = g + 1 < DIST_BINS
				    ? (double)np_xh_lower((uint32_t)((g + 1) * DIST_GROUP))
				    : lo * 2;

		for (int i = 0; i < DIST_GROUP; i++)
			n += h[g * DIST_GROUP + i];
		dens[g] = lo >= 1 && hi > lo ? (double)n / (double)total / log2(hi / lo) : 0;
	}
	return true;
}

static double dist_x(double ns, double lmin, double lmax)
{
	return DIST_L + (log10(ns) - lmin) / (lmax - lmin) * (DIST_W - 2 * DIST_L);
}

/* 10^l ns as an axis label: "1 us", "10 ms", never "10.0 us". */
static void decade_label(int l, char *buf, size_t len)
{
	static const char *const unit[] = {"ns", "us", "ms", "s"};
	int u = l / 3 < 3 ? l / 3 : 3;

	snprintf(buf, len, "%.0f %s", pow(10, l - 3 * u), unit[u]);
}

static void put_dist(FILE *f, const struct np_report *const r[2], const struct dist *ds)
{
	double dens[2][DIST_BINS];
	bool have[2] = {false, false};
	int first = DIST_BINS, last = -1;
	double top = 0, lmin, lmax;
	char b[2][32], a[2][32];

	for (int s = 0; s < 2; s++) {
		if (!r[s] || !r[s]->xch.present || !r[s]->xch.hist || !ds->c[s]->known)
			continue;
		have[s] = dist_density(r[s]->xch.hist[ds->hist], dens[s]);
		for (int g = 0; have[s] && g < DIST_BINS; g++)
			if (dens[s][g] > 0) {
				first = g < first ? g : first;
				last = g > last ? g : last;
				top = dens[s][g] > top ? dens[s][g] : top;
			}
	}
	if (last < 0 || top <= 0)
		return;
	lmin = floor(log10((double)np_xh_lower((uint32_t)(first * DIST_GROUP))));
	lmax = ceil(log10((double)np_xh_lower((uint32_t)((last + 1) * DIST_GROUP))));
	if (lmax <= lmin)
		lmax = lmin + 1;
	fprintf(f, "<figure><figcaption>%s</figcaption>\n", ds->title);
	fprintf(f,
		"<svg class=\"dist\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\">\n",
		DIST_W, DIST_H, DIST_W, DIST_H);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#646b73\"/>\n", DIST_L,
		DIST_H - DIST_B, DIST_W - DIST_L, DIST_H - DIST_B);
	for (double l = lmin; l <= lmax + 1e-9; l++) {
		char t[32];
		double x = dist_x(pow(10, l), lmin, lmax);

		decade_label((int)l, t, sizeof(t));
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d9dcdf\"/>"
			"<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" "
			"fill=\"#646b73\">%s</text>\n",
			x, DIST_T, x, DIST_H - DIST_B, x, DIST_H - 8, t);
	}
	for (int s = 0; s < 2; s++) {
		const struct np_xch_component *c = ds->c[s];

		if (!have[s])
			continue;
		/* a step curve along the bins, closed to the axis and filled */
		fprintf(f,
			"<path fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\" stroke-width=\"1.5\" "
			"d=\"",
			dist_colour[s], s ? "0.12" : "0.25", dist_colour[s]);
		for (int g = first; g <= last; g++) {
			double lo = (double)np_xh_lower((uint32_t)(g * DIST_GROUP));
			double hi = (double)np_xh_lower((uint32_t)((g + 1) * DIST_GROUP));
			double y = DIST_H - DIST_B - dens[s][g] / top * (DIST_H - DIST_B - DIST_T);

			fprintf(f, "%s%.1f %.1f H%.1f ", g == first ? "M" : "L",
				dist_x(lo, lmin, lmax), y, dist_x(hi, lmin, lmax));
		}
		fprintf(f, "V%d H%.1f Z\"><title>%s</title></path>\n", DIST_H - DIST_B,
			dist_x((double)np_xh_lower((uint32_t)(first * DIST_GROUP)), lmin, lmax),
			s ? "after" : "before");
		/* the medians and p99s, dashed */
		for (int q = 0; q < 2; q++) {
			uint64_t v = q ? c->p99_ns : c->p50_ns;
			double x;

			if (!v)
				continue;
			x = dist_x((double)v, lmin, lmax);
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
				"stroke-dasharray=\"%s\" stroke-width=\"1.5\"><title>%s %s "
				"%s</title>"
				"</line>\n",
				x, DIST_T, x, DIST_H - DIST_B, dist_colour[s], q ? "2 3" : "6 3",
				s ? "after" : "before", q ? "p99" : "p50",
				np_fmt_ns(v, b[0], sizeof(b[0])));
		}
	}
	fputs("</svg>\n<figcaption class=\"muted\">", f);
	for (int s = 0; s < 2; s++) {
		const struct np_xch_component *c = ds->c[s];

		if (have[s]) {
			np_fmt_ns(c->p50_ns, s ? a[0] : b[0], sizeof(b[0]));
			np_fmt_ns(c->p99_ns, s ? a[1] : b[1], sizeof(b[1]));
		} else {
			snprintf(s ? a[0] : b[0], sizeof(b[0]), "-");
			snprintf(s ? a[1] : b[1], sizeof(b[1]), "-");
		}
	}
	fprintf(f,
		"p50 %s &#8594; %s, p99 %s &#8594; %s; %" PRIu64 " &#8594; %" PRIu64
		" exchanges</figcaption></figure>\n",
		b[0], a[0], b[1], a[1], have[0] ? ds->c[0]->n : 0, have[1] ? ds->c[1]->n : 0);
}

static void put_distributions(FILE *f, const struct np_report *before,
			      const struct np_report *after)
{
	const struct np_report *const r[2] = {before, after};
	const struct np_xch_report *x[2] = {before ? &before->xch : NULL,
					    after ? &after->xch : NULL};
	struct dist ds[] = {
		{"request total", NP_XH_TOTAL, {NULL, NULL}},
		{"queued (arrival to read)", NP_XH_QUEUED, {NULL, NULL}},
		{"app (read to last write)", NP_XH_APP, {NULL, NULL}},
		{"tx (last write to the wire)", NP_XH_TX, {NULL, NULL}},
		{"peer (waiting on outbound exchanges)", NP_XH_PEER, {NULL, NULL}},
		{"outbound (to peers)", NP_XH_OUT, {NULL, NULL}},
	};
	static struct np_xch_component none;

	fputs("<h2 id=\"latency\">Exchange latency</h2>\n", f);
	if (!(x[0] && x[0]->present) && !(x[1] && x[1]->present)) {
		fputs("<p class=\"empty\">neither recording traced exchanges</p>\n", f);
		return;
	}
	fprintf(f, "<p class=\"muted\">Every exchange of each recording, as a share per half "
		   "octave on a log scale: <span class=\"legend\"><span><span class=\"sw "
		   "sw-before\"></span>before</span> <span><span class=\"sw "
		   "sw-after\"></span>after</span></span>; dashed: p50 (long dashes) and "
		   "p99.</p>\n<div class=\"charts\">\n");
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		for (int s = 0; s < 2; s++) {
			const struct np_xch_component *c = &none;

			if (x[s] && x[s]->present) {
				switch (ds[i].hist) {
				case NP_XH_TOTAL:
					c = &x[s]->total;
					break;
				case NP_XH_QUEUED:
					c = &x[s]->queued;
					break;
				case NP_XH_APP:
					c = &x[s]->app;
					break;
				case NP_XH_TX:
					c = &x[s]->tx;
					break;
				case NP_XH_PEER:
					c = &x[s]->peer;
					break;
				default:
					c = &x[s]->outbound;
				}
			}
			ds[i].c[s] = c;
		}
		put_dist(f, r, &ds[i]);
	}
	fputs("</div>\n", f);
}

/* ---- the differential flame graph ------------------------------------------- */

#define FLAME_W 1200
#define FLAME_ROW 17
#define FLAME_MIN_PX 0.4  /* narrower frames are left out, as flamegraph.pl does */
#define FLAME_CHAR_PX 6.6 /* of the 11 px monospace font */
#define FLAME_MAX_RECTS 30000
#define FLAME_MIN_SCALE 0.05 /* a change of this share or more is full colour */

struct fnode {
	char *name;
	uint64_t n[2];
	struct fnode **kid;
	size_t n_kid, cap;
};

static void fnode_free(struct fnode *nd)
{
	if (!nd)
		return;
	for (size_t i = 0; i < nd->n_kid; i++)
		fnode_free(nd->kid[i]);
	free(nd->kid);
	free(nd->name);
	free(nd);
}

static struct fnode *fnode_new(const char *name, size_t len)
{
	struct fnode *nd = calloc(1, sizeof(*nd));

	if (nd && !(nd->name = strndup(name, len))) {
		free(nd);
		nd = NULL;
	}
	return nd;
}

static struct fnode *fnode_child(struct fnode *p, const char *name, size_t len)
{
	struct fnode *nd;

	/* the last child first: stacks sharing a prefix mostly come in a row */
	for (size_t i = p->n_kid; i-- > 0;)
		if (!strncmp(p->kid[i]->name, name, len) && !p->kid[i]->name[len])
			return p->kid[i];
	if (p->n_kid == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		struct fnode **k = realloc(p->kid, cap * sizeof(*k));

		if (!k)
			return NULL;
		p->kid = k;
		p->cap = cap;
	}
	nd = fnode_new(name, len);
	if (nd)
		p->kid[p->n_kid++] = nd;
	return nd;
}

static int fnode_add(struct fnode *root, int side, const char *stack, uint64_t count)
{
	struct fnode *nd = root;

	root->n[side] += count;
	for (const char *p = stack; *p;) {
		size_t len = strcspn(p, ";");

		if (len) {
			nd = fnode_child(nd, p, len);
			if (!nd)
				return -1;
			nd->n[side] += count;
		}
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct fnode *const *)a)->name, (*(struct fnode *const *)b)->name);
}

struct flame {
	FILE *f;
	double total[2];
	int sides; /* how many sides have stacks: the width is their mean share */
	const char *unit;
	double scale;
	size_t rects;
	int depth;
};

static double share(const struct flame *fl, const struct fnode *nd, int s)
{
	return fl->total[s] > 0 ? (double)nd->n[s] / fl->total[s] : 0;
}

static double width(const struct flame *fl, const struct fnode *nd)
{
	return (share(fl, nd, 0) + share(fl, nd, 1)) / fl->sides;
}

/* Sorts every level by name (the layout does not depend on input order),
 * and finds the deepest drawn row and the largest change drawn. */
static void flame_measure(struct flame *fl, struct fnode *nd, int depth)
{
	double dlt;

	if (width(fl, nd) * FLAME_W < FLAME_MIN_PX)
		return;
	if (depth > fl->depth)
		fl->depth = depth;
	dlt = fabs(share(fl, nd, 1) - share(fl, nd, 0));
	if (fl->sides == 2 && dlt > fl->scale)
		fl->scale = dlt;
	if (nd->n_kid) /* a leaf has no array: qsort's is never NULL */
		qsort(nd->kid, nd->n_kid, sizeof(*nd->kid), by_name);
	for (size_t i = 0; i < nd->n_kid; i++)
		flame_measure(fl, nd->kid[i], depth + 1);
}

static void flame_colour(const struct flame *fl, double dlt, char *buf, size_t len, bool *dark)
{
	static const double neutral[3] = {236, 236, 236}, red[3] = {214, 39, 40},
			    blue[3] = {31, 95, 191};
	double t = fl->sides == 2 ? fmin(1, fabs(dlt) / fl->scale) : 0;
	const double *to = dlt > 0 ? red : blue;
	int c[3];

	if (fabs(dlt) < 0.0005)
		t = 0;
	for (int i = 0; i < 3; i++)
		c[i] = (int)lround(neutral[i] + t * (to[i] - neutral[i]));
	snprintf(buf, len, "#%02x%02x%02x", c[0], c[1], c[2]);
	*dark = t > 0.55;
}

static void flame_draw(struct flame *fl, const struct fnode *nd, int depth, double x0)
{
	double w = width(fl, nd) * FLAME_W, sb = share(fl, nd, 0), sa = share(fl, nd, 1);
	double y = (fl->depth - depth) * FLAME_ROW, x = x0;
	char colour[8];
	bool dark;

	if (w < FLAME_MIN_PX || fl->rects >= FLAME_MAX_RECTS)
		return;
	fl->rects++;
	flame_colour(fl, sa - sb, colour, sizeof(colour), &dark);
	fputs("<g><title>", fl->f);
	esc(fl->f, depth ? nd->name : "all");
	fprintf(fl->f,
		"\nbefore %.2f%% (%" PRIu64 " %s)\nafter %.2f%% (%" PRIu64
		" %s)\nchange %+.2f points</title>",
		100 * sb, nd->n[0], fl->unit, 100 * sa, nd->n[1], fl->unit, 100 * (sa - sb));
	fprintf(fl->f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"", x0,
		y, w, FLAME_ROW - 1, colour);
	if (fl->sides == 2)
		fprintf(fl->f, " data-grew=\"%s\"", sa > sb ? "yes" : sa < sb ? "no" : "same");
	fputs("/>", fl->f);
	if (w > 3 * FLAME_CHAR_PX) {
		fprintf(fl->f, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">", x0 + 3,
			y + FLAME_ROW - 5, dark ? "#ffffff" : "#1d2126");
		np_html_str(fl->f, depth ? nd->name : "all", (size_t)((w - 6) / FLAME_CHAR_PX));
		fputs("</text>", fl->f);
	}
	fputs("</g>\n", fl->f);
	for (size_t i = 0; i < nd->n_kid; i++) {
		flame_draw(fl, nd->kid[i], depth + 1, x);
		x += width(fl, nd->kid[i]) * FLAME_W;
	}
}

/* A side's total for people: off-CPU stacks count ns. */
static const char *flame_total(const struct flame *fl, int s, char *buf, size_t len)
{
	if (!strcmp(fl->unit, "ns"))
		return np_fmt_ns((uint64_t)fl->total[s], buf, len);
	snprintf(buf, len, "%.0f %s", fl->total[s], fl->unit);
	return buf;
}

static int put_flame(FILE *f, const char *id, const char *title, const struct np_folded *fo[2])
{
	struct fnode *root = fnode_new("", 0);
	struct flame fl = {.f = f, .scale = FLAME_MIN_SCALE, .unit = "samples"};
	char tb[48], ta[48];
	int rc = 0;

	fprintf(f, "<h2 id=\"%s\">%s</h2>\n", id, title);
	if (!root)
		return -1;
	for (int s = 0; s < 2 && !rc; s++) {
		if (!fo[s])
			continue;
		if (fo[s]->unit)
			fl.unit = fo[s]->unit;
		for (size_t i = 0; i < fo[s]->n && !rc; i++)
			rc = fnode_add(root, s, fo[s]->v[i].stack, fo[s]->v[i].count);
		fl.total[s] = (double)root->n[s];
		fl.sides += root->n[s] > 0;
	}
	if (rc) {
		fnode_free(root);
		return -1;
	}
	if (!fl.sides) {
		fputs("<p class=\"empty\">no stacks in either recording</p>\n", f);
		fnode_free(root);
		return 0;
	}
	if (fl.sides == 1)
		fprintf(f,
			"<p class=\"note card\">Only the %s recording has these stacks: the graph "
			"is "
			"its profile, not a difference.</p>\n",
			root->n[0] ? "before" : "after");
	else
		fprintf(f,
			"<p class=\"muted\">Both recordings' stacks merged, each as a share of its "
			"own total (%s before, %s after). Width: the mean of the two shares. "
			"<span class=\"legend\"><span><span class=\"sw sw-grew\"></span>share "
			"grew</span> <span><span class=\"sw sw-shrank\"></span>share "
			"shrank</span></span>; the stronger the colour, the larger the change "
			"(full at "
			"%.1f points). Hover a frame for both shares.</p>\n",
			flame_total(&fl, 0, tb, sizeof(tb)), flame_total(&fl, 1, ta, sizeof(ta)),
			100 * fl.scale);
	flame_measure(&fl, root, 0);
	fprintf(f,
		"<svg class=\"flame\" id=\"%s-svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" "
		"role=\"img\">\n",
		id, FLAME_W, (fl.depth + 1) * FLAME_ROW, FLAME_W, (fl.depth + 1) * FLAME_ROW);
	flame_draw(&fl, root, 0, 0);
	fputs("</svg>\n", f);
	if (fl.rects >= FLAME_MAX_RECTS)
		fprintf(f, "<p class=\"muted\">Only the first %d frames are drawn.</p>\n",
			FLAME_MAX_RECTS);
	fnode_free(root);
	return 0;
}

/* ---- the page ------------------------------------------------------------------ */

int np_diff_html(const struct np_diff *d, const struct np_report *before,
		 const struct np_report *after, FILE *f)
{
	const struct np_folded *on[2] = {before ? before->oncpu : NULL,
					 after ? after->oncpu : NULL};
	const struct np_folded *off[2] = {before ? before->offcpu : NULL,
					  after ? after->offcpu : NULL};
	int rc = 0;

	np_html_begin(f, NP_HTML_DIFF, "netprof diff");
	fputs("<main>\n<h1>netprof diff</h1>\n<nav class=\"toc\"><a href=\"#sides\">recordings</a>"
	      "<a href=\"#significant\">significant changes</a><a href=\"#config\">configuration"
	      "</a><a href=\"#latency\">latency</a><a href=\"#oncpu\">on-CPU flame graph</a>"
	      "<a href=\"#offcpu\">off-CPU flame graph</a><a href=\"#all\">every figure</a>"
	      "</nav>\n",
	      f);
	for (size_t i = 0; i < d->n_notes; i++) {
		fputs("<div class=\"card note\">NOTE: ", f);
		esc(f, d->notes[i]);
		fputs("</div>\n", f);
	}
	fputs("<div class=\"card headline\">What changed and what it did: ", f);
	esc(f, d->headline);
	fputs("</div>\n", f);
	put_sides(f, d);
	put_host_speed(f, &d->host);
	put_changes(f, d);
	put_distributions(f, before, after);
	if (put_flame(f, "oncpu", "On-CPU stacks: differential flame graph", on))
		rc = -1;
	if (put_flame(f, "offcpu", "Off-CPU stacks: differential flame graph", off))
		rc = -1;
	fprintf(f, "<h2 id=\"all\">Every compared figure that differs (%zu)</h2>\n", d->n);
	if (d->n) {
		fputs("<details><summary>show</summary>\n", f);
		changes_table(f, d, true);
		fputs("</details>\n", f);
	} else {
		fputs("<p class=\"empty\">none</p>\n", f);
	}
	fputs("<h2>Method</h2>\n<p class=\"method\">", f);
	esc(f, np_diff_method_text);
	fputs("</p>\n</main>\n</body>\n</html>\n", f);
	return rc || ferror(f) ? -1 : 0;
}
