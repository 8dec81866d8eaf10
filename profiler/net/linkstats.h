/* linkstats.h - the interface collector's (netdev.c) reading of rtnetlink
 * objects into records, and what it writes of each poll: a link or qdisc
 * sample only when something in it moved, an ethtool counter only when it
 * changed (or, at the first poll, when it is not zero).
 *
 * No I/O: the unit tests (tests/unit/test_linkstats.c) replay RTM_NEWLINK
 * and RTM_NEWQDISC replies recorded on the development VM through libnl's
 * parsers (tests/fixtures/netdev/).
 */
#ifndef NP_LINKSTATS_H
#define NP_LINKSTATS_H

#include <netlink/route/link.h>
#include <netlink/route/tc.h>
#include <stdbool.h>
#include <stdint.h>

#include "profiler/format/netrec.h"

/* Fills s's counters and operstate from l (ts_ns and id are the caller's). */
void np_link_sample_fill(struct rtnl_link *l, struct np_rec_link_sample *s);

/* Whether two samples of one link differ in anything but their time. */
bool np_link_sample_changed(const struct np_rec_link_sample *a, const struct np_rec_link_sample *b);

/* Fills q's identity and counters from a qdisc (ts_ns and id are the
 * caller's). */
void np_qdisc_sample_fill(struct rtnl_tc *tc, struct np_rec_qdisc_sample *q);

/* Remembers q among an interface's last qdisc samples (*last, *n; grown
 * with reallocarray, freed by the caller) and returns whether it is new or
 * differs from the last one of the same handle and parent. */
bool np_qdisc_track(struct np_rec_qdisc_sample **last, uint32_t *n,
		    const struct np_rec_qdisc_sample *q);

/* The indexes of the ethtool counters to write at this poll into idx:
 * those that changed since last, or, without a last poll, those that are
 * not zero.  Returns how many. */
uint32_t np_ethtool_changed(const uint64_t *cur, const uint64_t *last, uint32_t n, bool have_last,
			    uint32_t *idx);

#endif /* NP_LINKSTATS_H */
