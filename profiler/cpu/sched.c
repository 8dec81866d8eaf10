/* sched.c - loader and reader of bpf/sched.bpf.c (see sched.h).
 *
 * Threads that exist when recording starts are seeded from /proc: one
 * blocked then (state S or D) is off CPU from the window's start for the
 * reason its /proc/.../syscall gives, so a thread that sleeps through the
 * whole recording is still accounted.  Every later transition comes from
 * the kernel.
 */
#include "profiler/cpu/sched.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "profiler/collect/bpfutil.h"
#include "profiler/base/array.h"
#include "profiler/collect/stager.h"
#include "profiler/base/procfs.h"
#include "bpf/sched.skel.h"
#include "profiler/cpu/schedtotals.h"
#include "profiler/cpu/sysnames.h"
#include "profiler/format/timeline.h"

#define STAGING_EVENTS 4096
#define NP_SC_SOCKET_FD 0x80

struct np_sched {
	struct np_sched_bpf *skel;
	struct np_stager events;
	const struct np_config *cfg; /* borrowed from the session */
	int ncpus;
	bool detached;
	void (*new_thread)(void *arg, uint32_t tid, uint64_t born_ns);
	void *new_thread_arg;
};

struct sys_class {
	long nr;
	int cls; /* 1 + NP_OFF_*, or NP_SC_SOCKET_FD */
};

#define C(name, off) \
	{ \
		SYS_##name, 1 + (off) \
	}
static const struct sys_class classes[] = {
	C(recvfrom, NP_OFF_NET),
	C(recvmsg, NP_OFF_NET),
	C(recvmmsg, NP_OFF_NET),
	C(sendto, NP_OFF_NET),
	C(sendmsg, NP_OFF_NET),
	C(sendmmsg, NP_OFF_NET),
	C(accept, NP_OFF_NET),
	C(accept4, NP_OFF_NET),
	C(connect, NP_OFF_NET),
	{SYS_read, NP_SC_SOCKET_FD},
	{SYS_readv, NP_SC_SOCKET_FD},
	{SYS_write, NP_SC_SOCKET_FD},
	{SYS_writev, NP_SC_SOCKET_FD},
	{SYS_sendfile, NP_SC_SOCKET_FD},
	{SYS_splice, NP_SC_SOCKET_FD},
	C(epoll_wait, NP_OFF_POLL),
	C(epoll_pwait, NP_OFF_POLL),
	C(poll, NP_OFF_POLL),
	C(ppoll, NP_OFF_POLL),
	C(select, NP_OFF_POLL),
	C(pselect6, NP_OFF_POLL),
#ifdef SYS_epoll_pwait2
	C(epoll_pwait2, NP_OFF_POLL),
#endif
	C(futex, NP_OFF_LOCK),
	C(flock, NP_OFF_LOCK),
	C(semop, NP_OFF_LOCK),
	C(semtimedop, NP_OFF_LOCK),
#ifdef SYS_futex_waitv
	C(futex_waitv, NP_OFF_LOCK),
#endif
	C(nanosleep, NP_OFF_SLEEP),
	C(clock_nanosleep, NP_OFF_SLEEP),
	C(pause, NP_OFF_SLEEP),
	C(rt_sigsuspend, NP_OFF_SLEEP),
	C(rt_sigtimedwait, NP_OFF_SLEEP),
	C(fsync, NP_OFF_DISK),
	C(fdatasync, NP_OFF_DISK),
	C(sync, NP_OFF_DISK),
	C(syncfs, NP_OFF_DISK),
	C(sync_file_range, NP_OFF_DISK),
	C(msync, NP_OFF_DISK),
	C(io_getevents, NP_OFF_DISK),
};
#undef C

int np_sched_class_of(long nr, int is_socket)
{
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (classes[i].nr != nr)
			continue;
		if (classes[i].cls == NP_SC_SOCKET_FD)
			return is_socket ? NP_OFF_NET : NP_OFF_OTHER;
		return classes[i].cls - 1;
	}
	return NP_OFF_OTHER;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The stager's look at each event: a thread born while recording. */
static void on_event(void *arg, const void *rec)
{
	const struct np_sched_event *e = rec;
	struct np_sched *s = arg;

	if (s->new_thread && e->type == NP_SCHED_WAKEUP_NEW)
		s->new_thread(s->new_thread_arg, e->tid, e->ts_ns);
}

static bool fd_is_socket(const char *proc_root, pid_t pid, uint64_t fd)
{
	char path[PATH_MAX], link[64];
	ssize_t n;

	if (fd > INT_MAX)
		return false;
	snprintf(path, sizeof(path), "%s/proc/%d/fd/%llu", proc_root, (int)pid,
		 (unsigned long long)fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, "socket:", 7);
}

