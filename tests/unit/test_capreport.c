/* test_capreport.c - a service some of whose processes were past
 * --max-processes: the CPU source's last status (degraded, with how many
 * processes were left out) replaces its "ok" of the start in the text and
 * JSON Sources, and each process says in the JSON how many of its samples
 * have kernel stacks only for that reason. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"
#include "report/report.h"
#include "testutil.h"

#define LEFT_OUT_DETAIL \
	"perf cpu-clock at 99 Hz; 1 process past --max-processes 2 had no address space of " \
	"its own and sampled kernel stacks only; raise --max-processes to unwind them"

static const char strings[] = "\0main\0/usr/sbin/nginx\0[kernel]\0tcp_sendmsg";
enum { S_MAIN = 1, S_EXE = 6, S_KERNEL = 22, S_TCP = 31 };

static struct np_rec_source source(const char *name, uint32_t status, const char *detail)
{
	struct np_rec_source s = {.status = status};

	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.detail, sizeof(s.detail), "%s", detail);
	return s;
}

/* A master (pid 1) and two workers (2, 3); with the cap at 2, worker 3 had
 * no address space: its 3 samples are kernel-only, NP_CS_NO_SPACE. */
static void write_service(const char *path)
{
	struct np_rec_process procs[3] = {
		{.pid = 1, .comm = "nginx", .threads = 1},
		{.pid = 2, .ppid = 1, .comm = "nginx", .threads = 1},
		{.pid = 3, .ppid = 1, .comm = "nginx", .threads = 1},
	};
	struct np_rec_thread_pid tp[3] = {{1, 1}, {2, 2}, {3, 3}};
	struct np_rec_source start = source("cpu_samples", NP_SOURCE_OK, "perf cpu-clock at 99 Hz");
	struct np_rec_source end_src = source("cpu_samples", NP_SOURCE_DEGRADED, LEFT_OUT_DETAIL);
	struct np_rec_module mods[] = {
		{.id = 1, .flags = NP_MOD_MAIN, .name = S_EXE},
		{.id = 2, .flags = NP_MOD_KERNEL, .name = S_KERNEL},
	};
	struct np_rec_frame fr[] = {
		{.pc = 1, .count = 1, .module = 1, .function = S_MAIN, .cls = NP_CLS_APP},
		{.pc = 2,
		 .count = 1,
		 .module = 2,
		 .function = S_TCP,
		 .cls = NP_CLS_KNET,
		 .flags = NP_FR_KERNEL},
	};
	struct np_rec_stack_node nodes[] = {{1, 0, 1, 0}, {2, 0, 2, 0}};
	uint16_t cut = NP_CS_KERNEL | NP_CS_NO_USER | NP_CS_NO_SPACE;
	struct np_rec_cpu_sample s[] = {
		{.ts_ns = 1100, .tid = 2, .node = 1},
		{.ts_ns = 1200, .tid = 2, .node = 1},
		{.ts_ns = 1300, .tid = 3, .node = 2, .flags = cut, .kernel_depth = 1},
		{.ts_ns = 1400, .tid = 3, .node = 2, .flags = cut, .kernel_depth = 1},
		{.ts_ns = 1500, .tid = 3, .node = 2, .flags = cut, .kernel_depth = 1},
	};
	struct np_rec_cpu_stats st = {.ts_ns = 2000, .samples = 5, .frequency_hz = 99};
	struct np_rec_end end = {.ts_ns = 2000, .reason = NP_END_DURATION};
	struct np_writer *w;

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", 1000);
	np_writer_meta_u64(w, "pid", 1);
	np_writer_meta(w, "target", "pid 1 with its children");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(start), &start, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_PROCESSES, sizeof(procs[0]), procs, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREAD_PIDS, sizeof(tp[0]), tp, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_NODES, sizeof(nodes[0]), nodes, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_SAMPLES, sizeof(s[0]), s, 5), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STRINGS, 1, strings, sizeof(strings)), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(fr[0]), fr, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_MODULES, sizeof(mods[0]), mods, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_STATS, sizeof(st), &st, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(end_src), &end_src, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static char *render(const struct np_report *r, bool json)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(json ? np_report_json(r, f) : np_report_text(r, f, false), 0);
	fclose(f);
	return buf;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
		  json_object_to_json_string(o));
	return v;
}

static struct np_recording *rec;
static struct np_report rep;

static void load(void)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];

	t_mkdtemp(dir);
	t_pathf(path, "%s/cap.nprof", dir);
	write_service(path);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	t_rmtree(dir);
	cr_assert_eq(np_report_build(rec, &rep, 5), 0);
}

static void teardown(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
}

TestSuite(capreport, .fini = teardown);

Test(capreport, json_sources_say_cpu_samples_degraded_with_the_processes_left_out)
{
	char *text;
	json_object *doc, *src, *cpu = NULL;

	load();
	text = render(&rep, true);
	doc = json_tokener_parse(text);
	cr_assert_not_null(doc, "%s", text);
	src = get(doc, "sources");
	for (size_t i = 0; i < json_object_array_length(src); i++) {
		json_object *s = json_object_array_get_idx(src, i);

		if (!strcmp(json_object_get_string(get(s, "name")), "cpu_samples")) {
			cr_expect_null(cpu, "cpu_samples listed once");
			cpu = s;
		}
	}
	cr_assert_not_null(cpu);
	cr_expect_str_eq(json_object_get_string(get(cpu, "status")), "degraded");
	cr_expect_str_eq(json_object_get_string(get(cpu, "detail")), LEFT_OUT_DETAIL);
	json_object_put(doc);
	free(text);
}

Test(capreport, json_processes_count_their_samples_past_the_cap)
{
	char *text;
	json_object *doc, *procs;
	uint64_t want_samples[] = {0, 2, 3}, want_past[] = {0, 0, 3};

	load();
	text = render(&rep, true);
	doc = json_tokener_parse(text);
	cr_assert_not_null(doc, "%s", text);
	procs = get(get(doc, "target"), "processes");
	cr_assert_eq(json_object_array_length(procs), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *p = json_object_array_get_idx(procs, i);
		uint64_t pid = (uint64_t)json_object_get_int64(get(p, "pid"));

		cr_assert(pid >= 1 && pid <= 3);
		cr_expect_eq(json_object_get_int64(get(p, "cpu_samples")), want_samples[pid - 1],
			     "pid %" PRIu64, pid);
		cr_expect_eq(json_object_get_int64(get(p, "cpu_samples_past_max_processes")),
			     want_past[pid - 1], "pid %" PRIu64, pid);
	}
	json_object_put(doc);
	free(text);
}

Test(capreport, text_sources_say_cpu_samples_degraded_once)
{
	char *text, *at;

	load();
	text = render(&rep, false);
	at = strstr(text, "cpu_samples  degraded");
	cr_assert_not_null(at, "%s", text);
	cr_expect_null(strstr(at + 1, "cpu_samples  "), "listed once:\n%s", text);
	cr_expect_not_null(strstr(text, "1 process past --max-processes 2"), "%s", text);
	free(text);
}
