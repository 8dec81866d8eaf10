/* collectors.c - the optional sources, in the order the session starts
 * them.  Add a collector here and its .c file to profiler/meson.build. */
#include "profiler/collect/collector.h"
#include "profiler/sources/exchanges.h"
#include "profiler/sources/tls.h"

extern const struct np_collector_ops np_cpu_collector;
extern const struct np_collector_ops np_net_collector;
extern const struct np_collector_ops np_netstack_collector;

const struct np_collector_ops *const np_collectors[] = {
	&np_cpu_collector, &np_net_collector,      &np_exchanges_collector,
	&np_tls_collector, &np_netstack_collector, NULL,
};
