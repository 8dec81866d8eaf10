/* exchanges.c - loader settings and reader of the exchange source.
 *
 * The kernel side (bpf/exchange.bpf.h) lives in the syscall object; this
 * file decides, in a hook the syscall source runs before that object loads, which of its exchange programs
 * this kernel can run, and afterwards moves what they produce into the
 * recording: individual exchanges (slow or sampled) from their ring buffer,
 * and once per window the difference of the in-kernel totals, so a report
 * can show p50/p99 and the component sums per second.
 *
 * HTTP/2 connections are the exception: the kernel ships their calls'
 * bytes (bpf/h2.bpf.h) and the streams are timed here, by
 * profiler/proto/h2conn.c, one parser per connection.  Each stream is
 * added to a user-space totals slot that joins the kernel's in every
 * window, so counts and percentiles include h2 streams exactly, and
 * becomes an event by the same rule as in the kernel (slow or sampled).
 *
 * Not here: what an exchange is (the kernel side decides), and the HTTP
 * label parsing (report side, httplabel.c: labels are recorded raw, as the
 * kernel cut them).
 */
#include "profiler/sources/exchanges.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/procfs.h"
#include "profiler/collect/bpfutil.h"
#include "profiler/collect/stager.h"
#include "profiler/proto/h2conn.h"
#include "profiler/sources/listenports.h"
#include "profiler/sources/syscalls.h"
#include "profiler/sources/xchwindow.h"
#include "bpf/connstate.h"
#include "bpf/h2chunk.h"
#include "bpf/syscalls.skel.h"
#include "profiler/format/timeline.h"

#define STAGING_EVENTS 512
#define STAGING_PARTS 64
/* HTTP/2 connections followed at once (a parser each); more are counted. */
#define H2_MAX_CONNS 4096
#define H2_BUCKETS 1024

/* The inode of /proc/PID/ns/net, or 0 (then no early marking happens). */
static uint32_t target_netns(const struct np_config *cfg)
{
	char path[4096], link[64];
	unsigned long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/proc/%d/ns/net", cfg->proc_root, (int)cfg->pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "net:[%lu]", &ino) != 1 || ino > UINT32_MAX)
		return 0;
	return (uint32_t)ino;
}

/* net.ipv4.ip_local_port_range as netprof's namespace sees it (a target in
 * another namespace almost always has the same default); 0, 0 unknown. */
static void ephemeral_range(const struct np_config *cfg, uint16_t *lo, uint16_t *hi)
{
	char buf[64];
	unsigned int a, b;

	*lo = *hi = 0;
	if (np_read_text(cfg->proc_root, "proc/sys/net/ipv4/ip_local_port_range", buf,
			 sizeof(buf)) > 0 &&
	    sscanf(buf, "%u %u", &a, &b) == 2 && a > 0 && a <= b && b <= 65535) {
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
	}
}

