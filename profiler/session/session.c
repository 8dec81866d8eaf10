/* session.c - the recording lifecycle and its event loop.
 *
 *   preflight (target, BTF, capabilities, output path)
 *   -> open the recording -> load and attach the collectors -> metadata
 *   -> loop: ring buffer wakeups, poll timer, signals, target exit
 *   -> final drain -> detach -> final snapshots -> END block -> rename.
 *
 * Detach happens before the slow parts of finishing so the target runs
 * untraced as early as possible.
 */
#include "profiler/session/session.h"

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "profiler/collect/bpfutil.h"
#include "profiler/collect/cgcpu.h"
#include "profiler/collect/collector.h"
#include "profiler/session/governor.h"
#include "profiler/session/selfcost.h"
#include "profiler/format/recording.h"
#include "profiler/sources/exchanges.h"
#include "profiler/sources/syscalls.h"
#include "profiler/collect/target.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Thread and syscall totals are snapshotted this often (in poll ticks of
 * cfg->poll_ms), so a killed profiler loses at most this much of them. */
#define SNAPSHOT_EVERY_MS 1000
/* The caller hears of progress this often (np_session_hooks). */
#define PROGRESS_EVERY_NS 1000000000ull

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* The BPF programs need CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN on kernels
 * before 5.8; say exactly which are missing instead of failing in libbpf. */
static int check_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &h, d) < 0)
		return 0; /* cannot tell: let the load say */
	admin = has_cap(d, CAP_SYS_ADMIN);
	bpf = admin || has_cap(d, CAP_BPF);
	perfmon = admin || has_cap(d, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	snprintf(err, errlen,
		 "not permitted: netprof needs root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN "
		 "(missing:%s%s)",
		 bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
	return -EPERM;
}

static void write_meta(struct np_writer *w, const struct np_config *cfg, const struct np_target *t,
		       uint64_t start_ns, uint64_t realtime_ns)
{
	struct utsname u;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	np_writer_meta(w, "netprof_version", NETPROF_VERSION);
	np_writer_meta(w, "hostname", u.nodename);
	np_writer_meta(w, "kernel", u.release);
	np_writer_meta(w, "kernel_version", u.version);
	np_writer_meta(w, "machine", u.machine);
	np_writer_meta_u64(w, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	np_writer_meta_u64(w, "pid", (uint64_t)t->pid);
	np_writer_meta(w, "comm", t->comm);
	np_writer_meta(w, "cmdline", t->cmdline);
	np_writer_meta(w, "exe", t->exe);
	np_writer_meta(w, "netns", t->netns);
	np_writer_meta_u64(w, "threads", (uint64_t)t->threads);
	np_writer_meta_u64(w, "start_ns", start_ns);
	np_writer_meta_u64(w, "realtime_ns", realtime_ns);
	np_writer_meta_u64(w, "duration_requested_ns", cfg->duration_ns);
	np_writer_meta_u64(w, "threshold_ns", cfg->threshold_ns);
	np_writer_meta_u64(w, "sample_every", cfg->sample_every);
	np_writer_meta_u64(w, "poll_ms", cfg->poll_ms);
	np_writer_meta_u64(w, "max_overhead_ppm", (uint64_t)(cfg->max_overhead * 1e6 + 0.5));
	if (!cfg->no_cpu && cfg->freq_hz)
		np_writer_meta(w, "unwinder", np_unwind_backend_name(cfg->unwinder));
}

/* Every source docs/DESIGN.md names.  One that no collector of this build
 * provides is recorded as such, so a report never shows zeros in its place. */
static const char *const known_sources[] = {
	"cpu_samples", "sockets",   "nic", "softirq", "tcp_counters",
	"netstack",    "exchanges", "tls", NULL,
};

static bool collector_provides(const char *source)
{
	for (size_t i = 0; np_collectors[i]; i++)
		for (const char *const *s = np_collectors[i]->sources; s && *s; s++)
			if (!strcmp(*s, source))
				return true;
	return false;
}

static int write_sources(struct np_writer *w)
{
	int rc;

	rc = np_writer_source(w, "syscalls", NP_SOURCE_OK,
			      "BTF raw tracepoints (tp_btf) sys_enter/sys_exit");
	if (!rc)
		rc = np_writer_source(w, "scheduler", NP_SOURCE_DEGRADED,
				      "on-CPU and run-queue time from /proc schedstat polls; "
				      "no off-CPU reasons");
	for (size_t i = 0; !rc && known_sources[i]; i++)
		if (!collector_provides(known_sources[i]))
			rc = np_writer_source(w, known_sources[i], NP_SOURCE_UNAVAILABLE,
					      "not collected by this version");
	return rc;
}

/* The optional sources: each one that starts is kept in `state`; one that
 * cannot start is recorded unavailable with its reason, and the rest go on. */
struct collectors {
	void *state[16];
	const struct np_collector_ops *ops[16];
	size_t n;
};

static void collectors_start(struct collectors *c, const struct np_collector_ctx *ctx,
			     struct np_writer *w)
{
	for (size_t i = 0; np_collectors[i] && c->n < sizeof(c->ops) / sizeof(c->ops[0]); i++) {
		const struct np_collector_ops *ops = np_collectors[i];
		char why[256] = "";
		void *state = NULL;
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		int rc = ops->init(ctx, w, &state, why, sizeof(why));

		/* The window waits for the slowest source: -v says which. */
		if (ctx->cfg->verbose)
			fprintf(stderr, "netprof: %s source: %.1f ms to start\n", ops->name,
				(double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e6);

		if (rc) {
			if (ctx->cfg->verbose)
				fprintf(stderr, "netprof: %s source not available: %s\n", ops->name,
					why[0] ? why : strerror(-rc));
			for (const char *const *src = ops->sources; src && *src; src++)
				np_writer_source(w, *src, NP_SOURCE_UNAVAILABLE, "%s",
						 why[0] ? why : strerror(-rc));
			continue;
		}
		c->ops[c->n] = ops;
		c->state[c->n++] = state;
	}
}

static void collectors_drain(struct collectors *c, struct np_writer *w)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i]->drain)
			c->ops[i]->drain(c->state[i], w);
}

