/* schedev.h - what bpf/sched.bpf.c shares with user space: the reasons a
 * thread is off CPU, its per-thread totals, the aggregated off-CPU waits and
 * the thread-state events it streams.
 *
 * Plain fixed-width types with no pointers: the events and totals are
 * written into recordings as they are (see profiler/format/timeline.h).  Records
 * may only grow at their end.
 */
#ifndef NP_SCHEDEV_H
#define NP_SCHEDEV_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Why a thread is off CPU (blocked, not runnable).  Decided in the kernel
 * at switch-out from the system call the thread is blocked in and whether
 * it waits for I/O (task->in_iowait). */
#define NP_OFF_NET 0   /* socket I/O: recv/send/accept/connect, read/write on a socket */
#define NP_OFF_POLL 1  /* readiness waits: epoll_wait, poll, select */
#define NP_OFF_LOCK 2  /* futex: user-space locks, condition variables, joins */
#define NP_OFF_DISK 3  /* waiting for block I/O (io_schedule: reads, fsync, faults) */
#define NP_OFF_SLEEP 4 /* nanosleep, clock_nanosleep, pause, sigsuspend, ... */
#define NP_OFF_OTHER 5 /* anything else: pipes, wait4, kernel locks, page faults */
#define NP_OFF_COUNT 6

/* np_sched_event.reason of a SWITCH_OUT that was a preemption: the thread
 * stayed runnable. */
#define NP_REASON_PREEMPTED 0xff

/* np_sched_event.type: the state transitions of a target thread. */
#define NP_SCHED_SWITCH_OUT 1 /* left the CPU: blocked (reason) or preempted */
#define NP_SCHED_SWITCH_IN 2  /* got the CPU; it was runnable since its wakeup */
#define NP_SCHED_WAKEUP 3     /* blocked -> runnable; other_tid is the waker */
#define NP_SCHED_WAKEUP_NEW 4 /* a new thread became runnable for the first time */
#define NP_SCHED_EXIT 5       /* last switch-out of an exiting thread */

/* One state transition of a target thread (32 bytes). */
struct np_sched_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 tid;
	__u8 type;   /* NP_SCHED_* */
	__u8 reason; /* SWITCH_OUT: NP_OFF_* or NP_REASON_PREEMPTED */
	__u16 cpu;
	__s32 sys;       /* SWITCH_OUT when blocked: syscall number, -1 none */
	__s32 kstack;    /* SWITCH_OUT when blocked: kernel stack id, -1 none */
	__u32 other_tid; /* WAKEUP: waker (0: interrupt or idle); SWITCH_*: the other task */
	__u32 pad;
};

/* Per-thread state and totals, in a hash map keyed by tid.  Times are for
 * closed intervals only: user space adds the open one (since_ns to now,
 * in `state`) when it reads the map. */
#define NP_TS_UNKNOWN 0
#define NP_TS_ONCPU 1
#define NP_TS_RUNNABLE 2
#define NP_TS_OFF 3
#define NP_TS_DEAD 4

struct np_sched_thread {
	__u64 first_ns; /* start of its accounting: window start or birth */
	__u64 last_ns;  /* last transition */
	__u64 since_ns; /* start of the current state */
	__u64 on_cpu_ns;
	__u64 runq_ns; /* runnable, waiting for a CPU */
	__u64 off_ns[NP_OFF_COUNT];
	__u64 switches_vol;   /* blocked */
	__u64 switches_invol; /* preempted */
	__u64 wakeups;
	__s32 sys; /* of the current off-CPU interval */
	__s32 kstack;
	__u8 state;  /* NP_TS_* */
	__u8 reason; /* of the current off-CPU interval */
	__u8 born;   /* created inside the window */
	__u8 pad[5];
	char comm[16];
	__u64 last_stack_ns; /* when its kernel stack was last taken */
};

/* np_sched_event.kstack / np_offcpu_key.kstack of a block whose stack was
 * not taken: a thread's stack is taken at most once per stack_every_ns
 * (taking it is most of the tracer's cost per switch).  The report spreads
 * the time of unsampled blocks over the stacks sampled for the same
 * thread, reason and syscall. */
#define NP_KSTACK_UNSAMPLED (-2)

/* Off-CPU time aggregated by thread, reason, syscall and kernel stack. */
struct np_offcpu_key {
	__u32 tid;
	__s32 sys;
	__s32 kstack;
	__u8 reason;
	__u8 pad[3];
};

struct np_offcpu_val {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
};

/* Indexes of the per-CPU drop counters. */
#define NP_SDROP_RINGBUF 0 /* state event lost: ring buffer full */
#define NP_SDROP_STACK 1   /* kernel stack not recorded (stack map full or collision) */
#define NP_SDROP_THREADS 2 /* thread table full: thread not accounted */
#define NP_SDROP_OFFCPU 3  /* off-CPU aggregation table full */
#define NP_SDROP_COUNT 4

#define NP_SCHED_STACK_DEPTH 64

#endif /* NP_SCHEDEV_H */