int np_xch_before_load(struct np_syscalls_bpf *skel, const struct np_config *cfg, void *setup)
{
	struct np_xch_setup *x = setup;
	bool want_xch = !cfg->no_exchanges, want_mark = want_xch || !cfg->no_netstack;
	bool have_calls = true;
	size_t n_ports = 0;
	char *miss = x->missing;
	size_t ml = sizeof(x->missing);
	int rc;

	memset(x, 0, sizeof(*x));
	if (want_mark) {
		have_calls &= np_bpf_need_tracepoint(skel->progs.np_sock_recv,
						     "sock/sock_recv_length", miss, ml);
		have_calls &= np_bpf_need_tracepoint(skel->progs.np_sock_send,
						     "sock/sock_send_length", miss, ml);
	}
	if (!want_mark || !have_calls) {
		bpf_program__set_autoload(skel->progs.np_sock_recv, false);
		bpf_program__set_autoload(skel->progs.np_sock_send, false);
	}
	x->marking = want_mark && have_calls;
	x->enabled = want_xch && have_calls;
	if (!want_xch)
		snprintf(x->why_off, sizeof(x->why_off), "switched off (--no-exchanges)");
	else if (!have_calls)
		snprintf(x->why_off, sizeof(x->why_off),
			 "this kernel lacks %s (Linux 6.3 or later has them)", x->missing);

	if (x->marking &&
	    np_bpf_need_tracepoint(skel->progs.np_sk_state, "sock/inet_sock_set_state", miss, ml))
		x->flags |= NP_XCFG_CLOSE;
	else
		bpf_program__set_autoload(skel->progs.np_sk_state, false);
	if (x->enabled &&
	    np_bpf_need_tracepoint(skel->progs.np_sk_data_ready, "sock/sk_data_ready", miss, ml))
		x->flags |= NP_XCFG_ARRIVAL;
	else
		bpf_program__set_autoload(skel->progs.np_sk_data_ready, false);
	if (x->enabled &&
	    np_bpf_need_tracepoint(skel->progs.np_dev_xmit, "net/net_dev_start_xmit", miss, ml))
		x->flags |= NP_XCFG_WIRE;
	else
		bpf_program__set_autoload(skel->progs.np_dev_xmit, false);
	/* tx splits off the time below TCP by the segments' departure stamps */
	if (x->flags & NP_XCFG_WIRE)
		x->flags |= NP_XCFG_QDISC;
	/* Attached by hand at the end (np_xch_flush). */
	bpf_program__set_autoattach(skel->progs.np_flush_conns, false);
	if (!x->enabled)
		bpf_program__set_autoload(skel->progs.np_flush_conns, false);
	if (x->enabled &&
	    np_bpf_need_tracepoint(skel->progs.np_xch_retrans, "tcp/tcp_retransmit_skb", miss, ml))
		x->flags |= NP_XCFG_RETRANS;
	else
		bpf_program__set_autoload(skel->progs.np_xch_retrans, false);
	if (x->enabled && !cfg->no_payload)
		x->flags |= NP_XCFG_PAYLOAD;
	x->tls = x->enabled && cfg->tls;
	{
		struct bpf_program *ssl_progs[] = {
			skel->progs.np_ssl_write,     skel->progs.np_ssl_write_ex,
			skel->progs.np_ssl_read,      skel->progs.np_ssl_read_ex,
			skel->progs.np_ssl_handshake, skel->progs.np_ssl_leave,
			skel->progs.np_ssl_write_ret, skel->progs.np_ssl_read_ret,
		};

		/* Attached per target process by the tls collector (tls.c). */
		for (size_t i = 0; i < sizeof(ssl_progs) / sizeof(ssl_progs[0]); i++) {
			bpf_program__set_autoattach(ssl_progs[i], false);
			if (!x->tls)
				bpf_program__set_autoload(ssl_progs[i], false);
		}
	}

	if (x->marking) {
		/* A failure leaves the list empty: directions are then guessed
		 * from the first call on a connection opened before recording. */
		bool complete = !np_listen_ports_read(cfg->proc_root, cfg->pid, x->listen_ports,
						      NP_XCH_MAX_LISTEN, &n_ports);

		/* A service: the ports every process listens on (workers of
		 * unrelated servers, a cgroup's processes). */
		for (size_t i = 0; cfg->targets && i < cfg->targets->n; i++) {
			const struct np_proc *p = &cfg->targets->v[i];
			uint16_t more[NP_XCH_MAX_LISTEN];
			size_t n_more = 0;

			if (p->pid == cfg->pid || (p->flags & NP_PROC_GONE_AT_START))
				continue;
			if (np_listen_ports_read(cfg->proc_root, p->pid, more, NP_XCH_MAX_LISTEN,
						 &n_more))
				complete = false;
			for (size_t k = 0; k < n_more && n_ports < NP_XCH_MAX_LISTEN; k++) {
				size_t j = 0;

				while (j < n_ports && x->listen_ports[j] != more[k])
					j++;
				if (j == n_ports)
					x->listen_ports[n_ports++] = more[k];
			}
		}
		x->n_listen_ports = (uint32_t)n_ports;
		x->listeners_known = complete;
	}
	skel->rodata->xch_on = x->enabled;
	skel->rodata->payload_on = !!(x->flags & NP_XCFG_PAYLOAD);
	skel->rodata->xmit_on = !!(x->flags & NP_XCFG_WIRE);
	skel->data->xch_slow_ns = cfg->threshold_ns;
	skel->bss->xch_sample_every = cfg->sample_every;
	skel->rodata->n_listen_ports = x->n_listen_ports;
	skel->rodata->listeners_known = x->listeners_known;
	skel->rodata->target_netns = target_netns(cfg);
	{
		uint16_t lo, hi;

		ephemeral_range(cfg, &lo, &hi);
		skel->rodata->ephemeral_lo = lo;
		skel->rodata->ephemeral_hi = hi;
	}
	for (uint32_t i = 0; i < x->n_listen_ports; i++)
		skel->rodata->listen_ports[i] = x->listen_ports[i];
	/* HTTP/2 needs the payload: its labels and its streams are in it. */
	x->h2 = x->enabled && (x->flags & NP_XCFG_PAYLOAD);
	skel->rodata->h2_on = x->h2;
	rc = bpf_map__set_max_entries(skel->maps.h2_chunks, np_ringbuf_bytes(x->h2 ? 8u << 20 : 1));
	if (!rc && x->h2 && libbpf_num_possible_cpus() > 0)
		rc = bpf_map__set_max_entries(skel->maps.h2_scratch,
					      (uint32_t)libbpf_num_possible_cpus());
	if (rc)
		return rc;
	rc = bpf_map__set_max_entries(skel->maps.xch_events,
				      x->enabled ? np_ringbuf_bytes(cfg->ringbuf_bytes / 4 >
										    (256u << 10)
									    ? cfg->ringbuf_bytes / 4
									    : 256u << 10)
						 : np_ringbuf_bytes(1));
	return rc;
}

