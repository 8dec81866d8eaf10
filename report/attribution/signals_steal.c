/* signals_steal.c - network softirq on the service's CPUs: the part of
 * struct np_signals that stack.softirq's service_softirq_share reads
 * (np_signals_from_steal).
 *
 * NET_RX and NET_TX work runs on whatever CPU the steering put it on
 * (the NIC's IRQ affinity, RPS, RFS, the sender's CPU for XPS and
 * completions), inline on the way out of an interrupt or in ksoftirqd, and
 * for whoever's packets.  On a CPU the service uses it costs the service
 * twice: its threads are interrupted while they run, and they wait on the
 * run queue while the softirq (or ksoftirqd) holds the CPU.  Per CPU this
 * gathers:
 *   - the service's on-CPU and run-queue time there, from the scheduler
 *     tracer's switch events (a wait belongs to the CPU the thread then
 *     got: the one whose work it waited behind, short of a migration);
 *   - interrupted time: the service's on-CPU time there in the proportion
 *     of its CPU samples there taken under net_rx_action/net_tx_action;
 *   - run-queue time the softirq accounts for, per window: the service's
 *     run-queue time on the CPU times the CPU's NET_RX + NET_TX time (less
 *     the part the service ran in its own context, by its samples) over
 *     the CPU's busy time the service did not use (/proc/stat per poll;
 *     without it, the window's length less the service's time).  While a
 *     thread waits to run, its CPU is busy with something else, so that
 *     share is the chance that the something else was network softirq.
 *     An estimate: a wait is not sampled instant by instant;
 *   - the steering of the CPU that lost the service the most: receive
 *     queues whose rps_cpus holds it, transmit queues whose xps_cpus does,
 *     RFS, and the IRQs that fired there.
 * Not here: what to conclude (findings.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/attribution/signals.h"

/* per window and CPU: a flat array of n_windows * n_cpus */
struct grid {
	size_t n_cpus;
	uint64_t *on, *runq, *net, *busy;
	bool have_busy;
	/* per CPU: the service's CPU samples, those in network softirq under
	 * an interrupt's exit, and those in network softirq at all (its own
	 * sends' included) */
	uint64_t *smp_all, *smp_irq, *smp_net;
	bool have_samples;
};

static uint64_t *cell(const struct grid *g, uint64_t *a, size_t w, uint32_t cpu)
{
	return &a[w * g->n_cpus + cpu];
}

/* Adds [from, to) to a's cells of cpu, split at the windows' edges. */
static void spread(const struct np_signals *s, const struct grid *g, uint64_t *a, uint32_t cpu,
		   uint64_t from, uint64_t to)
{
	if (cpu >= g->n_cpus || to <= from || !s->n_windows)
		return;
	if (from < s->start_ns)
		from = s->start_ns;
	for (long w = np_signals_window_of(s, from); w >= 0 && (size_t)w < s->n_windows; w++) {
		const struct np_sig_window *win = &s->windows[w];
		uint64_t a0 = from > win->start_ns ? from : win->start_ns;
		uint64_t b0 = to < win->end_ns ? to : win->end_ns;

		if (b0 > a0)
			*cell(g, a, (size_t)w, cpu) += b0 - a0;
		if (to <= win->end_ns)
			break;
	}
}

static int by_tid_ts(const void *a, const void *b)
{
	const struct np_sched_event *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static bool is_service_tid(struct np_signals *s, uint32_t tid)
{
	const struct np_sig_thread *t = np_signals_thread(s, tid);

	return t && np_signals_thread_is_service(t);
}

/* The service threads' on-CPU and run-queue time per window and CPU, from
 * the state stream.  A wait that began before the first event of its
 * thread is left out (its start is unknown), and so is one still open at
 * the end (no CPU yet). */
static int sched_grid(struct np_signals *s, const struct np_recording *rec, struct grid *g)
{
	size_t n;
	const struct np_sched_event *ev = np_recording_records(rec, NP_BLK_SCHED_EVENTS, &n);
	struct np_sched_event *v;
	uint64_t end = s->start_ns + s->duration_ns;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, ev, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_tid_ts);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool service = is_service_tid(s, v[i].tid);
		uint64_t on_since = 0, runq_since = 0;
		uint32_t on_cpu = 0;

		while (j < n && v[j].tid == v[i].tid)
			j++;
		for (size_t k = i; service && k < j; k++) {
			const struct np_sched_event *e = &v[k];

			switch (e->type) {
			case NP_SCHED_SWITCH_IN:
				if (runq_since)
					spread(s, g, g->runq, e->cpu, runq_since, e->ts_ns);
				runq_since = 0;
				on_since = e->ts_ns;
				on_cpu = e->cpu;
				break;
			case NP_SCHED_SWITCH_OUT:
			case NP_SCHED_EXIT:
				if (on_since)
					spread(s, g, g->on, on_cpu, on_since, e->ts_ns);
				on_since = 0;
				runq_since = e->type == NP_SCHED_SWITCH_OUT &&
							     e->reason == NP_REASON_PREEMPTED
						     ? e->ts_ns
						     : 0;
				break;
			case NP_SCHED_WAKEUP:
			case NP_SCHED_WAKEUP_NEW:
				if (!on_since && !runq_since)
					runq_since = e->ts_ns;
				break;
			default:
				break;
			}
		}
		if (service && on_since)
			spread(s, g, g->on, on_cpu, on_since, end);
		i = j;
	}
	free(v);
	return 0;
}

