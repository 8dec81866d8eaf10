/* netrec.h - the records of the socket, NIC, softirq and host-counter
 * sources (block types 32..47 in timeline.h).
 *
 * How a recording stays small (a 60 s recording at 10 polls/s of 1,000
 * sockets):
 *   - identities (sockets, interfaces, ethtool counter names, IRQs) are
 *     written once; samples refer to them by a small id;
 *   - a socket sample is written only when something in it changed since
 *     that socket's last written sample, and at most NP_SOCK_SAMPLES_PER_POLL
 *     per poll, busiest first (largest queues, then retransmits, then bytes
 *     moved); every socket's peaks and deltas are kept exactly anyway in its
 *     np_rec_sock_summary, and every poll's aggregates (queue sums and maxima,
 *     retransmits) in np_rec_net_poll, so nothing depends on the sampling;
 *   - link, qdisc, ethtool, IRQ and snmp samples are written only when a
 *     value changed; ethtool and IRQ samples carry one value each.
 * Idle sockets and idle interfaces therefore cost nothing per poll.
 *
 * Counters are cumulative as the kernel reports them (32-bit ones already
 * unwrapped to 64 bits by the collector); the report takes differences.
 * Gauges (queues, backlog) are instantaneous values at ts_ns.
 */
#ifndef NP_NETREC_H
#define NP_NETREC_H

#include <stdint.h>

/* CPUs beyond this are ignored when polled (counted in the parse results)
 * and when read back from a recording. */
#define NP_NET_MAX_CPUS 1024

#define NP_SOCK_SAMPLES_PER_POLL 64

/* np_rec_sock_info.flags */
#define NP_SOCK_LISTENER 0x1

/* Which process holds a socket (a service only): one record when the fd
 * walk first finds the socket in a process's fd table. */
struct np_rec_sock_pid {
	uint64_t inode;
	uint32_t pid;
	uint32_t reserved;
};

/* A TCP listener in a process's fd table (a service only): one record per
 * (socket, process) when the fd walk first finds it there.  The listeners
 * a service's workers share, and those each has of its own with
 * SO_REUSEPORT. */
#define NP_LISTEN_REUSEPORT 0x1
struct np_rec_listen_holder {
	uint64_t inode;
	uint32_t pid;
	uint8_t flags;  /* NP_LISTEN_* */
	uint8_t family; /* AF_INET, AF_INET6 */
	uint16_t lport; /* host order */
	uint8_t laddr[16];
};

/* A socket outside the primary target's network namespace (a child that
 * entered another one): one record per socket, written with its
 * NP_BLK_SOCK_INFO, or when first seen if its namespace was not polled.
 * Sockets without one live in the primary namespace, primary_ino. */
#define NP_SOCKNS_UNPOLLED 0x1 /* past the cap on namespaces, or not enterable */
struct np_rec_sock_netns {
	uint64_t inode;
	uint64_t netns_ino;   /* its namespace: the inode of /proc/PID/ns/net */
	uint64_t primary_ino; /* the primary target's namespace */
	uint32_t pid;         /* the process whose fd table showed it */
	uint32_t flags;       /* NP_SOCKNS_* */
};

struct np_rec_sock_info {
	uint64_t ts_ns; /* first seen */
	uint64_t inode;
	uint64_t cookie; /* the kernel's socket cookie */
	uint32_t id;     /* samples and summaries refer to this */
	uint8_t family;  /* AF_INET, AF_INET6 */
	uint8_t proto;   /* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t state;   /* TCP state at first sight (UDP: 1 connected, 7 not) */
	uint8_t flags;   /* NP_SOCK_* */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint32_t backlog_limit; /* listeners: the accept queue limit the kernel applies */
};

/* One socket as one poll saw it. */
struct np_rec_sock_sample {
	uint64_t ts_ns;
	uint32_t id;
	uint8_t state, ca_state;
	uint16_t flags;  /* NP_SOCK_* */
	uint32_t recv_q; /* unread bytes; listeners: connections waiting for accept() */
	uint32_t send_q; /* unacked bytes; listeners: the accept queue limit */
	uint32_t rtt_us, rttvar_us;
	uint32_t snd_cwnd, unacked, lost, retrans_now;
	uint32_t total_retrans;
	uint32_t rmem_alloc, rcvbuf, wmem_queued, sndbuf, sk_drops;
	uint32_t notsent_bytes, backlog;
	uint64_t delivery_rate; /* bytes/s */
	uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us;
	uint64_t bytes_acked, bytes_received;
};

/* np_rec_sock_summary.flags */
#define NP_SOCKSUM_CLOSED 0x1 /* gone from the target's fds before the end */

/* One socket over the part of the window it was seen in, as of ts_ns.
 * Deltas are from its first to its last poll. */
struct np_rec_sock_summary {
	uint64_t ts_ns;
	uint32_t id;
	uint32_t flags;
	uint64_t first_ns, last_ns;
	uint32_t polls;
	uint32_t polls_recv_q; /* polls with recv_q > 0 */
	uint32_t recv_q_max, send_q_max;
	uint64_t recv_q_max_ns;          /* when recv_q peaked */
	uint64_t recv_q_sum, send_q_sum; /* sum over polls: mean = sum / polls */
	uint32_t rtt_us_min, rtt_us_max, rtt_us_last, rttvar_us_max;
	uint32_t retrans; /* total_retrans delta */
	uint32_t lost_max;
	uint32_t cwnd_min, cwnd_last;
	uint32_t sk_drops; /* delta */
	uint32_t rcvbuf_last, sndbuf_last;
	uint32_t state_last;
	uint64_t delivery_rate_max;
	uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us; /* deltas */
	uint64_t bytes_acked, bytes_received;                 /* deltas */
};

