/* sockdiag.c - the target's TCP and UDP sockets over NETLINK_SOCK_DIAG.
 *
 * Which sockets: exactly the target's.  /proc/PID/fd names each socket by
 * inode ("socket:[INODE]"); a socket the kernel reports is kept only when
 * its inode is one of those.  The fd table is re-read on every poll while
 * that is cheap, and less often when the target has so many fds that the
 * scan itself would dominate the poll (see rescan_due()).
 *
 * Keeping the kernel's work small on a host with 100k sockets: the dump
 * request carries an inet_diag bytecode filter built from what we know of
 * the target's sockets - its listening ports (which also match every
 * connection accepted from them), the remote ports of its outbound
 * connections, and the local ports of the rest - so the kernel formats and
 * copies only candidate sockets, with tcp_info and memory info attached.
 * A socket in the fd table that no filter matches yet (a new outbound
 * connection, a new listener) triggers one "discovery" dump without
 * extensions and without filter, at most once per second, which learns its
 * ports; an inode that discovery does not find is not an inet socket (unix,
 * netlink, ...) and is ignored from then on, unless a later discovery finds
 * it (a socket that was created before it connected).
 *
 * Only (family, protocol) pairs in which the target has sockets are dumped.
 * The netlink socket is created in the target's network namespace at init.
 *
 * Transport: libnl-3 (nl_sock, message construction, the multipart receive
 * loop); decoding of struct inet_diag_msg and its attributes: netparse.c.
 */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netcoll.h"
#include "netparse.h"
#include "timeline.h"

/* Total sockets given an identity in one recording; the rest are counted. */
#define MAX_SOCKETS_TOTAL 65536
/* Filter conditions in one bytecode; past this the dump is unfiltered. */
#define MAX_FILTER_PORTS 64
#define DISCOVERY_EVERY_NS 1000000000ull
#define SUMMARY_EVERY_NS 5000000000ull
#define MAX_PEERS 256
/* TCP states whose sockets can be held in an fd: all but TIME_WAIT and
 * the request sockets of SYN_RECV/NEW_SYN_RECV. */
