/* h2.bpf.h - HTTP/2 capture for the exchange source: on a connection that
 * carries HTTP/2 (CF_H2), every socket call's bytes go to user space, where
 * profiler/proto/h2conn.c reassembles frames, decodes the header blocks
 * (HPACK needs all of them, in order) and times each stream.  Included by
 * exchange.bpf.h.
 *
 * A connection becomes HTTP/2 when the target reads (served) or writes
 * (outbound) the client connection preface as the first bytes of its
 * first exchange: cleartext HTTP/2 with prior knowledge (h2c).  From then
 * on the HTTP/1 state machine skips it.  Other connections pay one flag
 * test per call, and a 24-byte read at the start of each exchange when
 * payload reading is on.
 *
 * Each call is copied (up to NP_H2_SHIP_MAX bytes, over up to
 * NP_H2_MAX_IOV iovecs: nginx answers with writev of 8 iovecs, a gRPC
 * server with sendmsg of 12) into a
 * per-CPU scratch buffer and sent with bpf_ringbuf_output on a ring of its
 * own.  The per-direction offset always advances, so a chunk the ring had
 * no room for shows as a gap in user space.
 *
 * HTTP/2 over TLS (ALPN h2, with --tls): the socket calls carry
 * ciphertext, so the SSL uprobes (tls.bpf.h) ship the plaintext instead,
 * SSL_read's at its return and SSL_write's at its return, timed from the
 * SSL call's entry.  They have the connection's cookie but not its socket,
 * so a TLS connection's state for this lives in `h2_tls`, by cookie: a
 * copy of its np_conn made at its first TLS socket call (role, endpoints),
 * then its handshake span, its per-direction offsets and CF_H2 once the
 * first plaintext of the client's direction turned out to be the preface.
 * Any other first plaintext removes the entry, except the server's
 * SETTINGS, which may come first (nginx sends them when the preface is
 * not there yet): those are shipped on trust, and a CLOSE record takes
 * them back if the preface does not follow.  The socket hooks of a TLS
 * connection look it up (one lookup per call, next to a uprobe trap) and
 * stand aside once it is HTTP/2, dropping the HTTP/1 exchange its first
 * read began (nothing is counted when an exchange begins); its ciphertext
 * calls ship nothing.
 *
 * Not here: h2c by "Upgrade: h2c", and HTTP/2 over TLS on a connection
 * whose handshake was before recording (its first plaintext is not seen).
 */
#ifndef NP_H2_BPF_H
#define NP_H2_BPF_H

#include "h2chunk.h"

#define NP_H2_MAX_IOV 64
#define NP_H2_PREFACE_LEN 24

/* Set by the loader: HTTP/2 capture on (exchanges and payload on). */
const volatile __u8 h2_on = 0;

struct h2_scratch {
	/* A ship in progress on this CPU.  Programs here run with migration
	 * off but may be preempted (PREEMPT kernels) by another traced call on
	 * the same CPU, which then runs to its end before the first resumes:
	 * so a plain flag, tested then set, is enough to keep the second off
	 * the first's bytes. */
	__u32 busy;
	__u32 pad;
	struct np_h2_rec h;
	/* twice the most kept, so that the verifier can bound
	 * "offset (< MAX) + length (<= MAX)" inside it */
	__u8 data[2 * NP_H2_SHIP_MAX];
};

/* One entry per possible CPU (sized by the loader): a per-CPU array cannot
 * hold values this large. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h2_scratch);
} h2_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* resized by the loader */
} h2_chunks SEC(".maps");

/* HTTP/2-over-TLS state by socket cookie (see the top): an entry from a
 * TLS connection's first socket call until its first plaintext says it is
 * not HTTP/2, or until it closes.  Allocated as needed: most entries live
 * only through a handshake. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct np_conn);
} h2_tls SEC(".maps");

/* Copies up to `len` bytes from a user buffer into the scratch at `at`;
 * returns how many were kept. */
static __always_inline __u32 h2_copy(struct h2_scratch *sc, __u32 at, __u64 buf, __u64 len)
{
	__u64 n, off = at;

	if (off >= NP_H2_SHIP_MAX || !buf)
		return 0;
	n = len < NP_H2_SHIP_MAX - off ? len : NP_H2_SHIP_MAX - off;
	/* re-checked on the very registers the helper gets: the compiler
	 * would otherwise test copies and leave the verifier without bounds */
	barrier_var(n);
	barrier_var(off);
	if (n > NP_H2_SHIP_MAX || off >= NP_H2_SHIP_MAX)
		return 0;
	if (bpf_probe_read_user(sc->data + off, n, (void *)buf))
		return 0;
	return (__u32)n;
}