/* ---- the collector ------------------------------------------------------- */

/* One HTTP/2 connection being parsed, by socket cookie. */
struct h2_entry {
	uint64_t cookie;
	struct np_h2_conn *conn; /* NULL: not followed (no memory, or too many) */
	struct h2_entry *next;
	struct np_h2_rec last; /* the latest record's header: tid, endpoints */
	uint64_t streams, open_sum;
};

struct xch {
	struct np_syscalls_bpf *skel; /* borrowed from the syscall source */
	struct np_stager events;
	struct np_stager parts; /* NP_XEV2_REPLY_PART events, fed from events' ring */
	int ncpus;
	size_t value_bytes;        /* one CPU's value in a per-CPU lookup */
	struct np_xch_stats *prev; /* [slot][cpu], last snapshot */
	struct np_xch_stats *cur;
	struct np_rec_xch_window win;
	uint64_t window_start_ns;
	uint64_t window_drops; /* events.writer_drops when the window opened */
	char netns_path[64];   /* /proc/PID/ns/net when it is not ours, else "" */
	/* HTTP/2: the parsers, and the streams' totals, a third slot beside
	 * the kernel's two (cur is added to, prev is the last window's) */
	struct h2_entry *h2_table[H2_BUCKETS];
	size_t h2_conns;
	struct np_h2_stats h2_stats;
	struct np_xch_stats *h2_cur, *h2_prev;
	uint64_t h2_untracked; /* connections over H2_MAX_CONNS */
	/* ended connections, written with the next window */
	struct np_rec_h2_conn *h2_done;
	size_t n_h2_done, cap_h2_done;
};

static struct h2_entry **h2_slot(struct xch *x, uint64_t cookie)
{
	struct h2_entry **p = &x->h2_table[(cookie * 0x9e3779b97f4a7c15ull) >> 54];

