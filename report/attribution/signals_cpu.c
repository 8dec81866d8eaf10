/* signals_cpu.c - the CPU samples' and the scheduler tracer's part of
 * struct np_signals (np_signals_from_cpu).
 *
 * Runs after the syscall source's glue, whose thread list it refines.  What
 * it replaces, and with what:
 *   - off-CPU time by reason (network, readiness wait, lock, disk, sleep,
 *     other) from the tracer, instead of "off CPU outside network calls,
 *     reason unknown": app.blocked can then say lock, disk or sleep, and
 *     readiness waits are idle time exactly;
 *   - each thread's on-CPU time split into user code, the kernel network
 *     stack and other kernel work in proportion to its CPU samples' frame
 *     classes (innermost frame), instead of "time in non-blocking socket
 *     calls" - but only for threads that have samples;
 *   - per-window thread times from the tracer's once-a-second snapshots,
 *     and the per-window split from the samples' timestamps;
 *   - the service threads' hottest user-space functions (self samples) and
 *     their longest non-network waits (syscall, kernel stack).
 * A recording without the sampler or the tracer (--no-cpu, BPF refused)
 * keeps the syscall source's estimates.
 *
 * Not for display: report/render/text_cpu.c and json_cpu.c print the CPU
 * sections from report/model/cpu_report.c; this only carries what the
 * rules need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/attribution/signals.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* part/whole of ns, without overflow */
static uint64_t scale(uint64_t ns, uint64_t part, uint64_t whole)
{
	return whole ? (uint64_t)((unsigned __int128)ns * part / whole) : 0;
}

static bool is_service_tid(struct np_signals *s, uint32_t tid)
{
	const struct np_sig_thread *t = np_signals_thread(s, tid);

	return t && np_signals_thread_is_service(t);
}

/* --- the scheduler tracer ------------------------------------------------ */

static void fill_reasons(struct np_signals *s, const struct np_report *r)
{
	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_thread_row *row = &r->threads[i];
		struct np_sig_thread *t;

		if (!row->have_reasons)
			continue;
		t = np_signals_thread(s, row->tid);
		if (!t)
			continue;
		t->have_offcpu_reasons = true;
		t->off_net_ns = row->off_by_reason_ns[NP_OFF_NET];
		t->off_poll_ns = row->off_by_reason_ns[NP_OFF_POLL];
		t->off_lock_ns = row->off_by_reason_ns[NP_OFF_LOCK];
		t->off_disk_ns = row->off_by_reason_ns[NP_OFF_DISK];
		t->off_sleep_ns = row->off_by_reason_ns[NP_OFF_SLEEP];
		t->off_other_ns = row->off_by_reason_ns[NP_OFF_OTHER];
	}
}

static int by_tid_ts(const void *a, const void *b)
{
	const struct np_rec_sched_thread *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* Per-window thread times from the tracer's cumulative snapshots (one a
 * second, one at the end): each snapshot's increase belongs to the window
 * that ends at the boundary it was taken at. */
