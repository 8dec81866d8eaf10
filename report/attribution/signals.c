/* signals.c - struct np_signals: windows, service-thread totals, and the
 * syscall source's glue.
 *
 * The syscall source alone gives, per thread: on-CPU and run-queue time
 * (schedstat polls), time in readiness waits, time in the other traced
 * calls, and every call over the threshold with its connection.  From these
 * it estimates what the scheduler tracer and the CPU sampler will later
 * measure directly:
 *   - network-stack CPU ~= time in traced I/O calls that were not slow
 *     (a non-blocking read/write is on CPU in the kernel all along), capped
 *     by the thread's on-CPU time; the rest of on-CPU is the application's;
 *   - blocked network waits = the slow I/O calls; in connect(), or on a
 *     connection whose local port is ephemeral and not a listener's (the
 *     target opened it), the wait is on a peer; otherwise (accept, a
 *     client's connection) it is waiting for work;
 *   - off-CPU outside network waits = off-CPU time not spent in readiness
 *     waits or slow calls (sleep, locks, disk: the reason is unknown).
 * np_sig_totals says which numbers are such estimates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/attribution/signals.h"
#include "profiler/format/systable.h"

const struct np_wmetric_info np_wmetric_info[NP_W_COUNT] = {
	[NP_W_THREAD_NS] = {"thread_ns", "ns"},
	[NP_W_ON_CPU_NS] = {"on_cpu_ns", "ns"},
	[NP_W_APP_CPU_NS] = {"app_cpu_ns", "ns"},
	[NP_W_KERNEL_NET_NS] = {"kernel_net_ns", "ns"},
	[NP_W_RUNNABLE_NS] = {"runnable_ns", "ns"},
	[NP_W_OFF_NONNET_NS] = {"off_cpu_nonnet_ns", "ns"},
	[NP_W_READY_WAIT_NS] = {"readiness_wait_ns", "ns"},
	[NP_W_PEER_WAIT_NS] = {"peer_wait_ns", "ns"},
	[NP_W_IO_CALLS] = {"io_calls", "count"},
	[NP_W_IO_P99_NS] = {"io_p99_ns", "ns"},
	[NP_W_SLOW_CALLS] = {"slow_calls", "count"},
	[NP_W_EXCH_COUNT] = {"exchanges", "count"},
	[NP_W_EXCH_P50_NS] = {"exchange_p50_ns", "ns"},
	[NP_W_EXCH_P99_NS] = {"exchange_p99_ns", "ns"},
	[NP_W_RECVQ_PEAK_BYTES] = {"recv_q_peak_bytes", "bytes"},
	[NP_W_ACCEPTQ_PEAK] = {"accept_q_peak", "count"},
	[NP_W_LISTEN_OVERFLOWS] = {"listen_overflows", "count"},
	[NP_W_SOCKET_DROPS] = {"socket_drops", "count"},
	[NP_W_RETRANS_SEGS] = {"retrans_segs", "count"},
	[NP_W_TCP_TIMEOUTS] = {"tcp_timeouts", "count"},
	[NP_W_NETFILTER_DROPS] = {"netfilter_drops", "count"},
	[NP_W_NET_RX_NS] = {"net_rx_ns", "ns"},
	[NP_W_NET_RX_MAX_CPU_NS] = {"net_rx_max_cpu_ns", "ns"},
	[NP_W_SOFTNET_DROPS] = {"softnet_dropped", "count"},
	[NP_W_TIME_SQUEEZE] = {"time_squeeze", "count"},
	[NP_W_NIC_RX_DROPS] = {"nic_rx_drops", "count"},
	[NP_W_NIC_ERRORS] = {"nic_errors", "count"},
	[NP_W_QDISC_DROPS] = {"qdisc_drops", "count"},
	[NP_W_QDISC_BACKLOG_PKTS] = {"qdisc_backlog_pkts", "packets"},
	[NP_W_RCVBUF_BYTES] = {"rcvbuf_bytes", "bytes"},
	[NP_W_ACCEPTQ_LIMIT] = {"accept_q_limit", "count"},
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int np_signals_init_windows(struct np_signals *s, uint64_t start_ns, uint64_t duration_ns)
{
	/* Windows are 1 s; a recording too long for NP_SIG_MAX_WINDOWS of them
	 * (or a crafted duration) gets longer windows instead of millions. */
	uint64_t wns = NP_SIG_WINDOW_NS, n64;
	size_t n;

	if (duration_ns / wns >= NP_SIG_MAX_WINDOWS)
		wns = (duration_ns / NP_SIG_MAX_WINDOWS / NP_SIG_WINDOW_NS + 1) * NP_SIG_WINDOW_NS;
	/* A remainder under half a window joins the last window rather than
	 * making a sliver of its own (a 4.00007 s recording has 4 windows). */
	n64 = duration_ns / wns + (duration_ns % wns >= wns / 2);
	n = n64 ? (size_t)n64 : 1;
	free(s->windows);
	s->windows = calloc(n, sizeof(*s->windows));
	if (!s->windows) {
		s->n_windows = 0;
		return -ENOMEM;
	}
	s->start_ns = start_ns;
	s->duration_ns = duration_ns;
	s->window_ns = wns;
	s->n_windows = n;
	for (size_t i = 0; i < n; i++) {
		s->windows[i].start_ns = start_ns + i * wns;
		s->windows[i].end_ns = i + 1 == n ? start_ns + duration_ns
						  : min_u64(start_ns + (i + 1) * wns,
							    start_ns + duration_ns);
		if (s->windows[i].end_ns < s->windows[i].start_ns)
			s->windows[i].end_ns = s->windows[i].start_ns;
	}
	return 0;
}

