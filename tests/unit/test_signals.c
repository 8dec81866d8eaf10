/* test_signals.c - the sources' glue into struct np_signals
 * (np_signals_from_cpu, np_signals_from_net), the flame graph stacks and
 * the sources' timeline series, on recordings written with the real writer
 * in the shapes the collectors write them: cumulative per-second
 * snapshots, samples written only when something changed, a stack tree
 * with frames and strings at the end.  Then the rules on those signals:
 * the verdict each fault must give, and the ones it must not. */
#include <criterion/criterion.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "profiler/format/recording.h"
#include "report/attribution/findings.h"
#include "report/report.h"
#include "report/model/series.h"
#include "testutil.h"

#define S 1000000000ull
#define MS 1000000ull
#define START (100 * S)
#define DUR (4 * S)

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;
static bool built;

/* The exchange source's blocks written by build(), if any. */
enum xch_mode {
	XCH_NONE,
	XCH_FAST,     /* 1,000 requests a second, 200 us of each queued */
	XCH_BACKLOG,  /* 20 a second, 10 ms of each queued */
	XCH_TCP_HELD, /* responses held in TCP: 30 ms of tx, 0.1 ms of it in a qdisc */
	XCH_QDISC,    /* responses held in a qdisc: 30 ms of tx, 20 ms of it in the qdisc */
};
static enum xch_mode xmode;
static bool with_stack; /* the kernel stack source's blocks */
enum cg_mode { CG_NONE, CG_THROTTLED, CG_MOVED };
static enum cg_mode cgmode; /* the cgroup CPU records */
static bool imbalanced;     /* npworker-0 on CPU 95% of the time, npworker-1 idle */

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/sig.nprof", tmp);
	built = false;
	xmode = XCH_NONE;
	with_stack = false;
	cgmode = CG_NONE;
	imbalanced = false;
}

static void teardown(void)
{
	if (built) {
		np_report_fini(&rep);
		np_recording_free(rec);
	}
	t_rmtree(tmp);
}

TestSuite(signals, .init = setup, .fini = teardown);

static void meta(struct np_writer *w)
{
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "pid", 199);
	np_writer_meta(w, "comm", "npserver");
	np_writer_meta_u64(w, "cpus", 2);
	np_writer_meta_u64(w, "threshold_ns", MS);
	np_writer_meta_u64(w, "poll_ms", 100);
	np_writer_meta(w, "syscall.230", "clock_nanosleep");
	np_writer_meta(w, "syscall.35", "nanosleep");
	np_writer_meta(w, "syscall.232", "epoll_wait");
	cr_assert_eq(np_writer_meta_flush(w), 0);
}

/* The syscall source's view: the worker (tid 200) made network calls, the
 * main thread (199) none; schedstat times that the tracer's replace. */
static void syscall_threads(struct np_writer *w)
{
	for (int sec = 1; sec <= 4; sec++) {
		struct np_rec_thread t[2];

		memset(t, 0, sizeof(t));
		t[0] = (struct np_rec_thread){.ts_ns = START + (uint64_t)sec * S,
					      .tid = 199,
					      .first_ns = START,
					      .last_ns = START + (uint64_t)sec * S};
		snprintf(t[0].comm, sizeof(t[0].comm), "npserver");
		t[1] = (struct np_rec_thread){.ts_ns = START + (uint64_t)sec * S,
					      .tid = 200,
					      .first_ns = START,
					      .last_ns = START + (uint64_t)sec * S,
					      .on_cpu_ns = (uint64_t)sec * 100 * MS,
					      .calls = (uint64_t)sec * 1000,
					      .sys_ns = (uint64_t)sec * 200 * MS,
					      .wait_ns = (uint64_t)sec * 150 * MS};
		snprintf(t[1].comm, sizeof(t[1].comm), "npworker-0");
		if (imbalanced) {
			struct np_rec_thread t3[3] = {t[0], t[1], t[1]};

			t3[1].on_cpu_ns = (uint64_t)sec * 950 * MS;
			t3[2].tid = 201;
			t3[2].on_cpu_ns = (uint64_t)sec * 20 * MS;
			t3[2].calls = (uint64_t)sec * 10;
			snprintf(t3[2].comm, sizeof(t3[2].comm), "npworker-1");
			cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t3[0]), t3, 3), 0);
			continue;
		}
		cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t[0]), t, 2), 0);
	}
}

/* ---- the CPU sources ---- */

enum cpu_mode { CPU_NONE, CPU_BUSY, CPU_SLEEPY };

static const char strings[] =
	"\0main\0worker_main\0handle_request\0burn_cpu\0/usr/bin/npserver\0[kernel]\0tcp_sendmsg"
	"\0do_nanosleep\0hrtimer_nanosleep\0__schedule\0bpf_prog_tracer\0libc.so.6\0memcpy";
enum {
	S_MAIN = 1,
	S_WORKER = 6,
	S_HANDLE = 18,
	S_BURN = 33,
	S_EXE = 42,
	S_KERNEL = 60,
	S_TCP = 69,
	S_NANO = 81,
	S_HRT = 94,
	S_SCHED = 112,
	S_BPF = 123,
	S_LIBC = 139,
	S_MEMCPY = 149
};

