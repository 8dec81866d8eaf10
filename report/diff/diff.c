/* diff.c - two reports compared (diff.h). */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/exchange.h"
#include "profiler/format/recording.h"
#include "profiler/format/systable.h"
#include "report/attribution/findings.h"
#include "report/attribution/signals.h"
#include "report/diff/diff.h"
#include "report/diff/stats.h"
#include "report/model/exchange_report.h"
#include "report/model/httplabel.h"
#include "report/model/netstack_report.h"
#include "report/model/process_report.h"
#include "report/model/report_model.h"

const char np_diff_method_text[] =
	"rates, shares and per-window levels: bootstrap of the difference of the per-second "
	"window means (9999 resamples, fixed seed, 95% interval; p never below the exact "
	"permutation bound of that many windows); system call latency: the same bootstrap over "
	"the per-second mean latency of each call (consecutive calls share the CPUs' state, so "
	"the second is the unit; percentiles are shown, not tested); exchange "
	"latencies: Mann-Whitney U (normal approximation, tie-corrected, variance inflated by the "
	"batch-means design effect of the events in time order) on the recorded events "
	"(every one slower than the threshold, plus 1 in N of the rest: the same selection on "
	"both sides; a percentile other than the median counts only when it moved the same "
	"way); all p-values Holm-corrected at 0.05 across the diff, and a change must "
	"also reach 20% (5 points for shares) to be significant; a finding that appears, goes "
	"or changes severity at warning or above counts only when a measured figure moved "
	"significantly too; a latency that moved the way the host's speed did (netprof's own BPF "
	"programs' run time per run, when it moved 25% or more) or the host's other work did "
	"(its share of the CPUs, when it moved 10 points or more) is within host noise; "
	"configuration as recorded";

const char *np_diff_section_name(enum np_diff_section s)
{
	static const char *const names[NP_DS_COUNT] = {
		"finding", "breakdown", "exchange", "syscall", "thread", "counter", "config",
	};
	return (unsigned)s < NP_DS_COUNT ? names[s] : "?";
}

const char *np_diff_method_name(enum np_diff_method m)
{
	switch (m) {
	case NP_DM_RULES:
		return "rules";
	case NP_DM_CONFIG:
		return "configuration";
	case NP_DM_BOOTSTRAP:
		return "bootstrap";
	case NP_DM_RANK:
		return "mann-whitney";
	default:
		return "none";
	}
}

const char *np_diff_status_name(enum np_diff_status s)
{
	switch (s) {
	case NP_DC_APPEARED:
		return "appeared";
	case NP_DC_GONE:
		return "gone";
	case NP_DC_SEVERITY:
		return "severity changed";
	case NP_DC_SAME:
		return "same";
	default:
		return "changed";
	}
}

const char *np_diff_mark(const struct np_diff_change *c)
{
	if (c->significant)
		return "SIGNIFICANT";
	if (c->method == NP_DM_CONFIG)
		return "config";
	if (c->method == NP_DM_NONE)
		return "not tested";
	if (c->method == NP_DM_RULES)
		return c->unbacked ? "no measured move" : "info only";
	if (!c->tested)
		return "too few to test";
	if (c->host_noise)
		return "host noise";
	if (c->method == NP_DM_BOOTSTRAP &&
	    np_permutation_p_floor(c->n_before, c->n_after) > NP_DIFF_ALPHA)
		return "too few windows";
	return c->large_enough ? "within noise" : "too small";
}

enum np_diff_status np_diff_classify_finding(int before, int after, bool *significant)
{
	enum np_diff_status st;

	if (!before && !after)
		st = NP_DC_SAME;
	else if (!before)
		st = NP_DC_APPEARED;
	else if (!after)
		st = NP_DC_GONE;
	else if (before != after)
		st = NP_DC_SEVERITY;
	else
		st = NP_DC_SAME;
	/* The rules call warning and above a problem: a change that crosses
	 * that line, or moves between warning and critical, is one. */
	*significant = st != NP_DC_SAME && (before >= NP_SEV_WARNING || after >= NP_SEV_WARNING);
	return st;
}

bool np_diff_large_enough(double before, double after, bool share)
{
	double d = fabs(after - before);

	if (share)
		return d >= NP_DIFF_MIN_SHARE;
	if (before == 0)
		return after != 0;
	return d >= NP_DIFF_MIN_REL * fabs(before);
}

static struct np_diff_change *add(struct np_diff *d, enum np_diff_section s, const char *metric,
				  const char *where, const char *unit)
{
	struct np_diff_change *c;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		void *p = realloc(d->c, cap * sizeof(*d->c));

		if (!p)
			return NULL;
		d->c = p;
		d->cap = cap;
	}
	c = &d->c[d->n++];
	memset(c, 0, sizeof(*c));
	c->section = s;
	c->test_id = -1;
	snprintf(c->metric, sizeof(c->metric), "%s", metric);
	snprintf(c->where, sizeof(c->where), "%s", where ? where : "");
	snprintf(c->unit, sizeof(c->unit), "%s", unit ? unit : "");
	return c;
}

static void set_values(struct np_diff_change *c, bool hb, double b, bool ha, double a)
{
	c->have_before = hb;
	c->have_after = ha;
	c->before = hb ? b : 0;
	c->after = ha ? a : 0;
	c->status = !hb && ha      ? NP_DC_APPEARED
		    : hb && !ha    ? NP_DC_GONE
		    : hb && b == a ? NP_DC_SAME
				   : NP_DC_CHANGED;
}

/* ---- sides and findings ---------------------------------------------- */

static void side_of(const struct np_report *r, struct np_diff_side *s)
{
	const struct np_recording *rec = r->rec;
	const char *v;
	time_t secs = (time_t)(r->realtime_start_ns / 1000000000ull);
	struct tm tm;

#define META(field, key) \
	v = np_recording_meta(rec, key); \
	snprintf(s->field, sizeof(s->field), "%s", v ? v : "")
	META(comm, "comm");
	META(exe, "exe");
	META(hostname, "hostname");
	META(kernel, "kernel");
#undef META
	if (r->realtime_start_ns && gmtime_r(&secs, &tm))
		strftime(s->start_time, sizeof(s->start_time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s->pid = (uint32_t)np_recording_meta_u64(rec, "pid", 0);
	s->version = rec->version;
	s->duration_ns = r->duration_ns;
	s->requests = r->xch.present ? r->xch.count : 0;
	s->requests_per_s = r->duration_ns ? (double)s->requests / ((double)r->duration_ns / 1e9)
					   : 0;
	s->threshold_ns = r->threshold_ns;
	s->sample_every = (uint32_t)np_recording_meta_u64(rec, "sample_every", 0);
	if (r->an && r->an->verdict) {
		s->verdict = r->an->verdict->cause;
		s->verdict_severity = np_severity_name(r->an->verdict->severity);
		s->verdict_score = r->an->verdict->score;
	}
}

static const struct np_finding *finding_of(const struct np_report *r, const char *cause)
{
	if (!r->an)
		return NULL;
	for (size_t i = 0; i < r->an->n_findings; i++)
		if (!strcmp(r->an->findings[i].cause, cause))
			return &r->an->findings[i];
	return NULL;
}

static int diff_findings(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	const struct np_report *sides[2] = {a, b};

	for (int s = 0; s < 2; s++) {
		const struct np_analysis *an = sides[s]->an;

		for (size_t i = 0; an && i < an->n_findings; i++) {
			const char *cause = an->findings[i].cause;
			const struct np_finding *fa = finding_of(a, cause),
						*fb = finding_of(b, cause);
			struct np_diff_change *c;
			bool sig;
			enum np_diff_status st;

			if (s == 1 && fa)
				continue; /* seen from the before side */
			st = np_diff_classify_finding(fa ? (int)fa->severity : 0,
						      fb ? (int)fb->severity : 0, &sig);
			if (st == NP_DC_SAME)
				continue;
			c = add(d, NP_DS_FINDING, "finding", cause, "score");
			if (!c)
				return -ENOMEM;
			set_values(c, fa, fa ? fa->score : 0, fb, fb ? fb->score : 0);
			c->status = st;
			c->is_text = true;
			snprintf(c->sbefore, sizeof(c->sbefore), "%s",
				 fa ? np_severity_name(fa->severity) : "");
			snprintf(c->safter, sizeof(c->safter), "%s",
				 fb ? np_severity_name(fb->severity) : "");
			c->method = NP_DM_RULES;
			c->significant = sig;
			c->large_enough = true;
		}
	}
	return 0;
}

/* ---- descriptive figures (one value per recording) ------------------- */

static int descriptive(struct np_diff *d, enum np_diff_section s, const char *metric,
		       const char *where, const char *unit, bool hb, double b, bool ha, double a)
{
	struct np_diff_change *c;

	if (!hb && !ha)
		return 0;
	if (hb && ha && b == a)
		return 0;
	c = add(d, s, metric, where, unit);
	if (!c)
		return -ENOMEM;
	set_values(c, hb, b, ha, a);
	c->method = NP_DM_NONE;
	return 0;
}

static int diff_breakdown(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	const struct np_breakdown *x = a->an ? &a->an->breakdown : NULL;
	const struct np_breakdown *y = b->an ? &b->an->breakdown : NULL;
	bool hx = x && x->known && x->window_ns, hy = y && y->known && y->window_ns;
	static const char *const parts[] = {"application", "stack", "nic", "peer", "idle"};
	int rc = 0;

	for (size_t i = 0; i < 5 && !rc; i++) {
		double vx = 0, vy = 0;

		if (hx) {
			uint64_t v[5] = {x->application_ns, x->stack_ns, x->nic_ns, x->peer_ns,
					 x->idle_ns};
			vx = (double)v[i] / (double)x->window_ns;
		}
		if (hy) {
			uint64_t v[5] = {y->application_ns, y->stack_ns, y->nic_ns, y->peer_ns,
					 y->idle_ns};
			vy = (double)v[i] / (double)y->window_ns;
		}
		rc = descriptive(d, NP_DS_BREAKDOWN, parts[i], "breakdown", "share", hx, vx, hy,
				 vy);
	}
	return rc;
}

/* The on-CPU, runnable and off-CPU shares of a group of threads' own time
 * (thread ids differ between runs, so threads are compared in groups). */
typedef bool (*thread_in_fn)(const struct np_report *r, const struct np_thread_row *t,
			     const void *group);

static void group_shares(const struct np_report *r, thread_in_fn in, const void *group, bool *have,
			 double sh[3])
{
	uint64_t w = 0, on = 0, rq = 0, off = 0;

	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_thread_row *t = &r->threads[i];

		if (!t->sched_known || !in(r, t, group))
			continue;
		w += t->window_ns;
		on += t->on_cpu_ns;
		rq += t->runnable_ns;
		off += t->off_cpu_ns;
	}
	*have = w > 0;
	if (w) {
		sh[0] = (double)on / (double)w;
		sh[1] = (double)rq / (double)w;
		sh[2] = (double)off / (double)w;
	}
}

static bool thread_has_comm(const struct np_report *r, const struct np_thread_row *t,
			    const void *comm)
{
	(void)r;
	return !strncmp(t->comm, comm, sizeof(t->comm));
}

static int diff_threads(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	const struct np_report *sides[2] = {a, b};
	static const char *const what[3] = {"on_cpu_share", "runnable_share", "off_cpu_share"};

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sides[s]->n_threads; i++) {
			char comm[17];
			bool seen = false, ha, hb;
			double sa[3] = {0}, sb[3] = {0};

			snprintf(comm, sizeof(comm), "%.16s", sides[s]->threads[i].comm);
			/* once per comm: its first row on the first side that has it */
			for (size_t j = 0; j < i && !seen; j++)
				seen = !strncmp(sides[s]->threads[j].comm, comm, 16);
			for (size_t j = 0; s == 1 && j < a->n_threads && !seen; j++)
				seen = !strncmp(a->threads[j].comm, comm, 16);
			if (seen)
				continue;
			group_shares(a, thread_has_comm, comm, &ha, sa);
			group_shares(b, thread_has_comm, comm, &hb, sb);
			for (int k = 0; k < 3; k++) {
				char where[64];

				snprintf(where, sizeof(where), "threads %s", comm);
				if (descriptive(d, NP_DS_THREAD, what[k], where, "share", ha, sa[k],
						hb, sb[k]))
					return -ENOMEM;
			}
		}
	return 0;
}

