/* otlp.c - --format otlp: the exchanges as OpenTelemetry traces, in the
 * OTLP/JSON encoding (the protobuf JSON mapping of
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest):
 * resourceSpans -> scopeSpans -> spans, ids in hex, times as unixNano
 * strings, int64 values as strings, enums as numbers.
 *
 * Which exchanges: every one the recording holds individually (the slow
 * ones, over --threshold, and the 1-in---sample sampled ones), served and
 * outbound.  The kernel counts the others only into totals and
 * histograms: they cannot be spans, and the resource says how many there
 * were (netprof.exchanges.aggregated_only).
 *
 * Each served exchange is a SERVER span with INTERNAL child spans
 * "queued" (arrival -> first read, when the arrival was seen), "app"
 * (first read -> last response write) and "tx" (last write -> last segment
 * handed to the driver, when seen); `peer`, the part of app spent on the
 * thread's own outbound exchanges, is an attribute of the app span.  Each
 * outbound exchange is a CLIENT span; when it ran on the thread of a
 * recorded served exchange, inside that exchange's app time, it is a child
 * of that app span and in its trace.  TLS handshake time is not in
 * recordings of this version: it will be a child span when it is.
 *
 * A service's exchanges are grouped by process, one resource each (a
 * resource is a process in OpenTelemetry): the thread's process from the
 * recording's thread -> process table, with its pid, parent pid, comm and
 * command line; service.name is the service's, the same in every one.
 * The primary process's resource comes first and is there even without
 * spans; exchanges of a thread of no known process stay in it.
 *
 * Ids are derived from the recording (its realtime start and pid) and the
 * exchange's index: the same recording gives the same document.
 * Wall-clock times come from the recording's (realtime, monotonic) pair.
 */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/model/report_model.h"
#include "report/render/export.h"
#include "report/render/jsonout.h"
#include "report/render/render.h"

#define SPAN_INTERNAL 1
#define SPAN_SERVER 2
#define SPAN_CLIENT 3
#define STATUS_ERROR 2

struct ids {
	char trace[33];
	char span[17]; /* the exchange's own span */
	char app[17];  /* its app child span (served) */
	bool have_app;
};

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

/* {"key": k, "value": {"stringValue": v}} */
static void attr_str(json_object *arr, const char *key, const char *v)
{
	json_object *a = json_object_new_object(), *val = json_object_new_object();

	add(val, "stringValue", np_jstr(v));
	add(a, "key", json_object_new_string(key));
	add(a, "value", val);
	json_object_array_add(arr, a);
}

/* int64 values are strings in the protobuf JSON mapping */
static void attr_int(json_object *arr, const char *key, uint64_t v)
{
	json_object *a = json_object_new_object(), *val = json_object_new_object();
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)(v > INT64_MAX ? INT64_MAX : v));
	add(val, "intValue", json_object_new_string(buf));
	add(a, "key", json_object_new_string(key));
	add(a, "value", val);
	json_object_array_add(arr, a);
}

static void attr_bool(json_object *arr, const char *key, bool v)
{
	json_object *a = json_object_new_object(), *val = json_object_new_object();

	add(val, "boolValue", json_object_new_boolean(v));
	add(a, "key", json_object_new_string(key));
	add(a, "value", val);
	json_object_array_add(arr, a);
}

static json_object *unix_nano(const struct np_report *r, uint64_t mono_ns)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64,
		 np_unix_ns(r->realtime_start_ns, r->start_ns, mono_ns));
	return json_object_new_string(buf);
}

static const char *meta(const struct np_report *r, const char *key)
{
	const char *v = np_recording_meta(r->rec, key);

	return v ? v : "";
}

/* The resource of the primary process (proc NULL), or of another process
 * of a service. */
