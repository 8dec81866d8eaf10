/* target.c - identify the target process and follow its threads. */
#include "profiler/collect/target.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/procfs.h"
#include "profiler/collect/targets.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int np_target_open(const char *proc_root, pid_t pid, struct np_target *t, char *err, size_t errlen)
{
	struct np_task_stat st;
	char path[64], link[PATH_MAX], buf[4096];
	long n;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
	n = np_read_text(proc_root, path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH) {
		snprintf(err, errlen, "no process with pid %d", (int)pid);
		return -ESRCH;
	}
	if (n < 0) {
		snprintf(err, errlen, "cannot read /proc/%d/stat: %s", (int)pid, strerror((int)-n));
		return (int)n;
	}
	if (np_parse_task_stat(buf, &st) < 0) {
		snprintf(err, errlen, "cannot parse /proc/%d/stat", (int)pid);
		return -EINVAL;
	}
	if (st.flags & NP_PF_KTHREAD) {
		snprintf(err, errlen,
			 "pid %d (%s) is a kernel thread; netprof profiles user processes",
			 (int)pid, st.comm);
		return -EINVAL;
	}
	if (st.state == 'Z' || st.state == 'X') {
		snprintf(err, errlen,
			 "pid %d (%s) is a zombie: it has exited and has nothing to profile",
			 (int)pid, st.comm);
		return -ESRCH;
	}
	memcpy(t->comm, st.comm, sizeof(t->comm));
	t->threads = (int)st.num_threads;
	t->starttime = st.starttime;

	np_read_cmdline(proc_root, (int)pid, t->cmdline, sizeof(t->cmdline));

	snprintf(link, sizeof(link), "%s/proc/%d/exe", proc_root, (int)pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	snprintf(link, sizeof(link), "%s/proc/%d/ns/net", proc_root, (int)pid);
	n = readlink(link, t->netns, sizeof(t->netns) - 1);
	t->netns[n > 0 ? n : 0] = '\0';
	return 0;
}

bool np_target_alive(const char *proc_root, const struct np_target *t)
{
	struct np_task_stat st;
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "proc/%d/stat", (int)t->pid);
	if (np_read_text(proc_root, path, buf, sizeof(buf)) < 0 || np_parse_task_stat(buf, &st) < 0)
		return false;
	return st.starttime == t->starttime && st.state != 'Z' && st.state != 'X';
}

int np_threads_init(struct np_threads *th, const char *proc_root, pid_t pid, uint64_t start_ns)
{
	memset(th, 0, sizeof(*th));
	th->proc_root = proc_root;
	th->pid = pid;
	th->start_ns = start_ns;
	/* Monotonic first: boottime read after it is never smaller, so the
	 * difference cannot wrap on a host that never suspended. */
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);

	th->boot_offset_ns = boot > mono ? boot - mono : 0;
	th->ticks_per_s = sysconf(_SC_CLK_TCK);
	if (th->ticks_per_s <= 0)
		th->ticks_per_s = 100;
	return 0;
}

struct np_thread *np_threads_find(struct np_threads *th, uint32_t tid)
{
	for (size_t i = 0; i < th->n; i++)
		if (th->v[i].tid == tid)
			return &th->v[i];
	return NULL;
}

static struct np_thread *add_thread(struct np_threads *th, uint32_t tid)
{
	struct np_thread *t;

	if (th->n >= NP_MAX_THREADS || NP_GROW(th->v, th->cap, th->n + 1))
		return NULL;
	t = &th->v[th->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

struct np_thread *np_threads_add_exited(struct np_threads *th, uint32_t tid, const char *comm,
					uint64_t first_ns, uint64_t last_ns)
{
	struct np_thread *t = add_thread(th, tid);

	if (!t)
		return NULL;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->first_ns = first_ns;
	t->last_ns = last_ns;
	t->exited = true;
	t->no_sched = true;
	return t;
}

/* First sight of a thread.  One created after the window opened started
 * its scheduler counters at zero then; any other is counted from now (or
 * from the start, on the poll that opens the window). */
static void first_sight(struct np_threads *th, struct np_thread *t, const struct np_task_stat *st,
			uint64_t on, uint64_t runq, uint64_t now_ns)
{
	uint64_t born_boot_ns = st->starttime * (1000000000ull / (uint64_t)th->ticks_per_s);
	uint64_t born_ns = born_boot_ns > th->boot_offset_ns ? born_boot_ns - th->boot_offset_ns
							     : 0;

	if (th->primed && born_ns > th->start_ns) {
		t->first_ns = born_ns < now_ns ? born_ns : now_ns;
		return;
	}
	t->first_ns = th->primed ? now_ns : th->start_ns;
	t->base_on_ns = on;
	t->base_runq_ns = runq;
}

static void poll_one(struct np_threads *th, pid_t pid, uint32_t tid, uint64_t now_ns)
{
	struct np_task_stat st;
	struct np_thread *t;
	char path[96], buf[1024];
	uint64_t on, runq;

	snprintf(path, sizeof(path), "proc/%d/task/%u/stat", (int)pid, tid);
	if (np_read_text(th->proc_root, path, buf, sizeof(buf)) < 0 ||
	    np_parse_task_stat(buf, &st) < 0)
		return; /* exited between readdir and read */
	snprintf(path, sizeof(path), "proc/%d/task/%u/schedstat", (int)pid, tid);
	if (np_read_text(th->proc_root, path, buf, sizeof(buf)) < 0 ||
	    np_parse_schedstat(buf, &on, &runq) < 0)
		return;
	t = np_threads_find(th, tid);
	if (!t) {
		t = add_thread(th, tid);
		if (!t)
			return;
		first_sight(th, t, &st, on, runq, now_ns);
	}
	memcpy(t->comm, st.comm, sizeof(t->comm));
	t->pid = pid;
	t->on_ns = on;
	t->runq_ns = runq;
	t->last_ns = now_ns;
	t->exited = false;
}

struct poll_arg {
	struct np_threads *th;
	pid_t pid;
	uint64_t now_ns;
};

static void poll_task(void *arg, uint32_t tid)
{
	struct poll_arg *p = arg;

	poll_one(p->th, p->pid, tid, p->now_ns);
}

static int poll_process(struct np_threads *th, pid_t pid, uint64_t now_ns)
{
	struct poll_arg p = {.th = th, .pid = pid, .now_ns = now_ns};

	return np_proc_tasks(th->proc_root, (int)pid, poll_task, &p);
}

int np_threads_poll(struct np_threads *th, uint64_t now_ns)
{
	int rc = 0;

	if (!th->set) {
		rc = poll_process(th, th->pid, now_ns);
		if (rc)
			return rc;
	} else {
		for (size_t i = 0; i < th->set->n; i++)
			if (!(th->set->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED)))
				poll_process(th, th->set->v[i].pid, now_ns);
	}
	for (size_t i = 0; i < th->n; i++)
		if (th->v[i].last_ns != now_ns)
			th->v[i].exited = true;
	th->primed = true;
	return 0;
}

void np_threads_fini(struct np_threads *th)
{
	free(th->v);
	th->v = NULL;
	th->n = th->cap = 0;
}
