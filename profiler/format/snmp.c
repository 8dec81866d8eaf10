/* snmp.c - ids, names and kinds of the kept TCP/IP counters (snmp.h). */
#include "profiler/format/snmp.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "profiler/base/hashtab.h"

/* N(group, name): the two parts /proc/net/snmp and netstat give, and the
 * "group.name" the report shows, spelled out at compile time. */
#define N(group, name) \
	{ \
		group, name, group "." name \
	}
static const struct {
	const char *group, *name, *full;
} snmp_names[NP_SNMP_COUNT] = {
	[NP_SNMP_TCP_ACTIVE_OPENS] = N("Tcp", "ActiveOpens"),
	[NP_SNMP_TCP_PASSIVE_OPENS] = N("Tcp", "PassiveOpens"),
	[NP_SNMP_TCP_ATTEMPT_FAILS] = N("Tcp", "AttemptFails"),
	[NP_SNMP_TCP_ESTAB_RESETS] = N("Tcp", "EstabResets"),
	[NP_SNMP_TCP_CURR_ESTAB] = N("Tcp", "CurrEstab"),
	[NP_SNMP_TCP_IN_SEGS] = N("Tcp", "InSegs"),
	[NP_SNMP_TCP_OUT_SEGS] = N("Tcp", "OutSegs"),
	[NP_SNMP_TCP_RETRANS_SEGS] = N("Tcp", "RetransSegs"),
	[NP_SNMP_TCP_IN_ERRS] = N("Tcp", "InErrs"),
	[NP_SNMP_TCP_OUT_RSTS] = N("Tcp", "OutRsts"),
	[NP_SNMP_UDP_IN_DATAGRAMS] = N("Udp", "InDatagrams"),
	[NP_SNMP_UDP_NO_PORTS] = N("Udp", "NoPorts"),
	[NP_SNMP_UDP_IN_ERRORS] = N("Udp", "InErrors"),
	[NP_SNMP_UDP_OUT_DATAGRAMS] = N("Udp", "OutDatagrams"),
	[NP_SNMP_UDP_RCVBUF_ERRORS] = N("Udp", "RcvbufErrors"),
	[NP_SNMP_UDP_SNDBUF_ERRORS] = N("Udp", "SndbufErrors"),
	[NP_SNMP_IP_IN_RECEIVES] = N("Ip", "InReceives"),
	[NP_SNMP_IP_IN_DISCARDS] = N("Ip", "InDiscards"),
	[NP_SNMP_IP_OUT_DISCARDS] = N("Ip", "OutDiscards"),
	[NP_SNMP_IP_OUT_NO_ROUTES] = N("Ip", "OutNoRoutes"),
	[NP_SNMP_LISTEN_OVERFLOWS] = N("TcpExt", "ListenOverflows"),
	[NP_SNMP_LISTEN_DROPS] = N("TcpExt", "ListenDrops"),
	[NP_SNMP_TCP_BACKLOG_DROP] = N("TcpExt", "TCPBacklogDrop"),
	[NP_SNMP_PRUNE_CALLED] = N("TcpExt", "PruneCalled"),
	[NP_SNMP_RCV_PRUNED] = N("TcpExt", "RcvPruned"),
	[NP_SNMP_OFO_PRUNED] = N("TcpExt", "OfoPruned"),
	[NP_SNMP_TCP_RCVQ_DROP] = N("TcpExt", "TCPRcvQDrop"),
	[NP_SNMP_TCP_ZERO_WINDOW_DROP] = N("TcpExt", "TCPZeroWindowDrop"),
	[NP_SNMP_TCP_TIMEOUTS] = N("TcpExt", "TCPTimeouts"),
	[NP_SNMP_TCP_LOSS_PROBES] = N("TcpExt", "TCPLossProbes"),
	[NP_SNMP_TCP_LOST_RETRANSMIT] = N("TcpExt", "TCPLostRetransmit"),
	[NP_SNMP_TCP_FAST_RETRANS] = N("TcpExt", "TCPFastRetrans"),
	[NP_SNMP_TCP_SLOW_START_RETRANS] = N("TcpExt", "TCPSlowStartRetrans"),
	[NP_SNMP_TCP_SYN_RETRANS] = N("TcpExt", "TCPSynRetrans"),
	[NP_SNMP_TCP_RETRANS_FAIL] = N("TcpExt", "TCPRetransFail"),
	[NP_SNMP_TCP_OFO_DROP] = N("TcpExt", "TCPOFODrop"),
	[NP_SNMP_TCP_RCV_COLLAPSED] = N("TcpExt", "TCPRcvCollapsed"),
	[NP_SNMP_TCP_ABORT_ON_MEMORY] = N("TcpExt", "TCPAbortOnMemory"),
	[NP_SNMP_TCP_ABORT_ON_TIMEOUT] = N("TcpExt", "TCPAbortOnTimeout"),
	[NP_SNMP_TCP_MEMORY_PRESSURES] = N("TcpExt", "TCPMemoryPressures"),
	[NP_SNMP_TCP_REQQ_FULL_DROP] = N("TcpExt", "TCPReqQFullDrop"),
	[NP_SNMP_TCP_REQQ_FULL_COOKIES] = N("TcpExt", "TCPReqQFullDoCookies"),
	[NP_SNMP_SYNCOOKIES_SENT] = N("TcpExt", "SyncookiesSent"),
	[NP_SNMP_TCP_FROM_ZERO_WINDOW_ADV] = N("TcpExt", "TCPFromZeroWindowAdv"),
	[NP_SNMP_TCP_TO_ZERO_WINDOW_ADV] = N("TcpExt", "TCPToZeroWindowAdv"),
	[NP_SNMP_TCP_DSACK_RECV_SEGS] = N("TcpExt", "TCPDSACKRecvSegs"),
};
#undef N

