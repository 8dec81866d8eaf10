/* test_diff.c - netprof diff: the statistics (bootstrap determinism and
 * coverage, Mann-Whitney U against hand-computed values, Holm), the change
 * classification, configuration changes paired with the figures they act
 * on, the diff of golden recordings, and its HTML page (hostile strings
 * escaped, the flame graph coloured by change). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bpf/exchange.h"
#include "profiler/format/recording.h"
#include "report/attribution/findings.h"
#include "report/diff/stats.h"
#include "report/render/htmlout.h"
#include "report/report.h"
#include "testutil.h"

/* ---- bootstrap ------------------------------------------------------------ */

static double normal(struct np_rng *r)
{
	double u1 = ((double)(np_rng_next(r) >> 11) + 1) / 9007199254740993.0;
	double u2 = (double)(np_rng_next(r) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

Test(bootstrap, same_seed_same_answer_other_seed_other_draws)
{
	double x[] = {3, 5, 4, 6, 2, 5, 4}, y[] = {5, 7, 6, 8, 6, 7};
	struct np_boot a, b, c;

	cr_assert_eq(np_bootstrap_mean_diff(x, 7, y, 6, 999, 0.95, 42, &a), 0);
	cr_assert_eq(np_bootstrap_mean_diff(x, 7, y, 6, 999, 0.95, 42, &b), 0);
	cr_assert_eq(np_bootstrap_mean_diff(x, 7, y, 6, 999, 0.95, 43, &c), 0);
	cr_assert(memcmp(&a, &b, sizeof(a)) == 0, "bit-identical with the same seed");
	cr_assert_float_eq(a.diff, 39.0 / 6 - 29.0 / 7, 1e-12);
	cr_assert(a.lo <= a.diff && a.diff <= a.hi);
	cr_assert(a.lo > 0, "a clear shift: the interval excludes 0 (%g..%g)", a.lo, a.hi);
	cr_assert_eq(c.diff, a.diff, "the point estimate does not depend on the seed");
	cr_assert(c.lo != a.lo || c.hi != a.hi || c.p != a.p, "another seed draws differently");
}

Test(bootstrap, equal_constants_are_no_change)
{
	double x[] = {7, 7, 7}, y[] = {7, 7, 7, 7};
	struct np_boot b;

	cr_assert_eq(np_bootstrap_mean_diff(x, 3, y, 4, 999, 0.95, 1, &b), 0);
	cr_assert_eq(b.lo, 0);
	cr_assert_eq(b.hi, 0);
	cr_assert_eq(b.p, 1);
}

Test(bootstrap, rejects_empty_samples)
{
	double x[] = {1};
	struct np_boot b;

	cr_assert_eq(np_bootstrap_mean_diff(x, 0, x, 1, 99, 0.95, 1, &b), -EINVAL);
	cr_assert_eq(np_bootstrap_mean_diff(x, 1, x, 1, 99, 1.0, 1, &b), -EINVAL);
}

Test(bootstrap, p_never_below_the_permutation_bound)
{
	double x[] = {1, 2}, y[] = {100, 101};
	struct np_boot b;

	cr_assert_float_eq(np_permutation_p_floor(2, 2), 1.0 / 3, 1e-12);
	cr_assert_float_eq(np_permutation_p_floor(5, 5), 2.0 / 252, 1e-12);
	cr_assert_float_eq(np_permutation_p_floor(3, 1), 0.5, 1e-12);
	cr_assert_eq(np_bootstrap_mean_diff(x, 2, y, 2, 999, 0.95, 1, &b), 0);
	cr_assert_float_eq(b.p, 1.0 / 3, 1e-12, "two windows a side prove nothing: p %g", b.p);
}

/* The 95% interval covers the true difference in about 95% of samples
 * (the percentile bootstrap undercovers a little at n = 30). */
Test(bootstrap, interval_covers_the_true_difference)
{
	struct np_rng r = {12345};
	int covered = 0, trials = 300, rejected = 0;

	for (int t = 0; t < trials; t++) {
		double x[30], y[30];
		struct np_boot b;

		for (int i = 0; i < 30; i++) {
			x[i] = 10 + 2 * normal(&r);
			y[i] = 11 + 2 * normal(&r); /* true difference 1 */
		}
		cr_assert_eq(np_bootstrap_mean_diff(x, 30, y, 30, 999, 0.95, (uint64_t)t, &b), 0);
		covered += b.lo <= 1 && 1 <= b.hi;
		for (int i = 0; i < 30; i++)
			y[i] -= 1; /* no difference: p < 0.05 about 5% of the time */
		cr_assert_eq(np_bootstrap_mean_diff(x, 30, y, 30, 999, 0.95, (uint64_t)t, &b), 0);
		rejected += b.p < 0.05;
	}
	cr_assert(covered >= trials * 0.89 && covered <= trials * 0.99, "covered %d of %d", covered,
		  trials);
	cr_assert(rejected <= trials * 0.11, "false rejections %d of %d", rejected, trials);
}

/* ---- Mann-Whitney U ------------------------------------------------------- */

Test(mann_whitney, separated_samples_by_hand)
{
	/* y's ranks 4+5+6 = 15, U = 15 - 3*4/2 = 9; mean 4.5, variance
	 * 3*3*7/12 = 5.25; z = (9 - 4.5 - 0.5) / sqrt(5.25) = 1.74574 */
	double x[] = {1, 2, 3}, y[] = {4, 5, 6};
	struct np_mwu m;

	cr_assert_eq(np_mann_whitney(x, 3, y, 3, &m), 0);
	cr_assert_float_eq(m.u, 9, 1e-12);
	cr_assert_float_eq(m.z, 4 / sqrt(5.25), 1e-9);
	cr_assert_float_eq(m.p, 0.0808556, 1e-6);
	cr_assert_float_eq(m.effect, 1, 1e-12);
	/* the other way round: the same p, z negative */
	cr_assert_eq(np_mann_whitney(y, 3, x, 3, &m), 0);
	cr_assert_float_eq(m.u, 0, 1e-12);
	cr_assert_float_eq(m.z, -4 / sqrt(5.25), 1e-9);
	cr_assert_float_eq(m.p, 0.0808556, 1e-6);
}

Test(mann_whitney, ties_by_hand)
{
	/* sorted 1x 2x 2x 2y 3x 3y 4y 5y: the 2s share rank 3, the 3s 5.5;
	 * y's ranks 3 + 5.5 + 7 + 8 = 23.5, U = 23.5 - 10 = 13.5; ties
	 * (27-3) + (8-2) = 30, variance 16/12 * (9 - 30/56) = 11.2857;
	 * z = (13.5 - 8 - 0.5) / sqrt(11.2857) = 1.48835 */
	double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 5};
	struct np_mwu m;

	cr_assert_eq(np_mann_whitney(x, 4, y, 4, &m), 0);
	cr_assert_float_eq(m.u, 13.5, 1e-12);
	cr_assert_float_eq(m.z, 5 / sqrt(16.0 / 12 * (9 - 30.0 / 56)), 1e-9);
	cr_assert_float_eq(m.p, 0.1366582, 1e-6);
}

Test(mann_whitney, identical_samples_are_no_change)
{
	double x[] = {5, 1, 9, 3, 3}, y[] = {3, 9, 1, 3, 5};
	double c[] = {4, 4, 4};
	struct np_mwu m;

	cr_assert_eq(np_mann_whitney(x, 5, y, 5, &m), 0);
	cr_assert_float_eq(m.u, 12.5, 1e-12);
	cr_assert_eq(m.p, 1);
	cr_assert_eq(np_mann_whitney(c, 3, c, 3, &m), 0); /* all tied: variance 0 */
	cr_assert_eq(m.p, 1);
	cr_assert_eq(np_mann_whitney(c, 0, c, 3, &m), -EINVAL);
}

/* An AR(1) series: each value rho of the last plus noise, like latencies
 * that share the host's state for a while. */
static void ar1(struct np_rng *r, double rho, double *v, size_t n)
{
	double level = 0;

	for (size_t i = 0; i < n; i++) {
		level = rho * level + normal(r);
		v[i] = level;
	}
}

Test(mann_whitney, batched_keeps_the_level_on_dependent_samples)
{
	enum { N = 2000, RUNS = 40 };
	static double x[N], y[N];
	int plain_rejects = 0, batched_rejects = 0;

	/* x and y from the same process: every rejection is a false one.
	 * rho 0.95 is a correlation time of ~40 values, a fifth of a batch;
	 * (at 0.995 it outgrows the batches and no estimate from one
	 * recording can tell: that is the host-speed yardstick's part) */
	for (int s = 0; s < RUNS; s++) {
		struct np_rng r = {1000 + (uint64_t)s};
		struct np_mwu a, b;

		ar1(&r, 0.95, x, N);
		ar1(&r, 0.95, y, N);
		cr_assert_eq(np_mann_whitney(x, N, y, N, &a), 0);
		cr_assert_eq(np_mann_whitney_batched(x, N, y, N, &b), 0);
		cr_assert(b.deff >= 1 && b.p >= a.p);
		plain_rejects += a.p < 0.05;
		batched_rejects += b.p < 0.05;
	}
	/* measured: 25 and 6 of 40 */
	cr_assert_geq(plain_rejects, RUNS / 2, "the plain test is fooled: %d", plain_rejects);
	cr_assert_leq(batched_rejects, RUNS / 5, "%d of %d", batched_rejects, RUNS);
}

Test(mann_whitney, batched_is_the_plain_test_on_independent_samples)
{
	enum { N = 1000 };
	static double x[N], y[N];
	struct np_rng r = {7};
	struct np_mwu a, b;

	for (size_t i = 0; i < N; i++) {
		x[i] = normal(&r);
		y[i] = normal(&r) + 0.2; /* a real shift */
	}
	cr_assert_eq(np_mann_whitney(x, N, y, N, &a), 0);
	cr_assert_eq(np_mann_whitney_batched(x, N, y, N, &b), 0);
	cr_assert_lt(b.deff, 3, "independent values: design effect %g", b.deff);
	cr_assert_lt(b.p, 0.01, "the shift is still found: p %g", b.p);
	cr_assert_lt(a.p, 1e-4);
}

Test(mann_whitney, batched_finds_sides_that_do_not_overlap)
{
	enum { NX = 150, NY = 2500 };
	static double x[NX], y[NY];
	struct np_rng r = {11};
	struct np_mwu b;

	/* a healthy 7 us against a 2 ms that builds up over the recording:
	 * every value of y is above every value of x, whatever y's trend */
	for (size_t i = 0; i < NX; i++)
		x[i] = 7000 + 1000 * normal(&r);
	for (size_t i = 0; i < NY; i++)
		y[i] = 1e6 + 2e6 * (double)i / NY + 1e4 * normal(&r);
	cr_assert_eq(np_mann_whitney_batched(x, NX, y, NY, &b), 0);
	cr_assert_float_eq(b.deff, 1, 1e-9, "design effect %g", b.deff);
	cr_assert_lt(b.p, 1e-30, "p %g", b.p);
}

/* ---- Holm ----------------------------------------------------------------- */

Test(holm, steps_down_and_stops_at_the_first_failure)
{
	/* sorted 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop */
	double p[] = {0.01, 0.04, 0.03, 0.005};
	bool rej[4];

	cr_assert_eq(np_holm(p, 4, 0.05, rej), 0);
	cr_assert(rej[0] && !rej[1] && !rej[2] && rej[3]);
}

/* ---- change classification ----------------------------------------------- */

Test(classify, findings)
{
	bool sig;

	cr_assert_eq(np_diff_classify_finding(0, NP_SEV_CRITICAL, &sig), NP_DC_APPEARED);
	cr_assert(sig);
	cr_assert_eq(np_diff_classify_finding(NP_SEV_WARNING, 0, &sig), NP_DC_GONE);
	cr_assert(sig);
	cr_assert_eq(np_diff_classify_finding(NP_SEV_INFO, 0, &sig), NP_DC_GONE);
	cr_assert(!sig, "an info finding coming and going is not a problem changing");
	cr_assert_eq(np_diff_classify_finding(0, NP_SEV_INFO, &sig), NP_DC_APPEARED);
	cr_assert(!sig);
	cr_assert_eq(np_diff_classify_finding(NP_SEV_INFO, NP_SEV_WARNING, &sig), NP_DC_SEVERITY);
	cr_assert(sig);
	cr_assert_eq(np_diff_classify_finding(NP_SEV_WARNING, NP_SEV_CRITICAL, &sig),
		     NP_DC_SEVERITY);
	cr_assert(sig);
	cr_assert_eq(np_diff_classify_finding(NP_SEV_CRITICAL, NP_SEV_CRITICAL, &sig), NP_DC_SAME);
	cr_assert(!sig);
}

Test(classify, effect_floor)
{
	cr_assert(np_diff_large_enough(100, 121, false));
	cr_assert(!np_diff_large_enough(100, 119, false));
	cr_assert(np_diff_large_enough(100, 79, false));
	cr_assert(np_diff_large_enough(0, 1, false), "from nothing to something");
	cr_assert(!np_diff_large_enough(0, 0, false));
	cr_assert(np_diff_large_enough(0.30, 0.36, true));
	cr_assert(!np_diff_large_enough(0.30, 0.34, true));
}

/* ---- golden recordings --------------------------------------------------- */

struct built {
	struct np_recording *rec;
	struct np_report r;
};

static void build(const char *name, struct built *b)
{
	char path[4096], err[256];

	t_pathf(path, "%s/recordings/%s.nprof", t_fixtures(), name);
	cr_assert_eq(np_recording_read(path, &b->rec, err, sizeof(err)), 0, "%s: %s", path, err);
	cr_assert_eq(np_report_build(b->rec, &b->r, NP_REPORT_MAX_SLOW), 0);
}

static void unbuild(struct built *b)
{
	np_report_fini(&b->r);
	np_recording_free(b->rec);
}

static const struct np_diff_change *find(const struct np_diff *d, enum np_diff_section s,
					 const char *metric, const char *where)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].section == s && !strcmp(d->c[i].metric, metric) &&
		    (!where || !strcmp(d->c[i].where, where)))
			return &d->c[i];
	return NULL;
}