static void collectors_poll(struct collectors *c, struct np_writer *w, uint64_t now)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i]->poll)
			c->ops[i]->poll(c->state[i], w, now);
}

static void collectors_detach(struct collectors *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i]->detach)
			c->ops[i]->detach(c->state[i]);
}

static void collectors_finish(struct collectors *c, struct np_writer *w, uint64_t now)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i]->finish)
			c->ops[i]->finish(c->state[i], w, now);
}

static void collectors_fini(struct collectors *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->ops[i]->destroy(c->state[i]);
	c->n = 0;
}

/* The overhead governor (governor.h): measures once a second, sheds detail
 * when over budget, and records both. */
struct gov {
	struct np_governor g;
	struct np_overhead *o; /* NULL: governor off */
	uint64_t next_ns;
	uint64_t self_ns; /* CPU time the governor itself took (-v) */
	uint32_t measurements;
};

static uint64_t thread_cpu_ns(void)
{
	return now_ns(CLOCK_THREAD_CPUTIME_ID);
}

#define GOV_MAX_CHANGES NP_GOV_MAX_CHANGES

static void gov_start(struct gov *gv, const struct np_config *cfg, struct np_syscalls *sc,
		      struct np_writer *w, uint64_t now)
{
	struct np_rec_gov_config rc = {.ts_ns = now};
	struct np_rec_overhead first;
	const char *why = "";

	np_governor_init(&gv->g, cfg->max_overhead);
	if (cfg->max_overhead <= 0 || np_overhead_open(&gv->o))
		return;
	np_overhead_find_programs(gv->o);
	rc.budget_ppm = (uint32_t)(cfg->max_overhead * 1e6 + 0.5);
	rc.flags = np_overhead_bpf_stats(gv->o, &why) ? NP_GOV_BPF_STATS : 0;
	rc.programs = (uint32_t)np_overhead_programs(gv->o);
	rc.est_ns_per_call = NP_OVH_EST_NS_PER_CALL;
	snprintf(rc.why_no_stats, sizeof(rc.why_no_stats), "%s", why);
	np_writer_block(w, NP_BLK_GOV_CONFIG, sizeof(rc), &rc, 1);
	if (cfg->verbose)
		fprintf(stderr,
			"netprof: overhead budget %.2f%% of one CPU; %s over %u BPF programs\n",
			cfg->max_overhead * 100,
			rc.flags & NP_GOV_BPF_STATS ? "BPF run time measured" : why, rc.programs);
	/* The baseline: the first record covers the first second (and the
	 * calls traced while the sources started are not in it). */
	np_overhead_measure(gv->o, now_ns(CLOCK_MONOTONIC), np_syscalls_calls(sc), &first);
	gv->next_ns = now + 1000000000ull;
}

