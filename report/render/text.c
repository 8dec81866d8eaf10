/* text.c - the text report: fits 100 columns, colour only when asked.
 *
 * Strings from the target (comm, command line) are sanitised for the
 * terminal: a process cannot put escape sequences on the reader's screen.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/model/cpu_report.h"
#include "report/attribution/findings.h"
#include "report/model/report_model.h"
#include "report/model/series.h"
#include "report/render/format.h"
#include "report/render/render.h"
#include "report/render/sections.h"
#include "report/render/textout.h"
#include "profiler/format/systable.h"

/* A recorded value made safe for a terminal, into the caller's buffer.
 * Recordings come from other hosts, so every string in them is untrusted. */
static const char *meta(const struct np_report *r, const char *key, char *buf, size_t len)
{
	const char *v = np_recording_meta(r->rec, key);

	return np_sanitize(v ? v : "", buf, len, true);
}

#define META_LEN 1024

/* The text shows a service's processes when there is more than one (a
 * tree that never forked reads as before). */
static bool np_text_processes(const struct np_report *r)
{
	return r->procs.have && r->procs.n > 1;
}

static void header(struct np_text *o, const struct np_report *r)
{
	char comm[64], cmd[4096], line[4200], when[64] = "unknown time", dur[32];
	char m[4][META_LEN];
	time_t secs = (time_t)(r->realtime_start_ns / 1000000000ull);
	struct tm tm;

	np_sanitize(np_recording_meta(r->rec, "comm") ?: "", comm, sizeof(comm), true);
	np_sanitize(np_recording_meta(r->rec, "cmdline") ?: "", cmd, sizeof(cmd), true);
	if (r->realtime_start_ns && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(o->f, "%snetprof %s%s\n", o->color ? "\033[1m" : "", NETPROF_VERSION,
		o->color ? "\033[0m" : "");
	snprintf(line, sizeof(line), "pid %s (%s) %s", meta(r, "pid", m[0], META_LEN), comm, cmd);
	fprintf(o->f, "target   ");
	np_text_wrapped(o, line, 9, 9);
	fprintf(o->f, "         threads at start: %s; network namespace %s\n",
		meta(r, "threads", m[0], META_LEN), meta(r, "netns", m[1], META_LEN));
	if (np_recording_meta(r->rec, "target") && np_text_processes(r))
		fprintf(o->f, "service  %.200s: %s processes at start, %zu in all\n",
			meta(r, "target", m[0], META_LEN),
			meta(r, "target_processes", m[1], META_LEN), r->procs.n);
	fprintf(o->f, "host     %.40s, Linux %.40s %.16s, %s CPUs\n",
		meta(r, "hostname", m[0], META_LEN), meta(r, "kernel", m[1], META_LEN),
		meta(r, "machine", m[2], META_LEN), meta(r, "cpus", m[3], META_LEN));
	fprintf(o->f, "window   %s, %s, ended by %s\n", when,
		np_fmt_ns(r->duration_ns, dur, sizeof(dur)), r->end_reason);
	if (r->rec->truncated)
		fprintf(o->f,
			"         recording is incomplete (the profiler was stopped before it "
			"finished);\n         everything up to its last complete block is shown\n");
}

static void sources(struct np_text *o, const struct np_report *r)
{
	static const char *const status[] = {"ok", "degraded", "unavailable"};

	np_text_heading(o, "Sources");
	for (size_t i = 0; i < r->rec->n_sources; i++) {
		const struct np_rec_source *s = &r->rec->sources[i];

		char name[sizeof(s->name) * 3], detail[sizeof(s->detail) * 3 + 512], note[512];
		uint32_t st = s->status;
		bool degraded = false;
		size_t at;

		note[0] = '\0';
		if (!strcmp(s->name, "sockets"))
			np_net_netns_note(&r->net, note, sizeof(note), &degraded);
		if (degraded && st == NP_SOURCE_OK)
			st = NP_SOURCE_DEGRADED;
		np_sanitize(s->name, name, sizeof(name), true);
		np_sanitize(s->detail, detail, sizeof(detail) - sizeof(note), true);
		at = strlen(detail);
		snprintf(detail + at, sizeof(detail) - at, "%s", note);
		fprintf(o->f, "  ");
		np_fput_cols(o->f, name, 12);
		fprintf(o->f, " %-11s ", st < 3 ? status[st] : "?");
		np_text_wrapped(o, detail, 27, 27);
	}
}

static void syscalls(struct np_text *o, const struct np_report *r)
{
	char b[6][32];

	np_text_heading(o, "System calls (time inside the kernel, whole window)");
	if (!r->n_sys) {
		fprintf(o->f, "  no traced system calls were made\n");
		return;
	}
	fprintf(o->f, "  %-12s %8s %6s %6s %10s %9s %9s %9s %9s %9s\n", "syscall", "calls",
		"errors", "EAGAIN", "bytes", "total", "p50", "p90", "p99", "max");
	for (size_t i = 0; i < r->n_sys; i++) {
		const struct np_sys_row *s = &r->sys[i];
		int kind = np_sys_kind(s->sys);

		fprintf(o->f,
			"  %-12s %8" PRIu64 " %6" PRIu64 " %6" PRIu64 " %10s %9s %9s %9s %9s %9s\n",
			s->name, s->count, s->errors, s->eagain,
			kind == NP_KIND_RECV || kind == NP_KIND_SEND
				? np_fmt_bytes(s->bytes, b[0], sizeof(b[0]))
				: "-",
			np_fmt_ns(s->total_ns, b[1], sizeof(b[1])),
			np_fmt_ns(s->p50_ns, b[2], sizeof(b[2])),
			np_fmt_ns(s->p90_ns, b[3], sizeof(b[3])),
			np_fmt_ns(s->p99_ns, b[4], sizeof(b[4])),
			np_fmt_ns(s->max_ns, b[5], sizeof(b[5])));
	}
	fprintf(o->f, "  Quantiles are estimated from log2 histograms (within a factor of 2).\n");
}

static void slow_calls(struct np_text *o, const struct np_report *r, const char *what,
		       const struct np_slow_call *calls, size_t n, uint64_t total)
{
	char title[256], thr[32], lat[32], res[32], comm[64];
	int len;

	len = snprintf(title, sizeof(title), "Slowest %s (%zu of %" PRIu64 " over %s", what, n,
		       total, np_fmt_ns(r->threshold_ns, thr, sizeof(thr)));
	/* the governor raises the threshold: say from when, or a call over
	 * the first threshold but under a later one looks missing */
	for (size_t i = 0; i < r->ovh.n_shed; i++) {
		const struct np_ovh_shed *sh = &r->ovh.shed[i];

		if (strcmp(sh->source, "syscalls") ||
		    strcmp(sh->what, NP_SHED_SLOW_CALL_THRESHOLD) || len < 0 ||
		    (size_t)len >= sizeof(title))
			continue;
		len += snprintf(title + len, sizeof(title) - (size_t)len, ", %s from +%.1f s",
				np_fmt_ns(sh->to, thr, sizeof(thr)), (double)sh->offset_ns / 1e9);
	}
	if (len >= 0 && (size_t)len < sizeof(title) - 1)
		snprintf(title + len, sizeof(title) - (size_t)len, ")");
	np_text_heading(o, title);
	if (!n) {
		fprintf(o->f, "  none\n");
		return;
	}
	fprintf(o->f, "  %8s %7s %-15s %-12s %4s %10s %8s  %s\n", "at", "tid", "comm", "syscall",
		"fd", "latency", "result", "local -> peer");
	for (size_t i = 0; i < n; i++) {
		const struct np_slow_call *c = &calls[i];
		double at = (double)(c->ev.start_ns > r->start_ns ? c->ev.start_ns - r->start_ns
								  : 0) /
			    1e9;
		const char *errname = np_errno_name(c->ev.ret);

		if (errname)
			snprintf(res, sizeof(res), "%.8s", errname);
		else
			snprintf(res, sizeof(res), "%" PRId64, (int64_t)c->ev.ret);
		np_sanitize(c->comm, comm, sizeof(comm), true);
		fprintf(o->f, "  %7.3fs %7u ", at, c->ev.tid);
		np_fput_cols(o->f, comm, 15);
		fprintf(o->f, " %-12s %4d %10s %8s", np_sys_name(c->ev.sys), c->ev.fd,
			np_fmt_ns(c->ev.dur_ns, lat, sizeof(lat)), res);
		if (c->local[0] && strlen(c->local) + strlen(c->peer) + 4 <= 28)
			fprintf(o->f, "  %s -> %s\n", c->local, c->peer);
		else if (c->local[0])
			fprintf(o->f, "\n  %10s%s -> %s\n", "", c->local, c->peer);
		else
			fprintf(o->f, "  -\n");
	}
}

#define TEXT_MAX_THREADS 30

/* Most on-CPU plus in-syscall time first: where the work is. */
static int busiest_first(const void *a, const void *b)
{
	const struct np_thread_row *x = *(const struct np_thread_row *const *)a;
	const struct np_thread_row *y = *(const struct np_thread_row *const *)b;
	uint64_t bx = x->on_cpu_ns + x->sys_ns, by = y->on_cpu_ns + y->sys_ns;

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void threads(struct np_text *o, const struct np_report *r)
{
	char b[6][32], comm[64];

	size_t shown = r->n_threads < TEXT_MAX_THREADS ? r->n_threads : TEXT_MAX_THREADS;
	const struct np_thread_row **order;
	bool unknown = false;

	np_text_heading(o, r->cpu && r->cpu->have_sched
				   ? "Threads (on-CPU and run-queue time from the scheduler tracer)"
				   : "Threads (on-CPU and run-queue time from the scheduler's "
				     "statistics)");
	if (!r->n_threads) {
		fprintf(o->f, "  none seen\n");
		return;
	}
	order = calloc(r->n_threads, sizeof(*order));
	if (!order)
		return;
	for (size_t i = 0; i < r->n_threads; i++)
		order[i] = &r->threads[i];
	qsort(order, r->n_threads, sizeof(*order), busiest_first);
	if (np_text_processes(r))
		fprintf(o->f, "  %7s", "pid");
	fprintf(o->f, "  %7s %-15s %10s %10s %10s %9s %11s %10s\n", "tid", "comm", "on-CPU",
		"runnable", "off-CPU", "calls", "in syscalls", "in waits");
	for (size_t i = 0; i < shown; i++) {
		const struct np_thread_row *t = order[i];

		unknown |= !t->sched_known;
		np_sanitize(t->comm, comm, sizeof(comm), true);
		if (np_text_processes(r)) {
			uint32_t pid = np_proc_report_pid_of(&r->procs, t->tid);

			if (pid)
				fprintf(o->f, "  %7u", pid);
			else
				fprintf(o->f, "  %7s", "?");
		}
		fprintf(o->f, "  %7u ", t->tid);
		np_fput_cols(o->f, comm, 15);
		fprintf(o->f, " %10s %10s %10s %9" PRIu64 " %11s %10s%s\n",
			t->sched_known ? np_fmt_ns(t->on_cpu_ns, b[0], sizeof(b[0])) : "-",
			t->sched_known ? np_fmt_ns(t->runnable_ns, b[1], sizeof(b[1])) : "-",
			t->sched_known ? np_fmt_ns(t->off_cpu_ns, b[2], sizeof(b[2])) : "-",
			t->calls, np_fmt_ns(t->sys_ns, b[3], sizeof(b[3])),
			np_fmt_ns(t->wait_ns, b[4], sizeof(b[4])), t->exited ? "  (exited)" : "");
	}
	if (shown < r->n_threads)
		fprintf(o->f, "  ... and %zu more threads (all of them are in the JSON report)\n",
			r->n_threads - shown);
	if (unknown)
		fprintf(o->f, "  '-': the thread came and went between two polls of /proc\n");
	free(order);
}

/* Each listener and the processes that have it open: one socket the
 * workers share, or SO_REUSEPORT sockets (one per worker, though a
 * pre-forking server may leave them all open in every worker). */
static void listeners(struct np_text *o, const struct np_proc_report *p)
{
	char ep[64], line[300];

	for (size_t i = 0; i < p->n_listeners; i++) {
		const struct np_listener *l = &p->listeners[i];
		int len;

		np_sanitize(l->endpoint, ep, sizeof(ep), true);
		len = snprintf(line, sizeof(line), "listener %s%s, open in %s", ep,
			       l->reuseport ? " with SO_REUSEPORT" : "",
			       l->n_pids > 1 ? "pids" : "pid");
		for (size_t k = 0; k < l->n_pids && len > 0; k++) {
			if ((size_t)len > sizeof(line) - 20) { /* room for " ..." */
				snprintf(line + len, sizeof(line) - (size_t)len, " ...");
				break;
			}
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %u", l->pids[k]);
		}
		fprintf(o->f, "  ");
		np_text_wrapped(o, line, 2, 4);
	}
}

/* A service's processes and the spread of its load over the workers; only
 * for recordings that have them. */
static void processes(struct np_text *o, const struct np_report *r)
{
	const struct np_proc_report *p = &r->procs;
	char b[4][32], comm[64], line[600];

	if (!np_text_processes(r))
		return;
	np_text_heading(o, "Processes (command lines are in the JSON report)");
	fprintf(o->f, "  %7s %7s %-6s %-15s %7s %10s %10s %9s %9s %9s %9s\n", "pid", "ppid", "role",
		"comm", "threads", "on-CPU", "runnable", "accepts", "exchanges", "p50", "p99");
	for (size_t i = 0; i < p->n; i++) {
		const struct np_proc_row *x = &p->v[i];

		np_sanitize(x->comm, comm, sizeof(comm), true);
		if (x->flags & NP_PROCREC_GONE_AT_START) {
			fprintf(o->f, "  %7u %7s %-6s %-15s gone before the recording started\n",
				x->pid, "-", "-", "-");
			continue;
		}
		fprintf(o->f, "  %7u %7u %-6s ", x->pid, x->ppid, np_proc_role_name(x->role));
		np_fput_cols(o->f, comm, 15);
		fprintf(o->f, " %7u %10s %10s %9" PRIu64 " %9" PRIu64 " %9s %9s%s%s\n", x->threads,
			np_fmt_ns(x->on_cpu_ns, b[0], sizeof(b[0])),
			np_fmt_ns(x->runq_ns, b[1], sizeof(b[1])), x->accepts, x->exchanges,
			x->have_latency ? np_fmt_ns(x->p50_ns, b[2], sizeof(b[2])) : "-",
			x->have_latency ? np_fmt_ns(x->p99_ns, b[3], sizeof(b[3])) : "-",
			x->flags & NP_PROCREC_NEW ? " (new)" : "",
			x->flags & NP_PROCREC_EXITED ? " (exited)" : "");
	}
	listeners(o, p);
	if (p->latency_workers)
		fprintf(o->f, "  p50, p99: total latency of the exchanges each served%s\n",
			p->latency_sampled ? ", estimated from the recorded ones (every slow one, "
					     "1 in N of the others)"
					   : "");
	if (p->workers > 1) {
		char lo[32], hi[32], rlo[32], rhi[32], plo[32], phi[32], lat[100] = "";
		bool any_worker = false;

		for (size_t i = 0; i < p->n; i++)
			any_worker |= p->v[i].role == NP_ROLE_WORKER;
		if (p->latency_workers > 1)
			snprintf(lat, sizeof(lat), ", p99 %s to %s",
				 np_fmt_ns(p->p99_ns.min, plo, sizeof(plo)),
				 np_fmt_ns(p->p99_ns.max, phi, sizeof(phi)));
		snprintf(line, sizeof(line),
			 "spread over %zu %s: accepts %" PRIu64 " to %" PRIu64
			 ", exchanges %" PRIu64 " to %" PRIu64
			 ", on-CPU %s to %s, runnable %s to %s%s",
			 p->workers, any_worker ? "workers" : "processes", p->accepts.min,
			 p->accepts.max, p->exchanges.min, p->exchanges.max,
			 np_fmt_ns(p->on_cpu_ns.min, lo, sizeof(lo)),
			 np_fmt_ns(p->on_cpu_ns.max, hi, sizeof(hi)),
			 np_fmt_ns(p->runq_ns.min, rlo, sizeof(rlo)),
			 np_fmt_ns(p->runq_ns.max, rhi, sizeof(rhi)), lat);
		fprintf(o->f, "  ");
		np_text_wrapped(o, line, 2, 2);
	}
}

static void lost(struct np_text *o, const struct np_report *r)
{
	char line[400];

	np_text_heading(o, "Lost events");
	if (!r->lost_events) {
		fprintf(o->f, "  0 events could not be recorded\n");
		return;
	}
	snprintf(line, sizeof(line),
		 "%" PRIu64 " events could not be recorded (ring buffer full %" PRIu64
		 ", in-flight table full %" PRIu64 ", thread table full %" PRIu64
		 ", writer %" PRIu64 ", exchanges %" PRIu64 ", kernel stack %" PRIu64 ")",
		 r->lost_events, r->lost_by_cause[NP_DROP_RINGBUF],
		 r->lost_by_cause[NP_DROP_INFLIGHT_FULL], r->lost_by_cause[NP_DROP_THREADS_FULL],
		 r->lost_by_cause[NP_DROP_WRITER], r->xch.lost_events + r->xch.writer_drops,
		 (uint64_t)r->ns.t.lost_events + r->ns.writer_drops);
	fprintf(o->f, "  ");
	np_text_wrapped(o, line, 2, 2);
	if (r->lost_by_cause[NP_DROP_RINGBUF] || r->xch.lost_events || r->ns.t.lost_events)
		fprintf(o->f,
			"  Totals and quantiles are still exact; only individual slow/sampled "
			"events are missing.\n  A larger --ringbuf-kb or --threshold keeps "
			"more.\n");
}

/* A value of a finding's evidence, in its unit. */
static const char *fmt_value(double v, const char *unit, char *buf, size_t len)
{
	if (!strcmp(unit, "share"))
		snprintf(buf, len, "%.1f%%", v * 100.0);
	else if (!strcmp(unit, "ratio"))
		snprintf(buf, len, "%.3g", v);
	else if (!strcmp(unit, "ns"))
		np_fmt_ns(np_u64_sat(v), buf, len);
	else if (!strcmp(unit, "bytes"))
		np_fmt_bytes(np_u64_sat(v), buf, len);
	else if (!strcmp(unit, "per second"))
		snprintf(buf, len, "%.0f/s", v);
	else if (!strcmp(unit, "bool"))
		snprintf(buf, len, "%s", v ? "yes" : "no");
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static const char *fmt_spans(const struct np_report *r, const struct np_span *sp, size_t n,
			     char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 32 < len; i++) {
		double a = (double)(sp[i].start_ns - r->start_ns) / 1e9;
		double b = (double)(sp[i].end_ns - r->start_ns) / 1e9;

		o += (size_t)snprintf(buf + o, len - o, "%s%.0f-%.0fs", i ? ", " : "", a, b);
	}
	return buf;
}

static const char *sev_color(const struct np_text *o, enum np_severity s)
{
	if (!o->color)
		return "";
	return s == NP_SEV_CRITICAL ? "\033[1;31m" : s == NP_SEV_WARNING ? "\033[1;33m" : "\033[2m";
}

static void verdict(struct np_text *o, const struct np_report *r)
{
	const struct np_finding *v = r->an->verdict;
	char line[1024], summary[sizeof(v->summary) * 3];
	const char *sev;

	fputc('\n', o->f);
	if (!v) {
		fprintf(o->f, "%sVerdict%s  no bottleneck found: no finding above info\n",
			o->color ? "\033[1m" : "", o->color ? "\033[0m" : "");
		return;
	}
	np_sanitize(v->summary, summary, sizeof(summary), true);
	sev = v->severity == NP_SEV_CRITICAL ? "CRITICAL" : "WARNING";
	snprintf(line, sizeof(line), "%s (%s): %s", v->cause, v->layer, summary);
	fprintf(o->f, "%sVerdict%s  %s%s%s ", o->color ? "\033[1m" : "", o->color ? "\033[0m" : "",
		sev_color(o, v->severity), sev, o->color ? "\033[0m" : "");
	np_text_wrapped(o, line, 10 + (int)strlen(sev), 9);
	snprintf(line, sizeof(line), "%s confidence: %s", np_confidence_name(v->confidence),
		 v->confidence_why);
	fprintf(o->f, "         ");
	np_text_wrapped(o, line, 9, 9);
	if (v->counter[0]) {
		np_sanitize(v->counter, summary, sizeof(summary), true);
		snprintf(line, sizeof(line), "against it: %s", summary);
		fprintf(o->f, "         ");
		np_text_wrapped(o, line, 9, 9);
	}
	if (r->an->runner_up) {
		np_sanitize(r->an->runner_up_why, summary, sizeof(summary), true);
		fprintf(o->f, "         ");
		np_text_wrapped(o, summary, 9, 9);
	}
}

/* At capacity: said even when latency is low, with what bounds it. */
static void capacity(struct np_text *o, const struct np_report *r)
{
	const struct np_capacity *c = &r->an->capacity;
	char line[640], comm[sizeof(c->comm) * 3], split[200] = "", bound[96] = "";

	if (!c->at_capacity)
		return;
	np_sanitize(c->comm, comm, sizeof(comm), true);
	if (c->have_split)
		snprintf(split, sizeof(split),
			 "; its CPU: %.0f%% application code, %.0f%% kernel network work, %.0f%% "
			 "other kernel: throughput is bounded by %s",
			 c->app_share * 100, c->kernel_net_share * 100, c->kernel_other_share * 100,
			 c->bound_by);
	if (c->bound_per_s > 0)
		snprintf(bound, sizeof(bound), " (%.0f requests/s now, about %.0f/s at full use)",
			 c->requests_per_s, c->bound_per_s);
	snprintf(line, sizeof(line),
		 "at capacity: thread %u (%s) is on a CPU or waiting for one %.0f%% of the "
		 "time and requests spend %.0f%% of theirs queued behind it%s%s",
		 c->tid, comm, c->busy_share * 100, c->queued_share * 100, split, bound);
	fprintf(o->f, "Capacity ");
	np_text_wrapped(o, line, 9, 9);
}

static void breakdown(struct np_text *o, const struct np_report *r)
{
	const struct np_breakdown *b = &r->an->breakdown;
	const struct {
		const char *name;
		uint64_t ns;
	} parts[] = {{"application", b->application_ns},
		     {"stack", b->stack_ns},
		     {"nic", b->nic_ns},
		     {"peer", b->peer_ns},
		     {"idle", b->idle_ns}};
	char title[160], d[32];

	snprintf(title, sizeof(title), "Where the service's time went (%s window%s)",
		 np_fmt_ns(r->duration_ns, d, sizeof(d)),
		 b->estimated ? "; partly estimated from the syscall source" : "");
	np_text_heading(o, title);
	if (!b->known) {
		fprintf(o->f, "  unknown: the threads' scheduler times were not recorded\n");
		return;
	}
	for (size_t i = 0; i < 5; i++) {
		double share = b->window_ns ? (double)parts[i].ns / (double)b->window_ns : 0;
		int width = (int)(share * 50.0 + 0.5);

		fprintf(o->f, "  %-12s ", parts[i].name);
		for (int k = 0; k < 50; k++)
			fputs(k < width ? (o->color ? "\u2588" : "#") : (o->color ? "\u2591" : "."),
			      o->f);
		fprintf(o->f, " %5.1f%% %10s\n", share * 100.0,
			np_fmt_ns(parts[i].ns, d, sizeof(d)));
	}
	fprintf(o->f, "  Shares of the service threads' time (threads that made network calls);\n"
		      "  idle = waiting for work with nothing queued.\n");
	if (b->unknown_threads)
		fprintf(o->f,
			"  %zu short-lived thread%s left out: %s scheduler times are unknown.\n",
			b->unknown_threads, b->unknown_threads == 1 ? "" : "s",
			b->unknown_threads == 1 ? "its" : "their");
	if (b->idle_unexplained_ns)
		fprintf(o->f,
			"  Of idle, %s was off CPU outside network calls for a reason not "
			"recorded\n"
			"  (sleep, lock, or parked waiting for work).\n",
			np_fmt_ns(b->idle_unexplained_ns, d, sizeof(d)));
}

static void findings(struct np_text *o, const struct np_report *r)
{
	char buf[1200], when[256], val[48], where[NP_SIG_NAME_LEN * 6];

	np_text_heading(o, "Findings (evidence, then the next thing to check)");
	if (!r->an->n_findings)
		fprintf(o->f, "  none\n");
	for (size_t i = 0; i < r->an->n_findings; i++) {
		const struct np_finding *f = &r->an->findings[i];
		char summary[sizeof(f->summary) * 3], advice[sizeof(f->advice) * 3];

		np_sanitize(f->summary, summary, sizeof(summary), true);
		np_sanitize(f->advice, advice, sizeof(advice), true);
		fprintf(o->f, "  %s%-8s%s %-22s %-11s score %.2f\n", sev_color(o, f->severity),
			np_severity_name(f->severity), o->color ? "\033[0m" : "", f->cause,
			f->layer, f->score);
		fprintf(o->f, "    ");
		np_text_wrapped(o, summary, 4, 4);
		for (size_t k = 0; k < f->n_ev; k++) {
			const struct np_evidence *e = &f->ev[k];

			np_sanitize(e->where, where, sizeof(where), true);
			snprintf(buf, sizeof(buf), "%s %s%s%s%s%s", e->metric,
				 fmt_value(e->value, e->unit, val, sizeof(val)),
				 e->where[0] ? " at " : "", where, e->n_when ? ", in " : "",
				 fmt_spans(r, e->when, e->n_when, when, sizeof(when)));
			fprintf(o->f, "    %s", k ? "          " : "evidence: ");
			np_text_wrapped(o, buf, 14, 16);
		}
		if (f->steady || f->latency_rose >= 0) {
			const char *metric = f->latency_metric && !strcmp(f->latency_metric,
									  "exchange_p99_ns")
						     ? "request p99"
						     : "p99 of network I/O calls";

			/* Latency "rises" against the median window: when the
			 * counters moved in every window there is no quieter one, and
			 * "did not rise" would read as "did not matter". */
			if (f->steady && f->latency_rose > 0)
				snprintf(buf, sizeof(buf),
					 "steady over the whole window (%zu of %zu windows); rose "
					 "in "
					 "%zu of them (%s)",
					 f->windows_moved, f->windows_total,
					 f->windows_latency_rose, metric);
			else if (f->steady && f->latency_rose == 0)
				snprintf(buf, sizeof(buf),
					 "steady over the whole window (%zu of %zu windows): no "
					 "quieter window to compare with (%s)",
					 f->windows_moved, f->windows_total, metric);
			else if (f->steady)
				snprintf(buf, sizeof(buf),
					 "steady over the whole window (%zu of %zu windows)",
					 f->windows_moved, f->windows_total);
			else if (f->latency_rose)
				snprintf(buf, sizeof(buf),
					 "rose in %zu of the %zu windows where it moved (%s)",
					 f->windows_latency_rose, f->windows_moved, metric);
			else
				snprintf(buf, sizeof(buf),
					 "did not rise in the %zu windows where it moved (%s)",
					 f->windows_moved, metric);
			fprintf(o->f, "    latency:  ");
			np_text_wrapped(o, buf, 14, 14);
		}
		snprintf(buf, sizeof(buf), "%s: %s", np_confidence_name(f->confidence),
			 f->confidence_why);
		fprintf(o->f, "    trust:    ");
		np_text_wrapped(o, buf, 14, 14);
		if (f->counter[0]) {
			np_sanitize(f->counter, buf, sizeof(buf), true);
			fprintf(o->f, "    against:  ");
			np_text_wrapped(o, buf, 14, 14);
		}
		fprintf(o->f, "    next:     ");
		np_text_wrapped(o, advice, 14, 14);
	}
	if (r->sig && r->sig->n_degraded) {
		size_t n = 0;

		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "Not fully measured in this recording, so causes that need "
				      "them "
				      "cannot be found:");
		for (size_t i = 0; i < r->sig->n_degraded && n + 40 < sizeof(buf); i++) {
			char name[NP_SIG_NAME_LEN * 3];

			np_sanitize(r->sig->degraded[i], name, sizeof(name), true);
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s", i ? "," : "",
					      name);
		}
		fprintf(o->f, "  ");
		np_text_wrapped(o, buf, 2, 2);
	}
	np_ovh_caveat(&r->ovh, buf, sizeof(buf));
	if (buf[0]) {
		fprintf(o->f, "  ");
		np_text_wrapped(o, buf, 2, 2);
	}
}

int np_report_text(const struct np_report *r, FILE *f, bool color)
{
	struct np_text o = {f, color};

	header(&o, r);
	verdict(&o, r);
	capacity(&o, r);
	breakdown(&o, r);
	findings(&o, r);
	sources(&o, r);
	syscalls(&o, r);
	slow_calls(&o, r, "calls", r->slow, r->n_slow, r->slow_total);
	slow_calls(&o, r, "readiness waits (idle unless data was waiting)", r->slow_waits,
		   r->n_slow_waits > 5 ? 5 : r->n_slow_waits, r->slow_waits_total);
	processes(&o, r);
	threads(&o, r);
	np_cpu_text(&o, r);
	np_net_text(&o, &r->net, r->start_ns);
	np_xch_report_text(&o, r);
	np_ns_report_text(&o, r);
	np_ovh_report_text(&o, r);
	lost(&o, r);
	return ferror(f) ? -1 : 0;
}
