/* netdev.c - the interfaces the target's traffic uses: link statistics,
 * qdisc statistics and driver (ethtool) statistics, plus their rings,
 * offloads and RPS/XPS settings for the configuration snapshot.
 *
 * Which interfaces:
 *   - in the target's namespace, the output interface of a route lookup of
 *     each address its sockets talk to (RTM_GETROUTE per new address), and
 *     the interface of its default route;
 *   - when the target has a namespace of its own: for each veth among
 *     those, the host-side peer in our namespace (matched both ways: its
 *     IFLA_LINK is the target veth's ifindex and its ifindex is the target
 *     veth's IFLA_LINK, and it has a link-netnsid), the bridge it is
 *     enslaved to, and the interface of our default route - the NIC the
 *     traffic finally leaves by.
 * At most MAX_IFACES.
 *
 * Libraries: libnl-route for links (rtnl_link_get_kernel: IFLA_STATS64,
 * carrier changes, queues, kind, master, peer), routes (rtnl_route_parse,
 * rtnl_route_alloc_cache) and qdiscs (a qdisc cache refilled each poll:
 * backlog, drops, overlimits, requeues).  ethtool has no library: SIOCETHTOOL
 * ioctls (GDRVINFO, GSSET_INFO, GSTRINGS, GSTATS, GRINGPARAM, GFEATURES) on
 * an AF_INET socket created in the interface's namespace.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/net/linkstats.h"
#include "profiler/net/netcoll.h"
#include "profiler/base/procfs.h"
#include "profiler/format/timeline.h"

#define MAX_IFACES 16
#define MAX_ETHTOOL_STATS 4096

enum { NS_TARGET = 0, NS_HOST = 1 };

struct nsconn {
	struct nl_sock *rt;      /* NETLINK_ROUTE in that namespace */
	int ioc;                 /* AF_INET socket for SIOCETHTOOL */
	struct nl_cache *qdiscs; /* refilled each poll */
	bool qdisc_failed;
	bool valid;
};

struct iface {
	uint32_t id;
	int ns; /* NS_TARGET or NS_HOST */
	int ifindex;
	char name[IFNAMSIZ];
	char sysfs[300]; /* /sys/class/net/NAME as seen for its namespace, or "" */
	struct np_rec_iface info;
	struct np_rec_link_sample last_link;
	bool have_link;
	uint32_t n_stats;
	uint64_t *stats, *last_stats;
	uint32_t *changed; /* scratch: indexes of the stats to write this poll */
	bool have_stats;
	struct np_rec_qdisc_sample *last_q;
	uint32_t n_q;
};

struct np_netdev {
	const struct np_netns *ns; /* borrowed from the network collector */
	char proc_root[256];
	pid_t pid;
	struct nsconn conn[2];
	struct iface ifs[MAX_IFACES];
	uint32_t n_ifs;
	unsigned int generation;
	struct np_peer_addr looked_up[256];
	uint32_t n_looked_up;
	uint64_t now_ns;
	/* scratch for one poll */
	struct np_rec_ethtool_sample *es;
	uint32_t n_es;
	size_t cap_es;
	struct np_rec_qdisc_sample qs[64];
	uint32_t n_qs;
	int qdisc_ns;        /* the namespace whose qdisc cache is being walked */
	struct np_writer *w; /* borrowed from the session, during a poll only */
};

/* ---- ethtool ---- */

static int ethtool(int fd, const char *name, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static int sset_count(int fd, const char *name, uint32_t set)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t buf[1];
	} s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.hdr.cmd = ETHTOOL_GSSET_INFO;
	s.hdr.sset_mask = 1ull << set;
	rc = ethtool(fd, name, &s);
	if (rc)
		return rc;
	if (!(s.hdr.sset_mask & (1ull << set)))
		return 0;
	return s.buf[0] > MAX_ETHTOOL_STATS ? MAX_ETHTOOL_STATS : (int)s.buf[0];
}

