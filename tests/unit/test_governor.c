/* test_governor.c - the overhead governor: its policy (profiler/session/governor.c,
 * a pure function of one measurement a second), and the round trip of its
 * records through a recording written with the real writer into the text
 * and JSON report (report/model/overhead_report.c), including recordings without them. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/session/governor.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define S (1000 * MS)
#define START (1000 * MS)

/* ---- policy ---------------------------------------------------------- */

Test(governor, one_second_over_budget_sheds_nothing)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_tick(&g, 0.20), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.01), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.20), NP_SHED_NONE);
	cr_assert_eq(g.level, 0);
}

Test(governor, two_seconds_over_budget_shed_step_one)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_tick(&g, 0.06), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.06), NP_SHED_SYSCALLS);
	cr_assert_eq(g.level, 1);
}

Test(governor, at_the_budget_is_not_over_it)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(np_governor_tick(&g, 0.05), NP_SHED_NONE);
}

Test(governor, steps_come_in_order_at_most_one_per_two_seconds)
{
	struct np_governor g;
	unsigned seen[16], n = 0;

	np_governor_init(&g, 0.05);
	for (int s = 0; s < 40; s++) {
		unsigned step = np_governor_tick(&g, 0.5);

		if (step) {
			cr_assert_lt(n, 16);
			seen[n++] = step;
			/* the second before a step never sheds */
			cr_assert(s >= 1);
		}
	}
	cr_assert_eq(n, NP_SHED_STEPS, "every step once, then no more (cap)");
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(seen[i], i + 1);
	cr_assert_eq(seen[0], NP_SHED_SYSCALLS);
	cr_assert_eq(seen[1], NP_SHED_EXCHANGES);
	cr_assert_eq(seen[2], NP_SHED_SOFTIRQ);
	cr_assert_eq(seen[3], NP_SHED_CPU_FREQ);
	cr_assert_eq(seen[4], NP_SHED_CPU_OFF);
}

Test(governor, spacing_between_steps)
{
	struct np_governor g;
	int at[NP_SHED_STEPS], n = 0;

	np_governor_init(&g, 0.05);
	for (int s = 0; s < 30; s++)
		if (np_governor_tick(&g, 1.0))
			at[n++] = s;
	cr_assert_eq(n, NP_SHED_STEPS);
	cr_assert_eq(at[0], 1);
	for (int i = 1; i < n; i++)
		cr_assert_geq(at[i] - at[i - 1], NP_GOV_MIN_GAP_S);
}

Test(governor, a_dip_below_budget_restarts_the_count)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.01), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_SYSCALLS);
	/* after a step, two more seconds over budget are needed */
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.01), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.1), NP_SHED_EXCHANGES);
}

Test(governor, zero_budget_disables)
{
	struct np_governor g;

	np_governor_init(&g, 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(np_governor_tick(&g, 5.0), NP_SHED_NONE);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_NONE);
	np_governor_init(&g, -1);
	cr_assert_eq(np_governor_tick(&g, 5.0), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 5.0), NP_SHED_NONE);
}

Test(governor, a_step_with_nothing_to_shed_is_skipped_at_once)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	np_governor_tick(&g, 1);
	cr_assert_eq(np_governor_tick(&g, 1), NP_SHED_SYSCALLS);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_EXCHANGES);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_SOFTIRQ);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_CPU_FREQ);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_CPU_OFF);
	cr_assert_eq(np_governor_skip(&g), NP_SHED_NONE);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(np_governor_tick(&g, 1), NP_SHED_NONE);
}

Test(governor, nan_is_not_over_budget)
{
	struct np_governor g;

	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_tick(&g, 0.0 / 0.0), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.0 / 0.0), NP_SHED_NONE);
	cr_assert_eq(np_governor_tick(&g, 0.0 / 0.0), NP_SHED_NONE);
}