static void cpu_blocks(struct np_writer *w, enum cpu_mode mode)
{
	struct np_rec_module mods[] = {
		{.id = 1, .flags = NP_MOD_MAIN, .name = S_EXE},
		{.id = 2, .flags = NP_MOD_KERNEL, .name = S_KERNEL},
		{.id = 3, .name = S_LIBC},
	};
	struct np_rec_frame fr[] = {
		{.pc = 1, .count = 1, .module = 1, .function = S_MAIN, .cls = NP_CLS_APP},
		{.pc = 2, .count = 1, .module = 1, .function = S_WORKER, .cls = NP_CLS_APP},
		{.pc = 3, .count = 1, .module = 1, .function = S_HANDLE, .cls = NP_CLS_APP},
		{.pc = 4, .count = 1, .module = 1, .function = S_BURN, .cls = NP_CLS_APP},
		{.pc = 5,
		 .count = 1,
		 .module = 2,
		 .function = S_TCP,
		 .cls = NP_CLS_KNET,
		 .flags = NP_FR_KERNEL},
		{.pc = 6,
		 .count = 1,
		 .module = 2,
		 .function = S_HRT,
		 .cls = NP_CLS_KERNEL,
		 .flags = NP_FR_KERNEL},
		{.pc = 7,
		 .count = 1,
		 .module = 2,
		 .function = S_NANO,
		 .cls = NP_CLS_KERNEL,
		 .flags = NP_FR_KERNEL},
		{.pc = 8,
		 .count = 1,
		 .module = 2,
		 .function = S_SCHED,
		 .cls = NP_CLS_KERNEL,
		 .flags = NP_FR_KERNEL},
		{.pc = 9,
		 .count = 1,
		 .module = 2,
		 .function = S_BPF,
		 .cls = NP_CLS_KERNEL,
		 .flags = NP_FR_KERNEL},
		{.pc = 10, .count = 1, .module = 3, .function = S_MEMCPY, .cls = NP_CLS_LIB},
	};
	/* user stacks root first; the kernel part hangs below the user part */
	struct np_rec_stack_node nodes[] = {
		{1, 0, 1, 0},
		{2, 1, 2, 0},
		{3, 2, 3, 0},
		{4, 3, 4, 0},
		{5, 3, 5, 0},
		/* an off-CPU kernel stack: hrtimer_nanosleep > do_nanosleep >
		 * __schedule > the tracer's own frame */
		{6, 0, 6, 0},
		{7, 6, 7, 0},
		{8, 7, 8, 0},
		{9, 8, 9, 0},
		{10, 1, 10, 0},
	};
	struct np_rec_cpu_sample smp[400];
	uint32_t n = 0;
	struct np_rec_cpu_stats st = {.ts_ns = START + DUR,
				      .frequency_hz = 99,
				      .stack_bytes = 16384};
	bool busy = mode == CPU_BUSY;
	/* the worker's totals: on, runnable, readiness, sleep (4 s each) */
	uint64_t on = busy ? 3200 * MS : 200 * MS, rq = busy ? 200 * MS : 20 * MS;
	uint64_t sleep = busy ? 0 : 3500 * MS, poll = DUR - on - rq - sleep;

	cr_assert_eq(np_writer_block(w, NP_BLK_STRINGS, 1, strings, sizeof(strings)), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_NODES, sizeof(nodes[0]), nodes, 10), 0);
	/* worker samples: in window 0 all in burn_cpu; in windows 1-3, 3 of
	 * 4 in burn_cpu and 1 in tcp_sendmsg */
	for (int k = 0; k < (busy ? 320 : 20); k++) {
		uint64_t ts = START + (uint64_t)k * (DUR / (busy ? 320 : 20));
		bool net = ts >= START + S && k % 4 == 0;

		smp[n++] = (struct np_rec_cpu_sample){.ts_ns = ts, .tid = 200, .node = net ? 5 : 4};
	}
	/* the main thread copies memory: hot, but not in the service's path */
	for (int k = 0; k < 60; k++)
		smp[n++] = (struct np_rec_cpu_sample){.ts_ns = START + (uint64_t)k * 50 * MS,
						      .tid = 199,
						      .node = 10};
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_SAMPLES, sizeof(smp[0]), smp, n), 0);
	st.samples = n;
	cr_assert_eq(np_writer_block(w, NP_BLK_CPU_STATS, sizeof(st), &st, 1), 0);

	/* the tracer's cumulative per-thread snapshots: one a second */
	for (int sec = 1; sec <= 4; sec++) {
		struct np_rec_sched_thread t[2];
		uint64_t f = (uint64_t)sec;

		memset(t, 0, sizeof(t));
		t[0] = (struct np_rec_sched_thread){.ts_ns = START + f * S,
						    .tid = 199,
						    .first_ns = START,
						    .last_ns = START + f * S};
		snprintf(t[0].comm, sizeof(t[0].comm), "npserver");
		t[0].off_ns[NP_OFF_SLEEP] = f * S;
		t[1] = (struct np_rec_sched_thread){.ts_ns = START + f * S,
						    .tid = 200,
						    .first_ns = START,
						    .last_ns = START + f * S,
						    .on_cpu_ns = on / 4 * f,
						    .runq_ns = rq / 4 * f,
						    .switches_vol = 100 * f};
		snprintf(t[1].comm, sizeof(t[1].comm), "npworker-0");
		t[1].off_ns[NP_OFF_POLL] = poll / 4 * f;
		t[1].off_ns[NP_OFF_SLEEP] = sleep / 4 * f;
		cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_THREADS, sizeof(t[0]), t, 2), 0);
	}
	{
		struct np_rec_offcpu off[3] = {
			{.tid = 200,
			 .sys = 232,
			 .kstack = -1,
			 .reason = NP_OFF_POLL,
			 .count = 500,
			 .total_ns = poll,
			 .max_ns = 5 * MS},
			{.tid = 200,
			 .sys = 230,
			 .node = 9,
			 .kstack = 3,
			 .reason = NP_OFF_SLEEP,
			 .count = 175,
			 .total_ns = sleep,
			 .max_ns = 20 * MS},
			/* the main thread sleeps all along: not the service's wait */
			{.tid = 199,
			 .sys = 35,
			 .node = 9,
			 .kstack = 4,
			 .reason = NP_OFF_SLEEP,
			 .count = 1,
			 .total_ns = DUR,
			 .max_ns = DUR},
		};
		struct np_sched_event ev[] = {
			{.ts_ns = START + 100 * MS, .tid = 200, .type = NP_SCHED_SWITCH_IN},
			{.ts_ns = START + 500 * MS,
			 .tid = 200,
			 .type = NP_SCHED_SWITCH_OUT,
			 .reason = NP_OFF_SLEEP,
			 .sys = 230,
			 .kstack = 3},
			/* out of order across CPUs: the report merges by time */
			{.ts_ns = START + 950 * MS, .tid = 200, .type = NP_SCHED_SWITCH_IN},
			{.ts_ns = START + 900 * MS, .tid = 200, .type = NP_SCHED_WAKEUP},
			{.ts_ns = START + 1500 * MS,
			 .tid = 200,
			 .type = NP_SCHED_SWITCH_OUT,
			 .reason = NP_REASON_PREEMPTED},
			{.ts_ns = START + 1600 * MS, .tid = 200, .type = NP_SCHED_SWITCH_IN},
			{.ts_ns = START + 2000 * MS,
			 .tid = 200,
			 .type = NP_SCHED_SWITCH_OUT,
			 .reason = NP_OFF_POLL,
			 .sys = 232},
		};

		if (sleep == 0)
			off[1].total_ns = off[1].count = 0;
		cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_OFFCPU, sizeof(off[0]), off, 3), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_SCHED_EVENTS, sizeof(ev[0]), ev,
					     sizeof(ev) / sizeof(ev[0])),
			     0);
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(fr[0]), fr, 10), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_MODULES, sizeof(mods[0]), mods, 3), 0);
}

/* ---- the network source ---- */

enum net_mode { NET_XDP, NET_FILTER };