/* Names of string set `set`, n of them, ETH_GSTRING_LEN each. */
static char *get_strings(int fd, const char *name, uint32_t set, uint32_t n)
{
	struct ethtool_gstrings *g = calloc(1, sizeof(*g) + (size_t)n * ETH_GSTRING_LEN);
	char *names;

	if (!g)
		return NULL;
	g->cmd = ETHTOOL_GSTRINGS;
	g->string_set = set;
	g->len = n;
	if (ethtool(fd, name, g) || g->len != n) {
		free(g);
		return NULL;
	}
	names = malloc((size_t)n * ETH_GSTRING_LEN);
	if (names) {
		memcpy(names, g->data, (size_t)n * ETH_GSTRING_LEN);
		for (uint32_t i = 0; i < n; i++)
			names[(size_t)i * ETH_GSTRING_LEN + ETH_GSTRING_LEN - 1] = '\0';
	}
	free(g);
	return names;
}

static int load_stat_names(struct np_netdev *d, struct iface *f, struct np_writer *w)
{
	int fd = d->conn[f->ns].ioc;
	int n = sset_count(fd, f->name, ETH_SS_STATS);
	struct np_rec_ethtool_name *recs;
	char *names;
	int rc = 0;

	free(f->stats);
	free(f->last_stats);
	free(f->changed);
	f->stats = f->last_stats = NULL;
	f->changed = NULL;
	f->n_stats = 0;
	f->have_stats = false;
	if (n <= 0)
		return n < 0 ? n : -EOPNOTSUPP;
	names = get_strings(fd, f->name, ETH_SS_STATS, (uint32_t)n);
	f->stats = calloc((size_t)n + 1, sizeof(uint64_t));
	f->last_stats = calloc((size_t)n + 1, sizeof(uint64_t));
	f->changed = calloc((size_t)n + 1, sizeof(uint32_t));
	recs = calloc((size_t)n, sizeof(*recs));
	if (!names || !f->stats || !f->last_stats || !f->changed || !recs) {
		free(names);
		free(recs);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		recs[i].id = f->id;
		recs[i].index = (uint32_t)i;
		memcpy(recs[i].name, names + (size_t)i * ETH_GSTRING_LEN, sizeof(recs[i].name));
		recs[i].name[sizeof(recs[i].name) - 1] = '\0';
	}
	rc = np_writer_block(w, NP_BLK_ETHTOOL_NAME, sizeof(*recs), recs, (uint32_t)n);
	f->n_stats = (uint32_t)n;
	free(names);
	free(recs);
	return rc;
}

static int read_stats(struct np_netdev *d, struct iface *f)
{
	struct ethtool_stats *st;
	int rc;

	st = calloc(1, sizeof(*st) + (size_t)f->n_stats * sizeof(uint64_t));
	if (!st)
		return -ENOMEM;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = f->n_stats;
	rc = ethtool(d->conn[f->ns].ioc, f->name, st);
	if (!rc && st->n_stats != f->n_stats)
		rc = -EAGAIN;
	if (!rc)
		memcpy(f->stats, st->data, (size_t)f->n_stats * sizeof(uint64_t));
	free(st);
	return rc;
}

