/* signals.h - every number the attribution rules look at, in one plain
 * struct: the single input of the analysis (findings.c).
 *
 * The rules never read a recording, a source's report struct or the live
 * system: they read struct np_signals.  Each source fills its part through
 * one glue function, np_signals_from_<source>() (the syscall source's is in
 * signals.c), so a new source makes new rules fire without touching the
 * rules, and the rules can be tested on synthetic signals.
 *
 * Unknown is not zero.  Every group of fields has a `have_*` flag that is
 * false until the source that measures it has run and filled it; a rule
 * whose inputs are unknown does not fire.  Per-window values have a bit in
 * np_signals.wknown for the same purpose.
 *
 * Units are in the names (_ns, _bytes, _pkts); plain counts are deltas over
 * the recording window unless said otherwise; "share" fields are 0..1.
 * Not for display: the text/JSON/HTML sections render the sources' own
 * report structs; signals only carry what the rules need (plus names for
 * the evidence).
 */
#ifndef NP_SIGNALS_H
#define NP_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/model/exchange_report.h" /* NP_ACK_DELAY_MIN_NS */

/* Correlation windows are this long (the recorder snapshots its totals once
 * a second, so per-window deltas line up with its snapshots). */
#define NP_SIG_WINDOW_NS 1000000000ull

/* More windows than this (a recording over about 4 hours) and each window
 * is made a whole number of seconds longer. */
#define NP_SIG_MAX_WINDOWS 14400

#define NP_SIG_NAME_LEN 64 /* function, interface, socket and source names */
#define NP_SIG_MAX_THREADS 256
#define NP_SIG_MAX_HOT 8
#define NP_SIG_MAX_CPUS 256
#define NP_SIG_MAX_IFACES 16
#define NP_SIG_MAX_REASONS 8

/* Per-window values.  The unit of each is in np_wmetric_info[] (and in the
 * comment); a value is meaningful only if its bit is set in sig->wknown. */
enum np_wmetric {
	NP_W_THREAD_NS,          /* ns: time the service's threads existed in the window */
	NP_W_ON_CPU_NS,          /* ns: service threads on a CPU */
	NP_W_APP_CPU_NS,         /* ns: of which in the application (not the net stack) */
	NP_W_KERNEL_NET_NS,      /* ns: of which in the kernel network stack */
	NP_W_RUNNABLE_NS,        /* ns: runnable, waiting for a CPU */
	NP_W_OFF_NONNET_NS,      /* ns: off-CPU outside network waits (locks, disk, sleep) */
	NP_W_READY_WAIT_NS,      /* ns: in readiness waits (epoll_wait, poll, select) */
	NP_W_PEER_WAIT_NS,       /* ns: blocked on connections the service opened */
	NP_W_IO_CALLS,           /* count: network I/O and connection calls */
	NP_W_IO_P99_NS,          /* ns: p99 latency of those calls in the window */
	NP_W_SLOW_CALLS,         /* count: of those, slower than the threshold */
	NP_W_EXCH_COUNT,         /* count: exchanges served that ended in the window */
	NP_W_EXCH_P50_NS,        /* ns */
	NP_W_EXCH_P99_NS,        /* ns */
	NP_W_RECVQ_PEAK_BYTES,   /* bytes: largest Recv-Q of a service socket */
	NP_W_ACCEPTQ_PEAK,       /* count: largest accept queue */
	NP_W_LISTEN_OVERFLOWS,   /* count: ListenOverflows + ListenDrops */
	NP_W_SOCKET_DROPS,       /* count: receive-queue/backlog/prune drops */
	NP_W_RETRANS_SEGS,       /* count: TCP RetransSegs */
	NP_W_TCP_TIMEOUTS,       /* count: TCPTimeouts */
	NP_W_NETFILTER_DROPS,    /* count: kfree_skb NETFILTER_DROP */
	NP_W_NET_RX_NS,          /* ns: NET_RX softirq time, all CPUs */
	NP_W_NET_RX_MAX_CPU_NS,  /* ns: NET_RX softirq time of the busiest CPU */
	NP_W_SOFTNET_DROPS,      /* count: softnet_stat dropped */
	NP_W_TIME_SQUEEZE,       /* count: softnet_stat time_squeeze */
	NP_W_NIC_RX_DROPS,       /* count: NIC/driver receive drops (see nic.rx_drops) */
	NP_W_NIC_ERRORS,         /* count: link errors + carrier changes + tx timeouts */
	NP_W_QDISC_DROPS,        /* count */
	NP_W_QDISC_BACKLOG_PKTS, /* packets: peak qdisc backlog */
	NP_W_RCVBUF_BYTES,       /* bytes: receive buffer of the socket whose queue filled most */
	NP_W_ACCEPTQ_LIMIT,      /* count: accept queue limit of the fullest listener */
	NP_W_COUNT
};

