/* schedtotals.h - a thread's scheduler totals as user space writes them
 * (NP_BLK_SCHED_THREADS): the BPF entry (bpf/schedev.h) with the interval
 * still open at the snapshot closed into the state the thread is in.
 * Pure, in libnpcore, for the unit tests (tests/unit/test_sched.c).
 */
#ifndef NP_SCHEDTOTALS_H
#define NP_SCHEDTOTALS_H

#include <stdint.h>

#include "bpf/schedev.h"
#include "profiler/format/timeline.h"

/* Fills r's totals, times and flags from t, the open interval closed at
 * now (r's ts_ns and tid are the caller's). */
void np_sched_totals(const struct np_sched_thread *t, uint64_t now, struct np_rec_sched_thread *r);

#endif /* NP_SCHEDTOTALS_H */