static void config_ethtool(struct np_netdev *d, struct iface *f, struct np_conf *c)
{
	int fd = d->conn[f->ns].ioc;
	struct ethtool_ringparam ring = {.cmd = ETHTOOL_GRINGPARAM};
	char key[96];
	int nfeat;

	snprintf(key, sizeof(key), "if.%u.driver", f->id);
	np_conf_put(c, key, f->info.driver);
	if (!ethtool(fd, f->name, &ring)) {
		snprintf(key, sizeof(key), "if.%u.ring.rx", f->id);
		np_conf_putf(c, key, "%u", ring.rx_pending);
		snprintf(key, sizeof(key), "if.%u.ring.rx_max", f->id);
		np_conf_putf(c, key, "%u", ring.rx_max_pending);
		snprintf(key, sizeof(key), "if.%u.ring.tx", f->id);
		np_conf_putf(c, key, "%u", ring.tx_pending);
		snprintf(key, sizeof(key), "if.%u.ring.tx_max", f->id);
		np_conf_putf(c, key, "%u", ring.tx_max_pending);
	}
	nfeat = sset_count(fd, f->name, ETH_SS_FEATURES);
	if (nfeat > 0) {
		uint32_t blocks = ((uint32_t)nfeat + 31) / 32;
		struct ethtool_gfeatures *gf =
			calloc(1, sizeof(*gf) + blocks * sizeof(struct ethtool_get_features_block));
		char *names = get_strings(fd, f->name, ETH_SS_FEATURES, (uint32_t)nfeat);

		if (gf && names) {
			gf->cmd = ETHTOOL_GFEATURES;
			gf->size = blocks;
			if (!ethtool(fd, f->name, gf)) {
				for (int i = 0; i < nfeat; i++) {
					const struct ethtool_get_features_block *b =
						&gf->features[i / 32];
					uint32_t bit = 1u << (i % 32);
					const char *fname = names + (size_t)i * ETH_GSTRING_LEN;

					if (!(b->available & bit) && !(b->active & bit))
						continue; /* not this device's */
					snprintf(key, sizeof(key), "if.%u.feature.%.32s", f->id,
						 fname);
					np_conf_put(c, key,
						    (b->active & bit)
							    ? ((b->available & bit) ? "on"
										    : "on [fixed]")
							    : ((b->available & bit)
								       ? "off"
								       : "off [fixed]"));
				}
			}
		}
		free(gf);
		free(names);
	}
}

/* ---- rps/xps: /sys/class/net/NAME/queues ---- */

static void config_queues(struct iface *f, struct np_conf *c)
{
	char path[400], buf[256], key[96];

	if (!f->sysfs[0])
		return;
	for (int tx = 0; tx < 2; tx++) {
		uint32_t nq = tx ? f->info.num_tx_queues : f->info.num_rx_queues;

		for (uint32_t q = 0; q < nq && q < 64; q++) {
			static const char *const rxfiles[] = {"rps_cpus", "rps_flow_cnt"};
			static const char *const txfiles[] = {"xps_cpus", "xps_rxqs"};
			const char *const *files = tx ? txfiles : rxfiles;

			for (int k = 0; k < 2; k++) {
				long n;

				snprintf(path, sizeof(path), "%s/queues/%s-%u/%s", f->sysfs,
					 tx ? "tx" : "rx", q, files[k]);
				n = np_read_text("", path, buf, sizeof(buf));
				if (n < 0)
					continue;
				while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
					buf[--n] = '\0';
				snprintf(key, sizeof(key), "if.%u.%s-%u.%s", f->id,
					 tx ? "tx" : "rx", q, files[k]);
				np_conf_put(c, key, buf);
				if (k == 0) {
					int cnt = np_cpumask_count(buf);

					snprintf(key, sizeof(key), "if.%u.%s-%u.%s.cpus", f->id,
						 tx ? "tx" : "rx", q, files[k]);
					np_conf_putf(c, key, "%d", cnt < 0 ? 0 : cnt);
				}
			}
		}
	}
}

/* ---- links ---- */

static struct iface *find_iface(struct np_netdev *d, int ns, int ifindex)
{
	for (uint32_t i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].ns == ns && d->ifs[i].ifindex == ifindex)
			return &d->ifs[i];
	return NULL;
}

/* /sys/class/net shows the namespace sysfs was mounted in: ours for host
 * interfaces; for the target's, its own mount (an `ip netns exec` or a
 * container mounts one) if the ifindex there matches. */
static void find_sysfs(struct np_netdev *d, struct iface *f)
{
	char path[400], dir[sizeof(f->sysfs)], buf[32], name[IFNAMSIZ];
	uint64_t idx;

	memcpy(name, f->name, sizeof(name));
	f->sysfs[0] = '\0';
	if (f->ns == NS_HOST || d->ns->same) {
		snprintf(dir, sizeof(dir), "%s/sys/class/net/%s", d->proc_root, name);
		memcpy(f->sysfs, dir, sizeof(dir));
		return;
	}
	snprintf(dir, sizeof(dir), "%s/proc/%d/root/sys/class/net/%s", d->proc_root, (int)d->pid,
		 name);
	snprintf(path, sizeof(path), "%s/ifindex", dir);
	if (np_read_text("", path, buf, sizeof(buf)) > 0 && !np_parse_u64_text(buf, &idx) &&
	    idx == (uint64_t)f->ifindex)
		memcpy(f->sysfs, dir, sizeof(dir));
}

