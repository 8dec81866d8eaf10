/* timeline.h - the one event model: what a recording holds.
 *
 * A recording is a file header followed by blocks.  Each block carries an
 * array of fixed-size records of one type (or free-form text for metadata),
 * its own length and a CRC, so a reader can skip block types it does not
 * know, reject damage, and keep everything up to the last complete block of
 * a recording whose writer was killed.  All timestamps are CLOCK_MONOTONIC
 * nanoseconds; the META block holds the (realtime, monotonic) pair taken at
 * start so a report can print wall-clock times.
 *
 * Records are host-endian, fixed-width, pointer-free structs.  A record may
 * grow at its end in a later version (record_bytes says how big it is); any
 * other change bumps NP_RECORDING_VERSION.
 */
#ifndef NP_TIMELINE_H
#define NP_TIMELINE_H

#include <stdint.h>

#include "exchange.h"
#include "netprof.h"
#include "netstack.h"

#define NP_FILE_MAGIC "NPROFREC"
#define NP_RECORDING_VERSION 1
#define NP_BYTE_ORDER_MARK 0x01020304u
#define NP_BLOCK_MAGIC 0x4b42504eu /* "NPBK" read as little-endian */

/* Payload of one block is capped so a corrupt length cannot make the reader
 * allocate gigabytes; writers split larger arrays. */
#define NP_BLOCK_MAX_PAYLOAD (16u << 20)

struct np_file_header {
	char magic[8];
	uint32_t version;
	uint32_t byte_order;   /* NP_BYTE_ORDER_MARK in the writer's order */
	uint32_t header_bytes; /* blocks start at this offset */
	uint32_t reserved[5];
};

struct np_block_header {
	uint32_t magic;        /* NP_BLOCK_MAGIC */
	uint16_t type;         /* enum np_block_type */
	uint16_t reserved;
	uint32_t record_bytes; /* size of one record; 0 for text blocks */
	uint32_t count;        /* number of records */
	uint32_t payload_bytes;
	uint32_t crc32;        /* of this header with crc32 = 0, then the payload */
};

enum np_block_type {
	NP_BLK_META = 1,       /* text, "key=value\n" lines, values escaped */
	NP_BLK_SOURCE = 2,     /* struct np_rec_source[] */
	NP_BLK_SYS_EVENTS = 3, /* struct np_sys_event[] (bpf/netprof.h) */
	NP_BLK_SYS_STATS = 4,  /* struct np_rec_sys_stats[], cumulative */
	NP_BLK_THREADS = 5,    /* struct np_rec_thread[], cumulative */
	NP_BLK_DROPS = 6,      /* struct np_rec_drops, cumulative */
	NP_BLK_END = 7,        /* struct np_rec_end */
	/* Exchanges (profiler/exchanges.c) and kernel stack events
	 * (profiler/netstack.c); records below. */
	NP_BLK_XCH_CONFIG = 48,       /* struct np_rec_xch_config, once */
	NP_BLK_XCH_EVENTS = 49,       /* struct np_xch_event[] (bpf/exchange.h) */
	NP_BLK_XCH_WINDOW = 50,       /* struct np_rec_xch_window[], one per window */
	NP_BLK_NET_REASONS = 52,      /* struct np_rec_drop_reason[], once */
	NP_BLK_NET_EVENTS = 53,       /* struct np_net_event[] (bpf/netstack.h) */
	NP_BLK_NET_DROPS = 54,        /* struct np_rec_net_drop[], cumulative, at the end */
	NP_BLK_NET_SOFTIRQ = 55,      /* struct np_rec_softirq[], cumulative per CPU */
	NP_BLK_NET_TOTALS = 56,       /* struct np_rec_net_totals, cumulative */
	NP_BLK_NET_REASON_COUNT = 57, /* struct np_rec_reason_count[], cumulative */
	/* Each source owns a range, so sources can grow without renumbering:
	 *   16..31  scheduler and CPU samples
	 *   32..47  sockets, NIC, softirq, host counters and configuration
	 *   48..63  kernel stack events and exchanges
	 *   64..79  the profiler's own accounting (overhead, shed detail)
	 * A type is registered with its record size in recording.c
	 * (record_types[]); the reader keeps every record of a registered type
	 * and skips types it does not know. */
	NP_BLK_TYPE_MAX = 128,
};

enum np_source_status {
	NP_SOURCE_OK = 0,
	NP_SOURCE_DEGRADED = 1,
	NP_SOURCE_UNAVAILABLE = 2,
};

struct np_rec_source {
	char name[24];
	uint32_t status; /* enum np_source_status */
	char detail[228];
};

/* Totals for one syscall since the start of the recording, as of ts_ns. */
struct np_rec_sys_stats {
	uint64_t ts_ns;
	uint16_t sys; /* enum np_sys */
	uint16_t pad[3];
	struct np_sys_stats stats;
};