Test(governor, raise_multiplies_up_to_the_cap)
{
	cr_assert_eq(np_shed_raise(1 * MS, NP_SHED_SLOW_CAP_NS), 4 * MS);
	cr_assert_eq(np_shed_raise(300 * MS, NP_SHED_SLOW_CAP_NS), NP_SHED_SLOW_CAP_NS);
	cr_assert_eq(np_shed_raise(NP_SHED_SLOW_CAP_NS, NP_SHED_SLOW_CAP_NS), NP_SHED_SLOW_CAP_NS);
	/* a threshold already above the cap is never lowered */
	cr_assert_eq(np_shed_raise(5 * S, NP_SHED_SLOW_CAP_NS), 5 * S);
	cr_assert_eq(np_shed_raise(0, NP_SHED_SAMPLE_CAP), 0, "no sampling stays no sampling");
	cr_assert_eq(np_shed_raise(64, NP_SHED_SAMPLE_CAP), 256);
	cr_assert_eq(np_shed_raise(UINT64_MAX / 2, UINT64_MAX), UINT64_MAX);
}

Test(governor, share_is_own_cpu_plus_bpf_over_wall)
{
	struct np_rec_overhead r = {.wall_ns = S, .own_cpu_ns = 30 * MS, .bpf_ns = 20 * MS};

	cr_assert_float_eq(np_overhead_share(&r), 0.05, 1e-9);
	r.wall_ns = 0;
	cr_assert_float_eq(np_overhead_share(&r), 0.0, 1e-9);
}

/* ---- the session's second (np_governor_second) ---------------------- */

/* Sources as the session sees them: running[step] says whether the
 * source of that step is running (a step of a stopped source changes
 * nothing); every call is logged. */
struct fake_sources {
	bool running[NP_SHED_STEPS + 1];
	unsigned calls[16];
	size_t n_calls;
	size_t changes_per_step;
};

static size_t fake_apply(void *arg, unsigned step, struct np_shed_change *ch, size_t max)
{
	struct fake_sources *f = arg;
	size_t n = 0;

	cr_assert_lt(f->n_calls, 16);
	f->calls[f->n_calls++] = step;
	if (!f->running[step])
		return 0;
	for (size_t i = 0; i < f->changes_per_step; i++)
		n = np_shed_change_add(ch, n, max, np_shed_step_source(step), "knob", 10 * step + i,
				       40 * step + i);
	return n;
}

static struct np_rec_overhead second(double share)
{
	struct np_rec_overhead r = {.wall_ns = S, .own_cpu_ns = (uint64_t)(share * S)};

	return r;
}

Test(governor, second_sheds_after_two_seconds_and_writes_each_change)
{
	struct np_governor g;
	struct fake_sources f = {.changes_per_step = 2};
	struct np_rec_shed out[8];
	struct np_rec_overhead r = second(0.12);

	for (int i = 0; i <= NP_SHED_STEPS; i++)
		f.running[i] = true;
	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_second(&g, &r, 1 * S, false, fake_apply, &f, out, 8), 0);
	cr_assert_eq(f.n_calls, 0, "no step after one second over budget");
	cr_assert_eq(np_governor_second(&g, &r, 2 * S, false, fake_apply, &f, out, 8), 2);
	cr_assert_eq(f.n_calls, 1);
	cr_assert_eq(f.calls[0], NP_SHED_SYSCALLS);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(out[i].ts_ns, 2 * S);
		cr_assert_eq(out[i].step, NP_SHED_SYSCALLS);
		cr_assert_eq(out[i].share_ppm, 120000);
		cr_assert_str_eq(out[i].source, "syscalls");
		cr_assert_str_eq(out[i].what, "knob");
		cr_assert_eq(out[i].from, 10 + (uint64_t)i);
		cr_assert_eq(out[i].to, 40 + (uint64_t)i);
	}
	cr_assert_eq(g.level, NP_SHED_SYSCALLS);
}

/* Steps whose source is not running are passed over in the same second,
 * without waiting; the first that changes something stops there. */
