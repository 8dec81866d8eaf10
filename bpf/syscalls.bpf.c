// SPDX-License-Identifier: GPL-2.0
/* syscalls.bpf.c - the syscall source: network, readiness-wait and
 * socket-I/O system calls of one process.
 *
 * sys_enter and sys_exit fire for every system call on the host, so both
 * programs compare the tgid with the target before anything else.  For each
 * traced call the kernel side keeps per-syscall totals and a log2 latency
 * histogram (per CPU, no atomics), per-thread totals, and sends one event to
 * user space for calls slower than `slow_ns` and for a 1-in-`sample_every`
 * sample of the rest.  Whether read/write/close/... act on a socket is
 * decided here from the fd's inode at the time of the call, so fds opened
 * while recording are classified correctly.
 *
 * Not here: anything about what the bytes mean, and any per-connection state
 * (that belongs to the exchange source, exchange.bpf.h, compiled into this
 * object so that it shares the thread state).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "netprof.h"
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "targets.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define EAGAIN 11
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Set by the loader before load: new child processes of a target are
 * targets too (bpf/targets.bpf.h holds the target itself). */
const volatile __u8 follow_children = 0;
/* Which calls become events.  Writable (.data/.bss, not .rodata): the overhead
 * governor (profiler/session/governor.c) raises them while recording to shed
 * detail.  Only the individual events depend on them; the totals and
 * histograms are kept for every call whatever they say. */
volatile __u64 slow_ns = 1000000;
volatile __u32 sample_every = 0;
/* Wake the reader only once this much is queued; it also polls on a timer,
 * so small bursts cost no wakeup at all. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* Kernel syscall number -> enum np_sys + 1 (0: not traced). Filled by the
 * loader from <sys/syscall.h>, so one object serves every architecture. */
const volatile __u8 sys_of_nr[NP_MAX_SYSCALL_NR] = {};

#define NP_WHEN_OF(name, when, kind) when,
static const __u8 sys_when[NP_SYS_COUNT] = {NP_SYSCALLS(NP_WHEN_OF)};
#define NP_KIND_OF(name, when, kind) kind,
static const __u8 sys_kind[NP_SYS_COUNT] = {NP_SYSCALLS(NP_KIND_OF)};

/* Per-thread state in task-local storage: the call the thread is in, and
 * its totals.  Task storage rather than hashes keyed by tid: no hash lookup
 * per call (on this project's test VM a hash lookup was a third of the exit
 * program's cost), and it goes away with the task.  User space reads the
 * totals of live threads with the `dump_threads` iterator; a thread's totals
 * move to `exited_threads` when it exits. */
struct thread_state {
	__u64 start_ns; /* of the call in flight */
	__s32 fd;
	__u16 sys;
	__u8 active;
	__u8 pad;
	struct np_thread_stats stats;
	__u64 xch_peer_ns; /* time its outbound exchanges waited (exchange.bpf.h) */
	__u64 arg2;        /* the call's second argument, when exchange labels need it */
	/* The SSL call of the target's libssl the thread is in (uprobes,
	 * exchange.bpf.h): its socket calls carry ciphertext. */
	__u64 ssl;            /* the SSL* of the call */
	__u64 ssl_buf;        /* SSL_write: the plaintext, until a socket write used it */
	__u64 ssl_rbuf;       /* SSL_read: where the plaintext will be; SSL_write: where it is */
	__u64 ssl_readbytes;  /* SSL_read_ex/SSL_write_ex: its size_t * of the count, else 0 */
	__u64 ssl_entry_ns;   /* when the call began */
	__u64 ssl_cookie;     /* the connection a socket call inside it touched */
	__u64 ssl_arrival_ns; /* SSL_read: first arrival behind its first socket read, or 0 */
	__u32 ssl_len;        /* SSL_write: plaintext bytes */
	__u8 ssl_in;          /* NP_SSL_* */
	__u8 pad2[3];
	__u32 rng; /* xorshift32 state for the 1-in-N sample; 0 until seeded */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_SYS_COUNT);
	__type(key, __u32);
	__type(value, struct np_sys_stats);
} sys_stats SEC(".maps");

/* Totals of the target's threads that exited while recording. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct np_thread_stats);
} exited_threads SEC(".maps");

/* Accepts and served exchanges per thread, for the per-process view of a
 * service; a hash lookup only on a successful accept or a finished
 * exchange of the target. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct np_task_counts);
} task_counts SEC(".maps");

static __always_inline struct np_task_counts *task_counts_of(__u32 tid)
{
	struct np_task_counts *c = bpf_map_lookup_elem(&task_counts, &tid);

	if (!c) {
		struct np_task_counts zero = {};

		bpf_map_update_elem(&task_counts, &tid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&task_counts, &tid);
	}
	return c;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_DROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

/* The exchange source: its own programs on the socket-layer tracepoints,
 * sharing the thread state above. */
