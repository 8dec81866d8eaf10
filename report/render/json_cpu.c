/* json_cpu.c - the cpu_profile section of the JSON report and the
 * scheduler's fields of its `threads` (model: report/model/cpu_report.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "profiler/format/frameclass.h"
#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/jsonout.h"
#include "report/render/sections.h"

#define jstr np_jstr
#define ju64 np_ju64

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

void np_cpu_thread_json(const struct np_thread_row *t, json_object *o)
{
	json_object *off;

	if (!t->have_reasons)
		return;
	off = json_object_new_object();
	for (int k = 0; k < NP_OFF_COUNT; k++)
		add(off, np_off_reason_key(k), ju64(t->off_by_reason_ns[k]));
	add(o, "off_cpu_by_reason", off);
	add(o, "switches_voluntary", ju64(t->switches_vol));
	add(o, "switches_involuntary", ju64(t->switches_invol));
	add(o, "wakeups", ju64(t->wakeups));
}

static json_object *fns_json(const struct np_cpu_fn *fns, size_t n, size_t max)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n && i < max; i++) {
		json_object *o = json_object_new_object();

		add(o, "function", jstr(fns[i].name));
		add(o, "module", jstr(fns[i].module));
		add(o, "class", jstr(np_class_name(fns[i].cls)));
		add(o, "self_samples", ju64(fns[i].self));
		add(o, "total_samples", ju64(fns[i].total));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *classes_json(const uint64_t *by_class, uint64_t softirq)
{
	json_object *o = json_object_new_object();

	add(o, "app", ju64(by_class[NP_CLS_APP]));
	add(o, "lib", ju64(by_class[NP_CLS_LIB]));
	add(o, "kernel_net", ju64(by_class[NP_CLS_KNET]));
	add(o, "kernel", ju64(by_class[NP_CLS_KERNEL]));
	add(o, "softirq", ju64(softirq));
	return o;
}

static json_object *stack_json(const struct np_cpu_report *c, uint32_t node)
{
	const struct np_cpu_frame *st[128];
	size_t n = np_cpu_stack(c, node, st, 128), i = 0;
	json_object *a = json_object_new_array();

	while (i < n && np_cpu_frame_is_tracer(st[i]->name))
		i++;
	for (; i < n; i++)
		json_object_array_add(a, jstr(st[i]->name));
	return a;
}

json_object *np_cpu_json(const struct np_report *r)
{
	const struct np_cpu_report *c = r->cpu;
	const struct np_rec_cpu_stats *s;
	json_object *o, *threads, *off, *waits;

	if (!c || !c->have_samples)
		return NULL;
	s = &c->stats;
	o = json_object_new_object();
	add(o, "samples", ju64(c->samples));
	add(o, "lost", ju64(s->lost));
	add(o, "frequency_hz", ju64(s->frequency_hz));
	add(o, "stack_bytes", ju64(s->stack_bytes));
	if (c->unwinder)
		add(o, "unwinder", jstr(c->unwinder));
	add(o, "complete_stacks", ju64(c->full_chain));
	add(o, "truncated_stacks", ju64(s->truncated));
	add(o, "unwind_errors", ju64(s->unwind_errors));
	add(o, "threads_sampled", ju64(s->threads_sampled));
	add(o, "threads_failed", ju64(s->threads_failed));
	add(o, "new_thread_unsampled_ns", ju64(s->new_thread_gap_ns));
	add(o, "unwind_ns", ju64(s->unwind_ns));
	add(o, "symbolize_ns", ju64(s->symbolize_ns));
	add(o, "distinct_pcs", ju64(s->pcs));
	{
		json_object *lost = json_object_new_object();

		add(lost, "samples", ju64(c->lost_samples));
		add(lost, "sched_events", ju64(c->lost_sched_events));
		add(lost, "offcpu_stacks", ju64(c->lost_stacks));
		add(lost, "sched_tables_full", ju64(c->lost_threads));
		add(o, "lost_by_cause", lost);
	}
	add(o, "classes", classes_json(c->by_class, c->softirq));
	add(o, "top", fns_json(c->fns, c->n_fns, NP_CPU_TOP));
	threads = json_object_new_array();
	for (size_t i = 0; i < c->n_threads; i++) {
		const struct np_cpu_thread *t = &c->threads[i];
		json_object *to = json_object_new_object();

		add(to, "tid", ju64(t->tid));
		if (r->procs.have) {
			uint32_t pid = np_proc_report_pid_of(&r->procs, t->tid);

			add(to, "pid", pid ? ju64(pid) : NULL);
		}
		add(to, "samples", ju64(t->samples));
		add(to, "classes", classes_json(t->by_class, t->softirq));
		add(to, "top", fns_json(t->top, t->n_top, 10));
		json_object_array_add(threads, to);
	}
	add(o, "threads", threads);
	if (c->have_sched) {
		off = json_object_new_object();
		for (int k = 0; k < NP_OFF_COUNT; k++)
			add(off, np_off_reason_key(k), ju64(c->off_ns[k]));
		add(o, "off_cpu_by_reason", off);
		waits = json_object_new_array();
		for (size_t i = 0; i < c->n_offcpu && i < 50; i++) {
			const struct np_offcpu_row *w = &c->offcpu[i];
			json_object *wo = json_object_new_object();

			add(wo, "reason", jstr(np_off_reason_key(w->reason)));
			add(wo, "syscall", w->sys_name ? jstr(w->sys_name) : NULL);
			add(wo, "syscall_nr", json_object_new_int(w->sys));
			add(wo, "count", ju64(w->count));
			add(wo, "total_ns", ju64(w->total_ns));
			add(wo, "max_ns", ju64(w->max_ns));
			add(wo, "threads", ju64(w->threads));
			add(wo, "estimated", json_object_new_boolean(w->estimated));
			add(wo, "kernel_stack", stack_json(c, w->node));
			json_object_array_add(waits, wo);
		}
		add(o, "off_cpu_waits", waits);
	}
	return o;
}