/* Per process: pids differ between two runs of a service, so a process is
 * known by its name and role (the nginx master, the nginx workers: every
 * worker of one name together), and its threads by the recording's
 * thread-to-process map.  Recordings of one process have no process table:
 * their threads are the rows above. */
static bool proc_is(const struct np_proc_row *p, const char *comm, enum np_proc_role role)
{
	return p->role == role && !strncmp(p->comm, comm, sizeof(p->comm)) &&
	       !(p->flags & NP_PROCREC_GONE_AT_START);
}

static int by_row_pid(const void *key, const void *row)
{
	uint32_t pid = *(const uint32_t *)key, other = ((const struct np_proc_row *)row)->pid;

	return (pid > other) - (pid < other);
}

/* The process row of a thread (the rows are by pid), NULL when unknown. */
static const struct np_proc_row *proc_of_thread(const struct np_report *r, uint32_t tid)
{
	uint32_t pid = np_proc_report_pid_of(&r->procs, tid);

	if (!pid || !r->procs.n)
		return NULL;
	return bsearch(&pid, r->procs.v, r->procs.n, sizeof(*r->procs.v), by_row_pid);
}

struct proc_group {
	const char *comm;
	enum np_proc_role role;
};

static bool thread_in_proc(const struct np_report *r, const struct np_thread_row *t,
			   const void *group)
{
	const struct proc_group *g = group;
	const struct np_proc_row *p = proc_of_thread(r, t->tid);

	return p && proc_is(p, g->comm, g->role);
}

static void proc_shares(const struct np_report *r, const struct proc_group *g, bool *have,
			double sh[3])
{
	*have = false;
	if (r->procs.have)
		group_shares(r, thread_in_proc, g, have, sh);
}

/* Whether (comm, role) was met before row i of side s (its first row on
 * the first side that has it is the one that compares it). */
static bool proc_seen(const struct np_report *const sides[2], int s, size_t i)
{
	const struct np_proc_row *p = &sides[s]->procs.v[i];

	for (size_t j = 0; j < i; j++)
		if (proc_is(&sides[s]->procs.v[j], p->comm, p->role))
			return true;
	for (size_t j = 0; s == 1 && sides[0]->procs.have && j < sides[0]->procs.n; j++)
		if (proc_is(&sides[0]->procs.v[j], p->comm, p->role))
			return true;
	return false;
}

static int diff_processes(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	const struct np_report *const sides[2] = {a, b};
	static const char *const what[3] = {"on_cpu_share", "runnable_share", "off_cpu_share"};

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; sides[s]->procs.have && i < sides[s]->procs.n; i++) {
			const struct np_proc_row *p = &sides[s]->procs.v[i];
			char comm[17], where[64];
			struct proc_group g;
			bool ha, hb;
			double sa[3] = {0}, sb[3] = {0};

			if (p->flags & NP_PROCREC_GONE_AT_START || proc_seen(sides, s, i))
				continue;
			snprintf(comm, sizeof(comm), "%.16s", p->comm);
			g.comm = comm;
			g.role = p->role;
			proc_shares(a, &g, &ha, sa);
			proc_shares(b, &g, &hb, sb);
			snprintf(where, sizeof(where), "process %s %s", comm,
				 np_proc_role_name(p->role));
			for (int k = 0; k < 3; k++)
				if (descriptive(d, NP_DS_THREAD, what[k], where, "share", ha, sa[k],
						hb, sb[k]))
					return -ENOMEM;
		}
	return 0;
}

/* ---- bootstrap over per-window values ---------------------------------- */

enum wscale {
	W_RATE,  /* count per second */
	W_LEVEL, /* the window's value as is (a peak, a p99) */
	W_SHARE, /* of the service threads' time in the window */
	W_CPU,   /* ns per second: share of one CPU */
};

static size_t window_values(const struct np_signals *s, enum np_wmetric m, enum wscale sc,
			    double *out)
{
	size_t n = 0;

	if (!s || !(s->wknown & (1ull << m)))
		return 0;
	if (sc == W_SHARE && !(s->wknown & (1ull << NP_W_THREAD_NS)))
		return 0;
	for (size_t i = 0; i < s->n_windows; i++) {
		const struct np_sig_window *w = &s->windows[i];
		double secs = (double)(w->end_ns - w->start_ns) / 1e9, v = (double)w->v[m];

		if (secs <= 0)
			continue;
		if (sc == W_RATE)
			v /= secs;
		else if (sc == W_CPU)
			v /= secs * 1e9;
		else if (sc == W_SHARE) {
			if (!w->v[NP_W_THREAD_NS])
				continue;
			v /= (double)w->v[NP_W_THREAD_NS];
		}
		out[n++] = v;
	}
	return n;
}

static double mean_of(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

static int next_test_id(const struct np_diff *d)
{
	int id = -1;

	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].test_id > id)
			id = d->c[i].test_id;
	return id + 1;
}

/* One bootstrap over per-window values x (before) and y (after), and the
 * change it stands behind, shown as the windows' means. */
static int boot_values(struct np_diff *d, enum np_diff_section sec, const char *name,
		       const char *where, const char *unit, const double *x, size_t nx,
		       const double *y, size_t ny, bool share)
{
	struct np_diff_change *c;
	char seed[256];

	if (!nx && !ny)
		return 0;
	if (nx && ny && mean_of(x, nx) == mean_of(y, ny)) {
		/* identical means: nothing to report (and nothing to test) */
		bool same = nx == ny;

		for (size_t i = 0; same && i < nx; i++)
			same = x[i] == y[i];
		if (same)
			return 0;
	}
	c = add(d, sec, name, where, unit);
	if (!c)
		return -ENOMEM;
	set_values(c, nx, mean_of(x, nx), ny, mean_of(y, ny));
	c->n_before = nx;
	c->n_after = ny;
	c->method = NP_DM_BOOTSTRAP;
	if (nx >= NP_DIFF_MIN_WINDOWS && ny >= NP_DIFF_MIN_WINDOWS) {
		struct np_boot bt;
		int rc;

		/* the metric's name alone, as before: outputs stay as they were */
		snprintf(seed, sizeof(seed), "%s%s%s", name, where[0] ? " " : "", where);
		rc = np_bootstrap_mean_diff(x, nx, y, ny, NP_BOOT_RESAMPLES, 0.95, np_seed_of(seed),
					    &bt);
		if (rc)
			return rc;
		c->tested = true;
		c->p = bt.p;
		c->lo = bt.lo;
		c->hi = bt.hi;
		c->test_id = next_test_id(d);
		c->large_enough = np_diff_large_enough(c->before, c->after, share);
	}
	return 0;
}

static int boot_metric(struct np_diff *d, enum np_diff_section sec, const char *name,
		       const char *unit, const struct np_report *a, const struct np_report *b,
		       enum np_wmetric m, enum wscale sc)
{
	size_t cap = (a->sig ? a->sig->n_windows : 0) + (b->sig ? b->sig->n_windows : 0) + 1;
	double *x = malloc(sizeof(double) * cap), *y = malloc(sizeof(double) * cap);
	int rc = -ENOMEM;

