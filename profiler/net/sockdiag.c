/* sockdiag.c - the target's TCP and UDP sockets over NETLINK_SOCK_DIAG.
 *
 * Which sockets: exactly the target's, those in its fd table.  The fd table
 * is walked on every poll by a BPF task_file iterator (bpf/netfds.bpf.c)
 * that the kernel runs over the target's fds only.  For each TCP and UDP
 * socket it gives the inode, family, state, addresses, ports, bound
 * device and network namespace, and for TCP the queues as sock_diag
 * computes them (Recv-Q and Send-Q, or a listener's accept queue and its
 * limit) and the sequence numbers that move whenever data arrives, is
 * acked or is written.  A new socket is therefore known, with what it
 * takes to look it up, at the first poll after it appears, and a closed
 * one is final at the first poll after it goes.
 *
 * What a poll asks sock_diag for (tcp_info and memory), and why a poll of
 * 1,000 idle connections costs about a millisecond of CPU:
 *   - a TCP connection that is busy (something queued, or data arrived,
 *     was acked or was written, or the state changed, since the last
 *     walk), a new one, and each idle one once a second (a tenth of them
 *     per poll at 100 ms, chosen by id so the cost is even): one exact
 *     SOCK_DIAG_BY_FAMILY request each, without NLM_F_DUMP, keyed by its
 *     addresses and ports, which the kernel answers with one hash lookup.
 *     Requests go out in batches in one sendmsg() (netlink_rcv_skb()
 *     handles every message of the buffer) and the replies come back with
 *     recvmmsg().  A dump would walk the kernel's whole established hash
 *     (262,144 buckets on the development VM: over 1 ms even for one
 *     socket).  An idle connection keeps the tcp_info of its last read: its
 *     queues, state and sequence numbers have not moved, so neither have
 *     its rtt, cwnd, retransmits or byte counts; what can change unseen
 *     (out-of-order data, a keepalive probe) is read within the second.
 *   - listeners: a dump restricted to the LISTEN state, which walks only
 *     the listening hash, when one has connections waiting or its queue
 *     changed, else once a second.  An exact lookup of a listener would not
 *     do: with SO_REUSEPORT the kernel picks one socket of the group by
 *     hash, maybe not ours.
 *   - UDP: a dump per family in which the target has UDP sockets, every
 *     poll (the UDP table is small), filtered in the kernel by an
 *     inet_diag bytecode built from the target's ports.
 * Every socket's state and queues are thus current on every poll, from the
 * fd walk when sock_diag was not asked.  A reply is taken only when its
 * inode is the one asked about.
 *
 * The /proc fallback, where the iterator cannot run (it needs Linux 6.1 to
 * be restricted to one process) or NETPROF_SOCKET_FDS=proc asks for it:
 * /proc/PID/fd (of every live process, for a service) is re-read on every
 * poll while that is cheap, otherwise when the number of open fds changed
 * (stat() of /proc/PID/fd gives it on 6.2+; the primary process's only, for
 * a service) and at least once a second; the addresses of a new socket come from one
 * unfiltered "discovery" dump without extensions, at most once a second;
 * every TCP connection is then asked about exactly on every poll and
 * listeners are dumped on every poll.  An inode that discovery does not
 * find is not an inet socket (unix, netlink, ...) and is ignored from then
 * on, unless a later discovery finds it.
 *
 * Network namespaces: sock_diag answers only about sockets of the
 * namespace its netlink socket was created in, and a service's processes
 * need not share one (a child started with `ip netns exec`, or that called
 * unshare() or setns()).  So there is one NETLINK_SOCK_DIAG socket per
 * namespace that holds target sockets: the primary target's, created at
 * init, and one more the first time the fd walk shows a socket in another
 * namespace, created after a setns() into /proc/PID/ns/net of the process
 * that holds it (and a setns() back).  Every request about a socket (exact
 * lookups, listener and UDP dumps, discovery) goes to its namespace's
 * socket.  With one namespace a poll costs what it did; each further
 * namespace in use adds its own dumps and sendmsg() batches, and a pass
 * over the entries per request kind.  Past MAX_NETNS namespaces, or where a
 * namespace cannot be entered, sockets are not polled and are recorded as
 * such (NP_BLK_SOCK_NETNS), and the report says the source was degraded.
 * The /proc fallback reads the namespace from /proc/PID/ns/net of the
 * process whose fds it lists.
 *
 * Transport: libnl-3 (nl_sock, message construction, the multipart receive
 * loop of dumps); batched exact requests go through the same socket's fd
 * with sendmsg()/recvmmsg(), which libnl has no call for.  Decoding of
 * struct inet_diag_msg and its attributes: netparse.c.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netlink/idiag/idiagnl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/hashtab.h"
#include "profiler/collect/bpfutil.h"
#include "profiler/collect/targets.h"
#include "profiler/net/netcoll.h"
#include "bpf/netfds.h"
#include "bpf/netfds.skel.h"
#include "profiler/net/netparse.h"
#include "profiler/net/sockreq.h"
#include "profiler/format/timeline.h"

/* Total sockets given an identity in one recording; the rest are counted. */
#define MAX_SOCKETS_TOTAL 65536
/* Filter conditions in one bytecode; past this the dump is unfiltered. */
#define MAX_FILTER_PORTS 64
#define DISCOVERY_EVERY_NS 1000000000ull
#define SUMMARY_EVERY_NS 5000000000ull
#define MAX_PEERS 256
#define STATES_WANTED NP_SOCK_STATES_WANTED
#define TCP_CLOSE_STATE 7
#define TCP_LISTEN_STATE 10
/* Exact requests: at most this many per sendmsg(), fewer when the receive
 * buffer is small (every reply is its own skb of about 1.5 kB truesize). */
#define EXACT_BATCH_MAX 256
#define EXACT_BATCH_MIN 8
/* Room for one reply: struct inet_diag_msg, tcp_info, memory info and the
 * attributes the kernel adds unasked (cgroup, sockopt, shutdown, ...) take
 * about 600 bytes on 6.18; a reply that does not fit doubles it. */
#define REPLY_SLOT_BYTES 2048
#define RCVBUF_WANTED (1u << 20)
/* An idle socket's tcp_info and memory are read at least this often. */
#define FULL_EVERY_NS 1000000000ull
/* Network namespaces polled at once (one sock_diag socket each); sockets
 * in more are counted as not polled, and the source says so. */
#define MAX_NETNS 16
#define NS_NONE 0xff /* ent.nsi: in a namespace that is not polled */

/* The NETLINK_SOCK_DIAG socket of one network namespace that holds target
 * sockets: ns[0] is the primary target's, opened at init; the others are
 * opened the first time the fd walk shows a socket there.  sk is NULL for
 * a namespace that could not be entered: its sockets are not polled. */
struct nsdiag {
	uint64_t ino; /* the inode of /proc/PID/ns/net */
	struct nl_sock *sk;
	int nlfd;
};

enum ent_kind { ENT_UNKNOWN, ENT_IGNORED, ENT_INET };

/* One socket of the target.  The first cache line holds what every poll
 * reads or writes for every socket, idle ones included; on a host where the
 * poll runs every 100 ms those lines are cold each time, and each line
 * more per socket costs about 0.1 ms a poll for 1,000 sockets. */
struct ent {
	uint64_t inode;
	uint32_t fd_gen; /* last fd scan that listed it */
	uint32_t id;
	uint8_t kind; /* enum ent_kind */
	uint8_t family, proto, state;
	uint16_t lport, rport;
	bool listener;
	bool has_id;    /* id given: seen by sock_diag at least once */
	bool have_full; /* cur holds a full sock_diag observation */
	bool busy;      /* moved since the last poll: sock_diag this poll */
	bool info_written;
	bool dirty;  /* summary changed since last written */
	bool unsent; /* cur may differ from the last sample written */
	uint8_t it_state;
	uint32_t seen_poll;  /* observed in this poll (== poll_no) */
	uint32_t it_poll;    /* it_* are from this poll's fd walk */
	uint32_t tuple_hash; /* of the fd walk's identity fields */
	uint32_t it_recv_q, it_send_q, it_rcv_nxt, it_snd_una, it_write_seq;
	/* -- */
	uint32_t answered_poll; /* this poll's exact request got its reply */
	uint32_t ifindex;       /* bound device: part of the kernel's lookup key */
	bool have_prev;         /* prev_retrans valid */
	bool have_last;
	uint8_t nsi; /* index of its namespace in np_sockdiag.ns, or NS_NONE */
	uint8_t laddr[16], raddr[16];
	uint64_t cookie;
	uint32_t prev_retrans;
	struct np_rec_sock_sample cur __attribute__((aligned(64))); /* this poll's */
	struct np_rec_sock_summary sum;
	struct np_rec_sock_sample last; /* last sample written */
	struct np_sock_base base;       /* first values, for deltas */
	uint32_t pid;                   /* a service: the first process found holding it */
	uint64_t pid_inode;             /* the socket pid was recorded for */
};
_Static_assert(offsetof(struct ent, answered_poll) == 64, "the per-poll fields fill one line");