static void net_blocks(struct np_writer *w, enum net_mode mode)
{
	const char cfg[] = "sysctl.net.core.somaxconn=128\n"
			   "if.0.name=veth-srv\nif.0.feature.tx-tcp-segmentation=off\n"
			   "if.0.feature.tx-generic-segmentation=on\nif.0.feature.rx-gro=off\n"
			   "if.0.feature.rx-checksum=on\nif.0.feature.tx-checksum-ip-generic=on\n"
			   "if.0.rx-0.rps_cpus.cpus=0\n"
			   "if.1.name=lo\nif.1.feature.tx-tcp-segmentation=on\n"
			   "if.2.name=eth0\nif.2.feature.tx-tcp-segmentation=on\n"
			   "if.2.feature.tx-generic-segmentation=on\nif.2.feature.rx-gro=on\n"
			   "if.2.feature.rx-checksum=on\nif.2.feature.tx-checksum-ipv4=off "
			   "[fixed]\n"
			   "if.2.feature.tx-checksum-ip-generic=on\nif.2.rx-0.rps_cpus.cpus=0\n";
	struct np_rec_iface ifs[3] = {
		{.ts_ns = START,
		 .id = 0,
		 .ifindex = 2,
		 .role = NP_IF_TARGET_NS | NP_IF_ROUTE,
		 .num_rx_queues = 1,
		 .num_tx_queues = 1,
		 .n_ethtool = 4},
		{.ts_ns = START,
		 .id = 1,
		 .ifindex = 1,
		 .role = NP_IF_TARGET_NS,
		 .flags = IFF_LOOPBACK,
		 .num_rx_queues = 1,
		 .num_tx_queues = 1},
		{.ts_ns = START,
		 .id = 2,
		 .ifindex = 3,
		 .role = NP_IF_DEFAULT,
		 .num_rx_queues = 1,
		 .num_tx_queues = 1},
	};
	struct np_rec_ethtool_name names[4] = {{0, 0, "peer_ifindex"},
					       {0, 1, "rx_queue_0_xdp_drops"},
					       {0, 2, "rx_queue_0_drops"},
					       {0, 3, "tx_queue_0_xdp_xmit_errors"}};
	struct np_rec_sock_info si[3] = {{.ts_ns = START,
					  .inode = 11,
					  .id = 0,
					  .family = AF_INET,
					  .proto = IPPROTO_TCP,
					  .state = 10,
					  .flags = NP_SOCK_LISTENER,
					  .lport = 8080,
					  .backlog_limit = 128},
					 {.ts_ns = START,
					  .inode = 12,
					  .id = 1,
					  .family = AF_INET,
					  .proto = IPPROTO_TCP,
					  .state = 1,
					  .lport = 8080,
					  .rport = 40000},
					 /* a UDP socket whose buffer overflowed */
					 {.ts_ns = START,
					  .inode = 13,
					  .id = 2,
					  .family = AF_INET,
					  .proto = IPPROTO_UDP,
					  .state = 7,
					  .lport = 5353}};
	struct np_rec_sock_summary sum[3] = {
		{.ts_ns = START + DUR,
		 .id = 0,
		 .polls = 40,
		 .polls_recv_q = 12,
		 .recv_q_max = 129,
		 .send_q_max = 128,
		 .state_last = 10},
		{.ts_ns = START + DUR,
		 .id = 1,
		 .polls = 40,
		 .polls_recv_q = 25,
		 .recv_q_max = 6144,
		 .rcvbuf_last = 8192,
		 .retrans = 3,
		 .busy_us = 3000000,
		 .rwnd_limited_us = 30000,
		 .sndbuf_limited_us = 0,
		 .state_last = 1},
		{.ts_ns = START + DUR, .id = 2, .polls = 40, .sk_drops = 17, .state_last = 7}};
	for (int i = 0; i < 3; i++)
		snprintf(ifs[i].netns, sizeof(ifs[i].netns), i == 2 ? "host" : "target");
	snprintf(ifs[0].name, sizeof(ifs[0].name), "veth-srv");
	snprintf(ifs[0].kind, sizeof(ifs[0].kind), "veth");
	snprintf(ifs[0].driver, sizeof(ifs[0].driver), "veth");
	snprintf(ifs[1].name, sizeof(ifs[1].name), "lo");
	snprintf(ifs[2].name, sizeof(ifs[2].name), "eth0");
	snprintf(ifs[2].driver, sizeof(ifs[2].driver), "virtio_net");
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_CONFIG, 1, cfg, sizeof(cfg) - 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_IFACE, sizeof(ifs[0]), ifs, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_ETHTOOL_NAME, sizeof(names[0]), names, 4), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SOCK_INFO, sizeof(si[0]), si, 3), 0);
	for (int i = 0; i <= 40; i++) {
		uint64_t ts = START + (uint64_t)i * 100 * MS;
		/* drops from 1 s on: 10 per poll (XDP), 2 ring drops in all */
		uint64_t xdp = mode == NET_XDP && i > 10 ? (uint64_t)(i - 10) * 10 : 0;
		uint64_t ring = mode == NET_XDP && i > 20 ? 2 : 0;
		struct np_rec_net_poll p = {.ts_ns = ts,
					    .sockets = 2,
					    .recv_q_max = i >= 10 && i < 35 ? 6144 : 0,
					    .accept_q_max = i >= 20 && i < 24 ? 129 : 0,
					    .retrans = i == 30 ? 3 : 0};
		struct np_rec_ethtool_sample es[3] = {{ts, 0, 0, 7},
						      {ts, 0, 1, xdp},
						      {ts, 0, 2, ring}};
		struct np_rec_link_sample ls[3] = {
			{.ts_ns = ts,
			 .id = 0,
			 .rx_packets = 1000 + (uint64_t)i * 200,
			 .tx_packets = 1000 + (uint64_t)i * 180},
			{.ts_ns = ts,
			 .id = 1,
			 .rx_packets = (uint64_t)i,
			 .tx_packets = (uint64_t)i},
			/* the backlog drops count in eth0's rx_dropped too */
			{.ts_ns = ts,
			 .id = 2,
			 .rx_packets = 5000 + (uint64_t)i * 100,
			 .tx_packets = 5000 + (uint64_t)i * 100,
			 .rx_dropped = i >= 15 ? 50 : 0}};
		struct np_rec_qdisc_sample qs = {.ts_ns = ts,
						 .id = 0,
						 .handle = 0x10000,
						 .parent = 0xffffffff,
						 .drops = i >= 25 ? 4 : 0,
						 .overlimits = (uint64_t)i * 5,
						 .qlen = i == 25 ? 40 : 0,
						 .backlog_bytes = i == 25 ? 60000 : 0};
		struct np_rec_netcpu_sample cs[2] = {
			{.ts_ns = ts,
			 .cpu = 0,
			 .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS | NP_CPU_STAT,
			 .processed = (uint64_t)i * 300,
			 .net_rx = (uint64_t)i * 100,
			 .dropped = i >= 15 ? 50 : 0,
			 .softirq_ns = (uint64_t)i * 3 * MS},
			{.ts_ns = ts,
			 .cpu = 1,
			 .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS | NP_CPU_STAT,
			 .processed = (uint64_t)i * 100,
			 .net_rx = (uint64_t)i * 30,
			 .softirq_ns = (uint64_t)i * MS}};
		struct np_rec_snmp_sample sn = {.ts_ns = ts,
						.present = (1ull << NP_SNMP_TCP_OUT_SEGS) |
							   (1ull << NP_SNMP_TCP_RETRANS_SEGS) |
							   (1ull << NP_SNMP_LISTEN_OVERFLOWS) |
							   (1ull << NP_SNMP_LISTEN_DROPS) |
							   (1ull
							    << NP_SNMP_TCP_TO_ZERO_WINDOW_ADV) |
							   (1ull << NP_SNMP_UDP_RCVBUF_ERRORS),
						.have_extra = NP_SNMP_HAVE_CONNTRACK |
							      NP_SNMP_HAVE_CONNTRACK_MAX,
						.conntrack_count = 100,
						.conntrack_max = 65536};

		sn.v[NP_SNMP_TCP_OUT_SEGS] = (uint64_t)i * 250;
		sn.v[NP_SNMP_TCP_RETRANS_SEGS] = i >= 30 ? (mode == NET_FILTER ? 40 : 12) : 0;
		sn.v[NP_SNMP_LISTEN_OVERFLOWS] = i >= 23 ? 5 : 0;
		sn.v[NP_SNMP_LISTEN_DROPS] = i >= 23 ? 5 : 0;
		sn.v[NP_SNMP_TCP_TO_ZERO_WINDOW_ADV] = i >= 12 ? 40 : 0;
		sn.v[NP_SNMP_UDP_RCVBUF_ERRORS] = i >= 30 ? 17 : 0;
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_POLL, sizeof(p), &p, 1), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_ETHTOOL_SAMPLE, sizeof(es[0]), es, 3), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_LINK_SAMPLE, sizeof(ls[0]), ls, 3), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_QDISC_SAMPLE, sizeof(qs), &qs, 1), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(cs[0]), cs, 2), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_SNMP_SAMPLE, sizeof(sn), &sn, 1), 0);
		if (i == 5 || i == 15 || i == 22) {
			/* the connection's queue memory nearly fills its buffer */
			struct np_rec_sock_sample ss = {.ts_ns = ts,
							.id = 1,
							.state = 1,
							.recv_q = i == 15 ? 6144 : 100,
							.rmem_alloc = i == 15 ? 7900 : 1280,
							.rcvbuf = 8192};

			cr_assert_eq(np_writer_block(w, NP_BLK_SOCK_SAMPLE, sizeof(ss), &ss, 1), 0);
		}
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(sum[0]), sum, 3), 0);
}

