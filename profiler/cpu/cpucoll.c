/* cpucoll.c - the CPU collector: on-CPU samples (sampler.c, unwound by
 * unwind.c with the backend --unwinder names) and the scheduler tracer
 * (sched.c), sharing one stack table so that sampled stacks and the kernel
 * stacks of off-CPU waits are written once, symbolized at the end while
 * the target's files are still open.
 *
 * A service is sampled whole: every thread of every process, each process
 * unwound and symbolized in its own address space (its maps, its
 * unwinder), made when its first sample arrives, or at start for the
 * processes already there.  --max-processes bounds how many there are.
 *
 * Either half works without the other: without perf events the recording
 * has no samples ("cpu_samples" unavailable); without the BPF scheduler
 * tracer the session's /proc schedstat polls give the thread times
 * ("scheduler" degraded).
 *
 * Work per sample, in the event loop: one unwind over the copied stack and
 * a few hash lookups.  Names cost nothing until the end, once per pc.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/hashtab.h"
#include "profiler/cpu/addrspace.h"
#include "profiler/collect/collector.h"
#include "profiler/cpu/sampler.h"
#include "profiler/cpu/sched.h"
#include "profiler/cpu/stacktab.h"
#include "profiler/base/ksyms.h"
#include "profiler/cpu/symbolize.h"
#include "profiler/cpu/unwind.h"

#define SAMPLE_STAGING 4096
#define MAX_USER_FRAMES 127
#define MAX_KERNEL_FRAMES 64
#define MAX_STACK_NODES (1u << 20) /* about 40 MiB with its index, at most */
#define MAX_SAMPLED_THREADS 4096
#define SNAPSHOT_EVERY_NS 1000000000ull
#define MAPS_REFRESH_NS 200000000ull

/* One process's address space and its unwinder, as of one image: an
 * exec gives the process a new one, and this one stays for the stacks
 * already recorded in it. */
struct space {
	pid_t pid;
	struct np_addrspace *as; /* NULL: its maps could not be read */
	struct np_unwinder *uw;
	int err;          /* -errno: why as is NULL */
	uint64_t maps_ns; /* CLOCK_MONOTONIC when its maps were first read */
};

struct cpu {
	const struct np_config *cfg; /* borrowed from the session */
	int ep;
	/* sampling */
	struct space *spaces; /* one per process, more for processes that exec'd */
	size_t n_spaces, cap_spaces;
	size_t n_procs, max_spaces; /* processes with a space, and their cap */
	size_t n_execs;             /* spaces made for an exec, at most max_spaces */
	struct np_hashtab space_of; /* pid -> index in spaces + 1 of its image now */
	struct np_hashtab left_out; /* pids sampled without a space: the cap */
	struct np_cpu_sampler *sampler;
	struct np_stacktab *st;
	struct np_rec_cpu_sample staging[SAMPLE_STAGING];
	uint32_t staged;
	struct np_writer *w; /* borrowed from the session, during a drain only */
	struct np_rec_cpu_stats stats;
	/* scheduler */
	struct np_sched *sched;
	uint64_t next_snapshot_ns;
	uint64_t detached_ns; /* the scheduler's accounting ends here */
	uint32_t freq_hz;     /* sampling frequency now (the governor may lower it) */
	bool sampling_off;    /* the governor stopped sampling */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The profiler's own CPU time: what unwinding and symbolizing cost,
 * whatever else the machine is doing. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void flush_samples(struct cpu *c)
{
	if (!c->staged)
		return;
	/* nodes first, so a recording cut here still has the stacks */
	if (c->w && !np_stacktab_flush_nodes(c->st, c->w))
		np_writer_block(c->w, NP_BLK_CPU_SAMPLES, sizeof(c->staging[0]), c->staging,
				c->staged);
	c->staged = 0;
}

/* A new space for pid from its maps now, made the one of pid; NULL when
 * there is no memory for it. */
static struct space *new_space(struct cpu *c, pid_t pid)
{
	struct space *sp;

