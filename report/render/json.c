/* json.c - the JSON report (format_version 1, contract: docs/report.schema.json).
 *
 * Built with json-c.  Every string that came from the target or the host
 * goes through np_sanitize() first, because json-c escapes quotes and
 * control characters but passes invalid UTF-8 through, which would make the
 * whole document unparseable.  Sections that a source of this version does
 * not collect are present and empty, and `sources` says why.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/model/cpu_report.h"
#include "report/render/jsonout.h"
#include "report/attribution/findings.h"
#include "report/model/report_model.h"
#include "report/model/series.h"
#include "report/render/format.h"
#include "report/render/render.h"
#include "report/render/sections.h"
#include "profiler/format/systable.h"

#define JSON_FORMAT_VERSION 1

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

/* The process's on-CPU samples (its threads'); null without samples. */
/* Its threads' samples, or (no_space) those of them with kernel stacks
 * only because the process was past --max-processes. */
static json_object *proc_samples(const struct np_report *r, uint32_t pid, bool no_space)
{
	uint64_t n = 0;

	if (!r->cpu || !r->cpu->have_samples)
		return NULL;
	for (size_t i = 0; i < r->cpu->n_threads; i++)
		if (np_proc_report_pid_of(&r->procs, r->cpu->threads[i].tid) == pid)
			n += no_space ? r->cpu->threads[i].no_space : r->cpu->threads[i].samples;
	return ju64(n);
}

static json_object *listeners_json(const struct np_proc_report *p)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < p->n_listeners; i++) {
		const struct np_listener *l = &p->listeners[i];
		json_object *o = json_object_new_object(), *pids = json_object_new_array();

		for (size_t k = 0; k < l->n_pids; k++)
			json_object_array_add(pids, ju64(l->pids[k]));
		add(o, "endpoint", jstr(l->endpoint));
		add(o, "port", ju64(l->port));
		add(o, "reuseport", json_object_new_boolean(l->reuseport));
		add(o, "pids", pids);
		json_object_array_add(a, o);
	}
	return a;
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
	if (r->procs.have) { /* a service: only recordings that have its processes */
		const struct np_proc_report *p = &r->procs;
		json_object *a = json_object_new_array(), *sp = json_object_new_object();

		add(t, "service", jstr(meta(r, "target")));
		add(t, "cgroup",
		    np_recording_meta(r->rec, "target_cgroup") ? jstr(meta(r, "target_cgroup"))
							       : NULL);
		for (size_t i = 0; i < p->n; i++) {
			const struct np_proc_row *x = &p->v[i];
			json_object *o = json_object_new_object();
			bool gone = x->flags & NP_PROCREC_GONE_AT_START;

			add(o, "pid", ju64(x->pid));
			add(o, "ppid", gone ? NULL : ju64(x->ppid));
			add(o, "comm", jstr(gone ? "" : x->comm));
			add(o, "cmdline", jstr(x->cmdline));
			add(o, "role", jstr(np_proc_role_name(x->role)));
			add(o, "threads", ju64(x->threads));
			add(o, "on_cpu_ns", gone ? NULL : ju64(x->on_cpu_ns));
			add(o, "runnable_ns", gone ? NULL : ju64(x->runq_ns));
			add(o, "exchanges", gone ? NULL : ju64(x->exchanges));
			add(o, "accepts", gone ? NULL : ju64(x->accepts));
			add(o, "cpu_samples", gone ? NULL : proc_samples(r, x->pid, false));
			add(o, "cpu_samples_past_max_processes",
			    gone ? NULL : proc_samples(r, x->pid, true));
			add(o, "exchanges_recorded", ju64(x->xch_events));
			add(o, "exchange_p50_ns", x->have_latency ? ju64(x->p50_ns) : NULL);
			add(o, "exchange_p99_ns", x->have_latency ? ju64(x->p99_ns) : NULL);
			add(o, "gone_at_start", json_object_new_boolean(gone));
			add(o, "exited", json_object_new_boolean(x->flags & NP_PROCREC_EXITED));
			add(o, "new", json_object_new_boolean(x->flags & NP_PROCREC_NEW));
			json_object_array_add(a, o);
		}
		add(t, "processes", a);
		add(sp, "workers", ju64(p->workers));
		add(sp, "accepts_min", ju64(p->accepts.min));
		add(sp, "accepts_max", ju64(p->accepts.max));
		add(sp, "exchanges_min", ju64(p->exchanges.min));
		add(sp, "exchanges_max", ju64(p->exchanges.max));
		add(sp, "on_cpu_ns_min", ju64(p->on_cpu_ns.min));
		add(sp, "on_cpu_ns_max", ju64(p->on_cpu_ns.max));
		add(sp, "runnable_ns_min", ju64(p->runq_ns.min));
		add(sp, "runnable_ns_max", ju64(p->runq_ns.max));
		add(sp, "exchange_p50_ns_min", p->latency_workers ? ju64(p->p50_ns.min) : NULL);
		add(sp, "exchange_p50_ns_max", p->latency_workers ? ju64(p->p50_ns.max) : NULL);
		add(sp, "exchange_p99_ns_min", p->latency_workers ? ju64(p->p99_ns.min) : NULL);
		add(sp, "exchange_p99_ns_max", p->latency_workers ? ju64(p->p99_ns.max) : NULL);
		add(sp, "latency_sampled", json_object_new_boolean(p->latency_sampled));
		add(t, "worker_spread", sp);
		add(t, "listeners", listeners_json(p));
	}
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

		char note[512], detail[sizeof(s->detail) + sizeof(note)];
		bool degraded = false;

		note[0] = '\0';
		if (!strcmp(s->name, "sockets"))
			np_net_netns_note(&r->net, note, sizeof(note), &degraded);
		snprintf(detail, sizeof(detail), "%s%s", s->detail, note);
		add(o, "name", jstr(s->name));
		add(o, "status",
		    jstr(degraded && s->status == NP_SOURCE_OK ? "degraded"
			 : s->status < 3                       ? status[s->status]
							       : "unknown"));
		add(o, "detail", jstr(detail));
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