struct np_wmetric_info {
	const char *name; /* stable identifier, used in JSON */
	const char *unit; /* "ns", "count", "bytes", "packets" */
};
extern const struct np_wmetric_info np_wmetric_info[NP_W_COUNT];

struct np_sig_window {
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	uint64_t v[NP_W_COUNT];
};

/* One thread of the target.  A thread is a service thread if it made a
 * traced network call in the window (or, with the scheduler source, waited
 * on the network); only service threads count towards latency. */
struct np_sig_thread {
	uint32_t tid;
	char comm[16];
	uint64_t window_ns; /* time it existed inside the window */

	bool have_sched; /* on/runnable/off known (schedstat polls or sched tracer) */
	uint64_t on_cpu_ns, runnable_ns, off_cpu_ns;
	uint64_t runnable_waits; /* times it waited to run (switches out); 0 unknown */

	bool have_syscalls; /* the syscall source saw it */
	uint64_t calls;
	uint64_t ready_wait_ns; /* in readiness waits */
	uint64_t io_ns;         /* in the other traced calls (I/O, connect, accept, ...) */
	uint64_t io_blocked_ns; /* of io_ns, in calls over the threshold: blocked, off-CPU */
	uint64_t io_blocked_outbound_ns; /* of which on connections the target opened */

	bool have_cpu_split; /* CPU samples: where on-CPU time went */
	uint64_t user_ns, kernel_net_ns, kernel_other_ns;

	uint64_t samples;         /* CPU samples the split was made from */
	uint64_t softirq_samples; /* of which in softirq context */

	bool have_offcpu_reasons; /* sched tracer: why it was off CPU */
	uint64_t off_net_ns;      /* blocked in socket I/O, accept, connect */
	uint64_t off_poll_ns;     /* in readiness waits (epoll_wait, poll, select) */
	uint64_t off_lock_ns, off_disk_ns, off_sleep_ns, off_other_ns;
};

/* One place the service's threads waited off CPU outside the network
 * (sched tracer): what they waited for, in which system call, and where in
 * the kernel. */
struct np_sig_wait {
	char reason[16];             /* "lock", "disk", "sleep", "other" */
	char syscall[32];            /* "futex", "" when none */
	char where[NP_SIG_NAME_LEN]; /* innermost telling kernel frames */
	uint64_t ns, count;
};

struct np_sig_hot {
	char function[NP_SIG_NAME_LEN];
	char module[NP_SIG_NAME_LEN];
	double share; /* of on-CPU samples of the service, self time */
};

struct np_sig_cpu {
	uint32_t cpu;
	uint64_t net_rx_ns, net_tx_ns; /* softirq time: only with np_signals.have_softirq_time */
	uint64_t softnet_dropped, time_squeeze, processed_pkts;
	uint64_t net_rx_count; /* NET_RX softirqs raised (/proc/softirqs) */
	uint64_t softirq_ns;   /* all softirq time of the CPU (/proc/stat); 0 unknown */
	uint64_t busy_ns, steal_ns,
		stat_ns; /* /proc/stat: not idle, stolen by the hypervisor, all */
	/* The service's threads on this CPU (np_signals.have_softirq_steal):
	 * on it, and runnable until they got it; of those, the time network
	 * softirq took: interrupted (their CPU samples in NET_RX/NET_TX
	 * context) and the run-queue wait it accounts for (signals_steal.c). */
	uint64_t svc_on_cpu_ns, svc_runnable_ns;
	uint64_t svc_interrupted_ns, svc_runq_softirq_ns;
	/* NET_RX + NET_TX time / the CPU's busy time the service did not use */
	double net_share_of_others;
};

