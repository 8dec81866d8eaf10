/* netfds.h - what the socket-fd iterator (netfds.bpf.c) hands to
 * profiler/net/sockdiag.c: one record per TCP or UDP socket in the target's fd
 * table.  Not written into recordings; plain fixed-width types all the
 * same, so both sides agree on the layout without a shared kernel header.
 */
#ifndef NP_NETFDS_H
#define NP_NETFDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct np_fd_sock {
	__u64 inode; /* the socket's inode, as /proc/PID/fd names it */
	__u32 fd;
	__u32 bound_ifindex; /* SO_BINDTODEVICE; part of the kernel's lookup key */
	__u8 family;         /* AF_INET, AF_INET6 */
	__u8 proto;          /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 state;          /* TCP_* (sk_state) */
	__u8 pad;
	__u16 lport, rport;        /* host order */
	__u8 laddr[16], raddr[16]; /* AF_INET: the first 4 bytes */
	/* TCP only (NP_FD_TCP_QUEUES set): the queues as sock_diag reports
	 * them (tcp_diag_get_info()): unread and unacked bytes, or for a
	 * listener the accept queue and its limit; and the sequence numbers
	 * that move whenever data arrives, is acked or is written. */
	__u32 recv_q, send_q;
	__u32 rcv_nxt, snd_una, write_seq;
	__u32 flags; /* NP_FD_* */
	__u32 tgid;  /* the process whose fd table holds it */
	/* Its network namespace (the inode /proc/PID/ns/net shows): sock_diag
	 * finds a socket only when asked in that namespace. */
	__u32 netns;
};

#define NP_FD_TCP_QUEUES 0x1
#define NP_FD_REUSEPORT 0x2 /* SO_REUSEPORT is set on it (sk_reuseport) */

#endif /* NP_NETFDS_H */