struct np_sockdiag {
	struct np_sockdiag_cfg cfg;
	/* a service: sockets newly seen in a process's fd table, written at
	 * the next poll (NP_BLK_SOCK_PIDS) */
	bool multi; /* a service (np_targets_multi) */
	struct np_rec_sock_pid *sock_pids;
	size_t n_sock_pids, cap_sock_pids;
	struct np_hashtab other_holders; /* (inode, pid) past each socket's first holder */
	/* a service: TCP listeners newly seen in a process's fd table
	 * (NP_BLK_LISTEN_HOLDERS), and the (inode, pid) pairs seen so far */
	struct np_rec_listen_holder *holders;
	size_t n_holders, cap_holders;
	struct np_hashtab holders_seen;
	/* sock_diag per network namespace; ns[0] the primary target's */
	const struct np_netns *netns; /* ours and the primary's (netcoll.c) */
	struct nsdiag ns[MAX_NETNS];
	uint32_t n_ns;
	/* sockets outside the primary namespace, written at the next poll
	 * (NP_BLK_SOCK_NETNS) */
	struct np_rec_sock_netns *sock_ns;
	size_t n_sock_ns, cap_sock_ns;
	char fd_dir[300];
	/* entries, and an open-addressing map inode -> entry index + 1 */
	struct ent *ents;
	uint32_t n_ents, cap_ents;
	uint32_t *free_list;
	uint32_t n_free;
	struct np_hashtab map;
	uint32_t next_id;
	uint32_t fd_gen;
	/* the fd table: the BPF iterator, or /proc when fds_link is NULL */
	struct np_netfds_bpf *fds_skel;
	struct bpf_link *fds_link;
	char fds_why[200]; /* why /proc is read instead */
	int64_t fd_count;  /* /proc: open fds at the last scan, -1 unknown */
	uint64_t last_scan_ns, last_scan_cost_ns, last_discovery_ns, last_summary_ns;
	uint32_t skipped;
	uint32_t retrans;  /* this poll's total_retrans deltas */
	uint32_t *fd_slot; /* fd -> entry index + 1, a hint checked by inode */
	uint32_t fd_slot_cap;
	uint32_t poll_no;     /* from 1; ent.*_poll compare with it */
	uint32_t full_every;  /* polls between two sock_diag reads of an idle socket */
	bool filter_rejected; /* the kernel refused our bytecode: dump unfiltered */
	/* per dump */
	uint64_t now_ns;
	uint32_t dumped;
	bool discovering;
	/* batched exact requests and their replies */
	uint32_t batch;
	uint32_t seq;
	uint32_t reply_max; /* bytes per reply slot */
	bool truncated;     /* a reply did not fit its slot */
	uint8_t *req_buf;
	uint8_t *rep_buf;
	struct mmsghdr *mm;
	struct iovec *iov;
	struct ent **batch_ents;
	/* output buffers for one poll */
	struct np_rec_sock_info *infos;
	uint32_t n_infos;
	size_t cap_infos;
	struct ent **cands;
	uint32_t cap_cands;
	/* peers for interface discovery */
	struct np_peer_addr peers[MAX_PEERS];
	uint32_t n_peers, peers_reported;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- inode map ---- */

static struct ent *map_find(struct np_sockdiag *s, uint64_t ino)
{
	uint32_t v = np_hashtab_get(&s->map, ino);

	return v ? &s->ents[v - 1] : NULL;
}

static struct ent *ent_add(struct np_sockdiag *s, uint64_t ino)
{
	uint32_t idx;
	struct ent *e;

	if (s->n_free) {
		idx = s->free_list[--s->n_free];
	} else {
		if (s->n_ents == s->cap_ents)
			return NULL;
		idx = s->n_ents++;
	}
	/* Room for every entry was reserved; only a rebuild that clears
	 * removed slots allocates, and when that fails the entry is not
	 * added, as when the table is full. */
	if (np_hashtab_put(&s->map, ino, idx + 1)) {
		s->free_list[s->n_free++] = idx;
		return NULL;
	}
	e = &s->ents[idx];
	memset(e, 0, sizeof(*e));
	e->inode = ino;
	e->fd_gen = s->fd_gen;
	return e;
}

static void ent_remove(struct np_sockdiag *s, struct ent *e)
{
	np_hashtab_del(&s->map, e->inode);
	e->inode = 0;
	s->free_list[s->n_free++] = (uint32_t)(e - s->ents);
}

/* ---- writing ---- */

static int flush_infos(struct np_sockdiag *s, struct np_writer *w)
{
	int rc = 0;

	if (s->n_infos)
		rc = np_writer_block(w, NP_BLK_SOCK_INFO, sizeof(*s->infos), s->infos, s->n_infos);
	s->n_infos = 0;
	return rc;
}

/* A socket outside the primary namespace, for the report. */
static void note_netns(struct np_sockdiag *s, uint64_t inode, uint64_t netns_ino, uint32_t pid,
		       uint32_t flags)
{
	if (NP_GROW(s->sock_ns, s->cap_sock_ns, s->n_sock_ns + 1))
		return;
	s->sock_ns[s->n_sock_ns++] = (struct np_rec_sock_netns){
		.inode = inode,
		.netns_ino = netns_ino,
		.primary_ino = s->ns[0].ino,
		.pid = pid,
		.flags = flags,
	};
}

static void queue_info(struct np_sockdiag *s, struct ent *e)
{
	struct np_rec_sock_info *r;

	if (NP_GROW(s->infos, s->cap_infos, (size_t)s->n_infos + 1))
		return;
	r = &s->infos[s->n_infos++];
	memset(r, 0, sizeof(*r));
	r->ts_ns = s->now_ns;
	r->inode = e->inode;
	r->cookie = e->cookie;
	r->id = e->id;
	r->family = e->family;
	r->proto = e->proto;
	r->state = e->state;
	r->flags = e->listener ? NP_SOCK_LISTENER : 0;
	memcpy(r->laddr, e->laddr, 16);
	memcpy(r->raddr, e->raddr, 16);
	r->lport = e->lport;
	r->rport = e->rport;
	r->backlog_limit = e->listener ? e->cur.send_q : 0;
	e->info_written = true;
	if (e->nsi && e->nsi != NS_NONE)
		note_netns(s, e->inode, s->ns[e->nsi].ino, e->pid ? e->pid : (uint32_t)s->cfg.pid,
			   0);
}

static int write_summaries(struct np_sockdiag *s, struct np_writer *w, bool all)
{
	struct np_rec_sock_summary *buf;
	uint32_t n = 0;
	int rc = 0;

	buf = calloc(s->n_ents ? s->n_ents : 1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (!e->inode || e->kind != ENT_INET || !e->info_written || (!all && !e->dirty))
			continue;
		e->sum.ts_ns = s->now_ns;
		buf[n++] = e->sum;
		e->dirty = false;
	}
	if (n)
		rc = np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(*buf), buf, n);
	free(buf);
	return rc;
}

static void add_peer(struct np_sockdiag *s, uint8_t family, const uint8_t *addr)
{
	static const uint8_t zero[16];

	if (!memcmp(addr, zero, family == AF_INET ? 4 : 16))
		return;
	for (uint32_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].family == family &&
		    !memcmp(s->peers[i].addr, addr, family == AF_INET ? 4 : 16))
			return;
	if (s->n_peers == MAX_PEERS)
		return;
	s->peers[s->n_peers].family = family;
	memset(s->peers[s->n_peers].addr, 0, 16);
	memcpy(s->peers[s->n_peers].addr, addr, family == AF_INET ? 4 : 16);
	s->n_peers++;
}

