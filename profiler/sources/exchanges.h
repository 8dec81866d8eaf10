/* exchanges.h - the exchange source (request/response timing per
 * connection, bpf/exchange.bpf.h).
 *
 * Its kernel side is compiled into the syscall object, because it reads the
 * thread state the syscall programs keep.  So it is set up in two steps:
 * np_xch_configure() runs while the syscall object is opened but not yet
 * loaded (rodata, which programs to load), and the collector
 * (np_exchanges_collector) then reads what the loaded object produces:
 * exchange events from its ring buffer and per-window totals.
 */
#ifndef NP_EXCHANGES_H
#define NP_EXCHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/collector.h"
#include "profiler/collect/config.h"

#define NP_XCH_WINDOW_NS 1000000000ull
#define NP_XCH_MAX_LISTEN 64

struct np_syscalls_bpf;

struct np_xch_setup {
	bool enabled;  /* the exchange programs are loaded */
	bool marking;  /* the socket-call programs are loaded (exchanges or netstack) */
	uint32_t flags; /* NP_XCFG_* (timeline.h) */
	char missing[256]; /* tracepoints this kernel lacks, comma-separated */
	char why_off[320]; /* why exchanges are off, when they are */
	uint16_t listen_ports[NP_XCH_MAX_LISTEN];
	uint32_t n_listen_ports;
};

/* Called by the syscall loader between open and load. */
int np_xch_configure(struct np_syscalls_bpf *skel, const struct np_config *cfg,
		     struct np_xch_setup *out);

extern const struct np_collector_ops np_exchanges_collector;

#endif /* NP_EXCHANGES_H */
