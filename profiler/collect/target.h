/* target.h - the process being profiled: identity checks and its threads.
 *
 * np_target_open() refuses what netprof cannot profile (no such process,
 * kernel thread, zombie) with a one-line reason.  np_threads tracks the
 * target's threads across polls of /proc/PID/task, including threads that
 * appear or exit while recording, and keeps each thread's scheduler time
 * since it entered the recording window.
 */
#ifndef NP_TARGET_H
#define NP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct np_target {
	pid_t pid;
	char comm[16];
	char cmdline[4096]; /* arguments joined by spaces, truncated */
	char exe[4096];
	char netns[64]; /* "net:[4026531840]" */
	int threads;
	uint64_t starttime; /* ticks after boot: tells a reused pid apart */
};

int np_target_open(const char *proc_root, pid_t pid, struct np_target *t, char *err, size_t errlen);
/* True while the pid still names the same process (not exited or reused). */
bool np_target_alive(const char *proc_root, const struct np_target *t);

struct np_thread {
	uint32_t tid;
	pid_t pid; /* its process; 0 when seen only by another source */
	char comm[16];
	uint64_t first_ns;                 /* entered the window (start, or creation) */
	uint64_t last_ns;                  /* last poll that saw it */
	uint64_t base_on_ns, base_runq_ns; /* schedstat when first seen */
	uint64_t on_ns, runq_ns;           /* latest schedstat */
	bool exited;
	bool no_sched; /* never seen in /proc: scheduler times unknown */
};

struct np_targetset;
struct np_threads {
	const char *proc_root;
	pid_t pid;
	const struct np_targetset *set; /* a service: every live process; NULL: pid */
	uint64_t start_ns;              /* CLOCK_MONOTONIC start of the window */
	uint64_t boot_offset_ns;        /* CLOCK_BOOTTIME - CLOCK_MONOTONIC */
	long ticks_per_s;
	bool primed; /* the poll that opens the window ran */
	struct np_thread *v;
	size_t n, cap;
};

#define NP_MAX_THREADS 65536

int np_threads_init(struct np_threads *th, const char *proc_root, pid_t pid, uint64_t start_ns);
/* Re-reads /proc/PID/task; threads that vanished are marked exited. */
int np_threads_poll(struct np_threads *th, uint64_t now_ns);
struct np_thread *np_threads_find(struct np_threads *th, uint32_t tid);
/* Adds a thread known only from another source (it lived and died between
 * two polls). */
struct np_thread *np_threads_add_exited(struct np_threads *th, uint32_t tid, const char *comm,
					uint64_t first_ns, uint64_t last_ns);
/* Frees the thread array of an embedded np_threads and empties it; twice
 * is harmless. */
void np_threads_fini(struct np_threads *th);

#endif /* NP_TARGET_H */
