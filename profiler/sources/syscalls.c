/* syscalls.c - loader and reader of the syscall source (bpf/syscalls.bpf.c).
 *
 * The skeleton lifecycle is written out plainly: open, set .rodata, size the
 * ring buffer, load, attach.  Events reach the recording through a stager
 * (collect/stager.h).  In-kernel totals are per-CPU; they are summed here.
 */
#include "profiler/sources/syscalls.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/collect/bpfutil.h"
#include "profiler/format/systable.h"
#include "profiler/collect/shedding.h"
#include "profiler/collect/stager.h"
#include "bpf/syscalls.skel.h"

#define STAGING_EVENTS 4096

struct np_syscalls {
	struct np_syscalls_bpf *skel;
	struct np_stager events;      /* written: events recorded; writer_drops: lost there */
	struct bpf_link *thread_iter; /* np_dump_threads, for the target only */
	uint64_t lost;                /* all drops, as of the last snapshot */
	uint64_t calls;               /* traced calls, as of the last snapshot */
	int ncpus;
	bool detached;
};

/* Kernels before 6.1 cannot filter a task iterator by pid; the program
 * filters by tgid itself, so the unfiltered walk is only slower. */
static int attach_thread_iter(struct np_syscalls *sc, pid_t pid)
{
	union bpf_iter_link_info info = {.task.pid = (uint32_t)pid};
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
			    .link_info_len = sizeof(info));

	if (!pid) { /* a service: every task, filtered by the program */
		sc->thread_iter = bpf_program__attach_iter(sc->skel->progs.np_dump_threads, NULL);
		return sc->thread_iter ? 0 : -errno;
	}

	sc->thread_iter = bpf_program__attach_iter(sc->skel->progs.np_dump_threads, &opts);
	if (!sc->thread_iter)
		sc->thread_iter = bpf_program__attach_iter(sc->skel->progs.np_dump_threads, NULL);
	return sc->thread_iter ? 0 : -errno;
}

int np_syscalls_init(const struct np_config *cfg, const struct np_syscalls_hook *hooks,
		     size_t n_hooks, struct np_syscalls **out, char *err, size_t errlen)
{
	struct np_syscalls *sc;
	int rc;

	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->ncpus = libbpf_num_possible_cpus();
	if (sc->ncpus <= 0) {
		rc = sc->ncpus ? sc->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count possible CPUs: %s", strerror(-rc));
		goto fail;
	}

	sc->skel = np_syscalls_bpf__open();
	if (!sc->skel) {
		rc = -errno;
		np_bpf_explain("open the syscall tracer", rc, err, errlen);
		goto fail;
	}
	sc->skel->rodata->target_tgid = (uint32_t)cfg->pid;
	sc->skel->rodata->target_multi = np_targets_multi(cfg->targets);
	sc->skel->rodata->follow_children = cfg->targets && cfg->targets->follow_children;
	rc = np_targetmap_use(sc->skel->maps.np_targets, cfg->targets);
	if (rc) {
		np_bpf_explain("share the target map with the syscall tracer", rc, err, errlen);
		goto fail;
	}
	sc->skel->data->slow_ns = cfg->threshold_ns;
	sc->skel->bss->sample_every = cfg->sample_every;
	for (unsigned int s = 0; s < NP_SYS_COUNT; s++) {
		int nr = np_sys_nr(s);

		if (nr >= 0 && nr < NP_MAX_SYSCALL_NR)
			sc->skel->rodata->sys_of_nr[nr] = (uint8_t)(s + 1);
	}
	rc = bpf_map__set_max_entries(sc->skel->maps.events, np_ringbuf_bytes(cfg->ringbuf_bytes));
	if (rc) {
		np_bpf_explain("size the ring buffer", rc, err, errlen);
		goto fail;
	}
	/* Wake the reader at a quarter full; it also polls on its timer. */
	sc->skel->rodata->wakeup_bytes = np_ringbuf_bytes(cfg->ringbuf_bytes) / 4;
	for (size_t i = 0; i < n_hooks; i++) {
		rc = hooks[i].before_load(sc->skel, cfg, hooks[i].arg);
		if (rc) {
			np_bpf_explain(hooks[i].what, rc, err, errlen);
			goto fail;
		}
	}

	/* Attached by hand below, with the target as its filter. */
	bpf_program__set_autoattach(sc->skel->progs.np_dump_threads, false);
	rc = np_syscalls_bpf__load(sc->skel);
	if (rc) {
		np_bpf_explain("load the syscall tracer", rc, err, errlen);
		goto fail;
	}
	rc = np_syscalls_bpf__attach(sc->skel);
	if (rc) {
		np_bpf_explain("attach the syscall tracer to sys_enter/sys_exit", rc, err, errlen);
		goto fail;
	}
	rc = attach_thread_iter(sc, np_targets_multi(cfg->targets) ? 0 : cfg->pid);
	if (rc) {
		np_bpf_explain("attach the thread iterator", rc, err, errlen);
		goto fail;
	}
	rc = np_stager_init(&sc->events, bpf_map__fd(sc->skel->maps.events), NP_BLK_SYS_EVENTS,
			    sizeof(struct np_sys_event), STAGING_EVENTS);
	if (rc) {
		snprintf(err, errlen, "cannot read the syscall ring buffer: %s", strerror(-rc));
		goto fail;
	}
	*out = sc;
	return 0;
fail:
	np_syscalls_free(sc);
	return rc;
}

