/* sockreq.h - the pure parts of the socket collector (sockdiag.c): the
 * NETLINK_SOCK_DIAG requests it sends and what it keeps of each reply.
 *
 * No I/O here: the unit tests build requests and compare them with the
 * bytes of requests the kernel answered, and replay recorded replies
 * (tests/fixtures/sockdiag/) through np_sock_observe().
 */
#ifndef NP_SOCKREQ_H
#define NP_SOCKREQ_H

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/base/hashtab.h"
#include "profiler/format/netrec.h"
#include "profiler/net/netparse.h"

/* TCP states whose sockets can be held in an fd: all but TIME_WAIT and
 * the request sockets of SYN_RECV/NEW_SYN_RECV. */
#define NP_SOCK_STATES_WANTED \
	((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | \
	 (1u << 10) | (1u << 11))
/* One exact request, header included, padded to the netlink alignment. */
#define NP_SOCK_EXACT_REQ_LEN NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)))

/* The four-tuple (and bound device) of one TCP socket; ports host order. */
struct np_sock_key {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint32_t ifindex;
};

/* Writes NP_SOCK_EXACT_REQ_LEN bytes at p: a SOCK_DIAG_BY_FAMILY request
 * without NLM_F_DUMP for the TCP socket k, asking for tcp_info and memory
 * info, any cookie. */
void np_sock_exact_request(uint8_t *p, const struct np_sock_key *k, uint32_t seq);

/* An inet_diag bytecode accepting a socket whose local port is one of
 * sports or whose remote port is one of dports (see iproute2's ss): 8 bytes
 * per condition plus a 4-byte jump after each but the last, 12 * (n - 1) + 8
 * in all, written at bc.  Returns the bytes written (0 for no ports). */
size_t np_sock_bc_filter(const uint16_t *sports, size_t ns, const uint16_t *dports, size_t nd,
			 uint8_t *bc);

/* The first values of one socket's counters: its summary gives deltas
 * from them. */
struct np_sock_base {
	uint32_t retrans0, drops0;
	uint64_t busy0, rwnd0, sndbuf0, acked0, received0;
};

/* One reply o about socket id at now_ns: fills the sample c (the socket's
 * state at this poll) and folds it into the summary m: polls, queue peaks
 * and when recv_q peaked, sums, rtt and cwnd extremes (not for listeners),
 * and the counter deltas from the first poll (kept in base). */
void np_sock_observe(struct np_rec_sock_sample *c, struct np_rec_sock_summary *m,
		     struct np_sock_base *base, const struct np_sockdiag_obs *o, uint32_t id,
		     bool listener, uint64_t now_ns);

/* (inode, pid) as one key: socket inodes are 32-bit numbers (sockfs's
 * get_next_ino) and pids below 2^22 (PID_MAX_LIMIT). */
static inline uint64_t np_sock_holder_key(uint64_t inode, uint32_t pid)
{
	return inode << 22 ^ pid;
}

/* A service records which process holds a socket once per (socket,
 * process) and recording (NP_BLK_SOCK_PIDS).  The fd walk meets a socket
 * once per holder on every poll, holders alternating for a listener that
 * N workers share, so "the pid changed since the last entry" would record
 * it N times a poll.  The socket's first holder is kept in its entry
 * (*first_pid, *first_inode: one holder, the usual case, costs no
 * lookup), the others in `others`, keyed by np_sock_holder_key.  Returns
 * true when (inode, pid) is new and to be recorded; also when `others`
 * cannot grow: a record twice is harmless, one missing is not. */
bool np_sock_holder_is_new(struct np_hashtab *others, uint32_t *first_pid, uint64_t *first_inode,
			   uint64_t inode, uint32_t pid);

#endif /* NP_SOCKREQ_H */
