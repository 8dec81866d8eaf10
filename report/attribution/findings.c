/* findings.c - the rules table, its evaluation, the correlation of findings
 * with time windows, and the breakdown.
 *
 * Every threshold is in rules[] below, one row per condition; README.md's
 * rules table is this table in words (tests/unit/test_findings.c checks the
 * two agree).  A row's measure function reads struct np_signals only,
 * returns false when an input it needs is unknown, and otherwise gives one
 * number (plus the evidence around it).  The engine turns the number into a
 * severity and a score with the row's thresholds, merges the rows of a
 * cause into one finding, and finds the windows in which the row's counter
 * moved.
 *
 * Score: piecewise linear in the value through (0, 0), (info, 0.25),
 * (warn, 0.5), (crit, 0.75), (2 x crit, 1), over the levels the row uses,
 * and kept below the next band when the row has no higher level.  So a
 * critical finding always outscores a warning, and within a band the larger
 * excess wins.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/attribution/findings.h"

/* What a row's measure function gives back. */
struct meas {
	double value;
	char where[NP_SIG_NAME_LEN * 2]; /* the subject: socket, CPU, interface, ... */
	char summary[256];
	/* Gates: the number is high but a precondition of the cause is not met
	 * (e.g. the service is mostly idle): at most info. */
	bool cap_info;
	struct np_evidence extra[6];
	size_t n_extra;
	/* The advice when the row's does not fit the case (the protocol, which
	 * of two limits binds); a template like the row's. */
	char advice[512];
};

typedef bool (*measure_fn)(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m);

struct rule {
	const char *cause;
	const char *metric;
	const char *unit;
	double info, warn, crit;
	/* Correlation: the window moved if v[wnum] (divided by v[wden] when
	 * wden != NP_W_COUNT) >= wmin. */
	enum np_wmetric wnum, wden;
	double wmin;
	measure_fn measure;
	const char *condition;
	const char *advice; /* "{where}" and "{pid}" are replaced */
	/* The row counts packets dropped at a known place: a finding with such
	 * a row at warning or above explains the retransmissions it caused. */
	bool loss;
	/* Whose counter the row reads: a shared one (host or namespace) whose
	 * owner np_signals_owner() finds elsewhere is at most info and never
	 * the verdict. */
	enum np_shared shared;
};

static const struct {
	const char *cause, *layer;
} causes[] = {
	{"app.cpu", "application"},
	{"app.blocked", "application"},
	{"app.backpressure", "application"},
	{"app.imbalance", "application"},
	{"host.cpu_contention", "application"},
	{"host.cpu_quota", "application"},
	{"stack.listen_overflow", "stack"},
	{"stack.socket_buffers", "stack"},
	{"stack.retransmits", "stack"},
	{"stack.qdisc", "stack"},
	{"stack.nagle", "stack"},
	{"stack.softirq", "stack"},
	{"stack.netfilter", "stack"},
	{"stack.kernel_cpu", "stack"},
	{"nic.rx_drops", "nic"},
	{"nic.errors", "nic"},
	{"peer.slow", "peer"},
};

/* The verdict names where the requests waited or were lost.  When two
 * findings of warning or above are one problem seen from two sides, the
 * place ranks first and takes the higher of the two scores (it is as severe
 * as what it explains), and the other ranks right after it, each summary
 * naming the other:
 *   - a queue in front of the application seen at its limit (a receive
 *     buffer, the accept queue: app.backpressure) is where requests wait;
 *     the application's CPU, blocking, CPU contention or quota, its
 *     kernel network work (stack.kernel_cpu) or network softirq on its
 *     CPUs (stack.softirq) are why it drains
 *     the queue slowly.  When the queues only hold requests for a long
 *     time (queued_share) without filling up, the waiting is the reason's
 *     consequence and the reason ranks first (queue_first false);
 *   - listen overflows are where connections are lost; a full accept queue
 *     is why;
 *   - one saturated worker among idle siblings (app.imbalance) ranks before
 *     the CPU it burns (app.cpu): spreading the load is the first fix;
 *   - the place where packets were dropped (a loss row, see struct rule)
 *     comes before the retransmissions it caused (code: rank_loss). */
static const struct rank_pair {
	const char *first, *then;
	const char *first_note, *then_note;
	bool queue_first; /* only when `first` saw a queue at its limit; else reversed */
} rank_pairs[] = {
	{"app.backpressure", "app.cpu", "; the service drains its queues slowly: see app.cpu",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	{"app.backpressure", "app.blocked",
	 "; the service drains its queues slowly: see app.blocked",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	{"app.backpressure", "host.cpu_contention",
	 "; the service drains its queues slowly: see host.cpu_contention",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	{"app.backpressure", "host.cpu_quota",
	 "; the service drains its queues slowly: see host.cpu_quota",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	/* its CPU goes to sending and receiving in the kernel instead */
	{"app.backpressure", "stack.kernel_cpu",
	 "; the service drains its queues slowly: see stack.kernel_cpu",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	/* its CPU goes to network softirq work steered onto it */
	{"app.backpressure", "stack.softirq",
	 "; the service drains its queues slowly: see stack.softirq",
	 "; why requests wait in the service's queues (app.backpressure)", true},
	/* one worker's CPU is the limit while its siblings could take work:
	 * balancing, not faster code, is the first thing to fix */
	{"app.imbalance", "app.cpu", "; where the busy worker's time goes: see app.cpu",
	 "; on one worker while its siblings idle (app.imbalance)", false},
	{"stack.listen_overflow", "app.backpressure",
	 "; the service accepts slowly: see "
	 "app.backpressure",
	 "; why the listen queue overflows (stack.listen_overflow)", false},
};

const char *np_cause_layer(const char *cause)
{
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		if (!strcmp(causes[i].cause, cause))
			return causes[i].layer;
	return NULL;
}

const char *np_severity_name(enum np_severity s)
{
	switch (s) {
	case NP_SEV_CRITICAL:
		return "critical";
	case NP_SEV_WARNING:
		return "warning";
	case NP_SEV_INFO:
		return "info";
	default:
		return "none";
	}
}

/* --- helpers for measure functions -------------------------------------- */

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* A part over its whole.  Measures take a share only of a numerator that
 * is a part of the denominator (the same exchanges, threads or socket); the
 * cap is the last guard against inputs that break that anyway (two
 * counters read a moment apart, a kernel limit overshot by one), so that a
 * report never shows more than all of something. */
static double share(uint64_t part, uint64_t whole)
{
	double v = ratio(part, whole);

	return v > 1.0 ? 1.0 : v;
}

static void extra(struct meas *m, const char *metric, double value, const char *unit,
		  const char *where)
{
	struct np_evidence *e;

	if (m->n_extra >= sizeof(m->extra) / sizeof(m->extra[0]))
		return;
	e = &m->extra[m->n_extra++];
	memset(e, 0, sizeof(*e));
	snprintf(e->metric, sizeof(e->metric), "%s", metric);
	e->value = value;
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
	snprintf(e->where, sizeof(e->where), "%s", where ? where : "");
}

static void pct(char *buf, size_t len, double share)
{
	snprintf(buf, len, "%.0f%%", share * 100.0);
}

static const char *thread_where(const struct np_sig_thread *t, char *buf, size_t len)
{
	if (!t)
		return "";
	snprintf(buf, len, "thread %u (%s)", t->tid, t->comm);
	return buf;
}

/* Minimum busy time for CPU rules to judge (a nearly idle service). */
#define BUSY_GATE 0.05
/* Contention makes threads wait this long to run, on average, or longer. */
#define CONTENDED_WAIT_NS 250000
/* Transmit time is the qdisc's when at least this much of it is below TCP. */
#define QDISC_PART_OF_TX 0.05

/* --- application -------------------------------------------------------- */

/* The service's CPU is in the TLS libraries for at least this share of its
 * samples: the cost is TLS itself (handshakes' public-key operations, record
 * encryption), and the remedies are in the TLS configuration, not the code. */
#define TLS_LIBRARY_SHARE 0.25

/* OpenSSL's libraries (module basenames: libcrypto.so.3, libssl.so.3). */
static bool is_tls_library(const char *module)
{
	return !strncmp(module, "libcrypto.so", 12) || !strncmp(module, "libssl.so", 9);
}

/* The share of the service's samples whose hottest functions are in the
 * TLS libraries (a lower bound: the hot list is the top few), and which of
 * them, into `libs`. */
static double tls_library_share(const struct np_signals *s, char *libs, size_t len)
{
	double share = 0.0;
	size_t used = 0;

	libs[0] = '\0';
	for (size_t i = 0; i < s->n_hot; i++) {
		if (!is_tls_library(s->hot[i].module))
			continue;
		share += s->hot[i].share;
		if (!strstr(libs, s->hot[i].module) && used < len) {
			int k = snprintf(libs + used, len - used, "%s%s", used ? ", " : "",
					 s->hot[i].module);

			used += k > 0 ? (size_t)k : 0;
		}
	}
	return share;
}

/* When the hot code is TLS: say so, and advise on TLS rather than on the
 * code. */
static void app_cpu_tls(const struct np_signals *s, struct meas *m)
{
	char libs[NP_SIG_NAME_LEN * 2], p[16];
	double share = tls_library_share(s, libs, sizeof(libs));
	size_t n;

	if (share < TLS_LIBRARY_SHARE)
		return;
	pct(p, sizeof(p), share);
	extra(m, "tls_library_cpu_share", share, "share", libs);
	n = strlen(m->summary);
	/* short: the summary also carries the ranking's notes; the libraries
	 * are named in the evidence and the advice */
	snprintf(m->summary + n, sizeof(m->summary) - n, "; %s in TLS libraries", p);
	snprintf(m->advice, sizeof(m->advice),
		 "The CPU goes to TLS (%s), most often full handshakes: each new connection "
		 "pays a private-key operation. Resume sessions (session cache and tickets; "
		 "check with openssl s_client -reconnect), keep connections alive instead of "
		 "one per request, and prefer an ECDSA P-256 certificate to RSA (openssl speed "
		 "rsa4096 ecdsap256: two orders of magnitude). Hottest: {where}; perf top -p "
		 "{pid} confirms.",
		 libs);
}

static bool m_app_cpu(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16], w[96];

	if (!t->have_sched || !t->thread_ns)
		return false;
	m->value = share(t->app_cpu_ns, t->thread_ns);
	pct(p, sizeof(p), m->value);
	if (s->have_cpu_samples && s->n_hot) {
		snprintf(m->where, sizeof(m->where), "%s", s->hot[0].function);
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads are on CPU in application code %s of the time; "
			 "hottest function %s (%.0f%% of samples)",
			 p, s->hot[0].function, s->hot[0].share * 100.0);
		/* the hottest, and the next ones that matter (5% or more) */
		for (size_t i = 0; i < s->n_hot && i < 3; i++)
			if (!i || s->hot[i].share >= 0.05)
				extra(m, "hot_function_share", s->hot[i].share, "share",
				      s->hot[i].function);
	} else {
		snprintf(m->where, sizeof(m->where), "%s", thread_where(t->busiest, w, sizeof(w)));
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads are on CPU in application code %s of the time%s", p,
			 t->cpu_split_estimated ? " (no CPU samples: functions unknown)" : "");
	}
	if (s->have_cpu_samples)
		app_cpu_tls(s, m);
	if (t->busiest)
		extra(m, "busiest_thread_on_cpu_ns", (double)t->busiest->on_cpu_ns, "ns",
		      thread_where(t->busiest, w, sizeof(w)));
	return true;
}

static bool m_app_blocked(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16];

	(void)s;
	if (!t->have_sched || !t->thread_ns)
		return false;
	m->value = share(t->off_nonnet_ns + t->off_unknown_ns, t->thread_ns);
	/* Without the off-CPU reasons this time may as well be a worker
	 * parked on a condition variable waiting for work (idle): at most
	 * info until the scheduler tracer says which wait it was. */
	m->cap_info = t->off_unknown_ns > t->off_nonnet_ns;
	pct(p, sizeof(p), m->value);
	if (m->cap_info)
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads are off CPU outside network calls %s of the time "
			 "(sleep, locks, disk, or waiting for work: the reason was not recorded)",
			 p);
	else if (s->n_waits)
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads wait on locks, disk or sleep %s of the time; most "
			 "in "
			 "%s (%s%s%s)",
			 p, s->waits[0].reason,
			 s->waits[0].syscall[0] ? s->waits[0].syscall : "no syscall",
			 s->waits[0].where[0] ? ": " : "", s->waits[0].where);
	else
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads wait on locks, disk or sleep %s of the time", p);
	if (!m->cap_info) {
		uint64_t lock = 0, disk = 0, sleep = 0;
		char where[NP_SIG_NAME_LEN * 2];

		for (size_t i = 0; i < s->n_threads; i++) {
			if (!np_signals_thread_is_service(&s->threads[i]))
				continue;
			lock += s->threads[i].off_lock_ns;
			disk += s->threads[i].off_disk_ns;
			sleep += s->threads[i].off_sleep_ns;
		}
		if (s->n_waits) {
			snprintf(where, sizeof(where), "%s%s%s", s->waits[0].syscall,
				 s->waits[0].syscall[0] && s->waits[0].where[0] ? ": " : "",
				 s->waits[0].where);
			snprintf(m->where, sizeof(m->where), "%s", where);
			extra(m, "longest_wait_ns", (double)s->waits[0].ns, "ns", where);
		}
		if (lock)
			extra(m, "off_cpu_lock_ns", (double)lock, "ns", "");
		if (disk)
			extra(m, "off_cpu_disk_ns", (double)disk, "ns", "");
		if (sleep)
			extra(m, "off_cpu_sleep_ns", (double)sleep, "ns", "");
	}
	return true;
}

static bool m_queued_share(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	char p[16];
	uint64_t queued_mean;

	(void)t;
	if (!s->have_exchanges || !s->exch_total_ns)
		return false;
	m->value = share(s->exch_queued_seen_ns, s->exch_total_ns);
	/* A fast service's requests spend most of their short life between
	 * the packet's arrival and the woken thread's read: a large share of
	 * a few hundred microseconds is not a backlog.  Below the slow-call
	 * threshold per request, at most info. */
	queued_mean = s->exch_count ? s->exch_queued_ns / s->exch_count : 0;
	m->cap_info = queued_mean < (s->threshold_ns ? s->threshold_ns : 1000000);
	pct(p, sizeof(p), m->value);
	snprintf(m->summary, sizeof(m->summary),
		 "requests wait in kernel queues before the application reads them: %s of their "
		 "latency",
		 p);
	extra(m, "queued_mean_ns", (double)queued_mean, "ns", "");
	return true;
}

