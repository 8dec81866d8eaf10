/* json.c - the JSON report (format_version 1, contract in DESIGN.md).
 *
 * Built with json-c.  Every string that came from the target or the host
 * goes through np_sanitize() first, because json-c escapes quotes and
 * control characters but passes invalid UTF-8 through, which would make the
 * whole document unparseable.  Sections that a source of this version does
 * not collect are present and empty, and `sources` says why.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonout.h"
#include "report.h"
#include "syscalls.h"

#define JSON_FORMAT_VERSION 1

json_object *np_jstr(const char *s)
{
	size_t cap = strlen(s ? s : "") * 3 + 1;
	char *buf = malloc(cap);
	json_object *o;

	if (!buf)
		return NULL;
	np_sanitize(s ? s : "", buf, cap, false);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

json_object *np_ju64(uint64_t v)
{
	return json_object_new_uint64(v);
}

#define jstr np_jstr
#define ju64 np_ju64

static void add(json_object *obj, const char *key, json_object *val)
{
	json_object_object_add(obj, key, val);
}

static const char *meta(const struct np_report *r, const char *key)
{
	const char *v = np_recording_meta(r->rec, key);

	return v ? v : "";
}

static json_object *target_json(const struct np_report *r)
{
	json_object *t = json_object_new_object();

	add(t, "pid", ju64(np_recording_meta_u64(r->rec, "pid", 0)));
	add(t, "comm", jstr(meta(r, "comm")));
	add(t, "cmdline", jstr(meta(r, "cmdline")));
	add(t, "exe", jstr(meta(r, "exe")));
	add(t, "threads", ju64(np_recording_meta_u64(r->rec, "threads", 0)));
	add(t, "netns", jstr(meta(r, "netns")));
	return t;
}

static json_object *host_json(const struct np_report *r)
{
	json_object *h = json_object_new_object();

	add(h, "hostname", jstr(meta(r, "hostname")));
	add(h, "kernel", jstr(meta(r, "kernel")));
	add(h, "machine", jstr(meta(r, "machine")));
	add(h, "cpus", ju64(np_recording_meta_u64(r->rec, "cpus", 0)));
	return h;
}

static json_object *window_json(const struct np_report *r)
{
	json_object *w = json_object_new_object();
	char when[64] = "";
	time_t secs = (time_t)(r->realtime_start_ns / 1000000000ull);
	struct tm tm;

	if (r->realtime_start_ns && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	add(w, "start_ns", ju64(r->start_ns));
	add(w, "duration_ns", ju64(r->duration_ns));
	add(w, "start_realtime_ns", ju64(r->realtime_start_ns));
	add(w, "start_time", jstr(when));
	add(w, "end_reason", jstr(r->end_reason));
	return w;
}

static json_object *recording_json(const struct np_report *r)
{
	json_object *o = json_object_new_object();

	add(o, "format_version", ju64(r->rec->version));
	add(o, "recorded_by", jstr(meta(r, "netprof_version")));
	add(o, "complete", json_object_new_boolean(!r->rec->truncated));
	add(o, "threshold_ns", ju64(r->threshold_ns));
	add(o, "sample_every", ju64(np_recording_meta_u64(r->rec, "sample_every", 0)));
	add(o, "events", ju64(r->rec->n_events));
	return o;
}

static json_object *sources_json(const struct np_report *r)
{
	static const char *const status[] = {"ok", "degraded", "unavailable"};
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->rec->n_sources; i++) {
		const struct np_rec_source *s = &r->rec->sources[i];
		json_object *o = json_object_new_object();

		add(o, "name", jstr(s->name));
		add(o, "status", jstr(s->status < 3 ? status[s->status] : "unknown"));
		add(o, "detail", jstr(s->detail));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *syscalls_json(const struct np_report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->n_sys; i++) {
		const struct np_sys_row *s = &r->sys[i];
		json_object *o = json_object_new_object();

		add(o, "name", jstr(s->name));
		add(o, "count", ju64(s->count));
		add(o, "errors", ju64(s->errors));
		add(o, "eagain", ju64(s->eagain));
		add(o, "bytes", ju64(s->bytes));
		add(o, "total_ns", ju64(s->total_ns));
		add(o, "p50_ns", ju64(s->p50_ns));
		add(o, "p90_ns", ju64(s->p90_ns));
		add(o, "p99_ns", ju64(s->p99_ns));
		add(o, "max_ns", ju64(s->max_ns));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *slow_json(const struct np_report *r, const struct np_slow_call *calls,
			      size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct np_slow_call *c = &calls[i];
		json_object *o = json_object_new_object();
		const char *errname = np_errno_name(c->ev.ret);

		add(o, "syscall", jstr(np_sys_name(c->ev.sys)));
		add(o, "tid", ju64(c->ev.tid));
		add(o, "comm", jstr(c->comm));
		add(o, "fd", json_object_new_int(c->ev.fd));
		add(o, "ts_ns", ju64(c->ev.start_ns));
		add(o, "offset_ns",
		    ju64(c->ev.start_ns > r->start_ns ? c->ev.start_ns - r->start_ns : 0));
		add(o, "duration_ns", ju64(c->ev.dur_ns));
		add(o, "result", json_object_new_int64(c->ev.ret));
		add(o, "error", errname ? jstr(errname) : NULL);
		add(o, "local", c->local[0] ? jstr(c->local) : NULL);
		add(o, "peer", c->peer[0] ? jstr(c->peer) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *threads_json(const struct np_report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->n_threads; i++) {
		const struct np_thread_row *t = &r->threads[i];
		json_object *o = json_object_new_object();

		add(o, "tid", ju64(t->tid));
		add(o, "comm", jstr(t->comm));
		/* null: the thread came and went between two polls. */
		add(o, "on_cpu_ns", t->sched_known ? ju64(t->on_cpu_ns) : NULL);
		add(o, "off_cpu_ns", t->sched_known ? ju64(t->off_cpu_ns) : NULL);
		add(o, "runnable_ns", t->sched_known ? ju64(t->runnable_ns) : NULL);
		add(o, "samples", ju64(0));
		add(o, "window_ns", ju64(t->window_ns));
		add(o, "syscalls", ju64(t->calls));
		add(o, "syscall_ns", ju64(t->sys_ns));
		add(o, "wait_ns", ju64(t->wait_ns));
		add(o, "exited", json_object_new_boolean(t->exited));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *lost_json(const struct np_report *r)
{
	json_object *o = json_object_new_object();

	add(o, "ringbuf_full", ju64(r->lost_by_cause[NP_DROP_RINGBUF]));
	add(o, "inflight_table_full", ju64(r->lost_by_cause[NP_DROP_INFLIGHT_FULL]));
	add(o, "thread_table_full", ju64(r->lost_by_cause[NP_DROP_THREADS_FULL]));
	add(o, "writer", ju64(r->lost_by_cause[NP_DROP_WRITER]));
	add(o, "exchanges", ju64(r->xch.lost_events + r->xch.writer_drops));
	add(o, "netstack", ju64(r->ns.t.lost_events + r->ns.writer_drops));
	return o;
}