int np_syscalls_fd(const struct np_syscalls *sc)
{
	return np_stager_fd(&sc->events);
}

int np_syscalls_drain(struct np_syscalls *sc, struct np_writer *w)
{
	return np_stager_drain(&sc->events, w);
}

/* The per-syscall totals summed over the CPUs, the syscalls with calls
 * only; returns how many, or -ENOMEM. */
static int sum_sys_stats(struct np_syscalls *sc, uint64_t now_ns,
			 struct np_rec_sys_stats recs[NP_SYS_COUNT])
{
	struct np_sys_stats *percpu = calloc((size_t)sc->ncpus, sizeof(*percpu));
	uint32_t n = 0;

	if (!percpu)
		return -ENOMEM;
	for (uint32_t s = 0; s < NP_SYS_COUNT; s++) {
		struct np_rec_sys_stats *r = &recs[n];

		if (bpf_map_lookup_elem(bpf_map__fd(sc->skel->maps.sys_stats), &s, percpu))
			continue;
		memset(r, 0, sizeof(*r));
		r->ts_ns = now_ns;
		r->sys = (uint16_t)s;
		for (int c = 0; c < sc->ncpus; c++) {
			const struct np_sys_stats *p = &percpu[c];

			r->stats.count += p->count;
			r->stats.errors += p->errors;
			r->stats.eagain += p->eagain;
			r->stats.bytes += p->bytes;
			r->stats.total_ns += p->total_ns;
			if (p->max_ns > r->stats.max_ns)
				r->stats.max_ns = p->max_ns;
			for (int b = 0; b < NP_HIST_BUCKETS; b++)
				r->stats.hist[b] += p->hist[b];
		}
		if (r->stats.count)
			n++;
	}
	free(percpu);
	return (int)n;
}

int np_syscalls_baseline(struct np_syscalls *sc, struct np_writer *w, uint64_t now_ns)
{
	struct np_rec_sys_stats recs[NP_SYS_COUNT];
	int n = sum_sys_stats(sc, now_ns, recs);

	if (n <= 0)
		return n;
	return np_writer_block(w, NP_BLK_SYS_BASELINE, sizeof(recs[0]), recs, (uint32_t)n);
}

int np_syscalls_snapshot(struct np_syscalls *sc, struct np_writer *w, uint64_t now_ns)
{
	struct np_rec_sys_stats recs[NP_SYS_COUNT];
	struct np_rec_drops drops = {.ts_ns = now_ns};
	uint64_t *counts;
	uint32_t n;
	int rc = 0, k;

	k = sum_sys_stats(sc, now_ns, recs);
	counts = calloc((size_t)sc->ncpus, sizeof(*counts));
	if (k < 0 || !counts) {
		rc = -ENOMEM;
		goto out;
	}
	n = (uint32_t)k;
	sc->calls = 0;
	for (uint32_t i = 0; i < n; i++)
		sc->calls += recs[i].stats.count;
	for (uint32_t i = 0; i < NP_DROP_COUNT; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(sc->skel->maps.drops), &i, counts))
			continue;
		for (int c = 0; c < sc->ncpus; c++)
			drops.count[i] += counts[c];
	}
	drops.count[NP_DROP_WRITER] = sc->events.writer_drops;
	sc->lost = 0;
	for (int i = 0; i < NP_DROPS_SLOTS; i++)
		sc->lost += drops.count[i];
	if (n)
		rc = np_writer_block(w, NP_BLK_SYS_STATS, sizeof(recs[0]), recs, n);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_DROPS, sizeof(drops), &drops, 1);
out:
	free(counts);
	return rc;
}

struct each_thread {
	void (*fn)(uint32_t tid, const struct np_thread_stats *ts, void *arg);
	void *arg;
};

