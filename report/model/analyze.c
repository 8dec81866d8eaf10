/* analyze.c - from a recording to the tables of a report (the model).
 *
 * Works only from the recording (never the live system) so that reports can
 * be made offline.  np_model_build() runs each source's table builder and
 * owns the tables of the syscall source: latency quantiles per syscall, the
 * slowest calls with their connection, and the per-thread time accounting.
 * It never prints and never judges (report/attribution/ does).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/systable.h"
#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/model/series.h"

static int by_total_desc(const void *a, const void *b)
{
	const struct np_sys_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return x->sys < y->sys ? -1 : x->sys > y->sys;
}

static int by_dur_desc(const void *a, const void *b)
{
	const struct np_slow_call *x = a, *y = b;

	if (x->ev.dur_ns != y->ev.dur_ns)
		return x->ev.dur_ns < y->ev.dur_ns ? 1 : -1;
	return x->ev.start_ns < y->ev.start_ns ? -1 : x->ev.start_ns > y->ev.start_ns;
}

static int by_tid(const void *a, const void *b)
{
	const struct np_thread_row *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static const char *comm_of(const struct np_recording *rec, uint32_t tid)
{
	size_t lo = 0, hi = rec->n_threads;

	/* threads are sorted by tid by the reader */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->threads[mid].tid == tid)
			return rec->threads[mid].comm;
		if (rec->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "";
}

static void build_window(const struct np_recording *rec, struct np_report *r)
{
	uint64_t last = 0;

	r->start_ns = np_recording_meta_u64(rec, "start_ns", 0);
	r->realtime_start_ns = np_recording_meta_u64(rec, "realtime_ns", 0);
	if (rec->have_end) {
		last = rec->end.ts_ns;
	} else {
		/* Cut short: the window ends at the last thing we know of. */
		for (size_t i = 0; i < NP_SYS_COUNT; i++)
			if (rec->sys_stats[i].ts_ns > last)
				last = rec->sys_stats[i].ts_ns;
		for (size_t i = 0; i < rec->n_threads; i++)
			if (rec->threads[i].ts_ns > last)
				last = rec->threads[i].ts_ns;
		for (size_t i = 0; i < rec->n_events; i++)
			if (rec->events[i].start_ns + rec->events[i].dur_ns > last)
				last = rec->events[i].start_ns + rec->events[i].dur_ns;
	}
	if (!r->start_ns || last < r->start_ns)
		last = r->start_ns;
	r->end_ns = last;
	r->duration_ns = last - r->start_ns;
	r->end_reason = rec->have_end ? np_end_reason_name(rec->end.reason) : "incomplete";
}

static void build_syscalls(const struct np_recording *rec, struct np_report *r)
{
	for (unsigned int s = 0; s < NP_SYS_COUNT; s++) {
		const struct np_sys_stats *st = &rec->sys_stats[s].stats;
		struct np_sys_row *row;

		if (!st->count)
			continue;
		row = &r->sys[r->n_sys++];
		row->sys = s;
		row->name = np_sys_name(s);
		row->count = st->count;
		row->errors = st->errors;
		row->eagain = st->eagain;
		row->bytes = st->bytes;
		row->total_ns = st->total_ns;
		row->max_ns = st->max_ns;
		row->p50_ns = np_hist_quantile(st->hist, NP_HIST_BUCKETS, 0.50, st->max_ns);
		row->p90_ns = np_hist_quantile(st->hist, NP_HIST_BUCKETS, 0.90, st->max_ns);
		row->p99_ns = np_hist_quantile(st->hist, NP_HIST_BUCKETS, 0.99, st->max_ns);
	}
	qsort(r->sys, r->n_sys, sizeof(r->sys[0]), by_total_desc);
}

static bool is_wait(const struct np_sys_event *e)
{
	return np_sys_kind(e->sys) == NP_KIND_WAIT;
}

static bool slow_of_kind(const struct np_sys_event *e, bool waits)
{
	return e->flags & NP_EV_SLOW && e->sys < NP_SYS_COUNT && is_wait(e) == waits;
}

static int build_slow(const struct np_recording *rec, bool waits, size_t max_slow,
		      struct np_slow_call **out, size_t *n_out, uint64_t *total)
{
	struct np_slow_call *all;
	size_t n = 0;

