/* netstack.c - loader and reader of the kernel stack source
 * (bpf/netstack.bpf.c).
 *
 * Open, probe each tracepoint and switch off the programs this kernel
 * cannot attach, reuse the syscall object's `conns` map (so "a socket of the
 * target" means the same in both objects), load, attach.  While recording:
 * events on the target's sockets from the ring buffer, and once a second
 * the cumulative per-CPU softirq/NAPI totals, host totals and drops by
 * reason.  At the end: drops by (reason, location), with the locations
 * named from /proc/kallsyms here, on the recording host.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/collect/bpfutil.h"
#include "profiler/collect/stager.h"
#include "profiler/collect/collector.h"
#include "profiler/base/ksyms.h"
#include "bpf/netstack.skel.h"
#include "profiler/sources/syscalls.h"
#include "profiler/format/timeline.h"

#define SNAPSHOT_NS 1000000000ull
#define STAGING_EVENTS 256
#define MAX_LOCATIONS 4096

struct netstack {
	struct np_netstack_bpf *skel;
	struct np_stager events;
	int ncpus;
	uint64_t last_snapshot_ns;
	struct np_cpu_net *percpu;
	uint64_t *reasons_percpu;
	bool detached;
	bool softirq_shed;     /* the softirq/NAPI programs were detached early */
	const char *proc_root; /* borrowed from the session's np_config */
};

/* The kernel's drop reason names, so a report elsewhere can print them. */
static int write_reason_names(struct np_writer *w)
{
	const struct btf *btf = np_bpf_kernel_btf();
	struct np_rec_drop_reason *recs;
	const struct btf_type *t;
	const struct btf_enum *e;
	uint32_t n = 0;
	int id, rc;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id <= 0)
		return 0; /* before 5.17: no reasons */
	t = btf__type_by_id(btf, (uint32_t)id);
	recs = calloc(btf_vlen(t), sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	e = btf_enum(t);
	for (uint32_t i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);
		const char *prefix = "SKB_DROP_REASON_";

		if (!name || e->val < 0)
			continue;
		if (!strncmp(name, prefix, strlen(prefix)))
			name += strlen(prefix);
		recs[n].reason = (uint32_t)e->val;
		snprintf(recs[n].name, sizeof(recs[n].name), "%s", name);
		n++;
	}
	rc = n ? np_writer_block(w, NP_BLK_NET_REASONS, sizeof(*recs), recs, n) : 0;
	free(recs);
	return rc;
}

static int snapshot(struct netstack *ns, struct np_writer *w, uint64_t now)
{
	struct np_rec_softirq *cpus = NULL;
	struct np_rec_reason_count *reasons = NULL;
	struct np_rec_net_totals tot = {.ts_ns = now};
	struct np_net_totals *t = NULL;
	uint32_t zero = 0, n_reasons = 0;
	int rc = 0;

	ns->last_snapshot_ns = now;
	cpus = calloc((size_t)ns->ncpus, sizeof(*cpus));
	t = calloc((size_t)ns->ncpus, sizeof(*t));
	reasons = calloc(NP_MAX_DROP_REASONS, sizeof(*reasons));
	if (!cpus || !t || !reasons) {
		rc = -ENOMEM;
		goto out;
	}
	if (!bpf_map_lookup_elem(bpf_map__fd(ns->skel->maps.cpu_net), &zero, ns->percpu)) {
		for (int c = 0; c < ns->ncpus; c++) {
			cpus[c].ts_ns = now;
			cpus[c].cpu = (uint32_t)c;
			cpus[c].rx = ns->percpu[c].rx;
			cpus[c].tx = ns->percpu[c].tx;
			cpus[c].napi = ns->percpu[c].napi;
		}
		rc = np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(*cpus), cpus,
				     (uint32_t)ns->ncpus);
	}
	if (!rc && !bpf_map_lookup_elem(bpf_map__fd(ns->skel->maps.totals), &zero, t)) {
		for (int c = 0; c < ns->ncpus; c++) {
			const uint64_t *src = (const uint64_t *)&t[c];
			uint64_t *dst = (uint64_t *)&tot.t;

			for (size_t i = 0; i < sizeof(tot.t) / sizeof(uint64_t); i++)
				dst[i] += src[i];
		}
		/* every drain ends with the staging array written out */
		tot.writer_drops = ns->events.writer_drops;
		rc = np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(tot), &tot, 1);
	}
	for (uint32_t r = 0; !rc && tot.t.drops && r < NP_MAX_DROP_REASONS; r++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(ns->skel->maps.by_reason), &r,
					ns->reasons_percpu))
			continue;
		for (int c = 0; c < ns->ncpus; c++)
			sum += ns->reasons_percpu[c];
		if (sum)
			reasons[n_reasons++] = (struct np_rec_reason_count){.ts_ns = now,
									    .reason = r,
									    .count = sum};
	}
	if (!rc && n_reasons)
		rc = np_writer_block(w, NP_BLK_NET_REASON_COUNT, sizeof(*reasons), reasons,
				     n_reasons);