#define STATES_WANTED                                                                      \
	((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | \
	 (1u << 10) | (1u << 11))
#define TCP_LISTEN_STATE 10

enum ent_kind { ENT_UNKNOWN, ENT_IGNORED, ENT_INET };

struct ent {
	uint64_t inode;
	uint32_t id;
	uint8_t kind; /* enum ent_kind */
	uint8_t family, proto, state;
	uint16_t lport, rport;
	bool info_written;
	bool seen_now;     /* in this poll's dump */
	bool have_prev;    /* prev_retrans valid */
	bool dirty;        /* summary changed since last written */
	bool listener;
	uint32_t fd_gen;   /* last fd scan that listed it */
	uint8_t laddr[16], raddr[16];
	uint64_t cookie;
	uint32_t prev_retrans;
	struct np_rec_sock_sample last;  /* last sample written */
	bool have_last;
	struct np_rec_sock_sample cur;   /* this poll's */
	struct np_rec_sock_summary sum;
	/* first values, for deltas */
	uint32_t retrans0, drops0;
	uint64_t busy0, rwnd0, sndbuf0, acked0, received0;
};

struct np_sockdiag {
	struct np_sockdiag_cfg cfg;
	struct nl_sock *sk;
	char fd_dir[300];
	/* entries, and an open-addressing map inode -> entry index + 1 */
	struct ent *ents;
	uint32_t n_ents, cap_ents;
	uint32_t *free_list;
	uint32_t n_free;
	uint32_t *map;
	uint32_t map_cap, map_used, map_tomb;
	uint32_t next_id;
	uint32_t fd_gen;
	uint64_t last_scan_ns, last_scan_cost_ns, last_discovery_ns, last_summary_ns;
	uint32_t skipped, skipped_total;
	bool filter_rejected; /* the kernel refused our bytecode: dump unfiltered */
	/* per dump */
	uint64_t now_ns;
	uint32_t dumped;
	bool discovering;
	/* output buffers for one poll */
	struct np_rec_sock_info *infos;
	uint32_t n_infos, cap_infos;
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

static uint32_t hash_inode(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdull;
	ino ^= ino >> 33;
	return (uint32_t)ino;
}

#define MAP_TOMB UINT32_MAX

static struct ent *map_find(struct np_sockdiag *s, uint64_t ino)
{
	uint32_t mask = s->map_cap - 1;

	for (uint32_t i = hash_inode(ino) & mask;; i = (i + 1) & mask) {
		uint32_t v = s->map[i];

		if (!v)
			return NULL;
		if (v != MAP_TOMB && s->ents[v - 1].inode == ino)
			return &s->ents[v - 1];
	}
}

static void map_insert(struct np_sockdiag *s, uint64_t ino, uint32_t idx)
{
	uint32_t mask = s->map_cap - 1;

	for (uint32_t i = hash_inode(ino) & mask;; i = (i + 1) & mask) {
		if (!s->map[i] || s->map[i] == MAP_TOMB) {
			if (s->map[i] == MAP_TOMB)
				s->map_tomb--;
			s->map[i] = idx + 1;
			s->map_used++;
			return;
		}
	}
}

static void map_rebuild(struct np_sockdiag *s)
{
	memset(s->map, 0, s->map_cap * sizeof(*s->map));
	s->map_used = s->map_tomb = 0;
	for (uint32_t i = 0; i < s->n_ents; i++)
		if (s->ents[i].inode)
			map_insert(s, s->ents[i].inode, i);
}

static void map_remove(struct np_sockdiag *s, uint64_t ino)
{
	uint32_t mask = s->map_cap - 1;

	for (uint32_t i = hash_inode(ino) & mask;; i = (i + 1) & mask) {
		uint32_t v = s->map[i];

		if (!v)
			return;
		if (v != MAP_TOMB && s->ents[v - 1].inode == ino) {
			s->map[i] = MAP_TOMB;
			s->map_used--;
			s->map_tomb++;
			return;
		}
	}
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
	e = &s->ents[idx];
	memset(e, 0, sizeof(*e));
	e->inode = ino;
	e->fd_gen = s->fd_gen;
	if (s->map_used + s->map_tomb + 1 > s->map_cap / 2)
		map_rebuild(s);
	map_insert(s, ino, idx);
	return e;
}

static void ent_remove(struct np_sockdiag *s, struct ent *e)
{
	map_remove(s, e->inode);
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

static void queue_info(struct np_sockdiag *s, struct ent *e)
{
	struct np_rec_sock_info *r;

	if (s->n_infos == s->cap_infos) {
		uint32_t cap = s->cap_infos ? s->cap_infos * 2 : 64;
		void *p = reallocarray(s->infos, cap, sizeof(*s->infos));

		if (!p)
			return;
		s->infos = p;
		s->cap_infos = cap;
	}
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

/* ---- the fd table ---- */

static int scan_fds(struct np_sockdiag *s, uint32_t *n_fds)
{
	DIR *d = opendir(s->fd_dir);
	struct dirent *de;
	int dfd;

	*n_fds = 0;
	if (!d)
		return -errno;
	dfd = dirfd(d);
	s->fd_gen++;
	s->skipped = 0;
	while ((de = readdir(d))) {
		char link[64];
		uint64_t ino;
		ssize_t n;
		struct ent *e;

		if (de->d_name[0] == '.')
			continue;
		(*n_fds)++;
		n = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (np_parse_socket_link(link, &ino) || !ino)
			continue;
		e = map_find(s, ino);
		if (!e) {
			if (s->next_id >= MAX_SOCKETS_TOTAL || !(e = ent_add(s, ino))) {
				s->skipped++;
				continue;
			}
			e->kind = ENT_UNKNOWN;
		}
		e->fd_gen = s->fd_gen;
	}
	closedir(d);
	return 0;
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
				rc = np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(buf[0]), buf, n);
				n = 0;
			}
		}
		ent_remove(s, e);
	}
	if (n && !rc)
		rc = np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(buf[0]), buf, n);
	return rc;
}