/* A thread blocked when the window opens is off CPU from then on. */
static void seed_thread(struct np_sched *s, uint32_t tid, uint64_t window)
{
	const char *root = s->cfg->proc_root;
	struct np_sched_thread t = {.first_ns = window,
				    .since_ns = window,
				    .sys = -1,
				    .kstack = -1};
	struct np_task_stat st;
	char path[128], buf[1024];
	int64_t nr = -1;
	uint64_t arg1;
	uint32_t key = tid;

	snprintf(path, sizeof(path), "proc/%u/task/%u/stat", tid, tid);
	if (np_read_text(root, path, buf, sizeof(buf)) < 0 || np_parse_task_stat(buf, &st))
		return;
	memcpy(t.comm, st.comm, sizeof(t.comm));
	if (st.state == 'S' || st.state == 'D' || st.state == 'I') {
		snprintf(path, sizeof(path), "proc/%u/task/%u/syscall", tid, tid);
		if (np_read_text(root, path, buf, sizeof(buf)) >= 0 &&
		    np_parse_proc_syscall(buf, &nr, &arg1) == 0 && nr >= 0) {
			t.sys = (int32_t)nr;
			t.reason = (uint8_t)np_sched_class_of((long)nr,
							      fd_is_socket(root, (pid_t)tid, arg1));
		} else {
			t.reason = NP_OFF_OTHER;
		}
		if (st.state == 'D' && t.reason == NP_OFF_OTHER)
			t.reason = NP_OFF_DISK;
		t.state = NP_TS_OFF;
	} else {
		/* Running or runnable: its first switch tells which. */
		t.state = NP_TS_UNKNOWN;
	}
	bpf_map_update_elem(bpf_map__fd(s->skel->maps.threads), &key, &t, BPF_NOEXIST);
}

static void seed_process(struct np_sched *s, pid_t pid, uint64_t window)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/task", s->cfg->proc_root, (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (*end || end == de->d_name || tid == 0 || tid > UINT32_MAX)
			continue;
		seed_thread(s, (uint32_t)tid, window);
	}
	closedir(d);
}

/* Every process of the target. */
static void seed_threads(struct np_sched *s, uint64_t window)
{
	const struct np_targetset *ts = s->cfg->targets;

	if (!ts) {
		seed_process(s, s->cfg->pid, window);
		return;
	}
	for (size_t i = 0; i < ts->n; i++)
		if (!(ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED)))
			seed_process(s, ts->v[i].pid, window);
}

int np_sched_init(const struct np_config *cfg, struct np_sched **out, char *err, size_t errlen)
{
	struct np_sched *s = calloc(1, sizeof(*s));
	uint32_t ring;
	int rc;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "cannot count possible CPUs");
		goto fail;
	}
	s->skel = np_sched_bpf__open();
	if (!s->skel) {
		rc = -errno;
		np_bpf_explain("open the scheduler tracer", rc, err, errlen);
		goto fail;
	}
	s->skel->rodata->target_tgid = (uint32_t)cfg->pid;
	s->skel->rodata->target_multi = np_targets_multi(cfg->targets);
	rc = np_targetmap_use(s->skel->maps.np_targets, cfg->targets);
	if (rc) {
		np_bpf_explain("share the target map with the scheduler tracer", rc, err, errlen);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (classes[i].nr >= 0 && classes[i].nr < NP_MAX_SYSCALL_NR)
			s->skel->rodata->sys_class[classes[i].nr] = (uint8_t)classes[i].cls;
	ring = np_ringbuf_bytes(cfg->sched_ringbuf_bytes);
	rc = bpf_map__set_max_entries(s->skel->maps.events, ring);
	if (rc) {
		np_bpf_explain("size the scheduler ring buffer", rc, err, errlen);
		goto fail;
	}
	s->skel->rodata->wakeup_bytes = ring / 4;
	rc = np_sched_bpf__load(s->skel);
	if (rc) {
		np_bpf_explain("load the scheduler tracer", rc, err, errlen);
		goto fail;
	}
	rc = np_sched_bpf__attach(s->skel);
	if (rc) {
		np_bpf_explain("attach to sched_switch/sched_wakeup", rc, err, errlen);
		goto fail;
	}
	rc = np_stager_init(&s->events, bpf_map__fd(s->skel->maps.events), NP_BLK_SCHED_EVENTS,
			    sizeof(struct np_sched_event), STAGING_EVENTS);
	if (rc) {
		snprintf(err, errlen, "cannot read the scheduler ring buffer: %s", strerror(-rc));
		goto fail;
	}
	s->events.on_record = on_event;
	s->events.arg = s;
	/* The window opens now: seed the threads, then let the programs count. */
	uint64_t window = mono_ns();

	seed_threads(s, window);
	s->skel->bss->window_ns = window;
	*out = s;
	return 0;
fail:
	np_sched_free(s);
	return rc;
}

void np_sched_on_new_thread(struct np_sched *s,
			    void (*fn)(void *arg, uint32_t tid, uint64_t born_ns), void *arg)
{
	s->new_thread = fn;
	s->new_thread_arg = arg;
}