static bool m_recvq_fill(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16];

	uint64_t q;

	(void)t;
	if (!s->have_sockets || !s->recvq_rcvbuf_bytes)
		return false;
	/* The limit applies to the queue's memory, which exceeds its payload
	 * (Recv-Q) by the buffers' overhead: the larger of the two. */
	q = s->recvq_mem_peak_bytes > s->recvq_peak_bytes ? s->recvq_mem_peak_bytes
							  : s->recvq_peak_bytes;
	/* The kernel admits a packet while the queue is under the limit, so
	 * the last one can take it past: full is 100%. */
	m->value = share(q, s->recvq_rcvbuf_bytes);
	/* data seen waiting in a single poll is a moment, not a backlog */
	m->cap_info = s->recvq_polls < 2;
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "%s", s->recvq_where);
	if (s->recvq_udp)
		snprintf(m->advice, sizeof(m->advice),
			 "ss -uanpi '( sport = :PORT )' for {where}: Recv-Q grows because the "
			 "application does not read fast enough, and a full UDP buffer drops "
			 "datagrams. Add readers (SO_REUSEPORT), or move blocking work off the "
			 "event loop.");
	snprintf(m->summary, sizeof(m->summary),
		 "data waits in a socket's receive queue: Recv-Q peaked at %" PRIu64
		 " bytes and the queue filled %s of its %" PRIu64 "-byte buffer%s",
		 s->recvq_peak_bytes, p, s->recvq_rcvbuf_bytes,
		 s->have_tcp_counters && s->to_zero_window_adv ? "; the window closed (zero window)"
							       : "");
	extra(m, "recv_q_peak_bytes", (double)s->recvq_peak_bytes, "bytes", s->recvq_where);
	extra(m, "recv_q_polls", (double)s->recvq_polls, "count", s->recvq_where);
	if (s->have_tcp_counters) {
		extra(m, "zero_window_adv", (double)s->to_zero_window_adv, "count",
		      "TcpExtTCPToZeroWindowAdv");
		if (s->zero_window_drops)
			extra(m, "zero_window_drops", (double)s->zero_window_drops, "count",
			      "TcpExtTCPZeroWindowDrop");
	}
	return true;
}

static bool m_acceptq_fill(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	(void)t;
	if (!s->have_listen || !s->acceptq_limit)
		return false;
	/* The kernel refuses a connection only once the queue holds more
	 * than its limit, so a full queue peaks at limit + 1: full is 100%. */
	m->value = share(s->acceptq_peak, s->acceptq_limit);
	snprintf(m->where, sizeof(m->where), "%s", s->listen_where);
	snprintf(m->summary, sizeof(m->summary),
		 "connections wait to be accepted: accept queue peaked at %" PRIu64 " of %" PRIu64,
		 s->acceptq_peak, s->acceptq_limit);
	extra(m, "accept_q_peak", (double)s->acceptq_peak, "count", s->listen_where);
	return true;
}

/* The share of periods in which the cgroup's CPU quota cut the service off,
 * at or above which its run-queue time is the quota's, not other work's. */
#define QUOTA_EXPLAINS_RUNQ 0.20

static bool quota_bites(const struct np_signals *s)
{
	return s->have_cpu_quota && s->quota_us != UINT64_MAX && s->quota_periods &&
	       ratio(s->quota_throttled, s->quota_periods) >= QUOTA_EXPLAINS_RUNQ;
}

/* The work that holds the CPUs may be the network stack's own: NET_RX and
 * NET_TX softirq, inline or in ksoftirqd, on a CPU where the service runs
 * (a sender whose ACKs and its peers' receive work land on its CPU, RPS
 * steering there).  When that softirq time could account for at least half
 * of the service's run-queue wait, the wait is not other work's: the
 * finding stays at info and points at the stack. */
static void net_softirq_holds_cpus(const struct np_signals *s, const struct np_sig_totals *t,
				   struct meas *m, const char *p)
{
	const struct np_sig_cpu *top = NULL;
	uint64_t net = 0;

	if (!s->have_softirq_time || !t->runnable_ns || quota_bites(s))
		return;
	for (size_t i = 0; i < s->n_cpus; i++) {
		const struct np_sig_cpu *c = &s->cpus[i];
		uint64_t n = c->net_rx_ns + c->net_tx_ns;

		net += n;
		if (!top || n > top->net_rx_ns + top->net_tx_ns)
			top = c;
	}
	if (!top || net * 2 < t->runnable_ns)
		return;
	m->cap_info = true;
	extra(m, "net_softirq_ns", (double)net, "ns", "");
	snprintf(m->summary, sizeof(m->summary),
		 "the service's threads are runnable but not running %s of their busy time, "
		 "while network softirq work (NET_RX, NET_TX) ran %.0f ms, most on CPU %u: the "
		 "kernel network stack holds the CPUs, not other work",
		 p, (double)net / 1e6, top->cpu);
	snprintf(m->advice, sizeof(m->advice),
		 "The run-queue time is network softirq work: see stack.softirq and "
		 "stack.kernel_cpu.");
}

/* The run-queue wait, as a share of the served requests' summed latency
 * outside their time queued, under which it does not explain their latency
 * (at most info).  Measured: 84-96% in the host.cpu_contention scenario,
 * 5.4% for a proxy waiting on its upstream on a busy host. */
#define RUNQ_LATENCY_SHARE 0.10

static bool m_runnable(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16], w[96];
	uint64_t busy = t->on_cpu_ns + t->runnable_ns;

	if (!t->have_sched || !t->thread_ns)
		return false;
	m->value = share(t->runnable_ns, busy);
	m->cap_info = ratio(t->runnable_ns, t->thread_ns) < BUSY_GATE;
	pct(p, sizeof(p), m->value);
	snprintf(m->summary, sizeof(m->summary),
		 "the service's threads are runnable but not running %s of their busy time: "
		 "other work holds the CPUs",
		 p);
	extra(m, "runnable_ns", (double)t->runnable_ns, "ns", "");
	if (quota_bites(s)) {
		m->cap_info = true;
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads are runnable but not running %s of their busy "
			 "time: the cgroup's CPU limit holds them back (see host.cpu_quota), not "
			 "other work",
			 p);
		snprintf(m->advice, sizeof(m->advice),
			 "The run-queue time is the cgroup's CPU quota: see host.cpu_quota.");
	}
	if (t->busiest)
		snprintf(m->where, sizeof(m->where), "%s", thread_where(t->busiest, w, sizeof(w)));
	/* who holds the CPUs: how busy the busiest one was, and the time
	 * the hypervisor took (steal) */
	if (s->have_softirq) {
		const struct np_sig_cpu *busy = NULL;
		uint64_t steal = 0, all = 0;

		for (size_t i = 0; i < s->n_cpus; i++) {
			const struct np_sig_cpu *c = &s->cpus[i];

			steal += c->steal_ns;
			all += c->stat_ns;
			if (c->stat_ns && (!busy || ratio(c->busy_ns, c->stat_ns) >
							    ratio(busy->busy_ns, busy->stat_ns)))
				busy = c;
		}
		if (busy) {
			char cpu[16];

			snprintf(cpu, sizeof(cpu), "CPU %u", busy->cpu);
			extra(m, "cpu_busy_share", ratio(busy->busy_ns, busy->stat_ns), "share",
			      cpu);
		}
		if (all && ratio(steal, all) >= 0.01)
			extra(m, "steal_share", ratio(steal, all), "share", "all CPUs");
	}
	/* Waiting behind other work lasts a time slice (milliseconds); tens of
	 * microseconds a time is the latency of being woken (an idle CPU
	 * leaving its sleep state, a VM exit, the waker finishing its slice):
	 * threads that run briefly and often pile that up into a large share
	 * without any contention. */
	if (t->runnable_waits) {
		uint64_t mean = t->runnable_ns / t->runnable_waits;

		extra(m, "runnable_mean_wait_ns", (double)mean, "ns", "");
		if (mean < CONTENDED_WAIT_NS) {
			m->cap_info = true;
			snprintf(m->summary, sizeof(m->summary),
				 "the service's threads are runnable but not running %s of their "
				 "busy "
				 "time, %" PRIu64 " us a time: wakeup latency of short, frequent "
				 "runs, not contention",
				 p, mean / 1000);
			return true;
		}
	}
	/* A wait that is a small part of what the requests waited for is not
	 * why they are slow, however busy the host: a proxy blocked on its
	 * upstream waits a little for a CPU each time it wakes.  Their time
	 * queued is left out: requests queue behind a thread that waits for a
	 * CPU, so it grows with the contention it would hide. */
	if (s->have_exchanges && s->exch_total_ns > s->exch_queued_ns &&
	    ratio(t->runnable_ns, s->exch_total_ns - s->exch_queued_ns) < RUNQ_LATENCY_SHARE) {
		char l[16];

		m->cap_info = true;
		pct(l, sizeof(l), ratio(t->runnable_ns, s->exch_total_ns - s->exch_queued_ns));
		snprintf(m->summary, sizeof(m->summary),
			 "the service's threads are runnable but not running %s of their busy "
			 "time, but that is %s of the requests' latency (their time queued aside): "
			 "not why they are slow",
			 p, l);
		return true;
	}
	net_softirq_holds_cpus(s, t, m, p);
	return true;
}

/* Workers of one pool share a name up to a counter ("worker-3",
 * "pool-1-thread-2") or share it whole (nginx, php-fpm processes): the
 * name without its trailing digits and separators is the role. */
static size_t role_len(const char *comm)
{
	size_t n = strnlen(comm, 16);

	while (n && comm[n - 1] >= '0' && comm[n - 1] <= '9')
		n--;
	while (n && strchr("-_/:. ", comm[n - 1]))
		n--;
	return n;
}

static bool same_role(const struct np_sig_thread *a, const struct np_sig_thread *b)
{
	size_t n = role_len(a->comm);

	return n == role_len(b->comm) && !strncmp(a->comm, b->comm, n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A thread's busy time (on a CPU or waiting on the run queue for one) over
 * its time in the window: a worker that always has work is saturated
 * whether it runs or waits, and on a shared host its on-CPU time alone
 * falls with other work's load (68-80% for a worker that never idled).
 * Threads that lived less than half the window (started or ended during it)
 * are not workers the load could have gone to all along. */
static bool worker_share(const struct np_signals *s, const struct np_sig_thread *t, double *v)
{
	if (!t->have_sched || !t->window_ns || t->window_ns < s->duration_ns / 2)
		return false;
	*v = share(t->on_cpu_ns + t->runnable_ns, t->window_ns);
	if (*v > 1)
		*v = 1;
	return true;
}

/* One worker saturated while its siblings of the same role idle.  Siblings
 * are compared with their median without the busy one, so that two workers
 * are enough; with only two, both must have done network work, so that a
 * master (which shares the workers' name but serves nothing) and its one
 * busy worker are not taken for an imbalance. */
static bool m_imbalance(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	double *others;
	bool any_group = false;
	char w[96];

	(void)t;
	if (!s->n_threads)
		return false;
	others = calloc(s->n_threads, sizeof(*others));
	if (!others)
		return false;
	m->value = 0;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct np_sig_thread *busy = &s->threads[i];
		size_t n = 0, service = 1;
		double bv, med;

		if (!worker_share(s, busy, &bv) || !np_signals_thread_is_service(busy))
			continue;
		for (size_t j = 0; j < s->n_threads; j++) {
			const struct np_sig_thread *o = &s->threads[j];
			double ov;

			if (j == i || !same_role(busy, o) || !worker_share(s, o, &ov))
				continue;
			/* the busiest of its role only; ties go to the first */
			if (ov > bv || (ov == bv && j < i))
				goto next;
			others[n++] = ov;
			service += np_signals_thread_is_service(o);
		}
		if (!n || (n == 1 && service < 2))
			continue;
		any_group = true;
		qsort(others, n, sizeof(*others), cmp_double);
		med = n % 2 ? others[n / 2] : (others[n / 2 - 1] + others[n / 2]) / 2;
		if (med >= bv / 3 || bv <= m->value)
			continue;
		m->value = bv;
		thread_where(busy, w, sizeof(w));
		snprintf(m->where, sizeof(m->where), "%s", w);
		snprintf(m->summary, sizeof(m->summary),
			 "one worker is saturated while its siblings idle: %s is on CPU or "
			 "waiting for one %.0f%% of the time, the median of its %zu sibling%s "
			 "%.0f%%",
			 w, bv * 100.0, n, n == 1 ? "" : "s", med * 100.0);
		m->n_extra = 0;
		extra(m, "busiest_worker_on_cpu_share", share(busy->on_cpu_ns, busy->window_ns),
		      "share", w);
		extra(m, "sibling_median_busy_share", med, "share", "");
		extra(m, "siblings", (double)n, "count", "");
		extra(m, "busiest_worker_runnable_ns", (double)busy->runnable_ns, "ns", w);
next:;
	}
	free(others);
	return any_group;
}

/* A CFS quota throttles the cgroup: its runnable tasks wait for the next
 * period however idle the CPUs are.  Throttled time counts every runnable
 * task of the cgroup, so it is given per second of the window, not as a
 * share of it.  The finding needs the service to have waited: run-queue
 * time of its threads (throttled threads stay runnable), or, without the
 * scheduler's times, throttled time itself. */
static bool m_cpu_quota(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16], limit[64];
	double per_s, cpus;
	const char *file = s->quota_version == 1 ? "cpu.cfs_quota_us" : "cpu.max";

	if (!s->have_cpu_quota || s->quota_us == UINT64_MAX || !s->quota_period_us ||
	    s->quota_periods < 10 || !s->duration_ns)
		return false;
	m->value = share(s->quota_throttled, s->quota_periods);
	per_s = (double)s->quota_throttled_ns * 1e9 / (double)s->duration_ns;
	cpus = (double)s->quota_us / (double)s->quota_period_us;
	if (t->have_sched && t->thread_ns)
		m->cap_info = ratio(t->runnable_ns, t->thread_ns) < BUSY_GATE;
	else
		m->cap_info = per_s < BUSY_GATE * 1e9;
	pct(p, sizeof(p), m->value);
	snprintf(limit, sizeof(limit), "%" PRIu64 " us of every %" PRIu64 " us (%.2f CPUs)",
		 s->quota_us, s->quota_period_us, cpus);
	snprintf(m->where, sizeof(m->where), "cgroup %.120s", s->quota_cgroup);
	snprintf(m->summary, sizeof(m->summary),
		 "the cgroup's CPU limit, %s, throttled the service in %" PRIu64 " of %" PRIu64
		 " periods (%s), %.0f ms a second: it waits for its next quota period, not for "
		 "other work",
		 limit, s->quota_throttled, s->quota_periods, p, per_s / 1e6);
	extra(m, "cpu_quota_us", (double)s->quota_us, "us", file);
	extra(m, "cpu_period_us", (double)s->quota_period_us, "us",
	      s->quota_version == 1 ? "cpu.cfs_period_us" : "cpu.max");
	extra(m, "nr_throttled", (double)s->quota_throttled, "count", "");
	extra(m, "throttled_ns_per_s", per_s, "ns", "");
	snprintf(m->advice, sizeof(m->advice),
		 "cat %s and cpu.stat of {where}: the limit allows %.2f CPUs. Raise or remove it "
		 "(%s%s), or lower the service's CPU work.",
		 file, cpus,
		 s->quota_version == 1 ? "echo -1 > cpu.cfs_quota_us, or a larger value"
				       : "echo 'max 100000' > cpu.max, or a larger quota",
		 "; for a container, its --cpus or CPU limit");
	return true;
}

