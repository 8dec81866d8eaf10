/* overhead_report.c - the report's "Overhead" section and JSON `overhead` object
 * (overhead_report.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/shed.h"
#include "report/render/jsonout.h"
#include "report/report.h"
#include "report/render/textout.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int np_ovh_report_build(const struct np_recording *rec, uint64_t start_ns,
			struct np_ovh_report *o)
{
	const struct np_rec_gov_config *cfg;
	const struct np_rec_overhead *ovh;
	const struct np_rec_shed *shed;
	size_t n_cfg, n_ovh, n_shed;
	double *shares;

	memset(o, 0, sizeof(*o));
	o->known = np_recording_meta(rec, "max_overhead_ppm") != NULL;
	cfg = np_recording_records(rec, NP_BLK_GOV_CONFIG, &n_cfg);
	ovh = np_recording_records(rec, NP_BLK_OVERHEAD, &n_ovh);
	shed = np_recording_records(rec, NP_BLK_SHED, &n_shed);
	if (n_cfg) {
		o->known = o->governor_on = true;
		o->budget = cfg->budget_ppm / 1e6;
		o->bpf_stats = cfg->flags & NP_GOV_BPF_STATS;
		o->programs = cfg->programs;
		memcpy(o->why_no_stats, cfg->why_no_stats, sizeof(o->why_no_stats));
		o->why_no_stats[sizeof(o->why_no_stats) - 1] = '\0';
	}
	shares = calloc(n_ovh ? n_ovh : 1, sizeof(*shares));
	if (!shares)
		return -1;
	for (size_t i = 0; i < n_ovh; i++) {
		o->wall_ns += ovh[i].wall_ns;
		o->own_cpu_ns += ovh[i].own_cpu_ns;
		o->bpf_ns += ovh[i].bpf_ns;
		o->traced_calls += ovh[i].traced_calls;
		if (!(ovh[i].flags & (NP_OVH_BPF_ESTIMATED | NP_OVH_BPF_HELD)))
			o->bpf_window_ns += ovh[i].bpf_window_ns ? ovh[i].bpf_window_ns : ovh[i].wall_ns;
		/* A short last interval says little about the rate. */
		if (ovh[i].wall_ns >= 500000000ull)
			shares[o->n_seconds++] = np_overhead_share(&ovh[i]);
	}
	if (o->n_seconds) {
		qsort(shares, o->n_seconds, sizeof(*shares), cmp_double);
		o->median = o->n_seconds % 2 ? shares[o->n_seconds / 2]
					     : (shares[o->n_seconds / 2 - 1] + shares[o->n_seconds / 2]) / 2;
		o->max = shares[o->n_seconds - 1];
	}
	free(shares);
	if (n_shed && shed[n_shed - 1].step >= NP_SHED_STEPS) {
		double after[64];
		size_t n = 0;

		for (size_t i = 0; i < n_ovh && n < 64; i++)
			if (ovh[i].ts_ns >= ovh[i].wall_ns &&
			    ovh[i].ts_ns - ovh[i].wall_ns >= shed[n_shed - 1].ts_ns &&
			    ovh[i].wall_ns >= 500000000ull)
				after[n++] = np_overhead_share(&ovh[i]);
		if (n) {
			qsort(after, n, sizeof(*after), cmp_double);
			o->after_median = n % 2 ? after[n / 2] : (after[n / 2 - 1] + after[n / 2]) / 2;
			o->still_over = o->after_median > o->budget;
		}
	}
	if (n_shed) {
		o->shed = calloc(n_shed, sizeof(*o->shed));
		if (!o->shed)
			return -1;
	}
	for (size_t i = 0; i < n_shed; i++) {
		struct np_ovh_shed *s = &o->shed[o->n_shed++];

		s->offset_ns = shed[i].ts_ns > start_ns ? shed[i].ts_ns - start_ns : 0;
		s->step = shed[i].step;
		s->share = shed[i].share_ppm / 1e6;
		memcpy(s->source, shed[i].source, sizeof(s->source));
		memcpy(s->what, shed[i].what, sizeof(s->what));
		s->source[sizeof(s->source) - 1] = s->what[sizeof(s->what) - 1] = '\0';
		s->from = shed[i].from;
		s->to = shed[i].to;
	}
	return 0;
}

