/* test_procreport.c - a service's processes: each worker's served exchange
 * latency from the recorded events, and its listeners with the processes
 * holding them (report/model/process_report.c). */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/exchange.h"
#include "profiler/format/netrec.h"
#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"
#include "report/model/process_report.h"
#include "testutil.h"

#define MS 1000000ull

/* A master (pid 1, tid 1) and two workers (pids 2 and 3, tids 2, 3, 30). */
static void service(struct np_proc_report *p)
{
	static const struct np_rec_thread_pid tp[] = {{1, 1}, {2, 2}, {3, 3}, {30, 3}};

	memset(p, 0, sizeof(*p));
	p->v = calloc(3, sizeof(*p->v));
	p->tp = calloc(4, sizeof(*p->tp));
	cr_assert(p->v && p->tp);
	p->n = 3;
	p->v[0] = (struct np_proc_row){.pid = 1, .role = NP_ROLE_MASTER};
	p->v[1] = (struct np_proc_row){.pid = 2, .ppid = 1, .role = NP_ROLE_WORKER};
	p->v[2] = (struct np_proc_row){.pid = 3, .ppid = 1, .role = NP_ROLE_WORKER};
	memcpy(p->tp, tp, sizeof(tp));
	p->n_tp = 4;
	p->workers = 2;
	p->have = true;
}

static struct np_xch_event ev(uint32_t tid, uint64_t total_ns, uint8_t flags)
{
	struct np_xch_event e;

	memset(&e, 0, sizeof(e));
	e.tid = tid;
	e.total_ns = total_ns;
	e.flags = flags;
	return e;
}

Test(procreport, every_exchange_recorded_gives_exact_percentiles)
{
	struct np_proc_report p;
	struct np_xch_event e[202];
	size_t n = 0;

	service(&p);
	for (uint64_t i = 1; i <= 100; i++) /* worker 2: 1..100 ms */
		e[n++] = ev(2, i * MS, i * MS >= 50 * MS ? NP_XEV_SLOW : NP_XEV_SAMPLED);
	for (uint64_t i = 1; i <= 100; i++) /* worker 3, over two threads: 2..200 ms */
		e[n++] = ev(i % 2 ? 3 : 30, 2 * i * MS, NP_XEV_SLOW);
	e[n++] = ev(2, 900 * MS, NP_XEV_SLOW | NP_XEV_OUTBOUND); /* made, not served */
	e[n++] = ev(77, 900 * MS, NP_XEV_SLOW);                  /* no process known */
	cr_assert_eq(np_proc_report_latency(&p, e, n, 1), 0);
	cr_expect(!p.v[0].have_latency, "the master served nothing");
	cr_expect_eq(p.v[1].xch_events, 100);
	cr_expect_eq(p.v[1].p50_ns, 51 * MS);
	cr_expect_eq(p.v[1].p99_ns, 100 * MS);
	cr_expect_eq(p.v[2].xch_events, 100, "both threads of worker 3");
	cr_expect_eq(p.v[2].p50_ns, 102 * MS);
	cr_expect_eq(p.v[2].p99_ns, 200 * MS);
	cr_expect(!p.latency_sampled);
	cr_expect_eq(p.latency_workers, 2);
	cr_expect_eq(p.p99_ns.min, 100 * MS);
	cr_expect_eq(p.p99_ns.max, 200 * MS);
	cr_expect_eq(p.p50_ns.min, 51 * MS);
	np_proc_report_fini(&p);
}