	if (x && y)
		rc = boot_values(d, sec, name, "", unit, x, window_values(a->sig, m, sc, x), y,
				 window_values(b->sig, m, sc, y), sc == W_SHARE);
	free(x);
	free(y);
	return rc;
}

static int diff_windows(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	static const struct {
		enum np_diff_section sec;
		const char *name, *unit;
		enum np_wmetric m;
		enum wscale sc;
	} rows[] = {
		{NP_DS_EXCHANGE, "requests_per_s", "per second", NP_W_EXCH_COUNT, W_RATE},
		{NP_DS_EXCHANGE, "window_request_p99_ns", "ns", NP_W_EXCH_P99_NS, W_LEVEL},
		{NP_DS_SYSCALL, "io_calls_per_s", "per second", NP_W_IO_CALLS, W_RATE},
		{NP_DS_SYSCALL, "slow_calls_per_s", "per second", NP_W_SLOW_CALLS, W_RATE},
		{NP_DS_SYSCALL, "window_io_p99_ns", "ns", NP_W_IO_P99_NS, W_LEVEL},
		{NP_DS_THREAD, "service_on_cpu_share", "share", NP_W_ON_CPU_NS, W_SHARE},
		{NP_DS_THREAD, "service_app_cpu_share", "share", NP_W_APP_CPU_NS, W_SHARE},
		{NP_DS_THREAD, "service_kernel_net_share", "share", NP_W_KERNEL_NET_NS, W_SHARE},
		{NP_DS_THREAD, "service_runnable_share", "share", NP_W_RUNNABLE_NS, W_SHARE},
		{NP_DS_THREAD, "service_off_nonnet_share", "share", NP_W_OFF_NONNET_NS, W_SHARE},
		{NP_DS_THREAD, "service_ready_wait_share", "share", NP_W_READY_WAIT_NS, W_SHARE},
		{NP_DS_THREAD, "service_peer_wait_share", "share", NP_W_PEER_WAIT_NS, W_SHARE},
		{NP_DS_COUNTER, "listen_overflows_per_s", "per second", NP_W_LISTEN_OVERFLOWS,
		 W_RATE},
		{NP_DS_COUNTER, "socket_drops_per_s", "per second", NP_W_SOCKET_DROPS, W_RATE},
		{NP_DS_COUNTER, "retrans_segs_per_s", "per second", NP_W_RETRANS_SEGS, W_RATE},
		{NP_DS_COUNTER, "tcp_timeouts_per_s", "per second", NP_W_TCP_TIMEOUTS, W_RATE},
		{NP_DS_COUNTER, "netfilter_drops_per_s", "per second", NP_W_NETFILTER_DROPS,
		 W_RATE},
		{NP_DS_COUNTER, "softnet_drops_per_s", "per second", NP_W_SOFTNET_DROPS, W_RATE},
		{NP_DS_COUNTER, "time_squeeze_per_s", "per second", NP_W_TIME_SQUEEZE, W_RATE},
		{NP_DS_COUNTER, "nic_rx_drops_per_s", "per second", NP_W_NIC_RX_DROPS, W_RATE},
		{NP_DS_COUNTER, "nic_errors_per_s", "per second", NP_W_NIC_ERRORS, W_RATE},
		{NP_DS_COUNTER, "qdisc_drops_per_s", "per second", NP_W_QDISC_DROPS, W_RATE},
		{NP_DS_COUNTER, "qdisc_backlog_peak_pkts", "packets", NP_W_QDISC_BACKLOG_PKTS,
		 W_LEVEL},
		{NP_DS_COUNTER, "recvq_peak_bytes", "bytes", NP_W_RECVQ_PEAK_BYTES, W_LEVEL},
		{NP_DS_COUNTER, "acceptq_peak", "count", NP_W_ACCEPTQ_PEAK, W_LEVEL},
		{NP_DS_COUNTER, "net_rx_softirq_cpu", "share", NP_W_NET_RX_NS, W_CPU},
		{NP_DS_COUNTER, "net_rx_busiest_cpu", "share", NP_W_NET_RX_MAX_CPU_NS, W_CPU},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = boot_metric(d, rows[i].sec, rows[i].name, rows[i].unit, a, b, rows[i].m,
				     rows[i].sc);

		if (rc)
			return rc;
	}
	return 0;
}

/* Counters per request: the window's total over its requests. */
static int diff_per_request(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	static const struct {
		const char *name;
		enum np_wmetric m;
	} rows[] = {
		{"retrans_segs_per_request", NP_W_RETRANS_SEGS},
		{"socket_drops_per_request", NP_W_SOCKET_DROPS},
		{"qdisc_drops_per_request", NP_W_QDISC_DROPS},
		{"listen_overflows_per_request", NP_W_LISTEN_OVERFLOWS},
		{"softnet_drops_per_request", NP_W_SOFTNET_DROPS},
	};
	const struct np_signals *sa = a->sig, *sb = b->sig;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double v[2] = {0, 0};
		bool h[2] = {false, false};
		const struct np_signals *s[2] = {sa, sb};

		for (int k = 0; k < 2; k++) {
			uint64_t tot = 0, req = 0;

			if (!s[k] || !(s[k]->wknown & (1ull << rows[i].m)) ||
			    !(s[k]->wknown & (1ull << NP_W_EXCH_COUNT)))
				continue;
			for (size_t w = 0; w < s[k]->n_windows; w++) {
				tot += s[k]->windows[w].v[rows[i].m];
				req += s[k]->windows[w].v[NP_W_EXCH_COUNT];
			}
			if (req) {
				h[k] = true;
				v[k] = (double)tot / (double)req;
			}
		}
		if (descriptive(d, NP_DS_COUNTER, rows[i].name, "", "per request", h[0], v[0], h[1],
				v[1]))
			return -ENOMEM;
	}
	return 0;
}

/* Where the stack received packets: `cpu`'s share of all CPUs' packets
 * processed (softnet_stat's first column: counted on the CPU that ran the
 * receive path) in each 1 s interval of the per-CPU polls (all CPUs of one
 * poll share its timestamp).  What RPS, RFS or IRQ affinity moves, and what
 * a ratio of totals would blur; time in NET_RX would blur it too, since the
 * CPU that steers a packet elsewhere still runs NET_RX to send the IPI. */
static size_t rx_packet_shares(const struct np_recording *rec, uint32_t cpu, double **out)
{
	size_t n_cs, n = 0;
	const struct np_rec_netcpu_sample *cs = np_recording_records(rec, NP_BLK_NETCPU_SAMPLE,
								     &n_cs);
	uint64_t base[NP_SIG_MAX_CPUS] = {0}, base_ts = 0;
	bool have_base = false;
	double *v = malloc(sizeof(double) * (n_cs + 1));

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < n_cs;) {
		size_t j = i;
		double total = 0, mine = 0;
		bool whole = true;

		while (j < n_cs && cs[j].ts_ns == cs[i].ts_ns)
			j++;
		if (have_base && cs[i].ts_ns < base_ts + 1000000000ull) {
			i = j;
			continue;
		}
		for (size_t k = i; k < j && have_base; k++) {
			uint32_t c = cs[k].cpu;

			if (c >= NP_SIG_MAX_CPUS || cs[k].processed < base[c]) {
				whole = false;
				continue;
			}
			total += (double)(cs[k].processed - base[c]);
			if (c == cpu)
				mine = (double)(cs[k].processed - base[c]);
		}
		if (have_base && whole && total > 0)
			v[n++] = mine / total;
		for (size_t k = i; k < j; k++)
			if (cs[k].cpu < NP_SIG_MAX_CPUS)
				base[cs[k].cpu] = cs[k].processed;
		base_ts = cs[i].ts_ns;
		have_base = true;
		i = j;
	}
	return n;
}

/* CPUs in the per-CPU polls (NP_BLK_NETCPU_SAMPLE), up to NP_SIG_MAX_CPUS. */
static uint32_t netcpu_count(const struct np_recording *rec)
{
	size_t n;
	const struct np_rec_netcpu_sample *cs = np_recording_records(rec, NP_BLK_NETCPU_SAMPLE, &n);
	uint32_t max = 0;

	for (size_t i = 0; i < n; i++)
		if (cs[i].cpu < NP_SIG_MAX_CPUS && cs[i].cpu + 1 > max)
			max = cs[i].cpu + 1;
	return max;
}

static int diff_rx_packet_cpus(struct np_diff *d, const struct np_report *a,
			       const struct np_report *b)
{
	uint32_t na = netcpu_count(a->rec), nb = netcpu_count(b->rec);
	uint32_t n = na > nb ? na : nb;

	/* one CPU: it receives every packet there is */
	for (uint32_t cpu = 0; n > 1 && cpu < n; cpu++) {
		char where[32];
		double *x = NULL, *y = NULL;
		size_t nx = rx_packet_shares(a->rec, cpu, &x),
		       ny = rx_packet_shares(b->rec, cpu, &y);
		int rc = -ENOMEM;

		snprintf(where, sizeof(where), "cpu %u", cpu);
		if (x && y)
			rc = boot_values(d, NP_DS_COUNTER, "rx_packets_share", where, "share", x,
					 nx, y, ny, true);
		free(x);
		free(y);
		if (rc)
			return rc;
	}
	return 0;
}