/* Per window and CPU: NET_RX + NET_TX time (cumulative snapshots, one a
 * window) and, from the network source's /proc/stat polls, busy time. */
static void cpu_grid(struct np_signals *s, const struct np_recording *rec,
		     const struct np_report *r, struct grid *g)
{
	size_t n;
	const struct np_rec_softirq *sr = np_recording_records(rec, NP_BLK_NET_SOFTIRQ, &n);
	uint64_t *prev = calloc(g->n_cpus, sizeof(*prev));

	if (!prev)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t t = sr[i].rx.total_ns + sr[i].tx.total_ns;
		long w;

		if (sr[i].cpu >= g->n_cpus || t < prev[sr[i].cpu])
			continue;
		w = np_signals_window_of(s, sr[i].ts_ns ? sr[i].ts_ns - 1 : 0);
		if (w >= 0)
			*cell(g, g->net, (size_t)w, sr[i].cpu) += t - prev[sr[i].cpu];
		prev[sr[i].cpu] = t;
	}
	memset(prev, 0xff, g->n_cpus * sizeof(*prev)); /* no poll yet */
	for (size_t i = 0; i < r->net.n_cpu_samples; i++) {
		const struct np_rec_netcpu_sample *c = &r->net.cpu_samples[i];
		uint64_t busy = c->user_ns + c->nice_ns + c->system_ns + c->irq_ns + c->softirq_ns +
				c->steal_ns;
		uint64_t last;
		long w;

		if (c->cpu >= g->n_cpus || !(c->have & NP_CPU_STAT))
			continue;
		last = prev[c->cpu];
		prev[c->cpu] = busy;
		/* the first poll is the baseline */
		if (last == UINT64_MAX || busy < last)
			continue;
		w = np_signals_window_of(s, c->ts_ns ? c->ts_ns - 1 : 0);
		if (w >= 0) {
			*cell(g, g->busy, (size_t)w, c->cpu) += busy - last;
			g->have_busy = true;
		}
	}
	free(prev);
}

static bool net_softirq_frame(const char *name)
{
	return !strcmp(name, "net_rx_action") || !strcmp(name, "net_tx_action");
}

/* The way into a hard interrupt, whose exit runs pending softirqs. */
static bool irq_entry_frame(const char *name)
{
	static const char *const entries[] = {
		"irq_exit",         "__irq_exit",           "sysvec_", "asm_sysvec_",
		"common_interrupt", "asm_common_interrupt", "do_IRQ"};

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (!strncmp(name, entries[i], strlen(entries[i])))
			return true;
	return false;
}

/* A sample of network softirq work that interrupted the thread: below an
 * interrupt's exit.  The softirq a thread runs itself when its own send
 * re-enables bottom halves (local_bh_enable) is its own work, which
 * stack.kernel_cpu counts. */
static bool interrupted_by_net(const struct np_cpu_frame *const *st, size_t depth)
{
	for (size_t k = 0; k < depth; k++) {
		if (!net_softirq_frame(st[k]->name))
			continue;
		for (size_t j = k + 1; j < depth; j++)
			if (irq_entry_frame(st[j]->name))
				return true;
		return false;
	}
	return false;
}

/* The service's CPU samples per CPU: all, those network softirq took
 * from it (under an interrupt's exit) and those in network softirq at all. */
static void sample_counts(struct np_signals *s, const struct np_recording *rec,
			  const struct np_cpu_report *c, struct grid *g)
{
	size_t n;
	const struct np_rec_cpu_sample *smp = np_recording_records(rec, NP_BLK_CPU_SAMPLES, &n);

	if (!c->have_samples)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct np_cpu_frame *st[128];
		size_t depth;

		if (smp[i].cpu >= g->n_cpus || !is_service_tid(s, smp[i].tid))
			continue;
		g->smp_all[smp[i].cpu]++;
		depth = smp[i].node ? np_cpu_stack(c, smp[i].node, st, 128) : 0;
		g->smp_irq[smp[i].cpu] += interrupted_by_net(st, depth);
		for (size_t k = 0; k < depth; k++)
			if (net_softirq_frame(st[k]->name)) {
				g->smp_net[smp[i].cpu]++;
				break;
			}
	}
	g->have_samples = true;
	s->steal_have_samples = true;
}