size_t np_sockdiag_new_peers(struct np_sockdiag *s, struct np_peer_addr *out, size_t max)
{
	size_t n = 0;

	while (s->peers_reported < s->n_peers && n < max)
		out[n++] = s->peers[s->peers_reported++];
	return n;
}

/* ---- socket identities ---- */

/* a[0..len) == b[0..len) for len 4 or 16, without a library call */
static bool same16(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t x[2] = {0, 0}, y[2] = {0, 0};

	memcpy(x, a, len);
	memcpy(y, b, len);
	return x[0] == y[0] && x[1] == y[1];
}

/* Sets what the socket is and where it is bound and connected (from the
 * fd iterator or from a discovery dump).  Peers are collected only when
 * the addresses change, so an unchanged socket costs a compare per poll. */
static void set_identity(struct np_sockdiag *s, struct ent *e, uint8_t family, uint8_t proto,
			 uint8_t state, uint16_t lport, uint16_t rport, const uint8_t *laddr,
			 const uint8_t *raddr, uint32_t ifindex)
{
	size_t alen = family == AF_INET ? 4 : 16;
	bool same = e->kind == ENT_INET && e->family == family && e->proto == proto &&
		    e->lport == lport && e->rport == rport && e->ifindex == ifindex &&
		    same16(e->laddr, laddr, alen) && same16(e->raddr, raddr, alen);

	e->state = state;
	e->listener = proto == IPPROTO_TCP && state == TCP_LISTEN_STATE;
	if (same)
		return;
	e->kind = ENT_INET;
	e->family = family;
	e->proto = proto;
	e->lport = lport;
	e->rport = rport;
	e->ifindex = ifindex;
	memset(e->laddr, 0, 16);
	memset(e->raddr, 0, 16);
	memcpy(e->laddr, laddr, alen);
	memcpy(e->raddr, raddr, alen);
	/* Routes are looked up in the primary namespace: another
	 * namespace's addresses would name the wrong interfaces. */
	if (!e->listener && !e->nsi) {
		add_peer(s, family, e->raddr);
		add_peer(s, family, e->laddr);
	}
}

/* An inode listed by the current fd scan: tracked from now on if new. */
static struct ent *fd_listed(struct np_sockdiag *s, uint64_t ino)
{
	struct ent *e = map_find(s, ino);

	if (!e) {
		if (s->next_id >= MAX_SOCKETS_TOTAL || !(e = ent_add(s, ino))) {
			s->skipped++;
			return NULL;
		}
		e->kind = ENT_UNKNOWN;
	}
	e->fd_gen = s->fd_gen;
	return e;
}

/* ---- one sock_diag socket per network namespace ---- */

/* As large a receive buffer as we may have, for batched exact requests:
 * RCVBUF_WANTED with CAP_NET_ADMIN, else as far as rmem_max allows.
 * Returns the size the kernel gave. */
static int raise_rcvbuf(int fd)
{
	int v = RCVBUF_WANTED;
	socklen_t l = sizeof(v);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) < 0)
		v = 0;
	return v;
}

/* Connects n->sk to sock_diag in the namespace this thread is in now.  A
 * netlink socket stays bound to the namespace it was created in, whatever
 * namespace the thread switches to later.  Returns 0 or a libnl error. */
static int ns_connect(struct nsdiag *n)
{
	int rc;

	n->sk = nl_socket_alloc();
	if (!n->sk)
		return -NLE_NOMEM;
	rc = idiagnl_connect(n->sk);
	if (rc < 0) {
		nl_socket_free(n->sk);
		n->sk = NULL;
		return rc;
	}
	nl_socket_set_msg_buf_size(n->sk, 32768);
	/* dumps end with NLMSG_DONE; an ACK would be left unread */
	nl_socket_disable_auto_ack(n->sk);
	n->nlfd = nl_socket_get_fd(n->sk);
	return 0;
}

/* Opens the sock_diag socket of namespace `ino`, entered through
 * /proc/PID/ns/net of `pid`, a target process that holds a socket there.
 * Returns the index in s->ns; -EAGAIN when the process is gone or has
 * moved to another namespace since (try again at the next walk);
 * -ENOSPC past MAX_NETNS; another -errno when the namespace cannot be
 * entered (it stays in the list, not polled, and is not tried again). */
static int ns_open(struct np_sockdiag *s, uint64_t ino, uint32_t pid)
{
	struct nsdiag *n;
	char path[300];
	struct stat st;
	int fd, rc;

	if (s->n_ns == MAX_NETNS)
		return -ENOSPC;
	snprintf(path, sizeof(path), "%s/proc/%u/ns/net", s->cfg.proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EAGAIN;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != ino) {
		close(fd);
		return -EAGAIN;
	}
	n = &s->ns[s->n_ns++];
	memset(n, 0, sizeof(*n));
	n->ino = ino;
	n->nlfd = -1;
	rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	if (!rc) {
		rc = ns_connect(n) < 0 ? -EPERM : 0;
		/* Back to ours, where every other socket of netprof is
		 * created; the primary's namespace is entered only around
		 * its own calls (netns.c). */
		if (setns(s->netns->self_fd, CLONE_NEWNET) < 0 && !rc)
			rc = -errno;
	}
	if (rc && n->sk) {
		nl_socket_free(n->sk);
		n->sk = NULL;
	}
	if (rc)
		return rc;
	raise_rcvbuf(n->nlfd);
	return (int)(n - s->ns);
}

/* The index in s->ns of the namespace `ino`, opening its socket the first
 * time; NS_NONE when its sockets cannot be polled. */
static uint8_t ns_index(struct np_sockdiag *s, uint64_t ino, uint32_t pid, bool *retry)
{
	int i;

	*retry = false;
	if (!ino || ino == s->ns[0].ino)
		return 0;
	for (uint32_t k = 1; k < s->n_ns; k++)
		if (s->ns[k].ino == ino)
			return s->ns[k].sk ? (uint8_t)k : NS_NONE;
	i = ns_open(s, ino, pid);
	*retry = i == -EAGAIN;
	return i < 0 ? NS_NONE : (uint8_t)i;
}

/* Where the socket of a new or changed fd record lives. */
static void place(struct np_sockdiag *s, struct ent *e, uint64_t ino, uint32_t pid)
{
	bool retry;

	e->nsi = ns_index(s, ino, pid, &retry);
	if (e->nsi != NS_NONE)
		return;
	if (retry)
		e->tuple_hash = 0; /* asked again at the next walk */
	else
		note_netns(s, e->inode, ino, pid, NP_SOCKNS_UNPOLLED);
}

/* ---- the fd table: BPF iterator ---- */

