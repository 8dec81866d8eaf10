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

#include "connstate.h"

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
