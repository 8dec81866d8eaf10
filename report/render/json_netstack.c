/* json_netstack.c - the `netstack` section of the JSON report (model:
 * report/model/netstack_report.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/jsonout.h"
#include "report/render/sections.h"

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *softirq_json(const struct np_softirq_stats *s, uint64_t p99)
{
	json_object *o = json_object_new_object();

	add(o, "count", np_ju64(s->count));
	add(o, "total_ns", np_ju64(s->total_ns));
	add(o, "p50_ns", np_ju64(np_hist_quantile(s->hist, NP_HIST_BUCKETS, 0.5, s->max_ns)));
	add(o, "p99_ns", np_ju64(p99));
	add(o, "max_ns", np_ju64(s->max_ns));
	return o;
}

json_object *np_ns_json(const struct np_report *r)
{
	const struct np_ns_report *ns = &r->ns;
	json_object *o, *reasons, *conns, *cpus, *wins, *target;

	if (!ns->present)
		return NULL;
	o = json_object_new_object();
	reasons = json_object_new_array();
	conns = json_object_new_array();
	cpus = json_object_new_array();
	wins = json_object_new_array();
	target = json_object_new_object();
	add(o, "drops", np_ju64(ns->t.drops));
	add(o, "retransmits", np_ju64(ns->t.retrans));
	add(o, "rcvqueue_full", np_ju64(ns->t.rcvq_full));
	add(target, "drops", np_ju64(ns->t.target_drops));
	add(target, "retransmits", np_ju64(ns->t.target_retrans));
	add(target, "rcvqueue_full", np_ju64(ns->t.target_rcvq_full));
	add(o, "target", target);
	add(o, "lost_events", np_ju64(ns->t.lost_events + ns->writer_drops));
	add(o, "locations_not_counted", np_ju64(ns->t.locations_full));
	for (size_t i = 0; i < ns->n_reasons; i++) {
		const struct np_ns_reason *x = &ns->reasons[i];
		json_object *ro = json_object_new_object(), *locs = json_object_new_array();

		add(ro, "reason", np_jstr(x->name));
		add(ro, "code", np_ju64(x->reason));
		add(ro, "count", np_ju64(x->count));
		for (size_t k = 0; k < x->n_loc; k++) {
			json_object *lo = json_object_new_object();

			add(lo, "where", np_jstr(x->loc[k].where));
			add(lo, "count", np_ju64(x->loc[k].count));
			json_object_array_add(locs, lo);
		}
		add(ro, "locations", locs);
		json_object_array_add(reasons, ro);
	}
	add(o, "drop_reasons", reasons);
	for (size_t i = 0; i < ns->n_conns; i++) {
		const struct np_ns_conn *c = &ns->conns[i];
		json_object *co = json_object_new_object();
		char reason[64] = "";

		if (c->drops)
			np_ns_reason_name(r->rec, c->last_drop_reason, reason, sizeof(reason));
		add(co, "local", c->local[0] ? np_jstr(c->local) : NULL);
		add(co, "peer", c->peer[0] ? np_jstr(c->peer) : NULL);
		add(co, "connection", np_ju64(c->cookie));
		add(co, "retransmits", np_ju64(c->retrans));
		add(co, "drops", np_ju64(c->drops));
		add(co, "last_drop_reason", c->drops ? np_jstr(reason) : NULL);
		add(co, "rcvqueue_full", np_ju64(c->rcvq_full));
		add(co, "first_offset_ns",
		    np_ju64(c->first_ns > r->start_ns ? c->first_ns - r->start_ns : 0));
		add(co, "last_offset_ns",
		    np_ju64(c->last_ns > r->start_ns ? c->last_ns - r->start_ns : 0));
		json_object_array_add(conns, co);
	}
	add(o, "connections", conns);
	for (size_t i = 0; i < ns->n_cpus; i++) {
		const struct np_ns_cpu *c = &ns->cpus[i];
		json_object *co = json_object_new_object(), *napi = json_object_new_object();

		add(co, "cpu", np_ju64(c->cpu));
		add(co, "net_rx", softirq_json(&c->rx, c->rx_p99_ns));
		add(co, "net_tx", softirq_json(&c->tx, c->tx_p99_ns));
		add(napi, "polls", np_ju64(c->napi.polls));
		add(napi, "packets", np_ju64(c->napi.work));
		add(napi, "budget", np_ju64(c->napi.budget));
		add(napi, "budget_exhausted", np_ju64(c->napi.exhausted));
		add(napi, "max_packets", np_ju64(c->napi.max_work));
		add(co, "napi", napi);
		json_object_array_add(cpus, co);
	}
	add(o, "softirq", cpus);
	for (size_t i = 0; i < ns->n_windows; i++) {
		const struct np_ns_window *w = &ns->windows[i];
		json_object *wo = json_object_new_object();

		add(wo, "offset_ns",
		    np_ju64(w->start_ns > r->start_ns ? w->start_ns - r->start_ns : 0));
		add(wo, "duration_ns", np_ju64(w->end_ns - w->start_ns));
		add(wo, "drops", np_ju64(w->drops));
		add(wo, "retransmits", np_ju64(w->retrans));
		add(wo, "rcvqueue_full", np_ju64(w->rcvq_full));
		add(wo, "net_rx_ns", np_ju64(w->net_rx_ns));
		add(wo, "net_tx_ns", np_ju64(w->net_tx_ns));
		json_object_array_add(wins, wo);
	}
	add(o, "windows", wins);
	return o;
}