static json_object *resource_json(const struct np_report *r, uint64_t aggregated,
				  const struct np_proc_row *proc)
{
	json_object *res = json_object_new_object(), *at = json_object_new_array();
	const char *exe = meta(r, "exe"), *slash = strrchr(exe, '/');
	const char *comm = meta(r, "comm");

	attr_str(at, "service.name", comm[0] ? comm : "unknown_service");
	attr_str(at, "host.name", meta(r, "hostname"));
	if (meta(r, "machine")[0])
		attr_str(at, "host.arch", meta(r, "machine"));
	attr_str(at, "os.type", "linux");
	if (meta(r, "kernel")[0])
		attr_str(at, "os.version", meta(r, "kernel"));
	if (proc) {
		attr_int(at, "process.pid", proc->pid);
		attr_int(at, "process.parent_pid", proc->ppid);
		attr_str(at, "process.executable.name", proc->comm);
		attr_str(at, "process.command_line", proc->cmdline);
		add(res, "attributes", at);
		return res;
	}
	attr_int(at, "process.pid", np_recording_meta_u64(r->rec, "pid", 0));
	attr_str(at, "process.executable.name", slash ? slash + 1 : exe[0] ? exe : comm);
	if (exe[0])
		attr_str(at, "process.executable.path", exe);
	attr_str(at, "process.command_line", meta(r, "cmdline"));
	if (meta(r, "netns")[0])
		attr_str(at, "netprof.netns", meta(r, "netns"));
	attr_int(at, "netprof.exchanges.aggregated_only", aggregated);
	add(res, "attributes", at);
	return res;
}

/* The bare address of an endpoint ("10.0.0.1", "::1"), or "". */
static void address(uint8_t family, const uint8_t a[16], char *out, size_t len)
{
	out[0] = '\0';
	if (family == AF_INET)
		inet_ntop(AF_INET, a, out, (socklen_t)len);
	else if (family == AF_INET6)
		inet_ntop(AF_INET6, a, out, (socklen_t)len);
}

static json_object *span(const char *trace, const char *id, const char *parent, const char *name,
			 int kind, json_object *start, json_object *end, json_object *attrs)
{
	json_object *s = json_object_new_object();

	add(s, "traceId", json_object_new_string(trace));
	add(s, "spanId", json_object_new_string(id));
	if (parent)
		add(s, "parentSpanId", json_object_new_string(parent));
	add(s, "name", json_object_new_string(name));
	add(s, "kind", json_object_new_int(kind));
	add(s, "startTimeUnixNano", start);
	add(s, "endTimeUnixNano", end);
	add(s, "attributes", attrs ? attrs : json_object_new_array());
	return s;
}

static uint64_t app_start(const struct np_xch_event *e)
{
	return e->read_start_ns > e->start_ns ? e->read_start_ns : e->start_ns;
}

static void child(json_object *spans, const struct np_report *r, const struct ids *id,
		  const char *spanid, const char *name, uint64_t start, uint64_t dur,
		  json_object *attrs)
{
	json_object_array_add(spans, span(id->trace, spanid, id->span, name, SPAN_INTERNAL,
					  unix_nano(r, start), unix_nano(r, start + dur), attrs));
}