Test(governor, second_skips_steps_of_stopped_sources_at_once)
{
	struct np_governor g;
	struct fake_sources f = {.changes_per_step = 1};
	struct np_rec_shed out[8];
	struct np_rec_overhead r = second(0.5);

	f.running[NP_SHED_SOFTIRQ] = true; /* syscalls and exchanges shed nothing */
	np_governor_init(&g, 0.05);
	np_governor_second(&g, &r, 1 * S, false, fake_apply, &f, out, 8);
	cr_assert_eq(np_governor_second(&g, &r, 2 * S, false, fake_apply, &f, out, 8), 1);
	cr_assert_eq(f.n_calls, 3);
	cr_assert_eq(f.calls[0], NP_SHED_SYSCALLS);
	cr_assert_eq(f.calls[1], NP_SHED_EXCHANGES);
	cr_assert_eq(f.calls[2], NP_SHED_SOFTIRQ);
	cr_assert_eq(out[0].step, NP_SHED_SOFTIRQ);
	cr_assert_str_eq(out[0].source, "netstack");
	cr_assert_eq(g.level, NP_SHED_SOFTIRQ);
	/* nothing running at all: every step is tried once, then none is left */
	memset(&f, 0, sizeof(f));
	np_governor_init(&g, 0.05);
	np_governor_second(&g, &r, 1 * S, false, fake_apply, &f, out, 8);
	cr_assert_eq(np_governor_second(&g, &r, 2 * S, false, fake_apply, &f, out, 8), 0);
	cr_assert_eq(f.n_calls, NP_SHED_STEPS);
	cr_assert_eq(g.level, NP_SHED_STEPS);
	cr_assert_eq(np_governor_second(&g, &r, 9 * S, false, fake_apply, &f, out, 8), 0);
	cr_assert_eq(f.n_calls, NP_SHED_STEPS, "no step left to try");
}

/* The last measurement, and one shorter than half a second, decide
 * nothing and do not count towards the seconds over budget. */
Test(governor, second_ignores_the_last_and_short_intervals)
{
	struct np_governor g;
	struct fake_sources f = {.changes_per_step = 1};
	struct np_rec_shed out[8];
	struct np_rec_overhead r = second(0.5), shortr = second(0.5);

	for (int i = 0; i <= NP_SHED_STEPS; i++)
		f.running[i] = true;
	shortr.wall_ns = 499 * MS;
	shortr.own_cpu_ns = 400 * MS;
	np_governor_init(&g, 0.05);
	cr_assert_eq(np_governor_second(&g, &r, 1 * S, false, fake_apply, &f, out, 8), 0);
	cr_assert_eq(np_governor_second(&g, &shortr, 2 * S, false, fake_apply, &f, out, 8), 0);
	cr_assert_eq(np_governor_second(&g, &r, 3 * S, true, fake_apply, &f, out, 8), 0);
	cr_assert_eq(f.n_calls, 0);
	cr_assert_eq(g.over_s, 1, "only the first full second counted");
	cr_assert_eq(np_governor_second(&g, &r, 4 * S, false, fake_apply, &f, out, 8), 1);
}

/* No more records than room: a source that reports more changes than
 * out holds is cut at max. */
Test(governor, second_writes_no_more_than_max)
{
	struct np_governor g;
	struct fake_sources f = {.changes_per_step = 6};
	struct np_rec_shed out[3];
	struct np_rec_overhead r = second(0.5);

	for (int i = 0; i <= NP_SHED_STEPS; i++)
		f.running[i] = true;
	np_governor_init(&g, 0.05);
	np_governor_second(&g, &r, 1 * S, false, fake_apply, &f, out, 3);
	cr_assert_eq(np_governor_second(&g, &r, 2 * S, false, fake_apply, &f, out, 3), 3);
}

Test(governor, step_sources)
{
	cr_assert_str_eq(np_shed_step_source(NP_SHED_SYSCALLS), "syscalls");
	cr_assert_str_eq(np_shed_step_source(NP_SHED_EXCHANGES), "exchanges");
	cr_assert_str_eq(np_shed_step_source(NP_SHED_SOFTIRQ), "netstack");
	cr_assert_str_eq(np_shed_step_source(NP_SHED_CPU_OFF), "cpu_samples");
	cr_assert_str_eq(np_shed_step_source(99), "");
}

/* ---- records and report ------------------------------------------------ */

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/g.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(overhead_report, .init = setup, .fini = teardown);

enum rec_kind { REC_OLD, REC_OFF, REC_QUIET, REC_SHED, REC_ALL };