static uint32_t record_hash(const struct np_fd_sock *r)
{
	uint64_t w[6], h = 0x9e3779b97f4a7c15ull;

	memcpy(w, r->laddr, 16);
	memcpy(w + 2, r->raddr, 16);
	w[4] = (uint64_t)r->lport << 48 | (uint64_t)r->rport << 32 | r->bound_ifindex;
	w[5] = (uint64_t)r->family << 8 | r->proto;
	for (int i = 0; i < 6; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h | 1; /* 0 means "not from the fd walk" */
}

/* The entry of a socket the fd walk listed.  The fd number finds it without
 * hashing in the usual case where the same fd holds the same socket as in
 * the last walk (checked by inode). */
static struct ent *fd_find(struct np_sockdiag *s, const struct np_fd_sock *r)
{
	struct ent *e;

	if (r->fd < s->fd_slot_cap && s->fd_slot[r->fd]) {
		e = &s->ents[s->fd_slot[r->fd] - 1];
		if (e->inode == r->inode) {
			e->fd_gen = s->fd_gen;
			return e;
		}
	}
	e = fd_listed(s, r->inode);
	if (!e)
		return NULL;
	if (r->fd >= s->fd_slot_cap && r->fd < (1u << 20)) {
		uint32_t cap = s->fd_slot_cap ? s->fd_slot_cap : 1024;
		uint32_t *p;

		while (cap <= r->fd)
			cap *= 2;
		p = realloc(s->fd_slot, cap * sizeof(*p));
		if (p) {
			memset(p + s->fd_slot_cap, 0, (cap - s->fd_slot_cap) * sizeof(*p));
			s->fd_slot = p;
			s->fd_slot_cap = cap;
		}
	}
	if (r->fd < s->fd_slot_cap)
		s->fd_slot[r->fd] = (uint32_t)(e - s->ents) + 1;
	return e;
}

/* A listener found in a process's fd table for the first time. */
static void note_listener(struct np_sockdiag *s, const struct np_fd_sock *r)
{
	uint64_t key = np_sock_holder_key(r->inode, r->tgid);

	if (np_hashtab_get(&s->holders_seen, key) ||
	    NP_GROW(s->holders, s->cap_holders, s->n_holders + 1) ||
	    np_hashtab_put(&s->holders_seen, key, 1))
		return;
	s->holders[s->n_holders] = (struct np_rec_listen_holder){
		.inode = r->inode,
		.pid = r->tgid,
		.flags = r->flags & NP_FD_REUSEPORT ? NP_LISTEN_REUSEPORT : 0,
		.family = r->family,
		.lport = r->lport,
	};
	memcpy(s->holders[s->n_holders].laddr, r->laddr, sizeof(r->laddr));
	s->n_holders++;
}

static void iter_record(struct np_sockdiag *s, const struct np_fd_sock *r)
{
	struct ent *e;
	uint32_t h;

	if (!r->inode || (r->family != AF_INET && r->family != AF_INET6) ||
	    (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP))
		return;
	e = fd_find(s, r);
	if (!e)
		return;
	if (s->multi && r->tgid &&
	    np_sock_holder_is_new(&s->other_holders, &e->pid, &e->pid_inode, r->inode, r->tgid) &&
	    !NP_GROW(s->sock_pids, s->cap_sock_pids, s->n_sock_pids + 1))
		s->sock_pids[s->n_sock_pids++] = (struct np_rec_sock_pid){.inode = r->inode,
									  .pid = r->tgid};
	if (s->multi && r->tgid && r->proto == IPPROTO_TCP && r->state == TCP_LISTEN_STATE)
		note_listener(s, r);
	/* The addresses live in the entry's second cache line: compared only
	 * when a hash of the record's identity fields changed. */
	h = record_hash(r);
	if (e->kind == ENT_INET && e->tuple_hash == h && e->proto == r->proto) {
		e->state = r->state;
		e->listener = r->proto == IPPROTO_TCP && r->state == TCP_LISTEN_STATE;
	} else {
		e->tuple_hash = h;
		if (e->kind != ENT_INET || e->nsi == NS_NONE)
			place(s, e, r->netns, r->tgid);
		set_identity(s, e, r->family, r->proto, r->state, r->lport, r->rport, r->laddr,
			     r->raddr, r->bound_ifindex);
	}
	if (!(r->flags & NP_FD_TCP_QUEUES))
		return;
	/* Busy: anything queued, or data arrived, was acked or was written,
	 * or the state changed, since the last poll.  A listener: connections
	 * wait in its accept queue, or the queue or its limit changed. */
	if (e->listener)
		e->busy = !e->have_full || e->it_poll != s->poll_no - 1 || r->recv_q ||
			  r->recv_q != e->it_recv_q || r->send_q != e->it_send_q ||
			  r->state != e->it_state;
	else
		e->busy = !e->have_full || e->it_poll != s->poll_no - 1 || r->recv_q || r->send_q ||
			  r->state != e->it_state || r->rcv_nxt != e->it_rcv_nxt ||
			  r->snd_una != e->it_snd_una || r->write_seq != e->it_write_seq;
	e->it_poll = s->poll_no;
	e->it_state = r->state;
	e->it_recv_q = r->recv_q;
	e->it_send_q = r->send_q;
	e->it_rcv_nxt = r->rcv_nxt;
	e->it_snd_una = r->snd_una;
	e->it_write_seq = r->write_seq;
}

static void on_fd_record(void *arg, const void *rec)
{
	iter_record(arg, rec);
}

/* One walk of the target's fd table.  On failure nothing is reaped: an
 * incomplete walk must not close sockets. */
static int read_fd_iter(struct np_sockdiag *s, uint32_t *n_files, bool *complete)
{
	int rc;

	*complete = false;
	s->fds_skel->bss->files_seen = 0;
	s->fd_gen++;
	s->skipped = 0;
	rc = np_bpf_iter_read(s->fds_link, sizeof(struct np_fd_sock), on_fd_record, s);
	*n_files = s->fds_skel->bss->files_seen;
	if (rc)
		return rc;
	/* No fds at all: the process is most likely gone (the iterator
	 * finds no task then, which is not an error). */
	if (!*n_files && !np_targets_multi(s->cfg.targets) && access(s->fd_dir, F_OK) < 0)
		return -errno;
	*complete = true;
	return 0;
}

/* ---- the fd table: /proc fallback ---- */

/* One process's fd table; its sockets live where its /proc/PID/ns/net
 * says.  Returns 0 or -errno when it cannot be read (gone). */
static int scan_process_fds(struct np_sockdiag *s, pid_t pid, uint32_t *n_fds)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	uint8_t nsi = 0;
	bool retry;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "%s/proc/%d/fd", s->cfg.proc_root, (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	snprintf(path, sizeof(path), "%s/proc/%d/ns/net", s->cfg.proc_root, (int)pid);
	if (!stat(path, &st))
		nsi = ns_index(s, (uint64_t)st.st_ino, (uint32_t)pid, &retry);
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char link[64];
		struct ent *e;
		uint64_t ino;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		(*n_fds)++;
		n = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (np_parse_socket_link(link, &ino) || !ino)
			continue;
		e = fd_listed(s, ino);
		if (e && e->kind == ENT_UNKNOWN)
			e->nsi = nsi;
	}
	closedir(d);
	return 0;
}

/* The fd tables of the target: the process, or every live process of a
 * service (the session updates the set between polls, in this thread).
 * A service is gone when none of its processes could be read. */
static int scan_fds(struct np_sockdiag *s, uint32_t *n_fds)
{
	const struct np_targetset *ts = s->cfg.targets;
	int rc = -ESRCH;

	*n_fds = 0;
	s->fd_gen++;
	s->skipped = 0;
	if (!s->multi)
		return scan_process_fds(s, s->cfg.pid, n_fds);
	for (size_t i = 0; i < ts->n; i++) {
		if (ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED))
			continue;
		if (!scan_process_fds(s, ts->v[i].pid, n_fds))
			rc = 0;
	}
	return rc;
}

/* The number of open fds, which stat() of /proc/PID/fd gives as its size
 * since Linux 6.2; -1 when it does not say. */
static int64_t fd_count(const struct np_sockdiag *s)
{
	struct stat st;

	if (stat(s->fd_dir, &st) < 0 || st.st_size <= 0)
		return -1;
	return (int64_t)st.st_size;
}

/* The fd table is re-read on every poll while that is cheap (under
 * SCAN_CHEAP_NS).  A process with thousands of fds makes the scan costly (a
 * readlink per fd, about 3 us each), so it is then re-read when the number
 * of open fds changed, and otherwise every SCAN_SLOW_EVERY_NS or 50 times
 * its cost, whichever is longer: a socket that replaced another under the
 * same count is picked up at that scan. */
#define SCAN_CHEAP_NS 250000ull
#define SCAN_SLOW_EVERY_NS 1000000000ull

static bool rescan_due(struct np_sockdiag *s, uint64_t now_ns, uint64_t period_ns)
{
	uint64_t every;

	if (!s->last_scan_ns)
		return true;
	if (s->last_scan_cost_ns < SCAN_CHEAP_NS)
		every = period_ns;
	else if (s->fd_count >= 0 && fd_count(s) != s->fd_count)
		return true;
	else
		every = s->last_scan_cost_ns * 50 > SCAN_SLOW_EVERY_NS ? s->last_scan_cost_ns * 50
								       : SCAN_SLOW_EVERY_NS;
	/* a timer tick can come a little early */
	return now_ns - s->last_scan_ns + period_ns / 10 >= every;
}

