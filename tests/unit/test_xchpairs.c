/* test_xchpairs.c - exchanges as the kernel side pairs them, through the
 * recording and the report: a keep-alive connection with two requests back
 * to back, a request split over two reads, a response in two writes, a
 * connection closed mid-request, and pipelined requests.
 *
 * The split of an exchange into queued, app, tx and peer is the kernel
 * side's own code (bpf/xchstate.bpf.h, compiled here as user space): each
 * case sets a connection's times as its calls would and takes the parts
 * from np_xs_parts().  Which read starts an exchange and which write ends
 * it (served_read, served_write in bpf/exchange.bpf.h) still runs only in
 * BPF: it needs sk_storage, the ring buffer and BTF sockets, so the cases
 * give the times those transitions keep (first read, last read, first
 * write, last write).  The tests check the parts, and what user space does
 * with the events: the writer and reader keep every field, the report keeps
 * one row per exchange with its connection and flags, each row's components
 * add up to its total, the windows' sums do too, and the on-CPU split of an
 * exchange covers its app time from the first read. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/xchstate.bpf.h"
#include "report/model/exchange_report.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

#define US 1000ull
#define MS 1000000ull
#define START (1000 * MS)
#define END (3000 * MS)

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/x.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(xchpairs, .init = setup, .fini = teardown);

/* The times of one served exchange's calls, relative to START; 0 unknown
 * (arrival, wire). */
struct calls {
	uint64_t arrival, read_start, read_end, write_start, write_end, wire;
	uint64_t bytes_in, bytes_out;
	uint8_t flags; /* NP_XEV_CLOSED, NP_XEV_PIPELINED */
};

/* The event np_finish_served() emits for these calls on connection
 * `cookie`, its parts from np_xs_parts(). */
static struct np_xch_event served(uint64_t cookie, const struct calls *c)
{
	struct np_xch_event e;
	struct np_xs_parts p;
	struct np_conn conn;

	memset(&conn, 0, sizeof(conn));
	conn.x_arrival_ns = c->arrival ? START + c->arrival : 0;
	conn.read_start_ns = START + c->read_start;
	conn.read_end_ns = START + c->read_end;
	conn.write_start_ns = START + c->write_start;
	conn.write_end_ns = START + c->write_end;
	conn.wire_ns = c->wire ? START + c->wire : 0;
	np_xs_parts(&conn, &p);
	memset(&e, 0, sizeof(e));
	e.start_ns = p.start;
	e.arrival_ns = conn.x_arrival_ns;
	e.read_start_ns = conn.read_start_ns;
	e.read_end_ns = conn.read_end_ns;
	e.write_start_ns = conn.write_start_ns;
	e.write_end_ns = conn.write_end_ns;
	e.wire_ns = conn.wire_ns;
	e.total_ns = p.total;
	e.queued_ns = p.queued;
	e.app_ns = p.app;
	e.tx_ns = p.tx;
	e.peer_ns = p.peer;
	e.flags = NP_XEV_SLOW | c->flags | p.flags;
	e.flags2 = p.flags2;
	e.cookie = cookie;
	e.bytes_in = c->bytes_in;
	e.bytes_out = c->bytes_out;
	e.tid = 7;
	e.status = 200;
	e.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", e.laddr);
	inet_pton(AF_INET, "10.0.0.2", e.raddr);
	e.lport = 8080;
	e.rport = (uint16_t)(40000 + cookie);
	return e;
}

/* The window the kernel's totals give for these events, plus `unanswered`
 * requests that never got a response. */
