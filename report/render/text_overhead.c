/* text_overhead.c - the overhead section of the text report and the
 * caveat the findings carry when detail was shed (model:
 * report/model/overhead_report.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"
#include "report/render/textout.h"

/* "1.00 ms" for a threshold, "64" for a count, "on"/"off" for a switch. */
static const char *ovh_value(const char *what, uint64_t v, char *buf, size_t len)
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
			      "Detail was shed to keep netprof within its overhead budget (%.2g%% "
			      "of "
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
			 ". Counts, totals and latency histograms stay exact for the whole "
			 "window.");
}

/* The costliest programs: what issue a user would act on (a source to turn
 * off) and how the host ran them (ns per run). */
static void programs_text(struct np_text *t, const struct np_ovh_report *o)
{
	enum { SHOWN = 8 };

	if (!o->n_progs || !o->cost_window_ns)
		return;
	fprintf(t->f, "  BPF programs, over %.1f s of measured windows:\n",
		(double)o->cost_window_ns / 1e9);
	fprintf(t->f, "    %-16s %12s %10s %9s\n", "program", "runs/s", "ns/run", "% of CPU");
	for (size_t i = 0; i < o->n_progs && i < SHOWN; i++) {
		const struct np_ovh_prog *p = &o->progs[i];
		char name[40];

		np_sanitize(p->name, name, sizeof(name), true);
		fprintf(t->f, "    %-16s %12.0f %10.0f %8.2f%%\n", name,
			p->window_ns ? (double)p->runs * 1e9 / (double)p->window_ns : 0,
			np_ovh_ns_per_run(p),
			p->window_ns ? 100.0 * (double)p->run_ns / (double)p->window_ns : 0);
	}
	if (o->n_progs > SHOWN)
		fprintf(t->f, "    (%zu more in the JSON report)\n", o->n_progs - SHOWN);
}

void np_ovh_report_text(struct np_text *t, const struct np_report *r)
{
	const struct np_ovh_report *o = &r->ovh;
	char b1[32], b2[32], line[600];

	np_text_heading(t, "Overhead (netprof's own cost while attached)");
	if (!o->known) {
		fprintf(t->f,
			"  not measured (recorded by a netprof without the overhead governor)\n");
		return;
	}
	if (!o->governor_on) {
		fprintf(t->f, "  not measured: governor off (--max-overhead 0)\n");
		return;
	}
	if (o->bpf_stats) {
		snprintf(line, sizeof(line),
			 "budget %.2g%% of one CPU; BPF run time measured "
			 "(bpf_enable_stats) in windows over %.0f%% of the time, scaled and held "
			 "in between",
			 o->budget * 100,
			 o->wall_ns ? 100.0 * (double)o->bpf_window_ns / (double)o->wall_ns : 0.0);
	} else {
		char why[200];

		np_sanitize(o->why_no_stats, why, sizeof(why), true);
		snprintf(line, sizeof(line),
			 "budget %.2g%% of one CPU; BPF run time estimated "
			 "from traced calls (%s)",
			 o->budget * 100, why[0] ? why : "no statistics");
	}
	fprintf(t->f, "  ");
	np_text_wrapped(t, line, 2, 4);
	if (o->n_seconds) {
		char b3[32];

		snprintf(line, sizeof(line),
			 "measured: median %.1f%%, max %.1f%% of one CPU over %zu s (netprof's CPU "
			 "%s, its BPF programs %s, in %s)",
			 o->median * 100, o->max * 100, o->n_seconds,
			 np_fmt_ns(o->own_cpu_ns, b1, sizeof(b1)),
			 np_fmt_ns(o->bpf_ns, b2, sizeof(b2)),
			 np_fmt_ns(o->wall_ns, b3, sizeof(b3)));
		fprintf(t->f, "  ");
		np_text_wrapped(t, line, 2, 4);
	} else {
		fprintf(t->f, "  measured: no full second recorded\n");
	}
	programs_text(t, o);
	if (!o->n_shed) {
		fprintf(t->f, "  nothing shed: every detail was kept\n");
		return;
	}
	for (size_t i = 0; i < o->n_shed; i++) {
		const struct np_ovh_shed *s = &o->shed[i];
		char src[64], what[160];

		np_sanitize(s->source, src, sizeof(src), true);
		np_sanitize(s->what, what, sizeof(what), true);
		snprintf(line, sizeof(line),
			 "shed at +%.1f s (%.1f%% > budget) step %u %s: %s %s -> %s",
			 (double)s->offset_ns / 1e9, s->share * 100, s->step, src, what,
			 ovh_value(s->what, s->from, b1, sizeof(b1)),
			 ovh_value(s->what, s->to, b2, sizeof(b2)));
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
			"Slow calls, exchanges and samples after those times are kept more "
			"coarsely "
			"(or, for a switched-off source, not at all); counts, totals and latency "
			"histograms stay exact for the whole window.",
			2, 2);
}
