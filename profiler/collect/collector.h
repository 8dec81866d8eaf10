/* collector.h - the interface every optional source implements.
 *
 * The session owns the event loop and calls these; a collector never blocks
 * and never writes to the terminal.  The syscall source is the one source a
 * recording cannot do without and is driven by the session directly; every
 * other source is a collector listed in collectors.c, and one that cannot
 * run on this host (missing tracepoint, no permission for netlink, ...)
 * is recorded as unavailable or degraded while the rest go on.
 *
 * Order of calls: init (attached and collecting when it returns) -> any
 * number of drain/poll -> detach (stop kernel-side collection, fast) ->
 * finish (last drain and final snapshots) -> destroy.  destroy alone must
 * also work at any point after a successful init.
 */
#ifndef NP_COLLECTOR_H
#define NP_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/config.h"
#include "profiler/collect/shedding.h"
#include "profiler/format/recording.h"
#include "profiler/collect/target.h"

struct np_syscalls;
struct np_xch_setup;

/* Every pointer here is borrowed from the session and outlives the
 * collectors. */
struct np_collector_ctx {
	const struct np_config *cfg;
	const struct np_target *target;
	uint64_t start_ns; /* CLOCK_MONOTONIC; the window opens here */
	/* The syscall source, for collectors whose kernel side lives in its
	 * object (exchanges) or shares its maps (netstack). */
	struct np_syscalls *syscalls;
	/* What of the exchange source this kernel runs, as its before-load
	 * hook on the syscall object decided (sources/exchanges.h). */
	const struct np_xch_setup *xch;
};

struct np_collector_ops {
	const char *name; /* for messages; the sources it reports are its own */
	/* Writes its NP_BLK_SOURCE status records and sets *state.  On failure
	 * returns a negative errno with a one-line reason in err: the session
	 * records the collector's sources as unavailable with that reason. */
	int (*init)(const struct np_collector_ctx *ctx, struct np_writer *w, void **state,
		    char *err, size_t errlen);
	/* An fd that becomes readable when drain() has work (may be an epoll
	 * fd of its own), or -1 when the collector only polls.  Optional. */
	int (*fd)(void *state);
	/* Moves what the kernel queued into the recording.  Optional. */
	int (*drain)(void *state, struct np_writer *w);
	/* Called every cfg->poll_ms.  Optional. */
	int (*poll)(void *state, struct np_writer *w, uint64_t now_ns);
	/* Stops collection in the kernel; called before finish.  Optional. */
	void (*detach)(void *state);
	/* Final drain and snapshots, after every collector detached.  Optional. */
	int (*finish)(void *state, struct np_writer *w, uint64_t now_ns);
	void (*destroy)(void *state);
	/* Sheds detail for overhead-governor step `step` (governor.h says
	 * what each step means), while recording.  Fills at most `max`
	 * changes and returns how many it made: 0 when the step is not this
	 * collector's or there is nothing left to shed.  Never touches the
	 * aggregates.  Optional. */
	int (*shed)(void *state, unsigned step, struct np_shed_change *out, size_t max);
	/* Source names to mark unavailable when init fails. */
	const char *const *sources;
};

/* NULL-terminated, in the order they are started. */
extern const struct np_collector_ops *const np_collectors[];

#endif /* NP_COLLECTOR_H */