/* ---- the exchange and kernel stack sources ---- */

static void xch_blocks(struct np_writer *w)
{
	struct np_rec_xch_config cfg = {.ts_ns = START,
					.slow_ns = MS,
					.window_ns = S,
					.sample_every = 64,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE | NP_XCFG_QDISC};
	/* sampled, read at +400 ms by the worker: its app time [400, 1000) ms
	 * is on CPU 100 + 50 ms, asleep 400 ms, runnable 50 ms (cpu_blocks) */
	struct np_xch_event ev = {.start_ns = START + 390 * MS,
				  .arrival_ns = START + 390 * MS,
				  .read_start_ns = START + 400 * MS,
				  .read_end_ns = START + 400 * MS,
				  .write_start_ns = START + 1000 * MS,
				  .write_end_ns = START + 1000 * MS,
				  .wire_ns = START + 1090 * MS,
				  .total_ns = 700 * MS,
				  .queued_ns = 10 * MS,
				  .app_ns = 600 * MS,
				  .tx_ns = 90 * MS,
				  .tid = 200,
				  .flags = NP_XEV_SAMPLED,
				  .family = AF_INET,
				  .lport = 8080,
				  .rport = 40000};

	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(ev), &ev, 1), 0);
	for (int sec = 1; sec <= 4; sec++) {
		struct np_rec_xch_window win = {.ts_ns = START + (uint64_t)sec * S,
						.start_ns = START + (uint64_t)(sec - 1) * S};
		struct np_xch_stats *d = &win.d;
		uint64_t n = xmode == XCH_FAST ? 1000 : 20;

		d->served = n;
		/* the arrival of half of them was seen: the sum covers those */
		d->queued_known = n / 2;
		d->tx_known = n;
		d->qdisc_known = n;
		d->app_ns = n * 100000;
		switch (xmode) {
		case XCH_FAST:
			d->queued_ns = d->queued_known * 200000;
			d->tx_ns = n * 20000;
			break;
		case XCH_BACKLOG:
			d->queued_ns = d->queued_known * 10 * MS;
			d->tx_ns = n * 20000;
			break;
		case XCH_TCP_HELD:
		case XCH_QDISC:
			d->queued_ns = d->queued_known * 50000;
			d->tx_ns = n * 30 * MS;
			d->qdisc_ns = n * (xmode == XCH_QDISC ? 20 * MS : 100000);
			break;
		default:
			break;
		}
		/* totals of the components, the queued ones of all n */
		d->total_ns = d->queued_ns * 2 + d->app_ns + d->tx_ns;
		d->hist[NP_XH_TOTAL][np_xh_bucket(d->total_ns / n)] = (uint32_t)n;
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win), &win, 1), 0);
	}
}

/* Drops: NETFILTER_DROP 50 in the second window and 70 in the fourth, a
 * benign NO_SOCKET all along; NET_RX time 100 ms a second on CPU 0 and
 * 20 ms on CPU 1. */
static void stack_blocks(struct np_writer *w)
{
	struct np_rec_drop_reason names[] = {{.reason = 2, .name = "NO_SOCKET"},
					     {.reason = 6, .name = "NETFILTER_DROP"}};
	static const uint64_t nf[] = {0, 50, 50, 120};

	cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASONS, sizeof(names[0]), names, 2), 0);
	for (int sec = 1; sec <= 4; sec++) {
		uint64_t ts = START + (uint64_t)sec * S;
		struct np_rec_net_totals t = {.ts_ns = ts};
		struct np_rec_reason_count rc[] = {
			{.ts_ns = ts, .reason = 2, .count = 10 * (uint64_t)sec},
			{.ts_ns = ts, .reason = 6, .count = nf[sec - 1]}};
		struct np_rec_softirq sq[2];

		memset(sq, 0, sizeof(sq));
		for (int c = 0; c < 2; c++) {
			sq[c].ts_ns = ts;
			sq[c].cpu = (uint32_t)c;
			sq[c].rx.count = 1000 * (uint64_t)sec;
			sq[c].rx.total_ns = (c ? 20 : 100) * MS * (uint64_t)sec;
		}
		t.t.drops = rc[0].count + rc[1].count;
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(t), &t, 1), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASON_COUNT, sizeof(rc[0]), rc, 2), 0);
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(sq[0]), sq, 2), 0);
	}
}

