/* h2conn.c - HTTP/2 frames and HPACK of one connection, to exchanges
 * (h2conn.h says what is kept and why).
 *
 * Each direction is a small state machine over its byte stream: the
 * client's 24-byte preface, then frames of a 9-byte header and a payload.
 * Payloads are copied only for the frame types read here; the rest are
 * skipped by count, which is what lets a cut call (a gap) inside DATA cost
 * nothing.  A header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs)
 * goes through the direction's HPACK inflater even when its stream is not
 * followed, because the dynamic table depends on every block.
 */
#include "profiler/proto/h2conn.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#define H2_FRAME_HEADER 9
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

enum h2_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
};

#define H2_END_STREAM 0x01
#define H2_ACK 0x01
#define H2_END_HEADERS 0x04
#define H2_PADDED 0x08
#define H2_PRIORITY_FLAG 0x20
#define H2_SETTINGS_HEADER_TABLE_SIZE 1

#define METHOD_MAX 16

struct h2_stream {
	uint32_t id; /* 0: free slot */
	bool req_ended, resp_started;
	uint16_t status;
	uint16_t streams_open;
	uint8_t proto;
	uint8_t label_len, label_cut;
	char label[NP_XCH_LABEL_BYTES];
	uint64_t start_ns, arrival_ns;
	uint64_t req_start_ns, req_end_ns;   /* the request's first and last call */
	uint64_t resp_start_ns, resp_end_ns; /* the response's */
	uint64_t resp_arrival_ns;            /* outbound: the response's first arrival */
	uint64_t bytes_in, bytes_out;
	uint64_t tls_ns; /* the connection's handshake, on its first stream */
};

/* What one header block yielded, while it is being decoded. */
struct h2_block {
	uint32_t stream_id;
	bool end_stream;
	bool push; /* PUSH_PROMISE: decoded for the table's sake only */
	bool grpc;
	uint16_t status;
	char method[METHOD_MAX];
	uint8_t method_len;
	char path[NP_XCH_LABEL_BYTES];
	uint8_t path_len;
	bool path_cut;
};

struct h2_side {
	nghttp2_hd_inflater *inflater;
	uint64_t next_offset;  /* where the next call should begin */
	uint32_t preface_left; /* preface bytes still expected */
	uint8_t hdr[H2_FRAME_HEADER];
	uint32_t hdr_have; /* < 9: in a frame header */
	uint32_t frame_len;
	uint8_t type, flags;
	uint32_t stream_id;
	uint32_t payload_have; /* payload bytes passed (kept or skipped) */
	bool keep;             /* the payload is copied into buf */
	uint8_t *buf;          /* NP_H2_MAX_KEPT_FRAME, allocated when first needed */
	bool in_block;         /* a header block awaits CONTINUATION */
	struct h2_block block;
	int64_t pending_table; /* a table size to apply between blocks, or -1 */
};

struct np_h2_conn {
	uint64_t cookie;
	bool served;
	bool desync;
	struct np_h2_stats *stats;
	np_h2_emit_fn emit;
	void *ctx;
	struct h2_side side[2]; /* by enum np_h2_dir */
	bool tls;
	uint64_t tls_ns; /* a handshake no stream has taken yet */
	unsigned open;
	unsigned max_open;
	uint32_t last_stream_id; /* highest stream the requests opened */
	struct h2_stream streams[NP_H2_MAX_STREAMS];
};

static uint8_t request_dir(const struct np_h2_conn *c)
{
	return c->served ? NP_H2_READ : NP_H2_WRITE;
}

static void desync(struct np_h2_conn *c)
{
	if (c->desync)
		return;
	c->desync = true;
	c->stats->desync_conns++;
	c->stats->lost_streams += c->open;
	memset(c->streams, 0, sizeof(c->streams));
	c->open = 0;
}

static struct h2_stream *find_stream(struct np_h2_conn *c, uint32_t id)
{
	if (id == 0)
		return NULL;
	for (unsigned i = 0; i < NP_H2_MAX_STREAMS; i++)
		if (c->streams[i].id == id)
			return &c->streams[i];
	return NULL;
}

