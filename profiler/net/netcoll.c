/* netcoll.c - the network collector: sockets, interfaces, host counters
 * and configuration on the poll timer (see netcoll.h for the parts).
 *
 * Each poll runs the three parts in turn on the session's thread and
 * records what the poll cost, in CPU time of this thread (kernel time on
 * our behalf included), in an np_rec_net_poll: the overhead of the source
 * is measured on every run, not only in a benchmark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profiler/collect/collector.h"
#include "profiler/net/netcoll.h"
#include "profiler/format/timeline.h"

#define MAX_SOCKETS 16384

struct netcoll {
	const struct np_config *cfg; /* borrowed from the session */
	struct np_netns ns;
	struct np_sockdiag *sock;
	struct np_netdev *dev;
	struct np_host *host;
	bool verbose;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int poll_all(struct netcoll *c, struct np_writer *w, uint64_t now_ns);

static void destroy(void *state)
{
	struct netcoll *c = state;

	if (!c)
		return;
	np_sockdiag_free(c->sock);
	np_netdev_free(c->dev);
	np_host_free(c->host);
	np_netns_close(&c->ns);
	free(c);
}

static int init(const struct np_collector_ctx *ctx, struct np_writer *w, void **state, char *err,
		size_t errlen)
{
	struct netcoll *c = calloc(1, sizeof(*c));
	struct np_sockdiag_cfg scfg;
	char why[256], miss[200];
	int rc, n;

	if (!c)
		return -ENOMEM;
	c->cfg = ctx->cfg;
	rc = np_netns_open(ctx->cfg->proc_root, ctx->cfg->pid, &c->ns, err, errlen);
	if (rc) {
		free(c);
		return rc;
	}

	scfg = (struct np_sockdiag_cfg){.proc_root = ctx->cfg->proc_root,
					.pid = ctx->cfg->pid,
					.targets = ctx->cfg->targets,
					.max_sockets = MAX_SOCKETS,
					.poll_ns = (uint64_t)ctx->cfg->poll_ms * 1000000ull};
	/* For tests and troubleshooting: the fallback on any kernel. */
	const char *fds = getenv("NETPROF_SOCKET_FDS");

	scfg.fds_from_proc = fds && !strcmp(fds, "proc");
	why[0] = '\0';
	rc = np_sockdiag_init(&scfg, &c->ns, &c->sock, why, sizeof(why));
	if (rc)
		np_writer_source(w, "sockets", NP_SOURCE_UNAVAILABLE, "%s",
				 why[0] ? why : strerror(-rc));
	else if (!np_sockdiag_fd_source(c->sock)[0])
		np_writer_source(
			w, "sockets", NP_SOURCE_OK,
			"NETLINK_SOCK_DIAG in the target's network namespace%s (net:[%llu]): "
			"queues, tcp_info, socket memory; fd table read with a BPF iterator; "
			"up to %u sockets",
			c->ns.same ? "" : ", entered with setns",
			(unsigned long long)c->ns.target_ino, MAX_SOCKETS);
	else
		np_writer_source(w, "sockets", NP_SOURCE_OK,
				 "NETLINK_SOCK_DIAG in the target's network namespace%s "
				 "(net:[%llu]): "
				 "queues, tcp_info, socket memory; fd table read from /proc, new "
				 "sockets seen within a second (%s); up to %u sockets",
				 c->ns.same ? "" : ", entered with setns",
				 (unsigned long long)c->ns.target_ino,
				 np_sockdiag_fd_source(c->sock), MAX_SOCKETS);

	why[0] = '\0';
	rc = np_netdev_init(&c->ns, ctx->cfg->proc_root, ctx->cfg->pid, w, ctx->start_ns, &c->dev,
			    why, sizeof(why));
	if (rc)
		np_writer_source(w, "nic", NP_SOURCE_UNAVAILABLE, "%s",
				 why[0] ? why : strerror(-rc));
	else
		np_writer_source(w, "nic", NP_SOURCE_OK,
				 "rtnetlink link stats64 and qdisc stats (libnl-route), ethtool "
				 "driver statistics (SIOCETHTOOL) of the interfaces the target's "
				 "traffic uses");

	why[0] = '\0';
	rc = np_host_init(&c->ns, ctx->cfg->proc_root, ctx->cfg->pid, w, ctx->start_ns, &c->host,
			  why, sizeof(why));
	if (rc) {
		np_writer_source(w, "softirq", NP_SOURCE_UNAVAILABLE, "%s",
				 why[0] ? why : strerror(-rc));
		np_writer_source(w, "tcp_counters", NP_SOURCE_UNAVAILABLE, "%s",
				 why[0] ? why : strerror(-rc));
		np_writer_source(w, "net_config", NP_SOURCE_UNAVAILABLE, "%s",
				 why[0] ? why : strerror(-rc));
	} else {
		n = np_host_status(c->host, false, miss, sizeof(miss));
		/* Per-CPU NET_RX/NET_TX time needs the softirq tracepoints,
		 * which the netstack source attaches (and reports on): without
		 * it, say what is missing. */
		np_writer_source(w, "softirq",
				 n || ctx->cfg->no_netstack ? NP_SOURCE_DEGRADED : NP_SOURCE_OK,
				 "softnet_stat, softirqs, /proc/stat softirq time, NIC IRQs%s%s; "
				 "NET_RX/NET_TX time per CPU %s",
				 n ? "; missing: " : "", n ? miss : "",
				 ctx->cfg->no_netstack
					 ? "not measured (--no-netstack)"
					 : "from the netstack source's softirq tracepoints");
		n = np_host_status(c->host, true, miss, sizeof(miss));
		np_writer_source(w, "tcp_counters", n ? NP_SOURCE_DEGRADED : NP_SOURCE_OK,
				 "snmp, netstat and conntrack of the target's namespace%s%s",
				 n ? "; missing: " : "", n ? miss : "");
		np_writer_source(w, "net_config", NP_SOURCE_OK,
				 "sysctls, rings, offloads, RPS/XPS, IRQ affinity, listen "
				 "backlogs");
	}
	if (!c->sock && !c->dev && !c->host) {
		snprintf(err, errlen, "no network source could start");
		destroy(c);
		return -ENODEV;
	}
	c->verbose = ctx->cfg->verbose > 0;
	/* The baseline: counters that move before the first timer tick
	 * count from the start of the window. */
	poll_all(c, w, ctx->start_ns);
	*state = c;
	return 0;
}

