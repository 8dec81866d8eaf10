/* timeline_build.c - the report's timeline: every time series the HTML page and
 * the Perfetto export draw, with the findings' spans kept at full detail.
 *
 * It sits above the attribution because two of its inputs are the
 * attribution's: the signals' per-window totals of the service threads,
 * and which threads are service threads.  The sources' own series come
 * from the model (report/model/series*.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "report/attribution/findings.h"
#include "report/attribution/signals.h"
#include "report/attribution/timeline_build.h"
#include "report/model/report_model.h"
#include "report/model/series.h"

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* Per-window totals of the service threads, and the I/O calls. */
static int add_window_series(struct np_timeline *tl, const struct np_signals *s)
{
	static const struct {
		enum np_wmetric m;
		const char *name;
	} time_parts[] = {
		{NP_W_APP_CPU_NS, "application CPU"},
		{NP_W_KERNEL_NET_NS, "network stack CPU"},
		{NP_W_RUNNABLE_NS, "runnable"},
		{NP_W_OFF_NONNET_NS, "off-CPU outside network calls"},
		{NP_W_READY_WAIT_NS, "readiness waits"},
		{NP_W_PEER_WAIT_NS, "blocked on peers"},
	};

	for (size_t i = 0; i < sizeof(time_parts) / sizeof(time_parts[0]); i++) {
		struct np_series *ser;

		if (!(s->wknown & (1ull << time_parts[i].m)) ||
		    !(s->wknown & (1ull << NP_W_THREAD_NS)))
			continue;
		ser = np_timeline_series(tl, "Service threads (share of their time)",
					 time_parts[i].name, "share", NP_SERIES_COUNTER, 0);
		if (!ser)
			return -ENOMEM;
		for (size_t w = 0; w < s->n_windows; w++) {
			const struct np_sig_window *win = &s->windows[w];

			if (np_series_add(ser, win->start_ns, win->end_ns - win->start_ns,
					  share(win->v[time_parts[i].m], win->v[NP_W_THREAD_NS]),
					  0))
				return -ENOMEM;
		}
	}
	if (s->wknown & (1ull << NP_W_IO_CALLS)) {
		struct np_series *calls = np_timeline_series(tl, "Network I/O calls",
							     "calls per second", "per second",
							     NP_SERIES_COUNTER, 0);
		struct np_series *p99 = np_timeline_series(tl, "Network I/O latency",
							   "p99 per second", "ns", NP_SERIES_GAUGE,
							   0);

		if (!calls || !p99)
			return -ENOMEM;
		for (size_t w = 0; w < s->n_windows; w++) {
			const struct np_sig_window *win = &s->windows[w];
			uint64_t len = win->end_ns - win->start_ns;

			if (np_series_add(calls, win->start_ns, len,
					  len ? (double)win->v[NP_W_IO_CALLS] * 1e9 / (double)len
					      : 0,
					  0) ||
			    np_series_add(p99, win->start_ns + len / 2, 0,
					  (double)win->v[NP_W_IO_P99_NS], 0))
				return -ENOMEM;
		}
	}
	return 0;
}

/* Every recorded call (slow or sampled) as an event on its thread; slow
 * readiness waits apart (they are idle time, mostly). */
/* is_service[i]: r->threads[i] made traced network calls (the signals'
 * definition); NULL when there are no signals or no threads. */
static int service_threads(const struct np_report *r, bool **out)
{
	bool *v;

	*out = NULL;
	if (!r->sig || !r->n_threads)
		return 0;
	v = calloc(r->n_threads, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_sig_thread *st = np_signals_thread(r->sig, r->threads[i].tid);

		v[i] = st && np_signals_thread_is_service(st);
	}
	*out = v;
	return 0;
}

int np_timeline_build(struct np_report *r)
{
	bool *is_service = NULL;
	int rc;

	r->tl = np_timeline_new(r->start_ns, r->end_ns);
	if (!r->tl)
		return -ENOMEM;
	rc = service_threads(r, &is_service);
	if (rc)
		return rc;
	rc = add_window_series(r->tl, r->sig);
	if (!rc)
		rc = np_timeline_add_sched(r->tl, r, is_service);
	if (!rc)
		rc = np_timeline_add_threads(r->tl, r);
	if (!rc)
		rc = np_timeline_add_syscalls(r->tl, r->rec);
	if (!rc)
		rc = np_timeline_add_net(r->tl, r);
	for (size_t i = 0; i < r->an->n_findings && !rc; i++) {
		const struct np_finding *f = &r->an->findings[i];

		for (size_t k = 0; k < f->n_spans && !rc; k++)
			rc = np_timeline_keep(r->tl, &f->spans[k], f->cause);
	}
	if (!rc)
		np_timeline_sort(r->tl);
	free(is_service);
	return rc;
}