static json_object *slow_json(const struct np_report *r, const struct np_slow_call *calls, size_t n)
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
		if (r->procs.have) {
			uint32_t pid = np_proc_report_pid_of(&r->procs, t->tid);

			add(o, "pid", pid ? ju64(pid) : NULL);
		}
		add(o, "comm", jstr(t->comm));
		/* null: the thread came and went between two polls. */
		add(o, "on_cpu_ns", t->sched_known ? ju64(t->on_cpu_ns) : NULL);
		add(o, "off_cpu_ns", t->sched_known ? ju64(t->off_cpu_ns) : NULL);
		add(o, "runnable_ns", t->sched_known ? ju64(t->runnable_ns) : NULL);
		add(o, "samples", ju64(t->samples));
		add(o, "window_ns", ju64(t->window_ns));
		add(o, "syscalls", ju64(t->calls));
		add(o, "syscall_ns", ju64(t->sys_ns));
		add(o, "wait_ns", ju64(t->wait_ns));
		add(o, "exited", json_object_new_boolean(t->exited));
		add(o, "time_source", jstr(t->have_reasons ? "scheduler" : "schedstat"));
		np_cpu_thread_json(t, o);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *jdouble(double v)
{
	/* three decimals are plenty for scores and shares, and keep the
	 * document stable across libm versions */
	char buf[32];

	snprintf(buf, sizeof(buf), "%.4f", v);
	return json_object_new_double_s(v, buf);
}

