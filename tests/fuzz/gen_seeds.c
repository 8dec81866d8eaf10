/* gen_seeds.c - writes the seed recordings for fuzz_recording.
 *
 *   fuzz_gen_seeds DIR
 *
 * Produces small recordings through the real writer: one with every block
 * type, one cut short (no END, as a killed profiler leaves it), one with
 * only metadata, one with the overhead governor's records, and one of a
 * service (service.seed: processes, their threads, exchanges and listeners).  The committed corpus/fuzz_recording/ seeds were made with
 * it on x86_64 (records are host-endian).
 */
#include <stdio.h>
#include <string.h>

#include "profiler/format/recording.h"

/* One of each exchange and kernel stack record, so mutations reach those
 * parts of the report. */
static int write_network(struct np_writer *w)
{
	static struct np_rec_xch_window win;
	struct np_rec_xch_config cfg = {.ts_ns = 1,
					.slow_ns = 1000000,
					.window_ns = 1000000000,
					.sample_every = 64,
					.flags = 0x1f,
					.n_listen_ports = 1,
					.listen_ports = {8080}};
	struct np_xch_event xe[2] = {
		{.start_ns = 100,
		 .arrival_ns = 100,
		 .read_start_ns = 200,
		 .read_end_ns = 300,
		 .write_start_ns = 400,
		 .write_end_ns = 500,
		 .wire_ns = 600,
		 .total_ns = 500,
		 .queued_ns = 100,
		 .app_ns = 300,
		 .tx_ns = 100,
		 .tid = 7,
		 .status = 200,
		 .flags = NP_XEV_SLOW | NP_XEV_ARRIVAL | NP_XEV_WIRE | NP_XEV_LABEL,
		 .family = 2,
		 .lport = 8080,
		 .rport = 40000,
		 .laddr = {127, 0, 0, 1},
		 .raddr = {127, 0, 0, 2},
		 .label_len = 9,
		 .label = "GET /path"},
		{.start_ns = 700,
		 .total_ns = 50,
		 .tid = 8,
		 .flags = NP_XEV_OUTBOUND | NP_XEV_SAMPLED,
		 .family = 10,
		 .label_len = 128,
		 .label_cut = 1},
	};
	struct np_rec_drop_reason rn = {.reason = 2, .name = "NOT_SPECIFIED"};
	struct np_net_event ne = {.ts_ns = 800,
				  .cookie = 5,
				  .kind = NP_NET_RETRANS,
				  .family = 2,
				  .lport = 8080,
				  .rport = 40000};
	struct np_rec_net_drop nd = {.ts_ns = 900,
				     .location = 0xffffffff81000000ull,
				     .count = 3,
				     .reason = 2,
				     .where = "tcp_v4_rcv+0x1a2"};
	struct np_rec_softirq sq = {
		.ts_ns = 900,
		.cpu = 1,
		.rx = {.count = 3, .total_ns = 3000, .max_ns = 2000, .hist = {[10] = 3}}};
	struct np_rec_net_totals nt = {.ts_ns = 900,
				       .t = {.drops = 3, .retrans = 1, .target_retrans = 1}};
	struct np_rec_reason_count rc = {.ts_ns = 900, .reason = 2, .count = 3};
	static const char netcfg[] = "sysctl.net.core.rps_sock_flow_entries=4096\n"
				     "if.0.name=eth0\nif.0.rx-0.rps_cpus=00000000,00000002\n"
				     "if.0.rx-0.rps_cpus.cpus=1\nif.0.rx-0.rps_flow_cnt=256\n"
				     "if.0.tx-0.xps_cpus=3\n";
	struct np_rec_iface ifc = {.ts_ns = 1,
				   .id = 0,
				   .ifindex = 2,
				   .num_rx_queues = 1,
				   .num_tx_queues = 1,
				   .name = "eth0"};
	struct np_rec_netcpu_sample cs[2] = {
		{.ts_ns = 1, .cpu = 1, .have = NP_CPU_STAT, .user_ns = 10, .softirq_ns = 5},
		{.ts_ns = 900, .cpu = 1, .have = NP_CPU_STAT, .user_ns = 400, .softirq_ns = 300}};
	int err;

	win.ts_ns = 900;
	win.start_ns = 1;
	win.d.served = 2;
	win.d.app_ns = 600;
	win.d.total_ns = 1000;
	win.d.hist[NP_XH_TOTAL][np_xh_bucket(500)] = 2;
	err = np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win), &win, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(xe[0]), xe, 2);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_REASONS, sizeof(rn), &rn, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_EVENTS, sizeof(ne), &ne, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_DROPS, sizeof(nd), &nd, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(sq), &sq, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(nt), &nt, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_REASON_COUNT, sizeof(rc), &rc, 1);
	/* steering and per-CPU time, so mutations reach the rps_cpus masks and
	 * the softirq attribution (report/attribution/signals_steal.c) */
	if (!err)
		err = np_writer_block(w, NP_BLK_NET_CONFIG, 1, netcfg, sizeof(netcfg) - 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_IFACE, sizeof(ifc), &ifc, 1);
	if (!err)
		err = np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(cs[0]), cs, 2);
	return err;
}