Test(procreport, sampled_fast_exchanges_weigh_n_each)
{
	struct np_proc_report p;
	struct np_xch_event e[20];
	size_t n = 0;

	service(&p);
	/* 1 in 10 of the fast ones (1 ms) and every slow one (100 ms): 100
	 * fast and 10 slow exchanges really */
	for (int i = 0; i < 10; i++)
		e[n++] = ev(2, 1 * MS, NP_XEV_SAMPLED);
	for (int i = 0; i < 10; i++)
		e[n++] = ev(2, 100 * MS, NP_XEV_SLOW | (i % 3 ? 0 : NP_XEV_SAMPLED));
	cr_assert_eq(np_proc_report_latency(&p, e, n, 10), 0);
	cr_expect_eq(p.v[1].xch_events, 20);
	cr_expect_eq(p.v[1].p50_ns, 1 * MS, "unweighted, half the events are slow");
	cr_expect_eq(p.v[1].p99_ns, 100 * MS);
	cr_expect(p.latency_sampled);
	cr_expect(!p.v[2].have_latency);
	cr_expect_eq(p.latency_workers, 1);
	np_proc_report_fini(&p);
}

Test(procreport, only_slow_exchanges_recorded_give_no_percentiles)
{
	struct np_proc_report p;
	struct np_xch_event e[] = {ev(2, 100 * MS, NP_XEV_SLOW), ev(3, 5 * MS, NP_XEV_SLOW)};

	service(&p);
	cr_assert_eq(np_proc_report_latency(&p, e, 2, 0), 0);
	cr_expect_eq(p.v[1].xch_events, 1);
	cr_expect(!p.v[1].have_latency && !p.v[2].have_latency);
	cr_expect_eq(p.latency_workers, 0);
	np_proc_report_fini(&p);
}

Test(procreport, a_recording_of_one_process_is_left_alone)
{
	struct np_proc_report p;
	struct np_xch_event e[] = {ev(2, 100 * MS, NP_XEV_SLOW)};

	memset(&p, 0, sizeof(p));
	cr_assert_eq(np_proc_report_latency(&p, e, 1, 1), 0);
	cr_expect_eq(p.latency_workers, 0);
}

static struct np_rec_listen_holder holder(uint64_t inode, uint32_t pid, uint16_t port,
					  uint8_t flags)
{
	struct np_rec_listen_holder h = {
		.inode = inode, .pid = pid, .flags = flags, .family = AF_INET, .lport = port};

	h.laddr[0] = 127;
	h.laddr[3] = 1;
	return h;
}

/* Port 8080: one socket in the master and both workers, found in two walks
 * (a repeat); port 80: a SO_REUSEPORT socket per worker. */
Test(procreport, listeners_group_their_holders_per_socket)
{
	struct np_rec_process procs[3] = {{.pid = 1}, {.pid = 2, .ppid = 1}, {.pid = 3, .ppid = 1}};
	struct np_rec_listen_holder h[] = {
		holder(500, 3, 8080, 0),
		holder(500, 1, 8080, 0),
		holder(600, 2, 80, NP_LISTEN_REUSEPORT),
		holder(500, 2, 8080, 0),
		holder(700, 3, 80, NP_LISTEN_REUSEPORT),
		holder(500, 3, 8080, 0),
	};
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	struct np_recording *rec;
	struct np_proc_report p;
	struct np_writer *w;

	t_mkdtemp(dir);
	t_pathf(path, "%s/l.nprof", dir);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_PROCESSES, sizeof(procs[0]), procs, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_LISTEN_HOLDERS, sizeof(h[0]), h, 6), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_proc_report_build(rec, &p), 0);
	cr_assert_eq(p.n_listeners, 3);
	/* by port: the two SO_REUSEPORT sockets, then the shared one */
	cr_expect_eq(p.listeners[0].port, 80);
	cr_expect(p.listeners[0].reuseport && p.listeners[1].reuseport);
	cr_expect_eq(p.listeners[0].n_pids, 1);
	cr_expect_eq(p.listeners[0].pids[0], 2);
	cr_expect_eq(p.listeners[1].pids[0], 3);
	cr_expect_str_eq(p.listeners[2].endpoint, "127.0.0.1:8080");
	cr_expect(!p.listeners[2].reuseport);
	cr_assert_eq(p.listeners[2].n_pids, 3, "each holder once");
	cr_expect(p.listeners[2].pids[0] == 1 && p.listeners[2].pids[1] == 2 &&
		  p.listeners[2].pids[2] == 3);
	np_proc_report_fini(&p);
	np_recording_free(rec);
	t_rmtree(dir);
}
