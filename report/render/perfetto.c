/* perfetto.c - the Chrome JSON trace-event export (--format perfetto),
 * which ui.perfetto.dev and chrome://tracing open.
 *
 * Drawn generically from the timeline (series.h), so every source's series
 * appear without changes here:
 *   - process and thread names as metadata events ("M");
 *   - EVENTS points that belong to a thread (syscalls) as complete slices
 *     ("X") on that thread; EVENTS without a thread (exchanges, which
 *     overlap) as nestable async slices ("b"/"e", one id each);
 *   - STATE series (a thread's scheduler states) as complete slices on a
 *     track of their own, "TID comm: state", sorted right below the
 *     thread: a state crosses syscall boundaries (on CPU from the end of
 *     one call into the next), so on the thread's own track the slices
 *     would not nest and the viewer would drop them;
 *   - COUNTER and GAUGE series as counter tracks ("C");
 *   - each finding as an instant event ("i", global) at the start of its
 *     first window, and as slices on a "netprof findings" pseudo-thread
 *     across the windows where its counters moved.
 * A service's threads are each under their own process (the recording's
 * thread -> process table), each process named "comm (pid N)"; what
 * belongs to no thread (exchanges, counters, findings) is under the
 * primary process.
 * Timestamps are microseconds from the start of the recording window (the
 * absolute CLOCK_MONOTONIC start is in the metadata).  Slices are complete
 * events or async pairs written together, so begin/end are balanced by
 * construction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/attribution/findings.h"
#include "report/model/report_model.h"
#include "report/model/series.h"
#include "report/render/format.h"
#include "report/render/render.h"
#include "report/render/sections.h"
#include "report/model/series.h"

/* Pseudo-thread ids above any real tid (pid_max is at most 2^22). */
#define TID_FINDINGS 0x7ffffff0u
#define TID_SERIES_BASE 0x7fff0000u

static void ts_us(FILE *f, const char *key, uint64_t ns, uint64_t start)
{
	uint64_t rel = ns > start ? ns - start : 0;

	fprintf(f, ",\"%s\":%" PRIu64 ".%03u", key, rel / 1000, (unsigned)(rel % 1000));
}

static void dur_us(FILE *f, uint64_t ns)
{
	fprintf(f, ",\"dur\":%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

struct out {
	FILE *f;
	const struct np_report *r;
	bool first;
	uint32_t pid; /* the primary process */
	uint64_t start;
	uint64_t async_id;
};

/* The process of a real thread, or of the thread a series' pseudo-thread
 * shows (its state track); the primary for the rest, and for any thread
 * of a recording of one process. */
static uint32_t pid_of(const struct out *o, uint32_t tid)
{
	const struct np_report *r = o->r;
	uint32_t pid;

	if (!r->procs.have || !tid || tid == TID_FINDINGS)
		return o->pid;
	if (tid >= TID_SERIES_BASE) {
		size_t i = tid - TID_SERIES_BASE;

		if (!r->tl || i >= r->tl->n || !r->tl->s[i]->tid)
			return o->pid;
		tid = r->tl->s[i]->tid;
	}
	pid = np_proc_report_pid_of(&r->procs, tid);
	return pid ? pid : o->pid;
}

static void begin_in(struct out *o, const char *ph, const char *name, uint32_t pid, uint32_t tid)
{
	fputs(o->first ? "\n" : ",\n", o->f);
	o->first = false;
	fprintf(o->f, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"name\":", ph, pid, tid);
	np_json_str(o->f, name, false);
}

static void begin(struct out *o, const char *ph, const char *name, uint32_t tid)
{
	begin_in(o, ph, name, pid_of(o, tid), tid);
}

static void process_name(struct out *o, uint32_t pid, const char *comm)
{
	char pname[128];

	snprintf(pname, sizeof(pname), "%s (pid %u)", comm, pid);
	begin_in(o, "M", "process_name", pid, 0);
	fputs(",\"args\":{\"name\":", o->f);
	np_json_str(o->f, pname, false);
	fputs("}}", o->f);
}

static void thread_name(struct out *o, uint32_t tid, const char *name)
{
	begin(o, "M", "thread_name", tid);
	fputs(",\"args\":{\"name\":", o->f);
	np_json_str(o->f, name, false);
	fputs("}}", o->f);
}

static void thread_sort(struct out *o, uint32_t tid, uint64_t index)
{
	begin(o, "M", "thread_sort_index", tid);
	fprintf(o->f, ",\"args\":{\"sort_index\":%" PRIu64 "}}", index);
}

/* Real threads sort by tid, each followed by its state track. */
static uint64_t sort_index(const struct np_report *r, uint32_t tid)
{
	for (size_t i = 0; i < r->n_threads; i++)
		if (r->threads[i].tid == tid)
			return 2 * (uint64_t)i;
	return 2 * (uint64_t)r->n_threads;
}

static void point_args(struct out *o, const struct np_series *s, const struct np_point *p)
{
	fputs(",\"args\":{\"series\":", o->f);
	np_json_str(o->f, s->name, false);
	fprintf(o->f, ",\"value\":%.17g,\"unit\":", p->v);
	np_json_str(o->f, s->unit, false);
	fputs("}}", o->f);
}

/* Points on a thread: complete slices on that thread.  Points that belong
 * to no thread (exchanges, which overlap) become nestable async slices,
 * one id each, so overlapping ones never have to nest. */
/* States: one slice per interval on the series' own track, labelled with
 * the state and nothing else (there can be a million of them). */
static void series_states(struct out *o, const struct np_series *s, uint32_t pseudo_tid)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_point *p = &s->p[i];
		const char *label = p->label < s->n_labels ? s->labels[p->label] : s->name;

		begin(o, "X", label, pseudo_tid);
		fputs(",\"cat\":\"state\"", o->f);
		ts_us(o->f, "ts", p->ts_ns, o->start);
		dur_us(o->f, p->dur_ns);
		fputc('}', o->f);
	}
}