static struct h2_stream *new_stream(struct np_h2_conn *c, uint32_t id)
{
	for (unsigned i = 0; i < NP_H2_MAX_STREAMS; i++) {
		if (c->streams[i].id == 0) {
			memset(&c->streams[i], 0, sizeof(c->streams[i]));
			c->streams[i].id = id;
			c->open++;
			return &c->streams[i];
		}
	}
	c->stats->untracked++;
	return NULL;
}

static void drop_stream(struct np_h2_conn *c, struct h2_stream *s)
{
	s->id = 0;
	c->open--;
}

static uint64_t since(uint64_t from, uint64_t to)
{
	return from && to > from ? to - from : 0;
}

/* The response ended: the stream is one exchange. */
static void finish_stream(struct np_h2_conn *c, struct h2_stream *s)
{
	struct np_xch_event e;

	memset(&e, 0, sizeof(e));
	e.cookie = c->cookie;
	e.start_ns = s->start_ns;
	e.arrival_ns = s->arrival_ns;
	e.status = s->status;
	e.proto = s->proto;
	e.stream_id = s->id;
	e.streams_open = s->streams_open;
	e.bytes_in = s->bytes_in;
	e.bytes_out = s->bytes_out;
	if (s->label_len) {
		memcpy(e.label, s->label, s->label_len);
		e.label_len = s->label_len;
		e.label_cut = s->label_cut;
		e.flags |= NP_XEV_LABEL;
	}
	if (c->tls)
		e.flags2 |= NP_XEV2_TLS;
	if (c->served) {
		e.read_start_ns = s->req_start_ns;
		e.read_end_ns = s->req_end_ns;
		e.write_start_ns = s->resp_start_ns;
		e.write_end_ns = s->resp_end_ns;
		e.total_ns = since(s->start_ns, s->resp_end_ns);
		e.queued_ns = since(s->arrival_ns, s->req_start_ns);
		e.app_ns = since(s->req_start_ns, s->resp_end_ns);
		if (s->arrival_ns)
			e.flags |= NP_XEV_ARRIVAL;
		/* as for HTTP/1: the handshake is part of the first exchange */
		if (s->tls_ns) {
			e.tls_ns = s->tls_ns;
			e.total_ns += s->tls_ns;
			e.start_ns = e.start_ns > s->tls_ns ? e.start_ns - s->tls_ns : 0;
		}
	} else {
		/* outbound: write_* is the request, read_* the response, and the
		 * total is the wait for the response's first byte (peer time) */
		uint64_t first = s->resp_arrival_ns ? s->resp_arrival_ns : s->resp_start_ns;

		e.write_start_ns = s->req_start_ns;
		e.write_end_ns = s->req_end_ns;
		e.read_start_ns = s->resp_start_ns;
		e.read_end_ns = s->resp_end_ns;
		e.total_ns = since(s->req_start_ns, first);
		e.flags |= NP_XEV_OUTBOUND;
	}
	c->stats->streams++;
	if (s->proto == NP_PROTO_GRPC)
		c->stats->grpc++;
	drop_stream(c, s);
	c->emit(c->ctx, &e);
}

/* ":method" is kept only as upper-case letters: anything else is no label. */
static void take_method(struct h2_block *b, const uint8_t *v, size_t n)
{
	if (n == 0 || n >= METHOD_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 'A' || v[i] > 'Z')
			return;
	memcpy(b->method, v, n);
	b->method_len = (uint8_t)n;
}

/* ":path" up to its query or fragment: the rest (tokens, ids) is never
 * copied.  Origin form ("/...") or "*" only, visible ASCII. */
static void take_path(struct h2_block *b, const uint8_t *v, size_t n)
{
	size_t end = 0;

	if (n == 0 || (v[0] != '/' && v[0] != '*'))
		return;
	while (end < n && v[end] > ' ' && v[end] < 0x7f && v[end] != '?' && v[end] != '#')
		end++;
	if (end > sizeof(b->path)) {
		end = sizeof(b->path);
		b->path_cut = true;
	}
	memcpy(b->path, v, end);
	b->path_len = (uint8_t)end;
}