	for (size_t i = 0; i < rec->n_events; i++)
		if (slow_of_kind(&rec->events[i], waits))
			n++;
	*total = n;
	if (!n || !max_slow)
		return 0;
	all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < rec->n_events; i++)
		if (slow_of_kind(&rec->events[i], waits))
			all[n++].ev = rec->events[i];
	qsort(all, n, sizeof(*all), by_dur_desc);
	if (n > max_slow)
		n = max_slow;
	for (size_t i = 0; i < n; i++) {
		struct np_slow_call *c = &all[i];

		c->comm = comm_of(rec, c->ev.tid);
		if (c->ev.flags & NP_EV_ADDR) {
			np_format_endpoint(c->ev.family, c->ev.laddr, c->ev.lport, c->local,
					   sizeof(c->local));
			np_format_endpoint(c->ev.family, c->ev.raddr, c->ev.rport, c->peer,
					   sizeof(c->peer));
		}
	}
	*out = all;
	*n_out = n;
	return 0;
}

/* The scheduler tracer's exact times replace the /proc estimates of a
 * thread; a thread only the tracer saw gets a row of its own. */
static int merge_sched_threads(const struct np_cpu_report *c, struct np_report *r)
{
	for (size_t i = 0; i < c->n_sched_threads; i++) {
		const struct np_cpu_sched_thread *t = &c->sched_threads[i];
		struct np_thread_row *row = NULL;

		for (size_t k = 0; k < r->n_threads; k++)
			if (r->threads[k].tid == t->tid)
				row = &r->threads[k];
		if (!row) {
			void *p = reallocarray(r->threads, r->n_threads + 1, sizeof(*r->threads));

			if (!p)
				return -ENOMEM;
			r->threads = p;
			row = &r->threads[r->n_threads++];
			memset(row, 0, sizeof(*row));
			row->tid = t->tid;
		}
		memcpy(row->comm, t->comm, sizeof(row->comm));
		row->sched_known = true;
		row->have_reasons = true;
		row->exited = t->exited;
		row->window_ns = t->window_ns;
		row->on_cpu_ns = t->on_cpu_ns;
		row->runnable_ns = t->runnable_ns;
		memcpy(row->off_by_reason_ns, t->off_by_reason_ns, sizeof(row->off_by_reason_ns));
		row->off_cpu_ns = t->off_cpu_ns;
		row->switches_vol = t->switches_vol;
		row->switches_invol = t->switches_invol;
		row->wakeups = t->wakeups;
	}
	if (r->n_threads)
		qsort(r->threads, r->n_threads, sizeof(*r->threads), by_tid);
	for (size_t i = 0; i < r->n_threads; i++)
		for (size_t k = 0; k < c->n_threads; k++)
			if (c->threads[k].tid == r->threads[i].tid)
				r->threads[i].samples = c->threads[k].samples;
	return 0;
}

/* The thread table, in one place: the syscall source's rows (times from
 * /proc schedstat polls), then, where the scheduler tracer ran, its exact
 * times and the CPU samples per thread.  Runs after np_cpu_report_build(). */
static int build_threads(const struct np_recording *rec, struct np_report *r)
{
	if (rec->n_threads) {
		r->threads = calloc(rec->n_threads, sizeof(*r->threads));
		if (!r->threads)
			return -ENOMEM;
	}
	for (size_t i = 0; i < rec->n_threads; i++) {
		const struct np_rec_thread *t = &rec->threads[i];
		struct np_thread_row *row = &r->threads[r->n_threads++];
		uint64_t first = t->first_ns > r->start_ns ? t->first_ns : r->start_ns;
		uint64_t last = t->flags & NP_THREAD_EXITED ? t->last_ns : r->end_ns;
		uint64_t busy;

		row->tid = t->tid;
		memcpy(row->comm, t->comm, sizeof(row->comm));
		row->exited = t->flags & NP_THREAD_EXITED;
		row->sched_known = !(t->flags & NP_THREAD_NO_SCHED);
		row->window_ns = last > first ? last - first : 0;
		row->on_cpu_ns = t->on_cpu_ns;
		row->runnable_ns = t->runq_ns;
		busy = row->on_cpu_ns + row->runnable_ns;
		if (row->sched_known)
			row->off_cpu_ns = row->window_ns > busy ? row->window_ns - busy : 0;
		row->calls = t->calls;
		row->sys_ns = t->sys_ns;
		row->wait_ns = t->wait_ns;
	}
	if (r->n_threads)
		qsort(r->threads, r->n_threads, sizeof(*r->threads), by_tid);
	return r->cpu ? merge_sched_threads(r->cpu, r) : 0;
}

