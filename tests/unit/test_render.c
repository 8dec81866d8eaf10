/* test_render.c - the attribution end to end from a recording, and the
 * renderers around it: JSON findings/breakdown/verdict, the text report's
 * top part, the HTML page's escaping and data block, the Perfetto trace's
 * format.  The recording is written with the real writer, with hostile
 * strings where the target controls them (comm, command line, thread
 * names). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/attribution/findings.h"
#include "report/report.h"
#include "report/model/series.h"
#include "testutil.h"

#define MS 1000000ull
#define S 1000000000ull
#define START (1000 * S)
#define SECONDS 5

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

static const char hostile_comm[] = "<script>alert(1";
static const char hostile_cmd[] = "<script>alert(1)</script> --x=\"q\" \xe2\x80\xa8 '&amp;'";
static const char hostile_thread[] = "</script><img";

static void write_recording(bool busy)
{
	struct np_writer *w;
	struct np_rec_source src = {.status = NP_SOURCE_OK};
	struct np_rec_end end = {.ts_ns = START + SECONDS * S, .reason = NP_END_DURATION};
	struct np_sys_event ev[64];
	uint32_t n_ev = 0;

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta(w, "netprof_version", "0.1.0");
	np_writer_meta(w, "hostname", "<b>host</b>");
	np_writer_meta(w, "kernel", "6.1.0");
	np_writer_meta_u64(w, "cpus", 2);
	np_writer_meta_u64(w, "pid", 4242);
	np_writer_meta(w, "comm", hostile_comm);
	np_writer_meta(w, "cmdline", hostile_cmd);
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "threshold_ns", 1 * MS);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	snprintf(src.name, sizeof(src.name), "syscalls");
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(src), &src, 1), 0);

	for (uint32_t i = 0; i < 40; i++) {
		struct np_sys_event *e = &ev[n_ev++];

		memset(e, 0, sizeof(*e));
		e->start_ns = START + i * 100 * MS;
		e->dur_ns = i % 10 == 0 ? 3 * MS : 20000;
		e->sys = i % 2 ? NP_SYS_write : NP_SYS_read;
		e->tid = 101;
		e->ret = 100;
		e->fd = 7;
		e->flags = i % 10 == 0 ? NP_EV_SLOW : NP_EV_SAMPLED;
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev[0]), ev, n_ev), 0);

	/* one snapshot a second: the worker is on CPU 90% (busy) or 5% */
	for (uint64_t k = 1; k <= SECONDS; k++) {
		struct np_rec_thread t[2];
		struct np_rec_sys_stats st[2];

		memset(t, 0, sizeof(t));
		memset(st, 0, sizeof(st));
		for (int j = 0; j < 2; j++) {
			t[j].ts_ns = START + k * S + (k == SECONDS ? 0 : 3 * MS);
			t[j].tid = 100 + (uint32_t)j;
			t[j].first_ns = START;
			t[j].last_ns = t[j].ts_ns;
			snprintf(t[j].comm, sizeof(t[j].comm), "%s", j ? hostile_thread : "main");
		}
		t[1].on_cpu_ns = k * (busy ? 900 : 50) * MS;
		t[1].runq_ns = k * 10 * MS;
		t[1].calls = k * 1000;
		t[1].wait_ns = k * (busy ? 20 : 900) * MS; /* idle: parked in epoll_wait */
		t[1].sys_ns = t[1].wait_ns + k * 40 * MS;
		cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t[0]), t, 2), 0);
		for (int j = 0; j < 2; j++) {
			st[j].ts_ns = t[0].ts_ns;
			st[j].sys = j ? NP_SYS_write : NP_SYS_read;
			st[j].stats.count = k * 500;
			st[j].stats.total_ns = k * 500 * 20000;
			st[j].stats.max_ns = 3 * MS;
			st[j].stats.hist[14] = k * 490;
			st[j].stats.hist[21] = k * 10;
		}
		cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(st[0]), st, 2), 0);
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void load(bool busy)
{
	char err[256];

	write_recording(busy);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/r.nprof", tmp);
	rec = NULL;
	memset(&rep, 0, sizeof(rep));
}

static void teardown(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
	t_rmtree(tmp);
}

