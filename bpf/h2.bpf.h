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
 * Not here: HTTP/2 over TLS (the plaintext is in the SSL uprobes, not the
 * socket calls) and h2c by "Upgrade: h2c".
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
 * the thread of `ts` (its syscall and second argument say where the bytes
 * are; NULL or no buffer of ours, as sendfile: kept = 0).  Global, so that
 * it is verified once, and with its record built in the scratch rather
 * than on the stack: the socket-call programs have little to spare. */
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
	if (ts && ts->active && !ts->ssl_in) {
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
	sc->h.flags = 0;
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

/* Whether the call's buffer starts with the client connection preface. */
static __always_inline bool h2_preface(const struct thread_state *ts, __u64 len)
{
	static const char preface[NP_H2_PREFACE_LEN] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	char b[NP_H2_PREFACE_LEN];
	void *buf;

	if (len < NP_H2_PREFACE_LEN || (ts && ts->ssl_in))
		return false;
	buf = call_buffer(ts, &len);
	if (!buf || len < NP_H2_PREFACE_LEN || bpf_probe_read_user(b, sizeof(b), buf))
		return false;
	for (int i = 0; i < NP_H2_PREFACE_LEN; i++)
		if (b[i] != preface[i])
			return false;
	return true;
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

/* The connection ended: user space frees its parser, once.  The record is
 * built on the stack: this runs in softirq too, where it could interrupt
 * a ship using the CPU's scratch. */
static __always_inline void h2_close(struct np_conn *c)
{
	struct np_h2_rec h = {};

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
