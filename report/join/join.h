/* join.h - netprof report A B [C ...]: recordings made at the same time on
 * several hosts (or network namespaces) joined into one picture of each
 * request across its hops.
 *
 * What it does, from the recordings' individual exchange events
 * (NP_BLK_XCH_EVENTS) alone:
 *  - joins TCP connections by 4-tuple: an outbound connection of one
 *    recording (laddr:lport -> raddr:rport) is the served connection of
 *    another whose local and remote ends are the same, swapped.  Where NAT
 *    or a proxy rewrote addresses the 4-tuples differ; those connections
 *    are listed as not joined;
 *  - pairs the exchanges of a joined connection by order (HTTP/1.x
 *    keep-alive: the n-th request the caller wrote is the n-th the callee
 *    served).  When one side's first events are missing (it started
 *    recording later) the order is shifted by up to NP_JOIN_MAX_SHIFT, and
 *    the shift kept is the one whose pairs agree best on a clock offset;
 *  - estimates each hop's clock offset from its pairs as NTP does
 *    (report/model/clocksync.h): t1 the caller's first request write, t2
 *    the request's arrival at the callee (or its first read), t3 the
 *    callee's first response write, t4 the response's arrival at the
 *    caller.  The clocks are never assumed to be in step; each recording's
 *    offset from the first one given is the sum along the hops joining
 *    them, and so are the uncertainties;
 *  - splits each joined exchange's caller `peer` time (t4 - t1) into the
 *    network, both directions together ((t4 - t1) - (t3 - t2), which needs
 *    no offset: wire, both hosts' stack queues below the socket, and
 *    anything between), and the callee's own time (t3 - t2): queued
 *    (arrival to first read), its own work, and its own peer time (its
 *    calls to the next hop).  The network is split into request and
 *    response directions only as well as the offset is known;
 *  - follows a request down the hops (a callee's outbound exchange made by
 *    the thread that served the request, between its first read and first
 *    response write, is that request's next hop) for a per-request
 *    waterfall of the slowest requests, and a per-hop breakdown;
 *  - names the hop and the layer that took most of the end-to-end time.
 *
 * What it needs: both ends' events for the same exchanges.  The recorder
 * keeps an event for every slow exchange and for 1 in N connections of the
 * rest, picked independently on each host, so joined recordings are made
 * with --sample 1 (every exchange an event).  Only the time to the first
 * response byte is joined: the outbound event ends there.
 */
#ifndef NP_JOIN_H
#define NP_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/model/clocksync.h"

struct np_recording;

#define NP_JOIN_MAX_RECORDINGS 16
#define NP_JOIN_MAX_SHIFT 4 /* events one side may lack at the start of a connection */
#define NP_JOIN_MAX_DEPTH 8 /* hops followed down from one request */
#define NP_JOIN_SLOWEST 5   /* requests drawn as a waterfall */
#define NP_JOIN_MAX_UNJOINED 32

struct np_join_recording {
	char name[64]; /* comm, or comm@hostname when the hosts differ */
	char comm[64], hostname[128], path[256];
	uint32_t pid;
	bool offset_known;
	int64_t offset_ns;       /* this recording's clock - the first recording's */
	uint64_t uncertainty_ns; /* +- */
	uint64_t events;         /* exchange events recorded */
	uint32_t sample_every;   /* the recorder's --sample (0: none but the slow) */
	uint64_t slow_ns;        /* and its --threshold */
	/* Its own report's verdict cause ("stack.qdisc"), given by
	 * np_join_set_causes(); "" when healthy or not given. */
	char cause[48];
};