static json_object *sockets_json(const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n->n_socks; i++) {
		const struct np_net_sock *s = &n->socks[i];
		const struct np_rec_sock_summary *m = &s->sum;
		bool listener = s->info.flags & NP_SOCK_LISTENER;
		bool tcp = s->info.proto == 6;
		json_object *o = json_object_new_object();

		add(o, "proto", jstr(s->proto));
		add(o, "state", jstr(s->state));
		add(o, "local", jstr(s->local));
		add(o, "peer", jstr(s->peer));
		/* listeners: Recv-Q is the accept queue and Send-Q its limit, as ss shows them */
		add(o, "recv_q_max", ju64(m->recv_q_max));
		add(o, "send_q_max", ju64(listener ? s->info.backlog_limit : m->send_q_max));
		add(o, "retrans", ju64(m->retrans));
		add(o, "rtt_us_max", ju64(m->rtt_us_max));
		add(o, "inode", ju64(s->info.inode));
		if (r->net.have_sock_pids) /* a service: the process holding it */
			add(o, "pid", s->pid ? ju64(s->pid) : NULL);
		if (n->have_sock_netns) { /* a child in another network namespace */
			add(o, "netns", jstr(s->netns_other ? "other" : "target"));
			add(o, "netns_ino", ju64(s->netns_ino));
		}
		add(o, "listener", json_object_new_boolean(listener));
		if (listener) {
			add(o, "accept_q_max", ju64(m->recv_q_max));
			add(o, "accept_q_limit", ju64(s->info.backlog_limit));
			add(o, "backlog_clamped_by_somaxconn",
			    json_object_new_boolean(np_net_backlog_clamped(n, s)));
		}
		add(o, "polls", ju64(m->polls));
		add(o, "first_offset_ns",
		    ju64(m->first_ns > r->start_ns ? m->first_ns - r->start_ns : 0));
		add(o, "last_offset_ns",
		    ju64(m->last_ns > r->start_ns ? m->last_ns - r->start_ns : 0));
		add(o, "closed", json_object_new_boolean(m->flags & NP_SOCKSUM_CLOSED));
		add(o, "recv_q_mean", jdouble(m->polls ? (double)m->recv_q_sum / m->polls : 0));
		add(o, "send_q_mean", jdouble(m->polls ? (double)m->send_q_sum / m->polls : 0));
		add(o, "recv_q_nonzero_polls", ju64(m->polls_recv_q));
		add(o, "recv_q_max_offset_ns",
		    ju64(m->recv_q_max_ns > r->start_ns ? m->recv_q_max_ns - r->start_ns : 0));
		if (tcp && !listener) {
			add(o, "rtt_us_min", ju64(m->rtt_us_min));
			add(o, "rtt_us_last", ju64(m->rtt_us_last));
			add(o, "rttvar_us_max", ju64(m->rttvar_us_max));
			add(o, "lost_max", ju64(m->lost_max));
			add(o, "cwnd_min", ju64(m->cwnd_min));
			add(o, "cwnd_last", ju64(m->cwnd_last));
			add(o, "delivery_rate_max_bps", ju64(m->delivery_rate_max * 8));
			add(o, "busy_us", ju64(m->busy_us));
			add(o, "rwnd_limited_us", ju64(m->rwnd_limited_us));
			add(o, "sndbuf_limited_us", ju64(m->sndbuf_limited_us));
			add(o, "bytes_acked", ju64(m->bytes_acked));
			add(o, "bytes_received", ju64(m->bytes_received));
		}
		add(o, "sk_drops", ju64(m->sk_drops));
		add(o, "rcvbuf", ju64(m->rcvbuf_last));
		add(o, "sndbuf", ju64(m->sndbuf_last));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *qdisc_json(const struct np_net_qdisc *q)
{
	json_object *o = json_object_new_object();
	char h[32];

	add(o, "kind", jstr(q->kind));
	add(o, "drops", ju64(q->drops));
	add(o, "overlimits", ju64(q->overlimits));
	add(o, "backlog_max", ju64(q->backlog_max_bytes));
	add(o, "backlog_pkts_max", ju64(q->qlen_max));
	add(o, "requeues", ju64(q->requeues));
	add(o, "packets", ju64(q->packets));
	add(o, "bytes", ju64(q->bytes));
	snprintf(h, sizeof(h), "%x:%x", q->handle >> 16, q->handle & 0xffff);
	add(o, "handle", jstr(h));
	if (q->root)
		snprintf(h, sizeof(h), "root");
	else
		snprintf(h, sizeof(h), "%x:%x", q->parent >> 16, q->parent & 0xffff);
	add(o, "parent", jstr(h));
	return o;
}

static json_object *interfaces_json(const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n->n_ifs; i++) {
		const struct np_net_iface *f = &n->ifs[i];
		const struct np_rec_link_sample *d = &f->delta;
		json_object *o = json_object_new_object(), *roles = json_object_new_array(),
			    *eth = json_object_new_array(), *qs = json_object_new_array();

		add(o, "name", jstr(f->info.name));
		add(o, "netns", jstr(f->info.netns));
		add(o, "rx_packets", ju64(d->rx_packets));
		add(o, "tx_packets", ju64(d->tx_packets));
		add(o, "rx_dropped", ju64(d->rx_dropped));
		add(o, "tx_dropped", ju64(d->tx_dropped));
		add(o, "driver_drops", ju64(f->driver_drops));
		add(o, "qdisc", f->root ? qdisc_json(f->root) : NULL);
		add(o, "ifindex", json_object_new_int(f->info.ifindex));
		add(o, "netns_inode", ju64(f->info.netns_ino));
		add(o, "kind", jstr(f->info.kind));
		add(o, "driver", jstr(f->info.driver));
		if (f->info.role & NP_IF_ROUTE)
			json_object_array_add(roles, jstr("route"));
		if (f->info.role & NP_IF_DEFAULT)
			json_object_array_add(roles, jstr("default_route"));
		if (f->info.role & NP_IF_VETH_PEER)
			json_object_array_add(roles, jstr("veth_peer"));
		if (f->info.role & NP_IF_MASTER)
			json_object_array_add(roles, jstr("master"));
		add(o, "roles", roles);
		add(o, "rx_bytes", ju64(d->rx_bytes));
		add(o, "tx_bytes", ju64(d->tx_bytes));
		add(o, "rx_errors", ju64(d->rx_errors));
		add(o, "tx_errors", ju64(d->tx_errors));
		add(o, "rx_missed_errors", ju64(d->rx_missed_errors));
		add(o, "rx_over_errors", ju64(d->rx_over_errors));
		add(o, "rx_fifo_errors", ju64(d->rx_fifo_errors));
		add(o, "rx_crc_errors", ju64(d->rx_crc_errors));
		add(o, "tx_carrier_errors", ju64(d->tx_carrier_errors));
		add(o, "rx_nohandler", ju64(d->rx_nohandler));
		add(o, "carrier_changes", ju64(d->carrier_changes));
		add(o, "mtu", ju64(f->info.mtu));
		add(o, "rx_queues", ju64(f->info.num_rx_queues));
		add(o, "tx_queues", ju64(f->info.num_tx_queues));
		for (size_t k = 0; k < f->n_eth; k++) {
			json_object *e = json_object_new_object();

			add(e, "name", jstr(f->eth[k].name));
			add(e, "delta", ju64(f->eth[k].delta));
			add(e, "drop", json_object_new_boolean(f->eth[k].drop));
			add(e, "per_queue", json_object_new_boolean(f->eth[k].per_queue));
			json_object_array_add(eth, e);
		}
		add(o, "ethtool", eth);
		add(o, "ethtool_counters", ju64(f->n_eth_total));
		add(o, "ethtool_error",
		    f->info.ethtool_err ? jstr(strerror(-f->info.ethtool_err)) : NULL);
		for (size_t k = 0; k < f->n_qdiscs; k++)
			json_object_array_add(qs, qdisc_json(&f->qdiscs[k]));
		add(o, "qdiscs", qs);
		json_object_array_add(a, o);
	}
	return a;
}