static int fill_sched_windows(struct np_signals *s, const struct np_recording *rec)
{
	static const enum np_wmetric reset[] = {NP_W_THREAD_NS, NP_W_ON_CPU_NS, NP_W_RUNNABLE_NS,
						NP_W_OFF_NONNET_NS, NP_W_READY_WAIT_NS};
	size_t n;
	const struct np_rec_sched_thread *hist = np_recording_records(rec, NP_BLK_SCHED_THREADS,
								      &n);
	struct np_rec_sched_thread *v;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, hist, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_tid_ts);
	for (size_t w = 0; w < s->n_windows; w++)
		for (size_t k = 0; k < sizeof(reset) / sizeof(reset[0]); k++)
			s->windows[w].v[reset[k]] = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		struct np_rec_sched_thread prev = {0};
		bool service = is_service_tid(s, v[i].tid);

		while (j < n && v[j].tid == v[i].tid)
			j++;
		for (size_t k = i; service && k < j; k++) {
			const struct np_rec_sched_thread *cur = &v[k];
			size_t b = np_signals_boundary_of(s, cur->ts_ns);
			uint64_t *wv, off_prev = 0, off_cur = 0, nonnet_prev, nonnet_cur;

			if (b == 0)
				b = 1; /* a snapshot before the first boundary: window 0 */
			wv = s->windows[b - 1].v;
			for (int r = 0; r < NP_OFF_COUNT; r++) {
				off_prev += prev.off_ns[r];
				off_cur += cur->off_ns[r];
			}
			nonnet_prev = off_prev - prev.off_ns[NP_OFF_NET] - prev.off_ns[NP_OFF_POLL];
			nonnet_cur = off_cur - cur->off_ns[NP_OFF_NET] - cur->off_ns[NP_OFF_POLL];
			wv[NP_W_ON_CPU_NS] += sub0(cur->on_cpu_ns, prev.on_cpu_ns);
			wv[NP_W_RUNNABLE_NS] += sub0(cur->runq_ns, prev.runq_ns);
			wv[NP_W_READY_WAIT_NS] += sub0(cur->off_ns[NP_OFF_POLL],
						       prev.off_ns[NP_OFF_POLL]);
			wv[NP_W_OFF_NONNET_NS] += sub0(nonnet_cur, nonnet_prev);
			wv[NP_W_THREAD_NS] += sub0(cur->on_cpu_ns + cur->runq_ns + off_cur,
						   prev.on_cpu_ns + prev.runq_ns + off_prev);
			prev = *cur;
		}
		i = j;
	}
	free(v);
	s->wknown |= 1ull << NP_W_THREAD_NS | 1ull << NP_W_ON_CPU_NS | 1ull << NP_W_RUNNABLE_NS |
		     1ull << NP_W_OFF_NONNET_NS | 1ull << NP_W_READY_WAIT_NS;
	return 0;
}

struct wait_agg {
	uint8_t reason;
	int32_t sys;
	uint32_t node;
	uint64_t ns, count;
};

static int by_wait_key(const void *a, const void *b)
{
	const struct wait_agg *x = a, *y = b;

	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->sys != y->sys)
		return x->sys < y->sys ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int by_wait_ns(const void *a, const void *b)
{
	const struct wait_agg *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return by_wait_key(a, b);
}

static const char *short_reason(uint8_t reason)
{
	switch (reason) {
	case NP_OFF_LOCK:
		return "lock";
	case NP_OFF_DISK:
		return "disk";
	case NP_OFF_SLEEP:
		return "sleep";
	default:
		return "other";
	}
}

/* The service threads' longest waits outside the network, by (reason,
 * syscall, kernel stack); blocks whose stack was not taken are one entry
 * per (reason, syscall). */
static int fill_waits(struct np_signals *s, const struct np_recording *rec,
		      const struct np_cpu_report *c)
{
	size_t n, m = 0, out = 0;
	const struct np_rec_offcpu *o = np_recording_records(rec, NP_BLK_SCHED_OFFCPU, &n);
	struct wait_agg *v;

	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t reason = o[i].reason < NP_OFF_COUNT ? o[i].reason : NP_OFF_OTHER;

		if (reason == NP_OFF_NET || reason == NP_OFF_POLL || !is_service_tid(s, o[i].tid))
			continue;
		v[m++] = (struct wait_agg){reason, o[i].sys, o[i].kstack >= 0 ? o[i].node : 0,
					   o[i].total_ns, o[i].count};
	}
	qsort(v, m, sizeof(*v), by_wait_key);
	for (size_t i = 0; i < m; i++) {
		if (out && !by_wait_key(&v[out - 1], &v[i])) {
			v[out - 1].ns += v[i].ns;
			v[out - 1].count += v[i].count;
			continue;
		}
		v[out++] = v[i];
	}
	qsort(v, out, sizeof(*v), by_wait_ns);
	for (size_t i = 0; i < out && s->n_waits < sizeof(s->waits) / sizeof(s->waits[0]); i++) {
		struct np_sig_wait *w = &s->waits[s->n_waits++];
		char key[32];
		const char *name = NULL;

		memset(w, 0, sizeof(*w));
		snprintf(w->reason, sizeof(w->reason), "%s", short_reason(v[i].reason));
		if (v[i].sys >= 0) {
			snprintf(key, sizeof(key), "syscall.%d", v[i].sys);
			name = np_recording_meta(rec, key);
			if (name)
				snprintf(w->syscall, sizeof(w->syscall), "%s", name);
			else
				snprintf(w->syscall, sizeof(w->syscall), "syscall %d", v[i].sys);
		}
		if (v[i].node)
			np_cpu_stack_summary(c, v[i].node, w->where, sizeof(w->where));
		w->ns = v[i].ns;
		w->count = v[i].count;
	}
	free(v);
	return 0;
}

