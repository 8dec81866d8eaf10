/* connstate.h - the per-connection state of conn.bpf.h without its map,
 * so that plain C (the exchange state machine in xchstate.bpf.h and its
 * unit tests) can use it.  Kernel-only otherwise: never in a recording.
 */
#ifndef NP_CONNSTATE_H
#define NP_CONNSTATE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NP_ROLE_IN 1  /* the target serves requests on it (accepted) */
#define NP_ROLE_OUT 2 /* the target makes requests on it (connected) */

/* np_conn.state: where the connection is in its current exchange */
#define XS_IDLE 0 /* between exchanges */
#define XS_REQ 1  /* request being read (served) / written (outbound) */
#define XS_RESP 2 /* response being written (served) / read (outbound) */
/* HTTP/2 frames on a connection joined mid-stream: its header blocks
 * cannot be decoded without the ones sent before (HPACK), so nothing on it
 * is timed; counted in np_xch_stats.h2_joined. */
#define XS_OPAQUE 3

/* np_conn.joined */
#define NP_JOINED_NO 0     /* seen from connect() or accept */
#define NP_JOINED_UNSURE 1 /* joined; whether it carries HTTP/2 is not known yet */
#define NP_JOINED_NOT_H2 2 /* joined; a write showed it is not HTTP/2 */

/* np_conn.flags */
#define CF_TCP 0x01       /* a TCP socket over IPv4/IPv6: exchanges are tracked */
#define CF_CLOSING 0x02   /* closed while its last segment waited to leave */
#define CF_SAMPLED 0x04   /* the current exchange was picked by the sampler */
#define CF_PIPELINED 0x08 /* the current exchange's request shared a read */
/* Accepted on a listener of the target's, not yet touched by the target:
 * another process sharing the listener (nginx workers) may take it. */
#define CF_PROVISIONAL 0x10
#define CF_TLS 0x20 /* its bytes are TLS records: labels come from the SSL uprobes */
#define CF_H2 0x40  /* HTTP/2: streams are timed in user space, not by the state machine */
/* A write of the current response was left in the send queue by Nagle's
 * algorithm: a partial segment while earlier data waited for its ACK. */
#define CF_NAGLE 0x80

#define NP_CONN_HEAD_BYTES 128

struct np_conn {
	__u64 cookie;
	__u8 role;  /* NP_ROLE_* */
	__u8 state; /* XS_* */
	__u8 flags; /* CF_* */
	__u8 head_len;
	__u16 status;
	__u8 reply_parts; /* outbound: later parts of the reply seen (np_xs_reply_gap) */
	__u8 pad;
	__u32 tid;
	__u32 tx_goal;    /* TCP write_seq after the last response write */
	__u32 xmit_end;   /* highest sequence end handed to a device */
	__u32 retrans;    /* retransmitted segments since first seen */
	__u32 x_retrans;  /* ... when the current exchange started */
	__u64 arrival_ns; /* first data arrival since the queue was last read empty */
	__u64 drained_ns; /* when a read last left the receive queue empty */
	__u64 x_arrival_ns;
	__u64 read_start_ns, read_end_ns;
	__u64 write_start_ns, write_end_ns;
	__u64 wire_ns;      /* last segment of the response handed to the device */
	__u64 enq_ns;       /* ... left TCP for the IP layer and the qdisc (0: unknown) */
	__u64 xmit_tstamp;  /* the same for the segment of xmit_ns */
	__u64 xmit_ns;      /* last data segment handed to the device */
	__u64 peer_base_ns; /* the thread's outbound wait total when the exchange began */
	__u64 peer_ns;
	__u64 bytes_in, bytes_out;
	/* The endpoints, copied from the socket once connected (rport != 0),
	 * so that the code ending an exchange needs no socket. */
	__u8 family;
	/* NP_JOINED_*: first seen in a socket call, not at connect() or
	 * accept, so it may have carried data before recording began */
	__u8 joined;
	__u16 lport, rport; /* host order */
	__u16 pad3;
	__u8 laddr[16], raddr[16];
	/* The first bytes of the current request, kept only until the exchange
	 * ends; only "METHOD /path" of it is ever sent to user space. */
	__u8 head[NP_CONN_HEAD_BYTES];
	/* TLS (CF_TLS): the handshake seen in SSL_do_handshake, from the
	 * ClientHello's arrival (or the call) to its last socket call; the
	 * first exchange after it takes it over as its x_tls_* span. */
	__u64 tls_start_ns, tls_end_ns;
	__u64 x_tls_start_ns, x_tls_end_ns;
	/* HTTP/2 (CF_H2): bytes moved so far each way (read, write), so that
	 * user space sees a chunk the ring had no room for as a gap. */
	__u64 h2_off[2];
};

#endif /* NP_CONNSTATE_H */
