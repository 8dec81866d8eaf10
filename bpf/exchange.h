/* exchange.h - what the exchange source (bpf/exchange.bpf.h) shares with
 * user space: the per-exchange event, the in-kernel totals and their
 * latency histograms.
 *
 * An exchange is one request a connection of the target carried: on a
 * connection the target serves, a request read followed by the response
 * writes up to the next request; on a connection the target opened
 * (outbound), its request writes up to the first byte of the response.
 * Plain fixed-width types without pointers: these bytes go into recordings
 * as they are (record structs in profiler/format/timeline.h wrap them).
 *
 * The histogram layout (np_xh_bucket) is shared code: the BPF side fills
 * buckets with it and the report reads them back with the same arithmetic.
 */
#ifndef NP_EXCHANGE_H
#define NP_EXCHANGE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "bits.bpf.h"

/* Log-linear latency histogram: values below 8 ns have a bucket each, and
 * every power of two above is split into 8 sub-buckets, so a bucket is at
 * most 1/8 of its value wide (percentiles within ~6%, where log2 buckets
 * would be within a factor of 2).  Bucket 319 holds [2^41 * 15/8, inf):
 * about an hour. */
#define NP_XH_SUB_BITS 3
#define NP_XH_SUB (1u << NP_XH_SUB_BITS)
#define NP_XH_BUCKETS 320

static inline __u32 np_xh_bucket(__u64 v)
{
	__u32 e, idx;

	if (v < NP_XH_SUB)
		return (__u32)v;
	e = np_log2_u64(v); /* >= 3 */
	idx = (e - 2) * NP_XH_SUB + (__u32)((v >> (e - NP_XH_SUB_BITS)) & (NP_XH_SUB - 1));
	return idx < NP_XH_BUCKETS ? idx : NP_XH_BUCKETS - 1;
}

/* Lowest value of bucket i (the next bucket's lowest is its upper end). */
static inline __u64 np_xh_lower(__u32 i)
{
	__u32 e;

	if (i < NP_XH_SUB)
		return i;
	e = i / NP_XH_SUB + 2;
	return (__u64)(NP_XH_SUB + i % NP_XH_SUB) << (e - NP_XH_SUB_BITS);
}

/* The histograms kept per component. */
enum np_xch_hist {
	NP_XH_TOTAL = 0,  /* served: arrival (or read) -> last byte on the wire (or last write) */
	NP_XH_QUEUED = 1, /* served: data arrival -> the application starts reading */
	NP_XH_APP = 2,    /* served: read -> last response write */
	NP_XH_TX = 3,     /* served: last write -> last segment handed to the device */
	NP_XH_PEER = 4,   /* served: part of app spent waiting on outbound exchanges */
	NP_XH_OUT = 5,    /* outbound: request write -> first response byte */
	NP_XH_COUNT = 6,
};

/* Totals since the start, per CPU and per slot (0: the target's own socket
 * calls; 1: everything else - socket state changes, transmit), summed by the
 * loader.  Counts in the histograms are u32 per CPU and slot: 4 billion
 * exchanges per CPU before a bucket wraps. */
struct np_xch_stats {
	__u64 served;       /* exchanges served (responses completed) */
	__u64 outbound;     /* exchanges made to peers (responses started) */
	__u64 queued_known; /* served exchanges whose data arrival was seen */
	__u64 tx_known;     /* served exchanges whose last segment was seen leaving */
	__u64 total_ns, queued_ns, app_ns, tx_ns, peer_ns, outbound_ns;
	__u64 max_total_ns, max_outbound_ns;
	__u64 retrans; /* retransmitted segments inside served exchanges */
	__u64 bytes_in, bytes_out;
	__u64 unanswered;   /* requests read but the connection ended without a response */
	__u64 pipelined;    /* served exchanges split off a read holding several requests */
	__u64 deferred;     /* closes that waited for the last segment to leave */
	__u64 lost_events;  /* individual exchange events the ring buffer had no room for */
	__u64 no_conn_mem;  /* sockets that got no per-connection state (no memory) */
	__u64 writer_drops; /* user space: events the recording could not take */
	__u64 qdisc_known;  /* served exchanges whose last segment had a TCP departure stamp */
	__u64 qdisc_ns; /* of their tx: left TCP -> handed to the driver (qdisc, device queue) */
	__u32 hist[NP_XH_COUNT][NP_XH_BUCKETS];
	/* Appended (a window recorded before them reads them as zero). */
	__u64 tls_known; /* served exchanges that carried a TLS handshake */
	__u64 tls_ns;    /* ... its time: part of total_ns, beside queued, app and tx */
	/* requests that began with a TLS handshake record (0x16 0x03) read
	 * outside any traced SSL call: a TLS library the uprobes do not see */
	__u64 tls_untraced;
	__u64 nagle_held; /* served exchanges with a response write held by Nagle (CF_NAGLE) */
	/* connections already carrying HTTP/2 frames when first seen (opened
	 * before recording): their streams cannot be decoded, so not timed */
	__u64 h2_joined;
};

