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

#include "profiler/format/frameclass.h"
#include "bpf/exchange.h"
#include "bpf/netprof.h"
#include "bpf/schedev.h"
#include "bpf/netstack.h"

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
	uint32_t magic; /* NP_BLOCK_MAGIC */
	uint16_t type;  /* enum np_block_type */
	uint16_t reserved;
	uint32_t record_bytes; /* size of one record; 0 for text blocks */
	uint32_t count;        /* number of records */
	uint32_t payload_bytes;
	uint32_t crc32; /* of this header with crc32 = 0, then the payload */
};

enum np_block_type {
	NP_BLK_META = 1,        /* text, "key=value\n" lines, values escaped */
	NP_BLK_SOURCE = 2,      /* struct np_rec_source[] */
	NP_BLK_SYS_EVENTS = 3,  /* struct np_sys_event[] (bpf/netprof.h) */
	NP_BLK_SYS_STATS = 4,   /* struct np_rec_sys_stats[], cumulative */
	NP_BLK_THREADS = 5,     /* struct np_rec_thread[], cumulative */
	NP_BLK_DROPS = 6,       /* struct np_rec_drops, cumulative */
	NP_BLK_END = 7,         /* struct np_rec_end */
	NP_BLK_PROCESSES = 8,   /* struct np_rec_process[], cumulative; a service only */
	NP_BLK_THREAD_PIDS = 9, /* struct np_rec_thread_pid[], cumulative; a service only */
	NP_BLK_CGROUP_CPU =
		10, /* struct np_rec_cgroup_cpu, cumulative: at start, per second, end */
	/* struct np_rec_sys_stats[], once, as the window opens: the reader
	 * subtracts it from every NP_BLK_SYS_STATS (none: the totals stand) */
	NP_BLK_SYS_BASELINE = 11,
	/* CPU samples and the scheduler (profiler/cpu/cpucoll.c); records below. */
	NP_BLK_CPU_SAMPLES = 16,   /* struct np_rec_cpu_sample[] */
	NP_BLK_STACK_NODES = 17,   /* struct np_rec_stack_node[] */
	NP_BLK_STACK_FRAMES = 18,  /* struct np_rec_frame[] */
	NP_BLK_MODULES = 19,       /* struct np_rec_module[] */
	NP_BLK_STRINGS = 20,       /* bytes (record_bytes 1): the string table */
	NP_BLK_CPU_STATS = 21,     /* struct np_rec_cpu_stats, cumulative */
	NP_BLK_SCHED_EVENTS = 22,  /* struct np_sched_event[] (bpf/schedev.h) */
	NP_BLK_SCHED_THREADS = 23, /* struct np_rec_sched_thread[], cumulative */
	NP_BLK_SCHED_OFFCPU = 24,  /* struct np_rec_offcpu[], cumulative */
	NP_BLK_SCHED_STATS = 25,   /* struct np_rec_sched_stats, cumulative */
	/* Exchanges (profiler/sources/exchanges.c) and kernel stack events
	 * (profiler/sources/netstack.c); records below. */
	NP_BLK_XCH_CONFIG = 48,       /* struct np_rec_xch_config, once */
	NP_BLK_XCH_EVENTS = 49,       /* struct np_xch_event[] (bpf/exchange.h) */
	NP_BLK_XCH_WINDOW = 50,       /* struct np_rec_xch_window[], one per window */
	NP_BLK_XCH_REPLY_PARTS = 51,  /* struct np_xch_event[] (NP_XEV2_REPLY_PART) */
	NP_BLK_H2_CONNS = 59,         /* struct np_rec_h2_conn[], HTTP/2 connections that ended */
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
	/* 32..47: sockets, NIC, softirq, host counters, configuration
	 * (struct np_rec_sock_* and friends in netrec.h). */
	NP_BLK_NET_CONFIG = 32,     /* text "key=value\n" lines, records of 1 byte */
	NP_BLK_SOCK_INFO = 33,      /* struct np_rec_sock_info[], once per socket */
	NP_BLK_SOCK_SAMPLE = 34,    /* struct np_rec_sock_sample[], changed sockets */
	NP_BLK_SOCK_SUMMARY = 35,   /* struct np_rec_sock_summary[], cumulative */
	NP_BLK_NET_POLL = 36,       /* struct np_rec_net_poll[], one per poll */
	NP_BLK_IFACE = 37,          /* struct np_rec_iface[], once per interface */
	NP_BLK_LINK_SAMPLE = 38,    /* struct np_rec_link_sample[], when changed */
	NP_BLK_QDISC_SAMPLE = 39,   /* struct np_rec_qdisc_sample[], when changed */
	NP_BLK_ETHTOOL_NAME = 40,   /* struct np_rec_ethtool_name[], once */
	NP_BLK_ETHTOOL_SAMPLE = 41, /* struct np_rec_ethtool_sample[], changed values */
	NP_BLK_NETCPU_SAMPLE = 42,  /* struct np_rec_netcpu_sample[], per CPU per poll */
	NP_BLK_SNMP_SAMPLE = 43,    /* struct np_rec_snmp_sample[], when changed */
	NP_BLK_IRQ_INFO = 44,       /* struct np_rec_irq_info[], once per IRQ */
	NP_BLK_IRQ_SAMPLE = 45,     /* struct np_rec_irq_sample[], changed counts */
	NP_BLK_SOCK_PIDS = 46,      /* struct np_rec_sock_pid[]; a service only */
	/* 64..79: the profiler's own accounting (profiler/session/selfcost.c,
	 * profiler/session/governor.c); records at the end of this file. */
	NP_BLK_GOV_CONFIG = 64,     /* struct np_rec_gov_config, once, when the governor runs */
	NP_BLK_OVERHEAD = 65,       /* struct np_rec_overhead[], one per measured second */
	NP_BLK_SHED = 66,           /* struct np_rec_shed[], one per change a shed step made */
	NP_BLK_BPF_COST = 67,       /* struct np_rec_bpf_cost[], per program per measured window */
	NP_BLK_LISTEN_HOLDERS = 68, /* struct np_rec_listen_holder[] (netrec.h); a service only */
	NP_BLK_SOCK_NETNS = 69,     /* struct np_rec_sock_netns[] (netrec.h); other netns only */
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
	uint64_t runq_ns; /* runnable, waiting for a CPU */
	uint64_t calls;
	uint64_t sys_ns;
	uint64_t wait_ns;
};