static struct np_rec_shed shed(uint64_t ts, uint32_t step, const char *src, const char *what,
			       uint64_t from, uint64_t to)
{
	struct np_rec_shed s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.step = step;
	s.share_ppm = 120000;
	snprintf(s.source, sizeof(s.source), "%s", src);
	snprintf(s.what, sizeof(s.what), "%s", what);
	s.from = from;
	s.to = to;
	return s;
}

static void write_recording(enum rec_kind kind, bool stats)
{
	struct np_writer *w;
	struct np_rec_end end = {.ts_ns = START + 5 * S, .reason = NP_END_DURATION};
	struct np_rec_gov_config cfg = {.ts_ns = START,
					.budget_ppm = 5000,
					.programs = 21,
					.est_ns_per_call = 1000};
	struct np_rec_overhead o[5];
	struct np_rec_shed s[3];
	/* shares 10%, 12%, 30%, 8%, and a short last interval of 90% */
	static const uint64_t cpu_ms[] = {40, 50, 100, 30, 90};
	static const uint64_t bpf_ms[] = {60, 70, 200, 50, 0};
	static const uint64_t wall_ms[] = {1000, 1000, 1000, 1000, 100};

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	if (kind != REC_OLD)
		np_writer_meta_u64(w, "max_overhead_ppm", kind == REC_OFF ? 0 : 5000);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	if (kind == REC_QUIET || kind == REC_SHED || kind == REC_ALL) {
		cfg.flags = stats ? NP_GOV_BPF_STATS : 0;
		if (!stats)
			snprintf(cfg.why_no_stats, sizeof(cfg.why_no_stats),
				 "BPF run-time statistics unavailable (Operation not permitted)");
		cr_assert_eq(np_writer_block(w, NP_BLK_GOV_CONFIG, sizeof(cfg), &cfg, 1), 0);
		memset(o, 0, sizeof(o));
		for (int i = 0; i < 5; i++) {
			o[i].ts_ns = START + (uint64_t)(i + 1) * S;
			o[i].wall_ns = wall_ms[i] * MS;
			o[i].own_cpu_ns = cpu_ms[i] * MS;
			o[i].bpf_ns = bpf_ms[i] * MS;
			o[i].flags = stats ? 0 : NP_OVH_BPF_ESTIMATED;
			o[i].bpf_window_ns = stats ? o[i].wall_ns / 5 : 0;
			cr_assert_eq(np_writer_block(w, NP_BLK_OVERHEAD, sizeof(o[i]), &o[i], 1),
				     0);
		}
	}
	if (kind == REC_SHED) {
		s[0] = shed(START + 2 * S, NP_SHED_SYSCALLS, "syscalls", "slow_call_threshold_ns",
			    1 * MS, 4 * MS);
		s[1] = shed(START + 2 * S, NP_SHED_SYSCALLS, "syscalls", "sample_every", 64, 256);
		s[2] = shed(START + 4 * S, NP_SHED_SOFTIRQ, "netstack", "softirq_napi_programs", 1,
			    0);
		cr_assert_eq(np_writer_block(w, NP_BLK_SHED, sizeof(s[0]), s, 2), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_SHED, sizeof(s[0]), s + 2, 1), 0);
	}
	if (kind == REC_ALL)
		for (uint32_t step = 1; step <= NP_SHED_STEPS; step++) {
			struct np_rec_shed x = shed(START + 2 * S, step, np_shed_step_source(step),
						    "sample_every", 1, 4);

			cr_assert_eq(np_writer_block(w, NP_BLK_SHED, sizeof(x), &x, 1), 0);
		}
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void build(enum rec_kind kind, bool stats)
{
	char err[256];

	write_recording(kind, stats);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void done(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
}

static char *text_report(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(np_report_text(&rep, f, false), 0);
	fclose(f);
	return buf;
}

static json_object *json_report(void)
{
	char *s = np_report_json_string(&rep, false);
	json_object *root;

	cr_assert_not_null(s);
	root = json_tokener_parse(s);
	free(s);
	cr_assert_not_null(root);
	return root;
}

Test(overhead_report, shed_actions_round_trip_into_the_report)
{
	const struct np_ovh_report *o;

	build(REC_SHED, true);
	o = &rep.ovh;
	cr_assert(o->known && o->governor_on);
	cr_assert_float_eq(o->budget, 0.005, 1e-9);
	cr_assert(o->bpf_stats);
	cr_assert_eq(o->programs, 21);
	/* the 100 ms tail counts in the totals, not in the per-second figures */
	cr_assert_eq(o->n_seconds, 4);
	cr_assert_float_eq(o->median, 0.11, 1e-9);
	cr_assert_float_eq(o->max, 0.30, 1e-9);
	cr_assert_eq(o->own_cpu_ns, 310 * MS);
	cr_assert_eq(o->bpf_ns, 380 * MS);
	cr_assert_eq(o->wall_ns, 4100 * MS);
	cr_assert_eq(o->n_shed, 3);
	cr_assert_eq(o->shed[0].offset_ns, 2 * S);
	cr_assert_eq(o->shed[0].step, 1);
	cr_assert_str_eq(o->shed[0].source, "syscalls");
	cr_assert_str_eq(o->shed[0].what, "slow_call_threshold_ns");
	cr_assert_eq(o->shed[0].from, 1 * MS);
	cr_assert_eq(o->shed[0].to, 4 * MS);
	cr_assert_float_eq(o->shed[0].share, 0.12, 1e-9);
	cr_assert_str_eq(o->shed[2].source, "netstack");
	cr_assert_eq(o->shed[2].offset_ns, 4 * S);
	done();
}

Test(overhead_report, json_overhead_object)
{
	json_object *root, *o, *m, *shed, *e, *v;

	build(REC_SHED, true);
	root = json_report();
	cr_assert(json_object_object_get_ex(root, "overhead", &o));
	cr_assert(json_object_object_get_ex(o, "budget_cpu_share", &v));
	cr_assert_float_eq(json_object_get_double(v), 0.005, 1e-9);
	cr_assert(json_object_object_get_ex(o, "measured", &m));
	cr_assert(json_object_object_get_ex(m, "median", &v));
	cr_assert_float_eq(json_object_get_double(v), 0.11, 1e-9);
	cr_assert(json_object_object_get_ex(m, "max", &v));
	cr_assert_float_eq(json_object_get_double(v), 0.30, 1e-9);
	cr_assert(json_object_object_get_ex(o, "bpf_stats", &v));
	cr_assert(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(o, "shed", &shed));
	cr_assert_eq(json_object_array_length(shed), 3);
	e = json_object_array_get_idx(shed, 0);
	cr_assert(json_object_object_get_ex(e, "offset_ns", &v));
	cr_assert_eq(json_object_get_uint64(v), 2 * S);
	cr_assert(json_object_object_get_ex(e, "step", &v));
	cr_assert_eq(json_object_get_int(v), 1);
	cr_assert(json_object_object_get_ex(e, "source", &v));
	cr_assert_str_eq(json_object_get_string(v), "syscalls");
	cr_assert(json_object_object_get_ex(e, "what", &v));
	cr_assert_str_eq(json_object_get_string(v), "slow_call_threshold_ns");
	cr_assert(json_object_object_get_ex(e, "from", &v));
	cr_assert_eq(json_object_get_uint64(v), 1 * MS);
	cr_assert(json_object_object_get_ex(e, "to", &v));
	cr_assert_eq(json_object_get_uint64(v), 4 * MS);
	cr_assert(json_object_object_get_ex(o, "caveat", &v));
	cr_assert_not_null(strstr(json_object_get_string(v), "+2.0 s syscalls"));
	cr_assert_not_null(strstr(json_object_get_string(v), "+4.0 s netstack"));
	json_object_put(root);
	done();
}

Test(overhead_report, text_section_and_caveat)
{
	char *t;

	build(REC_SHED, true);
	t = text_report();
	cr_assert_not_null(strstr(t, "Overhead"));
	cr_assert_not_null(strstr(t, "budget 0.5% of one CPU"), "%s", t);
	cr_assert_not_null(strstr(t, "in windows over 20% of the time,"), "%s", t);
	cr_assert_not_null(strstr(t, "median 11.0%, max 30.0%"), "%s", t);
	cr_assert_not_null(strstr(t, "shed at +2.0 s"));
	cr_assert_not_null(strstr(t, "slow_call_threshold_ns 1.00 ms -> 4.00 ms"), "%s", t);
	cr_assert_not_null(strstr(t, "sample_every 64 -> 256"));
	cr_assert_not_null(strstr(t, "softirq_napi_programs on -> off"), "%s", t);
	cr_assert_not_null(strstr(t, "kept more coarsely"));
	/* the slow-call tables say the threshold was raised, and from when */
	cr_assert_not_null(strstr(t, ", 4.00 ms from +2.0 s)"), "%s", t);
	/* the caveat sits with the findings, before the Overhead section */
	cr_assert_not_null(strstr(t, "Detail was shed"));
	cr_assert_lt(strstr(t, "Detail was shed"), strstr(t, "Overhead ("));
	free(t);
	done();
}

Test(overhead_report, nothing_shed_says_so_and_has_no_caveat)
{
	json_object *root, *o, *shed, *v;
	char *t;

	build(REC_QUIET, true);
	t = text_report();
	cr_assert_not_null(strstr(t, "nothing shed"));
	cr_assert_null(strstr(t, "Detail was shed"));
	free(t);
	root = json_report();
	cr_assert(json_object_object_get_ex(root, "overhead", &o));
	cr_assert(json_object_object_get_ex(o, "shed", &shed));
	cr_assert_eq(json_object_array_length(shed), 0);
	cr_assert(json_object_object_get_ex(o, "caveat", &v));
	cr_assert_null(v);
	json_object_put(root);
	done();
}

Test(overhead_report, estimated_bpf_time_says_why)
{
	json_object *root, *o, *v;
	char *t;

	build(REC_QUIET, false);
	cr_assert_not(rep.ovh.bpf_stats);
	t = text_report();
	cr_assert_not_null(strstr(t, "estimated from traced calls"));
	cr_assert_not_null(strstr(t, "Operation not permitted"));
	free(t);
	root = json_report();
	cr_assert(json_object_object_get_ex(root, "overhead", &o));
	cr_assert(json_object_object_get_ex(o, "bpf_stats", &v));
	cr_assert_not(json_object_get_boolean(v));
	json_object_put(root);
	done();
}

Test(overhead_report, governor_off_and_old_recordings_stay_readable)
{
	json_object *root, *o;
	char *t;

	build(REC_OFF, true);
	cr_assert(rep.ovh.known);
	cr_assert_not(rep.ovh.governor_on);
	t = text_report();
	cr_assert_not_null(strstr(t, "governor off"));
	free(t);
	root = json_report();
	cr_assert(json_object_object_get_ex(root, "overhead", &o));
	cr_assert_null(o);
	json_object_put(root);
	done();

	build(REC_OLD, true);
	cr_assert_not(rep.ovh.known);
	t = text_report();
	cr_assert_not_null(strstr(t, "without the overhead governor"));
	free(t);
	done();
}

Test(overhead_report, records_of_a_later_version_are_read_at_their_known_size)
{
	struct {
		struct np_rec_shed s;
		uint64_t later_field;
	} big[1];
	struct np_writer *w;
	char err[256];
	const struct np_rec_shed *got;
	size_t n;

	memset(big, 0, sizeof(big));
	big[0].s = shed(START + S, 1, "syscalls", "sample_every", 64, 256);
	big[0].later_field = 42;
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SHED, sizeof(big[0]), big, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	got = np_recording_records(rec, NP_BLK_SHED, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(got->to, 256);
	np_recording_free(rec);
}

Test(overhead_report, still_over_budget_after_every_step_is_said)
{
	json_object *root, *o, *v;
	char *t;

	build(REC_ALL, true);
	/* the seconds after the last step: 30% and 8% */
	cr_assert(rep.ovh.still_over);
	cr_assert_float_eq(rep.ovh.after_median, 0.19, 1e-9);
	t = text_report();
	cr_assert_not_null(strstr(t, "Still over budget after the last step (median 19.0%"), "%s",
			   t);
	free(t);
	root = json_report();
	cr_assert(json_object_object_get_ex(root, "overhead", &o));
	cr_assert(json_object_object_get_ex(o, "still_over_budget", &v));
	cr_assert(json_object_get_boolean(v));
	json_object_put(root);
	done();

	build(REC_SHED, true); /* steps left: not "still over" */
	cr_assert_not(rep.ovh.still_over);
	done();
}