/* The cgroup's running totals at start and once a second: 10 periods of
 * 100 ms a second, 9 of them throttled for 60 ms each, on top of totals
 * from before the recording.  CG_MOVED: the last record is of another
 * cgroup, whose counters are not this window's. */
static void cg_blocks(struct np_writer *w)
{
	for (uint64_t sec = 0; sec <= 4; sec++) {
		struct np_rec_cgroup_cpu r = {.ts_ns = START + sec * S,
					      .version = NP_CGCPU_V1,
					      .quota_us = 20000,
					      .period_us = 100000,
					      .nr_periods = 1000 + sec * 10,
					      .nr_throttled = 500 + sec * 9,
					      .throttled_ns = 30 * S + sec * 540 * MS};

		snprintf(r.path, sizeof(r.path), "%s",
			 cgmode == CG_MOVED && sec == 4 ? "/other" : "/netprof-test/svc");
		cr_assert_eq(np_writer_block(w, NP_BLK_CGROUP_CPU, sizeof(r), &r, 1), 0);
	}
}

static void build(enum cpu_mode cpu, bool net, enum net_mode nmode)
{
	struct np_writer *w;
	struct np_rec_end end = {.ts_ns = START + DUR, .reason = NP_END_DURATION};
	char err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	meta(w);
	syscall_threads(w);
	if (cpu != CPU_NONE)
		cpu_blocks(w, cpu);
	if (net)
		net_blocks(w, nmode);
	if (xmode != XCH_NONE)
		xch_blocks(w);
	if (with_stack)
		stack_blocks(w);
	if (cgmode != CG_NONE)
		cg_blocks(w);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, 10), 0);
	built = true;
}

static const struct np_finding *finding(const char *cause)
{
	for (size_t i = 0; i < rep.an->n_findings; i++)
		if (!strcmp(rep.an->findings[i].cause, cause))
			return &rep.an->findings[i];
	return NULL;
}

static const struct np_sig_thread *worker(void)
{
	const struct np_sig_thread *t = np_signals_thread(rep.sig, 200);

	cr_assert_not_null(t);
	return t;
}

static bool folded_has(const struct np_folded *f, const char *stack, uint64_t count)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (!strcmp(f->v[i].stack, stack))
			return f->v[i].count == count;
	return false;
}

/* ---- CPU ---- */

Test(signals, cpu_glue_gives_exact_times_reasons_and_the_split)
{
	const struct np_sig_thread *t;
	struct np_sig_totals tot;

	build(CPU_BUSY, false, NET_XDP);
	t = worker();
	cr_assert(t->have_offcpu_reasons);
	cr_assert_eq(t->on_cpu_ns, 3200 * MS, "the tracer's time, not schedstat's");
	cr_assert_eq(t->off_poll_ns, 600 * MS);
	cr_assert_eq(t->off_sleep_ns, 0);
	cr_assert(t->have_cpu_split);
	cr_assert_eq(t->samples, 320);
	/* 60 of 320 samples in tcp_sendmsg (kernel network stack) */
	cr_assert_eq(t->kernel_net_ns, 3200 * MS * 60 / 320);
	cr_assert_eq(t->user_ns, 3200 * MS * 260 / 320);
	np_signals_totals(rep.sig, &tot);
	cr_assert_not(tot.cpu_split_estimated);
	cr_assert_not(tot.offcpu_estimated);
	cr_assert_eq(tot.ready_wait_ns, 600 * MS, "readiness waits are idle exactly");
	/* the main thread (no network calls) is not the service */
	cr_assert_eq(tot.service_threads, 1);
}

Test(signals, hot_functions_are_the_service_threads_user_code)
{
	build(CPU_BUSY, false, NET_XDP);
	cr_assert(rep.sig->have_cpu_samples);
	cr_assert_eq(rep.sig->cpu_samples, 320);
	cr_assert(rep.sig->n_hot >= 1);
	cr_assert_str_eq(rep.sig->hot[0].function, "burn_cpu");
	cr_assert_str_eq(rep.sig->hot[0].module, "npserver");
	cr_assert_float_eq(rep.sig->hot[0].share, 260.0 / 320.0, 1e-9);
	for (size_t i = 0; i < rep.sig->n_hot; i++)
		cr_assert_str_neq(rep.sig->hot[i].function, "memcpy", "the main thread's");
}

Test(signals, per_window_times_from_the_tracer_and_the_samples)
{
	const struct np_sig_window *w0, *w2;

	build(CPU_BUSY, false, NET_XDP);
	cr_assert_eq(rep.sig->n_windows, 4);
	w0 = &rep.sig->windows[0];
	w2 = &rep.sig->windows[2];
	cr_assert(rep.sig->wknown & (1ull << NP_W_ON_CPU_NS));
	cr_assert_eq(w0->v[NP_W_ON_CPU_NS], 800 * MS);
	cr_assert_eq(w0->v[NP_W_THREAD_NS], S);
	cr_assert_eq(w0->v[NP_W_READY_WAIT_NS], 150 * MS);
	/* window 0: every sample in burn_cpu; later a quarter in the stack */
	cr_assert_eq(w0->v[NP_W_KERNEL_NET_NS], 0);
	cr_assert_eq(w2->v[NP_W_KERNEL_NET_NS], 200 * MS);
	cr_assert_eq(w2->v[NP_W_APP_CPU_NS], 600 * MS);
}

Test(signals, app_cpu_names_the_hot_function)
{
	build(CPU_BUSY, false, NET_XDP);
	cr_assert_not_null(rep.an->verdict);
	cr_assert_str_eq(rep.an->verdict->cause, "app.cpu");
	cr_assert(strstr(rep.an->verdict->summary, "burn_cpu"), "%s", rep.an->verdict->summary);
	cr_assert(strstr(rep.an->verdict->advice, "burn_cpu"), "%s", rep.an->verdict->advice);
	cr_assert_null(finding("app.blocked"));
}

Test(signals, app_blocked_names_the_sleep_and_where)
{
	const struct np_sig_wait *wt;

	build(CPU_SLEEPY, false, NET_XDP);
	cr_assert_eq(rep.sig->n_waits, 1, "the main thread's sleep is not the service's");
	wt = &rep.sig->waits[0];
	cr_assert_str_eq(wt->reason, "sleep");
	cr_assert_str_eq(wt->syscall, "clock_nanosleep");
	cr_assert_str_eq(wt->where, "do_nanosleep < hrtimer_nanosleep");
	cr_assert_eq(wt->ns, 3500 * MS);
	cr_assert_not_null(rep.an->verdict);
	cr_assert_str_eq(rep.an->verdict->cause, "app.blocked");
	cr_assert_eq(rep.an->verdict->severity, NP_SEV_CRITICAL);
	cr_assert(strstr(rep.an->verdict->summary, "sleep (clock_nanosleep: do_nanosleep"), "%s",
		  rep.an->verdict->summary);
	cr_assert(rep.an->breakdown.application_ns > rep.an->breakdown.idle_ns);
}

