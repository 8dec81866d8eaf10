/* process_report.c - the processes of a service (process_report.h). */
#include "report/model/process_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exchange.h"
#include "profiler/format/netrec.h"
#include "profiler/format/timeline.h"
#include "report/model/values.h"

#define NP_PROC_REPORT_MAX 16384

static int by_pid_then_time(const void *a, const void *b)
{
	const struct np_rec_process *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static int by_tid(const void *a, const void *b)
{
	const struct np_rec_thread_pid *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static const struct np_proc_row *find(const struct np_proc_report *p, uint32_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pid == pid && !(p->v[i].flags & NP_PROCREC_GONE_AT_START))
			return &p->v[i];
	return NULL;
}

static void spread_add(struct np_spread *s, uint64_t v, bool first)
{
	if (first || v < s->min)
		s->min = v;
	if (first || v > s->max)
		s->max = v;
	s->total += v;
}

static int by_inode_then_pid(const void *a, const void *b)
{
	const struct np_rec_listen_holder *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_port_then_endpoint(const void *a, const void *b)
{
	const struct np_listener *x = a, *y = b;
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = strcmp(x->endpoint, y->endpoint);
	return c ? c : (x->inode < y->inode ? -1 : x->inode > y->inode);
}

/* The listeners and their holders: records grouped by socket, each pid
 * once (a record repeats when a recording is cut and resumed, or crafted). */
static int build_listeners(const struct np_recording *rec, struct np_proc_report *out)
{
	size_t n;
	const struct np_rec_listen_holder *src = np_recording_records(rec, NP_BLK_LISTEN_HOLDERS,
								      &n);
	struct np_rec_listen_holder *h;
	size_t k = 0;

	if (!n)
		return 0;
	if (n > NP_PROC_REPORT_MAX)
		n = NP_PROC_REPORT_MAX;
	h = malloc(n * sizeof(*h));
	out->listeners = calloc(n, sizeof(*out->listeners));
	out->listener_pids = calloc(n, sizeof(*out->listener_pids));
	if (!h || !out->listeners || !out->listener_pids) {
		free(h);
		return -ENOMEM;
	}
	memcpy(h, src, n * sizeof(*h));
	qsort(h, n, sizeof(*h), by_inode_then_pid);
	for (size_t i = 0; i < n; i++) {
		struct np_listener *l = out->n_listeners ? &out->listeners[out->n_listeners - 1]
							 : NULL;

		if (!l || l->inode != h[i].inode) {
			l = &out->listeners[out->n_listeners++];
			l->inode = h[i].inode;
			l->port = h[i].lport;
			np_format_endpoint(h[i].family, h[i].laddr, h[i].lport, l->endpoint,
					   sizeof(l->endpoint));
			l->pids = out->listener_pids + k;
		} else if (l->pids[l->n_pids - 1] == h[i].pid) {
			continue;
		}
		l->reuseport |= h[i].flags & NP_LISTEN_REUSEPORT;
		out->listener_pids[k++] = h[i].pid;
		l->n_pids++;
	}
	free(h);
	qsort(out->listeners, out->n_listeners, sizeof(*out->listeners), by_port_then_endpoint);
	return 0;
}

int np_proc_report_build(const struct np_recording *rec, struct np_proc_report *out)
{
	size_t n, ntp, k = 0;
	const struct np_rec_process *src = np_recording_records(rec, NP_BLK_PROCESSES, &n);
	const struct np_rec_thread_pid *tsrc = np_recording_records(rec, NP_BLK_THREAD_PIDS, &ntp);
	struct np_rec_process *all;

	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	all = malloc(n * sizeof(*all));
	out->v = calloc(n, sizeof(*out->v));
	out->tp = calloc(ntp ? ntp : 1, sizeof(*out->tp));
	if (!all || !out->v || !out->tp) {
		free(all);
		np_proc_report_fini(out);
		return -ENOMEM;
	}
	memcpy(all, src, n * sizeof(*all));
	qsort(all, n, sizeof(*all), by_pid_then_time);
	for (size_t i = 0; i < n; i++) {
		const struct np_rec_process *p = &all[i];
		struct np_proc_row *r;

		if (i + 1 < n && all[i + 1].pid == p->pid)
			continue; /* the latest snapshot of each pid */
		if (k >= NP_PROC_REPORT_MAX)
			break; /* a crafted file: the role search below is quadratic */
		r = &out->v[k++];
		r->pid = p->pid;
		r->ppid = p->ppid;
		r->flags = p->flags;
		r->threads = p->threads;
		memcpy(r->comm, p->comm, sizeof(r->comm));
		r->comm[sizeof(r->comm) - 1] = '\0';
		memcpy(r->cmdline, p->cmdline, sizeof(r->cmdline));
		r->cmdline[sizeof(r->cmdline) - 1] = '\0';
		r->on_cpu_ns = p->on_cpu_ns;
		r->runq_ns = p->runq_ns;
		r->accepts = p->accepts;
		r->exchanges = p->exchanges;
	}
	out->n = k;
	free(all);
	/* A master has children in the service; a worker's parent is in it. */
	for (size_t i = 0; i < out->n; i++) {
		struct np_proc_row *r = &out->v[i];

		if (r->flags & NP_PROCREC_GONE_AT_START)
			continue;
		if (find(out, r->ppid))
			r->role = NP_ROLE_WORKER;
		else
			for (size_t j = 0; j < out->n; j++)
				if (j != i && out->v[j].ppid == r->pid &&
				    !(out->v[j].flags & NP_PROCREC_GONE_AT_START))
					r->role = NP_ROLE_MASTER;
	}
	for (size_t i = 0; i < out->n; i++)
		out->workers += out->v[i].role == NP_ROLE_WORKER;
	for (size_t i = 0, seen = 0; i < out->n; i++) {
		const struct np_proc_row *r = &out->v[i];

		if (r->flags & NP_PROCREC_GONE_AT_START)
			continue;
		if (out->workers ? r->role != NP_ROLE_WORKER : false)
			continue;
		spread_add(&out->accepts, r->accepts, !seen);
		spread_add(&out->exchanges, r->exchanges, !seen);
		spread_add(&out->on_cpu_ns, r->on_cpu_ns, !seen);
		spread_add(&out->runq_ns, r->runq_ns, !seen);
		seen++;
		if (!out->workers && i + 1 == out->n)
			out->workers = seen;
	}
	/* The latest mapping of each tid. */
	if (ntp) /* no block: tsrc is NULL */
		memcpy(out->tp, tsrc, ntp * sizeof(*out->tp));
	qsort(out->tp, ntp, sizeof(*out->tp), by_tid);
	k = 0;
	for (size_t i = 0; i < ntp; i++)
		if (!k || out->tp[k - 1].tid != out->tp[i].tid)
			out->tp[k++] = out->tp[i];
		else
			out->tp[k - 1] = out->tp[i];
	out->n_tp = k;
	out->have = true;
	if (build_listeners(rec, out)) {
		np_proc_report_fini(out);
		return -ENOMEM;
	}
	return 0;
}

/* A served exchange's latency and how many exchanges it stands for. */
struct weighted {
	uint32_t pid;
	uint64_t total_ns, weight;
};

static int by_pid_then_total(const void *a, const void *b)
{
	const struct weighted *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->total_ns < y->total_ns ? -1 : x->total_ns > y->total_ns;
}

/* The smallest latency at or below which a share q of the weight lies. */
static uint64_t weighted_quantile(const struct weighted *w, size_t n, uint64_t sum, double q)
{
	uint64_t need = (uint64_t)(q * (double)sum), cum = 0;

	for (size_t i = 0; i < n; i++) {
		cum += w[i].weight;
		if (cum > need || i + 1 == n)
			return w[i].total_ns;
	}
	return 0;
}

/* Whether the process is one the spread is over (as np_proc_report_build). */
static bool in_spread(const struct np_proc_report *p, const struct np_proc_row *r)
{
	if (r->flags & NP_PROCREC_GONE_AT_START)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].role == NP_ROLE_WORKER)
			return r->role == NP_ROLE_WORKER;
	return true;
}

