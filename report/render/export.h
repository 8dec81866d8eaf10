/* export.h - small pure helpers of the export formats (export.c): the
 * pprof string table, the thread-and-time lookup that ties a CPU sample
 * to the exchange its thread was serving, wall-clock times from the
 * recording's (realtime, monotonic) pair, and deterministic trace and
 * span ids. */
#ifndef NP_EXPORT_H
#define NP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/base/hashtab.h"

/* Distinct strings in the order first added; index 0 is "" (pprof's
 * string_table rule).  Strings are stored as valid UTF-8 (np_sanitize). */
struct np_strtab {
	char **v;
	size_t n, cap;
	struct np_hashtab ids; /* hash of the string -> index + 1 */
};

/* Empties *t and adds "" as index 0; 0 or -ENOMEM. */
int np_strtab_init(struct np_strtab *t);
/* The index of s (NULL counts as ""), added when new; -ENOMEM. */
int64_t np_strtab_id(struct np_strtab *t, const char *s);
void np_strtab_fini(struct np_strtab *t);

/* A thread busy with something over [start_ns, end_ns): `value` is the
 * caller's (an index). */
struct np_tspan {
	uint32_t tid;
	uint32_t value;
	uint64_t start_ns, end_ns;
};

/* Sorts spans by (tid, start_ns), as np_tspan_find() needs them. */
void np_tspan_sort(struct np_tspan *v, size_t n);
/* The span of thread `tid` that holds ts (start_ns <= ts < end_ns), the one
 * that started last when several do; NULL when none.  Looks back over at
 * most 64 earlier spans of the thread for one that is still open. */
const struct np_tspan *np_tspan_find(const struct np_tspan *v, size_t n, uint32_t tid, uint64_t ts);

/* CLOCK_MONOTONIC `mono_ns` as Unix-epoch ns, from the pair (realtime_ns,
 * start_ns) taken together at the recording's start; saturates at 0 and
 * UINT64_MAX.  0 when the recording has no realtime (realtime_ns 0). */
uint64_t np_unix_ns(uint64_t realtime_ns, uint64_t start_ns, uint64_t mono_ns);

/* A deterministic id of `bytes` bytes (8: span, 16: trace) as lower-case
 * hex into out (2 * bytes + 1 chars), from (seed, n); never all zeros,
 * which OTLP reads as "no id".  bytes is at most 16. */
void np_hex_id(uint64_t seed, uint64_t n, size_t bytes, char *out);

#endif /* NP_EXPORT_H */
