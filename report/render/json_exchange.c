/* json_exchange.c - the `exchanges` section of the JSON report (model:
 * report/model/exchange_report.c). */
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

/* A sum that is null when the kernel could not see the component. */
static json_object *jknown(const struct np_xch_component *c, uint64_t v)
{
	return c->known ? np_ju64(v) : NULL;
}

static json_object *component_json(const struct np_xch_component *c)
{
	json_object *o;

	if (!c->known)
		return NULL;
	o = json_object_new_object();
	add(o, "n", np_ju64(c->n));
	add(o, "sum_ns", np_ju64(c->sum_ns));
	add(o, "mean_ns", np_ju64(c->n ? c->sum_ns / c->n : 0));
	add(o, "p50_ns", np_ju64(c->p50_ns));
	add(o, "p90_ns", np_ju64(c->p90_ns));
	add(o, "p99_ns", np_ju64(c->p99_ns));
	add(o, "max_ns", np_ju64(c->max_ns));
	return o;
}

static json_object *split_json(const struct np_xch_split *s, const char *key)
{
	if (!s->known)
		return NULL;
	if (!strcmp(key, "on"))
		return np_ju64(s->on_cpu_ns);
	if (!strcmp(key, "off"))
		return np_ju64(s->off_cpu_ns);
	return np_ju64(s->runnable_ns);
}

