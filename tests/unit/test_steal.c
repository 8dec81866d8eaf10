/* test_steal.c - network softirq on the service's CPUs
 * (np_signals_from_steal and stack.softirq's service_softirq_share), on
 * recordings written with the real writer in the collectors' shapes: the
 * scheduler's switch events, the softirq tracepoints' cumulative per-CPU
 * snapshots once a second, the network source's /proc/stat polls and its
 * configuration text.
 *
 * The service's one worker runs on CPU 1 in a 10 ms cycle: woken, waits
 * 2 ms on the run queue, runs 1 ms, blocks.  CPU 1 does NET_RX work,
 * steered there by rps_cpus of veth-srv's only receive queue. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/attribution/findings.h"
#include "report/report.h"
#include "testutil.h"

#define S 1000000000ull
#define MS 1000000ull
#define START (100 * S)
#define DUR (4 * S)
#define CYCLES 400 /* of 10 ms */

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;
static bool built;

/* what the fixture varies */
static const char *rps_mask; /* rps_cpus of veth-srv rx-0 */
static uint64_t cpu1_net_ms; /* NET_RX time of CPU 1 per second */
static bool with_samples;    /* the worker's CPU samples on CPU 1 */

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/steal.nprof", tmp);
	built = false;
	rps_mask = "2";
	cpu1_net_ms = 400;
	with_samples = false;
}

static void teardown(void)
{
	if (built) {
		np_report_fini(&rep);
		np_recording_free(rec);
	}
	t_rmtree(tmp);
}

TestSuite(steal, .init = setup, .fini = teardown);

static void meta(struct np_writer *w)
{
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "pid", 199);
	np_writer_meta(w, "comm", "npserver");
	np_writer_meta_u64(w, "cpus", 2);
	np_writer_meta_u64(w, "threshold_ns", MS);
	np_writer_meta_u64(w, "poll_ms", 1000);
	cr_assert_eq(np_writer_meta_flush(w), 0);
}

/* The syscall source's and the scheduler's per-thread snapshots. */
static void threads(struct np_writer *w)
{
	for (uint64_t sec = 1; sec <= 4; sec++) {
		struct np_rec_thread t = {.ts_ns = START + sec * S,
					  .tid = 200,
					  .first_ns = START,
					  .last_ns = START + sec * S,
					  .on_cpu_ns = sec * 100 * MS,
					  .calls = sec * 300,
					  .sys_ns = sec * 700 * MS,
					  .wait_ns = sec * 690 * MS};
		struct np_rec_sched_thread st = {.ts_ns = START + sec * S,
						 .tid = 200,
						 .first_ns = START,
						 .last_ns = START + sec * S,
						 .on_cpu_ns = sec * 100 * MS,
						 .runq_ns = sec * 200 * MS,
						 .switches_vol = sec * 100};

		snprintf(t.comm, sizeof(t.comm), "npworker-0");
		snprintf(st.comm, sizeof(st.comm), "npworker-0");
		st.off_ns[NP_OFF_POLL] = sec * 700 * MS;
		cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t), &t, 1), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_THREADS, sizeof(st), &st, 1), 0);
	}
}

static void sched_events(struct np_writer *w)
{
	struct np_sched_event *ev = calloc(CYCLES * 3, sizeof(*ev));

	cr_assert_not_null(ev);
	for (uint64_t i = 0; i < CYCLES; i++) {
		uint64_t t = START + i * 10 * MS;

		ev[3 * i] = (struct np_sched_event){.ts_ns = t,
						    .tid = 200,
						    .type = NP_SCHED_WAKEUP,
						    .cpu = 0};
		ev[3 * i + 1] = (struct np_sched_event){.ts_ns = t + 2 * MS,
							.tid = 200,
							.type = NP_SCHED_SWITCH_IN,
							.cpu = 1};
		ev[3 * i + 2] = (struct np_sched_event){.ts_ns = t + 3 * MS,
							.tid = 200,
							.type = NP_SCHED_SWITCH_OUT,
							.reason = NP_OFF_POLL,
							.cpu = 1,
							.sys = 232};
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_EVENTS, sizeof(ev[0]), ev, CYCLES * 3), 0);
	free(ev);
}

