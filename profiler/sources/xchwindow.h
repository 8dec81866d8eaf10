/* xchwindow.h - the exchange source's one-second windows (exchanges.c):
 * what the per-CPU counters of bpf/exchange.bpf.h moved by since the last
 * read.  Pure, in libnpcore, for the unit tests (tests/unit/test_xchwindow.c).
 */
#ifndef NP_XCHWINDOW_H
#define NP_XCHWINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf/exchange.h"

/* Adds to d, for each of ncpus per-CPU values laid out value_bytes apart
 * (libbpf's per-CPU lookup rounds each to 8 bytes), the counters' and
 * histograms' cur - prev; the two maxima are the largest seen, not
 * differences.  Counters are unsigned and may wrap once between reads. */
void np_xch_window_add(struct np_xch_stats *d, const void *cur, const void *prev, int ncpus,
		       size_t value_bytes);

/* Whether any counter moved in the window (maxima alone do not count: a
 * quiet window is not written). */
bool np_xch_window_moved(const struct np_xch_stats *d);

#endif /* NP_XCHWINDOW_H */