Test(signals, without_cpu_sources_the_estimates_stay)
{
	struct np_sig_totals tot;

	build(CPU_NONE, false, NET_XDP);
	cr_assert_not(worker()->have_offcpu_reasons);
	cr_assert_not(worker()->have_cpu_split);
	np_signals_totals(rep.sig, &tot);
	cr_assert(tot.cpu_split_estimated);
	cr_assert(tot.offcpu_estimated);
	cr_assert_null(rep.oncpu);
	cr_assert_eq(worker()->on_cpu_ns, 400 * MS, "schedstat's");
}

Test(signals, flame_graph_stacks)
{
	build(CPU_SLEEPY, false, NET_XDP);
	cr_assert_not_null(rep.oncpu);
	cr_assert_str_eq(rep.oncpu->unit, "samples");
	/* 17 samples in burn_cpu, 3 in the kernel below handle_request */
	cr_assert(folded_has(rep.oncpu, "main;worker_main;handle_request;burn_cpu", 17));
	cr_assert(folded_has(rep.oncpu, "main;worker_main;handle_request;tcp_sendmsg_[k]", 3));
	cr_assert(folded_has(rep.oncpu, "main;memcpy", 60));
	cr_assert_str_eq(rep.offcpu->unit, "ns");
	/* reason, syscall, kernel stack root first, the tracer's frame left out */
	cr_assert(folded_has(rep.offcpu,
			     "sleep;clock_nanosleep;hrtimer_nanosleep_[k];do_nanosleep_[k];"
			     "__schedule_[k]",
			     3500 * MS));
	cr_assert(folded_has(rep.offcpu, "readiness wait;epoll_wait;[no kernel stack]", 280 * MS));
}

Test(signals, thread_states_on_the_timeline)
{
	const struct np_series *st = NULL;

	build(CPU_BUSY, false, NET_XDP);
	for (size_t i = 0; i < rep.tl->n; i++)
		if (rep.tl->s[i]->kind == NP_SERIES_STATE && rep.tl->s[i]->tid == 200)
			st = rep.tl->s[i];
	cr_assert_not_null(st);
	cr_assert_str_eq(st->track, "Thread 200 npworker-0");
	/* runnable until 0.1 s, on CPU to 0.5, asleep to 0.9, runnable to
	 * 0.95, on CPU to 1.5, preempted to 1.6, on CPU to 2.0, then in
	 * epoll_wait to the end */
	struct {
		uint64_t at, dur;
		const char *label;
	} want[] = {
		{0, 100, "runnable"},  {100, 400, "on-CPU"},           {500, 400, "sleep"},
		{900, 50, "runnable"}, {950, 550, "on-CPU"},           {1500, 100, "runnable"},
		{1600, 400, "on-CPU"}, {2000, 2000, "readiness wait"},
	};
	cr_assert_eq(st->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < st->n; i++) {
		cr_assert_eq(st->p[i].ts_ns, START + want[i].at * MS, "point %zu", i);
		cr_assert_eq(st->p[i].dur_ns, want[i].dur * MS, "point %zu", i);
		cr_assert_str_eq(st->labels[st->p[i].label], want[i].label, "point %zu", i);
	}
	/* the main thread never ran: no state track */
	for (size_t i = 0; i < rep.tl->n; i++)
		cr_assert(rep.tl->s[i]->tid != 199 || rep.tl->s[i]->kind != NP_SERIES_STATE);
}

/* ---- network ---- */

Test(signals, net_glue_sockets_listeners_counters)
{
	const struct np_signals *s;

	build(CPU_BUSY, true, NET_XDP);
	s = rep.sig;
	cr_assert(s->have_sockets);
	cr_assert_eq(s->recvq_peak_bytes, 6144);
	cr_assert_eq(s->recvq_mem_peak_bytes, 7900);
	cr_assert_eq(s->recvq_rcvbuf_bytes, 8192);
	cr_assert_eq(s->recvq_polls, 25);
	cr_assert_eq(s->sock_retrans, 3);
	cr_assert_eq(s->busy_ns, 3 * S);
	cr_assert_eq(s->rwnd_limited_ns, 30 * MS);
	cr_assert(s->have_listen);
	cr_assert_eq(s->acceptq_peak, 129);
	cr_assert_eq(s->acceptq_limit, 128);
	cr_assert(s->have_backlog_config);
	cr_assert_eq(s->backlog_limit, 128);
	cr_assert_eq(s->somaxconn, 128);
	cr_assert(s->have_tcp_counters);
	cr_assert_eq(s->listen_overflows, 5);
	cr_assert_eq(s->retrans_segs, 12);
	cr_assert_eq(s->out_segs, 10000);
	cr_assert_eq(s->to_zero_window_adv, 40);
	/* the drops by protocol, for the buffer advice */
	cr_assert(s->have_udp_counters);
	cr_assert_eq(s->udp_rcvbuf_errors, 17);
	cr_assert_eq(s->sock_drops_udp, 17);
	cr_assert_eq(s->sock_drops_tcp, 0);
	cr_assert_str_eq(s->udp_drops_where, "0.0.0.0:5353");
	cr_assert(s->have_conntrack);
	cr_assert_eq(s->conntrack_max, 65536);
	cr_assert(s->have_softirq);
	cr_assert_not(s->have_softirq_time, "NET_RX time needs the softirq tracepoints");
	cr_assert_eq(s->n_cpus, 2);
	cr_assert_eq(s->cpus[0].softnet_dropped, 50);
	cr_assert_eq(s->cpus[0].processed_pkts, 12000);
	cr_assert_eq(s->cpus[0].softirq_ns, 120 * MS);
	/* whose: the worker ran on CPU 0 only (samples, switch-ins), where the
	 * softnet drops are; the UDP socket dropped its own; the listener's
	 * queue was seen full */
	{
		struct np_sig_owner o;

		cr_assert(s->have_target_cpus);
		cr_assert_eq(s->target_cpus[0], 1);
		np_signals_owner(s, NP_SHARED_SOFTNET_DROPS, &o);
		cr_assert_eq(o.owner, NP_OWNER_TARGET);
		cr_assert_eq(o.own_value, 50);
		np_signals_owner(s, NP_SHARED_SOCKET_DROPS, &o);
		cr_assert_eq(o.owner, NP_OWNER_TARGET);
		cr_assert_str_eq(o.counter, "UdpRcvbufErrors");
		cr_assert_eq(o.value, 17);
		np_signals_owner(s, NP_SHARED_LISTEN_DROPS, &o);
		cr_assert_eq(o.owner, NP_OWNER_TARGET);
		cr_assert_str_eq(o.own, "accept_q_peak");
	}
}