int np_report_json(const struct np_report *r, FILE *f)
{
	json_object *root = json_object_new_object();
	const char *text;
	int rc = 0;

	if (!root)
		return -1;
	add(root, "format_version", json_object_new_int(JSON_FORMAT_VERSION));
	add(root, "netprof_version", jstr(NETPROF_VERSION));
	add(root, "target", target_json(r));
	add(root, "host", host_json(r));
	add(root, "window", window_json(r));
	add(root, "recording", recording_json(r));
	add(root, "sources", sources_json(r));
	/* Attribution needs the analysis of a later version: null, not zeros. */
	add(root, "breakdown", NULL);
	add(root, "verdict", NULL);
	add(root, "findings", json_object_new_array());
	add(root, "syscalls", syscalls_json(r));
	add(root, "slow_calls", slow_json(r, r->slow, r->n_slow));
	add(root, "slow_calls_total", ju64(r->slow_total));
	add(root, "slow_waits", slow_json(r, r->slow_waits, r->n_slow_waits));
	add(root, "slow_waits_total", ju64(r->slow_waits_total));
	add(root, "threads", threads_json(r));
	add(root, "sockets", json_object_new_array());
	add(root, "interfaces", json_object_new_array());
	add(root, "cpus", np_ns_cpus_json(r));
	add(root, "exchanges", np_xch_json(r));
	add(root, "netstack", np_ns_json(r));
	add(root, "cpu_profile", NULL);
	add(root, "lost_events", ju64(r->lost_events));
	add(root, "lost_events_by_cause", lost_json(r));

	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		rc = -1;
	json_object_put(root);
	return rc;
}