static void exchange_spans(json_object *spans, const struct np_report *r,
			   const struct np_xch_row *row, const struct ids *id, const char *parent,
			   uint64_t seed, size_t i)
{
	const struct np_xch_event *e = &row->ev;
	bool out = e->flags & NP_XEV_OUTBOUND;
	json_object *at = json_object_new_array(), *s, *st;
	char addr[INET6_ADDRSTRLEN], name[NP_HTTP_METHOD_MAX + 16];

	if (row->labelled && np_label_proto_name(row->label.proto)) {
		/* database client semantic conventions */
		attr_str(at, "db.system.name",
			 row->label.proto == NP_PROTO_REDIS ? "redis" : "postgresql");
		attr_str(at, "db.operation.name", row->label.method);
	} else if (row->labelled) {
		attr_str(at, "http.request.method", row->label.method);
		if (row->label.path[0])
			attr_str(at, "url.path", row->label.path);
	}
	if (e->status >= 100 && e->status <= 999)
		attr_int(at, "http.response.status_code", e->status);
	/* served: the server is this host; outbound: the peer */
	address(e->family, out ? e->raddr : e->laddr, addr, sizeof(addr));
	if (addr[0]) {
		attr_str(at, "server.address", addr);
		attr_int(at, "server.port", out ? e->rport : e->lport);
	}
	address(e->family, e->raddr, addr, sizeof(addr));
	if (addr[0]) {
		if (!out) {
			attr_str(at, "client.address", addr);
			attr_int(at, "client.port", e->rport);
		}
		attr_str(at, "network.peer.address", addr);
		attr_int(at, "network.peer.port", e->rport);
		attr_str(at, "network.transport", "tcp");
		attr_str(at, "network.type", e->family == AF_INET6 ? "ipv6" : "ipv4");
	}
	attr_int(at, "thread.id", e->tid);
	if (row->comm[0])
		attr_str(at, "thread.name", row->comm);
	attr_int(at, "netprof.connection", e->cookie);
	attr_int(at, "netprof.bytes_in", e->bytes_in);
	attr_int(at, "netprof.bytes_out", e->bytes_out);
	attr_int(at, "netprof.retransmits", e->retrans);
	if (!out) {
		if (e->flags & NP_XEV_ARRIVAL)
			attr_int(at, "netprof.queued_ns", e->queued_ns);
		attr_int(at, "netprof.app_ns", e->app_ns);
		if (e->flags & NP_XEV_WIRE)
			attr_int(at, "netprof.tx_ns", e->tx_ns);
		if (e->flags2 & NP_XEV2_QDISC)
			attr_int(at, "netprof.tx_qdisc_ns", e->qdisc_ns);
		attr_int(at, "netprof.peer_ns", e->peer_ns);
	}
	attr_bool(at, "netprof.slow", e->flags & NP_XEV_SLOW);
	attr_bool(at, "netprof.sampled", e->flags & NP_XEV_SAMPLED);
	if (e->flags & NP_XEV_PIPELINED)
		attr_bool(at, "netprof.pipelined", true);
	if (e->flags & NP_XEV_CLOSED)
		attr_bool(at, "netprof.closed", true);
	if (e->flags2 & NP_XEV2_AT_END)
		attr_bool(at, "netprof.at_end", true);
	if (e->flags2 & NP_XEV2_TLS) {
		attr_bool(at, "netprof.tls", true);
		if (e->tls_ns)
			attr_int(at, "netprof.tls_ns", e->tls_ns);
	}
	/* semantic conventions: the method alone names an HTTP span (the path
	 * is too many names); an exchange that is not HTTP/1.x is named so */
	if (row->labelled)
		snprintf(name, sizeof(name), "%s", row->label.method);
	else
		snprintf(name, sizeof(name), out ? "outbound exchange" : "exchange");
	s = span(id->trace, id->span, parent, name, out ? SPAN_CLIENT : SPAN_SERVER,
		 unix_nano(r, e->start_ns), unix_nano(r, e->start_ns + e->total_ns), at);
	/* 5xx is a server span's error; a client span's from 4xx */
	if (e->status >= (out ? 400 : 500) && e->status <= 599) {
		st = json_object_new_object();
		add(st, "code", json_object_new_int(STATUS_ERROR));
		add(s, "status", st);
	}
	json_object_array_add(spans, s);
	if (out)
		return;
	if (e->flags & NP_XEV_ARRIVAL) {
		char sid[17];

		np_hex_id(seed, 4 * (uint64_t)i + 1, 8, sid);
		child(spans, r, id, sid, "queued", e->arrival_ns ? e->arrival_ns : e->start_ns,
		      e->queued_ns, NULL);
	}
	{
		json_object *aa = json_object_new_array();

		attr_int(aa, "netprof.peer_ns", e->peer_ns);
		child(spans, r, id, id->app, "app", app_start(e), e->app_ns, aa);
	}
	if (e->flags & NP_XEV_WIRE) {
		char sid[17];

		np_hex_id(seed, 4 * (uint64_t)i + 3, 8, sid);
		child(spans, r, id, sid, "tx", e->write_end_ns ? e->write_end_ns : e->start_ns,
		      e->tx_ns, NULL);
	}
}

/* One resource: a process and its spans. */
struct res {
	const struct np_proc_row *proc; /* NULL: the primary process */
	uint32_t pid;
	json_object *spans;
};

/* The primary first, then the service's other processes (not those gone
 * at start: they ran nothing).  Returns how many, or 0 without memory. */
static size_t resources(const struct np_report *r, struct res **out)
{
	const struct np_proc_report *p = &r->procs;
	uint32_t primary = (uint32_t)np_recording_meta_u64(r->rec, "pid", 0);
	struct res *v = calloc(1 + (p->have ? p->n : 0), sizeof(*v));
	size_t n = 0;

	*out = v;
	if (!v)
		return 0;
	v[n++] = (struct res){.pid = primary, .spans = json_object_new_array()};
	for (size_t i = 0; p->have && i < p->n; i++)
		if (p->v[i].pid != primary && !(p->v[i].flags & NP_PROCREC_GONE_AT_START))
			v[n++] = (struct res){.proc = &p->v[i], .pid = p->v[i].pid};
	return n;
}

