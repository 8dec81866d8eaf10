/* governor.c - the overhead governor's policy (governor.h): which shed
 * step to take, given one measurement a second.  Pure: no clock, no I/O;
 * the session measures and applies. */
#include "profiler/session/governor.h"

#include <string.h>

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

size_t np_governor_second(struct np_governor *g, const struct np_rec_overhead *r, uint64_t now,
			  bool last, np_gov_apply_fn apply, void *arg, struct np_rec_shed *out,
			  size_t max)
{
	struct np_shed_change ch[NP_GOV_MAX_CHANGES];
	unsigned step;
	double share;

	/* A short last interval is recorded but decides nothing. */
	if (last || r->wall_ns < 500000000ull)
		return 0;
	share = np_overhead_share(r);
	for (step = np_governor_tick(g, share); step; step = np_governor_skip(g)) {
		size_t n = apply(arg, step, ch,
				 max < NP_GOV_MAX_CHANGES ? max : NP_GOV_MAX_CHANGES);

		for (size_t i = 0; i < n; i++) {
			struct np_rec_shed *s = &out[i];

			memset(s, 0, sizeof(*s));
			s->ts_ns = now;
			s->step = step;
			s->share_ppm = (uint32_t)(share * 1e6 + 0.5);
			s->from = ch[i].from;
			s->to = ch[i].to;
			memcpy(s->source, ch[i].source, sizeof(s->source));
			memcpy(s->what, ch[i].what, sizeof(s->what));
			s->source[sizeof(s->source) - 1] = s->what[sizeof(s->what) - 1] = '\0';
		}
		if (n)
			return n; /* a step that changed something: wait for its effect */
	}
	return 0;
}