/* The softirq tracepoints' snapshots, and /proc/stat per CPU: CPU 1 busy
 * 700 ms a second (100 of them the service's), CPU 0 200 ms. */
static void softirq_and_stat(struct np_writer *w)
{
	for (uint64_t sec = 0; sec <= 4; sec++) {
		uint64_t ts = START + sec * S;
		struct np_rec_net_totals tot = {.ts_ns = ts};
		struct np_rec_softirq sq[2];
		struct np_rec_netcpu_sample cs[2] = {
			{.ts_ns = ts,
			 .cpu = 0,
			 .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS | NP_CPU_STAT,
			 .user_ns = sec * 190 * MS,
			 .softirq_ns = sec * 10 * MS,
			 .idle_ns = sec * 800 * MS},
			{.ts_ns = ts,
			 .cpu = 1,
			 .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS | NP_CPU_STAT,
			 .user_ns = sec * (700 - cpu1_net_ms) * MS,
			 .softirq_ns = sec * cpu1_net_ms * MS,
			 .idle_ns = sec * 300 * MS}};

		cr_assert_eq(np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(cs[0]), cs, 2), 0);
		if (!sec)
			continue;
		memset(sq, 0, sizeof(sq));
		for (uint32_t c = 0; c < 2; c++) {
			sq[c].ts_ns = ts;
			sq[c].cpu = c;
			sq[c].rx.count = 1000 * sec;
			sq[c].rx.total_ns = (c ? cpu1_net_ms : 10) * MS * sec;
		}
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(tot), &tot, 1), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(sq[0]), sq, 2), 0);
	}
}

static void config(struct np_writer *w)
{
	char cfg[512];
	int n = snprintf(cfg, sizeof(cfg),
			 "sysctl.net.core.rps_sock_flow_entries=0\n"
			 "if.0.name=veth-srv\nif.0.rx-0.rps_cpus=%s\nif.0.rx-0.rps_cpus.cpus=1\n"
			 "if.0.rx-0.rps_flow_cnt=0\n",
			 rps_mask);
	struct np_rec_iface f = {
		.ts_ns = START, .id = 0, .ifindex = 2, .num_rx_queues = 1, .num_tx_queues = 1};

	snprintf(f.name, sizeof(f.name), "veth-srv");
	snprintf(f.kind, sizeof(f.kind), "veth");
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_CONFIG, 1, cfg, (size_t)n), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_IFACE, sizeof(f), &f, 1), 0);
}

/* 100 samples of the worker on CPU 1: 20 in net_rx_action below an
 * interrupt's exit (softirq that interrupted it), 40 in net_rx_action
 * that its own send ran (local_bh_enable), 40 in its own code. */
static const char strings[] = "\0worker_main\0asm_sysvec_call_function_single\0irq_exit_rcu"
			      "\0handle_softirqs\0net_rx_action\0__local_bh_enable_ip"
			      "\0/usr/bin/npserver\0[kernel]";
enum {
	S_WORKER = 1,
	S_SYSVEC = 13,
	S_IRQ_EXIT = 45,
	S_SOFTIRQS = 58,
	S_NET_RX = 74,
	S_BH = 88,
	S_EXE = 109,
	S_KERNEL = 127
};