static int poll_all(struct netcoll *c, struct np_writer *w, uint64_t now_ns)

{
	struct np_rec_net_poll p = {.ts_ns = now_ns};
	uint64_t wall0 = clock_ns(CLOCK_MONOTONIC), t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), t1, t2,
		 t3;

	if (c->sock)
		np_sockdiag_poll(c->sock, w, now_ns, &p);
	t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (c->dev) {
		struct np_peer_addr peers[32];
		size_t n;

		if (c->sock)
			while ((n = np_sockdiag_new_peers(c->sock, peers, 32)) > 0)
				np_netdev_add_peers(c->dev, w, now_ns, peers, n);
		np_netdev_poll(c->dev, w, now_ns);
	}
	t2 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (c->host) {
		np_host_set_ifaces(c->host, w, now_ns, c->dev);
		np_host_poll(c->host, w, now_ns);
	}
	t3 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	p.sock_cpu_ns = t1 - t0;
	p.nic_cpu_ns = t2 - t1;
	p.host_cpu_ns = t3 - t2;
	p.wall_ns = clock_ns(CLOCK_MONOTONIC) - wall0;
	return np_writer_block(w, NP_BLK_NET_POLL, sizeof(p), &p, 1);
}

static int poll(void *state, struct np_writer *w, uint64_t now_ns)
{
	return poll_all(state, w, now_ns);
}

/* A last poll at the end of the window, then every socket's summary. */
static int finish(void *state, struct np_writer *w, uint64_t now_ns)
{
	struct netcoll *c = state;
	int rc = poll_all(c, w, now_ns);

	if (c->sock) {
		int r = np_sockdiag_finish(c->sock, w, now_ns);

		if (r && !rc)
			rc = r;
	}
	return rc;
}

static const char *const sources[] = {"sockets",      "nic",        "softirq",
				      "tcp_counters", "net_config", NULL};

const struct np_collector_ops np_net_collector = {
	.name = "network",
	.init = init,
	.poll = poll,
	.finish = finish,
	.destroy = destroy,
	.sources = sources,
};