/* --- stack -------------------------------------------------------------- */

/* The accept queue's limit is min(listen() backlog, net.core.somaxconn),
 * taken when listen() was called: the limit sock_diag reports is that
 * minimum, so below somaxconn it is what the application asked for, and at
 * somaxconn the application asked for that much or more.  Which of the two
 * binds says which one to raise. */
static void effective_backlog(const struct np_signals *s, char *text, size_t len, char *advice,
			      size_t alen)
{
	uint64_t n = s->acceptq_limit, smax = s->somaxconn;
	static const char check[] = "nstat -az TcpExtListenOverflows TcpExtListenDrops; ss -ltn "
				    "(Recv-Q = accept queue, Send-Q = its limit) for {where}. ";

	if (!s->have_listen || !n)
		return;
	if (!s->have_backlog_config || !smax) {
		snprintf(text, len, "effective backlog %" PRIu64 " (somaxconn unknown)", n);
		return;
	}
	if (n < smax) {
		snprintf(text, len,
			 "effective backlog %" PRIu64 " (listen() asked for %" PRIu64
			 ", somaxconn %" PRIu64 ")",
			 n, n, smax);
		snprintf(advice, alen,
			 "%sThe application's listen() backlog (%" PRIu64
			 ") is the limit: raise it (net.core.somaxconn allows up to %" PRIu64
			 "; it applies at the next listen()), and accept faster.",
			 check, n, smax);
	} else if (n == smax) {
		snprintf(text, len,
			 "effective backlog %" PRIu64 " (listen() asked for %" PRIu64
			 " or more, somaxconn %" PRIu64 "): capped by net.core.somaxconn",
			 n, n, smax);
		snprintf(advice, alen,
			 "%snet.core.somaxconn (%" PRIu64
			 ") is the limit: raise it and the application's listen() backlog "
			 "together (the kernel takes the smaller, at the next listen()), and "
			 "accept faster.",
			 check, smax);
	} else {
		/* somaxconn was lowered after the listener was created */
		snprintf(text, len,
			 "effective backlog %" PRIu64 " (set at listen(); somaxconn is %" PRIu64
			 " now)",
			 n, smax);
	}
}

static bool m_listen_overflows(const struct np_signals *s, const struct np_sig_totals *t,
			       struct meas *m)
{
	char backlog[160] = "";

	(void)t;
	if (!s->have_tcp_counters)
		return false;
	/* ListenDrops counts every drop of a listener, overflows included */
	m->value = (double)(s->listen_drops > s->listen_overflows ? s->listen_drops
								  : s->listen_overflows);
	snprintf(m->where, sizeof(m->where), "%s", s->listen_where);
	effective_backlog(s, backlog, sizeof(backlog), m->advice, sizeof(m->advice));
	snprintf(m->summary, sizeof(m->summary),
		 "the accept queue overflowed: %" PRIu64 " ListenOverflows, %" PRIu64
		 " ListenDrops%s%s",
		 s->listen_overflows, s->listen_drops, backlog[0] ? "; " : "", backlog);
	if (s->have_listen) {
		extra(m, "accept_q_peak", (double)s->acceptq_peak, "count", s->listen_where);
		extra(m, "accept_q_limit", (double)s->acceptq_limit, "count", s->listen_where);
	}
	if (s->have_backlog_config)
		extra(m, "somaxconn", (double)s->somaxconn, "count", "net.core.somaxconn");
	return true;
}

static bool m_backlog_at_somaxconn(const struct np_signals *s, const struct np_sig_totals *t,
				   struct meas *m)
{
	(void)t;
	if (!s->have_backlog_config || !s->somaxconn)
		return false;
	m->value = ratio(s->backlog_limit, s->somaxconn);
	snprintf(m->where, sizeof(m->where), "%s", s->backlog_where);
	snprintf(m->summary, sizeof(m->summary),
		 "the accept queue of %s is capped at net.core.somaxconn (%" PRIu64
		 "): the application's listen() backlog was clamped to it",
		 s->backlog_where, s->somaxconn);
	extra(m, "accept_q_limit", (double)s->backlog_limit, "count", s->backlog_where);
	return true;
}

static bool m_buffer_limited(const struct np_signals *s, const struct np_sig_totals *t,
			     struct meas *m)
{
	char p[16];

	(void)t;
	if (!s->have_sockets || !s->busy_ns)
		return false;
	m->value = share(s->sndbuf_limited_ns, s->busy_ns);
	pct(p, sizeof(p), m->value);
	snprintf(m->summary, sizeof(m->summary),
		 "connections are limited by their send buffer %s of their busy time", p);
	return true;
}

static bool m_socket_drops(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	uint64_t counters = 0, reasons = 0;
	bool tcp, udp;

	(void)t;
	if (!s->have_tcp_counters && !s->have_drop_reasons)
		return false;
	if (s->have_tcp_counters)
		counters = s->prune_called + s->rcvq_drops + s->backlog_drops + s->ofo_pruned;
	if (s->have_drop_reasons)
		reasons = s->drops_rcvbuf + s->drops_backlog;
	m->value = (double)(counters > reasons ? counters : reasons);
	snprintf(m->summary, sizeof(m->summary),
		 "sockets dropped or pruned data for lack of buffer space (%.0f times)", m->value);
	/* tcp_rmem sizes TCP's buffers only: a UDP socket's is SO_RCVBUF,
	 * up to rmem_max, or rmem_default without it.  The protocol is the
	 * one whose counters or sockets show the drops. */
	tcp = counters || s->sock_drops_tcp;
	udp = (s->have_udp_counters && s->udp_rcvbuf_errors) || s->sock_drops_udp;
	if (udp && !tcp) {
		snprintf(m->where, sizeof(m->where), "%s", s->udp_drops_where);
		snprintf(m->summary, sizeof(m->summary),
			 "UDP sockets dropped datagrams for lack of receive buffer space (%.0f "
			 "times)",
			 m->value);
		snprintf(m->advice, sizeof(m->advice),
			 "nstat -az UdpRcvbufErrors Udp6RcvbufErrors; ss -uamp (skmem: rb = the "
			 "buffer, d = drops) for {where|the service's UDP sockets}. Raise the "
			 "socket's buffer with SO_RCVBUF, up to net.core.rmem_max "
			 "(net.core.rmem_default is what a socket gets without SO_RCVBUF), and "
			 "read faster.");
	} else if (udp) {
		snprintf(m->advice, sizeof(m->advice),
			 "nstat -az TcpExtPruneCalled TcpExtTCPRcvQDrop TcpExtTCPBacklogDrop "
			 "UdpRcvbufErrors; ss -tmi and ss -uamp (skmem rb, d). TCP: raise "
			 "net.ipv4.tcp_rmem / net.core.rmem_max. UDP: SO_RCVBUF, up to "
			 "net.core.rmem_max (net.core.rmem_default without it). And read "
			 "faster.");
	}
	if (s->have_udp_counters && s->udp_rcvbuf_errors)
		extra(m, "UdpRcvbufErrors", (double)s->udp_rcvbuf_errors, "count", "");
	if (s->have_tcp_counters) {
		extra(m, "TcpExtPruneCalled", (double)s->prune_called, "count", "");
		extra(m, "TcpExtTCPRcvQDrop", (double)s->rcvq_drops, "count", "");
		extra(m, "TcpExtTCPBacklogDrop", (double)s->backlog_drops, "count", "");
	}
	return true;
}

static bool m_retrans_ratio(const struct np_signals *s, const struct np_sig_totals *t,
			    struct meas *m)
{
	char p[16];
	uint64_t lost = s->retrans_segs -
			(s->dsack_segs < s->retrans_segs ? s->dsack_segs : s->retrans_segs);

	(void)t;
	if (!s->have_tcp_counters || s->out_segs < 100)
		return false;
	/* OutSegs leaves retransmitted segments out (RFC 1213's tcpOutSegs,
	 * and Linux counts it so): the segments sent are both together.  A
	 * retransmission the peer reports it already had (DSACK) lost nothing:
	 * an ACK came late, or segments were reordered. */
	m->value = share(lost, s->out_segs + s->retrans_segs);
	snprintf(p, sizeof(p), "%.2f%%", m->value * 100.0);
	if (s->dsack_segs)
		snprintf(m->summary, sizeof(m->summary),
			 "%" PRIu64 " of the %" PRIu64
			 " TCP segments sent were retransmissions of lost data (%s); %" PRIu64
			 " more were spurious (the peer had them: DSACK)",
			 lost, s->out_segs + s->retrans_segs, p, s->retrans_segs - lost);
	else
		snprintf(m->summary, sizeof(m->summary),
			 "%" PRIu64 " of the %" PRIu64
			 " TCP segments sent were retransmissions (%s)",
			 s->retrans_segs, s->out_segs + s->retrans_segs, p);
	extra(m, "TcpRetransSegs", (double)s->retrans_segs, "count", "");
	if (s->dsack_segs)
		extra(m, "TcpExtTCPDSACKRecvSegs", (double)s->dsack_segs, "count", "");
	if (s->loss_probes)
		extra(m, "TcpExtTCPLossProbes", (double)s->loss_probes, "count", "");
	return true;
}

static bool m_tcp_timeouts(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	(void)t;
	if (!s->have_tcp_counters)
		return false;
	m->value = (double)s->tcp_timeouts;
	snprintf(m->summary, sizeof(m->summary),
		 "%" PRIu64 " TCP retransmission timeouts (RTO): each stalls a connection for "
		 "at least 200 ms",
		 s->tcp_timeouts);
	return true;
}

static bool m_socket_retrans(const struct np_signals *s, const struct np_sig_totals *t,
			     struct meas *m)
{
	(void)t;
	if (!s->have_sockets)
		return false;
	/* tcp_info has no per-socket DSACK count in what is recorded: the
	 * namespace's spurious share stands for the service's */
	m->value = (double)s->sock_retrans * (1.0 - s->spurious_share);
	snprintf(m->where, sizeof(m->where), "%s", s->retrans_where);
	if (s->dsack_segs)
		snprintf(m->summary, sizeof(m->summary),
			 "the service's own connections retransmitted %" PRIu64
			 " segments; %.0f%% of the namespace's retransmissions were spurious "
			 "(DSACK), so about %.0f carried lost data",
			 s->sock_retrans, s->spurious_share * 100.0, m->value);
	else
		snprintf(m->summary, sizeof(m->summary),
			 "the service's own connections retransmitted %" PRIu64 " segments",
			 s->sock_retrans);
	return true;
}

static const struct np_sig_iface *max_iface(const struct np_signals *s,
					    bool (*ok)(const struct np_sig_iface *),
					    uint64_t (*val)(const struct np_sig_iface *),
					    uint64_t *total)
{
	const struct np_sig_iface *best = NULL;

	*total = 0;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];

		if (!ok(f))
			continue;
		*total += val(f);
		if (!best || val(f) > val(best))
			best = f;
	}
	return best;
}

static bool has_qdisc(const struct np_sig_iface *f)
{
	return f->have_qdisc;
}

static uint64_t qdisc_drops(const struct np_sig_iface *f)
{
	return f->qdisc_drops;
}

static uint64_t qdisc_backlog(const struct np_sig_iface *f)
{
	return f->qdisc_backlog_max_pkts;
}

static bool m_qdisc_drops(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	uint64_t total;
	const struct np_sig_iface *f = max_iface(s, has_qdisc, qdisc_drops, &total);

	(void)t;
	if (!f)
		return false;
	m->value = (double)total;
	snprintf(m->where, sizeof(m->where), "%s", f->name);
	snprintf(m->summary, sizeof(m->summary),
		 "the %s qdisc on %s dropped %" PRIu64 " packets before the wire (%" PRIu64
		 " overlimits)",
		 f->qdisc_kind, f->name, f->qdisc_drops, f->qdisc_overlimits);
	extra(m, "qdisc_overlimits", (double)f->qdisc_overlimits, "count", f->name);
	return true;
}

static bool m_qdisc_backlog(const struct np_signals *s, const struct np_sig_totals *t,
			    struct meas *m)
{
	uint64_t total;
	const struct np_sig_iface *f = max_iface(s, has_qdisc, qdisc_backlog, &total);

	(void)t;
	if (!f)
		return false;
	m->value = (double)f->qdisc_backlog_max_pkts;
	snprintf(m->where, sizeof(m->where), "%s", f->name);
	snprintf(m->summary, sizeof(m->summary),
		 "packets queue in the %s qdisc on %s: backlog peaked at %" PRIu64
		 " packets (%" PRIu64 " bytes)",
		 f->qdisc_kind, f->name, f->qdisc_backlog_max_pkts, f->qdisc_backlog_max_bytes);
	return true;
}

/* Nagle's algorithm, not a qdisc or a window, held the transmit time: most
 * of the exchanges whose tx fell in the delayed-ACK band had a write held. */
static bool nagle_explains_tx(const struct np_signals *s)
{
	return s->exch_tx_ack_delay && s->exch_nagle_held * 2 >= s->exch_tx_ack_delay;
}

static bool m_tx_share(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16];
	uint64_t tx;

	(void)t;
	if (!s->have_exchanges || !s->exch_total_ns)
		return false;
	tx = s->exch_tx_seen_ns;
	m->value = share(tx, s->exch_total_ns);
	pct(p, sizeof(p), m->value);
	snprintf(m->summary, sizeof(m->summary),
		 "responses wait between the write and the packet leaving (qdisc, stack): %s of "
		 "request latency",
		 p);
	if (s->have_exch_qdisc) {
		extra(m, "tx_qdisc_share", share(s->exch_tx_qdisc_seen_ns, tx), "share", "");
		/* TCP, not the qdisc, held the data: after losses (congestion
		 * window) or for a slow reader (receive window) */
		if (share(s->exch_tx_qdisc_seen_ns, tx) < QDISC_PART_OF_TX) {
			m->cap_info = true;
			snprintf(m->summary, sizeof(m->summary),
				 "responses wait between the write and the packet leaving: %s of "
				 "request latency, nearly all of it held by TCP (%s), not in a "
				 "qdisc",
				 p,
				 nagle_explains_tx(s) ? "Nagle's algorithm: see stack.nagle"
						      : "congestion or receive window");
		}
	}
	return true;
}

/* Nagle against delayed ACKs: the response's tail waits in the send queue
 * for the ACK of its head, which the peer delays.  The value is the share
 * of exchanges whose tx fell in the delayed-ACK band, as far as held writes
 * can account for them (none held: no finding; a shaped link or a window
 * fills the band too).  It is the stall only when Nagle held writes in at
 * least half as many exchanges, and it matters only when the transmit time
 * is a tenth of the latency or more. */