static const struct np_sig_iface *iface(const char *name)
{
	for (size_t i = 0; i < rep.sig->n_ifaces; i++)
		if (!strcmp(rep.sig->ifaces[i].name, name))
			return &rep.sig->ifaces[i];
	cr_assert_fail("no interface %s", name);
	return NULL;
}

Test(signals, net_glue_interfaces)
{
	const struct np_sig_iface *v, *lo, *eth;

	build(CPU_BUSY, true, NET_XDP);
	v = iface("veth-srv");
	lo = iface("lo");
	eth = iface("eth0");
	cr_assert(v->nic_layer && !v->hardware, "a veth's driver is the NIC layer");
	cr_assert(!lo->nic_layer && !lo->hardware);
	cr_assert(eth->nic_layer && eth->hardware);
	cr_assert(v->have_driver);
	/* per-queue drop counters: XDP drops and ring drops, not the tx ones */
	cr_assert_eq(v->driver_rx_drops, 302);
	cr_assert_str_eq(v->driver_top, "rx_queue_0_xdp_drops");
	cr_assert_eq(v->rx_pkts, 8000);
	cr_assert(v->have_qdisc);
	cr_assert_eq(v->qdisc_drops, 4);
	cr_assert_eq(v->qdisc_backlog_max_pkts, 40);
	cr_assert(v->have_offloads);
	cr_assert_not(v->tso);
	cr_assert(v->gso && v->rx_csum && v->tx_csum);
	cr_assert(v->have_rps && !v->rps_on);
	cr_assert(eth->tx_csum, "off [fixed] is not an offload someone turned off");
	cr_assert_eq(eth->rx_dropped, 50);
}

Test(signals, net_windows_say_when)
{
	const struct np_signals *s;

	build(CPU_BUSY, true, NET_XDP);
	s = rep.sig;
	cr_assert(s->wknown & (1ull << NP_W_LISTEN_OVERFLOWS));
	cr_assert_eq(s->windows[2].v[NP_W_LISTEN_OVERFLOWS], 5);
	cr_assert_eq(s->windows[1].v[NP_W_LISTEN_OVERFLOWS], 0);
	cr_assert_eq(s->windows[2].v[NP_W_ACCEPTQ_PEAK], 129);
	cr_assert_eq(s->windows[1].v[NP_W_RECVQ_PEAK_BYTES], 6144);
	cr_assert_eq(s->windows[0].v[NP_W_NIC_RX_DROPS], 0);
	/* the drops of the poll at 2.0 s happened before it: window 2 */
	cr_assert_eq(s->windows[1].v[NP_W_NIC_RX_DROPS], 90);
	cr_assert_eq(s->windows[2].v[NP_W_NIC_RX_DROPS], 102);
	cr_assert_eq(s->windows[2].v[NP_W_QDISC_BACKLOG_PKTS], 40);
	cr_assert_eq(s->windows[3].v[NP_W_QDISC_BACKLOG_PKTS], 0);
	cr_assert_eq(s->windows[1].v[NP_W_SOFTNET_DROPS], 50);
}

Test(signals, xdp_drops_on_the_veth_are_the_verdict)
{
	const struct np_finding *f;

	build(CPU_SLEEPY, true, NET_XDP);
	cr_assert_not_null(rep.an->verdict);
	cr_assert_str_eq(rep.an->verdict->cause, "nic.rx_drops", "%s: %s", rep.an->verdict->cause,
			 rep.an->verdict->summary);
	cr_assert(strstr(rep.an->verdict->summary, "veth-srv") &&
			  strstr(rep.an->verdict->summary, "rx_queue_0_xdp_drops"),
		  "%s", rep.an->verdict->summary);
	cr_assert_float_eq(rep.an->verdict->ev[0].value, 302, 1e-9,
			   "eth0's rx_dropped is the backlog's (softnet explains it)");
	cr_assert_eq(rep.an->verdict->n_spans, 1);
	cr_assert_eq(rep.an->verdict->spans[0].start_ns, START + S);
	/* the configuration notes */
	f = finding("stack.listen_overflow");
	cr_assert_not_null(f);
	cr_assert(strstr(f->summary, "capped by net.core.somaxconn"), "%s", f->summary);
	f = finding("stack.kernel_cpu");
	cr_assert_not_null(f);
	cr_assert(strstr(f->advice, "ethtool -k veth-srv"), "%s", f->advice);
	cr_assert_not_null(finding("stack.qdisc"));
	/* the backlog drops on eth0 are the stack's, not the NIC's */
	cr_assert_not_null(finding("stack.softirq"));
}

Test(signals, netfilter_like_loss_is_never_the_nic)
{
	build(CPU_SLEEPY, true, NET_FILTER);
	for (size_t i = 0; i < rep.an->n_findings; i++)
		cr_assert(strncmp(rep.an->findings[i].cause, "nic.", 4), "%s: %s",
			  rep.an->findings[i].cause, rep.an->findings[i].summary);
	cr_assert_not_null(finding("stack.retransmits"));
}

Test(signals, network_series_on_the_timeline)
{
	static const char *const tracks[] = {"Socket queues",
					     "Accept queue",
					     "NET_RX softirqs per CPU",
					     "Interface veth-srv (packets)",
					     "Drops (packets)",
					     "TCP retransmits (segments)",
					     "Qdisc backlog (packets)"};

	build(CPU_BUSY, true, NET_XDP);
	for (size_t k = 0; k < sizeof(tracks) / sizeof(tracks[0]); k++) {
		bool found = false;

		for (size_t i = 0; i < rep.tl->n; i++)
			found |= !strcmp(rep.tl->s[i]->track, tracks[k]) && rep.tl->s[i]->n > 0;
		cr_assert(found, "no track %s", tracks[k]);
	}
}

/* ---- exchanges and the kernel stack ---- */

Test(signals, exchange_glue_scales_what_was_seen_to_all)
{
	xmode = XCH_BACKLOG;
	build(CPU_NONE, false, NET_XDP);
	cr_assert(rep.sig->have_exchanges);
	cr_assert_eq(rep.sig->exch_count, 80);
	/* 40 arrivals seen, 10 ms each: 80 exchanges wait 800 ms */
	cr_assert_eq(rep.sig->exch_queued_ns, 800 * MS);
	/* but only the 400 ms seen are part of the exchanges' total */
	cr_assert_eq(rep.sig->exch_queued_seen_ns, 400 * MS);
	cr_assert_eq(rep.sig->exch_app_ns, 8 * MS);
	cr_assert(rep.sig->have_exch_qdisc);
	for (size_t w = 0; w < rep.sig->n_windows; w++)
		cr_assert_eq(rep.sig->windows[w].v[NP_W_EXCH_COUNT], 20, "window %zu", w);
	cr_assert(rep.sig->wknown & (1ull << NP_W_EXCH_P99_NS));
}

