/* exchange.bpf.h - the exchange source: per-connection request/response
 * timing of the target's TCP connections.  Included by syscalls.bpf.c,
 * whose task-local thread state (the call in flight, its start time) it
 * reads, and switched by the `xch_on` rodata flag.
 *
 * Where it hooks, and why not in sys_exit: the per-connection state lives in
 * socket-local storage, and bpf_sk_storage_get() needs a BTF-typed socket.
 * From sys_exit the socket behind an fd can only be reached through
 * probe-reads of the fd table, which yield untrusted pointers the verifier
 * refuses for the helper ("R2 type=untrusted_ptr_ expected=ptr_").  The
 * socket layer's own tracepoints hand over a typed socket in the target's
 * context instead: sock:sock_recv_length and sock:sock_send_length fire at
 * the end of every sock_recvmsg/sock_sendmsg (read, recv*, readv, write,
 * send*, writev, sendfile and splice into a socket) - for socket I/O only,
 * not for every system call on the host.  The syscall's start time comes
 * from the thread state sys_enter filled in.
 *
 * Per connection (struct np_conn, conn.bpf.h) the state machine is:
 *   served (accepted) connection: IDLE -read-> REQ -write-> RESP -read-> REQ ...
 *     an exchange ends at the next request read, at end of file, or when
 *     the connection closes (then, if its last segment is still queued, when
 *     that segment reaches the device);
 *   outbound (connected) connection: IDLE/RESP -write-> REQ -read-> RESP
 *     an outbound exchange ends at the first response bytes read.
 * Host-wide tracepoints feed it: sock:sk_data_ready (data arrival),
 * net:net_dev_start_xmit (segment handed to the device; net_dev_xmit fires
 * after the driver took the skb, when loopback and veth have already
 * orphaned it, so the socket is no longer known there),
 * sock:inet_sock_set_state (connect marks a connection outbound; close ends
 * its exchange), tcp:tcp_retransmit_skb (retransmits inside an exchange),
 * and, from the segment's TCP departure stamp (skb->tstamp), the part of tx
 * spent below TCP: in the qdisc and the device queue.
 *
 * Results: per-CPU totals and log-linear histograms (exchange.h) that user
 * space snapshots, and one ring-buffer event per exchange that is slow or
 * sampled, with "METHOD /path" and the status when payload reading is on.
 * Of the payload, only the request line up to the query string and the
 * three status digits ever leave the kernel.
 *
 * TLS (OpenSSL's libssl, uprobes attached per target process by the
 * loader): a socket call made inside SSL_read/SSL_write carries ciphertext,
 * so the labels come from the plaintext the SSL calls see instead -
 * SSL_write's buffer at its entry (kept in the thread state until the
 * first socket write inside uses it), SSL_read's at its return (kept per
 * connection in tls_heads until the exchange ends).  Socket calls inside
 * SSL_do_handshake are the handshake, timed as the first exchange's tls
 * part; those outside any SSL call on a TLS connection (SSL_shutdown's
 * close_notify) drive nothing.
 *
 * HTTP/2 (h2.bpf.h): a connection that starts with the h2 preface is
 * shipped call by call to user space, which times its streams; the state
 * machine here skips it.  Over TLS the SSL uprobes ship its plaintext.
 *
 * Not here: UDP or AF_UNIX exchanges.
 */
#ifndef NP_EXCHANGE_BPF_H
#define NP_EXCHANGE_BPF_H

#include "conn.bpf.h"
#include "exchange.h"
#include "xchstate.bpf.h"
#include "upstreamlabel.bpf.h"

#define NP_MAX_LISTEN_PORTS 64
#define MSG_PEEK 2
#define MSG_ERRQUEUE 0x2000

/* Set by the loader before load (profiler/sources/exchanges.c). */
const volatile __u8 xch_on = 0;     /* run the exchange state machine */
const volatile __u8 payload_on = 0; /* read request/response heads for labels */
const volatile __u8 xmit_on = 0;    /* net_dev_start_xmit is attached */
/* Which exchanges become events; writable, so that the overhead governor
 * can sample more coarsely while recording (the totals stay exact). */
volatile __u64 xch_slow_ns = 1000000;
volatile __u32 xch_sample_every = 0;
/* TCP ports the target listens on: a connection seen for the first time
 * whose local port is one of them is one it serves. */
const volatile __u32 n_listen_ports = 0;
const volatile __u16 listen_ports[NP_MAX_LISTEN_PORTS] = {};
/* The list above is complete (every target process's sockets were read at
 * attach): with no port in it, the target serves nothing, so a connection
 * opened before recording is one it opened, whatever its first call. */
const volatile __u8 listeners_known = 0;
/* Inode number of the target's network namespace (ls -l /proc/PID/ns/net). */
const volatile __u32 target_netns = 0;
/* net.ipv4.ip_local_port_range: with no listener list, a connection from a
 * port in it to one outside it is one the target opened (0, 0: unknown). */
const volatile __u16 ephemeral_lo = 0, ephemeral_hi = 0;

static __always_inline bool is_ephemeral(__u16 port)
{
	return ephemeral_hi && port >= ephemeral_lo && port <= ephemeral_hi;
}