/* One step: every source that has something to shed at it does. */
struct gov_apply_ctx {
	struct collectors *c;
	struct np_syscalls *sc;
};

static size_t gov_apply(void *arg, unsigned step, struct np_shed_change *ch, size_t max)
{
	struct gov_apply_ctx *a = arg;
	size_t n = (size_t)np_syscalls_shed(a->sc, step, ch, max);

	for (size_t i = 0; i < a->c->n && n < max; i++)
		if (a->c->ops[i]->shed) {
			int k = a->c->ops[i]->shed(a->c->state[i], step, ch + n, max - n);

			if (k > 0)
				n += (size_t)k;
		}
	return n;
}

static void gov_measure(struct gov *gv, const struct np_config *cfg, struct collectors *c,
			struct np_syscalls *sc, struct np_writer *w, uint64_t now, bool last)
{
	struct np_rec_shed sheds[GOV_MAX_CHANGES];
	struct gov_apply_ctx a = {.c = c, .sc = sc};
	const struct np_rec_bpf_cost *costs;
	struct np_rec_overhead r;
	uint64_t t0 = thread_cpu_ns();
	size_t n;

	if (!gv->o)
		return;
	np_overhead_measure(gv->o, now, np_syscalls_calls(sc), &r);
	r.level = gv->g.level;
	if (r.wall_ns)
		np_writer_block(w, NP_BLK_OVERHEAD, sizeof(r), &r, 1);
	n = np_overhead_take_costs(gv->o, &costs);
	if (n)
		np_writer_block(w, NP_BLK_BPF_COST, sizeof(*costs), costs, n);
	gv->next_ns = now + 1000000000ull;
	gv->measurements++;
	n = np_governor_second(&gv->g, &r, now, last, gov_apply, &a, sheds, GOV_MAX_CHANGES);
	for (size_t i = 0; i < n; i++) {
		const struct np_rec_shed *s = &sheds[i];

		np_writer_block(w, NP_BLK_SHED, sizeof(*s), s, 1);
		if (cfg->verbose)
			fprintf(stderr,
				"netprof: overhead %.1f%% of a CPU > budget %.1f%%: shed step %u, "
				"%s %s %llu -> %llu\n",
				s->share_ppm / 1e4, cfg->max_overhead * 100, s->step, s->source,
				s->what, (unsigned long long)s->from, (unsigned long long)s->to);
	}
	gv->self_ns += thread_cpu_ns() - t0;
	if (last && cfg->verbose)
		fprintf(stderr,
			"netprof: overhead governor: %u measurements, %.1f us of CPU each\n",
			gv->measurements,
			(double)gv->self_ns / 1e3 / (gv->measurements ? gv->measurements : 1));
}

struct thread_snapshot {
	struct np_threads *th;
	struct np_rec_thread *recs; /* parallel to th->v */
	uint64_t now_ns;
};

/* A thread that lived and died between two polls was seen only by the
 * syscall source: give it an entry so its calls are not lost. */
static void add_unseen_thread(uint32_t tid, const struct np_thread_stats *ts, void *arg)
{
	struct thread_snapshot *s = arg;
	char comm[16];

	if (np_threads_find(s->th, tid))
		return;
	memcpy(comm, ts->comm, sizeof(comm));
	comm[15] = '\0';
	np_threads_add_exited(s->th, tid, comm, ts->first_ns, ts->last_ns);
}

static void fill_thread_stats(uint32_t tid, const struct np_thread_stats *ts, void *arg)
{
	struct thread_snapshot *s = arg;
	struct np_thread *t = np_threads_find(s->th, tid);
	struct np_rec_thread *r;

	if (!t)
		return;
	if (t->no_sched)
		t->last_ns = ts->last_ns;
	r = &s->recs[t - s->th->v];
	r->calls = ts->calls;
	r->sys_ns = ts->sys_ns;
	r->wait_ns = ts->wait_ns;
}

