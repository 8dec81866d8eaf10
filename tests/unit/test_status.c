/* test_status.c - the text of the live status line (profiler/cli/status.c):
 * what it shows, how it rounds, and that it never overruns its buffer.
 * Drawing it on a terminal is tested for real in
 * tests/integration/test_status.py. */
#include <criterion/criterion.h>
#include <string.h>

#include "profiler/cli/status.h"

#define MS 1000000ull
#define S (1000 * MS)

Test(status, shows_elapsed_total_events_lost_and_cpu)
{
	struct np_status st = {.elapsed_ns = 3 * S,
			       .total_ns = 10 * S,
			       .events = 1234,
			       .lost = 5,
			       .cpu_share = 0.0084};
	char buf[160];

	np_status_format(&st, buf, sizeof(buf));
	cr_assert_str_eq(buf, "netprof: 3/10 s  1234 events  5 lost  cpu 0.8%");
}

Test(status, elapsed_counts_whole_seconds_and_total_keeps_its_fraction)
{
	struct np_status st = {.elapsed_ns = 1999 * MS, .total_ns = 2500 * MS, .cpu_share = 0};
	char buf[160];

	np_status_format(&st, buf, sizeof(buf));
	cr_assert_str_eq(buf, "netprof: 1/2.5 s  0 events  0 lost  cpu 0.0%");
}

Test(status, unknown_cpu_is_a_dash)
{
	struct np_status st = {.elapsed_ns = 0, .total_ns = 10 * S, .cpu_share = -1};
	char buf[160];

	np_status_format(&st, buf, sizeof(buf));
	cr_assert_str_eq(buf, "netprof: 0/10 s  0 events  0 lost  cpu -");
}

Test(status, elapsed_stops_at_the_total)
{
	/* The loop may wake a little after the deadline: "11/10 s" would look
	 * like a bug to the user. */
	struct np_status st = {.elapsed_ns = 10 * S + 40 * MS,
			       .total_ns = 10 * S,
			       .cpu_share = 0.5};
	char buf[160];

	np_status_format(&st, buf, sizeof(buf));
	cr_assert_str_eq(buf, "netprof: 10/10 s  0 events  0 lost  cpu 50.0%");
}

Test(status, more_than_one_cpu_shows_above_100_percent)
{
	struct np_status st = {.elapsed_ns = 5 * S, .total_ns = 10 * S, .cpu_share = 1.5};
	char buf[160];

	np_status_format(&st, buf, sizeof(buf));
	cr_assert(strstr(buf, "cpu 150.0%"), "%s", buf);
}

Test(status, stays_short_with_the_largest_counts)
{
	struct np_status st = {.elapsed_ns = 86400 * S,
			       .total_ns = 86400 * S,
			       .events = UINT64_MAX,
			       .lost = UINT64_MAX,
			       .cpu_share = 2.0};
	char buf[160];
	int n = np_status_format(&st, buf, sizeof(buf));

	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert_lt(n, 120, "%s", buf);
	cr_assert_null(strchr(buf, '\n'));
	cr_assert_null(strchr(buf, '\r'));
}

Test(status, truncates_to_a_small_buffer)
{
	struct np_status st = {.elapsed_ns = 3 * S, .total_ns = 10 * S, .events = 1234};
	char buf[12];
	int n;

	memset(buf, 'x', sizeof(buf));
	n = np_status_format(&st, buf, sizeof(buf));
	cr_assert_gt(n, 11);
	cr_assert_str_eq(buf, "netprof: 3/");
}

Test(status, cpu_share_is_cpu_time_over_wall_time)
{
	cr_assert_float_eq(np_status_cpu_share(1 * S, 1 * S + 20 * MS, 1 * S), 0.02, 1e-12);
	cr_assert_float_eq(np_status_cpu_share(0, 3 * S, 2 * S), 1.5, 1e-12);
}

Test(status, cpu_share_is_unknown_without_an_interval_or_when_time_goes_back)
{
	cr_assert_lt(np_status_cpu_share(0, 5 * MS, 0), 0);
	cr_assert_lt(np_status_cpu_share(5 * MS, 4 * MS, 1 * S), 0);
}
