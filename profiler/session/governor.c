/* governor.c - the overhead governor's policy (governor.h): which shed
 * step to take, given one measurement a second.  Pure: no clock, no I/O;
 * the session measures and applies. */
#include "profiler/session/governor.h"

#include "profiler/format/timeline.h"

void np_governor_init(struct np_governor *g, double budget)
{
	g->budget = budget > 0 ? budget : 0;
	g->level = NP_SHED_NONE;
	g->over_s = 0;
	/* The first step may come as soon as the budget was exceeded for
	 * NP_GOV_CONFIRM_S seconds. */
	g->since_shed_s = NP_GOV_MIN_GAP_S;
}

unsigned np_governor_tick(struct np_governor *g, double share)
{
	if (g->budget <= 0)
		return NP_SHED_NONE;
	if (g->since_shed_s < 1000000)
		g->since_shed_s++;
	/* A NaN (no measurement) is not over budget. */
	if (share > g->budget)
		g->over_s++;
	else
		g->over_s = 0;
	if (g->over_s < NP_GOV_CONFIRM_S || g->since_shed_s < NP_GOV_MIN_GAP_S ||
	    g->level >= NP_SHED_STEPS)
		return NP_SHED_NONE;
	/* The seconds that triggered this step do not count for the next:
	 * the next needs NP_GOV_CONFIRM_S seconds measured after it. */
	g->over_s = 0;
	g->since_shed_s = 0;
	return ++g->level;
}

unsigned np_governor_skip(struct np_governor *g)
{
	if (g->budget <= 0 || g->level >= NP_SHED_STEPS)
		return NP_SHED_NONE;
	return ++g->level;
}
