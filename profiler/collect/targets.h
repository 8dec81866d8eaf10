/* targets.h - what "the service" is: the set of processes a recording covers.
 *
 * A target is given as PIDs (-p, each with its descendants unless
 * --no-children), a cgroup v2 subtree (--cgroup), a systemd unit resolved
 * through the cgroup tree (--unit) or the cgroup whose path holds a
 * container id (--container).  np_targets_resolve() turns the request into
 * a list of processes and refuses what cannot be profiled with one line:
 * -EINVAL for a bad target (the command line's fault, exit 2), -ESRCH when
 * no process is left, -E2BIG above --max-processes.  np_targets_rescan()
 * follows the set while recording: new descendants, processes that entered
 * the cgroup, and processes that exited.
 */
#ifndef NP_TARGETS_H
#define NP_TARGETS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NP_MAX_PID_ARGS 64
#define NP_DEFAULT_MAX_PROCESSES 256
#define NP_TARGETS_LIST_FACTOR 2

/* What the command line asked for. */
struct np_target_spec {
	pid_t pids[NP_MAX_PID_ARGS];
	size_t n_pids;
	bool no_children;
	const char *cgroup;    /* --cgroup: a path under the v2 mount, or absolute */
	const char *unit;      /* --unit */
	const char *container; /* --container */
	uint32_t max_processes;
};

#define NP_PROC_GONE_AT_START 1u /* named on the command line, not there */
#define NP_PROC_EXITED 2u        /* exited while recording */
#define NP_PROC_NEW 4u           /* joined the target while recording */

struct np_proc {
	pid_t pid, ppid;
	uint64_t starttime; /* ticks after boot: tells a reused pid apart */
	uint32_t flags;     /* NP_PROC_* */
	char comm[16];
	char cmdline[256];
	uint64_t first_ns, last_ns; /* CLOCK_MONOTONIC; 0: before/after the window */
};

struct np_targetset {
	const char *proc_root;
	struct np_proc *v;
	size_t n, cap;
	bool follow_children;
	char cgroup_dir[PATH_MAX];  /* the resolved cgroup directory, or "" */
	char cgroup_name[PATH_MAX]; /* its path below the v2 mount, "/..." */
	uint32_t max_processes;
	/* How many processes v lists at most: max_processes while resolving
	 * (one more is a refusal), then NP_TARGETS_LIST_FACTOR times that, so
	 * that processes joining past the cap while recording are listed (the
	 * kernel traces them all the same; the CPU collector samples them
	 * without user stacks and says so) while a fork storm stays bounded. */
	size_t list_cap;
	char what[128]; /* "pid 12 with its children", "cgroup /x", ... */
	/* The kernel's view (np_targetmap_*, bpfutil.h): one bit per tgid,
	 * shared by the BPF objects; -1/NULL when one process is the target. */
	int map_fd;
	uint64_t *bits;
	size_t bits_len;
};

int np_targets_resolve(const char *proc_root, const struct np_target_spec *spec,
		       struct np_targetset *ts, char *err, size_t errlen);
/* Adds processes that entered the cgroup and marks members that exited
 * (new children come from the kernel: np_targets_add).  Returns how many
 * changed. */
int np_targets_rescan(struct np_targetset *ts, uint64_t now_ns);
/* Adds one process (e.g. seen forking by the kernel); 0 or -errno. */
int np_targets_add(struct np_targetset *ts, pid_t pid, uint32_t flags, uint64_t now_ns);
struct np_proc *np_targets_find(struct np_targetset *ts, pid_t pid);
/* Does the kernel need the bitmap?  More than one process, or ones to come. */
bool np_targets_multi(const struct np_targetset *ts);
/* Live members (not gone at start, not exited). */
size_t np_targets_live(const struct np_targetset *ts);
/* The process the others descend from, or the first live one: "the
 * master" of a pre-forking server. */
pid_t np_targets_primary(const struct np_targetset *ts);
void np_targets_fini(struct np_targetset *ts);

/* The cgroup v2 mount point from /proc/self/mountinfo (pure v2 at
 * /sys/fs/cgroup, or hybrid at /sys/fs/cgroup/unified). */
int np_cgroup2_mount(const char *proc_root, char *out, size_t outlen);
/* Parses "12,34,56" into pids (appending); false on anything else. */
bool np_parse_pid_list(const char *s, pid_t *pids, size_t *n, size_t max);

#endif /* NP_TARGETS_H */
