/* test_sched.c - the scheduler source's per-thread state machine
 * (bpf/schedstate.bpf.h, the code bpf/sched.bpf.c runs, compiled here as
 * user space) and the totals user space writes from it
 * (profiler/cpu/schedtotals.h), on synthetic event sequences.
 *
 * The drivers below dispatch the events as the three BPF programs do:
 * sched_switch (the previous task leaves, the next one gets the CPU),
 * sched_wakeup and sched_wakeup_new.  Every interval an event closes goes
 * to one state, so the totals always add up to the time accounted. */
#include <criterion/criterion.h>
#include <string.h>

#include "bpf/schedstate.bpf.h"
#include "profiler/cpu/schedtotals.h"

enum out_kind { OUT_PREEMPT, OUT_BLOCK, OUT_EXIT };

/* What the off-CPU aggregation map would have received. */
static uint64_t agg_ns[NP_OFF_COUNT], agg_count;

static struct np_sched_thread fresh(uint64_t window)
{
	struct np_sched_thread t;

	memset(&t, 0, sizeof(t));
	t.first_ns = t.since_ns = window;
	t.sys = t.kstack = -1;
	return t;
}

static void add_closed(uint32_t reason, uint64_t dur)
{
	cr_assert_lt(reason, NP_OFF_COUNT);
	agg_ns[reason] += dur;
	agg_count++;
}

static void switch_out(struct np_sched_thread *t, uint64_t now, enum out_kind k, uint8_t reason)
{
	np_ts_leave_cpu(t, now);
	if (k == OUT_EXIT)
		np_ts_exit(t);
	else if (k == OUT_PREEMPT)
		np_ts_preempted(t);
	else
		np_ts_block(t, reason, 232, -1);
}

static void switch_in(struct np_sched_thread *t, uint64_t now)
{
	__u64 dur = 0;
	__u32 reason = 0;

	if (np_ts_switch_in(t, now, &dur, &reason))
		add_closed(reason, dur);
}

/* sched_wakeup; a thread blocked since before the window is given the
 * reason its registers would (here: unknown_reason). */
static int wakeup(struct np_sched_thread *t, uint64_t now, uint8_t unknown_reason)
{
	__u64 dur = 0;
	__u32 reason = 0;

	if (t->state == NP_TS_UNKNOWN) {
		t->reason = unknown_reason;
		t->kstack = -1;
		t->state = NP_TS_OFF;
	}
	if (!np_ts_wakeup(t, now, &dur, &reason))
		return 0;
	add_closed(reason, dur);
	return 1;
}

static uint64_t accounted(const struct np_sched_thread *t)
{
	uint64_t sum = t->on_cpu_ns + t->runq_ns;

	for (int i = 0; i < NP_OFF_COUNT; i++)
		sum += t->off_ns[i];
	return sum;
}

static uint64_t rec_total(const struct np_rec_sched_thread *r)
{
	uint64_t sum = r->on_cpu_ns + r->runq_ns;

	for (int i = 0; i < NP_OFF_COUNT; i++)
		sum += r->off_ns[i];
	return sum;
}

static void reset_agg(void)
{
	memset(agg_ns, 0, sizeof(agg_ns));
	agg_count = 0;
}

