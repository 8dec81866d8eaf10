/* xch_loss.h - requests hit by packet loss: the served exchanges during
 * which their connection retransmitted or had a packet dropped, and what
 * that cost them.
 *
 * Estimated from the recorded exchange events, which are every slow
 * exchange and 1 in N of the others: a sampled one stands for N.  A drop
 * counts for an exchange when the kernel stack source saw it on the same
 * connection (socket cookie) between the exchange's start and end; drops
 * elsewhere on the path (a router, the peer) show only as retransmits.
 */
#ifndef NP_XCH_LOSS_H
#define NP_XCH_LOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/exchange.h"
#include "bpf/netstack.h"

#define NP_XCH_LOSS_REASONS 4

struct np_xch_loss_reason {
	uint32_t reason;   /* enum skb_drop_reason */
	char name[48];     /* its name on the recording host */
	uint64_t requests; /* estimated requests with a drop of this reason */
};

struct np_xch_loss {
	bool known;              /* the sampler ran: unhit fast exchanges are represented */
	uint64_t requests;       /* estimated served requests (the events' weight) */
	uint64_t hit_requests;   /* estimated, of them, hit by a retransmit or a drop */
	uint64_t hit_events;     /* recorded events that were hit */
	uint64_t hit_p50_ns;     /* weighted median latency of the hit ones */
	uint64_t others_p50_ns;  /* and of the rest (0 without any) */
	uint64_t retrans_events; /* recorded events hit by a retransmit */
	uint64_t drop_events;    /* recorded events hit by a drop seen on their connection */
	struct np_xch_loss_reason reasons[NP_XCH_LOSS_REASONS]; /* most requests first */
	size_t n_reasons;
};

/* Fills `out` from served events ev[n] (outbound ones are skipped) and the
 * kernel stack's events net[n_net] (drops on the target's sockets).
 * `sample_every` is the exchange sampler's N (0: off, only slow exchanges
 * were recorded: `known` stays false).  name(reason, buf, len) names a drop
 * reason; NULL leaves names empty.  0 or -ENOMEM. */
int np_xch_loss_build(const struct np_xch_event *ev, size_t n, const struct np_net_event *net,
		      size_t n_net, uint32_t sample_every,
		      void (*name)(void *ctx, uint32_t reason, char *buf, size_t len), void *ctx,
		      struct np_xch_loss *out);

/* Share of requests hit, 0..1 (0 when unknown). */
double np_xch_loss_share(const struct np_xch_loss *l);

#endif /* NP_XCH_LOSS_H */
