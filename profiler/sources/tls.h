/* tls.h - the tls source: uprobes on the target's libssl (sources/tls.c,
 * bpf/tls.bpf.h).  Its programs live in the syscall object, loaded or not
 * as the exchange source's before-load hook decided (np_xch_setup.tls).
 */
#ifndef NP_TLS_H
#define NP_TLS_H

#include "profiler/collect/collector.h"

extern const struct np_collector_ops np_tls_collector;

#endif /* NP_TLS_H */
