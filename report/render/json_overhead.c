/* json_overhead.c - the `overhead` section of the JSON report (model:
 * report/model/overhead_report.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/jsonout.h"
#include "report/render/sections.h"

json_object *np_ovh_json(const struct np_report *r)
{
	const struct np_ovh_report *o = &r->ovh;
	json_object *x, *m, *a;
	char caveat[600];

	if (!o->governor_on)
		return NULL;
	x = json_object_new_object();
	m = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(x, "budget_cpu_share", json_object_new_double(o->budget));
	json_object_object_add(m, "median", json_object_new_double(o->median));
	json_object_object_add(m, "max", json_object_new_double(o->max));
	json_object_object_add(m, "seconds", np_ju64(o->n_seconds));
	json_object_object_add(m, "own_cpu_ns", np_ju64(o->own_cpu_ns));
	json_object_object_add(m, "bpf_ns", np_ju64(o->bpf_ns));
	json_object_object_add(m, "wall_ns", np_ju64(o->wall_ns));
	json_object_object_add(m, "traced_calls", np_ju64(o->traced_calls));
	json_object_object_add(m, "bpf_window_ns", np_ju64(o->bpf_window_ns));
	json_object_object_add(x, "measured", m);
	json_object_object_add(x, "bpf_stats", json_object_new_boolean(o->bpf_stats));
	json_object_object_add(x, "bpf_programs", np_ju64(o->programs));
	if (!o->bpf_stats)
		json_object_object_add(x, "bpf_stats_detail", np_jstr(o->why_no_stats));
	for (size_t i = 0; i < o->n_shed; i++) {
		const struct np_ovh_shed *s = &o->shed[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "offset_ns", np_ju64(s->offset_ns));
		json_object_object_add(e, "step", np_ju64(s->step));
		json_object_object_add(e, "source", np_jstr(s->source));
		json_object_object_add(e, "what", np_jstr(s->what));
		json_object_object_add(e, "from", np_ju64(s->from));
		json_object_object_add(e, "to", np_ju64(s->to));
		json_object_object_add(e, "overhead", json_object_new_double(s->share));
		json_object_array_add(a, e);
	}
	json_object_object_add(x, "shed", a);
	if (o->n_progs) {
		json_object *pa = json_object_new_array();

		for (size_t i = 0; i < o->n_progs; i++) {
			const struct np_ovh_prog *p = &o->progs[i];
			json_object *e = json_object_new_object();

			json_object_object_add(e, "name", np_jstr(p->name));
			json_object_object_add(e, "id", np_ju64(p->prog_id));
			json_object_object_add(e, "type", np_ju64(p->prog_type));
			json_object_object_add(e, "runs", np_ju64(p->runs));
			json_object_object_add(e, "run_ns", np_ju64(p->run_ns));
			json_object_object_add(e, "ns_per_run",
					       json_object_new_double(np_ovh_ns_per_run(p)));
			json_object_object_add(e, "window_ns", np_ju64(p->window_ns));
			json_object_object_add(e, "cpu_share",
					       json_object_new_double(
						       p->window_ns ? (double)p->run_ns /
									      (double)p->window_ns
								    : 0));
			json_object_array_add(pa, e);
		}
		json_object_object_add(x, "programs", pa);
	}
	json_object_object_add(x, "still_over_budget", json_object_new_boolean(o->still_over));
	np_ovh_caveat(o, caveat, sizeof(caveat));
	json_object_object_add(x, "caveat", caveat[0] ? np_jstr(caveat) : NULL);
	return x;
}
