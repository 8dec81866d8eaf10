/* overhead_report.h - the report's account of netprof's own cost while it
 * recorded: the budget (--max-overhead), what was measured once a second
 * (its CPU time plus its BPF programs' run time, as a share of one CPU),
 * and every shed action of the overhead governor with its time and what it
 * changed, so a reader knows which detail is thinner after which moment.
 *
 * Built from NP_BLK_GOV_CONFIG / NP_BLK_OVERHEAD / NP_BLK_SHED; recordings
 * made before the governor existed have none and report "not measured".
 */
#ifndef NP_OVERHEAD_REPORT_H
#define NP_OVERHEAD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_ovh_shed {
	uint64_t offset_ns; /* from the start of the window */
	uint32_t step;
	double share; /* the overhead that triggered it */
	char source[16];
	char what[48];
	uint64_t from, to;
};

/* One of netprof's BPF programs over the windows its run time was measured
 * in (NP_BLK_BPF_COST), summed per program. */
struct np_ovh_prog {
	char name[16];
	uint32_t prog_id, prog_type;
	uint64_t runs, run_ns;
	uint64_t window_ns; /* the windows it was measured over, summed */
};

struct np_ovh_report {
	bool known;       /* the recording says whether a governor ran */
	bool governor_on; /* a budget was set and overhead was measured */
	double budget;    /* share of one CPU */
	bool bpf_stats;   /* BPF run time measured, not estimated */
	char why_no_stats[96];
	uint32_t programs;
	size_t n_seconds;                     /* measurements of at least half a second */
	double median, max;                   /* share of one CPU over those */
	uint64_t wall_ns, own_cpu_ns, bpf_ns; /* over every measurement */
	uint64_t traced_calls;                /* the target's calls traced meanwhile */
	uint64_t bpf_window_ns;               /* of wall_ns, BPF run time measured over */
	/* Every step was taken and the seconds after the last one were still
	 * over budget (median after_median): what remains is the programs
	 * that keep the aggregates, which are never shed. */
	bool still_over;
	double after_median;
	struct np_ovh_shed *shed; /* in time order */
	size_t n_shed;
	/* by run time, largest first; none in recordings made before
	 * NP_BLK_BPF_COST, or without run-time statistics */
	struct np_ovh_prog *progs;
	size_t n_progs;
	uint64_t cost_window_ns; /* the measured windows, summed once */
};

/* A program's mean run time per run; 0 when it did not run. */
double np_ovh_ns_per_run(const struct np_ovh_prog *p);

struct np_recording;
struct np_report;

int np_ovh_report_build(const struct np_recording *rec, uint64_t start_ns, struct np_ovh_report *o);
void np_ovh_report_fini(struct np_ovh_report *o);

#endif /* NP_OVERHEAD_REPORT_H */