static void series_events(struct out *o, const struct np_series *s, uint32_t pseudo_tid)
{
	const char *cat = "event";
	char acat[140];

	snprintf(acat, sizeof(acat), "%s: %s", s->track, s->name);
	for (size_t i = 0; i < s->n; i++) {
		const struct np_point *p = &s->p[i];
		uint32_t tid = p->tid ? p->tid : s->tid;
		const char *label = p->label < s->n_labels ? s->labels[p->label] : s->name;

		if (!tid && s->kind == NP_SERIES_EVENTS) {
			o->async_id++;
			begin(o, "b", label, 0);
			fputs(",\"cat\":", o->f);
			np_json_str(o->f, acat, false);
			fprintf(o->f, ",\"id\":%" PRIu64, o->async_id);
			ts_us(o->f, "ts", p->ts_ns, o->start);
			point_args(o, s, p);
			begin(o, "e", label, 0);
			fputs(",\"cat\":", o->f);
			np_json_str(o->f, acat, false);
			fprintf(o->f, ",\"id\":%" PRIu64, o->async_id);
			ts_us(o->f, "ts", p->ts_ns + p->dur_ns, o->start);
			fputs("}", o->f);
			continue;
		}
		begin(o, "X", label, tid ? tid : pseudo_tid);
		fprintf(o->f, ",\"cat\":\"%s\"", cat);
		ts_us(o->f, "ts", p->ts_ns, o->start);
		dur_us(o->f, p->dur_ns);
		point_args(o, s, p);
	}
}

static void series_counter(struct out *o, const struct np_series *s)
{
	char name[140];

	snprintf(name, sizeof(name), "%s / %s", s->track, s->name);
	for (size_t i = 0; i < s->n; i++) {
		const struct np_point *p = &s->p[i];

		/* it holds its value: a repeat draws nothing (a long, quiet
		 * recording would otherwise repeat one value per window) */
		if (i && p->v == s->p[i - 1].v)
			continue;
		begin(o, "C", name, 0);
		ts_us(o->f, "ts", p->ts_ns, o->start);
		fprintf(o->f, ",\"args\":{\"value\":%.17g}}", p->v);
	}
	/* a counter holds its value until the next sample: end an interval
	 * series at the end of its last interval */
	if (s->n && s->kind == NP_SERIES_COUNTER && s->p[s->n - 1].dur_ns) {
		begin(o, "C", name, 0);
		ts_us(o->f, "ts", s->p[s->n - 1].ts_ns + s->p[s->n - 1].dur_ns, o->start);
		fputs(",\"args\":{\"value\":0}}", o->f);
	}
}