static void samples(struct np_writer *w)
{
	struct np_rec_module mods[] = {{.id = 1, .flags = NP_MOD_MAIN, .name = S_EXE},
				       {.id = 2, .flags = NP_MOD_KERNEL, .name = S_KERNEL}};
	struct np_rec_frame fr[6];
	static const uint32_t fn[6] = {S_WORKER, S_SYSVEC, S_IRQ_EXIT, S_SOFTIRQS, S_NET_RX, S_BH};
	/* root first: 1 worker_main; 2-5 the interrupt's way into
	 * net_rx_action; 6-8 the thread's own bottom-half enable into it */
	struct np_rec_stack_node nodes[] = {{1, 0, 1, 0}, {2, 1, 2, 0}, {3, 2, 3, 0}, {4, 3, 4, 0},
					    {5, 4, 5, 0}, {6, 1, 6, 0}, {7, 6, 4, 0}, {8, 7, 5, 0}};
	struct np_rec_cpu_sample smp[100];
	struct np_rec_cpu_stats st = {.ts_ns = START + DUR, .frequency_hz = 99, .samples = 100};

	memset(fr, 0, sizeof(fr));
	for (uint32_t i = 0; i < 6; i++) {
		fr[i].pc = i + 1;
		fr[i].count = 1;
		fr[i].module = i ? 2 : 1;
		fr[i].function = fn[i];
		fr[i].cls = i ? NP_CLS_KERNEL : NP_CLS_APP;
		fr[i].flags = i ? NP_FR_KERNEL : 0;
	}
	fr[3].flags |= NP_FR_SOFTIRQ;
	fr[4].cls = NP_CLS_KNET;
	for (uint32_t k = 0; k < 100; k++)
		smp[k] = (struct np_rec_cpu_sample){.ts_ns = START + k * 40 * MS,
						    .tid = 200,
						    .node = k < 20   ? 5
							    : k < 60 ? 8
								     : 1,
						    .cpu = 1,
						    .flags = k < 60 ? NP_CS_KERNEL : 0};
	cr_assert_eq(np_writer_block(w, NP_BLK_STRINGS, 1, strings, sizeof(strings)), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_NODES, sizeof(nodes[0]), nodes, 8), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_SAMPLES, sizeof(smp[0]), smp, 100), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_STATS, sizeof(st), &st, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(fr[0]), fr, 6), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_MODULES, sizeof(mods[0]), mods, 2), 0);
}

static void build(void)
{
	struct np_writer *w;
	struct np_rec_end end = {.ts_ns = START + DUR, .reason = NP_END_DURATION};
	char err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	meta(w);
	threads(w);
	sched_events(w);
	config(w);
	softirq_and_stat(w);
	if (with_samples)
		samples(w);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, 10), 0);
	built = true;
}

static const struct np_sig_cpu *cpu(uint32_t n)
{
	for (size_t i = 0; i < rep.sig->n_cpus; i++)
		if (rep.sig->cpus[i].cpu == n)
			return &rep.sig->cpus[i];
	return NULL;
}

static const struct np_finding *finding(const char *cause)
{
	for (size_t i = 0; i < rep.an->n_findings; i++)
		if (!strcmp(rep.an->findings[i].cause, cause))
			return &rep.an->findings[i];
	return NULL;
}

static const struct np_evidence *evidence(const struct np_finding *f, const char *metric)
{
	for (size_t i = 0; f && i < f->n_ev; i++)
		if (!strcmp(f->ev[i].metric, metric))
			return &f->ev[i];
	return NULL;
}

static bool near(double a, double b, double tol)
{
	return a > b - tol && a < b + tol;
}

/* 400 cycles: 800 ms waited and 400 ms run on CPU 1; CPU 1's busy time
 * the service left is 600 ms a second, 400 of it NET_RX: two thirds of
 * the wait, 533 ms, is the softirq's. */
Test(steal, run_queue_wait_is_attributed_to_the_cpus_softirq_share)
{
	const struct np_sig_cpu *c;

	build();
	cr_assert(rep.sig->have_softirq_steal);
	c = cpu(1);
	cr_assert_not_null(c);
	cr_assert_eq(c->svc_runnable_ns, 800 * MS);
	cr_assert_eq(c->svc_on_cpu_ns, 400 * MS);
	cr_assert(near(c->net_share_of_others, 2.0 / 3, 0.01), "%f", c->net_share_of_others);
	cr_assert(near((double)c->svc_runq_softirq_ns, 533.3 * MS, 2 * MS), "%" PRIu64,
		  c->svc_runq_softirq_ns);
	cr_assert_eq(rep.sig->steal_runq_ns, c->svc_runq_softirq_ns);
	cr_assert_eq(rep.sig->steal_cpu, 1);
	/* no CPU samples: the interrupted time is unknown, not zero */
	cr_assert(!rep.sig->steal_have_samples);
	c = cpu(0);
	cr_assert(!c || (!c->svc_runnable_ns && !c->svc_runq_softirq_ns));
}