/* The spans array of tid's process; the primary's for a thread of no
 * known process or a recording of one process. */
static json_object *spans_of(const struct np_report *r, struct res *v, size_t n, uint32_t tid)
{
	uint32_t pid = r->procs.have ? np_proc_report_pid_of(&r->procs, tid) : 0;

	for (size_t k = 1; pid && k < n; k++)
		if (v[k].pid == pid) {
			if (!v[k].spans)
				v[k].spans = json_object_new_array();
			return v[k].spans;
		}
	return v[0].spans;
}

int np_report_otlp(const struct np_report *r, FILE *f)
{
	size_t n_ev, n_served = 0;
	const struct np_xch_event *ev = np_recording_records(r->rec, NP_BLK_XCH_EVENTS, &n_ev);
	uint64_t seed = np_hash64(r->realtime_start_ns ^
				  np_hash64(np_recording_meta_u64(r->rec, "pid", 0)));
	uint64_t aggregated = 0;
	struct ids *ids = n_ev ? calloc(n_ev, sizeof(*ids)) : NULL;
	struct np_tspan *served = n_ev ? calloc(n_ev, sizeof(*served)) : NULL;
	json_object *root, *rsa;
	struct res *res;
	size_t n_res = resources(r, &res);
	const char *text;
	int rc;

	if ((n_ev && (!ids || !served)) || !n_res) {
		free(ids);
		free(served);
		free(res);
		return -1;
	}
	if (r->xch.present && r->xch.count + r->xch.outbound_count > n_ev)
		aggregated = r->xch.count + r->xch.outbound_count - n_ev;
	/* ids first, and the app time of every served exchange, so that an
	 * outbound one can find the exchange it was made for */
	for (size_t i = 0; i < n_ev; i++) {
		/* a seed of their own: no trace id begins with a span id */
		np_hex_id(~seed, i, 16, ids[i].trace);
		np_hex_id(seed, 4 * (uint64_t)i, 8, ids[i].span);
		if (!(ev[i].flags & NP_XEV_OUTBOUND)) {
			np_hex_id(seed, 4 * (uint64_t)i + 2, 8, ids[i].app);
			ids[i].have_app = true;
			served[n_served++] = (struct np_tspan){
				.tid = ev[i].tid,
				.value = (uint32_t)i,
				.start_ns = app_start(&ev[i]),
				.end_ns = app_start(&ev[i]) + ev[i].app_ns,
			};
		}
	}
	np_tspan_sort(served, n_served);
	for (size_t i = 0; i < n_ev; i++) {
		struct np_xch_row row = {.ev = ev[i]};
		const char *parent = NULL;

		np_xch_row_fill(r->rec, &row);
		if (ev[i].flags & NP_XEV_OUTBOUND) {
			const struct np_tspan *sp = np_tspan_find(served, n_served, ev[i].tid,
								  ev[i].start_ns);

			if (sp) {
				memcpy(ids[i].trace, ids[sp->value].trace, sizeof(ids[i].trace));
				parent = ids[sp->value].app;
			}
		}
		exchange_spans(spans_of(r, res, n_res, ev[i].tid), r, &row, &ids[i], parent, seed,
			       i);
	}
	rsa = json_object_new_array();
	for (size_t k = 0; k < n_res; k++) {
		json_object *rs, *ss, *ssa, *scope;

		if (!res[k].spans) /* a process that served and called nothing */
			continue;
		scope = json_object_new_object();
		add(scope, "name", json_object_new_string("netprof"));
		add(scope, "version", json_object_new_string(NETPROF_VERSION));
		ss = json_object_new_object();
		add(ss, "scope", scope);
		add(ss, "spans", res[k].spans);
		ssa = json_object_new_array();
		json_object_array_add(ssa, ss);
		rs = json_object_new_object();
		add(rs, "resource", resource_json(r, aggregated, res[k].proc));
		add(rs, "scopeSpans", ssa);
		json_object_array_add(rsa, rs);
	}
	root = json_object_new_object();
	add(root, "resourceSpans", rsa);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text && fprintf(f, "%s\n", text) >= 0 ? 0 : -1;
	json_object_put(root);
	free(ids);
	free(served);
	free(res);
	return rc || ferror(f) ? -1 : 0;
}