long np_signals_window_of(const struct np_signals *s, uint64_t ts_ns)
{
	uint64_t i;

	if (!s->n_windows || ts_ns < s->start_ns)
		return -1;
	i = (ts_ns - s->start_ns) / s->window_ns;
	if (i >= s->n_windows && ts_ns < s->windows[s->n_windows - 1].end_ns)
		return (long)s->n_windows - 1; /* the longer last window */
	if (i >= s->n_windows) {
		/* the end instant itself belongs to the last window */
		if (ts_ns <= s->start_ns + s->duration_ns)
			return (long)s->n_windows - 1;
		return -1;
	}
	return (long)i;
}

void np_signals_fini(struct np_signals *s)
{
	if (!s)
		return;
	free(s->windows);
	s->windows = NULL;
	s->n_windows = 0;
}

bool np_signals_port_is_ephemeral(uint16_t port)
{
	return port >= 32768 && port <= 60999;
}

/* Spreads `ns` of [from, from + ns) over the windows it overlaps. */
void np_signals_spread(struct np_signals *s, enum np_wmetric m, uint64_t from, uint64_t ns)
{
	uint64_t to = from + ns;

	for (long w = np_signals_window_of(s, from < s->start_ns ? s->start_ns : from);
	     w >= 0 && (size_t)w < s->n_windows; w++) {
		struct np_sig_window *win = &s->windows[w];
		uint64_t a = from > win->start_ns ? from : win->start_ns;
		uint64_t b = to < win->end_ns ? to : win->end_ns;

		if (win->start_ns >= to)
			break;
		if (b > a)
			win->v[m] += b - a; /* time beyond the window is not counted */
	}
}

bool np_signals_thread_is_service(const struct np_sig_thread *t)
{
	return (t->have_syscalls && t->calls > 0) || (t->have_offcpu_reasons && t->off_net_ns > 0);
}