struct h2_iov_walk {
	struct h2_scratch *sc;
	__u64 iovp, len;
	__u32 kept;
};

/* One iovec of the walk: copied, and 1 (stop) once the call's bytes are
 * all kept or the scratch is full. */
static long h2_iov_step(__u64 i, struct h2_iov_walk *w)
{
	struct iovec iov;
	__u64 take;
	__u32 n;

	if (!w->len || w->kept >= NP_H2_SHIP_MAX)
		return 1;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(w->iovp + i * sizeof(iov))))
		return 1;
	take = iov.iov_len < w->len ? iov.iov_len : w->len;
	n = h2_copy(w->sc, w->kept, (__u64)iov.iov_base, take);
	w->kept += n;
	if (n != take)
		return 1; /* cut (full scratch, or unreadable): the rest is a gap */
	w->len -= take;
	return 0;
}

/* Kept bytes of an iovec array holding `len` bytes of the call.  A
 * bpf_loop: the verifier checks one step, whatever NP_H2_MAX_IOV is (an
 * unrolled loop of 16 already passed its limit). */
static __always_inline __u32 h2_copy_iov(struct h2_scratch *sc, __u64 iovp, __u64 len)
{
	struct h2_iov_walk w = {.sc = sc, .iovp = iovp, .len = len};

	bpf_loop(NP_H2_MAX_IOV, h2_iov_step, &w, 0);
	return w.kept;
}

/* Ships one call of `len` bytes in direction `dir` (np_h2_dir), made by
 * the thread of `ts`: inside SSL_read or SSL_write (the SSL uprobes), the
 * call's plaintext buffer; otherwise its syscall and second argument say
 * where the bytes are (NULL or no buffer of ours, as sendfile: kept = 0).
 * `c` is the connection's socket state, or its h2_tls entry.  Global, so
 * that it is verified once, and with its record built in the scratch
 * rather than on the stack: the socket-call programs have little to
 * spare. */