/* Outbound exchanges per peer, protocol and label, slowest p99 first. */
static json_object *out_groups_json(const struct np_xch_report *x)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < x->n_out_groups; i++) {
		const struct np_xch_out_group *g = &x->out_groups[i];
		const char *proto = np_label_proto_name(g->proto);
		json_object *o = json_object_new_object();

		add(o, "peer", np_jstr(g->peer));
		add(o, "protocol", g->label[0] ? np_jstr(proto ? proto : "http") : NULL);
		add(o, "label", g->label[0] ? np_jstr(g->label) : NULL);
		add(o, "count", np_ju64(g->count));
		add(o, "slow", np_ju64(g->slow));
		add(o, "p50_ns", np_ju64(g->p50_ns));
		add(o, "p99_ns", np_ju64(g->p99_ns));
		add(o, "max_ns", np_ju64(g->max_ns));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *row_json(const struct np_report *r, const struct np_xch_row *row)
{
	const struct np_xch_event *e = &row->ev;
	json_object *o = json_object_new_object();
	char label[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8] = "";

	if (row->labelled)
		np_label_format(&row->label, label, sizeof(label));
	add(o, "label", row->labelled ? np_jstr(label) : NULL);
	/* only for the protocols that are not HTTP: "method" is then the
	 * command (redis) or the first keyword of the query (postgres) */
	if (row->labelled && np_label_proto_name(row->label.proto))
		add(o, "protocol", np_jstr(np_label_proto_name(row->label.proto)));
	add(o, "method", row->labelled ? np_jstr(row->label.method) : NULL);
	add(o, "path", row->labelled ? np_jstr(row->label.path) : NULL);
	add(o, "status", e->status >= 100 && e->status <= 999 ? np_ju64(e->status) : NULL);
	add(o, "total_ns", np_ju64(e->total_ns));
	if (e->flags & NP_XEV_OUTBOUND) {
		add(o, "peer_ns", np_ju64(e->total_ns));
	} else {
		add(o, "queued_ns", e->flags & NP_XEV_ARRIVAL ? np_ju64(e->queued_ns) : NULL);
		add(o, "app_ns", np_ju64(e->app_ns));
		add(o, "tx_ns", e->flags & NP_XEV_WIRE ? np_ju64(e->tx_ns) : NULL);
		add(o, "tx_qdisc_ns", e->flags2 & NP_XEV2_QDISC ? np_ju64(e->qdisc_ns) : NULL);
		add(o, "peer_ns", np_ju64(e->peer_ns));
		add(o, "on_cpu_ns", split_json(&row->split, "on"));
		add(o, "off_cpu_ns", split_json(&row->split, "off"));
		add(o, "runnable_ns", split_json(&row->split, "runnable"));
	}
	add(o, "ts_ns", np_ju64(e->start_ns));
	add(o, "offset_ns", np_ju64(e->start_ns > r->start_ns ? e->start_ns - r->start_ns : 0));
	add(o, "tid", np_ju64(e->tid));
	add(o, "comm", np_jstr(row->comm));
	add(o, "local", row->local[0] ? np_jstr(row->local) : NULL);
	add(o, "peer", row->peer[0] ? np_jstr(row->peer) : NULL);
	add(o, "connection", np_ju64(e->cookie));
	add(o, "retransmits", np_ju64(e->retrans));
	add(o, "bytes_in", np_ju64(e->bytes_in));
	add(o, "bytes_out", np_ju64(e->bytes_out));
	add(o, "slow", json_object_new_boolean(e->flags & NP_XEV_SLOW));
	add(o, "sampled", json_object_new_boolean(e->flags & NP_XEV_SAMPLED));
	add(o, "pipelined", json_object_new_boolean(e->flags & NP_XEV_PIPELINED));
	add(o, "closed", json_object_new_boolean(e->flags & NP_XEV_CLOSED));
	add(o, "at_end", json_object_new_boolean(e->flags2 & NP_XEV2_AT_END));
	/* Only for HTTP/2 streams, so that other reports stay as they were. */
	if (e->proto == NP_PROTO_HTTP2 || e->proto == NP_PROTO_GRPC) {
		add(o, "protocol", np_jstr(e->proto == NP_PROTO_GRPC ? "grpc" : "http2"));
		add(o, "stream_id", np_ju64(e->stream_id));
		add(o, "streams_open", np_ju64(e->streams_open));
	}
	if (e->flags2 & NP_XEV2_NAGLE)
		add(o, "nagle_held", json_object_new_boolean(true));
	/* Only over TLS, so that reports of plain recordings stay as they were. */
	if (e->flags2 & NP_XEV2_TLS) {
		add(o, "tls", json_object_new_boolean(true));
		add(o, "tls_ns", np_ju64(e->tls_ns));
	}
	return o;
}

/* Requests hit by loss (xch_loss.h); figures that need the sampler are
 * null without it. */
static json_object *reply_parts_json(const struct np_xch_report *x)
{
	json_object *o = json_object_new_object();

	add(o, "count", np_ju64(x->reply_parts));
	add(o, "ack_delay_band", np_ju64(x->reply_parts_ack_delay));
	add(o, "wait_p50_ns", x->reply_parts ? np_ju64(x->reply_part_p50_ns) : NULL);
	return o;
}

static json_object *loss_json(const struct np_xch_loss *l)
{
	json_object *o = json_object_new_object(), *reasons = json_object_new_array();
	bool hit = l->known && l->hit_events;

	add(o, "estimated_from_sample", json_object_new_boolean(l->known));
	add(o, "requests_hit_share",
	    l->known ? json_object_new_double(np_xch_loss_share(l)) : NULL);
	add(o, "requests_hit", l->known ? np_ju64(l->hit_requests) : NULL);
	add(o, "hit_events", np_ju64(l->hit_events));
	add(o, "retransmit_events", np_ju64(l->retrans_events));
	add(o, "drop_events", np_ju64(l->drop_events));
	add(o, "hit_p50_ns", hit ? np_ju64(l->hit_p50_ns) : NULL);
	add(o, "others_p50_ns", hit && l->others_p50_ns ? np_ju64(l->others_p50_ns) : NULL);
	for (size_t i = 0; i < l->n_reasons; i++) {
		json_object *r = json_object_new_object();

		add(r, "reason", np_jstr(l->reasons[i].name));
		add(r, "requests", np_ju64(l->reasons[i].requests));
		json_object_array_add(reasons, r);
	}
	add(o, "drop_reasons", reasons);
	return o;
}

json_object *np_xch_json(const struct np_report *r)
{
	const struct np_xch_report *x = &r->xch;
	json_object *o, *comp, *slow, *slow_out, *wins;

	if (!x->present)
		return NULL;
	o = json_object_new_object();
	comp = json_object_new_object();
	slow = json_object_new_array();
	slow_out = json_object_new_array();
	wins = json_object_new_array();
	add(o, "count", np_ju64(x->count));
	add(o, "outbound_count", np_ju64(x->outbound_count));
	add(o, "p50_ns", np_ju64(x->total.p50_ns));
	add(o, "p90_ns", np_ju64(x->total.p90_ns));
	add(o, "p99_ns", np_ju64(x->total.p99_ns));
	add(o, "max_ns", np_ju64(x->total.max_ns));
	add(o, "total_ns", np_ju64(x->total.sum_ns));
	add(o, "queued_ns", jknown(&x->queued, x->queued.sum_ns));
	add(o, "app_ns", np_ju64(x->app.sum_ns));
	add(o, "tx_ns", jknown(&x->tx, x->tx.sum_ns));
	add(o, "peer_ns", np_ju64(x->peer.sum_ns));
	add(o, "outbound_ns", np_ju64(x->outbound.sum_ns));
	/* null: no qdisc tracepoint, or no qdisc on the way */
	add(o, "tx_qdisc_ns",
	    x->flags & NP_XCFG_QDISC && x->qdisc_known ? np_ju64(x->qdisc_ns) : NULL);
	add(o, "tx_qdisc_known", np_ju64(x->qdisc_known));
	add(o, "queued_known", np_ju64(x->queued.known ? x->queued.n : 0));
	add(o, "tx_known", np_ju64(x->tx.known ? x->tx.n : 0));
	if (x->tls_known) {
		add(o, "tls_ns", np_ju64(x->tls_ns));
		add(o, "tls_known", np_ju64(x->tls_known));
	}
	if (x->h2_conns || x->h2_joined) {
		json_object *h2 = json_object_new_object();

		add(h2, "connections", np_ju64(x->h2_conns));
		add(h2, "streams", np_ju64(x->h2_streams));
		add(h2, "max_concurrent", np_ju64(x->h2_max_open));
		add(h2, "mean_concurrent",
		    json_object_new_double(x->h2_streams ? (double)x->h2_open_sum / x->h2_streams
							 : 0));
		add(h2, "joined_connections", np_ju64(x->h2_joined));
		add(o, "http2", h2);
	}
	add(o, "on_cpu_ns", split_json(&x->app_split, "on"));
	add(o, "off_cpu_ns", split_json(&x->app_split, "off"));
	add(o, "runnable_ns", split_json(&x->app_split, "runnable"));
	add(comp, "total", component_json(&x->total));
	add(comp, "queued", component_json(&x->queued));
	add(comp, "app", component_json(&x->app));
	add(comp, "tx", component_json(&x->tx));
	add(comp, "peer", component_json(&x->peer));
	add(comp, "outbound", component_json(&x->outbound));
	add(o, "components", comp);
	add(o, "unanswered", np_ju64(x->unanswered));
	add(o, "pipelined", np_ju64(x->pipelined));
	add(o, "retransmits", np_ju64(x->retrans));
	add(o, "nagle_held", np_ju64(x->nagle_held));
	add(o, "reply_parts", reply_parts_json(x));
	add(o, "loss", loss_json(&x->loss));
	add(o, "bytes_in", np_ju64(x->bytes_in));
	add(o, "bytes_out", np_ju64(x->bytes_out));
	add(o, "threshold_ns", np_ju64(x->slow_ns));
	add(o, "sample_every", np_ju64(x->sample_every));
	add(o, "labels", json_object_new_boolean(x->flags & NP_XCFG_PAYLOAD));
	add(o, "events", np_ju64(x->events));
	add(o, "lost_events", np_ju64(x->lost_events + x->writer_drops));
	for (size_t i = 0; i < x->n_slowest; i++)
		json_object_array_add(slow, row_json(r, &x->slowest[i]));
	for (size_t i = 0; i < x->n_slowest_out; i++)
		json_object_array_add(slow_out, row_json(r, &x->slowest_out[i]));
	add(o, "slowest", slow);
	add(o, "slow_total", np_ju64(x->slow_total));
	add(o, "slowest_outbound", slow_out);
	add(o, "slow_outbound_total", np_ju64(x->slow_out_total));
	add(o, "outbound_groups", out_groups_json(x));
	for (size_t i = 0; i < x->n_windows; i++) {
		const struct np_xch_window_row *w = &x->windows[i];
		json_object *wo = json_object_new_object();

		add(wo, "offset_ns",
		    np_ju64(w->start_ns > r->start_ns ? w->start_ns - r->start_ns : 0));
		add(wo, "duration_ns",
		    np_ju64(w->end_ns > w->start_ns ? w->end_ns - w->start_ns : 0));
		add(wo, "count", np_ju64(w->count));
		add(wo, "outbound_count", np_ju64(w->outbound));
		add(wo, "p50_ns", np_ju64(w->p50_ns));
		add(wo, "p99_ns", np_ju64(w->p99_ns));
		add(wo, "queued_ns", x->queued.known ? np_ju64(w->queued_ns) : NULL);
		add(wo, "app_ns", np_ju64(w->app_ns));
		add(wo, "tx_ns", x->tx.known ? np_ju64(w->tx_ns) : NULL);
		add(wo, "peer_ns", np_ju64(w->peer_ns));
		add(wo, "outbound_ns", np_ju64(w->outbound_ns));
		add(wo, "tx_qdisc_ns", np_ju64(w->qdisc_ns));
		json_object_array_add(wins, wo);
	}
	add(o, "windows", wins);
	return o;
}