/* Drops by reason, per second and per request (one value per recording). */
static int diff_reasons(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	const struct np_signals *s[2] = {a->sig, b->sig};
	const struct np_report *r[2] = {a, b};

	for (int k = 0; k < 2; k++) {
		if (!s[k] || !s[k]->have_drop_reasons)
			continue;
		for (size_t i = 0; i < s[k]->n_reasons; i++) {
			const char *name = s[k]->top_reasons[i].name;
			double v[2] = {0, 0}, count[2] = {0, 0}, vr[2] = {0, 0};
			bool h[2], hr[2];
			bool seen = false;

			for (size_t j = 0; k == 1 && s[0] && j < s[0]->n_reasons && !seen; j++)
				seen = !strcmp(s[0]->top_reasons[j].name, name);
			if (seen)
				continue;
			for (int q = 0; q < 2; q++) {
				h[q] = s[q] && s[q]->have_drop_reasons && s[q]->duration_ns;
				for (size_t j = 0; h[q] && j < s[q]->n_reasons; j++)
					if (!strcmp(s[q]->top_reasons[j].name, name))
						count[q] = (double)s[q]->top_reasons[j].count;
				v[q] = h[q] ? count[q] / ((double)s[q]->duration_ns / 1e9) : 0;
				hr[q] = h[q] && r[q]->xch.present && r[q]->xch.count;
				vr[q] = hr[q] ? count[q] / (double)r[q]->xch.count : 0;
			}
			if (descriptive(d, NP_DS_COUNTER, "drops_per_s", name, "per second", h[0],
					v[0], h[1], v[1]) ||
			    descriptive(d, NP_DS_COUNTER, "drops_per_request", name, "per request",
					hr[0], vr[0], hr[1], vr[1]))
				return -ENOMEM;
		}
	}
	return 0;
}

/* Drops by place: each (reason, kernel location) of the stack source's
 * cumulative per-location counts (NP_BLK_NET_DROPS), the location named
 * from kallsyms at record time (symbol+offset; the address when it had no
 * name, which another boot moves).  Across recordings a place is its
 * reason's name and that location's name. */
struct drop_place {
	uint32_t reason;
	char name[60], where[64];
	uint64_t ts_ns, count;
};

/* rec's places, the latest count of each (calloc'd; NULL when out of
 * memory). */
static struct drop_place *drop_places(const struct np_recording *rec, size_t *n)
{
	size_t n_rec;
	const struct np_rec_net_drop *v = np_recording_records(rec, NP_BLK_NET_DROPS, &n_rec);
	struct drop_place *p = calloc(n_rec + 1, sizeof(*p));

	*n = 0;
	if (!p)
		return NULL;
	for (size_t i = 0; i < n_rec; i++) {
		struct drop_place *q = &p[*n];
		size_t j;

		q->reason = v[i].reason;
		memcpy(q->where, v[i].where, sizeof(q->where));
		q->where[sizeof(q->where) - 1] = 0;
		if (!q->where[0])
			snprintf(q->where, sizeof(q->where), "0x%llx",
				 (unsigned long long)v[i].location);
		for (j = 0; j < *n; j++)
			if (p[j].reason == q->reason && !strcmp(p[j].where, q->where))
				break;
		if (j == *n) {
			np_ns_reason_name(rec, q->reason, q->name, sizeof(q->name));
			(*n)++;
		} else if (v[i].ts_ns < p[j].ts_ns) {
			continue; /* an older snapshot of a place already counted */
		}
		p[j].ts_ns = v[i].ts_ns;
		p[j].count = v[i].count;
	}
	return p;
}

static const struct drop_place *place_of(const struct drop_place *p, size_t n, const char *name,
					 const char *where)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].name, name) && !strcmp(p[i].where, where))
			return &p[i];
	return NULL;
}

/* One place's drops per second and per request, in recording r whose
 * places are p[0..n): a place it does not list dropped nothing there, when
 * the stack source ran at all. */
static void place_rates(const struct np_report *r, const struct drop_place *p, size_t n,
			const char *name, const char *where, bool h[2], double v[2])
{
	const struct drop_place *q = place_of(p, n, name, where);
	double count = q ? (double)q->count : 0;

	h[0] = r->ns.present && r->duration_ns;
	v[0] = h[0] ? count / ((double)r->duration_ns / 1e9) : 0;
	h[1] = r->ns.present && r->xch.present && r->xch.count;
	v[1] = h[1] ? count / (double)r->xch.count : 0;
}

static int diff_drop_places(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	size_t n[2];
	struct drop_place *p[2] = {drop_places(a->rec, &n[0]), drop_places(b->rec, &n[1])};
	int rc = p[0] && p[1] ? 0 : -ENOMEM;

	for (int s = 0; s < 2 && !rc; s++)
		for (size_t i = 0; i < n[s] && !rc; i++) {
			const struct drop_place *q = &p[s][i];
			char where[sizeof(q->name) + sizeof(q->where) + 4];
			bool ha[2], hb[2];
			double va[2], vb[2];

			if (s == 1 && place_of(p[0], n[0], q->name, q->where))
				continue; /* compared from the before side */
			snprintf(where, sizeof(where), "%s at %s", q->name, q->where);
			place_rates(a, p[0], n[0], q->name, q->where, ha, va);
			place_rates(b, p[1], n[1], q->name, q->where, hb, vb);
			rc = descriptive(d, NP_DS_COUNTER, "drops_per_s", where, "per second",
					 ha[0], va[0], hb[0], vb[0]);
			if (!rc)
				rc = descriptive(d, NP_DS_COUNTER, "drops_per_request", where,
						 "per request", ha[1], va[1], hb[1], vb[1]);
		}
	free(p[0]);
	free(p[1]);
	return rc;
}

/* ---- rank tests on recorded events ------------------------------------ */

/* The components of a served exchange's time, then TLS: a handshake only
 * the first exchange of a TLS connection carries, with no histogram in
 * the report, so it is compared on the recorded events alone. */
enum xcomp { XC_TOTAL, XC_QUEUED, XC_APP, XC_TX, XC_PEER, XC_COUNT, XC_TLS = XC_COUNT };
static const char *const xcomp_name[XC_COUNT + 1] = {"total", "queued", "app", "tx", "peer", "tls"};

static bool xch_value(const struct np_xch_event *e, enum xcomp c, double *v)
{
	switch (c) {
	case XC_TOTAL:
		*v = (double)e->total_ns;
		return true;
	case XC_QUEUED:
		*v = (double)e->queued_ns;
		return (e->flags & NP_XEV_ARRIVAL) != 0;
	case XC_APP:
		*v = (double)e->app_ns;
		return true;
	case XC_TX:
		*v = (double)e->tx_ns;
		return (e->flags & NP_XEV_WIRE) != 0;
	case XC_TLS:
		*v = (double)e->tls_ns;
		return (e->flags2 & NP_XEV2_TLS) && e->tls_ns;
	default:
		*v = (double)e->peer_ns;
		return true;
	}
}

/* A label as the diff names it: "METHOD /path", "redis GET".  One
 * function for listing the labels and for picking their events, so that
 * both name a label alike. */
static void label_key(const struct np_http_label *l, char *key, size_t len)
{
	if (np_label_proto_name(l->proto))
		np_label_format(l, key, len);
	else
		snprintf(key, len, "%s %s", l->method, l->path);
}

static size_t xch_values(const struct np_recording *rec, bool outbound, enum xcomp c,
			 const char *label, double **out)
{
	size_t n_ev, n = 0;
	const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);
	double *v = malloc(sizeof(double) * (n_ev + 1));

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < n_ev; i++) {
		const struct np_xch_event *e = &ev[i];

		if (!!(e->flags & NP_XEV_OUTBOUND) != outbound)
			continue;
		if (label) {
			struct np_http_label l;
			char key[sizeof(l.method) + sizeof(l.path) + 2];
			size_t len = e->label_len < sizeof(e->label) ? e->label_len
								     : sizeof(e->label);

			if (!(e->flags & NP_XEV_LABEL) ||
			    np_xch_parse_label(e->proto, e->label, len, e->label_cut != 0, &l))
				continue;
			label_key(&l, key, sizeof(key));
			if (strcmp(key, label))
				continue;
		}
		if (xch_value(e, c, &v[n]))
			n++;
	}
	return n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The nearest-rank q-quantile of v[0..n), sorted in place. */