static int snapshot_threads(struct np_threads *th, struct np_syscalls *sc, struct np_writer *w,
			    uint64_t now)
{
	struct thread_snapshot s = {.th = th, .now_ns = now};
	int rc;

	np_threads_poll(th, now);
	np_syscalls_for_each_thread(sc, add_unseen_thread, &s);
	if (!th->n)
		return 0;
	s.recs = calloc(th->n, sizeof(*s.recs));
	if (!s.recs)
		return -ENOMEM;
	np_syscalls_for_each_thread(sc, fill_thread_stats, &s);
	for (size_t i = 0; i < th->n; i++) {
		const struct np_thread *t = &th->v[i];
		struct np_rec_thread *r = &s.recs[i];

		r->ts_ns = now;
		r->tid = t->tid;
		r->flags = (t->exited ? NP_THREAD_EXITED : 0) |
			   (t->no_sched ? NP_THREAD_NO_SCHED : 0);
		memcpy(r->comm, t->comm, sizeof(r->comm));
		r->first_ns = t->first_ns;
		r->last_ns = t->last_ns;
		r->on_cpu_ns = t->on_ns > t->base_on_ns ? t->on_ns - t->base_on_ns : 0;
		r->runq_ns = t->runq_ns > t->base_runq_ns ? t->runq_ns - t->base_runq_ns : 0;
	}
	rc = np_writer_block(w, NP_BLK_THREADS, sizeof(*s.recs), s.recs, (uint32_t)th->n);
	free(s.recs);
	return rc;
}

/* Tells the caller where the recording stands (np_session_hooks). */
static void report_progress(const struct np_session_hooks *hooks, const struct np_config *cfg,
			    struct np_syscalls *sc, uint64_t start, uint64_t now)
{
	struct np_session_progress p = {
		.elapsed_ns = now > start ? now - start : 0,
		.duration_ns = cfg->duration_ns,
		.self_cpu_ns = np_overhead_self_cpu_ns(),
	};

	np_syscalls_stats(sc, &p.events, &p.lost);
	hooks->progress(&p, hooks->arg);
}

static int pidfd_open_target(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Tags of the loop's fds; TAG_COLLECTOR + i is collector i's. */
enum { TAG_RING = 1, TAG_SIGNAL, TAG_TARGET, TAG_TIMER, TAG_COLLECTOR = 16 };

struct loop {
	int ep, sigfd, pidfd, timerfd;
	sigset_t old_mask;
	bool mask_set;
};

static void loop_close(struct loop *l)
{
	if (l->ep >= 0)
		close(l->ep);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->mask_set)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
}

static int loop_open(struct loop *l, const struct np_config *cfg, int ring_fd, char *err,
		     size_t errlen)
{
	struct itimerspec its = {0};
	sigset_t mask;
	int rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &l->old_mask) == 0)
		l->mask_set = true;
	l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->sigfd < 0 || l->ep < 0 || l->timerfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
		return rc;
	}
	its.it_interval.tv_sec = cfg->poll_ms / 1000;
	its.it_interval.tv_nsec = (long)(cfg->poll_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	timerfd_settime(l->timerfd, 0, &its, NULL);
	/* Without pidfd (kernels before 5.3) the poll timer checks /proc.  A
	 * service ends when its last process does: the timer checks. */
	l->pidfd = np_targets_multi(cfg->targets) ? -1 : pidfd_open_target(cfg->pid);
	rc = epoll_add(l->ep, ring_fd, TAG_RING);
	if (!rc)
		rc = epoll_add(l->ep, l->sigfd, TAG_SIGNAL);
	if (!rc)
		rc = epoll_add(l->ep, l->timerfd, TAG_TIMER);
	if (!rc && l->pidfd >= 0)
		rc = epoll_add(l->ep, l->pidfd, TAG_TARGET);
	if (rc)
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(-rc));
	return rc;
}

/* ---- a service: several processes ---- */

_Static_assert(NP_PROC_GONE_AT_START == NP_PROCREC_GONE_AT_START &&
		       NP_PROC_EXITED == NP_PROCREC_EXITED && NP_PROC_NEW == NP_PROCREC_NEW,
	       "process flags: the recording's are the target set's");