/* Sockets the target closed since the last scan: their summaries are
 * final. */
static int reap_closed(struct np_sockdiag *s, struct np_writer *w)
{
	struct np_rec_sock_summary buf[64];
	uint32_t n = 0;
	int rc = 0;

	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (!e->inode || e->fd_gen == s->fd_gen)
			continue;
		if (e->kind == ENT_INET && e->info_written) {
			e->sum.flags |= NP_SOCKSUM_CLOSED;
			e->sum.ts_ns = s->now_ns;
			buf[n++] = e->sum;
			if (n == 64) {
				rc = np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(buf[0]), buf,
						     n);
				n = 0;
			}
		}
		ent_remove(s, e);
	}
	if (n && !rc)
		rc = np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(buf[0]), buf, n);
	return rc;
}

/* Reads the fd table if due; returns 0, or -errno when the target is gone. */
static int refresh_fds(struct np_sockdiag *s, struct np_writer *w, uint32_t *fds_scanned)
{
	uint64_t t0 = thread_cpu_ns();
	bool complete;
	int rc;

	if (s->fds_link) {
		rc = read_fd_iter(s, fds_scanned, &complete);
		if (complete)
			reap_closed(s, w);
		if (!*fds_scanned)
			*fds_scanned = 1; /* a scan ran */
		return rc;
	}
	if (!rescan_due(s, s->now_ns, s->cfg.poll_ns))
		return 0;
	rc = scan_fds(s, fds_scanned);
	if (rc)
		return rc;
	if (!*fds_scanned)
		*fds_scanned = 1;
	s->fd_count = fd_count(s);
	s->last_scan_cost_ns = thread_cpu_ns() - t0;
	s->last_scan_ns = s->now_ns;
	reap_closed(s, w);
	return 0;
}

/* ---- what the kernel says about a socket ---- */

struct dump_ctx {
	struct np_sockdiag *s;
	uint8_t proto;
	uint16_t type; /* the request's message type, which the replies carry */
	uint32_t seq;  /* and its sequence number */
};

/* A discovery dump's view of a socket the fd table named (/proc mode). */
static void learn(struct np_sockdiag *s, struct ent *e, const struct np_sockdiag_obs *o,
		  uint8_t proto)
{
	set_identity(s, e, o->family, proto, o->state, o->sport, o->dport, o->src, o->dst,
		     o->ifindex);
	e->tuple_hash = 0;
	e->cookie = o->cookie;
}

static void observe(struct np_sockdiag *s, struct ent *e, const struct np_sockdiag_obs *o)
{
	if (!e->has_id) {
		e->id = s->next_id++;
		e->has_id = true;
	}
	e->cookie = o->cookie;
	np_sock_observe(&e->cur, &e->sum, &e->base, o, e->id, e->listener, s->now_ns);
	e->state = o->state;
	e->seen_poll = s->poll_no;
	e->dirty = true;
	e->unsent = true;
	if (e->have_prev)
		s->retrans += e->cur.total_retrans - e->prev_retrans;
	e->prev_retrans = e->cur.total_retrans;
	e->have_prev = true;
}

static void add_port(uint16_t *v, size_t *n, uint16_t port, bool *overflow)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == port)
			return;
	if (*n == MAX_FILTER_PORTS) {
		*overflow = true;
		return;
	}
	v[(*n)++] = port;
}

/* The ports that select the target's sockets of one family and protocol
 * in namespace nsi.  Returns false when the target has none there. */
static bool build_filter(struct np_sockdiag *s, uint8_t nsi, uint8_t family, uint8_t proto,
			 uint16_t *sp, size_t *ns, uint16_t *dp, size_t *nd, bool *overflow)
{
	bool any = false;

	*ns = *nd = 0;
	*overflow = false;
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (e->inode && e->kind == ENT_INET && e->nsi == nsi &&
		    (!family || e->family == family) && e->proto == proto && e->listener) {
			add_port(sp, ns, e->lport, overflow);
			any = true;
		}
	}
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];
		bool covered = false;

		if (!e->inode || e->kind != ENT_INET || e->nsi != nsi ||
		    (family && e->family != family) || e->proto != proto || e->listener)
			continue;
		any = true;
		for (size_t k = 0; k < *ns; k++)
			covered |= sp[k] == e->lport;
		if (covered)
			continue;
		if (e->rport)
			add_port(dp, nd, e->rport, overflow);
		else
			add_port(sp, ns, e->lport, overflow);
	}
	return any;
}

/* ---- dumps: listeners, UDP, discovery ---- */

static int on_msg(struct nlmsghdr *nlh, void *arg)
{
	struct dump_ctx *dc = arg;
	struct np_sockdiag *s = dc->s;
	struct np_sockdiag_obs o;
	struct ent *e;

	if (nlh->nlmsg_seq != dc->seq || np_sockdiag_decode(nlh, nlh->nlmsg_len, dc->type, &o))
		return 0;
	s->dumped++;
	if (!o.inode || !(e = map_find(s, o.inode)))
		return 0;
	if (s->discovering) {
		if (e->kind != ENT_INET)
			learn(s, e, &o, dc->proto);
		return 0;
	}
	if (e->kind != ENT_INET || e->proto != dc->proto)
		learn(s, e, &o, dc->proto);
	if (e->seen_poll != s->poll_no) {
		observe(s, e, &o);
		e->have_full = true;
	}
	return 0;
}

/* Reply buffers: s->batch slots of s->reply_max bytes. */
static int alloc_replies(struct np_sockdiag *s)
{
	uint8_t *buf = realloc(s->rep_buf, (size_t)EXACT_BATCH_MAX * s->reply_max);

	if (!buf)
		return -ENOMEM;
	s->rep_buf = buf;
	for (uint32_t j = 0; j < EXACT_BATCH_MAX; j++) {
		s->iov[j].iov_base = buf + (size_t)j * s->reply_max;
		s->iov[j].iov_len = s->reply_max;
		memset(&s->mm[j], 0, sizeof(s->mm[j]));
		s->mm[j].msg_hdr.msg_iov = &s->iov[j];
		s->mm[j].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

/* A reply did not fit (a kernel with a much bigger tcp_info, or many
 * attributes): bigger slots from the next poll on. */
static void grow_replies(struct np_sockdiag *s)
{
	s->truncated = false;
	if (s->reply_max >= 65536)
		return;
	s->reply_max *= 2;
	if (alloc_replies(s)) {
		s->reply_max /= 2;
		alloc_replies(s);
	}
}

/* TCP is asked for with the older TCPDIAG_GETSOCK request, which the
 * kernel answers for IPv4 and IPv6 in one walk (SOCK_DIAG_BY_FAMILY walks
 * once per family).  `states` decides which hashes the kernel walks: LISTEN
 * alone walks only the listening hash. */
static int dump(struct np_sockdiag *s, struct nl_sock *sk, uint8_t family, uint8_t proto,
		uint32_t states, bool extensions, const uint8_t *bc, size_t bc_len)
{
	uint8_t ext = 0;
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = proto,
		.idiag_states = states,
	};
	struct inet_diag_req old = {
		.idiag_family = AF_INET,
		.idiag_states = states,
	};
	struct dump_ctx dc = {.s = s, .proto = proto};
	struct nl_msg *msg;
	bool tcp = proto == IPPROTO_TCP;
	int rc;

	if (extensions)
		ext = (uint8_t)((1u << (INET_DIAG_SKMEMINFO - 1)) |
				(tcp ? (1u << (INET_DIAG_INFO - 1)) : 0));
	req.idiag_ext = old.idiag_ext = ext;
	dc.type = tcp ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
	msg = nlmsg_alloc_simple(dc.type, NLM_F_REQUEST | NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	rc = tcp ? nlmsg_append(msg, &old, sizeof(old), NLMSG_ALIGNTO)
		 : nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO);
	if (!rc && bc_len)
		rc = nla_put(msg, INET_DIAG_REQ_BYTECODE, (int)bc_len, bc);
	if (rc) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	rc = nl_send_auto(sk, msg);
	dc.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (rc < 0)
		return -EIO;
	/* The replies are walked in libnl's receive buffer (nl_recv,
	 * nlmsg_ok/nlmsg_next) rather than through nl_recvmsgs(), which
	 * copies every message into an object of its own. */
	for (;;) {
		struct sockaddr_nl peer;
		unsigned char *buf = NULL;
		struct nlmsghdr *h;
		int n = nl_recv(sk, &peer, &buf, NULL);

		if (n <= 0) {
			free(buf);
			return n == 0 ? 0 : -EIO;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != dc.seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				free(buf);
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = nlmsg_data(h);
				int err = h->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ? e->error
										    : -EIO;

				free(buf);
				return err ? err : 0;
			}
			on_msg(h, &dc);
		}
		free(buf);
	}
}