/* ---- the dump ---- */

struct dump_ctx {
	struct np_sockdiag *s;
	uint8_t proto;
	uint16_t type; /* the request's message type, which the replies carry */
};

static void learn(struct np_sockdiag *s, struct ent *e, const struct np_sockdiag_obs *o,
		  uint8_t proto)
{
	size_t alen = o->family == AF_INET ? 4 : 16;

	if (e->kind != ENT_INET) {
		e->kind = ENT_INET;
		e->id = s->next_id++;
	}
	e->family = o->family;
	e->proto = proto;
	e->state = o->state;
	e->listener = proto == IPPROTO_TCP && o->state == TCP_LISTEN_STATE;
	e->lport = o->sport;
	e->rport = o->dport;
	e->cookie = o->cookie;
	memset(e->laddr, 0, 16);
	memset(e->raddr, 0, 16);
	memcpy(e->laddr, o->src, alen);
	memcpy(e->raddr, o->dst, alen);
	if (!e->listener) {
		add_peer(s, o->family, e->raddr);
		add_peer(s, o->family, e->laddr);
	}
}

static void observe(struct np_sockdiag *s, struct ent *e, const struct np_sockdiag_obs *o)
{
	struct np_rec_sock_sample *c = &e->cur;
	struct np_rec_sock_summary *m = &e->sum;

	memset(c, 0, sizeof(*c));
	c->ts_ns = s->now_ns;
	c->id = e->id;
	c->state = o->state;
	c->ca_state = o->ca_state;
	c->flags = e->listener ? NP_SOCK_LISTENER : 0;
	c->recv_q = o->rqueue;
	c->send_q = o->wqueue;
	c->rtt_us = o->rtt_us;
	c->rttvar_us = o->rttvar_us;
	c->snd_cwnd = o->snd_cwnd;
	c->unacked = o->unacked;
	c->lost = o->lost;
	c->retrans_now = o->retransmits_now;
	c->total_retrans = o->total_retrans;
	c->rmem_alloc = o->rmem_alloc;
	c->rcvbuf = o->rcvbuf;
	c->wmem_queued = o->wmem_queued;
	c->sndbuf = o->sndbuf;
	c->sk_drops = o->sk_drops;
	c->notsent_bytes = o->notsent_bytes;
	c->backlog = o->backlog;
	c->delivery_rate = o->delivery_rate;
	c->busy_us = o->busy_us;
	c->rwnd_limited_us = o->rwnd_limited_us;
	c->sndbuf_limited_us = o->sndbuf_limited_us;
	c->bytes_acked = o->bytes_acked;
	c->bytes_received = o->bytes_received;
	e->state = o->state;
	e->seen_now = true;

	if (!m->polls) {
		m->id = e->id;
		m->first_ns = s->now_ns;
		m->rtt_us_min = UINT32_MAX;
		m->cwnd_min = UINT32_MAX;
		e->retrans0 = c->total_retrans;
		e->drops0 = c->sk_drops;
		e->busy0 = c->busy_us;
		e->rwnd0 = c->rwnd_limited_us;
		e->sndbuf0 = c->sndbuf_limited_us;
		e->acked0 = c->bytes_acked;
		e->received0 = c->bytes_received;
	}
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
	if (o->have_tcpinfo && !e->listener) {
		if (c->rtt_us && c->rtt_us < m->rtt_us_min)
			m->rtt_us_min = c->rtt_us;
		if (c->rtt_us > m->rtt_us_max)
			m->rtt_us_max = c->rtt_us;
		if (c->rttvar_us > m->rttvar_us_max)
			m->rttvar_us_max = c->rttvar_us;
		m->rtt_us_last = c->rtt_us;
		if (c->lost > m->lost_max)
			m->lost_max = c->lost;
		if (c->snd_cwnd && c->snd_cwnd < m->cwnd_min)
			m->cwnd_min = c->snd_cwnd;
		m->cwnd_last = c->snd_cwnd;
		if (c->delivery_rate > m->delivery_rate_max)
			m->delivery_rate_max = c->delivery_rate;
	}
	m->retrans = c->total_retrans - e->retrans0;
	m->sk_drops = c->sk_drops - e->drops0;
	m->busy_us = c->busy_us - e->busy0;
	m->rwnd_limited_us = c->rwnd_limited_us - e->rwnd0;
	m->sndbuf_limited_us = c->sndbuf_limited_us - e->sndbuf0;
	m->bytes_acked = c->bytes_acked - e->acked0;
	m->bytes_received = c->bytes_received - e->received0;
	m->rcvbuf_last = c->rcvbuf;
	m->sndbuf_last = c->sndbuf;
	m->state_last = c->state;
	e->dirty = true;
}