#include "exchange.bpf.h"
/* ... and the uprobes on the target's libssl that show it TLS plaintext. */
#include "tls.bpf.h"

/* Direct loads through BTF pointers (tp_btf): the verifier turns them into
 * faulting-safe loads with no helper call, which matters because every
 * helper call costs on kernels with return-thunk mitigations. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	/* fdt->fd is a pointer to pointers: not BTF-typed, so one read. */
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

/* A typed view of a pointer read with a probe: loads through it are
 * direct, fault-safe loads instead of one probe-read helper call each
 * (kernel 6.2+; older kernels take the probe-read path). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline bool file_is_socket(struct file *f)
{
	struct inode *inode;

	if (!f)
		return false;
	if (bpf_rdonly_cast) {
		f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
		return (f->f_inode->i_mode & S_IFMT) == S_IFSOCK;
	}
	inode = BPF_CORE_READ(f, f_inode);
	return (BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFSOCK;
}

static __always_inline bool fd_is_socket(int fd)
{
	return file_is_socket(fd_file(fd));
}

/* Fill the event's endpoint fields from the socket behind `fd`, if any. */
static __always_inline void read_endpoints(struct np_sys_event *e, int fd)
{
	struct file *f = fd_file(fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!file_is_socket(f))
		return;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = family;
	e->proto = BPF_CORE_READ(sk, sk_protocol);
	/* Sizes are explicit: BPF_CORE_READ_INTO into a u8 array would copy
	 * sizeof(u8). */
	if (family == AF_INET) {
		bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->flags |= NP_EV_ADDR;
}

/* socket() and poll/select take no fd; epoll_wait's is the epoll fd. */
static __always_inline bool first_arg_is_fd(__u32 sys)
{
	if (sys == NP_SYS_socket)
		return false;
	if (sys_kind[sys] == NP_KIND_WAIT)
		return sys == NP_SYS_epoll_wait || sys == NP_SYS_epoll_pwait ||
		       sys == NP_SYS_epoll_pwait2;
	return true;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(np_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct thread_state *ts;
	__u16 sys;
	__s32 fd;
	__u8 slot, when;

	if (!np_is_target((__u32)(pid_tgid >> 32)))
		return 0;
	if ((unsigned long)id >= NP_MAX_SYSCALL_NR)
		return 0;
	slot = sys_of_nr[id];
	if (!slot || slot > NP_SYS_COUNT)
		return 0;
	sys = slot - 1;
	when = sys_when[sys];
	fd = first_arg_is_fd(sys) ? (int)PT_REGS_PARM1_SYSCALL(regs) : -1;
	if (when == NP_WHEN_SOCK_FD1 && !fd_is_socket(fd))
		return 0;
	if (when == NP_WHEN_SOCK_FD1_3 && !fd_is_socket(fd)) {
		int fd_out = (int)PT_REGS_PARM3_SYSCALL(regs);

		if (!fd_is_socket(fd_out))
			return 0;
		fd = fd_out;
	}
	ts = bpf_task_storage_get(&thread_state, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		np_percpu_inc(&drops, NP_DROP_INFLIGHT_FULL);
		return 0;
	}
	ts->sys = sys;
	ts->fd = fd;
	ts->active = 1;
	if (payload_on)
		ts->arg2 = PT_REGS_PARM2_SYSCALL(regs); /* a buffer the label is read from */
	ts->start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void account_thread(struct np_thread_stats *t, __u64 start, __u64 dur,
					   __u8 kind)
{
	if (!t->calls) {
		bpf_get_current_comm(t->comm, sizeof(t->comm));
		t->first_ns = start;
	}
	/* A thread is in one syscall at a time, so plain adds cannot race. */
	t->calls++;
	t->last_ns = start + dur;
	t->sys_ns += dur;
	if (kind == NP_KIND_WAIT)
		t->wait_ns += dur;
}

/* A per-thread xorshift32 instead of bpf_get_prandom_u32: no helper call
 * on every system call of the target.  Random, not a counter, so that a
 * thread's repeating pattern of calls (read, write, epoll_wait, ...) is
 * not sampled on one phase of it. */
static __always_inline __u32 thread_rand(struct thread_state *ts, __u64 seed)
{
	__u32 x = ts->rng;

	if (!x)
		x = (__u32)(seed ^ (seed >> 32)) | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ts->rng = x;
	return x;
}

/* A call that began before we attached has no entry: a pre-forking
 * server's idle workers sleep inside accept(), and each such accept would
 * go uncounted (one per worker).  Its number is in the saved registers;
 * only accepts are counted this way, having no start time to time. */
static __always_inline void accept_begun_before(struct pt_regs *regs, __u32 tid)
{
	struct np_task_counts *tc;
	long nr;
	__u8 slot;

	/* tp_btf: regs is BTF-typed, a direct load (this runs at the exit of
	 * every call of the target's that is not traced) */
#if defined(__TARGET_ARCH_x86)
	nr = regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	nr = regs->syscallno;
#else
	return;
#endif
	if ((unsigned long)nr >= NP_MAX_SYSCALL_NR)
		return;
	slot = sys_of_nr[nr & (NP_MAX_SYSCALL_NR - 1)];
	if (slot != NP_SYS_accept + 1 && slot != NP_SYS_accept4 + 1)
		return;
	tc = task_counts_of(tid);
	if (tc)
		__sync_fetch_and_add(&tc->accepts, 1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(np_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct np_sys_stats *st;
	struct np_sys_event *e;
	struct thread_state *ts;
	__u64 dur, start_ns;
	__u32 sys, bucket;
	__s32 fd;
	__u8 flags = 0, kind;

	if (!np_is_target((__u32)(pid_tgid >> 32)))
		return 0;
	ts = bpf_task_storage_get(&thread_state, bpf_get_current_task_btf(), 0, 0);
	if (!ts || !ts->active) {
		if (ret >= 0)
			accept_begun_before(regs, (__u32)pid_tgid);
		return 0;
	}
	ts->active = 0;
	start_ns = ts->start_ns;
	sys = ts->sys;
	fd = ts->fd;
	if (sys >= NP_SYS_COUNT)
		return 0;
	dur = bpf_ktime_get_ns() - start_ns;
	kind = sys_kind[sys];

	st = bpf_map_lookup_elem(&sys_stats, &sys);
	if (st) {
		st->count++;
		st->total_ns += dur;
		if (dur > st->max_ns)
			st->max_ns = dur;
		if (ret < 0) {
			st->errors++;
			if (ret == -EAGAIN)
				st->eagain++;
		} else if (kind == NP_KIND_RECV || kind == NP_KIND_SEND) {
			st->bytes += ret;
		}
		bucket = np_log2_u64(dur);
		if (bucket >= NP_HIST_BUCKETS)
			bucket = NP_HIST_BUCKETS - 1;
		st->hist[bucket]++;
	}
	account_thread(&ts->stats, start_ns, dur, kind);
	if ((sys == NP_SYS_accept || sys == NP_SYS_accept4) && ret >= 0) {
		struct np_task_counts *tc = task_counts_of(tid);

		if (tc)
			__sync_fetch_and_add(&tc->accepts, 1);
	}

	if (dur >= slow_ns) {
		flags |= NP_EV_SLOW;
	} else {
		__u32 every = sample_every; /* one read: user space may change it */

		if (every && thread_rand(ts, start_ns) % every == 0)
			flags |= NP_EV_SAMPLED;
	}
	if (!flags)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		np_percpu_inc(&drops, NP_DROP_RINGBUF);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->start_ns = start_ns;
	e->dur_ns = dur;
	e->ret = ret;
	e->tid = tid;
	e->sys = sys;
	e->flags = flags;
	/* accept's endpoints are those of the connection it returns. */
	if ((sys == NP_SYS_accept || sys == NP_SYS_accept4) && ret >= 0)
		fd = ret;
	e->fd = fd;
	if (sys != NP_SYS_close && kind != NP_KIND_WAIT && kind != NP_KIND_CTL)
		read_endpoints(e, fd);
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
	return 0;
}

/* A target thread's totals outlive it in `exited_threads`. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(np_thread_exit, struct task_struct *task)
{
	struct thread_state *ts;
	__u32 tid;

	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);

	if (!np_is_target(tgid))
		return 0;
	/* The last thread of a target process: its pid may be reused by an
	 * unrelated process, which must not be traced. */
	if (target_multi && !BPF_CORE_READ(task, signal, live.counter))
		np_target_mark(tgid, false);
	ts = bpf_task_storage_get(&thread_state, bpf_get_current_task_btf(), 0, 0);
	if (!ts || !ts->stats.calls)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&exited_threads, &tid, &ts->stats, BPF_ANY))
		np_percpu_inc(&drops, NP_DROP_THREADS_FULL);
	return 0;
}

/* A target's new child process is a target (threads keep their tgid and
 * need nothing).  Runs before the child is first woken, so the child's
 * first syscall and its first scheduler event are already seen. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(np_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = child->tgid;

	if (!follow_children || child->pid != tgid || !np_is_target(parent->tgid))
		return 0;
	np_target_mark(tgid, true);
	return 0;
}

/* Writes one struct np_thread_record per live target thread with calls;
 * user space runs it at every snapshot. */
SEC("iter/task")
int np_dump_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct np_thread_record out = {};
	struct thread_state *ts;

	if (!task || !np_is_target(task->tgid))
		return 0;
	ts = bpf_task_storage_get(&thread_state, task, 0, 0);
	if (!ts || !ts->stats.calls)
		return 0;
	out.tid = task->pid;
	out.stats = ts->stats;
	bpf_seq_write(ctx->meta->seq, &out, sizeof(out));
	return 0;
}