#define NP_THREAD_EXITED 0x1
/* Seen only by the syscall source (it lived and died between two polls):
 * first_ns/last_ns are its first and last call, scheduler times unknown. */
#define NP_THREAD_NO_SCHED 0x2

/* One thread's accounting since it entered the recording window, as of
 * ts_ns.  on_cpu_ns and runq_ns come from the scheduler's own statistics;
 * calls, sys_ns and wait_ns from the syscall source. */
struct np_rec_thread {
	uint64_t ts_ns;
	uint32_t tid;
	uint32_t flags; /* NP_THREAD_* */
	char comm[16];
	uint64_t first_ns; /* when the thread entered the window */
	uint64_t last_ns;  /* last time it was seen alive */
	uint64_t on_cpu_ns;
	uint64_t runq_ns;  /* runnable, waiting for a CPU */
	uint64_t calls;
	uint64_t sys_ns;
	uint64_t wait_ns;
};

/* Events that could not be delivered or accounted, by cause. */
#define NP_DROPS_SLOTS 8
#define NP_DROP_WRITER (NP_DROPS_SLOTS - 1) /* user space could not keep up */
struct np_rec_drops {
	uint64_t ts_ns;
	uint64_t count[NP_DROPS_SLOTS]; /* NP_DROP_* from netprof.h, then ours */
};

enum np_end_reason {
	NP_END_DURATION = 1,
	NP_END_SIGNAL = 2,
	NP_END_TARGET_EXITED = 3,
	NP_END_ERROR = 4,
};

struct np_rec_end {
	uint64_t ts_ns;
	uint32_t reason; /* enum np_end_reason */
	int32_t error;   /* -errno for NP_END_ERROR */
};

/* ---- exchanges ---------------------------------------------------------- */

/* np_rec_xch_config.flags: what the kernel side could see. */
#define NP_XCFG_PAYLOAD 0x01 /* request lines and statuses were read (no --no-payload) */
#define NP_XCFG_ARRIVAL 0x02 /* sock:sk_data_ready attached: `queued` is known */
#define NP_XCFG_WIRE 0x04    /* net:net_dev_start_xmit attached: `tx` is known */
#define NP_XCFG_RETRANS 0x08 /* tcp:tcp_retransmit_skb attached */
#define NP_XCFG_CLOSE 0x10   /* sock:inet_sock_set_state attached: closes end exchanges */
#define NP_XCFG_QDISC 0x20   /* tx splits off the time below TCP (qdisc, device queue) */

#define NP_XCFG_MAX_PORTS 16

/* How the exchange source ran; written once at start. */
struct np_rec_xch_config {
	uint64_t ts_ns;
	uint64_t slow_ns;      /* exchanges slower than this are kept individually */
	uint64_t window_ns;    /* length of a window record */
	uint32_t sample_every; /* and 1 in N of the rest; 0 none */
	uint32_t flags;        /* NP_XCFG_* */
	uint32_t n_listen_ports;
	uint16_t listen_ports[NP_XCFG_MAX_PORTS]; /* the first ones, host order */
	uint32_t pad;
};

/* What happened in [start_ns, ts_ns): the difference of the kernel's
 * cumulative totals, so the windows of a recording add up to its totals.
 * The max_* fields are the maxima since the start, not of the window. */
struct np_rec_xch_window {
	uint64_t ts_ns;
	uint64_t start_ns;
	struct np_xch_stats d;
};

/* ---- kernel stack -------------------------------------------------------- */

/* A name of the kernel's enum skb_drop_reason, from the recording host's
 * BTF, without the SKB_DROP_REASON_ prefix. */
struct np_rec_drop_reason {
	uint32_t reason;
	char name[60];
};

/* Drops by reason and kernel location since the start; `where` is the
 * location as symbol+offset, resolved on the recording host. */
struct np_rec_net_drop {
	uint64_t ts_ns;
	uint64_t location;
	uint64_t count;
	uint32_t reason;
	uint32_t pad;
	char where[64];
};

/* Drops by reason since the start, as of ts_ns (only reasons seen). */
struct np_rec_reason_count {
	uint64_t ts_ns;
	uint32_t reason;
	uint32_t pad;
	uint64_t count;
};

/* One CPU's softirq and NAPI totals since the start, as of ts_ns. */
struct np_rec_softirq {
	uint64_t ts_ns;
	uint32_t cpu;
	uint32_t pad;
	struct np_softirq_stats rx;
	struct np_softirq_stats tx;
	struct np_napi_stats napi;
};

struct np_rec_net_totals {
	uint64_t ts_ns;
	struct np_net_totals t;
	uint64_t writer_drops; /* events the recording could not take */
};

#endif /* NP_TIMELINE_H */