void np_signals_totals(const struct np_signals *s, struct np_sig_totals *t)
{
	uint64_t best = 0;
	bool waits_known = true;

	memset(t, 0, sizeof(*t));
	t->have_sched = true;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct np_sig_thread *th = &s->threads[i];
		uint64_t on, stack, blocked, off_known;

		if (!np_signals_thread_is_service(th)) {
			t->other_threads_ns += th->window_ns;
			continue;
		}
		t->service_threads++;
		if (!th->have_sched) {
			/* came and went between two polls: its time is unknown, and
			 * counting it as idle would be a guess */
			t->unknown_threads++;
			t->unknown_thread_ns += th->window_ns;
			continue;
		}
		/* The thread's states are parts of its time: when polls a moment
		 * apart make them add up to more than its window, the window is
		 * the smaller number, and the states' sum is its time. */
		t->thread_ns += max_u64(th->window_ns,
					th->on_cpu_ns + th->runnable_ns + th->off_cpu_ns);
		on = th->on_cpu_ns;
		t->on_cpu_ns += on;
		t->runnable_ns += th->runnable_ns;
		t->runnable_waits += th->runnable_waits;
		waits_known &= th->runnable_waits > 0 || !th->runnable_ns;
		t->off_cpu_ns += th->off_cpu_ns;
		if (on > best) {
			best = on;
			t->busiest = th;
		}
		if (th->have_cpu_split) {
			stack = min_u64(th->kernel_net_ns, on);
		} else {
			stack = min_u64(sub0(th->io_ns, th->io_blocked_ns), on);
			t->cpu_split_estimated = true;
		}
		t->kernel_net_ns += stack;
		t->app_cpu_ns += on - stack;
		if (th->have_offcpu_reasons) {
			/* The tracer says why: readiness waits apart, and of the
			 * blocked socket calls the ones on connections the target
			 * opened are waits on a peer (the syscall source knows
			 * which connection each slow call was on). */
			uint64_t nonnet = th->off_lock_ns + th->off_disk_ns + th->off_sleep_ns +
					  th->off_other_ns;
			uint64_t out = min_u64(th->io_blocked_outbound_ns, th->off_net_ns);

			t->off_nonnet_ns += nonnet;
			t->ready_wait_ns += th->off_poll_ns;
			t->outbound_wait_ns += out;
			t->inbound_wait_ns += th->off_net_ns - out;
		} else {
			/* Readiness waits and slow calls are off CPU (mostly); what is
			 * left of off-CPU time was spent outside network calls. */
			blocked = min_u64(th->io_blocked_ns, th->off_cpu_ns);
			off_known = min_u64(th->ready_wait_ns, th->off_cpu_ns - blocked);
			t->ready_wait_ns += off_known;
			t->outbound_wait_ns += min_u64(th->io_blocked_outbound_ns, blocked);
			t->inbound_wait_ns += blocked -
					      min_u64(th->io_blocked_outbound_ns, blocked);
			t->off_unknown_ns += th->off_cpu_ns - blocked - off_known;
			t->offcpu_estimated = true;
		}
	}
	if (!waits_known)
		t->runnable_waits = 0;
	if (t->service_threads == t->unknown_threads ||
	    t->unknown_thread_ns > (t->thread_ns + t->unknown_thread_ns) / 10)
		t->have_sched = false;
}

/* --- the syscall source's glue ------------------------------------------ */

