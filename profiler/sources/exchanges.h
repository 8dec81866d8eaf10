/* exchanges.h - the exchange source (request/response timing per
 * connection, bpf/exchange.bpf.h).
 *
 * Its kernel side is compiled into the syscall object, because it reads the
 * thread state the syscall programs keep.  So it is set up in two steps:
 * np_xch_before_load() is a hook the session hands the syscall source
 * (np_syscalls_hook), run while that object is open but not yet loaded
 * (rodata, which programs to load); the collector (np_exchanges_collector)
 * then reads what the loaded object produces: exchange events from its ring
 * buffer and per-window totals.  It finds its setup in the collector
 * context (np_collector_ctx.xch).  The syscall source never calls in here.
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
	bool enabled;   /* the exchange programs are loaded */
	bool marking;   /* the socket-call programs are loaded (exchanges or netstack) */
	bool tls;       /* the SSL uprobe programs are loaded (the tls collector attaches them) */
	bool h2;        /* HTTP/2 (h2c) connections are shipped and parsed (needs the payload) */
	uint32_t flags; /* NP_XCFG_* (timeline.h) */
	char missing[256]; /* tracepoints this kernel lacks, comma-separated */
	char why_off[320]; /* why exchanges are off, when they are */
	uint16_t listen_ports[NP_XCH_MAX_LISTEN];
	uint32_t n_listen_ports;
	/* every process's listener list was read: an empty one means the
	 * target listens on nothing, so it serves no connection */
	bool listeners_known;
};

/* The syscall source's before-load hook (np_syscalls_hook.before_load);
 * `setup` is the struct np_xch_setup it fills. */
int np_xch_before_load(struct np_syscalls_bpf *skel, const struct np_config *cfg, void *setup);

extern const struct np_collector_ops np_exchanges_collector;

#endif /* NP_EXCHANGES_H */
