/* test_xchloss.c - requests hit by loss (report/model/xch_loss.c): which
 * exchanges a retransmit or a drop on their connection hit, how many
 * requests they stand for, their median against the others', and the drop
 * reasons that hit the most. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "report/model/xch_loss.h"

#define MS 1000000ull

static struct np_xch_event xev(uint64_t cookie, uint64_t start, uint64_t total, uint32_t retrans,
			       uint8_t flags)
{
	struct np_xch_event e;

	memset(&e, 0, sizeof(e));
	e.cookie = cookie;
	e.start_ns = start;
	e.total_ns = total;
	e.retrans = retrans;
	e.flags = flags;
	return e;
}

static struct np_net_event drop(uint64_t cookie, uint64_t ts, uint32_t reason)
{
	struct np_net_event d;

	memset(&d, 0, sizeof(d));
	d.kind = NP_NET_DROP;
	d.cookie = cookie;
	d.ts_ns = ts;
	d.reason = reason;
	return d;
}

static void name(void *ctx, uint32_t reason, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "R%u", reason);
}

/* 1 in 10 sampled: 8 fast sampled exchanges stand for 80 requests, two
 * slow ones for themselves; one slow one was hit by a retransmit, one
 * sampled fast one by a drop on its connection inside its span. */
Test(xch_loss, weights_sampled_and_slow_exchanges)
{
	struct np_xch_event ev[10];
	struct np_net_event net[3];
	struct np_xch_loss l;

	for (int i = 0; i < 8; i++)
		ev[i] = xev(100 + i, 1000 * MS + i * 10 * MS, 1 * MS, 0, NP_XEV_SAMPLED);
	ev[8] = xev(200, 1200 * MS, 210 * MS, 2, NP_XEV_SLOW);
	ev[9] = xev(201, 1300 * MS, 5 * MS, 0, NP_XEV_SLOW);
	/* on connection 103 within [1030, 1031] ms; one on 104 before its
	 * exchange and one on an unknown connection do not count */
	net[0] = drop(103, 1030 * MS + 500000, 7);
	net[1] = drop(104, 1039 * MS, 9);
	net[2] = drop(999, 1030 * MS, 9);
	cr_assert_eq(np_xch_loss_build(ev, 10, net, 3, 10, name, NULL, &l), 0);
	cr_assert(l.known);
	cr_assert_eq(l.requests, 82);
	cr_assert_eq(l.hit_events, 2);
	cr_assert_eq(l.hit_requests, 11, "%llu", (unsigned long long)l.hit_requests);
	cr_assert_eq(l.retrans_events, 1);
	cr_assert_eq(l.drop_events, 1);
	cr_assert_float_eq(np_xch_loss_share(&l), 11.0 / 82.0, 1e-12);
	/* hit: 1 ms x 10, 210 ms x 1: median 1 ms; others 1 ms x 70, 5 ms */
	cr_assert_eq(l.hit_p50_ns, 1 * MS);
	cr_assert_eq(l.others_p50_ns, 1 * MS);
	cr_assert_eq(l.n_reasons, 1);
	cr_assert_str_eq(l.reasons[0].name, "R7");
	cr_assert_eq(l.reasons[0].requests, 10);
}

/* Without the sampler only slow exchanges were recorded: the hit ones are
 * counted, the share is unknown. */
Test(xch_loss, unknown_without_the_sampler)
{
	struct np_xch_event ev[2] = {xev(1, 0, 300 * MS, 1, NP_XEV_SLOW),
				     xev(2, 0, 2 * MS, 0, NP_XEV_SLOW)};
	struct np_xch_loss l;

	cr_assert_eq(np_xch_loss_build(ev, 2, NULL, 0, 0, name, NULL, &l), 0);
	cr_assert_not(l.known);
	cr_assert_eq(l.hit_events, 1);
	cr_assert_eq(l.hit_p50_ns, 300 * MS);
	cr_assert_float_eq(np_xch_loss_share(&l), 0, 1e-12);
}

/* Outbound exchanges are not the service's requests; a reason counts once
 * per request however many drops of it hit; the reasons come most first. */
Test(xch_loss, reasons_once_per_request_most_first)
{
	struct np_xch_event ev[3] = {xev(1, 0, 100 * MS, 0, NP_XEV_SLOW),
				     xev(2, 0, 100 * MS, 0, NP_XEV_SLOW),
				     xev(3, 0, 100 * MS, 5, NP_XEV_SLOW | NP_XEV_OUTBOUND)};
	struct np_net_event net[6] = {drop(1, 10 * MS, 4), drop(1, 11 * MS, 4), drop(1, 12 * MS, 4),
				      drop(1, 13 * MS, 5), drop(2, 50 * MS, 5), drop(3, 1 * MS, 6)};
	struct np_xch_loss l;

	cr_assert_eq(np_xch_loss_build(ev, 3, net, 6, 64, name, NULL, &l), 0);
	cr_assert_eq(l.requests, 2);
	cr_assert_eq(l.hit_requests, 2);
	cr_assert_eq(l.n_reasons, 2);
	cr_assert_str_eq(l.reasons[0].name, "R5");
	cr_assert_eq(l.reasons[0].requests, 2);
	cr_assert_str_eq(l.reasons[1].name, "R4");
	cr_assert_eq(l.reasons[1].requests, 1);
	cr_assert_eq(l.others_p50_ns, 0, "no request escaped");
}