	while (*p && (*p)->cookie != cookie)
		p = &(*p)->next;
	return p;
}

/* A stream ended: into the totals, and an event by the kernel's rule. */
static void h2_emit(void *ctx, const struct np_xch_event *ev)
{
	struct xch *x = ctx;
	struct np_xch_event e = *ev;
	uint32_t every = x->skel->bss->xch_sample_every;

	struct h2_entry *ent = *h2_slot(x, e.cookie);

	/* the thread that made the call completing it, and the endpoints */
	if (ent) {
		e.tid = ent->last.tid;
		e.family = ent->last.family;
		e.lport = ent->last.lport;
		e.rport = ent->last.rport;
		memcpy(e.laddr, ent->last.laddr, sizeof(e.laddr));
		memcpy(e.raddr, ent->last.raddr, sizeof(e.raddr));
		ent->streams++;
		ent->open_sum += e.streams_open;
	}
	np_h2_account(x->h2_cur, &e);
	if (e.total_ns >= x->skel->data->xch_slow_ns)
		e.flags |= NP_XEV_SLOW;
	if (every && (uint32_t)random() % every == 0)
		e.flags |= NP_XEV_SAMPLED;
	if (e.flags & (NP_XEV_SLOW | NP_XEV_SAMPLED))
		np_stager_add(&x->events, &e, sizeof(e));
}

/* Keeps a followed connection's concurrency for the next window. */
static void h2_conn_done(struct xch *x, const struct h2_entry *ent, uint64_t now)
{
	if (!ent->conn || !ent->streams)
		return;
	if (x->n_h2_done == x->cap_h2_done) {
		size_t cap = x->cap_h2_done ? 2 * x->cap_h2_done : 64;
		struct np_rec_h2_conn *v = realloc(x->h2_done, cap * sizeof(*v));

		if (!v)
			return;
		x->h2_done = v;
		x->cap_h2_done = cap;
	}
	x->h2_done[x->n_h2_done++] = (struct np_rec_h2_conn){
		.cookie = ent->cookie,
		.ts_ns = now,
		.streams = ent->streams,
		.open_sum = ent->open_sum,
		.max_open = np_h2_conn_max_open(ent->conn),
	};
}

static void h2_close_conn(struct xch *x, uint64_t cookie, uint64_t now)
{
	struct h2_entry **p = h2_slot(x, cookie), *dead = *p;

	if (!dead)
		return;
	h2_conn_done(x, dead, now);
	*p = dead->next;
	np_h2_conn_free(dead->conn);
	free(dead);
	x->h2_conns--;
}

/* One record of the h2 ring: a call's bytes, or a connection's end. */
static int on_h2_record(void *ctx, void *data, size_t len)
{
	struct xch *x = ctx;
	const struct np_h2_rec *r = data;
	struct np_h2_chunk ch;
	struct h2_entry **p, *ent;

	if (len < sizeof(*r) || r->kept > len - sizeof(*r) || r->kept > r->len)
		return 0;
	if (r->kind == NP_H2REC_CLOSE) {
		h2_close_conn(x, r->cookie, r->call_end_ns);
		return 0;
	}
	p = h2_slot(x, r->cookie);
	if (!*p) {
		/* The first record of a connection holds its preface. */
		if (r->offset != 0)
			return 0;
		ent = calloc(1, sizeof(*ent));
		if (!ent)
			return 0;
		ent->cookie = r->cookie;
		if (x->h2_conns < H2_MAX_CONNS)
			ent->conn = np_h2_conn_new(r->cookie, r->role == NP_ROLE_IN, &x->h2_stats,
						   h2_emit, x);
		else
			x->h2_untracked++;
		*p = ent;
		x->h2_conns++;
	}
	if (!(*p)->conn)
		return 0;
	(*p)->last = *r;
	ch = (struct np_h2_chunk){.call_start_ns = r->call_start_ns,
				  .call_end_ns = r->call_end_ns,
				  .arrival_ns = r->arrival_ns,
				  .offset = r->offset,
				  .len = r->len,
				  .kept = r->kept,
				  .dir = r->dir,
				  .tls = r->flags & NP_H2REC_F_TLS,
				  .tls_ns = r->tls_ns};
	np_h2_conn_feed((*p)->conn, &ch, (const uint8_t *)(r + 1));
	return 0;
}

