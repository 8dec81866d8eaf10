/* netcoll.h - the parts of the network collector (netcoll.c).
 *
 * One collector, three parts that fail independently:
 *   sockdiag.c     the target's sockets over NETLINK_SOCK_DIAG ("sockets")
 *   netdev.c       the interfaces its traffic uses: rtnetlink link stats and
 *                  qdiscs (libnl-route), ethtool driver statistics ("nic")
 *   hostcounters.c /proc softnet, softirqs, interrupts, stat, snmp, netstat,
 *                  conntrack ("softirq", "tcp_counters") and the
 *                  configuration snapshot ("net_config")
 * They share the handle on the target's network namespace (np_netns): every
 * netlink or ioctl socket that must see the target's namespace is created
 * inside it once, at init, and reused for every poll, because a socket stays
 * bound to the namespace it was created in.  setns() changes only the
 * calling thread, and netprof polls on one thread.
 *
 * Nothing here prints; failures become source statuses.
 */
#ifndef NP_NETCOLL_H
#define NP_NETCOLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profiler/net/netparse.h"
#include "profiler/format/kvtext.h"
#include "profiler/format/recording.h"
#include "profiler/collect/targets.h"

struct np_netns {
	int self_fd;   /* our own namespace, to come back to */
	int target_fd; /* the target's; -1 when it is ours */
	uint64_t self_ino, target_ino;
	bool same;
};

/* Opens /proc/PID/ns/net.  A target in our own namespace needs no setns
 * and so no CAP_SYS_ADMIN. */
int np_netns_open(const char *proc_root, pid_t pid, struct np_netns *ns, char *err, size_t errlen);
/* Switch this thread to the target's namespace and back.  Both are no-ops
 * when the namespaces are the same. */
int np_netns_enter(const struct np_netns *ns);
int np_netns_leave(const struct np_netns *ns);
void np_netns_close(struct np_netns *ns);

/* An address a target socket talks to, for route lookups (netdev.c). */
struct np_peer_addr {
	uint8_t family;
	uint8_t addr[16];
};

struct np_sockdiag;
struct np_sockdiag_cfg {
	const char *proc_root;
	pid_t pid;
	uint32_t max_sockets; /* tracked at once; more are counted as skipped */
	uint64_t poll_ns;     /* the poll period */
	bool fds_from_proc;   /* read /proc/PID/fd even where the BPF iterator works */
	/* A service: the fd tables of all its processes (the BPF iterator walks
	 * every task, filtered by the shared target map); NULL: pid alone. */
	const struct np_targetset *targets;
};
int np_sockdiag_init(const struct np_sockdiag_cfg *cfg, const struct np_netns *ns,
		     struct np_sockdiag **out, char *err, size_t errlen);
/* One poll; fills the aggregate fields of *poll. */
struct np_rec_net_poll;
int np_sockdiag_poll(struct np_sockdiag *s, struct np_writer *w, uint64_t now_ns,
		     struct np_rec_net_poll *poll);
int np_sockdiag_finish(struct np_sockdiag *s, struct np_writer *w, uint64_t now_ns);
/* Addresses of the target's peers seen since the last call (local and
 * remote ends of its sockets), for interface discovery.  Returns how many
 * were copied (at most max). */
size_t np_sockdiag_new_peers(struct np_sockdiag *s, struct np_peer_addr *out, size_t max);
/* "" when the target's fd table is read with the BPF iterator, else why
 * /proc/PID/fd is read instead. */
const char *np_sockdiag_fd_source(const struct np_sockdiag *s);
void np_sockdiag_free(struct np_sockdiag *s);

struct np_netdev;
int np_netdev_init(const struct np_netns *ns, const char *proc_root, pid_t pid, struct np_writer *w,
		   uint64_t now_ns, struct np_netdev **out, char *err, size_t errlen);
/* Route lookups for new peer addresses; new interfaces are added. */
void np_netdev_add_peers(struct np_netdev *d, struct np_writer *w, uint64_t now_ns,
			 const struct np_peer_addr *peers, size_t n);
int np_netdev_poll(struct np_netdev *d, struct np_writer *w, uint64_t now_ns);
/* The interfaces' names and driver IRQ hints for hostcounters.c: calls cb
 * for every traced interface that lives in our own namespace. */
typedef void (*np_netdev_iface_cb)(uint32_t id, const char *name, bool in_target_ns,
				   const char *sysfs_dir, void *arg);
void np_netdev_for_each(struct np_netdev *d, np_netdev_iface_cb cb, void *arg);
/* Bumped whenever an interface is added, so others can refresh. */
unsigned int np_netdev_generation(const struct np_netdev *d);
void np_netdev_free(struct np_netdev *d);

struct np_host;
int np_host_init(const struct np_netns *ns, const char *proc_root, pid_t pid, struct np_writer *w,
		 uint64_t now_ns, struct np_host **out, char *err, size_t errlen);
/* The files of the softirq source (tcp false) or of the tcp_counters
 * source (tcp true) that could not be opened, listed in `missing`.
 * Returns how many. */
int np_host_status(const struct np_host *h, bool tcp, char *missing, size_t len);
int np_host_poll(struct np_host *h, struct np_writer *w, uint64_t now_ns);
/* Finds the IRQs of the given interfaces and records their affinity. */
void np_host_set_ifaces(struct np_host *h, struct np_writer *w, uint64_t now_ns,
			struct np_netdev *d);
void np_host_free(struct np_host *h);

/* The configuration snapshot: "key=value\n" lines (format/kvtext.h),
 * written as one NP_BLK_NET_CONFIG block by np_conf_flush(). */
struct np_conf {
	struct np_kvtext text;
	int error; /* the first failure, sticky */
};
void np_conf_put(struct np_conf *c, const char *key, const char *value);
void np_conf_putf(struct np_conf *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int np_conf_flush(struct np_conf *c, struct np_writer *w);

#endif /* NP_NETCOLL_H */
