/* clocksync.h - the clock offset between two recordings, estimated from
 * paired events in both directions as NTP does (clocksync.c).  A first,
 * self-contained piece of the joined recordings of issue 17: nothing calls
 * it yet (the 4-tuple join that makes the pairs is still to come).
 *
 * One pair is one request from host A to host B and its response, each
 * time on its own host's CLOCK_MONOTONIC:
 *   t1  A sends the request        (A's clock)
 *   t2  B receives it              (B's clock)
 *   t3  B sends the response       (B's clock)
 *   t4  A receives the response    (A's clock)
 * With offset = B's clock - A's clock, both one-way delays are >= 0:
 *   t2 - (t1 + offset) >= 0  and  (t4 + offset) - t3 >= 0,
 * so each pair bounds the offset to [t3 - t4, t2 - t1], an interval as wide
 * as the pair's round trip minus B's own time.  The estimate is the middle
 * of the interval that most pairs agree on (Marzullo's algorithm, as NTP
 * combines its sources), and its uncertainty is that interval's half
 * width: never an assumption that the clocks are in step.  Pairs that do
 * not agree with the majority (a wrongly joined connection) are counted
 * and left out.  Clock drift over the window is not modelled: over seconds
 * to minutes it is far below the delays that bound the offset.
 */
#ifndef NP_CLOCKSYNC_H
#define NP_CLOCKSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_clock_pair {
	int64_t t1, t2, t3, t4; /* ns: t1, t4 on A's clock; t2, t3 on B's */
};

struct np_clock_offset {
	bool known;
	int64_t offset_ns;       /* B's clock - A's clock: add to A's times to get B's */
	uint64_t uncertainty_ns; /* the true offset is within offset_ns +- this */
	int64_t lo_ns, hi_ns;    /* the interval most pairs agree on */
	size_t used;             /* pairs whose bounds hold that interval */
	size_t rejected;         /* valid pairs that disagree with it */
	size_t invalid;          /* pairs that go back in time on their own clock */
	uint64_t min_rtt_ns;     /* the shortest round trip less B's time, of the used pairs */
};

/* Estimates the offset from n pairs into *out (zeroed first).  Returns 0;
 * -ENOENT when no pair is valid (out->known false); -ENOMEM. */
int np_clock_offset_estimate(const struct np_clock_pair *p, size_t n, struct np_clock_offset *out);

#endif /* NP_CLOCKSYNC_H */
