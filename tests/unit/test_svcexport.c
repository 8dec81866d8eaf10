/* test_svcexport.c - the Perfetto and OTLP exports of a service: each
 * thread under its own process (the recording's thread -> process table),
 * each process named, not every thread under the primary's pid. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exchange.h"
#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define S 1000000000ull
#define START (1000 * S)

static char dir[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

/* nginx: master pid 1 (thread 1), workers 2 (thread 2) and 3 (threads 3
 * and 30); each worker's threads make calls and serve exchanges. */
static void write_service(void)
{
	struct np_rec_process procs[3] = {
		{.pid = 1, .comm = "nginx", .cmdline = "nginx: master process", .threads = 1},
		{.pid = 2,
		 .ppid = 1,
		 .comm = "nginx",
		 .cmdline = "nginx: worker process",
		 .threads = 1},
		{.pid = 3,
		 .ppid = 1,
		 .comm = "nginx",
		 .cmdline = "nginx: worker process",
		 .threads = 2},
	};
	struct np_rec_thread_pid tp[4] = {{1, 1}, {2, 2}, {3, 3}, {30, 3}};
	static const uint32_t tids[4] = {1, 2, 3, 30};
	struct np_rec_thread th[4];
	struct np_sys_event sev[3];
	struct np_xch_event xev[3];
	struct np_rec_end end = {.ts_ns = START + 2 * S, .reason = NP_END_DURATION};
	struct np_writer *w;

	memset(th, 0, sizeof(th));
	for (int i = 0; i < 4; i++) {
		th[i].ts_ns = START + 2 * S;
		th[i].tid = tids[i];
		th[i].first_ns = START;
		th[i].last_ns = START + 2 * S;
		snprintf(th[i].comm, sizeof(th[i].comm), "%s", "nginx");
	}
	memset(sev, 0, sizeof(sev));
	memset(xev, 0, sizeof(xev));
	for (int i = 0; i < 3; i++) {
		sev[i].start_ns = START + (uint64_t)(i + 1) * 100 * MS;
		sev[i].dur_ns = 3 * MS;
		sev[i].sys = NP_SYS_read;
		sev[i].tid = tids[i + 1];
		sev[i].ret = 100;
		sev[i].flags = NP_EV_SLOW;
		xev[i].start_ns = START + (uint64_t)(i + 1) * 200 * MS;
		xev[i].total_ns = 5 * MS;
		xev[i].app_ns = 5 * MS;
		xev[i].tid = tids[i + 1];
		xev[i].flags = NP_XEV_SLOW;
	}
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "pid", 1);
	np_writer_meta(w, "comm", "nginx");
	np_writer_meta(w, "target", "pid 1 with its children");
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "threshold_ns", MS);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_PROCESSES, sizeof(procs[0]), procs, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREAD_PIDS, sizeof(tp[0]), tp, 4), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(th[0]), th, 4), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(sev[0]), sev, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(xev[0]), xev, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void setup(void)
{
	char err[256];

	t_mkdtemp(dir);
	t_pathf(path, "%s/svc.nprof", dir);
	write_service();
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void teardown(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
	t_rmtree(dir);
}

TestSuite(svcexport, .init = setup, .fini = teardown);

static json_object *render(int (*fn)(const struct np_report *, FILE *))
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	json_object *doc;

	cr_assert_not_null(f);
	cr_assert_eq(fn(&rep, f), 0);
	fclose(f);
	doc = json_tokener_parse(buf);
	cr_assert_not_null(doc, "not JSON: %s", buf);
	free(buf);
	return doc;
}

static int64_t int_of(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_string(v);
}

static uint32_t pid_of_tid(uint32_t tid)
{
	return tid == 30 ? 3 : tid;
}