Test(signals, a_fast_services_queued_time_is_not_backpressure)
{
	const struct np_finding *f;

	xmode = XCH_FAST;
	build(CPU_SLEEPY, false, NET_XDP);
	f = finding("app.backpressure");
	/* 200 us queued is most of a 450 us request, but no backlog */
	if (f)
		cr_assert_eq(f->severity, NP_SEV_INFO, "%s", f->summary);
}

Test(signals, a_backlog_behind_a_busy_cpu_is_the_cpus)
{
	const struct np_finding *f;

	xmode = XCH_BACKLOG;
	build(CPU_BUSY, false, NET_XDP);
	cr_assert_not_null(rep.an->verdict);
	cr_assert_str_eq(rep.an->verdict->cause, "app.cpu", "%s", rep.an->verdict->summary);
	f = finding("app.backpressure");
	cr_assert_not_null(f);
	cr_assert_geq(f->severity, NP_SEV_WARNING);
	cr_assert(strstr(f->summary, "a consequence of app.cpu"), "%s", f->summary);
	cr_assert(strstr(rep.an->verdict->summary, "(app.backpressure)"), "%s",
		  rep.an->verdict->summary);
}

Test(signals, transmit_time_held_by_tcp_is_not_the_qdisc)
{
	const struct np_finding *f;

	xmode = XCH_TCP_HELD;
	build(CPU_SLEEPY, false, NET_XDP);
	f = finding("stack.qdisc");
	if (f)
		cr_assert_eq(f->severity, NP_SEV_INFO, "%s", f->summary);
}

Test(signals, transmit_time_in_the_qdisc_is_the_qdisc)
{
	const struct np_finding *f;

	xmode = XCH_QDISC;
	build(CPU_SLEEPY, false, NET_XDP);
	f = finding("stack.qdisc");
	cr_assert_not_null(f);
	cr_assert_geq(f->severity, NP_SEV_WARNING, "%s", f->summary);
}

Test(signals, exchanges_app_time_split_from_the_scheduler)
{
	xmode = XCH_BACKLOG;
	build(CPU_SLEEPY, false, NET_XDP);
	cr_assert_eq(rep.xch.n_slowest, 1);
	cr_assert(rep.xch.slowest[0].split.known);
	cr_assert_eq(rep.xch.slowest[0].split.on_cpu_ns, 150 * MS);
	cr_assert_eq(rep.xch.slowest[0].split.off_cpu_ns, 400 * MS);
	cr_assert_eq(rep.xch.slowest[0].split.runnable_ns, 50 * MS);
	/* the sampled one stands for all: scaled to their app time */
	cr_assert(rep.xch.app_split.known);
	cr_assert_eq(rep.xch.app_split.on_cpu_ns, rep.xch.app.sum_ns / 4);
}

Test(signals, stack_glue_drop_reasons_and_softirq_time)
{
	const struct np_finding *f;

	with_stack = true;
	build(CPU_SLEEPY, false, NET_XDP);
	cr_assert(rep.sig->have_drop_reasons);
	cr_assert_eq(rep.sig->drops_netfilter, 120);
	cr_assert_eq(rep.sig->drops_other, 0, "NO_SOCKET is the protocol's business");
	cr_assert_eq(rep.sig->windows[0].v[NP_W_NETFILTER_DROPS], 0);
	cr_assert_eq(rep.sig->windows[1].v[NP_W_NETFILTER_DROPS], 50);
	cr_assert_eq(rep.sig->windows[2].v[NP_W_NETFILTER_DROPS], 0);
	cr_assert_eq(rep.sig->windows[3].v[NP_W_NETFILTER_DROPS], 70);
	cr_assert(rep.sig->have_softirq_time);
	/* the stack source ran: no drop on the target's sockets is known zero */
	cr_assert(rep.sig->have_target_events);
	cr_assert_eq(rep.sig->target_netfilter_drops, 0);
	for (size_t w = 0; w < rep.sig->n_windows; w++) {
		cr_assert_eq(rep.sig->windows[w].v[NP_W_NET_RX_NS], 120 * MS, "window %zu", w);
		cr_assert_eq(rep.sig->windows[w].v[NP_W_NET_RX_MAX_CPU_NS], 100 * MS);
	}
	f = finding("stack.netfilter");
	cr_assert_not_null(f);
	cr_assert_eq(f->n_spans, 2, "moved in the second and fourth windows");
}

/* ---- the cgroup's CPU quota ---- */

Test(signals, cgroup_cpu_quota_is_the_window_delta)
{
	cgmode = CG_THROTTLED;
	build(CPU_NONE, false, NET_XDP);
	cr_assert(rep.sig->have_cpu_quota);
	cr_assert_eq(rep.sig->quota_version, NP_CGCPU_V1);
	cr_assert_eq(rep.sig->quota_us, 20000);
	cr_assert_eq(rep.sig->quota_period_us, 100000);
	cr_assert_eq(rep.sig->quota_periods, 40);
	cr_assert_eq(rep.sig->quota_throttled, 36);
	cr_assert_eq(rep.sig->quota_throttled_ns, 2160 * MS);
	cr_assert_str_eq(rep.sig->quota_cgroup, "/netprof-test/svc");
	/* the worker never waited to run: the quota bit, but not the service */
	cr_assert_not_null(finding("host.cpu_quota"));
	cr_assert_eq(finding("host.cpu_quota")->severity, NP_SEV_INFO);
}

Test(signals, cgroup_cpu_quota_unknown_without_records)
{
	build(CPU_NONE, false, NET_XDP);
	cr_assert_not(rep.sig->have_cpu_quota);
	cr_assert_null(finding("host.cpu_quota"));
}

Test(signals, cgroup_cpu_quota_of_another_cgroup_is_not_counted)
{
	cgmode = CG_MOVED;
	build(CPU_NONE, false, NET_XDP);
	cr_assert_not(rep.sig->have_cpu_quota);
}

/* ---- workers ---- */

Test(signals, one_busy_worker_of_two_is_app_imbalance)
{
	const struct np_finding *f;

	imbalanced = true;
	build(CPU_NONE, false, NET_XDP);
	f = finding("app.imbalance");
	cr_assert_not_null(f);
	cr_assert(f->severity >= NP_SEV_WARNING, "%s", f->summary);
	cr_assert(strstr(f->summary, "thread 200 (npworker-0)"), "%s", f->summary);
	/* the main thread (npserver) is another role, not an idle sibling */
	cr_assert(strstr(f->summary, "its 1 sibling "), "%s", f->summary);
}

Test(signals, one_worker_is_no_imbalance)
{
	build(CPU_NONE, false, NET_XDP);
	cr_assert_null(finding("app.imbalance"));
}
