/* schedtotals.c - a thread's totals with its open interval closed
 * (schedtotals.h). */
#include <string.h>

#include "profiler/cpu/schedtotals.h"

void np_sched_totals(const struct np_sched_thread *t, uint64_t now, struct np_rec_sched_thread *r)
{
	uint64_t open = now > t->since_ns ? now - t->since_ns : 0;

	memcpy(r->comm, t->comm, sizeof(r->comm));
	r->comm[15] = '\0';
	r->first_ns = t->first_ns;
	r->last_ns = now;
	r->on_cpu_ns = t->on_cpu_ns;
	r->runq_ns = t->runq_ns;
	memcpy(r->off_ns, t->off_ns, sizeof(r->off_ns));
	r->switches_vol = t->switches_vol;
	r->switches_invol = t->switches_invol;
	r->wakeups = t->wakeups;
	r->flags = t->born ? NP_SCHED_THREAD_BORN : 0;
	switch (t->state) {
	case NP_TS_DEAD:
		r->last_ns = t->last_ns;
		r->flags |= NP_SCHED_THREAD_EXITED;
		break;
	case NP_TS_OFF:
		r->off_ns[t->reason < NP_OFF_COUNT ? t->reason : NP_OFF_OTHER] += open;
		if (!t->last_ns)
			r->flags |= NP_SCHED_THREAD_PROC;
		break;
	case NP_TS_RUNNABLE:
		r->runq_ns += open;
		break;
	default: /* on CPU, or running since before the window without a switch */
		r->on_cpu_ns += open;
		break;
	}
}
