/* test_h2conn.c - HTTP/2 connections fed call by call: frames built here,
 * header blocks encoded with libnghttp2's HPACK deflater (the encoder a
 * real peer such as h2load uses), then cut, split and dropped the way the
 * kernel side can deliver them. */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/proto/h2conn.h"
#include "tests/unit/testutil.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct buf {
	uint8_t b[65536];
	size_t n;
};

struct got {
	struct np_xch_event ev[64];
	unsigned n;
};

static void collect(void *ctx, const struct np_xch_event *e)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, 64u);
	g->ev[g->n++] = *e;
}

static void put(struct buf *b, const void *p, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t h[9] = {
		(uint8_t)(n >> 16),   (uint8_t)(n >> 8),    (uint8_t)n,          type,        flags,
		(uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};

	put(b, h, 9);
	put(b, p, n);
}

#define NV(n, v) \
	{ \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE \
	}

/* The HPACK block of nva, from a deflater kept per direction. */
static size_t encode(nghttp2_hd_deflater *d, const nghttp2_nv *nva, size_t n, uint8_t *out)
{
	ssize_t r = nghttp2_hd_deflate_hd(d, out, 4096, nva, n);

	cr_assert_gt(r, 0);
	return (size_t)r;
}

static nghttp2_hd_deflater *deflater(void)
{
	nghttp2_hd_deflater *d;

	cr_assert_eq(nghttp2_hd_deflate_new(&d, 4096), 0);
	return d;
}

static void request(struct buf *b, nghttp2_hd_deflater *d, uint32_t sid, const char *path, bool end)
{
	nghttp2_nv nva[] = {NV(":method", "GET"), NV(":scheme", "http"),
			    NV(":authority", "127.0.0.1"), NV(":path", ""),
			    NV("authorization", "Bearer hunter2secret")};
	uint8_t blk[4096];

	nva[3].value = (uint8_t *)path;
	nva[3].valuelen = strlen(path);
	frame(b, 1, 0x04 | (end ? 0x01 : 0), sid, blk, encode(d, nva, 5, blk));
}

static void response(struct buf *b, nghttp2_hd_deflater *d, uint32_t sid, const char *status,
		     size_t body)
{
	nghttp2_nv nva[] = {NV(":status", ""), NV("server", "nginx"), NV("content-length", "5")};
	uint8_t blk[4096];
	static uint8_t zeros[16384];

	nva[0].value = (uint8_t *)status;
	nva[0].valuelen = strlen(status);
	frame(b, 1, 0x04, sid, blk, encode(d, nva, 3, blk));
	frame(b, 0, 0x01, sid, zeros, body);
}

struct conn {
	struct np_h2_stats st;
	struct got got;
	struct np_h2_conn *c;
	uint64_t off[2];
	uint64_t t;
};

static void open_conn(struct conn *k, bool served)
{
	memset(k, 0, sizeof(*k));
	k->c = np_h2_conn_new(42, served, &k->st, collect, &k->got);
	cr_assert_not_null(k->c);
	k->t = 1000;
}

/* One call of dir moving b's bytes, of which the first `kept` are shipped. */
static bool call(struct conn *k, uint8_t dir, const struct buf *b, uint32_t kept)
{
	struct np_h2_chunk ch = {.call_start_ns = k->t,
				 .call_end_ns = k->t + 10,
				 .arrival_ns = dir == NP_H2_READ ? k->t - 5 : 0,
				 .offset = k->off[dir],
				 .len = (uint32_t)b->n,
				 .kept = kept,
				 .dir = dir};
	bool ok = np_h2_conn_feed(k->c, &ch, b->b);

	k->off[dir] += b->n;
	k->t += 100;
	return ok;
}

static bool whole(struct conn *k, uint8_t dir, const struct buf *b)
{
	return call(k, dir, b, (uint32_t)b->n);
}

static void label_is(const struct np_xch_event *e, const char *want)
{
	cr_assert(e->flags & NP_XEV_LABEL);
	cr_assert_eq(e->label_len, strlen(want), "%.*s", e->label_len, e->label);
	cr_assert_eq(memcmp(e->label, want, e->label_len), 0, "%.*s", e->label_len, e->label);
}

static void no_secret(const struct got *g)
{
	cr_assert_null(memmem(g->ev, sizeof(g->ev[0]) * g->n, "hunter2", 7));
}

static void server_settings(struct buf *b)
{
	frame(b, 4, 0, 0, "\x00\x03\x00\x00\x00\x80", 6);
}

Test(h2conn, served_stream_is_one_exchange_without_query_or_headers)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	frame(&in, 4, 0, 0, "", 0);
	request(&in, req, 1, "/index.html?token=hunter2secret", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	server_settings(&out);
	response(&out, resp, 1, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	const struct np_xch_event *e = &k.got.ev[0];
	label_is(e, "GET /index.html");
	cr_assert_eq(e->status, 200);
	cr_assert_eq(e->proto, NP_PROTO_HTTP2);
	cr_assert_eq(e->stream_id, 1);
	cr_assert_eq(e->streams_open, 1);
	cr_assert_eq(e->cookie, 42);
	cr_assert_eq(e->start_ns, 995); /* arrival */
	cr_assert_eq(e->queued_ns, 5);
	cr_assert_eq(e->app_ns, 1110 - 1000);
	cr_assert_eq(e->total_ns, 1110 - 995);
	cr_assert(e->flags & NP_XEV_ARRIVAL);
	cr_assert_eq(e->bytes_out, out.n - 9 - 6 - 9 * 2); /* HEADERS + DATA payloads */
	no_secret(&k.got);
	cr_assert_eq(k.st.streams, 1);
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 0);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, byte_at_a_time_reassembles_the_same)
{
	struct conn k;
	struct buf in = {0}, out = {0}, one = {.n = 1};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/a/b", true);
	request(&in, req, 3, "/a/b", true);
	server_settings(&out);
	response(&out, resp, 1, "200", 5);
	response(&out, resp, 3, "404", 0);
	for (size_t i = 0; i < in.n; i++) {
		one.b[0] = in.b[i];
		cr_assert(whole(&k, NP_H2_READ, &one));
	}
	for (size_t i = 0; i < out.n; i++) {
		one.b[0] = out.b[i];
		cr_assert(whole(&k, NP_H2_WRITE, &one));
	}
	cr_assert_eq(k.got.n, 2);
	label_is(&k.got.ev[0], "GET /a/b");
	label_is(&k.got.ev[1], "GET /a/b");
	cr_assert_eq(k.got.ev[1].status, 404);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, hpack_dynamic_table_carries_across_requests)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	static const char *const paths[] = {"/first/path/long", "/first/path/long", "/second"};

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	for (uint32_t i = 0; i < 3; i++)
		request(&in, req, 1 + 2 * i, paths[i], true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	for (uint32_t i = 0; i < 3; i++)
		response(&out, resp, 1 + 2 * i, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		char want[64];

		snprintf(want, sizeof(want), "GET %s", paths[i]);
		label_is(&k.got.ev[i], want);
		cr_assert_eq(k.got.ev[i].status, 200);
	}
	no_secret(&k.got);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, continuation_padding_and_priority)
{
	struct conn k;
	struct buf in = {0}, out = {0}, frag = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	nghttp2_nv nva[] = {NV(":method", "POST"), NV(":path", "/upload?x=1"),
			    NV(":scheme", "http"), NV("cookie", "hunter2secret")};
	uint8_t blk[4096];
	size_t n = encode(req, nva, 4, blk);

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	/* HEADERS: PADDED | PRIORITY, pad 7, first 3 bytes of the block */
	put(&frag, "\x07", 1);
	put(&frag, "\x00\x00\x00\x00\x10", 5);
	put(&frag, blk, 3);
	put(&frag, "\0\0\0\0\0\0\0", 7);
	frame(&in, 1, 0x08 | 0x20 | 0x01, 1, frag.b, frag.n);
	cr_assert(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.st.streams, 0);
	in.n = 0;
	frame(&in, 9, 0, 1, blk + 3, 2);
	cr_assert(whole(&k, NP_H2_READ, &in));
	in.n = 0;
	frame(&in, 9, 0x04, 1, blk + 5, n - 5);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "201", 0);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	label_is(&k.got.ev[0], "POST /upload");
	cr_assert_eq(k.got.ev[0].status, 201);
	no_secret(&k.got);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, frame_between_headers_and_continuation_desynchronizes)
{
	struct conn k;
	struct buf in = {0};
	nghttp2_hd_deflater *req = deflater();
	nghttp2_nv nva[] = {NV(":method", "GET"), NV(":path", "/")};
	uint8_t blk[4096];
	size_t n = encode(req, nva, 2, blk);

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	frame(&in, 1, 0x01, 1, blk, n - 1);
	frame(&in, 6, 0, 0, "12345678", 8); /* PING inside the block */
	cr_assert_not(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.st.desync_conns, 1);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
}

