/* syscalls.h - the syscall collector: loads bpf/syscalls.bpf.c for one
 * process, streams its events into the recording and snapshots its in-kernel
 * totals.  The same lifecycle as profiler/collect/collector.h: init, fd,
 * drain, poll, finish, destroy. */
#ifndef NP_SYSCALLS_H
#define NP_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/config.h"
#include "bpf/netprof.h"
#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"

struct np_syscalls;
struct np_syscalls_bpf;

/* A step run while the syscall object is open but not yet loaded, for a
 * source whose kernel side is compiled into that object (the exchange
 * source): it sets its .rodata and chooses which of its programs load.
 * The session registers these, so this source knows none of them. */
struct np_syscalls_hook {
	const char *what; /* for the error: "set up the exchange tracer" */
	int (*before_load)(struct np_syscalls_bpf *skel, const struct np_config *cfg, void *arg);
	void *arg;
};

/* Opens the syscall object, runs hooks[0..n_hooks) in order, then loads and
 * attaches it.  A hook's failure fails the init. */
int np_syscalls_init(const struct np_config *cfg, const struct np_syscalls_hook *hooks,
		     size_t n_hooks, struct np_syscalls **out, char *err, size_t errlen);
/* Readable when the ring buffer wants draining. */
int np_syscalls_fd(const struct np_syscalls *sc);
/* Moves queued events into the recording; never blocks. */
int np_syscalls_drain(struct np_syscalls *sc, struct np_writer *w);
/* Writes the cumulative per-syscall totals and drop counters as of now_ns. */
int np_syscalls_snapshot(struct np_syscalls *sc, struct np_writer *w, uint64_t now_ns);
/* The same totals as the window opens (NP_BLK_SYS_BASELINE): the programs
 * attached before the other sources, and a reader subtracts what they
 * counted until then. */
int np_syscalls_baseline(struct np_syscalls *sc, struct np_writer *w, uint64_t now_ns);
/* Per-thread totals from the kernel; calls fn for every thread seen. */
int np_syscalls_for_each_thread(struct np_syscalls *sc,
				void (*fn)(uint32_t tid, const struct np_thread_stats *ts,
					   void *arg),
				void *arg);
/* Events written so far, and events lost as of the last snapshot. */
/* Accepts and served exchanges of every target thread that had any. */
struct np_task_counts;
int np_syscalls_for_each_task_count(struct np_syscalls *sc,
				    void (*fn)(uint32_t tid, const struct np_task_counts *c,
					       void *arg),
				    void *arg);
void np_syscalls_stats(const struct np_syscalls *sc, uint64_t *written, uint64_t *lost);
/* The loaded object, for the exchange source whose programs live in it;
 * borrowed: it stays the syscall source's. */
struct np_syscalls_bpf *np_syscalls_skel(struct np_syscalls *sc);
/* The per-connection map that marks the target's sockets, for other BPF
 * objects to reuse; -1 when no program fills it (the socket-call programs
 * were not loaded). */
int np_syscalls_conns_fd(const struct np_syscalls *sc);
/* Traced calls so far (all syscalls), read from the kernel now. */
uint64_t np_syscalls_calls(struct np_syscalls *sc);
struct np_shed_change;
/* Overhead-governor step NP_SHED_SYSCALLS: slow-call threshold and 1-in-N
 * sampling x NP_SHED_FACTOR (capped).  Returns the changes made (0..max). */
int np_syscalls_shed(struct np_syscalls *sc, unsigned step, struct np_shed_change *out, size_t max);
/* Stops tracing (detaches the programs); totals stay readable. */
void np_syscalls_detach(struct np_syscalls *sc);
/* Frees the source (detached or not); accepts NULL. */
void np_syscalls_free(struct np_syscalls *sc);

#endif /* NP_SYSCALLS_H */