__noinline int np_h2_ship(struct np_conn *c, struct thread_state *ts, __u64 dir_len, __u64 start_ns,
			  __u64 arrival_ns)
{
	__u32 cpu = bpf_get_smp_processor_id(), kept = 0, dir = (dir_len >> 32) & 1;
	__u64 len = (__u32)dir_len, buf = 0, size, iov[2];
	struct h2_scratch *sc;
	__u32 sys = 0;

	if (!c)
		return 0;
	sc = bpf_map_lookup_elem(&h2_scratch, &cpu);
	if (!sc)
		return 0;
	if (sc->busy) {
		/* preempted a ship: this call is a gap for user space */
		c->h2_off[dir] += len;
		return 0;
	}
	sc->busy = 1;
	if (ts && (ts->ssl_in == NP_SSL_READ || ts->ssl_in == NP_SSL_WRITE)) {
		sys = NP_SYS_read; /* one flat buffer */
		buf = ts->ssl_rbuf;
	} else if (ts && ts->active && !ts->ssl_in) {
		sys = ts->sys;
		buf = ts->arg2;
	}
	if (buf) {
		switch (sys) {
		case NP_SYS_read:
		case NP_SYS_write:
		case NP_SYS_recvfrom:
		case NP_SYS_sendto:
			kept = h2_copy(sc, 0, buf, len);
			break;
		case NP_SYS_recvmsg:
		case NP_SYS_sendmsg:
			/* msg_iov and msg_iovlen of the user_msghdr */
			if (bpf_probe_read_user(iov, sizeof(iov),
						(void *)(buf +
							 offsetof(struct user_msghdr, msg_iov))) ||
			    !iov[1])
				break;
			kept = h2_copy_iov(sc, iov[0], len);
			break;
		case NP_SYS_readv:
		case NP_SYS_writev:
			kept = h2_copy_iov(sc, buf, len);
			break;
		}
	}
	sc->h.cookie = c->cookie;
	sc->h.call_start_ns = start_ns;
	sc->h.call_end_ns = bpf_ktime_get_ns();
	sc->h.arrival_ns = arrival_ns;
	sc->h.offset = c->h2_off[dir];
	sc->h.len = (__u32)len;
	sc->h.kept = kept;
	sc->h.dir = dir;
	sc->h.kind = NP_H2REC_BYTES;
	sc->h.role = c->role;
	sc->h.flags = c->flags & CF_TLS ? NP_H2REC_F_TLS : 0;
	/* the handshake goes with the first record after it, once */
	sc->h.tls_ns = 0;
	if (c->tls_start_ns && c->tls_end_ns >= c->tls_start_ns) {
		sc->h.tls_ns = c->tls_end_ns - c->tls_start_ns;
		c->tls_start_ns = 0;
		c->tls_end_ns = 0;
	}
	sc->h.tid = (__u32)bpf_get_current_pid_tgid();
	sc->h.family = c->family;
	sc->h.lport = c->lport;
	sc->h.rport = c->rport;
	__builtin_memcpy(sc->h.laddr, c->laddr, sizeof(sc->h.laddr));
	__builtin_memcpy(sc->h.raddr, c->raddr, sizeof(sc->h.raddr));
	c->h2_off[dir] += len;
	size = sizeof(sc->h) + kept;
	barrier_var(size);
	if (size > sizeof(sc->h) + NP_H2_SHIP_MAX) {
		sc->busy = 0;
		return 0;
	}
	/* No room: the offset moved on all the same, so user space sees the
	 * gap; a gap outside skipped payload counts the connection's open
	 * streams as lost (unanswered). */
	bpf_ringbuf_output(&h2_chunks, &sc->h, size,
			   bpf_ringbuf_query(&h2_chunks, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				   ? BPF_RB_FORCE_WAKEUP
				   : BPF_RB_NO_WAKEUP);
	sc->busy = 0;
	return 0;
}

/* Whether `len` bytes at user address `buf` start with the client
 * connection preface. */
static __always_inline bool h2_preface_at(const void *buf, __u64 len)
{
	static const char preface[NP_H2_PREFACE_LEN] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	char b[NP_H2_PREFACE_LEN];

	if (!buf || len < NP_H2_PREFACE_LEN || bpf_probe_read_user(b, sizeof(b), buf))
		return false;
	for (int i = 0; i < NP_H2_PREFACE_LEN; i++)
		if (b[i] != preface[i])
			return false;
	return true;
}

/* Whether the call's buffer starts with the client connection preface. */
static __always_inline bool h2_preface(const struct thread_state *ts, __u64 len)
{
	void *buf;

	if (len < NP_H2_PREFACE_LEN || (ts && ts->ssl_in))
		return false;
	buf = call_buffer(ts, &len);
	return h2_preface_at(buf, len);
}

/* What the call's buffer starts with, for a connection joined mid-stream. */
enum h2_head {
	H2_HEAD_UNKNOWN, /* no syscall state: the call entered before the hooks were attached */
	H2_HEAD_OTHER,   /* not a frame header (a read may still be inside a frame) */
	H2_HEAD_FRAME,   /* what can only be an HTTP/2 frame header */
	H2_HEAD_HTTP1,   /* an HTTP/1 request or status line */
};

/* A frame header is: a known type, the reserved bit clear, a length the
 * type allows and within the default SETTINGS_MAX_FRAME_SIZE.  HTTP/1 text
 * fails on the type byte (a printable character), a TLS record on the
 * length, RESP on the type ('\n'), PostgreSQL's startup and SSLRequest on
 * the length or the reserved bit. */
static __always_inline enum h2_head h2_head(const struct thread_state *ts, __u64 len)
{
	__u8 b[9];
	__u32 n;
	void *buf;

	if (!ts || !ts->active)
		return H2_HEAD_UNKNOWN;
	buf = call_buffer(ts, &len);
	/* sendfile and splice carry no buffer of ours: no frames either */
	if (!buf || len < sizeof(b) || bpf_probe_read_user(b, sizeof(b), buf))
		return H2_HEAD_OTHER;
	if (b[0] >= 'A' && b[0] <= 'Z' && b[1] >= 'A' && b[1] <= 'Z' && b[2] >= 'A' &&
	    b[2] <= 'Z' && (b[3] == ' ' || (b[3] >= 'A' && b[3] <= 'Z')))
		return H2_HEAD_HTTP1; /* "GET ", "POST", "HTTP" */
	n = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	if (b[3] > 9 || (b[5] & 0x80) || n > 16384)
		return H2_HEAD_OTHER;
	switch (b[3]) {
	case 3: /* RST_STREAM */
	case 8: /* WINDOW_UPDATE */
		return n == 4 ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	case 2: /* PRIORITY */
		return n == 5 ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	case 4: /* SETTINGS */
		return n % 6 == 0 && !(b[5] | b[6] | b[7] | b[8]) ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	case 6: /* PING */
		return n == 8 && !(b[5] | b[6] | b[7] | b[8]) ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	case 7: /* GOAWAY */
		return n >= 8 && !(b[5] | b[6] | b[7] | b[8]) ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	default: /* DATA, HEADERS, PUSH_PROMISE, CONTINUATION: on a stream */
		return b[5] | b[6] | b[7] | b[8] ? H2_HEAD_FRAME : H2_HEAD_OTHER;
	}
}

/* A connection opened before recording (joined) that moves HTTP/2 frames is
 * set aside as XS_OPAQUE.  Until that is decided its calls stand aside from
 * the HTTP/1 state machine too (true), so that no exchange is made of
 * frames.  Only where a connection opened while recording would have been
 * marked at connect() or accept (outbound, or served with a listener list),
 * so that a fresh one's binary protocol is never taken for HTTP/2.  A read
 * may begin inside a frame, a write begins a message: a read decides only
 * on a frame header or HTTP/1 text, a write on anything it holds. */
static __always_inline bool h2_joined(struct np_conn *c, struct thread_state *ts, __u32 dir,
				      __u64 len)
{
	struct np_xch_stats *s;

	if (c->joined != NP_JOINED_UNSURE || (c->role != NP_ROLE_OUT && !n_listen_ports))
		return false;
	switch (h2_head(ts, len)) {
	case H2_HEAD_FRAME:
		break;
	case H2_HEAD_HTTP1:
		c->joined = NP_JOINED_NOT_H2;
		return false;
	case H2_HEAD_OTHER:
		if (dir == 1) {
			c->joined = NP_JOINED_NOT_H2;
			return false;
		}
		return true;
	default:
		return true;
	}
	c->state = XS_OPAQUE;
	s = xstats(SLOT_CALL);
	if (s)
		s->h2_joined++;
	return true;
}

/* A call on an HTTP/2 connection, or the one that makes it one: shipped,
 * and true when the HTTP/1 state machine must not see it.  `dir` is the
 * np_h2_dir of the call; `fresh` says the connection is between exchanges
 * (where a preface can start). */
static __always_inline bool h2_call(struct np_conn *c, struct thread_state *ts, __u32 dir,
				    __u64 start, __u64 arrival, __s64 ret)
{
	if (!(c->flags & CF_H2)) {
		if (c->state == XS_OPAQUE)
			return true;
		if (!h2_on || (c->flags & CF_TLS))
			return false;
		if (h2_joined(c, ts, dir, ret))
			return true;
		if (c->state != XS_IDLE || c->bytes_in || c->bytes_out)
			return false;
		/* the client sends the preface: the target reads it when it
		 * serves, writes it when it is the client */
		if ((dir == 0) != (c->role == NP_ROLE_IN) || !h2_preface(ts, ret))
			return false;
		c->flags |= CF_H2;
		c->h2_off[0] = 0;
		c->h2_off[1] = 0;
	}
	np_h2_ship(c, ts, (__u64)dir << 32 | (__u32)ret, start, arrival);
	return true;
}

/* A TLS connection's first socket call: its h2_tls entry, a copy of its
 * state so far, which the SSL uprobes fill in. */
static __always_inline void h2_tls_begin(struct np_conn *c)
{
	if (!h2_on || c->bytes_in || c->bytes_out || (c->flags & CF_H2))
		return;
	bpf_map_update_elem(&h2_tls, &c->cookie, c, BPF_NOEXIST);
}

/* A socket call of the handshake: its span so far, for the first stream. */
static __always_inline void h2_tls_handshake(const struct np_conn *c)
{
	struct np_conn *e;

	if (!h2_on)
		return;
	e = bpf_map_lookup_elem(&h2_tls, &c->cookie);
	if (!e)
		return;
	e->tls_start_ns = c->tls_start_ns;
	e->tls_end_ns = c->tls_end_ns;
}

/* A TLS connection's socket call: true once its plaintext is HTTP/2, when
 * the socket hooks stand aside.  The HTTP/1 exchange its first read began
 * is dropped (its begin counted nothing). */
static __always_inline bool h2_tls_sync(struct np_conn *c)
{
	struct np_conn *e;

	if (c->flags & CF_H2)
		return true;
	if (!h2_on)
		return false;
	e = bpf_map_lookup_elem(&h2_tls, &c->cookie);
	if (!e || !(e->flags & CF_H2))
		return false;
	c->flags |= CF_H2;
	c->state = XS_IDLE;
	bpf_map_delete_elem(&tls_heads, &c->cookie);
	return true;
}

/* Whether `n` bytes at user address `buf` start with a SETTINGS frame
 * (no ACK, stream 0, whole settings): the server's connection preface. */
static __always_inline bool h2_settings_at(const void *buf, __u64 n)
{
	__u8 b[9];
	__u32 len;

	if (!buf || n < sizeof(b) || bpf_probe_read_user(b, sizeof(b), buf))
		return false;
	len = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	return b[3] == 4 && b[4] == 0 && !(b[5] | b[6] | b[7] | b[8]) && len % 6 == 0;
}

/* h2_tls entry state: the server's SETTINGS came before the client's
 * preface (nginx writes first when the preface is not there yet), and
 * was shipped on trust. */
#define H2_TLS_SERVER_FIRST XS_RESP

/* Not HTTP/2 after all: the entry goes, and user space drops whatever it
 * was shipped on trust. */
static __always_inline void h2_tls_drop(struct np_conn *e, __u64 cookie)
{
	struct np_h2_rec h = {};

	if (e->h2_off[0] || e->h2_off[1]) {
		h.cookie = cookie;
		h.call_end_ns = bpf_ktime_get_ns();
		h.kind = NP_H2REC_CLOSE;
		h.role = e->role;
		bpf_ringbuf_output(&h2_chunks, &h, sizeof(h), BPF_RB_FORCE_WAKEUP);
	}
	bpf_map_delete_elem(&h2_tls, &cookie);
}

/* `n` bytes of plaintext that SSL_read returned (dir 0) or SSL_write wrote
 * (dir 1) on the connection `cookie`, in the uprobe at the SSL call's
 * return: shipped, and true, when the connection is HTTP/2.  The first
 * plaintext of the client's direction decides: the preface makes it
 * HTTP/2, anything else removes its entry.  Before it, the server may
 * only have sent SETTINGS. */
static __always_inline bool h2_tls_plain(struct thread_state *ts, __u64 cookie, __u32 dir, __u64 n)
{
	struct np_conn *e = bpf_map_lookup_elem(&h2_tls, &cookie);
	void *buf = (void *)ts->ssl_rbuf;

	if (!e)
		return false;
	if (!(e->flags & CF_H2)) {
		if ((dir == 0) == (e->role == NP_ROLE_IN)) {
			if (!h2_preface_at(buf, n)) {
				h2_tls_drop(e, cookie);
				return false;
			}
			e->flags |= CF_H2;
		} else if (e->state != H2_TLS_SERVER_FIRST) {
			if (!h2_settings_at(buf, n)) {
				h2_tls_drop(e, cookie);
				return false;
			}
			e->state = H2_TLS_SERVER_FIRST;
		}
	}
	if (n > 0xffffffffull)
		n = 0xffffffffull;
	np_h2_ship(e, ts, (__u64)dir << 32 | n, ts->ssl_entry_ns, dir ? 0 : ts->ssl_arrival_ns);
	return true;
}

/* The connection ended: user space frees its parser, once.  The record is
 * built on the stack: this runs in softirq too, where it could interrupt
 * a ship using the CPU's scratch. */
static __always_inline void h2_close(struct np_conn *c)
{
	struct np_h2_rec h = {};

	if (c->flags & CF_TLS) {
		h2_tls_sync(c);
		if (h2_on)
			bpf_map_delete_elem(&h2_tls, &c->cookie);
	}
	if (!(c->flags & CF_H2))
		return;
	h.cookie = c->cookie;
	h.call_end_ns = bpf_ktime_get_ns();
	h.kind = NP_H2REC_CLOSE;
	h.role = c->role;
	bpf_ringbuf_output(&h2_chunks, &h, sizeof(h), BPF_RB_FORCE_WAKEUP);
	c->flags &= ~CF_H2;
	c->state = XS_IDLE;
	/* keep later calls from looking like a fresh connection */
	c->bytes_in = 1;
}

#endif /* NP_H2_BPF_H */
