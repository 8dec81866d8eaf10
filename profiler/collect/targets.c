/* targets.c - resolve -p/--cgroup/--unit/--container into processes. */
#include "profiler/collect/targets.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profiler/base/array.h"
#include "profiler/base/procfs.h"
#include "profiler/collect/target.h"

struct pstat {
	pid_t pid, ppid;
	uint64_t starttime;
	char comm[16];
	bool ok; /* a live user process */
};

static bool read_pstat(const char *proc_root, pid_t pid, struct pstat *p)
{
	struct np_task_stat st;
	char path[64], buf[4096];
	const char *s;
	long n;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
	n = np_read_text(proc_root, path, buf, sizeof(buf));
	if (n <= 0 || np_parse_task_stat(buf, &st) < 0)
		return false;
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %d", &p->ppid) != 1)
		return false;
	p->starttime = st.starttime;
	memcpy(p->comm, st.comm, sizeof(p->comm));
	p->ok = !(st.flags & NP_PF_KTHREAD) && st.state != 'Z' && st.state != 'X';
	return p->ok;
}

struct np_proc *np_targets_find(struct np_targetset *ts, pid_t pid)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].pid == pid && !(ts->v[i].flags & NP_PROC_GONE_AT_START))
			return &ts->v[i];
	return NULL;
}

static struct np_proc *append(struct np_targetset *ts, const struct pstat *p, uint32_t flags,
			      uint64_t now_ns)
{
	struct np_proc *r;

	if (NP_GROW(ts->v, ts->cap, ts->n + 1))
		return NULL;
	r = &ts->v[ts->n++];
	memset(r, 0, sizeof(*r));
	r->pid = p->pid;
	r->ppid = p->ppid;
	r->starttime = p->starttime;
	r->flags = flags;
	r->first_ns = now_ns;
	memcpy(r->comm, p->comm, sizeof(r->comm));
	if (!(flags & NP_PROC_GONE_AT_START))
		np_read_cmdline(ts->proc_root, (int)p->pid, r->cmdline, sizeof(r->cmdline));
	return r;
}

int np_targets_add(struct np_targetset *ts, pid_t pid, uint32_t flags, uint64_t now_ns)
{
	struct pstat p;

	if (np_targets_find(ts, pid))
		return 0;
	if (!read_pstat(ts->proc_root, pid, &p))
		return -ESRCH;
	return append(ts, &p, flags, now_ns) ? 0 : -ENOMEM;
}

/* Every live user process: pid and ppid. */
static int all_procs(const char *proc_root, struct pstat **out, size_t *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/proc", proc_root);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || pid <= 0)
			continue;
		if (NP_GROW(*out, cap, *n + 1)) {
			closedir(d);
			return -ENOMEM;
		}
		if (read_pstat(proc_root, (pid_t)pid, &(*out)[*n]))
			(*n)++;
	}
	closedir(d);
	return 0;
}

/* Adds the descendants of the members, from one /proc scan; stops past
 * `limit` members. */
static int add_descendants(struct np_targetset *ts, uint32_t flags, uint64_t now_ns, size_t limit)
{
	struct pstat *all;
	size_t n, added = 0;
	bool grew = true;
	int rc = all_procs(ts->proc_root, &all, &n);

	if (rc)
		return rc;
	while (grew && ts->n <= limit) {
		grew = false;
		for (size_t i = 0; i < n && ts->n <= limit; i++) {
			if (np_targets_find(ts, all[i].pid))
				continue;
			if (!np_targets_find(ts, all[i].ppid))
				continue;
			if (!append(ts, &all[i], flags, now_ns)) {
				free(all);
				return -ENOMEM;
			}
			added++;
			grew = true;
		}
	}
	free(all);
	return (int)added;
}

int np_cgroup2_mount(const char *proc_root, char *out, size_t outlen)
{
	char path[PATH_MAX], line[4096];
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(out, outlen, "%s%s", proc_root, mnt);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads the pids of one cgroup.procs file into the set. */
static int cgroup_procs(struct np_targetset *ts, const char *dir, uint32_t flags, uint64_t now_ns,
			int *added)
{
	char path[PATH_MAX + 16], line[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)atoi(line);

		if (pid <= 0 || np_targets_find(ts, pid))
			continue;
		if (ts->n > ts->list_cap)
			break;
		if (!np_targets_add(ts, pid, flags, now_ns))
			(*added)++;
	}
	fclose(f);
	return 0;
}

static int cgroup_walk(struct np_targetset *ts, const char *dir, uint32_t flags, uint64_t now_ns,
		       int *added, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = cgroup_procs(ts, dir, flags, now_ns, added);

	if (rc || depth > 32)
		return rc;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && ts->n <= ts->list_cap) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
			continue;
		cgroup_walk(ts, sub, flags, now_ns, added, depth + 1);
	}
	closedir(d);
	return 0;
}