static double quantile(double *v, size_t n, double q)
{
	size_t k;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

static bool same_selection(const struct np_diff *d)
{
	return d->before.threshold_ns == d->after.threshold_ns &&
	       d->before.sample_every == d->after.sample_every;
}

/* One rank test and the changes it stands behind: names[i] shown as
 * (bv[i], av[i]), those that moved; the effect floor is checked on the
 * first pair (the median: the rank test is about location). */
static int rank_changes(struct np_diff *d, enum np_diff_section sec, const char *where, double *x,
			size_t nx, double *y, size_t ny, const char *const *names, const bool *hb,
			const double *bv, const bool *ha, const double *av, size_t n_names)
{
	struct np_mwu mw = {.p = 1};
	bool tested = false, any = false;
	int id = next_test_id(d);

	for (size_t i = 0; i < n_names; i++)
		any |= hb[i] != ha[i] || bv[i] != av[i];
	if (!any)
		return 0;
	if (nx >= NP_DIFF_MIN_EVENTS && ny >= NP_DIFF_MIN_EVENTS && same_selection(d)) {
		int rc = np_mann_whitney_batched(x, nx, y, ny, &mw);

		if (rc)
			return rc;
		tested = true;
	}
	for (size_t i = 0; i < n_names; i++) {
		struct np_diff_change *c;

		if (hb[i] == ha[i] && bv[i] == av[i])
			continue; /* this figure did not move (another of the test did) */
		c = add(d, sec, names[i], where, "ns");
		if (!c)
			return -ENOMEM;
		set_values(c, hb[i], bv[i], ha[i], av[i]);
		c->method = NP_DM_RANK;
		c->n_before = nx;
		c->n_after = ny;
		if (tested) {
			c->tested = true;
			c->p = mw.p;
			c->deff = mw.deff;
			c->test_id = id;
			c->large_enough = np_diff_large_enough(bv[0], av[0], false) &&
					  fabs(av[0] - bv[0]) >= 10000; /* 10 us */
			/* The test is about location: a tail that moved the other
			 * way than the median is not what it found. */
			if (i && (av[i] - bv[i]) * (av[0] - bv[0]) <= 0)
				c->large_enough = false;
		}
	}
	return 0;
}

static const struct np_xch_component *component(const struct np_xch_report *x, bool outbound,
						enum xcomp c)
{
	if (outbound)
		return &x->outbound;
	switch (c) {
	case XC_QUEUED:
		return &x->queued;
	case XC_APP:
		return &x->app;
	case XC_TX:
		return &x->tx;
	case XC_PEER:
		return &x->peer;
	default:
		return &x->total;
	}
}

/* One component of the served exchanges (of one label, or all of them
 * with label NULL) compared on the recorded events alone: their median and
 * p99 as recorded (every slow one, 1 in N of the rest: not the service's
 * percentiles), rank-tested.  Only when both recordings have events with
 * the component (TLS: both served TLS connections); per label, only with
 * NP_DIFF_MIN_EVENTS a side, so that the labels' many components do not
 * fill the diff with untestable rows. */
static int diff_recorded(struct np_diff *d, const struct np_report *a, const struct np_report *b,
			 const char *label, enum xcomp c)
{
	double *x = NULL, *y = NULL, *xs = NULL, *ys = NULL;
	size_t nx = xch_values(a->rec, false, c, label, &x);
	size_t ny = xch_values(b->rec, false, c, label, &y);
	size_t need = label ? NP_DIFF_MIN_EVENTS : 1;
	char n50[48], n99[48];
	int rc = -ENOMEM;

	if (!x || !y)
		goto out;
	rc = 0;
	if (nx < need || ny < need)
		goto out;
	xs = malloc(sizeof(double) * nx);
	ys = malloc(sizeof(double) * ny);
	if (!xs || !ys) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(xs, x, sizeof(double) * nx);
	memcpy(ys, y, sizeof(double) * ny);
	if (label && c == XC_TOTAL) {
		/* the name it always had */
		snprintf(n50, sizeof(n50), "recorded_median_ns");
		n99[0] = 0;
	} else {
		snprintf(n50, sizeof(n50), "%s%s_recorded_median_ns", label ? "" : "request_",
			 xcomp_name[c]);
		snprintf(n99, sizeof(n99), "%s%s_recorded_p99_ns", label ? "" : "request_",
			 xcomp_name[c]);
	}
	{
		const char *names[2] = {n50, n99};
		bool h[2] = {true, true};
		double bv[2], av[2];
		/* a label's components, one row each: their p99s would add
		 * rows to every diff and nothing the median's test did not */
		size_t n_names = label ? 1 : 2;

		bv[0] = median(xs, nx);
		av[0] = median(ys, ny);
		bv[1] = quantile(xs, nx, 0.99);
		av[1] = quantile(ys, ny, 0.99);
		rc = rank_changes(d, NP_DS_EXCHANGE, label ? label : "", x, nx, y, ny, names, h, bv,
				  h, av, n_names);
	}
out:
	free(xs);
	free(ys);
	free(x);
	free(y);
	return rc;
}

static int diff_exchanges(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	if (!a->xch.present && !b->xch.present)
		return 0;
	for (int out = 0; out < 2; out++)
		for (int c = 0; c < (out ? 1 : XC_COUNT); c++) {
			const struct np_xch_component *ca = component(&a->xch, out, c);
			const struct np_xch_component *cb = component(&b->xch, out, c);
			bool ha = a->xch.present && ca->known && ca->n;
			bool hb = b->xch.present && cb->known && cb->n;
			double *x = NULL, *y = NULL;
			size_t nx = xch_values(a->rec, out, c, NULL, &x);
			size_t ny = xch_values(b->rec, out, c, NULL, &y);
			char n50[48], n99[48];
			const char *names[2] = {n50, n99};
			bool h1[2] = {ha, ha}, h2[2] = {hb, hb};
			double v1[2] = {(double)ca->p50_ns, (double)ca->p99_ns};
			double v2[2] = {(double)cb->p50_ns, (double)cb->p99_ns};
			int rc;

			snprintf(n50, sizeof(n50), "%s_%s_p50_ns", out ? "outbound" : "request",
				 xcomp_name[c]);
			snprintf(n99, sizeof(n99), "%s_%s_p99_ns", out ? "outbound" : "request",
				 xcomp_name[c]);
			rc = (x && y) ? rank_changes(d, NP_DS_EXCHANGE, "", x, nx, y, ny, names, h1,
						     v1, h2, v2, 2)
				      : -ENOMEM;
			free(x);
			free(y);
			if (rc)
				return rc;
		}
	return diff_recorded(d, a, b, NULL, XC_TLS);
}

/* Labels of the served exchanges of rec (distinct, malloc'd). */
static size_t labels_of(const struct np_recording *rec, char (**out)[160])
{
	size_t n_ev, n = 0;
	const struct np_xch_event *ev = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n_ev);
	char(*l)[160] = calloc(n_ev + 1, sizeof(*l));

	*out = l;
	if (!l)
		return 0;
	for (size_t i = 0; i < n_ev; i++) {
		struct np_http_label hl;
		size_t len = ev[i].label_len < sizeof(ev[i].label) ? ev[i].label_len
								   : sizeof(ev[i].label);
		bool seen = false;

		if ((ev[i].flags & NP_XEV_OUTBOUND) || !(ev[i].flags & NP_XEV_LABEL) ||
		    np_xch_parse_label(ev[i].proto, ev[i].label, len, ev[i].label_cut != 0, &hl))
			continue;
		label_key(&hl, l[n], sizeof(l[n]));
		for (size_t j = 0; j < n && !seen; j++)
			seen = !strcmp(l[j], l[n]);
		if (!seen)
			n++;
	}
	return n;
}

/* Per label: the total and each component, each its own rank test in the
 * diff's Holm family; only labels both recordings served.  A service that
 * served one label in both has its components compared overall already:
 * the same events again would be the same test twice (and a repeated
 * false positive), so only its total is. */
static int diff_labels(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	char(*la)[160], (*lb)[160];
	size_t na = labels_of(a->rec, &la), nb = labels_of(b->rec, &lb);
	int rc = (la && lb) ? 0 : -ENOMEM;
	int last = na == 1 && nb == 1 ? XC_TOTAL : XC_TLS;

	for (size_t i = 0; i < na && !rc; i++) {
		bool both = false;

		for (size_t j = 0; j < nb && !both; j++)
			both = !strcmp(la[i], lb[j]);
		for (int c = XC_TOTAL; both && c <= last && !rc; c++)
			rc = diff_recorded(d, a, b, la[i], c);
	}
	free(la);
	free(lb);
	return rc;
}

/* The mean latency of `sys` in each interval between two of the syscall
 * source's cumulative snapshots (one a second): the per-window values its
 * bootstrap resamples.  NULL-safe *out; 0 windows when there are none. */
static size_t sys_window_means(const struct np_recording *rec, unsigned int sys, double **out)
{
	size_t n_st, n = 0;
	const struct np_rec_sys_stats *st = np_recording_records(rec, NP_BLK_SYS_STATS, &n_st);
	const struct np_rec_sys_stats *prev = NULL;
	double *v = malloc(sizeof(double) * (n_st + 1));

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < n_st; i++) {
		if (st[i].sys != sys)
			continue;
		if (prev && st[i].stats.count > prev->stats.count &&
		    st[i].stats.total_ns >= prev->stats.total_ns)
			v[n++] = (double)(st[i].stats.total_ns - prev->stats.total_ns) /
				 (double)(st[i].stats.count - prev->stats.count);
		prev = &st[i];
	}
	return n;
}

static const struct np_sys_row *sys_row(const struct np_report *r, unsigned int sys)
{
	for (size_t i = 0; i < r->n_sys; i++)
		if (r->sys[i].sys == sys)
			return &r->sys[i];
	return NULL;
}