TestSuite(render, .init = setup, .fini = teardown);

typedef int (*render_fn)(const struct np_report *, FILE *);

static char *render(render_fn fn, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	cr_assert_not_null(f);
	cr_assert_eq(fn(&rep, f), 0);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static int text_plain(const struct np_report *r, FILE *f)
{
	return np_report_text(r, f, false);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(render, signals_from_the_syscall_source_fill_windows)
{
	load(true);
	cr_assert_eq(rep.sig->n_windows, SECONDS);
	cr_assert(rep.sig->wknown & (1ull << NP_W_ON_CPU_NS));
	for (size_t w = 0; w < rep.sig->n_windows; w++) {
		const struct np_sig_window *win = &rep.sig->windows[w];

		cr_assert_eq(win->v[NP_W_ON_CPU_NS], 900 * MS, "window %zu: %llu", w,
			     (unsigned long long)win->v[NP_W_ON_CPU_NS]);
		cr_assert_eq(win->v[NP_W_IO_CALLS], 1000);
		cr_assert_eq(win->v[NP_W_THREAD_NS], S);
		cr_assert_gt(win->v[NP_W_IO_P99_NS], 1 * MS);
	}
	for (size_t w = 0; w < 4; w++)
		cr_assert_eq(rep.sig->windows[w].v[NP_W_SLOW_CALLS], 1);
	/* the idle main thread made no network call: not a service thread */
	struct np_sig_totals t;

	np_signals_totals(rep.sig, &t);
	cr_assert_eq(t.service_threads, 1);
}

Test(render, json_has_breakdown_verdict_and_findings)
{
	char *out;
	json_object *root, *v, *b, *f;

	load(true);
	out = render(np_report_json, NULL);
	root = json_tokener_parse(out);
	cr_assert_not_null(root);
	cr_assert(json_object_object_get_ex(root, "verdict", &v) && v);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "cause")), "app.cpu");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "layer")), "application");
	cr_assert(json_object_object_get_ex(root, "breakdown", &b) && b);
	uint64_t sum = 0;

	for (const char *const *k = (const char *const[]){"application_ns", "stack_ns", "nic_ns",
							  "peer_ns", "idle_ns", NULL};
	     *k; k++)
		sum += json_object_get_uint64(json_object_object_get(b, *k));
	cr_assert_eq(sum, SECONDS * S);
	cr_assert(json_object_object_get_ex(root, "findings", &f));
	json_object *f0 = json_object_array_get_idx(f, 0);

	cr_assert_not_null(f0);
	for (const char *const *k = (const char *const[]){"cause", "layer", "severity", "score",
							  "summary", "evidence", "advice", NULL};
	     *k; k++)
		cr_assert(json_object_object_get_ex(f0, *k, NULL), "finding lacks %s", *k);
	json_object *e0 = json_object_array_get_idx(json_object_object_get(f0, "evidence"), 0);

	for (const char *const *k = (const char *const[]){"metric", "value", "unit", NULL}; *k; k++)
		cr_assert(json_object_object_get_ex(e0, *k, NULL), "evidence lacks %s", *k);
	json_object_put(root);
	free(out);
}

Test(render, quiet_service_has_null_verdict)
{
	char *out;
	json_object *root, *v;

	load(false);
	out = render(np_report_json, NULL);
	root = json_tokener_parse(out);
	cr_assert(json_object_object_get_ex(root, "verdict", &v));
	cr_assert_null(v, "%s", json_object_to_json_string(v));
	json_object_put(root);
	free(out);
}

Test(render, text_leads_with_the_verdict_and_fits_100_columns)
{
	char *out;
	const char *v, *b, *f, *s;

	load(true);
	out = render(text_plain, NULL);
	v = strstr(out, "\nVerdict  CRITICAL app.cpu (application)");
	b = strstr(out, "\nWhere the service's time went");
	f = strstr(out, "\nFindings");
	s = strstr(out, "\nSources");
	cr_assert(v && b && f && s, "%s", out);
	cr_assert(v < b && b < f && f < s);
	cr_assert(strstr(out, "    next:     Profile the hot path: perf top -p 4242"), "%s", out);
	cr_assert_null(strchr(out, '\033'));
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		size_t cols = 0;

		for (const unsigned char *p = (const unsigned char *)line; *p; p++)
			cols += (*p & 0xc0) != 0x80;
		cr_assert_leq(cols, 100, "too wide (%zu): %s", cols, line);
	}
	free(out);
}