Test(h2conn, rst_stream_ends_a_stream_without_an_exchange)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/slow", true);
	request(&in, req, 3, "/fast", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	in.n = 0;
	frame(&in, 3, 0, 1, "\0\0\0\x08", 4); /* CANCEL */
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 5); /* late: the stream is gone */
	response(&out, resp, 3, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	label_is(&k.got.ev[0], "GET /fast");
	cr_assert_eq(k.got.ev[0].streams_open, 2);
	cr_assert_eq(k.st.reset, 1);
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 0);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, grpc_path_is_the_method)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	nghttp2_nv nva[] = {NV(":method", "POST"), NV(":scheme", "http"),
			    NV(":path", "/helloworld.Greeter/SayHello"),
			    NV("content-type", "application/grpc+proto"), NV("te", "trailers")};
	nghttp2_nv trailers[] = {NV("grpc-status", "0")};
	uint8_t blk[4096];

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	frame(&in, 1, 0x04, 1, blk, encode(req, nva, 5, blk));
	frame(&in, 0, 0x01, 1, "\0\0\0\0\x02hi", 7);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 0);
	out.n -= 9; /* no empty DATA: the trailers end the stream */
	frame(&out, 1, 0x04 | 0x01, 1, blk, encode(resp, trailers, 1, blk));
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	label_is(&k.got.ev[0], "POST /helloworld.Greeter/SayHello");
	cr_assert_eq(k.got.ev[0].proto, NP_PROTO_GRPC);
	cr_assert_eq(k.got.ev[0].status, 200);
	cr_assert_eq(k.st.grpc, 1);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, streams_open_counts_concurrency)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	for (uint32_t i = 0; i < 4; i++)
		request(&in, req, 1 + 2 * i, "/", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	for (uint32_t i = 0; i < 4; i++)
		response(&out, resp, 7 - 2 * i, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(k.got.ev[i].stream_id, 7 - 2 * i);
		cr_assert_eq(k.got.ev[i].streams_open, 4 - i);
	}
	cr_assert_eq(np_h2_conn_max_open(k.c), 4);
	cr_assert_eq(k.st.max_concurrent, 4);
	cr_assert_eq(k.st.concurrent_sum, 1 + 2 + 3 + 4);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, cut_call_inside_data_is_skipped)
{
	struct conn k;
	struct buf in = {0}, out = {0}, next = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/big", true);
	request(&in, req, 3, "/small", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 10000);
	cr_assert(call(&k, NP_H2_WRITE, &out, (uint32_t)out.n - 9000)); /* cut in the DATA */
	/* a whole call lost (the ring was full), also inside the next DATA */
	response(&next, resp, 3, "200", 12000);
	cr_assert(whole(&k, NP_H2_WRITE, &next));
	cr_assert_eq(k.got.n, 2);
	label_is(&k.got.ev[1], "GET /small");
	cr_assert_eq(k.st.gaps_skipped, 1);
	cr_assert_eq(k.st.desync_conns, 0);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, lost_call_inside_data_is_skipped_by_offset)
{
	struct conn k;
	struct buf in = {0}, out = {0}, tail = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/big", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 10000);
	/* the response went out in three writes; the middle one never arrived */
	size_t first = out.n - 8000;
	struct buf a = {0};
	put(&a, out.b, first);
	put(&tail, out.b + first + 4000, out.n - first - 4000);
	cr_assert(whole(&k, NP_H2_WRITE, &a));
	k.off[NP_H2_WRITE] += 4000;
	cr_assert(whole(&k, NP_H2_WRITE, &tail));
	cr_assert_eq(k.got.n, 1);
	cr_assert_eq(k.st.gaps_skipped, 1);
	/* and the frames after the gap line up */
	in.n = out.n = 0;
	request(&in, req, 3, "/after", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 3, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 2);
	label_is(&k.got.ev[1], "GET /after");
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, cut_header_block_desynchronizes_and_counts_open_streams)
{
	struct conn k;
	struct buf in = {0}, more = {0};
	nghttp2_hd_deflater *req = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/a", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	request(&more, req, 3, "/b", true);
	request(&more, req, 5, "/c", true);
	cr_assert_not(call(&k, NP_H2_READ, &more, 12));
	cr_assert_eq(k.st.desync_conns, 1);
	cr_assert_eq(k.st.lost_streams, 1);
	cr_assert_not(whole(&k, NP_H2_READ, &more)); /* ignored from then on */
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 0);
	nghttp2_hd_deflate_del(req);
}

