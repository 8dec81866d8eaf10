/* sockreq.c - the socket collector's requests and reply bookkeeping
 * (sockreq.h). */
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <string.h>

#include "profiler/net/sockreq.h"

void np_sock_exact_request(uint8_t *p, const struct np_sock_key *k, uint32_t seq)
{
	struct nlmsghdr h = {
		.nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)),
		.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.nlmsg_flags = NLM_F_REQUEST,
		.nlmsg_seq = seq,
	};
	struct inet_diag_req_v2 r = {
		.sdiag_family = k->family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_ext = (1u << (INET_DIAG_SKMEMINFO - 1)) | (1u << (INET_DIAG_INFO - 1)),
		.idiag_states = NP_SOCK_STATES_WANTED,
	};

	r.id.idiag_sport = htons(k->lport);
	r.id.idiag_dport = htons(k->rport);
	memcpy(r.id.idiag_src, k->laddr, 16);
	memcpy(r.id.idiag_dst, k->raddr, 16);
	r.id.idiag_if = k->ifindex;
	/* Any socket on this four-tuple; the reply's inode says if it is ours. */
	r.id.idiag_cookie[0] = r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	memset(p, 0, NP_SOCK_EXACT_REQ_LEN);
	memcpy(p, &h, sizeof(h));
	memcpy(p + NLMSG_HDRLEN, &r, sizeof(r));
}

/* One condition of the bytecode: "port == p" on the local or remote side,
 * yes -> next op, no -> skip the JMP that follows (see iproute2's ss). */
size_t np_sock_bc_filter(const uint16_t *sports, size_t ns, const uint16_t *dports, size_t nd,
			 uint8_t *bc)
{
	size_t n = ns + nd, off = 0, total = n ? 12 * (n - 1) + 8 : 0;

	for (size_t i = 0; i < n; i++) {
		struct inet_diag_bc_op op[2];
		bool last = i + 1 == n;

		op[0].code = i < ns ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
		op[0].yes = 8;
		op[0].no = 12;
		op[1].code = 0;
		op[1].yes = 0;
		op[1].no = i < ns ? sports[i] : dports[i - ns];
		memcpy(bc + off, op, 8);
		off += 8;
		if (!last) {
			/* matched: jump to the end (accept) */
			struct inet_diag_bc_op jmp = {INET_DIAG_BC_JMP, 4, (uint16_t)(total - off)};

			memcpy(bc + off, &jmp, 4);
			off += 4;
		}
	}
	return off;
}

void np_sock_observe(struct np_rec_sock_sample *c, struct np_rec_sock_summary *m,
		     struct np_sock_base *base, const struct np_sockdiag_obs *o, uint32_t id,
		     bool listener, uint64_t now_ns)
{
	memset(c, 0, sizeof(*c));
	c->ts_ns = now_ns;
	c->id = id;
	c->state = o->state;
	c->ca_state = o->ca_state;
	c->flags = listener ? NP_SOCK_LISTENER : 0;
	c->recv_q = o->rqueue;
	c->send_q = o->wqueue;
	c->rtt_us = o->rtt_us;
	c->rttvar_us = o->rttvar_us;
	c->snd_cwnd = o->snd_cwnd;
	c->unacked = o->unacked;
	c->lost = o->lost;
	c->retrans_now = o->retransmits_now;
	c->total_retrans = o->total_retrans;
	c->rmem_alloc = o->rmem_alloc;
	c->rcvbuf = o->rcvbuf;
	c->wmem_queued = o->wmem_queued;
	c->sndbuf = o->sndbuf;
	c->sk_drops = o->sk_drops;
	c->notsent_bytes = o->notsent_bytes;
	c->backlog = o->backlog;
	c->delivery_rate = o->delivery_rate;
	c->busy_us = o->busy_us;
	c->rwnd_limited_us = o->rwnd_limited_us;
	c->sndbuf_limited_us = o->sndbuf_limited_us;
	c->bytes_acked = o->bytes_acked;
	c->bytes_received = o->bytes_received;

	if (!m->polls) {
		m->id = id;
		m->first_ns = now_ns;
		m->rtt_us_min = UINT32_MAX;
		m->cwnd_min = UINT32_MAX;
		base->retrans0 = c->total_retrans;
		base->drops0 = c->sk_drops;
		base->busy0 = c->busy_us;
		base->rwnd0 = c->rwnd_limited_us;
		base->sndbuf0 = c->sndbuf_limited_us;
		base->acked0 = c->bytes_acked;
		base->received0 = c->bytes_received;
	}
	m->polls++;
	m->last_ns = now_ns;
	if (c->recv_q) {
		m->polls_recv_q++;
		if (c->recv_q > m->recv_q_max) {
			m->recv_q_max = c->recv_q;
			m->recv_q_max_ns = now_ns;
		}
	}
	if (c->send_q > m->send_q_max)
		m->send_q_max = c->send_q;
	m->recv_q_sum += c->recv_q;
	m->send_q_sum += c->send_q;
	if (o->have_tcpinfo && !listener) {
		if (c->rtt_us && c->rtt_us < m->rtt_us_min)
			m->rtt_us_min = c->rtt_us;
		if (c->rtt_us > m->rtt_us_max)
			m->rtt_us_max = c->rtt_us;
		if (c->rttvar_us > m->rttvar_us_max)
			m->rttvar_us_max = c->rttvar_us;
		m->rtt_us_last = c->rtt_us;
		if (c->lost > m->lost_max)
			m->lost_max = c->lost;
		if (c->snd_cwnd && c->snd_cwnd < m->cwnd_min)
			m->cwnd_min = c->snd_cwnd;
		m->cwnd_last = c->snd_cwnd;
		if (c->delivery_rate > m->delivery_rate_max)
			m->delivery_rate_max = c->delivery_rate;
	}
	m->retrans = c->total_retrans - base->retrans0;
	m->sk_drops = c->sk_drops - base->drops0;
	m->busy_us = c->busy_us - base->busy0;
	m->rwnd_limited_us = c->rwnd_limited_us - base->rwnd0;
	m->sndbuf_limited_us = c->sndbuf_limited_us - base->sndbuf0;
	m->bytes_acked = c->bytes_acked - base->acked0;
	m->bytes_received = c->bytes_received - base->received0;
	m->rcvbuf_last = c->rcvbuf;
	m->sndbuf_last = c->sndbuf;
	m->state_last = c->state;
}

bool np_sock_holder_is_new(struct np_hashtab *others, uint32_t *first_pid, uint64_t *first_inode,
			   uint64_t inode, uint32_t pid)
{
	uint64_t key;

	if (*first_inode != inode) { /* the entry's socket, first seen */
		*first_inode = inode;
		*first_pid = pid;
		return true;
	}
	if (*first_pid == pid)
		return false;
	key = np_sock_holder_key(inode, pid);
	if (np_hashtab_get(others, key))
		return false;
	np_hashtab_put(others, key, 1);
	return true;
}
