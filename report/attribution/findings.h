/* findings.h - attribution: the breakdown of the service's time and the
 * findings (cause, evidence, advice), computed from struct np_signals only.
 *
 * The rules are one table (np_rules[] in findings.c): a row measures one
 * number from the signals and compares it with its info/warning/critical
 * thresholds.  Rows of the same cause make one finding.  A row whose inputs
 * are unknown (a have_* flag is false) does not fire.  No rule looks at a
 * program, scenario or host name.
 */
#ifndef NP_FINDINGS_H
#define NP_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/attribution/signals.h"
#include "report/model/series.h" /* struct np_span */

enum np_severity {
	NP_SEV_NONE = 0,
	NP_SEV_INFO = 1,
	NP_SEV_WARNING = 2,
	NP_SEV_CRITICAL = 3,
};

#define NP_MAX_EVIDENCE 10
#define NP_MAX_SPANS 16

struct np_evidence {
	char metric[48];
	double value;
	char unit[16];
	char where[NP_SIG_NAME_LEN * 2]; /* socket, CPU, interface, function; "" = the service */
	/* The windows in which this number moved (merged runs), when it is
	 * known per window. */
	struct np_span when[NP_MAX_SPANS];
	size_t n_when;
};

enum np_confidence {
	NP_CONF_LOW = 0, /* the target's own signals do not show it */
	NP_CONF_MEDIUM,  /* its own or unchecked, but latency did not move with it */
	NP_CONF_HIGH,    /* the target's own signals, and latency moved with them */
};

const char *np_confidence_name(enum np_confidence c);

struct np_finding {
	const char *cause; /* static: cause identifier (docs/DESIGN.md), "stack.qdisc" */
	const char *layer; /* "application", "stack", "nic", "peer" */
	enum np_severity severity;
	double score; /* 0..1: <0.5 info, 0.5..0.75 warning, >= 0.75 critical */
	/* Whose evidence the summary's row is: the target's own, a shared
	 * counter no signal of the target's matches (at most info, never the
	 * verdict), or a shared counter whose owner could not be told. */
	enum np_owner owner;
	char summary[256];
	char advice[640];
	struct np_evidence ev[NP_MAX_EVIDENCE];
	size_t n_ev;
	/* Correlation: the windows where this finding's counters moved ... */
	struct np_span spans[NP_MAX_SPANS];
	size_t n_spans;
	size_t windows_moved;
	/* ... and whether latency rose in them: -1 unknown (no per-window
	 * latency), else how many of those windows had latency above
	 * NP_LATENCY_ROSE_FACTOR x the median window. */
	int latency_rose;
	size_t windows_latency_rose;
	const char *latency_metric; /* "exchange_p99_ns" or "io_p99_ns" */
	/* The recording's windows, and whether the counters moved in (nearly)
	 * all of them: a fault present all along leaves no quieter window for
	 * latency to rise against, so "did not rise" would mislead. */
	size_t windows_total;
	bool steady;
	/* How far to trust it: whose evidence it is and whether request
	 * latency moved with it (np_confidence_name), and why in words. */
	enum np_confidence confidence;
	char confidence_why[160];
	/* The strongest fact that speaks against it, in words; "" when
	 * nothing does (np_finding_counter). */
	char counter[240];
};

/* Sets f's confidence and its reason from its owner and correlation. */
enum np_confidence np_finding_confidence(struct np_finding *f);

/* Sets f's counter-evidence: the strongest of its evidence not being the
 * target's own, request latency not rising where it moved, a finding of
 * another layer about as strong (against the verdict) or stronger (against
 * the rest: the verdict), and a signal that moved only briefly.  `verdict`
 * may be NULL or f itself. */
void np_finding_counter(struct np_finding *f, const struct np_finding *verdict,
			const struct np_finding *all, size_t n);

/* Steady: moved in all windows but one in ten (at least two windows). */
bool np_finding_steady(size_t windows_moved, size_t windows_total);

/* Where the service's time went, in ns of the recording window: the five
 * add up to the window's duration exactly.  Each is the share of the
 * service threads' time (see README, "Breakdown") scaled to the window. */
struct np_breakdown {
	bool known;
	uint64_t application_ns, stack_ns, nic_ns, peer_ns, idle_ns;
	uint64_t window_ns; /* = the sum of the five */
	uint64_t thread_ns; /* the service threads' time the shares are of */
	/* Of idle_ns, off-CPU time whose reason was not recorded (see
	 * np_sig_totals.off_unknown_ns), scaled like the rest. */
	uint64_t idle_unexplained_ns;
	bool estimated;         /* some parts estimated from the syscall source alone */
	size_t unknown_threads; /* short-lived threads left out: times unknown */
};

/* A service at its capacity: its busiest service thread on a CPU or
 * waiting for one nearly all the time while requests queue behind it,
 * however low their latency.  What bounds its throughput is where that
 * thread's CPU goes: application code or the kernel's network work. */
#define NP_CAPACITY_BUSY 0.85   /* busy share of the thread's time */
#define NP_CAPACITY_QUEUED 0.10 /* share of request time spent queued */
struct np_capacity {
	bool at_capacity;
	uint32_t tid;
	char comm[16];
	double busy_share;   /* (on CPU + run queue) / its time in the window */
	double queued_share; /* requests' queued time / their total */
	bool have_split;     /* CPU samples said where its CPU went */
	double app_share, kernel_net_share, kernel_other_share; /* of its on-CPU time */
	const char *bound_by; /* "application code" or "kernel network work"; NULL unknown */
	double requests_per_s;
	double bound_per_s; /* one service thread: requests_per_s / busy_share; else 0 */
};

/* Fills c from the signals (zeroed when not at capacity). */
void np_capacity_compute(const struct np_signals *s, struct np_capacity *c);

struct np_analysis {
	struct np_breakdown breakdown;
	struct np_capacity capacity;
	struct np_finding *findings; /* by score, highest first */
	size_t n_findings;
	const struct np_finding *verdict; /* into findings: highest warning/critical, or NULL */
	/* The next finding that could have been the verdict (warning or
	 * critical, the target's) and why it ranked below; NULL without one. */
	const struct np_finding *runner_up;
	char runner_up_why[320];
};

/* One row of the rules table; exposed for the README generator and tests. */
struct np_rule_row {
	const char *cause;
	const char *metric;      /* what the row measures (the evidence's metric) */
	const char *unit;        /* of the value and the thresholds */
	double info, warn, crit; /* value >= threshold gives that severity; 0 = unused */
	const char *condition;   /* in words, for the README */
};

/* Thresholds for the correlation of windows with latency. */
#define NP_LATENCY_ROSE_FACTOR 1.5
#define NP_LATENCY_ROSE_MIN_NS 50000ull

size_t np_rules_count(void);
void np_rule_row_get(size_t i, struct np_rule_row *out);

const char *np_cause_layer(const char *cause); /* NULL for an unknown cause */
const char *np_severity_name(enum np_severity s);

int np_analyze(const struct np_signals *s, struct np_analysis *out);
void np_analysis_fini(struct np_analysis *a);

/* The breakdown alone (np_analyze computes it too); exposed for tests. */
void np_breakdown_compute(const struct np_signals *s, struct np_breakdown *b);

#endif /* NP_FINDINGS_H */