out:
	free(cpus);
	free(t);
	free(reasons);
	return rc;
}

/* Drops by (reason, location), named from kallsyms: once, at the end. */
static int write_locations(struct netstack *ns, struct np_writer *w, uint64_t now)
{
	int fd = bpf_map__fd(ns->skel->maps.by_location);
	struct np_rec_net_drop *recs = calloc(MAX_LOCATIONS, sizeof(*recs));
	struct np_drop_key key, next, *prev = NULL;
	struct np_ksyms *ks = NULL;
	uint32_t n = 0;
	int rc = 0;

	if (!recs)
		return -ENOMEM;
	while (n < MAX_LOCATIONS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t count;

		if (bpf_map_lookup_elem(fd, &next, &count) == 0) {
			recs[n].ts_ns = now;
			recs[n].location = next.location;
			recs[n].reason = next.reason;
			recs[n].count = count;
			n++;
		}
		key = next;
		prev = &key;
	}
	if (n && np_ksyms_load(ns->proc_root, &ks) == 0)
		for (uint32_t i = 0; i < n; i++)
			np_ksyms_name(ks, recs[i].location, recs[i].where, sizeof(recs[i].where));
	np_ksyms_free(ks);
	if (n)
		rc = np_writer_block(w, NP_BLK_NET_DROPS, sizeof(*recs), recs, n);
	free(recs);
	return rc;
}

static void ns_destroy(void *state)
{
	struct netstack *ns = state;

	if (!ns)
		return;
	np_stager_fini(&ns->events);
	np_netstack_bpf__destroy(ns->skel);
	free(ns->percpu);
	free(ns->reasons_percpu);
	free(ns);
}

static int ns_init(const struct np_collector_ctx *ctx, struct np_writer *w, void **state, char *err,
		   size_t errlen)
{
	char missing[256] = "";
	struct netstack *ns;
	int conns_fd, nargs, rc;
	bool per_socket;

	if (ctx->cfg->no_netstack) {
		snprintf(err, errlen, "switched off (--no-netstack)");
		return -ENOTSUP;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ns->proc_root = ctx->cfg->proc_root;
	ns->ncpus = libbpf_num_possible_cpus();
	if (ns->ncpus <= 0) {
		snprintf(err, errlen, "cannot count possible CPUs");
		rc = -EINVAL;
		goto fail;
	}
	ns->percpu = calloc((size_t)ns->ncpus, sizeof(*ns->percpu));
	ns->reasons_percpu = calloc((size_t)ns->ncpus, sizeof(uint64_t));
	if (!ns->percpu || !ns->reasons_percpu) {
		rc = -ENOMEM;
		goto fail;
	}
	ns->skel = np_netstack_bpf__open();
	if (!ns->skel) {
		rc = -errno;
		np_bpf_explain("open the kernel stack tracer", rc, err, errlen);
		goto fail;
	}
	/* kfree_skb grew arguments over time: load the variant this kernel has. */
	nargs = np_bpf_tracepoint_args("skb/kfree_skb");
	bpf_program__set_autoload(ns->skel->progs.np_kfree_skb4, nargs >= 4);
	bpf_program__set_autoload(ns->skel->progs.np_kfree_skb3, nargs == 3);
	bpf_program__set_autoload(ns->skel->progs.np_kfree_skb2, nargs == 2);
	if (nargs < 2)
		snprintf(missing, sizeof(missing), "kfree_skb");
	np_bpf_need_tracepoint(ns->skel->progs.np_retransmit, "tcp/tcp_retransmit_skb", missing,
			       sizeof(missing));
	np_bpf_need_tracepoint(ns->skel->progs.np_rcvq_full, "sock/sock_rcvqueue_full", missing,
			       sizeof(missing));
	if (!np_bpf_have_tracepoint("irq/softirq_entry") ||
	    !np_bpf_have_tracepoint("irq/softirq_exit")) {
		bpf_program__set_autoload(ns->skel->progs.np_softirq_entry, false);
		bpf_program__set_autoload(ns->skel->progs.np_softirq_exit, false);
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
			 "%ssoftirq_entry/exit", missing[0] ? ", " : "");
	}
	np_bpf_need_tracepoint(ns->skel->progs.np_napi_poll, "napi/napi_poll", missing,
			       sizeof(missing));
	conns_fd = np_syscalls_conns_fd(ctx->syscalls);
	per_socket = conns_fd >= 0;
	if (per_socket) {
		rc = bpf_map__reuse_fd(ns->skel->maps.conns, conns_fd);
		if (rc) {
			np_bpf_explain("share the connection map", rc, err, errlen);
			goto fail;
		}
	}
	rc = np_netstack_bpf__load(ns->skel);
	if (rc) {
		np_bpf_explain("load the kernel stack tracer", rc, err, errlen);
		goto fail;
	}
	rc = np_netstack_bpf__attach(ns->skel);
	if (rc) {
		np_bpf_explain("attach the kernel stack tracer", rc, err, errlen);
		goto fail;
	}
	rc = np_stager_init(&ns->events, bpf_map__fd(ns->skel->maps.net_events), NP_BLK_NET_EVENTS,
			    sizeof(struct np_net_event), STAGING_EVENTS);
	if (rc) {
		snprintf(err, errlen, "cannot read the kernel stack ring buffer: %s",
			 strerror(-rc));
		goto fail;
	}
	ns->last_snapshot_ns = ctx->start_ns;
	rc = write_reason_names(w);
	if (!rc) {
		if (missing[0] || !per_socket)
			rc = np_writer_source(w, "netstack", NP_SOURCE_DEGRADED, "%s%s%s%s",
					      missing[0] ? "this kernel lacks: " : "", missing,
					      missing[0] && !per_socket ? "; " : "",
					      per_socket
						      ? ""
						      : "no per-socket attribution (needs "
							"sock:sock_recv_length/sock_send_length)");
		else
			rc = np_writer_source(w, "netstack", NP_SOURCE_OK,
					      "kfree_skb (%d args), tcp_retransmit_skb, "
					      "sock_rcvqueue_full, "
					      "softirq_entry/exit, napi_poll",
					      nargs);
	}
	if (rc) {
		snprintf(err, errlen, "cannot write the recording: %s", strerror(-rc));
		goto fail;
	}
	*state = ns;
	return 0;
fail:
	ns_destroy(ns);
	return rc;
}

