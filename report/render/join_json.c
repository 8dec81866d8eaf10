/* join_json.c - netprof report A B [C ...] as JSON (format_version 1, kind
 * "join"; contract: docs/join.schema.json).  Names from the recordings go
 * through np_jstr (valid UTF-8).  Times in ns; a clock offset is signed. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>

#include "report/join/join.h"
#include "report/render/jsonout.h"
#include "report/render/render.h"

#define jstr np_jstr
#define ju64 np_ju64

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *ji64(int64_t v)
{
	return json_object_new_int64(v);
}

static json_object *jshare(double v)
{
	char buf[32];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.4f", v);
	return json_object_new_double_s(v, buf);
}

static json_object *recording_json(const struct np_join_recording *r)
{
	json_object *o = json_object_new_object();
	json_object *c = NULL;

	add(o, "name", jstr(r->name));
	add(o, "path", jstr(r->path));
	add(o, "comm", jstr(r->comm));
	add(o, "hostname", jstr(r->hostname));
	add(o, "pid", ju64(r->pid));
	add(o, "events", ju64(r->events));
	add(o, "sample_every", ju64(r->sample_every));
	add(o, "threshold_ns", ju64(r->slow_ns));
	add(o, "cause", r->cause[0] ? jstr(r->cause) : NULL);
	if (r->offset_known) {
		c = json_object_new_object();
		add(c, "offset_ns", ji64(r->offset_ns));
		add(c, "uncertainty_ns", ju64(r->uncertainty_ns));
	}
	add(o, "clock", c);
	return o;
}

static json_object *clock_json(const struct np_clock_offset *k)
{
	json_object *o;

	if (!k->known)
		return NULL;
	o = json_object_new_object();
	add(o, "offset_ns", ji64(k->offset_ns));
	add(o, "uncertainty_ns", ju64(k->uncertainty_ns));
	add(o, "low_ns", ji64(k->lo_ns));
	add(o, "high_ns", ji64(k->hi_ns));
	add(o, "pairs_used", ju64(k->used));
	add(o, "pairs_rejected", ju64(k->rejected));
	add(o, "pairs_invalid", ju64(k->invalid));
	add(o, "min_round_trip_ns", ju64(k->min_rtt_ns));
	return o;
}

static json_object *hop_json(const struct np_join *j, const struct np_join_hop *h)
{
	json_object *o = json_object_new_object();
	json_object *callee = json_object_new_object();

	add(o, "caller", jstr(j->rec[h->caller].name));
	add(o, "callee", jstr(j->rec[h->callee].name));
	add(o, "clock", clock_json(&h->clock));
	add(o, "connections", ju64(h->connections));
	add(o, "exchanges", ju64(h->exchanges));
	add(o, "unpaired", ju64(h->unpaired));
	add(o, "inconsistent", ju64(h->inconsistent));
	add(o, "peer_ns", ju64(h->peer_ns));
	add(o, "network_ns", ju64(h->network_ns));
	add(o, "network_share", jshare(h->network_share));
	add(o, "request_network_ns", ji64(h->request_net_ns));
	add(o, "response_network_ns", ji64(h->response_net_ns));
	add(o, "network_p50_ns", ju64(h->network_p50_ns));
	add(o, "network_p90_ns", ju64(h->network_p90_ns));
	add(o, "network_max_ns", ju64(h->network_max_ns));
	add(o, "peer_p50_ns", ju64(h->peer_p50_ns));
	add(callee, "total_ns", ju64(h->callee_ns));
	add(callee, "queued_ns", ju64(h->callee_queued_ns));
	add(callee, "app_ns", ju64(h->callee_app_ns));
	add(callee, "peer_ns", ju64(h->callee_peer_ns));
	add(o, "callee_time", callee);
	return o;
}

static json_object *waterfall_json(const struct np_join *j, const struct np_join_waterfall *w)
{
	json_object *o = json_object_new_object();
	json_object *steps = json_object_new_array();

	add(o, "total_ns", ju64(w->total_ns));
	for (size_t i = 0; i < w->n; i++) {
		const struct np_join_step *s = &w->steps[i];
		json_object *x = json_object_new_object();

		add(x, "caller", jstr(j->rec[j->hops[s->hop].caller].name));
		add(x, "callee", jstr(j->rec[j->hops[s->hop].callee].name));
		add(x, "label", s->label[0] ? jstr(s->label) : NULL);
		add(x, "start_ns", ji64(s->start_ns));
		add(x, "callee_arrival_ns", ji64(s->callee_arrival_ns));
		add(x, "peer_ns", ju64(s->peer_ns));
		add(x, "network_ns", ju64(s->network_ns));
		add(x, "callee_queued_ns", ju64(s->callee_queued_ns));
		add(x, "callee_app_ns", ju64(s->callee_app_ns));
		add(x, "callee_peer_ns", ju64(s->callee_peer_ns));
		json_object_array_add(steps, x);
	}
	add(o, "steps", steps);
	return o;
}

static json_object *join_object(const struct np_join *j)
{
	json_object *o = json_object_new_object();
	json_object *a;

	add(o, "format_version", ju64(1));
	add(o, "kind", jstr("join"));
	add(o, "netprof_version", jstr(NETPROF_VERSION));
	add(o, "verdict", jstr(j->verdict));
	add(o, "sampled", json_object_new_boolean(j->sampled));
	a = json_object_new_array();
	for (size_t i = 0; i < j->n_rec; i++)
		json_object_array_add(a, recording_json(&j->rec[i]));
	add(o, "recordings", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->n_hops; i++)
		json_object_array_add(a, hop_json(j, &j->hops[i]));
	add(o, "hops", a);
	add(o, "requests", ju64(j->roots));
	add(o, "end_to_end_ns", ju64(j->end_to_end_ns));
	a = json_object_new_array();
	for (size_t i = 0; i < j->n_parts; i++) {
		json_object *p = json_object_new_object();
		char name[160];

		np_join_part_name(j, &j->parts[i], name, sizeof(name));
		add(p, "name", jstr(name));
		add(p, "layer", jstr(np_join_layer_name(j->parts[i].layer)));
		add(p, "caller", jstr(j->rec[j->hops[j->parts[i].hop].caller].name));
		add(p, "callee", jstr(j->rec[j->hops[j->parts[i].hop].callee].name));
		add(p, "ns", ju64(j->parts[i].ns));
		add(p, "share", jshare(j->parts[i].share));
		json_object_array_add(a, p);
	}
	add(o, "breakdown", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->n_slowest; i++)
		json_object_array_add(a, waterfall_json(j, &j->slowest[i]));
	add(o, "slowest", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->n_unjoined; i++) {
		json_object *u = json_object_new_object();

		add(u, "recording", jstr(j->rec[j->unjoined[i].rec].name));
		add(u, "direction", jstr(j->unjoined[i].outbound ? "outbound" : "served"));
		add(u, "local", jstr(j->unjoined[i].local));
		add(u, "remote", jstr(j->unjoined[i].remote));
		add(u, "exchanges", ju64(j->unjoined[i].exchanges));
		json_object_array_add(a, u);
	}
	add(o, "unjoined", a);
	add(o, "unjoined_connections", ju64(j->unjoined_connections));
	add(o, "nat_note", j->nat_note[0] ? jstr(j->nat_note) : NULL);
	return o;
}

char *np_join_json_string(const struct np_join *j, bool pretty)
{
	return np_json_text(join_object(j), pretty);
}

int np_join_json(const struct np_join *j, FILE *f)
{
	return np_json_write(np_join_json_string(j, true), f);
}