/* Recording stopped: the streams still open count as unanswered. */
static void h2_free_all(struct xch *x, uint64_t now)
{
	for (size_t i = 0; i < H2_BUCKETS; i++)
		while (x->h2_table[i])
			h2_close_conn(x, x->h2_table[i]->cookie, now);
}

static int write_window(struct xch *x, struct np_writer *w, uint64_t now)
{
	int fd = bpf_map__fd(x->skel->maps.xch_stats);
	struct np_rec_xch_window *win = &x->win;
	bool any;

	memset(win, 0, sizeof(*win));
	win->start_ns = x->window_start_ns;
	win->ts_ns = now;
	for (uint32_t slot = 0; slot < 2; slot++) {
		struct np_xch_stats *cur = (void *)((char *)x->cur +
						    slot * x->ncpus * x->value_bytes);
		struct np_xch_stats *prev = (void *)((char *)x->prev +
						     slot * x->ncpus * x->value_bytes);

		if (bpf_map_lookup_elem(fd, &slot, cur))
			continue;
		np_xch_window_add(&win->d, cur, prev, x->ncpus, x->value_bytes);
		memcpy(prev, cur, x->ncpus * x->value_bytes);
	}
	/* HTTP/2 streams, timed here: after the kernel's, so that maxima and
	 * the rest combine the same way as another CPU's would */
	x->h2_cur->unanswered = x->h2_stats.unanswered + x->h2_stats.lost_streams;
	np_xch_window_add(&win->d, x->h2_cur, x->h2_prev, 1, x->value_bytes);
	memcpy(x->h2_prev, x->h2_cur, sizeof(*x->h2_cur));
	if (x->n_h2_done) {
		int rc = np_writer_block(w, NP_BLK_H2_CONNS, sizeof(*x->h2_done), x->h2_done,
					 x->n_h2_done);

		if (rc)
			return rc;
		x->n_h2_done = 0;
	}
	win->d.writer_drops = x->events.writer_drops - x->window_drops;
	x->window_drops = x->events.writer_drops;
	x->window_start_ns = now;
	any = np_xch_window_moved(&win->d);
	/* Quiet windows are implied by the gap: a report treats a missing
	 * window as one with no exchanges. */
	if (!any)
		return 0;
	return np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(*win), win, 1);
}

/* "net:[4026531840]" of this process into link, for comparison with the
 * target's ("" when unreadable).  Returns link. */
static const char *own_netns(char *link, size_t len)
{
	ssize_t n = readlink("/proc/self/ns/net", link, len - 1);

	link[n > 0 ? n : 0] = '\0';
	return link;
}

/* A reply part is not an exchange: every reader of exchange events would
 * count it as one.  It goes to a block of its own. */
static bool divert_reply_part(void *arg, const void *rec)
{
	struct xch *x = arg;
	const struct np_xch_event *e = rec;

	if (!(e->flags2 & NP_XEV2_REPLY_PART))
		return false;
	np_stager_add(&x->parts, e, sizeof(*e));
	return true;
}

static void xch_destroy(void *state)
{
	struct xch *x = state;

	if (!x)
		return;
	h2_free_all(x, 0);
	np_stager_fini(&x->events);
	np_stager_fini(&x->parts);
	free(x->h2_done);
	free(x->h2_cur);
	free(x->h2_prev);
	free(x->prev);
	free(x->cur);
	free(x);
}

