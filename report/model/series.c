/* series.c - the timeline model (series.h): storage, downsampling, and the
 * syscall source's series (threads, slow and sampled calls).  The
 * per-window totals of the service threads come from the signals, so
 * report/attribution/timeline_build.c adds them.
 *
 * Not for rendering: render/html.c and render/perfetto.c draw what is here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/model/series.h"
#include "profiler/format/systable.h"

struct np_timeline *np_timeline_new(uint64_t start_ns, uint64_t end_ns)
{
	struct np_timeline *tl = calloc(1, sizeof(*tl));

	if (tl) {
		tl->start_ns = start_ns;
		tl->end_ns = end_ns;
	}
	return tl;
}

static void series_free(struct np_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_labels; i++)
		free(s->labels[i]);
	free(s->labels);
	free(s->p);
	free(s);
}

void np_timeline_free(struct np_timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->n; i++)
		series_free(tl->s[i]);
	free(tl->s);
	free(tl->keep);
	free(tl->keep_label);
	free(tl);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t cap2;
	void *q;

	if (need <= *cap)
		return p;
	cap2 = *cap ? *cap : 16;
	while (cap2 < need)
		cap2 *= 2;
	q = realloc(p, cap2 * size);
	if (q)
		*cap = cap2;
	return q;
}

struct np_series *np_timeline_series(struct np_timeline *tl, const char *track, const char *name,
				     const char *unit, enum np_series_kind kind, uint32_t tid)
{
	struct np_series *s, **v;

	for (size_t i = 0; i < tl->n; i++)
		if (!strcmp(tl->s[i]->track, track) && !strcmp(tl->s[i]->name, name))
			return tl->s[i];
	v = grow(tl->s, &tl->cap, tl->n + 1, sizeof(*v));
	if (!v)
		return NULL;
	tl->s = v;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->track, sizeof(s->track), "%s", track);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->unit, sizeof(s->unit), "%s", unit);
	s->kind = kind;
	s->tid = tid;
	tl->s[tl->n++] = s;
	return s;
}

uint32_t np_series_label(struct np_series *s, const char *label)
{
	size_t cap = s->n_labels;
	char **v;

	for (size_t i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i], label))
			return (uint32_t)i;
	v = realloc(s->labels, (cap + 1) * sizeof(*v));
	if (!v)
		return 0;
	s->labels = v;
	s->labels[s->n_labels] = strdup(label);
	if (!s->labels[s->n_labels])
		return 0;
	return (uint32_t)s->n_labels++;
}

int np_series_add(struct np_series *s, uint64_t ts_ns, uint64_t dur_ns, double v, uint32_t label)
{
	struct np_point *p = grow(s->p, &s->cap, s->n + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->p = p;
	p[s->n].ts_ns = ts_ns;
	p[s->n].dur_ns = dur_ns;
	p[s->n].v = v;
	p[s->n].label = label;
	p[s->n].tid = 0;
	s->n++;
	s->n_total++;
	return 0;
}

int np_timeline_keep(struct np_timeline *tl, const struct np_span *span, const char *label)
{
	size_t cap = tl->n_keep;
	struct np_span *k = realloc(tl->keep, (cap + 1) * sizeof(*k));
	const char **l;

	if (!k)
		return -ENOMEM;
	tl->keep = k;
	l = realloc(tl->keep_label, (cap + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	tl->keep_label = l;
	tl->keep[tl->n_keep] = *span;
	tl->keep_label[tl->n_keep++] = label;
	return 0;
}

static int by_ts(const void *a, const void *b)
{
	const struct np_point *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	/* stable enough: ties broken by the rest of the point */
	if (x->dur_ns != y->dur_ns)
		return x->dur_ns < y->dur_ns ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

void np_timeline_sort(struct np_timeline *tl)
{
	for (size_t i = 0; i < tl->n; i++)
		if (tl->s[i]->n > 1)
			qsort(tl->s[i]->p, tl->s[i]->n, sizeof(struct np_point), by_ts);
}

size_t np_timeline_points(const struct np_timeline *tl)
{
	size_t n = 0;

	for (size_t i = 0; i < tl->n; i++)
		n += tl->s[i]->n;
	return n;
}

