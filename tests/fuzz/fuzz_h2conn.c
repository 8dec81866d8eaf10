/* fuzz_h2conn.c - libFuzzer target: one HTTP/2 connection (h2conn.c) fed a
 * sequence of socket calls decoded from the input, so that frames, HPACK
 * blocks, cuts and lost calls all come from the fuzzer.
 *
 * Input: byte 0 picks the role (bit 0: served), whether the client's
 * preface is sent first (bit 1) and whether the connection is TLS (bit 2).
 * Then calls, each a control byte (bit 0: the target wrote it; bit 1: a
 * cut follows; bit 2: a lost stretch precedes; bit 3: it carries a TLS
 * handshake of TLS_NS), a 16-bit count of the bytes present, the optional
 * 16-bit cut and lost lengths, and the bytes (as many as remain).
 *
 * Properties: labels fit, are "METHOD /path" without '?' or '#' and of
 * visible ASCII; a stream's streams_open is at least 1 and within the
 * table; a handshake is part of its stream's total and only served
 * streams carry one; the counters stay consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/proto/h2conn.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TLS_NS 1000000

static void check(void *ctx, const struct np_xch_event *e)
{
	size_t sp = 0;

	(void)ctx;
	if (e->streams_open < 1 || e->streams_open > NP_H2_MAX_STREAMS)
		abort();
	if (e->proto != NP_PROTO_HTTP2 && e->proto != NP_PROTO_GRPC)
		abort();
	if (e->tls_ns && (e->tls_ns != TLS_NS || e->total_ns < e->tls_ns ||
			  (e->flags & NP_XEV_OUTBOUND) || !(e->flags2 & NP_XEV2_TLS)))
		abort();
	if (!(e->flags & NP_XEV_LABEL))
		return;
	if (e->label_len > NP_XCH_LABEL_BYTES || e->label_len < 3)
		abort();
	while (sp < e->label_len && e->label[sp] != ' ') {
		if (e->label[sp] < 'A' || e->label[sp] > 'Z')
			abort();
		sp++;
	}
	if (sp == 0 || sp + 1 >= e->label_len)
		abort();
	if (e->label[sp + 1] != '/' && e->label[sp + 1] != '*')
		abort();
	for (size_t i = sp + 1; i < e->label_len; i++)
		if (e->label[i] <= ' ' || e->label[i] >= 0x7f || e->label[i] == '?' ||
		    e->label[i] == '#')
			abort();
}

static uint16_t u16(const uint8_t **p, size_t *n)
{
	uint16_t v;

	if (*n < 2) {
		*n = 0;
		return 0;
	}
	v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
	*p += 2;
	*n -= 2;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_h2_stats st = {0};
	struct np_h2_conn *c;
	uint64_t off[2] = {0, 0}, t = 1;
	bool served, tls;

	if (size < 1)
		return 0;
	served = data[0] & 1;
	tls = data[0] & 4;
	c = np_h2_conn_new(1, served, &st, check, NULL);
	if (!c)
		return 0;
	if (data[0] & 2) {
		uint8_t dir = served ? NP_H2_READ : NP_H2_WRITE;
		struct np_h2_chunk ch = {
			.call_start_ns = t, .call_end_ns = t, .len = 24, .kept = 24, .dir = dir};

		np_h2_conn_feed(c, &ch, (const uint8_t *)PREFACE);
		off[dir] = 24;
	}
	data++;
	size--;
	while (size > 0) {
		uint8_t ctl = data[0];
		uint8_t dir = ctl & 1;
		uint32_t n, cut = 0, lost = 0;
		struct np_h2_chunk ch;

		data++;
		size--;
		n = u16(&data, &size);
		if (ctl & 2)
			cut = u16(&data, &size);
		if (ctl & 4)
			lost = u16(&data, &size);
		if (n > size)
			n = (uint32_t)size;
		off[dir] += lost;
		t += 7;
		ch = (struct np_h2_chunk){.call_start_ns = t,
					  .call_end_ns = t + 3,
					  .arrival_ns = dir == NP_H2_READ ? t - 1 : 0,
					  .offset = off[dir],
					  .len = n + cut,
					  .kept = n,
					  .dir = dir,
					  .tls = tls,
					  .tls_ns = (ctl & 8) ? TLS_NS : 0};
		np_h2_conn_feed(c, &ch, data);
		off[dir] += n + cut;
		data += n;
		size -= n;
	}
	if (np_h2_conn_max_open(c) > NP_H2_MAX_STREAMS)
		abort();
	np_h2_conn_free(c);
	if (st.desync_conns > 1 || st.grpc > st.streams)
		abort();
	return 0;
}