static int ns_fd(void *state)
{
	return np_stager_fd(&((struct netstack *)state)->events);
}

static int ns_drain(void *state, struct np_writer *w)
{
	return np_stager_drain(&((struct netstack *)state)->events, w);
}

static int ns_poll(void *state, struct np_writer *w, uint64_t now)
{
	struct netstack *ns = state;

	if (now - ns->last_snapshot_ns < SNAPSHOT_NS)
		return 0;
	return snapshot(ns, w, now);
}

static void ns_detach(void *state)
{
	struct netstack *ns = state;

	if (ns->detached)
		return;
	np_netstack_bpf__detach(ns->skel);
	ns->detached = true;
}

static int ns_finish(void *state, struct np_writer *w, uint64_t now)
{
	struct netstack *ns = state;
	int rc;

	ns_drain(ns, w);
	rc = snapshot(ns, w, now);
	if (!rc)
		rc = write_locations(ns, w, now);
	return rc;
}

/* Step NP_SHED_SOFTIRQ: softirq_entry/exit and napi_poll run for every
 * softirq and poll on the host, the target's or not, so under packet load
 * they are this source's main cost.  Detaching them ends the per-CPU
 * NET_RX/NET_TX time and NAPI counts at this moment (their totals so far
 * stay); drops, retransmits and queue-full events go on. */
static int ns_shed(void *state, unsigned step, struct np_shed_change *out, size_t max)
{
	struct netstack *ns = state;
	struct bpf_link **links[] = {&ns->skel->links.np_softirq_entry,
				     &ns->skel->links.np_softirq_exit,
				     &ns->skel->links.np_napi_poll};
	bool any = false;

	if (step != NP_SHED_SOFTIRQ || ns->detached || ns->softirq_shed || !max)
		return 0;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		any |= *links[i] != NULL;
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
	ns->softirq_shed = true;
	if (!any)
		return 0;
	return (int)np_shed_change_add(out, 0, max, "netstack", "softirq_napi_programs", 1, 0);
}

static const char *const ns_sources[] = {"netstack", NULL};

const struct np_collector_ops np_netstack_collector = {
	.name = "kernel stack",
	.init = ns_init,
	.fd = ns_fd,
	.drain = ns_drain,
	.poll = ns_poll,
	.detach = ns_detach,
	.finish = ns_finish,
	.destroy = ns_destroy,
	.shed = ns_shed,
	.sources = ns_sources,
};