Test(h2conn, joined_without_preface_desynchronizes)
{
	struct conn k;
	struct buf in = {0};
	nghttp2_hd_deflater *req = deflater();

	open_conn(&k, true);
	request(&in, req, 1, "/a", true);
	cr_assert_not(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.st.desync_conns, 1);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
}

Test(h2conn, bad_hpack_desynchronizes)
{
	struct conn k;
	struct buf in = {0};

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	frame(&in, 1, 0x05, 1, "\xff\xff\xff\xff\xff", 5); /* index past any table */
	cr_assert_not(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.st.desync_conns, 1);
	np_h2_conn_free(k.c);
}

Test(h2conn, outbound_requests_are_writes)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, false);
	put(&out, PREFACE, 24);
	request(&out, req, 1, "/api/v1?key=hunter2secret", true);
	cr_assert(whole(&k, NP_H2_WRITE, &out)); /* t 1000..1010 */
	server_settings(&in);
	response(&in, resp, 1, "503", 5);
	cr_assert(whole(&k, NP_H2_READ, &in)); /* t 1100, arrival 1095 */
	cr_assert_eq(k.got.n, 1);
	const struct np_xch_event *e = &k.got.ev[0];
	label_is(e, "GET /api/v1");
	cr_assert(e->flags & NP_XEV_OUTBOUND);
	cr_assert_eq(e->status, 503);
	cr_assert_eq(e->total_ns, 1095 - 1000);
	no_secret(&k.got);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, open_streams_at_close_are_unanswered)
{
	struct conn k;
	struct buf in = {0};
	nghttp2_hd_deflater *req = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/a", true);
	request(&in, req, 3, "/b", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 2);
	nghttp2_hd_deflate_del(req);
}

