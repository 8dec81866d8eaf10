/* diff.h - netprof diff: two reports compared figure by figure, each
 * change marked significant or within noise (stats.h), and a headline that
 * pairs what changed in the configuration with what it did.
 *
 * Exchanges are compared per component (queued/app/tx/peer, and the TLS
 * handshake when both recordings have it) overall and per label; thread
 * shares per thread name and per process (known by name and role, since
 * pids differ between runs); drops per reason and per kernel location.
 *
 * Built from two reports (report/model + report/attribution) by
 * np_diff_compute(); rendered by report/render (np_diff_text,
 * np_diff_json).  Recordings of different lengths or load are compared per
 * second and per request, never as raw totals.
 *
 * Significance, one family per diff:
 *  - rates, shares and per-window gauges: a bootstrap of the difference of
 *    the per-window (1 s) means, NP_BOOT_RESAMPLES resamples with a fixed
 *    seed per metric;
 *  - system call latency: the same bootstrap over each call's per-second
 *    mean latency (the second, not the call, is the unit);
 *  - exchange latencies: Mann-Whitney U (normal approximation, its variance
 *    inflated by the events' batch-means design effect) on the individually
 *    recorded events - every one slower than the threshold plus 1 in N of
 *    the rest.  The same selection on both sides
 *    keeps the test valid when both used the same threshold and N; else it
 *    is not run;
 *  - every p-value goes through Holm's correction at NP_DIFF_ALPHA, and a
 *    change must also be large enough to matter (NP_DIFF_MIN_REL, or
 *    NP_DIFF_MIN_SHARE for shares) to be significant.
 *  - the host's speed: events of one recording are not independent, they
 *    share the CPUs' state (a noisy neighbour, frequency, steal), which
 *    can hold for seconds and move every latency 2-3x between two
 *    recordings of an unchanged service.  netprof's own BPF programs do the
 *    same work in both, so their run time per run (np_rec_bpf_cost) is the
 *    yardstick: when it moved by NP_DIFF_HOST_NOISE or more, a latency that
 *    moved the same way is `host_noise`, never significant, and a note at
 *    the top says so.  Likewise for other work's share of the host's CPUs
 *    (NP_DIFF_HOST_LOAD_NOISE): more of it, longer queues.
 * Findings and configuration are not sampled: a finding that appears or
 * goes at warning or above, or changes severity across warning, is
 * significant by the rules when at least one measured figure of the diff
 * moved significantly too (else `unbacked`: a score near a threshold flips
 * between two recordings of the same service); a configuration change is
 * listed as such, and paired with the figures it acts on directly (a table
 * in diff.c: a backlog sysctl with softnet drops, a qdisc with qdisc drops
 * and tx time, ...), which the headline puts next to it.
 */
#ifndef NP_DIFF_H
#define NP_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_report;

#define NP_DIFF_ALPHA 0.05
#define NP_DIFF_MIN_REL 0.20   /* relative change a rate or latency must reach */
#define NP_DIFF_MIN_SHARE 0.05 /* absolute change a share must reach */
#define NP_DIFF_MIN_EVENTS 8   /* recorded events per side for a rank test */
#define NP_DIFF_MIN_WINDOWS 2  /* windows per side for a bootstrap */
#define NP_DIFF_MAX_PAIRED 4   /* configuration changes a figure is paired with */
/* The host's speed (BPF run time per run) moved by this factor or more:
 * between recordings of an unchanged service on a quiet host it stays
 * within +-20% (16 recordings of 3 s on the development VM: 3.7 to 4.9 us
 * per traced call) and reaches 1.6-1.7x while a neighbour slows the CPUs. */
#define NP_DIFF_HOST_NOISE 1.25
#define NP_DIFF_HOST_MIN_RUNS 200 /* a program's runs per side to be a yardstick */
/* The target's calls per second this many times apart or more: another
 * load, and the yardstick is not used.  Between two recordings of the same
 * load they agree within a few percent; the scenario suite's faults change
 * them 2-100x (healthy vs app.blocked: per-run cost 136 -> 218 ns from the
 * work, not the host). */
#define NP_DIFF_HOST_SAME_LOAD 1.5
/* Other work's share of the host's CPUs moved by this much (0.10: a tenth
 * of all CPUs): on the 2-CPU development VM, a compiler starting beside
 * the server moved request queueing 3x between two 3 s recordings. */
#define NP_DIFF_HOST_LOAD_NOISE 0.10

enum np_diff_section {
	NP_DS_FINDING,
	NP_DS_BREAKDOWN,
	NP_DS_EXCHANGE,
	NP_DS_SYSCALL,
	NP_DS_THREAD,
	NP_DS_COUNTER,
	NP_DS_CONFIG,
	NP_DS_COUNT
};

enum np_diff_method {
	NP_DM_NONE,      /* not tested: one value per recording */
	NP_DM_RULES,     /* findings: the attribution's rules on each side */
	NP_DM_CONFIG,    /* a configuration value: not sampled */
	NP_DM_BOOTSTRAP, /* bootstrap over per-window values */
	NP_DM_RANK,      /* Mann-Whitney U on recorded events */
};

enum np_diff_status {
	NP_DC_CHANGED,
	NP_DC_APPEARED,
	NP_DC_GONE,
	NP_DC_SEVERITY,
	NP_DC_SAME,
};

