/* shedding.h - what a collector does when the overhead governor sheds a step
 * (the `shed` op of collector.h): the factor and caps every source applies,
 * and the change it reports back for the session to record.  The steps
 * themselves are format/shed.h. */
#ifndef NP_SHEDDING_H
#define NP_SHEDDING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "profiler/format/shed.h"

#define NP_SHED_FACTOR 4                  /* thresholds and 1-in-N sampling grow this much */
#define NP_SHED_SLOW_CAP_NS 1000000000ull /* a slow-call threshold never grows past 1 s */
#define NP_SHED_SAMPLE_CAP 1048576u

/* What one source changed for one step; the session records it. */
struct np_shed_change {
	char source[16]; /* "syscalls", "exchanges", "netstack", "cpu_samples" */
	char what[48];   /* "slow_call_threshold_ns", "sample_every", ... */
	uint64_t from, to;
};

/* x NP_SHED_FACTOR, but not past cap (never lowers, 0 stays 0). */
static inline uint64_t np_shed_raise(uint64_t v, uint64_t cap)
{
	if (v >= cap)
		return v;
	return v > cap / NP_SHED_FACTOR ? cap : v * NP_SHED_FACTOR;
}

/* Fills out[n] with a change of `what` in `source` and returns n + 1; or
 * returns n unchanged when out is full (n >= max) or nothing changed. */
static inline size_t np_shed_change_add(struct np_shed_change *out, size_t n, size_t max,
					const char *source, const char *what, uint64_t from,
					uint64_t to)
{
	if (n >= max || from == to)
		return n;
	memset(&out[n], 0, sizeof(out[n]));
	snprintf(out[n].source, sizeof(out[n].source), "%s", source);
	snprintf(out[n].what, sizeof(out[n].what), "%s", what);
	out[n].from = from;
	out[n].to = to;
	return n + 1;
}

#endif /* NP_SHEDDING_H */