struct np_sig_iface {
	char name[NP_SIG_NAME_LEN];
	char kind[16]; /* rtnetlink link kind: "veth", "bridge"; "" for a device */
	bool hardware; /* a device of its own (no link kind, not loopback) */
	/* The NIC layer of the service's traffic: a hardware NIC, or the
	 * device end of a virtual one (veth, tun/tap) whose driver drops
	 * (ring full, XDP) stand where a NIC's would.  False for loopback,
	 * bridges, bonds and other software aggregates. */
	bool nic_layer;

	bool have_link; /* rtnetlink link stats64 */
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;
	uint64_t rx_dropped, tx_dropped, rx_missed, rx_errors, tx_errors, carrier_changes;

	bool have_driver; /* ethtool -S: the driver's own drop and timeout counters */
	uint64_t driver_rx_drops, driver_tx_drops, tx_timeouts;
	char driver_top[32]; /* the driver drop counter that moved most ("rx_queue_0_xdp_drops") */

	bool have_qdisc; /* root qdisc, tc -s */
	char qdisc_kind[16];
	uint64_t qdisc_drops, qdisc_overlimits, qdisc_requeues;
	uint64_t qdisc_backlog_max_pkts, qdisc_backlog_max_bytes;

	bool have_offloads; /* ethtool -k; true = on, or off only because the device cannot */
	bool tso, gso, gro, rx_csum, tx_csum;

	bool have_rps; /* any rx queue with a non-empty rps_cpus mask */
	bool rps_on;
	uint32_t rx_queues;
};

struct np_sig_reason {
	char name[NP_SIG_NAME_LEN]; /* kernel's skb_drop_reason name, "NETFILTER_DROP" */
	uint64_t count;
};

struct np_signals {
	uint64_t start_ns, duration_ns;    /* the recording window */
	uint64_t threshold_ns;             /* calls slower than this were recorded one by one */
	uint32_t host_cpus;                /* 0: unknown */
	char target_comm[NP_SIG_NAME_LEN]; /* for advice; never used by a rule's condition */
	uint32_t target_pid;

	/* Windows of window_ns (NP_SIG_WINDOW_NS unless the recording is very
	 * long) from start_ns; the last one ends at the end of the recording
	 * (between 0.5 and 1.5 windows long). */
	uint64_t window_ns;
	struct np_sig_window *windows;
	size_t n_windows;
	uint64_t wknown; /* bit (1 << enum np_wmetric): that per-window value is known */

	/* Threads (syscall source + schedstat today; scheduler tracer and CPU
	 * samples refine them).  Totals over service threads are derived by
	 * np_signals_totals(). */
	struct np_sig_thread threads[NP_SIG_MAX_THREADS];
	size_t n_threads;
	size_t threads_dropped; /* beyond NP_SIG_MAX_THREADS: not counted */
	/* The remote end the service waited on longest in blocked calls on
	 * connections it opened ("ip:port"), and for how long. */
	char outbound_peer[NP_SIG_NAME_LEN];
	uint64_t outbound_peer_ns;
	/* The slowest operation on a peer by p99, of the recorded outbound
	 * exchanges grouped per peer, protocol and label: "redis GET" (empty
	 * without a label) at "127.0.0.1:6379". */
	bool have_slowest_op;
	char slowest_op[NP_SIG_NAME_LEN];
	char slowest_op_peer[NP_SIG_NAME_LEN];
	uint64_t slowest_op_p99_ns, slowest_op_count;

	/* CPU samples: the service's hottest functions. */
	bool have_cpu_samples;
	uint64_t cpu_samples;
	struct np_sig_hot hot[NP_SIG_MAX_HOT];
	size_t n_hot;
	uint64_t cpu_softirq_samples; /* of the service's samples, in softirq context */
	/* Off CPU outside the network (sched tracer, service threads), the
	 * longest first. */
	struct np_sig_wait waits[4];
	size_t n_waits;

