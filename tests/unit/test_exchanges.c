/* test_exchanges.c - the exchange part of the report, from recordings
 * written with the real writer: sums and percentiles from the windows, the
 * slowest exchanges and their labels, unknown components as null, the JSON
 * contract, and the on-CPU / off-CPU / runnable split over synthetic
 * scheduler intervals. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/exchange_report.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define START (1000 * MS)
#define END (3000 * MS)

static char tmp[PATH_MAX], path[PATH_MAX];

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/x.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(exchanges, .init = setup, .fini = teardown);

static struct np_xch_event ev(uint64_t start, uint64_t queued, uint64_t app, uint64_t tx,
			      uint32_t tid, uint8_t flags, const char *label)
{
	struct np_xch_event e;

	memset(&e, 0, sizeof(e));
	e.start_ns = start;
	e.arrival_ns = flags & NP_XEV_ARRIVAL ? start : 0;
	e.read_start_ns = start + queued;
	e.read_end_ns = start + queued + 1000;
	e.write_start_ns = start + queued + app / 2;
	e.write_end_ns = start + queued + app;
	e.wire_ns = flags & NP_XEV_WIRE ? e.write_end_ns + tx : 0;
	e.queued_ns = queued;
	e.app_ns = app;
	e.tx_ns = tx;
	e.total_ns = queued + app + tx;
	e.tid = tid;
	e.flags = flags;
	e.status = 200;
	e.cookie = 77;
	e.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", e.laddr);
	inet_pton(AF_INET, "10.0.0.2", e.raddr);
	e.lport = 8080;
	e.rport = 40000;
	if (label) {
		size_t n = strlen(label);

		memcpy(e.label, label, n > NP_XCH_LABEL_BYTES ? NP_XCH_LABEL_BYTES : n);
		e.label_len = (uint8_t)(n > NP_XCH_LABEL_BYTES ? NP_XCH_LABEL_BYTES : n);
		e.flags |= NP_XEV_LABEL;
	}
	return e;
}

/* A window of n exchanges, each `app` ns of app and `q` ns queued. */
static struct np_rec_xch_window window(uint64_t start, uint64_t end, uint32_t n, uint64_t q,
				       uint64_t app, uint64_t tx)
{
	struct np_rec_xch_window w;

	memset(&w, 0, sizeof(w));
	w.start_ns = start;
	w.ts_ns = end;
	w.d.served = n;
	w.d.queued_known = n;
	w.d.tx_known = n;
	w.d.queued_ns = n * q;
	w.d.app_ns = n * app;
	w.d.tx_ns = n * tx;
	w.d.total_ns = n * (q + app + tx);
	w.d.max_total_ns = q + app + tx;
	w.d.bytes_in = 100 * n;
	w.d.bytes_out = 1000 * n;
	w.d.hist[NP_XH_TOTAL][np_xh_bucket(q + app + tx)] = n;
	w.d.hist[NP_XH_QUEUED][np_xh_bucket(q)] = n;
	w.d.hist[NP_XH_APP][np_xh_bucket(app)] = n;
	w.d.hist[NP_XH_TX][np_xh_bucket(tx)] = n;
	w.d.hist[NP_XH_PEER][0] = n;
	return w;
}

struct spec {
	uint32_t flags;
	bool no_config;
	bool h2; /* two HTTP/2 connections, and e[5] one of their streams */
	const char *hostile_comm;
};

