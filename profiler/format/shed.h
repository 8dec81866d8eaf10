/* shed.h - the overhead governor's shed steps as a recording stores them
 * (np_rec_shed.step in timeline.h): their ids and the source each one
 * thins out.  What each step does is the collectors' business
 * (collect/shedding.h); when to take one is the governor's (session/governor.h).
 *
 * The steps, cheapest loss of information first.  Every step only thins
 * out individual events or stops a detail source; the aggregates (per
 * syscall counts and latency histograms, exchange totals and histograms,
 * thread times) stay exact for the whole window:
 *   1 syscalls:  slow-call threshold x4 (at most NP_SHED_SLOW_CAP_NS) and
 *                1-in-N timeline sampling x4 -> fewer individual calls
 *   2 exchanges: the same for exchanges -> fewer individual exchanges
 *   3 netstack:  the host-wide softirq_entry/exit and napi_poll programs
 *                are detached -> per-CPU NET_RX/NET_TX time and NAPI counts
 *                stop at that moment (drops and retransmits go on)
 *   4 CPU:       sampling frequency /4 -> coarser CPU profile
 *   5 CPU:       sampling stopped -> no CPU samples after that moment
 * Append only: the ids are part of the file format. */
#ifndef NP_SHED_H
#define NP_SHED_H

enum np_shed_step {
	NP_SHED_NONE = 0,
	NP_SHED_SYSCALLS = 1,
	NP_SHED_EXCHANGES = 2,
	NP_SHED_SOFTIRQ = 3,
	NP_SHED_CPU_FREQ = 4,
	NP_SHED_CPU_OFF = 5,
	NP_SHED_STEPS = 5,
};

/* "syscalls", "exchanges", ... for a step; "" for none. */
const char *np_shed_step_source(unsigned step);

#endif /* NP_SHED_H */