Test(diff, same_recording_twice_changes_nothing)
{
	struct built a;
	struct np_diff d;

	build("healthy", &a);
	cr_assert_eq(np_diff_compute(&a.r, &a.r, &d), 0);
	cr_assert_eq(d.n, 0, "%zu changes, first %s", d.n, d.n ? d.c[0].metric : "");
	cr_assert_eq(d.n_significant, 0);
	cr_assert_str_eq(d.headline, "no significant change");
	cr_assert(!d.different_target && !d.different_host);
	np_diff_fini(&d);
	unbuild(&a);
}

Test(diff, qdisc_fault_appears_with_its_tx_time)
{
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	char *json;

	build("healthy", &a);
	build("stack_qdisc", &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find(&d, NP_DS_FINDING, "finding", "stack.qdisc");
	cr_assert(c && c->status == NP_DC_APPEARED && c->significant);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->method == NP_DM_RANK && c->significant && c->after > c->before);
	cr_assert(strstr(d.headline, "stack.qdisc appeared"), "%s", d.headline);
	/* the reverse diff: gone */
	np_diff_fini(&d);
	cr_assert_eq(np_diff_compute(&b.r, &a.r, &d), 0);
	c = find(&d, NP_DS_FINDING, "finding", "stack.qdisc");
	cr_assert(c && c->status == NP_DC_GONE && c->significant);
	json = np_diff_json_string(&d, false);
	cr_assert(json && strstr(json, "\"kind\":\"diff\""));
	free(json);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

Test(diff, deterministic_output)
{
	struct built a, b;
	struct np_diff d1, d2;
	char *j1, *j2;

	build("app_cpu", &a);
	build("healthy", &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d1), 0);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d2), 0);
	j1 = np_diff_json_string(&d1, true);
	j2 = np_diff_json_string(&d2, true);
	cr_assert_str_eq(j1, j2);
	cr_assert(find(&d1, NP_DS_FINDING, "finding", "app.cpu")->status == NP_DC_GONE);
	free(j1);
	free(j2);
	np_diff_fini(&d1);
	np_diff_fini(&d2);
	unbuild(&a);
	unbuild(&b);
}