static bool name_is(const nghttp2_nv *nv, const char *name)
{
	size_t n = strlen(name);

	return nv->namelen == n && memcmp(nv->name, name, n) == 0;
}

/* Keeps what a label needs of one decoded field; drops the rest unread. */
static void take_field(struct h2_block *b, const nghttp2_nv *nv)
{
	if (name_is(nv, ":method")) {
		take_method(b, nv->value, nv->valuelen);
	} else if (name_is(nv, ":path")) {
		take_path(b, nv->value, nv->valuelen);
	} else if (name_is(nv, ":status")) {
		if (nv->valuelen == 3 && nv->value[0] >= '1' && nv->value[0] <= '5' &&
		    nv->value[1] >= '0' && nv->value[1] <= '9' && nv->value[2] >= '0' &&
		    nv->value[2] <= '9')
			b->status = (uint16_t)((nv->value[0] - '0') * 100 +
					       (nv->value[1] - '0') * 10 + (nv->value[2] - '0'));
	} else if (name_is(nv, "content-type")) {
		static const char grpc[] = "application/grpc";
		size_t n = sizeof(grpc) - 1;

		/* "application/grpc", "application/grpc+proto", ... */
		b->grpc = nv->valuelen >= n && memcmp(nv->value, grpc, n) == 0 &&
			  (nv->valuelen == n || nv->value[n] == '+' || nv->value[n] == ';');
	}
}

/* Runs one header block fragment through the inflater.  Returns false on
 * an HPACK error (the table is lost: the connection desynchronizes). */
static bool inflate(struct h2_side *d, const uint8_t *in, size_t len, bool final)
{
	for (;;) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(d->inflater, &nv, &fl, in, len, final);

		if (rv < 0 || (size_t)rv > len)
			return false;
		in += rv;
		len -= (size_t)rv;
		if (fl & NGHTTP2_HD_INFLATE_EMIT)
			take_field(&d->block, &nv);
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inflater);
			return true;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
			return true;
	}
}

static void apply_pending_table(struct h2_side *d)
{
	if (d->pending_table < 0 || d->in_block)
		return;
	/* fails only mid-block, which in_block rules out */
	nghttp2_hd_inflate_change_table_size(d->inflater, (size_t)d->pending_table);
	d->pending_table = -1;
}

static void fill_label(struct h2_stream *s, const struct h2_block *b)
{
	size_t room;

	if (!b->method_len || !b->path_len)
		return;
	memcpy(s->label, b->method, b->method_len);
	s->label[b->method_len] = ' ';
	room = sizeof(s->label) - b->method_len - 1u;
	s->label_len = (uint8_t)(b->method_len + 1u + (b->path_len < room ? b->path_len : room));
	memcpy(s->label + b->method_len + 1, b->path, s->label_len - b->method_len - 1u);
	s->label_cut = b->path_cut || b->path_len > room;
}

static void request_ended(struct h2_stream *s, const struct np_h2_chunk *ch)
{
	s->req_ended = true;
	s->req_end_ns = ch->call_end_ns;
}

