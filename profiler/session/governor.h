/* governor.h - the overhead governor: how much netprof may cost the host,
 * and what it gives up, in which order, when it costs more.
 *
 * Once a second the session measures netprof's own cost (selfcost.c: its
 * CPU time plus the time its BPF programs ran in other tasks' and the
 * kernel's context) as a share of one CPU and hands it to
 * np_governor_tick(), a pure function of that number and the governor's
 * state, so the policy is unit-tested without a kernel.  When the budget
 * was exceeded for NP_GOV_CONFIRM_S seconds in a row the governor answers
 * with the next shed step; the session asks the sources to apply it (the
 * `shed` op of collector.h, np_syscalls_shed() for the syscall source) and
 * records what changed.
 *
 * The steps and what they shed are format/shed.h and collect/shedding.h.
 * No step is undone: a recording lasts seconds, and flapping between
 * levels would make the report's "sampled more coarsely after" ambiguous.
 */
#ifndef NP_GOVERNOR_H
#define NP_GOVERNOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/shedding.h"
#include "profiler/format/timeline.h"

#define NP_GOV_CONFIRM_S 2 /* seconds over budget in a row before a step */
#define NP_GOV_MIN_GAP_S 2 /* seconds between two steps, at least */

/* Changes one step may make, at most. */
#define NP_GOV_MAX_CHANGES 8

#define NP_DEFAULT_MAX_OVERHEAD 0.05 /* share of one CPU */

struct np_governor {
	double budget;         /* share of one CPU (0.05 = 5%); 0 = governor off */
	unsigned level;        /* the last step taken (0: none) */
	unsigned over_s;       /* consecutive seconds over budget */
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

/* Applies one step to every source: fills ch with what changed (at most
 * max) and returns how many changes. */
typedef size_t (*np_gov_apply_fn)(void *arg, unsigned step, struct np_shed_change *ch, size_t max);

/* The session's once-a-second bookkeeping around np_governor_tick: r is
 * the measurement of the second ending at now (last: the recording ends).
 * The last one, and one shorter than half a second, decide nothing.
 * Otherwise a step is asked for; a step that changes nothing is skipped
 * for the next one at once; the first that changes something stops there
 * (the next waits for its effect).  Writes one record per change into out
 * (at most max) and returns how many. */
size_t np_governor_second(struct np_governor *g, const struct np_rec_overhead *r, uint64_t now,
			  bool last, np_gov_apply_fn apply, void *arg, struct np_rec_shed *out,
			  size_t max);

#endif /* NP_GOVERNOR_H */
