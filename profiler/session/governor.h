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

#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/shedding.h"

#define NP_GOV_CONFIRM_S 2 /* seconds over budget in a row before a step */
#define NP_GOV_MIN_GAP_S 2 /* seconds between two steps, at least */

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

#endif /* NP_GOVERNOR_H */