/* A whole header block arrived in direction `dir`. */
static void on_headers(struct np_h2_conn *c, uint8_t dir, const struct np_h2_chunk *ch)
{
	const struct h2_block *b = &c->side[dir].block;
	struct h2_stream *s = find_stream(c, b->stream_id);

	if (b->push)
		return; /* pushed streams are not followed */
	if (dir == request_dir(c)) {
		if (!s) {
			/* new streams only go up (RFC 9113 5.1.1): a block on an
			 * older id is the trailer of a stream already ended */
			if (b->stream_id <= c->last_stream_id)
				return;
			c->last_stream_id = b->stream_id;
			s = new_stream(c, b->stream_id);
			if (!s)
				return;
			s->req_start_ns = ch->call_start_ns;
			s->arrival_ns = c->served ? ch->arrival_ns : 0;
			s->start_ns = s->arrival_ns ? s->arrival_ns : ch->call_start_ns;
			s->streams_open = (uint16_t)c->open;
			if (c->served) {
				s->tls_ns = c->tls_ns;
				c->tls_ns = 0;
			}
			if (c->open > c->max_open)
				c->max_open = c->open;
			if (c->open > c->stats->max_concurrent)
				c->stats->max_concurrent = c->open;
			c->stats->concurrent_sum += c->open;
			s->proto = b->grpc ? NP_PROTO_GRPC : NP_PROTO_HTTP2;
			fill_label(s, b);
		}
		if (b->end_stream)
			request_ended(s, ch);
		return;
	}
	if (!s)
		return;
	if (!s->resp_started) {
		s->resp_started = true;
		s->resp_start_ns = ch->call_start_ns;
		s->resp_arrival_ns = c->served ? 0 : ch->arrival_ns;
	}
	/* a 1xx is followed by the final status; trailers carry none */
	if (b->status >= 200 || (b->status && !s->status))
		s->status = b->status;
	if (b->end_stream) {
		s->resp_end_ns = ch->call_end_ns;
		finish_stream(c, s);
	}
}

static void on_data(struct np_h2_conn *c, uint8_t dir, const struct np_h2_chunk *ch)
{
	const struct h2_side *d = &c->side[dir];
	struct h2_stream *s = find_stream(c, d->stream_id);

	if (!s || !(d->flags & H2_END_STREAM))
		return;
	if (dir == request_dir(c)) {
		request_ended(s, ch);
	} else if (s->resp_started) {
		s->resp_end_ns = ch->call_end_ns;
		finish_stream(c, s);
	}
}

/* Starts a header block with the fragment of a HEADERS or PUSH_PROMISE
 * payload p[0..len) (padding and priority or promised id still on). */
static bool begin_block(struct np_h2_conn *c, uint8_t dir, const uint8_t *p, uint32_t len,
			const struct np_h2_chunk *ch)
{
	struct h2_side *d = &c->side[dir];
	uint32_t off = 0, pad = 0;

	if (d->flags & H2_PADDED) {
		if (len < 1)
			return false;
		pad = p[0];
		off = 1;
	}
	if (d->type == H2_HEADERS && (d->flags & H2_PRIORITY_FLAG))
		off += 5;
	if (d->type == H2_PUSH_PROMISE)
		off += 4;
	if (off > len || pad > len - off)
		return false;
	memset(&d->block, 0, sizeof(d->block));
	d->block.stream_id = d->stream_id;
	d->block.end_stream = d->type == H2_HEADERS && (d->flags & H2_END_STREAM);
	d->block.push = d->type == H2_PUSH_PROMISE;
	d->in_block = !(d->flags & H2_END_HEADERS);
	if (!inflate(d, p + off, len - off - pad, !d->in_block))
		return false;
	if (!d->in_block)
		on_headers(c, dir, ch);
	return true;
}

static bool continue_block(struct np_h2_conn *c, uint8_t dir, const struct np_h2_chunk *ch)
{
	struct h2_side *d = &c->side[dir];

	d->in_block = !(d->flags & H2_END_HEADERS);
	if (!inflate(d, d->buf, d->frame_len, !d->in_block))
		return false;
	if (!d->in_block)
		on_headers(c, dir, ch);
	return true;
}

/* SETTINGS from one side bound the table the other side's encoder uses. */
static bool on_settings(struct np_h2_conn *c, uint8_t dir)
{
	struct h2_side *d = &c->side[dir];
	struct h2_side *other = &c->side[!dir];

	if (d->flags & H2_ACK)
		return true;
	if (d->frame_len % 6)
		return false;
	for (uint32_t i = 0; i < d->frame_len; i += 6) {
		const uint8_t *p = d->buf + i;
		uint32_t id = (uint32_t)p[0] << 8 | p[1];
		uint32_t v = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 |
			     p[5];

		if (id == H2_SETTINGS_HEADER_TABLE_SIZE)
			other->pending_table = v < NP_H2_MAX_TABLE_BYTES ? v
									 : NP_H2_MAX_TABLE_BYTES;
	}
	apply_pending_table(other);
	return true;
}