static void write_recording(const struct spec *sp)
{
	struct np_writer *w;
	struct np_rec_xch_config cfg = {.ts_ns = START,
					.slow_ns = 10 * MS,
					.window_ns = 1000 * MS,
					.sample_every = 64,
					.flags = sp->flags};
	struct np_rec_xch_window win[2];
	struct np_xch_event e[6];
	struct np_rec_thread th;
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	uint8_t known = (sp->flags & NP_XCFG_ARRIVAL ? NP_XEV_ARRIVAL : 0) |
			(sp->flags & NP_XCFG_WIRE ? NP_XEV_WIRE : 0);

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "pid", 42);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	if (!sp->no_config)
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	win[0] = window(START, START + 1000 * MS, 90, 1 * MS, 20 * MS, 2 * MS);
	win[1] = window(START + 1000 * MS, START + 2000 * MS, 10, 1 * MS, 20 * MS, 2 * MS);
	win[1].d.outbound = 4;
	win[1].d.outbound_ns = 4 * 15 * MS;
	win[1].d.hist[NP_XH_OUT][np_xh_bucket(15 * MS)] = 4;
	win[1].d.lost_events = 2;
	win[1].d.pipelined = 3;
	win[1].d.unanswered = 1;
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win[0]), win, 2), 0);
	e[0] = ev(START + 10 * MS, 1 * MS, 20 * MS, 2 * MS, 7, NP_XEV_SLOW | known, "GET /fast");
	e[1] = ev(START + 50 * MS, 5 * MS, 80 * MS, 3 * MS, 7, NP_XEV_SLOW | known,
		  "POST /api/orders");
	e[2] = ev(START + 90 * MS, 0, 30 * MS, 0, 8, NP_XEV_SLOW | NP_XEV_SAMPLED | known,
		  "\x1b[31mGET /evil"); /* not a request line */
	e[3] = ev(START + 95 * MS, 0, 15 * MS, 0, 8, NP_XEV_SAMPLED | known, NULL);
	e[4] = ev(START + 99 * MS, 0, 0, 0, 7, NP_XEV_OUTBOUND | NP_XEV_SLOW, "GET /upstream");
	e[4].total_ns = 15 * MS;
	e[5] = ev(START + 120 * MS, 0, 25 * MS, 0, 9, NP_XEV_SLOW | known, "GET /");
	e[5].status = 0;
	if (sp->h2) {
		struct np_rec_h2_conn h2[2] = {
			{.cookie = 11, .ts_ns = END, .streams = 30, .open_sum = 90, .max_open = 4},
			{.cookie = 12, .ts_ns = END, .streams = 10, .open_sum = 10, .max_open = 1},
		};

		e[5].proto = NP_PROTO_HTTP2;
		e[5].stream_id = 5;
		e[5].streams_open = 3;
		e[5].status = 200;
		cr_assert_eq(np_writer_block(w, NP_BLK_H2_CONNS, sizeof(h2[0]), h2, 2), 0);
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(e[0]), e, 6), 0);
	memset(&th, 0, sizeof(th));
	th.ts_ns = END;
	th.tid = 7;
	snprintf(th.comm, sizeof(th.comm), "%s", sp->hostile_comm ? sp->hostile_comm : "worker");
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(th), &th, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static struct np_recording *rec;
static struct np_report rep;