/* Per CPU: the run-queue time the softirq accounts for, window by window,
 * the share of the CPU's time left by the service that went to it, and
 * the time it interrupted the service.  The CPU's softirq time the
 * service ran itself (its own sends' receive work, in its own context, by
 * its samples' share) is its own on-CPU time, not other work's. */
static void attribute(struct np_signals *s, const struct grid *g)
{
	for (uint32_t c = 0; c < g->n_cpus; c++) {
		uint64_t on = 0, runq = 0, runq_net = 0, net = 0, others = 0;
		double own = g->smp_all[c] ? (double)g->smp_net[c] / (double)g->smp_all[c] : 0;
		struct np_sig_cpu *o;

		for (size_t w = 0; w < s->n_windows; w++) {
			const struct np_sig_window *win = &s->windows[w];
			uint64_t won = *cell(g, g->on, w, c), wrq = *cell(g, g->runq, w, c);
			uint64_t wown = (uint64_t)((double)won * own);
			uint64_t wnet = *cell(g, g->net, w, c);
			uint64_t wbusy = g->have_busy ? *cell(g, g->busy, w, c) : 0;
			/* a window without a poll: its whole length */
			uint64_t wall = wbusy ? wbusy : win->end_ns - win->start_ns;
			uint64_t left = wall > won ? wall - won : 0;

			wnet = wnet > wown ? wnet - wown : 0;
			/* /proc/stat counts in ticks: the softirq time measured
			 * exactly may pass it */
			if (left < wnet)
				left = wnet;
			if (left && wnet)
				runq_net += (uint64_t)((double)wrq * (double)wnet / (double)left);
			on += won;
			runq += wrq;
			net += wnet;
			others += left;
		}
		if (!on && !runq)
			continue;
		o = np_signals_cpu(s, c);
		if (!o)
			return;
		o->svc_on_cpu_ns = on;
		o->svc_runnable_ns = runq;
		o->svc_runq_softirq_ns = runq_net;
		o->net_share_of_others = others ? (double)net / (double)others : 0;
		s->steal_runq_ns += runq_net;
		if (g->smp_all[c]) {
			o->svc_interrupted_ns = (uint64_t)((double)on * (double)g->smp_irq[c] /
							   (double)g->smp_all[c]);
			s->steal_interrupted_ns += o->svc_interrupted_ns;
		}
	}
}

/* Whether a sysfs cpumask ("2", "00000000,00000002") holds cpu. */
static bool mask_has(const char *mask, uint32_t cpu)
{
	size_t len = strlen(mask);
	uint32_t nibble = 0;

	for (size_t i = len; i-- > 0;) {
		char ch = mask[i];
		unsigned v;

		if (ch == ',' || ch == '\n' || ch == ' ')
			continue;
		if (ch >= '0' && ch <= '9')
			v = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v = (unsigned)(ch - 'A' + 10);
		else
			return false;
		if (nibble == cpu / 4)
			return v & (1u << (cpu % 4));
		nibble++;
	}
	return false;
}

static void add_steering(struct np_signals *s, const char *what, const char *where, uint64_t value)
{
	struct np_sig_steering *st;

	if (s->n_steering >= sizeof(s->steering) / sizeof(s->steering[0]))
		return;
	st = &s->steering[s->n_steering++];
	snprintf(st->what, sizeof(st->what), "%s", what);
	snprintf(st->where, sizeof(st->where), "%s", where);
	st->value = value;
}

/* Queues of the recorded interfaces whose rps_cpus (tx: xps_cpus) mask
 * holds cpu; RFS from rps_sock_flow_entries and the queue's flow count. */