/* Follows the kernel's view of the target: processes the fork hook added,
 * and processes whose last thread exited (their bit cleared).  Every
 * second also the cgroup's entrants and exits /proc shows.  Returns the
 * number of live processes. */
static size_t sync_targets(struct np_targetset *ts, uint64_t now, bool full)
{
	size_t words = ts->bits_len / sizeof(uint64_t);

	for (size_t i = 0; i < ts->n; i++) {
		struct np_proc *p = &ts->v[i];

		if (p->flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED))
			continue;
		if (!np_targetmap_test(ts, p->pid)) {
			p->flags |= NP_PROC_EXITED;
			p->last_ns = now;
		}
	}
	for (size_t w = 0; w < words; w++) {
		uint64_t v = __atomic_load_n(&ts->bits[w], __ATOMIC_RELAXED);

		while (v) {
			int pid = (int)(w * 64 + (size_t)__builtin_ctzll(v));

			v &= v - 1;
			if (np_targets_find(ts, pid) || ts->n >= ts->list_cap)
				continue;
			if (np_targets_add(ts, pid, NP_PROC_NEW, now))
				np_targetmap_mark(ts, pid, false); /* already gone */
		}
	}
	if (full) {
		np_targets_rescan(ts, now);
		for (size_t i = 0; i < ts->n; i++) {
			const struct np_proc *p = &ts->v[i];

			if (!(p->flags & NP_PROC_GONE_AT_START))
				np_targetmap_mark(ts, p->pid, !(p->flags & NP_PROC_EXITED));
		}
	}
	return np_targets_live(ts);
}

struct proc_snapshot {
	struct np_threads *th;
	struct np_targetset *ts;
	struct np_rec_process *recs; /* parallel to ts->v */
};

static struct np_rec_process *proc_rec(struct proc_snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->ts->n; i++)
		if (s->ts->v[i].pid == pid && !(s->ts->v[i].flags & NP_PROC_GONE_AT_START))
			return &s->recs[i];
	return NULL;
}

static void add_task_counts(uint32_t tid, const struct np_task_counts *c, void *arg)
{
	struct proc_snapshot *s = arg;
	struct np_thread *t = np_threads_find(s->th, tid);
	struct np_rec_process *r = t && t->pid ? proc_rec(s, t->pid) : NULL;

	if (!r)
		return;
	r->accepts += c->accepts;
	r->exchanges += c->served;
}

/* The processes of a service and which process each thread belongs to. */
static int snapshot_processes(struct np_targetset *ts, struct np_threads *th,
			      struct np_syscalls *sc, struct np_writer *w, uint64_t now)
{
	struct proc_snapshot s = {.th = th, .ts = ts};
	struct np_rec_thread_pid *tp;
	size_t ntp = 0;
	int rc;

