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

double np_ovh_ns_per_run(const struct np_ovh_prog *p)
{
	return p->runs ? (double)p->run_ns / (double)p->runs : 0;
}

static int cmp_prog_run_ns(const void *a, const void *b)
{
	const struct np_ovh_prog *x = a, *y = b;

	if (x->run_ns != y->run_ns)
		return x->run_ns < y->run_ns ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Sums the NP_BLK_BPF_COST records per program (by id: names repeat). */
static int build_programs(const struct np_recording *rec, struct np_ovh_report *o)
{
	const struct np_rec_bpf_cost *c;
	size_t n;
	uint64_t last_ts = 0;

	c = np_recording_records(rec, NP_BLK_BPF_COST, &n);
	if (!n)
		return 0;
	o->progs = calloc(n, sizeof(*o->progs));
	if (!o->progs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct np_ovh_prog *p = NULL;

		for (size_t j = 0; j < o->n_progs && !p; j++)
			if (o->progs[j].prog_id == c[i].prog_id)
				p = &o->progs[j];
		if (!p) {
			p = &o->progs[o->n_progs++];
			p->prog_id = c[i].prog_id;
			p->prog_type = c[i].prog_type;
			memcpy(p->name, c[i].name, sizeof(p->name));
			p->name[sizeof(p->name) - 1] = '\0';
		}
		p->runs += c[i].runs;
		p->run_ns += c[i].run_ns;
		p->window_ns += c[i].window_ns;
		/* one window's records share its end */
		if (c[i].ts_ns != last_ts)
			o->cost_window_ns += c[i].window_ns;
		last_ts = c[i].ts_ns;
	}
	qsort(o->progs, o->n_progs, sizeof(*o->progs), cmp_prog_run_ns);
	return 0;
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
	return build_programs(rec, o);
}

void np_ovh_report_fini(struct np_ovh_report *o)
{
	free(o->shed);
	free(o->progs);
	o->shed = NULL;
	o->progs = NULL;
	o->n_shed = o->n_progs = 0;
}