Test(sched, a_threads_life_from_birth_to_exit)
{
	struct np_sched_thread t = fresh(0);
	struct np_rec_sched_thread r;

	reset_agg();
	np_ts_born(&t, 1000);
	switch_in(&t, 1010);                         /* runnable 10 */
	switch_out(&t, 1100, OUT_BLOCK, NP_OFF_NET); /* on 90 */
	cr_assert_eq(wakeup(&t, 1500, 0), 1);        /* off NET 400 */
	cr_assert_eq(wakeup(&t, 1510, 0), 0, "a runnable thread is not woken twice");
	switch_in(&t, 1520);                          /* runnable 20 */
	switch_out(&t, 1600, OUT_PREEMPT, 0);         /* on 80 */
	switch_in(&t, 1700);                          /* runnable 100 */
	switch_out(&t, 1800, OUT_BLOCK, NP_OFF_LOCK); /* on 100 */
	switch_in(&t, 2000);                          /* off LOCK 200, no wakeup seen */
	switch_out(&t, 2100, OUT_EXIT, 0);            /* on 100 */

	cr_assert_eq(t.state, NP_TS_DEAD);
	cr_assert_eq(t.runq_ns, 130);
	cr_assert_eq(t.on_cpu_ns, 370);
	cr_assert_eq(t.off_ns[NP_OFF_NET], 400);
	cr_assert_eq(t.off_ns[NP_OFF_LOCK], 200);
	cr_assert_eq(accounted(&t), 2100 - 1000);
	cr_assert_eq(t.switches_vol, 2);
	cr_assert_eq(t.switches_invol, 1);
	cr_assert_eq(t.wakeups, 1);
	cr_assert_eq(agg_count, 2);
	cr_assert_eq(agg_ns[NP_OFF_NET], 400);
	cr_assert_eq(agg_ns[NP_OFF_LOCK], 200);

	memset(&r, 0, sizeof(r));
	np_sched_totals(&t, 5000, &r);
	cr_assert_eq(r.flags, NP_SCHED_THREAD_BORN | NP_SCHED_THREAD_EXITED);
	cr_assert_eq(r.first_ns, 1000);
	cr_assert_eq(r.last_ns, 2100, "an exited thread ends at its exit, not at the snapshot");
	cr_assert_eq(rec_total(&r), 1100, "nothing is added after the exit");
}

Test(sched, a_thread_of_unknown_state_since_the_window)
{
	struct np_sched_thread a = fresh(100), b = fresh(100), c = fresh(100);
	struct np_rec_sched_thread r;

	reset_agg();
	/* first event a switch-in: it was runnable */
	switch_in(&a, 160);
	cr_assert_eq(a.runq_ns, 60);
	/* first event a wakeup: it was blocked, for what its registers say */
	cr_assert_eq(wakeup(&b, 400, NP_OFF_POLL), 1);
	cr_assert_eq(b.off_ns[NP_OFF_POLL], 300);
	cr_assert_eq(b.state, NP_TS_RUNNABLE);
	/* first event a switch-out: it was on the CPU */
	switch_out(&c, 150, OUT_PREEMPT, 0);
	cr_assert_eq(c.on_cpu_ns, 50);
	/* no event at all: its time is the open interval's, counted on CPU
	 * (the /proc seed makes blocked threads OFF before the window opens) */
	c = fresh(100);
	memset(&r, 0, sizeof(r));
	np_sched_totals(&c, 700, &r);
	cr_assert_eq(r.on_cpu_ns, 600);
	cr_assert_eq(r.flags, 0);
}

Test(sched, totals_close_the_open_interval_in_the_current_state)
{
	struct np_sched_thread t = fresh(0);
	struct np_rec_sched_thread r;

	reset_agg();
	switch_in(&t, 10);
	switch_out(&t, 30, OUT_BLOCK, NP_OFF_DISK);
	np_sched_totals(&t, 130, &r);
	cr_assert_eq(r.off_ns[NP_OFF_DISK], 100);
	cr_assert_eq(r.last_ns, 130);
	cr_assert_eq(t.off_ns[NP_OFF_DISK], 0, "the BPF entry is not changed");
	cr_assert_eq(rec_total(&r), 130);

	cr_assert_eq(wakeup(&t, 200, 0), 1);
	np_sched_totals(&t, 260, &r);
	cr_assert_eq(r.runq_ns, 10 + 60);
	cr_assert_eq(rec_total(&r), 260);

	switch_in(&t, 300);
	np_sched_totals(&t, 345, &r);
	cr_assert_eq(r.on_cpu_ns, 20 + 45);
	cr_assert_eq(rec_total(&r), 345);

	/* a snapshot taken before the entry's last transition adds nothing */
	np_sched_totals(&t, 250, &r);
	cr_assert_eq(rec_total(&r), 300);
}