/* --- CPU samples ---------------------------------------------------------- */

struct hot_agg {
	const char *name, *module;
	uint64_t self;
};

static int by_hot_self(const void *a, const void *b)
{
	const struct hot_agg *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The service threads' hottest functions in user space (the application
 * and its libraries), by self samples, merged over the threads' own top
 * lists. */
static int fill_hot(struct np_signals *s, const struct np_cpu_report *c, uint64_t samples)
{
	size_t cap = 0, n = 0;
	struct hot_agg *v = NULL;

	for (size_t k = 0; k < c->n_threads; k++)
		if (is_service_tid(s, c->threads[k].tid))
			cap += c->threads[k].n_top;
	if (!cap || !samples)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < c->n_threads; k++) {
		const struct np_cpu_thread *th = &c->threads[k];

		if (!is_service_tid(s, th->tid))
			continue;
		for (size_t i = 0; i < th->n_top; i++) {
			const struct np_cpu_fn *fn = &th->top[i];
			size_t j;

			if ((fn->cls != NP_CLS_APP && fn->cls != NP_CLS_LIB) || !fn->self)
				continue;
			for (j = 0; j < n; j++)
				if (!strcmp(v[j].name, fn->name) &&
				    !strcmp(v[j].module, fn->module))
					break;
			if (j == n)
				v[n++] = (struct hot_agg){fn->name, fn->module, 0};
			v[j].self += fn->self;
		}
	}
	qsort(v, n, sizeof(*v), by_hot_self);
	for (size_t i = 0; i < n && s->n_hot < NP_SIG_MAX_HOT; i++) {
		struct np_sig_hot *h = &s->hot[s->n_hot++];

		snprintf(h->function, sizeof(h->function), "%s", v[i].name);
		snprintf(h->module, sizeof(h->module), "%s", v[i].module);
		h->share = (double)v[i].self / (double)samples;
	}
	free(v);
	return 0;
}

/* Each thread's on-CPU time split by its samples' innermost frame class:
 * user code (application, libraries), kernel network stack, other kernel. */
static uint64_t fill_cpu_split(struct np_signals *s, const struct np_cpu_report *c)
{
	uint64_t service_samples = 0;

	for (size_t k = 0; k < c->n_threads; k++) {
		const struct np_cpu_thread *th = &c->threads[k];
		struct np_sig_thread *t = np_signals_thread(s, th->tid);
		uint64_t classified = 0;

		if (!t)
			continue;
		for (int cls = 0; cls < NP_CLS_COUNT; cls++)
			classified += th->by_class[cls];
		if (np_signals_thread_is_service(t)) {
			service_samples += th->samples;
			s->cpu_softirq_samples += th->softirq;
		}
		if (!classified || !t->have_sched)
			continue; /* no stack: keep the syscall source's estimate */
		t->have_cpu_split = true;
		t->samples = classified;
		t->softirq_samples = th->softirq;
		t->user_ns = scale(t->on_cpu_ns,
				   th->by_class[NP_CLS_APP] + th->by_class[NP_CLS_LIB], classified);
		t->kernel_net_ns = scale(t->on_cpu_ns, th->by_class[NP_CLS_KNET], classified);
		t->kernel_other_ns = sub0(t->on_cpu_ns, t->user_ns + t->kernel_net_ns);
	}
	return service_samples;
}

/* Per window: the service threads' on-CPU time split in the proportion of
 * that window's samples (the whole recording's, in a window without any). */