/* One poll of the net collector: aggregates over the target's sockets and
 * what the poll cost (CPU time of the polling thread, kernel time
 * included). */
struct np_rec_net_poll {
	uint64_t ts_ns;
	uint64_t sock_cpu_ns, nic_cpu_ns, host_cpu_ns;
	uint64_t wall_ns;
	uint32_t sockets;      /* target sockets seen by this poll */
	uint32_t skipped;      /* target sockets not tracked (over the cap) */
	uint32_t fds_scanned;  /* 0 when the fd table was not re-read */
	uint32_t dumped;       /* sockets the kernel returned after its filter */
	uint32_t discovery;    /* 1: this poll ran an unfiltered dump */
	uint32_t samples;      /* socket samples written */
	uint32_t samples_shed; /* changed sockets not sampled (over the cap) */
	uint32_t recv_q_max, send_q_max, accept_q_max;
	uint32_t accept_q_sum;
	uint32_t retrans; /* total_retrans delta over sockets seen in both polls */
	uint64_t recv_q_sum, send_q_sum;
};

/* np_rec_iface.role */
#define NP_IF_TARGET_NS 0x1 /* in the target's network namespace */
#define NP_IF_ROUTE 0x2     /* a route lookup of a peer of the target leads here */
#define NP_IF_VETH_PEER 0x4 /* host side of a veth whose other end is the target's */
#define NP_IF_MASTER 0x8    /* bridge or bond a traced interface is enslaved to */
#define NP_IF_DEFAULT 0x10  /* the host's default route (the NIC behind the veth) */

struct np_rec_iface {
	uint64_t ts_ns;
	uint64_t netns_ino;
	uint32_t id;
	int32_t ifindex;
	uint32_t role;  /* NP_IF_* */
	uint32_t flags; /* IFF_* */
	uint32_t mtu, txqlen;
	uint32_t num_rx_queues, num_tx_queues;
	int32_t peer_ifindex; /* veth: the other end's ifindex (in its own netns) */
	int32_t master_ifindex;
	uint32_t n_ethtool;  /* driver statistics names (NP_BLK_ETHTOOL_NAME) */
	int32_t ethtool_err; /* 0, or -errno of the ethtool query */
	char name[16];
	char kind[16]; /* rtnl link kind: "veth", "bridge"; "" for hardware */
	char driver[32];
	char netns[32]; /* "target" or "host" */
};

struct np_rec_link_sample {
	uint64_t ts_ns;
	uint32_t id;
	uint32_t operstate;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
	uint64_t multicast, collisions;
	uint64_t rx_length_errors, rx_over_errors, rx_crc_errors, rx_frame_errors;
	uint64_t rx_fifo_errors, rx_missed_errors;
	uint64_t tx_aborted_errors, tx_carrier_errors, tx_fifo_errors;
	uint64_t tx_heartbeat_errors, tx_window_errors;
	uint64_t rx_nohandler;
	uint32_t carrier_changes;
	uint32_t pad;
};

struct np_rec_qdisc_sample {
	uint64_t ts_ns;
	uint32_t id;             /* interface */
	uint32_t handle, parent; /* parent TC_H_ROOT (0xffffffff): the root qdisc */
	char kind[16];
	uint32_t pad;
	uint64_t bytes, packets, drops, overlimits, requeues;
	uint32_t backlog_bytes, qlen;
};

struct np_rec_ethtool_name {
	uint32_t id;    /* interface */
	uint32_t index; /* position in the driver's statistics */
	char name[32];  /* ETH_GSTRING_LEN */
};

struct np_rec_ethtool_sample {
	uint64_t ts_ns;
	uint32_t id, index;
	uint64_t value;
};

/* np_rec_netcpu_sample.have */
#define NP_CPU_SOFTNET 0x1
#define NP_CPU_SOFTIRQS 0x2
#define NP_CPU_STAT 0x4
#define NP_CPU_BACKLOG 0x8

struct np_rec_netcpu_sample {
	uint64_t ts_ns;
	uint32_t cpu;
	uint32_t have; /* NP_CPU_*: which files had this CPU */
	/* /proc/net/softnet_stat, unwrapped */
	uint64_t processed, dropped, time_squeeze, received_rps, flow_limit;
	uint32_t backlog; /* gauge */
	uint32_t pad;
	/* /proc/softirqs: softirqs raised */
	uint64_t net_rx, net_tx;
	/* /proc/stat, in ns */
	uint64_t user_ns, nice_ns, system_ns, idle_ns, iowait_ns, irq_ns, softirq_ns, steal_ns;
};

#define NP_SNMP_SLOTS 64
/* np_rec_snmp_sample.have_extra */
#define NP_SNMP_HAVE_CONNTRACK 0x1
#define NP_SNMP_HAVE_CONNTRACK_MAX 0x2

/* The target namespace's /proc/net/snmp and netstat counters, indexed by
 * enum np_snmp_id (netparse.h); `present` says which the kernel has. */
struct np_rec_snmp_sample {
	uint64_t ts_ns;
	uint64_t present; /* bit i: v[i] is valid */
	uint64_t v[NP_SNMP_SLOTS];
	uint64_t conntrack_count, conntrack_max;
	uint32_t have_extra; /* NP_SNMP_HAVE_* */
	uint32_t pad;
};

struct np_rec_irq_info {
	uint64_t ts_ns;
	uint32_t irq;
	uint32_t iface_id;  /* the interface whose queue this IRQ serves */
	char desc[64];      /* the /proc/interrupts text after the counts */
	char affinity[64];  /* smp_affinity_list */
	char effective[64]; /* effective_affinity_list, "" if absent */
};

struct np_rec_irq_sample {
	uint64_t ts_ns;
	uint32_t irq, cpu;
	uint64_t count;
};

#endif /* NP_NETREC_H */