Test(diff, finding_over_the_line_without_a_measured_move_is_not_counted)
{
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	const char *cause;

	build("healthy", &a);
	build("healthy", &b);
	cr_assert(b.r.an && b.r.an->n_findings > 0);
	/* the same recording, one finding's severity pushed over the line */
	cause = b.r.an->findings[0].cause;
	b.r.an->findings[0].severity = NP_SEV_CRITICAL;
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find(&d, NP_DS_FINDING, "finding", cause);
	cr_assert(c && c->status == NP_DC_SEVERITY);
	cr_assert(!c->significant && c->unbacked);
	cr_assert_eq(d.n_significant, 0);
	cr_assert_str_eq(d.headline, "no significant change");
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

/* ---- recordings written by hand ------------------------------------------ */

#define MS 1000000ull
#define T0 (1000 * MS)
#define T_END (T0 + 3000 * MS)

/* What a hand-written recording holds: served exchange events, threads,
 * processes and the thread-to-process map, drop locations. */
struct hand_rec {
	const struct np_xch_event *ev;
	size_t n_ev;
	const struct np_rec_thread *th;
	size_t n_th;
	const struct np_rec_process *procs;
	size_t n_procs;
	const struct np_rec_thread_pid *tp;
	size_t n_tp;
	uint32_t requests; /* served in one window over the whole recording */
	const struct np_rec_net_drop *drops;
	size_t n_drops;
};

/* The stack source's blocks: totals (it ran), two reasons' names, the
 * drops by place. */
static void write_drops(struct np_writer *w, const struct hand_rec *h)
{
	struct np_rec_net_totals t = {.ts_ns = T_END};
	struct np_rec_drop_reason names[2] = {{.reason = 2, .name = "NO_SOCKET"},
					      {.reason = 6, .name = "CPU_BACKLOG"}};

	cr_assert_eq(np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(t), &t, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASONS, sizeof(names[0]), names, 2), 0);
	if (h->n_drops)
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_DROPS, sizeof(h->drops[0]), h->drops,
					     (uint32_t)h->n_drops),
			     0);
}

