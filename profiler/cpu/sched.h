/* sched.h - loader and reader of the scheduler source (bpf/sched.bpf.c):
 * per-thread on-CPU, runnable and off-CPU time by reason, off-CPU waits
 * by syscall and kernel stack, and the stream of thread state changes.
 * Part of the CPU collector (cpu.c).
 */
#ifndef NP_SCHED_H
#define NP_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/config.h"
#include "profiler/format/recording.h"
#include "profiler/cpu/stacktab.h"

struct np_sched;

/* Loads, attaches and opens the window.  0 or -errno with a reason. */
int np_sched_init(const struct np_config *cfg, struct np_sched **out, char *err, size_t errlen);
/* Readable when the event ring wants draining. */
int np_sched_fd(const struct np_sched *s);
int np_sched_drain(struct np_sched *s, struct np_writer *w);
/* Called from np_sched_drain for every thread the target creates. */
void np_sched_on_new_thread(struct np_sched *s,
			    void (*fn)(void *arg, uint32_t tid, uint64_t born_ns), void *arg);
/* Writes every thread's totals, the open state closed at now_ns. */
int np_sched_snapshot_threads(struct np_sched *s, struct np_writer *w, uint64_t now_ns);
/* Writes the off-CPU aggregation (kernel stacks added to st) and the
 * drop counters; once, at the end. */
int np_sched_write_offcpu(struct np_sched *s, struct np_writer *w, struct np_stacktab *st,
			  uint64_t now_ns);
void np_sched_detach(struct np_sched *s);
void np_sched_free(struct np_sched *s);
/* The off-CPU class of a syscall number (NP_OFF_*), deciding socket I/O
 * with is_socket; exposed for tests. */
int np_sched_class_of(long nr, int is_socket);

#endif /* NP_SCHED_H */
