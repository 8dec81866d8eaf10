/* overhead_report.c - the model of the report's "Overhead" section
 * (overhead_report.h; printed by report/render/text_overhead.c and
 * json_overhead.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/shed.h"
#include "report/model/report_model.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int np_ovh_report_build(const struct np_recording *rec, uint64_t start_ns, struct np_ovh_report *o)
{
	const struct np_rec_gov_config *cfg;
	const struct np_rec_overhead *ovh;
	const struct np_rec_shed *shed;
	size_t n_cfg, n_ovh, n_shed;
	double *shares;

	memset(o, 0, sizeof(*o));
	o->known = np_recording_meta(rec, "max_overhead_ppm") != NULL;
	cfg = np_recording_records(rec, NP_BLK_GOV_CONFIG, &n_cfg);
	ovh = np_recording_records(rec, NP_BLK_OVERHEAD, &n_ovh);
	shed = np_recording_records(rec, NP_BLK_SHED, &n_shed);
	if (n_cfg) {
		o->known = o->governor_on = true;
		o->budget = cfg->budget_ppm / 1e6;
		o->bpf_stats = cfg->flags & NP_GOV_BPF_STATS;
		o->programs = cfg->programs;
		memcpy(o->why_no_stats, cfg->why_no_stats, sizeof(o->why_no_stats));
		o->why_no_stats[sizeof(o->why_no_stats) - 1] = '\0';
	}
	shares = calloc(n_ovh ? n_ovh : 1, sizeof(*shares));
	if (!shares)
		return -1;
	for (size_t i = 0; i < n_ovh; i++) {
		o->wall_ns += ovh[i].wall_ns;
		o->own_cpu_ns += ovh[i].own_cpu_ns;
		o->bpf_ns += ovh[i].bpf_ns;
		o->traced_calls += ovh[i].traced_calls;
		if (!(ovh[i].flags & (NP_OVH_BPF_ESTIMATED | NP_OVH_BPF_HELD)))
			o->bpf_window_ns += ovh[i].bpf_window_ns ? ovh[i].bpf_window_ns
								 : ovh[i].wall_ns;
		/* A short last interval says little about the rate. */
		if (ovh[i].wall_ns >= 500000000ull)
			shares[o->n_seconds++] = np_overhead_share(&ovh[i]);
	}
	if (o->n_seconds) {
		qsort(shares, o->n_seconds, sizeof(*shares), cmp_double);
		o->median = o->n_seconds % 2
				    ? shares[o->n_seconds / 2]
				    : (shares[o->n_seconds / 2 - 1] + shares[o->n_seconds / 2]) / 2;
		o->max = shares[o->n_seconds - 1];
	}
	free(shares);
	if (n_shed && shed[n_shed - 1].step >= NP_SHED_STEPS) {
		double after[64];
		size_t n = 0;

		for (size_t i = 0; i < n_ovh && n < 64; i++)
			if (ovh[i].ts_ns >= ovh[i].wall_ns &&
			    ovh[i].ts_ns - ovh[i].wall_ns >= shed[n_shed - 1].ts_ns &&
			    ovh[i].wall_ns >= 500000000ull)
				after[n++] = np_overhead_share(&ovh[i]);
		if (n) {
			qsort(after, n, sizeof(*after), cmp_double);
			o->after_median = n % 2 ? after[n / 2]
						: (after[n / 2 - 1] + after[n / 2]) / 2;
			o->still_over = o->after_median > o->budget;
		}
	}
	if (n_shed) {
		o->shed = calloc(n_shed, sizeof(*o->shed));
		if (!o->shed)
			return -1;
	}
	for (size_t i = 0; i < n_shed; i++) {
		struct np_ovh_shed *s = &o->shed[o->n_shed++];

		s->offset_ns = shed[i].ts_ns > start_ns ? shed[i].ts_ns - start_ns : 0;
		s->step = shed[i].step;
		s->share = shed[i].share_ppm / 1e6;
		memcpy(s->source, shed[i].source, sizeof(s->source));
		memcpy(s->what, shed[i].what, sizeof(s->what));
		s->source[sizeof(s->source) - 1] = s->what[sizeof(s->what) - 1] = '\0';
		s->from = shed[i].from;
		s->to = shed[i].to;
	}
	return 0;
}

void np_ovh_report_fini(struct np_ovh_report *o)
{
	free(o->shed);
	o->shed = NULL;
	o->n_shed = 0;
}