	if (NP_GROW(c->spaces, c->cap_spaces, c->n_spaces + 1) ||
	    np_hashtab_put(&c->space_of, (uint64_t)pid, (uint32_t)c->n_spaces + 1))
		return NULL;
	sp = &c->spaces[c->n_spaces++];
	*sp = (struct space){.pid = pid, .maps_ns = mono_ns()};
	sp->err = np_addrspace_new(c->cfg->proc_root, pid, &sp->as);
	if (!sp->err)
		sp->err = np_unwinder_new(sp->as, c->cfg->unwinder, &sp->uw);
	if (sp->err) {
		np_addrspace_free(sp->as);
		sp->as = NULL;
	}
	return sp;
}

/* Its samples are kept, kernel stacks only, and the process counted, so
 * that the report can say how many were left out (never silently). */
static void leave_out(struct cpu *c, pid_t pid)
{
	if (!np_hashtab_get(&c->left_out, (uint64_t)pid))
		np_hashtab_put(&c->left_out, (uint64_t)pid, 1);
}

/* The address space of process pid, made on first use; NULL when there
 * is no room for another (past --max-processes: the process is left out)
 * or no memory.  The pointer is valid until the next space is made. */
static struct space *space_of(struct cpu *c, pid_t pid)
{
	uint32_t i = np_hashtab_get(&c->space_of, (uint64_t)pid);
	struct space *sp;