Test(svcexport, perfetto_puts_each_thread_under_its_own_named_process)
{
	json_object *doc = render(np_report_perfetto), *events;
	char names[4][64] = {{0}};
	size_t slices = 0, thread_names = 0;

	cr_assert(json_object_object_get_ex(doc, "traceEvents", &events));
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		json_object *e = json_object_array_get_idx(events, i), *args;
		const char *ph = str_of(e, "ph"), *name = str_of(e, "name");
		uint32_t pid = (uint32_t)int_of(e, "pid"), tid = (uint32_t)int_of(e, "tid");

		if (!strcmp(ph, "M") && !strcmp(name, "process_name")) {
			cr_assert(json_object_object_get_ex(e, "args", &args));
			cr_assert(pid >= 1 && pid <= 3, "pid %u", pid);
			cr_expect_str_empty(names[pid], "pid %u named twice", pid);
			snprintf(names[pid], sizeof(names[pid]), "%s", str_of(args, "name"));
			continue;
		}
		if (!strcmp(ph, "M") && !strcmp(name, "thread_name") && tid < 100) {
			cr_expect_eq(pid, pid_of_tid(tid), "thread %u under pid %u", tid, pid);
			thread_names++;
		}
		if (!strcmp(ph, "X") && tid < 100) {
			cr_expect_eq(pid, pid_of_tid(tid), "slice of thread %u under pid %u", tid,
				     pid);
			slices++;
		}
	}
	cr_expect_eq(thread_names, 4);
	cr_expect_eq(slices, 3, "each worker thread's slow read");
	cr_expect_str_eq(names[1], "nginx (pid 1)");
	cr_expect_str_eq(names[2], "nginx (pid 2)");
	cr_expect_str_eq(names[3], "nginx (pid 3)");
	json_object_put(doc);
}

/* The attributes of an OTLP resource or span: key -> the value object. */
static json_object *attr(json_object *o, const char *key)
{
	json_object *at;

	cr_assert(json_object_object_get_ex(o, "attributes", &at));
	for (size_t i = 0; i < json_object_array_length(at); i++) {
		json_object *a = json_object_array_get_idx(at, i);

		if (!strcmp(str_of(a, "key"), key))
			return json_object_object_get(a, "value");
	}
	return NULL;
}

static int64_t attr_int(json_object *o, const char *key)
{
	json_object *v = attr(o, key);

	cr_assert_not_null(v, "no attribute %s", key);
	return strtoll(str_of(v, "intValue"), NULL, 10);
}

Test(svcexport, otlp_gives_each_process_its_own_resource)
{
	json_object *doc = render(np_report_otlp), *rsa;
	bool seen[4] = {false};
	size_t spans = 0;

	cr_assert(json_object_object_get_ex(doc, "resourceSpans", &rsa));
	cr_assert_eq(json_object_array_length(rsa), 3, "master, then each worker");
	for (size_t i = 0; i < json_object_array_length(rsa); i++) {
		json_object *rs = json_object_array_get_idx(rsa, i), *res, *ssa, *ss;
		uint32_t pid;

		cr_assert(json_object_object_get_ex(rs, "resource", &res));
		pid = (uint32_t)attr_int(res, "process.pid");
		cr_assert(pid >= 1 && pid <= 3 && !seen[pid], "pid %u", pid);
		seen[pid] = true;
		cr_expect_eq(pid, i + 1, "the primary first, then the process list's order");
		cr_expect_str_eq(str_of(attr(res, "service.name"), "stringValue"), "nginx");
		cr_expect_str_eq(str_of(attr(res, "process.executable.name"), "stringValue"),
				 "nginx");
		if (pid != 1) {
			cr_expect_eq(attr_int(res, "process.parent_pid"), 1);
			cr_expect_str_eq(str_of(attr(res, "process.command_line"), "stringValue"),
					 "nginx: worker process");
		}
		cr_assert(json_object_object_get_ex(rs, "scopeSpans", &ssa));
		ss = json_object_object_get(json_object_array_get_idx(ssa, 0), "spans");
		for (size_t k = 0; k < json_object_array_length(ss); k++) {
			json_object *sp = json_object_array_get_idx(ss, k);

			if (int_of(sp, "kind") != 2) /* SERVER: the exchange itself */
				continue;
			cr_expect_eq(pid_of_tid((uint32_t)attr_int(sp, "thread.id")), pid);
			spans++;
		}
	}
	cr_expect_eq(spans, 3);
	json_object_put(doc);
}
