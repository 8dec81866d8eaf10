/* test_join.c - netprof report A B C: the join by 4-tuple, the clock
 * offsets (one host, and one recording shifted by hours), each hop's split
 * into network and callee, the waterfall, the verdict, and connections a
 * NAT rewrote, on the synthetic recordings of joinfix.h whose every time
 * is known. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/join/join.h"
#include "report/render/render.h"
#include "tests/unit/joinfix.h"
#include "tests/unit/testutil.h"

#define US 1000ll
#define N_REQ 100

static char dir[PATH_MAX];
static struct np_recording *recs[3];
static struct np_join j;

static void join_fixture(const struct joinfix *fx)
{
	static const char *const names[3] = {"client.nprof", "proxy.nprof", "upstream.nprof"};
	const char *paths[3];
	char path[3][PATH_MAX], err[256];

	t_mkdtemp(dir);
	cr_assert_eq(joinfix_write(dir, fx), 0);
	for (int i = 0; i < 3; i++) {
		t_pathf(path[i], "%s/%s", dir, names[i]);
		paths[i] = path[i];
		cr_assert_eq(np_recording_read(path[i], &recs[i], err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(np_join_compute((const struct np_recording *const *)recs, paths, 3, &j), 0);
}

static void done(void)
{
	np_join_fini(&j);
	for (int i = 0; i < 3; i++)
		np_recording_free(recs[i]);
	t_rmtree(dir);
}

static const struct np_join_hop *hop(size_t caller, size_t callee)
{
	for (size_t h = 0; h < j.n_hops; h++)
		if (j.hops[h].caller == caller && j.hops[h].callee == callee)
			return &j.hops[h];
	cr_assert_fail("no hop %zu -> %zu", caller, callee);
	return NULL;
}

static uint64_t llabs_diff(int64_t a, int64_t b)
{
	return (uint64_t)(a > b ? a - b : b - a);
}

Test(join, joins_connections_by_four_tuple_and_pairs_every_exchange, .fini = done)
{
	join_fixture(&(struct joinfix){.requests = N_REQ});
	cr_assert_eq(j.n_hops, 2);
	cr_assert_eq(hop(0, 1)->exchanges, N_REQ);
	cr_assert_eq(hop(1, 2)->exchanges, N_REQ);
	cr_assert_eq(hop(0, 1)->connections, 1);
	cr_assert_eq(hop(1, 2)->inconsistent + hop(1, 2)->unpaired, 0);
	cr_assert_eq(j.unjoined_connections, 0);
	cr_assert_eq(j.nat_note[0], '\0');
	cr_assert(!j.sampled);
}

Test(join, clock_offsets_of_one_host_are_zero, .fini = done)
{
	join_fixture(&(struct joinfix){.requests = N_REQ});
	cr_assert(j.rec[1].offset_known && j.rec[2].offset_known);
	cr_assert_leq(llabs_diff(j.rec[1].offset_ns, 0), 100 * US, "%lld",
		      (long long)j.rec[1].offset_ns);
	cr_assert_leq(llabs_diff(j.rec[2].offset_ns, 0), 100 * US, "%lld",
		      (long long)j.rec[2].offset_ns);
	/* the uncertainty is the tightest pairs' half round trip, not the shaper's */
	cr_assert_leq(j.rec[2].uncertainty_ns, 200 * US);
}

Test(join, recovers_a_clock_shifted_by_hours, .fini = done)
{
	const int64_t shift = 3 * 3600 * 1000000000ll + 123456789;

	join_fixture(&(struct joinfix){.requests = N_REQ, .shift_ns = shift});
	cr_assert(j.rec[2].offset_known);
	cr_assert_leq(llabs_diff(j.rec[2].offset_ns, shift), 100 * US, "%lld vs %lld",
		      (long long)j.rec[2].offset_ns, (long long)shift);
	cr_assert_leq(llabs_diff(j.rec[1].offset_ns, 0), 100 * US);
	/* the split needs no offset: the same as unshifted */
	cr_assert_eq(hop(1, 2)->exchanges, N_REQ);
}

Test(join, splits_the_callers_peer_time_per_hop, .fini = done)
{
	uint64_t want = 0;

	join_fixture(&(struct joinfix){.requests = N_REQ});
	for (unsigned i = 0; i < N_REQ; i++)
		want += joinfix_upstream_network_ns(i);
	/* proxy -> upstream: the shaper's wait is that hop's network, exactly */
	cr_assert_eq(hop(1, 2)->network_ns, want);
	cr_assert_eq(hop(1, 2)->callee_queued_ns, N_REQ * 10 * US);
	cr_assert_eq(hop(1, 2)->callee_app_ns, N_REQ * 1000 * US);
	cr_assert_geq(hop(1, 2)->network_p50_ns, JOINFIX_RESPONSE_NS + 40 * US);
	cr_assert_leq(hop(1, 2)->network_p50_ns, JOINFIX_RESPONSE_NS + 50 * US);
	/* client -> proxy: 50 us each way; the proxy's call is its peer time */
	cr_assert_eq(hop(0, 1)->network_ns, N_REQ * 100 * US);
	cr_assert_eq(hop(0, 1)->callee_queued_ns, N_REQ * 20 * US);
	cr_assert_eq(hop(0, 1)->callee_app_ns, N_REQ * (105 + 30) * US);
	cr_assert_eq(hop(0, 1)->callee_peer_ns, hop(1, 2)->peer_ns);
	cr_assert_eq(hop(0, 1)->peer_ns, hop(0, 1)->network_ns + hop(0, 1)->callee_ns);
	cr_assert_lt(hop(0, 1)->network_share, 0.02);
}