static void on_thread_record(void *arg, const void *rec)
{
	const struct each_thread *e = arg;
	const struct np_thread_record *r = rec;

	e->fn(r->tid, &r->stats, e->arg);
}

int np_syscalls_for_each_thread(struct np_syscalls *sc,
				void (*fn)(uint32_t tid, const struct np_thread_stats *ts,
					   void *arg),
				void *arg)
{
	int fd = bpf_map__fd(sc->skel->maps.exited_threads);
	struct each_thread each = {.fn = fn, .arg = arg};
	uint32_t key, next;
	uint32_t *prev = NULL;
	struct np_thread_stats ts;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &ts) == 0)
			fn(next, &ts, arg);
		key = next;
		prev = &key;
	}
	/* Live threads, from the iterator. */
	return np_bpf_iter_read(sc->thread_iter, sizeof(struct np_thread_record), on_thread_record,
				&each);
}

int np_syscalls_for_each_task_count(struct np_syscalls *sc,
				    void (*fn)(uint32_t tid, const struct np_task_counts *c,
					       void *arg),
				    void *arg)
{
	int fd = bpf_map__fd(sc->skel->maps.task_counts);
	uint32_t key, next, *prev = NULL;
	struct np_task_counts c;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &c) == 0)
			fn(next, &c, arg);
		key = next;
		prev = &key;
	}
	return 0;
}

void np_syscalls_stats(const struct np_syscalls *sc, uint64_t *written, uint64_t *lost)
{
	*written = sc->events.written;
	*lost = sc->lost;
}

uint64_t np_syscalls_calls(struct np_syscalls *sc)
{
	uint64_t *counts = calloc((size_t)sc->ncpus, sizeof(struct np_sys_stats));
	struct np_sys_stats *percpu = (struct np_sys_stats *)counts;
	uint64_t n = 0;

	if (!counts)
		return sc->calls;
	for (uint32_t s = 0; s < NP_SYS_COUNT; s++)
		if (!bpf_map_lookup_elem(bpf_map__fd(sc->skel->maps.sys_stats), &s, percpu))
			for (int c = 0; c < sc->ncpus; c++)
				n += percpu[c].count;
	free(counts);
	return n > sc->calls ? n : sc->calls;
}

/* The kernel side reads both knobs from .data on every call, so the
 * change applies to the next call that ends. */
int np_syscalls_shed(struct np_syscalls *sc, unsigned step, struct np_shed_change *out, size_t max)
{
	uint64_t slow = sc->skel->data->slow_ns;
	uint32_t every = sc->skel->bss->sample_every;
	uint64_t new_slow = np_shed_raise(slow, NP_SHED_SLOW_CAP_NS);
	uint32_t new_every = (uint32_t)np_shed_raise(every, NP_SHED_SAMPLE_CAP);
	size_t n = 0;

	if (step != NP_SHED_SYSCALLS || sc->detached)
		return 0;
	sc->skel->data->slow_ns = new_slow;
	sc->skel->bss->sample_every = new_every;
	n = np_shed_change_add(out, n, max, "syscalls", NP_SHED_SLOW_CALL_THRESHOLD, slow,
			       new_slow);
	n = np_shed_change_add(out, n, max, "syscalls", "sample_every", every, new_every);
	return (int)n;
}

/* Only the syscall and exchange hooks go: the exit hook keeps moving the
 * totals of threads that end before the final snapshot. */
void np_syscalls_detach(struct np_syscalls *sc)
{
	struct bpf_link **links[] = {
		&sc->skel->links.np_sys_enter, &sc->skel->links.np_sys_exit,
		&sc->skel->links.np_sock_recv, &sc->skel->links.np_sock_send,
		&sc->skel->links.np_sk_state,  &sc->skel->links.np_sk_data_ready,
		&sc->skel->links.np_dev_xmit,  &sc->skel->links.np_xch_retrans,
	};

	if (sc->detached)
		return;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
	sc->detached = true;
}

struct np_syscalls_bpf *np_syscalls_skel(struct np_syscalls *sc)
{
	return sc->skel;
}

/* The socket-call programs are what mark connections: a hook that leaves
 * them out (exchanges and netstack both off, or a kernel without their
 * tracepoints) leaves the map empty. */
int np_syscalls_conns_fd(const struct np_syscalls *sc)
{
	return bpf_program__autoload(sc->skel->progs.np_sock_recv)
		       ? bpf_map__fd(sc->skel->maps.conns)
		       : -1;
}

void np_syscalls_free(struct np_syscalls *sc)
{
	if (!sc)
		return;
	np_stager_fini(&sc->events);
	bpf_link__destroy(sc->thread_iter);
	np_syscalls_bpf__destroy(sc->skel);
	free(sc);
}