	/* Exchanges (a request read, its response written): the served ones'
	 * latency and the sum of their components; outbound = the target's own
	 * requests to peers. */
	bool have_exchanges;
	uint64_t exch_count, exch_outbound_count;
	uint64_t exch_p50_ns, exch_p99_ns;
	uint64_t exch_total_ns; /* sum of the served exchanges' latency */
	uint64_t exch_queued_ns, exch_app_ns, exch_tx_ns, exch_peer_ns;
	/* tx ends when the driver takes the last segment: all of it is the
	 * stack's.  Of it, the part below TCP (qdisc, device queue), when the
	 * segments' departure from TCP was seen; the rest TCP held back
	 * (congestion or receive window, small-queue limits). */
	bool have_exch_qdisc;
	uint64_t exch_tx_qdisc_ns;
	/* The same components unscaled: summed over the exchanges they were
	 * seen for.  An exchange's total holds only the components seen for
	 * it, so these are parts of exch_total_ns (and qdisc of tx), which
	 * the scaled estimates above are not: shares are taken of these. */
	uint64_t exch_queued_seen_ns, exch_tx_seen_ns, exch_tx_qdisc_seen_ns;
	/* Nagle against delayed ACKs: exchanges whose tx was seen, those of
	 * them whose tx fell in the band of a peer's delayed ACK
	 * (NP_ACK_DELAY_*), the median tx, and the served exchanges with a
	 * response write Nagle's algorithm held back (TCP_NODELAY off). */
	uint64_t exch_tx_known, exch_tx_ack_delay, exch_tx_p50_ns;
	uint64_t exch_nagle_held;
	/* The same on the peers' side: outbound replies that came in two
	 * parts, those whose wait fell in the delayed-ACK band (a peer writing
	 * with Nagle on), and the median wait. */
	uint64_t exch_reply_parts, exch_reply_parts_ack_delay, exch_reply_part_p50_ns;
	/* Requests hit by loss: a retransmit or a drop on their connection
	 * while they were in flight, estimated from the recorded exchanges
	 * (report/model/xch_loss.h); the drop reason that hit most, or "". */
	bool have_exch_loss;
	double exch_loss_share;
	uint64_t exch_loss_events, exch_loss_p50_ns, exch_loss_others_p50_ns;
	char exch_loss_reason[48];

	/* The target's sockets (sock_diag). */
	bool have_sockets;
	uint32_t n_sockets;
	/* The connected socket whose receive queue came closest to its limit
	 * (and held data in at least two polls): its peak queued bytes (the
	 * larger of Recv-Q and the queue's memory) and receive buffer. */
	uint64_t recvq_peak_bytes; /* Recv-Q: unread payload bytes */
	uint64_t
		recvq_mem_peak_bytes; /* the queue's memory (skmem r), which the limit applies to */
	uint64_t recvq_rcvbuf_bytes;
	uint32_t recvq_polls;              /* polls in which that socket had data queued */
	char recvq_where[NP_SIG_NAME_LEN]; /* "ip:port -> ip:port" */
	bool recvq_udp;                    /* ... and that socket is UDP (ss -uanpi, not -t) */
	uint64_t busy_ns;                  /* tcp_info busy time, all connections */
	uint64_t rwnd_limited_ns;          /* peer's receive window was the limit */
	uint64_t sndbuf_limited_ns;        /* our send buffer was the limit */
	uint64_t sock_retrans;             /* retransmitted segments on the target's sockets */
	/* Packets the target's sockets dropped (skmem d), by protocol: which
	 * buffer advice fits (tcp_rmem is TCP's only), and the UDP socket that
	 * dropped the most. */
	uint64_t sock_drops_tcp, sock_drops_udp;
	char udp_drops_where[NP_SIG_NAME_LEN];
	char retrans_where[NP_SIG_NAME_LEN]; /* the socket with the most */

	/* Listening sockets. */
	bool have_listen;
	uint64_t listen_sock_drops;           /* skmem d of the listeners: their own ListenDrops */
	uint64_t acceptq_peak, acceptq_limit; /* sk_ack_backlog peak, sk_max_ack_backlog */
	char listen_where[NP_SIG_NAME_LEN];
	/* The accept-queue limit the kernel applies to that listener is
	 * min(listen() backlog, net.core.somaxconn): equal to somaxconn means
	 * the application asked for at least that much and was capped. */
	bool have_backlog_config;
	uint64_t backlog_limit, somaxconn; /* the largest listener limit, and somaxconn */
	char backlog_where[NP_SIG_NAME_LEN];

