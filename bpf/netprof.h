/* netprof.h - the structs and constants that the BPF programs share with
 * user space.
 *
 * Everything here is plain fixed-width types with no pointers, because the
 * same bytes travel from the kernel through a ring buffer into the recording
 * file and are read back by `netprof report` on another machine.  Changing a
 * struct here changes the recording format: bump NP_RECORDING_VERSION in
 * profiler/format/timeline.h.
 *
 * The list of traced system calls lives once, in NP_SYSCALLS below; the BPF
 * side, the loader and the report all expand it.
 */
#ifndef NP_NETPROF_H
#define NP_NETPROF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* log2 latency histogram: bucket i counts calls with 2^i <= ns < 2^(i+1)
 * (bucket 0 also takes 0 ns).  2^47 ns is about 39 hours. */
#define NP_HIST_BUCKETS 48

/* pids are below this (PID_MAX_LIMIT on 64-bit): the size of the target
 * bitmap (bpf/targets.bpf.h), 512 KiB. */
#define NP_TARGET_PID_LIMIT 4194304

/* Per thread of a service: connections accepted and exchanges served
 * (the `task_counts` map of the syscall object, keyed by tid). */
struct np_task_counts {
	__u64 accepts;
	__u64 served;
};

/* Syscall numbers we may be asked about are below this on every supported
 * architecture (x86_64 tops out at epoll_pwait2 = 441). */
#define NP_MAX_SYSCALL_NR 512

/* When is a call traced?
 *  ALWAYS      - the syscall only exists for networking or readiness waits.
 *  SOCK_FD1    - only when its first argument is a socket fd (read, write,
 *                close, sendfile's out_fd, ...); decided in the kernel from
 *                the file's inode mode at the time of the call.
 *  SOCK_FD1_3  - when its first or third argument is a socket (splice). */
#define NP_WHEN_ALWAYS 1
#define NP_WHEN_SOCK_FD1 2
#define NP_WHEN_SOCK_FD1_3 3

/* What kind of work the call is, for the report. */
#define NP_KIND_CONN 1 /* socket, connect, accept, bind, listen, shutdown, close */
#define NP_KIND_RECV 2 /* returns bytes received */
#define NP_KIND_SEND 3 /* returns bytes sent */
#define NP_KIND_WAIT 4 /* readiness waits: poll, select, epoll_wait */
#define NP_KIND_CTL 5  /* epoll_ctl */
#define NP_KIND_MMSG 6 /* sendmmsg/recvmmsg: result is a message count */

/* X(name, when, kind) */
#define NP_SYSCALLS(X) \
	X(socket, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(connect, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(accept, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(accept4, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(bind, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(listen, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(shutdown, NP_WHEN_ALWAYS, NP_KIND_CONN) \
	X(close, NP_WHEN_SOCK_FD1, NP_KIND_CONN) \
	X(sendto, NP_WHEN_ALWAYS, NP_KIND_SEND) \
	X(recvfrom, NP_WHEN_ALWAYS, NP_KIND_RECV) \
	X(sendmsg, NP_WHEN_ALWAYS, NP_KIND_SEND) \
	X(recvmsg, NP_WHEN_ALWAYS, NP_KIND_RECV) \
	X(sendmmsg, NP_WHEN_ALWAYS, NP_KIND_MMSG) \
	X(recvmmsg, NP_WHEN_ALWAYS, NP_KIND_MMSG) \
	X(sendfile, NP_WHEN_SOCK_FD1, NP_KIND_SEND) \
	X(splice, NP_WHEN_SOCK_FD1_3, NP_KIND_SEND) \
	X(read, NP_WHEN_SOCK_FD1, NP_KIND_RECV) \
	X(write, NP_WHEN_SOCK_FD1, NP_KIND_SEND) \
	X(readv, NP_WHEN_SOCK_FD1, NP_KIND_RECV) \
	X(writev, NP_WHEN_SOCK_FD1, NP_KIND_SEND) \
	X(poll, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(ppoll, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(select, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(pselect6, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(epoll_wait, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(epoll_pwait, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(epoll_pwait2, NP_WHEN_ALWAYS, NP_KIND_WAIT) \
	X(epoll_ctl, NP_WHEN_ALWAYS, NP_KIND_CTL)

#define NP_SYS_ENUM(name, when, kind) NP_SYS_##name,
enum np_sys { NP_SYSCALLS(NP_SYS_ENUM) NP_SYS_COUNT };
#undef NP_SYS_ENUM

/* np_sys_event.flags */
#define NP_EV_SLOW 0x01    /* slower than the threshold */
#define NP_EV_SAMPLED 0x02 /* picked by the 1-in-N sampler */
#define NP_EV_ADDR 0x04    /* family/ports/addresses are filled */

/* One system call, sent to user space when slow or sampled.  For accept and
 * accept4 `fd` is the new connection's fd and the addresses are its own. */
struct np_sys_event {
	__u64 start_ns; /* CLOCK_MONOTONIC at entry */
	__u64 dur_ns;
	__s64 ret; /* bytes, a new fd, or -errno */
	__u32 tid;
	__s32 fd;
	__u16 sys;   /* enum np_sys */
	__u8 flags;  /* NP_EV_* */
	__u8 family; /* AF_INET, AF_INET6, AF_UNIX or 0 */
	__u16 lport; /* host byte order */
	__u16 rport;
	__u8 proto; /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 pad[3];
	__u32 pad2;
	__u8 laddr[16]; /* IPv4 in the first four bytes */
	__u8 raddr[16];
};

/* Per-syscall totals, kept per CPU in the kernel and summed by the loader. */
struct np_sys_stats {
	__u64 count;
	__u64 errors; /* results < 0, including -EAGAIN */
	__u64 eagain; /* -EAGAIN / -EWOULDBLOCK: normal for non-blocking I/O */
	__u64 bytes;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[NP_HIST_BUCKETS];
};

/* Per-thread totals, kept in the kernel in task-local storage. */
struct np_thread_stats {
	__u64 first_ns; /* entry of its first traced call */
	__u64 last_ns;  /* exit of its last traced call */
	__u64 calls;
	__u64 sys_ns;  /* time inside traced calls */
	__u64 wait_ns; /* of which in readiness waits (NP_KIND_WAIT) */
	char comm[16];
};

/* What the thread iterator writes for each live thread of the target. */
struct np_thread_record {
	__u32 tid;
	__u32 pad;
	struct np_thread_stats stats;
};

/* Indexes into the `drops` per-CPU counter array: every event the kernel
 * side could not deliver or account is counted in one of these. */
#define NP_DROP_RINGBUF 0       /* ring buffer full: event lost */
#define NP_DROP_INFLIGHT_FULL 1 /* no memory for a thread's task storage */
#define NP_DROP_THREADS_FULL 2  /* exited-thread table full: its totals lost */
#define NP_DROP_COUNT 3

#endif /* NP_NETPROF_H */