	if (!ts->n)
		return 0;
	s.recs = calloc(ts->n, sizeof(*s.recs));
	tp = calloc(th->n ? th->n : 1, sizeof(*tp));
	if (!s.recs || !tp) {
		free(s.recs);
		free(tp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ts->n; i++) {
		const struct np_proc *p = &ts->v[i];
		struct np_rec_process *r = &s.recs[i];

		r->ts_ns = now;
		r->pid = (uint32_t)p->pid;
		r->ppid = (uint32_t)p->ppid;
		r->flags = p->flags; /* NP_PROC_* == NP_PROCREC_* */
		memcpy(r->comm, p->comm, sizeof(r->comm));
		snprintf(r->cmdline, sizeof(r->cmdline), "%.127s", p->cmdline);
		r->first_ns = p->first_ns;
		r->last_ns = p->last_ns;
	}
	for (size_t i = 0; i < th->n; i++) {
		const struct np_thread *t = &th->v[i];
		struct np_rec_process *r = t->pid ? proc_rec(&s, t->pid) : NULL;

		if (!r)
			continue;
		r->threads++;
		r->on_cpu_ns += t->on_ns > t->base_on_ns ? t->on_ns - t->base_on_ns : 0;
		r->runq_ns += t->runq_ns > t->base_runq_ns ? t->runq_ns - t->base_runq_ns : 0;
		tp[ntp++] = (struct np_rec_thread_pid){.tid = t->tid, .pid = (uint32_t)t->pid};
	}
	np_syscalls_for_each_task_count(sc, add_task_counts, &s);
	rc = np_writer_block(w, NP_BLK_PROCESSES, sizeof(*s.recs), s.recs, (uint32_t)ts->n);
	if (!rc && ntp)
		rc = np_writer_block(w, NP_BLK_THREAD_PIDS, sizeof(*tp), tp, (uint32_t)ntp);
	free(s.recs);
	free(tp);
	return rc;
}

/* The cgroup CPU limit's counters, for host.cpu_quota: at start, with every
 * snapshot and at the end.  A cgroup that cannot be read (gone, no cpu
 * controller) writes nothing, which the report reads as unknown. */
static int snapshot_cgcpu(const struct np_cgcpu *cg, struct np_writer *w, uint64_t now)
{
	struct np_rec_cgroup_cpu r;

	if (!cg->dir[0] || np_cgcpu_read(cg, &r))
		return 0;
	r.ts_ns = now;
	return np_writer_block(w, NP_BLK_CGROUP_CPU, sizeof(r), &r, 1);
}

int np_session_record(const struct np_config *cfg_in, const struct np_session_hooks *hooks,
		      struct np_session_result *res, char *err, size_t errlen)
{
	/* Every collector sees the target set: the caller's, or one of pid. */
	struct np_config cfg_copy = *cfg_in;
	const struct np_config *cfg = &cfg_copy;
	struct np_targetset own_ts = {.map_fd = -1};
	struct np_targetset *ts = cfg_in->targets;
	bool multi;
	struct loop l = {.ep = -1, .sigfd = -1, .pidfd = -1, .timerfd = -1};
	struct np_syscalls *sc = NULL;
	struct np_writer *w = NULL;
	struct np_threads th = {0};
	struct np_cgcpu cgcpu = {.version = 0};
	struct np_target target;
	struct np_rec_end end = {0};
	struct collectors coll = {.n = 0};
	struct gov gov = {.o = NULL};
	struct np_collector_ctx ctx;
	/* The exchange programs live in the syscall object: configured before
	 * it loads, read by the exchange collector afterwards. */
	struct np_xch_setup xch = {.enabled = false};
	const struct np_syscalls_hook load_hooks[] = {
		{.what = "set up the exchange tracer",
		 .before_load = np_xch_before_load,
		 .arg = &xch},
	};
	uint64_t attach_begin, start, deadline, next_snapshot, next_progress;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = np_target_open(cfg->proc_root, cfg->pid, &target, err, errlen);
	if (rc)
		return rc;
	if (!ts) {
		struct np_target_spec one = {.pids = {cfg->pid}, .n_pids = 1, .no_children = true};

		rc = np_targets_resolve(cfg->proc_root, &one, &own_ts, err, errlen);
		if (rc) {
			np_targets_fini(&own_ts);
			return rc;
		}
		ts = &own_ts;
	}
	cfg_copy.targets = ts;
	multi = np_targets_multi(ts);
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux): netprof needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	rc = check_capabilities(err, errlen);
	if (rc)
		return rc;
	rc = np_writer_open(cfg->output, &w);
	if (rc) {
		snprintf(err, errlen, "cannot write %s.partial: %s", cfg->output,
			 rc == -ELOOP ? "it is a symbolic link" : strerror(-rc));
		return rc;
	}

	np_bpf_setup_logging(cfg->verbose);
	if (multi) {
		rc = np_targetmap_open(ts, err, errlen);
		if (rc)
			goto fail;
	}
	rc = np_syscalls_init(cfg, load_hooks, sizeof(load_hooks) / sizeof(load_hooks[0]), &sc, err,
			      errlen);
	if (rc)
		goto fail;
	rc = loop_open(&l, cfg, np_syscalls_fd(sc), err, errlen);
	if (rc)
		goto fail;

