/* test_sockreq.c - the socket collector's requests and reply bookkeeping
 * (profiler/net/sockreq.h) against NETLINK_SOCK_DIAG traffic recorded on
 * the development VM (tests/fixtures/sockdiag/, see its README and
 * tests/tools/capture_sockdiag.py): the requests must be byte for byte the
 * ones the kernel answered, and the recorded replies, decoded by
 * netparse.c, must give the queue peaks and deltas the capture knows. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/net/netparse.h"
#include "profiler/net/sockreq.h"
#include "testutil.h"

#define MS 1000000ull

static uint8_t *fixture(const char *name, size_t *len)
{
	char p[PATH_MAX];

	t_pathf(p, "%s/sockdiag/%s", t_fixtures(), name);
	return t_read_file(p, len);
}

/* A value of capture.txt (key=value lines written by the capture tool). */
static unsigned long long cap(const char *key)
{
	size_t len, klen = strlen(key);
	char *text = (char *)fixture("capture.txt", &len);
	unsigned long long v = 0;
	bool found = false;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			v = strtoull(line + klen + 1, NULL, 10);
			found = true;
		}
	free(text);
	cr_assert(found, "capture.txt has no %s", key);
	return v;
}

static struct np_sock_key loopback_key(void)
{
	struct np_sock_key k = {.family = AF_INET,
				.lport = (uint16_t)cap("local_port"),
				.rport = (uint16_t)cap("remote_port")};
	uint32_t lo = htonl(INADDR_LOOPBACK);

	memcpy(k.laddr, &lo, 4);
	memcpy(k.raddr, &lo, 4);
	return k;
}

static struct np_sockdiag_obs decode_reply(const char *name)
{
	struct np_sockdiag_obs o;
	size_t len;
	uint8_t *msg = fixture(name, &len);

	cr_assert_eq(np_sockdiag_decode(msg, len, SOCK_DIAG_BY_FAMILY, &o), 0, "%s", name);
	free(msg);
	return o;
}

Test(sockreq, exact_request_is_the_recorded_one_byte_for_byte)
{
	struct np_sock_key k = loopback_key();
	uint8_t built[NP_SOCK_EXACT_REQ_LEN];
	size_t len;
	uint8_t *rec = fixture("exact_request.bin", &len);

	cr_assert_eq(len, NP_SOCK_EXACT_REQ_LEN);
	np_sock_exact_request(built, &k, 1);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(built[i], rec[i], "byte %zu: built %#x, recorded %#x", i, built[i],
			     rec[i]);
	free(rec);
}

Test(sockreq, exact_request_fields)
{
	struct np_sock_key k = loopback_key();
	uint8_t p[NP_SOCK_EXACT_REQ_LEN + 8];
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;

	memset(p, 0xa5, sizeof(p));
	k.ifindex = 7;
	np_sock_exact_request(p, &k, 4242);
	memcpy(&h, p, sizeof(h));
	memcpy(&r, p + NLMSG_HDRLEN, sizeof(r));
	cr_assert_eq(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	cr_assert_eq(h.nlmsg_flags, NLM_F_REQUEST, "an exact lookup, not a dump");
	cr_assert_eq(h.nlmsg_seq, 4242);
	cr_assert_eq(h.nlmsg_len, NLMSG_LENGTH(sizeof(r)));
	cr_assert_eq(r.sdiag_protocol, IPPROTO_TCP);
	cr_assert_eq(ntohs(r.id.idiag_sport), k.lport);
	cr_assert_eq(ntohs(r.id.idiag_dport), k.rport);
	cr_assert_eq(r.id.idiag_if, 7);
	cr_assert_eq(r.idiag_states & (1u << 6), 0, "TIME_WAIT is never asked for");
	cr_assert_neq(r.idiag_states & (1u << 10), 0);
	/* the padding is written, what follows the request is not touched */
	cr_assert_eq(p[NP_SOCK_EXACT_REQ_LEN], 0xa5);
}

/* The dump's filter: the capture sent "local port == the listener's or
 * remote port == 9" and the kernel (which audits bytecode and refuses a
 * bad one) answered with the listener alone. */
Test(sockreq, bytecode_is_the_recorded_filter_the_kernel_applied)
{
	uint16_t sp[] = {(uint16_t)cap("listen_port")}, dp[] = {9};
	uint8_t bc[64];
	size_t len, n, off = 0, replies = 0;
	uint8_t *rq = fixture("listen_request.bin", &len);
	uint8_t *dump;
	struct nlattr a;

	n = np_sock_bc_filter(sp, 1, dp, 1, bc);
	cr_assert_eq(n, 20);
	cr_assert_eq(len, NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)) + NLA_HDRLEN + n);
	memcpy(&a, rq + NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)), sizeof(a));
	cr_assert_eq(a.nla_type, INET_DIAG_REQ_BYTECODE);
	cr_assert_eq(a.nla_len, NLA_HDRLEN + n);
	cr_assert_eq(memcmp(rq + len - n, bc, n), 0, "built bytecode differs from the recorded");
	free(rq);

	dump = fixture("listen_dump.bin", &len);
	while (off + NLMSG_HDRLEN <= len) {
		struct nlmsghdr h;
		struct np_sockdiag_obs o;

		memcpy(&h, dump + off, sizeof(h));
		cr_assert_geq(h.nlmsg_len, NLMSG_HDRLEN);
		cr_assert_leq(off + h.nlmsg_len, len);
		if (h.nlmsg_type == NLMSG_DONE)
			break;
		cr_assert_eq(np_sockdiag_decode(dump + off, h.nlmsg_len, SOCK_DIAG_BY_FAMILY, &o),
			     0);
		cr_assert_eq(o.sport, sp[0], "the filter let port %u through", o.sport);
		cr_assert_eq(o.inode, cap("listen_inode"));
		replies++;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	cr_assert_eq(replies, 1);
	free(dump);
}

