/* report_model.h - the tables of a report, built from a recording by the
 * model (report/model/): per-syscall latency, the slowest calls, the
 * threads, and each source's part (net_report.h, cpu_report.h,
 * exchange_report.h, netstack_report.h, overhead_report.h), plus the
 * folded stacks of the flame graphs.
 *
 * The model never prints and never judges: the attribution
 * (report/attribution/) reads these tables into signals and findings, and
 * the renderers (report/render/) print them.  Nothing here touches the
 * live system: a recording made on a production host reports the same on
 * a laptop.
 */
#ifndef NP_REPORT_MODEL_H
#define NP_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/recording.h"
#include "report/model/process_report.h"
#include "report/model/exchange_report.h"
#include "report/model/folded.h"
#include "report/model/hist.h"
#include "report/model/net_report.h"
#include "report/model/netstack_report.h"
#include "report/model/overhead_report.h"
#include "report/model/values.h"

struct np_cpu_report;
struct np_signals;
struct np_analysis;
struct np_timeline;

struct np_sys_row {
	unsigned int sys; /* enum np_sys */
	const char *name; /* static (profiler/format/systable.h) */
	uint64_t count, errors, eagain, bytes, total_ns;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;
};

struct np_slow_call {
	struct np_sys_event ev;
	const char *comm; /* of ev.tid, or "": borrowed from the recording */
	char local[NP_ENDPOINT_LEN];
	char peer[NP_ENDPOINT_LEN];
};

struct np_thread_row {
	uint32_t tid;
	char comm[16];
	bool exited;
	bool sched_known;   /* false: lived between two polls, times unknown */
	uint64_t window_ns; /* time the thread existed inside the window */
	uint64_t on_cpu_ns, runnable_ns, off_cpu_ns;
	uint64_t calls, sys_ns, wait_ns;
	/* from the scheduler tracer (report/model/cpu_report.c), when it ran */
	bool have_reasons;
	uint64_t off_by_reason_ns[NP_OFF_COUNT];
	uint64_t switches_vol, switches_invol, wakeups;
	uint64_t samples; /* on-CPU samples */
};

struct np_report {
	const struct np_recording *rec;         /* borrowed: the recording outlives the report */
	uint64_t start_ns, end_ns, duration_ns; /* CLOCK_MONOTONIC */
	uint64_t realtime_start_ns;
	const char *end_reason; /* static: "duration", "signal", "target exited", ... */
	struct np_sys_row sys[NP_SYS_COUNT];
	size_t n_sys; /* rows with calls, by total time */
	/* Calls over the threshold, slowest first, at most max_slow each:
	 * I/O and connection calls, and readiness waits (which are idle time
	 * unless data was waiting; kept apart so they do not hide the rest). */
	struct np_slow_call *slow;
	size_t n_slow;
	uint64_t slow_total;
	struct np_slow_call *slow_waits;
	size_t n_slow_waits;
	uint64_t slow_waits_total;
	uint64_t threshold_ns;
	struct np_thread_row *threads;
	size_t n_threads;
	uint64_t lost_events;
	uint64_t lost_by_cause[NP_DROPS_SLOTS];
	/* sockets, interfaces, CPUs, TCP counters, configuration (net_report.h) */
	struct np_net_report net;

	/* Attribution: the signals the rules read, and what they found.  The
	 * model leaves these NULL; report/report.c fills them from the tables
	 * above (report/attribution/). */
	struct np_signals *sig;
	struct np_analysis *an;
	/* Every time series the timeline (HTML) and the Perfetto export draw;
	 * built after the attribution, whose findings' spans it keeps. */
	struct np_timeline *tl;
	/* Folded stacks for the flame graphs ("a;b;c" -> samples), root first;
	 * none until the CPU and scheduler sources provide them. */
	struct np_folded *oncpu, *offcpu;
	/* on-CPU profile, thread times and off-CPU waits (cpu_report.h) */
	struct np_cpu_report *cpu; /* NULL without samples or scheduler data */
	/* exchanges (exchange_report.h) and kernel stack events (netstack_report.h) */
	struct np_xch_report xch;
	struct np_ns_report ns;
	struct np_ovh_report ovh;    /* overhead_report.h: netprof's own cost, what was shed */
	struct np_proc_report procs; /* process_report.h: a service's processes */
};

#define NP_REPORT_MAX_SLOW 20

/* Builds every table of the model into *out (zeroed first); sig, an and tl
 * stay NULL.  On failure *out is cleared.  0 or -ENOMEM. */
int np_model_build(const struct np_recording *rec, struct np_report *out, size_t max_slow);
/* Clears what np_model_build() made (not r itself, nor sig, an and tl). */
void np_model_fini(struct np_report *r);

#endif /* NP_REPORT_MODEL_H */
