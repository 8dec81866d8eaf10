/* series_cpu.c - the scheduler tracer's series for the timeline: each busy
 * thread's state over time (on CPU, runnable, off CPU and why), from the
 * thread-state event stream (NP_BLK_SCHED_EVENTS).
 *
 * A thread's state between two of its events is the one the earlier event
 * entered (see timeline.h); before its first event, the one that event
 * leaves.  Events lost by the ring show as a state held longer than it
 * was: the per-thread totals elsewhere in the report stay exact.
 *
 * The same reading of the stream gives the state intervals that split the
 * exchanges' application time (np_sched_intervals).
 *
 * Not for the thread tables or the rules: report/model/cpu_report.c and signals_cpu.c
 * use the exact per-thread totals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/model/series.h"

/* How many threads get a state track: the busiest first. */
#define TL_STATE_THREADS 8

/* Labels in a fixed order, so every thread's track uses the same colours. */
enum state_label {
	L_READY,    /* readiness wait: usually idle */
	L_RUNNABLE, /* waiting for a CPU */
	L_ONCPU,
	L_LOCK,
	L_DISK,
	L_NET,
	L_SLEEP,
	L_OTHER,
	L_OFF, /* off CPU, reason unknown (before the first event) */
	L_COUNT
};

static const char *const label_names[L_COUNT] = {
	"readiness wait", "runnable", "on-CPU",     "lock",    "disk I/O",
	"network",        "sleep",    "other wait", "off-CPU",
};

static enum state_label off_label(uint8_t reason)
{
	switch (reason) {
	case NP_OFF_NET:
		return L_NET;
	case NP_OFF_POLL:
		return L_READY;
	case NP_OFF_LOCK:
		return L_LOCK;
	case NP_OFF_DISK:
		return L_DISK;
	case NP_OFF_SLEEP:
		return L_SLEEP;
	default:
		return L_OTHER;
	}
}

/* The state an event enters, and the one it leaves (for a first event). */
static int entered(const struct np_sched_event *e)
{
	switch (e->type) {
	case NP_SCHED_SWITCH_OUT:
		return e->reason == NP_REASON_PREEMPTED ? L_RUNNABLE : (int)off_label(e->reason);
	case NP_SCHED_SWITCH_IN:
		return L_ONCPU;
	case NP_SCHED_WAKEUP:
	case NP_SCHED_WAKEUP_NEW:
		return L_RUNNABLE;
	default:
		return -1; /* exit: no state after it */
	}
}

static int left(const struct np_sched_event *e)
{
	switch (e->type) {
	case NP_SCHED_SWITCH_OUT:
	case NP_SCHED_EXIT:
		return L_ONCPU;
	case NP_SCHED_SWITCH_IN:
		return L_RUNNABLE;
	case NP_SCHED_WAKEUP:
		return L_OFF;
	default:
		return -1; /* a new thread did not exist before */
	}
}

struct ev_ref {
	uint64_t ts;
	uint32_t tid;
	uint32_t idx;
};