/* One process of a service (several processes, a tree, a cgroup), as of
 * ts_ns; the latest record of a pid holds its totals over the window.
 * Recordings of one process without children have none. */
#define NP_PROCREC_GONE_AT_START 1u /* named on the command line, not there */
#define NP_PROCREC_EXITED 2u        /* exited while recording */
#define NP_PROCREC_NEW 4u           /* joined while recording (forked, entered the cgroup) */
struct np_rec_process {
	uint64_t ts_ns;
	uint32_t pid, ppid;
	uint32_t flags;   /* NP_PROCREC_* */
	uint32_t threads; /* threads seen in the window */
	char comm[16];
	char cmdline[128];           /* arguments joined by spaces, truncated */
	uint64_t first_ns, last_ns;  /* in the window; 0: from the start, to the end */
	uint64_t on_cpu_ns, runq_ns; /* its threads' scheduler time in the window */
	uint64_t accepts;            /* connections accepted */
	uint64_t exchanges;          /* exchanges served */
	uint64_t reserved[2];
};

/* The CPU limit and throttling of the cgroup the target's primary process
 * is in (its cpu controller's on a v1 or hybrid host, its cgroup v2 one
 * otherwise).  Counters are the kernel's running totals: the report takes
 * the difference between the first and the last record. */
#define NP_CGCPU_V1 1u
#define NP_CGCPU_V2 2u
#define NP_CGCPU_NO_LIMIT UINT64_MAX /* quota_us: "max", or cfs_quota_us -1 */
struct np_rec_cgroup_cpu {
	uint64_t ts_ns;
	uint32_t version; /* NP_CGCPU_V1, NP_CGCPU_V2 */
	uint32_t flags;   /* reserved */
	uint64_t quota_us, period_us;
	uint64_t nr_periods, nr_throttled;
	uint64_t throttled_ns; /* v2 throttled_usec x 1000, v1 throttled_time */
	char path[128];        /* the cgroup, from its hierarchy's root */
	uint64_t reserved[2];
};