static struct np_rec_xch_window window_of(const struct np_xch_event *e, size_t n,
					  uint64_t unanswered)
{
	struct np_rec_xch_window w;

	memset(&w, 0, sizeof(w));
	w.start_ns = START;
	w.ts_ns = END;
	for (size_t i = 0; i < n; i++) {
		w.d.served++;
		w.d.total_ns += e[i].total_ns;
		w.d.app_ns += e[i].app_ns;
		w.d.bytes_in += e[i].bytes_in;
		w.d.bytes_out += e[i].bytes_out;
		if (e[i].flags & NP_XEV_ARRIVAL) {
			w.d.queued_known++;
			w.d.queued_ns += e[i].queued_ns;
			w.d.hist[NP_XH_QUEUED][np_xh_bucket(e[i].queued_ns)]++;
		}
		if (e[i].flags & NP_XEV_WIRE) {
			w.d.tx_known++;
			w.d.tx_ns += e[i].tx_ns;
			w.d.hist[NP_XH_TX][np_xh_bucket(e[i].tx_ns)]++;
		}
		w.d.pipelined += !!(e[i].flags & NP_XEV_PIPELINED);
		if (e[i].total_ns > w.d.max_total_ns)
			w.d.max_total_ns = e[i].total_ns;
		w.d.hist[NP_XH_TOTAL][np_xh_bucket(e[i].total_ns)]++;
		w.d.hist[NP_XH_APP][np_xh_bucket(e[i].app_ns)]++;
		w.d.hist[NP_XH_PEER][0]++;
	}
	w.d.unanswered = unanswered;
	return w;
}

static void build(const struct np_xch_event *e, size_t n, uint64_t unanswered)
{
	struct np_writer *w;
	struct np_rec_xch_config cfg = {.ts_ns = START,
					.slow_ns = 1 * US,
					.window_ns = 1000 * MS,
					.sample_every = 0,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE};
	struct np_rec_xch_window win = window_of(e, n, unanswered);
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	char err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "pid", 42);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win), &win, 1), 0);
	if (n)
		cr_assert_eq(np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(e[0]), e, n), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void done(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
}

/* The report's row of the exchange whose first read was at read_start. */
static const struct np_xch_row *row_at(uint64_t read_start, uint64_t write_end)
{
	const struct np_xch_report *x = &rep.xch;

	for (size_t i = 0; i < x->n_slowest; i++)
		if (x->slowest[i].ev.read_start_ns == START + read_start &&
		    x->slowest[i].ev.write_end_ns == START + write_end)
			return &x->slowest[i];
	cr_assert_fail("no row read at +%llu, answered at +%llu", (unsigned long long)read_start,
		       (unsigned long long)write_end);
	return NULL;
}

/* Every row: the calls in order, and queued + app + tx = total; and the
 * report's sums add up the same way. */
static void check_sums(void)
{
	const struct np_xch_report *x = &rep.xch;

	for (size_t i = 0; i < x->n_slowest; i++) {
		const struct np_xch_event *e = &x->slowest[i].ev;

		cr_assert_leq(e->start_ns, e->read_start_ns);
		cr_assert_leq(e->read_start_ns, e->read_end_ns);
		cr_assert_leq(e->write_start_ns, e->write_end_ns);
		cr_assert_leq(e->read_start_ns, e->write_start_ns);
		cr_assert(!e->wire_ns || e->write_end_ns <= e->wire_ns);
		cr_assert_eq(e->queued_ns + e->app_ns + e->tx_ns, e->total_ns,
			     "row %zu: %llu + %llu + %llu != %llu", i,
			     (unsigned long long)e->queued_ns, (unsigned long long)e->app_ns,
			     (unsigned long long)e->tx_ns, (unsigned long long)e->total_ns);
		cr_assert_eq(e->start_ns + e->total_ns, e->wire_ns ? e->wire_ns : e->write_end_ns);
	}
	cr_assert(x->queued.known && x->tx.known);
	cr_assert_eq(x->queued.n, x->count, "every arrival was seen in these cases");
	cr_assert_eq(x->queued.sum_ns + x->app.sum_ns + x->tx.sum_ns, x->total.sum_ns);
}

/* Two requests back to back on one keep-alive connection: two exchanges,
 * the second starting at its own arrival, after the first one's response
 * left; the idle time between them belongs to neither. */