static int by_tid_ts(const void *a, const void *b)
{
	const struct np_rec_thread *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static int by_sys_ts(const void *a, const void *b)
{
	const struct np_rec_sys_stats *x = a, *y = b;

	if (x->sys != y->sys)
		return x->sys < y->sys ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* The window boundary a snapshot taken at ts stands for: snapshots are
 * taken about once a window, a few ms after its boundary. */
size_t np_signals_boundary_of(const struct np_signals *s, uint64_t ts)
{
	uint64_t b;

	if (ts <= s->start_ns)
		return 0;
	b = (ts - s->start_ns) / s->window_ns +
	    ((ts - s->start_ns) % s->window_ns >= s->window_ns / 2);
	if (ts >= s->start_ns + s->duration_ns || b > s->n_windows)
		b = s->n_windows;
	return (size_t)b;
}

struct np_sig_thread *np_signals_thread(struct np_signals *s, uint32_t tid)
{
	size_t lo = 0, hi = s->n_threads;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->threads[mid].tid == tid)
			return &s->threads[mid];
		if (s->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Listening ports of the target, as far as the events show them: the local
 * port of an accepted connection, or a local port seen with two different
 * peers (only a listener's connections share a local port). */
static uint8_t *listening_ports(const struct np_recording *rec)
{
	uint8_t *listen = calloc(65536, 1);
	uint32_t *peer = calloc(65536, sizeof(*peer));

	if (!listen || !peer) {
		free(peer);
		return listen;
	}
	for (size_t i = 0; i < rec->n_events; i++) {
		const struct np_sys_event *e = &rec->events[i];
		uint32_t h = 2166136261u;

		if (!(e->flags & NP_EV_ADDR))
			continue;
		if (e->sys == NP_SYS_accept || e->sys == NP_SYS_accept4) {
			listen[e->lport] = 1;
			continue;
		}
		for (int k = 0; k < 16; k++)
			h = (h ^ e->raddr[k]) * 16777619u;
		h = ((h ^ e->rport) * 16777619u) | 1;
		if (!peer[e->lport])
			peer[e->lport] = h;
		else if (peer[e->lport] != h)
			listen[e->lport] = 1;
	}
	free(peer);
	return listen;
}

/* A call on a connection the target opened: connect(), or I/O on a
 * connection whose local port is ephemeral and not a listener's. */
static bool event_is_outbound(const struct np_sys_event *e, const uint8_t *listen)
{
	if (e->sys == NP_SYS_connect)
		return true;
	if (e->sys == NP_SYS_accept || e->sys == NP_SYS_accept4 || !(e->flags & NP_EV_ADDR))
		return false;
	if (listen && listen[e->lport])
		return false;
	return np_signals_port_is_ephemeral(e->lport);
}

static void fill_threads(struct np_signals *s, const struct np_recording *rec,
			 const struct np_report *r)
{
	for (size_t i = 0; i < r->n_threads && s->n_threads < NP_SIG_MAX_THREADS; i++) {
		const struct np_thread_row *row = &r->threads[i]; /* sorted by tid */
		struct np_sig_thread *t = &s->threads[s->n_threads++];

		t->tid = row->tid;
		memcpy(t->comm, row->comm, sizeof(t->comm));
		t->comm[15] = '\0';
		t->window_ns = row->window_ns;
		t->have_sched = row->sched_known;
		t->on_cpu_ns = row->on_cpu_ns;
		t->runnable_ns = row->runnable_ns;
		t->off_cpu_ns = row->off_cpu_ns;
		t->runnable_waits = row->switches_vol + row->switches_invol;
		t->have_syscalls = true;
		t->calls = row->calls;
		t->ready_wait_ns = row->wait_ns;
		t->io_ns = sub0(row->sys_ns, row->wait_ns);
	}
	if (r->n_threads > NP_SIG_MAX_THREADS)
		s->threads_dropped = r->n_threads - NP_SIG_MAX_THREADS;

	/* Slow non-wait calls: blocked time, per thread and per window. */
	struct peer {
		char name[NP_ENDPOINT_LEN];
		uint64_t ns;
	} peers[32];
	size_t n_peers = 0;
	uint8_t *listen = listening_ports(rec);

	for (size_t i = 0; i < rec->n_events; i++) {
		const struct np_sys_event *e = &rec->events[i];
		struct np_sig_thread *t;
		long w;

		if (!(e->flags & NP_EV_SLOW) || e->sys >= NP_SYS_COUNT ||
		    np_sys_kind(e->sys) == NP_KIND_WAIT)
			continue;
		w = np_signals_window_of(s, e->start_ns);
		if (w >= 0)
			s->windows[w].v[NP_W_SLOW_CALLS]++;
		t = np_signals_thread(s, e->tid);
		if (!t)
			continue;
		t->io_blocked_ns += e->dur_ns;
		if (event_is_outbound(e, listen)) {
			char name[NP_ENDPOINT_LEN] = "";
			size_t p;

			t->io_blocked_outbound_ns += e->dur_ns;
			np_signals_spread(s, NP_W_PEER_WAIT_NS, e->start_ns, e->dur_ns);
			if (!(e->flags & NP_EV_ADDR))
				continue;
			np_format_endpoint(e->family, e->raddr, e->rport, name, sizeof(name));
			for (p = 0; p < n_peers; p++)
				if (!strcmp(peers[p].name, name))
					break;
			if (p == n_peers && n_peers < sizeof(peers) / sizeof(peers[0])) {
				snprintf(peers[n_peers].name, sizeof(peers[0].name), "%s", name);
				peers[n_peers++].ns = 0;
			}
			if (p < n_peers)
				peers[p].ns += e->dur_ns;
		}
	}
	free(listen);
	for (size_t p = 0; p < n_peers; p++)
		if (peers[p].ns > s->outbound_peer_ns) {
			s->outbound_peer_ns = peers[p].ns;
			memcpy(s->outbound_peer, peers[p].name, sizeof(s->outbound_peer) - 1);
			s->outbound_peer[sizeof(s->outbound_peer) - 1] = '\0';
		}
	for (size_t i = 0; i < s->n_threads; i++) {
		struct np_sig_thread *t = &s->threads[i];

		t->io_blocked_ns = min_u64(t->io_blocked_ns, t->io_ns);
		t->io_blocked_outbound_ns = min_u64(t->io_blocked_outbound_ns, t->io_blocked_ns);
	}
}

/* Per-window thread values from the once-a-second snapshots. */
static int fill_thread_windows(struct np_signals *s, const struct np_recording *rec)
{
	size_t n;
	const struct np_rec_thread *hist = np_recording_records(rec, NP_BLK_THREADS, &n);
	struct np_rec_thread *v;
	uint64_t *blocked;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	blocked = calloc(s->n_windows, sizeof(*blocked));
	if (!v || !blocked) {
		free(v);
		free(blocked);
		return -ENOMEM;
	}
	memcpy(v, hist, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_tid_ts);

	for (size_t i = 0; i < n;) {
		size_t j = i;
		const struct np_sig_thread *t = np_signals_thread(s, v[i].tid);
		uint64_t prev_on = 0, prev_rq = 0, prev_wait = 0, prev_io = 0;

		while (j < n && v[j].tid == v[i].tid)
			j++;
		if (t && np_signals_thread_is_service(t)) {
			/* time alive per window, from its latest snapshot */
			const struct np_rec_thread *last = &v[j - 1];
			uint64_t first = last->first_ns > s->start_ns ? last->first_ns
								      : s->start_ns;
			uint64_t end = last->flags & NP_THREAD_EXITED
					       ? last->last_ns
					       : s->start_ns + s->duration_ns;

			if (end > first)
				np_signals_spread(s, NP_W_THREAD_NS, first, end - first);
		}
		if (t && np_signals_thread_is_service(t) &&
		    !(v[j - 1].flags & NP_THREAD_NO_SCHED)) {
			for (size_t k = i; k < j; k++) {
				size_t b = np_signals_boundary_of(s, v[k].ts_ns);
				uint64_t io = sub0(v[k].sys_ns, v[k].wait_ns);
				struct np_sig_window *w;

				if (b == 0)
					continue; /* before the first boundary */
				w = &s->windows[b - 1];
				w->v[NP_W_ON_CPU_NS] += sub0(v[k].on_cpu_ns, prev_on);
				w->v[NP_W_RUNNABLE_NS] += sub0(v[k].runq_ns, prev_rq);
				w->v[NP_W_READY_WAIT_NS] += sub0(v[k].wait_ns, prev_wait);
				w->v[NP_W_KERNEL_NET_NS] += sub0(io, prev_io); /* fixed up below */
				prev_on = v[k].on_cpu_ns > prev_on ? v[k].on_cpu_ns : prev_on;
				prev_rq = v[k].runq_ns > prev_rq ? v[k].runq_ns : prev_rq;
				prev_wait = v[k].wait_ns > prev_wait ? v[k].wait_ns : prev_wait;
				prev_io = io > prev_io ? io : prev_io;
			}
		}
		i = j;
	}

	/* Slow I/O time per window, to split window I/O time into blocked
	 * (off-CPU) and on-CPU kernel work. */
	for (size_t i = 0; i < rec->n_events; i++) {
		const struct np_sys_event *e = &rec->events[i];
		long w;

		if (!(e->flags & NP_EV_SLOW) || e->sys >= NP_SYS_COUNT ||
		    np_sys_kind(e->sys) == NP_KIND_WAIT)
			continue;
		w = np_signals_window_of(s, e->start_ns + e->dur_ns);
		if (w >= 0)
			blocked[w] += e->dur_ns;
	}
	for (size_t w = 0; w < s->n_windows; w++) {
		struct np_sig_window *win = &s->windows[w];
		uint64_t io = win->v[NP_W_KERNEL_NET_NS];
		uint64_t stack = min_u64(sub0(io, blocked[w]), win->v[NP_W_ON_CPU_NS]);
		uint64_t busy, off;

		win->v[NP_W_KERNEL_NET_NS] = stack;
		win->v[NP_W_APP_CPU_NS] = win->v[NP_W_ON_CPU_NS] - stack;
		busy = win->v[NP_W_ON_CPU_NS] + win->v[NP_W_RUNNABLE_NS];
		off = sub0(win->v[NP_W_THREAD_NS], busy);
		win->v[NP_W_OFF_NONNET_NS] = sub0(off, win->v[NP_W_READY_WAIT_NS] +
							       min_u64(blocked[w], io));
	}
	free(v);
	free(blocked);
	return 0;
}

/* Per-window call counts and p99 of the I/O calls, from the cumulative
 * per-syscall histograms snapshotted once a second. */
static int fill_syscall_windows(struct np_signals *s, const struct np_recording *rec)
{
	size_t n;
	const struct np_rec_sys_stats *hist = np_recording_records(rec, NP_BLK_SYS_STATS, &n);
	struct np_rec_sys_stats *v;
	__u64(*wh)[NP_HIST_BUCKETS];
	uint64_t *wmax;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	wh = calloc(s->n_windows, sizeof(*wh));
	wmax = calloc(s->n_windows, sizeof(*wmax));
	if (!v || !wh || !wmax) {
		free(v);
		free(wh);
		free(wmax);
		return -ENOMEM;
	}
	memcpy(v, hist, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_sys_ts);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		const struct np_sys_stats *prev = NULL;
		static const struct np_sys_stats zero;

		while (j < n && v[j].sys == v[i].sys)
			j++;
		if (v[i].sys < NP_SYS_COUNT && np_sys_kind(v[i].sys) != NP_KIND_WAIT &&
		    np_sys_kind(v[i].sys) != NP_KIND_CTL) {
			prev = &zero;
			for (size_t k = i; k < j; k++) {
				size_t b = np_signals_boundary_of(s, v[k].ts_ns);
				const struct np_sys_stats *cur = &v[k].stats;

				if (b == 0 || cur->count < prev->count)
					continue;
				for (int h = 0; h < NP_HIST_BUCKETS; h++)
					wh[b - 1][h] += sub0(cur->hist[h], prev->hist[h]);
				s->windows[b - 1].v[NP_W_IO_CALLS] += cur->count - prev->count;
				if (cur->count > prev->count && cur->max_ns > wmax[b - 1])
					wmax[b - 1] = cur->max_ns;
				prev = cur;
			}
		}
		i = j;
	}
	for (size_t w = 0; w < s->n_windows; w++)
		s->windows[w].v[NP_W_IO_P99_NS] = np_hist_quantile(wh[w], NP_HIST_BUCKETS, 0.99,
								   wmax[w]);
	free(v);
	free(wh);
	free(wmax);
	return 0;
}

int np_signals_from_syscalls(struct np_signals *s, const struct np_recording *rec,
			     const struct np_report *r)
{
	const char *comm = np_recording_meta(rec, "comm");
	bool any_sched = false;
	int rc;

	if (!s->windows) {
		rc = np_signals_init_windows(s, r->start_ns, r->duration_ns);
		if (rc)
			return rc;
	}
	s->threshold_ns = r->threshold_ns;
	s->host_cpus = (uint32_t)np_recording_meta_u64(rec, "cpus", 0);
	s->target_pid = (uint32_t)np_recording_meta_u64(rec, "pid", 0);
	snprintf(s->target_comm, sizeof(s->target_comm), "%s", comm ? comm : "");
	for (size_t i = 0; i < rec->n_sources && s->n_degraded < 8; i++) {
		/* some target sockets were in network namespaces not polled */
		bool unpolled = !strcmp(rec->sources[i].name, "sockets") && r->net.netns_unpolled;

		if (rec->sources[i].status != NP_SOURCE_OK || unpolled)
			snprintf(s->degraded[s->n_degraded++], NP_SIG_NAME_LEN, "%s",
				 rec->sources[i].name);
	}

	fill_threads(s, rec, r);
	for (size_t i = 0; i < s->n_threads; i++)
		any_sched |= s->threads[i].have_sched;
	s->wknown |= 1ull << NP_W_SLOW_CALLS | 1ull << NP_W_PEER_WAIT_NS;
	rc = fill_syscall_windows(s, rec);
	if (rc)
		return rc;
	if (rec->have_sys_stats)
		s->wknown |= 1ull << NP_W_IO_CALLS | 1ull << NP_W_IO_P99_NS;
	rc = fill_thread_windows(s, rec);
	if (rc)
		return rc;
	if (any_sched)
		s->wknown |= 1ull << NP_W_THREAD_NS | 1ull << NP_W_ON_CPU_NS |
			     1ull << NP_W_APP_CPU_NS | 1ull << NP_W_KERNEL_NET_NS |
			     1ull << NP_W_RUNNABLE_NS | 1ull << NP_W_OFF_NONNET_NS |
			     1ull << NP_W_READY_WAIT_NS;
	return 0;
}

int np_signals_from_cgroup_cpu(struct np_signals *s, const struct np_recording *rec)
{
	size_t n = 0;
	const struct np_rec_cgroup_cpu *v = np_recording_records(rec, NP_BLK_CGROUP_CPU, &n);
	const struct np_rec_cgroup_cpu *a, *b;

	/* one record is a limit without a window to count throttling in */
	if (!v || n < 2)
		return 0;
	a = &v[0];
	b = &v[n - 1];
	/* counters that went back belong to another cgroup (the process moved,
	 * or the cgroup was recreated): not this window's */
	if (strcmp(a->path, b->path) || b->nr_periods < a->nr_periods ||
	    b->nr_throttled < a->nr_throttled || b->throttled_ns < a->throttled_ns)
		return 0;
	s->have_cpu_quota = true;
	s->quota_version = b->version;
	s->quota_us = b->quota_us;
	s->quota_period_us = b->period_us;
	s->quota_periods = b->nr_periods - a->nr_periods;
	s->quota_throttled = b->nr_throttled - a->nr_throttled;
	s->quota_throttled_ns = b->throttled_ns - a->throttled_ns;
	snprintf(s->quota_cgroup, sizeof(s->quota_cgroup), "%.127s", b->path);
	return 0;
}

struct np_sig_cpu *np_signals_cpu(struct np_signals *s, uint32_t cpu)
{
	struct np_sig_cpu *o;

	for (size_t i = 0; i < s->n_cpus; i++)
		if (s->cpus[i].cpu == cpu)
			return &s->cpus[i];
	if (s->n_cpus >= NP_SIG_MAX_CPUS)
		return NULL;
	o = &s->cpus[s->n_cpus++];
	memset(o, 0, sizeof(*o));
	o->cpu = cpu;
	return o;
}
