/* series.h - the timeline model: named time series grouped into tracks.
 *
 * Any part of the report adds series here (np_timeline_series + add); the
 * HTML timeline and the Perfetto export draw every series generically, so a
 * new source only adds series and never touches a renderer.
 *
 *   COUNTER  a quantity per interval (packets dropped in [ts, ts+dur)),
 *            drawn as bars; Perfetto: a counter track of the rate.
 *   GAUGE    a level sampled at ts (queue length, p99 of a window), drawn
 *            as a line; Perfetto: a counter track.
 *   STATE    a thread's state over [ts, ts+dur) (label = the state),
 *            drawn as coloured spans; Perfetto: slices on the thread.
 *   EVENTS   individual things with a duration (a slow syscall: v = its
 *            latency, label = its name), drawn as dots/ticks; Perfetto:
 *            slices on the thread (tid) or an async track.
 *
 * Timestamps are CLOCK_MONOTONIC ns.  Long timelines are downsampled for
 * the HTML page (np_timeline_downsample) while the findings' windows keep
 * every point.
 */
#ifndef NP_SERIES_H
#define NP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [start_ns, end_ns) on the recording's CLOCK_MONOTONIC clock. */
struct np_span {
	uint64_t start_ns, end_ns;
};

enum np_series_kind {
	NP_SERIES_COUNTER = 0,
	NP_SERIES_GAUGE = 1,
	NP_SERIES_STATE = 2,
	NP_SERIES_EVENTS = 3,
};

struct np_point {
	uint64_t ts_ns;
	uint64_t dur_ns; /* COUNTER interval, STATE/EVENTS duration; 0 for GAUGE */
	double v;
	uint32_t label; /* index into the series' labels; 0 when it has none */
	uint32_t tid;   /* EVENTS/STATE: the thread; 0 = the series' own tid */
};

struct np_series {
	char track[64]; /* the row it is drawn in; series of a track share it */
	char name[64];
	char unit[16]; /* "ns", "share", "count", "bytes", "packets", "per second" */
	enum np_series_kind kind;
	uint32_t tid; /* a thread's series: its tid (Perfetto puts it on the thread) */
	char **labels;
	size_t n_labels;
	struct np_point *p; /* by ts_ns once np_timeline_sort() ran */
	size_t n, cap;
	size_t n_total; /* points before downsampling */
};

struct np_timeline {
	uint64_t start_ns, end_ns;
	struct np_series **s;
	size_t n, cap;
	/* Spans drawn across every track (the findings), kept at full detail
	 * by downsampling. */
	struct np_span *keep;
	const char **keep_label; /* cause of each span (borrowed: static cause names) */
	size_t n_keep;
};

struct np_timeline *np_timeline_new(uint64_t start_ns, uint64_t end_ns);
void np_timeline_free(struct np_timeline *tl);
/* The series (track, name), created on first use; NULL on ENOMEM. */
struct np_series *np_timeline_series(struct np_timeline *tl, const char *track, const char *name,
				     const char *unit, enum np_series_kind kind, uint32_t tid);
/* Index of `label` in the series' labels (added if new); 0 on ENOMEM. */
uint32_t np_series_label(struct np_series *s, const char *label);
int np_series_add(struct np_series *s, uint64_t ts_ns, uint64_t dur_ns, double v, uint32_t label);
int np_timeline_keep(struct np_timeline *tl, const struct np_span *span, const char *label);
/* Sorts each series by time (stable). */
void np_timeline_sort(struct np_timeline *tl);
/* A copy where no series has more than about max_points points outside the
 * kept spans: the range is cut into max_points/2 buckets and each keeps its
 * extremes (lowest and highest value; for EVENTS and STATE the longest), so
 * spikes survive.  Points inside kept spans are all kept, up to
 * keep_cap per series.  The series must be sorted (np_timeline_sort). */
struct np_timeline *np_timeline_downsample(const struct np_timeline *tl, size_t max_points,
					   size_t keep_cap);
size_t np_timeline_points(const struct np_timeline *tl);

struct np_report;
struct np_recording;
/* Each source's series, added by np_timeline_build()
 * (report/attribution/timeline_build.c) in this order after the attribution's
 * per-window series: the scheduler's thread states (series_cpu.c; the
 * busiest threads, service threads first: is_service[i] says whether
 * r->threads[i] is one, or NULL when unknown), the per-thread series and
 * the slow and sampled calls (series.c), the network counters
 * (series_net.c). */
int np_timeline_add_sched(struct np_timeline *tl, const struct np_report *r,
			  const bool *is_service);
int np_timeline_add_threads(struct np_timeline *tl, const struct np_report *r);
int np_timeline_add_syscalls(struct np_timeline *tl, const struct np_recording *rec);

/* Every thread's states over [start_ns, end_ns) from the scheduler's event
 * stream, sorted by (tid, start), for np_xch_report_apply_sched(); the same
 * reading of the stream as the state tracks.  *out is NULL when the
 * recording has no scheduler events.  0 or -ENOMEM. */
struct np_sched_interval;
int np_sched_intervals(const struct np_recording *rec, uint64_t start_ns, uint64_t end_ns,
		       struct np_sched_interval **out, size_t *n_out);
int np_timeline_add_net(struct np_timeline *tl, const struct np_report *r);

#endif /* NP_SERIES_H */
