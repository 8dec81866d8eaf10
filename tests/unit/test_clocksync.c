/* test_clocksync.c - the clock offset of two recordings from paired
 * request/response events (report/model/clocksync.h): one clock, a clock
 * hours apart, asymmetric delays, a wrongly joined pair, invalid pairs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/model/clocksync.h"

#define US 1000ll
#define MS (1000 * US)
#define HOUR (3600ll * 1000 * MS)

/* A request sent at `t1` on A, `fwd` ns on the way, `serve` ns at B,
 * `back` ns back; B's clock is A's + offset. */
static struct np_clock_pair pair(int64_t t1, int64_t fwd, int64_t serve, int64_t back,
				 int64_t offset)
{
	struct np_clock_pair p = {.t1 = t1};

	p.t2 = t1 + fwd + offset;
	p.t3 = p.t2 + serve;
	p.t4 = t1 + fwd + serve + back;
	return p;
}

/* Deterministic delays from 40 us to 40 us + spread. */
static int64_t delay(unsigned *seed, int64_t spread)
{
	*seed = *seed * 1103515245u + 12345u;
	return 40 * US + (int64_t)((*seed >> 8) % (uint64_t)spread);
}

static void run(int64_t offset, struct np_clock_offset *out)
{
	struct np_clock_pair p[200];
	unsigned seed = 7;

	for (int i = 0; i < 200; i++)
		p[i] = pair(1000 * MS + i * 5 * MS, delay(&seed, 2 * MS), 300 * US + i * US,
			    delay(&seed, 2 * MS), offset);
	cr_assert_eq(np_clock_offset_estimate(p, 200, out), 0);
}

Test(clocksync, one_clock_is_within_100us_of_zero)
{
	struct np_clock_offset o;

	run(0, &o);
	cr_assert(o.known);
	cr_assert(llabs(o.offset_ns) <= 100 * US, "offset %lld", (long long)o.offset_ns);
	cr_assert(o.lo_ns <= 0 && 0 <= o.hi_ns);
	cr_assert_eq(o.used, 200);
	cr_assert_eq(o.rejected, 0);
	cr_assert(o.uncertainty_ns <= 100 * US);
	cr_assert_geq(o.min_rtt_ns, 80 * US);
}

Test(clocksync, a_clock_hours_apart_is_recovered_within_100us)
{
	const int64_t shifts[] = {3 * HOUR + 1234567, -5 * HOUR - 89, 12345};

	for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
		struct np_clock_offset o;

		run(shifts[k], &o);
		cr_assert(llabs(o.offset_ns - shifts[k]) <= 100 * US, "shift %lld: got %lld",
			  (long long)shifts[k], (long long)o.offset_ns);
		/* the truth is always inside the stated bounds */
		cr_assert(o.lo_ns <= shifts[k] && shifts[k] <= o.hi_ns);
	}
}

Test(clocksync, asymmetric_delays_stay_inside_the_bounds)
{
	struct np_clock_pair p[50];
	struct np_clock_offset o;
	const int64_t off = 2 * HOUR;

	/* every request 1 ms out, every response 50 us back: NTP's midpoint is
	 * off by the asymmetry, but the bounds still hold the truth */
	for (int i = 0; i < 50; i++)
		p[i] = pair(i * MS, 1 * MS, 100 * US, 50 * US, off);
	cr_assert_eq(np_clock_offset_estimate(p, 50, &o), 0);
	cr_assert(o.lo_ns <= off && off <= o.hi_ns);
	cr_assert(llabs(o.offset_ns - off) <= (int64_t)o.uncertainty_ns);
	cr_assert_eq(o.uncertainty_ns, (1 * MS + 50 * US) / 2);
}

Test(clocksync, a_wrongly_joined_pair_is_rejected)
{
	struct np_clock_pair p[21];
	struct np_clock_offset o;
	unsigned seed = 3;

	for (int i = 0; i < 20; i++)
		p[i] = pair(i * MS, delay(&seed, 200 * US), 50 * US, delay(&seed, 200 * US), HOUR);
	/* a connection behind NAT matched to the wrong one: 40 ms off */
	p[20] = pair(25 * MS, 100 * US, 50 * US, 100 * US, HOUR + 40 * MS);
	cr_assert_eq(np_clock_offset_estimate(p, 21, &o), 0);
	cr_assert_eq(o.used, 20);
	cr_assert_eq(o.rejected, 1);
	cr_assert(llabs(o.offset_ns - HOUR) <= 100 * US);
}

Test(clocksync, invalid_pairs_are_counted_and_none_valid_is_enoent)
{
	struct np_clock_pair p[3] = {
		{.t1 = 100, .t2 = 50, .t3 = 40, .t4 = 200},  /* B's clock runs back */
		{.t1 = 100, .t2 = 50, .t3 = 60, .t4 = 90},   /* A's clock runs back */
		{.t1 = 100, .t2 = 50, .t3 = 500, .t4 = 110}, /* B took longer than A waited */
	};
	struct np_clock_offset o;

	cr_assert_eq(np_clock_offset_estimate(p, 3, &o), -ENOENT);
	cr_assert(!o.known);
	cr_assert_eq(o.invalid, 3);
	cr_assert_eq(np_clock_offset_estimate(NULL, 0, &o), -ENOENT);
}

Test(clocksync, one_pair_gives_its_own_bounds)
{
	struct np_clock_pair p = {.t1 = 1000, .t2 = 5000, .t3 = 5100, .t4 = 1300};
	struct np_clock_offset o;

	/* offset in [5100 - 1300, 5000 - 1000] = [3800, 4000] */
	cr_assert_eq(np_clock_offset_estimate(&p, 1, &o), 0);
	cr_assert_eq(o.lo_ns, 3800);
	cr_assert_eq(o.hi_ns, 4000);
	cr_assert_eq(o.offset_ns, 3900);
	cr_assert_eq(o.uncertainty_ns, 100);
	cr_assert_eq(o.min_rtt_ns, 200);
}