static void write_hand(const char *path, const struct hand_rec *h)
{
	struct np_writer *w;
	struct np_rec_end end = {.ts_ns = T_END, .reason = NP_END_DURATION};
	struct np_rec_xch_config cfg = {.ts_ns = T0,
					.slow_ns = 10 * MS,
					.window_ns = 1000 * MS,
					.sample_every = 1,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE};

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", T0);
	np_writer_meta_u64(w, "pid", 42);
	np_writer_meta(w, "comm", "svc");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	if (h->n_procs)
		cr_assert_eq(np_writer_block(w, NP_BLK_PROCESSES, sizeof(h->procs[0]), h->procs,
					     (uint32_t)h->n_procs),
			     0);
	if (h->n_tp)
		cr_assert_eq(np_writer_block(w, NP_BLK_THREAD_PIDS, sizeof(h->tp[0]), h->tp,
					     (uint32_t)h->n_tp),
			     0);
	if (h->n_th)
		cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(h->th[0]), h->th,
					     (uint32_t)h->n_th),
			     0);
	if (h->n_ev || h->requests)
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	if (h->requests) {
		struct np_rec_xch_window win = {.ts_ns = T_END, .start_ns = T0};

		win.d.served = h->requests;
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win), &win, 1), 0);
	}
	if (h->drops)
		write_drops(w, h);
	if (h->n_ev)
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(h->ev[0]), h->ev,
					     (uint32_t)h->n_ev),
			     0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void build_hand(const char *dir, const char *name, const struct hand_rec *h, struct built *b)
{
	char path[PATH_MAX], err[256];

	t_pathf(path, "%s/%s.nprof", dir, name);
	write_hand(path, h);
	cr_assert_eq(np_recording_read(path, &b->rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(b->rec, &b->r, NP_REPORT_MAX_SLOW), 0);
}

#define N_EV 60

/* Served exchange i of N_EV: each component `base` plus a spread that does
 * not grow with i (neighbours independent, as the batched test wants). */
static struct np_xch_event hand_event(size_t i, const char *label, uint64_t queued, uint64_t app,
				      uint64_t tls)
{
	struct np_xch_event e;
	uint64_t jitter = (uint64_t)((i * 37) % N_EV) * 10000; /* 0..590 us */

	memset(&e, 0, sizeof(e));
	e.start_ns = T0 + (i + 1) * 40 * MS;
	e.queued_ns = queued + jitter;
	e.app_ns = app + jitter;
	e.tx_ns = 100000 + jitter;
	e.tls_ns = tls ? tls + jitter : 0;
	e.total_ns = e.queued_ns + e.app_ns + e.tx_ns + e.tls_ns;
	e.tid = 7;
	e.cookie = 1000 + i;
	e.flags = NP_XEV_SAMPLED | NP_XEV_ARRIVAL | NP_XEV_WIRE;
	if (tls)
		e.flags2 = NP_XEV2_TLS;
	if (label) {
		e.label_len = (uint8_t)strlen(label);
		memcpy(e.label, label, e.label_len);
		e.flags |= NP_XEV_LABEL;
	}
	return e;
}

static const struct np_diff_change *find_at(const struct np_diff *d, const char *metric,
					    const char *where)
{
	return find(d, NP_DS_EXCHANGE, metric, where);
}

/* TLS handshakes 4x longer after: their own rank test, on the events that
 * carried one; the other components did not move and have no row. */
Test(diff_tls, handshake_time_is_compared_when_both_have_tls)
{
	struct np_xch_event ea[N_EV], eb[N_EV];
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	char dir[PATH_MAX];

	for (size_t i = 0; i < N_EV; i++) {
		ea[i] = hand_event(i, NULL, 200000, 1 * MS, 2 * MS);
		eb[i] = hand_event(i, NULL, 200000, 1 * MS, 8 * MS);
	}
	t_mkdtemp(dir);
	build_hand(dir, "a", &(struct hand_rec){.ev = ea, .n_ev = N_EV}, &a);
	build_hand(dir, "b", &(struct hand_rec){.ev = eb, .n_ev = N_EV}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find_at(&d, "request_tls_recorded_median_ns", "");
	cr_assert(c, "a TLS row");
	cr_assert_eq(c->method, NP_DM_RANK);
	cr_assert(c->tested && c->significant, "p %g", c->p);
	cr_assert_eq(c->n_before, N_EV);
	cr_assert_float_eq(c->before, 2 * MS + 295000, 1, "%g", c->before);
	cr_assert_float_eq(c->after, 8 * MS + 295000, 1, "%g", c->after);
	c = find_at(&d, "request_tls_recorded_p99_ns", "");
	cr_assert(c && c->significant && c->after > c->before);
	cr_assert_null(find_at(&d, "request_app_p50_ns", ""), "app did not move");
	np_diff_fini(&d);
	/* only one side served TLS: nothing to compare it with */
	unbuild(&b);
	for (size_t i = 0; i < N_EV; i++)
		eb[i] = hand_event(i, NULL, 200000, 1 * MS, 0);
	build_hand(dir, "c", &(struct hand_rec){.ev = eb, .n_ev = N_EV}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert_null(find_at(&d, "request_tls_recorded_median_ns", ""));
	cr_assert_null(find_at(&d, "request_tls_recorded_p99_ns", ""));
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	t_rmtree(dir);
}

/* Per label: one label queued 5x longer after, the other unchanged.  The
 * moved label's total and queued time are tested and significant, its app
 * time (unchanged) has no row, and the other label has none at all. */
Test(diff_labels, each_component_per_label)
{
	struct np_xch_event ea[2 * N_EV], eb[2 * N_EV];
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	char dir[PATH_MAX];
	size_t tests_before;

	for (size_t i = 0; i < N_EV; i++) {
		ea[2 * i] = hand_event(i, "GET /slow", 1 * MS, 1 * MS, 0);
		eb[2 * i] = hand_event(i, "GET /slow", 5 * MS, 1 * MS, 0);
		ea[2 * i + 1] = hand_event(i, "GET /same", 1 * MS, 1 * MS, 0);
		eb[2 * i + 1] = hand_event(i, "GET /same", 1 * MS, 1 * MS, 0);
	}
	t_mkdtemp(dir);
	build_hand(dir, "a", &(struct hand_rec){.ev = ea, .n_ev = 2 * N_EV}, &a);
	build_hand(dir, "b", &(struct hand_rec){.ev = eb, .n_ev = 2 * N_EV}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find_at(&d, "queued_recorded_median_ns", "GET /slow");
	cr_assert(c, "queued time of the moved label");
	cr_assert(c->method == NP_DM_RANK && c->tested && c->significant, "p %g", c->p);
	cr_assert_eq(c->n_before, N_EV);
	cr_assert_float_eq(c->before, 1 * MS + 295000, 1, "%g", c->before);
	cr_assert_float_eq(c->after, 5 * MS + 295000, 1, "%g", c->after);
	c = find_at(&d, "recorded_median_ns", "GET /slow");
	cr_assert(c && c->significant, "its total too");
	cr_assert_null(find_at(&d, "app_recorded_median_ns", "GET /slow"), "app did not move");
	cr_assert_null(find_at(&d, "tx_recorded_median_ns", "GET /slow"));
	for (size_t i = 0; i < d.n; i++)
		cr_assert(strcmp(d.c[i].where, "GET /same"), "%s moved at GET /same",
			  d.c[i].metric);
	/* each component its own test in the one Holm family */
	cr_assert_neq(find_at(&d, "queued_recorded_median_ns", "GET /slow")->test_id,
		      find_at(&d, "recorded_median_ns", "GET /slow")->test_id);
	tests_before = d.n_tested;
	cr_assert_geq(tests_before, 2);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	/* a Redis command is a label too, named as the report names it */
	for (size_t i = 0; i < N_EV; i++) {
		bool get = i % 2 == 0;

		ea[i] = hand_event(i, get ? "GET" : "SET", 1 * MS, 1 * MS, 0);
		eb[i] = hand_event(i, get ? "GET" : "SET", 1 * MS, get ? 4 * MS : 1 * MS, 0);
		ea[i].proto = eb[i].proto = NP_PROTO_REDIS;
	}
	build_hand(dir, "r1", &(struct hand_rec){.ev = ea, .n_ev = N_EV}, &a);
	build_hand(dir, "r2", &(struct hand_rec){.ev = eb, .n_ev = N_EV}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find_at(&d, "app_recorded_median_ns", "redis GET");
	cr_assert(c && c->significant, "the Redis label's app time");
	cr_assert_null(find_at(&d, "app_recorded_median_ns", "redis SET"));
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	/* one label on both sides: its components are the overall ones, and
	 * only its total is compared per label */
	for (size_t i = 0; i < N_EV; i++) {
		ea[i] = hand_event(i, "GET /only", 1 * MS, 1 * MS, 0);
		eb[i] = hand_event(i, "GET /only", 5 * MS, 1 * MS, 0);
	}
	build_hand(dir, "o1", &(struct hand_rec){.ev = ea, .n_ev = N_EV}, &a);
	build_hand(dir, "o2", &(struct hand_rec){.ev = eb, .n_ev = N_EV}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(find_at(&d, "recorded_median_ns", "GET /only"));
	cr_assert_null(find_at(&d, "queued_recorded_median_ns", "GET /only"));
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	/* a label with fewer than NP_DIFF_MIN_EVENTS a side is not compared */
	for (size_t i = 0; i < NP_DIFF_MIN_EVENTS - 1; i++) {
		ea[i] = hand_event(i, "GET /rare", 1 * MS, 1 * MS, 0);
		eb[i] = hand_event(i, "GET /rare", 5 * MS, 1 * MS, 0);
	}
	build_hand(dir, "c", &(struct hand_rec){.ev = ea, .n_ev = NP_DIFF_MIN_EVENTS - 1}, &a);
	build_hand(dir, "d", &(struct hand_rec){.ev = eb, .n_ev = NP_DIFF_MIN_EVENTS - 1}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	for (size_t i = 0; i < d.n; i++)
		cr_assert(strcmp(d.c[i].where, "GET /rare"), "%s at a rare label", d.c[i].metric);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	t_rmtree(dir);
}

/* A service of one master and two workers, all named nginx, first pid
 * `pid`; each worker's thread `worker_on` ns on CPU, the master's 300 ms. */
struct service_rec {
	struct np_rec_process procs[3];
	struct np_rec_thread th[3];
	struct np_rec_thread_pid tp[3];
};

static void service_rec(struct service_rec *v, uint32_t pid, uint64_t worker_on)
{
	memset(v, 0, sizeof(*v));
	for (uint32_t i = 0; i < 3; i++) {
		v->procs[i].ts_ns = T_END;
		v->procs[i].pid = pid + i;
		v->procs[i].ppid = i ? pid : 1;
		v->procs[i].threads = 1;
		snprintf(v->procs[i].comm, sizeof(v->procs[i].comm), "nginx");
		v->th[i].ts_ns = T_END;
		v->th[i].tid = pid + i;
		snprintf(v->th[i].comm, sizeof(v->th[i].comm), "nginx");
		v->th[i].on_cpu_ns = i ? worker_on : 300 * MS;
		v->tp[i].tid = pid + i;
		v->tp[i].pid = pid + i;
	}
}

/* Two runs of one service (other pids): the workers busier after.  The
 * workers' row says so, the master's (unchanged) has none. */
Test(diff_processes, matched_by_name_and_role_across_pids)
{
	struct service_rec sa, sb;
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	char dir[PATH_MAX];

	service_rec(&sa, 100, 300 * MS);
	service_rec(&sb, 2000, 1500 * MS);
	t_mkdtemp(dir);
	build_hand(dir, "a",
		   &(struct hand_rec){.th = sa.th,
				      .n_th = 3,
				      .procs = sa.procs,
				      .n_procs = 3,
				      .tp = sa.tp,
				      .n_tp = 3},
		   &a);
	build_hand(dir, "b",
		   &(struct hand_rec){.th = sb.th,
				      .n_th = 3,
				      .procs = sb.procs,
				      .n_procs = 3,
				      .tp = sb.tp,
				      .n_tp = 3},
		   &b);
	cr_assert(a.r.procs.have && a.r.procs.workers == 2);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find(&d, NP_DS_THREAD, "on_cpu_share", "process nginx worker");
	cr_assert(c, "the workers matched across pids");
	cr_assert(c->have_before && c->have_after);
	cr_assert_float_eq(c->before, 0.1, 1e-9, "%g", c->before);
	cr_assert_float_eq(c->after, 0.5, 1e-9, "%g", c->after);
	c = find(&d, NP_DS_THREAD, "off_cpu_share", "process nginx worker");
	cr_assert(c && c->after < c->before);
	cr_assert_null(find(&d, NP_DS_THREAD, "on_cpu_share", "process nginx master"),
		       "the master did not change");
	/* the threads by name mix master and workers: its own row */
	c = find(&d, NP_DS_THREAD, "on_cpu_share", "threads nginx");
	cr_assert(c);
	cr_assert_float_eq(c->after, 3.3 / 9, 1e-9, "%g", c->after);
	np_diff_fini(&d);
	unbuild(&b);
	/* another role: workers that are not there after are gone */
	service_rec(&sb, 2000, 300 * MS);
	sb.procs[1].ppid = sb.procs[2].ppid = 1; /* three unrelated processes */
	build_hand(dir, "c",
		   &(struct hand_rec){.th = sb.th,
				      .n_th = 3,
				      .procs = sb.procs,
				      .n_procs = 3,
				      .tp = sb.tp,
				      .n_tp = 3},
		   &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find(&d, NP_DS_THREAD, "on_cpu_share", "process nginx worker");
	cr_assert(c && c->status == NP_DC_GONE);
	c = find(&d, NP_DS_THREAD, "on_cpu_share", "process nginx other");
	cr_assert(c && c->status == NP_DC_APPEARED);
	cr_assert_float_eq(c->after, 0.1, 1e-9);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	t_rmtree(dir);
}

static struct np_rec_net_drop drop_at(uint32_t reason, const char *where, uint64_t location,
				      uint64_t count)
{
	struct np_rec_net_drop v = {.ts_ns = T_END,
				    .location = location,
				    .count = count,
				    .reason = reason};

	snprintf(v.where, sizeof(v.where), "%s", where);
	return v;
}

/* Three seconds each, 300 requests before and 600 after.  NO_SOCKET at
 * tcp_v4_rcv the same count (per second the same, per request halved),
 * at udp_rcv 10x, CPU_BACKLOG at an unnamed place only after; an older
 * snapshot of a place does not count. */
Test(diff_drops, by_reason_and_place_per_second_and_per_request)
{
	struct np_rec_net_drop da[3] = {
		drop_at(2, "tcp_v4_rcv+0x10", 0xffffffff81000010, 10),
		drop_at(2, "tcp_v4_rcv+0x10", 0xffffffff81000010, 30),
		drop_at(2, "udp_rcv+0x20", 0xffffffff81000020, 30),
	};
	struct np_rec_net_drop db[3] = {
		drop_at(2, "tcp_v4_rcv+0x10", 0xffffffff82000010, 30),
		drop_at(2, "udp_rcv+0x20", 0xffffffff82000020, 300),
		drop_at(6, "", 0xffffffff82000030, 60),
	};
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	char dir[PATH_MAX];

	da[0].ts_ns = T_END - 1000 * MS;
	t_mkdtemp(dir);
	build_hand(dir, "a", &(struct hand_rec){.requests = 300, .drops = da, .n_drops = 3}, &a);
	build_hand(dir, "b", &(struct hand_rec){.requests = 600, .drops = db, .n_drops = 3}, &b);
	cr_assert_eq(a.r.xch.count, 300);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert_null(find(&d, NP_DS_COUNTER, "drops_per_s", "NO_SOCKET at tcp_v4_rcv+0x10"),
		       "the same per second: the older snapshot was not counted");
	c = find(&d, NP_DS_COUNTER, "drops_per_request", "NO_SOCKET at tcp_v4_rcv+0x10");
	cr_assert(c, "per request: halved");
	cr_assert_float_eq(c->before, 0.1, 1e-12, "%g", c->before);
	cr_assert_float_eq(c->after, 0.05, 1e-12, "%g", c->after);
	c = find(&d, NP_DS_COUNTER, "drops_per_s", "NO_SOCKET at udp_rcv+0x20");
	cr_assert(c && c->status == NP_DC_CHANGED);
	cr_assert_float_eq(c->before, 10, 1e-9);
	cr_assert_float_eq(c->after, 100, 1e-9);
	c = find(&d, NP_DS_COUNTER, "drops_per_s", "CPU_BACKLOG at 0xffffffff82000030");
	cr_assert(c, "an unnamed place by its address");
	cr_assert(c->have_before && c->before == 0, "the stack source ran before: none there");
	cr_assert_float_eq(c->after, 20, 1e-9);
	c = find(&d, NP_DS_COUNTER, "drops_per_request", "CPU_BACKLOG at 0xffffffff82000030");
	cr_assert(c);
	cr_assert_float_eq(c->after, 0.1, 1e-12);
	np_diff_fini(&d);
	/* a recording without the stack source: its places are unknown */
	unbuild(&b);
	build_hand(dir, "c", &(struct hand_rec){.requests = 600}, &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	c = find(&d, NP_DS_COUNTER, "drops_per_s", "NO_SOCKET at udp_rcv+0x20");
	cr_assert(c && c->have_before && !c->have_after && c->status == NP_DC_GONE);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
	t_rmtree(dir);
}

/* A reason's row in the table pairs each place of it, per second and per
 * request, and no other reason's. */
Test(pairing, a_drop_reason_pairs_its_places)
{
	const char *key = "sysctl.net.core.netdev_max_backlog";

	cr_assert(np_diff_config_acts_on(key, "drops_per_s", "CPU_BACKLOG"));
	cr_assert(np_diff_config_acts_on(key, "drops_per_s",
					 "CPU_BACKLOG at enqueue_to_backlog+0x5"));
	cr_assert(np_diff_config_acts_on(key, "drops_per_request",
					 "CPU_BACKLOG at enqueue_to_backlog+0x5"));
	cr_assert(np_diff_config_acts_on(key, "drops_per_request", "CPU_BACKLOG"));
	cr_assert(!np_diff_config_acts_on(key, "drops_per_s", "CPU_BACKLOGS at x+0x1"));
	cr_assert(!np_diff_config_acts_on(key, "drops_per_s", "CPU_BACKLOGat x"));
	cr_assert(!np_diff_config_acts_on(key, "drops_per_s", "NO_SOCKET at tcp_v4_rcv+0x10"));
}

/* ---- configuration changes paired with what they act on ------------------- */

/* A diff built by hand: changes appended in order, cleared by np_diff_fini. */
static void hand_diff(struct np_diff *d)
{
	memset(d, 0, sizeof(*d));
	d->cap = 16;
	d->c = calloc(d->cap, sizeof(*d->c));
	cr_assert(d->c);
}

static struct np_diff_change *hand_change(struct np_diff *d, enum np_diff_section s,
					  const char *metric, const char *where)
{
	struct np_diff_change *c;

	cr_assert(d->n < d->cap);
	c = &d->c[d->n++];
	c->section = s;
	c->test_id = -1;
	snprintf(c->metric, sizeof(c->metric), "%s", metric);
	snprintf(c->where, sizeof(c->where), "%s", where);
	return c;
}

static void hand_config(struct np_diff *d, const char *key, const char *b, const char *a)
{
	struct np_diff_change *c = hand_change(d, NP_DS_CONFIG, key, "");

	c->is_text = c->have_before = c->have_after = true;
	snprintf(c->sbefore, sizeof(c->sbefore), "%s", b);
	snprintf(c->safter, sizeof(c->safter), "%s", a);
	c->method = NP_DM_CONFIG;
}

/* A tested figure that moved from b to a with p; significant or not. */
static struct np_diff_change *hand_move(struct np_diff *d, enum np_diff_section s,
					const char *metric, const char *where, const char *unit,
					double b, double a, double p, bool significant)
{
	struct np_diff_change *c = hand_change(d, s, metric, where);
	int id = 0;

	for (size_t i = 0; i + 1 < d->n; i++)
		id += d->c[i].tested;
	snprintf(c->unit, sizeof(c->unit), "%s", unit);
	c->have_before = c->have_after = true;
	c->before = b;
	c->after = a;
	c->method = NP_DM_BOOTSTRAP;
	c->tested = c->large_enough = true;
	c->p = p;
	c->test_id = id;
	c->significant = significant;
	d->n_significant += significant;
	return c;
}

/* One case of each row of the table in report/diff/diff.c (each kind of
 * key, and each kind of figure it acts on). */
static const struct {
	const char *key, *before, *after;
	enum np_diff_section section;
	const char *metric, *where, *unit;
} acting[] = {
	/* packet steering */
	{"if.1.rx-0.rps_cpus", "0", "1", NP_DS_COUNTER, "rx_packets_share", "cpu 0", "share"},
	{"irq.25.smp_affinity_list", "0-1", "1", NP_DS_COUNTER, "net_rx_busiest_cpu", "", "share"},
	{"if.1.tx-0.xps_cpus", "0", "3", NP_DS_COUNTER, "rx_packets_share", "cpu 1", "share"},
	/* the per-CPU backlog and the NET_RX budget */
	{"sysctl.net.core.netdev_max_backlog", "1000", "8", NP_DS_COUNTER, "softnet_drops_per_s",
	 "", "per second"},
	{"sysctl.net.core.netdev_budget_usecs", "2000", "100", NP_DS_COUNTER, "time_squeeze_per_s",
	 "", "per second"},
	{"sysctl.net.core.netdev_max_backlog", "1000", "8", NP_DS_COUNTER, "drops_per_s",
	 "CPU_BACKLOG", "per second"},
	/* accept and SYN queues */
	{"sysctl.net.core.somaxconn", "4096", "8", NP_DS_COUNTER, "listen_overflows_per_s", "",
	 "per second"},
	{"sysctl.net.ipv4.tcp_max_syn_backlog", "512", "8", NP_DS_COUNTER, "listen_overflows_per_s",
	 "", "per second"},
	{"listen.8080.backlog", "511", "4", NP_DS_COUNTER, "acceptq_peak", "", "count"},
	/* socket buffers */
	{"sysctl.net.ipv4.tcp_rmem", "4096 131072 6291456", "4096 4096 4096", NP_DS_COUNTER,
	 "socket_drops_per_s", "", "per second"},
	{"sysctl.net.core.rmem_max", "212992", "4096", NP_DS_COUNTER, "drops_per_s",
	 "SOCKET_RCVBUFF", "per second"},
	{"sysctl.net.ipv4.tcp_moderate_rcvbuf", "1", "0", NP_DS_COUNTER, "recvq_peak_bytes", "",
	 "bytes"},
	{"sysctl.net.core.wmem_max", "212992", "4096", NP_DS_COUNTER, "drops_per_s",
	 "TCP_ZEROWINDOW", "per second"},
	/* the egress queue */
	{"if.2.qdisc", "noqueue", "tbf", NP_DS_COUNTER, "qdisc_drops_per_s", "", "per second"},
	{"if.2.txqlen", "1000", "10", NP_DS_EXCHANGE, "request_tx_p99_ns", "", "ns"},
	{"sysctl.net.core.default_qdisc", "fq_codel", "pfifo_fast", NP_DS_COUNTER,
	 "qdisc_backlog_peak_pkts", "", "packets"},
	/* rings */
	{"if.0.ring.rx", "256", "64", NP_DS_COUNTER, "nic_rx_drops_per_s", "", "per second"},
	/* offloads */
	{"if.0.feature.rx-gro", "on", "off", NP_DS_THREAD, "service_kernel_net_share", "", "share"},
	{"if.0.feature.tx-tcp-segmentation", "on", "off", NP_DS_COUNTER, "net_rx_softirq_cpu", "",
	 "share"},
	/* congestion control and small writes */
	{"sysctl.net.ipv4.tcp_congestion_control", "cubic", "reno", NP_DS_COUNTER,
	 "retrans_segs_per_s", "", "per second"},
	{"sysctl.net.ipv4.tcp_notsent_lowat", "4294967295", "16384", NP_DS_EXCHANGE,
	 "request_tx_p50_ns", "", "ns"},
	{"sysctl.net.ipv4.tcp_autocorking", "1", "0", NP_DS_COUNTER, "tcp_timeouts_per_s", "",
	 "per second"},
};

Test(pairing, each_kind_of_key_is_paired_with_what_it_acts_on_and_leads_the_headline)
{
	for (size_t i = 0; i < sizeof(acting) / sizeof(acting[0]); i++) {
		struct np_diff d;
		const struct np_diff_change *m, *other;
		char want[512];

		hand_diff(&d);
		/* an unrelated move with a smaller p: before the paired one
		 * only if the pairing did not count */
		other = hand_move(&d, NP_DS_SYSCALL, "io_calls_per_s", "", "per second", 100, 300,
				  1e-6, true);
		hand_config(&d, acting[i].key, acting[i].before, acting[i].after);
		m = hand_move(&d, acting[i].section, acting[i].metric, acting[i].where,
			      acting[i].unit, 10, 40, 0.001, true);
		np_diff_explain(&d);
		cr_assert(np_diff_config_acts_on(acting[i].key, acting[i].metric, acting[i].where),
			  "%s -> %s %s", acting[i].key, acting[i].metric, acting[i].where);
		cr_assert_eq(m->n_paired, 1, "%s -> %s", acting[i].key, acting[i].metric);
		cr_assert_eq(m->paired[0], 1);
		cr_assert_eq(other->n_paired, 0, "%s pairs io_calls_per_s", acting[i].key);
		snprintf(want, sizeof(want), "%s %s -> %s => %s%s%s ", acting[i].key,
			 acting[i].before, acting[i].after, acting[i].where,
			 acting[i].where[0] ? " " : "", acting[i].metric);
		cr_assert(!strncmp(d.headline, want, strlen(want)), "want '%s...', got '%s'", want,
			  d.headline);
		cr_assert(strstr(d.headline, "; io_calls_per_s"), "%s", d.headline);
		np_diff_fini(&d);
	}
}

Test(pairing, a_move_no_configuration_change_acts_on_is_not_paired)
{
	struct np_diff d;
	const struct np_diff_change *m;
	char *json;

	hand_diff(&d);
	hand_config(&d, "sysctl.net.core.netdev_max_backlog", "1000", "8");
	m = hand_move(&d, NP_DS_COUNTER, "retrans_segs_per_s", "", "per second", 0, 50, 0.001,
		      true);
	np_diff_explain(&d);
	cr_assert_eq(m->n_paired, 0);
	/* listed, and the move still reported, but not as its effect */
	cr_assert_str_eq(d.headline,
			 "sysctl.net.core.netdev_max_backlog 1000 -> 8 => retrans_segs_per_s "
			 "0/s -> 50/s");
	json = np_diff_json_string(&d, false);
	cr_assert(strstr(json, "\"metric\":\"retrans_segs_per_s\""));
	cr_assert(strstr(json, "\"paired_with\":[]"), "%s", json);
	cr_assert_null(strstr(json, "\"paired_with\":[\"sysctl"), "%s", json);
	free(json);
	np_diff_fini(&d);
}

Test(pairing, only_the_table_pairs)
{
	/* each kind of key with a figure of another row */
	cr_assert(!np_diff_config_acts_on("sysctl.net.core.somaxconn", "softnet_drops_per_s", ""));
	cr_assert(!np_diff_config_acts_on("if.0.qdisc", "retrans_segs_per_s", ""));
	cr_assert(!np_diff_config_acts_on("if.0.ring.rx", "qdisc_drops_per_s", ""));
	cr_assert(
		!np_diff_config_acts_on("sysctl.net.ipv4.tcp_rmem", "listen_overflows_per_s", ""));
	cr_assert(!np_diff_config_acts_on("sysctl.net.ipv4.tcp_congestion_control",
					  "socket_drops_per_s", ""));
	cr_assert(!np_diff_config_acts_on("if.0.feature.rx-gro", "nic_rx_drops_per_s", ""));
	cr_assert(!np_diff_config_acts_on("if.1.rx-0.rps_cpus", "listen_overflows_per_s", ""));
	/* a drop reason: only the ones the key makes */
	cr_assert(!np_diff_config_acts_on("sysctl.net.core.netdev_max_backlog", "drops_per_s",
					  "NO_SOCKET"));
	cr_assert(!np_diff_config_acts_on("sysctl.net.core.netdev_max_backlog", "drops_per_s",
					  "CPU_BACKLOGX"));
	/* not settings: the ring's hardware limit, a sysctl's scope, a name */
	cr_assert(!np_diff_config_acts_on("if.0.ring.rx_max", "nic_rx_drops_per_s", ""));
	cr_assert(!np_diff_config_acts_on("sysctl_scope.net.core.netdev_max_backlog",
					  "softnet_drops_per_s", ""));
	cr_assert(!np_diff_config_acts_on("if.0.name", "request_tx_p50_ns", ""));
}

Test(pairing, a_figure_within_noise_is_paired_but_not_in_the_headline)
{
	struct np_diff d;
	const struct np_diff_change *m;
	char *json;

	hand_diff(&d);
	hand_config(&d, "if.0.name", "a", "b");
	hand_config(&d, "if.0.qdisc", "noqueue", "tbf");
	m = hand_move(&d, NP_DS_COUNTER, "qdisc_drops_per_s", "", "per second", 1, 1.1, 0.4, false);
	np_diff_explain(&d);
	cr_assert_eq(m->n_paired, 1);
	cr_assert_eq(m->paired[0], 1);
	/* no significant move: the configuration in recorded order */
	cr_assert_str_eq(d.headline, "if.0.name a -> b; if.0.qdisc noqueue -> tbf => no "
				     "significant change in what was measured");
	json = np_diff_json_string(&d, false);
	cr_assert(strstr(json, "\"paired_with\":[\"if.0.qdisc\"]"), "%s", json);
	free(json);
	np_diff_fini(&d);
}

Test(pairing, the_golden_qdisc_fault_pairs_the_qdisc_with_tx_time)
{
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c, *cfg;

	build("healthy", &a);
	build("stack_qdisc", &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cfg = find(&d, NP_DS_CONFIG, "if.0.qdisc", NULL);
	cr_assert(cfg && !strcmp(cfg->sbefore, "noqueue") && !strcmp(cfg->safter, "tbf"));
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->significant && c->n_paired == 1 && &d.c[c->paired[0]] == cfg);
	c = find(&d, NP_DS_EXCHANGE, "request_app_p50_ns", "");
	cr_assert(c && c->n_paired == 0, "the qdisc does not act on the application's time");
	/* the paired configuration change first, its move right after it */
	cr_assert(!strncmp(d.headline, "if.0.qdisc noqueue -> tbf; ", 27), "%s", d.headline);
	cr_assert(strstr(d.headline, " => request_tx_p50_ns 0 ns -> "), "%s", d.headline);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

/* ---- the host's speed ----------------------------------------------------- */

/* Gives a report the per-program costs of `n` programs named p0.., each
 * with runs[i] runs of ns[i] each (freed with the report). */
static void give_costs(struct np_report *r, size_t n, const uint64_t *runs, const double *ns)
{
	r->ovh.progs = calloc(n, sizeof(*r->ovh.progs));
	cr_assert(r->ovh.progs);
	r->ovh.n_progs = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(r->ovh.progs[i].name, sizeof(r->ovh.progs[i].name), "p%zu", i);
		r->ovh.progs[i].prog_id = (uint32_t)(100 + i);
		r->ovh.progs[i].runs = runs[i];
		r->ovh.progs[i].run_ns = (uint64_t)((double)runs[i] * ns[i]);
		r->ovh.progs[i].window_ns = 200000000;
	}
}

/* Scales b's call counts to a's rate: the yardstick applies only under the
 * same load (NP_DIFF_HOST_SAME_LOAD), and the golden fault recordings ran
 * under another. */
static void same_call_rate(const struct np_report *a, struct np_report *b)
{
	double ca = 0, cb = 0, f;

	for (size_t i = 0; i < a->n_sys; i++)
		ca += (double)a->sys[i].count;
	for (size_t i = 0; i < b->n_sys; i++)
		cb += (double)b->sys[i].count;
	cr_assert(ca > 0 && cb > 0);
	f = (ca / (double)a->duration_ns) / (cb / (double)b->duration_ns);
	for (size_t i = 0; i < b->n_sys; i++)
		b->sys[i].count = (uint64_t)((double)b->sys[i].count * f + 0.5);
}

static void drop_costs(struct np_report *r)
{
	free(r->ovh.progs);
	r->ovh.progs = NULL;
	r->ovh.n_progs = 0;
}

Test(host_speed, the_run_weighted_median_of_the_programs_ratios)
{
	struct np_report a, b;
	struct np_diff_host h;
	uint64_t runs[4] = {5000, 4000, 3000, 100};
	double before[4] = {250, 200, 1800, 900}, same[4] = {250, 200, 1800, 900};
	double slower[4] = {425, 340, 3060, 90};    /* 1.7x; the rare one 0.1x, ignored */
	double one_odd[4] = {250, 200, 18000, 900}; /* one program's own path changed */
	/* the target's calls: 1000 a second on both sides */

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.sys[0].count = b.sys[0].count = 3000;
	a.n_sys = b.n_sys = 1;
	a.duration_ns = b.duration_ns = 3000000000ull;
	np_diff_host_speed(&a, &b, &h);
	cr_assert(!h.known, "no costs on either side: unknown");

	give_costs(&a, 4, runs, before);
	give_costs(&b, 4, runs, same);
	np_diff_host_speed(&a, &b, &h);
	cr_assert(h.known && h.comparable && !h.noisy);
	cr_assert_float_eq(h.ratio, 1.0, 1e-9);
	cr_assert_float_eq(h.rate_change, 1.0, 1e-9);
	cr_assert_eq(h.programs, 3, "the program below NP_DIFF_HOST_MIN_RUNS is left out");
	drop_costs(&b);

	give_costs(&b, 4, runs, slower);
	np_diff_host_speed(&a, &b, &h);
	cr_assert(h.known && h.noisy);
	cr_assert_float_eq(h.ratio, 1.7, 1e-6);
	cr_assert(h.after_ns > h.before_ns);
	np_diff_host_speed(&b, &a, &h);
	cr_assert(h.noisy && h.ratio < 1 / NP_DIFF_HOST_NOISE, "faster is noise too");
	drop_costs(&b);

	/* the same slowdown under three times the load: another workload,
	 * whose programs do other work per run - not the host's doing */
	b.sys[0].count = 9000;
	give_costs(&b, 4, runs, slower);
	np_diff_host_speed(&a, &b, &h);
	cr_assert(h.known && !h.comparable && !h.noisy, "rate change %g", h.rate_change);
	cr_assert_float_eq(h.rate_change, 3.0, 1e-6);
	drop_costs(&b);
	b.sys[0].count = 3000;

	give_costs(&b, 4, runs, one_odd);
	np_diff_host_speed(&a, &b, &h);
	cr_assert(h.known && !h.noisy, "one program 10x slower does not move the median");
	drop_costs(&b);
	drop_costs(&a);

	give_costs(&a, 4, runs, before);
	np_diff_host_speed(&a, &b, &h);
	cr_assert(!h.known, "costs on one side only: unknown");
	drop_costs(&a);
}

Test(host_speed, a_latency_that_moved_with_the_host_is_not_significant)
{
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;
	uint64_t runs[3] = {5000, 4000, 3000};
	double ns[3] = {250, 200, 1800}, slow[3] = {500, 400, 3600}, fast[3] = {125, 100, 900};

	build("healthy", &a);
	build("stack_qdisc", &b);
	/* the host twice as slow during the faulty recording: its longer tx
	 * time cannot be told from the host's */
	give_costs(&a.r, 3, runs, ns);
	give_costs(&b.r, 3, runs, slow);
	same_call_rate(&a.r, &b.r);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(d.host.known && d.host.noisy);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->tested && c->large_enough && c->after > c->before);
	cr_assert(!c->significant && c->host_noise);
	cr_assert(d.n_notes > 0 && strstr(d.notes[0], "slower"), "%s", d.notes[0]);
	np_diff_fini(&d);
	/* twice as fast: a latency that grew anyway still counts */
	drop_costs(&b.r);
	give_costs(&b.r, 3, runs, fast);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(d.host.noisy && d.host.ratio < 1);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->significant && !c->host_noise);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

Test(host_speed, a_latency_that_moved_with_other_work_is_not_significant)
{
	struct built a, b;
	struct np_diff d;
	const struct np_diff_change *c;

	build("healthy", &a);
	build("stack_qdisc", &b);
	cr_assert(a.r.net.n_cpus > 0 && b.r.net.n_cpus > 0);
	/* something else took most of the host's CPUs while the fault ran */
	for (size_t i = 0; i < b.r.net.n_cpus; i++)
		b.r.net.cpus[i].user_ns += b.r.duration_ns * 8 / 10;
	/* under another load (the fault's clients are other work too) the
	 * load is not a yardstick */
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(d.host.load_known && !d.host.comparable && !d.host.load_noisy);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->significant && !c->host_noise);
	np_diff_fini(&d);
	same_call_rate(&a.r, &b.r);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(d.host.load_known && d.host.load_noisy);
	cr_assert_gt(d.host.load_after, d.host.load_before + 0.5);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->after > c->before && !c->significant && c->host_noise);
	np_diff_fini(&d);
	/* the other way round: the load fell while latency grew, which it
	 * cannot explain */
	cr_assert_eq(np_diff_compute(&b.r, &a.r, &d), 0);
	cr_assert(d.host.load_noisy && d.host.load_after < d.host.load_before);
	c = find(&d, NP_DS_EXCHANGE, "request_tx_p50_ns", "");
	cr_assert(c && c->after < c->before && !c->significant && c->host_noise,
		  "latency fell with the load: host noise too");
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

/* ---- the HTML page ----------------------------------------------------------- */

static char *diff_page(const struct np_diff *d, const struct np_report *a,
		       const struct np_report *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	cr_assert_eq(np_diff_html(d, a, b, f), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert(t_valid_utf8(buf, len), "the page is valid UTF-8");
	return buf;
}

Test(diff_html, strings_from_the_recordings_are_escaped)
{
	static const char hostile[] = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
	struct built a, b;
	struct np_diff d;
	char *page;

	build("healthy", &a);
	build("app_cpu", &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	cr_assert(d.n > 0 && d.n_notes < 5);
	/* every kind of string the page shows from a recording, poisoned */
	snprintf(d.before.comm, sizeof(d.before.comm), "%s", hostile);
	snprintf(d.after.exe, sizeof(d.after.exe), "/tmp/%s", hostile);
	snprintf(d.after.hostname, sizeof(d.after.hostname), "%s", hostile);
	snprintf(d.notes[d.n_notes++], sizeof(d.notes[0]), "%s", hostile);
	snprintf(d.headline, sizeof(d.headline), "%s", hostile);
	d.c[0].significant = true;
	snprintf(d.c[0].where, sizeof(d.c[0].where), "%s", hostile);
	d.c[0].is_text = true;
	d.c[0].have_before = d.c[0].have_after = true;
	snprintf(d.c[0].sbefore, sizeof(d.c[0].sbefore), "%s", hostile);
	snprintf(d.c[0].safter, sizeof(d.c[0].safter), "bad utf-8 \xff\xfe & more");
	cr_assert_eq(np_folded_add(b.r.oncpu, "main;<script>alert(\"f\")</script>;a&b", 500), 0);
	cr_assert_eq(np_folded_add(a.r.offcpu, "main;</svg><iframe src=x>;'q'", 1000000000000ull),
		     0);

	page = diff_page(&d, &a.r, &b.r);
	cr_assert_null(strcasestr(page, "<script"), "no script element at all");
	cr_assert_null(strcasestr(page, "<img"));
	cr_assert_null(strcasestr(page, "<iframe"));
	cr_assert(strstr(page, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
		  "no attribute broke out");
	cr_assert_null(strstr(page, "'x'"), "single quotes escaped too");
	cr_assert(strstr(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;"));
	cr_assert(strstr(page, "&lt;script&gt;alert(&quot;f&quot;)&lt;/script&gt;"),
		  "the frame, in its <title>");
	cr_assert(strstr(page, "a&amp;b"));
	cr_assert(strstr(page, "&lt;/svg&gt;&lt;iframe src=x&gt;"));
	cr_assert(strstr(page, "bad utf-8 \xef\xbf\xbd\xef\xbf\xbd &amp; more"),
		  "invalid UTF-8 becomes U+FFFD");
	cr_assert(strstr(page, "default-src 'none'; style-src 'sha256-"), "a CSP without scripts");
	free(page);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

Test(diff_html, flame_graph_red_where_a_share_grew_blue_where_it_shrank)
{
	struct built a, b;
	struct np_diff d;
	char *page, *flame, *end, *burn;

	build("healthy", &a);
	build("app_cpu", &b);
	cr_assert_eq(np_diff_compute(&a.r, &b.r, &d), 0);
	page = diff_page(&d, &a.r, &b.r);
	flame = strstr(page, "<svg class=\"flame\" id=\"oncpu-svg\"");
	cr_assert(flame, "an on-CPU flame graph");
	end = strstr(flame, "</svg>");
	cr_assert(end);
	*end = 0;
	cr_assert(strstr(flame, "data-grew=\"yes\""));
	cr_assert(strstr(flame, "data-grew=\"no\""));
	/* burn_cpu: none of healthy's samples, most of app_cpu's: full red */
	burn = strstr(flame, "<title>burn_cpu\nbefore 0.00%");
	cr_assert(burn, "burn_cpu's frame says both shares");
	cr_assert(strstr(burn, "fill=\"#d62728\" data-grew=\"yes\""), "%.300s", burn);
	free(page);
	np_diff_fini(&d);
	unbuild(&a);
	unbuild(&b);
}

Test(diff_html, escaping_truncates_whole_characters)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	np_html_str(f, "h\xc3\xa9llo<w>", 5); /* 8 characters: "hél" and ".." */
	fputc('|', f);
	np_html_str(f, "ab", 2); /* fits: not cut */
	fputc('|', f);
	np_html_str(f, "a\x01\x7f", 0);
	fclose(f);
	cr_assert_str_eq(buf, "h\xc3\xa9l..|ab|a\xef\xbf\xbd\xef\xbf\xbd");
	cr_assert_eq(np_html_chars("h\xc3\xa9llo"), 5);
	free(buf);
}
