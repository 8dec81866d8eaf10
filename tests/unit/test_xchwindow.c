/* test_xchwindow.c - the exchange source's window deltas
 * (profiler/sources/xchwindow.h): per-CPU values summed as differences
 * from the last read, maxima kept, histograms and wrapped counters, and
 * which windows are quiet. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/sources/xchwindow.h"

/* libbpf's per-CPU stride: the value rounded up to 8 bytes, here padded
 * further so a wrong stride reads the wrong CPU. */
#define STRIDE (sizeof(struct np_xch_stats) + 24)

static struct np_xch_stats *at(void *base, int cpu)
{
	return (struct np_xch_stats *)((char *)base + (size_t)cpu * STRIDE);
}

Test(xchwindow, deltas_of_every_cpu_add_up_and_maxima_are_kept)
{
	enum { NCPU = 3 };
	void *prev = calloc(NCPU, STRIDE), *cur = calloc(NCPU, STRIDE);
	struct np_xch_stats d;

	memset(&d, 0, sizeof(d));
	for (int c = 0; c < NCPU; c++) {
		at(prev, c)->served = 100 * (c + 1);
		at(cur, c)->served = 100 * (c + 1) + 10 + c; /* 10, 11, 12 */
		at(prev, c)->total_ns = 5000;
		at(cur, c)->total_ns = 5000 + 1000 * (c + 1);
		at(prev, c)->max_total_ns = 900000; /* an old maximum */
		at(cur, c)->max_total_ns = 40 + c;
		at(prev, c)->hist[0][3] = 7;
		at(cur, c)->hist[0][3] = 9;
		/* the padding between values is never read */
		memset((char *)at(cur, c) + sizeof(struct np_xch_stats), 0xff, 24);
	}
	np_xch_window_add(&d, cur, prev, NCPU, STRIDE);
	cr_assert_eq(d.served, 33);
	cr_assert_eq(d.total_ns, 6000);
	cr_assert_eq(d.max_total_ns, 42, "the largest current value, not a difference");
	cr_assert_eq(d.hist[0][3], 6);
	cr_assert_eq(d.outbound, 0);
	cr_assert(np_xch_window_moved(&d));
	free(prev);
	free(cur);
}

/* The two slots (served, outbound) are added into the same window; a
 * maximum never goes down within it. */
Test(xchwindow, two_reads_into_one_window)
{
	struct np_xch_stats p0, c0, p1, c1, d;

	memset(&p0, 0, sizeof(p0));
	memset(&d, 0, sizeof(d));
	c0 = p0;
	c0.served = 4;
	c0.max_total_ns = 800;
	p1 = p0;
	c1 = p0;
	c1.outbound = 2;
	c1.max_outbound_ns = 300;
	c1.max_total_ns = 100;
	np_xch_window_add(&d, &c0, &p0, 1, sizeof(c0));
	np_xch_window_add(&d, &c1, &p1, 1, sizeof(c1));
	cr_assert_eq(d.served, 4);
	cr_assert_eq(d.outbound, 2);
	cr_assert_eq(d.max_total_ns, 800);
	cr_assert_eq(d.max_outbound_ns, 300);
}

Test(xchwindow, counters_that_wrapped_give_their_delta)
{
	struct np_xch_stats p, c, d;

	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	c = p;
	p.bytes_in = UINT64_MAX - 9;
	c.bytes_in = 5;
	p.hist[1][0] = UINT32_MAX;
	c.hist[1][0] = 1;
	np_xch_window_add(&d, &c, &p, 1, sizeof(c));
	cr_assert_eq(d.bytes_in, 15);
	cr_assert_eq(d.hist[1][0], 2);
}

/* Quiet: nothing moved, or only the maxima (which are current values). */
Test(xchwindow, a_window_where_only_maxima_are_set_is_quiet)
{
	struct np_xch_stats d;

	memset(&d, 0, sizeof(d));
	cr_assert_not(np_xch_window_moved(&d));
	d.max_total_ns = 5;
	d.max_outbound_ns = 7;
	cr_assert_not(np_xch_window_moved(&d));
	d.qdisc_ns = 1; /* the last counter before the histograms */
	cr_assert(np_xch_window_moved(&d));
	d.qdisc_ns = 0;
	d.served = 1; /* the first */
	cr_assert(np_xch_window_moved(&d));
}

/* nagle_held, appended after the histograms, is a counter like the rest. */
Test(xchwindow, the_appended_nagle_counter_is_a_delta_and_moves_the_window)
{
	struct np_xch_stats prev, cur, d;

	memset(&prev, 0, sizeof(prev));
	memset(&d, 0, sizeof(d));
	prev.nagle_held = 40;
	cur = prev;
	cur.nagle_held = 45;
	np_xch_window_add(&d, &cur, &prev, 1, sizeof(cur));
	cr_assert_eq(d.nagle_held, 5);
	cr_assert(np_xch_window_moved(&d));
}