static struct iface *add_iface(struct np_netdev *d, struct np_writer *w, int ns, int ifindex,
			       uint32_t role)
{
	struct iface *f = find_iface(d, ns, ifindex);
	struct rtnl_link *l = NULL;
	struct ethtool_drvinfo drv = {.cmd = ETHTOOL_GDRVINFO};
	struct np_conf c = {0};
	char key[64];
	const char *type;

	if (f) {
		f->info.role |= role;
		return f;
	}
	if (d->n_ifs == MAX_IFACES || !d->conn[ns].valid || ifindex <= 0)
		return NULL;
	if (rtnl_link_get_kernel(d->conn[ns].rt, ifindex, NULL, &l) < 0 || !l)
		return NULL;
	f = &d->ifs[d->n_ifs];
	memset(f, 0, sizeof(*f));
	f->id = d->n_ifs;
	f->ns = ns;
	f->ifindex = ifindex;
	snprintf(f->name, sizeof(f->name), "%s", rtnl_link_get_name(l) ?: "");
	f->info.ts_ns = d->now_ns;
	f->info.id = f->id;
	f->info.ifindex = ifindex;
	f->info.role = role | (ns == NS_TARGET ? NP_IF_TARGET_NS : 0);
	f->info.netns_ino = ns == NS_TARGET ? d->ns->target_ino : d->ns->self_ino;
	f->info.flags = rtnl_link_get_flags(l);
	f->info.mtu = rtnl_link_get_mtu(l);
	f->info.txqlen = rtnl_link_get_txqlen(l);
	f->info.num_rx_queues = rtnl_link_get_num_rx_queues(l);
	f->info.num_tx_queues = rtnl_link_get_num_tx_queues(l);
	f->info.peer_ifindex = rtnl_link_get_link(l);
	f->info.master_ifindex = rtnl_link_get_master(l);
	type = rtnl_link_get_type(l);
	snprintf(f->info.kind, sizeof(f->info.kind), "%s", type ? type : "");
	memcpy(f->info.name, f->name, sizeof(f->info.name));
	snprintf(f->info.netns, sizeof(f->info.netns), "%s", ns == NS_TARGET ? "target" : "host");
	if (!ethtool(d->conn[ns].ioc, f->name, &drv))
		snprintf(f->info.driver, sizeof(f->info.driver), "%s", drv.driver);
	rtnl_link_put(l);
	f->info.ethtool_err = load_stat_names(d, f, w);
	f->info.n_ethtool = f->n_stats;
	find_sysfs(d, f);
	d->n_ifs++;
	d->generation++;
	np_writer_block(w, NP_BLK_IFACE, sizeof(f->info), &f->info, 1);

	snprintf(key, sizeof(key), "if.%u.name", f->id);
	np_conf_put(&c, key, f->name);
	snprintf(key, sizeof(key), "if.%u.netns", f->id);
	np_conf_put(&c, key, f->info.netns);
	snprintf(key, sizeof(key), "if.%u.sysfs", f->id);
	np_conf_put(&c, key, f->sysfs[0] ? "yes" : "not visible from netprof's mount namespace");
	config_ethtool(d, f, &c);
	config_queues(f, &c);
	np_conf_flush(&c, w);
	return f;
}

/* ---- routes ---- */

struct route_ctx {
	int ifindex;
};

