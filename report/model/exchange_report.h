/* exchange_report.h - the exchange part of a report: latency of the requests the
 * target served and made, split into components, per window, and the
 * slowest ones with their labels.
 *
 * Built from the recording alone (NP_BLK_XCH_*).  A component the kernel
 * could not see (no sk_data_ready: queued; no net_dev_start_xmit: tx) is
 * unknown - null in JSON, "-" in text - never zero.  The split of `app`
 * into on-CPU, off-CPU and runnable time needs per-thread scheduler state
 * intervals; np_xch_split() does it for one exchange and
 * np_xch_report_apply_sched() for a report, once a scheduler source
 * provides the intervals.  Until then the split is unknown.
 */
#ifndef NP_EXCHANGE_REPORT_H
#define NP_EXCHANGE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/model/httplabel.h"
#include "report/model/xch_loss.h"
#include "profiler/format/timeline.h"

/* ---- on-CPU / off-CPU / runnable split ---------------------------------- */

enum np_tstate {
	NP_TSTATE_ON_CPU = 1,
	NP_TSTATE_RUNNABLE = 2, /* woken, waiting for a CPU */
	NP_TSTATE_OFF_CPU = 3,  /* blocked or sleeping */
};

/* One thread in one state over [start_ns, end_ns). */
struct np_sched_interval {
	uint32_t tid;
	uint32_t state; /* enum np_tstate */
	uint64_t start_ns, end_ns;
};

struct np_xch_split {
	bool known;
	uint64_t on_cpu_ns, off_cpu_ns, runnable_ns;
	uint64_t covered_ns; /* of the interval asked about; the rest had no record */
};

/* Sorts intervals by (tid, start_ns), as np_xch_split() needs them. */
void np_sched_intervals_sort(struct np_sched_interval *iv, size_t n);
/* How thread `tid` spent [start_ns, end_ns), from intervals sorted by
 * (tid, start_ns) (overlapping ones are counted as given).  Returns 0, or
 * -ENOENT when no interval of the thread overlaps the range (out->known is
 * then false). */
int np_xch_split(const struct np_sched_interval *iv, size_t n, uint32_t tid, uint64_t start_ns,
		 uint64_t end_ns, struct np_xch_split *out);

/* ---- the report part ---------------------------------------------------- */

struct np_xch_component {
	bool known; /* false: the kernel could not see this part */
	uint64_t n; /* exchanges it was measured for */
	uint64_t sum_ns;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;
};

struct np_xch_row {
	struct np_xch_event ev;
	bool labelled;
	struct np_http_label label;
	char local[64], peer[64];
	char comm[16];
	struct np_xch_split split; /* of its app time */
};

struct np_xch_window_row {
	uint64_t start_ns, end_ns;
	uint64_t count, outbound;
	uint64_t p50_ns, p99_ns;
	uint64_t queued_ns, app_ns, tx_ns, peer_ns, outbound_ns, qdisc_ns;
	uint64_t queued_known, tx_known;
};

/* Outbound exchanges of one operation on one peer: (peer address:port,
 * protocol, label).  Over the recorded outbound events, so every exchange
 * with --sample 1, else the slow ones and 1 in N of the others. */
#define NP_XCH_GROUP_LABEL 48
struct np_xch_out_group {
	char peer[64];
	uint8_t proto;                  /* enum np_xch_proto, as the label was read */
	char label[NP_XCH_GROUP_LABEL]; /* "redis GET", "GET /a", "" without one */
	uint64_t count, slow;
	uint64_t p50_ns, p99_ns, max_ns;
};

/* The band of a peer's delayed ACK: Linux waits at least 40 ms (TCP_ATO_MIN)
 * and at most 200 ms (TCP_DELACK_MAX), other systems up to the 500 ms RFC
 * 1122 allows; from 30 ms to take scheduling slack before the timer. */
#define NP_ACK_DELAY_MIN_NS 30000000ull
#define NP_ACK_DELAY_MAX_NS 500000000ull

struct np_xch_report {
	bool present;   /* the source ran */
	uint32_t flags; /* NP_XCFG_* */
	uint64_t slow_ns;
	uint32_t sample_every;
	uint64_t count, outbound_count;
	uint64_t unanswered, pipelined, retrans, deferred;
	uint64_t bytes_in, bytes_out;
	uint64_t lost_events, writer_drops, no_conn_mem;
	uint64_t qdisc_known, qdisc_ns; /* part of tx spent in a qdisc, when seen */
	/* TLS handshakes, each part of its connection's first exchange (a
	 * component of total beside queued, app and tx; no histogram) */
	uint64_t tls_known, tls_ns;
	uint64_t nagle_held; /* served exchanges with a response write held by Nagle */
	/* Outbound replies whose second part came 1 ms-1 s after the first was
	 * read (NP_BLK_XCH_REPLY_PARTS): how many, how many of those waits in
	 * a peer's delayed-ACK band (a reply written in two parts with Nagle
	 * on), and their median wait.  Every such reply is recorded. */
	uint64_t reply_parts, reply_parts_ack_delay, reply_part_p50_ns;
	/* HTTP/2 connections that ended (NP_BLK_H2_CONNS): their streams and
	 * how many were open at once */
	uint64_t h2_conns, h2_streams, h2_open_sum;
	uint32_t h2_max_open;
	/* connections already carrying HTTP/2 when first seen: not decoded */
	uint64_t h2_joined;
	struct np_xch_component total, queued, app, tx, peer, outbound;
	struct np_xch_split app_split; /* estimated: slow exchanges + sampled others */
	struct np_xch_row *slowest;    /* served, slowest first */
	size_t n_slowest;
	uint64_t slow_total; /* served exchanges over slow_ns */
	struct np_xch_row *slowest_out;
	size_t n_slowest_out;
	uint64_t slow_out_total;
	struct np_xch_out_group *out_groups; /* slowest p99 first */
	size_t n_out_groups;
	struct np_xch_window_row *windows;
	size_t n_windows;
	uint64_t events;         /* individual exchanges recorded */
	struct np_xch_loss loss; /* requests hit by retransmits and drops */
	/* Every exchange's latencies over the whole recording, by NP_XH_*
	 * (bpf/exchange.h buckets): the diff draws their distributions from
	 * these, since the recorded events are a biased selection (every slow
	 * one, 1 in N of the rest).  NULL when the source did not run. */
	uint64_t (*hist)[NP_XH_BUCKETS];
};

struct np_recording;
struct np_report;

int np_xch_report_build(const struct np_recording *rec, struct np_xch_report *x, size_t max_slow);
/* Fills the on-CPU/off-CPU/runnable split of the slowest rows and the
 * estimate for all exchanges (from the slow ones, all recorded, and the
 * sampled others, a uniform sample).  `iv` sorted as np_xch_split() needs. */
void np_xch_report_apply_sched(const struct np_recording *rec, struct np_xch_report *x,
			       const struct np_sched_interval *iv, size_t n);
void np_xch_report_fini(struct np_xch_report *x);
/* Groups the outbound events ev[0..n) per peer, protocol and label into
 * *out (calloc'd, slowest p99 first).  0 or -ENOMEM. */
int np_xch_out_groups(const struct np_recording *rec, const struct np_xch_event *ev, size_t n,
		      struct np_xch_out_group **out, size_t *n_out);
/* Fills the label (validated), endpoints and comm of a row whose `ev` is
 * set: the slowest rows, and the exports that print every exchange event
 * (report/render/otlp.c). */
void np_xch_row_fill(const struct np_recording *rec, struct np_xch_row *row);

#endif /* NP_EXCHANGE_REPORT_H */
