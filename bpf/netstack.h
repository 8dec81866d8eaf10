/* netstack.h - what the kernel stack source (bpf/netstack.bpf.c) shares
 * with user space: per-CPU softirq and NAPI totals, host-wide drop and
 * retransmit totals, and the event sent for a drop, retransmit or full
 * receive queue on one of the target's sockets.
 *
 * Plain fixed-width types, no pointers: recorded as they are.
 */
#ifndef NP_NETSTACK_H
#define NP_NETSTACK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "netprof.h" /* NP_HIST_BUCKETS */

/* enum skb_drop_reason values are below this on every kernel so far (6.18:
 * 128); larger ones are counted in the last slot. */
#define NP_MAX_DROP_REASONS 512

/* One softirq vector on one CPU: runs and time, with a log2 histogram of
 * the run time (bucket i: 2^i <= ns < 2^(i+1)). */
struct np_softirq_stats {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[NP_HIST_BUCKETS];
};

/* NAPI polls on one CPU: work done against the budget.  A poll that used
 * its whole budget left packets behind (the driver will be polled again):
 * the per-poll view of softnet_stat's time_squeeze. */
struct np_napi_stats {
	__u64 polls;
	__u64 work;      /* packets processed */
	__u64 budget;    /* sum of the budgets offered */
	__u64 exhausted; /* polls with work >= budget */
	__u64 max_work;
};

/* Per CPU, kept in a per-CPU array and read per CPU by user space. */
struct np_cpu_net {
	struct np_softirq_stats rx; /* NET_RX_SOFTIRQ */
	struct np_softirq_stats tx; /* NET_TX_SOFTIRQ */
	struct np_napi_stats napi;
	__u64 entry_ns[2]; /* kernel-only: entry time of the running NET_TX/NET_RX */
};

/* Host-wide totals, per CPU in the kernel, summed by user space. */
struct np_net_totals {
	__u64 drops;        /* skb:kfree_skb */
	__u64 target_drops; /* of which on a socket of the target */
	__u64 retrans;      /* tcp:tcp_retransmit_skb */
	__u64 target_retrans;
	__u64 rcvq_full; /* sock:sock_rcvqueue_full */
	__u64 target_rcvq_full;
	__u64 lost_events;    /* target socket events the ring buffer had no room for */
	__u64 locations_full; /* drops not counted by location: table full */
};

#define NP_NET_DROP 1      /* skb:kfree_skb */
#define NP_NET_RETRANS 2   /* tcp:tcp_retransmit_skb */
#define NP_NET_RCVQ_FULL 3 /* sock:sock_rcvqueue_full */

/* An event on one of the target's sockets. */
struct np_net_event {
	__u64 ts_ns;
	__u64 cookie;   /* socket cookie, as in np_xch_event */
	__u64 location; /* NP_NET_DROP: kernel address that dropped it */
	__u32 kind;     /* NP_NET_* */
	__u32 reason;   /* NP_NET_DROP: enum skb_drop_reason */
	__u8 family;
	__u8 state; /* TCP state of the socket */
	__u16 lport, rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* Key of the per-(reason, location) drop table. */
struct np_drop_key {
	__u64 location;
	__u32 reason;
	__u32 pad;
};

#endif /* NP_NETSTACK_H */