Test(h2conn, long_path_is_cut_and_marked)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	char path[300];

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, path, true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 0);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	cr_assert_eq(k.got.ev[0].label_len, NP_XCH_LABEL_BYTES);
	cr_assert(k.got.ev[0].label_cut);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, account_fills_totals_and_histograms)
{
	struct np_xch_stats *s = calloc(1, sizeof(*s));
	struct np_xch_event e = {.total_ns = 1000,
				 .app_ns = 900,
				 .queued_ns = 100,
				 .flags = NP_XEV_ARRIVAL,
				 .bytes_out = 5};

	np_h2_account(s, &e);
	cr_assert_eq(s->served, 1);
	cr_assert_eq(s->queued_known, 1);
	cr_assert_eq(s->hist[NP_XH_TOTAL][np_xh_bucket(1000)], 1);
	cr_assert_eq(s->max_total_ns, 1000);
	e.flags = NP_XEV_OUTBOUND;
	np_h2_account(s, &e);
	cr_assert_eq(s->outbound, 1);
	cr_assert_eq(s->hist[NP_XH_OUT][np_xh_bucket(1000)], 1);
	free(s);
}

Test(h2conn, oversized_header_frame_desynchronizes)
{
	struct conn k;
	struct buf in = {0};

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	put(&in, "\x01\x11\x70\x01\x04\x00\x00\x00\x01", 9); /* HEADERS of 70000 bytes */
	cr_assert_not(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.st.desync_conns, 1);
	np_h2_conn_free(k.c);
}

Test(h2conn, data_frames_up_to_16_mib_are_skipped_by_count)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	nghttp2_nv nva[] = {NV(":status", "200")};
	uint8_t blk[4096];

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/huge", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	frame(&out, 1, 0x04, 1, blk, encode(resp, nva, 1, blk));
	put(&out, "\xff\xff\xff\x00\x01\x00\x00\x00\x01", 9); /* DATA, 16 MiB - 1, END_STREAM */
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	/* the payload in one call of which only the first 100 bytes were kept */
	struct np_h2_chunk ch = {.call_start_ns = 5000,
				 .call_end_ns = 6000,
				 .offset = k.off[1],
				 .len = 0xffffff,
				 .kept = 100,
				 .dir = NP_H2_WRITE};
	static uint8_t zeros[100];
	cr_assert(np_h2_conn_feed(k.c, &ch, zeros));
	cr_assert_eq(k.got.n, 1);
	cr_assert_eq(k.got.ev[0].write_end_ns, 6000);
	cr_assert_eq(k.got.ev[0].bytes_out, 0xffffffu + 1); /* ":status: 200" is one HPACK byte */
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