static void queue_steering(struct np_signals *s, const struct np_net_report *n, uint32_t cpu,
			   bool tx)
{
	const char *entries = np_net_config(n, "sysctl.net.core.rps_sock_flow_entries");

	if (!tx && entries)
		s->steal_have_rfs = true;
	for (size_t i = 0; i < n->n_ifs; i++) {
		const struct np_rec_iface *f = &n->ifs[i].info;
		uint32_t nq = tx ? f->num_tx_queues : f->num_rx_queues;

		for (uint32_t q = 0; q < nq && q < 64; q++) {
			char key[96], where[NP_SIG_NAME_LEN + 40];
			const char *mask, *cnt;

			snprintf(key, sizeof(key), "if.%u.%s-%u.%s", f->id, tx ? "tx" : "rx", q,
				 tx ? "xps_cpus" : "rps_cpus");
			mask = np_net_config(n, key);
			if (!mask || !mask_has(mask, cpu))
				continue;
			snprintf(where, sizeof(where), "%.16s %s-%u (mask %.16s)", f->name,
				 tx ? "tx" : "rx", q, mask);
			snprintf(key, sizeof(key), "if.%u.%s-%u.%s.cpus", f->id, tx ? "tx" : "rx",
				 q, tx ? "xps_cpus" : "rps_cpus");
			cnt = np_net_config(n, key);
			add_steering(s, tx ? "xps_cpus" : "rps_cpus", where,
				     cnt ? strtoull(cnt, NULL, 10) : 0);
			snprintf(key, sizeof(key), "if.%u.rx-%u.rps_flow_cnt", f->id, q);
			if (!tx && entries && strtoull(entries, NULL, 10) > 0) {
				const char *flows = np_net_config(n, key);

				if (flows && strtoull(flows, NULL, 10) > 0)
					s->steal_rfs_on = true;
			}
		}
	}
}

/* The IRQ that fired most on cpu in the window, with its affinity. */
static void irq_steering(struct np_signals *s, const struct np_net_report *n, uint32_t cpu)
{
	const struct np_net_irq *top = NULL;
	char where[NP_SIG_NAME_LEN + 40];

	if (cpu >= 64)
		return;
	for (size_t i = 0; i < n->n_irqs; i++)
		if (n->irqs[i].per_cpu[cpu] &&
		    (!top || n->irqs[i].per_cpu[cpu] > top->per_cpu[cpu]))
			top = &n->irqs[i];
	if (!top)
		return;
	snprintf(where, sizeof(where), "IRQ %u (%.40s) affinity %.16s", top->info.irq,
		 top->info.desc, top->info.affinity[0] ? top->info.affinity : "?");
	add_steering(s, "irq", where, top->per_cpu[cpu]);
}

static void steering(struct np_signals *s, const struct np_report *r)
{
	const struct np_sig_cpu *top = NULL;

	for (size_t i = 0; i < s->n_cpus; i++) {
		const struct np_sig_cpu *c = &s->cpus[i];

		if (!top || c->svc_interrupted_ns + c->svc_runq_softirq_ns >
				    top->svc_interrupted_ns + top->svc_runq_softirq_ns)
			top = c;
	}
	if (!top)
		return;
	s->steal_cpu = top->cpu;
	queue_steering(s, &r->net, top->cpu, false);
	/* transmit queues matter where the CPU sends more than it receives */
	if (top->net_tx_ns > top->net_rx_ns)
		queue_steering(s, &r->net, top->cpu, true);
	irq_steering(s, &r->net, top->cpu);
}

int np_signals_from_steal(struct np_signals *s, const struct np_recording *rec,
			  const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;
	struct grid g = {0};
	size_t cells;
	int rc;

	if (!c || !c->have_sched || !s->have_softirq_time || !s->n_windows)
		return 0;
	for (size_t i = 0; i < s->n_cpus; i++)
		if (s->cpus[i].cpu + 1 > g.n_cpus && s->cpus[i].cpu < NP_SIG_MAX_CPUS)
			g.n_cpus = s->cpus[i].cpu + 1;
	if (s->host_cpus > g.n_cpus && s->host_cpus <= NP_SIG_MAX_CPUS)
		g.n_cpus = s->host_cpus;
	if (!g.n_cpus)
		return 0;
	cells = s->n_windows * g.n_cpus;
	g.on = calloc(cells, sizeof(uint64_t));
	g.runq = calloc(cells, sizeof(uint64_t));
	g.net = calloc(cells, sizeof(uint64_t));
	g.busy = calloc(cells, sizeof(uint64_t));
	g.smp_all = calloc(g.n_cpus, sizeof(uint64_t));
	g.smp_irq = calloc(g.n_cpus, sizeof(uint64_t));
	g.smp_net = calloc(g.n_cpus, sizeof(uint64_t));
	rc = g.on && g.runq && g.net && g.busy && g.smp_all && g.smp_irq && g.smp_net ? 0 : -ENOMEM;
	if (!rc)
		rc = sched_grid(s, rec, &g);
	if (!rc) {
		cpu_grid(s, rec, r, &g);
		sample_counts(s, rec, c, &g);
		attribute(s, &g);
		steering(s, r);
		s->have_softirq_steal = true;
	}
	free(g.on);
	free(g.runq);
	free(g.net);
	free(g.busy);
	free(g.smp_all);
	free(g.smp_irq);
	free(g.smp_net);
	return rc;
}
