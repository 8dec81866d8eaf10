/* netstack_report.h - the kernel stack part of a report: drops by reason (with
 * the kernel's names and the places that dropped), the target's connections
 * that retransmitted, dropped or overflowed, NET_RX/NET_TX softirq time and
 * NAPI budget use per CPU, and per-window series of all of these.
 *
 * Built from the recording alone (NP_BLK_NET_*): reason names and drop
 * locations were resolved on the recording host.
 */
#ifndef NP_NETSTACK_REPORT_H
#define NP_NETSTACK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/timeline.h"

#define NP_NS_TOP_LOCATIONS 3

struct np_ns_reason {
	uint32_t reason;
	char name[60]; /* "NO_SOCKET", or "reason 77" when the recording has no name */
	uint64_t count;
	struct {
		char where[64];
		uint64_t count;
	} loc[NP_NS_TOP_LOCATIONS];
	size_t n_loc;
};

struct np_ns_conn {
	uint64_t cookie;
	char local[64], peer[64];
	uint64_t retrans, drops, rcvq_full;
	uint32_t last_drop_reason;
	uint64_t first_ns, last_ns;
};

struct np_ns_cpu {
	uint32_t cpu;
	struct np_softirq_stats rx, tx;
	struct np_napi_stats napi;
	uint64_t rx_p99_ns, tx_p99_ns;
};

struct np_ns_window {
	uint64_t start_ns, end_ns;
	uint64_t drops, retrans, rcvq_full;
	uint64_t net_rx_ns, net_tx_ns;
};

struct np_ns_report {
	bool present;
	struct np_net_totals t;
	uint64_t writer_drops;
	struct np_ns_reason *reasons; /* most drops first */
	size_t n_reasons;
	struct np_ns_conn *conns; /* most events first */
	size_t n_conns;
	struct np_ns_cpu *cpus; /* by CPU number */
	size_t n_cpus;
	struct np_ns_window *windows;
	size_t n_windows;
	uint64_t events;
};

struct np_recording;
struct np_report;

int np_ns_report_build(const struct np_recording *rec, uint64_t start_ns, struct np_ns_report *ns);
void np_ns_report_fini(struct np_ns_report *ns);
/* The kernel's name of drop reason `reason` as the recording has it
 * ("NO_SOCKET"), or "reason 77" when it has none. */
void np_ns_reason_name(const struct np_recording *rec, uint32_t reason, char *out, size_t len);

#endif /* NP_NETSTACK_REPORT_H */