/* Sums over a hop's joined exchanges whose times agree with the offset. */
struct np_join_hop {
	size_t caller, callee;        /* recording indexes */
	struct np_clock_offset clock; /* callee's clock - caller's */
	uint64_t connections;         /* joined connections */
	uint64_t exchanges;           /* paired and consistent */
	uint64_t unpaired;            /* events on joined connections without a partner */
	uint64_t inconsistent;        /* paired, but their times disagree with the offset */
	uint64_t peer_ns;             /* caller's peer time, t4 - t1 */
	uint64_t network_ns;          /* of it: the network, both directions */
	uint64_t callee_ns;           /* of it: the callee, t3 - t2 */
	uint64_t callee_queued_ns;    /* of that: arrival to first read */
	uint64_t callee_app_ns;  /* of that: its own work (first read to first write, less peer) */
	uint64_t callee_peer_ns; /* of that: waiting on its own calls */
	int64_t request_net_ns;  /* the network split by the offset (+- uncertainty each) */
	int64_t response_net_ns;
	uint64_t network_p50_ns, network_p90_ns, network_max_ns; /* per exchange */
	uint64_t peer_p50_ns;
	double network_share; /* network_ns / peer_ns */
};

/* A connection no other recording holds the other end of. */
struct np_join_unjoined {
	size_t rec;
	bool outbound; /* the recording's own call, or one it served */
	char local[64], remote[64];
	uint64_t exchanges;
};

/* One hop of one request, times on the first recording's clock. */
struct np_join_step {
	size_t hop;
	int64_t start_ns;    /* request write, from the root's start */
	uint64_t peer_ns;    /* the caller's wait */
	uint64_t network_ns; /* of it */
	uint64_t callee_queued_ns, callee_app_ns, callee_peer_ns;
	int64_t callee_arrival_ns; /* from the root's start, as far as the offset is known */
	char label[160];           /* the caller's "METHOD /path", when recorded */
};

struct np_join_waterfall {
	uint64_t total_ns; /* the root caller's peer time */
	struct np_join_step steps[NP_JOIN_MAX_DEPTH];
	size_t n;
};

/* Where the end-to-end time of the root requests went. */
enum np_join_layer {
	NP_JL_NETWORK, /* a hop's network */
	NP_JL_QUEUED,  /* a callee's socket queue */
	NP_JL_APP,     /* a callee's own work */
	NP_JL_PEER,    /* a callee's calls to peers no recording joined */
};

struct np_join_part {
	enum np_join_layer layer;
	size_t hop; /* NETWORK: the hop; else the hop whose callee it is */
	uint64_t ns;
	double share; /* of the roots' end-to-end time */
};

struct np_join {
	struct np_join_recording rec[NP_JOIN_MAX_RECORDINGS];
	size_t n_rec;
	struct np_join_hop *hops;
	size_t n_hops;
	struct np_join_unjoined unjoined[NP_JOIN_MAX_UNJOINED];
	size_t n_unjoined;
	uint64_t unjoined_connections; /* all of them, also those not listed */
	char nat_note[256];            /* "" unless addresses look rewritten */
	struct np_join_waterfall slowest[NP_JOIN_SLOWEST];
	size_t n_slowest;
	uint64_t roots; /* requests followed from the first hop */
	uint64_t end_to_end_ns;
	struct np_join_part *parts; /* largest first */
	size_t n_parts;
	bool sampled; /* a recording kept fewer than every exchange: pairs are lost */
	char verdict[512];
};

/* Joins n recordings (paths only name them).  0, -EINVAL for fewer than
 * two or more than NP_JOIN_MAX_RECORDINGS, or -ENOMEM; *j is cleared
 * first and np_join_fini() clears it in every case. */
int np_join_compute(const struct np_recording *const *recs, const char *const *paths, size_t n,
		    struct np_join *j);
void np_join_fini(struct np_join *j);
/* Names each recording's own verdict cause (causes[i] for recording i;
 * NULL or "" for none) and words the verdict again with them: a hop's
 * layer then reads as its recording's cause where the two agree
 * ("upstream api: app.cpu"), and otherwise carries it beside
 * ("upstream api: queued (its own report: stack.qdisc)").  The join
 * itself cannot attribute: the rules need each recording's whole report,
 * which the caller builds. */
void np_join_set_causes(struct np_join *j, const char *const *causes);

const char *np_join_layer_name(enum np_join_layer l);
/* "network between A and B", "B: app", ... */
void np_join_part_name(const struct np_join *j, const struct np_join_part *p, char *buf,
		       size_t len);

#endif /* NP_JOIN_H */