static int on_msg(struct nlmsghdr *nlh, void *arg)
{
	struct dump_ctx *dc = arg;
	struct np_sockdiag *s = dc->s;
	struct np_sockdiag_obs o;
	struct ent *e;

	if (np_sockdiag_decode(nlh, nlh->nlmsg_len, dc->type, &o))
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
	observe(s, e, &o);
	return 0;
}

/* One condition of the bytecode: "port == p" on the local or remote side,
 * yes -> next op, no -> skip the JMP that follows (see iproute2's ss). */
static size_t bc_filter(const uint16_t *sports, size_t ns, const uint16_t *dports, size_t nd,
			uint8_t *bc)
{
	size_t n = ns + nd, off = 0, total = n ? 12 * (n - 1) + 8 : 0;

	for (size_t i = 0; i < n; i++) {
		struct inet_diag_bc_op op[2];
		bool last = i + 1 == n;

		op[0].code = i < ns ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
		op[0].yes = 8;
		op[0].no = 12;
		op[1].code = 0;
		op[1].yes = 0;
		op[1].no = i < ns ? sports[i] : dports[i - ns];
		memcpy(bc + off, op, 8);
		off += 8;
		if (!last) {
			/* matched: jump to the end (accept) */
			struct inet_diag_bc_op jmp = {INET_DIAG_BC_JMP, 4, (uint16_t)(total - off)};

			memcpy(bc + off, &jmp, 4);
			off += 4;
		}
	}
	return off;
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

/* The ports that select the target's sockets of one family and protocol.
 * Returns false when the target has none there. */
static bool build_filter(struct np_sockdiag *s, uint8_t family, uint8_t proto, uint16_t *sp,
			 size_t *ns, uint16_t *dp, size_t *nd, bool *overflow)
{
	bool any = false;

	*ns = *nd = 0;
	*overflow = false;
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];

		if (e->inode && e->kind == ENT_INET && (!family || e->family == family) &&
		    e->proto == proto && e->listener) {
			add_port(sp, ns, e->lport, overflow);
			any = true;
		}
	}
	for (uint32_t i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];
		bool covered = false;

		if (!e->inode || e->kind != ENT_INET || (family && e->family != family) ||
		    e->proto != proto || e->listener)
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

/* TCP is asked for with the older TCPDIAG_GETSOCK request, which the
 * kernel answers for IPv4 and IPv6 in one walk of its connection hash
 * (SOCK_DIAG_BY_FAMILY walks it once per family); that walk, not the
 * sockets, is most of a poll's cost on a host with a large hash. */
static int dump(struct np_sockdiag *s, uint8_t family, uint8_t proto, bool extensions,
		const uint8_t *bc, size_t bc_len)
{
	uint8_t ext = 0;
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = proto,
		.idiag_states = STATES_WANTED,
	};
	struct inet_diag_req old = {
		.idiag_family = AF_INET,
		.idiag_states = STATES_WANTED,
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
	rc = nl_send_auto(s->sk, msg);
	nlmsg_free(msg);
	if (rc < 0)
		return -EIO;
	/* The replies are walked in libnl's receive buffer (nl_recv,
	 * nlmsg_ok/nlmsg_next) rather than through nl_recvmsgs(), which
	 * copies every message into an object of its own: with a thousand
	 * sockets that copying was a third of the poll. */
	for (;;) {
		struct sockaddr_nl peer;
		unsigned char *buf = NULL;
		struct nlmsghdr *h;
		int n = nl_recv(s->sk, &peer, &buf, NULL);

		if (n <= 0) {
			free(buf);
			return n == 0 ? 0 : -EIO;
		}
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				free(buf);
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = nlmsg_data(h);
				int err = h->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ? e->error : -EIO;

				free(buf);
				return err ? err : 0;
			}
			on_msg(h, &dc);
		}
		free(buf);
	}
}

