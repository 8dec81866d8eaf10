/* netstack.h - the kernel stack source (bpf/netstack.bpf.c): host-wide
 * drops by reason and location, retransmits, full receive queues,
 * NET_RX/NET_TX softirq time and NAPI budget use per CPU, and the same
 * events on the target's own sockets. */
#ifndef NP_NETSTACK_COLLECTOR_H
#define NP_NETSTACK_COLLECTOR_H

#include "collector.h"

extern const struct np_collector_ops np_netstack_collector;

#endif /* NP_NETSTACK_COLLECTOR_H */
