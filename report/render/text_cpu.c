/* text_cpu.c - the CPU sections of the text report: thread time by state,
 * the on-CPU profile and the off-CPU waits (model: report/model/cpu_report.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "profiler/format/frameclass.h"
#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"
#include "report/render/textout.h"

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void text_threads(struct np_text *o, const struct np_report *r)
{
	static const char *const cols[NP_OFF_COUNT] = {"network", "ready", "lock",
						       "disk",    "sleep", "other"};
	char b[32], comm[64];
	size_t shown = 0, hidden = 0;

	np_text_heading(o, "Thread time by state (% of each thread's time in the window)");
	fprintf(o->f, "  %7s %-15s %9s %7s %7s", "tid", "comm", "window", "on-CPU", "runq");
	for (int k = 0; k < NP_OFF_COUNT; k++)
		fprintf(o->f, " %7s", cols[k]);
	fputc('\n', o->f);
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_thread_row *t = &r->threads[i];
		double w = (double)t->window_ns;

		if (!t->have_reasons)
			continue;
		if (shown == 30) {
			hidden++;
			continue;
		}
		shown++;
		np_sanitize(t->comm, comm, sizeof(comm), true);
		fprintf(o->f, "  %7u ", t->tid);
		np_fput_cols(o->f, comm, 15);
		fprintf(o->f, " %9s %6.1f%% %6.1f%%", np_fmt_ns(t->window_ns, b, sizeof(b)),
			w ? 100.0 * (double)t->on_cpu_ns / w : 0.0,
			w ? 100.0 * (double)t->runnable_ns / w : 0.0);
		for (int k = 0; k < NP_OFF_COUNT; k++) {
			if (t->off_by_reason_ns[k])
				fprintf(o->f, " %6.1f%%",
					w ? 100.0 * (double)t->off_by_reason_ns[k] / w : 0.0);
			else
				fprintf(o->f, " %7s", "-");
		}
		fputs(t->exited ? " exited\n" : "\n", o->f);
	}
	if (hidden)
		fprintf(o->f, "  ... and %zu more threads (all of them are in the JSON report)\n",
			hidden);
	fprintf(o->f, "  runq: runnable, waiting for a CPU; ready: readiness waits (epoll, poll, "
		      "select), usually idle.\n");
}

static void text_fn_table(struct np_text *o, const struct np_cpu_fn *fns, size_t n,
			  uint64_t samples, size_t max)
{
	char name[256];

	fprintf(o->f, "  %7s %6s %7s %6s  %-10s %s\n", "self", "%", "total", "%", "class",
		"function (module)");
	for (size_t i = 0; i < n && i < max; i++) {
		const struct np_cpu_fn *fn = &fns[i];
		char line[400];

		np_sanitize(fn->name, name, sizeof(name), true);
		snprintf(line, sizeof(line), "%s (%s)", name, fn->module[0] ? fn->module : "?");
		fprintf(o->f, "  %7" PRIu64 " %5.1f%% %7" PRIu64 " %5.1f%%  %-10s ", fn->self,
			pct(fn->self, samples), fn->total, pct(fn->total, samples),
			np_class_name(fn->cls));
		np_text_wrapped(o, line, 48, 50);
	}
}

static void text_profile(struct np_text *o, const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;
	const struct np_rec_cpu_stats *s = &c->stats;
	char title[200];

	snprintf(title, sizeof(title), "On-CPU profile (%" PRIu64 " samples at %" PRIu64 " Hz)",
		 c->samples, s->frequency_hz);
	np_text_heading(o, title);
	if (!c->samples) {
		fprintf(o->f, "  no samples: the target did not run on a CPU\n");
		return;
	}
	fprintf(o->f,
		"  where: application %.1f%%, libraries %.1f%%, kernel network stack %.1f%%,\n"
		"         other kernel %.1f%%; in softirq %.1f%%\n",
		pct(c->by_class[NP_CLS_APP], c->samples), pct(c->by_class[NP_CLS_LIB], c->samples),
		pct(c->by_class[NP_CLS_KNET], c->samples),
		pct(c->by_class[NP_CLS_KERNEL], c->samples), pct(c->softirq, c->samples));
	fprintf(o->f,
		"  stacks: %.1f%% complete; %" PRIu64 " cut by the %" PRIu64
		" KiB stack copy, %" PRIu64 " unwind errors; %" PRIu64 " samples lost\n",
		pct(c->full_chain, c->samples), s->truncated, s->stack_bytes >> 10,
		s->unwind_errors, s->lost);
	if (c->unwinder) {
		char uw[32];

		fprintf(o->f, "  unwinder: %s\n", np_sanitize(c->unwinder, uw, sizeof(uw), true));
	}
	fprintf(o->f, "\n  Top functions, all threads\n");
	text_fn_table(o, c->fns, c->n_fns, c->samples, NP_CPU_TOP);
	for (size_t i = 0; i < c->n_threads && i < 8; i++) {
		const struct np_cpu_thread *t = &c->threads[i];
		const char *comm = "";
		char cm[64];
		uint32_t pid;

		if (c->n_threads == 1 || t->samples * 20 < c->samples)
			continue; /* one thread: same as above; tiny ones: noise */
		for (size_t k = 0; k < r->n_threads; k++)
			if (r->threads[k].tid == t->tid)
				comm = r->threads[k].comm;
		np_sanitize(comm, cm, sizeof(cm), true);
		pid = r->procs.have ? np_proc_report_pid_of(&r->procs, t->tid) : 0;
		if (pid)
			fprintf(o->f, "\n  Thread %u (%s) of pid %u: %" PRIu64 " samples\n", t->tid,
				cm, pid, t->samples);
		else
			fprintf(o->f, "\n  Thread %u (%s): %" PRIu64 " samples\n", t->tid, cm,
				t->samples);
		text_fn_table(o, t->top, t->n_top, t->samples, 5);
	}
	fprintf(o->f,
		"\n  Flame graph: netprof report FILE --format folded | flamegraph.pl > cpu.svg\n");
}

