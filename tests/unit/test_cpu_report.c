/* test_cpu_report.c - the CPU part of the report from a hand-built
 * recording: self and total samples (recursion counted once), inline and
 * kernel frames in folded stacks, code without symbols grouped in the
 * function tables, the scheduler's thread times, off-CPU waits, and damage
 * (bad node ids, parent loops, bad string offsets). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

static char dir[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

/* offsets into the string table below */
static const char strings[] = "\0main\0work\0hot\0inl\0/usr/bin/app\0[kernel]\0tcp_sendmsg\0app.c";
enum {
	S_MAIN = 1,
	S_WORK = 6,
	S_HOT = 11,
	S_INL = 15,
	S_APP = 19,
	S_KERNEL = 32,
	S_TCP = 41,
	S_FILE = 53
};

static void write_recording(bool damage)
{
	struct np_writer *w;
	struct np_rec_module mods[] = {
		{.id = 1, .flags = NP_MOD_MAIN, .name = S_APP},
		{.id = 2, .flags = NP_MOD_KERNEL, .name = S_KERNEL},
	};
	struct np_rec_frame fr[] = {
		{.pc = 1, .count = 1, .module = 1, .function = S_MAIN, .cls = NP_CLS_APP},
		{.pc = 2, .count = 1, .module = 1, .function = S_WORK, .cls = NP_CLS_APP},
		{.pc = 3,
		 .index = 0,
		 .count = 2,
		 .module = 1,
		 .function = S_HOT,
		 .cls = NP_CLS_APP,
		 .file = S_FILE,
		 .line = 10},
		{.pc = 3,
		 .index = 1,
		 .count = 2,
		 .module = 1,
		 .function = S_INL,
		 .cls = NP_CLS_APP,
		 .flags = NP_FR_INLINE,
		 .file = S_FILE,
		 .line = 3},
		{.pc = 4,
		 .count = 1,
		 .module = 2,
		 .function = S_TCP,
		 .cls = NP_CLS_KNET,
		 .flags = NP_FR_KERNEL},
		{.pc = 5,
		 .count = 1,
		 .module = 1,
		 .function = damage ? 100000 : 0,
		 .cls = NP_CLS_APP,
		 .flags = NP_FR_NOSYM,
		 .offset = 0x1234},
		{.pc = 6,
		 .count = 1,
		 .module = 1,
		 .cls = NP_CLS_APP,
		 .flags = NP_FR_NOSYM,
		 .offset = 0x1300},
	};
	struct np_rec_stack_node nodes[] = {
		{1, 0, 1, 0}, {2, 1, 2, 0},
		{3, 2, 3, 0}, {4, 3, 4, 0},
		{5, 2, 2, 0}, {6, 5, 3, 0},
		{7, 1, 5, 0}, {8, damage ? 9 : 1, 1, 0}, /* damage: a parent after its child */
		{9, 7, 6, 0}, {10, 0, 6, 0},             /* unnamed code: under main, and alone */
	};
	struct np_rec_cpu_sample s[] = {
		{.ts_ns = 1100, .tid = 10, .node = 3},  {.ts_ns = 1200, .tid = 10, .node = 3},
		{.ts_ns = 1300, .tid = 11, .node = 3},  {.ts_ns = 1400, .tid = 10, .node = 4},
		{.ts_ns = 1500, .tid = 10, .node = 4},  {.ts_ns = 1600, .tid = 11, .node = 6},
		{.ts_ns = 1700, .tid = 11, .node = 7},  {.ts_ns = 1800, .tid = 11, .node = 99},
		{.ts_ns = 1900, .tid = 11, .node = 8},  {.ts_ns = 1910, .tid = 11, .node = 9},
		{.ts_ns = 1920, .tid = 11, .node = 10},
	};
	struct np_rec_cpu_stats st = {.ts_ns = 2000,
				      .samples = 11,
				      .frequency_hz = 99,
				      .stack_bytes = 16384};
	struct np_rec_sched_thread th = {.ts_ns = 2000,
					 .tid = 10,
					 .comm = "worker",
					 .first_ns = 1000,
					 .last_ns = 2000,
					 .on_cpu_ns = 500,
					 .runq_ns = 200,
					 .switches_vol = 3};
	struct np_rec_offcpu off[] = {
		{.tid = 10,
		 .sys = 202,
		 .node = 4,
		 .kstack = 7,
		 .reason = NP_OFF_LOCK,
		 .count = 3,
		 .total_ns = 300,
		 .max_ns = 200},
		/* blocks whose stack was not taken: spread over kstack 7 */
		{.tid = 10,
		 .sys = 202,
		 .kstack = NP_KSTACK_UNSAMPLED,
		 .reason = NP_OFF_LOCK,
		 .count = 6,
		 .total_ns = 600,
		 .max_ns = 150},
		/* a thread none of whose stacks were taken */
		{.tid = 11,
		 .sys = 35,
		 .kstack = NP_KSTACK_UNSAMPLED,
		 .reason = NP_OFF_SLEEP,
		 .count = 1,
		 .total_ns = 50,
		 .max_ns = 50},
	};
	struct np_rec_end end = {.ts_ns = 2000, .reason = NP_END_DURATION};

	th.off_ns[NP_OFF_SLEEP] = 200;
	th.off_ns[NP_OFF_LOCK] = 100;
	t_mkdtemp(dir);
	t_pathf(path, "%s/cpu.nprof", dir);
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", 1000);
	np_writer_meta_u64(w, "pid", 10);
	np_writer_meta(w, "syscall.202", "futex");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STRINGS, 1, strings, sizeof(strings)), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_NODES, sizeof(nodes[0]), nodes, 10), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_SAMPLES, sizeof(s[0]), s, 11), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(fr[0]), fr, 7), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_MODULES, sizeof(mods[0]), mods, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_STATS, sizeof(st), &st, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_THREADS, sizeof(th), &th, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_OFFCPU, sizeof(off[0]), off, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void load(bool damage)
{
	char err[256];

	write_recording(damage);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, 5), 0);
	cr_assert_not_null(rep.cpu);
}