/* AF_UNSPEC: both families in one request (TCP only, see dump()). */
static const struct {
	uint8_t family, proto;
} combos[] = {
	{AF_UNSPEC, IPPROTO_TCP},
	{AF_INET, IPPROTO_UDP},
	{AF_INET6, IPPROTO_UDP},
};

static int discover(struct np_sockdiag *s)
{
	int rc = 0;

	s->discovering = true;
	for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		int r = dump(s, combos[i].family, combos[i].proto, false, NULL, 0);

		if (r && !rc)
			rc = r;
	}
	s->discovering = false;
	s->last_discovery_ns = s->now_ns;
	for (uint32_t i = 0; i < s->n_ents; i++)
		if (s->ents[i].inode && s->ents[i].kind == ENT_UNKNOWN)
			s->ents[i].kind = ENT_IGNORED;
	return rc;
}

static int dump_filtered(struct np_sockdiag *s)
{
	uint16_t sp[MAX_FILTER_PORTS], dp[MAX_FILTER_PORTS];
	uint8_t bc[MAX_FILTER_PORTS * 2 * 12];
	int rc = 0;

	for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		size_t ns, nd, len = 0;
		bool overflow;
		int r;

		if (!build_filter(s, combos[i].family, combos[i].proto, sp, &ns, dp, &nd, &overflow))
			continue;
		if (!overflow && !s->filter_rejected)
			len = bc_filter(sp, ns, dp, nd, bc);
		r = dump(s, combos[i].family, combos[i].proto, true, bc, len);
		if (r == -EINVAL && len) {
			/* a kernel without S_EQ/D_EQ (before 4.16): unfiltered */
			s->filter_rejected = true;
			r = dump(s, combos[i].family, combos[i].proto, true, NULL, 0);
		}
		if (r && !rc)
			rc = r;
	}
	return rc;
}

/* The fd table is re-read on every poll while that is cheap (under
 * SCAN_CHEAP_NS).  A process with thousands of fds makes the scan the most
 * expensive part of a poll (a readlink per fd), so it is then re-read only
 * every SCAN_SLOW_EVERY_NS or 50 times its cost, whichever is longer: a
 * socket opened in between is picked up at the next scan. */
#define SCAN_CHEAP_NS 250000ull
#define SCAN_SLOW_EVERY_NS 1000000000ull

static bool rescan_due(const struct np_sockdiag *s, uint64_t now_ns, uint64_t period_ns)
{
	uint64_t every;

	if (!s->last_scan_ns)
		return true;
	if (s->last_scan_cost_ns < SCAN_CHEAP_NS)
		every = period_ns;
	else
		every = s->last_scan_cost_ns * 50 > SCAN_SLOW_EVERY_NS ? s->last_scan_cost_ns * 50
								    : SCAN_SLOW_EVERY_NS;
	/* a timer tick can come a little early */
	return now_ns - s->last_scan_ns + period_ns / 10 >= every;
}

