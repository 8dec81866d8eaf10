/* test_series.c - the timeline model: series, labels, sorting, and
 * downsampling that keeps spikes and the findings' windows. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/series.h"

#define S 1000000000ull

Test(series, same_track_and_name_is_the_same_series)
{
	struct np_timeline *tl = np_timeline_new(0, 10 * S);
	struct np_series *a = np_timeline_series(tl, "Sockets", "Recv-Q", "bytes", NP_SERIES_GAUGE,
						 0);
	struct np_series *b = np_timeline_series(tl, "Sockets", "Recv-Q", "bytes", NP_SERIES_GAUGE,
						 0);
	struct np_series *c = np_timeline_series(tl, "Sockets", "Send-Q", "bytes", NP_SERIES_GAUGE,
						 0);

	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
	cr_assert_eq(tl->n, 2);
	cr_assert_eq(np_series_label(a, "read"), 0);
	cr_assert_eq(np_series_label(a, "write"), 1);
	cr_assert_eq(np_series_label(a, "read"), 0);
	np_timeline_free(tl);
	np_timeline_free(NULL);
}

Test(series, sort_orders_points_by_time)
{
	struct np_timeline *tl = np_timeline_new(0, 10 * S);
	struct np_series *s = np_timeline_series(tl, "t", "s", "ns", NP_SERIES_EVENTS, 0);

	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(np_series_add(s, (i * 37) % 100 * S / 10, 1, (double)i, 0), 0);
	np_timeline_sort(tl);
	for (size_t i = 1; i < s->n; i++)
		cr_assert(s->p[i - 1].ts_ns <= s->p[i].ts_ns);
	np_timeline_free(tl);
}

Test(series, short_series_are_copied_whole)
{
	struct np_timeline *tl = np_timeline_new(0, 10 * S), *d;
	struct np_series *s = np_timeline_series(tl, "t", "s", "share", NP_SERIES_COUNTER, 7);

	for (uint64_t i = 0; i < 10; i++)
		np_series_add(s, i * S, S, (double)i / 10, 0);
	d = np_timeline_downsample(tl, 100, 100);
	cr_assert_not_null(d);
	cr_assert_eq(d->s[0]->n, 10);
	cr_assert_eq(d->s[0]->tid, 7);
	cr_assert_eq(memcmp(d->s[0]->p, s->p, 10 * sizeof(*s->p)), 0);
	np_timeline_free(d);
	np_timeline_free(tl);
}

Test(series, downsampling_bounds_points_and_keeps_spikes)
{
	struct np_timeline *tl = np_timeline_new(0, 60 * S), *d;
	struct np_series *ev = np_timeline_series(tl, "Syscall latency", "calls", "ns",
						  NP_SERIES_EVENTS, 0);
	struct np_series *g = np_timeline_series(tl, "Queue", "depth", "packets", NP_SERIES_GAUGE,
						 0);
	uint64_t x = 1;

	for (uint64_t i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ull + 1;
		np_series_add(ev, i * 300000, 1000, (double)(1000 + (x >> 40) % 5000), 0);
		np_series_add(g, i * 300000, 0, (double)((x >> 33) % 100), 0);
	}
	ev->p[123456].v = 9e9; /* the one slow call */
	g->p[777].v = 1e6;     /* a spike */
	g->p[778].v = -5;      /* and a dip */
	d = np_timeline_downsample(tl, 2000, 5000);
	cr_assert_not_null(d);
	cr_assert_leq(d->s[0]->n, 1000);
	cr_assert_leq(d->s[1]->n, 2000);
	cr_assert_eq(d->s[0]->n_total, 200000);
	bool slow = false, spike = false, dip = false;

	for (size_t i = 0; i < d->s[0]->n; i++)
		slow |= d->s[0]->p[i].v == 9e9;
	for (size_t i = 0; i < d->s[1]->n; i++) {
		spike |= d->s[1]->p[i].v == 1e6;
		dip |= d->s[1]->p[i].v == -5;
	}
	cr_assert(slow && spike && dip);
	np_timeline_free(d);
	np_timeline_free(tl);
}

Test(series, findings_windows_keep_every_point)
{
	struct np_timeline *tl = np_timeline_new(0, 60 * S), *d;
	struct np_series *ev = np_timeline_series(tl, "t", "calls", "ns", NP_SERIES_EVENTS, 0);
	struct np_span keep = {.start_ns = 30 * S, .end_ns = 31 * S};
	size_t inside = 0, kept = 0;

	for (uint64_t i = 0; i < 60000; i++)
		np_series_add(ev, i * 1000000, 100, 1.0, 0);
	cr_assert_eq(np_timeline_keep(tl, &keep, "stack.qdisc"), 0);
	for (size_t i = 0; i < ev->n; i++)
		inside += ev->p[i].ts_ns >= keep.start_ns && ev->p[i].ts_ns < keep.end_ns;
	d = np_timeline_downsample(tl, 200, 100000);
	for (size_t i = 0; i < d->s[0]->n; i++)
		kept += d->s[0]->p[i].ts_ns >= keep.start_ns && d->s[0]->p[i].ts_ns < keep.end_ns;
	cr_assert_eq(kept, inside);
	cr_assert_lt(d->s[0]->n, inside + 200);
	cr_assert_eq(d->n_keep, 1);
	cr_assert_str_eq(d->keep_label[0], "stack.qdisc");
	np_timeline_free(d);
	/* the cap bounds even the kept points */
	d = np_timeline_downsample(tl, 200, 10);
	cr_assert_leq(d->s[0]->n, 10 + 200);
	np_timeline_free(d);
	np_timeline_free(tl);
}
