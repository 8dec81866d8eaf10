/* governor.h - the overhead governor: how much netprof may cost the host,
 * and what it gives up, in which order, when it costs more.
 *
 * Once a second the session measures netprof's own cost (overhead.c: its
 * CPU time plus the time its BPF programs ran in other tasks' and the
 * kernel's context) as a share of one CPU and hands it to
 * np_governor_tick(), a pure function of that number and the governor's
 * state, so the policy is unit-tested without a kernel.  When the budget
 * was exceeded for NP_GOV_CONFIRM_S seconds in a row the governor answers
 * with the next shed step; the session asks the sources to apply it (the
 * `shed` op of collector.h, np_syscalls_shed() for the syscall source) and
 * records what changed.
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
 * No step is undone: a recording lasts seconds, and flapping between
 * levels would make the report's "sampled more coarsely after" ambiguous.
 */
#ifndef NP_GOVERNOR_H
#define NP_GOVERNOR_H

#include <stddef.h>
#include <stdint.h>

enum np_shed_step {
	NP_SHED_NONE = 0,
	NP_SHED_SYSCALLS = 1,
	NP_SHED_EXCHANGES = 2,
	NP_SHED_SOFTIRQ = 3,
	NP_SHED_CPU_FREQ = 4,
	NP_SHED_CPU_OFF = 5,
	NP_SHED_STEPS = 5,
};

#define NP_GOV_CONFIRM_S 2 /* seconds over budget in a row before a step */
#define NP_GOV_MIN_GAP_S 2 /* seconds between two steps, at least */
#define NP_SHED_FACTOR 4   /* thresholds and 1-in-N sampling grow this much */
#define NP_SHED_SLOW_CAP_NS 1000000000ull /* a slow-call threshold never grows past 1 s */
#define NP_SHED_SAMPLE_CAP 1048576u

#define NP_DEFAULT_MAX_OVERHEAD 0.05 /* share of one CPU */

struct np_governor {
	double budget;       /* share of one CPU (0.05 = 5%); 0 = governor off */
	unsigned level;      /* the last step taken (0: none) */
	unsigned over_s;     /* consecutive seconds over budget */
	unsigned since_shed_s; /* seconds since the last step */
};

void np_governor_init(struct np_governor *g, double budget);
/* One measured second costing `share` of one CPU.  Returns the step to
 * shed now (1..NP_SHED_STEPS), or NP_SHED_NONE. */
unsigned np_governor_tick(struct np_governor *g, double share);
/* The step just returned changed nothing (its source is not running):
 * returns the next step to try right away, or NP_SHED_NONE when none is
 * left.  Does not count as a step for the pacing. */
unsigned np_governor_skip(struct np_governor *g);
/* "syscalls", "exchanges", ... for a step; "" for none. */
const char *np_shed_step_source(unsigned step);

/* What one source changed for one step; the session records it. */
struct np_shed_change {
	char source[16]; /* "syscalls", "exchanges", "netstack", "cpu_samples" */
	char what[48];   /* "slow_call_threshold_ns", "sample_every", ... */
	uint64_t from, to;
};

/* x NP_SHED_FACTOR, but not past cap (never lowers, 0 stays 0). */
uint64_t np_shed_raise(uint64_t v, uint64_t cap);

#endif /* NP_GOVERNOR_H */