void np_ovh_report_free(struct np_ovh_report *o)
{
	free(o->shed);
	o->shed = NULL;
	o->n_shed = 0;
}

const char *np_ovh_value(const char *what, uint64_t v, char *buf, size_t len)
{
	size_t n = strlen(what);

	if (n > 3 && !strcmp(what + n - 3, "_ns"))
		return np_fmt_ns(v, buf, len);
	if (strstr(what, "programs"))
		snprintf(buf, len, "%s", v ? "on" : "off");
	else if (!strcmp(what, "frequency_hz"))
		snprintf(buf, len, v ? "%" PRIu64 " Hz" : "off", v);
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* What a shed change costs the reader, in words. */
static const char *consequence(const char *source, const char *what)
{
	if (!strcmp(source, "syscalls"))
		return "fewer individual slow and sampled calls";
	if (!strcmp(source, "exchanges"))
		return "fewer individual exchanges in the slowest list";
	if (!strcmp(source, "netstack"))
		return "per-CPU NET_RX/NET_TX softirq time and NAPI counts stop here";
	if (!strcmp(source, "cpu_samples"))
		return strcmp(what, "frequency_hz") ? "coarser CPU profile" : "fewer CPU samples";
	return "less detail";
}

void np_ovh_caveat(const struct np_ovh_report *o, char *out, size_t outlen)
{
	size_t n = 0;
	uint32_t last_step = 0;

	out[0] = '\0';
	if (!o->n_shed)
		return;
	n += (size_t)snprintf(out, outlen,
			      "Detail was shed to keep netprof within its overhead budget (%.2g%% of "
			      "one CPU):",
			      o->budget * 100);
	for (size_t i = 0; i < o->n_shed && n + 80 < outlen; i++) {
		const struct np_ovh_shed *s = &o->shed[i];

		if (s->step == last_step && i)
			continue;
		last_step = s->step;
		n += (size_t)snprintf(out + n, outlen - n, "%s from +%.1f s %s (%s)", i ? ";" : "",
				      (double)s->offset_ns / 1e9, s->source,
				      consequence(s->source, s->what));
	}
	if (n + 80 < outlen)
		snprintf(out + n, outlen - n,
			 ". Counts, totals and latency histograms stay exact for the whole window.");
}

void np_ovh_report_text(struct np_text *t, const struct np_report *r)
{
	const struct np_ovh_report *o = &r->ovh;
	char b1[32], b2[32], line[600];

	np_text_heading(t, "Overhead (netprof's own cost while attached)");
	if (!o->known) {
		fprintf(t->f, "  not measured (recorded by a netprof without the overhead governor)\n");
		return;
	}
	if (!o->governor_on) {
		fprintf(t->f, "  not measured: governor off (--max-overhead 0)\n");
		return;
	}
	if (o->bpf_stats) {
		snprintf(line, sizeof(line), "budget %.2g%% of one CPU; BPF run time measured "
			 "(bpf_enable_stats) in windows over %.0f%% of the time, scaled and held "
			 "in between",
			 o->budget * 100,
			 o->wall_ns ? 100.0 * (double)o->bpf_window_ns / (double)o->wall_ns : 0.0);
	} else {
		char why[200];

		np_sanitize(o->why_no_stats, why, sizeof(why), true);
		snprintf(line, sizeof(line), "budget %.2g%% of one CPU; BPF run time estimated "
			 "from traced calls (%s)", o->budget * 100, why[0] ? why : "no statistics");
	}
	fprintf(t->f, "  ");
	np_text_wrapped(t, line, 2, 4);
	if (o->n_seconds) {
		char b3[32];

		snprintf(line, sizeof(line),
			 "measured: median %.1f%%, max %.1f%% of one CPU over %zu s (netprof's CPU "
			 "%s, its BPF programs %s, in %s)",
			 o->median * 100, o->max * 100, o->n_seconds,
			 np_fmt_ns(o->own_cpu_ns, b1, sizeof(b1)), np_fmt_ns(o->bpf_ns, b2, sizeof(b2)),
			 np_fmt_ns(o->wall_ns, b3, sizeof(b3)));
		fprintf(t->f, "  ");
		np_text_wrapped(t, line, 2, 4);
	} else {
		fprintf(t->f, "  measured: no full second recorded\n");
	}
	if (!o->n_shed) {
		fprintf(t->f, "  nothing shed: every detail was kept\n");
		return;
	}
	for (size_t i = 0; i < o->n_shed; i++) {
		const struct np_ovh_shed *s = &o->shed[i];
		char src[64], what[160];

		np_sanitize(s->source, src, sizeof(src), true);
		np_sanitize(s->what, what, sizeof(what), true);
		snprintf(line, sizeof(line), "shed at +%.1f s (%.1f%% > budget) step %u %s: %s %s -> %s",
			 (double)s->offset_ns / 1e9, s->share * 100, s->step, src, what,
			 np_ovh_value(s->what, s->from, b1, sizeof(b1)),
			 np_ovh_value(s->what, s->to, b2, sizeof(b2)));
		fprintf(t->f, "  ");
		np_text_wrapped(t, line, 2, 4);
	}
	if (o->still_over) {
		snprintf(line, sizeof(line),
			 "Still over budget after the last step (median %.1f%% of one CPU): what "
			 "remains is mostly the BPF programs that keep the counts and histograms "
			 "exact, which are never shed; --no-netstack, --no-exchanges and --no-cpu "
			 "leave whole sources out.",
			 o->after_median * 100);
		fprintf(t->f, "  ");
		np_text_wrapped(t, line, 2, 2);
	}
	fprintf(t->f, "  ");
	np_text_wrapped(t,
			"Slow calls, exchanges and samples after those times are kept more coarsely "
			"(or, for a switched-off source, not at all); counts, totals and latency "
			"histograms stay exact for the whole window.",
			2, 2);
}

json_object *np_ovh_json(const struct np_report *r)
{
	const struct np_ovh_report *o = &r->ovh;
	json_object *x, *m, *a;
	char caveat[600];

	if (!o->governor_on)
		return NULL;
	x = json_object_new_object();
	m = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(x, "budget_cpu_share", json_object_new_double(o->budget));
	json_object_object_add(m, "median", json_object_new_double(o->median));
	json_object_object_add(m, "max", json_object_new_double(o->max));
	json_object_object_add(m, "seconds", np_ju64(o->n_seconds));
	json_object_object_add(m, "own_cpu_ns", np_ju64(o->own_cpu_ns));
	json_object_object_add(m, "bpf_ns", np_ju64(o->bpf_ns));
	json_object_object_add(m, "wall_ns", np_ju64(o->wall_ns));
	json_object_object_add(m, "traced_calls", np_ju64(o->traced_calls));
	json_object_object_add(m, "bpf_window_ns", np_ju64(o->bpf_window_ns));
	json_object_object_add(x, "measured", m);
	json_object_object_add(x, "bpf_stats", json_object_new_boolean(o->bpf_stats));
	json_object_object_add(x, "bpf_programs", np_ju64(o->programs));
	if (!o->bpf_stats)
		json_object_object_add(x, "bpf_stats_detail", np_jstr(o->why_no_stats));
	for (size_t i = 0; i < o->n_shed; i++) {
		const struct np_ovh_shed *s = &o->shed[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "offset_ns", np_ju64(s->offset_ns));
		json_object_object_add(e, "step", np_ju64(s->step));
		json_object_object_add(e, "source", np_jstr(s->source));
		json_object_object_add(e, "what", np_jstr(s->what));
		json_object_object_add(e, "from", np_ju64(s->from));
		json_object_object_add(e, "to", np_ju64(s->to));
		json_object_object_add(e, "overhead", json_object_new_double(s->share));
		json_object_array_add(a, e);
	}
	json_object_object_add(x, "shed", a);
	json_object_object_add(x, "still_over_budget", json_object_new_boolean(o->still_over));
	np_ovh_caveat(o, caveat, sizeof(caveat));
	json_object_object_add(x, "caveat", caveat[0] ? np_jstr(caveat) : NULL);
	return x;
}
