/* cpu_report.h - the CPU part of a report: on-CPU profile (top functions by self
 * and total samples, overall and per thread; collapsed stacks for flame
 * graphs), the per-thread time accounting from the scheduler, and the
 * off-CPU waits by reason with their kernel stacks.
 *
 * Built from the recording only: stacks, frames and names were stored by
 * the recorder (profiler/cpu/stacktab.c), so no binary is needed here.
 */
#ifndef NP_CPU_REPORT_H
#define NP_CPU_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "profiler/format/recording.h"

struct np_report;

/* One logical frame, ready to print.  Its strings point into the CPU
 * report's own string table or `owned` strings: valid while it lives. */
struct np_cpu_frame {
	const char *name;   /* function, "module+0x1234", "[unknown]" */
	const char *module; /* basename of the module, "" when none */
	const char *file;   /* source file, or NULL */
	uint32_t line;
	uint8_t cls;   /* NP_CLS_* */
	uint8_t flags; /* NP_FR_* */
};

struct np_cpu_fn {
	const char *name, *module; /* borrowed from the frames (np_cpu_frame) */
	uint8_t cls;
	uint64_t self, total; /* samples */
};

/* Per-thread sample counts. */
struct np_cpu_thread {
	uint32_t tid;
	uint64_t samples;
	uint64_t by_class[NP_CLS_COUNT]; /* by np_cpu_sample_class */
	uint64_t softirq;                /* samples in softirq context */
	uint64_t no_space;               /* kernel-only samples: its process was past the cap */
	struct np_cpu_fn *top;           /* by self samples */
	size_t n_top;
};

/* Off-CPU time for one (reason, syscall, kernel stack), all threads. */
struct np_offcpu_row {
	uint8_t reason;
	bool estimated; /* includes a share of blocks whose stack was not taken */
	bool unsampled; /* blocks of a thread none of whose stacks were taken */
	int32_t sys;
	const char *sys_name; /* or NULL; borrowed from the recording (its meta) */
	uint32_t node;
	uint64_t count, total_ns, max_ns;
	uint32_t threads;
	uint32_t tid;   /* while building */
	int32_t kstack; /* while building */
};

/* The scheduler tracer's exact times for one thread (its latest snapshot). */
struct np_cpu_sched_thread {
	uint32_t tid;
	char comm[16];
	bool exited;
	uint64_t window_ns; /* from its first to its last snapshot */
	uint64_t on_cpu_ns, runnable_ns, off_cpu_ns;
	uint64_t off_by_reason_ns[NP_OFF_COUNT];
	uint64_t switches_vol, switches_invol, wakeups;
};

struct np_cpu_report {
	bool have_samples, have_sched;
	struct np_rec_cpu_stats stats;
	/* "libdw" or "libunwind", borrowed from the recording's meta; NULL in
	 * recordings made before --unwinder, and then shown nowhere */
	const char *unwinder;
	struct np_rec_sched_stats sched_stats;
	/* the stack tree, decoded */
	const char *strings; /* a private NUL-terminated copy (in `owned`) */
	size_t strings_len;
	const struct np_rec_stack_node *nodes; /* by id - 1; borrowed from the recording */
	size_t n_nodes;
	struct np_cpu_frame *frames;   /* all logical frames */
	uint32_t *pc_first, *pc_count; /* by pc id - 1 */
	size_t n_pcs;
	char **owned; /* strings made here */
	size_t n_owned, cap_owned;
	/* profile */
	uint64_t samples;
	uint64_t by_class[NP_CLS_COUNT];
	uint64_t softirq;
	uint64_t full_chain;   /* samples whose user stack reached an outermost frame */
	struct np_cpu_fn *fns; /* every function, by self samples desc */
	size_t n_fns;
	struct np_cpu_thread *threads; /* by tid */
	size_t n_threads;
	/* losses: CPU samples the kernel dropped, scheduler state events and
	 * off-CPU kernel stacks that could not be recorded */
	uint64_t lost_samples, lost_sched_events, lost_stacks, lost_threads;
	/* scheduler: each thread's times, in the recording's order (the
	 * report's thread table merges them: analyze.c) */
	struct np_cpu_sched_thread *sched_threads;
	size_t n_sched_threads;
	/* off-CPU */
	uint64_t off_ns[NP_OFF_COUNT];
	struct np_offcpu_row *offcpu; /* by total desc */
	size_t n_offcpu;
};

#define NP_CPU_TOP 20

/* Builds the CPU part into *out (left NULL when the recording has neither
 * samples nor the scheduler tracer).  On failure *out may hold a partial
 * report, which np_cpu_report_free() frees.  0 or -ENOMEM. */
int np_cpu_report_build(const struct np_recording *rec, struct np_cpu_report **out);
void np_cpu_report_free(struct np_cpu_report *c);

/* Collapsed stacks into a struct np_folded (folded.h), root first, one
 * per distinct stack ("main;serve;parse 42"; kernel frames end in "_[k]",
 * inlined ones in "_[i]", the flamegraph.pl conventions), for the flame
 * graphs and --format folded: on-CPU samples, and off-CPU time in ns by (reason, system call,
 * kernel stack), root first "reason;syscall;kernel frames".  0 or -ENOMEM. */
struct np_folded;
int np_cpu_folded_oncpu(const struct np_report *r, struct np_folded *out);
int np_cpu_folded_offcpu(const struct np_report *r, struct np_folded *out);
/* The innermost kernel frames of a wait that say why ("futex_wait <
 * do_futex"), scheduler internals skipped. */
void np_cpu_stack_summary(const struct np_cpu_report *c, uint32_t node, char *out, size_t len);
/* The leaf-first logical frames of a node, into out (at most max). */
size_t np_cpu_stack(const struct np_cpu_report *c, uint32_t node, const struct np_cpu_frame **out,
		    size_t max);
/* The class a sample's time belongs to, from its leaf-first frames: the
 * leaf's, except that generic kernel code (a copy, a checksum, the page
 * allocator) called by the network stack in the same context - below
 * tcp_sendmsg, say - is network work.  The walk up stops at user code and
 * at an interrupt or softirq entry, which ran on top of whatever it
 * interrupted, and at netprof's own BPF programs.  n >= 1. */
uint8_t np_cpu_sample_class(const struct np_cpu_frame *const *st, size_t n);
/* The scheduler tracer's own frames ("bpf_", "__traceiter"), which sit
 * above __schedule in the stacks it takes. */
bool np_cpu_frame_is_tracer(const char *name);
const char *np_off_reason_name(unsigned int reason);
/* "network_ns", "lock_ns", ...: the JSON keys of the reasons. */
const char *np_off_reason_key(unsigned int reason);

#endif /* NP_CPU_REPORT_H */