Test(xchpairs, keep_alive_gives_one_exchange_per_request)
{
	struct calls a = {.arrival = 100 * US,
			  .read_start = 150 * US,
			  .read_end = 160 * US,
			  .write_start = 2 * MS,
			  .write_end = 2 * MS + 10 * US,
			  .wire = 2 * MS + 40 * US,
			  .bytes_in = 80,
			  .bytes_out = 500};
	struct calls b = {.arrival = 50 * MS,
			  .read_start = 50 * MS + 30 * US,
			  .read_end = 50 * MS + 35 * US,
			  .write_start = 53 * MS,
			  .write_end = 53 * MS + 5 * US,
			  .wire = 53 * MS + 25 * US,
			  .bytes_in = 90,
			  .bytes_out = 700};
	struct np_xch_event e[2] = {served(5, &a), served(5, &b)};
	const struct np_xch_row *ra, *rb;

	build(e, 2, 0);
	cr_assert_eq(rep.xch.count, 2);
	cr_assert_eq(rep.xch.n_slowest, 2);
	check_sums();
	ra = row_at(a.read_start, a.write_end);
	rb = row_at(b.read_start, b.write_end);
	cr_assert_eq(ra->ev.cookie, rb->ev.cookie, "one connection");
	cr_assert_str_eq(ra->peer, rb->peer);
	cr_assert_eq(ra->ev.queued_ns, 50 * US);
	cr_assert_eq(ra->ev.app_ns, 2 * MS + 10 * US - 150 * US);
	cr_assert_eq(ra->ev.tx_ns, 30 * US);
	cr_assert_eq(rb->ev.queued_ns, 30 * US);
	cr_assert_eq(rb->ev.tx_ns, 20 * US);
	/* the gap between the first response and the second request */
	cr_assert_gt(rb->ev.start_ns, ra->ev.wire_ns);
	cr_assert_eq(rep.xch.total.sum_ns, ra->ev.total_ns + rb->ev.total_ns);
	cr_assert_eq(rep.xch.bytes_in, 170);
	cr_assert_not(ra->ev.flags & (NP_XEV_PIPELINED | NP_XEV_CLOSED));
	done();
}

/* A request that arrives in two segments and takes two reads: one
 * exchange, whose app time starts at the first read (the wait for the
 * second part is the application's), and whose on-CPU split covers it. */
Test(xchpairs, request_split_over_two_reads_is_one_exchange)
{
	struct calls c = {.arrival = 1 * MS,
			  .read_start = 1 * MS + 20 * US,
			  .read_end = 4 * MS, /* second read, after the second segment */
			  .write_start = 6 * MS,
			  .write_end = 6 * MS + 10 * US,
			  .wire = 6 * MS + 30 * US,
			  .bytes_in = 1400 + 600,
			  .bytes_out = 300};
	struct np_xch_event e = served(9, &c);
	struct np_sched_interval iv[] = {
		{.tid = 7, .state = NP_TSTATE_ON_CPU, .start_ns = START, .end_ns = START + 2 * MS},
		{.tid = 7,
		 .state = NP_TSTATE_OFF_CPU,
		 .start_ns = START + 2 * MS,
		 .end_ns = START + 4 * MS},
		{.tid = 7,
		 .state = NP_TSTATE_ON_CPU,
		 .start_ns = START + 4 * MS,
		 .end_ns = START + 10 * MS},
	};
	const struct np_xch_row *r;

	build(&e, 1, 0);
	cr_assert_eq(rep.xch.count, 1);
	check_sums();
	r = row_at(c.read_start, c.write_end);
	cr_assert_eq(r->ev.bytes_in, 2000);
	cr_assert_eq(r->ev.queued_ns, 20 * US, "queued ends at the first read, not the last");
	cr_assert_eq(r->ev.app_ns, 6 * MS + 10 * US - (1 * MS + 20 * US));
	np_sched_intervals_sort(iv, 3);
	np_xch_report_apply_sched(rec, &rep.xch, iv, 3);
	r = row_at(c.read_start, c.write_end);
	cr_assert(r->split.known);
	cr_assert_eq(r->split.covered_ns, r->ev.app_ns);
	cr_assert_eq(r->split.off_cpu_ns, 2 * MS, "waiting for the second part");
	cr_assert_eq(r->split.on_cpu_ns + r->split.off_cpu_ns + r->split.runnable_ns, r->ev.app_ns);
	done();
}