Test(join, waterfall_follows_the_slowest_requests_down_the_hops, .fini = done)
{
	const struct np_join_waterfall *w;

	join_fixture(&(struct joinfix){.requests = N_REQ});
	cr_assert_eq(j.roots, N_REQ);
	cr_assert_eq(j.n_slowest, NP_JOIN_SLOWEST);
	w = &j.slowest[0];
	cr_assert_eq(w->n, 2);
	cr_assert_eq(w->steps[0].start_ns, 0);
	/* the proxy called 50 + 20 + 105 us after the client's request */
	cr_assert_eq(w->steps[1].start_ns, 175 * US);
	cr_assert_str_eq(w->steps[0].label, "GET /big");
	for (size_t i = 1; i < j.n_slowest; i++)
		cr_assert_geq(j.slowest[i - 1].total_ns, j.slowest[i].total_ns);
}

Test(join, verdict_names_the_hop_and_the_layer, .fini = done)
{
	join_fixture(&(struct joinfix){.requests = N_REQ});
	cr_assert_eq(j.parts[0].layer, NP_JL_NETWORK);
	cr_assert(strstr(j.verdict, "network between nginx and npserver"), "%s", j.verdict);
	np_join_fini(&j);
	for (int i = 0; i < 3; i++)
		np_recording_free(recs[i]);
	t_rmtree(dir);

	join_fixture(&(struct joinfix){.requests = N_REQ, .upstream_app_ns = 50000 * US});
	cr_assert_eq(j.parts[0].layer, NP_JL_APP);
	cr_assert(strstr(j.verdict, "upstream npserver: app"), "%s", j.verdict);
	cr_assert(strstr(j.verdict, "; network between nginx and npserver"), "%s", j.verdict);
}

/* Each recording's own verdict names the cause of a callee's layer when
 * the two agree, and stands beside it when they do not. */
Test(join, verdict_names_the_callees_own_cause, .fini = done)
{
	const char *fits[3] = {NULL, NULL, "app.cpu"};
	const char *other[3] = {NULL, NULL, "stack.qdisc"};
	char *s;

	join_fixture(&(struct joinfix){.requests = N_REQ, .upstream_app_ns = 50000 * US});
	cr_assert_eq(j.parts[0].layer, NP_JL_APP);
	np_join_set_causes(&j, fits);
	cr_assert(strstr(j.verdict, "upstream npserver: app.cpu, "), "%s", j.verdict);
	cr_assert(strstr(j.verdict, "; network between nginx and npserver"), "%s", j.verdict);
	s = np_join_json_string(&j, false);
	cr_assert(strstr(s, "\"cause\":\"app.cpu\""), "%s", s);
	cr_assert(strstr(s, "\"cause\":null"), "%s", s);
	free(s);

	np_join_set_causes(&j, other);
	cr_assert(strstr(j.verdict, "upstream npserver: app (its own report: stack.qdisc)"), "%s",
		  j.verdict);

	np_join_set_causes(&j, NULL);
	cr_assert(strstr(j.verdict, "upstream npserver: app, "), "%s", j.verdict);
}

Test(join, lists_connections_a_nat_rewrote, .fini = done)
{
	join_fixture(&(struct joinfix){.requests = N_REQ, .nat = true});
	cr_assert_eq(j.n_hops, 1);
	cr_assert_eq(j.unjoined_connections, 2);
	cr_assert_eq(j.n_unjoined, 2);
	cr_assert(strstr(j.nat_note, "10.0.9.9:8080"), "%s", j.nat_note);
	cr_assert(strstr(j.nat_note, "10.0.2.2:8080"), "%s", j.nat_note);
	/* the hop that did join is whole, and its callee's calls stay its own */
	cr_assert_eq(hop(0, 1)->exchanges, N_REQ);
	cr_assert_eq(j.slowest[0].n, 1);
}

Test(join, aligns_a_connection_whose_first_events_one_side_lacks, .fini = done)
{
	join_fixture(&(struct joinfix){.requests = N_REQ, .upstream_missing = 3});
	cr_assert_eq(hop(1, 2)->exchanges, N_REQ - 3);
	cr_assert_eq(hop(1, 2)->unpaired, 3);
	cr_assert_eq(hop(1, 2)->inconsistent, 0);
}

Test(join, json_and_text_carry_the_offsets_and_verdict, .fini = done)
{
	char *s;
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	join_fixture(&(struct joinfix){.requests = N_REQ});
	s = np_join_json_string(&j, false);
	cr_assert(s);
	cr_assert(strstr(s, "\"kind\":\"join\""), "%s", s);
	cr_assert(strstr(s, "\"verdict\":\"network between nginx and npserver"));
	free(s);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_join_text(&j, f), 0);
	fclose(f);
	cr_assert(strstr(buf, "verdict: network between nginx and npserver"), "%s", buf);
	cr_assert(strstr(buf, "nginx -> npserver"));
	free(buf);
}

Test(join, refuses_fewer_than_two_recordings)
{
	struct np_join x;

	cr_assert_eq(np_join_compute(NULL, NULL, 1, &x), -EINVAL);
	np_join_fini(&x);
}