static int on_route(struct nl_msg *msg, void *arg)
{
	struct route_ctx *rc = arg;
	struct rtnl_route *r = NULL;
	struct rtnl_nexthop *nh;

	if (rtnl_route_parse(nlmsg_hdr(msg), &r) < 0 || !r)
		return NL_SKIP;
	nh = rtnl_route_get_nnexthops(r) > 0 ? rtnl_route_nexthop_n(r, 0) : NULL;
	if (nh && rc->ifindex <= 0)
		rc->ifindex = rtnl_route_nh_get_ifindex(nh);
	rtnl_route_put(r);
	return NL_OK;
}

/* The output interface for `addr` (RTM_GETROUTE), or -errno. */
static int route_lookup(struct nl_sock *sk, uint8_t family, const uint8_t *addr)
{
	struct rtmsg rtm = {.rtm_family = family, .rtm_dst_len = family == AF_INET ? 32 : 128};
	struct route_ctx ctx = {.ifindex = -ENOENT};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	int rc;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, family == AF_INET ? 4 : 16, addr) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_route, &ctx);
	rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (rc < 0)
		return -EIO;
	rc = nl_recvmsgs_default(sk);
	if (rc < 0)
		return -ENETUNREACH;
	return ctx.ifindex;
}

/* The interface of the main table's default route, IPv4 first. */
static int default_route_ifindex(struct nl_sock *sk)
{
	int families[] = {AF_INET, AF_INET6};

	for (int i = 0; i < 2; i++) {
		struct nl_cache *cache = NULL;
		int found = -ENOENT;

		if (rtnl_route_alloc_cache(sk, families[i], 0, &cache) < 0)
			continue;
		for (struct nl_object *o = nl_cache_get_first(cache); o && found < 0;
		     o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			struct nl_addr *dst = rtnl_route_get_dst(r);

			if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
			    rtnl_route_get_type(r) != RTN_UNICAST)
				continue;
			if (dst && nl_addr_get_prefixlen(dst) != 0)
				continue;
			if (rtnl_route_get_nnexthops(r) > 0)
				found = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
		}
		nl_cache_free(cache);
		if (found > 0)
			return found;
	}
	return -ENOENT;
}

struct peer_match {
	int target_ifindex, target_link;
	int found;
};

static void match_veth_peer(struct nl_object *o, void *arg)
{
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct peer_match *m = arg;
	int32_t nsid;

	if (m->found > 0)
		return;
	if (rtnl_link_get_link(l) == m->target_ifindex &&
	    rtnl_link_get_ifindex(l) == m->target_link && !rtnl_link_get_link_netnsid(l, &nsid))
		m->found = rtnl_link_get_ifindex(l);
}

/* The host side of a veth of the target's, with what stands behind it. */
static void add_host_side(struct np_netdev *d, struct np_writer *w, struct iface *tv)
{
	struct nl_cache *links = NULL;
	struct peer_match m = {.target_ifindex = tv->ifindex,
			       .target_link = tv->info.peer_ifindex,
			       .found = -1};
	struct iface *peer;
	int def;

	if (d->ns->same || !d->conn[NS_HOST].valid || strcmp(tv->info.kind, "veth"))
		return;
	if (rtnl_link_alloc_cache(d->conn[NS_HOST].rt, AF_UNSPEC, &links) < 0)
		return;
	nl_cache_foreach(links, match_veth_peer, &m);
	nl_cache_free(links);
	if (m.found <= 0)
		return;
	peer = add_iface(d, w, NS_HOST, m.found, NP_IF_VETH_PEER);
	if (peer && peer->info.master_ifindex > 0)
		add_iface(d, w, NS_HOST, peer->info.master_ifindex, NP_IF_MASTER);
	def = default_route_ifindex(d->conn[NS_HOST].rt);
	if (def > 0)
		add_iface(d, w, NS_HOST, def, NP_IF_DEFAULT);
}