/* A response in two writes (headers, then body): one exchange that ends at
 * the last write, with tx from there. */
Test(xchpairs, response_in_two_writes_ends_at_the_last)
{
	struct calls c = {.arrival = 10 * MS,
			  .read_start = 10 * MS + 5 * US,
			  .read_end = 10 * MS + 8 * US,
			  .write_start = 12 * MS,
			  .write_end = 19 * MS, /* the body, 7 ms after the headers */
			  .wire = 19 * MS + 100 * US,
			  .bytes_in = 100,
			  .bytes_out = 200 + 64000};
	struct np_xch_event e = served(11, &c);
	const struct np_xch_row *r;

	build(&e, 1, 0);
	cr_assert_eq(rep.xch.count, 1);
	cr_assert_eq(rep.xch.n_slowest, 1);
	check_sums();
	r = row_at(c.read_start, c.write_end);
	cr_assert_eq(r->ev.write_start_ns, START + 12 * MS);
	cr_assert_eq(r->ev.app_ns, 19 * MS - (10 * MS + 5 * US));
	cr_assert_eq(r->ev.tx_ns, 100 * US, "tx from the last write, not the first");
	cr_assert_eq(r->ev.bytes_out, 64200);
	done();
}

/* A connection closed after a request was read but before any response:
 * no exchange, no row; the window counts it as unanswered.  The exchange
 * before it on the same connection, closed after its response, is whole. */
Test(xchpairs, closed_mid_request_is_unanswered_not_an_exchange)
{
	struct calls a = {.arrival = 1 * MS,
			  .read_start = 1 * MS + 10 * US,
			  .read_end = 1 * MS + 12 * US,
			  .write_start = 3 * MS,
			  .write_end = 3 * MS + 10 * US,
			  .wire = 3 * MS + 20 * US,
			  .bytes_in = 50,
			  .bytes_out = 400};
	struct calls b = a;
	struct np_xch_event e[2];
	json_object *o, *x;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	b.arrival += 20 * MS;
	b.read_start += 20 * MS;
	b.read_end += 20 * MS;
	b.write_start += 20 * MS;
	b.write_end += 20 * MS;
	b.wire += 20 * MS;
	b.flags = NP_XEV_CLOSED; /* closed after the response: still an exchange */
	e[0] = served(3, &a);
	e[1] = served(3, &b);
	build(e, 2, 1);
	cr_assert_eq(rep.xch.count, 2);
	cr_assert_eq(rep.xch.unanswered, 1);
	cr_assert_eq(rep.xch.n_slowest, 2);
	check_sums();
	cr_assert(row_at(b.read_start, b.write_end)->ev.flags & NP_XEV_CLOSED);
	cr_assert_not(row_at(a.read_start, a.write_end)->ev.flags & NP_XEV_CLOSED);
	f = open_memstream(&buf, &len);
	cr_assert(f);
	cr_assert_eq(np_report_json(&rep, f), 0);
	fclose(f);
	o = json_tokener_parse(buf);
	free(buf);
	cr_assert(o);
	cr_assert(json_object_object_get_ex(o, "exchanges", &x));
	cr_assert(json_object_object_get_ex(x, "unanswered", &x));
	cr_assert_eq(json_object_get_uint64(x), 1);
	json_object_put(o);
	done();
}

/* Two requests in one read, answered in turn: two exchanges sharing the
 * read (and its arrival); the second is marked pipelined and its app time
 * runs from the shared read to its own response, so it includes the
 * first's.  Each still adds up on its own. */