static int score_order(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
	uint64_t qx = (uint64_t)x->cur.recv_q + x->cur.send_q, qy = (uint64_t)y->cur.recv_q + y->cur.send_q;
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
	uint32_t n_unknown = 0, n_cands = 0;
	struct np_rec_sock_sample *out;
	int rc = 0;

	s->now_ns = now_ns;
	s->dumped = 0;
	if (rescan_due(s, now_ns, s->cfg.poll_ns)) {
		uint64_t t0 = thread_cpu_ns();

		rc = scan_fds(s, &poll->fds_scanned);
		if (rc)
			return rc; /* the target is gone */
		s->last_scan_cost_ns = thread_cpu_ns() - t0;
		s->last_scan_ns = now_ns;
		reap_closed(s, w);
		if (poll->fds_scanned == 0)
			poll->fds_scanned = 1; /* a scan ran */
	}
	for (uint32_t i = 0; i < s->n_ents; i++) {
		s->ents[i].seen_now = false;
		n_unknown += s->ents[i].inode && s->ents[i].kind == ENT_UNKNOWN;
	}
	rc = dump_filtered(s);
	/* Unknown inodes the filtered dump did not explain. */
	n_unknown = 0;
	for (uint32_t i = 0; i < s->n_ents; i++)
		n_unknown += s->ents[i].inode && s->ents[i].kind == ENT_UNKNOWN;
	if (n_unknown && now_ns - s->last_discovery_ns >= DISCOVERY_EVERY_NS) {
		int r = discover(s);

		poll->discovery = 1;
		if (r && !rc)
			rc = r;
		/* Sockets learnt now get their first sample this poll. */
		if (!r) {
			for (uint32_t i = 0; i < s->n_ents; i++)
				s->ents[i].seen_now = false;
			r = dump_filtered(s);
			if (r && !rc)
				rc = r;
		}
	}
	poll->dumped = s->dumped;
	poll->skipped = s->skipped;

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

		if (!e->inode || e->kind != ENT_INET || !e->seen_now)
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
		if (e->have_prev)
			poll->retrans += e->cur.total_retrans - e->prev_retrans;
		e->prev_retrans = e->cur.total_retrans;
		e->have_prev = true;
		if (sample_changed(e))
			s->cands[n_cands++] = e;
	}
	if (flush_infos(s, w) && !rc)
		rc = -EIO;
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
		}
		if (np_writer_block(w, NP_BLK_SOCK_SAMPLE, sizeof(*out), out, n_cands) && !rc)
			rc = -EIO;
		free(out);
	}
	poll->samples = n_cands;
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

int np_sockdiag_init(const struct np_sockdiag_cfg *cfg, const struct np_netns *ns,
		     struct np_sockdiag **out, char *err, size_t errlen)
{
	struct np_sockdiag *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	snprintf(s->fd_dir, sizeof(s->fd_dir), "%s/proc/%d/fd", cfg->proc_root, (int)cfg->pid);
	s->cap_ents = cfg->max_sockets;
	s->ents = calloc(s->cap_ents, sizeof(*s->ents));
	s->free_list = calloc(s->cap_ents, sizeof(*s->free_list));
	for (s->map_cap = 64; s->map_cap < s->cap_ents * 4; s->map_cap *= 2)
		;
	s->map = calloc(s->map_cap, sizeof(*s->map));
	if (!s->ents || !s->free_list || !s->map) {
		np_sockdiag_free(s);
		return -ENOMEM;
	}
	if (access(s->fd_dir, R_OK | X_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", s->fd_dir, strerror(errno));
		np_sockdiag_free(s);
		return rc;
	}
	s->sk = nl_socket_alloc();
	if (!s->sk) {
		np_sockdiag_free(s);
		return -ENOMEM;
	}
	rc = np_netns_enter(ns);
	if (rc) {
		snprintf(err, errlen, "cannot enter the target's network namespace: %s",
			 strerror(-rc));
		np_sockdiag_free(s);
		return rc;
	}
	rc = idiagnl_connect(s->sk);
	np_netns_leave(ns);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open a NETLINK_SOCK_DIAG socket: %s", nl_geterror(rc));
		np_sockdiag_free(s);
		return -EPERM;
	}
	nl_socket_set_msg_buf_size(s->sk, 32768);
	/* dumps end with NLMSG_DONE; an ACK would be left unread */
	nl_socket_disable_auto_ack(s->sk);
	*out = s;
	return 0;
}

void np_sockdiag_free(struct np_sockdiag *s)
{
	if (!s)
		return;
	if (s->sk)
		nl_socket_free(s->sk);
	free(s->ents);
	free(s->free_list);
	free(s->map);
	free(s->infos);
	free(s->cands);
	free(s);
}