static void teardown(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
	t_rmtree(dir);
}

TestSuite(cpu_report, .fini = teardown);

static const struct np_cpu_fn *fn(const char *name)
{
	for (size_t i = 0; i < rep.cpu->n_fns; i++)
		if (!strcmp(rep.cpu->fns[i].name, name))
			return &rep.cpu->fns[i];
	cr_assert_fail("no function %s", name);
	return NULL;
}

Test(cpu_report, self_and_total_with_inline_frames_and_recursion)
{
	load(false);
	cr_expect_eq(rep.cpu->samples, 11);
	cr_expect_eq(rep.cpu->fns[0].self, 4, "inl is the hottest: %s", rep.cpu->fns[0].name);
	cr_expect_str_eq(rep.cpu->fns[0].name, "inl");
	cr_expect_eq(fn("hot")->self, 0);
	cr_expect_eq(fn("hot")->total, 6);
	cr_expect_eq(fn("work")->total, 6, "counted once per sample when it recurses");
	cr_expect_eq(fn("tcp_sendmsg")->self, 2);
	cr_expect_eq(fn("tcp_sendmsg")->cls, NP_CLS_KNET);
	cr_expect_eq(fn("main")->total, 9);
	cr_expect_eq(rep.cpu->by_class[NP_CLS_KNET], 2);
	cr_expect_eq(rep.cpu->n_threads, 2);
}

