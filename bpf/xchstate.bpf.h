/* xchstate.bpf.h - how a served exchange's time splits into its components
 * (tls, queued, app, tx and its qdisc part, peer) from the times its connection
 * recorded: the arithmetic of np_finish_served (exchange.bpf.h).
 *
 * Plain C on struct np_conn (connstate.h), without maps or helpers, so that
 * the unit tests (tests/unit/test_xchpairs.c) run the same code the kernel
 * side runs.  The caller adds the totals, histograms and the event.
 */
#ifndef NP_XCHSTATE_BPF_H
#define NP_XCHSTATE_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "connstate.h"
#include "exchange.h"

#define NP_XS_INLINE static inline __attribute__((always_inline))

struct np_xs_parts {
	__u64 start; /* arrival, or the first read when the arrival is unknown */
	__u64 tls;   /* TLS handshake: only the first exchange of a TLS connection */
	__u64 queued, app, tx, qdisc, peer, total;
	__u8 flags;  /* NP_XEV_ARRIVAL, NP_XEV_WIRE: which parts were seen */
	__u8 flags2; /* NP_XEV2_QDISC */
};

/* total = tls + queued + app + tx; qdisc is part of tx, peer part of app.
 * Each part is clamped at 0 rather than wrapping when the times disagree.
 * The exchange that carries a handshake starts where the handshake did;
 * its request, when it arrived with the handshake's last flight, is queued
 * only from the handshake's end, so no time counts twice.  The gap between
 * the handshake's end and a later request is the client's and counts
 * nowhere. */
NP_XS_INLINE void np_xs_parts(struct np_conn *c, struct np_xs_parts *p)
{
	__u64 app_start, end, queued_from;

	p->tls = p->queued = p->app = p->tx = p->qdisc = 0;
	p->flags = p->flags2 = 0;
	/* An arrival stamped after the request was read belongs to later data. */
	if (c->x_arrival_ns > c->read_end_ns)
		c->x_arrival_ns = 0;
	queued_from = c->x_arrival_ns ? c->x_arrival_ns : c->read_start_ns;
	p->start = queued_from;
	if (c->x_tls_end_ns && c->x_tls_start_ns && c->x_tls_end_ns >= c->x_tls_start_ns) {
		p->tls = c->x_tls_end_ns - c->x_tls_start_ns;
		if (c->x_tls_start_ns < p->start)
			p->start = c->x_tls_start_ns;
		if (queued_from < c->x_tls_end_ns)
			queued_from = c->x_tls_end_ns;
	}
	app_start = c->read_start_ns > queued_from ? c->read_start_ns : queued_from;
	p->queued = app_start - queued_from;
	if (c->write_end_ns > app_start)
		p->app = c->write_end_ns - app_start;
	end = app_start + p->app;
	if (c->wire_ns) {
		if (c->wire_ns > end)
			p->tx = c->wire_ns - end;
		p->flags |= NP_XEV_WIRE;
		/* Of which below TCP: from the last segment leaving TCP. */
		if (c->enq_ns && c->enq_ns <= c->wire_ns) {
			__u64 from = c->enq_ns > end ? c->enq_ns : end;

			p->qdisc = c->wire_ns > from ? c->wire_ns - from : 0;
			if (p->qdisc > p->tx)
				p->qdisc = p->tx;
			p->flags2 |= NP_XEV2_QDISC;
		}
	}
	p->total = p->tls + p->queued + p->app + p->tx;
	p->peer = c->peer_ns < p->app ? c->peer_ns : p->app;
	if (c->x_arrival_ns)
		p->flags |= NP_XEV_ARRIVAL;
}

/* An outbound reply in parts: data that arrived after the reader had
 * emptied the queue while the reply was being read.  The wait between is
 * the peer's, or the path's: a reply written in two parts with Nagle on
 * waits for our delayed ACK of the first (~40 ms).  Under 1 ms it is a
 * reply streamed in pieces; over 1 s the data is not this reply's (a push,
 * a pub/sub message).  Only a reply's first such wait is taken: the second
 * part of a reply, not every gap of a long stream. */
#define NP_REPLY_GAP_MIN_NS 1000000ull
#define NP_REPLY_GAP_MAX_NS 1000000000ull

NP_XS_INLINE int np_xs_reply_gap(const struct np_conn *c, __u64 *gap)
{
	if (c->state != XS_RESP || c->reply_parts || !c->drained_ns ||
	    c->drained_ns < c->read_start_ns || c->arrival_ns <= c->drained_ns)
		return 0;
	*gap = c->arrival_ns - c->drained_ns;
	return *gap >= NP_REPLY_GAP_MIN_NS && *gap <= NP_REPLY_GAP_MAX_NS;
}

#endif /* NP_XCHSTATE_BPF_H */