/* A dump with a port filter; a kernel without S_EQ/D_EQ (before 4.16)
 * refuses the bytecode, and then every dump goes unfiltered. */
static int dump_ports(struct np_sockdiag *s, struct nl_sock *sk, uint8_t family, uint8_t proto,
		      uint32_t states, const uint16_t *sp, size_t ns, const uint16_t *dp, size_t nd,
		      bool overflow)
{
	uint8_t bc[MAX_FILTER_PORTS * 2 * 12];
	size_t len = 0;
	int rc;

	if (!overflow && !s->filter_rejected)
		len = np_sock_bc_filter(sp, ns, dp, nd, bc);
	rc = dump(s, sk, family, proto, states, true, len ? bc : NULL, len);
	if (rc == -EINVAL && len) {
		s->filter_rejected = true;
		rc = dump(s, sk, family, proto, states, true, NULL, 0);
	}
	return rc;
}

/* The target's TCP listeners in namespace nsi, with their accept queues. */
static int dump_listeners(struct np_sockdiag *s, uint8_t nsi)
{
	uint16_t sp[MAX_FILTER_PORTS];
	size_t ns = 0;
	bool overflow = false, due = s->poll_no % s->full_every == 0;

	for (uint32_t i = 0; i < s->n_ents; i++) {
		const struct ent *e = &s->ents[i];

		if (e->inode && e->kind == ENT_INET && e->proto == IPPROTO_TCP && e->listener &&
		    e->nsi == nsi) {
			add_port(sp, &ns, e->lport, &overflow);
			due |= e->busy || e->it_poll != s->poll_no || !e->have_full;
		}
	}
	/* Idle listeners: accept queue and limit from the fd walk, the rest
	 * read once a second like idle connections. */
	if (!ns || !due)
		return 0;
	return dump_ports(s, s->ns[nsi].sk, AF_UNSPEC, IPPROTO_TCP, 1u << TCP_LISTEN_STATE, sp, ns,
			  NULL, 0, overflow);
}