/* The counters are looked up by name for every field of snmp and netstat
 * (about 250) on every poll: a hash table of the names (base/hashtab.h),
 * built on first use, instead of a scan of the names with two strcmp()
 * each.  The key is the hash of "group:name"; two names of one hash would
 * take key + 1 (never seen: the names are fixed). */
static uint64_t snmp_hash(const char *group, const char *name)
{
	uint64_t h = np_hash_bytes(NP_HASH_BYTES_INIT, group, strlen(group));

	h = np_hash_bytes(h, ":", 1);
	return np_hash_bytes(h, name, strlen(name));
}

static bool is_name(int i, const char *group, const char *name)
{
	return !strcmp(snmp_names[i].name, name) && !strcmp(snmp_names[i].group, group);
}

int np_snmp_index(const char *group, const char *name)
{
	static struct np_hashtab names; /* hash -> index + 1; lives as long as the process */
	static bool built;
	uint32_t v;

	if (!built) {
		bool ok = np_hashtab_reserve(&names, NP_SNMP_COUNT) == 0;

		for (int i = 0; ok && i < NP_SNMP_COUNT; i++) {
			uint64_t h = snmp_hash(snmp_names[i].group, snmp_names[i].name);

			while (np_hashtab_get(&names, h))
				h++;
			ok = np_hashtab_put(&names, h, (uint32_t)i + 1) == 0;
		}
		if (!ok) { /* out of memory: scan the names this time */
			np_hashtab_fini(&names);
			for (int i = 0; i < NP_SNMP_COUNT; i++)
				if (is_name(i, group, name))
					return i;
			return -1;
		}
		built = true;
	}
	for (uint64_t h = snmp_hash(group, name); (v = np_hashtab_get(&names, h)); h++)
		if (is_name((int)v - 1, group, name))
			return (int)v - 1;
	return -1;
}

const char *np_snmp_name(unsigned int id)
{
	return id < NP_SNMP_COUNT ? snmp_names[id].full : NULL;
}

bool np_snmp_is_gauge(unsigned int id)
{
	return id == NP_SNMP_TCP_CURR_ESTAB;
}