/* The overhead governor's records (overhead.seed): a budget, two seconds
 * measured, and every shed step, so mutations reach report/model/overhead_report.c. */
static int write_overhead(const char *dir)
{
	char path[4096];
	struct np_writer *w;
	struct np_rec_gov_config cfg = {.ts_ns = 1,
					.budget_ppm = 50000,
					.flags = NP_GOV_BPF_STATS,
					.programs = 21,
					.est_ns_per_call = 2500};
	struct np_rec_overhead o[2] = {
		{.ts_ns = 1000000001,
		 .wall_ns = 1000000000,
		 .own_cpu_ns = 20000000,
		 .bpf_ns = 150000000,
		 .traced_calls = 100000},
		{.ts_ns = 2000000001,
		 .wall_ns = 1000000000,
		 .own_cpu_ns = 10000000,
		 .bpf_ns = 140000000,
		 .traced_calls = 90000,
		 .level = 5},
	};
	struct np_rec_shed sh[5] = {
		{.ts_ns = 1000000001,
		 .step = 1,
		 .share_ppm = 170000,
		 .source = "syscalls",
		 .what = "slow_call_threshold_ns",
		 .from = 1000000,
		 .to = 4000000},
		{.ts_ns = 1000000001,
		 .step = 2,
		 .source = "exchanges",
		 .what = "sample_every",
		 .from = 64,
		 .to = 256},
		{.ts_ns = 1000000001,
		 .step = 3,
		 .source = "netstack",
		 .what = "softirq_napi_programs",
		 .from = 1},
		{.ts_ns = 1000000001,
		 .step = 4,
		 .source = "cpu_samples",
		 .what = "frequency_hz",
		 .from = 99,
		 .to = 24},
		{.ts_ns = 1000000001,
		 .step = 5,
		 .source = "cpu_samples",
		 .what = "frequency_hz",
		 .from = 24},
	};
	struct np_rec_end end = {.ts_ns = 2000000001, .reason = NP_END_DURATION};
	int rc;

	snprintf(path, sizeof(path), "%s/overhead.seed", dir);
	rc = np_writer_open(path, &w);
	if (rc)
		return rc;
	np_writer_meta_u64(w, "start_ns", 1);
	np_writer_meta_u64(w, "max_overhead_ppm", 50000);
	rc = np_writer_meta_flush(w);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_GOV_CONFIG, sizeof(cfg), &cfg, 1);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_OVERHEAD, sizeof(o[0]), o, 2);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_SHED, sizeof(sh[0]), sh, 5);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	np_writer_free(w);
	return rc;
}

/* A service of a master and two workers: processes, thread-to-process map,
 * served exchanges of each worker (per-process percentiles) and listeners,
 * one shared and one SO_REUSEPORT, so mutations reach process_report.c;
 * and a worker's socket in another network namespace, and one in a
 * namespace that was not polled (NP_BLK_SOCK_NETNS, net_report.c). */