/* The frame's last payload byte has passed.  False: desynchronized. */
static bool frame_done(struct np_h2_conn *c, uint8_t dir, const struct np_h2_chunk *ch)
{
	struct h2_side *d = &c->side[dir];
	struct h2_stream *s;
	bool ok = true;

	c->stats->frames++;
	switch (d->type) {
	case H2_DATA:
		on_data(c, dir, ch);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		ok = begin_block(c, dir, d->buf, d->frame_len, ch);
		break;
	case H2_CONTINUATION:
		ok = continue_block(c, dir, ch);
		break;
	case H2_RST_STREAM:
		s = find_stream(c, d->stream_id);
		if (s) {
			c->stats->reset++;
			drop_stream(c, s);
		}
		break;
	case H2_SETTINGS:
		ok = on_settings(c, dir);
		break;
	default:
		break;
	}
	d->hdr_have = 0;
	apply_pending_table(d);
	return ok && !c->desync;
}

static bool keeps_payload(uint8_t type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION ||
	       type == H2_RST_STREAM || type == H2_SETTINGS;
}

/* The 9-byte header is complete: check it against the direction's state. */
static bool frame_begins(struct np_h2_conn *c, uint8_t dir)
{
	struct h2_side *d = &c->side[dir];
	const uint8_t *h = d->hdr;
	struct h2_stream *s;

	d->frame_len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	d->type = h[3];
	d->flags = h[4];
	d->stream_id = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
		       0x7fffffffu;
	d->payload_have = 0;
	/* a header block is not interleaved with anything (RFC 9113 6.10) */
	if (d->in_block != (d->type == H2_CONTINUATION))
		return false;
	if (d->in_block && d->stream_id != d->block.stream_id)
		return false;
	if (d->type == H2_RST_STREAM && d->frame_len != 4)
		return false;
	d->keep = keeps_payload(d->type);
	if (d->keep && d->frame_len > NP_H2_MAX_KEPT_FRAME)
		return false;
	if (d->keep && !d->buf) {
		d->buf = malloc(NP_H2_MAX_KEPT_FRAME);
		if (!d->buf)
			return false;
	}
	s = find_stream(c, d->stream_id);
	if (s && (d->type == H2_DATA || d->type == H2_HEADERS || d->type == H2_CONTINUATION)) {
		if (dir == NP_H2_READ)
			s->bytes_in += d->frame_len;
		else
			s->bytes_out += d->frame_len;
	}
	return true;
}

/* Consumes bytes of one direction.  False: desynchronized. */
static bool consume(struct np_h2_conn *c, uint8_t dir, const uint8_t *p, size_t n,
		    const struct np_h2_chunk *ch)
{
	struct h2_side *d = &c->side[dir];

	while (n > 0) {
		size_t take;

		if (d->preface_left) {
			size_t at = H2_PREFACE_LEN - d->preface_left;

			take = n < d->preface_left ? n : d->preface_left;
			if (memcmp(p, &H2_PREFACE[at], take) != 0)
				return false;
			d->preface_left -= (uint32_t)take;
		} else if (d->hdr_have < H2_FRAME_HEADER) {
			take = H2_FRAME_HEADER - d->hdr_have;
			if (take > n)
				take = n;
			memcpy(d->hdr + d->hdr_have, p, take);
			d->hdr_have += (uint32_t)take;
			if (d->hdr_have == H2_FRAME_HEADER) {
				if (!frame_begins(c, dir))
					return false;
				if (d->frame_len == 0 && !frame_done(c, dir, ch))
					return false;
			}
		} else {
			take = d->frame_len - d->payload_have;
			if (take > n)
				take = n;
			if (d->keep)
				memcpy(d->buf + d->payload_have, p, take);
			d->payload_have += (uint32_t)take;
			if (d->payload_have == d->frame_len && !frame_done(c, dir, ch))
				return false;
		}
		p += take;
		n -= take;
	}
	return true;
}