/* Every jump lands on the end of the program (accept); every "no" of a
 * condition lands on the next condition; no ports, no program. */
Test(sockreq, bytecode_jumps_land_on_the_end)
{
	uint16_t sp[] = {80, 443, 8080}, dp[] = {5432, 6379};
	uint8_t bc[128];
	size_t n = np_sock_bc_filter(sp, 3, dp, 2, bc), off = 0, conds = 0;

	cr_assert_eq(np_sock_bc_filter(sp, 0, dp, 0, bc + 100), 0);
	cr_assert_eq(n, 12 * 4 + 8);
	while (off < n) {
		struct inet_diag_bc_op op, arg;

		memcpy(&op, bc + off, 4);
		if (op.code == INET_DIAG_BC_JMP) {
			cr_assert_eq(op.yes, 4);
			cr_assert_eq(off + op.no, n, "jump at %zu lands on %zu", off, off + op.no);
			off += 4;
			continue;
		}
		memcpy(&arg, bc + off + 4, 4);
		cr_assert_eq(op.code, conds < 3 ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ);
		cr_assert_eq(arg.no, conds < 3 ? sp[conds] : dp[conds - 3]);
		cr_assert_eq(op.yes, 8);
		/* no: past this condition and its jump, to the next condition */
		cr_assert(off + op.no == n + 4 || off + op.no + 8 <= n);
		conds++;
		off += 8;
	}
	cr_assert_eq(conds, 5);
}

/* The three recorded polls of one connection: 3000 bytes queued, 10000,
 * then read.  The summary's peak is the second poll's, its sums and
 * deltas are those of the replies. */
Test(sockreq, recorded_replies_give_the_queue_peak_and_deltas)
{
	struct np_sockdiag_obs o[3] = {decode_reply("exact_reply_1.bin"),
				       decode_reply("exact_reply_2.bin"),
				       decode_reply("exact_reply_3.bin")};
	struct np_rec_sock_sample c;
	struct np_rec_sock_summary m = {0};
	struct np_sock_base base = {0};
	uint32_t rtt_min = UINT32_MAX, rtt_max = 0;

	for (int i = 0; i < 3; i++) {
		char key[16];

		snprintf(key, sizeof(key), "recv_q_%d", i + 1);
		cr_assert_eq(o[i].inode, cap("inode"));
		cr_assert_eq(o[i].sport, cap("local_port"));
		cr_assert_eq(o[i].dport, cap("remote_port"));
		cr_assert_eq(o[i].state, 1, "ESTABLISHED");
		cr_assert_eq(o[i].rqueue, cap(key), "poll %d", i + 1);
		cr_assert(o[i].have_tcpinfo);
		cr_assert(o[i].have_meminfo);
		np_sock_observe(&c, &m, &base, &o[i], 17, false, (uint64_t)(i + 1) * 100 * MS);
		cr_assert_eq(c.recv_q, o[i].rqueue);
		cr_assert_eq(c.ts_ns, (uint64_t)(i + 1) * 100 * MS);
		if (o[i].rtt_us && o[i].rtt_us < rtt_min)
			rtt_min = o[i].rtt_us;
		if (o[i].rtt_us > rtt_max)
			rtt_max = o[i].rtt_us;
	}
	cr_assert_eq(c.id, 17);
	cr_assert_eq(c.flags, 0);
	cr_assert_eq(m.id, 17);
	cr_assert_eq(m.polls, 3);
	cr_assert_eq(m.polls_recv_q, 2);
	cr_assert_eq(m.recv_q_max, 10000);
	cr_assert_eq(m.recv_q_max_ns, 200 * MS);
	cr_assert_eq(m.recv_q_sum, 13000);
	cr_assert_eq(m.first_ns, 100 * MS);
	cr_assert_eq(m.last_ns, 300 * MS);
	cr_assert_eq(m.state_last, 1);
	cr_assert_eq(m.rtt_us_min, rtt_min);
	cr_assert_eq(m.rtt_us_max, rtt_max);
	cr_assert_eq(m.rtt_us_last, o[2].rtt_us);
	cr_assert_eq(m.rcvbuf_last, o[2].rcvbuf);
	cr_assert_gt(m.rcvbuf_last, 0);
	/* tcp_info's bytes_received moved by the 7000 bytes after poll 1 */
	cr_assert_eq(o[1].bytes_received - o[0].bytes_received, 7000);
	cr_assert_eq(m.bytes_received, 7000);
	cr_assert_eq(m.retrans, 0);
}

