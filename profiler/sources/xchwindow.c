/* xchwindow.c - the exchange source's window deltas (xchwindow.h). */
#include <stdint.h>

#include "profiler/sources/xchwindow.h"

/* Every u64 before `hist` is a counter, except the two maxima; the
 * counters appended after `hist` are added one by one in add_delta(). */
#define N_SCALARS (offsetof(struct np_xch_stats, hist) / sizeof(uint64_t))

static bool is_max_field(size_t i)
{
	return i == offsetof(struct np_xch_stats, max_total_ns) / sizeof(uint64_t) ||
	       i == offsetof(struct np_xch_stats, max_outbound_ns) / sizeof(uint64_t);
}

/* Adds (cur - prev) of one CPU and slot to the window; maxima are kept. */
static void add_delta(struct np_xch_stats *d, const struct np_xch_stats *cur,
		      const struct np_xch_stats *prev)
{
	const uint64_t *c = (const uint64_t *)cur, *p = (const uint64_t *)prev;
	uint64_t *o = (uint64_t *)d;

	for (size_t i = 0; i < N_SCALARS; i++) {
		if (is_max_field(i))
			o[i] = c[i] > o[i] ? c[i] : o[i];
		else
			o[i] += c[i] - p[i];
	}
	for (int h = 0; h < NP_XH_COUNT; h++)
		for (int b = 0; b < NP_XH_BUCKETS; b++)
			d->hist[h][b] += cur->hist[h][b] - prev->hist[h][b];
	d->tls_known += cur->tls_known - prev->tls_known;
	d->tls_ns += cur->tls_ns - prev->tls_ns;
	d->tls_untraced += cur->tls_untraced - prev->tls_untraced;
	d->nagle_held += cur->nagle_held - prev->nagle_held;
	d->h2_joined += cur->h2_joined - prev->h2_joined;
}

void np_xch_window_add(struct np_xch_stats *d, const void *cur, const void *prev, int ncpus,
		       size_t value_bytes)
{
	for (int c = 0; c < ncpus; c++)
		add_delta(d, (const void *)((const char *)cur + (size_t)c * value_bytes),
			  (const void *)((const char *)prev + (size_t)c * value_bytes));
}

bool np_xch_window_moved(const struct np_xch_stats *d)
{
	bool any = false;

	for (size_t i = 0; i < N_SCALARS; i++)
		any |= !is_max_field(i) && ((const uint64_t *)d)[i];
	return any || d->tls_known || d->tls_untraced || d->nagle_held || d->h2_joined;
}