Test(steal, names_the_cpu_and_the_rps_mask_that_steers_there)
{
	const struct np_finding *f;
	const struct np_evidence *e;

	build();
	cr_assert_eq(rep.sig->n_steering, 1);
	cr_assert_str_eq(rep.sig->steering[0].what, "rps_cpus");
	cr_assert(strstr(rep.sig->steering[0].where, "veth-srv rx-0"), "%s",
		  rep.sig->steering[0].where);
	cr_assert(rep.sig->steal_have_rfs && !rep.sig->steal_rfs_on);
	cr_assert_not_null(rep.an->verdict);
	cr_assert_str_eq(rep.an->verdict->cause, "stack.softirq", "%s: %s", rep.an->verdict->cause,
			 rep.an->verdict->summary);
	f = finding("stack.softirq");
	e = evidence(f, "service_softirq_share");
	cr_assert_not_null(e);
	cr_assert_str_eq(e->where, "CPU 1");
	/* 533 ms of the service's 1200 ms busy time */
	cr_assert(near(e->value, 0.444, 0.01), "%f", e->value);
	cr_assert_eq(f->severity, NP_SEV_CRITICAL);
	cr_assert_not_null(evidence(f, "rps_cpus"));
	cr_assert_not_null(evidence(f, "runqueue_softirq_ns"));
	cr_assert(strstr(f->summary, "CPU 1") && strstr(f->summary, "rps_cpus"), "%s", f->summary);
	cr_assert(strstr(f->advice, "rps_cpus") && strstr(f->advice, "taskset"), "%s", f->advice);
	/* the run-queue wait is the stack's, not other work's */
	f = finding("host.cpu_contention");
	cr_assert(!f || f->severity <= NP_SEV_INFO);
}

/* RPS steers to CPU 0: nothing on record puts the work on CPU 1, and the
 * finding says so by naming no steering. */
Test(steal, a_mask_without_the_cpu_is_not_named)
{
	const struct np_finding *f;

	rps_mask = "00000000,00000001";
	build();
	cr_assert_eq(rep.sig->n_steering, 0);
	f = finding("stack.softirq");
	cr_assert_not_null(f);
	cr_assert_null(evidence(f, "rps_cpus"));
	cr_assert(!strstr(f->summary, "steered"), "%s", f->summary);
}

/* The CPU spends 20 ms a second in NET_RX: the wait is other work's. */
Test(steal, little_softirq_on_the_cpu_is_no_finding)
{
	const struct np_finding *f;

	cpu1_net_ms = 20;
	build();
	f = finding("stack.softirq");
	cr_assert(!f || f->severity <= NP_SEV_INFO, "%s", f ? f->summary : "");
	cr_assert(!rep.an->verdict || strcmp(rep.an->verdict->cause, "stack.softirq"));
}

/* With the worker's samples: a fifth of its 400 ms on CPU 1 was softirq
 * that interrupted it; three fifths were in network softirq at all, 60 ms
 * a second of CPU 1's 400 ms of NET_RX that it ran itself.  Its wait is
 * charged with the rest: 340 of the 600 ms a second it left the CPU. */
Test(steal, samples_give_the_interrupted_time_and_the_services_own_softirq)
{
	const struct np_sig_cpu *c;

	with_samples = true;
	build();
	cr_assert(rep.sig->steal_have_samples);
	c = cpu(1);
	cr_assert_not_null(c);
	cr_assert(near((double)c->svc_interrupted_ns, 80.0 * MS, 1 * MS), "%" PRIu64,
		  c->svc_interrupted_ns);
	cr_assert_eq(rep.sig->steal_interrupted_ns, c->svc_interrupted_ns);
	cr_assert(near(c->net_share_of_others, 340.0 / 600, 0.01), "%f", c->net_share_of_others);
	cr_assert(near((double)c->svc_runq_softirq_ns, 800.0 * 340 / 600 * MS, 2 * MS), "%" PRIu64,
		  c->svc_runq_softirq_ns);
	cr_assert_not_null(evidence(finding("stack.softirq"), "interrupted_ns"));
}