/* np_xch_event.flags */
#define NP_XEV_SLOW 0x01      /* total over the threshold */
#define NP_XEV_SAMPLED 0x02   /* picked by the 1-in-N sampler */
#define NP_XEV_OUTBOUND 0x04  /* a request the target made, not one it served */
#define NP_XEV_ARRIVAL 0x08   /* arrival_ns is known (sock:sk_data_ready) */
#define NP_XEV_WIRE 0x10      /* wire_ns is known (net:net_dev_start_xmit) */
#define NP_XEV_LABEL 0x20     /* label holds "METHOD /path" bytes (not yet validated) */
#define NP_XEV_CLOSED 0x40    /* ended by the connection closing */
#define NP_XEV_PIPELINED 0x80 /* its request came in the same read as the one before */

/* np_xch_event.flags2 */
#define NP_XEV2_QDISC 0x01  /* qdisc_ns is known (the segment's TCP departure stamp) */
#define NP_XEV2_AT_END 0x02 /* still open when recording stopped: ended there */
#define NP_XEV2_TLS 0x04    /* carried over TLS; the label came from the plaintext (uprobes) */
#define NP_XEV2_NAGLE 0x08  /* a response write was held by Nagle (TCP_NODELAY off) */
/* Not an exchange: the wait for the second part of an outbound exchange's
 * reply (start_ns: the first part read; total_ns and peer_ns: the wait).
 * User space keeps these apart (NP_BLK_XCH_REPLY_PARTS). */
#define NP_XEV2_REPLY_PART 0x10

/* np_xch_event.proto: what the label was read as.  Zero is HTTP/1.x, so
 * that recordings from before the field read as they always did. */
enum np_xch_proto {
	NP_PROTO_HTTP1 = 0, /* "METHOD /path" (request line up to the query) */
	NP_PROTO_HTTP2 = 1, /* one stream: ":method :path" from HPACK, stream_id set */
	NP_PROTO_GRPC = 2,  /* HTTP/2 with content-type application/grpc: the path is the method */
	NP_PROTO_REDIS = 3, /* RESP: the command name only */
	NP_PROTO_POSTGRES = 4, /* the first keyword of a query only */
};

#define NP_XCH_LABEL_BYTES 128

/* One exchange, sent to user space when slow or sampled.  Times are
 * CLOCK_MONOTONIC; a zero time is unknown.  For an outbound exchange,
 * write_* is the request, read_* the response, total_ns = peer time. */
struct np_xch_event {
	__u64 start_ns; /* arrival, or the first read when arrival is unknown */
	__u64 arrival_ns;
	__u64 read_start_ns;  /* first read of the request */
	__u64 read_end_ns;    /* last read of the request */
	__u64 write_start_ns; /* first response write */
	__u64 write_end_ns;   /* last response write */
	__u64 wire_ns;        /* last response segment handed to the device */
	__u64 total_ns, queued_ns, app_ns, tx_ns, peer_ns;
	__u64 cookie; /* socket cookie: one per connection */
	__u64 bytes_in, bytes_out;
	__u32 tid; /* the thread that read the request */
	__u32 retrans;
	__u16 status;       /* HTTP status of the response, 0 if none */
	__u8 flags;         /* NP_XEV_* */
	__u8 family;        /* AF_INET or AF_INET6 */
	__u16 lport, rport; /* host byte order */
	__u8 laddr[16];     /* IPv4 in the first four bytes */
	__u8 raddr[16];
	__u8 label_len;
	__u8 label_cut; /* 1: the label ends where the kept bytes end, not at a terminator */
	__u8 flags2;    /* NP_XEV2_* */
	__u8 proto;     /* enum np_xch_proto */
	__u8 pad[4];
	/* "METHOD /path" cut by the kernel side at the first '?', '#', space or
	 * control byte after the path: the rest of the request never leaves
	 * the kernel.  Untrusted: user space validates it (httplabel.c). */
	char label[NP_XCH_LABEL_BYTES];
	__u64 qdisc_ns; /* part of tx_ns spent below TCP: qdisc, device queue (NP_XEV2_QDISC) */
	/* Appended fields: a recording made before them reads them as zero. */
	__u64 tls_ns;       /* TLS handshake inside total_ns (first exchange of a connection) */
	__u32 stream_id;    /* HTTP/2 stream (NP_PROTO_HTTP2, NP_PROTO_GRPC), else 0 */
	__u16 streams_open; /* HTTP/2: streams open on the connection when this one began */
	__u16 pad2;
};

#endif /* NP_EXCHANGE_H */