static int xch_init(const struct np_collector_ctx *ctx, struct np_writer *w, void **state,
		    char *err, size_t errlen)
{
	const struct np_xch_setup *setup = ctx->xch;
	struct np_rec_xch_config cfg = {.ts_ns = ctx->start_ns,
					.slow_ns = ctx->cfg->threshold_ns,
					.window_ns = NP_XCH_WINDOW_NS,
					.sample_every = ctx->cfg->sample_every};
	struct xch *x;
	char own[64];
	int rc;

	if (!setup->enabled) {
		snprintf(err, errlen, "%s", setup->why_off);
		return -ENOTSUP;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->skel = np_syscalls_skel(ctx->syscalls);
	x->ncpus = libbpf_num_possible_cpus();
	x->value_bytes = (sizeof(struct np_xch_stats) + 7) & ~(size_t)7;
	x->window_start_ns = ctx->start_ns;
	if (strcmp(ctx->target->netns, own_netns(own, sizeof(own))))
		snprintf(x->netns_path, sizeof(x->netns_path), "%s/proc/%d/ns/net",
			 ctx->cfg->proc_root, (int)ctx->cfg->pid);
	if (x->ncpus <= 0) {
		snprintf(err, errlen, "cannot count possible CPUs");
		rc = -EINVAL;
		goto fail;
	}
	x->prev = calloc(2 * (size_t)x->ncpus, x->value_bytes);
	x->cur = calloc(2 * (size_t)x->ncpus, x->value_bytes);
	x->h2_cur = calloc(1, x->value_bytes);
	x->h2_prev = calloc(1, x->value_bytes);
	if (!x->prev || !x->cur || !x->h2_cur || !x->h2_prev) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = np_stager_init(&x->events, bpf_map__fd(x->skel->maps.xch_events), NP_BLK_XCH_EVENTS,
			    sizeof(struct np_xch_event), STAGING_EVENTS);
	if (!rc)
		rc = np_stager_init(&x->parts, -1, NP_BLK_XCH_REPLY_PARTS,
				    sizeof(struct np_xch_event), STAGING_PARTS);
	if (rc) {
		snprintf(err, errlen, "cannot read the exchange ring buffer: %s", strerror(-rc));
		goto fail;
	}
	x->events.divert = divert_reply_part;
	x->events.arg = x;
	if (setup->h2 &&
	    ring_buffer__add(x->events.rb, bpf_map__fd(x->skel->maps.h2_chunks), on_h2_record, x)) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the HTTP/2 ring buffer: %s", strerror(-rc));
		goto fail;
	}
	cfg.flags = setup->flags;
	cfg.n_listen_ports = setup->n_listen_ports;
	for (uint32_t i = 0; i < setup->n_listen_ports && i < NP_XCFG_MAX_PORTS; i++)
		cfg.listen_ports[i] = setup->listen_ports[i];
	rc = np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1);
	if (!rc) {
		const char *payload = setup->flags & NP_XCFG_PAYLOAD
					      ? "HTTP/1.x labels from the first 128 bytes, "
						"HTTP/2 (h2c) streams parsed in user space"
					      : "no payload read (--no-payload)";

		if (!(setup->flags & NP_XCFG_ARRIVAL) || !(setup->flags & NP_XCFG_WIRE))
			rc = np_writer_source(
				w, "exchanges", NP_SOURCE_DEGRADED,
				"%s%s%s unknown: this kernel lacks %s; %s",
				setup->flags & NP_XCFG_ARRIVAL ? "" : "queued (arrival -> read)",
				!(setup->flags & NP_XCFG_ARRIVAL) && !(setup->flags & NP_XCFG_WIRE)
					? " and "
					: "",
				setup->flags & NP_XCFG_WIRE ? "" : "tx (write -> wire)",
				setup->missing, payload);
		else
			rc = np_writer_source(w, "exchanges", NP_SOURCE_OK,
					      "sock_recv/send_length, sk_data_ready, "
					      "net_dev_start_xmit; "
					      "%s; %u listening ports",
					      payload, setup->n_listen_ports);
	}
	if (rc) {
		snprintf(err, errlen, "cannot write the recording: %s", strerror(-rc));
		goto fail;
	}
	*state = x;
	return 0;