/* Replays a capture of tests/fixtures/h2 (README there): the calls in the
 * fuzz_h2conn input format, from a served connection. */
static void replay(const char *name, struct conn *k)
{
	char path[PATH_MAX];
	size_t len, i = 1;
	uint8_t *b;

	t_pathf(path, "%s/h2/%s", t_fixtures(), name);
	b = t_read_file(path, &len);
	cr_assert_gt(len, 1);
	open_conn(k, b[0] & 1);
	while (i + 3 <= len) {
		uint8_t ctl = b[i];
		uint32_t n = (uint32_t)b[i + 1] << 8 | b[i + 2], cut = 0;
		struct buf *whole_call = calloc(1, sizeof(*whole_call));

		i += 3;
		if (ctl & 2) {
			cr_assert_leq(i + 2, len);
			cut = (uint32_t)b[i] << 8 | b[i + 1];
			i += 2;
		}
		cr_assert_leq(i + n, len);
		put(whole_call, b + i, n);
		whole_call->n = n + cut;         /* the cut bytes exist but were not shipped */
		call(k, ctl & 1, whole_call, n); /* a refusal shows in k->st */
		free(whole_call);
		i += n;
	}
	cr_assert_eq(i, len);
	free(b);
}

Test(h2conn, nginx_capture_labels_statuses_and_concurrency)
{
	struct conn k;

	/* h2load -n 6 -c 1 -m 3 -H 'authorization: Bearer hunter2secret'
	 *     'http://127.0.0.1:PORT/index.html?token=hunter2secret' */
	replay("h2load-index-m3.bin", &k);
	cr_assert_eq(k.got.n, 6);
	for (unsigned i = 0; i < 6; i++) {
		label_is(&k.got.ev[i], "GET /index.html");
		cr_assert_eq(k.got.ev[i].status, 200);
		cr_assert_leq(k.got.ev[i].streams_open, 3);
	}
	cr_assert_eq(np_h2_conn_max_open(k.c), 3);
	cr_assert_eq(k.st.desync_conns, 0);
	no_secret(&k.got);
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 0);

	/* h2load -n 4 -c 1 -m 4 http://127.0.0.1:PORT/missing/a */
	replay("h2load-404-m4.bin", &k);
	cr_assert_eq(k.got.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		label_is(&k.got.ev[i], "GET /missing/a");
		cr_assert_eq(k.got.ev[i].status, 404);
	}
	cr_assert_eq(np_h2_conn_max_open(k.c), 4);
	np_h2_conn_free(k.c);
}

Test(h2conn, nginx_capture_with_cut_writes_skips_the_bodies)
{
	struct conn k;

	/* h2load -n 3 -c 1 -m 2 http://127.0.0.1:PORT/big (256 KiB each),
	 * nginx's writes split one frame per call, each cut to its first KiB */
	replay("h2load-big-frames-cut.bin", &k);
	cr_assert_eq(k.st.desync_conns, 0);
	cr_assert_gt(k.st.gaps_skipped, 90);
	cr_assert_eq(k.got.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		label_is(&k.got.ev[i], "GET /big");
		cr_assert_eq(k.got.ev[i].status, 200);
		cr_assert_geq(k.got.ev[i].bytes_out, 262144);
	}
	np_h2_conn_free(k.c);
}

Test(h2conn, cut_spanning_frame_headers_desynchronizes_and_says_so)
{
	struct conn k;

	/* the same transfer as received in 64 KiB calls, each cut to its
	 * first KiB: the cuts hide DATA frame headers, so the stream of
	 * frames is lost - counted, not guessed */
	replay("h2load-big-cut.bin", &k);
	cr_assert_eq(k.st.desync_conns, 1);
	cr_assert_eq(k.got.n, 0);
	cr_assert_eq(k.st.lost_streams, 2);
	np_h2_conn_free(k.c);
}