static int dump_udp(struct np_sockdiag *s, uint8_t nsi)
{
	static const uint8_t families[] = {AF_INET, AF_INET6};
	uint16_t sp[MAX_FILTER_PORTS], dp[MAX_FILTER_PORTS];
	int rc = 0;

	for (size_t i = 0; i < sizeof(families); i++) {
		size_t ns, nd;
		bool overflow;
		int r;

		if (!build_filter(s, nsi, families[i], IPPROTO_UDP, sp, &ns, dp, &nd, &overflow))
			continue;
		r = dump_ports(s, s->ns[nsi].sk, families[i], IPPROTO_UDP, STATES_WANTED, sp, ns,
			       dp, nd, overflow);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

/* /proc mode: one unfiltered dump without extensions per protocol and
 * namespace, to learn the addresses of sockets the fd table named. */
static int discover(struct np_sockdiag *s)
{
	static const struct {
		uint8_t family, proto;
	} combos[] = {{AF_UNSPEC, IPPROTO_TCP}, {AF_INET, IPPROTO_UDP}, {AF_INET6, IPPROTO_UDP}};
	int rc = 0;

	s->discovering = true;
	for (uint32_t n = 0; n < s->n_ns; n++) {
		for (size_t i = 0; s->ns[n].sk && i < sizeof(combos) / sizeof(combos[0]); i++) {
			int r = dump(s, s->ns[n].sk, combos[i].family, combos[i].proto,
				     STATES_WANTED, false, NULL, 0);

			if (r && !rc)
				rc = r;
		}
	}
	s->discovering = false;
	s->last_discovery_ns = s->now_ns;
	for (uint32_t i = 0; i < s->n_ents; i++)
		if (s->ents[i].inode && s->ents[i].kind == ENT_UNKNOWN)
			s->ents[i].kind = ENT_IGNORED;
	return rc;
}

/* ---- exact requests: connected TCP sockets ---- */

#define EXACT_REQ_LEN NP_SOCK_EXACT_REQ_LEN

/* Hashed in the established table, so found by its four-tuple: every TCP
 * state but LISTEN (the listening hash, dumped) and CLOSE (unhashed). */
static bool hashed_tcp(const struct ent *e)
{
	return e->inode && e->kind == ENT_INET && e->proto == IPPROTO_TCP && !e->listener &&
	       e->lport && e->rport && e->state != TCP_CLOSE_STATE;
}

/* Asked about this poll: every socket without fresh fd iterator values
 * (the /proc fallback), every busy one, and each idle one every
 * full_every polls, spread over the polls by id so that the cost is even. */
static bool exact_wanted(const struct np_sockdiag *s, const struct ent *e)
{
	if (!hashed_tcp(e) || e->seen_poll == s->poll_no)
		return false;
	if (e->it_poll == s->poll_no && e->have_full && !e->busy &&
	    (s->poll_no + e->id) % s->full_every != 0)
		return false;
	return e->answered_poll != s->poll_no;
}

static void put_request(uint8_t *p, const struct ent *e, uint32_t seq)
{
	struct np_sock_key k = {.family = e->family,
				.lport = e->lport,
				.rport = e->rport,
				.ifindex = e->ifindex};

	memcpy(k.laddr, e->laddr, 16);
	memcpy(k.raddr, e->raddr, 16);
	np_sock_exact_request(p, &k, seq);
}

/* One reply (or error) to request number h->nlmsg_seq - s->seq. */
static void take_reply(struct np_sockdiag *s, const uint8_t *buf, size_t len, int flags, uint32_t k)
{
	struct nlmsghdr h;
	struct np_sockdiag_obs o;
	struct ent *e;
	uint32_t idx;

	if (len < NLMSG_HDRLEN)
		return;
	memcpy(&h, buf, sizeof(h));
	idx = h.nlmsg_seq - s->seq;
	if (idx >= k)
		return; /* not an answer to this batch */
	e = s->batch_ents[idx];
	e->answered_poll = s->poll_no;
	if (flags & MSG_TRUNC) {
		s->truncated = true;
		return;
	}
	/* NLMSG_ERROR, -ENOENT: not in the kernel's tables any more. */
	if (h.nlmsg_type == NLMSG_ERROR || np_sockdiag_decode(buf, len, SOCK_DIAG_BY_FAMILY, &o))
		return;
	s->dumped++;
	if (o.inode == e->inode && e->seen_poll != s->poll_no) {
		observe(s, e, &o);
		e->have_full = true;
	}
}

/* An idle socket: state and queues from this poll's fd walk, the rest as
 * sock_diag last reported it (nothing moved since, or it would be busy).
 * The summary changes as observe() would change it for these values; the
 * tcp_info extremes cannot change with unchanged values. */
static void observe_idle(struct np_sockdiag *s, struct ent *e)
{
	struct np_rec_sock_sample *c = &e->cur;
	struct np_rec_sock_summary *m = &e->sum;

	if (c->state != e->it_state || c->recv_q != e->it_recv_q || c->send_q != e->it_send_q) {
		c->state = e->it_state;
		c->recv_q = e->it_recv_q;
		c->send_q = e->it_send_q;
		e->unsent = true;
	}
	c->ts_ns = s->now_ns;
	e->state = c->state;
	e->seen_poll = s->poll_no;
	m->polls++;
	m->last_ns = s->now_ns;
	if (c->recv_q) {
		m->polls_recv_q++;
		if (c->recv_q > m->recv_q_max) {
			m->recv_q_max = c->recv_q;
			m->recv_q_max_ns = s->now_ns;
		}
	}
	if (c->send_q > m->send_q_max)
		m->send_q_max = c->send_q;
	m->recv_q_sum += c->recv_q;
	m->send_q_sum += c->send_q;
	m->state_last = c->state;
	e->dirty = true;
}

/* One pass over the sockets still unanswered this poll, s->batch requests
 * per sendmsg().  Each request gets exactly one message back, queued before
 * sendmsg() returns (the kernel answers in our context), so the receive
 * loop never waits.  Returns 1 when replies were lost to a full receive
 * buffer (the kernel drops them and flags ENOBUFS), 0, or -errno. */
static int exact_pass(struct np_sockdiag *s, uint8_t nsi)
{
	int fd = s->ns[nsi].nlfd;

	uint32_t i = 0;
	bool overrun = false;

	while (i < s->n_ents) {
		uint32_t k = 0, got = 0;

		for (; i < s->n_ents && k < s->batch; i++) {
			struct ent *e = &s->ents[i];

			if (!exact_wanted(s, e) || e->nsi != nsi)
				continue;
			put_request(s->req_buf + (size_t)k * EXACT_REQ_LEN, e, s->seq + k);
			s->batch_ents[k++] = e;
		}
		if (!k)
			break;
		if (send(fd, s->req_buf, (size_t)k * EXACT_REQ_LEN, 0) < 0)
			return -errno;
		while (got < k) {
			int n = recvmmsg(fd, s->mm, k - got, MSG_DONTWAIT, NULL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == ENOBUFS) {
				overrun = true;
				continue;
			}
			if (n <= 0)
				break; /* EAGAIN: the rest was dropped */
			for (int j = 0; j < n; j++)
				take_reply(s, s->rep_buf + (size_t)j * s->reply_max,
					   s->mm[j].msg_len, s->mm[j].msg_hdr.msg_flags, k);
			got += (uint32_t)n;
		}
		if (got < k)
			overrun = true;
		s->seq += k;
	}
	return overrun;
}

static int lookup_exact(struct np_sockdiag *s, uint8_t nsi)
{
	int rc = 0;

	/* A full receive buffer drops replies; ask again in smaller batches. */
	for (int pass = 0; pass < 4; pass++) {
		rc = exact_pass(s, nsi);
		if (rc <= 0)
			break;
		if (s->batch > EXACT_BATCH_MIN)
			s->batch /= 2;
		rc = 0;
	}
	if (s->truncated)
		grow_replies(s);
	return rc;
}

static int score_order(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
	uint64_t qx = (uint64_t)x->cur.recv_q + x->cur.send_q,
		 qy = (uint64_t)y->cur.recv_q + y->cur.send_q;
	uint32_t rx = x->cur.total_retrans - x->last.total_retrans;
	uint32_t ry = y->cur.total_retrans - y->last.total_retrans;
	uint64_t bx = (x->cur.bytes_acked - x->last.bytes_acked) +
		      (x->cur.bytes_received - x->last.bytes_received);
	uint64_t by = (y->cur.bytes_acked - y->last.bytes_acked) +
		      (y->cur.bytes_received - y->last.bytes_received);

	if (qx != qy)
		return qx < qy ? 1 : -1;
	if (rx != ry)
		return rx < ry ? 1 : -1;
	if (bx != by)
		return bx < by ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool sample_changed(const struct ent *e)
{
	struct np_rec_sock_sample a = e->cur, b = e->last;

	if (!e->have_last)
		return true;
	a.ts_ns = b.ts_ns = 0;
	return memcmp(&a, &b, sizeof(a)) != 0;
}

int np_sockdiag_poll(struct np_sockdiag *s, struct np_writer *w, uint64_t now_ns,
		     struct np_rec_net_poll *poll)
{
	uint32_t n_cands = 0;
	struct np_rec_sock_sample *out;
	int rc, r;

	s->now_ns = now_ns;
	s->dumped = 0;
	s->poll_no++;
	s->retrans = 0;
	rc = refresh_fds(s, w, &poll->fds_scanned);
	if (rc)
		return rc; /* the target is gone */
	if (!s->fds_link && now_ns - s->last_discovery_ns >= DISCOVERY_EVERY_NS) {
		uint32_t n_unknown = 0;

		for (uint32_t i = 0; i < s->n_ents; i++)
			n_unknown += s->ents[i].inode && s->ents[i].kind == ENT_UNKNOWN;
		if (n_unknown) {
			rc = discover(s);
			poll->discovery = 1;
		}
	}
	for (uint32_t n = 0; n < s->n_ns; n++) {
		if (!s->ns[n].sk)
			continue;
		r = dump_listeners(s, (uint8_t)n);
		if (r && !rc)
			rc = r;
		r = dump_udp(s, (uint8_t)n);
		if (r && !rc)
			rc = r;
		r = lookup_exact(s, (uint8_t)n);
		if (r && !rc)
			rc = r;
	}
	/* Idle sockets not asked about, and busy ones whose lookup missed
	 * (closing right now): what the fd walk saw. */
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (e->it_poll == s->poll_no && e->have_full && e->seen_poll != s->poll_no &&
		    (e->listener || hashed_tcp(e)))
			observe_idle(s, e);
	}

	poll->dumped = s->dumped;
	poll->skipped = s->skipped;
	if (s->n_sock_pids) {
		r = np_writer_block(w, NP_BLK_SOCK_PIDS, sizeof(*s->sock_pids), s->sock_pids,
				    (uint32_t)s->n_sock_pids);
		s->n_sock_pids = 0;
		if (r && !rc)
			rc = r;
	}
	if (s->n_holders) {
		r = np_writer_block(w, NP_BLK_LISTEN_HOLDERS, sizeof(*s->holders), s->holders,
				    (uint32_t)s->n_holders);
		s->n_holders = 0;
		if (r && !rc)
			rc = r;
	}

	/* Identities, aggregates and the changed sockets. */
	if (s->cap_cands < s->n_ents) {
		void *p = reallocarray(s->cands, s->n_ents, sizeof(*s->cands));

		if (!p)
			return -ENOMEM;
		s->cands = p;
		s->cap_cands = s->n_ents;
	}
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (!e->inode || e->kind != ENT_INET || e->seen_poll != s->poll_no)
			continue;
		if (!e->info_written)
			queue_info(s, e);
		poll->sockets++;
		if (e->listener) {
			if (e->cur.recv_q > poll->accept_q_max)
				poll->accept_q_max = e->cur.recv_q;
			poll->accept_q_sum += e->cur.recv_q;
		} else {
			if (e->cur.recv_q > poll->recv_q_max)
				poll->recv_q_max = e->cur.recv_q;
			if (e->cur.send_q > poll->send_q_max)
				poll->send_q_max = e->cur.send_q;
			poll->recv_q_sum += e->cur.recv_q;
			poll->send_q_sum += e->cur.send_q;
		}
		if (e->unsent && sample_changed(e))
			s->cands[n_cands++] = e;
	}
	if (flush_infos(s, w) && !rc)
		rc = -EIO;
	/* after the infos: queue_info() adds the namespaces of new sockets */
	if (s->n_sock_ns) {
		r = np_writer_block(w, NP_BLK_SOCK_NETNS, sizeof(*s->sock_ns), s->sock_ns,
				    (uint32_t)s->n_sock_ns);
		s->n_sock_ns = 0;
		if (r && !rc)
			rc = r;
	}
	if (n_cands > NP_SOCK_SAMPLES_PER_POLL) {
		qsort(s->cands, n_cands, sizeof(*s->cands), score_order);
		poll->samples_shed = n_cands - NP_SOCK_SAMPLES_PER_POLL;
		n_cands = NP_SOCK_SAMPLES_PER_POLL;
	}
	if (n_cands) {
		out = calloc(n_cands, sizeof(*out));
		if (!out)
			return -ENOMEM;
		for (uint32_t i = 0; i < n_cands; i++) {
			out[i] = s->cands[i]->cur;
			s->cands[i]->last = s->cands[i]->cur;
			s->cands[i]->have_last = true;
			s->cands[i]->unsent = false;
		}
		if (np_writer_block(w, NP_BLK_SOCK_SAMPLE, sizeof(*out), out, n_cands) && !rc)
			rc = -EIO;
		free(out);
	}
	poll->samples = n_cands;
	poll->retrans = s->retrans;
	if (now_ns - s->last_summary_ns >= SUMMARY_EVERY_NS) {
		write_summaries(s, w, false);
		s->last_summary_ns = now_ns;
	}
	return rc;
}

int np_sockdiag_finish(struct np_sockdiag *s, struct np_writer *w, uint64_t now_ns)
{
	s->now_ns = now_ns;
	return write_summaries(s, w, true);
}

/* The fd iterator, attached with the target's pid so that the kernel walks
 * its fd table only.  Kernels before 6.1 accept the attach but ignore the
 * pid and walk every task's fds; the program counts what it skipped, and
 * one trial walk tells.  Returns 0, or -errno with the reason in why. */
static int open_fd_iter(struct np_sockdiag *s, char *why, size_t len)
{
	union bpf_iter_link_info info = {.task.pid = (uint32_t)s->cfg.pid};
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
			    .link_info_len = sizeof(info));
	bool multi = np_targets_multi(s->cfg.targets);
	uint32_t n_files;
	bool complete;
	int rc;

	if (s->cfg.fds_from_proc) {
		snprintf(why, len, "NETPROF_SOCKET_FDS=proc");
		return -ENOTSUP;
	}
	if (s->cfg.proc_root[0] && strcmp(s->cfg.proc_root, "/") != 0) {
		snprintf(why, len, "a /proc tree other than the live one was given");
		return -ENOTSUP;
	}
	s->fds_skel = np_netfds_bpf__open();
	if (!s->fds_skel) {
		rc = -errno;
		snprintf(why, len, "cannot open the fd iterator: %s", strerror(-rc));
		return rc;
	}
	s->fds_skel->rodata->target_tgid = (uint32_t)s->cfg.pid;
	s->fds_skel->rodata->target_multi = multi;
	rc = np_targetmap_use(s->fds_skel->maps.np_targets, s->cfg.targets);
	if (rc) {
		snprintf(why, len, "cannot share the target map: %s", strerror(-rc));
		return rc;
	}
	bpf_program__set_autoattach(s->fds_skel->progs.np_socket_fds, false);
	rc = np_netfds_bpf__load(s->fds_skel);
	if (rc) {
		snprintf(why, len, "cannot load the fd iterator: %s", strerror(-rc));
		return rc;
	}
	/* A service: every task, filtered by the program with the target map. */
	s->fds_link = bpf_program__attach_iter(s->fds_skel->progs.np_socket_fds,
					       multi ? NULL : &opts);
	if (!s->fds_link) {
		rc = -errno;
		snprintf(why, len, "cannot attach the fd iterator: %s", strerror(-rc));
		return rc;
	}
	s->fds_skel->bss->files_other = 0;
	rc = read_fd_iter(s, &n_files, &complete);
	if (!rc && s->fds_skel->bss->files_other && !multi) {
		snprintf(why, len,
			 "this kernel cannot restrict the fd iterator to one process "
			 "(Linux 6.1+ can)");
		rc = -ENOTSUP;
	} else if (rc) {
		snprintf(why, len, "cannot read the fd iterator: %s", strerror(-rc));
	}
	return rc;
}

