// SPDX-License-Identifier: GPL-2.0
/* netfds.bpf.c - the target's TCP and UDP sockets, read from its fd table.
 *
 * A task_file iterator, attached with the target's pid as its filter (so
 * the kernel walks only the target's fd table), writes one struct
 * np_fd_sock per inet socket: inode, family, protocol, state, addresses,
 * ports, bound device and network namespace, and for TCP the queues as sock_diag reports them
 * plus the sequence numbers that move with any data.  With that the socket
 * source (profiler/net/sockdiag.c) knows every socket of the target on every
 * poll, can find each one in the kernel's hash tables with an exact
 * NETLINK_SOCK_DIAG request instead of dumping (walking) the host's whole
 * connection table, and asks sock_diag only about sockets that moved.  It
 * replaces reading /proc/PID/fd, a readlink per fd (about 3 us each).
 *
 * Kept cheap because it runs on every poll over every socket, whose memory
 * is cold by then: fields are read with direct loads through BTF pointers
 * (no probe-read helper calls, which cost more than the loads here), and
 * only the cache lines that hold them are touched.
 *
 * Not here: tcp_info, memory or anything else sock_diag reports.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "netfds.h"
#include "targets.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* A typed view of a pointer with no helper call (kernel 6.2+; 6.1 takes
 * bpf_skc_to_tcp_sock()). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_LISTEN 10

/* Set by the loader.  The iterator is attached with the target's pid as its
 * filter; kernels before 6.1 ignore that filter and show every task. */

/* Files of the target the last walk visited (sockets or not), for the poll
 * record, and files of other processes it was shown: not zero only when
 * the kernel ignored the pid filter.  User space zeroes them. */
__u32 files_seen = 0;
__u32 files_other = 0;

SEC("iter/task_file")
int np_socket_fds(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct np_fd_sock out = {};
	struct socket *sock;
	struct sock *sk;
	__u16 family, proto;

	if (!task || !file)
		return 0;
	if (!np_is_target(task->tgid)) {
		files_other++;
		return 0;
	}
	files_seen++;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	proto = sk->sk_protocol;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	out.inode = file->f_inode->i_ino;
	out.tgid = task->tgid;
	out.fd = ctx->fd;
	out.bound_ifindex = sk->__sk_common.skc_bound_dev_if;
	/* A direct load like the others (CO-RE relocated through vmlinux.h);
	 * struct net is shared by every socket of the namespace, so warm. */
	out.netns = sk->__sk_common.skc_net.net->ns.inum;
	out.family = family;
	out.proto = proto;
	out.state = sk->__sk_common.skc_state;
	out.lport = sk->__sk_common.skc_num;
	out.rport = __builtin_bswap16(sk->__sk_common.skc_dport);
	if (family == AF_INET) {
		__builtin_memcpy(out.laddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(out.raddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		__builtin_memcpy(out.laddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(out.raddr, &sk->__sk_common.skc_v6_daddr, 16);
	}
	if (proto == IPPROTO_TCP) {
		struct tcp_sock *tp;

		/* sk_protocol is TCP, so sk is a tcp_sock: a cast is enough,
		 * and costs no helper call. */
		if (bpf_rdonly_cast)
			tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
		else
			tp = bpf_skc_to_tcp_sock(sk);
		if (!tp) {
			/* not a full socket: no queues */
		} else if (out.state == TCP_LISTEN) {
			out.recv_q = sk->sk_ack_backlog;
			out.send_q = sk->sk_max_ack_backlog;
			out.flags = NP_FD_TCP_QUEUES;
		} else {
			__s32 unread = (__s32)(tp->rcv_nxt - tp->copied_seq);

			out.rcv_nxt = tp->rcv_nxt;
			out.snd_una = tp->snd_una;
			out.write_seq = tp->write_seq;
			out.recv_q = unread > 0 ? (__u32)unread : 0;
			out.send_q = out.write_seq - out.snd_una;
			out.flags = NP_FD_TCP_QUEUES;
		}
	}
	/* A bit field: what `ss` does not show, and what tells one listener
	 * shared by the workers from one listener per worker. */
	if (BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_reuseport))
		out.flags |= NP_FD_REUSEPORT;
	bpf_seq_write(ctx->meta->seq, &out, sizeof(out));
	return 0;
}