static int write_service(const char *dir)
{
	char path[4096];
	struct np_writer *w;
	struct np_rec_process procs[3] = {
		{.ts_ns = 9000, .pid = 1, .comm = "nginx", .threads = 1},
		{.ts_ns = 9000, .pid = 2, .ppid = 1, .comm = "nginx", .threads = 1, .exchanges = 2},
		{.ts_ns = 9000, .pid = 3, .ppid = 1, .comm = "nginx", .threads = 1, .exchanges = 1},
	};
	struct np_rec_thread_pid tp[3] = {{1, 1}, {2, 2}, {3, 3}};
	struct np_rec_xch_config cfg = {.ts_ns = 1, .slow_ns = 1000000, .sample_every = 64};
	struct np_xch_event xe[3] = {
		{.start_ns = 100, .total_ns = 2000000, .tid = 2, .flags = NP_XEV_SLOW},
		{.start_ns = 200, .total_ns = 500, .tid = 2, .flags = NP_XEV_SAMPLED},
		{.start_ns = 300, .total_ns = 700, .tid = 3, .flags = NP_XEV_SAMPLED},
	};
	struct np_rec_listen_holder lh[4] = {
		{.inode = 10, .pid = 1, .family = 2, .lport = 80, .laddr = {127, 0, 0, 1}},
		{.inode = 10, .pid = 2, .family = 2, .lport = 80, .laddr = {127, 0, 0, 1}},
		{.inode = 11, .pid = 2, .flags = NP_LISTEN_REUSEPORT, .family = 10, .lport = 443},
		{.inode = 12, .pid = 3, .flags = NP_LISTEN_REUSEPORT, .family = 10, .lport = 443},
	};
	struct np_rec_sock_info si = {.ts_ns = 9000,
				      .inode = 11,
				      .family = 10,
				      .proto = 6,
				      .state = 10,
				      .flags = NP_SOCK_LISTENER,
				      .lport = 443};
	struct np_rec_sock_netns sn[2] = {
		{.inode = 11, .netns_ino = 4026532999, .primary_ino = 4026531840, .pid = 2},
		{.inode = 12,
		 .netns_ino = 4026533000,
		 .primary_ino = 4026531840,
		 .pid = 3,
		 .flags = NP_SOCKNS_UNPOLLED},
	};
	struct np_rec_end end = {.ts_ns = 10000, .reason = NP_END_DURATION};
	int rc;

	snprintf(path, sizeof(path), "%s/service.seed", dir);
	rc = np_writer_open(path, &w);
	if (rc)
		return rc;
	rc = np_writer_meta(w, "pid", "1");
	if (!rc)
		rc = np_writer_meta(w, "start_ns", "1");
	if (!rc)
		rc = np_writer_meta_flush(w);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_PROCESSES, sizeof(procs[0]), procs, 3);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_THREAD_PIDS, sizeof(tp[0]), tp, 3);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(xe[0]), xe, 3);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_LISTEN_HOLDERS, sizeof(lh[0]), lh, 4);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_SOCK_INFO, sizeof(si), &si, 1);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_SOCK_NETNS, sizeof(sn[0]), sn, 2);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	np_writer_free(w);
	return rc;
}