	/* /proc/net/snmp and netstat (host-wide, or the target's netns). */
	bool have_udp_counters;
	uint64_t udp_rcvbuf_errors; /* Udp RcvbufErrors: datagrams dropped, receive buffer full */
	bool have_tcp_counters;
	uint64_t out_segs, retrans_segs, tcp_timeouts, loss_probes;
	/* retransmitted segments the peers had already received (DSACK), and
	 * the share of retrans_segs they are: 0 when the counter is absent */
	uint64_t dsack_segs;
	double spurious_share;
	uint64_t listen_overflows, listen_drops;
	uint64_t prune_called, rcv_pruned, ofo_pruned, rcvq_drops, backlog_drops;
	uint64_t
		to_zero_window_adv; /* TCPToZeroWindowAdv: a full receive buffer closed the window */
	uint64_t zero_window_drops; /* TCPZeroWindowDrop: data dropped because the window was 0 */

	/* kfree_skb drop reasons for the target's traffic. */
	bool have_drop_reasons;
	uint64_t drops_netfilter, drops_socket_filter, drops_rcvbuf, drops_backlog, drops_other;
	struct np_sig_reason top_reasons[NP_SIG_MAX_REASONS];
	size_t n_reasons;

	/* The kernel stack source's events on the target's own sockets: drops
	 * for want of buffer space (SOCKET_RCVBUFF, backlog, full receive
	 * queue), netfilter drops, retransmissions. */
	bool have_target_events;
	uint64_t target_buffer_drops, target_netfilter_drops, target_retrans;

	/* Conntrack. */
	bool have_conntrack;
	uint64_t conntrack_peak, conntrack_max, conntrack_drops;

	/* Softirq and softnet per CPU.  have_softirq: softnet_stat and the
	 * softirq counts; have_softirq_time: NET_RX/NET_TX time per CPU too
	 * (softirq tracepoints). */
	bool have_softirq, have_softirq_time;
	struct np_sig_cpu cpus[NP_SIG_MAX_CPUS];
	size_t n_cpus;

	/* CPUs the target's threads ran on (scheduler tracer switch-ins, CPU
	 * samples): bit cpu % 64 of target_cpus[cpu / 64]. */
	bool have_target_cpus;
	uint64_t target_cpus[NP_SIG_MAX_CPUS / 64];

	/* Network softirq on the service's CPUs (signals_steal.c): needs the
	 * scheduler tracer's switch-ins and the softirq tracepoints.  The CPU
	 * where it took the most of the service's time, and what steers
	 * network work there: each steering is "IFACE rx-Q" (rps_cpus holds
	 * the CPU), "IFACE tx-Q" (xps_cpus), or "IRQ N (desc)" (it fired
	 * there), with its mask or count. */
	bool have_softirq_steal;
	uint32_t steal_cpu;
	uint64_t steal_interrupted_ns, steal_runq_ns; /* all CPUs */
	bool steal_have_samples;                      /* interrupted time is known */
	struct np_sig_steering {
		char what[12]; /* "rps_cpus", "xps_cpus", "irq" */
		char where[NP_SIG_NAME_LEN + 40];
		uint64_t value; /* the mask's CPU count, or the IRQ's count there */
	} steering[3];
	size_t n_steering;
	bool steal_have_rfs, steal_rfs_on; /* rps_sock_flow_entries and rps_flow_cnt > 0 */

	/* Interfaces the target's traffic uses. */
	struct np_sig_iface ifaces[NP_SIG_MAX_IFACES];
	size_t n_ifaces;