static bool m_nagle(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	uint64_t stalled = s->exch_tx_ack_delay < s->exch_nagle_held ? s->exch_tx_ack_delay
								     : s->exch_nagle_held;
	double held, tx_share;
	char p[16], h[16], b[16];

	(void)t;
	if (!s->have_exchanges || !s->exch_tx_known || !s->exch_total_ns)
		return false;
	m->value = share(stalled, s->exch_tx_known);
	held = share(s->exch_nagle_held, s->exch_count);
	tx_share = share(s->exch_tx_seen_ns, s->exch_total_ns);
	m->cap_info = !nagle_explains_tx(s) || tx_share < 0.10;
	pct(p, sizeof(p), share(s->exch_tx_ack_delay, s->exch_tx_known));
	pct(h, sizeof(h), held);
	pct(b, sizeof(b), tx_share);
	if (!nagle_explains_tx(s))
		snprintf(m->summary, sizeof(m->summary),
			 "%s of responses left %.0f-%.0f ms after their last write, but Nagle's "
			 "algorithm held a small write in only %s of exchanges: most of that wait "
			 "is not a delayed ACK's",
			 p, NP_ACK_DELAY_MIN_NS / 1e6, NP_ACK_DELAY_MAX_NS / 1e6, h);
	else
		snprintf(
			m->summary, sizeof(m->summary),
			"%s of responses left %.0f-%.0f ms after their last write (median %.1f ms, "
			"%s of request latency), the wait for a peer's delayed ACK; %s had a small "
			"write held back by Nagle's algorithm (TCP_NODELAY off)",
			p, NP_ACK_DELAY_MIN_NS / 1e6, NP_ACK_DELAY_MAX_NS / 1e6,
			s->exch_tx_p50_ns / 1e6, b, h);
	extra(m, "nagle_held_share", held, "share", "");
	extra(m, "request_tx_p50_ns", (double)s->exch_tx_p50_ns, "ns", "");
	extra(m, "tx_share", tx_share, "share", "");
	return true;
}

static const struct np_sig_cpu *max_cpu(const struct np_signals *s, size_t off, uint64_t *total)
{
	const struct np_sig_cpu *best = NULL;

	*total = 0;
	for (size_t i = 0; i < s->n_cpus; i++) {
		const struct np_sig_cpu *c = &s->cpus[i];
		uint64_t v, bv;

		memcpy(&v, (const char *)c + off, sizeof(v));
		*total += v;
		if (best)
			memcpy(&bv, (const char *)best + off, sizeof(bv));
		if (!best || v > bv)
			best = c;
	}
	return best;
}

static bool m_softnet_drops(const struct np_signals *s, const struct np_sig_totals *t,
			    struct meas *m)
{
	uint64_t total;
	const struct np_sig_cpu *c;

	(void)t;
	if (!s->have_softirq || !s->n_cpus)
		return false;
	c = max_cpu(s, offsetof(struct np_sig_cpu, softnet_dropped), &total);
	m->value = (double)total;
	snprintf(m->where, sizeof(m->where), "CPU %u", c->cpu);
	snprintf(m->summary, sizeof(m->summary),
		 "the per-CPU input backlog dropped %" PRIu64 " packets (most on CPU %u)", total,
		 c->cpu);
	return true;
}

static bool m_time_squeeze(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	uint64_t total;
	const struct np_sig_cpu *c;

	(void)t;
	if (!s->have_softirq || !s->n_cpus || !s->duration_ns)
		return false;
	c = max_cpu(s, offsetof(struct np_sig_cpu, time_squeeze), &total);
	m->value = (double)total / ((double)s->duration_ns / 1e9);
	snprintf(m->where, sizeof(m->where), "CPU %u", c->cpu);
	snprintf(m->summary, sizeof(m->summary),
		 "NET_RX ran out of budget or time %.0f times a second (time_squeeze)", m->value);
	extra(m, "time_squeeze", (double)total, "count", "");
	return true;
}

static bool m_net_rx_saturation(const struct np_signals *s, const struct np_sig_totals *t,
				struct meas *m)
{
	uint64_t total;
	const struct np_sig_cpu *c;
	char p[16];

	(void)t;
	if (!s->have_softirq_time || !s->n_cpus || !s->duration_ns)
		return false;
	c = max_cpu(s, offsetof(struct np_sig_cpu, net_rx_ns), &total);
	/* The softirq time comes from cumulative snapshots whose span can
	 * pass the window's ends by part of a poll. */
	m->value = share(c->net_rx_ns, s->duration_ns);
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "CPU %u", c->cpu);
	snprintf(m->summary, sizeof(m->summary), "CPU %u spends %s of the time in NET_RX softirq",
		 c->cpu, p);
	return true;
}

static bool m_net_rx_imbalance(const struct np_signals *s, const struct np_sig_totals *t,
			       struct meas *m)
{
	uint64_t total;
	const struct np_sig_cpu *c;
	bool rps_known = false, rps_on = false, by_time = s->have_softirq_time;
	const char *iface = "";
	size_t off;
	char p[16];

	(void)t;
	if (!s->have_softirq || s->n_cpus < 2 || !s->duration_ns)
		return false;
	/* RPS matters on the NIC-layer interfaces that received the traffic
	 * (loopback traffic is processed by the CPU that sent it). */
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];

		if (!f->have_rps || !f->nic_layer || !f->have_link || f->rx_pkts < 1000)
			continue;
		rps_known = true;
		rps_on |= f->rps_on;
		if (!*iface)
			iface = f->name;
	}
	if (!rps_known || rps_on)
		return false; /* RPS on, or unknown: not this configuration problem */
	/* The work: NET_RX time when the softirq tracepoints measured it,
	 * otherwise the packets each CPU's NET_RX processed (softnet_stat). */
	off = by_time ? offsetof(struct np_sig_cpu, net_rx_ns)
		      : offsetof(struct np_sig_cpu, processed_pkts);
	c = max_cpu(s, off, &total);
	if (!total)
		return false;
	/* Only a real load: that CPU at least 10% of the time in NET_RX (or,
	 * without its time, in softirqs of any kind). */
	if (by_time ? ratio(c->net_rx_ns, s->duration_ns) < 0.10
		    : ratio(c->softirq_ns, s->duration_ns) < 0.10)
		return false;
	m->value = by_time ? ratio(c->net_rx_ns, total) : ratio(c->processed_pkts, total);
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "CPU %u", c->cpu);
	snprintf(m->summary, sizeof(m->summary),
		 "CPU %u does %s of all NET_RX work (%s) and RPS is off on %s", c->cpu, p,
		 by_time ? "softirq time" : "packets processed", iface);
	extra(m, "rps_enabled", 0, "bool", iface);
	extra(m, "softirq_share", share(c->softirq_ns, s->duration_ns), "share", m->where);
	return true;
}

/* Network softirq on the service's CPUs is a fact, not a cause, when that
 * CPU spends under a tenth of the time the service leaves it in NET_RX/
 * NET_TX (at most info); and when the service lost under a hundredth of
 * the window to it there is nothing to report at all: a few wakeups
 * behind a softirq are the normal cost of receiving packets. */
#define STEAL_MIN_CPU_SHARE 0.10
#define STEAL_MIN_LOST_SHARE 0.005

static void steering_text(const struct np_signals *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_steering && used < len; i++) {
		const struct np_sig_steering *st = &s->steering[i];
		int n = snprintf(buf + used, len - used, "%s%s of %s", i ? "; " : "",
				 strcmp(st->what, "irq") ? st->what : "the interrupts of",
				 st->where);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	/* RFS moves receive work to where the socket's reader last ran */
	if (s->steal_have_rfs && s->steal_rfs_on && used < len)
		snprintf(buf + used, len - used, "%sRFS (rps_sock_flow_entries)", used ? "; " : "");
}

static const struct np_sig_cpu *steal_cpu(const struct np_signals *s)
{
	for (size_t i = 0; i < s->n_cpus; i++)
		if (s->cpus[i].cpu == s->steal_cpu)
			return &s->cpus[i];
	return NULL;
}

static bool m_service_softirq(const struct np_signals *s, const struct np_sig_totals *t,
			      struct meas *m)
{
	const struct np_sig_cpu *c;
	uint64_t busy = t->on_cpu_ns + t->runnable_ns, lost;
	char p[16], q[16], steer[200];
	const struct np_sig_steering *first = s->n_steering ? &s->steering[0] : NULL;

	if (!s->have_softirq_steal || !t->have_sched || !busy || !s->duration_ns)
		return false;
	c = steal_cpu(s);
	if (!c)
		return false;
	lost = s->steal_interrupted_ns + s->steal_runq_ns;
	if (ratio(lost, s->duration_ns) < STEAL_MIN_LOST_SHARE)
		return false;
	m->value = share(lost, busy);
	m->cap_info = c->net_share_of_others < STEAL_MIN_CPU_SHARE;
	pct(p, sizeof(p), m->value);
	pct(q, sizeof(q), c->net_share_of_others);
	snprintf(m->where, sizeof(m->where), "CPU %u", c->cpu);
	steering_text(s, steer, sizeof(steer));
	snprintf(m->summary, sizeof(m->summary),
		 "network softirq takes %s of the service's busy time: on CPU %u, %s of the "
		 "time the service leaves it is NET_RX/NET_TX work; the service was "
		 "interrupted %.0f ms and waited %.0f ms behind it%s%s",
		 p, c->cpu, q, (double)s->steal_interrupted_ns / 1e6,
		 (double)s->steal_runq_ns / 1e6, *steer ? "; steered there by " : "", steer);
	extra(m, "cpu_net_softirq_share", c->net_share_of_others, "share", m->where);
	if (s->steal_have_samples)
		extra(m, "interrupted_ns", (double)s->steal_interrupted_ns, "ns", m->where);
	extra(m, "runqueue_softirq_ns", (double)s->steal_runq_ns, "ns", m->where);
	for (size_t i = 0; i < s->n_steering && i < 2; i++)
		extra(m, s->steering[i].what, (double)s->steering[i].value,
		      strcmp(s->steering[i].what, "irq") ? "cpus" : "count", s->steering[i].where);
	if (s->steal_have_rfs)
		extra(m, "rfs_enabled", s->steal_rfs_on, "bool", "rps_sock_flow_entries");
	if (first && strcmp(first->what, "irq"))
		snprintf(m->advice, sizeof(m->advice),
			 "Move the steering or the service: %s (%s) puts network work on CPU %u "
			 "where the service runs: write a mask without CPU %u to "
			 "/sys/class/net/IFACE/queues/%s, or pin the service to other CPUs "
			 "(taskset -apc CPUS {pid}, a cpuset); mpstat -P ALL 1 shows %%soft per "
			 "CPU.",
			 first->what, first->where, c->cpu, c->cpu,
			 strcmp(first->what, "rps_cpus") ? "tx-Q/xps_cpus" : "rx-Q/rps_cpus");
	else if (first)
		snprintf(m->advice, sizeof(m->advice),
			 "Move the steering or the service: %s fires on CPU %u where the service "
			 "runs: set /proc/irq/N/smp_affinity_list to CPUs the service does not use "
			 "(and stop irqbalance moving it back), or pin the service to other CPUs "
			 "(taskset -apc CPUS {pid}, a cpuset); mpstat -P ALL 1 shows %%soft per "
			 "CPU.",
			 first->where, c->cpu);
	return true;
}

static bool m_netfilter_drops(const struct np_signals *s, const struct np_sig_totals *t,
			      struct meas *m)
{
	(void)t;
	if (!s->have_drop_reasons)
		return false;
	m->value = (double)s->drops_netfilter;
	snprintf(m->summary, sizeof(m->summary), "netfilter dropped %" PRIu64 " packets",
		 s->drops_netfilter);
	return true;
}

static bool m_conntrack_fill(const struct np_signals *s, const struct np_sig_totals *t,
			     struct meas *m)
{
	char p[16];

	(void)t;
	if (!s->have_conntrack || !s->conntrack_max)
		return false;
	/* The table counts an entry before it checks the limit (and evicts):
	 * its count can pass the maximum by the entries being inserted. */
	m->value = share(s->conntrack_peak, s->conntrack_max);
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "nf_conntrack");
	snprintf(m->summary, sizeof(m->summary),
		 "the conntrack table is %s full (%" PRIu64 " of %" PRIu64 " entries)", p,
		 s->conntrack_peak, s->conntrack_max);
	if (s->conntrack_drops)
		extra(m, "conntrack_drops", (double)s->conntrack_drops, "count", "nf_conntrack");
	return true;
}

static bool m_kernel_net_share(const struct np_signals *s, const struct np_sig_totals *t,
			       struct meas *m)
{
	char p[16], q[16];

	if (!t->have_sched || !t->on_cpu_ns || !t->thread_ns)
		return false;
	m->value = share(t->kernel_net_ns, t->on_cpu_ns);
	/* A mostly idle service is not CPU-bound, whatever the split. */
	m->cap_info = ratio(t->on_cpu_ns, t->thread_ns) < 0.5;
	pct(p, sizeof(p), m->value);
	pct(q, sizeof(q), ratio(t->on_cpu_ns, t->thread_ns));
	snprintf(m->summary, sizeof(m->summary),
		 "the kernel network stack takes %s of the service's CPU time (on CPU %s of "
		 "the time)%s",
		 p, q,
		 t->cpu_split_estimated ? "; estimated from time in non-blocking socket calls"
					: "");
	if (s->have_cpu_samples && s->cpu_samples)
		extra(m, "softirq_sample_share", ratio(s->cpu_softirq_samples, s->cpu_samples),
		      "share", "");
	return true;
}

static bool m_offloads_off(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	const struct np_sig_iface *worst = NULL;
	int worst_off = 0;
	char list[64] = "";

	(void)t;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];
		int off;

		/* Only interfaces that carried the traffic; GRO only on real NICs
		 * (veth has it off by default, for good reasons). */
		if (!f->have_offloads || !f->have_link || f->rx_pkts + f->tx_pkts < 1000)
			continue;
		off = !f->tso + !f->gso + !f->rx_csum + !f->tx_csum + (f->hardware && !f->gro);
		if (off > worst_off) {
			worst_off = off;
			worst = f;
		}
	}
	if (!worst)
		return false;
	snprintf(list, sizeof(list), "%s%s%s%s%s", worst->tso ? "" : " tso",
		 worst->gso ? "" : " gso", worst->hardware && !worst->gro ? " gro" : "",
		 worst->rx_csum ? "" : " rx-checksum", worst->tx_csum ? "" : " tx-checksum");
	m->value = worst_off;
	snprintf(m->where, sizeof(m->where), "%s", worst->name);
	snprintf(m->summary, sizeof(m->summary), "offloads are off on %s:%s", worst->name, list);
	return true;
}

/* --- NIC: the NIC-layer interfaces only (hardware NICs, and the device end
 * of veth and tun/tap, whose driver drops stand for a NIC's), and only the
 * driver's and the link's own counters, so that drops of the software path
 * (softnet backlog, qdisc, netfilter, sockets) never make a nic.* finding. */

static uint64_t softnet_total(const struct np_signals *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n_cpus; i++)
		n += s->cpus[i].softnet_dropped;
	return n;
}