static void build(const struct spec *sp)
{
	char err[256];

	write_recording(sp);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void done(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
}

static json_object *json_of(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o, *x;

	cr_assert(f);
	cr_assert_eq(np_report_json(&rep, f), 0);
	fclose(f);
	o = json_tokener_parse(buf);
	free(buf);
	cr_assert(o);
	cr_assert(json_object_object_get_ex(o, "exchanges", &x));
	return o;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

#define ALL (NP_XCFG_PAYLOAD | NP_XCFG_ARRIVAL | NP_XCFG_WIRE)

Test(exchanges, totals_come_from_the_windows)
{
	struct spec sp = {.flags = ALL};
	const struct np_xch_report *x;

	build(&sp);
	x = &rep.xch;
	cr_assert(x->present);
	cr_assert_eq(x->count, 100);
	cr_assert_eq(x->outbound_count, 4);
	cr_assert_eq(x->app.sum_ns, 100 * 20 * MS);
	cr_assert_eq(x->queued.sum_ns, 100 * 1 * MS);
	cr_assert_eq(x->tx.sum_ns, 100 * 2 * MS);
	cr_assert_eq(x->total.sum_ns, 100 * 23 * MS);
	cr_assert_eq(x->outbound.sum_ns, 4 * 15 * MS);
	cr_assert_eq(x->pipelined, 3);
	cr_assert_eq(x->unanswered, 1);
	cr_assert_eq(x->bytes_out, 100 * 1000);
	/* one value per histogram: the percentiles are inside its bucket */
	cr_assert(x->total.p50_ns >= np_xh_lower(np_xh_bucket(23 * MS)) &&
		  x->total.p50_ns <= 23 * MS);
	cr_assert(x->app.p99_ns >= np_xh_lower(np_xh_bucket(20 * MS)) && x->app.p99_ns <= 23 * MS);
	cr_assert_eq(x->n_windows, 2);
	cr_assert_eq(x->windows[0].count, 90);
	cr_assert_eq(x->windows[1].outbound, 4);
	cr_assert_eq(rep.lost_events, 2);
	done();
}

Test(exchanges, slowest_are_sorted_labelled_and_split_by_direction)
{
	struct spec sp = {.flags = ALL};
	const struct np_xch_report *x;

	build(&sp);
	x = &rep.xch;
	cr_assert_eq(x->n_slowest, 5);
	cr_assert_eq(x->slow_total, 4);
	cr_assert_eq(x->slowest[0].ev.app_ns, 80 * MS);
	cr_assert(x->slowest[0].labelled);
	cr_assert_str_eq(x->slowest[0].label.method, "POST");
	cr_assert_str_eq(x->slowest[0].label.path, "/api/orders");
	cr_assert_str_eq(x->slowest[0].local, "10.0.0.1:8080");
	cr_assert_str_eq(x->slowest[0].comm, "worker");
	for (size_t i = 1; i < x->n_slowest; i++)
		cr_assert_geq(x->slowest[i - 1].ev.total_ns, x->slowest[i].ev.total_ns);
	/* the bytes with an escape sequence are no label */
	for (size_t i = 0; i < x->n_slowest; i++)
		if (x->slowest[i].ev.app_ns == 30 * MS)
			cr_assert_not(x->slowest[i].labelled);
	cr_assert_eq(x->n_slowest_out, 1);
	cr_assert_str_eq(x->slowest_out[0].label.path, "/upstream");
	done();
}

Test(exchanges, json_follows_the_contract)
{
	struct spec sp = {.flags = ALL};
	json_object *o, *x, *slow, *first;

	build(&sp);
	o = json_of();
	x = get(o, "exchanges");
	cr_assert_eq(json_object_get_uint64(get(x, "count")), 100);
	cr_assert_eq(json_object_get_uint64(get(x, "outbound_count")), 4);
	cr_assert_eq(json_object_get_uint64(get(x, "app_ns")), 2000 * MS);
	cr_assert_eq(json_object_get_uint64(get(x, "queued_ns")), 100 * MS);
	cr_assert_eq(json_object_get_uint64(get(x, "tx_ns")), 200 * MS);
	cr_assert_eq(json_object_get_uint64(get(x, "peer_ns")), 0);
	cr_assert_gt(json_object_get_uint64(get(x, "p50_ns")), 0);
	cr_assert_geq(json_object_get_uint64(get(x, "p99_ns")),
		      json_object_get_uint64(get(x, "p50_ns")));
	/* no scheduler source yet: the split is unknown */
	cr_assert_null(get(x, "on_cpu_ns"));
	slow = get(x, "slowest");
	cr_assert_eq(json_object_array_length(slow), 5);
	first = json_object_array_get_idx(slow, 0);
	cr_assert_str_eq(json_object_get_string(get(first, "label")), "POST /api/orders");
	cr_assert_eq(json_object_get_uint64(get(first, "total_ns")), 88 * MS);
	cr_assert_eq(json_object_get_uint64(get(first, "queued_ns")), 5 * MS);
	cr_assert_eq(json_object_get_uint64(get(first, "tx_ns")), 3 * MS);
	cr_assert_eq(json_object_get_uint64(get(first, "status")), 200);
	cr_assert_null(get(first, "off_cpu_ns"));
	cr_assert_eq(json_object_array_length(get(x, "windows")), 2);
	cr_assert_eq(json_object_array_length(get(x, "slowest_outbound")), 1);
	json_object_put(o);
	done();
}

Test(exchanges, unseen_components_are_null_not_zero)
{
	struct spec sp = {.flags = NP_XCFG_PAYLOAD};
	json_object *o, *x, *first;

	build(&sp);
	cr_assert_not(rep.xch.queued.known);
	cr_assert_not(rep.xch.tx.known);
	o = json_of();
	x = get(o, "exchanges");
	cr_assert_null(get(x, "queued_ns"));
	cr_assert_null(get(x, "tx_ns"));
	cr_assert_null(get(get(x, "components"), "queued"));
	first = json_object_array_get_idx(get(x, "slowest"), 0);
	cr_assert_null(get(first, "queued_ns"));
	cr_assert_null(get(first, "tx_ns"));
	cr_assert_null(get(json_object_array_get_idx(get(x, "windows"), 0), "tx_ns"));
	json_object_put(o);
	done();
}

Test(exchanges, absent_source_is_null)
{
	struct spec sp = {.no_config = true};
	json_object *o;

	build(&sp);
	cr_assert_not(rep.xch.present);
	o = json_of();
	cr_assert_null(get(o, "exchanges"));
	json_object_put(o);
	done();
}

Test(exchanges, text_fits_and_is_safe)
{
	struct spec sp = {.flags = ALL, .hostile_comm = "w\x1b[2J\x07"};
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;

	build(&sp);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_text(&rep, f, false), 0);
	fclose(f);
	cr_assert(strstr(buf, "POST /api/orders"), "%s", buf);
	cr_assert(strstr(buf, "Slowest exchanges served"));
	cr_assert(strstr(buf, "Slowest requests to peers"));
	cr_assert_null(strchr(buf, '\x1b'));
	cr_assert_null(strchr(buf, '\x07'));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		cr_assert_leq(strlen(line), 100, "too wide: %s", line);
	free(buf);
	done();
}

/* HTTP/2: the concurrency of the connections, the stream's own fields,
 * and nothing of either in a recording without HTTP/2. */
Test(exchanges, http2_concurrency_and_stream_fields)
{
	struct spec sp = {.flags = ALL, .h2 = true};
	json_object *o, *x, *h2, *row = NULL, *slow;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	build(&sp);
	cr_assert_eq(rep.xch.h2_conns, 2);
	cr_assert_eq(rep.xch.h2_streams, 40);
	cr_assert_eq(rep.xch.h2_max_open, 4);
	o = json_of();
	x = get(o, "exchanges");
	h2 = get(x, "http2");
	cr_assert_not_null(h2);
	cr_assert_eq(json_object_get_uint64(get(h2, "connections")), 2);
	cr_assert_eq(json_object_get_uint64(get(h2, "streams")), 40);
	cr_assert_eq(json_object_get_uint64(get(h2, "max_concurrent")), 4);
	cr_assert_float_eq(json_object_get_double(get(h2, "mean_concurrent")), 2.5, 1e-9);
	slow = get(x, "slowest");
	for (size_t i = 0; i < json_object_array_length(slow); i++) {
		json_object *r = json_object_array_get_idx(slow, i);

		if (json_object_object_get_ex(r, "protocol", NULL))
			row = r;
		else
			cr_assert_not(json_object_object_get_ex(r, "stream_id", NULL));
	}
	cr_assert_not_null(row);
	cr_assert_str_eq(json_object_get_string(get(row, "protocol")), "http2");
	cr_assert_str_eq(json_object_get_string(get(row, "label")), "GET /");
	cr_assert_eq(json_object_get_uint64(get(row, "stream_id")), 5);
	cr_assert_eq(json_object_get_uint64(get(row, "streams_open")), 3);
	json_object_put(o);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_text(&rep, f, false), 0);
	fclose(f);
	cr_assert(strstr(buf, "http2     40 streams on 2 connections; streams open at once: max 4, "
			      "mean 2.5"),
		  "%s", buf);
	free(buf);
	done();

	sp.h2 = false;
	build(&sp);
	o = json_of();
	cr_assert_not(json_object_object_get_ex(get(o, "exchanges"), "http2", NULL));
	json_object_put(o);
	done();
}

