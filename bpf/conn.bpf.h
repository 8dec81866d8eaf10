/* conn.bpf.h - per-connection state of the target's sockets, in
 * socket-local storage, shared by the exchange source (exchange.bpf.h, in
 * the syscalls object) and the kernel stack source (netstack.bpf.c), which
 * reuses the same map.
 *
 * A socket gets its entry the first time the target reads or writes it
 * (sock:sock_recv_length / sock_send_length, in the target's own context),
 * connects it (sock:inet_sock_set_state to SYN_SENT), or - provisionally,
 * so that the arrival of the first request is seen - when a connection to
 * one of its listening ports in its network namespace is established.  Having an entry is
 * what "a socket of the target" means to the host-wide tracepoints: they
 * look it up without creating and return at once for every other socket.
 * The entry goes away with the socket, or with the map when netprof exits.
 *
 * Kernel-only: never written to a recording, so it may change freely (but
 * both objects must agree on it: the loader reuses the map by fd).
 */
#ifndef NP_CONN_BPF_H
#define NP_CONN_BPF_H

#define NP_ROLE_IN 1  /* the target serves requests on it (accepted) */
#define NP_ROLE_OUT 2 /* the target makes requests on it (connected) */

/* np_conn.state: where the connection is in its current exchange */
#define XS_IDLE 0 /* between exchanges */
#define XS_REQ 1  /* request being read (served) / written (outbound) */
#define XS_RESP 2 /* response being written (served) / read (outbound) */

/* np_conn.flags */
#define CF_TCP 0x01       /* a TCP socket over IPv4/IPv6: exchanges are tracked */
#define CF_CLOSING 0x02   /* closed while its last segment waited to leave */
#define CF_SAMPLED 0x04   /* the current exchange was picked by the sampler */
#define CF_PIPELINED 0x08 /* the current exchange's request shared a read */
/* Accepted on a listener of the target's, not yet touched by the target:
 * another process sharing the listener (nginx workers) may take it. */
#define CF_PROVISIONAL 0x10

#define NP_CONN_HEAD_BYTES 128

struct np_conn {
	__u64 cookie;
	__u8 role;  /* NP_ROLE_* */
	__u8 state; /* XS_* */
	__u8 flags; /* CF_* */
	__u8 head_len;
	__u16 status;
	__u16 pad;
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
	__u8 pad1;
	__u16 lport, rport; /* host order */
	__u16 pad3;
	__u8 laddr[16], raddr[16];
	/* The first bytes of the current request, kept only until the exchange
	 * ends; only "METHOD /path" of it is ever sent to user space. */
	__u8 head[NP_CONN_HEAD_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct np_conn);
} conns SEC(".maps");

#define NP_TCP_ESTABLISHED 1
#define NP_TCP_SYN_SENT 2
#define NP_TCP_SYN_RECV 3
#define NP_TCP_FIN_WAIT1 4
#define NP_TCP_TIME_WAIT 6
#define NP_TCP_CLOSE 7
#define NP_TCP_LAST_ACK 9
#define NP_TCP_NEW_SYN_RECV 12

/* The target's entry for sk, or NULL - cheaply for the sockets of every
 * other process: most sockets have no BPF storage at all, and the pointer
 * test costs one load where the helper call costs a retpoline.  Request and
 * time-wait sockets are smaller than struct sock: their sk_bpf_storage
 * would be someone else's bytes, so they are excluded first. */
static __always_inline struct np_conn *conn_of(const struct sock *sk)
{
	__u8 st;

	if (!sk)
		return NULL;
	st = sk->__sk_common.skc_state;
	if (st == NP_TCP_TIME_WAIT || st == NP_TCP_NEW_SYN_RECV)
		return NULL;
	if (!sk->sk_bpf_storage)
		return NULL;
	return bpf_sk_storage_get(&conns, (struct sock *)sk, 0, 0);
}

#endif /* NP_CONN_BPF_H */