fail:
	xch_destroy(x);
	return rc;
}

static int xch_fd(void *state)
{
	return np_stager_fd(&((struct xch *)state)->events);
}

static int xch_drain(void *state, struct np_writer *w)
{
	struct xch *x = state;
	int rc;

	x->parts.w = w;
	rc = np_stager_drain(&x->events, w);
	np_stager_flush(&x->parts);
	x->parts.w = NULL;
	return rc;
}

static int xch_poll(void *state, struct np_writer *w, uint64_t now)
{
	struct xch *x = state;

	if (now - x->window_start_ns < NP_XCH_WINDOW_NS)
		return 0;
	return write_window(x, w, now);
}

/* Ends the served exchanges still open when tracing stopped: np_flush_conns
 * walks the TCP sockets of the target's network namespace once.  A TCP
 * iterator walks the namespace of the thread that creates it, so this
 * thread enters the target's namespace for that moment. */
static void flush_open_exchanges(struct xch *x)
{
	struct bpf_link *link;
	char buf[64];
	int fd, own = -1, theirs = -1;

	link = bpf_program__attach_iter(x->skel->progs.np_flush_conns, NULL);
	if (!link)
		return; /* kernels before 5.9: those exchanges stay uncounted */
	if (x->netns_path[0]) {
		own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		theirs = open(x->netns_path, O_RDONLY | O_CLOEXEC);
		if (own < 0 || theirs < 0 || setns(theirs, CLONE_NEWNET) < 0) {
			if (own >= 0)
				close(own);
			own = -1;
		}
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (own >= 0) {
		/* Back home.  Should that fail, netprof stays in the target's
		 * network namespace, where all it has left to do is write
		 * files (the mount namespace is unchanged): harmless. */
		(void)!setns(own, CLONE_NEWNET);
		close(own);
	}
	if (theirs >= 0)
		close(theirs);
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
			;
		close(fd);
	}
	bpf_link__destroy(link);
}

static int xch_finish(void *state, struct np_writer *w, uint64_t now)
{
	struct xch *x = state;

	xch_drain(x, w);
	flush_open_exchanges(x);
	xch_drain(x, w);
	h2_free_all(x, now);
	return write_window(x, w, now);
}

/* Step NP_SHED_EXCHANGES: fewer individual exchanges, the same totals.
 * A connection's sampling is decided when its exchange begins, so the
 * change applies from the next exchange on. */
static int xch_shed(void *state, unsigned step, struct np_shed_change *out, size_t max)
{
	struct xch *x = state;
	uint64_t slow = x->skel->data->xch_slow_ns;
	uint32_t every = x->skel->bss->xch_sample_every;
	uint64_t new_slow = np_shed_raise(slow, NP_SHED_SLOW_CAP_NS);
	uint32_t new_every = (uint32_t)np_shed_raise(every, NP_SHED_SAMPLE_CAP);
	size_t n = 0;

	if (step != NP_SHED_EXCHANGES)
		return 0;
	x->skel->bss->xch_sample_every = new_every;
	x->skel->data->xch_slow_ns = new_slow;
	n = np_shed_change_add(out, n, max, "exchanges", "sample_every", every, new_every);
	n = np_shed_change_add(out, n, max, "exchanges", "slow_exchange_threshold_ns", slow,
			       new_slow);
	return (int)n;
}

static const char *const xch_sources[] = {"exchanges", NULL};

const struct np_collector_ops np_exchanges_collector = {
	.name = "exchange",
	.init = xch_init,
	.fd = xch_fd,
	.drain = xch_drain,
	.poll = xch_poll,
	.finish = xch_finish,
	.destroy = xch_destroy,
	.shed = xch_shed,
	.sources = xch_sources,
};