/* `gap` bytes of the direction were never seen.  Harmless only inside the
 * payload of a frame that is skipped anyway. */
static bool skip_gap(struct np_h2_conn *c, uint8_t dir, uint64_t gap, const struct np_h2_chunk *ch)
{
	struct h2_side *d = &c->side[dir];

	if (gap == 0)
		return true;
	if (d->preface_left || d->hdr_have < H2_FRAME_HEADER || d->keep ||
	    gap > d->frame_len - d->payload_have)
		return false;
	c->stats->gaps_skipped++;
	d->payload_have += (uint32_t)gap;
	if (d->payload_have == d->frame_len)
		return frame_done(c, dir, ch);
	return true;
}

bool np_h2_conn_feed(struct np_h2_conn *c, const struct np_h2_chunk *ch, const uint8_t *data)
{
	uint8_t dir = ch->dir == NP_H2_WRITE ? NP_H2_WRITE : NP_H2_READ;
	struct h2_side *d = &c->side[dir];
	uint32_t kept = ch->kept < ch->len ? ch->kept : ch->len;

	if (c->desync)
		return false;
	if (ch->tls)
		c->tls = true;
	/* a handshake belongs only to a TLS connection (fuzzing found a
	 * cleartext one charged with it) */
	if (ch->tls_ns && c->tls)
		c->tls_ns = ch->tls_ns;
	if (ch->offset < d->next_offset || !skip_gap(c, dir, ch->offset - d->next_offset, ch) ||
	    !consume(c, dir, data, kept, ch) || !skip_gap(c, dir, ch->len - kept, ch)) {
		desync(c);
		return false;
	}
	d->next_offset = ch->offset + ch->len;
	return true;
}

struct np_h2_conn *np_h2_conn_new(uint64_t cookie, bool served, struct np_h2_stats *stats,
				  np_h2_emit_fn emit, void *ctx)
{
	struct np_h2_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cookie = cookie;
	c->served = served;
	c->stats = stats;
	c->emit = emit;
	c->ctx = ctx;
	for (int i = 0; i < 2; i++) {
		c->side[i].pending_table = -1;
		if (nghttp2_hd_inflate_new(&c->side[i].inflater) != 0) {
			np_h2_conn_free(c);
			return NULL;
		}
	}
	c->side[request_dir(c)].preface_left = H2_PREFACE_LEN;
	stats->conns++;
	return c;
}

void np_h2_conn_free(struct np_h2_conn *c)
{
	if (!c)
		return;
	c->stats->unanswered += c->open;
	for (int i = 0; i < 2; i++) {
		if (c->side[i].inflater)
			nghttp2_hd_inflate_del(c->side[i].inflater);
		free(c->side[i].buf);
	}
	free(c);
}

unsigned np_h2_conn_max_open(const struct np_h2_conn *c)
{
	return c->max_open;
}

void np_h2_account(struct np_xch_stats *s, const struct np_xch_event *e)
{
	if (e->flags & NP_XEV_OUTBOUND) {
		s->outbound++;
		s->outbound_ns += e->total_ns;
		if (e->total_ns > s->max_outbound_ns)
			s->max_outbound_ns = e->total_ns;
		s->hist[NP_XH_OUT][np_xh_bucket(e->total_ns)]++;
		return;
	}
	s->served++;
	if (e->tls_ns) {
		s->tls_known++;
		s->tls_ns += e->tls_ns;
	}
	s->total_ns += e->total_ns;
	s->app_ns += e->app_ns;
	s->bytes_in += e->bytes_in;
	s->bytes_out += e->bytes_out;
	if (e->total_ns > s->max_total_ns)
		s->max_total_ns = e->total_ns;
	s->hist[NP_XH_TOTAL][np_xh_bucket(e->total_ns)]++;
	s->hist[NP_XH_APP][np_xh_bucket(e->app_ns)]++;
	if (e->flags & NP_XEV_ARRIVAL) {
		s->queued_known++;
		s->queued_ns += e->queued_ns;
		s->hist[NP_XH_QUEUED][np_xh_bucket(e->queued_ns)]++;
	}
}