	if (i)
		return &c->spaces[i - 1];
	if (np_hashtab_get(&c->left_out, (uint64_t)pid))
		return NULL;
	if (c->n_procs >= c->max_spaces) {
		leave_out(c, pid);
		return NULL;
	}
	sp = new_space(c, pid);
	if (sp)
		c->n_procs++;
	return sp;
}

/* Process pid ran execve: its pcs from this record on are of a new image,
 * which may well lie at the very addresses of the old one's modules (two
 * non-PIE programs both load at 0x400000), so a pc inside a known module
 * proves nothing and the old space cannot just be refreshed.  The kernel
 * tells us in the thread's own ring (PERF_RECORD_COMM, COMM_EXEC), between
 * the last sample of the old image and the first of the new: exact order
 * for free, where a sched_process_exec tracepoint in another ring would
 * need timestamps matched across rings, and a check of /proc/PID/exe on
 * unknown pcs would miss an exec of the same binary and pcs that happen
 * to fall into old modules.
 *
 * A process forked while recording whose space is made at its first
 * drained sample, after it exec'd, has its maps read from the new image
 * already (maps_ns >= ts_ns): nothing to do, and its few samples from
 * before the exec are named in the new image, the old one being gone. */
static void on_exec(void *arg, const struct np_perf_exec *e)
{
	struct cpu *c = arg;
	uint32_t i = np_hashtab_get(&c->space_of, e->pid);

	if (!i || c->spaces[i - 1].maps_ns >= e->ts_ns)
		return;
	if (c->n_execs >= c->max_spaces || !new_space(c, (pid_t)e->pid)) {
		/* no new space: the old image's names would be wrong */
		np_hashtab_del(&c->space_of, e->pid);
		leave_out(c, (pid_t)e->pid);
		return;
	}
	c->n_execs++;
}

static void on_sample(void *arg, const struct np_perf_sample *s)
{
	struct cpu *c = arg;
	struct space *sp = space_of(c, (pid_t)s->pid);
	uint64_t user[MAX_USER_FRAMES], kernel[MAX_KERNEL_FRAMES];
	size_t n_user = 0, n_kernel = 0;
	struct np_rec_cpu_sample *r;
	bool full = false;
	uint16_t flags = 0;

	/* kernel part: the callchain, context markers dropped */
	for (uint64_t i = 0; i < s->n_callchain && n_kernel < MAX_KERNEL_FRAMES; i++) {
		uint64_t ip = s->callchain[i];

		if (ip >= (uint64_t)PERF_CONTEXT_MAX)
			continue;
		/* all but the sampled pc are return addresses */
		kernel[n_kernel] = n_kernel ? ip - 1 : ip;
		n_kernel++;
	}
	if (s->kernel_mode)
		flags |= NP_CS_KERNEL;
	else
		n_kernel = 0;

	if (s->regs_abi && s->n_regs && sp && sp->as) {
		struct np_unwind_input in;
		uint64_t t0 = cpu_ns();
		unsigned uw_flags;

		np_perf_sample_unwind_input(s, &in);
		/* a pc in no known module: the target mapped something new */
		if (!np_addrspace_find(sp->as, in.regs[NP_UNWIND_REG_PC]))
			np_addrspace_refresh(sp->as, mono_ns(), MAPS_REFRESH_NS);
		n_user = np_unwind(sp->uw, (pid_t)s->tid, &in, user, MAX_USER_FRAMES, &uw_flags);
		c->stats.unwind_ns += cpu_ns() - t0;
		if (uw_flags & NP_UW_TRUNCATED) {
			flags |= NP_CS_TRUNCATED;
			c->stats.truncated++;
		}
		if (uw_flags & NP_UW_ERROR) {
			flags |= NP_CS_UNWIND_ERR;
			c->stats.unwind_errors++;
			if (c->cfg->verbose > 1)
				fprintf(stderr,
					"netprof: unwind of tid %u stopped after %zu frames: %s\n",
					s->tid, n_user, np_unwind_last_error(sp->uw));
		}
	} else {
		flags |= NP_CS_NO_USER;
		if (!sp && np_hashtab_get(&c->left_out, s->pid))
			flags |= NP_CS_NO_SPACE;
	}

	r = &c->staging[c->staged++];
	r->ts_ns = s->ts_ns;
	r->tid = s->tid;
	r->node = np_stacktab_add(c->st, sp ? sp->as : NULL, user, n_user, kernel, n_kernel, &full);
	r->cpu = (uint16_t)s->cpu;
	r->user_depth = (uint16_t)n_user;
	r->kernel_depth = (uint16_t)n_kernel;
	if (full) {
		flags |= NP_CS_TABLE_FULL;
		c->stats.table_full++;
	}
	r->flags = flags;
	c->stats.samples++;
	if (c->staged == SAMPLE_STAGING)
		flush_samples(c);
}

/* A thread the target just created, in any of its processes (the tracer
 * reports the threads of target processes only, new processes' first
 * threads included): sample it from now on. */
static void on_new_thread(void *arg, uint32_t tid, uint64_t born_ns)
{
	struct cpu *c = arg;
	uint64_t now;

	if (!c->sampler || c->sampling_off)
		return;
	if (np_cpu_sampler_add_thread(c->sampler, (pid_t)tid))
		return;
	now = mono_ns();
	if (now > born_ns)
		c->stats.new_thread_gap_ns += now - born_ns;
}

static int write_stats(struct cpu *c, struct np_writer *w, uint64_t now)
{
	struct np_cpu_sampler_stats ss;

	if (!c->sampler)
		return 0;
	np_cpu_sampler_stats(c->sampler, &ss);
	c->stats.ts_ns = now;
	c->stats.lost = ss.lost;
	c->stats.foreign = ss.foreign;
	c->stats.threads_sampled = ss.threads;
	c->stats.threads_failed = ss.failed;
	c->stats.throttled = ss.throttled;
	return np_writer_block(w, NP_BLK_CPU_STATS, sizeof(c->stats), &c->stats, 1);
}

static void stop_sampling(struct cpu *c)
{
	np_cpu_sampler_free(c->sampler);
	np_stacktab_free(c->st);
	for (size_t i = 0; i < c->n_spaces; i++) {
		np_unwinder_free(c->spaces[i].uw);
		np_addrspace_free(c->spaces[i].as);
	}
	free(c->spaces);
	np_hashtab_fini(&c->space_of);
	np_hashtab_fini(&c->left_out);
	c->sampler = NULL;
	c->st = NULL;
	c->spaces = NULL;
	c->n_spaces = c->cap_spaces = c->n_procs = 0;
}

/* The processes to sample: the service's live ones, or the one pid. */
static size_t target_pids(const struct np_config *cfg, pid_t *pids, size_t max)
{
	const struct np_targetset *ts = cfg->targets;
	size_t n = 0;

	if (!ts || !np_targets_multi(ts)) {
		pids[0] = cfg->pid;
		return 1;
	}
	for (size_t i = 0; i < ts->n && n < max; i++)
		if (!(ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED)))
			pids[n++] = ts->v[i].pid;
	return n;
}

static void open_spaces(struct cpu *c)
{
	pid_t *pids = calloc(c->max_spaces, sizeof(*pids));
	size_t n = pids ? target_pids(c->cfg, pids, c->max_spaces) : 0;

	for (size_t i = 0; i < n; i++)
		space_of(c, pids[i]);
	free(pids);
}

/* Opens events for the threads of every target process that have none;
 * the number opened, or -errno when none could be and some failed. */