/* The split of the exchanges' application time into on-CPU, off-CPU and
 * runnable, where the scheduler tracer ran. */
static int apply_sched_to_exchanges(const struct np_recording *rec, struct np_report *r)
{
	struct np_sched_interval *iv;
	size_t n;
	int rc;

	if (!r->xch.present)
		return 0;
	rc = np_sched_intervals(rec, r->start_ns, r->end_ns, &iv, &n);
	if (rc || !iv)
		return rc;
	np_xch_report_apply_sched(rec, &r->xch, iv, n);
	free(iv);
	return 0;
}

/* The flame graphs' stacks (cpu_report.c folds them). */
static int build_folded(struct np_report *r)
{
	int rc;

	if (!r->cpu)
		return 0;
	r->oncpu = calloc(1, sizeof(*r->oncpu));
	r->offcpu = calloc(1, sizeof(*r->offcpu));
	if (!r->oncpu || !r->offcpu)
		return -ENOMEM;
	rc = np_cpu_folded_oncpu(r, r->oncpu);
	if (!rc)
		rc = np_cpu_folded_offcpu(r, r->offcpu);
	return rc;
}

int np_model_build(const struct np_recording *rec, struct np_report *r, size_t max_slow)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->rec = rec;
	r->threshold_ns = np_recording_meta_u64(rec, "threshold_ns", 0);
	build_window(rec, r);
	build_syscalls(rec, r);
	for (int i = 0; i < NP_DROPS_SLOTS; i++) {
		r->lost_by_cause[i] = rec->drops.count[i];
		r->lost_events += rec->drops.count[i];
	}
	rc = build_slow(rec, false, max_slow, &r->slow, &r->n_slow, &r->slow_total);
	if (!rc)
		rc = build_slow(rec, true, max_slow, &r->slow_waits, &r->n_slow_waits,
				&r->slow_waits_total);
	if (!rc)
		rc = np_net_build(rec, r->start_ns, r->end_ns, &r->net);
	if (!rc)
		rc = np_cpu_report_build(rec, &r->cpu);
	if (!rc && r->cpu) /* every loss counts in the report's total */
		r->lost_events += r->cpu->lost_samples + r->cpu->lost_sched_events +
				  r->cpu->lost_threads;
	if (!rc)
		rc = build_threads(rec, r);
	if (!rc)
		rc = np_xch_report_build(rec, &r->xch, max_slow);
	if (!rc)
		rc = np_ns_report_build(rec, r->start_ns, &r->ns);
	if (!rc)
		rc = np_ovh_report_build(rec, r->start_ns, &r->ovh) ? -ENOMEM : 0;
	if (!rc)
		r->lost_events += r->xch.lost_events + r->xch.writer_drops + r->ns.t.lost_events +
				  r->ns.writer_drops;
	if (!rc)
		rc = np_proc_report_build(rec, &r->procs);
	if (!rc && r->xch.present) {
		size_t n_ev;
		const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);

		rc = np_proc_report_latency(&r->procs, ev, n_ev, r->xch.sample_every);
	}
	if (!rc)
		rc = apply_sched_to_exchanges(rec, r);
	if (!rc)
		rc = build_folded(r);
	if (rc)
		np_model_fini(r);
	return rc;
}

void np_model_fini(struct np_report *r)
{
	np_folded_fini(r->oncpu);
	np_folded_fini(r->offcpu);
	free(r->oncpu);
	free(r->offcpu);
	r->oncpu = r->offcpu = NULL;
	free(r->slow);
	free(r->slow_waits);
	free(r->threads);
	np_net_fini(&r->net);
	np_cpu_report_free(r->cpu);
	r->cpu = NULL;
	r->slow = NULL;
	r->slow_waits = NULL;
	r->threads = NULL;
	np_xch_report_fini(&r->xch);
	np_ns_report_fini(&r->ns);
	np_ovh_report_fini(&r->ovh);
	np_proc_report_fini(&r->procs);
}
