/* report.h - what a report says, derived from a recording.
 *
 * np_report_build() turns a loaded recording into tables (per-syscall
 * latency, slowest calls, threads) that the renderers print as text or
 * JSON.  Nothing here touches the live system: a recording made on a
 * production host reports the same on a laptop.
 *
 * Each further source keeps its part of the report in a file of its own
 * (report/<source>.c with its header): a struct built from the recording
 * and hung off struct np_report, its text section (textout.h) and its JSON
 * section, which np_report_build(), text.c and json.c call.
 */
#ifndef NP_REPORT_H
#define NP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report/model/net_report.h"
#include "report/attribution/findings.h"
#include "report/model/exchange_report.h"
#include "report/model/netstack_report.h"
#include "report/model/overhead_report.h"
#include "profiler/format/recording.h"
#include "report/attribution/signals.h"

struct np_timeline;

struct np_sys_row {
	unsigned int sys; /* enum np_sys */
	const char *name;
	uint64_t count, errors, eagain, bytes, total_ns;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;
};

#define NP_ENDPOINT_LEN 64 /* "[ffff:...:ffff]:65535" fits */

struct np_slow_call {
	struct np_sys_event ev;
	const char *comm; /* of ev.tid, or "" */
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

struct np_cpu_report;

struct np_report {
	const struct np_recording *rec;
	uint64_t start_ns, end_ns, duration_ns; /* CLOCK_MONOTONIC */
	uint64_t realtime_start_ns;
	const char *end_reason; /* "duration", "signal", "target exited", ... */
	struct np_sys_row sys[NP_SYS_COUNT];
	size_t n_sys;            /* rows with calls, by total time */
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
	/* sockets, interfaces, CPUs, TCP counters, configuration (net.h) */
	struct np_net_report net;

	/* Attribution: the signals the rules read, and what they found. */
	struct np_signals *sig;
	struct np_analysis an;
	/* Every time series the timeline (HTML) and the Perfetto export draw. */
	struct np_timeline *tl;
	/* Folded stacks for the flame graphs ("a;b;c" -> samples), root first;
	 * none until the CPU and scheduler sources provide them. */
	struct np_folded *oncpu, *offcpu;
	/* on-CPU profile, thread times and off-CPU waits (cpu.h) */
	struct np_cpu_report *cpu; /* NULL without samples or scheduler data */
	/* exchanges (exchange_report.h) and kernel stack events (netstack_report.h) */
	struct np_xch_report xch; /* exchanges.c */
	struct np_ns_report ns;   /* netstack.c */
	struct np_ovh_report ovh; /* overhead.c: netprof's own cost, what was shed */
};

/* Collapsed stacks: one per line in --format folded ("main;serve;parse 42"). */
struct np_folded_stack {
	char *stack; /* frames joined by ';', root first */
	uint64_t count;
};
struct np_folded {
	struct np_folded_stack *v;
	size_t n, cap;
	const char *unit; /* "samples" or "ns" */
};
int np_folded_add(struct np_folded *f, const char *stack, uint64_t count);
void np_folded_free(struct np_folded *f);

#define NP_REPORT_MAX_SLOW 20

int np_report_build(const struct np_recording *rec, struct np_report *out, size_t max_slow);
void np_report_free(struct np_report *r);

int np_report_json(const struct np_report *r, FILE *f);
/* The JSON report as one malloc'd string (pretty or compact); NULL on ENOMEM. */
char *np_report_json_string(const struct np_report *r, bool pretty);
int np_report_text(const struct np_report *r, FILE *f, bool color);
int np_report_html(const struct np_report *r, FILE *f);
int np_report_perfetto(const struct np_report *r, FILE *f);

/* Estimated q-quantile (0..1) in ns of a log2 histogram (bucket i holds
 * 2^i <= ns < 2^(i+1)), interpolated linearly inside the bucket and never
 * above max_ns.  0 for an empty histogram. */
uint64_t np_hist_quantile(const __u64 *hist, int buckets, double q, uint64_t max_ns);
/* The same over a log-linear exchange histogram (NP_XH_BUCKETS buckets,
 * bpf/exchange.h), whose buckets are at most 1/8 of their value wide. */
uint64_t np_xh_quantile(const uint64_t *hist, double q, uint64_t max_ns);

/* "1.2.3.4:80", "[::1]:80", or "" when the event has no endpoints. */
void np_format_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *out,
			size_t outlen);
/* Copies s with invalid UTF-8 replaced by U+FFFD and, when `controls` is
 * set, control characters replaced by '?' (for terminals).  Returns out. */
char *np_sanitize(const char *s, char *out, size_t outlen, bool controls);
/* The name of the errno in a syscall result ("EAGAIN"), or NULL when the
 * result is not an error. */
const char *np_errno_name(int64_t ret);
/* Prints the first `cols` characters of UTF-8 `s` (never a partial
 * character), padded with spaces to `cols`. */
void np_fput_cols(FILE *f, const char *s, int cols);
/* Writes s as a JSON string: invalid UTF-8 becomes U+FFFD, quotes,
 * backslashes and control characters are escaped, and with html_safe also
 * < > & ' U+2028 U+2029, so the string can sit inside an HTML <script>. */
void np_json_str(FILE *f, const char *s, bool html_safe);
/* v as a uint64_t, saturated: negative or NaN is 0, too large is
 * UINT64_MAX (a plain cast of an out-of-range double is undefined). */
uint64_t np_u64_sat(double v);
/* "1.50 ms", "850.0 us", "2.00 s" */
const char *np_fmt_ns(uint64_t ns, char *buf, size_t len);
const char *np_fmt_bytes(uint64_t b, char *buf, size_t len);
const char *np_end_reason_name(uint32_t reason);

#endif /* NP_REPORT_H */