void np_netdev_add_peers(struct np_netdev *d, struct np_writer *w, uint64_t now_ns,
			 const struct np_peer_addr *peers, size_t n)
{
	d->now_ns = now_ns;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		struct iface *f;
		int ifindex;

		for (uint32_t k = 0; k < d->n_looked_up && !seen; k++)
			seen = !memcmp(&d->looked_up[k], &peers[i], sizeof(peers[i]));
		if (seen || d->n_looked_up == sizeof(d->looked_up) / sizeof(d->looked_up[0]))
			continue;
		d->looked_up[d->n_looked_up++] = peers[i];
		ifindex = route_lookup(d->conn[NS_TARGET].rt, peers[i].family, peers[i].addr);
		if (ifindex <= 0)
			continue;
		f = add_iface(d, w, NS_TARGET, ifindex, NP_IF_ROUTE);
		if (f)
			add_host_side(d, w, f);
	}
}

/* ---- qdiscs ---- */

static void on_qdisc(struct nl_object *o, void *arg)
{
	struct np_netdev *d = arg;
	struct rtnl_tc *tc = (struct rtnl_tc *)o;
	struct np_rec_qdisc_sample *q;
	struct iface *f = find_iface(d, d->qdisc_ns, rtnl_tc_get_ifindex(tc));

	if (!f || d->n_qs >= sizeof(d->qs) / sizeof(d->qs[0]))
		return;
	q = &d->qs[d->n_qs++];
	np_qdisc_sample_fill(tc, q);
	q->ts_ns = d->now_ns;
	q->id = f->id;
}

static int poll_qdiscs(struct np_netdev *d, struct np_writer *w, int ns)
{
	struct nsconn *c = &d->conn[ns];
	struct np_rec_qdisc_sample out[64];
	uint32_t n = 0;
	bool any = false;

	for (uint32_t i = 0; i < d->n_ifs; i++)
		any |= d->ifs[i].ns == ns;
	if (!any || !c->valid || c->qdisc_failed)
		return 0;
	if (!c->qdiscs) {
		if (rtnl_qdisc_alloc_cache(c->rt, &c->qdiscs) < 0) {
			c->qdisc_failed = true;
			return -EIO;
		}
	} else if (nl_cache_refill(c->rt, c->qdiscs) < 0) {
		return -EIO;
	}
	d->n_qs = 0;
	d->qdisc_ns = ns;
	nl_cache_foreach(c->qdiscs, on_qdisc, d);
	for (uint32_t i = 0; i < d->n_qs; i++)
		if (np_qdisc_track(&d->ifs[d->qs[i].id].last_q, &d->ifs[d->qs[i].id].n_q,
				   &d->qs[i]))
			out[n++] = d->qs[i];
	return n ? np_writer_block(w, NP_BLK_QDISC_SAMPLE, sizeof(out[0]), out, n) : 0;
}

/* ---- poll ---- */

static void queue_es(struct np_netdev *d, uint32_t id, uint32_t index, uint64_t v)
{
	if (NP_GROW(d->es, d->cap_es, (size_t)d->n_es + 1))
		return;
	d->es[d->n_es++] = (struct np_rec_ethtool_sample){.ts_ns = d->now_ns,
							  .id = id,
							  .index = index,
							  .value = v};
}

int np_netdev_poll(struct np_netdev *d, struct np_writer *w, uint64_t now_ns)
{
	struct np_rec_link_sample links[MAX_IFACES];
	uint32_t n_links = 0, n_idx;
	int rc = 0;

	d->now_ns = now_ns;
	d->n_es = 0;
	for (uint32_t i = 0; i < d->n_ifs; i++) {
		struct iface *f = &d->ifs[i];
		struct rtnl_link *l = NULL;
		struct np_rec_link_sample s = {.ts_ns = now_ns, .id = f->id};

		if (rtnl_link_get_kernel(d->conn[f->ns].rt, f->ifindex, NULL, &l) >= 0 && l) {
			np_link_sample_fill(l, &s);
			rtnl_link_put(l);
			if (!f->have_link || np_link_sample_changed(&s, &f->last_link))
				links[n_links++] = s;
			f->last_link = s;
			f->have_link = true;
		}
		if (f->n_stats) {
			int r = read_stats(d, f);

			if (r == -EAGAIN) {
				/* the driver's list changed (queues added): re-read it */
				load_stat_names(d, f, w);
				continue;
			}
			if (r)
				continue;
			n_idx = np_ethtool_changed(f->stats, f->last_stats, f->n_stats,
						   f->have_stats, f->changed);
			for (uint32_t k = 0; k < n_idx; k++)
				queue_es(d, f->id, f->changed[k], f->stats[f->changed[k]]);
			memcpy(f->last_stats, f->stats, (size_t)f->n_stats * sizeof(uint64_t));
			f->have_stats = true;
		}
	}
	if (n_links)
		rc = np_writer_block(w, NP_BLK_LINK_SAMPLE, sizeof(links[0]), links, n_links);
	if (d->n_es && !rc)
		rc = np_writer_block(w, NP_BLK_ETHTOOL_SAMPLE, sizeof(*d->es), d->es, d->n_es);
	poll_qdiscs(d, w, NS_TARGET);
	if (!d->ns->same)
		poll_qdiscs(d, w, NS_HOST);
	return rc;
}