static int diff_syscalls(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	for (unsigned int sys = 0; sys < NP_SYS_COUNT; sys++) {
		const struct np_sys_row *ra = sys_row(a, sys), *rb = sys_row(b, sys);
		const char *name = ra ? ra->name : rb ? rb->name : NULL;
		double *x = NULL, *y = NULL;
		size_t nx, ny;
		int rc;

		if (!name)
			continue;
		rc = descriptive(d, NP_DS_SYSCALL, "calls_per_s", name, "per second", ra,
				 ra ? (double)ra->count / ((double)a->duration_ns / 1e9) : 0, rb,
				 rb ? (double)rb->count / ((double)b->duration_ns / 1e9) : 0);
		if (rc)
			return rc;
		/* Percentiles as they are; the test is on the per-second
		 * means.  Consecutive calls are not independent: they share
		 * the CPUs' state (a halted vCPU woken by IPI, the peer's
		 * placement), which holds for seconds and moves a loopback
		 * write's p50 3x between two recordings of an unchanged
		 * service, so the second, not the call, is the unit. */
		rc = descriptive(d, NP_DS_SYSCALL, "p50_ns", name, "ns", ra,
				 ra ? (double)ra->p50_ns : 0, rb, rb ? (double)rb->p50_ns : 0);
		if (!rc)
			rc = descriptive(d, NP_DS_SYSCALL, "p99_ns", name, "ns", ra,
					 ra ? (double)ra->p99_ns : 0, rb,
					 rb ? (double)rb->p99_ns : 0);
		if (rc)
			return rc;
		nx = sys_window_means(a->rec, sys, &x);
		ny = sys_window_means(b->rec, sys, &y);
		rc = (x && y) ? boot_values(d, NP_DS_SYSCALL, "mean_ns", name, "ns", x, nx, y, ny,
					    false)
			      : -ENOMEM;
		free(x);
		free(y);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- configuration ------------------------------------------------------ */

/* A setting compared as configuration: a key of the recording's
 * configuration snapshot, or one derived from its interface and listener
 * records, which hold settings the snapshot does not (an interface's
 * txqueuelen and root qdisc, a listener's backlog). */
struct setting {
	const char *key, *value; /* borrowed from the report, or the buffers below */
	char kbuf[96], vbuf[32];
};

static const char *setting_of(const struct setting *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return v[i].value;
	return NULL;
}

static void derive(struct setting *v, size_t *n, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void derive(struct setting *v, size_t *n, const char *value, const char *fmt, ...)
{
	struct setting *s = &v[*n];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->kbuf, sizeof(s->kbuf), fmt, ap);
	va_end(ap);
	if (setting_of(v, *n, s->kbuf))
		return; /* the first of its kind (IPv4 and IPv6 listeners of one port) */
	snprintf(s->vbuf, sizeof(s->vbuf), "%s", value);
	s->key = s->kbuf;
	s->value = s->vbuf;
	(*n)++;
}

/* r's settings (calloc'd; NULL when out of memory), the snapshot's first. */
static struct setting *settings_of(const struct np_report *r, size_t *n)
{
	const struct np_net_report *net = &r->net;
	struct setting *v = calloc(net->n_config + 2 * net->n_ifs + net->n_socks + 1, sizeof(*v));
	char buf[32];

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < net->n_config; i++) {
		v[*n].key = net->config[i].key;
		v[(*n)++].value = net->config[i].value;
	}
	for (size_t i = 0; i < net->n_ifs; i++) {
		const struct np_net_iface *f = &net->ifs[i];

		snprintf(buf, sizeof(buf), "%u", f->info.txqlen);
		derive(v, n, buf, "if.%u.txqlen", f->info.id);
		if (f->root)
			derive(v, n, f->root->kind, "if.%u.qdisc", f->info.id);
	}
	for (size_t i = 0; i < net->n_socks; i++) {
		const struct np_net_sock *s = &net->socks[i];

		if (!(s->info.flags & NP_SOCK_LISTENER) || s->info.proto != IPPROTO_TCP)
			continue;
		/* by port: the same service may listen on another address
		 * (another namespace's subnet) in the other recording */
		snprintf(buf, sizeof(buf), "%u", s->info.backlog_limit);
		derive(v, n, buf, "listen.%u.backlog", s->info.lport);
	}
	return v;
}

static bool config_volatile(const char *key)
{
	/* identities of this run, not settings */
	return strstr(key, "_ino") != NULL;
}

static int diff_config(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	size_t n[2];
	struct setting *v[2] = {settings_of(a, &n[0]), settings_of(b, &n[1])};
	int rc = v[0] && v[1] ? 0 : -ENOMEM;

	for (int s = 0; s < 2 && !rc; s++)
		for (size_t i = 0; i < n[s] && !rc; i++) {
			const char *key = v[s][i].key;
			const char *va = setting_of(v[0], n[0], key),
				   *vb = setting_of(v[1], n[1], key);
			struct np_diff_change *c;

			if (config_volatile(key) || (s == 1 && va))
				continue;
			if (va && vb && !strcmp(va, vb))
				continue;
			c = add(d, NP_DS_CONFIG, key, "", "");
			if (!c) {
				rc = -ENOMEM;
				break;
			}
			set_values(c, va, 0, vb, 0);
			if (va && vb)
				c->status = NP_DC_CHANGED;
			c->is_text = true;
			snprintf(c->sbefore, sizeof(c->sbefore), "%s", va ? va : "");
			snprintf(c->safter, sizeof(c->safter), "%s", vb ? vb : "");
			c->method = NP_DM_CONFIG;
		}
	free(v[0]);
	free(v[1]);
	return rc;
}

/* ---- the host's speed --------------------------------------------------- */

struct host_prog {
	const char *name;
	uint64_t runs[2], run_ns[2], window_ns[2];
};

static struct host_prog *host_prog_of(struct host_prog *v, size_t *n, size_t cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	if (*n >= cap)
		return NULL;
	v[*n].name = name;
	return &v[(*n)++];
}

struct weighted {
	double v, w;
};

static int cmp_weighted(const void *a, const void *b)
{
	return cmp_d(&((const struct weighted *)a)->v, &((const struct weighted *)b)->v);
}

/* The factor (>= 1) between the target's traced calls per second in the
 * two recordings; INFINITY when one has none. */
static double call_rate_change(const struct np_report *a, const struct np_report *b)
{
	double ca = 0, cb = 0, ra, rb;

	for (size_t i = 0; i < a->n_sys; i++)
		ca += (double)a->sys[i].count;
	for (size_t i = 0; i < b->n_sys; i++)
		cb += (double)b->sys[i].count;
	if (!ca || !cb || !a->duration_ns || !b->duration_ns)
		return INFINITY;
	ra = ca / (double)a->duration_ns;
	rb = cb / (double)b->duration_ns;
	return ra > rb ? ra / rb : rb / ra;
}

void np_diff_host_speed(const struct np_report *before, const struct np_report *after,
			struct np_diff_host *h)
{
	const struct np_ovh_report *side[2] = {&before->ovh, &after->ovh};
	size_t cap = side[0]->n_progs + side[1]->n_progs, n = 0, k = 0;
	struct host_prog *v = calloc(cap ? cap : 1, sizeof(*v));
	struct weighted *r = calloc(cap ? cap : 1, sizeof(*r));
	double total = 0, acc = 0, ns[2] = {0, 0}, runs[2] = {0, 0};

	memset(h, 0, sizeof(*h));
	/* The programs' work per run depends on what the target does (how
	 * much payload a receive copies, how deep the stack a switch
	 * records): only under the same load do they do the same work.  The
	 * target's own call rate says whether it is (the programs' run
	 * rates would not: the host-wide hooks also count everyone else). */
	h->rate_change = call_rate_change(before, after);
	h->comparable = h->rate_change < NP_DIFF_HOST_SAME_LOAD;
	if (!v || !r || !side[0]->n_progs || !side[1]->n_progs)
		goto out;
	/* by name: ids differ between runs, and a name can be loaded twice */
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < side[s]->n_progs; i++) {
			const struct np_ovh_prog *p = &side[s]->progs[i];
			struct host_prog *hp = host_prog_of(v, &n, cap, p->name);

			if (!hp)
				continue;
			hp->runs[s] += p->runs;
			hp->run_ns[s] += p->run_ns;
			hp->window_ns[s] += p->window_ns;
		}
	for (size_t i = 0; i < n; i++) {
		const struct host_prog *hp = &v[i];

		if (hp->runs[0] < NP_DIFF_HOST_MIN_RUNS || hp->runs[1] < NP_DIFF_HOST_MIN_RUNS ||
		    !hp->run_ns[0] || !hp->run_ns[1])
			continue;
		r[k].v = log(((double)hp->run_ns[1] / (double)hp->runs[1]) /
			     ((double)hp->run_ns[0] / (double)hp->runs[0]));
		/* the side with fewer runs bounds what a program tells */
		r[k].w = (double)(hp->runs[0] < hp->runs[1] ? hp->runs[0] : hp->runs[1]);
		total += r[k].w;
		for (int s = 0; s < 2; s++) {
			ns[s] += (double)hp->run_ns[s];
			runs[s] += (double)hp->runs[s];
		}
		k++;
	}
	if (!k)
		goto out;
	/* A weighted median: one program whose own path changed (a new
	 * socket option, more map entries) must not move the yardstick. */
	qsort(r, k, sizeof(*r), cmp_weighted);
	for (size_t i = 0; i < k; i++) {
		acc += r[i].w;
		if (acc >= total / 2) {
			h->ratio = exp(r[i].v);
			break;
		}
	}
	h->known = true;
	h->programs = k;
	h->before_ns = ns[0] / runs[0];
	h->after_ns = ns[1] / runs[1];
	h->noisy = h->comparable &&
		   (h->ratio >= NP_DIFF_HOST_NOISE || h->ratio <= 1 / NP_DIFF_HOST_NOISE);
out:
	free(v);
	free(r);
}

/* Share of all the host's CPUs busy with other work than the target's
 * threads and netprof's own; < 0 when the recording cannot say. */
static double host_other_load(const struct np_report *r)
{
	double busy = 0, target = 0, own;

	if (!r->net.n_cpus || !r->duration_ns || !r->n_threads)
		return -1;
	for (size_t i = 0; i < r->net.n_cpus; i++) {
		const struct np_net_cpu *c = &r->net.cpus[i];

		busy += (double)(c->user_ns + c->system_ns + c->irq_ns + c->softirq_ns +
				 c->steal_ns);
	}
	if (busy <= 0)
		return -1; /* no /proc/stat times recorded */
	for (size_t i = 0; i < r->n_threads; i++)
		target += (double)r->threads[i].on_cpu_ns;
	/* netprof's CPU over the seconds it measured, scaled to the window */
	own = r->ovh.wall_ns
		      ? (double)r->ovh.own_cpu_ns * (double)r->duration_ns / (double)r->ovh.wall_ns
		      : 0;
	busy -= target + own;
	return busy > 0 ? busy / ((double)r->duration_ns * (double)r->net.n_cpus) : 0;
}

static void host_load(struct np_diff *d, const struct np_report *a, const struct np_report *b)
{
	double x = host_other_load(a), y = host_other_load(b);

	if (x < 0 || y < 0)
		return;
	d->host.load_known = true;
	d->host.load_before = x;
	d->host.load_after = y;
	/* under another load the target's own clients (a local load
	 * generator) are part of the other work */
	d->host.load_noisy = d->host.comparable && fabs(y - x) >= NP_DIFF_HOST_LOAD_NOISE;
}