static int fill_split_windows(struct np_signals *s, const struct np_recording *rec,
			      const struct np_cpu_report *c, const uint64_t *old_net)
{
	size_t n;
	const struct np_rec_cpu_sample *smp = np_recording_records(rec, NP_BLK_CPU_SAMPLES, &n);
	uint64_t *net = calloc(s->n_windows, sizeof(*net)),
		 *all = calloc(s->n_windows, sizeof(*all));
	uint64_t net_total = 0, all_total = 0;

	if (!net || !all) {
		free(net);
		free(all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		/* deep enough for any kernel stack: the class needs no more */
		const struct np_cpu_frame *st[128];
		long w;
		size_t depth;

		if (!smp[i].node || !is_service_tid(s, smp[i].tid))
			continue;
		w = np_signals_window_of(s, smp[i].ts_ns);
		depth = w < 0 ? 0 : np_cpu_stack(c, smp[i].node, st, 128);
		if (!depth)
			continue;
		all[w]++;
		all_total++;
		if (np_cpu_sample_class(st, depth) == NP_CLS_KNET) {
			net[w]++;
			net_total++;
		}
	}
	for (size_t w = 0; w < s->n_windows; w++) {
		uint64_t *v = s->windows[w].v, on = v[NP_W_ON_CPU_NS];

		if (all[w])
			v[NP_W_KERNEL_NET_NS] = scale(on, net[w], all[w]);
		else if (all_total)
			v[NP_W_KERNEL_NET_NS] = scale(on, net_total, all_total);
		else
			v[NP_W_KERNEL_NET_NS] = min_u64(old_net[w], on);
		v[NP_W_APP_CPU_NS] = on - v[NP_W_KERNEL_NET_NS];
	}
	free(net);
	free(all);
	return 0;
}

static void mark_cpu(struct np_signals *s, uint32_t cpu)
{
	if (cpu < NP_SIG_MAX_CPUS)
		s->target_cpus[cpu / 64] |= 1ull << (cpu % 64);
}

/* Where the target's threads ran: a per-CPU counter of the host (softnet
 * drops) is the target's only on these CPUs. */
static void fill_target_cpus(struct np_signals *s, const struct np_recording *rec,
			     const struct np_cpu_report *c)
{
	size_t n;

	if (c->have_sched) {
		const struct np_sched_event *ev = np_recording_records(rec, NP_BLK_SCHED_EVENTS,
								       &n);

		for (size_t i = 0; i < n; i++)
			if (ev[i].type == NP_SCHED_SWITCH_IN || ev[i].type == NP_SCHED_SWITCH_OUT)
				mark_cpu(s, ev[i].cpu), s->have_target_cpus = true;
	}
	if (c->have_samples) {
		const struct np_rec_cpu_sample *cs = np_recording_records(rec, NP_BLK_CPU_SAMPLES,
									  &n);

		for (size_t i = 0; i < n; i++)
			mark_cpu(s, cs[i].cpu), s->have_target_cpus = true;
	}
}

int np_signals_from_cpu(struct np_signals *s, const struct np_recording *rec,
			const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;
	uint64_t *old_net, service_samples = 0;
	int rc = 0;

	if (!c)
		return 0;
	/* the syscall source's per-window estimate of network-stack CPU, for
	 * windows the samples cannot split */
	old_net = calloc(s->n_windows ? s->n_windows : 1, sizeof(*old_net));
	if (!old_net)
		return -ENOMEM;
	for (size_t w = 0; w < s->n_windows; w++)
		old_net[w] = s->windows[w].v[NP_W_KERNEL_NET_NS];
	if (c->have_sched) {
		fill_reasons(s, r);
		rc = fill_sched_windows(s, rec);
		if (!rc)
			rc = fill_waits(s, rec, c);
	}
	if (!rc && c->have_samples) {
		s->have_cpu_samples = true;
		service_samples = fill_cpu_split(s, c);
		s->cpu_samples = service_samples;
		rc = fill_hot(s, c, service_samples);
	}
	if (!rc && (c->have_sched || c->have_samples))
		rc = fill_split_windows(s, rec, c, old_net);
	if (!rc)
		fill_target_cpus(s, rec, c);
	if (!rc && (s->wknown & (1ull << NP_W_ON_CPU_NS)))
		s->wknown |= 1ull << NP_W_APP_CPU_NS | 1ull << NP_W_KERNEL_NET_NS;
	free(old_net);
	return rc;
}