static int scan_targets(struct cpu *c)
{
	pid_t *pids = calloc(c->max_spaces, sizeof(*pids));
	size_t n = pids ? target_pids(c->cfg, pids, c->max_spaces) : 0;
	int opened = 0, err = 0;

	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = np_cpu_sampler_scan(c->sampler, c->cfg->proc_root, pids[i]);

		if (rc > 0)
			opened += rc;
		else if (rc < 0 && !err)
			err = rc;
	}
	free(pids);
	return opened || !err ? opened : err;
}

/* A service holds a perf event per thread and, per process, the ELF files
 * of its modules: a few thousand descriptors for a few dozen workers,
 * past the usual soft limit of 1024.  The hard limit is ours to take. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int start_sampling(struct cpu *c, char *why, size_t whylen)
{
	const struct np_config *cfg = c->cfg;
	struct np_cpu_sampler_opts o = {
		.frequency_hz = cfg->freq_hz,
		.stack_bytes = cfg->stack_bytes ? cfg->stack_bytes : NP_DEFAULT_STACK_BYTES,
		.ring_pages = 32,
		.max_threads = MAX_SAMPLED_THREADS,
	};
	struct space *sp;
	int rc, opened = 0;

	if (!cfg->freq_hz) {
		snprintf(why, whylen, "turned off (-F 0)");
		return -ECANCELED;
	}
	if (!NP_UNWIND_SUPPORTED) {
		snprintf(why, whylen, "DWARF unwinding is not supported on this architecture");
		return -ENOTSUP;
	}
	/* A stack twice the copy never needs more than 2 pages per sample. */
	while ((size_t)o.ring_pages * 4096 < 8u * o.stack_bytes)
		o.ring_pages *= 2;
	c->max_spaces = cfg->targets && np_targets_multi(cfg->targets) ? cfg->targets->max_processes
								       : 1;
	if (c->max_spaces > 1)
		raise_fd_limit();
	/* The maps of the processes there now are read at once, while they
	 * are certainly there: the primary's must be, or nothing is sampled. */
	sp = space_of(c, cfg->pid);
	if (!sp || !sp->as) {
		rc = sp ? sp->err : -ENOMEM;
		snprintf(why, whylen, "cannot read the memory maps of pid %d: %s", (int)cfg->pid,
			 strerror(-rc));
		return rc;
	}
	open_spaces(c);
	rc = np_stacktab_new(MAX_STACK_NODES, &c->st);
	if (!rc)
		rc = np_cpu_sampler_new(&o, &c->sampler);
	if (!rc)
		np_cpu_sampler_on_exec(c->sampler, on_exec, c);
	if (rc) {
		snprintf(why, whylen, "cannot set up CPU sampling: %s", strerror(-rc));
		return rc;
	}
	/* Rescans catch threads created while the first events opened;
	 * later ones come from the scheduler tracer or the poll. */
	for (int round = 0; round < 4; round++) {
		rc = scan_targets(c);
		if (rc <= 0)
			break;
		opened += rc;
	}
	if (rc < 0 && !opened) {
		struct np_cpu_sampler_stats ss;

		np_cpu_sampler_stats(c->sampler, &ss);
		snprintf(why, whylen, "perf_event_open (cpu-clock) failed: %s%s",
			 strerror(-(ss.first_error ? ss.first_error : rc)),
			 ss.first_error == -EACCES || ss.first_error == -EPERM
				 ? " (needs CAP_PERFMON, and CAP_SYS_PTRACE for another user's "
				   "process)"
				 : "");
		return rc;
	}
	c->stats.frequency_hz = cfg->freq_hz;
	c->stats.stack_bytes = o.stack_bytes;
	c->freq_hz = cfg->freq_hz;
	return 0;
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void cpu_destroy(void *state);