/* The worker is on CPU 90% in each of the 5 windows: a steady fault has no
 * quieter window for latency to rise against, and the report says so
 * instead of "did not rise in the 5 windows where it moved". */
Test(render, a_steady_finding_says_so)
{
	char *out;
	json_object *root, *corr;

	load(true);
	out = render(text_plain, NULL);
	cr_assert(strstr(out, "latency:  steady over the whole window (5 of 5 windows)"), "%s",
		  out);
	cr_assert_null(strstr(out, "windows where it moved"), "%s", out);
	free(out);
	out = render(np_report_json, NULL);
	root = json_tokener_parse(out);
	cr_assert_not_null(root);
	corr = json_object_object_get(
		json_object_array_get_idx(json_object_object_get(root, "findings"), 0),
		"correlation");
	cr_assert(json_object_get_boolean(json_object_object_get(corr, "steady")));
	cr_assert_eq(json_object_get_uint64(json_object_object_get(corr, "windows_total")), 5);
	cr_assert_eq(json_object_get_uint64(json_object_object_get(corr, "windows_moved")), 5);
	json_object_put(root);
	free(out);
}

Test(render, html_is_self_contained_and_escapes_target_strings)
{
	size_t len;
	char *out;
	const char *data, *end;
	json_object *doc, *t;

	load(true);
	out = render(np_report_html, &len);
	cr_assert_eq(strlen(out), len);
	cr_assert(t_valid_utf8(out, len));
	cr_assert(strstr(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			      "'none'; script-src 'sha256-"));
	/* exactly our two script elements (data + code), and no markup from
	 * the recording anywhere */
	cr_assert_eq(count(out, "<script"), 2);
	cr_assert_eq(count(out, "</script"), 2);
	cr_assert_null(strstr(out, "<img"));
	cr_assert_null(strstr(out, "<b>"));
	cr_assert_null(strstr(out, "\xe2\x80\xa8"));
	cr_assert_null(strstr(out, "http://"));
	cr_assert_null(strstr(out, "https://"));
	/* the data block is JSON that gives back the exact strings */
	data = strstr(out, "<script type=\"application/json\" id=\"np-data\">");
	cr_assert_not_null(data);
	data = strchr(data, '>') + 1;
	end = strstr(data, "</script>");
	cr_assert_not_null(end);
	{
		char *block = strndup(data, (size_t)(end - data));

		doc = json_tokener_parse(block);
		free(block);
	}
	cr_assert_not_null(doc, "data block is not JSON");
	t = json_object_object_get(json_object_object_get(doc, "report"), "target");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(t, "comm")), hostile_comm);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(t, "cmdline")), hostile_cmd);
	json_object *tl = json_object_object_get(doc, "timeline");

	cr_assert(json_object_array_length(json_object_object_get(tl, "tracks")) >= 3);
	cr_assert(json_object_array_length(json_object_object_get(tl, "spans")) >= 1);
	cr_assert(json_object_is_type(json_object_object_get(json_object_object_get(doc, "flame"),
							     "oncpu"),
				      json_type_null));
	cr_assert_eq(json_object_array_length(json_object_object_get(doc, "rules")),
		     np_rules_count());
	json_object_put(doc);
	free(out);
}