	/* The syscall programs are attached; the other sources take a tenth
	 * of a second or more to follow.  Until they have, this start stands,
	 * so that a recording killed meanwhile still has one. */
	attach_begin = now_ns(CLOCK_MONOTONIC);
	write_meta(w, cfg, &target, attach_begin, now_ns(CLOCK_REALTIME));
	rc = np_writer_meta_flush(w);
	if (!rc)
		rc = write_sources(w);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", np_writer_partial_path(w),
			 strerror(-rc));
		goto fail;
	}
	if (multi) {
		np_writer_meta(w, "target", ts->what);
		if (ts->cgroup_name[0])
			np_writer_meta(w, "target_cgroup", ts->cgroup_name);
		np_writer_meta_u64(w, "target_processes", np_targets_live(ts));
		rc = np_writer_meta_flush(w);
		if (rc) {
			snprintf(err, errlen, "cannot write %s: %s", np_writer_partial_path(w),
				 strerror(-rc));
			goto fail;
		}
	}
	if (np_cgcpu_open(cfg->proc_root, cfg->pid, &cgcpu))
		cgcpu.dir[0] = '\0';
	np_threads_init(&th, cfg->proc_root, cfg->pid, attach_begin);
	th.set = multi ? ts : NULL;
	np_threads_poll(&th, attach_begin);
	ctx = (struct np_collector_ctx){.cfg = cfg,
					.target = &target,
					.start_ns = attach_begin,
					.syscalls = sc,
					.xch = &xch};
	collectors_start(&coll, &ctx, w);
	for (size_t i = 0; i < coll.n; i++) {
		int fd = coll.ops[i]->fd ? coll.ops[i]->fd(coll.state[i]) : -1;

		if (fd >= 0 && epoll_add(l.ep, fd, TAG_COLLECTOR + (uint32_t)i)) {
			rc = -errno;
			snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
			goto fail;
		}
	}
	/* The window opens once every source is attached: a source that
	 * attached late would otherwise miss the window's first tenths of a
	 * second that the syscall totals cover.  Those totals count from their
	 * own attach, so the reader subtracts this baseline from them. */
	start = now_ns(CLOCK_MONOTONIC);
	rc = np_syscalls_baseline(sc, w, start);
	np_writer_meta_u64(w, "start_ns", start);
	np_writer_meta_u64(w, "realtime_ns", now_ns(CLOCK_REALTIME));
	np_writer_meta_u64(w, "attach_ns", start - attach_begin);
	if (!rc)
		rc = snapshot_cgcpu(&cgcpu, w, start);
	if (!rc)
		rc = np_writer_meta_flush(w);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", np_writer_partial_path(w),
			 strerror(-rc));
		goto fail;
	}
	if (cfg->verbose)
		fprintf(stderr, "netprof: sources attached in %.1f ms; the window opens now\n",
			(double)(start - attach_begin) / 1e6);
	gov_start(&gov, cfg, sc, w, start);
	if ((cfg->verbose || isatty(STDERR_FILENO)) && multi)
		fprintf(stderr,
			"netprof: recording %s: %zu processes for %.1f s; Ctrl-C stops early\n",
			ts->what, np_targets_live(ts), (double)cfg->duration_ns / 1e9);
	else if (cfg->verbose || isatty(STDERR_FILENO))
		fprintf(stderr, "netprof: recording pid %d (%s) for %.1f s; Ctrl-C stops early\n",
			(int)cfg->pid, target.comm, (double)cfg->duration_ns / 1e9);

	deadline = start + cfg->duration_ns;
	next_snapshot = start + SNAPSHOT_EVERY_MS * 1000000ull;
	if (hooks && !hooks->progress)
		hooks = NULL;
	if (hooks)
		report_progress(hooks, cfg, sc, start, now_ns(CLOCK_MONOTONIC));
	next_progress = start + PROGRESS_EVERY_NS;
	while (!end.reason) {
		struct epoll_event evs[4];
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		int timeout_ms, n;

		if (now >= deadline) {
			end.reason = NP_END_DURATION;
			break;
		}
		timeout_ms = (int)((deadline - now + 999999) / 1000000);
		n = epoll_wait(l.ep, evs, 4, timeout_ms);
		if (n < 0 && errno != EINTR) {
			end.reason = NP_END_ERROR;
			end.error = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(l.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					end.reason = NP_END_SIGNAL;
					res->signal = (int)si.ssi_signo;
				}
				break;
			}
			case TAG_TARGET:
				end.reason = NP_END_TARGET_EXITED;
				break;
			case TAG_TIMER: {
				uint64_t ticks;

				if (read(l.timerfd, &ticks, sizeof(ticks)) < 0)
					break;
				if (multi) {
					if (!sync_targets(ts, now_ns(CLOCK_MONOTONIC), false))
						end.reason = NP_END_TARGET_EXITED;
				} else if (l.pidfd < 0 &&
					   !np_target_alive(cfg->proc_root, &target)) {
					end.reason = NP_END_TARGET_EXITED;
				}
				collectors_poll(&coll, w, now_ns(CLOCK_MONOTONIC));
				break;
			}
			default:
				break;
			}
		}
		/* Drain on every wakeup: ring buffer, timer or end. */
		if (np_syscalls_drain(sc, w)) {
			end.reason = NP_END_ERROR;
			end.error = -EIO;
		}
		collectors_drain(&coll, w);
		now = now_ns(CLOCK_MONOTONIC);
		if (now >= next_snapshot && !end.reason) {
			np_syscalls_snapshot(sc, w, now);
			if (multi)
				sync_targets(ts, now, true);
			snapshot_threads(&th, sc, w, now);
			if (multi)
				snapshot_processes(ts, &th, sc, w, now);
			snapshot_cgcpu(&cgcpu, w, now);
			next_snapshot = now + SNAPSHOT_EVERY_MS * 1000000ull;
		}
		if (gov.o && !end.reason &&
		    (now + NP_OVH_WINDOW_NS >= gov.next_ns || now + NP_OVH_WINDOW_NS >= deadline)) {
			uint64_t t0 = thread_cpu_ns();

			np_overhead_window_open(gov.o, now, now + NP_OVH_WINDOW_NS >= deadline);
			gov.self_ns += thread_cpu_ns() - t0;
		}
		if (gov.o && now >= gov.next_ns && !end.reason)
			gov_measure(&gov, cfg, &coll, sc, w, now_ns(CLOCK_MONOTONIC), false);
		if (hooks && now >= next_progress && !end.reason) {
			report_progress(hooks, cfg, sc, start, now);
			while (next_progress <= now)
				next_progress += PROGRESS_EVERY_NS;
		}
	}

	/* Finish: drain, detach, then take the final totals. */
	end.ts_ns = now_ns(CLOCK_MONOTONIC);
	np_syscalls_drain(sc, w);
	gov_measure(&gov, cfg, &coll, sc, w, end.ts_ns, true);
	np_syscalls_detach(sc);
	collectors_detach(&coll);
	/* Run-time statistics cost every BPF program on the host a little:
	 * off for good once netprof's own are detached. */
	np_overhead_stop(gov.o);
	np_syscalls_drain(sc, w);
	collectors_finish(&coll, w, end.ts_ns);
	rc = np_syscalls_snapshot(sc, w, end.ts_ns);
	if (multi)
		sync_targets(ts, end.ts_ns, true);
	if (!rc)
		rc = snapshot_threads(&th, sc, w, end.ts_ns);
	if (!rc && multi)
		rc = snapshot_processes(ts, &th, sc, w, end.ts_ns);
	if (!rc)
		rc = snapshot_cgcpu(&cgcpu, w, end.ts_ns);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	if (rc) {
		snprintf(err, errlen, "cannot write the recording %s: %s", cfg->output,
			 strerror(-rc));
		goto fail;
	}
	res->reason = end.reason;
	res->duration_ns = end.ts_ns - start;
	np_syscalls_stats(sc, &res->events, &res->lost);
	np_overhead_free(gov.o);
	collectors_fini(&coll);
	np_syscalls_free(sc);
	np_bpf_probe_cleanup();
	np_threads_fini(&th);
	np_writer_free(w);
	loop_close(&l);
	np_targetmap_close(ts);
	np_targets_fini(&own_ts);
	return 0;
fail:
	np_overhead_free(gov.o);
	collectors_fini(&coll);
	np_syscalls_free(sc);
	np_bpf_probe_cleanup();
	np_threads_fini(&th);
	if (w)
		unlink(np_writer_partial_path(w));
	np_writer_free(w);
	loop_close(&l);
	np_targetmap_close(ts);
	np_targets_fini(&own_ts);
	return rc;
}