/* Which process a thread (NP_BLK_THREADS, scheduler, samples) belongs to. */
struct np_rec_thread_pid {
	uint32_t tid, pid;
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

/* ---- CPU samples and the scheduler (types 16..31) ----
 *
 * Stacks are stored once, as a tree: a sample names its leaf node, a node
 * names its parent (0 = root) and the pc it stands for, and every pc has
 * one or more logical frames (several when functions were inlined there).
 * User and kernel frames share the tree: the kernel part hangs below the
 * user part, as in a flame graph.  Names live in the string table: the
 * NP_BLK_STRINGS blocks of a recording concatenated in file order, in which
 * a string is referenced by the offset of its first byte; offset 0 is "".
 * Samples and nodes are written while recording; frames, modules and
 * strings once at the end, symbolized while the process was still there,
 * so a recording needs neither the binaries nor the host to be reported.
 */

/* np_rec_cpu_sample.flags */
#define NP_CS_KERNEL 0x01     /* taken while the thread ran in the kernel */
#define NP_CS_TRUNCATED 0x02  /* the user stack copy ended before the outermost frame */
#define NP_CS_UNWIND_ERR 0x04 /* the unwinder stopped early (no CFI, bad memory) */
#define NP_CS_NO_USER 0x08    /* no user registers: a kernel-only stack */
#define NP_CS_TABLE_FULL 0x10 /* the stack tree was full: stack cut at the root */
/* Its process had no address space: past --max-processes (or past the cap
 * on the spaces made for execs).  Kernel stack only; with NP_CS_NO_USER. */
#define NP_CS_NO_SPACE 0x20

/* One on-CPU sample (perf cpu-clock, PERF_SAMPLE_TIME is CLOCK_MONOTONIC). */
struct np_rec_cpu_sample {
	uint64_t ts_ns;
	uint32_t tid;
	uint32_t node; /* leaf of its stack in the tree; 0 = no stack */
	uint16_t cpu;
	uint16_t flags;      /* NP_CS_* */
	uint16_t user_depth; /* physical user frames */
	uint16_t kernel_depth;
};

/* One node of the stack tree.  Nodes are numbered from 1 in the order they
 * are written; a parent is always written before its children. */
struct np_rec_stack_node {
	uint32_t id;
	uint32_t parent; /* 0: the node is a root (outermost frame) */
	uint32_t pc;     /* pc id: see np_rec_frame.pc */
	uint32_t pad;
};

/* np_rec_frame.cls: who the code belongs to: NP_CLS_* (frameclass.h). */

/* np_rec_frame.flags */
#define NP_FR_INLINE 0x01 /* inlined into the frame with index - 1 */
#define NP_FR_KERNEL 0x02
#define NP_FR_NOSYM 0x04    /* no symbol: shown as module+offset */
#define NP_FR_JIT 0x08      /* anonymous executable memory (JIT code) */
#define NP_FR_SOFTIRQ 0x10  /* a softirq entry point: frames above it run in softirq context */
#define NP_FR_UNMAPPED 0x20 /* the address was in no mapping at all */

/* One logical frame of a pc.  A pc with inlined calls has several, index 0
 * the function the code was compiled into, each next one inlined into the
 * previous; `line` is where the code at the pc is (innermost frame) or
 * where the next frame was inlined (call site). */
struct np_rec_frame {
	uint32_t pc; /* pc id, from 1 */
	uint16_t index;
	uint16_t count;    /* frames of this pc */
	uint32_t module;   /* module id, 0 = none */
	uint32_t function; /* string: demangled name; 0 = unknown */
	uint32_t file;     /* string: source file; 0 = no line info */
	uint32_t line;
	uint8_t cls;   /* NP_CLS_* */
	uint8_t flags; /* NP_FR_* */
	uint16_t pad;
	uint32_t pad2;
	uint64_t addr;   /* the address looked up (a return address minus 1) */
	uint64_t offset; /* addr as an offset into the module's file */
};

/* np_rec_module.flags */
#define NP_MOD_MAIN 0x01   /* the target's executable */
#define NP_MOD_KERNEL 0x02 /* vmlinux */
#define NP_MOD_KMOD 0x04   /* a kernel module */
#define NP_MOD_VDSO 0x08
#define NP_MOD_ANON 0x10    /* anonymous executable memory (JIT) */
#define NP_MOD_DELETED 0x20 /* the file was deleted or replaced while mapped */
#define NP_MOD_DEBUG 0x40   /* DWARF debug information was found */
#define NP_MOD_SYMTAB 0x80  /* a symbol table (.symtab or .dynsym) was found */

struct np_rec_module {
	uint32_t id;
	uint32_t flags;    /* NP_MOD_* */
	uint32_t name;     /* string: path, "[vdso]", "[kernel]", "[anon]" */
	uint32_t build_id; /* string: hex, or 0 */
	uint64_t start;    /* where it was mapped (0 for the kernel) */
	uint64_t end;
};

/* Totals of the CPU sampler, cumulative. */
struct np_rec_cpu_stats {
	uint64_t ts_ns;
	uint64_t samples;           /* kept */
	uint64_t lost;              /* PERF_RECORD_LOST: the ring overflowed */
	uint64_t foreign;           /* of other processes, dropped (never expected) */
	uint64_t new_thread_gap_ns; /* sum over new threads of birth to their event opening */
	uint64_t unwind_errors;     /* NP_CS_UNWIND_ERR */
	uint64_t truncated;         /* NP_CS_TRUNCATED */
	uint64_t table_full;        /* NP_CS_TABLE_FULL */
	uint64_t threads_sampled;   /* perf events opened */
	uint64_t threads_failed;    /* threads that could not be sampled */
	uint64_t throttled;         /* PERF_RECORD_THROTTLE */
	uint64_t unwind_ns;         /* CPU time the profiler spent unwinding */
	uint64_t symbolize_ns;      /* CPU time spent symbolizing (kallsyms included) */
	uint64_t pcs;               /* distinct pcs symbolized */
	uint64_t frequency_hz;
	uint64_t stack_bytes; /* user stack copied per sample */
};

#define NP_SCHED_THREAD_EXITED 0x1
#define NP_SCHED_THREAD_BORN 0x2 /* created inside the window */
#define NP_SCHED_THREAD_PROC 0x4 /* no scheduler event: idle all along, from /proc */

/* One thread's time from the scheduler, cumulative, as of ts_ns: its
 * parts add up to last_ns - first_ns (the open state is closed at ts_ns). */
struct np_rec_sched_thread {
	uint64_t ts_ns;
	uint32_t tid;
	uint32_t flags; /* NP_SCHED_THREAD_* */
	char comm[16];
	uint64_t first_ns; /* window start, or birth */
	uint64_t last_ns;  /* ts_ns, or exit */
	uint64_t on_cpu_ns;
	uint64_t runq_ns;
	uint64_t off_ns[NP_OFF_COUNT];
	uint64_t switches_vol;
	uint64_t switches_invol;
	uint64_t wakeups;
};

/* Off-CPU time of one thread for one (reason, syscall, kernel stack). */
struct np_rec_offcpu {
	uint32_t tid;
	int32_t sys;    /* syscall number on this machine, -1 none */
	uint32_t node;  /* kernel stack, as a leaf in the stack tree; 0 none */
	int32_t kstack; /* the stack id np_sched_event.kstack uses, -1 none */
	uint8_t reason; /* NP_OFF_* */
	uint8_t pad[7];
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
};

/* The thread state stream (NP_BLK_SCHED_EVENTS, struct np_sched_event in
 * bpf/schedev.h): every state change of the target's threads, in the order
 * the ring delivered them (per CPU in time order; merge by ts_ns).  A
 * thread's state between two of its events:
 *   SWITCH_OUT, reason NP_OFF_*   -> off CPU for that reason until WAKEUP
 *                                    (sys and kstack say where it blocked)
 *   SWITCH_OUT, NP_REASON_PREEMPTED -> runnable until SWITCH_IN
 *   WAKEUP, WAKEUP_NEW            -> runnable until SWITCH_IN
 *   SWITCH_IN                     -> on CPU until SWITCH_OUT or EXIT
 * A thread's state before its first event is the one its first event
 * leaves (a first SWITCH_OUT means it was on CPU since the window opened).
 * A kstack id resolves to a stack through the off-CPU record with the
 * same id (np_rec_offcpu.kstack -> .node).  The stream is
 * bounded: lost events are counted in np_rec_sched_stats.drops, and the
 * per-thread totals (np_rec_sched_thread) stay exact whatever it lost. */

struct np_rec_sched_stats {
	uint64_t ts_ns;
	uint64_t events;                /* state events recorded */
	uint64_t drops[NP_SDROP_COUNT]; /* NP_SDROP_* */
	uint64_t writer_drops;          /* events the recording could not take */
};

/* ---- sockets, NIC, softirq, counters, configuration (types 32..47) ---- */
#include "profiler/format/netrec.h"

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

/* One HTTP/2 connection, when it ended (or recording stopped): how many
 * streams it carried at once.  Its streams are exchanges of their own. */
struct np_rec_h2_conn {
	uint64_t cookie;
	uint64_t ts_ns;    /* when it ended */
	uint64_t streams;  /* streams completed */
	uint64_t open_sum; /* sum over them of the streams open when each began */
	uint32_t max_open; /* most streams open at once */
	uint32_t pad;
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

/* ---- the profiler's own accounting (types 64..79) ---------------------- */

/* np_rec_gov_config.flags */
#define NP_GOV_BPF_STATS 0x1 /* BPF run time measured (bpf_enable_stats), not estimated */

/* The overhead budget (--max-overhead), written once at start. */
struct np_rec_gov_config {
	uint64_t ts_ns;
	uint32_t budget_ppm; /* share of one CPU, in millionths (50000 = 5%) */
	uint32_t flags;      /* NP_GOV_* */
	uint32_t programs;   /* BPF programs whose run time is summed */
	uint32_t pad;
	uint64_t est_ns_per_call; /* the estimate's cost per traced call, when not measured */
	char why_no_stats[96];    /* why BPF run time is estimated, or "" */
};

/* np_rec_overhead.flags */
#define NP_OVH_BPF_ESTIMATED 0x1 /* bpf_ns = traced_calls x est_ns_per_call */
#define NP_OVH_BPF_HELD 0x2      /* bpf_ns from the last measured window's rate */

/* What netprof cost in (ts_ns - wall_ns, ts_ns]: its own CPU time (all its
 * threads, user + system) and the run time of its BPF programs in other
 * tasks' and the kernel's context (measured over the last bpf_window_ns of
 * the interval and scaled, see profiler/session/selfcost.h).  Overhead = (own_cpu + bpf) / wall, as
 * a share of one CPU. */
struct np_rec_overhead {
	uint64_t ts_ns;
	uint64_t wall_ns;
	uint64_t own_cpu_ns;
	uint64_t bpf_ns;
	uint64_t traced_calls;  /* system calls of the target traced in the interval */
	uint32_t level;         /* shed steps taken at ts_ns (governor.h) */
	uint32_t flags;         /* NP_OVH_* */
	uint64_t bpf_window_ns; /* BPF run time was measured over this much of
				 * the interval and scaled to it; 0: estimated */
};

/* Share of one CPU in one measured interval: (own CPU + BPF) / wall.
 * Here, with the record, because the profiler's governor and the report
 * both read it. */
static inline double np_overhead_share(const struct np_rec_overhead *r)
{
	if (!r->wall_ns)
		return 0;
	return (double)(r->own_cpu_ns + r->bpf_ns) / (double)r->wall_ns;
}

/* One change made by a shed step at ts_ns: e.g. source "syscalls", what
 * "slow_call_threshold_ns", from 1000000 to 4000000.  Events of that source
 * after ts_ns are kept more coarsely (or not at all, for a switch that
 * went from 1 to 0); its totals stay exact. */
struct np_rec_shed {
	uint64_t ts_ns;
	uint32_t step;      /* enum np_shed_step (governor.h) */
	uint32_t share_ppm; /* the overhead of the last second, in millionths of a CPU */
	char source[16];
	char what[48];
	uint64_t from;
	uint64_t to;
};
/* What one of netprof's BPF programs cost over one window of run-time
 * statistics (selfcost.h): its runs and their run time, as the kernel
 * counts them (bpf_prog_info run_cnt, run_time_ns).  Besides the per-program
 * cost table, ns per run is a yardstick of the host's speed: the same
 * program does the same work in two recordings, so when it runs 1.7x
 * slower per call, the CPUs were slower (a noisy neighbour, frequency,
 * steal) and the target's latencies moved for that reason too
 * (report/diff/diff.c). */
struct np_rec_bpf_cost {
	uint64_t ts_ns;     /* the window's end */
	uint64_t window_ns; /* its length */
	uint64_t runs;
	uint64_t run_ns;
	uint32_t prog_id;
	uint32_t prog_type; /* enum bpf_prog_type */
	char name[16];      /* BPF_OBJ_NAME_LEN: the kernel's (truncated) name */
};

/* np_rec_shed.what of the syscall source's slow-call threshold: the report
 * reads it to say from when its slow-call tables are coarser. */
#define NP_SHED_SLOW_CALL_THRESHOLD "slow_call_threshold_ns"

#endif /* NP_TIMELINE_H */
