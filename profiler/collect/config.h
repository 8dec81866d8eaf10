/* config.h - what the user asked for, after option parsing. */
#ifndef NP_CONFIG_H
#define NP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profiler/collect/targets.h"

/* --unwinder: the library that unwinds sampled user stacks
 * (profiler/cpu/unwind.h).  libdw is the default. */
enum np_unwind_backend { NP_UNWIND_LIBDW = 0, NP_UNWIND_LIBUNWIND, NP_UNWIND_NBACKENDS };

/* "libdw", "libunwind": the option's values and the recording's "unwinder". */
static inline const char *np_unwind_backend_name(enum np_unwind_backend b)
{
	return b == NP_UNWIND_LIBUNWIND ? "libunwind" : "libdw";
}

struct np_config {
	pid_t pid;                    /* the primary target process (the master) */
	struct np_target_spec spec;   /* -p, --cgroup, --unit, --container, ... */
	struct np_targetset *targets; /* resolved by the caller; NULL: pid alone */
	uint64_t duration_ns;         /* -d */
	const char *output;           /* -o, the recording */
	uint64_t threshold_ns;        /* --threshold: calls slower than this are kept */
	uint32_t sample_every;        /* --sample: also keep 1 in N calls; 0 = none */
	uint32_t ringbuf_bytes;       /* --ringbuf-kb */
	uint32_t poll_ms;             /* --poll-ms */
	uint32_t freq_hz;             /* -F: CPU samples per second per thread; 0 = no sampling */
	int no_cpu;                   /* --no-cpu: neither CPU samples nor the scheduler tracer */
	uint32_t stack_bytes;         /* --stack-kb: user stack copied per sample */
	enum np_unwind_backend unwinder; /* --unwinder */
	uint32_t sched_ringbuf_bytes;    /* ring of thread state events */
	int verbose;                     /* -v */
	bool no_payload;                 /* --no-payload: never read request/response bytes */
	bool no_exchanges;               /* --no-exchanges */
	bool tls;            /* --tls: uprobes on the target's libssl (off by default: they trap) */
	bool no_netstack;    /* --no-netstack */
	double max_overhead; /* --max-overhead, share of one CPU (0.05 = 5%); 0 = no governor */
	const char *proc_root; /* "/" except in tests */
};

#define NP_DEFAULT_DURATION_NS (10ull * 1000000000ull)
#define NP_DEFAULT_THRESHOLD_NS 1000000ull
#define NP_DEFAULT_SAMPLE_EVERY 64
#define NP_DEFAULT_RINGBUF_BYTES (4u << 20)
#define NP_DEFAULT_POLL_MS 100
#define NP_DEFAULT_FREQ_HZ 99
#define NP_DEFAULT_STACK_BYTES (16u << 10)
#define NP_DEFAULT_SCHED_RINGBUF_BYTES (4u << 20)

#endif /* NP_CONFIG_H */