Test(cpu_report, code_without_symbols_is_one_function_per_module_and_caller)
{
	const struct np_cpu_thread *th = NULL;
	bool seen = false;

	load(false);
	/* two addresses without a symbol, reached from main: one function,
	 * not two one-sample ones, counted once per stack for its total */
	cr_expect_eq(fn("[app under main]")->self, 2);
	cr_expect_eq(fn("[app under main]")->total, 2);
	cr_expect_eq(fn("[app under main]")->cls, NP_CLS_APP);
	cr_expect_str_eq(fn("[app under main]")->module, "app");
	/* nothing named on its stack */
	cr_expect_eq(fn("[app without symbol]")->self, 1);
	for (size_t i = 0; i < rep.cpu->n_fns; i++)
		cr_expect(!strstr(rep.cpu->fns[i].name, "+0x"), "%s", rep.cpu->fns[i].name);
	for (size_t i = 0; i < rep.cpu->n_threads; i++)
		if (rep.cpu->threads[i].tid == 11)
			th = &rep.cpu->threads[i];
	cr_assert_not_null(th);
	for (size_t i = 0; i < th->n_top; i++)
		seen |= !strcmp(th->top[i].name, "[app under main]") && th->top[i].self == 2;
	cr_expect(seen, "the thread's own top list groups them too");
}

Test(cpu_report, folded_stacks)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	load(false);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_folded(&rep, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "main;work;hot;inl_[i] 3\n"), "%s", buf);
	cr_expect(strstr(buf, "main;work;hot;inl_[i];tcp_sendmsg_[k] 2\n"), "%s", buf);
	cr_expect(strstr(buf, "main;work;work;hot;inl_[i] 1\n"), "%s", buf);
	cr_expect(strstr(buf, "main;app+0x1234 1\n"), "%s", buf);
	cr_expect(strstr(buf, "main;app+0x1234;app+0x1300 1\n"), "every address kept: %s", buf);
	cr_expect(strstr(buf, "[no stack] 1\n"), "%s", buf);
	cr_expect(strstr(buf, "main;main 1\n"), "%s", buf);
	free(buf);
}

Test(cpu_report, scheduler_times_replace_the_proc_estimates)
{
	const struct np_thread_row *t = NULL;

	load(false);
	for (size_t i = 0; i < rep.n_threads; i++)
		if (rep.threads[i].tid == 10)
			t = &rep.threads[i];
	cr_assert_not_null(t);
	cr_expect(t->have_reasons);
	cr_expect_str_eq(t->comm, "worker");
	cr_expect_eq(t->window_ns, 1000);
	cr_expect_eq(t->on_cpu_ns, 500);
	cr_expect_eq(t->runnable_ns, 200);
	cr_expect_eq(t->off_cpu_ns, 300);
	cr_expect_eq(t->off_by_reason_ns[NP_OFF_LOCK], 100);
	cr_expect_eq(t->samples, 4);
	cr_assert_eq(rep.cpu->n_offcpu, 2);
	cr_expect_str_eq(rep.cpu->offcpu[0].sys_name, "futex");
	cr_expect_eq(rep.cpu->offcpu[0].reason, NP_OFF_LOCK);
	cr_expect_eq(rep.cpu->offcpu[0].total_ns, 900, "unsampled blocks spread over the stack");
	cr_expect_eq(rep.cpu->offcpu[0].count, 9);
	cr_expect(rep.cpu->offcpu[0].estimated);
	cr_expect_eq(rep.cpu->offcpu[0].node, 4);
	cr_expect(rep.cpu->offcpu[1].unsampled);
	cr_expect_eq(rep.cpu->offcpu[1].total_ns, 50);
}

Test(cpu_report, text_and_json_sections)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	load(false);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_text(&rep, f, false), 0);
	fclose(f);
	cr_expect(strstr(buf, "Thread time"), "%s", buf);
	cr_expect(strstr(buf, "On-CPU profile (11 samples at 99 Hz)"), "%s", buf);
	cr_expect(strstr(buf, "lock (futex)"), "%s", buf);
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_json(&rep, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "\"cpu_profile\": {"), "%s", buf);
	cr_expect(strstr(buf, "\"function\": \"inl\""), "%s", buf);
	cr_expect(strstr(buf, "\"lock_ns\": 100"), "%s", buf);
	cr_expect(strstr(buf, "\"time_source\": \"scheduler\""), "%s", buf);
	free(buf);
}