	/* The CPU limit of the target's cgroup (cpu controller, v1 or v2) and
	 * how often it bit in the window: deltas of the kernel's cpu.stat. */
	bool have_cpu_quota;
	uint32_t quota_version; /* 1: cpu.cfs_quota_us, 2: cpu.max */
	uint64_t quota_us;      /* UINT64_MAX: no limit */
	uint64_t quota_period_us;
	uint64_t quota_periods;      /* nr_periods: periods in which the cgroup ran */
	uint64_t quota_throttled;    /* nr_throttled: of those, cut off by the quota */
	uint64_t quota_throttled_ns; /* time its runnable tasks waited for the next period */
	char quota_cgroup[128];

	/* The profiler's own sources that did not fully run, for the report's
	 * caveats ("no CPU samples: ..."). */
	char degraded[8][NP_SIG_NAME_LEN];
	size_t n_degraded;
};

/* Whose evidence: counters of the host or the namespace (UdpRcvbufErrors,
 * TcpExt prune and drop counters, ListenDrops, softnet_stat, kfree_skb
 * reasons) move for any process.  Each is the target's only when its own
 * sockets or CPUs show the matching signal; np_signals_owner() is the one
 * place that decides, so that a rule never blames the service for another
 * process's overflow. */
enum np_owner {
	NP_OWNER_UNKNOWN = 0, /* the target's side was not measured */
	NP_OWNER_TARGET,      /* its own sockets, threads, CPUs or interfaces */
	NP_OWNER_ELSEWHERE,   /* moved, but none of the target's own signals match */
};

/* The shared counters a rule can read, by what the target must show. */
enum np_shared {
	NP_SHARED_NONE = 0,        /* not shared: the target's own (sockets, threads, ...) */
	NP_SHARED_UNCHECKED,       /* host or namespace wide, no ownership test yet */
	NP_SHARED_SOCKET_DROPS,    /* its sockets' drops, or a receive queue near its limit */
	NP_SHARED_LISTEN_DROPS,    /* its listeners' drops, or an accept queue at its limit */
	NP_SHARED_SOFTNET_DROPS,   /* softnet drops on a CPU its threads ran on */
	NP_SHARED_NETFILTER_DROPS, /* drops or retransmissions on its connections */
};

struct np_sig_owner {
	enum np_owner owner;
	/* The shared counter that moved most, and by how much ("UdpRcvbufErrors") */
	char counter[48];
	uint64_t value;
	/* The target's own matching signal when owner is NP_OWNER_TARGET, and
	 * in words what the target did not show when NP_OWNER_ELSEWHERE. */
	char own[48];
	uint64_t own_value;
	char none[128];
};

/* The row of `cpu`, added (zeroed) the first time; NULL past
 * NP_SIG_MAX_CPUS. */
struct np_sig_cpu *np_signals_cpu(struct np_signals *s, uint32_t cpu);

void np_signals_owner(const struct np_signals *s, enum np_shared what, struct np_sig_owner *out);
const char *np_owner_name(enum np_owner o); /* "target", "elsewhere", "unknown" */
/* A receive queue is near its limit at this fill (and a full accept queue
 * at 1): the target's own sign of a buffer overflow. */
#define NP_OWN_QUEUE_NEAR_LIMIT 0.9

/* Totals over the service threads, derived from threads[]: what the rules
 * and the breakdown use.  Every estimate made from the syscall source
 * alone is marked by the *_estimated flags so the evidence can say so. */
struct np_sig_totals {
	/* Scheduler times are known for the service threads, but for short
	 * lived ones (between two polls) that together lived at most 10% of
	 * the service threads' time; those are left out of the sums below. */
	bool have_sched;
	size_t service_threads;
	size_t unknown_threads;
	uint64_t unknown_thread_ns;
	/* sum over the service threads with known times of window_ns, or of
	 * on-CPU + runnable + off-CPU where those add up to more */
	uint64_t thread_ns;
	uint64_t on_cpu_ns, runnable_ns, off_cpu_ns;
	/* How many times the threads with run-queue time waited to run; 0 when
	 * a thread's count is unknown. */
	uint64_t runnable_waits;
	uint64_t app_cpu_ns, kernel_net_ns; /* on_cpu_ns = app_cpu_ns + kernel_net_ns */
	bool cpu_split_estimated;           /* from syscall times, not CPU samples */
	uint64_t ready_wait_ns;             /* idle unless work was queued */
	uint64_t off_nonnet_ns; /* locks, disk, sleep (the scheduler tracer's reasons) */
	/* Off CPU outside traced network calls, reason not recorded: a sleep
	 * or a lock in the request path, a worker parked waiting for work, or
	 * a readiness wait still in flight at the edge of the window (the
	 * syscall source counts calls when they return).  Counted as idle in
	 * the breakdown, and app.blocked from it is at most info. */
	uint64_t off_unknown_ns;
	bool offcpu_estimated;     /* some of the off-CPU time has no reason */
	uint64_t inbound_wait_ns;  /* blocked on connections peers opened (idle-like) */
	uint64_t outbound_wait_ns; /* blocked on connections the target opened (peer) */
	uint64_t other_threads_ns; /* threads that did no network work: idle */
	/* the most on-CPU service thread; borrowed from the signals */
	const struct np_sig_thread *busiest;
};