Test(xchpairs, pipelined_requests_share_the_read)
{
	struct calls a = {.arrival = 5 * MS,
			  .read_start = 5 * MS + 10 * US,
			  .read_end = 5 * MS + 15 * US,
			  .write_start = 6 * MS,
			  .write_end = 6 * MS + 5 * US,
			  .wire = 6 * MS + 15 * US,
			  .bytes_in = 160,
			  .bytes_out = 300};
	struct calls b = a;
	struct np_xch_event e[2];
	const struct np_xch_row *ra, *rb;

	b.write_start = 8 * MS;
	b.write_end = 8 * MS + 5 * US;
	b.wire = 8 * MS + 25 * US;
	b.bytes_in = 0; /* its bytes came with the first request's read */
	b.flags = NP_XEV_PIPELINED;
	e[0] = served(4, &a);
	e[1] = served(4, &b);
	build(e, 2, 0);
	cr_assert_eq(rep.xch.count, 2);
	cr_assert_eq(rep.xch.pipelined, 1);
	check_sums();
	ra = row_at(a.read_start, a.write_end);
	rb = row_at(b.read_start, b.write_end);
	cr_assert_not(ra->ev.flags & NP_XEV_PIPELINED);
	cr_assert(rb->ev.flags & NP_XEV_PIPELINED);
	cr_assert_eq(ra->ev.cookie, rb->ev.cookie);
	cr_assert_eq(ra->ev.start_ns, rb->ev.start_ns, "one arrival for both");
	cr_assert_eq(rb->ev.queued_ns, ra->ev.queued_ns);
	cr_assert_gt(rb->ev.app_ns, ra->ev.app_ns);
	cr_assert_eq(rb->ev.app_ns - ra->ev.app_ns, 2 * MS, "the second waited for the first");
	/* slowest first */
	cr_assert_eq(rep.xch.slowest[0].ev.write_end_ns, START + b.write_end);
	done();
}

/* ---- np_xs_parts on times that disagree ---------------------------------- */

static struct np_conn conn_at(uint64_t arrival, uint64_t rs, uint64_t re, uint64_t we,
			      uint64_t wire)
{
	struct np_conn c;

	memset(&c, 0, sizeof(c));
	c.x_arrival_ns = arrival;
	c.read_start_ns = rs;
	c.read_end_ns = re;
	c.write_start_ns = we;
	c.write_end_ns = we;
	c.wire_ns = wire;
	return c;
}

static void assert_adds_up(const struct np_xs_parts *p)
{
	cr_assert_eq(p->tls + p->queued + p->app + p->tx, p->total);
	cr_assert_leq(p->qdisc, p->tx);
	cr_assert_leq(p->peer, p->app);
}

Test(xchpairs, parts_without_arrival_or_wire_start_at_the_read)
{
	struct np_conn c = conn_at(0, 100, 120, 500, 0);
	struct np_xs_parts p;

	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.start, 100);
	cr_assert_eq(p.queued, 0);
	cr_assert_eq(p.app, 400);
	cr_assert_eq(p.tx, 0);
	cr_assert_eq(p.flags, 0, "neither arrival nor wire was seen");
}

/* Data that arrived after the request was read is the next request's. */
Test(xchpairs, parts_drop_an_arrival_after_the_read)
{
	struct np_conn c = conn_at(130, 100, 120, 500, 600);
	struct np_xs_parts p;

	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(c.x_arrival_ns, 0);
	cr_assert_eq(p.start, 100);
	cr_assert_not(p.flags & NP_XEV_ARRIVAL);
	cr_assert(p.flags & NP_XEV_WIRE);
	cr_assert_eq(p.tx, 100);
}

/* A segment stamped before the last write (the stamp of an earlier one)
 * is seen but adds no tx; a last write before the read, no app. */