Test(cpu_report, damaged_tables_degrade_to_unknown)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	load(true);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_folded(&rep, f), 0);
	fclose(f);
	/* a string offset past the table: module+offset; a node whose parent
	 * comes after it: cut there */
	cr_expect(strstr(buf, "main;app+0x1234 1\n"), "%s", buf);
	cr_expect(strstr(buf, "\nmain 1\n") || !strncmp(buf, "main 1\n", 7), "%s", buf);
	free(buf);
}

/* A sample's class: generic kernel code counts as network work when the
 * network stack called it in the same context, not across an interrupt or
 * softirq entry, not through netprof's own probes, not from user code. */
Test(cpu_report, generic_kernel_code_under_the_network_stack_is_network_work)
{
	const struct np_cpu_frame
		copy = {.name = "copy_user_generic", .cls = NP_CLS_KERNEL, .flags = NP_FR_KERNEL},
		tcp = {.name = "tcp_sendmsg", .cls = NP_CLS_KNET, .flags = NP_FR_KERNEL},
		rx = {.name = "net_rx_action", .cls = NP_CLS_KNET, .flags = NP_FR_KERNEL},
		timer = {.name = "run_timer_softirq", .cls = NP_CLS_KERNEL, .flags = NP_FR_KERNEL},
		softirq = {.name = "handle_softirqs",
			   .cls = NP_CLS_KERNEL,
			   .flags = NP_FR_KERNEL | NP_FR_SOFTIRQ},
		irq = {.name = "asm_sysvec_apic_timer_interrupt",
		       .cls = NP_CLS_KERNEL,
		       .flags = NP_FR_KERNEL},
		probe = {.name = "bpf_prog_1234_np_sock_recv",
			 .cls = NP_CLS_KERNEL,
			 .flags = NP_FR_KERNEL},
		sys = {.name = "do_syscall_64", .cls = NP_CLS_KERNEL, .flags = NP_FR_KERNEL},
		app = {.name = "main", .cls = NP_CLS_APP},
		lib = {.name = "write", .cls = NP_CLS_LIB};
	const struct np_cpu_frame *under_tcp[] = {&copy, &tcp, &sys, &lib, &app};
	const struct np_cpu_frame *in_tcp[] = {&tcp, &sys, &lib, &app};
	const struct np_cpu_frame *plain[] = {&copy, &sys, &lib, &app};
	const struct np_cpu_frame *timer_over_tcp[] = {&timer, &softirq, &tcp, &sys, &app};
	const struct np_cpu_frame *copy_in_rx[] = {&copy, &rx, &softirq, &copy, &sys, &app};
	const struct np_cpu_frame *irq_over_tcp[] = {&copy, &irq, &tcp, &sys, &app};
	const struct np_cpu_frame *probe_in_tcp[] = {&copy, &probe, &tcp, &sys, &app};
	const struct np_cpu_frame *user_above_net[] = {&lib, &app, &tcp};

	cr_expect_eq(np_cpu_sample_class(under_tcp, 5), NP_CLS_KNET);
	cr_expect_eq(np_cpu_sample_class(in_tcp, 4), NP_CLS_KNET);
	cr_expect_eq(np_cpu_sample_class(plain, 4), NP_CLS_KERNEL);
	cr_expect_eq(np_cpu_sample_class(timer_over_tcp, 5), NP_CLS_KERNEL);
	cr_expect_eq(np_cpu_sample_class(copy_in_rx, 6), NP_CLS_KNET);
	cr_expect_eq(np_cpu_sample_class(irq_over_tcp, 5), NP_CLS_KERNEL);
	cr_expect_eq(np_cpu_sample_class(probe_in_tcp, 5), NP_CLS_KERNEL);
	cr_expect_eq(np_cpu_sample_class(user_above_net, 3), NP_CLS_LIB);
	cr_expect_eq(np_cpu_sample_class(under_tcp, 1), NP_CLS_KERNEL);
}