/* A latency that moved the way the host's speed or other work's load did
 * cannot be told from it: not significant, whatever its test said. */
static void gate_host_noise(struct np_diff *d)
{
	const struct np_diff_host *h = &d->host;

	for (size_t i = 0; i < d->n; i++) {
		struct np_diff_change *c = &d->c[i];
		bool up;

		if (!c->significant || strcmp(c->unit, "ns") || !c->have_before || !c->have_after)
			continue;
		up = c->after > c->before;
		if ((h->noisy && (h->ratio > 1) == up) ||
		    (h->load_noisy && (h->load_after > h->load_before) == up)) {
			c->significant = false;
			c->host_noise = true;
		}
	}
}

/* ---- significance and the headline ------------------------------------- */

/* A finding that crossed the warning line counts only when a measured
 * figure moved significantly too: the rules' thresholds are sharp, and a
 * score near one flips between two recordings of the same service. */
static void backed_findings(struct np_diff *d)
{
	bool moved = false;

	for (size_t i = 0; i < d->n && !moved; i++)
		moved = d->c[i].tested && d->c[i].significant;
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].section == NP_DS_FINDING && d->c[i].significant && !moved) {
			d->c[i].significant = false;
			d->c[i].unbacked = true;
		}
}

static int correct(struct np_diff *d)
{
	int n_tests = next_test_id(d);
	double *p;
	bool *rej;

	if (n_tests <= 0) {
		backed_findings(d);
		for (size_t i = 0; i < d->n; i++)
			d->n_significant += d->c[i].significant;
		return 0;
	}
	p = calloc((size_t)n_tests, sizeof(*p));
	rej = calloc((size_t)n_tests, sizeof(*rej));
	if (!p || !rej) {
		free(p);
		free(rej);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].tested)
			p[d->c[i].test_id] = d->c[i].p;
	if (np_holm(p, (size_t)n_tests, NP_DIFF_ALPHA, rej)) {
		free(p);
		free(rej);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n; i++) {
		struct np_diff_change *c = &d->c[i];

		if (!c->tested)
			continue;
		c->significant = rej[c->test_id] && c->large_enough;
	}
	gate_host_noise(d);
	/* Holm's limits, for the output: by rank of p */
	for (int t = 0; t < n_tests; t++) {
		size_t rank = 0;

		for (int u = 0; u < n_tests; u++)
			rank += p[u] < p[t] || (p[u] == p[t] && u < t);
		for (size_t i = 0; i < d->n; i++)
			if (d->c[i].tested && d->c[i].test_id == t)
				d->c[i].p_holm_limit = NP_DIFF_ALPHA / (double)(n_tests - rank);
	}
	d->n_tested = (size_t)n_tests;
	backed_findings(d);
	for (size_t i = 0; i < d->n; i++)
		d->n_significant += d->c[i].significant;
	free(p);
	free(rej);
	return 0;
}

void np_diff_fmt_value(const struct np_diff_change *c, bool after, char *buf, size_t len)
{
	double v = after ? c->after : c->before;

	if (!(after ? c->have_after : c->have_before)) {
		snprintf(buf, len, "-");
		return;
	}
	if (c->is_text) {
		snprintf(buf, len, "%s", after ? c->safter : c->sbefore);
		return;
	}
	if (!strcmp(c->unit, "ns")) {
		if (v >= 1e9)
			snprintf(buf, len, "%.2f s", v / 1e9);
		else if (v >= 1e6)
			snprintf(buf, len, "%.1f ms", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, len, "%.0f us", v / 1e3);
		else
			snprintf(buf, len, "%.0f ns", v);
	} else if (!strcmp(c->unit, "share")) {
		snprintf(buf, len, "%.1f%%", v * 100);
	} else if (!strcmp(c->unit, "per second")) {
		snprintf(buf, len, "%.4g/s", v);
	} else {
		snprintf(buf, len, "%.4g", v);
	}
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b,
		   const char *c)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, fmt, a, b, c);
}

/* ---- what a configuration change acts on ------------------------------- */

/* One kind of configuration key and the figures it acts on directly: a
 * figure of the diff that such a key's change acts on is paired with it
 * (np_diff_change.paired), and when that figure moved significantly the
 * headline puts it first, next to the change.  Keys are fnmatch(3)
 * patterns over the recorded configuration keys (and those diff_config
 * derives: if.N.txqlen, if.N.qdisc, listen.PORT.backlog); a figure is a
 * metric name, or "metric where" for one place of it (a drop reason).
 * Only direct effects: everything moves request latency in the end, and a
 * pairing that says so says nothing. */
struct config_effect {
	const char *keys[12];
	const char *figures[12];
};

static const struct config_effect config_effects[] = {
	/* Packet steering (RPS/RFS, XPS, IRQ affinity) moves where packets
	 * are received and so which CPU runs NET_RX for them; RPS queues them
	 * on that CPU's backlog, whose overflow is softnet's drop. */
	{
		.keys = {"if.*.rx-*.rps_cpus*", "if.*.rx-*.rps_flow_cnt", "if.*.tx-*.xps_*",
			 "irq.*.smp_affinity_list", "irq.*.effective_affinity_list",
			 "sysctl.net.core.rps_sock_flow_entries"},
		.figures = {"rx_packets_share", "net_rx_busiest_cpu", "softnet_drops_per_s",
			    "softnet_drops_per_request", "drops_per_s CPU_BACKLOG"},
	},
	/* The per-CPU backlog's length and the NET_RX budget: a packet that
	 * finds the backlog full is dropped there (softnet_stat's second
	 * column, reason CPU_BACKLOG); a budget spent before the queue is
	 * empty is a time squeeze. */
	{
		.keys = {"sysctl.net.core.netdev_max_backlog", "sysctl.net.core.netdev_budget",
			 "sysctl.net.core.netdev_budget_usecs", "sysctl.net.core.dev_weight"},
		.figures = {"softnet_drops_per_s", "softnet_drops_per_request",
			    "time_squeeze_per_s", "drops_per_s CPU_BACKLOG"},
	},
	/* The accept and SYN queues' limits: a connection that finds them
	 * full is a listen overflow or drop (or, with abort_on_overflow, a
	 * reset instead; syncookies instead of a SYN drop). */
	{
		.keys = {"sysctl.net.core.somaxconn", "sysctl.net.ipv4.tcp_max_syn_backlog",
			 "sysctl.net.ipv4.tcp_abort_on_overflow", "sysctl.net.ipv4.tcp_syncookies",
			 "listen.*.backlog"},
		.figures = {"listen_overflows_per_s", "listen_overflows_per_request",
			    "acceptq_peak"},
	},
	/* Socket buffer sizes and their autotuning: a segment that finds the
	 * receive buffer full is pruned, collapsed or dropped, and a small
	 * window advertises zero. */
	{
		.keys = {"sysctl.net.ipv4.tcp_rmem", "sysctl.net.ipv4.tcp_wmem",
			 "sysctl.net.ipv4.tcp_mem", "sysctl.net.core.rmem_max",
			 "sysctl.net.core.rmem_default", "sysctl.net.core.wmem_max",
			 "sysctl.net.core.wmem_default", "sysctl.net.ipv4.tcp_moderate_rcvbuf"},
		.figures = {"socket_drops_per_s", "socket_drops_per_request", "recvq_peak_bytes",
			    "drops_per_s SOCKET_RCVBUFF", "drops_per_s PROTO_MEM",
			    "drops_per_s TCP_OFO_QUEUE_PRUNE", "drops_per_s SOCKET_BACKLOG",
			    "drops_per_s TCP_BACKLOG", "drops_per_s TCP_ZEROWINDOW"},
	},
	/* The egress queue (its discipline, its length): what waits in it is
	 * a request's time to the wire, what overflows it a qdisc drop. */
	{
		.keys = {"if.*.qdisc", "if.*.txqlen", "sysctl.net.core.default_qdisc"},
		.figures = {"qdisc_drops_per_s", "qdisc_drops_per_request",
			    "qdisc_backlog_peak_pkts", "request_tx_p50_ns", "request_tx_p99_ns",
			    "drops_per_s QDISC_DROP"},
	},
	/* The NIC's rings: a burst that finds the receive ring full is the
	 * NIC's drop, before the kernel sees it. */
	{
		.keys = {"if.*.ring.rx", "if.*.ring.tx"},
		.figures = {"nic_rx_drops_per_s"},
	},
	/* Offloads: segmentation, aggregation and checksums done by the NIC
	 * or once per batch instead of per packet by the kernel's CPU. */
	{
		.keys = {"if.*.feature.tx-*segmentation*", "if.*.feature.rx-gro*",
			 "if.*.feature.rx-lro", "if.*.feature.*checksum*"},
		.figures = {"service_kernel_net_share", "net_rx_softirq_cpu", "net_rx_busiest_cpu"},
	},
	/* Congestion control and the sender's pacing of small writes: how
	 * fast lost segments are resent and how long a response waits to be
	 * sent. */
	{
		.keys = {"sysctl.net.ipv4.tcp_congestion_control",
			 "sysctl.net.ipv4.tcp_slow_start_after_idle",
			 "sysctl.net.ipv4.tcp_notsent_lowat", "sysctl.net.ipv4.tcp_autocorking"},
		.figures = {"retrans_segs_per_s", "retrans_segs_per_request", "tcp_timeouts_per_s",
			    "request_tx_p50_ns", "request_tx_p99_ns"},
	},
};

static bool figure_is(const char *figure, const char *metric, const char *where)
{
	size_t n = strlen(metric);

	if (strncmp(figure, metric, n))
		return false;
	if (!figure[n])
		return true;
	if (figure[n] != ' ')
		return false;
	figure += n + 1;
	n = strlen(figure);
	/* a drop reason's figure is also each place of it ("REASON at loc") */
	return !strcmp(figure, where) ||
	       (!strncmp(figure, where, n) && !strncmp(where + n, " at ", 4));
}