static const struct np_ns_cpu *ns_cpu(const struct np_report *r, uint32_t cpu)
{
	for (size_t i = 0; i < r->ns.n_cpus; i++)
		if (r->ns.cpus[i].cpu == cpu)
			return &r->ns.cpus[i];
	return NULL;
}

static bool net_has_cpu(const struct np_report *r, uint32_t cpu)
{
	for (size_t i = 0; i < r->net.n_cpus; i++)
		if (r->net.cpus[i].cpu == cpu)
			return true;
	return false;
}

/* The softirq time a CPU spent on NET_RX/NET_TX (kernel stack source), or
 * nulls when that source did not see it. */
static void add_softirq_time(json_object *o, const struct np_ns_cpu *ns)
{
	add(o, "net_rx_ns", ns ? ju64(ns->rx.total_ns) : NULL);
	add(o, "net_tx_ns", ns ? ju64(ns->tx.total_ns) : NULL);
	add(o, "net_rx_count", ns ? ju64(ns->rx.count) : NULL);
	add(o, "net_tx_count", ns ? ju64(ns->tx.count) : NULL);
	add(o, "napi_polls", ns ? ju64(ns->napi.polls) : NULL);
	add(o, "napi_budget_exhausted", ns ? ju64(ns->napi.exhausted) : NULL);
}

