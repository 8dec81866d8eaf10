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
/* /proc/PID/cmdline of `pid` under `root` as one line, arguments joined by
 * spaces, with what commonly carries a secret taken out before it is kept
 * anywhere: the query string of an argument holding a URL ("?" and the
 * rest of that argument become "?…"), and the value of an argument
 * "NAME=VALUE" whose NAME says password, secret or token ("=…").  An
 * unreadable file gives "".  Returns the length. */
size_t np_read_cmdline(const char *root, int pid, char *out, size_t outlen);
/* The same on the bytes of a cmdline file already read (NUL-separated). */
size_t np_cmdline_line(const char *raw, size_t n, char *out, size_t outlen);
/* Reads the whole file at path into a malloc'd buffer, NUL-terminated after
 * its *len bytes, for files of unknown size (/proc/kallsyms, /proc/net/tcp).
 * Reading stops at max_bytes: a longer file is cut there, silently (the
 * callers use the head of such a file).  Returns 0, or a negative errno
 * (opening or reading failed, -ENOMEM) with *out NULL. */
int np_read_file(const char *path, size_t max_bytes, char **out, size_t *len);
/* Reads fd to its end, calling fn for every whole record of rec_bytes
 * (1..4096; a multiple of 8 keeps records aligned).  A read may end inside
 * a record, as a BPF iterator's does: the rest of it comes with the next
 * read.  A partial record at the end is dropped.  Returns 0 or the read's
 * negative errno (the records before it were seen). */
int np_read_records(int fd, size_t rec_bytes, void (*fn)(void *arg, const void *rec), void *arg);

struct np_task_stat {
	char comm[16];
	char state;     /* R, S, D, Z, ... */
	uint32_t flags; /* PF_* */
	int64_t num_threads;
	uint64_t starttime; /* clock ticks after boot */
};

#define NP_PF_KTHREAD 0x00200000u

/* /proc/PID/stat or /proc/PID/task/TID/stat */
int np_parse_task_stat(const char *buf, struct np_task_stat *out);
/* Calls fn(arg, tid) for every thread of pid, the numeric entries of
 * root/proc/PID/task, in directory order.  A thread that exits meanwhile may
 * still be listed: fn must take its files' absence.  Returns 0, or the
 * negative errno of opening the directory (-ENOENT: no such process). */
int np_proc_tasks(const char *root, int pid, void (*fn)(void *arg, uint32_t tid), void *arg);
/* /proc/PID/task/TID/schedstat: "on_cpu_ns runq_wait_ns timeslices" */
int np_parse_schedstat(const char *buf, uint64_t *on_cpu_ns, uint64_t *runq_ns);

/* One line of /proc/PID/maps:
 *   "start-end perms offset major:minor inode   path"
 * `line` ends at its newline or NUL (len bytes at most); path is copied
 * (truncated) into out->path, "" for anonymous memory.  A path may contain
 * spaces, and ends in " (deleted)" when the file was removed. */
struct np_map {
	uint64_t start, end, offset;
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	char perms[5]; /* "r-xp" */
	char path[512];
};
int np_parse_maps_line(const char *line, size_t len, struct np_map *out);

/* /proc/kallsyms is base/ksyms.h's. */

/* /proc/PID/task/TID/syscall: "NR 0xarg1 ... 0xsp 0xpc", "running" or
 * "-1 0xsp 0xpc".  Sets *nr to the syscall number (-1 when not in one) and
 * *arg1 to its first argument (0 when absent); -EAGAIN for "running". */
int np_parse_proc_syscall(const char *buf, int64_t *nr, uint64_t *arg1);

#endif /* NP_PROCFS_H */