static uint64_t nic_rx_drops_of(const struct np_signals *s, const struct np_sig_iface *f,
				uint64_t *softnet_left)
{
	uint64_t n = 0;

	if (f->have_link) {
		n += f->rx_missed;
		/* rx_dropped also counts the stack's own backlog drops: only the
		 * part that softnet_stat does not explain is the NIC's, and only
		 * when softnet_stat is known. */
		if (s->have_softirq) {
			uint64_t explained = f->rx_dropped < *softnet_left ? f->rx_dropped
									   : *softnet_left;

			n += f->rx_dropped - explained;
			*softnet_left -= explained;
		}
	}
	if (f->have_driver)
		n += f->driver_rx_drops;
	return n;
}

static bool m_nic_rx_drops(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	uint64_t total = 0, best_n = 0, softnet = softnet_total(s);
	const struct np_sig_iface *best = NULL;
	bool known = false;

	(void)t;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];
		uint64_t n;

		if (!f->nic_layer || (!f->have_link && !f->have_driver))
			continue;
		known = true;
		n = nic_rx_drops_of(s, f, &softnet);
		total += n;
		if (!best || n > best_n) {
			best = f;
			best_n = n;
		}
	}
	if (!known)
		return false;
	m->value = (double)total;
	snprintf(m->where, sizeof(m->where), "%s", best->name);
	if (best->driver_top[0] && best->driver_rx_drops)
		snprintf(m->summary, sizeof(m->summary),
			 "the NIC or its driver dropped %" PRIu64
			 " received packets (most on %s, %s)",
			 total, best->name, best->driver_top);
	else
		snprintf(m->summary, sizeof(m->summary),
			 "the NIC or its driver dropped %" PRIu64
			 " received packets (most on %s: ring full, missed, no buffer)",
			 total, best->name);
	if (best->have_link && best->rx_missed)
		extra(m, "rx_missed_errors", (double)best->rx_missed, "count", best->name);
	if (best->have_driver) {
		char where[NP_SIG_NAME_LEN * 2];

		snprintf(where, sizeof(where), "%s%s%s", best->name, best->driver_top[0] ? " " : "",
			 best->driver_top);
		extra(m, "driver_rx_drops", (double)best->driver_rx_drops, "count", where);
	}
	return true;
}

static bool m_nic_errors(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	uint64_t total = 0, best_n = 0;
	const struct np_sig_iface *best = NULL;

	(void)t;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];
		uint64_t n;

		if (!f->nic_layer || !f->have_link)
			continue;
		n = f->rx_errors + f->tx_errors + (f->have_driver ? f->tx_timeouts : 0);
		total += n;
		if (!best || n > best_n) {
			best = f;
			best_n = n;
		}
	}
	if (!best)
		return false;
	m->value = (double)total;
	snprintf(m->where, sizeof(m->where), "%s", best->name);
	snprintf(m->summary, sizeof(m->summary),
		 "%s reports %" PRIu64 " link or driver errors (rx %" PRIu64 ", tx %" PRIu64 ")",
		 best->name, total, best->rx_errors, best->tx_errors);
	return true;
}

static bool m_carrier(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	const struct np_sig_iface *best = NULL;

	(void)t;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct np_sig_iface *f = &s->ifaces[i];

		if (f->nic_layer && f->have_link &&
		    (!best || f->carrier_changes > best->carrier_changes))
			best = f;
	}
	if (!best)
		return false;
	m->value = (double)best->carrier_changes;
	snprintf(m->where, sizeof(m->where), "%s", best->name);
	snprintf(m->summary, sizeof(m->summary), "the link on %s went down or up %" PRIu64 " times",
		 best->name, best->carrier_changes);
	return true;
}

/* --- peer --------------------------------------------------------------- */

/* Local queues with data mean the wait is the application's, not the peer's. */
static bool local_queues_busy(const struct np_signals *s)
{
	return (s->have_sockets && s->recvq_rcvbuf_bytes &&
		ratio(s->recvq_peak_bytes, s->recvq_rcvbuf_bytes) >= 0.5) ||
	       (s->have_listen && s->acceptq_limit &&
		ratio(s->acceptq_peak, s->acceptq_limit) >= 0.8);
}

/* The slowest operation on a peer in words ("redis GET p99 35 ms at
 * 127.0.0.1:6379"), and as evidence unless the other rule of the finding
 * gives it already (the evidence of both rules is listed). */
static void slowest_op(const struct np_signals *s, struct meas *m, bool evidence)
{
	char where[NP_SIG_NAME_LEN * 2], p99[32];
	double ms = (double)s->slowest_op_p99_ns / 1e6;
	size_t used;

	if (!s->have_slowest_op)
		return;
	if (ms >= 10)
		snprintf(p99, sizeof(p99), "%.0f ms", ms);
	else if (ms >= 0.1)
		snprintf(p99, sizeof(p99), "%.1f ms", ms);
	else
		snprintf(p99, sizeof(p99), "%.0f us", ms * 1e3);
	snprintf(where, sizeof(where), "%.60s to %.60s",
		 s->slowest_op[0] ? s->slowest_op : "requests", s->slowest_op_peer);
	if (evidence)
		extra(m, "slowest_upstream_p99", (double)s->slowest_op_p99_ns, "ns", where);
	used = strlen(m->summary);
	snprintf(m->summary + used, sizeof(m->summary) - used, "; slowest: %.60s p99 %s at %.60s",
		 s->slowest_op[0] ? s->slowest_op : "requests", p99, s->slowest_op_peer);
}

/* Replies that come in two parts a delayed ACK apart: the peer writes a
 * reply in two writes with Nagle on, and its second waits for our ACK of
 * the first.  Said when they are at least this share of the outbound
 * exchanges (and a handful). */
#define REPLY_PARTS_SHARE 0.25
#define REPLY_PARTS_MIN 5

static void reply_parts_note(const struct np_signals *s, struct meas *m, bool evidence)
{
	size_t len = strlen(m->summary);

	if (s->exch_reply_parts_ack_delay < REPLY_PARTS_MIN ||
	    ratio(s->exch_reply_parts_ack_delay, s->exch_outbound_count) < REPLY_PARTS_SHARE)
		return;
	snprintf(m->summary + len, sizeof(m->summary) - len,
		 "; the upstream's replies arrive in two parts ~%.0f ms apart (%" PRIu64
		 " of %" PRIu64 ")",
		 (double)s->exch_reply_part_p50_ns / 1e6, s->exch_reply_parts_ack_delay,
		 s->exch_outbound_count);
	if (evidence) {
		extra(m, "replies_in_two_parts", (double)s->exch_reply_parts_ack_delay, "count",
		      m->where);
		extra(m, "reply_part_gap_p50_ns", (double)s->exch_reply_part_p50_ns, "ns",
		      m->where);
	}
	snprintf(m->advice, sizeof(m->advice),
		 "The peer (%s) writes each reply in two parts with Nagle's algorithm on, so "
		 "the second waits for this host's delayed ACK of the first: set TCP_NODELAY "
		 "on the peer's sockets, or have it send each reply in one write (writev, "
		 "TCP_CORK).",
		 m->where[0] ? m->where : "the upstream");
}

static bool m_peer_share(const struct np_signals *s, const struct np_sig_totals *t, struct meas *m)
{
	char p[16];

	(void)t;
	if (!s->have_exchanges || !s->exch_total_ns)
		return false;
	m->value = share(s->exch_peer_ns, s->exch_total_ns);
	m->cap_info = local_queues_busy(s);
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "%s", s->outbound_peer);
	snprintf(m->summary, sizeof(m->summary),
		 "requests wait on outbound calls to peers for %s of their latency", p);
	extra(m, "outbound_exchanges", (double)s->exch_outbound_count, "count", "");
	reply_parts_note(s, m, true);
	slowest_op(s, m, true);
	return true;
}

static bool m_outbound_wait(const struct np_signals *s, const struct np_sig_totals *t,
			    struct meas *m)
{
	char p[16];

	if (!t->have_sched || !t->thread_ns)
		return false;
	m->value = share(t->outbound_wait_ns, t->thread_ns);
	m->cap_info = local_queues_busy(s);
	pct(p, sizeof(p), m->value);
	snprintf(m->where, sizeof(m->where), "%s", s->outbound_peer);
	snprintf(m->summary, sizeof(m->summary),
		 "the service's threads are blocked on connections to peers %s of the time%s%s", p,
		 s->outbound_peer[0] ? ", most on " : "", s->outbound_peer);
	if (s->outbound_peer[0])
		extra(m, "peer_wait_ns", (double)s->outbound_peer_ns, "ns", s->outbound_peer);
	/* m_peer_share measures too when served exchanges were seen */
	reply_parts_note(s, m, !s->have_exchanges || !s->exch_total_ns);
	slowest_op(s, m, !s->have_exchanges || !s->exch_total_ns);
	return true;
}

static bool m_rwnd_limited(const struct np_signals *s, const struct np_sig_totals *t,
			   struct meas *m)
{
	char p[16];

	(void)t;
	if (!s->have_sockets || !s->busy_ns)
		return false;
	m->value = share(s->rwnd_limited_ns, s->busy_ns);
	pct(p, sizeof(p), m->value);
	snprintf(m->summary, sizeof(m->summary),
		 "peers' receive windows limit the service's sends %s of the time: the peers "
		 "read slowly",
		 p);
	return true;
}

/* --- the table ---------------------------------------------------------- */

#define NOW NP_W_COUNT /* no per-window counterpart */