/* Which SSL call a thread is in (thread_state.ssl_in). */
#define NP_SSL_WRITE 1
#define NP_SSL_READ 2
#define NP_SSL_HANDSHAKE 3

/* The plaintext head SSL_read returned for a TLS connection's current
 * exchange, by socket cookie: written at SSL_read's return (no socket
 * there), read when the exchange ends.  An entry also says that the
 * exchange's reads carried plaintext at all. */
struct tls_head {
	__u8 len;
	__u8 pad[7];
	__u8 head[NP_CONN_HEAD_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tls_head);
} tls_heads SEC(".maps");

/* SSL* of a target process -> the socket cookie of its connection, for an
 * SSL_read that OpenSSL serves from its buffer without a socket call. */
struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, __u64);
} ssl_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct np_xch_stats);
} xch_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024); /* resized by the loader */
} xch_events SEC(".maps");

/* Slot 0 is written only from the target's socket calls, slot 1 from the
 * state-change and transmit hooks, so the two kinds of context (a socket
 * call can be interrupted by a softirq that transmits) never share a
 * counter. */
#define SLOT_CALL 0
#define SLOT_OTHER 1

static __always_inline struct np_xch_stats *xstats(__u32 slot)
{
	return bpf_map_lookup_elem(&xch_stats, &slot);
}

static __always_inline void xhist(struct np_xch_stats *s, __u32 h, __u64 v)
{
	__u32 b = np_xh_bucket(v);

	if (h < NP_XH_COUNT && b < NP_XH_BUCKETS)
		s->hist[h][b]++;
}

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline struct tcp_sock *tcp_of(const struct sock *sk)
{
	return bpf_rdonly_cast((void *)sk, bpf_core_type_id_kernel(struct tcp_sock));
}

static __always_inline bool is_listen_port(__u16 port)
{
	for (__u32 i = 0; i < NP_MAX_LISTEN_PORTS; i++) {
		if (i >= n_listen_ports)
			break;
		if (listen_ports[i] == port)
			return true;
	}
	return false;
}

static __always_inline void conn_init(struct np_conn *c, struct sock *sk, __u8 role_hint)
{
	__u16 family;

	c->cookie = bpf_get_socket_cookie(sk);
	if (!c->cookie)
		c->cookie = 1;
	family = sk->__sk_common.skc_family;
	if (sk->sk_protocol == IPPROTO_TCP && (family == AF_INET || family == AF_INET6))
		c->flags = CF_TCP;
	if (role_hint)
		c->role = role_hint;
	else if (n_listen_ports || listeners_known)
		c->role = is_listen_port(sk->__sk_common.skc_num) ? NP_ROLE_IN : NP_ROLE_OUT;
	else if (is_ephemeral(sk->__sk_common.skc_num) &&
		 !is_ephemeral(bpf_ntohs(sk->__sk_common.skc_dport)))
		/* A client (no listener) whose connection opened before
		 * recording: its first call seen may be a read of a response. */
		c->role = NP_ROLE_OUT;
}

/* The entry of a socket the target is using, created on first sight. */
static __always_inline struct np_conn *conn_get(struct sock *sk, __u8 role_hint)
{
	struct np_conn *c;

	c = bpf_sk_storage_get(&conns, sk, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		struct np_xch_stats *s = xstats(SLOT_CALL);

		if (s)
			s->no_conn_mem++;
		return NULL;
	}
	if (!c->cookie) {
		conn_init(c, sk, role_hint);
		c->joined = role_hint ? NP_JOINED_NO : NP_JOINED_UNSURE;
	}
	c->flags &= ~CF_PROVISIONAL;
	return c;
}

/* The user buffer of the socket call in flight and how many of its bytes
 * hold data: read/recvfrom/write/sendto pass it directly, readv/writev as
 * the first iovec, recvmsg/sendmsg inside the msghdr.  Other calls
 * (sendfile, splice, the mmsg pair) carry no buffer of ours. */
static __always_inline void *call_buffer(const struct thread_state *ts, __u64 *cap)
{
	struct user_msghdr mh;
	struct iovec iov;
	void *arg2;

	if (ts && ts->ssl_in) {
		/* The syscall's bytes are ciphertext: only SSL_write's plaintext,
		 * once, at the first socket write of the call. */
		arg2 = (void *)ts->ssl_buf;
		if (ts->ssl_len < *cap)
			*cap = ts->ssl_len;
		return arg2;
	}
	if (!ts || !ts->active)
		return NULL;
	/* sys_enter kept it: cheaper than bpf_task_pt_regs() here */
	arg2 = (void *)ts->arg2;
	switch (ts->sys) {
	case NP_SYS_read:
	case NP_SYS_write:
	case NP_SYS_recvfrom:
	case NP_SYS_sendto:
		return arg2;
	case NP_SYS_recvmsg:
	case NP_SYS_sendmsg:
		if (bpf_probe_read_user(&mh, sizeof(mh), arg2) || !mh.msg_iovlen)
			return NULL;
		arg2 = mh.msg_iov;
		/* fall through */
	case NP_SYS_readv:
	case NP_SYS_writev:
		if (bpf_probe_read_user(&iov, sizeof(iov), arg2))
			return NULL;
		if (iov.iov_len < *cap)
			*cap = iov.iov_len;
		return iov.iov_base;
	default:
		return NULL;
	}
}

