// SPDX-License-Identifier: GPL-2.0
/* sched.bpf.c - the scheduler source: where the target's threads spend
 * their time, off and on the CPU.
 *
 * sched_switch and sched_wakeup fire for every task on the host, so each
 * program compares the tgid with the target first and returns.  For a
 * target thread it closes the interval of the state it leaves (on CPU,
 * runnable, off CPU for a reason) into per-thread totals, aggregates
 * off-CPU time by (thread, reason, syscall, kernel stack), and streams the
 * transition to user space (bounded ring, losses counted).
 *
 * Why a thread blocks is decided at switch-out, when it is `current`: its
 * saved user registers give the system call it is in, task->in_iowait says
 * it waits for block I/O, and its kernel stack is taken then.
 *
 * Not here: CPU samples (perf_event, profiler/cpu/sampler.c) and anything
 * that needs the stack symbolized.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "netprof.h"
#include "maps.bpf.h"
#include "targets.bpf.h"
#include "schedev.h"
#include "schedstate.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_DEAD 0x80
#define ENOSYS 38
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Syscall number -> class (set by the loader from <sys/syscall.h>). */
#define NP_SC_OTHER 0
#define NP_SC_SOCKET_FD 0x80 /* NET when its first argument is a socket, else OTHER */
/* otherwise: 1 + NP_OFF_* */

const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile __u8 sys_class[NP_MAX_SYSCALL_NR] = {};
/* A blocking thread's kernel stack is taken at most this often. */
const volatile __u64 stack_every_ns = 10000000;
/* Set by user space once attached; nothing is counted before. */
volatile __u64 window_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct np_sched_thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct np_offcpu_key);
	__type(value, struct np_offcpu_val);
} offcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 8192);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, NP_SCHED_STACK_DEPTH * sizeof(__u64));
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_SDROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

static __always_inline void emit(__u64 now, __u32 tid, __u8 type, __u8 reason, __s32 sys,
				 __s32 kstack, __u32 other, bool urgent)
{
	struct np_sched_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		np_percpu_inc(&drops, NP_SDROP_RINGBUF);
		return;
	}
	e->ts_ns = now;
	e->tid = tid;
	e->type = type;
	e->reason = reason;
	e->cpu = (__u16)bpf_get_smp_processor_id();
	e->sys = sys;
	e->kstack = kstack;
	e->other_tid = other;
	e->pad = 0;
	bpf_ringbuf_submit(e,
			   urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				   ? BPF_RB_FORCE_WAKEUP
				   : BPF_RB_NO_WAKEUP);
}

/* The thread's entry; a thread first seen now has been in an unknown state
 * since the window opened (its first event tells which). */
static __always_inline struct np_sched_thread *thread_of(struct task_struct *p, __u64 since)
{
	__u32 tid = p->pid;
	struct np_sched_thread *t = bpf_map_lookup_elem(&threads, &tid);

	if (t)
		return t;
	struct np_sched_thread fresh = {};

	fresh.first_ns = since;
	fresh.since_ns = since;
	fresh.sys = -1;
	fresh.kstack = -1;
	bpf_probe_read_kernel(fresh.comm, sizeof(fresh.comm), p->comm);
	if (bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&threads, &tid)) {
		np_percpu_inc(&drops, NP_SDROP_THREADS);
		return NULL;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

/* A typed view of a pointer read with a probe: loads through it are
 * direct, fault-safe loads instead of a probe-read helper call each
 * (kernel 6.2+; older kernels take the probe-read path). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline bool fd_is_socket(struct task_struct *p, long fd)
{
	struct fdtable *fdt = p->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return false;
	/* fdt->fd is a pointer to pointers: not BTF-typed, so one read. */
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	if (!f)
		return false;
	if (bpf_rdonly_cast) {
		f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
		return (f->f_inode->i_mode & S_IFMT) == S_IFSOCK;
	}
	return (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK;
}

/* The system call `p` is blocked in, or -1 when it is not in one (a page
 * fault, a kernel lock taken outside a syscall). */
static __always_inline __s32 syscall_of(struct task_struct *p, long *arg0)
{
	/* bpf_task_pt_regs returns a BTF-typed pointer: its fields are direct,
	 * fault-safe loads, not a probe-read helper call each (this runs on
	 * every switch-out of a target thread). */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);

	if (!regs)
		return -1;
#if defined(__TARGET_ARCH_x86)
	/* The entry code parks -ENOSYS in ax for the whole syscall; an
	 * exception frame holds the user's ax instead. */
	if ((long)regs->ax != -ENOSYS)
		return -1;
	*arg0 = regs->di;
	return (__s32)regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	*arg0 = regs->orig_x0;
	return regs->syscallno;
#else
	return -1;
#endif
}

static __always_inline __u8 reason_of(struct task_struct *p, __s32 *sys)
{
	long arg0 = -1;
	__s32 nr = syscall_of(p, &arg0);
	__u32 idx;
	__u8 cls;

	*sys = nr;
	struct task_struct *task = p; /* the macro declares its own `p` */

	/* a direct load of the bitfield's word: no probe-read helper call */
	if (BPF_CORE_READ_BITFIELD(task, in_iowait))
		return NP_OFF_DISK;
	if (nr < 0 || nr >= NP_MAX_SYSCALL_NR)
		return NP_OFF_OTHER;
	idx = (__u32)nr & (NP_MAX_SYSCALL_NR - 1);
	cls = sys_class[idx];
	if (cls == NP_SC_SOCKET_FD)
		return fd_is_socket(p, arg0) ? NP_OFF_NET : NP_OFF_OTHER;
	if (cls == NP_SC_OTHER || cls > NP_OFF_COUNT)
		return NP_OFF_OTHER;
	return cls - 1;
}