/* Seeded from /proc as blocked (OFF, no scheduler event yet): marked so
 * the report knows its times come from /proc alone. */
Test(sched, a_thread_idle_all_along_is_marked_proc)
{
	struct np_sched_thread t = fresh(0);
	struct np_rec_sched_thread r;

	t.state = NP_TS_OFF;
	t.reason = NP_OFF_SLEEP;
	np_sched_totals(&t, 1000, &r);
	cr_assert_eq(r.flags, NP_SCHED_THREAD_PROC);
	cr_assert_eq(r.off_ns[NP_OFF_SLEEP], 1000);
	t.last_ns = 10;
	np_sched_totals(&t, 1000, &r);
	cr_assert_eq(r.flags, 0);
}

/* A reason beyond the table (a corrupt or newer entry) counts as OTHER,
 * in the kernel and in user space. */
Test(sched, an_unknown_reason_counts_as_other)
{
	struct np_sched_thread t = fresh(0);
	struct np_rec_sched_thread r;

	reset_agg();
	switch_in(&t, 0);
	switch_out(&t, 10, OUT_BLOCK, 200);
	np_sched_totals(&t, 50, &r);
	cr_assert_eq(r.off_ns[NP_OFF_OTHER], 40);
	cr_assert_eq(wakeup(&t, 60, 0), 1);
	cr_assert_eq(t.off_ns[NP_OFF_OTHER], 50);
	cr_assert_eq(agg_ns[NP_OFF_OTHER], 50);
}

/* Random event sequences, dispatched as the programs do: at every step
 * the totals add up to the time from the thread's first accounting to its
 * last transition, the aggregation holds the same off-CPU time, and a
 * snapshot adds exactly the open interval. */
Test(sched, random_sequences_account_every_nanosecond_once)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int run = 0; run < 200; run++) {
		struct np_sched_thread t = fresh(1000);
		uint64_t now = 1000;
		bool born = run % 3 == 0;

		reset_agg();
		if (born) {
			now += 17;
			np_ts_born(&t, now);
		}
		for (int step = 0; step < 300 && t.state != NP_TS_DEAD; step++) {
			struct np_rec_sched_thread r;
			uint64_t before = accounted(&t);
			unsigned ev;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			ev = (unsigned)(seed >> 33) % 100;
			now += 1 + (seed >> 20) % 5000;
			if (ev < 35) {
				switch_in(&t, now);
			} else if (ev < 70) {
				if (t.state == NP_TS_ONCPU || t.state == NP_TS_UNKNOWN)
					switch_out(&t, now, ev < 50 ? OUT_PREEMPT : OUT_BLOCK,
						   (uint8_t)(ev % (NP_OFF_COUNT + 2)));
			} else if (ev < 99) {
				wakeup(&t, now, (uint8_t)(ev % NP_OFF_COUNT));
			} else if (t.state == NP_TS_ONCPU) {
				switch_out(&t, now, OUT_EXIT, 0);
			}
			cr_assert_geq(accounted(&t), before, "run %d step %d", run, step);
			cr_assert_eq(accounted(&t), t.last_ns ? t.last_ns - t.first_ns : 0,
				     "run %d step %d state %u", run, step, t.state);
			for (int i = 0; i < NP_OFF_COUNT; i++)
				cr_assert_eq(agg_ns[i], t.off_ns[i], "run %d reason %d", run, i);
			np_sched_totals(&t, now + 7, &r);
			cr_assert_eq(rec_total(&r),
				     t.state == NP_TS_DEAD ? t.last_ns - t.first_ns
							   : now + 7 - t.first_ns,
				     "run %d step %d", run, step);
			cr_assert_eq(!!(r.flags & NP_SCHED_THREAD_BORN), born);
		}
	}
}