Test(xchpairs, parts_clamp_at_zero_instead_of_wrapping)
{
	struct np_conn c = conn_at(50, 100, 120, 500, 400);
	struct np_conn d = conn_at(50, 100, 120, 90, 0);
	struct np_xs_parts p;

	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert(p.flags & NP_XEV_WIRE);
	cr_assert_eq(p.tx, 0);
	cr_assert_eq(p.total, 50 + 400);
	np_xs_parts(&d, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.app, 0);
	cr_assert_eq(p.total, 50);
}

/* The qdisc part runs from the later of the last write and the segment
 * leaving TCP, and is never more than tx; peer time never more than app. */
Test(xchpairs, parts_bound_qdisc_by_tx_and_peer_by_app)
{
	struct np_conn c = conn_at(0, 100, 120, 500, 800);
	struct np_xs_parts p;

	c.enq_ns = 650;
	c.peer_ns = 150;
	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert(p.flags2 & NP_XEV2_QDISC);
	cr_assert_eq(p.qdisc, 150);
	cr_assert_eq(p.peer, 150);
	c.enq_ns = 300; /* left TCP before the last write ended */
	c.peer_ns = 10000;
	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.qdisc, p.tx);
	cr_assert_eq(p.peer, p.app);
	c.enq_ns = 900; /* a stamp after the device had it: not this segment's */
	np_xs_parts(&c, &p);
	cr_assert_not(p.flags2 & NP_XEV2_QDISC);
	cr_assert_eq(p.qdisc, 0);
}

/* ---- the TLS handshake as a part of the first exchange ------------------- */

/* The request came well after the handshake: the exchange starts at the
 * handshake, which is its tls part; the gap before the request's arrival
 * is the client's and counts in no part. */
Test(xchpairs, parts_tls_handshake_leads_the_first_exchange)
{
	struct np_conn c = conn_at(300, 310, 320, 500, 0);
	struct np_xs_parts p;

	c.x_tls_start_ns = 100;
	c.x_tls_end_ns = 250;
	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.start, 100);
	cr_assert_eq(p.tls, 150);
	cr_assert_eq(p.queued, 10);
	cr_assert_eq(p.app, 190);
	cr_assert_eq(p.total, 150 + 10 + 190);
}

/* The request arrived with the handshake's last flight (TLS 1.3: the
 * client's Finished and the request in one segment): it waits in the
 * queue only from the handshake's end, so no time counts twice. */
Test(xchpairs, parts_tls_request_arriving_during_the_handshake_queues_from_its_end)
{
	struct np_conn c = conn_at(200, 300, 320, 500, 0);
	struct np_xs_parts p;

	c.x_tls_start_ns = 100;
	c.x_tls_end_ns = 260;
	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.start, 100);
	cr_assert_eq(p.tls, 160);
	cr_assert_eq(p.queued, 40);
	cr_assert_eq(p.total, 500 - 100);
}

/* Later exchanges of the connection carry no handshake, and a handshake
 * whose times disagree (end before start) is none. */
Test(xchpairs, parts_tls_only_with_a_whole_handshake)
{
	struct np_conn c = conn_at(0, 100, 120, 500, 0);
	struct np_xs_parts p;

	np_xs_parts(&c, &p);
	cr_assert_eq(p.tls, 0);
	cr_assert_eq(p.start, 100);
	c.x_tls_start_ns = 90;
	c.x_tls_end_ns = 80;
	np_xs_parts(&c, &p);
	assert_adds_up(&p);
	cr_assert_eq(p.tls, 0);
	cr_assert_eq(p.start, 100);
}

/* A window with nagle_held (appended) keeps it; one written before the
 * field was appended (a shorter record) reads as none held. */
static uint64_t nagle_held_read_back(size_t record_bytes)
{
	struct np_writer *w;
	struct np_rec_xch_config cfg = {.ts_ns = START,
					.slow_ns = 1 * US,
					.window_ns = 1000 * MS,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE};
	struct np_rec_xch_window win;
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	char err[256];
	uint64_t held;

	memset(&win, 0, sizeof(win));
	win.start_ns = START;
	win.ts_ns = END;
	win.d.served = 10;
	win.d.nagle_held = 7;
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, (uint32_t)record_bytes, &win, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(rep.xch.count, 10);
	held = rep.xch.nagle_held;
	done();
	return held;
}