Test(h2conn, trailers_after_the_response_open_no_stream)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	nghttp2_nv trailers[] = {NV("x-checksum", "1")};
	uint8_t blk[4096];

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/stream", false);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 5); /* the server answers early */
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	in.n = 0;
	frame(&in, 1, 0x04 | 0x01, 1, blk, encode(req, trailers, 1, blk));
	cr_assert(whole(&k, NP_H2_READ, &in));
	cr_assert_eq(k.got.n, 1);
	np_h2_conn_free(k.c);
	cr_assert_eq(k.st.unanswered, 0);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

/* One TLS call (the plaintext of an SSL call), carrying the handshake when
 * tls_ns is not 0. */
static bool tls_call(struct conn *k, uint8_t dir, const struct buf *b, uint64_t tls_ns)
{
	struct np_h2_chunk ch = {.call_start_ns = k->t,
				 .call_end_ns = k->t + 10,
				 .arrival_ns = dir == NP_H2_READ ? k->t - 5 : 0,
				 .offset = k->off[dir],
				 .len = (uint32_t)b->n,
				 .kept = (uint32_t)b->n,
				 .dir = dir,
				 .tls = true,
				 .tls_ns = tls_ns};
	bool ok = np_h2_conn_feed(k->c, &ch, b->b);

	k->off[dir] += b->n;
	k->t += 100;
	return ok;
}

Test(h2conn, tls_handshake_goes_to_the_first_stream_only)
{
	struct conn k;
	struct buf settings = {0}, in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();
	struct np_xch_stats totals = {0};

	open_conn(&k, true);
	/* nginx's SETTINGS can precede the client's preface: the handshake
	 * comes with whichever record is first */
	server_settings(&settings);
	cr_assert(tls_call(&k, NP_H2_WRITE, &settings, 700));
	put(&in, PREFACE, 24);
	frame(&in, 4, 0, 0, "", 0);
	request(&in, req, 1, "/a", true);
	request(&in, req, 3, "/b", true);
	cr_assert(tls_call(&k, NP_H2_READ, &in, 0));
	response(&out, resp, 1, "200", 5);
	response(&out, resp, 3, "404", 5);
	cr_assert(tls_call(&k, NP_H2_WRITE, &out, 0));
	cr_assert_eq(k.got.n, 2);
	const struct np_xch_event *first = &k.got.ev[0], *second = &k.got.ev[1];
	label_is(first, "GET /a");
	label_is(second, "GET /b");
	cr_assert(first->flags2 & NP_XEV2_TLS);
	cr_assert(second->flags2 & NP_XEV2_TLS);
	/* read at 1100 (arrival 1095), answered by the write ending at 1210 */
	cr_assert_eq(first->tls_ns, 700);
	cr_assert_eq(first->total_ns, 700 + 1210 - 1095);
	cr_assert_eq(first->total_ns, first->tls_ns + first->queued_ns + first->app_ns);
	cr_assert_eq(first->start_ns, 1095 - 700);
	cr_assert_eq(second->tls_ns, 0);
	cr_assert_eq(second->total_ns, 1210 - 1095);
	np_h2_account(&totals, first);
	np_h2_account(&totals, second);
	cr_assert_eq(totals.served, 2);
	cr_assert_eq(totals.tls_known, 1);
	cr_assert_eq(totals.tls_ns, 700);
	cr_assert_eq(totals.total_ns, first->total_ns + second->total_ns);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}

Test(h2conn, cleartext_streams_carry_no_tls)
{
	struct conn k;
	struct buf in = {0}, out = {0};
	nghttp2_hd_deflater *req = deflater(), *resp = deflater();

	open_conn(&k, true);
	put(&in, PREFACE, 24);
	request(&in, req, 1, "/", true);
	cr_assert(whole(&k, NP_H2_READ, &in));
	response(&out, resp, 1, "200", 5);
	cr_assert(whole(&k, NP_H2_WRITE, &out));
	cr_assert_eq(k.got.n, 1);
	cr_assert_eq(k.got.ev[0].flags2 & NP_XEV2_TLS, 0);
	cr_assert_eq(k.got.ev[0].tls_ns, 0);
	np_h2_conn_free(k.c);
	nghttp2_hd_deflate_del(req);
	nghttp2_hd_deflate_del(resp);
}
