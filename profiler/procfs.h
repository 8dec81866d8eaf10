/* procfs.h - parsers for the /proc and /sys text netprof reads.
 *
 * Every reader takes a root directory ("/" on a live system, a fixture tree
 * in tests) and every parser takes a NUL-terminated buffer, so both can be
 * tested and fuzzed without a live system.  The text is untrusted input:
 * parsers never assume a field is present or well-formed.
 */
#ifndef NP_PROCFS_H
#define NP_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* Reads root/path into buf (NUL-terminated, truncated to len - 1 bytes).
 * Returns the number of bytes read or a negative errno. */
long np_read_text(const char *root, const char *path, char *buf, size_t len);

struct np_task_stat {
	char comm[16];
	char state;           /* R, S, D, Z, ... */
	uint32_t flags;       /* PF_* */
	int64_t num_threads;
	uint64_t starttime;   /* clock ticks after boot */
};

#define NP_PF_KTHREAD 0x00200000u

/* /proc/PID/stat or /proc/PID/task/TID/stat */
int np_parse_task_stat(const char *buf, struct np_task_stat *out);
/* /proc/PID/task/TID/schedstat: "on_cpu_ns runq_wait_ns timeslices" */
int np_parse_schedstat(const char *buf, uint64_t *on_cpu_ns, uint64_t *runq_ns);

#endif /* NP_PROCFS_H */