struct np_diff_change {
	enum np_diff_section section;
	char metric[64];
	char where[128];
	char unit[16]; /* "ns", "per second", "share", "per request", "" for text */
	bool have_before, have_after;
	double before, after;
	char sbefore[128], safter[128]; /* text values (findings, configuration) */
	bool is_text;
	enum np_diff_status status;
	enum np_diff_method method;
	/* the test (method BOOTSTRAP or RANK) */
	double p, p_holm_limit;   /* raw p; the Holm threshold it was held to */
	double lo, hi;            /* bootstrap interval of after - before */
	double deff;              /* rank test: its design effect (stats.h) */
	size_t n_before, n_after; /* windows or events */
	bool tested;              /* a p-value was computed */
	bool large_enough;        /* passes the effect floor */
	bool significant;
	bool unbacked;   /* a finding over the warning line with no significant measured move */
	bool host_noise; /* a latency that moved the way the host's speed did (np_diff_host) */
	int test_id;     /* changes sharing one test (p50 and p99 of one component) */
	/* The configuration changes of the diff (indices into np_diff.c, in
	 * its order; the first NP_DIFF_MAX_PAIRED) that act on this figure
	 * directly (np_diff_config_acts_on), whether it moved significantly
	 * or not; none on findings and configuration changes. */
	size_t paired[NP_DIFF_MAX_PAIRED];
	size_t n_paired;
};

struct np_diff_side {
	char comm[64], exe[256], hostname[128], kernel[128], start_time[32];
	uint32_t pid, version;
	uint64_t duration_ns;
	uint64_t requests;
	double requests_per_s;
	const char *verdict; /* cause, or NULL */
	const char *verdict_severity;
	double verdict_score;
	uint64_t threshold_ns;
	uint32_t sample_every;
};

/* How fast the host ran netprof's own BPF programs in each recording: the
 * run-weighted median over the programs both ran enough of, of after's
 * run time per run over before's.  known only when both recordings carry
 * per-program costs (NP_BLK_BPF_COST: the governor on, with run-time
 * statistics). */
struct np_diff_host {
	bool known;
	double ratio;               /* after / before: 1.7 = the host ran 1.7x slower after */
	double before_ns, after_ns; /* per run, pooled over the compared programs */
	size_t programs;
	/* the factor between the target's traced calls per second: under
	 * another load the programs do other work per run, and the ratio
	 * says nothing of the host */
	double rate_change;
	bool comparable; /* rate_change below NP_DIFF_HOST_SAME_LOAD */
	bool noisy;      /* comparable, |ratio| beyond NP_DIFF_HOST_NOISE: latencies are gated */
	/* Other work on the host: its CPUs' busy time (/proc/stat: user,
	 * system, irq, softirq, steal) less the target's on-CPU time and
	 * netprof's own, as a share of all CPUs over the window. */
	bool load_known;
	double load_before, load_after;
	bool load_noisy; /* comparable, moved by NP_DIFF_HOST_LOAD_NOISE or more: gated too */
};

struct np_diff {
	struct np_diff_side before, after;
	bool different_target, different_host;
	struct np_diff_host host;
	char notes[5][256]; /* said at the top: different targets, hosts, ... */
	size_t n_notes;
	struct np_diff_change *c;
	size_t n, cap;
	size_t n_tested, n_significant;
	char headline[2048]; /* up to 3 configuration changes and 3 + 4 moves */
};

/* Compares two built reports (report/report.h np_report_build).  0 or
 * -ENOMEM; *d is cleared first. */
int np_diff_compute(const struct np_report *before, const struct np_report *after,
		    struct np_diff *d);
void np_diff_fini(struct np_diff *d);

const char *np_diff_section_name(enum np_diff_section s);
const char *np_diff_method_name(enum np_diff_method m);
const char *np_diff_status_name(enum np_diff_status s);
/* One paragraph on how significance is decided, for every output. */
extern const char np_diff_method_text[];

/* What a change counts as, for people: "SIGNIFICANT", "within noise", "too
 * small", "host noise", "config", ... (every output says it the same way). */
const char *np_diff_mark(const struct np_diff_change *c);
/* A change's before (after = false) or after value for people: "-" when
 * unknown, text values as they are, ns as s/ms/us, shares in percent. */
void np_diff_fmt_value(const struct np_diff_change *c, bool after, char *buf, size_t len);

/* Change classification, exposed for tests: status of a finding whose
 * severity went from `before` to `after` (enum np_severity; 0 = absent),
 * and whether that is significant. */
enum np_diff_status np_diff_classify_finding(int before, int after, bool *significant);
/* The host's speed from two reports' per-program BPF costs (np_diff_host),
 * exposed for tests. */
void np_diff_host_speed(const struct np_report *before, const struct np_report *after,
			struct np_diff_host *h);
/* Whether a change of configuration key `key` acts directly on the figure
 * `metric` at `where` (a drop reason, a CPU, "" for none): one row of the
 * table in diff.c, which says why for each kind of key. */
bool np_diff_config_acts_on(const char *key, const char *metric, const char *where);
/* Pairs d's figures with the configuration changes that act on them and
 * writes the headline, from d's changes as they are (significance already
 * decided); np_diff_compute's last step, exposed for tests. */
void np_diff_explain(struct np_diff *d);
/* Whether a tested change of `before` -> `after` is large enough to count. */
bool np_diff_large_enough(double before, double after, bool share);

#endif /* NP_DIFF_H */