int np_proc_report_latency(struct np_proc_report *p, const struct np_xch_event *ev, size_t n,
			   uint32_t sample_every)
{
	struct weighted *w;
	size_t k = 0;

	if (!p->have || !n)
		return 0;
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t pid = np_proc_report_pid_of(p, ev[i].tid);

		if (ev[i].flags & NP_XEV_OUTBOUND || !pid)
			continue;
		/* the slow ones are all there; a sampled fast one stands for
		 * sample_every fast ones */
		w[k++] = (struct weighted){pid, ev[i].total_ns,
					   ev[i].flags & NP_XEV_SLOW ? 1 : sample_every};
	}
	qsort(w, k, sizeof(*w), by_pid_then_total);
	for (size_t i = 0; i < k;) {
		struct np_proc_row *r = NULL;
		size_t j = i;

		for (size_t m = 0; m < p->n && !r; m++)
			if (p->v[m].pid == w[i].pid && !(p->v[m].flags & NP_PROCREC_GONE_AT_START))
				r = &p->v[m];
		uint64_t sum = 0;

		while (j < k && w[j].pid == w[i].pid)
			sum += w[j++].weight;
		if (r) {
			r->xch_events = j - i;
			/* without the sampler only slow exchanges are known */
			r->have_latency = sample_every > 0;
			if (r->have_latency) {
				r->p50_ns = weighted_quantile(w + i, j - i, sum, 0.50);
				r->p99_ns = weighted_quantile(w + i, j - i, sum, 0.99);
			}
		}
		i = j;
	}
	free(w);
	p->latency_sampled = sample_every != 1;
	for (size_t i = 0; i < p->n; i++) {
		const struct np_proc_row *r = &p->v[i];

		if (!r->have_latency || !in_spread(p, r))
			continue;
		spread_add(&p->p50_ns, r->p50_ns, !p->latency_workers);
		spread_add(&p->p99_ns, r->p99_ns, !p->latency_workers);
		p->latency_workers++;
	}
	return 0;
}

uint32_t np_proc_report_pid_of(const struct np_proc_report *p, uint32_t tid)
{
	size_t lo = 0, hi = p->n_tp;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->tp[mid].tid == tid)
			return p->tp[mid].pid;
		if (p->tp[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

const char *np_proc_role_name(enum np_proc_role role)
{
	return role == NP_ROLE_MASTER ? "master" : role == NP_ROLE_WORKER ? "worker" : "other";
}

void np_proc_report_fini(struct np_proc_report *p)
{
	free(p->v);
	free(p->tp);
	free(p->listeners);
	free(p->listener_pids);
	memset(p, 0, sizeof(*p));
}
