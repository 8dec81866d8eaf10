/* snmp.h - the TCP/IP counters netprof keeps from /proc/net/snmp and
 * /proc/net/netstat: their fixed ids (which recordings store), names and
 * kinds.  The id->name table of the recording format; the parser of the
 * /proc text is net/netparse.c. */
#ifndef NP_SNMP_H
#define NP_SNMP_H

#include <stdbool.h>

/* The counters netprof keeps from snmp/netstat, at fixed indices that the
 * recording stores (append only: indices are part of the file format). */
enum np_snmp_id {
	NP_SNMP_TCP_ACTIVE_OPENS,
	NP_SNMP_TCP_PASSIVE_OPENS,
	NP_SNMP_TCP_ATTEMPT_FAILS,
	NP_SNMP_TCP_ESTAB_RESETS,
	NP_SNMP_TCP_CURR_ESTAB, /* a gauge */
	NP_SNMP_TCP_IN_SEGS,
	NP_SNMP_TCP_OUT_SEGS,
	NP_SNMP_TCP_RETRANS_SEGS,
	NP_SNMP_TCP_IN_ERRS,
	NP_SNMP_TCP_OUT_RSTS,
	NP_SNMP_UDP_IN_DATAGRAMS,
	NP_SNMP_UDP_NO_PORTS,
	NP_SNMP_UDP_IN_ERRORS,
	NP_SNMP_UDP_OUT_DATAGRAMS,
	NP_SNMP_UDP_RCVBUF_ERRORS,
	NP_SNMP_UDP_SNDBUF_ERRORS,
	NP_SNMP_IP_IN_RECEIVES,
	NP_SNMP_IP_IN_DISCARDS,
	NP_SNMP_IP_OUT_DISCARDS,
	NP_SNMP_IP_OUT_NO_ROUTES,
	NP_SNMP_LISTEN_OVERFLOWS,
	NP_SNMP_LISTEN_DROPS,
	NP_SNMP_TCP_BACKLOG_DROP,
	NP_SNMP_PRUNE_CALLED,
	NP_SNMP_RCV_PRUNED,
	NP_SNMP_OFO_PRUNED,
	NP_SNMP_TCP_RCVQ_DROP,
	NP_SNMP_TCP_ZERO_WINDOW_DROP,
	NP_SNMP_TCP_TIMEOUTS,
	NP_SNMP_TCP_LOSS_PROBES,
	NP_SNMP_TCP_LOST_RETRANSMIT,
	NP_SNMP_TCP_FAST_RETRANS,
	NP_SNMP_TCP_SLOW_START_RETRANS,
	NP_SNMP_TCP_SYN_RETRANS,
	NP_SNMP_TCP_RETRANS_FAIL,
	NP_SNMP_TCP_OFO_DROP,
	NP_SNMP_TCP_RCV_COLLAPSED,
	NP_SNMP_TCP_ABORT_ON_MEMORY,
	NP_SNMP_TCP_ABORT_ON_TIMEOUT,
	NP_SNMP_TCP_MEMORY_PRESSURES,
	NP_SNMP_TCP_REQQ_FULL_DROP,
	NP_SNMP_TCP_REQQ_FULL_COOKIES,
	NP_SNMP_SYNCOOKIES_SENT,
	NP_SNMP_TCP_FROM_ZERO_WINDOW_ADV,
	NP_SNMP_TCP_TO_ZERO_WINDOW_ADV,
	/* retransmitted segments the peer reported having had (DSACK): spurious */
	NP_SNMP_TCP_DSACK_RECV_SEGS,
	NP_SNMP_COUNT
};

/* "RetransSegs" -> index, or -1 for a counter netprof does not keep. */
int np_snmp_index(const char *group, const char *name);
/* Index -> "Tcp.RetransSegs" style name, NULL when out of range. */
const char *np_snmp_name(unsigned int id);
/* True for the gauges (CurrEstab): reported as a value, not a delta. */
bool np_snmp_is_gauge(unsigned int id);

#endif /* NP_SNMP_H */
