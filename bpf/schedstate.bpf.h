/* schedstate.bpf.h - the scheduler source's per-thread state machine
 * (bpf/sched.bpf.c): how each transition closes the interval of the state a
 * thread leaves into its totals.
 *
 * Plain C on struct np_sched_thread (schedev.h), without maps or helpers,
 * so that the unit tests (tests/unit/test_sched.c) run the same code on
 * synthetic event sequences.  The caller adds what needs the kernel: the
 * thread's entry, why it blocked, its stack, the off-CPU aggregation of
 * the intervals these functions close, and the events.
 *
 *   UNKNOWN --switch-in--> ONCPU --preempted--> RUNNABLE --switch-in--> ONCPU
 *                            |  \--blocked--> OFF --wakeup--> RUNNABLE
 *                            |                 \--switch-in (no wakeup seen)--> ONCPU
 *                            \--exit--> DEAD
 */
#ifndef NP_SCHEDSTATE_BPF_H
#define NP_SCHEDSTATE_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "schedev.h"

#ifndef barrier_var
#define barrier_var(var) ((void)0)
#endif

#define NP_TS_INLINE static inline __attribute__((always_inline))

/* Ends an off-CPU interval at now: adds it to the thread's time off for
 * its reason (an unknown reason counts as OTHER).  Returns its length and
 * sets *reason_out to the reason it was counted under. */
NP_TS_INLINE __u64 np_ts_close_off(struct np_sched_thread *t, __u64 now, __u32 *reason_out)
{
	__u64 dur = now - t->since_ns;
	__u32 reason = t->reason;

	if (reason >= NP_OFF_COUNT)
		reason = NP_OFF_OTHER;
	barrier_var(reason);
	if (reason < NP_OFF_COUNT)
		t->off_ns[reason] += dur;
	*reason_out = reason;
	return dur;
}

/* A thread leaves the CPU: whatever it was recorded as, it was on it. */
NP_TS_INLINE void np_ts_leave_cpu(struct np_sched_thread *t, __u64 now)
{
	t->on_cpu_ns += now - t->since_ns;
	t->since_ns = now;
	t->last_ns = now;
}

/* ... and then exits, is preempted (stays runnable) or blocks. */
NP_TS_INLINE void np_ts_exit(struct np_sched_thread *t)
{
	t->state = NP_TS_DEAD;
}

NP_TS_INLINE void np_ts_preempted(struct np_sched_thread *t)
{
	t->state = NP_TS_RUNNABLE;
	t->switches_invol++;
}

NP_TS_INLINE void np_ts_block(struct np_sched_thread *t, __u8 reason, __s32 sys, __s32 kstack)
{
	t->state = NP_TS_OFF;
	t->reason = reason;
	t->sys = sys;
	t->kstack = kstack;
	t->switches_vol++;
}

/* A thread gets the CPU.  Off CPU (woken without a wakeup seen): closes
 * that interval and returns 1 with its length and reason; runnable, or in
 * an unknown state since the window opened: the time was run-queue time. */
NP_TS_INLINE int np_ts_switch_in(struct np_sched_thread *t, __u64 now, __u64 *off_dur,
				 __u32 *off_reason)
{
	int closed = 0;

	if (t->state == NP_TS_OFF) {
		*off_dur = np_ts_close_off(t, now, off_reason);
		closed = 1;
	} else if (t->state == NP_TS_ONCPU) {
		t->on_cpu_ns += now - t->since_ns;
	} else {
		t->runq_ns += now - t->since_ns;
	}
	t->state = NP_TS_ONCPU;
	t->since_ns = now;
	t->last_ns = now;
	return closed;
}

/* A wakeup: only a thread off CPU becomes runnable (returns 1, with the
 * off-CPU interval closed); one already runnable or on a CPU is left as
 * it is (returns 0). */
NP_TS_INLINE int np_ts_wakeup(struct np_sched_thread *t, __u64 now, __u64 *off_dur,
			      __u32 *off_reason)
{
	if (t->state != NP_TS_OFF)
		return 0;
	*off_dur = np_ts_close_off(t, now, off_reason);
	t->state = NP_TS_RUNNABLE;
	t->since_ns = now;
	t->last_ns = now;
	t->wakeups++;
	return 1;
}

/* A thread created inside the window becomes runnable for the first time. */
NP_TS_INLINE void np_ts_born(struct np_sched_thread *t, __u64 now)
{
	t->first_ns = now;
	t->since_ns = now;
	t->last_ns = now;
	t->state = NP_TS_RUNNABLE;
	t->born = 1;
}

#endif /* NP_SCHEDSTATE_BPF_H */