/* ---- split ---------------------------------------------------------------- */

static struct np_sched_interval iv(uint32_t tid, uint32_t state, uint64_t a, uint64_t b)
{
	return (struct np_sched_interval){.tid = tid, .state = state, .start_ns = a, .end_ns = b};
}

Test(exchanges, split_over_intervals)
{
	struct np_sched_interval v[] = {
		iv(8, NP_TSTATE_ON_CPU, 0, 100),    iv(7, NP_TSTATE_OFF_CPU, 150, 400),
		iv(7, NP_TSTATE_ON_CPU, 0, 100),    iv(7, NP_TSTATE_RUNNABLE, 100, 150),
		iv(7, NP_TSTATE_ON_CPU, 400, 1000), iv(9, NP_TSTATE_OFF_CPU, 0, 1000),
	};
	struct np_xch_split s;

	np_sched_intervals_sort(v, 6);
	cr_assert_eq(np_xch_split(v, 6, 7, 50, 450, &s), 0);
	cr_assert(s.known);
	cr_assert_eq(s.on_cpu_ns, 50 + 50);
	cr_assert_eq(s.runnable_ns, 50);
	cr_assert_eq(s.off_cpu_ns, 250);
	cr_assert_eq(s.covered_ns, 400);
	/* a range starting inside an interval that is not the thread's first */
	cr_assert_eq(np_xch_split(v, 6, 7, 120, 160, &s), 0);
	cr_assert_eq(s.runnable_ns, 30);
	cr_assert_eq(s.off_cpu_ns, 10);
	cr_assert_eq(s.on_cpu_ns, 0);
	/* a gap in the intervals is not covered */
	cr_assert_eq(np_xch_split(v, 6, 7, 900, 1200, &s), 0);
	cr_assert_eq(s.on_cpu_ns, 100);
	cr_assert_eq(s.covered_ns, 100);
	/* no interval of the thread, an empty range, an unknown state */
	cr_assert_eq(np_xch_split(v, 6, 5, 0, 100, &s), -ENOENT);
	cr_assert_not(s.known);
	cr_assert_eq(np_xch_split(v, 6, 7, 300, 300, &s), -ENOENT);
	cr_assert_eq(np_xch_split(v, 6, 8, 200, 300, &s), -ENOENT);
	cr_assert_eq(np_xch_split(NULL, 0, 7, 0, 10, &s), -ENOENT);
}

