/* joinfix.c - the synthetic recordings of joinfix.h. */
#include "tests/unit/joinfix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"

#define US 1000ull

static uint64_t request_net_ns(unsigned i)
{
	return 40 * US + (i % 7) * US;
}

static uint64_t response_net_ns(unsigned i)
{
	return i % 10 == 0 ? 45 * US : JOINFIX_RESPONSE_NS + (i % 5) * US;
}

uint64_t joinfix_upstream_network_ns(unsigned i)
{
	return request_net_ns(i) + response_net_ns(i);
}

static void ip4(uint8_t a[16], unsigned net, unsigned host)
{
	memset(a, 0, 16);
	a[0] = 10;
	a[1] = 0;
	a[2] = (uint8_t)net;
	a[3] = (uint8_t)host;
}

static void ends(struct np_xch_event *e, unsigned lnet, unsigned lhost, uint16_t lport,
		 unsigned rnet, unsigned rhost, uint16_t rport)
{
	e->family = AF_INET;
	ip4(e->laddr, lnet, lhost);
	ip4(e->raddr, rnet, rhost);
	e->lport = lport;
	e->rport = rport;
}

static void label(struct np_xch_event *e, const char *s)
{
	e->flags |= NP_XEV_LABEL;
	e->label_len = (uint8_t)strlen(s);
	memcpy(e->label, s, strlen(s));
}

/* A call: request written at w, first response byte arrived at r. */
static struct np_xch_event call(uint64_t cookie, uint32_t tid, uint64_t w, uint64_t r)
{
	struct np_xch_event e = {0};

	e.flags = NP_XEV_OUTBOUND | NP_XEV_SAMPLED | NP_XEV_ARRIVAL;
	e.cookie = cookie;
	e.tid = tid;
	e.start_ns = w;
	e.write_start_ns = w;
	e.write_end_ns = w + 5 * US;
	e.arrival_ns = r;
	e.read_start_ns = r + 10 * US;
	e.read_end_ns = r + 15 * US;
	e.total_ns = r - w;
	e.peer_ns = r - w;
	e.status = 200;
	e.bytes_out = 100;
	e.bytes_in = 8192;
	return e;
}

/* A served exchange: arrived at a, read from a + queued, first response
 * write at w, `peer` of it waiting on its own calls. */
static struct np_xch_event served(uint64_t cookie, uint32_t tid, uint64_t a, uint64_t queued,
				  uint64_t w, uint64_t peer)
{
	struct np_xch_event e = {0};

	e.flags = NP_XEV_SAMPLED | NP_XEV_ARRIVAL;
	e.cookie = cookie;
	e.tid = tid;
	e.start_ns = a;
	e.arrival_ns = a;
	e.read_start_ns = a + queued;
	e.read_end_ns = a + queued + 5 * US;
	e.write_start_ns = w;
	e.write_end_ns = w + 50 * US;
	e.wire_ns = w + 60 * US;
	e.total_ns = e.wire_ns - a;
	e.queued_ns = queued;
	e.app_ns = e.write_end_ns - e.read_start_ns;
	e.tx_ns = 10 * US;
	e.peer_ns = peer;
	e.status = 200;
	e.bytes_in = 100;
	e.bytes_out = 8192;
	return e;
}

static int write_one(const char *dir, const char *name, const char *comm, uint32_t pid,
		     const struct np_xch_event *ev, size_t n, uint64_t start, uint64_t end_ns)
{
	char path[4096];
	struct np_writer *w;
	struct np_rec_xch_config cfg = {.ts_ns = start,
					.slow_ns = 1000 * US,
					.window_ns = 1000000 * US,
					.sample_every = 1,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE};
	struct np_rec_end end = {.ts_ns = end_ns, .reason = NP_END_DURATION};
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = np_writer_open(path, &w);
	if (rc)
		return rc;
	np_writer_meta_u64(w, "start_ns", start);
	np_writer_meta_u64(w, "pid", pid);
	np_writer_meta(w, "comm", comm);
	np_writer_meta(w, "hostname", "joinhost");
	rc = np_writer_meta_flush(w);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1);
	if (!rc && n)
		rc = np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(ev[0]), ev, (uint32_t)n);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	np_writer_free(w);
	return rc;
}

int joinfix_write(const char *dir, const struct joinfix *fx)
{
	size_t n = fx->requests;
	struct np_xch_event *cl = calloc(n, sizeof(*cl));
	struct np_xch_event *px = calloc(2 * n, sizeof(*px));
	struct np_xch_event *up = calloc(n, sizeof(*up));
	uint64_t app = fx->upstream_app_ns ? fx->upstream_app_ns : 1000 * US;
	uint64_t s = (uint64_t)fx->shift_ns, end = 0;
	size_t n_up = 0;
	int rc = -ENOMEM;

	if (!cl || !px || !up)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t1 = JOINFIX_START_NS + i * JOINFIX_GAP_NS;
		uint64_t pa = t1 + 50 * US;            /* at the proxy */
		uint64_t pw = pa + 20 * US + 105 * US; /* the proxy's call */
		uint64_t ua = pw + request_net_ns(i);  /* at the upstream */
		uint64_t uw = ua + 10 * US + app;      /* its first response write */
		uint64_t pr = uw + response_net_ns(i); /* back at the proxy */
		uint64_t pfw = pr + 30 * US;           /* the proxy's first response write */
		uint64_t cr = pfw + 50 * US;           /* back at the client */

		cl[i] = call(1, 100, t1, cr);
		ends(&cl[i], 1, 1, 40000, 1, 2, 80);
		label(&cl[i], "GET /big");
		px[2 * i] = served(11, 200, pa, 20 * US, pfw, pr - pw);
		ends(&px[2 * i], 1, 2, 80, 1, 1, 40000);
		label(&px[2 * i], "GET /big");
		px[2 * i + 1] = call(12, 200, pw, pr);
		if (fx->nat) /* a virtual address, translated on the way */
			ends(&px[2 * i + 1], 2, 1, 50000, 9, 9, 8080);
		else
			ends(&px[2 * i + 1], 2, 1, 50000, 2, 2, 8080);
		label(&px[2 * i + 1], "GET /big");
		if (i >= fx->upstream_missing) {
			up[n_up] = served(21, 300, ua + s, 10 * US, uw + s, 0);
			if (fx->nat)
				ends(&up[n_up], 2, 2, 8080, 9, 1, 50000);
			else
				ends(&up[n_up], 2, 2, 8080, 2, 1, 50000);
			n_up++;
		}
		end = cr + 1000 * US;
	}
	rc = write_one(dir, "client.nprof", "npload", 1001, cl, n, JOINFIX_START_NS, end);
	if (!rc)
		rc = write_one(dir, "proxy.nprof", "nginx", 1002, px, 2 * n, JOINFIX_START_NS, end);
	if (!rc)
		rc = write_one(dir, "upstream.nprof", "npserver", 1003, up, n_up,
			       JOINFIX_START_NS + s, end + s);
out:
	free(cl);
	free(px);
	free(up);
	return rc;
}