/* The recorded listener: Recv-Q is its accept queue (three connections not
 * accepted), Send-Q its backlog; no rtt or cwnd extremes for a listener. */
Test(sockreq, recorded_listener_reply_gives_the_accept_queue)
{
	size_t len;
	uint8_t *dump = fixture("listen_dump.bin", &len);
	struct np_sockdiag_obs o;
	struct np_rec_sock_sample c;
	struct np_rec_sock_summary m = {0};
	struct np_sock_base base = {0};
	struct nlmsghdr h;

	memcpy(&h, dump, sizeof(h));
	cr_assert_eq(np_sockdiag_decode(dump, h.nlmsg_len, SOCK_DIAG_BY_FAMILY, &o), 0);
	free(dump);
	cr_assert_eq(o.state, 10, "LISTEN");
	cr_assert_eq(o.rqueue, cap("accept_queue"));
	cr_assert_eq(o.wqueue, cap("listen_backlog"));
	np_sock_observe(&c, &m, &base, &o, 3, true, 5 * MS);
	cr_assert_eq(c.flags, NP_SOCK_LISTENER);
	cr_assert_eq(m.recv_q_max, 3);
	cr_assert_eq(m.send_q_max, 4);
	cr_assert_eq(m.rtt_us_min, UINT32_MAX, "no rtt for a listener");
	cr_assert_eq(m.rtt_us_max, 0);
	cr_assert_eq(m.cwnd_min, UINT32_MAX);
}

/* A peak seen again later keeps the time it was first reached; counters
 * that wrapped 32 bits still give their delta; a zero rtt or cwnd (not
 * measured yet) is not a minimum. */
Test(sockreq, synthetic_peaks_wraps_and_zero_minimums)
{
	struct np_sockdiag_obs o = {.state = 1, .have_tcpinfo = true};
	struct np_rec_sock_sample c;
	struct np_rec_sock_summary m = {0};
	struct np_sock_base base = {0};
	const struct {
		uint32_t rq, sq, rtt, cwnd, retrans, drops;
	} polls[] = {
		{0, 10, 0, 0, UINT32_MAX - 1, 5},
		{500, 0, 300, 10, UINT32_MAX, 5},
		{500, 20, 200, 0, 2, 9},
		{100, 0, 900, 4, 3, 9},
	};

	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++) {
		o.rqueue = polls[i].rq;
		o.wqueue = polls[i].sq;
		o.rtt_us = polls[i].rtt;
		o.snd_cwnd = polls[i].cwnd;
		o.total_retrans = polls[i].retrans;
		o.sk_drops = polls[i].drops;
		np_sock_observe(&c, &m, &base, &o, 1, false, (i + 1) * MS);
	}
	cr_assert_eq(m.recv_q_max, 500);
	cr_assert_eq(m.recv_q_max_ns, 2 * MS, "the first time of the peak");
	cr_assert_eq(m.polls_recv_q, 3);
	cr_assert_eq(m.send_q_max, 20);
	cr_assert_eq(m.send_q_sum, 30);
	cr_assert_eq(m.rtt_us_min, 200);
	cr_assert_eq(m.rtt_us_max, 900);
	cr_assert_eq(m.cwnd_min, 4);
	cr_assert_eq(m.cwnd_last, 4);
	cr_assert_eq(m.retrans, 5, "across the 32-bit wrap");
	cr_assert_eq(m.sk_drops, 4);
}

/* One poll's fd walk over a service: a listener (inode 500) in the master
 * and two workers, holders alternating, and a connection (600) in worker
 * 11 only; then the same walk again. */
Test(sockreq, each_socket_and_holder_is_recorded_once_however_the_walk_alternates)
{
	static const struct {
		uint64_t inode;
		uint32_t pid;
	} walk[] = {{500, 10}, {500, 11}, {600, 11}, {500, 12}, {500, 11}, {500, 10}};
	struct np_hashtab others = {0};
	uint32_t pid[2] = {0};
	uint64_t pid_inode[2] = {0};
	size_t recorded = 0, again = 0;

	for (int poll = 0; poll < 2; poll++)
		for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
			size_t e = walk[i].inode == 600; /* the socket's entry */
			bool is_new = np_sock_holder_is_new(&others, &pid[e], &pid_inode[e],
							    walk[i].inode, walk[i].pid);

			*(poll ? &again : &recorded) += is_new;
		}
	cr_expect_eq(recorded, 4, "(500, 10), (500, 11), (600, 11), (500, 12)");
	cr_expect_eq(again, 0, "nothing twice in a recording");
	cr_expect_eq(pid[0], 10, "the entry keeps its first holder");
	/* the entry reused for another socket: its holder is new again */
	cr_expect(np_sock_holder_is_new(&others, &pid[1], &pid_inode[1], 700, 11));
	np_hashtab_fini(&others);
}