/* Keeps the first bytes of a request for its label (payload_on only). */
static __always_inline void capture_head(struct np_conn *c, const struct thread_state *ts,
					 __u64 len)
{
	void *buf = call_buffer(ts, &len);
	__u32 n = len > NP_CONN_HEAD_BYTES ? NP_CONN_HEAD_BYTES : (__u32)len;

	c->head_len = 0;
	if (!buf || !n)
		return;
	if (bpf_probe_read_user(c->head, n & (2 * NP_CONN_HEAD_BYTES - 1), buf))
		return;
	c->head_len = n;
}

/* The status of an HTTP/1.x status line at the start of the call's buffer
 * ("HTTP/1.1 200"), or 0. */
static __always_inline __u16 peek_status(const struct thread_state *ts, __u64 len)
{
	char b[12];
	void *buf;

	if (len < sizeof(b))
		return 0;
	buf = call_buffer(ts, &len);
	if (!buf || len < sizeof(b) || bpf_probe_read_user(b, sizeof(b), buf))
		return 0;
	if (b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' ||
	    b[5] != '1' || b[6] != '.' || (b[7] != '0' && b[7] != '1') || b[8] != ' ')
		return 0;
	if (b[9] < '1' || b[9] > '9' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9')
		return 0;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

/* The connection's endpoints, kept in its state for the events. */
static __always_inline void conn_endpoints(struct np_conn *c, const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	c->family = family;
	if (family == AF_INET) {
		bpf_probe_read_kernel(c->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_probe_read_kernel(c->raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_probe_read_kernel(c->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(c->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	c->lport = sk->__sk_common.skc_num;
	c->rport = bpf_ntohs(sk->__sk_common.skc_dport);
}

static __always_inline void fill_endpoints(struct np_xch_event *e, const struct np_conn *c)
{
	e->family = c->family;
	e->lport = c->lport;
	e->rport = c->rport;
	__builtin_memcpy(e->laddr, c->laddr, sizeof(e->laddr));
	__builtin_memcpy(e->raddr, c->raddr, sizeof(e->raddr));
}

/* "METHOD /path" of the kept head: a method of capital letters, one space,
 * then a path that starts with '/' (or "*"), up to the first '?', '#', space
 * or control byte.  Other request targets (an absolute URI may carry
 * user:password@) are left out, and bytes that are no request line give no
 * label.  The cut happens here so that the query string, the headers and
 * the body never reach user space. */
struct label_scan {
	struct np_xch_event *e;
	const struct np_conn *c;
	__u32 n, out, path_at;
	__u8 cut;
};

/* One byte of the scan; bpf_loop() keeps the verifier from walking all 128
 * iterations of every path through the caller. */
static long label_byte(__u64 i, struct label_scan *s)
{
	__u8 ch;

	if (i >= s->n || i >= NP_CONN_HEAD_BYTES)
		return 1;
	s->cut = 0;
	ch = s->c->head[i];
	if (!s->path_at) {
		if (ch == ' ' && i > 0 && i < 16) {
			s->path_at = i + 1;
		} else if (ch < 'A' || ch > 'Z' || i >= 15) {
			s->out = 0;
			return 1;
		}
	} else if ((i == s->path_at && ch != '/' && ch != '*') || ch <= ' ' || ch == '?' ||
		   ch == '#' || ch >= 0x7f) {
		return 1;
	}
	s->e->label[i] = ch;
	s->out = i + 1;
	s->cut = 1;
	return 0;
}

/* The Redis or PostgreSQL label of the kept head (upstreamlabel.bpf.h):
 * bpf_loop() drives its step function over the bytes. */
struct upstream_scan {
	const struct np_conn *c;
	struct np_ul_scan s;
};

static long upstream_byte(__u64 i, struct upstream_scan *u)
{
	if (i < u->s.start)
		return 0;
	if (i >= u->s.n || i >= NP_CONN_HEAD_BYTES)
		return 1;
	return np_ul_step(&u->s, u->c->head[i]);
}

static __always_inline int fill_upstream_label(struct np_xch_event *e, const struct np_conn *c)
{
	struct upstream_scan u = {.c = c};
	char name[NP_UL_NAME_MAX];
	__u8 proto = 0, b[8];
	__u32 len;

	np_ul_begin_redis(&u.s, c->head_len);
	bpf_loop(NP_CONN_HEAD_BYTES, upstream_byte, &u, 0);
	len = np_ul_result(&u.s, name, &proto);
	if (!len) {
		__builtin_memcpy(b, c->head, sizeof(b));
		np_ul_begin_pg(&u.s, b, c->head_len);
		bpf_loop(NP_CONN_HEAD_BYTES, upstream_byte, &u, 0);
		len = np_ul_result(&u.s, name, &proto);
	}
	if (!len || len > NP_UL_NAME_MAX)
		return 0;
	__builtin_memcpy(e->label, name, NP_UL_NAME_MAX);
	e->label_len = len;
	e->label_cut = 0;
	e->proto = proto;
	e->flags |= NP_XEV_LABEL;
	return 1;
}

/* An HTTP/1.x request line when there is one with a path, else the Redis
 * or PostgreSQL label ("GET key\r\n" is an inline Redis command, not a
 * request line without a target), else a request line without a path
 * ("GET http://..." keeps only "GET "). */
static __always_inline void fill_label(struct np_xch_event *e, const struct np_conn *c)
{
	struct label_scan s = {.e = e, .c = c, .n = c->head_len, .cut = 1};

	bpf_loop(NP_CONN_HEAD_BYTES, label_byte, &s, 0);
	if (!(s.path_at && s.out > s.path_at) && fill_upstream_label(e, c))
		return;
	if (!s.path_at) {
		/* the scan may have copied a word of what is no request line */
		__builtin_memset(e->label, 0, sizeof(e->label));
		return;
	}
	e->label_len = s.out;
	e->label_cut = s.cut;
	e->flags |= NP_XEV_LABEL;
}

static __always_inline void emit(const struct np_conn *c, struct np_xch_stats *s, __u8 flags,
				 __u8 flags2, __u64 start, __u64 total, __u64 queued, __u64 app,
				 __u64 tx, __u64 peer, __u64 qdisc, __u64 tls, __u32 retrans)
{
	struct np_xch_event *e;

	e = bpf_ringbuf_reserve(&xch_events, sizeof(*e), 0);
	if (!e) {
		s->lost_events++;
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->start_ns = start;
	e->arrival_ns = c->x_arrival_ns;
	e->read_start_ns = c->read_start_ns;
	e->read_end_ns = c->read_end_ns;
	e->write_start_ns = c->write_start_ns;
	e->write_end_ns = c->write_end_ns;
	e->wire_ns = c->wire_ns;
	e->total_ns = total;
	e->queued_ns = queued;
	e->app_ns = app;
	e->tx_ns = tx;
	e->peer_ns = peer;
	e->cookie = c->cookie;
	e->bytes_in = c->bytes_in;
	e->bytes_out = c->bytes_out;
	e->tid = c->tid;
	e->retrans = retrans;
	e->status = c->status;
	e->flags = flags;
	e->flags2 = flags2;
	e->qdisc_ns = qdisc;
	e->tls_ns = tls;
	fill_endpoints(e, c);
	if (payload_on)
		fill_label(e, c);
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&xch_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
}

static __always_inline __u8 pick(const struct np_conn *c, __u64 total)
{
	__u8 flags = 0;

	if (total >= xch_slow_ns)
		flags |= NP_XEV_SLOW;
	if (c->flags & CF_SAMPLED)
		flags |= NP_XEV_SAMPLED;
	return flags;
}

/* Ends the served exchange in flight and accounts it; `how` is the
 * NP_XEV_* flags of why it ended, and NP_XEV2_* flags << 8.
 *
 * A global function, unlike everything else here: the verifier checks it
 * once, on its own, instead of again at each of its six call sites, which
 * keeps netprof's start-up short.  So it takes no socket (the endpoints are
 * in the connection state) and checks its pointer itself. */
__noinline int np_finish_served(struct np_conn *c, __u32 slot, __u32 how)
{
	struct np_xch_stats *s = xstats(slot);
	__u8 flags = how & 0xff, flags2 = (how >> 8) & 0xff;
	struct np_xs_parts p;
	__u32 retrans;

	if (!c || !s)
		return 0;
	if (c->state != XS_RESP) {
		/* A TLS read that carried no plaintext (the peer's close_notify)
		 * asked nothing. */
		if (c->state == XS_REQ &&
		    (!(c->flags & CF_TLS) || bpf_map_lookup_elem(&tls_heads, &c->cookie)))
			s->unanswered++;
		c->state = XS_IDLE;
		return 0;
	}
	if (c->flags & CF_TLS) {
		struct tls_head *h = bpf_map_lookup_elem(&tls_heads, &c->cookie);

		flags2 |= NP_XEV2_TLS;
		if (h && h->len) {
			__builtin_memcpy(c->head, h->head, sizeof(c->head));
			c->head_len = h->len;
		}
	}
	c->state = XS_IDLE;
	c->flags &= ~CF_CLOSING;
	np_xs_parts(c, &p);
	flags |= p.flags;
	flags2 |= p.flags2;
	if (p.tls) {
		s->tls_known++;
		s->tls_ns += p.tls;
	}
	if (p.flags & NP_XEV_WIRE) {
		s->tx_known++;
		s->tx_ns += p.tx;
		xhist(s, NP_XH_TX, p.tx);
	}
	if (p.flags2 & NP_XEV2_QDISC) {
		s->qdisc_known++;
		s->qdisc_ns += p.qdisc;
	}
	retrans = c->retrans - c->x_retrans;
	if (p.flags & NP_XEV_ARRIVAL) {
		s->queued_known++;
		s->queued_ns += p.queued;
		xhist(s, NP_XH_QUEUED, p.queued);
	}
	if (c->flags & CF_PIPELINED)
		flags |= NP_XEV_PIPELINED;
	if (c->flags & CF_NAGLE) {
		flags2 |= NP_XEV2_NAGLE;
		s->nagle_held++;
	}
	s->served++;
	{
		struct np_task_counts *tc = task_counts_of(c->tid);

		if (tc)
			__sync_fetch_and_add(&tc->served, 1);
	}
	s->total_ns += p.total;
	s->app_ns += p.app;
	s->peer_ns += p.peer;
	s->retrans += retrans;
	s->bytes_in += c->bytes_in;
	s->bytes_out += c->bytes_out;
	if (p.total > s->max_total_ns)
		s->max_total_ns = p.total;
	xhist(s, NP_XH_TOTAL, p.total);
	xhist(s, NP_XH_APP, p.app);
	xhist(s, NP_XH_PEER, p.peer);
	if (pick(c, p.total))
		emit(c, s, flags | pick(c, p.total), flags2, p.start, p.total, p.queued, p.app,
		     p.tx, p.peer, p.qdisc, p.tls, retrans);
	return 0;
}

static __always_inline void begin_exchange(struct np_conn *c, const struct thread_state *ts,
					   __u64 start)
{
	__u32 every = xch_sample_every; /* one read: user space may change it */

	c->read_start_ns = 0;
	c->read_end_ns = 0;
	c->write_start_ns = 0;
	c->write_end_ns = 0;
	c->wire_ns = 0;
	c->enq_ns = 0;
	c->x_arrival_ns = 0;
	c->bytes_in = 0;
	c->bytes_out = 0;
	c->status = 0;
	c->head_len = 0;
	c->tid = (__u32)bpf_get_current_pid_tgid();
	c->x_retrans = c->retrans;
	c->peer_base_ns = ts ? ts->xch_peer_ns : 0;
	c->peer_ns = 0;
	c->flags &= ~(CF_SAMPLED | CF_PIPELINED | CF_CLOSING | CF_NAGLE);
	/* The handshake before it is this exchange's; later ones have none. */
	c->x_tls_start_ns = c->tls_start_ns;
	c->x_tls_end_ns = c->tls_end_ns;
	c->tls_start_ns = 0;
	c->tls_end_ns = 0;
	if (c->flags & CF_TLS)
		bpf_map_delete_elem(&tls_heads, &c->cookie);
	if (every && bpf_get_prandom_u32() % every == 0)
		c->flags |= CF_SAMPLED;
}

/* A request that starts with a TLS handshake record, read outside any
 * traced SSL call: the target speaks TLS through a library the uprobes do
 * not see (or they are off).  Counted for the tls source's status. */
static __always_inline void untraced_tls(const struct np_conn *c)
{
	struct np_xch_stats *s;

	if (c->head_len < 2 || c->head[0] != 0x16 || c->head[1] != 0x03)
		return;
	s = xstats(SLOT_CALL);
	if (s)
		s->tls_untraced++;
}

static __always_inline void served_read(const struct sock *sk, struct np_conn *c,
					const struct thread_state *ts, __u64 start, __u64 now,
					__s64 ret)
{
	if (c->state == XS_RESP)
		np_finish_served(c, SLOT_CALL, 0);
	if (c->state == XS_IDLE) {
		begin_exchange(c, ts, start);
		c->read_start_ns = start;
		/* The first arrival since a read last emptied the queue. */
		if (c->arrival_ns > c->drained_ns)
			c->x_arrival_ns = c->arrival_ns;
		if (payload_on) {
			capture_head(c, ts, ret);
			untraced_tls(c);
		}
		c->state = XS_REQ;
	}
	c->read_end_ns = now;
	c->bytes_in += ret;
}

struct head_shift {
	struct np_conn *c;
	__u32 n, at;
};

/* Finds the end of the first request head ("\r\n\r\n") in the kept bytes. */
static long head_end_byte(__u64 i, struct head_shift *h)
{
	if (i >= NP_CONN_HEAD_BYTES - 3 || i + 3 >= h->n)
		return 1;
	if (h->c->head[i] == '\r' && h->c->head[i + 1] == '\n' && h->c->head[i + 2] == '\r' &&
	    h->c->head[i + 3] == '\n') {
		h->at = i + 4;
		return 1;
	}
	return 0;
}

static long head_move_byte(__u64 i, struct head_shift *h)
{
	__u64 from = i + h->at;

	if (from >= h->n || from >= NP_CONN_HEAD_BYTES || i >= NP_CONN_HEAD_BYTES)
		return 1;
	h->c->head[i] = h->c->head[from];
	return 0;
}

/* Pipelined requests share a read: the kept bytes of the next request (for
 * its label) follow the first request's head, if they were among them. */
static __always_inline void next_request_head(struct np_conn *c)
{
	struct head_shift h = {.c = c, .n = c->head_len};

	if (!payload_on || !h.n)
		return;
	bpf_loop(NP_CONN_HEAD_BYTES, head_end_byte, &h, 0);
	if (!h.at || h.at >= h.n) {
		c->head_len = 0;
		return;
	}
	bpf_loop(NP_CONN_HEAD_BYTES, head_move_byte, &h, 0);
	c->head_len = h.n - h.at;
}

/* include/net/tcp.h: tcp_sock.nonagle bits */
#define NP_TCP_NAGLE_OFF 1  /* TCP_NODELAY */
#define NP_TCP_NAGLE_CORK 2 /* TCP_CORK */

/* Did Nagle's algorithm just keep back the tail of a write?  It sends a
 * partial segment only when nothing sent is unacknowledged, so the tail
 * waits for the peer's ACK, which a peer delaying its ACKs sends ~40 ms
 * (Linux) to 200 ms later.  Tested after the write: unsent bytes under one
 * MSS, data in flight, room in the congestion window (else the window,
 * not Nagle, holds them) and neither TCP_NODELAY nor TCP_CORK set. */
static __always_inline bool nagle_held(const struct tcp_sock *tp)
{
	__u32 unsent = tp->write_seq - tp->snd_nxt;

	if (BPF_CORE_READ_BITFIELD(tp, nonagle) & (NP_TCP_NAGLE_OFF | NP_TCP_NAGLE_CORK))
		return false;
	return (__s32)unsent > 0 && unsent < tp->mss_cache && tp->packets_out &&
	       tp->packets_out < tp->snd_cwnd;
}

static __always_inline void served_write(const struct sock *sk, struct np_conn *c,
					 const struct thread_state *ts, __u64 start, __u64 now,
					 __s64 ret)
{
	struct tcp_sock *tp;
	__u16 status = 0;
	__u32 goal;

	if (c->state == XS_IDLE)
		return; /* nothing was asked: a greeting, or the tail of an exchange we missed */
	if (payload_on)
		status = peek_status(ts, ret);
	if (status >= 100 && status < 200) {
		/* An interim answer ("100 Continue"): the request goes on. */
		c->bytes_out += ret;
		return;
	}
	if (c->state == XS_RESP && status) {
		/* A second response to the same read: pipelined requests.  End the
		 * first exchange and start the next from the same read. */
		__u64 arrival = c->x_arrival_ns, rs = c->read_start_ns, re = c->read_end_ns;
		struct np_xch_stats *s;
		__u8 head_len;

		np_finish_served(c, SLOT_CALL, 0);
		next_request_head(c);
		head_len = c->head_len;
		begin_exchange(c, ts, rs);
		c->head_len = head_len;
		c->x_arrival_ns = arrival;
		c->read_start_ns = rs;
		c->read_end_ns = re;
		c->flags |= CF_PIPELINED;
		s = xstats(SLOT_CALL);
		if (s)
			s->pipelined++;
		c->state = XS_REQ;
	}
	if (c->state == XS_REQ) {
		c->write_start_ns = start;
		c->status = status;
		c->state = XS_RESP;
	}
	c->write_end_ns = now;
	c->bytes_out += ret;
	if (ts)
		c->peer_ns = ts->xch_peer_ns - c->peer_base_ns;
	/* When does the last byte written so far reach the device?  On
	 * loopback and veth without a qdisc it already did, inside this call. */
	tp = tcp_of(sk);
	goal = tp->write_seq;
	c->tx_goal = goal;
	if (nagle_held(tp))
		c->flags |= CF_NAGLE;
	if (c->xmit_ns >= start && (__s32)(c->xmit_end - goal) >= 0)
		c->wire_ns = c->xmit_ns;
	else
		c->wire_ns = 0;
	c->enq_ns = c->wire_ns ? c->xmit_tstamp : 0;
}

static __always_inline void outbound_write(struct np_conn *c, const struct thread_state *ts,
					   __u64 start, __u64 now, __s64 ret)
{
	if (c->state != XS_REQ) {
		begin_exchange(c, ts, start);
		c->write_start_ns = start;
		if (payload_on)
			capture_head(c, ts, ret);
		c->state = XS_REQ;
	}
	c->write_end_ns = now;
	c->bytes_out += ret;
}

/* The second part of an outbound reply (np_xs_reply_gap): its wait is the
 * peer's, so the thread's outbound wait holds it (the served exchange's
 * peer part), and an event records it. */
static __always_inline void reply_part(struct np_conn *c, struct thread_state *ts)
{
	struct np_xch_stats *s;
	__u64 gap;

	if (!np_xs_reply_gap(c, &gap))
		return;
	c->reply_parts = 1;
	if (ts)
		ts->xch_peer_ns += gap;
	s = xstats(SLOT_CALL);
	if (s)
		emit(c, s, NP_XEV_OUTBOUND, NP_XEV2_REPLY_PART, c->drained_ns, gap, 0, 0, 0, gap, 0,
		     0, 0);
}

static __always_inline void outbound_read(const struct sock *sk, struct np_conn *c,
					  struct thread_state *ts, __u64 start, __u64 now,
					  __s64 ret)
{
	struct np_xch_stats *s;
	__u64 resp, dur;
	__u8 flags = NP_XEV_OUTBOUND;

	c->bytes_in += ret;
	if (c->state == XS_RESP)
		reply_part(c, ts);
	if (c->state != XS_REQ)
		return;
	c->state = XS_RESP;
	c->reply_parts = 0;
	c->read_start_ns = start;
	c->read_end_ns = now;
	/* The response's first byte arrived after the request went out. */
	if (c->arrival_ns > c->write_start_ns && c->arrival_ns <= now) {
		resp = c->arrival_ns;
		c->x_arrival_ns = resp;
		flags |= NP_XEV_ARRIVAL;
	} else {
		resp = now;
	}
	dur = resp > c->write_start_ns ? resp - c->write_start_ns : 0;
	if (ts)
		ts->xch_peer_ns += dur;
	if (payload_on)
		c->status = peek_status(ts, ret);
	s = xstats(SLOT_CALL);
	if (!s)
		return;
	s->outbound++;
	s->outbound_ns += dur;
	if (dur > s->max_outbound_ns)
		s->max_outbound_ns = dur;
	xhist(s, NP_XH_OUT, dur);
	if (pick(c, dur))
		emit(c, s, flags | pick(c, dur), c->flags & CF_TLS ? NP_XEV2_TLS : 0,
		     c->write_start_ns, dur, 0, 0, 0, dur, 0, 0, c->retrans - c->x_retrans);
}

#include "h2.bpf.h"

static __always_inline bool is_target(void)
{
	return np_is_target((__u32)(bpf_get_current_pid_tgid() >> 32));
}

static __always_inline struct thread_state *current_thread(void)
{
	return bpf_task_storage_get(&thread_state, bpf_get_current_task_btf(), 0, 0);
}

/* A socket call inside an SSL call: the connection is TLS, and the SSL
 * call learns its connection.  True when the call is no request or
 * response data of the state machine: the handshake, a call outside
 * SSL_read/SSL_write on a TLS connection (SSL_shutdown's alert), or any
 * call of HTTP/2 over TLS (its plaintext is shipped by the uprobes). */
static __always_inline bool tls_call(struct np_conn *c, struct thread_state *ts, __u64 now)
{
	if (!ts || !ts->ssl_in)
		return c->flags & CF_TLS;
	if (!(c->flags & CF_TLS)) {
		struct ssl_key k = {.ssl = ts->ssl,
				    .tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};

		c->flags |= CF_TLS;
		bpf_map_update_elem(&ssl_conns, &k, &c->cookie, BPF_ANY);
		h2_tls_begin(c);
	}
	ts->ssl_cookie = c->cookie;
	if (ts->ssl_in != NP_SSL_HANDSHAKE) {
		/* HTTP/2 times its reads from the first arrival behind them */
		if (ts->ssl_in == NP_SSL_READ && !ts->ssl_arrival_ns &&
		    c->arrival_ns > c->drained_ns)
			ts->ssl_arrival_ns = c->arrival_ns;
		return h2_tls_sync(c);
	}
	if (!c->tls_start_ns) {
		/* From the ClientHello's arrival when it was seen. */
		c->tls_start_ns = ts->ssl_entry_ns;
		if (c->arrival_ns > c->drained_ns && c->arrival_ns < c->tls_start_ns)
			c->tls_start_ns = c->arrival_ns;
	}
	c->tls_end_ns = now;
	h2_tls_handshake(c);
	return true;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(np_sock_recv, struct sock *sk, int ret, int flags)
{
	struct thread_state *ts;
	struct np_conn *c;
	struct tcp_sock *tp;
	__u64 now, start;

	if (!is_target() || (flags & (MSG_PEEK | MSG_ERRQUEUE)))
		return 0;
	c = conn_get(sk, 0);
	if (!c || !xch_on || !(c->flags & CF_TCP) || ret < 0)
		return 0;
	if (!c->role)
		c->role = NP_ROLE_IN; /* no listener list: the side that reads first serves */
	if (!c->rport)
		conn_endpoints(c, sk);
	ts = current_thread();
	now = bpf_ktime_get_ns();
	start = ts && ts->active ? ts->start_ns : now;
	if (tls_call(c, ts, now))
		goto drained;
	if (ret > 0 &&
	    h2_call(c, ts, 0, start, c->arrival_ns > c->drained_ns ? c->arrival_ns : 0, ret))
		goto drained;
	if (ret == 0) {
		/* End of file: the peer is done. */
		if (c->role == NP_ROLE_IN)
			np_finish_served(c, SLOT_CALL, NP_XEV_CLOSED);
		c->state = XS_IDLE;
		return 0;
	}
	if (c->role == NP_ROLE_IN)
		served_read(sk, c, ts, start, now, ret);
	else
		outbound_read(sk, c, ts, start, now, ret);
drained:
	/* `now` was taken before these loads: data that arrives after them
	 * is stamped later than drained_ns and counts as a new arrival. */
	tp = tcp_of(sk);
	if (tp->copied_seq == tp->rcv_nxt)
		c->drained_ns = now;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(np_sock_send, struct sock *sk, int ret, int flags)
{
	struct thread_state *ts;
	struct np_conn *c;
	__u64 now, start;

	if (!is_target())
		return 0;
	c = conn_get(sk, 0);
	if (!c || !xch_on || !(c->flags & CF_TCP) || ret <= 0)
		return 0;
	if (!c->role)
		c->role = NP_ROLE_OUT;
	if (!c->rport)
		conn_endpoints(c, sk);
	ts = current_thread();
	now = bpf_ktime_get_ns();
	start = ts && ts->active ? ts->start_ns : now;
	if (tls_call(c, ts, now))
		return 0;
	if (h2_call(c, ts, 1, start, 0, ret))
		return 0;
	if (c->role == NP_ROLE_IN)
		served_write(sk, c, ts, start, now, ret);
	else
		outbound_write(c, ts, start, now, ret);
	/* SSL_write's plaintext starts at its first record only. */
	if (ts)
		ts->ssl_buf = 0;
	return 0;
}

/* connect() marks a connection outbound; close and reset end its exchange. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(np_sk_state, const struct sock *sk, int oldstate, int newstate)
{
	struct np_conn *c;

	if (newstate == NP_TCP_SYN_SENT) {
		if (is_target())
			conn_get((struct sock *)sk, NP_ROLE_OUT);
		return 0;
	}
	if (newstate == NP_TCP_ESTABLISHED) {
		/* A connection to one of the target's listeners: mark it now, in
		 * softirq, so that the first request's arrival is seen. */
		if (oldstate == NP_TCP_SYN_RECV && n_listen_ports &&
		    sk->__sk_common.skc_net.net->ns.inum == target_netns &&
		    is_listen_port(sk->__sk_common.skc_num)) {
			c = bpf_sk_storage_get(&conns, (struct sock *)sk, 0,
					       BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (c && !c->cookie) {
				conn_init(c, (struct sock *)sk, NP_ROLE_IN);
				conn_endpoints(c, sk);
				c->flags |= CF_PROVISIONAL;
			}
		}
		return 0;
	}
	if (newstate != NP_TCP_FIN_WAIT1 && newstate != NP_TCP_LAST_ACK && newstate != NP_TCP_CLOSE)
		return 0;
	c = conn_of(sk);
	if (!c || !xch_on || !(c->flags & CF_TCP))
		return 0;
	h2_close(c);
	if (c->role != NP_ROLE_IN) {
		c->state = XS_IDLE;
		return 0;
	}
	/* Closed with the response's last segment still queued (a shaping
	 * qdisc): the transmit hook ends the exchange when it leaves. */
	if (c->state == XS_RESP && xmit_on && !c->wire_ns && newstate != NP_TCP_CLOSE) {
		if (!(c->flags & CF_CLOSING)) {
			struct np_xch_stats *s = xstats(SLOT_OTHER);

			c->flags |= CF_CLOSING;
			if (s)
				s->deferred++;
		}
		return 0;
	}
	np_finish_served(c, SLOT_OTHER, NP_XEV_CLOSED);
	return 0;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(np_sk_data_ready, const struct sock *sk)
{
	struct np_conn *c = conn_of(sk);

	/* Only the first segment after a read emptied the queue is stamped. */
	if (c && c->arrival_ns <= c->drained_ns)
		c->arrival_ns = bpf_ktime_get_ns();
	return 0;
}

/* The sequence number just past the TCP payload of an outgoing skb, or 0
 * for a segment without payload (a pure ACK or a FIN). */
static __always_inline __u32 tcp_payload_end(const struct sk_buff *skb)
{
	unsigned char *th = skb->head + skb->transport_header;
	struct tcphdr *tcp;
	__s64 payload;
	__u32 end;

	/* A typed view: the header fields are then direct, fault-safe loads
	 * rather than a probe-read helper call per packet. */
	tcp = bpf_rdonly_cast(th, bpf_core_type_id_kernel(struct tcphdr));
	payload = (__s64)skb->len - (th - skb->data) - (((__u8 *)tcp)[12] >> 4) * 4;
	if (payload <= 0)
		return 0;
	end = bpf_ntohl(tcp->seq) + (__u32)payload;
	return end ? end : 1;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(np_dev_xmit, const struct sk_buff *skb, const struct net_device *dev)
{
	const struct sock *sk = skb->sk;
	struct np_conn *c = conn_of(sk);
	__u64 now, tstamp;
	__u32 end;

	if (!c || !(c->flags & CF_TCP))
		return 0;
	end = tcp_payload_end(skb);
	if (!end)
		return 0;
	now = bpf_ktime_get_ns();
	/* TCP stamps each segment with its departure time (CLOCK_MONOTONIC,
	 * tcp_clock_ns) when it hands it to IP: from there to here it sat in
	 * the qdisc and the device queue.  Anything else (no stamp, a
	 * realtime one, pacing in the future) is no stamp. */
	tstamp = skb->tstamp;
	if (!tstamp || tstamp > now || now - tstamp > 60000000000ull)
		tstamp = 0;
	if (!c->xmit_ns || (__s32)(end - c->xmit_end) > 0) {
		c->xmit_end = end;
		c->xmit_ns = now;
		c->xmit_tstamp = tstamp;
	}
	if (c->state == XS_RESP && c->role == NP_ROLE_IN && !c->wire_ns &&
	    (__s32)(end - c->tx_goal) >= 0) {
		c->wire_ns = now;
		c->enq_ns = tstamp;
		if (c->flags & CF_CLOSING)
			np_finish_served(c, SLOT_OTHER, NP_XEV_CLOSED);
	}
	return 0;
}

/* Run by user space once, after detaching, over the TCP sockets of the
 * target's network namespace: the served exchanges still open (a
 * kept-alive connection whose next request never came) end at their last
 * write, so the last request of every connection counts.  (The iterator
 * over the storage map itself would be the direct way, but it is refused on
 * some kernels, this project's test VM among them.) */
SEC("iter/tcp")
int np_flush_conns(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct np_conn *c;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	c = bpf_sk_storage_get(&conns, tp, 0, 0);
	if (!c || c->role != NP_ROLE_IN || c->state != XS_RESP)
		return 0;
	np_finish_served(c, SLOT_OTHER, NP_XEV2_AT_END << 8);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(np_xch_retrans, const struct sock *sk)
{
	struct np_conn *c = conn_of(sk);

	if (c)
		c->retrans++;
	return 0;
}

#endif /* NP_EXCHANGE_BPF_H */