int np_sched_fd(const struct np_sched *s)
{
	return np_stager_fd(&s->events);
}

int np_sched_drain(struct np_sched *s, struct np_writer *w)
{
	return np_stager_drain(&s->events, w);
}

int np_sched_snapshot_threads(struct np_sched *s, struct np_writer *w, uint64_t now_ns)
{
	int fd = bpf_map__fd(s->skel->maps.threads);
	struct np_rec_sched_thread *recs = NULL;
	size_t n = 0, cap = 0;
	uint32_t key, next, *prev = NULL;
	struct np_sched_thread t;
	int rc = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t))
			continue;
		if (NP_GROW(recs, cap, n + 1)) {
			rc = -ENOMEM;
			break;
		}
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].ts_ns = now_ns;
		recs[n].tid = key;
		np_sched_totals(&t, now_ns, &recs[n]);
		n++;
	}
	if (!rc && n)
		rc = np_writer_block(w, NP_BLK_SCHED_THREADS, sizeof(*recs), recs, (uint32_t)n);
	free(recs);
	return rc;
}

static const char *sys_name(int32_t nr)
{
	size_t lo = 0, hi = sizeof(np_sysnames) / sizeof(np_sysnames[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (np_sysnames[mid].nr == nr)
			return np_sysnames[mid].name;
		if (np_sysnames[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The names of the syscalls threads blocked in, as "syscall.NR=name"
 * metadata, so a report made on another architecture names them right. */
static int write_syscall_names(struct np_writer *w, const struct np_rec_offcpu *recs, size_t n)
{
	bool seen[NP_MAX_SYSCALL_NR] = {false};
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		char key[32];
		const char *name;

		if (recs[i].sys < 0 || recs[i].sys >= NP_MAX_SYSCALL_NR || seen[recs[i].sys])
			continue;
		seen[recs[i].sys] = true;
		name = sys_name(recs[i].sys);
		snprintf(key, sizeof(key), "syscall.%d", recs[i].sys);
		if (name)
			rc = np_writer_meta(w, key, name);
	}
	return rc ? rc : np_writer_meta_flush(w);
}

int np_sched_write_offcpu(struct np_sched *s, struct np_writer *w, struct np_stacktab *st,
			  uint64_t now_ns)
{
	int fd = bpf_map__fd(s->skel->maps.offcpu), sfd = bpf_map__fd(s->skel->maps.kstacks);
	struct np_rec_sched_stats stats = {.ts_ns = now_ns};
	struct np_rec_offcpu *recs = NULL;
	struct np_offcpu_key key, next, *prev = NULL;
	struct np_offcpu_val v;
	size_t n = 0, cap = 0;
	uint64_t *counts;
	int rc = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t ips[NP_SCHED_STACK_DEPTH];
		struct np_rec_offcpu *r;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		if (NP_GROW(recs, cap, n + 1)) {
			rc = -ENOMEM;
			break;
		}
		r = &recs[n++];
		memset(r, 0, sizeof(*r));
		r->tid = key.tid;
		r->sys = key.sys;
		r->kstack = key.kstack;
		r->reason = key.reason;
		r->count = v.count;
		r->total_ns = v.total_ns;
		r->max_ns = v.max_ns;
		if (st && key.kstack >= 0 && bpf_map_lookup_elem(sfd, &key.kstack, ips) == 0) {
			size_t depth = 0;
			bool full;

			while (depth < NP_SCHED_STACK_DEPTH && ips[depth])
				depth++;
			/* every entry is a return address */
			for (size_t i = 0; i < depth; i++)
				ips[i]--;
			r->node = np_stacktab_add(st, NULL, NULL, 0, ips, depth, &full);
		}
	}
	if (!rc && n)
		rc = np_writer_block(w, NP_BLK_SCHED_OFFCPU, sizeof(*recs), recs, (uint32_t)n);
	if (!rc)
		rc = write_syscall_names(w, recs, n);
	free(recs);
	counts = calloc((size_t)s->ncpus, sizeof(*counts));
	for (uint32_t i = 0; counts && i < NP_SDROP_COUNT; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.drops), &i, counts))
			continue;
		for (int c = 0; c < s->ncpus; c++)
			stats.drops[i] += counts[c];
	}
	free(counts);
	stats.events = s->events.written;
	stats.writer_drops = s->events.writer_drops;
	if (!rc)
		rc = np_writer_block(w, NP_BLK_SCHED_STATS, sizeof(stats), &stats, 1);
	return rc;
}

void np_sched_detach(struct np_sched *s)
{
	if (s && !s->detached)
		np_sched_bpf__detach(s->skel);
	if (s)
		s->detached = true;
}

void np_sched_free(struct np_sched *s)
{
	if (!s)
		return;
	np_stager_fini(&s->events);
	np_sched_bpf__destroy(s->skel);
	free(s);
}
