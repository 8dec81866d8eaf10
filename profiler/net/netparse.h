/* netparse.h - pure parsers for the network counters netprof polls.
 *
 * What lives here: the text formats of /proc/net/softnet_stat,
 * /proc/softirqs, /proc/stat, /proc/net/snmp and /proc/net/netstat,
 * /proc/interrupts, CPU masks and lists from /sys and /proc/irq, the
 * "socket:[INODE]" links of /proc/PID/fd, and the binary NETLINK_SOCK_DIAG
 * reply (struct inet_diag_msg plus its attributes).  Every function takes a
 * buffer and returns what it found; none does I/O, so the unit tests feed
 * them fixture files and the fuzz targets feed them arbitrary bytes.
 *
 * What does not live here: reading the files (procfs.h's np_read_text()
 * with its root directory), netlink transport (libnl), and any knowledge of
 * which counters matter (the collectors and the report).
 *
 * All input is untrusted: a missing column, an unknown extra column, a
 * counter too large for 64 bits or a CPU number beyond the tables is
 * skipped or reported as an error, never read past.
 */
#ifndef NP_NETPARSE_H
#define NP_NETPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/netrec.h"
#include "profiler/format/snmp.h"

/* One line of /proc/net/softnet_stat.  The counters are 32-bit in the
 * kernel and wrap; callers unwrap them across polls (np_u32_delta()). */
struct np_softnet_row {
	uint32_t cpu; /* from the index column (kernel >= 5.10) or the line number */
	uint32_t processed;
	uint32_t dropped;      /* input backlog full (netdev_max_backlog) */
	uint32_t time_squeeze; /* net_rx_action ran out of budget or time */
	uint32_t received_rps;
	uint32_t flow_limit;
	uint32_t backlog; /* packets queued now (kernel >= 6.0); 0 if absent */
	bool has_backlog;
};

/* Returns the number of rows written (at most max) or -EINVAL when the text
 * has no valid line. */
int np_parse_softnet(const char *buf, struct np_softnet_row *rows, size_t max);

/* /proc/softirqs: the NET_RX and NET_TX counts per CPU column.  cpu_ids[i]
 * is the CPU number of column i (from the "CPUn" header: offline CPUs leave
 * gaps).  Returns the number of columns (at most max) or -EINVAL. */
int np_parse_softirqs(const char *buf, uint32_t *cpu_ids, uint64_t *net_rx, uint64_t *net_tx,
		      size_t max);

/* One "cpuN" line of /proc/stat, in USER_HZ ticks. */
struct np_cpu_ticks {
	uint32_t cpu;
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Returns the number of per-CPU rows (the "cpu" total line is skipped). */
int np_parse_proc_stat(const char *buf, struct np_cpu_ticks *rows, size_t max);

/* /proc/net/snmp and /proc/net/netstat: pairs of lines "Group: names..."
 * then "Group: values...".  Calls cb for each (group, name, value); values
 * may be negative (Tcp MaxConn is -1).  Returns the number of values or
 * -EINVAL. */
typedef void (*np_snmp_cb)(const char *group, const char *name, int64_t value, void *arg);
int np_parse_snmp(const char *buf, np_snmp_cb cb, void *arg);

/* /proc/interrupts.  The header names the CPU columns ("CPU0 CPU1 ...").
 * cb gets each line's first field without the colon ("41", "NMI"), its
 * per-column counts (ncols of them; a short line has fewer) and the rest of
 * the line (chip, hwirq, trigger, actions) with surrounding spaces cut. */
typedef void (*np_irq_cb)(const char *irq, const uint64_t *counts, size_t ncols, const char *desc,
			  void *arg);
/* cpu_ids receives the CPU number of each column (max entries).  Returns
 * the number of columns, or -EINVAL without a header. */
int np_parse_interrupts(const char *buf, uint32_t *cpu_ids, size_t max, np_irq_cb cb, void *arg);

/* A hex CPU mask as in rps_cpus, xps_cpus and smp_affinity
 * ("00000003", "ff,ffffffff").  Returns the number of CPUs set, or -EINVAL. */
int np_cpumask_count(const char *buf);
/* A CPU list as in smp_affinity_list and /sys/devices/system/cpu/online
 * ("0-3,8,10-11").  Returns the number of CPUs in it, or -EINVAL. */
int np_cpulist_count(const char *buf);

/* "socket:[12345]" -> 12345.  -EINVAL for anything else (pipes, files). */
int np_parse_socket_link(const char *s, uint64_t *inode);

/* A file holding one unsigned decimal number (nf_conntrack_count). */
int np_parse_u64_text(const char *buf, uint64_t *out);

/* The 32-bit counter difference new - old, assuming at most one wrap. */
static inline uint32_t np_u32_delta(uint32_t old_v, uint32_t new_v)
{
	return new_v - old_v;
}

/* ---- NETLINK_SOCK_DIAG replies ---- */

/* What one SOCK_DIAG_BY_FAMILY reply says about one socket.  Fields the
 * kernel did not send stay 0 and their have_* flag false. */
struct np_sockdiag_obs {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t state;  /* TCP_ESTABLISHED ... (UDP: 7 = unconnected, 1 = connected) */
	uint8_t timer;
	uint8_t retrans;       /* idiag_retrans */
	uint16_t sport, dport; /* host order */
	uint8_t src[16], dst[16];
	uint32_t ifindex;
	uint32_t uid;
	uint64_t inode;
	uint64_t cookie;
	uint32_t rqueue; /* bytes (TCP data sockets), accept queue (listeners) */
	uint32_t wqueue; /* bytes not yet acked, or the listen backlog limit */
	bool have_tcpinfo;
	uint32_t tcpinfo_len; /* bytes the kernel sent (older kernels send fewer) */
	uint8_t ca_state;
	uint32_t rtt_us, rttvar_us, min_rtt_us;
	uint32_t retransmits_now; /* tcpi_retrans: currently retransmitted */
	uint32_t total_retrans;
	uint32_t lost, unacked, sacked;
	uint32_t snd_cwnd, snd_ssthresh;
	uint32_t rcv_space;
	uint64_t delivery_rate; /* bytes/s; 0 when the kernel does not say */
	uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us;
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_out, segs_in;
	uint32_t notsent_bytes;
	bool have_meminfo;
	uint32_t rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog,
		sk_drops;
	bool have_drops;
	char cong[16];
};

/* Decodes one netlink message (header included) of len bytes.  Returns 0,
 * -EINVAL for a malformed message or -ENOMSG for another message type. */
int np_sockdiag_decode(const void *msg, size_t len, uint16_t expect_type,
		       struct np_sockdiag_obs *out);

#endif /* NP_NETPARSE_H */