static const struct rule rules[] = {
	{
		.cause = "app.cpu",
		.metric = "app_cpu_share",
		.unit = "share",
		.info = 0.30,
		.warn = 0.60,
		.crit = 0.85,
		.wnum = NP_W_APP_CPU_NS,
		.wden = NP_W_THREAD_NS,
		.wmin = 0.60,
		.measure = m_app_cpu,
		.condition = "on-CPU time in application code / service threads' time",
		.advice = "Profile the hot path: perf top -p {pid} (or the flame graph of the HTML "
			  "report); hottest: {where}. Optimise it, or add worker threads if CPUs "
			  "are free.",
		.loss = false,
	},
	{
		.cause = "app.blocked",
		.metric = "off_cpu_nonnet_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.25,
		.crit = 0.50,
		.wnum = NP_W_OFF_NONNET_NS,
		.wden = NP_W_THREAD_NS,
		.wmin = 0.25,
		.measure = m_app_blocked,
		.condition = "off-CPU time outside network waits (locks, disk, sleep) / service "
			     "threads' time; at most info while the off-CPU reasons are unknown",
		.advice = "Find what the threads wait on: the off-CPU flame graph of the HTML "
			  "report, cat /proc/{pid}/task/*/wchan, perf trace -s -p {pid}. Move "
			  "locks, disk I/O and sleeps out of the request path.",
		.loss = false,
	},
	{
		.cause = "app.backpressure",
		.metric = "queued_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.25,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_queued_share,
		.condition = "time requests waited in kernel queues before being read / request "
			     "latency; at most info while they wait less than the slow-call "
			     "threshold "
			     "each on average",
		.advice = "ss -tanpi shows Recv-Q growing while the application is busy: it reads "
			  "or accepts too slowly. Add workers, or move blocking work off the event "
			  "loop.",
		.loss = false,
	},
	{
		.cause = "app.backpressure",
		.metric = "recv_q_fill",
		.unit = "share",
		.info = 0.25,
		.warn = 0.50,
		.crit = 0.90,
		.wnum = NP_W_RECVQ_PEAK_BYTES,
		.wden = NP_W_RCVBUF_BYTES,
		.wmin = 0.25,
		.measure = m_recvq_fill,
		.condition = "peak receive queue of a service socket (Recv-Q or its memory, the "
			     "larger) / its receive buffer; at most info when data waited in fewer "
			     "than two polls",
		.advice = "ss -tanpi '( sport = :PORT )' for {where}: Recv-Q grows because the "
			  "application does not read fast enough. Add workers, or move blocking "
			  "work off the event loop.",
		.loss = false,
	},
	{
		.cause = "app.backpressure",
		.metric = "accept_q_fill",
		.unit = "share",
		.info = 0.50,
		.warn = 0.80,
		.crit = 1.00,
		.wnum = NP_W_ACCEPTQ_PEAK,
		.wden = NP_W_ACCEPTQ_LIMIT,
		.wmin = 0.50,
		.measure = m_acceptq_fill,
		.condition = "peak accept queue / its limit",
		.advice = "ss -ltn shows the accept queue (Recv-Q) of {where} filling: accept "
			  "faster (more acceptor threads, SO_REUSEPORT) or raise the backlog.",
		.loss = false,
	},
	{
		.cause = "app.imbalance",
		.metric = "busiest_worker_share",
		.unit = "share",
		.info = 0.50,
		.warn = 0.80,
		.crit = 0.95,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_imbalance,
		.condition = "on-CPU and run-queue time / lifetime of the busiest worker, when "
			     "the median of its siblings (threads or processes of the same "
			     "name up to a counter, alive half the window or more) is under a "
			     "third of it",
		.advice = "{where} does the work of its siblings: connections are not spread "
			  "over the workers. Balance accepts (SO_REUSEPORT, nginx reuseport or "
			  "accept_mutex), spread long-lived hot connections, or check the worker "
			  "count.",
		.loss = false,
	},
	{
		.cause = "host.cpu_contention",
		.metric = "runnable_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.25,
		.crit = 0.50,
		.wnum = NP_W_RUNNABLE_NS,
		.wden = NP_W_THREAD_NS,
		.wmin = 0.10,
		.measure = m_runnable,
		.condition = "run-queue time / (on-CPU + run-queue time) of service threads; at "
			     "most info when run-queue time is under 5% of their time or under 10% "
			     "of the served requests' latency less their time queued, or the "
			     "threads waited under 250 us a time on average (wakeup latency)",
		.advice = "mpstat -P ALL 1 and top -H: other work holds the CPUs. Give the service "
			  "more or dedicated CPUs (taskset, cpusets), or move the competing load.",
		.loss = false,
	},
	{
		.cause = "host.cpu_quota",
		.metric = "throttled_period_share",
		.unit = "share",
		.info = 0.05,
		.warn = 0.20,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_cpu_quota,
		.condition = "nr_throttled / nr_periods of the target's cgroup (cpu.stat, with a "
			     "quota set and 10 periods or more); at most info when the service's "
			     "threads were runnable under 5% of their time",
		.advice = "Raise or remove the CPU limit of {where} (cpu.max, cpu.cfs_quota_us).",
		.loss = false,
	},
	{
		.cause = "stack.listen_overflow",
		.metric = "listen_overflows",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_LISTEN_OVERFLOWS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_listen_overflows,
		.condition = "ListenDrops (which include ListenOverflows) during the recording",
		.advice = "nstat -az TcpExtListenOverflows TcpExtListenDrops; ss -ltn (Recv-Q = "
			  "accept queue, Send-Q = its limit) for {where}. Raise the listen() "
			  "backlog and net.core.somaxconn together, and accept faster.",
		.loss = true,
		.shared = NP_SHARED_LISTEN_DROPS,
	},
	{
		.cause = "stack.listen_overflow",
		.metric = "backlog_at_somaxconn",
		.unit = "ratio",
		.info = 1,
		.warn = 0,
		.crit = 0,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_backlog_at_somaxconn,
		.condition = "accept-queue limit of a listener / net.core.somaxconn: 1 when the "
			     "listen() backlog was clamped to somaxconn",
		.advice = "sysctl net.core.somaxconn: the kernel caps the listen backlog of "
			  "{where} to it; raise it (and the application's backlog) if connections "
			  "arrive in bursts.",
		.loss = false,
	},
	{
		.cause = "stack.socket_buffers",
		.metric = "sndbuf_limited_share",
		.unit = "share",
		.info = 0.05,
		.warn = 0.20,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_buffer_limited,
		.condition = "tcp_info sndbuf-limited time / busy time of the service's "
			     "connections",
		.advice = "ss -tmi: skmem and sndbuf_limited; raise net.ipv4.tcp_wmem (and "
			  "net.core.wmem_max) or SO_SNDBUF.",
		.loss = false,
	},
	{
		.cause = "stack.socket_buffers",
		.metric = "socket_buffer_drops",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_SOCKET_DROPS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_socket_drops,
		.condition = "PruneCalled + TCPRcvQDrop + TCPBacklogDrop + OfoPruned (or kfree_skb "
			     "SOCKET_RCVBUFF + SOCKET_BACKLOG drops)",
		.advice = "nstat -az TcpExtPruneCalled TcpExtTCPRcvQDrop TcpExtTCPBacklogDrop; ss "
			  "-tmi (skmem rb); raise net.ipv4.tcp_rmem / net.core.rmem_max or "
			  "SO_RCVBUF, and read faster.",
		.loss = true,
		.shared = NP_SHARED_SOCKET_DROPS,
	},
	{
		.cause = "stack.retransmits",
		.metric = "retrans_ratio",
		.unit = "ratio",
		.info = 0.001,
		.warn = 0.01,
		.crit = 0.05,
		.wnum = NP_W_RETRANS_SEGS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_retrans_ratio,
		.condition = "RetransSegs / (OutSegs + RetransSegs) (with at least 100 segments "
			     "sent)",
		.advice = "nstat -az TcpRetransSegs TcpExtTCPLossProbes; ss -ti (retrans, rtt, "
			  "cwnd per connection); look for loss on the path: ip -s link, ethtool "
			  "-S, tc -s qdisc.",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.retransmits",
		.metric = "tcp_timeouts",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 50,
		.wnum = NP_W_TCP_TIMEOUTS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_tcp_timeouts,
		.condition = "TCPTimeouts (retransmission timeouts) during the recording",
		.advice = "nstat -az TcpExtTCPTimeouts; ss -ti shows the connections in backoff; "
			  "find the loss (ip -s link, ethtool -S, tc -s qdisc, the peer).",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.retransmits",
		.metric = "socket_retrans",
		.unit = "count",
		.info = 1,
		.warn = 10,
		.crit = 100,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_socket_retrans,
		.condition = "segments retransmitted on the service's own connections (tcp_info)",
		.advice = "ss -ti for {where}: retrans, rtt and cwnd; find where packets are lost.",
		.loss = false,
	},
	{
		.cause = "stack.qdisc",
		.metric = "qdisc_drops",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_QDISC_DROPS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_qdisc_drops,
		.condition = "packets dropped by the interfaces' root qdiscs",
		.advice = "tc -s qdisc show dev {where}: drops, overlimits and backlog; a shaping "
			  "qdisc (tbf, htb) or a short limit drops before the wire.",
		.loss = true,
	},
	{
		.cause = "stack.qdisc",
		.metric = "qdisc_backlog_pkts",
		.unit = "packets",
		.info = 10,
		.warn = 100,
		.crit = 1000,
		.wnum = NP_W_QDISC_BACKLOG_PKTS,
		.wden = NOW,
		.wmin = 10,
		.measure = m_qdisc_backlog,
		.condition = "peak qdisc backlog in packets",
		.advice = "tc -s qdisc show dev {where}: a standing backlog is queueing delay "
			  "before the wire; check shaping rates and the qdisc's limit.",
		.loss = false,
	},
	{
		.cause = "stack.qdisc",
		.metric = "tx_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.25,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_tx_share,
		.condition = "time from the response write to the packet leaving / request "
			     "latency; "
			     "at most info when under 5% of it was below TCP (qdisc, device queue)",
		.advice = "tc -s qdisc show dev IFACE for the interface of the service's traffic: "
			  "qdisc backlog and shaping delay responses.",
		.loss = false,
	},
	{
		.cause = "stack.nagle",
		.metric = "tx_ack_delay_share",
		.unit = "share",
		.info = 0.05,
		.warn = 0.20,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_nagle,
		.condition =
			"exchanges whose transmit time (last write to the last segment "
			"leaving) is 30-500 ms, a peer's delayed ACK, up to the exchanges in "
			"which Nagle's algorithm held a write (TCP_NODELAY off, unacknowledged "
			"data in flight) / exchanges; at most info unless Nagle held writes in "
			"at least half as many exchanges as are in the band and the transmit "
			"time is 10% of request latency or more",
		.advice = "set TCP_NODELAY on the service's sockets, or send each response in one "
			  "write (writev, or TCP_CORK around the writes): a small write after "
			  "another waits for the peer's delayed ACK (~40 ms from Linux).",
		.loss = false,
	},
	{
		.cause = "stack.softirq",
		.metric = "softnet_drops",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_SOFTNET_DROPS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_softnet_drops,
		.condition = "softnet_stat dropped (per-CPU input backlog full), all CPUs",
		.advice = "cat /proc/net/softnet_stat (column 2 = dropped, per CPU); raise "
			  "net.core.netdev_max_backlog and spread receive work (RSS, RPS, IRQ "
			  "affinity).",
		.loss = true,
		.shared = NP_SHARED_SOFTNET_DROPS,
	},
	{
		.cause = "stack.softirq",
		.metric = "time_squeeze_per_s",
		.unit = "per second",
		.info = 1,
		.warn = 100,
		.crit = 1000,
		.wnum = NP_W_TIME_SQUEEZE,
		.wden = NOW,
		.wmin = 1,
		.measure = m_time_squeeze,
		.condition = "softnet_stat time_squeeze per second, all CPUs",
		.advice = "cat /proc/net/softnet_stat (column 3 = time_squeeze) and mpstat -P ALL "
			  "1 (%soft) on {where}; raise net.core.netdev_budget / "
			  "netdev_budget_usecs or spread the work.",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.softirq",
		.metric = "net_rx_cpu_share",
		.unit = "share",
		.info = 0.20,
		.warn = 0.50,
		.crit = 0.80,
		.wnum = NP_W_NET_RX_MAX_CPU_NS,
		.wden = NOW,
		.wmin = 5e8,
		.measure = m_net_rx_saturation,
		.condition = "NET_RX softirq time of the busiest CPU / the recording",
		.advice = "mpstat -P ALL 1 (%soft on {where}) and cat /proc/softirqs; spread "
			  "receive work across CPUs: RSS queues, IRQ affinity (/proc/interrupts), "
			  "RPS.",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.softirq",
		.metric = "net_rx_top_cpu_share",
		.unit = "share",
		.info = 0.60,
		.warn = 0.90,
		.crit = 0,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_net_rx_imbalance,
		.condition = "share of all NET_RX work (time, or packets processed) on the busiest "
			     "CPU, with RPS off on the NIC and that CPU >= 10% in NET_RX (or in "
			     "softirqs, without NET_RX time)",
		.advice = "cat /proc/interrupts and /sys/class/net/IFACE/queues/rx-*/rps_cpus: one "
			  "CPU ({where}) does the receive work; enable RPS or spread the NIC's "
			  "IRQs.",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.softirq",
		.metric = "service_softirq_share",
		.unit = "share",
		.info = 0.05,
		.warn = 0.15,
		.crit = 0.30,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_service_softirq,
		.condition = "service time lost to NET_RX/NET_TX softirq on its CPUs / its on-CPU "
			     "+ "
			     "run-queue time: interrupted (its on-CPU time per CPU x its samples "
			     "there under net_rx/net_tx_action below an interrupt's exit) plus, "
			     "per window and CPU, its run-queue time x the CPU's softirq time / "
			     "the CPU's busy time it did not use (an estimate); not reported when "
			     "the loss is under 0.5% of the window, at most info when that CPU "
			     "spends under 10% of that time in network softirq",
		.advice = "mpstat -P ALL 1 (%soft on {where}) and cat /proc/softirqs: move the "
			  "steering (rps_cpus, IRQ affinity) to CPUs the service does not use, or "
			  "move the service (taskset, cpuset).",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.netfilter",
		.metric = "netfilter_drops",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_NETFILTER_DROPS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_netfilter_drops,
		.condition = "packets dropped by netfilter (kfree_skb NETFILTER_DROP)",
		.advice = "nft list ruleset / iptables -L -v -n (which rule's counters grow); "
			  "conntrack -S.",
		.loss = true,
		.shared = NP_SHARED_NETFILTER_DROPS,
	},
	{
		.cause = "stack.netfilter",
		.metric = "conntrack_fill",
		.unit = "share",
		.info = 0.50,
		.warn = 0.80,
		.crit = 0.95,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_conntrack_fill,
		.condition = "peak nf_conntrack_count / nf_conntrack_max",
		.advice = "cat /proc/sys/net/netfilter/nf_conntrack_count and nf_conntrack_max; "
			  "conntrack -S (drop, insert_failed); raise the table size or exempt the "
			  "service (notrack).",
		.loss = false,
		.shared = NP_SHARED_UNCHECKED,
	},
	{
		.cause = "stack.kernel_cpu",
		.metric = "kernel_net_cpu_share",
		.unit = "share",
		.info = 0.30,
		.warn = 0.50,
		.crit = 0.75,
		.wnum = NP_W_KERNEL_NET_NS,
		.wden = NP_W_ON_CPU_NS,
		.wmin = 0.50,
		.measure = m_kernel_net_share,
		.condition = "kernel network-stack CPU / service on-CPU time; at most info when "
			     "the "
			     "service is on CPU under 50% of its time",
		.advice = "perf top -p {pid} (kernel TCP/IP and copy cost); ethtool -k IFACE (tso, "
			  "gso, gro on?); fewer, larger writes (writev, sendfile) and fewer small "
			  "reads.",
		.loss = false,
	},
	{
		.cause = "stack.kernel_cpu",
		.metric = "offloads_off",
		.unit = "count",
		.info = 1,
		.warn = 0,
		.crit = 0,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_offloads_off,
		.condition = "segmentation/checksum offloads (and GRO on NICs) that are off on an "
			     "interface that carried the traffic",
		.advice = "ethtool -k {where}; turn the offloads back on (ethtool -K {where} tso "
			  "on gso on gro on) unless they were turned off on purpose.",
		.loss = false,
	},
	{
		.cause = "nic.rx_drops",
		.metric = "nic_rx_drops",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_NIC_RX_DROPS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_nic_rx_drops,
		.condition = "rx_missed + the driver's receive drop counters (XDP included) + "
			     "rx_dropped not explained by softnet drops, on NIC-layer interfaces "
			     "(hardware, veth, tun)",
		.advice = "ethtool -S {where} | grep -E 'drop|miss|no_buf|fifo'; ethtool -g "
			  "{where} (raise the RX ring); ip -s link show {where}; spread IRQs over "
			  "more CPUs.",
		.loss = true,
	},
	{
		.cause = "nic.errors",
		.metric = "nic_errors",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 100,
		.wnum = NP_W_NIC_ERRORS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_nic_errors,
		.condition = "rx_errors + tx_errors + tx timeouts, on NIC-layer interfaces",
		.advice = "ip -s link show {where}; ethtool -S {where} | grep -E 'err|timeout'; "
			  "check the cable or optics, the link partner and dmesg.",
		.loss = true,
	},
	{
		.cause = "nic.errors",
		.metric = "carrier_changes",
		.unit = "count",
		.info = 0,
		.warn = 1,
		.crit = 2,
		.wnum = NP_W_NIC_ERRORS,
		.wden = NOW,
		.wmin = 1,
		.measure = m_carrier,
		.condition = "carrier changes during the recording, on NIC-layer interfaces",
		.advice = "ip -s link show {where} (carrier changes); ethtool {where} (link, "
			  "speed); dmesg for link flaps.",
		.loss = false,
	},
	{
		.cause = "peer.slow",
		.metric = "peer_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.30,
		.crit = 0.60,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_peer_share,
		.condition = "time requests wait on outbound calls / request latency; at most info "
			     "while local queues are full",
		.advice = "Measure the peer ({where|the upstream}): its own latency, ss -ti dst "
			  "PEER (rtt); add timeouts, connection pooling, or issue outbound calls "
			  "in parallel.",
		.loss = false,
	},
	{
		.cause = "peer.slow",
		.metric = "outbound_wait_share",
		.unit = "share",
		.info = 0.10,
		.warn = 0.30,
		.crit = 0.60,
		.wnum = NP_W_PEER_WAIT_NS,
		.wden = NP_W_THREAD_NS,
		.wmin = 0.30,
		.measure = m_outbound_wait,
		.condition = "time blocked in calls on connections the service opened / service "
			     "threads' time",
		.advice = "The service waits on {where|its peers}: check that peer's latency (ss "
			  "-ti dst PEER for rtt); add timeouts, connection pooling, or make "
			  "outbound calls asynchronous.",
		.loss = false,
	},
	{
		.cause = "peer.slow",
		.metric = "rwnd_limited_share",
		.unit = "share",
		.info = 0.05,
		.warn = 0.20,
		.crit = 0.50,
		.wnum = NOW,
		.wden = NOW,
		.wmin = 0,
		.measure = m_rwnd_limited,
		.condition = "tcp_info rwnd-limited time / busy time of the service's connections",
		.advice = "ss -ti: rwnd_limited, and the peer's advertised window; the clients "
			  "read slowly.",
		.loss = false,
	},
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

size_t np_rules_count(void)
{
	return N_RULES;
}

void np_rule_row_get(size_t i, struct np_rule_row *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= N_RULES)
		return;
	out->cause = rules[i].cause;
	out->metric = rules[i].metric;
	out->unit = rules[i].unit;
	out->info = rules[i].info;
	out->warn = rules[i].warn;
	out->crit = rules[i].crit;
	out->condition = rules[i].condition;
}

/* --- engine ------------------------------------------------------------- */

/* Where to look when a shared counter moved but not for the service:
 * whose it is, since nothing in the service needs changing. */
static const char *elsewhere_advice(enum np_shared what)
{
	switch (what) {
	case NP_SHARED_SOCKET_DROPS:
		return "Not the service's sockets: ss -tuamp shows whose socket drops (skmem d, "
		       "with its process); nstat -az UdpRcvbufErrors TcpExtPruneCalled "
		       "TcpExtTCPRcvQDrop.";
	case NP_SHARED_LISTEN_DROPS:
		return "Not the service's listeners: ss -ltnp shows whose accept queue is at its "
		       "limit (Recv-Q at Send-Q); nstat -az TcpExtListenOverflows.";
	case NP_SHARED_SOFTNET_DROPS:
		return "Not on the service's CPUs: cat /proc/net/softnet_stat (column 2, per CPU) "
		       "and /proc/interrupts show what receives there (RPS, IRQ affinity).";
	case NP_SHARED_NETFILTER_DROPS:
		return "Not the service's connections: nft list ruleset / iptables -L -v -n show "
		       "which rule drops, and for whom.";
	default:
		return "";
	}
}

