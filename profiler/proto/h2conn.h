/* h2conn.h - one HTTP/2 connection seen from its socket calls: the two
 * byte streams reassembled, split into frames, header blocks decoded with
 * libnghttp2's HPACK inflater, and each stream turned into one exchange
 * (struct np_xch_event) with its label, status, times and concurrency.
 *
 * Input is untrusted: the bytes a traced process read or wrote, shipped by
 * the kernel side one socket call at a time ("chunk"), each possibly cut
 * short (only its first bytes kept).  Every length is bounded: a frame's
 * payload is kept only for the frame types whose content matters (header
 * blocks, RST_STREAM, SETTINGS) and only up to NP_H2_MAX_KEPT_FRAME; DATA
 * and the rest are counted and skipped.  A cut that falls inside skipped
 * bytes costs nothing; anywhere else the connection is desynchronized: its
 * open streams are counted as lost and the rest of it is ignored.
 *
 * Privacy: header blocks are decoded here, in netprof's memory, because
 * HPACK needs all of them in order.  Only ":method", ":path" up to its
 * first '?' or '#', ":status" and whether content-type is application/grpc
 * are kept; every other name and value is dropped as the inflater emits
 * it.  Nothing raw leaves this module.
 *
 * Pure: no I/O, no session; the caller feeds chunks and receives
 * exchanges through a callback.  What it is not: an HTTP/2 endpoint (it
 * never answers, never enforces flow control) nor a validator.
 */
#ifndef NP_H2CONN_H
#define NP_H2CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/exchange.h"

/* Largest frame payload kept whole for parsing (header block fragments,
 * SETTINGS, RST_STREAM); a larger header frame desynchronizes. */
#define NP_H2_MAX_KEPT_FRAME (64u * 1024)
/* Streams followed at once per connection; more are counted, not timed. */
#define NP_H2_MAX_STREAMS 256
/* Largest HPACK dynamic table accepted (a peer may advertise up to 4 GiB). */
#define NP_H2_MAX_TABLE_BYTES (64u * 1024)

/* Which way a chunk's bytes went, seen from the traced process. */
enum np_h2_dir {
	NP_H2_READ = 0,  /* the target read them */
	NP_H2_WRITE = 1, /* the target wrote them */
};

/* One socket call.  Times are CLOCK_MONOTONIC ns; zero is unknown. */
struct np_h2_chunk {
	uint64_t call_start_ns, call_end_ns;
	uint64_t arrival_ns; /* reads: first data arrival behind this read */
	uint64_t offset;     /* of its first byte in this direction since the connection began */
	uint32_t len;        /* bytes the call moved */
	uint32_t kept;       /* of them, the first `kept` are given (<= len) */
	uint8_t dir;         /* enum np_h2_dir */
	bool tls;            /* the connection is TLS: the bytes are its plaintext */
	/* TLS: the handshake, given once; the connection's first stream takes
	 * it as its tls_ns, part of its total (served only, as for HTTP/1) */
	uint64_t tls_ns;
};

/* Counters, added to by every connection fed (the caller owns and zeroes). */
struct np_h2_stats {
	uint64_t conns;          /* connections parsed */
	uint64_t streams;        /* streams completed (an exchange each) */
	uint64_t grpc;           /* ... of them labelled gRPC */
	uint64_t reset;          /* streams ended by RST_STREAM */
	uint64_t lost_streams;   /* open when their connection desynchronized */
	uint64_t unanswered;     /* open when their connection ended */
	uint64_t untracked;      /* over NP_H2_MAX_STREAMS at once: not timed */
	uint64_t desync_conns;   /* connections desynchronized (gap, bad frame, HPACK) */
	uint64_t gaps_skipped;   /* cut chunks whose missing bytes were in skipped payload */
	uint64_t frames;         /* frames parsed */
	uint64_t max_concurrent; /* most streams open at once on one connection */
	uint64_t concurrent_sum; /* sum over streams of streams_open at their start */
};

/* Receives each completed stream; the event is only valid during the call. */
typedef void (*np_h2_emit_fn)(void *ctx, const struct np_xch_event *e);

struct np_h2_conn;

/* A connection with socket cookie `cookie`; `served` says the target
 * accepted it (reads carry requests), otherwise the target is the client.
 * The client's bytes must begin with the connection preface.  Returns
 * NULL without memory. */
struct np_h2_conn *np_h2_conn_new(uint64_t cookie, bool served, struct np_h2_stats *stats,
				  np_h2_emit_fn emit, void *ctx);

/* Feeds one call: `data` holds chunk->kept bytes.  Calls of one direction
 * come in order; an offset past the end of the previous call (a chunk the
 * kernel could not ship) is a gap like a cut one.  Completed streams are
 * emitted before it returns.  Returns false once the connection is
 * desynchronized (further chunks are ignored). */
bool np_h2_conn_feed(struct np_h2_conn *c, const struct np_h2_chunk *chunk, const uint8_t *data);

/* The connection ended: open streams count as unanswered.  Frees c;
 * accepts NULL. */
void np_h2_conn_free(struct np_h2_conn *c);

/* Adds one emitted stream to totals and histograms of the layout the
 * kernel side keeps for HTTP/1 exchanges, so that the report reads h2
 * streams from the same block: every stream, not only recorded events. */
void np_h2_account(struct np_xch_stats *s, const struct np_xch_event *e);

/* The most streams this connection has had open at once. */
unsigned np_h2_conn_max_open(const struct np_h2_conn *c);

#endif /* NP_H2CONN_H */