bool np_diff_config_acts_on(const char *key, const char *metric, const char *where)
{
	/* a reason's drops per request are its drops per second over the
	 * load: what acts on one acts on the other */
	if (!strcmp(metric, "drops_per_request"))
		metric = "drops_per_s";
	for (size_t r = 0; r < sizeof(config_effects) / sizeof(config_effects[0]); r++) {
		const struct config_effect *e = &config_effects[r];
		bool key_of = false, figure_of = false;

		for (size_t k = 0; k < 12 && e->keys[k] && !key_of; k++)
			key_of = !fnmatch(e->keys[k], key, 0);
		for (size_t k = 0; k < 12 && e->figures[k] && key_of && !figure_of; k++)
			figure_of = figure_is(e->figures[k], metric, where);
		if (figure_of)
			return true;
	}
	return false;
}

/* Each measured figure that moved: the configuration changes acting on it. */
static void pair_with_config(struct np_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct np_diff_change *c = &d->c[i];

		c->n_paired = 0;
		if (c->section == NP_DS_CONFIG || c->section == NP_DS_FINDING)
			continue;
		for (size_t k = 0; k < d->n && c->n_paired < NP_DIFF_MAX_PAIRED; k++)
			if (d->c[k].section == NP_DS_CONFIG &&
			    np_diff_config_acts_on(d->c[k].metric, c->metric, c->where))
				c->paired[c->n_paired++] = k;
	}
}

/* The headline's moves: at most NP_HEADLINE_PAIRED that a configuration
 * change acts on, then at most NP_HEADLINE_MOVES findings and others. */
#define NP_HEADLINE_MOVES 4
#define NP_HEADLINE_PAIRED 3

/* Whether c, or another change of its test, is among the headline's. */
static bool test_shown(const struct np_diff *d, const size_t *order, size_t n,
		       const struct np_diff_change *c)
{
	for (size_t k = 0; k < n; k++)
		if (&d->c[order[k]] == c ||
		    (c->tested && d->c[order[k]].tested && d->c[order[k]].test_id == c->test_id))
			return true;
	return false;
}

/* Whether a significant move is paired with configuration change k. */
static bool config_moved(const struct np_diff *d, size_t k)
{
	for (size_t i = 0; i < d->n; i++)
		for (size_t j = 0; d->c[i].significant && j < d->c[i].n_paired; j++)
			if (d->c[i].paired[j] == k)
				return true;
	return false;
}

static void headline(struct np_diff *d)
{
	size_t n_cfg = 0, n_sig = 0;
	char *h = d->headline;
	size_t len = sizeof(d->headline);

	h[0] = 0;
	/* the configuration changes a significant move is paired with first */
	for (int moved = 1; moved >= 0; moved--)
		for (size_t i = 0; i < d->n; i++) {
			const struct np_diff_change *c = &d->c[i];
			char b[64], a[64];

			if (c->section != NP_DS_CONFIG || n_cfg >= 3 ||
			    config_moved(d, i) != (moved == 1))
				continue;
			np_diff_fmt_value(c, false, b, sizeof(b));
			np_diff_fmt_value(c, true, a, sizeof(a));
			append(h, len, n_cfg ? "; %s %s -> %s" : "%s %s -> %s", c->metric, b, a);
			n_cfg++;
		}
	/* what a configuration change acts on first, next to it, then the
	 * findings, then the tested moves, smallest p first; one per test */
	size_t order[NP_HEADLINE_PAIRED + NP_HEADLINE_MOVES], n_order = 0, n_max;

	for (size_t i = 0; i < d->n && n_order < NP_HEADLINE_PAIRED; i++)
		if (d->c[i].significant && d->c[i].tested && d->c[i].n_paired &&
		    !test_shown(d, order, n_order, &d->c[i]))
			order[n_order++] = i;
	n_max = n_order + NP_HEADLINE_MOVES;
	for (size_t i = 0; i < d->n && n_order < n_max; i++)
		if (d->c[i].significant && d->c[i].section == NP_DS_FINDING)
			order[n_order++] = i;
	while (n_order < n_max) {
		size_t best = d->n;

		for (size_t i = 0; i < d->n; i++) {
			const struct np_diff_change *c = &d->c[i];

			if (!c->significant || !c->tested || test_shown(d, order, n_order, c))
				continue;
			if (best == d->n || c->p < d->c[best].p)
				best = i;
		}
		if (best == d->n)
			break;
		order[n_order++] = best;
	}
	for (size_t k = 0; k < n_order; k++) {
		const struct np_diff_change *c = &d->c[order[k]];
		char b[160], a[160], what[600];

		if (c->section == NP_DS_FINDING) {
			snprintf(what, sizeof(what), "%s %s (%s)", c->where,
				 np_diff_status_name(c->status),
				 c->status == NP_DC_GONE ? c->sbefore : c->safter);
		} else {
			np_diff_fmt_value(c, false, b, sizeof(b));
			np_diff_fmt_value(c, true, a, sizeof(a));
			snprintf(what, sizeof(what), "%s%s%s %s -> %s", c->where,
				 c->where[0] ? " " : "", c->metric, b, a);
			if (c->before > 0) {
				char pct[32];
				double ratio = c->after / c->before;

				if (ratio >= 3)
					snprintf(pct, sizeof(pct), " (x%.0f)", ratio);
				else
					snprintf(pct, sizeof(pct), " (%+.0f%%)", (ratio - 1) * 100);
				strncat(what, pct, sizeof(what) - strlen(what) - 1);
			}
		}
		if (!n_sig && h[0])
			append(h, len, "%s%s%s", " => ", what, "");
		else
			append(h, len, "%s%s%s", n_sig ? "; " : "", what, "");
		n_sig++;
	}
	if (!n_sig && !h[0])
		snprintf(h, len, "no significant change");
	else if (!n_sig)
		append(h, len, "%s%s%s", " => ", "no significant change in what was measured", "");
}

__attribute__((format(printf, 2, 3))) static void note(struct np_diff *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t n;

	if (d->n_notes >= sizeof(d->notes) / sizeof(d->notes[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strnlen(buf, sizeof(d->notes[0]) - 1);
	memcpy(d->notes[d->n_notes], buf, n);
	d->notes[d->n_notes++][n] = 0;
}

static void notes(struct np_diff *d)
{
	const struct np_diff_side *x = &d->before, *y = &d->after;

	d->different_target = strcmp(x->comm, y->comm) || strcmp(x->exe, y->exe);
	d->different_host = strcmp(x->hostname, y->hostname) || strcmp(x->kernel, y->kernel);
	if (d->different_target)
		note(d, "different targets: %s (%s) before, %s (%s) after", x->exe, x->comm, y->exe,
		     y->comm);
	if (d->different_host)
		note(d, "different hosts: %s (%s) before, %s (%s) after", x->hostname, x->kernel,
		     y->hostname, y->kernel);
	if (!same_selection(d))
		note(d, "the recordings kept individual events differently (--threshold or "
			"--sample): latencies are not rank-tested");
	if (d->host.noisy)
		note(d,
		     "the host ran %.2gx %s in the second recording (netprof's own BPF programs, "
		     "same work: %.0f -> %.0f ns per run, median of %zu): latencies that moved "
		     "the same way are within host noise; record both again on a quieter host",
		     d->host.ratio > 1 ? d->host.ratio : 1 / d->host.ratio,
		     d->host.ratio > 1 ? "slower" : "faster", d->host.before_ns, d->host.after_ns,
		     d->host.programs);
	if (d->host.load_noisy)
		note(d,
		     "other work on the host took %.0f%% -> %.0f%% of its CPUs (not the target's, "
		     "not netprof's): latencies that moved the same way are within host noise",
		     d->host.load_before * 100, d->host.load_after * 100);
	if (x->duration_ns < 3000000000ull || y->duration_ns < 3000000000ull)
		note(d, "a recording shorter than 3 s has too few 1 s windows for the "
			"bootstrap "
			"to find any but the largest moves; record longer (-d 10)");
}

int np_diff_compute(const struct np_report *before, const struct np_report *after,
		    struct np_diff *d)
{
	int rc;

	memset(d, 0, sizeof(*d));
	side_of(before, &d->before);
	side_of(after, &d->after);
	np_diff_host_speed(before, after, &d->host);
	host_load(d, before, after);
	notes(d);
	rc = diff_findings(d, before, after);
	if (!rc)
		rc = diff_breakdown(d, before, after);
	if (!rc)
		rc = diff_exchanges(d, before, after);
	if (!rc)
		rc = diff_labels(d, before, after);
	if (!rc)
		rc = diff_windows(d, before, after);
	if (!rc)
		rc = diff_syscalls(d, before, after);
	if (!rc)
		rc = diff_threads(d, before, after);
	if (!rc)
		rc = diff_processes(d, before, after);
	if (!rc)
		rc = diff_per_request(d, before, after);
	if (!rc)
		rc = diff_reasons(d, before, after);
	if (!rc)
		rc = diff_drop_places(d, before, after);
	if (!rc)
		rc = diff_rx_packet_cpus(d, before, after);
	if (!rc)
		rc = diff_config(d, before, after);
	if (!rc)
		rc = correct(d);
	if (rc) {
		np_diff_fini(d);
		return rc;
	}
	np_diff_explain(d);
	return 0;
}

void np_diff_explain(struct np_diff *d)
{
	pair_with_config(d);
	headline(d);
}

void np_diff_fini(struct np_diff *d)
{
	free(d->c);
	memset(d, 0, sizeof(*d));
}