void np_netdev_for_each(struct np_netdev *d, np_netdev_iface_cb cb, void *arg)
{
	for (uint32_t i = 0; i < d->n_ifs; i++)
		cb(d->ifs[i].id, d->ifs[i].name, d->ifs[i].ns == NS_TARGET && !d->ns->same,
		   d->ifs[i].sysfs, arg);
}

unsigned int np_netdev_generation(const struct np_netdev *d)
{
	return d->generation;
}

static int open_conn(struct nsconn *c)
{
	int rc;

	c->ioc = -1;
	c->rt = nl_socket_alloc();
	if (!c->rt)
		return -ENOMEM;
	rc = nl_connect(c->rt, NETLINK_ROUTE);
	if (rc < 0)
		return -EPERM;
	/* A route lookup gets one reply; an ACK after it would be read by
	 * the next request on this socket. */
	nl_socket_disable_auto_ack(c->rt);
	c->ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->ioc < 0)
		c->ioc = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c->valid = true;
	return 0;
}

static void close_conn(struct nsconn *c)
{
	if (c->qdiscs)
		nl_cache_free(c->qdiscs);
	if (c->rt)
		nl_socket_free(c->rt);
	if (c->ioc >= 0)
		close(c->ioc);
	memset(c, 0, sizeof(*c));
	c->ioc = -1;
}

int np_netdev_init(const struct np_netns *ns, const char *proc_root, pid_t pid, struct np_writer *w,
		   uint64_t now_ns, struct np_netdev **out, char *err, size_t errlen)
{
	struct np_netdev *d = calloc(1, sizeof(*d));
	int rc, def;

	if (!d)
		return -ENOMEM;
	d->ns = ns;
	d->pid = pid;
	d->now_ns = now_ns;
	d->conn[0].ioc = d->conn[1].ioc = -1;
	snprintf(d->proc_root, sizeof(d->proc_root), "%s", proc_root);
	rc = np_netns_enter(ns);
	if (!rc) {
		rc = open_conn(&d->conn[NS_TARGET]);
		np_netns_leave(ns);
	}
	if (rc) {
		snprintf(err, errlen, "cannot open rtnetlink in the target's namespace: %s",
			 strerror(-rc));
		np_netdev_free(d);
		return rc;
	}
	if (!ns->same && open_conn(&d->conn[NS_HOST]))
		close_conn(&d->conn[NS_HOST]);
	/* The target's default route: its most likely way out before any
	 * peer is known. */
	def = default_route_ifindex(d->conn[NS_TARGET].rt);
	if (def > 0) {
		struct iface *f = add_iface(d, w, NS_TARGET, def, NP_IF_DEFAULT);

		if (f)
			add_host_side(d, w, f);
	}
	*out = d;
	return 0;
}

void np_netdev_free(struct np_netdev *d)
{
	if (!d)
		return;
	for (int i = 0; i < 2; i++)
		close_conn(&d->conn[i]);
	for (uint32_t i = 0; i < d->n_ifs; i++) {
		free(d->ifs[i].stats);
		free(d->ifs[i].last_stats);
		free(d->ifs[i].changed);
		free(d->ifs[i].last_q);
	}
	free(d->es);
	free(d);
}
