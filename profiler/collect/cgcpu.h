/* cgcpu.h - the CPU limit of the target's cgroup and how often it bit.
 *
 * A service in a cgroup with a CFS quota waits for its next period when it
 * has used its quota, which looks like run-queue time behind other work but
 * is not.  The cgroup is the one of the target's primary process, in the
 * hierarchy of the cpu controller: a v1 hierarchy with "cpu" among its
 * controllers when one is mounted (v1 and hybrid hosts, where services live
 * in the v1 tree), else the cgroup v2 one.  Parsers take NUL-terminated
 * text so they can be tested on fixtures; the text is untrusted.
 */
#ifndef NP_CGCPU_H
#define NP_CGCPU_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "profiler/format/timeline.h"

/* From /proc/PID/cgroup: the path of the cpu controller's v1 cgroup
 * ("N:cpu,cpuacct:/path"), else of the v2 one ("0::/path").  *version is
 * NP_CGCPU_V1 or NP_CGCPU_V2.  Returns 0 or -ENOENT. */
int np_cgcpu_parse_proc_cgroup(const char *text, uint32_t *version, char *path, size_t len);

/* From /proc/self/mountinfo: where the hierarchy of that version is
 * mounted (for v1, the one whose super options hold the "cpu" controller)
 * and the root of the mount within the hierarchy ("/" unless a cgroup
 * namespace or a bind mount shows a subtree).  Returns 0 or -ENOENT. */
int np_cgcpu_parse_mountinfo(const char *text, uint32_t version, char *mnt, size_t mlen, char *root,
			     size_t rlen);

/* cpu.stat of either version: nr_periods, nr_throttled and throttled_usec
 * (v2) or throttled_time in ns (v1), into rec.  Returns 0, or -ENOENT when
 * it has no nr_periods. */
int np_cgcpu_parse_stat(const char *text, struct np_rec_cgroup_cpu *rec);
/* v2 cpu.max: "max 100000" or "20000 100000". */
int np_cgcpu_parse_max(const char *text, uint64_t *quota_us, uint64_t *period_us);
/* v1 cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us. */
int np_cgcpu_parse_v1(const char *quota, const char *period, uint64_t *quota_us,
		      uint64_t *period_us);

struct np_cgcpu {
	uint32_t version;
	char dir[PATH_MAX]; /* the cgroup's directory */
	char path[128];     /* its path from the hierarchy's root */
};

/* Finds the cgroup of pid under root ("/" live, a fixture tree in tests).
 * Returns 0, or a negative errno when it has none with a cpu controller. */
int np_cgcpu_open(const char *root, pid_t pid, struct np_cgcpu *cg);
/* Reads its limit and counters now into rec (ts_ns left to the caller). */
int np_cgcpu_read(const struct np_cgcpu *cg, struct np_rec_cgroup_cpu *rec);

#endif