/* Directories under `dir` (depth-first, at most `depth` levels) whose name
 * is `name` (exact) or contains `part`; a match is not descended into. */
static void find_dirs(const char *dir, const char *name, const char *part, int depth, char *first,
		      size_t firstlen, int *matches)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (depth <= 0 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		bool hit;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
			continue;
		hit = name ? !strcmp(de->d_name, name) : strstr(de->d_name, part) != NULL;
		if (hit) {
			if (!(*matches)++)
				snprintf(first, firstlen, "%s", sub);
			continue;
		}
		find_dirs(sub, name, part, depth - 1, first, firstlen, matches);
	}
	closedir(d);
}

static int resolve_cgroup(const char *proc_root, const struct np_target_spec *spec,
			  struct np_targetset *ts, char *err, size_t errlen)
{
	char mnt[PATH_MAX], found[PATH_MAX] = "";
	int matches = 0;

	if (np_cgroup2_mount(proc_root, mnt, sizeof(mnt))) {
		snprintf(err, errlen,
			 "no cgroup v2 hierarchy is mounted (none in "
			 "/proc/self/mountinfo); --cgroup, --unit and --container need it");
		return -EINVAL;
	}
	if (spec->cgroup) {
		const char *p = spec->cgroup;
		size_t ml = strlen(mnt);

		if (!strncmp(p, mnt, ml) && (p[ml] == '/' || !p[ml]))
			snprintf(found, sizeof(found), "%s", p);
		else if (snprintf(found, sizeof(found), "%s/%s", mnt, p[0] == '/' ? p + 1 : p) >=
			 (int)sizeof(found))
			found[0] = '\0';
		if (!is_dir(found)) {
			snprintf(err, errlen, "no cgroup %s (looked in the cgroup v2 tree at %s)",
				 spec->cgroup, mnt);
			return -EINVAL;
		}
	} else if (spec->unit) {
		char unit[256];

		snprintf(unit, sizeof(unit), "%s%s", spec->unit,
			 strchr(spec->unit, '.') ? "" : ".service");
		snprintf(found, sizeof(found), "%s/system.slice/%s", mnt, unit);
		if (!is_dir(found)) {
			char us[PATH_MAX];

			found[0] = '\0';
			snprintf(us, sizeof(us), "%s/user.slice", mnt);
			find_dirs(us, unit, NULL, 6, found, sizeof(found), &matches);
			if (!matches) {
				snprintf(err, errlen,
					 "no systemd unit %s: neither %s/system.slice/%s nor one "
					 "under %s/user.slice",
					 unit, mnt, unit, mnt);
				return -EINVAL;
			}
		}
	} else {
		const char *id = spec->container;

		if (strlen(id) < 4 || strchr(id, '/')) {
			snprintf(err, errlen,
				 "container id '%s' is too short: give at least 4 characters", id);
			return -EINVAL;
		}
		find_dirs(mnt, NULL, id, 12, found, sizeof(found), &matches);
		if (!matches)
			snprintf(err, errlen, "no cgroup holds container id %s (looked under %s)",
				 id, mnt);
		else if (matches > 1)
			snprintf(err, errlen,
				 "container id %s matches %d cgroups (one is %s): give more of the "
				 "id",
				 id, matches, found + strlen(mnt));
		if (matches != 1) {
			return -EINVAL;
		}
	}
	snprintf(ts->cgroup_dir, sizeof(ts->cgroup_dir), "%s", found);
	snprintf(ts->cgroup_name, sizeof(ts->cgroup_name), "%s",
		 found[strlen(mnt)] ? found + strlen(mnt) : "/");
	return 0;
}

bool np_parse_pid_list(const char *s, pid_t *pids, size_t *n, size_t max)
{
	const char *p = s;

	if (!*p)
		return false;
	for (;;) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*p))
			return false;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v < 1 || v > 4194304 || *n >= max)
			return false;
		pids[(*n)++] = (pid_t)v;
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

bool np_targets_multi(const struct np_targetset *ts)
{
	return ts && (ts->follow_children || ts->cgroup_dir[0] || np_targets_live(ts) > 1);
}

size_t np_targets_live(const struct np_targetset *ts)
{
	size_t k = 0;

	for (size_t i = 0; i < ts->n; i++)
		k += !(ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED));
	return k;
}

pid_t np_targets_primary(const struct np_targetset *ts)
{
	const struct np_proc *best = NULL;

	for (size_t i = 0; i < ts->n; i++) {
		const struct np_proc *p = &ts->v[i];
		bool parent_in = false;

		if (p->flags & NP_PROC_GONE_AT_START)
			continue;
		for (size_t j = 0; j < ts->n; j++)
			if (j != i && ts->v[j].pid == p->ppid &&
			    !(ts->v[j].flags & NP_PROC_GONE_AT_START))
				parent_in = true;
		if (!parent_in)
			return p->pid;
		if (!best)
			best = p;
	}
	return best ? best->pid : 0;
}