static int cpu_init(const struct np_collector_ctx *ctx, struct np_writer *w, void **state,
		    char *err, size_t errlen)
{
	struct cpu *c = calloc(1, sizeof(*c));
	char why_cpu[200] = "", why_sched[200] = "";
	int rc_cpu, rc_sched;

	if (ctx->cfg->no_cpu) {
		snprintf(err, errlen, "turned off (--no-cpu)");
		free(c);
		return -ECANCELED;
	}
	if (!c)
		return -ENOMEM;
	c->cfg = ctx->cfg;
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->ep < 0) {
		free(c);
		return -errno;
	}
	/* Names are looked up on this host only: never ask a debuginfod
	 * server over the network while attached. */
	unsetenv("DEBUGINFOD_URLS");
	rc_cpu = start_sampling(c, why_cpu, sizeof(why_cpu));
	if (rc_cpu)
		stop_sampling(c);
	rc_sched = np_sched_init(ctx->cfg, &c->sched, why_sched, sizeof(why_sched));
	if (!rc_sched)
		np_sched_on_new_thread(c->sched, on_new_thread, c);
	if (c->sampler)
		epoll_add(c->ep, np_cpu_sampler_fd(c->sampler));
	if (c->sched)
		epoll_add(c->ep, np_sched_fd(c->sched));

	if (!rc_cpu && c->max_spaces > 1)
		np_writer_source(w, "cpu_samples", NP_SOURCE_OK,
				 "perf cpu-clock at %u Hz per thread of every process of the "
				 "service "
				 "(%zu at start, those forked or entering later too), %u KiB user "
				 "stacks unwound with DWARF CFI (%s) in each process's own address "
				 "space",
				 ctx->cfg->freq_hz, c->n_procs,
				 (unsigned)(c->stats.stack_bytes >> 10),
				 np_unwind_backend_name(ctx->cfg->unwinder));
	else if (!rc_cpu)
		np_writer_source(w, "cpu_samples", NP_SOURCE_OK,
				 "perf cpu-clock at %u Hz per thread, %u KiB user stacks unwound "
				 "with DWARF CFI (%s)",
				 ctx->cfg->freq_hz, (unsigned)(c->stats.stack_bytes >> 10),
				 np_unwind_backend_name(ctx->cfg->unwinder));
	if (!rc_sched)
		np_writer_source(w, "scheduler", NP_SOURCE_OK,
				 "BTF tracepoints (tp_btf) "
				 "sched_switch/sched_wakeup/sched_wakeup_new");
	else
		np_writer_source(w, "scheduler", NP_SOURCE_DEGRADED,
				 "on-CPU and run-queue time from /proc schedstat polls; no off-CPU "
				 "reasons (%s)",
				 why_sched);
	if (rc_cpu && rc_sched) {
		snprintf(err, errlen, "%s", why_cpu);
		cpu_destroy(c);
		return rc_cpu;
	}
	if (rc_cpu)
		np_writer_source(w, "cpu_samples", NP_SOURCE_UNAVAILABLE, "%s", why_cpu);
	c->next_snapshot_ns = ctx->start_ns + SNAPSHOT_EVERY_NS;
	if (ctx->cfg->verbose && c->sampler) {
		struct np_cpu_sampler_stats ss;

		np_cpu_sampler_stats(c->sampler, &ss);
		fprintf(stderr, "netprof: sampling %llu threads of %zu processes at %u Hz\n",
			(unsigned long long)ss.threads, c->n_procs, ctx->cfg->freq_hz);
	}
	*state = c;
	return 0;
}

static int cpu_fd(void *state)
{
	return ((struct cpu *)state)->ep;
}

static int cpu_drain(void *state, struct np_writer *w)
{
	struct cpu *c = state;

	/* c->ep needs no reading: it is ready while the rings it watches are,
	 * and draining them clears that. */
	if (c->sampler) {
		c->w = w;
		np_cpu_sampler_drain(c->sampler, on_sample, c);
		flush_samples(c);
		c->w = NULL;
	}
	if (c->sched)
		np_sched_drain(c->sched, w);
	return 0;
}

static int cpu_poll(void *state, struct np_writer *w, uint64_t now_ns)
{
	struct cpu *c = state;

	if (now_ns < c->next_snapshot_ns)
		return 0;
	c->next_snapshot_ns = now_ns + SNAPSHOT_EVERY_NS;
	/* New threads are opened as the scheduler tracer reports them; the
	 * scan catches any it could not report (no tracer, ring full). */
	if (c->sampler && !c->sampling_off)
		scan_targets(c);
	if (c->sched)
		np_sched_snapshot_threads(c->sched, w, now_ns);
	return write_stats(c, w, now_ns);
}

static void cpu_detach(void *state)
{
	struct cpu *c = state;

	if (c->sampler)
		np_cpu_sampler_disable(c->sampler);
	if (c->sched)
		np_sched_detach(c->sched);
	c->detached_ns = mono_ns();
}

/* The source's last word, replacing its "ok" of the start: some processes
 * were sampled without user stacks (NP_CS_NO_SPACE on their samples). */
