/* sampler.h - on-CPU samples of a process, or of a service's processes,
 * through perf_event: the software cpu-clock event, one per thread, with the sampled pc, the
 * kernel callchain, the user registers and a copy of the top of the user
 * stack, timestamped on CLOCK_MONOTONIC.
 *
 * Each event has its own mmap ring, drained from the session's loop.
 * The kernel refuses to mmap inherited per-thread events, so a thread the
 * target creates while recording gets its event when the caller learns of
 * it (the scheduler tracer's wakeup_new, or a rescan of /proc): its first
 * moments before that are not sampled, and the caller accounts for them.
 *
 * Not here: what the stack means (unwind.c) and what it is (stacktab.c);
 * this module only turns perf's registers into unwind.h's input.
 */
#ifndef NP_SAMPLER_H
#define NP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct np_perf_sample {
	uint64_t ts_ns;
	uint32_t pid, tid, cpu;
	uint64_t ip;
	bool kernel_mode;          /* sampled while in the kernel */
	const uint64_t *callchain; /* raw, with PERF_CONTEXT_* markers */
	uint64_t n_callchain;
	uint64_t regs_abi;    /* PERF_SAMPLE_REGS_ABI_*; 0: no user regs */
	const uint64_t *regs; /* in mask bit order */
	uint32_t n_regs;
	const uint8_t *stack; /* the user stack from its sp */
	uint64_t stack_bytes; /* valid bytes (dyn_size) */
};

/* Parses one PERF_RECORD_SAMPLE (header included) of the layout the
 * sampler asks for, with `n_regs` registers.  Every length is checked:
 * returns 0 or -EINVAL. */
int np_perf_parse_sample(const void *rec, size_t len, uint32_t n_regs, struct np_perf_sample *out);

/* A thread's execve, as its own event saw it: PERF_RECORD_COMM with
 * PERF_RECORD_MISC_COMM_EXEC.  Samples before it in the same ring are of
 * the old image, those after it of the new one. */
struct np_perf_exec {
	uint64_t ts_ns;
	uint32_t pid, tid; /* after the exec: tid is pid unless a thread execs */
};

/* Parses one PERF_RECORD_COMM (header included) that an exec caused,
 * with the sample_id trailer of the sampler's layout (tid, time, cpu).
 * Returns 0, or -EINVAL for anything else (a prctl rename, a short or
 * malformed record). */
int np_perf_parse_exec(const void *rec, size_t len, struct np_perf_exec *out);

struct np_unwind_input;
/* The unwinder's input for a sample with user registers: its registers in
 * DWARF numbering and its stack copy (borrowed from the sample). */
void np_perf_sample_unwind_input(const struct np_perf_sample *s, struct np_unwind_input *in);

struct np_cpu_sampler_opts {
	uint32_t frequency_hz;
	uint32_t stack_bytes; /* user stack copied per sample */
	uint32_t ring_pages;  /* data pages per thread, a power of two */
	uint32_t max_threads;
};

struct np_cpu_sampler_stats {
	uint64_t lost;      /* PERF_RECORD_LOST */
	uint64_t throttled; /* PERF_RECORD_THROTTLE */
	uint64_t foreign;   /* samples of other threads than the event's (never expected) */
	uint64_t threads;   /* events opened */
	uint64_t failed;    /* threads that could not be sampled */
	int first_error;    /* -errno of the first failed open */
};

struct np_cpu_sampler;

typedef void (*np_sample_cb)(void *arg, const struct np_perf_sample *s);
typedef void (*np_exec_cb)(void *arg, const struct np_perf_exec *e);

/* A sampler with no thread yet: threads are added one by one or by
 * scanning a process. */
int np_cpu_sampler_new(const struct np_cpu_sampler_opts *o, struct np_cpu_sampler **out);
/* Opens an event for tid unless it has one; 0 or -errno. */
int np_cpu_sampler_add_thread(struct np_cpu_sampler *s, pid_t tid);
/* Opens events for the threads in proc_root/proc/PID/task that have none;
 * returns how many it opened, or -errno when none could be. */
int np_cpu_sampler_scan(struct np_cpu_sampler *s, const char *proc_root, pid_t pid);
/* An epoll fd, readable when a ring passed its watermark. */
int np_cpu_sampler_fd(const struct np_cpu_sampler *s);
/* Tells cb of every exec of a sampled thread, from the drain that meets
 * it, in ring order with the samples. */
void np_cpu_sampler_on_exec(struct np_cpu_sampler *s, np_exec_cb cb, void *arg);
/* Hands every queued sample to cb; never blocks. */
void np_cpu_sampler_drain(struct np_cpu_sampler *s, np_sample_cb cb, void *arg);
/* Changes the sampling frequency of every thread's event, and of the
 * events of threads added later; 0 or -errno of the first failure. */
int np_cpu_sampler_set_frequency(struct np_cpu_sampler *s, uint32_t hz);
/* Stops sampling (the rings stay readable). */
void np_cpu_sampler_disable(struct np_cpu_sampler *s);
void np_cpu_sampler_stats(const struct np_cpu_sampler *s, struct np_cpu_sampler_stats *st);
void np_cpu_sampler_free(struct np_cpu_sampler *s);
/* The registers asked for, as a perf mask, and how many that is. */
uint64_t np_cpu_sampler_regs_mask(uint32_t *n_regs);

#endif /* NP_SAMPLER_H */
