/* joinfix.h - three synthetic recordings of one moment for the joined
 * report's tests (test_join.c, tests/tools/np_join_fixture.c): a client
 * (npload) calling a proxy (nginx) calling an upstream (npserver), each
 * exchange's times chosen, so every figure of the join is known.
 *
 * True times are the client's clock; the upstream's recording is shifted
 * by `shift_ns`, as two hosts' boot times differ.  Per request i:
 *   client -> proxy:   50 us each way
 *   proxy:             queued 20 us, 105 us to its call, 30 us after
 *   proxy -> upstream: request 40 us + i % 7 us; response 12 ms + i % 5 us
 *                      (a shaper's wait), but 45 us every 10th request
 *                      (the shaper's bucket was full)
 *   upstream:          queued 10 us, then `upstream_app_ns` to its first write
 */
#ifndef NP_JOINFIX_H
#define NP_JOINFIX_H

#include <stdbool.h>
#include <stdint.h>

struct joinfix {
	unsigned requests;
	int64_t shift_ns;         /* the upstream's clock - the others' */
	uint64_t upstream_app_ns; /* default 1 ms */
	bool nat;                 /* the proxy calls a virtual address; the upstream sees another */
	unsigned upstream_missing; /* the upstream's first N exchanges not recorded */
};

#define JOINFIX_START_NS 1000000000ull
#define JOINFIX_GAP_NS 20000000ull /* between requests */
#define JOINFIX_RESPONSE_NS 12000000ull

/* One request's network time on the proxy -> upstream hop, both ways. */
uint64_t joinfix_upstream_network_ns(unsigned i);
/* Writes client.nprof, proxy.nprof and upstream.nprof into dir.  0 or a
 * negative errno. */
int joinfix_write(const char *dir, const struct joinfix *fx);

#endif /* NP_JOINFIX_H */
