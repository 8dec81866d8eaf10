/* cgcpu.c - the target cgroup's CPU quota and throttling (cgcpu.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/procfs.h"
#include "profiler/collect/cgcpu.h"

/* Whether the comma-separated list s (length n) holds the word w. */
static int has_word(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && s[j] != ',')
			j++;
		if (j - i == wl && !memcmp(s + i, w, wl))
			return 1;
		i = j + 1;
	}
	return 0;
}

static void copy_n(char *out, size_t len, const char *s, size_t n)
{
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int np_cgcpu_parse_proc_cgroup(const char *text, uint32_t *version, char *path, size_t len)
{
	const char *v2 = NULL, *v2end = NULL;

	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n'), *c1, *c2;

		if (!end)
			end = l + strlen(l);
		c1 = memchr(l, ':', (size_t)(end - l));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2) {
			if (c2 == c1 + 1 && c1 - l == 1 && l[0] == '0') {
				v2 = c2 + 1;
				v2end = end;
			} else if (has_word(c1 + 1, (size_t)(c2 - c1 - 1), "cpu")) {
				*version = NP_CGCPU_V1;
				copy_n(path, len, c2 + 1, (size_t)(end - c2 - 1));
				return 0;
			}
		}
		l = *end ? end + 1 : end;
	}
	if (!v2)
		return -ENOENT;
	*version = NP_CGCPU_V2;
	copy_n(path, len, v2, (size_t)(v2end - v2));
	return 0;
}

int np_cgcpu_parse_mountinfo(const char *text, uint32_t version, char *mnt, size_t mlen, char *root,
			     size_t rlen)
{
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		char line[4096], r[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024];
		const char *sep;

		if (!end)
			end = l + strlen(l);
		copy_n(line, sizeof(line), l, (size_t)(end - l));
		l = *end ? end + 1 : end;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep, " - %63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
			continue;
		if (version == NP_CGCPU_V2
			    ? strcmp(fstype, "cgroup2") != 0
			    : strcmp(fstype, "cgroup") != 0 || !has_word(opts, strlen(opts), "cpu"))
			continue;
		snprintf(mnt, mlen, "%s", m);
		snprintf(root, rlen, "%s", r);
		return 0;
	}
	return -ENOENT;
}

int np_cgcpu_parse_stat(const char *text, struct np_rec_cgroup_cpu *rec)
{
	int seen = 0;

	for (const char *l = text; l && *l;) {
		char key[32];
		uint64_t v;

		if (sscanf(l, "%31s %" SCNu64, key, &v) == 2) {
			if (!strcmp(key, "nr_periods"))
				rec->nr_periods = v, seen = 1;
			else if (!strcmp(key, "nr_throttled"))
				rec->nr_throttled = v;
			else if (!strcmp(key, "throttled_usec"))
				rec->throttled_ns = v * 1000;
			else if (!strcmp(key, "throttled_time"))
				rec->throttled_ns = v;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return seen ? 0 : -ENOENT;
}

int np_cgcpu_parse_max(const char *text, uint64_t *quota_us, uint64_t *period_us)
{
	char q[32];
	uint64_t p;

	if (sscanf(text, "%31s %" SCNu64, q, &p) != 2 || !p)
		return -EINVAL;
	if (!strcmp(q, "max"))
		*quota_us = NP_CGCPU_NO_LIMIT;
	else if (sscanf(q, "%" SCNu64, quota_us) != 1 || q[0] == '-')
		return -EINVAL;
	*period_us = p;
	return 0;
}

int np_cgcpu_parse_v1(const char *quota, const char *period, uint64_t *quota_us,
		      uint64_t *period_us)
{
	long long q;
	uint64_t p;

	if (sscanf(quota, "%lld", &q) != 1 || sscanf(period, "%" SCNu64, &p) != 1 || !p)
		return -EINVAL;
	*quota_us = q < 0 ? NP_CGCPU_NO_LIMIT : (uint64_t)q;
	*period_us = p;
	return 0;
}

int np_cgcpu_open(const char *root, pid_t pid, struct np_cgcpu *cg)
{
	char text[8192], path[PATH_MAX], mnt[PATH_MAX], mroot[PATH_MAX];
	char *mountinfo;
	const char *rel;
	size_t rl, mlen;
	long n;
	int rc;

	memset(cg, 0, sizeof(*cg));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = np_read_text(root, path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	rc = np_cgcpu_parse_proc_cgroup(text, &cg->version, path, sizeof(path));
	if (rc)
		return rc;
	/* hosts with many containers have long mount tables */
	snprintf(text, sizeof(text), "%s/proc/self/mountinfo", root);
	rc = np_read_file(text, 4u << 20, &mountinfo, &mlen);
	if (rc)
		return rc;
	rc = np_cgcpu_parse_mountinfo(mountinfo, cg->version, mnt, sizeof(mnt), mroot,
				      sizeof(mroot));
	free(mountinfo);
	if (rc)
		return rc;
	/* A mount of a subtree shows the cgroups below its root only. */
	rel = path;
	rl = strlen(mroot);
	if (strcmp(mroot, "/") && !strncmp(path, mroot, rl) && (path[rl] == '/' || !path[rl]))
		rel = path + rl;
	copy_n(cg->path, sizeof(cg->path), path, strlen(path));
	if (snprintf(cg->dir, sizeof(cg->dir), "%s%s%s", strcmp(root, "/") ? root : "", mnt,
		     strcmp(rel, "/") ? rel : "") >= (int)sizeof(cg->dir))
		return -ENAMETOOLONG;
	return 0;
}

static long read_in(const struct np_cgcpu *cg, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", cg->dir, name);
	return np_read_text("", path, buf, len);
}

int np_cgcpu_read(const struct np_cgcpu *cg, struct np_rec_cgroup_cpu *rec)
{
	char stat[1024], a[64], b[64];
	long n;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->version = cg->version;
	snprintf(rec->path, sizeof(rec->path), "%s", cg->path);
	n = read_in(cg, "cpu.stat", stat, sizeof(stat));
	if (n < 0)
		return (int)n;
	rc = np_cgcpu_parse_stat(stat, rec);
	if (rc)
		return rc;
	if (cg->version == NP_CGCPU_V2) {
		if (read_in(cg, "cpu.max", a, sizeof(a)) < 0)
			return -ENOENT;
		return np_cgcpu_parse_max(a, &rec->quota_us, &rec->period_us);
	}
	if (read_in(cg, "cpu.cfs_quota_us", a, sizeof(a)) < 0 ||
	    read_in(cg, "cpu.cfs_period_us", b, sizeof(b)) < 0)
		return -ENOENT;
	return np_cgcpu_parse_v1(a, b, &rec->quota_us, &rec->period_us);
}
