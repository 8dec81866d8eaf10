/* test_procreport.c - a service's processes: each worker's served exchange
 * latency from the recorded events (report/model/process_report.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exchange.h"
#include "report/model/process_report.h"

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
