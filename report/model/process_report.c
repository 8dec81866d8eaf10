/* process_report.c - the processes of a service (process_report.h). */
#include "report/model/process_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/timeline.h"

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
		seen++;
		if (!out->workers && i + 1 == out->n)
			out->workers = seen;
	}
	/* The latest mapping of each tid. */
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
	memset(p, 0, sizeof(*p));
}