static int write_one(const char *dir, const char *name, int blocks)
{
	char path[4096];
	struct np_writer *w;
	struct np_rec_source src = {.name = "syscalls",
				    .status = NP_SOURCE_DEGRADED,
				    .detail = "epoll_pwait2 missing"};
	struct np_sys_event ev[2] = {
		{.start_ns = 1000,
		 .dur_ns = 2000000,
		 .ret = 512,
		 .tid = 7,
		 .fd = 4,
		 .sys = NP_SYS_read,
		 .flags = NP_EV_SLOW | NP_EV_ADDR,
		 .family = 2,
		 .lport = 8080,
		 .rport = 40000,
		 .proto = 6,
		 .laddr = {127, 0, 0, 1},
		 .raddr = {127, 0, 0, 2}},
		{.start_ns = 5000,
		 .dur_ns = 90000000,
		 .ret = 1,
		 .tid = 8,
		 .fd = 3,
		 .sys = NP_SYS_epoll_wait,
		 .flags = NP_EV_SLOW},
	};
	struct np_rec_sys_stats st = {.ts_ns = 9000,
				      .sys = NP_SYS_read,
				      .stats = {.count = 10,
						.errors = 1,
						.eagain = 1,
						.bytes = 5120,
						.total_ns = 20000000,
						.max_ns = 2000000,
						.hist = {[20] = 9, [21] = 1}}};
	struct np_rec_thread th[2] = {
		{.ts_ns = 9000,
		 .tid = 7,
		 .comm = "main",
		 .first_ns = 1,
		 .last_ns = 9000,
		 .on_cpu_ns = 4000,
		 .runq_ns = 100,
		 .calls = 10,
		 .sys_ns = 20000000},
		{.ts_ns = 9000,
		 .tid = 8,
		 .flags = NP_THREAD_EXITED | NP_THREAD_NO_SCHED,
		 .comm = "io",
		 .first_ns = 2,
		 .last_ns = 8000,
		 .calls = 1},
	};
	struct np_rec_drops drops = {.ts_ns = 9000, .count = {1, 0, 0, 0, 0, 0, 0, 1}};
	struct np_rec_end end = {.ts_ns = 10000, .reason = NP_END_DURATION};
	/* CPU samples and the scheduler: a two-frame stack with an inline
	 * frame and a kernel frame, and code without a symbol under it
	 * (string offsets into `strings`) */
	static const char strings[] = "\0main\0hot\0inl\0/bin/app\0tcp_sendmsg";
	struct np_rec_stack_node nodes[4] = {{1, 0, 1, 0},
					     {2, 1, 2, 0},
					     {3, 2, 3, 0},
					     {4, 2, 4, 0}};
	struct np_rec_frame frames[5] = {
		{.pc = 1, .count = 1, .module = 1, .function = 1},
		{.pc = 2, .count = 2, .module = 1, .function = 6, .file = 14, .line = 3},
		{.pc = 2,
		 .index = 1,
		 .count = 2,
		 .module = 1,
		 .function = 10,
		 .flags = NP_FR_INLINE},
		{.pc = 3,
		 .count = 1,
		 .module = 2,
		 .function = 23,
		 .cls = NP_CLS_KNET,
		 .flags = NP_FR_KERNEL},
		{.pc = 4, .count = 1, .module = 1, .flags = NP_FR_NOSYM, .offset = 0x40},
	};
	struct np_rec_module mods[2] = {{.id = 1, .flags = NP_MOD_MAIN, .name = 14},
					{.id = 2, .flags = NP_MOD_KERNEL}};
	struct np_rec_cpu_sample samples[3] = {{.ts_ns = 3000, .tid = 7, .node = 2},
					       {.ts_ns = 4000, .tid = 7, .node = 3},
					       {.ts_ns = 4500, .tid = 7, .node = 4}};
	struct np_rec_cpu_stats cstats = {.ts_ns = 9000, .samples = 3, .frequency_hz = 99};
	struct np_sched_event sev = {.ts_ns = 3500,
				     .tid = 7,
				     .type = NP_SCHED_SWITCH_OUT,
				     .reason = NP_OFF_NET,
				     .sys = 45,
				     .kstack = 1};
	struct np_rec_sched_thread sth = {.ts_ns = 9000,
					  .tid = 7,
					  .comm = "main",
					  .first_ns = 1,
					  .last_ns = 9000,
					  .on_cpu_ns = 4000,
					  .runq_ns = 999,
					  .off_ns = {4000}};
	struct np_rec_offcpu off = {.tid = 7,
				    .sys = 45,
				    .node = 3,
				    .reason = NP_OFF_NET,
				    .count = 2,
				    .total_ns = 4000,
				    .max_ns = 3000};
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = np_writer_open(path, &w);
	if (rc)
		return rc;
	np_writer_meta(w, "netprof_version", "0.1.0");
	np_writer_meta(w, "comm", "np\\server\n\x1b\xff");
	np_writer_meta_u64(w, "pid", 4242);
	np_writer_meta_u64(w, "start_ns", 1);
	np_writer_meta_u64(w, "threshold_ns", 1000000);
	rc = np_writer_meta_flush(w);
	if (!rc && blocks > 0)
		rc = np_writer_block(w, NP_BLK_SOURCE, sizeof(src), &src, 1);
	if (!rc && blocks > 0)
		rc = np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev[0]), ev, 2);
	if (!rc && blocks > 0)
		rc = np_writer_block(w, NP_BLK_SYS_STATS, sizeof(st), &st, 1);
	if (!rc && blocks > 0)
		rc = np_writer_block(w, NP_BLK_THREADS, sizeof(th[0]), th, 2);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_DROPS, sizeof(drops), &drops, 1);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_STACK_NODES, sizeof(nodes[0]), nodes, 4);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_CPU_SAMPLES, sizeof(samples[0]), samples, 3);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(frames[0]), frames, 5);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_MODULES, sizeof(mods[0]), mods, 2);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_STRINGS, 1, strings, sizeof(strings));
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_CPU_STATS, sizeof(cstats), &cstats, 1);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_SCHED_EVENTS, sizeof(sev), &sev, 1);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_SCHED_THREADS, sizeof(sth), &sth, 1);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_SCHED_OFFCPU, sizeof(off), &off, 1);
	if (!rc && blocks > 1)
		rc = write_network(w);
	if (!rc && blocks > 1)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	np_writer_free(w);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (write_one(argv[1], "full.seed", 2) || write_one(argv[1], "cut.seed", 1) ||
	    write_one(argv[1], "meta-only.seed", 0) || write_overhead(argv[1]) ||
	    write_service(argv[1])) {
		fprintf(stderr, "%s: cannot write seeds in %s\n", argv[0], argv[1]);
		return 1;
	}
	return 0;
}