Test(render, html_flame_data_escapes_symbols)
{
	char *out;

	load(true);
	rep.oncpu = calloc(1, sizeof(*rep.oncpu));
	cr_assert_eq(np_folded_add(rep.oncpu, "main;</script><script>alert(1)</script>", 5), 0);
	cr_assert_eq(np_folded_add(rep.oncpu, "main;work", 10), 0);
	out = render(np_report_html, NULL);
	cr_assert_eq(count(out, "<script"), 2);
	cr_assert(strstr(out, "[\"main;work\",10]"));
	cr_assert(strstr(out, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
	free(out);
}

Test(render, perfetto_trace_follows_the_trace_event_format)
{
	char *out;
	json_object *doc, *events;
	size_t n_x = 0, n_c = 0, n_i = 0, n_m = 0, n_async_total = 0;
	long n_async = 0;
	bool named_thread = false;

	load(true);
	/* overlapping events of no thread (exchanges, later): async pairs */
	struct np_series *ex = np_timeline_series(rep.tl, "Exchanges", "served", "ns",
						  NP_SERIES_EVENTS, 0);

	cr_assert_eq(np_series_add(ex, START + S, 300 * MS, 3e8, np_series_label(ex, "GET /a")), 0);
	cr_assert_eq(np_series_add(ex, START + S + MS, 100 * MS, 1e8,
				   np_series_label(ex, "GET /b")),
		     0);
	out = render(np_report_perfetto, NULL);
	doc = json_tokener_parse(out);
	cr_assert_not_null(doc, "not JSON");
	cr_assert(json_object_object_get_ex(doc, "traceEvents", &events));
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		json_object *e = json_object_array_get_idx(events, i), *v;
		const char *ph;

		for (const char *const *k = (const char *const[]){"ph", "pid", "tid", "name", NULL};
		     *k; k++)
			cr_assert(json_object_object_get_ex(e, *k, NULL), "event %zu lacks %s", i,
				  *k);
		ph = json_object_get_string(json_object_object_get(e, "ph"));
		if (strcmp(ph, "M")) {
			cr_assert(json_object_object_get_ex(e, "ts", &v));
			cr_assert(json_object_is_type(v, json_type_double) ||
				  json_object_is_type(v, json_type_int));
			cr_assert_geq(json_object_get_double(v), 0);
			cr_assert_leq(json_object_get_double(v), SECONDS * 1e6 + 1);
		}
		if (!strcmp(ph, "X")) {
			cr_assert(json_object_object_get_ex(e, "dur", &v));
			cr_assert_geq(json_object_get_double(v), 0);
			n_x++;
		} else if (!strcmp(ph, "C")) {
			n_c++;
		} else if (!strcmp(ph, "b") || !strcmp(ph, "e")) {
			cr_assert(json_object_object_get_ex(e, "id", NULL));
			cr_assert(json_object_object_get_ex(e, "cat", NULL));
			n_async += !strcmp(ph, "b") ? 1 : -1;
			n_async_total++;
		} else if (!strcmp(ph, "i")) {
			cr_assert_str_eq(json_object_get_string(json_object_object_get(e, "s")),
					 "g");
			n_i++;
		} else if (!strcmp(ph, "M")) {
			const char *name = json_object_get_string(
				json_object_object_get(json_object_object_get(e, "args"), "name"));

			n_m++;
			named_thread |= name && !strcmp(name, hostile_thread);
		} else {
			cr_assert_fail("unexpected ph %s", ph);
		}
	}
	cr_assert_eq(n_i, rep.an->n_findings);
	cr_assert_eq(n_async, 0);
	cr_assert_eq(n_async_total, 4);
	cr_assert_geq(n_x, 40); /* every recorded call is a slice */
	cr_assert_gt(n_c, 0);
	cr_assert(n_m >= 3 && named_thread);
	json_object_put(doc);
	free(out);
}

/* A counter holds its value until its next sample: repeats are left out,
 * the end of the last interval brings it back to zero. */
Test(render, perfetto_counter_samples_only_changes)
{
	char *out;
	const double v[] = {1, 1, 1, 2, 2, 1};
	struct np_series *s;

	load(false);
	s = np_timeline_series(rep.tl, "Test", "flat", "count", NP_SERIES_COUNTER, 0);
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(np_series_add(s, START + i * 100 * MS, 100 * MS, v[i], 0), 0);
	out = render(np_report_perfetto, NULL);
	/* 1 at 0, 2 at 300 ms, 1 at 500 ms, 0 at 600 ms */
	cr_assert_eq(count(out, "\"name\":\"Test / flat\""), 4, "%s", out);
	cr_assert(strstr(out, "\"name\":\"Test / flat\",\"ts\":300000.000,\"args\":{\"value\":2}"),
		  "%s", out);
	free(out);
}