/* Sorts the intervals and applies them to the report built by build(). */
static const struct np_xch_report *apply_intervals(struct np_sched_interval *v, size_t n)
{
	np_sched_intervals_sort(v, n);
	np_xch_report_apply_sched(rec, &rep.xch, v, n);
	return &rep.xch;
}

Test(exchanges, apply_sched_fills_rows_and_the_estimate)
{
	struct spec sp = {.flags = ALL};
	struct np_sched_interval v[4];
	const struct np_xch_report *x;

	build(&sp);
	v[0] = iv(8, NP_TSTATE_ON_CPU, START, START + 95 * MS);
	v[1] = iv(8, NP_TSTATE_OFF_CPU, START + 95 * MS, START + 200 * MS);
	v[2] = iv(7, NP_TSTATE_RUNNABLE, START, START + 60 * MS);
	v[3] = iv(7, NP_TSTATE_ON_CPU, START + 60 * MS, START + 200 * MS);
	x = apply_intervals(v, 4);
	cr_assert(x->app_split.known);
	/* scaled to all app time, within rounding */
	cr_assert_leq(x->app.sum_ns - (x->app_split.on_cpu_ns + x->app_split.off_cpu_ns +
				       x->app_split.runnable_ns),
		      3);
	/*
	 * Slow stratum (155 ms of app, all recorded): covered on-CPU 80 ms,
	 * runnable 25, off-CPU 25 of 130.  The sampled fast exchange is all
	 * off-CPU and stands for the other 1845 ms.
	 */
	cr_assert_float_eq((double)x->app_split.on_cpu_ns, 155.0 * MS * 80 / 130, 2.0);
	cr_assert_float_eq((double)x->app_split.runnable_ns, 155.0 * MS * 25 / 130, 2.0);
	cr_assert_float_eq((double)x->app_split.off_cpu_ns, 155.0 * MS * 25 / 130 + 1845.0 * MS,
			   2.0);
	/* the POST (tid 7, app from 55 to 135 ms): runnable 5 ms, on-CPU 75 ms */
	cr_assert(x->slowest[0].split.known);
	cr_assert_eq(x->slowest[0].split.runnable_ns, 5 * MS);
	cr_assert_eq(x->slowest[0].split.on_cpu_ns, 75 * MS);
	done();
}

/* One unsampled keep-alive connection records only its slow exchanges:
 * their mix stands for all. */
Test(exchanges, apply_sched_without_sampled_exchanges_uses_the_slow_ones)
{
	struct spec sp = {.flags = ALL};
	struct np_sched_interval v[2];
	const struct np_xch_report *x;

	build(&sp);
	v[0] = iv(7, NP_TSTATE_RUNNABLE, START, START + 60 * MS);
	v[1] = iv(7, NP_TSTATE_ON_CPU, START + 60 * MS, START + 200 * MS);
	x = apply_intervals(v, 2);
	cr_assert(x->app_split.known);
	/* tid 7's two slow exchanges: runnable 25 ms, on-CPU 75 ms of 100 */
	cr_assert_float_eq((double)x->app_split.runnable_ns, 0.25 * (double)x->app.sum_ns, 2.0);
	cr_assert_float_eq((double)x->app_split.on_cpu_ns, 0.75 * (double)x->app.sum_ns, 2.0);
	cr_assert_eq(x->app_split.off_cpu_ns, 0);
	/* nothing covered: unknown */
	x = apply_intervals(v, 0);
	cr_assert_not(x->app_split.known);
	done();
}