/* One entry per CPU: backlog counters from the counters source, softirq
 * time from the kernel stack source; a field whose source did not run is
 * null. */
static json_object *cpus_json(const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n->n_cpus; i++) {
		const struct np_net_cpu *c = &n->cpus[i];
		json_object *o = json_object_new_object();

		add(o, "cpu", ju64(c->cpu));
		add_softirq_time(o, ns_cpu(r, c->cpu));
		add(o, "softnet_dropped", ju64(c->dropped));
		add(o, "time_squeeze", ju64(c->time_squeeze));
		add(o, "softnet_processed", ju64(c->processed));
		add(o, "received_rps", ju64(c->received_rps));
		add(o, "flow_limit", ju64(c->flow_limit));
		add(o, "backlog_max", ju64(c->backlog_max));
		add(o, "net_rx", ju64(c->net_rx));
		add(o, "net_tx", ju64(c->net_tx));
		add(o, "net_rx_share", jdouble(c->net_rx_share));
		add(o, "softirq_ns", ju64(c->softirq_ns));
		add(o, "irq_ns", ju64(c->irq_ns));
		add(o, "system_ns", ju64(c->system_ns));
		add(o, "user_ns", ju64(c->user_ns));
		add(o, "idle_ns", ju64(c->idle_ns));
		add(o, "steal_ns", ju64(c->steal_ns));
		json_object_array_add(a, o);
	}
	for (size_t i = 0; i < r->ns.n_cpus; i++) {
		const struct np_ns_cpu *c = &r->ns.cpus[i];
		json_object *o;

		if (net_has_cpu(r, c->cpu))
			continue;
		o = json_object_new_object();
		add(o, "cpu", ju64(c->cpu));
		add_softirq_time(o, c);
		add(o, "softnet_dropped", NULL);
		add(o, "time_squeeze", NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *network_json(const struct np_report *r)
{
	const struct np_net_report *n = &r->net;
	json_object *o = json_object_new_object(), *tcp = json_object_new_object(),
		    *cfg = json_object_new_object(), *irqs = json_object_new_array(),
		    *wins = json_object_new_array(), *poll = json_object_new_object();

	for (unsigned int i = 0; i < NP_SNMP_COUNT; i++)
		if (n->snmp_present & (1ull << i))
			add(tcp, np_snmp_name(i), ju64(n->snmp_delta[i]));
	add(o, "counters", n->have_snmp ? tcp : (json_object_put(tcp), NULL));
	if (n->have_conntrack) {
		json_object *ct = json_object_new_object();

		add(ct, "count_max", ju64(n->conntrack_max_seen));
		add(ct, "limit", ju64(n->conntrack_limit));
		add(o, "conntrack", ct);
	} else {
		add(o, "conntrack", NULL);
	}
	for (size_t i = 0; i < n->n_config; i++)
		add(cfg, n->config[i].key, jstr(n->config[i].value));
	add(o, "config", cfg);
	for (size_t i = 0; i < n->n_irqs; i++) {
		json_object *q = json_object_new_object(), *pc = json_object_new_array();

		add(q, "irq", ju64(n->irqs[i].info.irq));
		add(q, "desc", jstr(n->irqs[i].info.desc));
		add(q, "interface", ju64(n->irqs[i].info.iface_id));
		add(q, "affinity", jstr(n->irqs[i].info.affinity));
		add(q, "effective_affinity", jstr(n->irqs[i].info.effective));
		add(q, "count", ju64(n->irqs[i].total));
		for (size_t c = 0; c < n->n_cpus && n->cpus[c].cpu < 64; c++)
			json_object_array_add(pc, ju64(n->irqs[i].per_cpu[n->cpus[c].cpu]));
		add(q, "per_cpu", pc);
		json_object_array_add(irqs, q);
	}
	add(o, "irqs", irqs);
	add(o, "window_ns", ju64(n->window_ns));
	for (size_t i = 0; i < n->n_windows; i++) {
		const struct np_net_window *w = &n->windows[i];
		json_object *x = json_object_new_object(), *rx = json_object_new_array();

		add(x, "offset_ns", ju64(w->start_ns - n->windows[0].start_ns));
		add(x, "polls", ju64(w->polls));
		add(x, "recv_q_max", ju64(w->recv_q_max));
		add(x, "send_q_max", ju64(w->send_q_max));
		add(x, "accept_q_max", ju64(w->accept_q_max));
		add(x, "retrans", ju64(w->snmp[NP_SNMP_TCP_RETRANS_SEGS]));
		add(x, "socket_retrans", ju64(w->sock_retrans));
		add(x, "listen_overflows", ju64(w->snmp[NP_SNMP_LISTEN_OVERFLOWS]));
		add(x, "listen_drops", ju64(w->snmp[NP_SNMP_LISTEN_DROPS]));
		add(x, "softnet_dropped", ju64(w->softnet_dropped));
		add(x, "time_squeeze", ju64(w->time_squeeze));
		add(x, "net_rx", ju64(w->net_rx));
		for (size_t c = 0; c < n->n_cpus; c++)
			json_object_array_add(rx, ju64(w->net_rx_cpu ? w->net_rx_cpu[c] : 0));
		add(x, "net_rx_per_cpu", rx);
		add(x, "rx_packets", ju64(w->if_rx_packets));
		add(x, "tx_packets", ju64(w->if_tx_packets));
		add(x, "rx_dropped", ju64(w->if_rx_dropped));
		add(x, "tx_dropped", ju64(w->if_tx_dropped));
		add(x, "driver_drops", ju64(w->driver_drops));
		add(x, "qdisc_drops", ju64(w->qdisc_drops));
		add(x, "qdisc_backlog_max", ju64(w->qdisc_backlog_max_bytes));
		json_object_array_add(wins, x);
	}
	add(o, "windows", wins);
	add(poll, "polls", ju64(n->n_polls));
	add(poll, "cpu_ns_p50", ju64(n->poll_cpu_p50_ns));
	add(poll, "cpu_ns_p95", ju64(n->poll_cpu_p95_ns));
	add(poll, "cpu_ns_max", ju64(n->poll_cpu_max_ns));
	add(poll, "sockets_cpu_ns_p50", ju64(n->poll_sock_p50_ns));
	add(poll, "nic_cpu_ns_p50", ju64(n->poll_nic_p50_ns));
	add(poll, "host_cpu_ns_p50", ju64(n->poll_host_p50_ns));
	add(poll, "sockets_max", ju64(n->poll_sockets_max));
	add(poll, "sockdiag_sockets_p50", ju64(n->poll_queried_p50));
	add(poll, "sockets_skipped_max", ju64(n->sockets_skipped_max));
	add(o, "polling", poll);
	return o;
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

static json_object *breakdown_json(const struct np_report *r)
{
	const struct np_breakdown *b = &r->an->breakdown;
	json_object *o;

	if (!b->known)
		return NULL; /* unknown, not zeros */
	o = json_object_new_object();
	add(o, "application_ns", ju64(b->application_ns));
	add(o, "stack_ns", ju64(b->stack_ns));
	add(o, "nic_ns", ju64(b->nic_ns));
	add(o, "peer_ns", ju64(b->peer_ns));
	add(o, "idle_ns", ju64(b->idle_ns));
	add(o, "window_ns", ju64(b->window_ns));
	add(o, "thread_ns", ju64(b->thread_ns));
	add(o, "idle_unexplained_ns", ju64(b->idle_unexplained_ns));
	add(o, "threads_left_out", ju64(b->unknown_threads));
	add(o, "estimated", json_object_new_boolean(b->estimated));
	return o;
}

static json_object *spans_json(const struct np_report *r, const struct np_span *sp, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		add(o, "offset_ns",
		    ju64(sp[i].start_ns > r->start_ns ? sp[i].start_ns - r->start_ns : 0));
		add(o, "duration_ns", ju64(sp[i].end_ns - sp[i].start_ns));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *finding_json(const struct np_report *r, const struct np_finding *f)
{
	json_object *o = json_object_new_object();
	json_object *ev = json_object_new_array();
	json_object *corr = json_object_new_object(), *conf;

	add(o, "cause", jstr(f->cause));
	add(o, "layer", jstr(f->layer));
	add(o, "severity", jstr(np_severity_name(f->severity)));
	add(o, "score", jdouble(f->score));
	add(o, "evidence_owner", jstr(np_owner_name(f->owner)));
	add(o, "summary", jstr(f->summary));
	for (size_t i = 0; i < f->n_ev; i++) {
		const struct np_evidence *e = &f->ev[i];
		json_object *x = json_object_new_object();
		uint64_t whole = np_u64_sat(e->value);

		add(x, "metric", jstr(e->metric));
		if (e->value >= 0 && e->value < 1.8e19 && e->value == (double)whole)
			add(x, "value", ju64(whole));
		else
			add(x, "value", jdouble(e->value));
		add(x, "unit", jstr(e->unit));
		add(x, "where", e->where[0] ? jstr(e->where) : NULL);
		add(x, "when", spans_json(r, e->when, e->n_when));
		json_object_array_add(ev, x);
	}
	add(o, "evidence", ev);
	add(o, "advice", jstr(f->advice));
	add(corr, "windows", spans_json(r, f->spans, f->n_spans));
	add(corr, "windows_moved", ju64(f->windows_moved));
	add(corr, "latency_metric", f->latency_metric ? jstr(f->latency_metric) : NULL);
	add(corr, "latency_rose",
	    f->latency_rose < 0 ? NULL : json_object_new_boolean(f->latency_rose));
	add(corr, "windows_latency_rose", ju64(f->windows_latency_rose));
	add(corr, "windows_total", ju64(f->windows_total));
	add(corr, "steady", json_object_new_boolean(f->steady));
	add(o, "correlation", corr);
	conf = json_object_new_object();
	add(conf, "level", jstr(np_confidence_name(f->confidence)));
	add(conf, "why", jstr(f->confidence_why));
	add(o, "confidence", conf);
	add(o, "counter_evidence", f->counter[0] ? jstr(f->counter) : NULL);
	return o;
}

static json_object *verdict_json(const struct np_report *r)
{
	const struct np_finding *v = r->an->verdict;
	json_object *o;

	if (!v)
		return NULL;
	o = json_object_new_object();
	add(o, "layer", jstr(v->layer));
	add(o, "cause", jstr(v->cause));
	add(o, "summary", jstr(v->summary));
	add(o, "severity", jstr(np_severity_name(v->severity)));
	add(o, "score", jdouble(v->score));
	add(o, "confidence", jstr(np_confidence_name(v->confidence)));
	add(o, "counter_evidence", v->counter[0] ? jstr(v->counter) : NULL);
	if (r->an->runner_up) {
		json_object *ru = json_object_new_object();

		add(ru, "cause", jstr(r->an->runner_up->cause));
		add(ru, "why", jstr(r->an->runner_up_why));
		add(o, "runner_up", ru);
	} else {
		add(o, "runner_up", NULL);
	}
	return o;
}

static json_object *capacity_json(const struct np_report *r)
{
	const struct np_capacity *c = &r->an->capacity;
	json_object *o;

	if (!c->at_capacity)
		return NULL;
	o = json_object_new_object();
	add(o, "tid", ju64(c->tid));
	add(o, "comm", jstr(c->comm));
	add(o, "busy_share", jdouble(c->busy_share));
	add(o, "queued_share", jdouble(c->queued_share));
	add(o, "app_share", c->have_split ? jdouble(c->app_share) : NULL);
	add(o, "kernel_net_share", c->have_split ? jdouble(c->kernel_net_share) : NULL);
	add(o, "kernel_other_share", c->have_split ? jdouble(c->kernel_other_share) : NULL);
	add(o, "bound_by", c->bound_by ? jstr(c->bound_by) : NULL);
	add(o, "requests_per_s", jdouble(c->requests_per_s));
	add(o, "bound_per_s", c->bound_per_s > 0 ? jdouble(c->bound_per_s) : NULL);
	return o;
}

static json_object *findings_json(const struct np_report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->an->n_findings; i++)
		json_object_array_add(a, finding_json(r, &r->an->findings[i]));
	return a;
}

static json_object *report_object(const struct np_report *r)
{
	json_object *root = json_object_new_object();

	if (!root)
		return NULL;
	add(root, "format_version", json_object_new_int(JSON_FORMAT_VERSION));
	add(root, "netprof_version", jstr(NETPROF_VERSION));
	add(root, "target", target_json(r));
	add(root, "host", host_json(r));
	add(root, "window", window_json(r));
	add(root, "recording", recording_json(r));
	add(root, "sources", sources_json(r));
	add(root, "breakdown", breakdown_json(r));
	add(root, "verdict", verdict_json(r));
	add(root, "capacity", capacity_json(r));
	add(root, "findings", findings_json(r));
	add(root, "syscalls", syscalls_json(r));
	add(root, "slow_calls", slow_json(r, r->slow, r->n_slow));
	add(root, "slow_calls_total", ju64(r->slow_total));
	add(root, "slow_waits", slow_json(r, r->slow_waits, r->n_slow_waits));
	add(root, "slow_waits_total", ju64(r->slow_waits_total));
	add(root, "threads", threads_json(r));
	add(root, "sockets", sockets_json(r));
	add(root, "interfaces", interfaces_json(r));
	add(root, "cpus", cpus_json(r));
	add(root, "network", network_json(r));
	add(root, "exchanges", np_xch_json(r));
	add(root, "netstack", np_ns_json(r));
	add(root, "cpu_profile", np_cpu_json(r));
	add(root, "overhead", np_ovh_json(r));
	add(root, "lost_events", ju64(r->lost_events));
	add(root, "lost_events_by_cause", lost_json(r));
	return root;
}

char *np_report_json_string(const struct np_report *r, bool pretty)
{
	return np_json_text(report_object(r), pretty);
}

int np_report_json(const struct np_report *r, FILE *f)
{
	return np_json_write(np_report_json_string(r, true), f);
}