/* Adds an off-CPU interval that ended (np_ts_close_off) to the
 * aggregation by (thread, reason, syscall, kernel stack). */
static __always_inline void offcpu_add(const struct np_sched_thread *t, __u32 tid, __u32 reason,
				       __u64 dur)
{
	struct np_offcpu_key k = {.tid = tid, .sys = t->sys, .kstack = t->kstack};
	struct np_offcpu_val *v;

	k.reason = (__u8)reason;
	v = bpf_map_lookup_elem(&offcpu, &k);
	if (!v) {
		struct np_offcpu_val zero = {};

		if (bpf_map_update_elem(&offcpu, &k, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&offcpu, &k)) {
			np_percpu_inc(&drops, NP_SDROP_OFFCPU);
			return;
		}
		v = bpf_map_lookup_elem(&offcpu, &k);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, dur);
	if (dur > v->max_ns)
		v->max_ns = dur;
}

static __always_inline void switch_out(void *ctx, bool preempt, struct task_struct *prev,
				       unsigned int prev_state, __u32 next_tid, __u64 now)
{
	__u32 tid = prev->pid;
	struct np_sched_thread *t = thread_of(prev, window_ns);
	__s32 sys = -1, kstack = -1;
	__u8 reason;

	if (!t)
		return;
	/* Whatever it was recorded as, a thread leaving the CPU was on it. */
	np_ts_leave_cpu(t, now);
	/* A rename (PR_SET_NAME) is seen at the latest when the thread exits
	 * or when it next leaves the CPU a stack interval after the last
	 * stack it gave: not a helper call on every switch. */
	if ((prev_state & TASK_DEAD) || now - t->last_stack_ns >= stack_every_ns)
		bpf_get_current_comm(t->comm, sizeof(t->comm));
	if (prev_state & TASK_DEAD) {
		np_ts_exit(t);
		emit(now, tid, NP_SCHED_EXIT, 0, -1, -1, next_tid, false);
		return;
	}
	if (preempt || prev_state == 0) {
		np_ts_preempted(t);
		emit(now, tid, NP_SCHED_SWITCH_OUT, NP_REASON_PREEMPTED, -1, -1, next_tid, false);
		return;
	}
	reason = reason_of(prev, &sys);
	if (now - t->last_stack_ns >= stack_every_ns) {
		kstack = bpf_get_stackid(ctx, &kstacks, 0);
		if (kstack < 0)
			np_percpu_inc(&drops, NP_SDROP_STACK);
		t->last_stack_ns = now;
	} else {
		kstack = NP_KSTACK_UNSAMPLED;
	}
	np_ts_block(t, reason, sys, kstack);
	emit(now, tid, NP_SCHED_SWITCH_OUT, reason, sys, kstack, next_tid, false);
}

static __always_inline void switch_in(struct task_struct *next, __u32 prev_tid, __u64 now)
{
	__u32 tid = next->pid, reason = 0;
	struct np_sched_thread *t = thread_of(next, window_ns);
	__u64 dur = 0;

	if (!t)
		return;
	/* off CPU: woken without a wakeup event we saw */
	if (np_ts_switch_in(t, now, &dur, &reason))
		offcpu_add(t, tid, reason, dur);
	emit(now, tid, NP_SCHED_SWITCH_IN, 0, -1, -1, prev_tid, false);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(np_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	bool out = np_is_target(prev->tgid), in = np_is_target(next->tgid);
	__u64 now;

	if ((!out && !in) || !window_ns)
		return 0;
	now = bpf_ktime_get_ns();
	if (out)
		switch_out(ctx, preempt, prev, prev_state, next->pid, now);
	if (in)
		switch_in(next, prev->pid, now);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(np_sched_wakeup, struct task_struct *p)
{
	struct np_sched_thread *t;
	__u32 tid, reason = 0;
	__u64 now, dur = 0;

	if (!np_is_target(p->tgid) || !window_ns)
		return 0;
	tid = p->pid;
	now = bpf_ktime_get_ns();
	t = thread_of(p, window_ns);
	if (!t)
		return 0;
	if (t->state == NP_TS_UNKNOWN) {
		/* Blocked since before the window: why, from its registers. */
		t->reason = reason_of(p, &t->sys);
		t->kstack = -1;
		t->state = NP_TS_OFF;
	}
	if (!np_ts_wakeup(t, now, &dur, &reason))
		return 0; /* already runnable or on a CPU */
	offcpu_add(t, tid, reason, dur);
	emit(now, tid, NP_SCHED_WAKEUP, 0, -1, -1, (__u32)bpf_get_current_pid_tgid(), false);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(np_sched_wakeup_new, struct task_struct *p)
{
	struct np_sched_thread *t;
	__u32 tid;
	__u64 now;

	if (!np_is_target(p->tgid) || !window_ns)
		return 0;
	tid = p->pid;
	now = bpf_ktime_get_ns();
	t = thread_of(p, now);
	if (!t)
		return 0;
	np_ts_born(t, now);
	/* urgent: user space opens the new thread's perf event on it */
	emit(now, tid, NP_SCHED_WAKEUP_NEW, 0, -1, -1, (__u32)bpf_get_current_pid_tgid(), true);
	return 0;
}