Test(xchpairs, nagle_held_survives_the_recording_and_older_windows_read_as_zero)
{
	cr_assert_eq(nagle_held_read_back(sizeof(struct np_rec_xch_window)), 7);
	cr_assert_eq(nagle_held_read_back(offsetof(struct np_rec_xch_window, d.nagle_held)), 0);
}

/* The second part of an outbound reply: data that arrived after the reader
 * had emptied the queue, while the reply was being read.  A reply written
 * in two parts with Nagle on waits ~40 ms for our delayed ACK. */
static struct np_conn reply_conn(uint64_t first_read, uint64_t drained, uint64_t arrival)
{
	struct np_conn c;

	memset(&c, 0, sizeof(c));
	c.state = XS_RESP;
	c.read_start_ns = START + first_read;
	c.drained_ns = drained ? START + drained : 0;
	c.arrival_ns = arrival ? START + arrival : 0;
	return c;
}

Test(xchpairs, reply_gap_is_the_wait_for_the_second_part)
{
	struct np_conn c = reply_conn(10 * MS, 11 * MS, 51 * MS);
	__u64 gap = 0;

	cr_assert(np_xs_reply_gap(&c, &gap));
	cr_assert_eq(gap, 40 * MS);
	c.reply_parts = 1; /* only a reply's first such wait */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
	c = reply_conn(10 * MS, 11 * MS, 11 * MS + 500 * US); /* streamed in pieces */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
	c = reply_conn(10 * MS, 11 * MS, 1500 * MS); /* not this reply: a push */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
	c = reply_conn(10 * MS, 11 * MS, 5 * MS); /* nothing new since the drain */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
	c = reply_conn(10 * MS, 9 * MS, 51 * MS); /* drained before this reply */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
	c = reply_conn(10 * MS, 11 * MS, 51 * MS);
	c.state = XS_REQ; /* the request is still going out: a first part */
	cr_assert_not(np_xs_reply_gap(&c, &gap));
}

/* Reply parts have a block of their own (no reader of exchanges counts
 * them as exchanges): the report counts them, those in the delayed-ACK
 * band, and their median wait. */
Test(xchpairs, reply_parts_are_counted_apart_from_exchanges)
{
	struct np_writer *w;
	struct np_rec_xch_config cfg = {.ts_ns = START,
					.slow_ns = 1 * US,
					.window_ns = 1000 * MS,
					.flags = NP_XCFG_ARRIVAL | NP_XCFG_WIRE};
	struct np_rec_xch_window win;
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	struct np_xch_event parts[3];
	static const uint64_t waits[3] = {41 * MS, 2 * MS, 44 * MS};
	char err[256];

	memset(&win, 0, sizeof(win));
	win.start_ns = START;
	win.ts_ns = END;
	win.d.served = 3;
	win.d.outbound = 3;
	memset(parts, 0, sizeof(parts));
	for (int i = 0; i < 3; i++) {
		parts[i].flags = NP_XEV_OUTBOUND;
		parts[i].flags2 = NP_XEV2_REPLY_PART;
		parts[i].start_ns = START + (uint64_t)i * 100 * MS;
		parts[i].total_ns = parts[i].peer_ns = waits[i];
	}
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_WINDOW, sizeof(win), &win, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_XCH_REPLY_PARTS, sizeof(parts[0]), parts, 3), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(rep.xch.reply_parts, 3);
	cr_assert_eq(rep.xch.reply_parts_ack_delay, 2);
	cr_assert_eq(rep.xch.reply_part_p50_ns, 41 * MS);
	cr_assert_eq(rep.xch.events, 0, "no exchange row from a reply part");
	cr_assert_eq(rep.xch.n_slowest_out, 0);
	done();
}