static void text_offcpu(struct np_text *o, const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;
	uint64_t total = 0;
	char b[3][32];

	for (int k = 0; k < NP_OFF_COUNT; k++)
		total += c->off_ns[k];
	np_text_heading(o, "Off-CPU time by reason (all threads)");
	if (!total) {
		fprintf(o->f, "  none\n");
		return;
	}
	for (int k = 0; k < NP_OFF_COUNT; k++)
		if (c->off_ns[k])
			fprintf(o->f, "  %-15s %10s %5.1f%%\n", np_off_reason_name(k),
				np_fmt_ns(c->off_ns[k], b[0], 32), pct(c->off_ns[k], total));
	if (!c->n_offcpu)
		return; /* off-CPU time, but no wait was attributed a place */
	fprintf(o->f,
		"\n  Longest waits: reason, syscall, kernel stack (innermost first; ~: includes a\n"
		"  share of blocks whose stack was not taken, at most one stack per thread per 10 "
		"ms)\n");
	fprintf(o->f, "  %10s %7s %9s  %-14s %-14s %s\n", "total", "count", "max", "reason",
		"syscall", "where");
	for (size_t i = 0; i < c->n_offcpu && i < 12; i++) {
		const struct np_offcpu_row *w = &c->offcpu[i];
		char sys[32], where[400], line[480];

		if (w->sys_name)
			snprintf(sys, sizeof(sys), "%.31s", w->sys_name);
		else if (w->sys >= 0)
			snprintf(sys, sizeof(sys), "#%d", w->sys);
		else
			snprintf(sys, sizeof(sys), "-");
		np_cpu_stack_summary(c, w->node, where, sizeof(where));
		fprintf(o->f, "  %10s %7" PRIu64 " %9s  %-14s %-14s ",
			np_fmt_ns(w->total_ns, b[0], 32), w->count, np_fmt_ns(w->max_ns, b[1], 32),
			np_off_reason_name(w->reason), sys);
		snprintf(line, sizeof(line), "%s%s", w->estimated ? "~ " : "",
			 where[0]       ? where
			 : w->unsampled ? "(stack not sampled)"
					: "(no kernel stack)");
		np_text_wrapped(o, line, 62, 64);
	}
}

void np_cpu_text(struct np_text *o, const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;

	if (!c)
		return;
	if (c->have_sched)
		text_threads(o, r);
	if (c->have_samples)
		text_profile(o, r);
	if (c->have_sched)
		text_offcpu(o, r);
	if (c->lost_samples || c->lost_sched_events || c->lost_stacks || c->lost_threads) {
		char line[256];

		snprintf(line, sizeof(line),
			 "Not recorded: %" PRIu64 " CPU samples (perf ring full), %" PRIu64
			 " thread state events, %" PRIu64 " off-CPU kernel stacks, %" PRIu64
			 " threads or waits (tables full)",
			 c->lost_samples, c->lost_sched_events, c->lost_stacks, c->lost_threads);
		fprintf(o->f, "\n  ");
		np_text_wrapped(o, line, 2, 2);
	}
}
