/* linkstats.c - rtnetlink objects into records, and what changed
 * (linkstats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/net/linkstats.h"

void np_link_sample_fill(struct rtnl_link *l, struct np_rec_link_sample *s)
{
	uint32_t cc = 0;

	s->operstate = rtnl_link_get_operstate(l);
	s->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	s->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	s->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
	s->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
	s->rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
	s->tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
	s->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
	s->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
	s->multicast = rtnl_link_get_stat(l, RTNL_LINK_MULTICAST);
	s->collisions = rtnl_link_get_stat(l, RTNL_LINK_COLLISIONS);
	s->rx_length_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_LEN_ERR);
	s->rx_over_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_OVER_ERR);
	s->rx_crc_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_CRC_ERR);
	s->rx_frame_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_FRAME_ERR);
	s->rx_fifo_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_FIFO_ERR);
	s->rx_missed_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_MISSED_ERR);
	s->tx_aborted_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ABORT_ERR);
	s->tx_carrier_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_CARRIER_ERR);
	s->tx_fifo_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_FIFO_ERR);
	s->tx_heartbeat_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_HBEAT_ERR);
	s->tx_window_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_WIN_ERR);
	s->rx_nohandler = rtnl_link_get_stat(l, RTNL_LINK_RX_NOHANDLER);
	if (!rtnl_link_get_carrier_changes(l, &cc))
		s->carrier_changes = cc;
}

bool np_link_sample_changed(const struct np_rec_link_sample *a, const struct np_rec_link_sample *b)
{
	struct np_rec_link_sample x = *a, y = *b;

	x.ts_ns = y.ts_ns = 0;
	return memcmp(&x, &y, sizeof(x)) != 0;
}

void np_qdisc_sample_fill(struct rtnl_tc *tc, struct np_rec_qdisc_sample *q)
{
	const char *kind;

	memset(q, 0, sizeof(*q));
	q->handle = rtnl_tc_get_handle(tc);
	q->parent = rtnl_tc_get_parent(tc);
	kind = rtnl_tc_get_kind(tc);
	snprintf(q->kind, sizeof(q->kind), "%s", kind ? kind : "");
	q->bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
	q->packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
	q->drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
	q->overlimits = rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS);
	q->requeues = rtnl_tc_get_stat(tc, RTNL_TC_REQUEUES);
	q->backlog_bytes = (uint32_t)rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG);
	q->qlen = (uint32_t)rtnl_tc_get_stat(tc, RTNL_TC_QLEN);
}

bool np_qdisc_track(struct np_rec_qdisc_sample **last, uint32_t *n,
		    const struct np_rec_qdisc_sample *q)
{
	for (uint32_t i = 0; i < *n; i++) {
		struct np_rec_qdisc_sample a = (*last)[i], b = *q;

		if (a.handle != b.handle || a.parent != b.parent)
			continue;
		a.ts_ns = b.ts_ns = 0;
		if (!memcmp(&a, &b, sizeof(a)))
			return false;
		(*last)[i] = *q;
		return true;
	}
	void *p = reallocarray(*last, *n + 1, sizeof(**last));

	if (p) {
		*last = p;
		(*last)[(*n)++] = *q;
	}
	return true;
}

uint32_t np_ethtool_changed(const uint64_t *cur, const uint64_t *last, uint32_t n, bool have_last,
			    uint32_t *idx)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		if (have_last ? cur[i] != last[i] : cur[i] != 0)
			idx[k++] = i;
	return k;
}