static int refuse_size(struct np_targetset *ts, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s has more than %u processes: too large to profile; name fewer processes or "
		 "raise --max-processes",
		 ts->what, ts->max_processes);
	return -E2BIG;
}

static int resolve(const char *proc_root, const struct np_target_spec *spec,
		   struct np_targetset *ts, char *err, size_t errlen);

int np_targets_resolve(const char *proc_root, const struct np_target_spec *spec,
		       struct np_targetset *ts, char *err, size_t errlen)
{
	int rc;

	memset(ts, 0, sizeof(*ts));
	ts->map_fd = -1;
	ts->proc_root = proc_root;
	ts->max_processes = spec->max_processes ? spec->max_processes : NP_DEFAULT_MAX_PROCESSES;
	ts->list_cap = ts->max_processes;
	rc = resolve(proc_root, spec, ts, err, errlen);
	if (!rc)
		ts->list_cap = (size_t)ts->max_processes * NP_TARGETS_LIST_FACTOR;
	return rc;
}

static int resolve(const char *proc_root, const struct np_target_spec *spec,
		   struct np_targetset *ts, char *err, size_t errlen)
{
	int rc, added = 0;

	if (spec->cgroup || spec->unit || spec->container) {
		rc = resolve_cgroup(proc_root, spec, ts, err, errlen);
		if (rc)
			return rc;
		ts->follow_children = true;
		snprintf(ts->what, sizeof(ts->what), "%s %.100s",
			 spec->cgroup ? "cgroup"
			 : spec->unit ? "unit"
				      : "container",
			 spec->cgroup ? ts->cgroup_name
			 : spec->unit ? spec->unit
				      : spec->container);
		rc = cgroup_walk(ts, ts->cgroup_dir, 0, 0, &added, 0);
		if (rc && !ts->n) {
			snprintf(err, errlen, "cannot read %s/cgroup.procs: %s", ts->cgroup_dir,
				 strerror(-rc));
			return -EINVAL;
		}
		if (ts->n > ts->max_processes)
			return refuse_size(ts, err, errlen);
		if (!ts->n) {
			snprintf(err, errlen, "%s (%s) holds no process", ts->what,
				 ts->cgroup_name);
			return -EINVAL;
		}
		return 0;
	}
	ts->follow_children = !spec->no_children;
	if (spec->n_pids == 1)
		snprintf(ts->what, sizeof(ts->what), "pid %d%s", (int)spec->pids[0],
			 ts->follow_children ? " with its children" : "");
	else
		snprintf(ts->what, sizeof(ts->what), "%zu pids%s", spec->n_pids,
			 ts->follow_children ? " with their children" : "");
	for (size_t i = 0; i < spec->n_pids; i++) {
		struct pstat p;

		if (np_targets_find(ts, spec->pids[i]))
			continue;
		if (!read_pstat(proc_root, spec->pids[i], &p)) {
			p.pid = spec->pids[i];
			p.ppid = 0;
			snprintf(p.comm, sizeof(p.comm), "?");
			if (!append(ts, &p, NP_PROC_GONE_AT_START, 0))
				return -ENOMEM;
			continue;
		}
		if (!append(ts, &p, 0, 0))
			return -ENOMEM;
	}
	if (!np_targets_live(ts)) {
		/* Say why, as for one pid: gone, a kernel thread, a zombie. */
		struct np_target t;
		int rc1 = np_target_open(proc_root, spec->pids[0], &t, err, errlen);

		if (!rc1)
			snprintf(err, errlen, "no process with pid %d", (int)spec->pids[0]);
		return rc1 == -EINVAL ? -ESRCH : rc1 ? rc1 : -ESRCH;
	}
	if (ts->follow_children) {
		rc = add_descendants(ts, 0, 0, ts->max_processes);
		if (rc < 0) {
			snprintf(err, errlen, "cannot read /proc: %s", strerror(-rc));
			return rc;
		}
	}
	if (np_targets_live(ts) > ts->max_processes)
		return refuse_size(ts, err, errlen);
	return 0;
}

int np_targets_rescan(struct np_targetset *ts, uint64_t now_ns)
{
	int changed = 0, added = 0;

	for (size_t i = 0; i < ts->n; i++) {
		struct np_proc *p = &ts->v[i];
		struct pstat st;

		if (p->flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED))
			continue;
		if (!read_pstat(ts->proc_root, p->pid, &st) || st.starttime != p->starttime) {
			p->flags |= NP_PROC_EXITED;
			p->last_ns = now_ns;
			changed++;
		}
	}
	/* New children are the kernel's to report (the fork hook): no /proc
	 * walk here. */
	if (ts->cgroup_dir[0])
		cgroup_walk(ts, ts->cgroup_dir, NP_PROC_NEW, now_ns, &added, 0);
	return changed + added;
}

void np_targets_fini(struct np_targetset *ts)
{
	free(ts->v);
	ts->v = NULL;
	ts->n = ts->cap = 0;
}