/* A shared counter moved with none of the target's own signals: say so,
 * name the counter, and take the blame off the service. */
static void elsewhere(struct meas *m, enum np_shared what, const struct np_sig_owner *own)
{
	snprintf(m->summary, sizeof(m->summary), "elsewhere on this host: %s rose by %.0f, but %s",
		 own->counter[0] ? own->counter : "a shared counter",
		 own->value ? (double)own->value : m->value, own->none);
	snprintf(m->advice, sizeof(m->advice), "%s", elsewhere_advice(what));
}

static enum np_severity severity_of(const struct rule *r, double v)
{
	if (r->crit > 0 && v >= r->crit)
		return NP_SEV_CRITICAL;
	if (r->warn > 0 && v >= r->warn)
		return NP_SEV_WARNING;
	if (r->info > 0 && v >= r->info)
		return NP_SEV_INFO;
	return NP_SEV_NONE;
}

static double score_of(const struct rule *r, double v)
{
	double xs[5], ys[5], cap = 1.0;
	int n = 0;

	xs[n] = 0, ys[n++] = 0;
	if (r->info > 0)
		xs[n] = r->info, ys[n++] = 0.25;
	if (r->warn > 0)
		xs[n] = r->warn, ys[n++] = 0.5;
	if (r->crit > 0)
		xs[n] = r->crit, ys[n++] = 0.75, xs[n] = 2 * r->crit, ys[n++] = 1.0;
	else if (r->warn > 0)
		cap = 0.74;
	else
		cap = 0.49;
	if (!(v > 0))
		return 0;
	for (int i = 1; i < n; i++) {
		if (v <= xs[i]) {
			double y = ys[i - 1] +
				   (ys[i] - ys[i - 1]) * (v - xs[i - 1]) / (xs[i] - xs[i - 1]);

			return y < cap ? y : cap;
		}
	}
	/* beyond the last point: grows towards the cap */
	{
		double y = ys[n - 1] + (cap - ys[n - 1]) * (1.0 - xs[n - 1] / v);

		return y < cap ? y : cap;
	}
}

static void fill_template(char *out, size_t len, const char *tpl, const char *where, uint32_t pid)
{
	size_t o = 0;
	char pidbuf[16];

	snprintf(pidbuf, sizeof(pidbuf), "%u", pid);
	while (*tpl && o + 1 < len) {
		const char *sub = NULL;
		size_t skip = 0;

		if (!strncmp(tpl, "{where}", 7)) {
			sub = where && *where ? where : "the service", skip = 7;
		} else if (!strncmp(tpl, "{where|", 7) && strchr(tpl, '}')) {
			/* {where|fallback}: the fallback when the subject is unknown */
			const char *end = strchr(tpl, '}');

			if (where && *where) {
				sub = where;
			} else {
				size_t n = (size_t)(end - tpl) - 7;

				if (n > len - 1 - o)
					n = len - 1 - o;
				memcpy(out + o, tpl + 7, n);
				o += n;
				tpl = end + 1;
				continue;
			}
			skip = (size_t)(end - tpl) + 1;
		} else if (!strncmp(tpl, "{pid}", 5))
			sub = pid ? pidbuf : "PID", skip = 5;
		if (sub) {
			size_t n = strlen(sub);

			if (n > len - 1 - o)
				n = len - 1 - o;
			memcpy(out + o, sub, n);
			o += n;
			tpl += skip;
		} else {
			out[o++] = *tpl++;
		}
	}
	out[o] = '\0';
}

static bool window_moved(const struct np_signals *s, const struct rule *r, size_t w)
{
	const uint64_t *v = s->windows[w].v;

	if (r->wnum >= NP_W_COUNT || !(s->wknown & (1ull << r->wnum)))
		return false;
	if (r->wden < NP_W_COUNT) {
		if (!(s->wknown & (1ull << r->wden)) || !v[r->wden])
			return false;
		return (double)v[r->wnum] / (double)v[r->wden] >= r->wmin;
	}
	return (double)v[r->wnum] >= r->wmin;
}

/* Merged runs of windows where `moved` is set, at most NP_MAX_SPANS. */
static size_t spans_of(const struct np_signals *s, const bool *moved, struct np_span *out)
{
	size_t n = 0;

	for (size_t w = 0; w < s->n_windows; w++) {
		if (!moved[w])
			continue;
		if (n && out[n - 1].end_ns == s->windows[w].start_ns) {
			out[n - 1].end_ns = s->windows[w].end_ns;
			continue;
		}
		if (n == NP_MAX_SPANS) {
			/* too many runs: stretch the last one */
			out[n - 1].end_ns = s->windows[w].end_ns;
			continue;
		}
		out[n].start_ns = s->windows[w].start_ns;
		out[n++].end_ns = s->windows[w].end_ns;
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Per window: did latency rise?  -1 when no per-window latency is known. */
static int latency_rose(const struct np_signals *s, bool *rose, const char **metric)
{
	enum np_wmetric m;
	uint64_t *vals, median;
	size_t n = 0;

	if (s->wknown & (1ull << NP_W_EXCH_P99_NS))
		m = NP_W_EXCH_P99_NS;
	else if (s->wknown & (1ull << NP_W_IO_P99_NS))
		m = NP_W_IO_P99_NS;
	else
		return -1;
	*metric = np_wmetric_info[m].name;
	vals = malloc(s->n_windows * sizeof(*vals));
	if (!vals)
		return -1;
	for (size_t w = 0; w < s->n_windows; w++)
		if (s->windows[w].v[m])
			vals[n++] = s->windows[w].v[m];
	if (!n) {
		free(vals);
		return -1;
	}
	qsort(vals, n, sizeof(*vals), cmp_u64);
	median = vals[n / 2];
	free(vals);
	for (size_t w = 0; w < s->n_windows; w++) {
		uint64_t v = s->windows[w].v[m];

		rose[w] = v && (double)v >= NP_LATENCY_ROSE_FACTOR * (double)median &&
			  v >= median + NP_LATENCY_ROSE_MIN_NS;
	}
	return 0;
}

bool np_finding_steady(size_t windows_moved, size_t windows_total)
{
	/* one window is no "whole": nothing to be steady against */
	return windows_total >= 2 && windows_moved >= windows_total - windows_total / 10;
}

static struct np_finding *finding_for(struct np_analysis *a, const char *cause)
{
	struct np_finding *f;

	for (size_t i = 0; i < a->n_findings; i++)
		if (!strcmp(a->findings[i].cause, cause))
			return &a->findings[i];
	f = &a->findings[a->n_findings++];
	memset(f, 0, sizeof(*f));
	f->cause = cause;
	f->layer = np_cause_layer(cause);
	f->latency_rose = -1;
	return f;
}

static void add_evidence(struct np_finding *f, const struct np_evidence *e)
{
	if (f->n_ev < NP_MAX_EVIDENCE)
		f->ev[f->n_ev++] = *e;
}

static int by_score_desc(const void *a, const void *b)
{
	const struct np_finding *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->cause, y->cause);
}

static enum np_severity severity_of_score(double score)
{
	return score >= 0.75 ? NP_SEV_CRITICAL : score >= 0.5 ? NP_SEV_WARNING : NP_SEV_INFO;
}

static void append(char *buf, size_t len, const char *text)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s", text);
}

static struct np_finding *fired(struct np_analysis *a, const char *cause)
{
	for (size_t i = 0; i < a->n_findings; i++)
		if (!strcmp(a->findings[i].cause, cause) &&
		    a->findings[i].severity >= NP_SEV_WARNING)
			return &a->findings[i];
	return NULL;
}

/* Whether finding f saw a queue at its limit: one of its queue-fill rows
 * at the row's warning level or above. */
static bool queue_at_limit(const struct np_finding *f)
{
	for (size_t i = 0; i < f->n_ev; i++)
		for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			if (!strcmp(rules[r].cause, f->cause) &&
			    !strcmp(rules[r].metric, f->ev[i].metric) &&
			    strstr(rules[r].metric, "_q_fill") && f->ev[i].value >= rules[r].warn)
				return true;
	return false;
}

/* `first` ranks before `then`: it takes the higher score, `then` goes
 * just below it.  Returns whether anything changed. */
static bool rank_before(struct np_finding *first, struct np_finding *then)
{
	bool changed = false;

	if (then->score > first->score) {
		first->score = then->score;
		first->severity = severity_of_score(first->score);
		changed = true;
	}
	if (then->score >= first->score) {
		then->score = first->score > 0.001 ? first->score - 0.001 : 0;
		then->severity = severity_of_score(then->score);
		changed = true;
	}
	return changed;
}

/* Retransmissions come after the place their packets were dropped: a
 * finding with a loss row at warning or above that dropped at least a
 * tenth as many packets as were retransmitted (one lost SYN does not
 * explain thousands of retransmitted segments). */
static struct np_finding *loss_place(const struct np_signals *s, struct np_analysis *a,
				     const double *dropped)
{
	struct np_finding *best = NULL;
	double retrans = 0;

	if (s->have_tcp_counters)
		retrans = (double)s->retrans_segs;
	if (s->have_sockets && (double)s->sock_retrans > retrans)
		retrans = (double)s->sock_retrans;
	for (size_t i = 0; i < a->n_findings; i++)
		if (dropped[i] > 0 && dropped[i] * 10 >= retrans &&
		    (!best || a->findings[i].score > best->score))
			best = &a->findings[i];
	return best;
}

void np_capacity_compute(const struct np_signals *s, struct np_capacity *c)
{
	struct np_sig_totals t;
	const struct np_sig_thread *b;
	double busy, queued, on;

	memset(c, 0, sizeof(*c));
	np_signals_totals(s, &t);
	b = t.busiest;
	if (!b || !b->have_sched || !b->window_ns || !s->have_exchanges || !s->exch_total_ns ||
	    !s->duration_ns)
		return;
	busy = share(b->on_cpu_ns + b->runnable_ns, b->window_ns);
	queued = share(s->exch_queued_ns, s->exch_total_ns);
	if (busy < NP_CAPACITY_BUSY || queued < NP_CAPACITY_QUEUED)
		return;
	c->at_capacity = true;
	c->tid = b->tid;
	memcpy(c->comm, b->comm, sizeof(c->comm));
	c->busy_share = busy > 1 ? 1 : busy;
	c->queued_share = queued > 1 ? 1 : queued;
	on = (double)(b->user_ns + b->kernel_net_ns + b->kernel_other_ns);
	if (b->have_cpu_split && on > 0) {
		c->have_split = true;
		c->app_share = (double)b->user_ns / on;
		c->kernel_net_share = (double)b->kernel_net_ns / on;
		c->kernel_other_share = (double)b->kernel_other_ns / on;
		c->bound_by = c->kernel_net_share > c->app_share ? "kernel network work"
								 : "application code";
	}
	c->requests_per_s = (double)s->exch_count * 1e9 / (double)s->duration_ns;
	if (t.service_threads == 1)
		c->bound_per_s = c->requests_per_s / c->busy_share;
}

const char *np_confidence_name(enum np_confidence c)
{
	switch (c) {
	case NP_CONF_HIGH:
		return "high";
	case NP_CONF_MEDIUM:
		return "medium";
	case NP_CONF_LOW:
		break;
	}
	return "low";
}

/* High: the target's own signals, and request latency rose where they
 * moved (or they were there all along, so no quieter window exists).
 * Medium: latency did not move with them, it could not be checked, or the
 * owner of a shared counter could not be told.  Low: only shared counters
 * moved, none of the target's. */
enum np_confidence np_finding_confidence(struct np_finding *f)
{
	const char *why;

	if (f->owner == NP_OWNER_ELSEWHERE) {
		f->confidence = NP_CONF_LOW;
		why = "the counters that moved are shared, and none of the target's own signals "
		      "shows it";
	} else if (f->owner == NP_OWNER_UNKNOWN) {
		f->confidence = NP_CONF_MEDIUM;
		why = "shared counters whose owner could not be told (the target's side was not "
		      "measured)";
	} else if (f->steady) {
		f->confidence = NP_CONF_HIGH;
		why = "the target's own signals, present over the whole window";
	} else if (f->latency_rose > 0) {
		f->confidence = NP_CONF_HIGH;
		why = "the target's own signals, and request latency rose where they moved";
	} else if (f->latency_rose == 0) {
		f->confidence = NP_CONF_MEDIUM;
		why = "the target's own signals, but latency did not rise where they moved";
	} else if (f->windows_total && !f->windows_moved) {
		f->confidence = NP_CONF_MEDIUM;
		why = "the target's own signals, a figure of the whole recording: no windows of "
		      "its own to check latency against";
	} else {
		f->confidence = NP_CONF_MEDIUM;
		why = "the target's own signals; no per-window latency to check them against";
	}
	snprintf(f->confidence_why, sizeof(f->confidence_why), "%s", why);
	return f->confidence;
}

/* A finding of another layer whose score is within this of the verdict's
 * tells the same latency another way: the verdict's strongest rival. */
#define COUNTER_CLOSE_SCORE 0.10

/* The strongest other finding at warning or above of the target's, of
 * another layer than f, or NULL. */
static const struct np_finding *rival_of(const struct np_finding *f, const struct np_finding *all,
					 size_t n)
{
	const struct np_finding *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct np_finding *g = &all[i];

		if (g == f || g->severity < NP_SEV_WARNING || g->owner == NP_OWNER_ELSEWHERE ||
		    !strcmp(g->layer, f->layer))
			continue;
		if (!best || g->score > best->score)
			best = g;
	}
	return best;
}

static const char *latency_words(const char *metric)
{
	if (metric && !strcmp(metric, "io_p99_ns"))
		return "the p99 of network calls";
	return "request p99";
}