static int write_left_out(struct cpu *c, struct np_writer *w)
{
	return np_writer_source(w, "cpu_samples", NP_SOURCE_DEGRADED,
				"perf cpu-clock at %u Hz; %zu process%s past --max-processes %zu "
				"had no address space of its own and sampled kernel stacks only; "
				"raise --max-processes to unwind them",
				c->cfg->freq_hz, c->left_out.n, c->left_out.n == 1 ? "" : "es",
				c->max_spaces);
}

static int cpu_finish(void *state, struct np_writer *w, uint64_t now_ns)
{
	struct cpu *c = state;
	struct np_ksyms *ks = NULL;
	uint64_t t0;
	int rc = 0;

	cpu_drain(c, w);
	if (c->sched) {
		/* Close the open states where counting stopped, so every
		 * thread's parts add up to its window exactly. */
		rc = np_sched_snapshot_threads(c->sched, w,
					       c->detached_ns > now_ns ? c->detached_ns : now_ns);
		if (!rc)
			rc = np_sched_write_offcpu(c->sched, w, c->st, now_ns);
	}
	if (c->st) {
		uint64_t t1;

		t0 = cpu_ns();
		if (np_ksyms_load(c->cfg->proc_root, &ks) && c->cfg->verbose)
			fprintf(stderr, "netprof: no kernel symbols (/proc/kallsyms unreadable)\n");
		t1 = cpu_ns();
		if (!rc)
			rc = np_stacktab_flush_nodes(c->st, w);
		if (!rc)
			rc = np_stacktab_write_symbols(c->st, w, ks, &c->stats.pcs);
		c->stats.symbolize_ns = cpu_ns() - t0;
		if (c->cfg->verbose)
			fprintf(stderr,
				"netprof: %llu samples unwound in %.1f ms; %llu pcs symbolized in "
				"%.1f ms "
				"(kallsyms %.1f ms)\n",
				(unsigned long long)c->stats.samples,
				(double)c->stats.unwind_ns / 1e6, (unsigned long long)c->stats.pcs,
				(double)c->stats.symbolize_ns / 1e6, (double)(t1 - t0) / 1e6);
		np_ksyms_free(ks);
	}
	if (!rc)
		rc = write_stats(c, w, now_ns);
	if (!rc && c->left_out.n)
		rc = write_left_out(c, w);
	return rc;
}

static void cpu_destroy(void *state)
{
	struct cpu *c = state;

	if (!c)
		return;
	stop_sampling(c);
	np_sched_free(c->sched);
	if (c->ep >= 0)
		close(c->ep);
	free(c);
}

/* Steps NP_SHED_CPU_FREQ (frequency / NP_SHED_FACTOR) and NP_SHED_CPU_OFF
 * (no more samples; the samples so far stay, and the scheduler tracer's
 * thread times go on).  Samples are drained as usual either way. */
static int cpu_shed(void *state, unsigned step, struct np_shed_change *out, size_t max)
{
	struct cpu *c = state;
	uint32_t hz;
	size_t n;

	if (!c->sampler || c->sampling_off || !max || c->detached_ns)
		return 0;
	if (step == NP_SHED_CPU_FREQ) {
		hz = c->freq_hz / NP_SHED_FACTOR ? c->freq_hz / NP_SHED_FACTOR : 1;
		if (hz == c->freq_hz || np_cpu_sampler_set_frequency(c->sampler, hz))
			return 0;
		n = np_shed_change_add(out, 0, max, "cpu_samples", "frequency_hz", c->freq_hz, hz);
		c->freq_hz = hz;
		return (int)n;
	}
	if (step == NP_SHED_CPU_OFF) {
		np_cpu_sampler_disable(c->sampler);
		c->sampling_off = true;
		n = np_shed_change_add(out, 0, max, "cpu_samples", "frequency_hz", c->freq_hz, 0);
		c->freq_hz = 0;
		return (int)n;
	}
	return 0;
}

static const char *const cpu_sources[] = {"cpu_samples", NULL};

const struct np_collector_ops np_cpu_collector = {
	.name = "cpu",
	.init = cpu_init,
	.fd = cpu_fd,
	.drain = cpu_drain,
	.poll = cpu_poll,
	.detach = cpu_detach,
	.finish = cpu_finish,
	.destroy = cpu_destroy,
	.shed = cpu_shed,
	.sources = cpu_sources,
};
