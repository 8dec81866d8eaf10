/* net_report.h - the sockets, interfaces, CPUs, TCP counters and configuration
 * part of a report, built from the network collector's records.
 *
 * Totals over the window (deltas, peaks) are in the rows; the time series
 * the analysis and the timeline need are in `windows` (fixed-length slices
 * of the recording with every counter's delta and every gauge's peak in
 * that slice) and, at full resolution, in the raw record arrays this struct
 * points to (sorted by time as recorded).  Nothing here decides what is
 * wrong: that is the findings' job.
 */
#ifndef NP_NET_REPORT_H
#define NP_NET_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profiler/format/kvtext.h"
#include "profiler/format/snmp.h"
#include "profiler/format/recording.h"

struct np_net_sock {
	struct np_rec_sock_info info;
	struct np_rec_sock_summary sum; /* latest; sum.polls == 0: never summarised */
	char local[64], peer[64];
	const char *proto;  /* static: "tcp", "udp" */
	const char *state;  /* static: "ESTAB", "LISTEN", ... */
	uint32_t pid;       /* a service: the process holding it, 0 when not known */
	uint64_t netns_ino; /* its network namespace; have_sock_netns only */
	bool netns_other;   /* not the primary target's namespace */
};

struct np_net_qdisc {
	uint32_t handle, parent;
	char kind[16];
	bool root;
	uint64_t bytes, packets, drops, overlimits, requeues; /* deltas */
	uint32_t backlog_max_bytes, qlen_max;
};

struct np_net_ethstat {
	char name[32];
	uint64_t first, last, delta;
	bool drop;      /* a drop/miss/discard/no-buffer counter */
	bool per_queue; /* "rx_queue_0_...", "rx0_...", "queue_1_..." */
};

struct np_net_iface {
	struct np_rec_iface info;
	bool have_link;
	struct np_rec_link_sample first, last, delta;
	struct np_net_qdisc *qdiscs;
	size_t n_qdiscs;
	const struct np_net_qdisc *root; /* into qdiscs; NULL: no qdisc seen */
	struct np_net_ethstat *eth;      /* counters that moved, by delta */
	size_t n_eth;
	size_t n_eth_total;
	uint8_t *eth_flags; /* by statistics index: drop / per-queue bits */
	/* Drops the driver counted: the larger of its aggregate and its
	 * per-queue drop counters (drivers often have both: counting both
	 * would double them). */
	uint64_t driver_drops;
};

struct np_net_cpu {
	uint32_t cpu;
	uint32_t have; /* NP_CPU_* */
	uint64_t processed, dropped, time_squeeze, received_rps, flow_limit;
	uint32_t backlog_max;
	uint64_t net_rx, net_tx; /* softirqs raised */
	double net_rx_share;     /* of all CPUs' NET_RX */
	uint64_t user_ns, system_ns, idle_ns, iowait_ns, irq_ns, softirq_ns, steal_ns;
};

struct np_net_irq {
	struct np_rec_irq_info info;
	uint64_t total;
	uint64_t per_cpu[64]; /* deltas by CPU number, first 64 CPUs */
};

/* One slice of the window: deltas of counters, peaks of gauges. */
struct np_net_window {
	uint64_t start_ns, end_ns;
	uint32_t polls;
	uint32_t recv_q_max, send_q_max, accept_q_max;
	uint64_t sock_retrans;
	uint64_t snmp[NP_SNMP_COUNT];
	uint64_t softnet_dropped, time_squeeze, net_rx, net_tx;
	uint64_t *net_rx_cpu; /* n_cpus entries, parallel to np_net_report.cpus */
	uint64_t if_rx_packets, if_tx_packets, if_rx_dropped, if_tx_dropped, if_errors;
	uint64_t driver_drops, qdisc_drops;
	uint32_t qdisc_backlog_max_bytes;
};

/* What the Sources section adds to the socket source's detail when target
 * sockets live in other network namespaces than the primary target's; ""
 * when none do.  *degraded: some of them were not polled. */
struct np_net_report;
void np_net_netns_note(const struct np_net_report *n, char *buf, size_t len, bool *degraded);

struct np_net_report {
	bool have_sockets, have_nic, have_host;
	bool have_sock_pids; /* a service: sockets name their process */
	/* Target sockets outside the primary target's network namespace
	 * (NP_BLK_SOCK_NETNS): the namespaces polled, the primary included,
	 * and the sockets and namespaces that were not polled. */
	bool have_sock_netns;
	uint64_t netns_primary;
	uint32_t netns_polled, netns_unpolled, sockets_unpolled;
	/* sockets */
	struct np_net_sock *socks; /* busiest first: peak queues, then retransmits */
	size_t n_socks;
	uint64_t sockets_closed;
	uint32_t sockets_skipped_max;
	/* interfaces, by id */
	struct np_net_iface *ifs;
	size_t n_ifs;
	/* CPUs, by number */
	struct np_net_cpu *cpus;
	size_t n_cpus;
	/* snmp/netstat of the target's namespace */
	bool have_snmp;
	uint64_t snmp_present;
	uint64_t snmp_delta[NP_SNMP_COUNT], snmp_last[NP_SNMP_COUNT];
	bool have_conntrack;
	uint64_t conntrack_max_seen, conntrack_limit;
	struct np_net_irq *irqs;
	size_t n_irqs;
	/* configuration snapshot, in file order */
	struct np_meta_kv *config; /* the configuration snapshot, parsed */
	size_t n_config;
	/* time series */
	struct np_net_window *windows;
	size_t n_windows;
	uint64_t window_ns;
	/* what polling cost (CPU time of netprof's thread per poll) */
	size_t n_polls;
	uint64_t poll_cpu_p50_ns, poll_cpu_p95_ns, poll_cpu_max_ns;
	uint64_t poll_sock_p50_ns, poll_nic_p50_ns, poll_host_p50_ns;
	uint32_t poll_sockets_max;
	uint32_t poll_queried_p50; /* sockets sock_diag reported on, per poll */
	/* raw records, as loaded (time order); borrowed from the recording */
	const struct np_rec_net_poll *polls;
	const struct np_rec_sock_sample *sock_samples;
	size_t n_sock_samples;
	const struct np_rec_link_sample *link_samples;
	size_t n_link_samples;
	const struct np_rec_qdisc_sample *qdisc_samples;
	size_t n_qdisc_samples;
	const struct np_rec_netcpu_sample *cpu_samples;
	size_t n_cpu_samples;
	const struct np_rec_snmp_sample *snmp_samples;
	size_t n_snmp_samples;
	const struct np_rec_ethtool_sample *eth_samples;
	size_t n_eth_samples;
};

int np_net_build(const struct np_recording *rec, uint64_t start_ns, uint64_t end_ns,
		 struct np_net_report *out);
void np_net_fini(struct np_net_report *n);
/* A configuration value, or NULL. */
/* qsort order of `const struct np_net_iface *`: most packets first, then by
 * interface index. */
int np_net_iface_by_traffic(const void *a, const void *b);

const char *np_net_config(const struct np_net_report *n, const char *key);
/* Listener backlog analysis: the limit the kernel applies is
 * min(requested, somaxconn), so a limit equal to somaxconn means the
 * application asked for at least that much and was clamped. */
bool np_net_backlog_clamped(const struct np_net_report *n, const struct np_net_sock *s);
/* Heuristics shared with the findings: is this ethtool counter a drop
 * counter, and is it per queue. */
bool np_net_ethstat_is_drop(const char *name);
bool np_net_ethstat_is_per_queue(const char *name);

#endif /* NP_NET_REPORT_H */