static void findings(struct out *o, const struct np_report *r)
{
	if (!r->an->n_findings)
		return;
	thread_name(o, TID_FINDINGS, "netprof findings");
	for (size_t i = 0; i < r->an->n_findings; i++) {
		const struct np_finding *f = &r->an->findings[i];
		uint64_t at = f->n_spans ? f->spans[0].start_ns : r->start_ns;

		begin(o, "i", f->cause, TID_FINDINGS);
		fputs(",\"s\":\"g\",\"cat\":\"finding\"", o->f);
		ts_us(o->f, "ts", at, o->start);
		fprintf(o->f, ",\"args\":{\"severity\":\"%s\",\"score\":%.3f,\"summary\":",
			np_severity_name(f->severity), f->score);
		np_json_str(o->f, f->summary, false);
		fputs(",\"advice\":", o->f);
		np_json_str(o->f, f->advice, false);
		fputs("}}", o->f);
		for (size_t k = 0; k < f->n_spans; k++) {
			begin(o, "X", f->cause, TID_FINDINGS);
			fputs(",\"cat\":\"finding\"", o->f);
			ts_us(o->f, "ts", f->spans[k].start_ns, o->start);
			dur_us(o->f, f->spans[k].end_ns - f->spans[k].start_ns);
			fprintf(o->f, ",\"args\":{\"severity\":\"%s\"}}",
				np_severity_name(f->severity));
		}
	}
}

int np_report_perfetto(const struct np_report *r, FILE *f)
{
	struct out o = {.f = f,
			.r = r,
			.first = true,
			.pid = (uint32_t)np_recording_meta_u64(r->rec, "pid", 0),
			.start = r->start_ns};
	const char *comm = np_recording_meta(r->rec, "comm");

	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"netprof_version\":", f);
	np_json_str(f, NETPROF_VERSION, false);
	fprintf(f,
		",\"start_monotonic_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64
		",\"start_realtime_ns\":%" PRIu64 "},\"traceEvents\":[",
		r->start_ns, r->duration_ns, r->realtime_start_ns);

	process_name(&o, o.pid, comm ? comm : "target");
	for (size_t i = 0; r->procs.have && i < r->procs.n; i++) {
		const struct np_proc_row *p = &r->procs.v[i];

		if (p->pid != o.pid && !(p->flags & NP_PROCREC_GONE_AT_START))
			process_name(&o, p->pid, p->comm);
	}
	for (size_t i = 0; i < r->n_threads; i++) {
		thread_name(&o, r->threads[i].tid, r->threads[i].comm);
		thread_sort(&o, r->threads[i].tid, 2 * (uint64_t)i);
	}

	for (size_t i = 0; r->tl && i < r->tl->n; i++) {
		const struct np_series *s = r->tl->s[i];
		uint32_t pseudo = TID_SERIES_BASE + (uint32_t)i;

		if (s->kind == NP_SERIES_STATE) {
			char name[140];

			if (s->tid) {
				const char *comm = "";

				for (size_t k = 0; k < r->n_threads; k++)
					if (r->threads[k].tid == s->tid)
						comm = r->threads[k].comm;
				snprintf(name, sizeof(name), "%u %s: %s", s->tid, comm, s->name);
				thread_sort(&o, pseudo, sort_index(r, s->tid) + 1);
			} else {
				snprintf(name, sizeof(name), "%s: %s", s->track, s->name);
			}
			thread_name(&o, pseudo, name);
			series_states(&o, s, pseudo);
		} else if (s->kind == NP_SERIES_EVENTS) {
			series_events(&o, s, pseudo);
		} else {
			series_counter(&o, s);
		}
	}
	findings(&o, r);
	fputs("\n]}\n", f);
	return ferror(f) ? -1 : 0;
}