void np_finding_counter(struct np_finding *f, const struct np_finding *verdict,
			const struct np_finding *all, size_t n)
{
	const struct np_finding *rival = rival_of(f, all, n);
	char *c = f->counter;
	const size_t len = sizeof(f->counter);

	c[0] = '\0';
	if (f->owner == NP_OWNER_ELSEWHERE) {
		snprintf(c, len,
			 "none of the target's own signals (its sockets' queues and drops, its "
			 "threads, its CPUs) moved with these shared counters: another process "
			 "moved them");
	} else if (f->owner == NP_OWNER_UNKNOWN) {
		snprintf(c, len,
			 "the counters are shared with the rest of the host or namespace, and the "
			 "target's own side was not measured: another process may have moved them");
	} else if (f->latency_rose == 0 && !f->steady && f->windows_moved) {
		snprintf(c, len, "%s did not rise in any of the %zu windows where it moved",
			 latency_words(f->latency_metric), f->windows_moved);
	} else if (f == verdict && rival && rival->score >= f->score - COUNTER_CLOSE_SCORE) {
		snprintf(c, len, "%s (%s) is nearly as strong: score %.2f against %.2f",
			 rival->cause, rival->layer, rival->score, f->score);
	} else if (f->windows_moved && f->windows_total >= 10 &&
		   f->windows_moved * 10 <= f->windows_total) {
		snprintf(c, len, "it moved in only %zu of the %zu windows", f->windows_moved,
			 f->windows_total);
	} else if (f->latency_rose > 0 && !f->steady &&
		   f->windows_latency_rose * 2 < f->windows_moved) {
		snprintf(c, len, "%s rose in only %zu of the %zu windows where it moved",
			 latency_words(f->latency_metric), f->windows_latency_rose,
			 f->windows_moved);
	} else if (verdict && f != verdict && f->severity >= NP_SEV_WARNING &&
		   strcmp(verdict->layer, f->layer)) {
		snprintf(c, len, "%s (%s) explains more of the latency: score %.2f against %.2f",
			 verdict->cause, verdict->layer, verdict->score, f->score);
	}
}

/* Why the runner-up is not the verdict: a related pair ranked it after
 * (named in its summary, "see X"), a lower score, or weaker backing. */
static void runner_up_why(struct np_analysis *a)
{
	const struct np_finding *v = a->verdict, *r = a->runner_up;

	for (size_t i = 0; i < sizeof(rank_pairs) / sizeof(rank_pairs[0]); i++) {
		const struct rank_pair *p = &rank_pairs[i];
		const char *note = NULL;

		if (!strcmp(p->first, v->cause) && !strcmp(p->then, r->cause))
			note = p->then_note;
		else if (!strcmp(p->first, r->cause) && !strcmp(p->then, v->cause))
			note = p->first_note;
		if (note) {
			snprintf(a->runner_up_why, sizeof(a->runner_up_why),
				 "not %s: related to %s and ranked after it (%s)", r->cause,
				 v->cause, note + (note[0] == ';' ? 2 : 0));
			return;
		}
	}
	if (r->confidence < v->confidence)
		snprintf(a->runner_up_why, sizeof(a->runner_up_why),
			 "not %s: score %.2f against %.2f, and %s confidence: %s", r->cause,
			 r->score, v->score, np_confidence_name(r->confidence), r->confidence_why);
	else
		snprintf(a->runner_up_why, sizeof(a->runner_up_why),
			 "not %s: score %.2f against %.2f (%s severity)", r->cause, r->score,
			 v->score, np_severity_name(r->severity));
}

/* Whether a cause is about packets lost: the drop rows and the
 * retransmissions they (or the path) cause. */
static bool cause_is_loss(const char *cause)
{
	if (!strcmp(cause, "stack.retransmits"))
		return true;
	for (size_t i = 0; i < N_RULES; i++)
		if (rules[i].loss && !strcmp(rules[i].cause, cause))
			return true;
	return false;
}

/* "212.0 ms" or "113 us": loss on a fast path costs microseconds. */
static const char *dur_of(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.0f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	return buf;
}

/* A loss finding of the target's says what the loss cost its requests:
 * how many were hit (a retransmit or a drop on their connection while in
 * flight) and their median against the others'. */
static void loss_per_request(const struct np_signals *s, struct np_finding *f)
{
	struct np_evidence e;
	size_t used = strlen(f->summary);
	char hit[24], others[24];

	if (!s->have_exch_loss || f->owner == NP_OWNER_ELSEWHERE || !cause_is_loss(f->cause))
		return;
	if (used < sizeof(f->summary))
		snprintf(f->summary + used, sizeof(f->summary) - used,
			 "; %.1f%% of requests were hit by loss, p50 %s against %s for the "
			 "others%s%s",
			 s->exch_loss_share * 100.0, dur_of(s->exch_loss_p50_ns, hit, sizeof(hit)),
			 s->exch_loss_others_p50_ns
				 ? dur_of(s->exch_loss_others_p50_ns, others, sizeof(others))
				 : "none (every request was hit)",
			 s->exch_loss_reason[0] ? "; the drop reason that hit most: " : "",
			 s->exch_loss_reason);
	memset(&e, 0, sizeof(e));
	snprintf(e.metric, sizeof(e.metric), "requests_hit_by_loss_share");
	e.value = s->exch_loss_share;
	snprintf(e.unit, sizeof(e.unit), "share");
	add_evidence(f, &e);
	snprintf(e.metric, sizeof(e.metric), "loss_hit_p50_ns");
	e.value = (double)s->exch_loss_p50_ns;
	snprintf(e.unit, sizeof(e.unit), "ns");
	add_evidence(f, &e);
	snprintf(e.metric, sizeof(e.metric), "loss_others_p50_ns");
	e.value = (double)s->exch_loss_others_p50_ns;
	add_evidence(f, &e);
}

static void rank_related(const struct np_signals *s, struct np_analysis *a, const double *dropped)
{
	struct np_finding *loss = loss_place(s, a, dropped),
			  *retrans = fired(a, "stack.retransmits");
	bool noted[sizeof(rank_pairs) / sizeof(rank_pairs[0])] = {false};
	bool changed = true;

	/* a fixpoint: ranking one pair may reorder an earlier one */
	for (int pass = 0; changed && pass < 8; pass++) {
		changed = false;
		for (size_t k = 0; k < sizeof(rank_pairs) / sizeof(rank_pairs[0]); k++) {
			struct np_finding *first = fired(a, rank_pairs[k].first);
			struct np_finding *then = fired(a, rank_pairs[k].then);
			bool reversed;

			if (!first || !then)
				continue;
			reversed = rank_pairs[k].queue_first && !queue_at_limit(first);
			changed |= reversed ? rank_before(then, first) : rank_before(first, then);
			if (noted[k])
				continue;
			noted[k] = true;
			if (reversed) {
				char note[96];

				snprintf(note, sizeof(note),
					 "; requests wait in the service's queues meanwhile (%s)",
					 first->cause);
				append(then->summary, sizeof(then->summary), note);
				snprintf(note, sizeof(note), "; a consequence of %s", then->cause);
				append(first->summary, sizeof(first->summary), note);
			} else {
				append(first->summary, sizeof(first->summary),
				       rank_pairs[k].first_note);
				append(then->summary, sizeof(then->summary),
				       rank_pairs[k].then_note);
			}
		}
	}
	if (loss && retrans && loss != retrans) {
		char note[64];

		rank_before(loss, retrans);
		snprintf(note, sizeof(note), "; a consequence of the drops in %s", loss->cause);
		append(retrans->summary, sizeof(retrans->summary), note);
	}
}

int np_analyze(const struct np_signals *s, struct np_analysis *a)
{
	struct np_sig_totals t;
	bool *moved = NULL, *fmoved = NULL, *rose = NULL;
	double *dropped = NULL;
	const char *lat_metric = NULL;
	int lat_known;

	memset(a, 0, sizeof(*a));
	np_breakdown_compute(s, &a->breakdown);
	np_capacity_compute(s, &a->capacity);
	np_signals_totals(s, &t);
	a->findings = calloc(sizeof(causes) / sizeof(causes[0]), sizeof(*a->findings));
	moved = calloc(s->n_windows + 1, sizeof(*moved));
	fmoved = calloc((s->n_windows + 1) * (sizeof(causes) / sizeof(causes[0])), sizeof(*fmoved));
	rose = calloc(s->n_windows + 1, sizeof(*rose));
	dropped = calloc(sizeof(causes) / sizeof(causes[0]), sizeof(*dropped));
	if (!a->findings || !moved || !fmoved || !rose || !dropped) {
		free(moved);
		free(fmoved);
		free(rose);
		free(dropped);
		np_analysis_fini(a);
		return -ENOMEM;
	}
	lat_known = latency_rose(s, rose, &lat_metric);

	for (size_t i = 0; i < N_RULES; i++) {
		const struct rule *r = &rules[i];
		struct meas m;
		struct np_evidence e;
		struct np_finding *f;
		struct np_sig_owner own;
		enum np_severity sev;
		double score;
		size_t fi;

		memset(&m, 0, sizeof(m));
		if (!r->measure(s, &t, &m) || !isfinite(m.value))
			continue;
		sev = severity_of(r, m.value);
		score = score_of(r, m.value);
		if (m.cap_info && sev > NP_SEV_INFO) {
			sev = NP_SEV_INFO;
			score = score < 0.49 ? score : 0.49;
		}
		if (sev == NP_SEV_NONE)
			continue;
		np_signals_owner(s, r->shared, &own);
		if (own.owner == NP_OWNER_ELSEWHERE) {
			if (sev > NP_SEV_INFO) {
				sev = NP_SEV_INFO;
				score = score < 0.49 ? score : 0.49;
			}
			elsewhere(&m, r->shared, &own);
		}
		f = finding_for(a, r->cause);
		fi = (size_t)(f - a->findings);

		memset(&e, 0, sizeof(e));
		snprintf(e.metric, sizeof(e.metric), "%s", r->metric);
		e.value = m.value;
		snprintf(e.unit, sizeof(e.unit), "%s", r->unit);
		snprintf(e.where, sizeof(e.where), "%s", m.where);
		for (size_t w = 0; w < s->n_windows; w++) {
			moved[w] = window_moved(s, r, w);
			fmoved[fi * (s->n_windows + 1) + w] |= moved[w];
		}
		e.n_when = spans_of(s, moved, e.when);
		add_evidence(f, &e);
		for (size_t k = 0; k < m.n_extra; k++)
			add_evidence(f, &m.extra[k]);
		if (score > f->score || f->severity == NP_SEV_NONE) {
			f->score = score;
			f->owner = own.owner;
			snprintf(f->summary, sizeof(f->summary), "%s", m.summary);
			fill_template(f->advice, sizeof(f->advice),
				      m.advice[0] ? m.advice : r->advice, m.where, s->target_pid);
		}
		if (sev > f->severity)
			f->severity = sev;
		if (r->loss && sev >= NP_SEV_WARNING && m.value > dropped[fi])
			dropped[fi] = m.value;
	}
	rank_related(s, a, dropped);
	for (size_t i = 0; i < a->n_findings; i++)
		loss_per_request(s, &a->findings[i]);

	for (size_t i = 0; i < a->n_findings; i++) {
		struct np_finding *f = &a->findings[i];
		const bool *fm = &fmoved[i * (s->n_windows + 1)];

		f->n_spans = spans_of(s, fm, f->spans);
		for (size_t w = 0; w < s->n_windows; w++) {
			if (!fm[w])
				continue;
			f->windows_moved++;
			if (lat_known == 0 && rose[w])
				f->windows_latency_rose++;
		}
		if (lat_known == 0 && f->windows_moved) {
			f->latency_rose = f->windows_latency_rose > 0;
			f->latency_metric = lat_metric;
		}
		f->windows_total = s->n_windows;
		f->steady = np_finding_steady(f->windows_moved, s->n_windows);
	}
	for (size_t i = 0; i < a->n_findings; i++)
		np_finding_confidence(&a->findings[i]);
	qsort(a->findings, a->n_findings, sizeof(*a->findings), by_score_desc);
	for (size_t i = 0; i < a->n_findings; i++)
		if (a->findings[i].severity >= NP_SEV_WARNING &&
		    a->findings[i].owner != NP_OWNER_ELSEWHERE) {
			if (!a->verdict) {
				a->verdict = &a->findings[i];
				continue;
			}
			a->runner_up = &a->findings[i];
			runner_up_why(a);
			break;
		}
	for (size_t i = 0; i < a->n_findings; i++)
		np_finding_counter(&a->findings[i], a->verdict, a->findings, a->n_findings);
	free(moved);
	free(fmoved);
	free(rose);
	free(dropped);
	return 0;
}

void np_analysis_fini(struct np_analysis *a)
{
	if (!a)
		return;
	free(a->findings);
	a->findings = NULL;
	a->n_findings = 0;
	a->verdict = NULL;
	a->runner_up = NULL;
	a->runner_up_why[0] = '\0';
}

/* --- breakdown ---------------------------------------------------------- */

static uint64_t take(uint64_t *from, uint64_t want)
{
	uint64_t got = want < *from ? want : *from;

	*from -= got;
	return got;
}

void np_breakdown_compute(const struct np_signals *s, struct np_breakdown *b)
{
	struct np_sig_totals t;
	uint64_t part[5], sum = 0, scaled[5], given = 0;
	enum { APP, STACK, NIC, PEER, IDLE };

	memset(b, 0, sizeof(*b));
	b->window_ns = s->duration_ns;
	np_signals_totals(s, &t);
	if (!s->n_threads || (t.service_threads && !t.have_sched))
		return; /* unknown */
	b->unknown_threads = t.unknown_threads;
	b->known = true;
	if (!t.service_threads || !t.thread_ns) {
		b->idle_ns = s->duration_ns; /* no network work at all */
		return;
	}
	b->thread_ns = t.thread_ns;
	b->estimated = t.cpu_split_estimated || t.offcpu_estimated;

	part[APP] = t.app_cpu_ns + t.runnable_ns + t.off_nonnet_ns;
	part[STACK] = t.kernel_net_ns;
	part[NIC] = 0;
	part[PEER] = t.outbound_wait_ns;
	/* Off-CPU time of unknown reason is not counted as latency: a thread
	 * parked with nothing known to be waiting for it is waiting for work. */
	part[IDLE] = t.ready_wait_ns + t.inbound_wait_ns + t.off_unknown_ns;
	/* With exchanges, the waits during which requests were in flight are
	 * not idle: they go to the layer that held the request. */
	if (s->have_exchanges) {
		uint64_t peer = s->exch_peer_ns > part[PEER] ? s->exch_peer_ns - part[PEER] : 0;

		part[APP] += take(&part[IDLE], s->exch_queued_ns);
		part[STACK] += take(&part[IDLE], s->exch_tx_ns);
		part[PEER] += take(&part[IDLE], peer);
	}
	for (int i = 0; i < 5; i++)
		sum += part[i];
	if (sum < t.thread_ns)
		part[IDLE] += t.thread_ns - sum, sum = t.thread_ns;
	/* Scale the thread-time split to the window, rounding down, and give
	 * the remainder to the largest parts first so the sum is exact. */
	for (int i = 0; i < 5; i++) {
		scaled[i] = (uint64_t)((unsigned __int128)part[i] * s->duration_ns / sum);
		given += scaled[i];
	}
	while (given < s->duration_ns) {
		int best = 0;

		for (int i = 1; i < 5; i++)
			if (part[i] > part[best])
				best = i;
		scaled[best] += s->duration_ns - given;
		given = s->duration_ns;
	}
	b->idle_unexplained_ns = (uint64_t)((unsigned __int128)t.off_unknown_ns * s->duration_ns /
					    sum);
	if (b->idle_unexplained_ns > scaled[IDLE])
		b->idle_unexplained_ns = scaled[IDLE];
	b->application_ns = scaled[APP];
	b->stack_ns = scaled[STACK];
	b->nic_ns = scaled[NIC];
	b->peer_ns = scaled[PEER];
	b->idle_ns = scaled[IDLE];
}