static int by_start(const void *a, const void *b)
{
	const struct np_span *x = a, *y = b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* The kept spans sorted and merged, so that a walk over time-sorted points
 * needs one comparison per point. */
static size_t merged_keep(const struct np_timeline *tl, struct np_span *out)
{
	size_t n = 0;

	if (!tl->n_keep)
		return 0;
	memcpy(out, tl->keep, tl->n_keep * sizeof(*out));
	qsort(out, tl->n_keep, sizeof(*out), by_start);
	for (size_t i = 0; i < tl->n_keep; i++) {
		if (n && out[i].start_ns <= out[n - 1].end_ns) {
			if (out[i].end_ns > out[n - 1].end_ns)
				out[n - 1].end_ns = out[i].end_ns;
			continue;
		}
		out[n++] = out[i];
	}
	return n;
}

/* Points must come in time order; *k is the walk's position in keep. */
static bool in_keep(const struct np_span *keep, size_t n, size_t *k, const struct np_point *p)
{
	while (*k < n && keep[*k].end_ns <= p->ts_ns)
		(*k)++;
	return *k < n && keep[*k].start_ns <= p->ts_ns + p->dur_ns;
}

static int downsample_series(const struct np_timeline *tl, const struct np_series *in,
			     struct np_series *out, size_t max_points, size_t keep_cap)
{
	size_t buckets = max_points / 2 ? max_points / 2 : 1, kept_in = 0, n_keep, k = 0;
	struct np_span *keep = NULL;
	uint64_t span = tl->end_ns > tl->start_ns ? tl->end_ns - tl->start_ns : 1;
	size_t *lo = NULL, *hi = NULL;
	bool *take = NULL;
	int rc = -ENOMEM;

	if (in->n <= max_points) {
		out->p = malloc((in->n ? in->n : 1) * sizeof(*out->p));
		if (!out->p)
			return -ENOMEM;
		if (in->n)
			memcpy(out->p, in->p, in->n * sizeof(*out->p));
		out->n = out->cap = in->n;
		return 0;
	}
	keep = malloc((tl->n_keep ? tl->n_keep : 1) * sizeof(*keep));
	lo = malloc(buckets * sizeof(*lo));
	hi = malloc(buckets * sizeof(*hi));
	take = calloc(in->n, sizeof(*take));
	out->p = malloc(in->n * sizeof(*out->p));
	if (!keep || !lo || !hi || !take || !out->p)
		goto out;
	n_keep = merged_keep(tl, keep);
	for (size_t b = 0; b < buckets; b++)
		lo[b] = hi[b] = SIZE_MAX;
	for (size_t i = 0; i < in->n; i++) {
		const struct np_point *p = &in->p[i];
		uint64_t off = p->ts_ns > tl->start_ns ? p->ts_ns - tl->start_ns : 0;
		size_t b = (size_t)((unsigned __int128)off * buckets / span);
		double key = in->kind == NP_SERIES_EVENTS || in->kind == NP_SERIES_STATE
				     ? (double)p->dur_ns + p->v
				     : p->v;

		if (in_keep(keep, n_keep, &k, p) && kept_in < keep_cap) {
			take[i] = true;
			kept_in++;
			continue;
		}
		if (b >= buckets)
			b = buckets - 1;
		if (hi[b] == SIZE_MAX) {
			lo[b] = hi[b] = i;
			continue;
		}
		{
			const struct np_point *h = &in->p[hi[b]], *l = &in->p[lo[b]];
			double hk = in->kind == NP_SERIES_EVENTS || in->kind == NP_SERIES_STATE
					    ? (double)h->dur_ns + h->v
					    : h->v;
			double lk = in->kind == NP_SERIES_EVENTS || in->kind == NP_SERIES_STATE
					    ? (double)l->dur_ns + l->v
					    : l->v;

			if (key > hk)
				hi[b] = i;
			if (key < lk)
				lo[b] = i;
		}
	}
	for (size_t b = 0; b < buckets; b++) {
		if (hi[b] != SIZE_MAX)
			take[hi[b]] = true;
		/* events: only the extreme that matters (the slowest) */
		if (lo[b] != SIZE_MAX && in->kind != NP_SERIES_EVENTS)
			take[lo[b]] = true;
	}
	out->n = 0;
	for (size_t i = 0; i < in->n; i++)
		if (take[i])
			out->p[out->n++] = in->p[i];
	out->cap = in->n;
	rc = 0;
out:
	free(keep);
	free(lo);
	free(hi);
	free(take);
	return rc;
}

struct np_timeline *np_timeline_downsample(const struct np_timeline *tl, size_t max_points,
					   size_t keep_cap)
{
	struct np_timeline *o = np_timeline_new(tl->start_ns, tl->end_ns);

	if (!o)
		return NULL;
	for (size_t k = 0; k < tl->n_keep; k++)
		if (np_timeline_keep(o, &tl->keep[k], tl->keep_label[k]))
			goto fail;
	for (size_t i = 0; i < tl->n; i++) {
		const struct np_series *in = tl->s[i];
		struct np_series *s = np_timeline_series(o, in->track, in->name, in->unit, in->kind,
							 in->tid);

		if (!s)
			goto fail;
		for (size_t l = 0; l < in->n_labels; l++)
			np_series_label(s, in->labels[l]);
		if (s->n_labels != in->n_labels ||
		    downsample_series(tl, in, s, max_points, keep_cap))
			goto fail;
		s->n_total = in->n_total;
	}
	return o;
fail:
	np_timeline_free(o);
	return NULL;
}

/* --- the syscall source's series -----------------------------------------
 * (each other source adds its own from a file of its own: series_cpu.c,
 * series_net.c) */

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

int np_timeline_add_syscalls(struct np_timeline *tl, const struct np_recording *rec)
{
	struct np_series *io = NULL, *waits = NULL;

	for (size_t i = 0; i < rec->n_events; i++) {
		const struct np_sys_event *e = &rec->events[i];
		bool wait = e->sys < NP_SYS_COUNT && np_sys_kind(e->sys) == NP_KIND_WAIT;
		const char *name = np_sys_name(e->sys);
		struct np_series *s;

		if (!name)
			continue;
		if (wait && !(e->flags & NP_EV_SLOW))
			continue;
		if (wait && !waits)
			waits = np_timeline_series(tl, "Syscall latency", "slow readiness waits",
						   "ns", NP_SERIES_EVENTS, 0);
		if (!wait && !io)
			io = np_timeline_series(tl, "Syscall latency",
						"network calls (slow and sampled)", "ns",
						NP_SERIES_EVENTS, 0);
		s = wait ? waits : io;
		if (!s || np_series_add(s, e->start_ns, e->dur_ns, (double)e->dur_ns,
					np_series_label(s, name)))
			return -ENOMEM;
		s->p[s->n - 1].tid = e->tid;
	}
	return 0;
}

#define TL_MAX_THREADS 16

static int by_on_cpu_desc(const void *a, const void *b)
{
	const struct np_thread_row *x = *(const struct np_thread_row *const *)a;
	const struct np_thread_row *y = *(const struct np_thread_row *const *)b;

	if (x->on_cpu_ns != y->on_cpu_ns)
		return x->on_cpu_ns < y->on_cpu_ns ? 1 : -1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static bool has_track(const struct np_timeline *tl, const char *track)
{
	for (size_t i = 0; i < tl->n; i++)
		if (!strcmp(tl->s[i]->track, track))
			return true;
	return false;
}

/* On-CPU and run-queue share per snapshot interval, for the busiest
 * threads (a thread's track is "tid comm") that have no state track. */
int np_timeline_add_threads(struct np_timeline *tl, const struct np_report *r)
{
	size_t n;
	const struct np_rec_thread *hist = np_recording_records(r->rec, NP_BLK_THREADS, &n);
	const struct np_thread_row **order;
	size_t shown;
	int rc = 0;

	if (!n || !r->n_threads)
		return 0;
	order = calloc(r->n_threads, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_threads; i++)
		order[i] = &r->threads[i];
	qsort(order, r->n_threads, sizeof(*order), by_on_cpu_desc);
	shown = r->n_threads < TL_MAX_THREADS ? r->n_threads : TL_MAX_THREADS;
	for (size_t i = 0; i < shown && !rc; i++) {
		const struct np_thread_row *t = order[i];
		char track[64];
		struct np_series *on, *rq;
		uint64_t prev_ts = r->start_ns, prev_on = 0, prev_rq = 0;

		if (!t->sched_known || (!t->on_cpu_ns && !t->runnable_ns))
			continue; /* never ran: nothing to draw */
		snprintf(track, sizeof(track), "Thread %u %s", t->tid, t->comm);
		if (has_track(tl, track))
			continue; /* the scheduler tracer drew its states */
		on = np_timeline_series(tl, track, "on-CPU", "share", NP_SERIES_COUNTER, t->tid);
		rq = np_timeline_series(tl, track, "runnable", "share", NP_SERIES_COUNTER, t->tid);
		if (!on || !rq)
			return free(order), -ENOMEM;
		/* the history is in file order, which is time order per thread */
		for (size_t k = 0; k < n && !rc; k++) {
			const struct np_rec_thread *h = &hist[k];
			uint64_t len;

			if (h->tid != t->tid || h->ts_ns <= prev_ts)
				continue;
			len = h->ts_ns - prev_ts;
			rc = np_series_add(
				on, prev_ts, len,
				share(h->on_cpu_ns > prev_on ? h->on_cpu_ns - prev_on : 0, len), 0);
			if (!rc)
				rc = np_series_add(rq, prev_ts, len,
						   share(h->runq_ns > prev_rq ? h->runq_ns - prev_rq
									      : 0,
							 len),
						   0);
			prev_ts = h->ts_ns;
			prev_on = h->on_cpu_ns;
			prev_rq = h->runq_ns;
		}
	}
	free(order);
	return rc;
}

/* Every series the report has.  A new source adds one call here to a
 * function of its own that adds its series (np_timeline_series, then
 * np_series_add); nothing else needs to change for them to be drawn. */