void np_signals_totals(const struct np_signals *s, struct np_sig_totals *t);

/* Allocates the windows for [start, start + duration); 0 or -ENOMEM. */
int np_signals_init_windows(struct np_signals *s, uint64_t start_ns, uint64_t duration_ns);
/* The window holding ts_ns, or -1. */
long np_signals_window_of(const struct np_signals *s, uint64_t ts_ns);
/* Frees what np_signals_* allocated (not s itself); accepts NULL. */
void np_signals_fini(struct np_signals *s);

/* True when port is in Linux's default ephemeral range (32768..60999):
 * a connection whose local port is ephemeral was opened by the target. */
bool np_signals_port_is_ephemeral(uint16_t port);

/* Glue: one function per source.  Each fills its groups and sets their
 * have_* flags and wknown bits; none of them clears another's. */
struct np_recording;
struct np_report;
int np_signals_from_syscalls(struct np_signals *s, const struct np_recording *rec,
			     const struct np_report *r);
/* CPU samples and the scheduler tracer (signals_cpu.c): exact thread times,
 * off-CPU reasons, the on-CPU split by frame class, hot functions.  Runs
 * after np_signals_from_syscalls() and replaces its estimates where the
 * recording has the better data. */
int np_signals_from_cpu(struct np_signals *s, const struct np_recording *rec,
			const struct np_report *r);
/* Sockets, interfaces, softirq and TCP counters, configuration
 * (signals_net.c). */
int np_signals_from_net(struct np_signals *s, const struct np_recording *rec,
			const struct np_report *r);
/* Exchanges: latency and its components (signals_stack.c). */
int np_signals_from_exchanges(struct np_signals *s, const struct np_recording *rec,
			      const struct np_report *r);
/* Kernel stack: drops by reason, NET_RX/NET_TX time per CPU
 * (signals_stack.c).  Runs after np_signals_from_net(), whose per-CPU rows
 * it completes. */
int np_signals_from_netstack(struct np_signals *s, const struct np_recording *rec,
			     const struct np_report *r);
/* Network softirq on the service's CPUs (signals_steal.c): per CPU, the
 * service's run-queue time and CPU samples against that CPU's NET_RX and
 * NET_TX time, and the RPS/XPS/IRQ steering that puts work there.  Runs
 * after np_signals_from_netstack(). */
int np_signals_from_steal(struct np_signals *s, const struct np_recording *rec,
			  const struct np_report *r);
/* The target cgroup's CPU quota and throttling (signals.c), from the first
 * and last NP_BLK_CGROUP_CPU records. */
int np_signals_from_cgroup_cpu(struct np_signals *s, const struct np_recording *rec);

/* Shared by the glue functions (signals.c). */
struct np_sig_thread *np_signals_thread(struct np_signals *s, uint32_t tid);
bool np_signals_thread_is_service(const struct np_sig_thread *t);
/* The window boundary (1..n_windows) a once-a-window snapshot taken at
 * ts_ns stands for, 0 before the first one. */
size_t np_signals_boundary_of(const struct np_signals *s, uint64_t ts_ns);
/* Adds the part of [from, from + ns) in each window to metric m. */
void np_signals_spread(struct np_signals *s, enum np_wmetric m, uint64_t from, uint64_t ns);

#endif /* NP_SIGNALS_H */