static int by_tid_ts(const void *a, const void *b)
{
	const struct ev_ref *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct busy {
	const struct np_thread_row *t;
	uint64_t busy;
	bool service;
};

static int by_busy(const void *a, const void *b)
{
	const struct busy *x = a, *y = b;

	if (x->service != y->service)
		return x->service ? -1 : 1;
	if (x->busy != y->busy)
		return x->busy < y->busy ? 1 : -1;
	return x->t->tid < y->t->tid ? -1 : x->t->tid > y->t->tid;
}

/* Adds [from, to) in `label`, merged with the previous point when that was
 * the same state and ended there. */
static int add_state(struct np_series *s, uint64_t from, uint64_t to, int label)
{
	struct np_point *last = s->n ? &s->p[s->n - 1] : NULL;

	if (label < 0 || to <= from)
		return 0;
	if (last && last->label == (uint32_t)label && last->ts_ns + last->dur_ns == from) {
		last->dur_ns = to - last->ts_ns;
		return 0;
	}
	return np_series_add(s, from, to - from, 1, (uint32_t)label);
}

static bool shown(const struct busy *sel, size_t n, uint32_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (sel[i].t->tid == tid)
			return true;
	return false;
}

int np_timeline_add_sched(struct np_timeline *tl, const struct np_report *r, const bool *is_service)
{
	size_t n, n_sel = 0;
	const struct np_sched_event *ev = np_recording_records(r->rec, NP_BLK_SCHED_EVENTS, &n);
	struct ev_ref *refs = NULL;
	struct busy *sel = NULL;
	uint64_t end = 0;
	int rc = 0;

	if (!n || !r->n_threads)
		return 0;
	sel = calloc(r->n_threads, sizeof(*sel));
	refs = calloc(n, sizeof(*refs));
	if (!sel || !refs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_thread_row *t = &r->threads[i];

		sel[i] = (struct busy){t, t->on_cpu_ns + t->runnable_ns,
				       is_service && is_service[i]};
	}
	qsort(sel, r->n_threads, sizeof(*sel), by_busy);
	for (size_t i = 0; i < r->n_threads && n_sel < TL_STATE_THREADS; i++)
		if (sel[i].busy && sel[i].t->have_reasons)
			sel[n_sel++] = sel[i];
	if (!n_sel)
		goto out;
	/* the tracer stopped at its last snapshot, which can be a little
	 * before the recording ended (symbols are resolved after it detached) */
	{
		size_t nt;
		const struct np_rec_sched_thread *st = np_recording_records(r->rec,
									    NP_BLK_SCHED_THREADS,
									    &nt);

		for (size_t i = 0; i < nt; i++)
			if (st[i].ts_ns > end)
				end = st[i].ts_ns;
		if (!end || end > r->end_ns)
			end = r->end_ns;
	}
	/* the ring delivers per CPU in time order: merge by thread and time */
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct ev_ref){ev[i].ts_ns, ev[i].tid, (uint32_t)i};
	qsort(refs, n, sizeof(*refs), by_tid_ts);
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i;
		uint32_t tid = refs[i].tid;
		const struct np_thread_row *t = NULL;
		struct np_series *s;
		char track[64];
		uint64_t at;
		int state;

		while (j < n && refs[j].tid == tid)
			j++;
		if (!shown(sel, n_sel, tid)) {
			i = j;
			continue;
		}
		for (size_t k = 0; k < r->n_threads; k++)
			if (r->threads[k].tid == tid)
				t = &r->threads[k];
		snprintf(track, sizeof(track), "Thread %u %s", tid, t ? t->comm : "");
		s = np_timeline_series(tl, track, "state", "state", NP_SERIES_STATE, tid);
		if (!s) {
			rc = -ENOMEM;
			break;
		}
		for (int l = 0; l < L_COUNT; l++)
			if (np_series_label(s, label_names[l]) != (uint32_t)l) {
				rc = -ENOMEM;
				break;
			}
		at = r->start_ns;
		state = left(&ev[refs[i].idx]);
		for (size_t k = i; k < j && !rc; k++) {
			const struct np_sched_event *e = &ev[refs[k].idx];
			uint64_t ts = e->ts_ns < r->start_ns ? r->start_ns
				      : e->ts_ns > end       ? end
							     : e->ts_ns;

			rc = add_state(s, at, ts, state);
			at = ts;
			state = entered(e);
		}
		if (!rc)
			rc = add_state(s, at, end, state);
		i = j;
	}
out:
	free(refs);
	free(sel);
	return rc;
}

static uint32_t tstate_of(int label)
{
	switch (label) {
	case L_ONCPU:
		return NP_TSTATE_ON_CPU;
	case L_RUNNABLE:
		return NP_TSTATE_RUNNABLE;
	default:
		return NP_TSTATE_OFF_CPU;
	}
}

int np_sched_intervals(const struct np_recording *rec, uint64_t start_ns, uint64_t end_ns,
		       struct np_sched_interval **out, size_t *n_out)
{
	size_t n, k = 0;
	const struct np_sched_event *ev = np_recording_records(rec, NP_BLK_SCHED_EVENTS, &n);
	struct ev_ref *refs;
	struct np_sched_interval *iv;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return 0;
	refs = calloc(n, sizeof(*refs));
	/* at most one interval per event and one more per thread */
	iv = calloc(2 * n, sizeof(*iv));
	if (!refs || !iv) {
		free(refs);
		free(iv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct ev_ref){ev[i].ts_ns, ev[i].tid, (uint32_t)i};
	qsort(refs, n, sizeof(*refs), by_tid_ts);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t at = start_ns;
		int state = left(&ev[refs[i].idx]);

		while (j < n && refs[j].tid == refs[i].tid)
			j++;
		for (size_t e = i; e <= j; e++) {
			uint64_t ts = e < j ? ev[refs[e].idx].ts_ns : end_ns;

			ts = ts < start_ns ? start_ns : ts > end_ns ? end_ns : ts;
			if (state >= 0 && ts > at)
				iv[k++] = (struct np_sched_interval){refs[i].tid, tstate_of(state),
								     at, ts};
			at = ts > at ? ts : at;
			if (e < j)
				state = entered(&ev[refs[e].idx]);
		}
		i = j;
	}
	free(refs);
	*out = iv;
	*n_out = k;
	return 0;
}
