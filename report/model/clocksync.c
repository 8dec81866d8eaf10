/* clocksync.c - the offset between two recordings' clocks from paired
 * request/response events (clocksync.h): Marzullo's interval
 * intersection over the bounds each pair puts on the offset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/clocksync.h"

struct edge {
	int64_t at;
	int type; /* +1: an interval opens here, -1: one closes */
};

static int edge_order(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* closed intervals: one that opens where another closes overlaps it */
	return y->type - x->type;
}

/* A pair is valid when neither host's own clock runs back across it. */
static bool valid(const struct np_clock_pair *p)
{
	return p->t4 >= p->t1 && p->t3 >= p->t2;
}

int np_clock_offset_estimate(const struct np_clock_pair *p, size_t n, struct np_clock_offset *out)
{
	struct edge *e;
	size_t m = 0, best = 0;
	long count = 0;
	int64_t lo = 0, hi = 0;

	memset(out, 0, sizeof(*out));
	e = n ? calloc(2 * n, sizeof(*e)) : NULL;
	if (n && !e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!valid(&p[i])) {
			out->invalid++;
			continue;
		}
		/* offset in [t3 - t4, t2 - t1].  The width, (t4 - t1) - (t3 - t2),
		 * is A's round trip less B's time: negative only when B took
		 * longer than A waited, so the two events are not one exchange */
		if (p[i].t2 - p[i].t1 < p[i].t3 - p[i].t4) {
			out->invalid++;
			continue;
		}
		e[m++] = (struct edge){p[i].t3 - p[i].t4, +1};
		e[m++] = (struct edge){p[i].t2 - p[i].t1, -1};
	}
	if (!m) {
		free(e);
		return -ENOENT;
	}
	qsort(e, m, sizeof(*e), edge_order);
	for (size_t i = 0; i < m; i++) {
		count += e[i].type;
		if (e[i].type > 0 && (size_t)count > best && i + 1 < m) {
			best = (size_t)count;
			lo = e[i].at;
			hi = e[i + 1].at;
		}
	}
	free(e);
	out->known = true;
	out->lo_ns = lo;
	out->hi_ns = hi;
	out->offset_ns = lo + (hi - lo) / 2;
	out->uncertainty_ns = (uint64_t)(hi - lo) - (uint64_t)(hi - lo) / 2;
	out->used = best;
	out->rejected = m / 2 - best;
	out->min_rtt_ns = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t rtt;

		if (!valid(&p[i]) || p[i].t2 - p[i].t1 < p[i].t3 - p[i].t4)
			continue;
		/* the pairs that hold the chosen interval */
		if (p[i].t3 - p[i].t4 > lo || p[i].t2 - p[i].t1 < hi)
			continue;
		rtt = (uint64_t)((p[i].t4 - p[i].t1) - (p[i].t3 - p[i].t2));
		if (rtt < out->min_rtt_ns)
			out->min_rtt_ns = rtt;
	}
	return 0;
}