static void close_fd_iter(struct np_sockdiag *s)
{
	bpf_link__destroy(s->fds_link);
	np_netfds_bpf__destroy(s->fds_skel);
	s->fds_link = NULL;
	s->fds_skel = NULL;
}

/* Exact requests and their replies: as many per sendmsg() as the primary
 * namespace's receive buffer holds (about 1.5 kB of truesize per reply);
 * the other namespaces' sockets get the same buffer size. */
static int setup_exact(struct np_sockdiag *s)
{
	int v = raise_rcvbuf(s->ns[0].nlfd);

	s->batch = (uint32_t)v / 4096;
	if (s->batch > EXACT_BATCH_MAX)
		s->batch = EXACT_BATCH_MAX;
	if (s->batch < EXACT_BATCH_MIN)
		s->batch = EXACT_BATCH_MIN;
	s->seq = 0x4e500000; /* apart from libnl's, which start at the time of day */
	s->full_every = s->cfg.poll_ns ? (uint32_t)(FULL_EVERY_NS / s->cfg.poll_ns) : 1;
	if (!s->full_every)
		s->full_every = 1;
	s->reply_max = REPLY_SLOT_BYTES;
	s->req_buf = calloc(EXACT_BATCH_MAX, EXACT_REQ_LEN);
	s->mm = calloc(EXACT_BATCH_MAX, sizeof(*s->mm));
	s->iov = calloc(EXACT_BATCH_MAX, sizeof(*s->iov));
	s->batch_ents = calloc(EXACT_BATCH_MAX, sizeof(*s->batch_ents));
	if (!s->req_buf || !s->mm || !s->iov || !s->batch_ents)
		return -ENOMEM;
	return alloc_replies(s);
}

const char *np_sockdiag_fd_source(const struct np_sockdiag *s)
{
	return s->fds_link ? "" : s->fds_why;
}

int np_sockdiag_init(const struct np_sockdiag_cfg *cfg, const struct np_netns *ns,
		     struct np_sockdiag **out, char *err, size_t errlen)
{
	struct np_sockdiag *s = calloc(1, sizeof(*s));
	char why[sizeof(s->fds_why)];
	int rc;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->multi = np_targets_multi(cfg->targets);
	s->fd_count = -1;
	snprintf(s->fd_dir, sizeof(s->fd_dir), "%s/proc/%d/fd", cfg->proc_root, (int)cfg->pid);
	s->cap_ents = cfg->max_sockets;
	/* Zeroed pages straight from the kernel, cache-line aligned, and
	 * resident only as far as entries are used (16,384 entries are 10 MB). */
	s->ents = mmap(NULL, (size_t)s->cap_ents * sizeof(*s->ents), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->ents == MAP_FAILED)
		s->ents = NULL;
	s->free_list = calloc(s->cap_ents, sizeof(*s->free_list));
	/* at most a quarter full: twice the entries at half the load */
	if (!s->ents || !s->free_list || np_hashtab_reserve(&s->map, (size_t)s->cap_ents * 2)) {
		np_sockdiag_free(s);
		return -ENOMEM;
	}
	if (access(s->fd_dir, R_OK | X_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", s->fd_dir, strerror(errno));
		np_sockdiag_free(s);
		return rc;
	}
	s->netns = ns;
	s->n_ns = 1;
	s->ns[0].ino = ns->target_ino;
	rc = np_netns_enter(ns);
	if (rc) {
		snprintf(err, errlen, "cannot enter the target's network namespace: %s",
			 strerror(-rc));
		np_sockdiag_free(s);
		return rc;
	}
	rc = ns_connect(&s->ns[0]);
	np_netns_leave(ns);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open a NETLINK_SOCK_DIAG socket: %s",
			 nl_geterror(rc));
		np_sockdiag_free(s);
		return -EPERM;
	}
	rc = setup_exact(s);
	if (rc) {
		np_sockdiag_free(s);
		return rc;
	}
	why[0] = '\0';
	if (open_fd_iter(s, why, sizeof(why))) {
		close_fd_iter(s);
		snprintf(s->fds_why, sizeof(s->fds_why), "%s", why);
		/* the walk may have listed sockets: /proc starts afresh */
		for (uint32_t i = 0; i < s->n_ents; i++)
			if (s->ents[i].inode)
				ent_remove(s, &s->ents[i]);
	}
	*out = s;
	return 0;
}

void np_sockdiag_free(struct np_sockdiag *s)
{
	if (!s)
		return;
	close_fd_iter(s);
	for (uint32_t i = 0; i < s->n_ns; i++)
		if (s->ns[i].sk)
			nl_socket_free(s->ns[i].sk);
	free(s->sock_ns);
	if (s->ents)
		munmap(s->ents, (size_t)s->cap_ents * sizeof(*s->ents));
	free(s->free_list);
	free(s->sock_pids);
	free(s->holders);
	np_hashtab_fini(&s->holders_seen);
	np_hashtab_fini(&s->other_holders);
	np_hashtab_fini(&s->map);
	free(s->infos);
	free(s->cands);
	free(s->req_buf);
	free(s->rep_buf);
	free(s->mm);
	free(s->iov);
	free(s->batch_ents);
	free(s->fd_slot);
	free(s);
}
