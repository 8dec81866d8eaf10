/* test_report.c - np_report_build and the JSON and text renderers, on
 * recordings written with the real writer into a temporary directory. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define START (1000 * MS)
#define END (2000 * MS)

static char tmp[PATH_MAX];
static char path[PATH_MAX];

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/report.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(report, .init = setup, .fini = teardown);

/* What goes into a test recording; the defaults are filled by sample(). */
struct spec {
	const char *comm, *cmdline, *hostname, *kernel, *netns;
	const char *thread_comm[4];
	const char *source_detail;
	bool no_end;
	int64_t extra_ret; /* an extra slow write with this result, if nonzero */
	uint16_t extra_sys;
};

static struct np_rec_sys_stats stats(uint64_t ts, uint16_t sys, uint64_t count, uint64_t total,
				     uint64_t max)
{
	struct np_rec_sys_stats s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.sys = sys;
	s.stats.count = count;
	s.stats.total_ns = total;
	s.stats.max_ns = max;
	return s;
}

static struct np_sys_event slow(uint64_t start, uint64_t dur, uint16_t sys, uint32_t tid,
				int64_t ret, uint8_t flags)
{
	struct np_sys_event e;

	memset(&e, 0, sizeof(e));
	e.start_ns = start;
	e.dur_ns = dur;
	e.sys = sys;
	e.tid = tid;
	e.ret = ret;
	e.fd = 5;
	e.flags = flags;
	return e;
}

static void addrs(struct np_sys_event *e, int family, const char *local, uint16_t lport,
		  const char *peer, uint16_t rport)
{
	e->family = (uint8_t)family;
	e->flags |= NP_EV_ADDR;
	cr_assert_eq(inet_pton(family, local, e->laddr), 1);
	cr_assert_eq(inet_pton(family, peer, e->raddr), 1);
	e->lport = lport;
	e->rport = rport;
	e->proto = 6;
}

static struct np_rec_thread thr(uint64_t ts, uint32_t tid, const char *comm, uint32_t flags,
				uint64_t first, uint64_t last, uint64_t on, uint64_t runq)
{
	struct np_rec_thread t;

	memset(&t, 0, sizeof(t));
	t.ts_ns = ts;
	t.tid = tid;
	t.flags = flags;
	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	t.first_ns = first;
	t.last_ns = last;
	t.on_cpu_ns = on;
	t.runq_ns = runq;
	t.calls = tid;
	t.sys_ns = 10 * MS;
	t.wait_ns = 5 * MS;
	return t;
}

static void write_recording(const struct spec *sp)
{
	struct np_writer *w;
	struct np_rec_source src[2];
	struct np_rec_sys_stats early[2], late[4];
	struct np_sys_event ev[8];
	struct np_rec_thread t1[1], t2[4];
	struct np_rec_drops drops = {.ts_ns = END - 100 * MS, .count = {3, 0, 0, 0, 0, 0, 0, 2}};
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	uint32_t n_ev = 0;
	uint64_t last_ts = sp->no_end ? 1900 * MS : END - 50 * MS;

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta(w, "netprof_version", "0.1.0");
	np_writer_meta(w, "hostname", sp->hostname ? sp->hostname : "testhost");
	np_writer_meta(w, "kernel", sp->kernel ? sp->kernel : "6.1.0-test");
	np_writer_meta(w, "machine", "x86_64");
	np_writer_meta_u64(w, "cpus", 2);
	np_writer_meta_u64(w, "pid", 4242);
	np_writer_meta(w, "comm", sp->comm ? sp->comm : "npserver");
	np_writer_meta(w, "cmdline", sp->cmdline ? sp->cmdline : "./npserver --port 8080");
	np_writer_meta(w, "exe", "/usr/local/bin/npserver");
	np_writer_meta(w, "netns", sp->netns ? sp->netns : "net:[4026531840]");
	np_writer_meta_u64(w, "threads", 3);
	np_writer_meta_u64(w, "start_ns", START);
	np_writer_meta_u64(w, "realtime_ns", 1700000000ull * 1000000000ull);
	np_writer_meta_u64(w, "threshold_ns", 1 * MS);
	np_writer_meta_u64(w, "sample_every", 64);
	cr_assert_eq(np_writer_meta_flush(w), 0);

	memset(src, 0, sizeof(src));
	snprintf(src[0].name, sizeof(src[0].name), "syscalls");
	snprintf(src[0].detail, sizeof(src[0].detail), "%s",
		 sp->source_detail ? sp->source_detail : "28 syscalls");
	snprintf(src[1].name, sizeof(src[1].name), "sched");
	src[1].status = NP_SOURCE_UNAVAILABLE;
	snprintf(src[1].detail, sizeof(src[1].detail), "not in this version");
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(src[0]), src, 2), 0);

	/* an early snapshot that the later one replaces */
	early[0] = stats(1500 * MS, NP_SYS_write, 1, 1000, 1000);
	early[0].stats.hist[9] = 1;
	early[1] = stats(1500 * MS, NP_SYS_read, 1, 1000, 1000);
	early[1].stats.hist[9] = 1;
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(early[0]), early, 2), 0);
	t1[0] = thr(1500 * MS, 100, "main", 0, START, 1500 * MS, 100 * MS, 10 * MS);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t1[0]), t1, 1), 0);

	ev[n_ev] = slow(1100 * MS, 5 * MS, NP_SYS_read, 100, 512, NP_EV_SLOW);
	addrs(&ev[n_ev++], AF_INET, "127.0.0.1", 8080, "127.0.0.2", 55555);
	ev[n_ev++] = slow(1200 * MS, 500 * MS, NP_SYS_epoll_wait, 100, 1, NP_EV_SLOW);
	ev[n_ev] = slow(1300 * MS, 2 * MS, NP_SYS_accept4, 101, 7, NP_EV_SLOW);
	addrs(&ev[n_ev++], AF_INET6, "::1", 8080, "2001:db8::1", 40000);
	ev[n_ev++] = slow(1310 * MS, 10000, NP_SYS_write, 100, 100, NP_EV_SAMPLED);
	ev[n_ev++] = slow(1400 * MS, 300 * MS, NP_SYS_epoll_pwait, 101, 0, NP_EV_SLOW);
	ev[n_ev++] = slow(1250 * MS, 1500000, NP_SYS_write, 102, -EPIPE, NP_EV_SLOW);
	ev[n_ev++] = slow(1260 * MS, 9 * MS, 0xfff0, 100, 0, NP_EV_SLOW); /* unknown syscall */
	if (sp->extra_ret)
		ev[n_ev++] = slow(1270 * MS, 3 * MS, sp->extra_sys, 100, sp->extra_ret, NP_EV_SLOW);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev[0]), ev, n_ev), 0);

	late[0] = stats(last_ts, NP_SYS_read, 100, 5 * MS, 30000);
	late[0].stats.errors = 3;
	late[0].stats.eagain = 2;
	late[0].stats.bytes = 50000;
	late[0].stats.hist[14] = 100;
	late[1] = stats(last_ts, NP_SYS_epoll_wait, 10, 900 * MS, 200 * MS);
	late[1].stats.hist[26] = 9;
	late[1].stats.hist[27] = 1;
	late[2] = stats(last_ts, NP_SYS_accept4, 5, 1 * MS, 400000);
	late[2].stats.hist[17] = 4;
	late[2].stats.hist[18] = 1;
	late[3] = stats(last_ts, NP_SYS_write, 50, 2 * MS, 100000);
	late[3].stats.bytes = 7000;
	late[3].stats.hist[15] = 50;
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(late[0]), late, 4), 0);

	t2[0] = thr(last_ts, 100, sp->thread_comm[0] ? sp->thread_comm[0] : "main", 0, START,
		    last_ts, 200 * MS, 50 * MS);
	t2[1] = thr(last_ts, 101, sp->thread_comm[1] ? sp->thread_comm[1] : "worker",
		    NP_THREAD_EXITED, START + 100 * MS, START + 600 * MS, 100 * MS, 0);
	t2[2] = thr(last_ts, 102, sp->thread_comm[2] ? sp->thread_comm[2] : "ghost",
		    NP_THREAD_EXITED | NP_THREAD_NO_SCHED, START + 200 * MS, START + 300 * MS, 0,
		    0);
	t2[3] = thr(last_ts, 99, sp->thread_comm[3] ? sp->thread_comm[3] : "busy", 0,
		    START - 500 * MS, last_ts, 900 * MS, 300 * MS);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(t2[0]), t2, 4), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_DROPS, sizeof(drops), &drops, 1), 0);
	if (!sp->no_end)
		cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static struct np_recording *load(const struct spec *sp)
{
	struct np_recording *rec;
	char err[256];

	write_recording(sp);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	t_rmtree(tmp); /* all in memory now; nothing is left if a renderer crashes */
	return rec;
}

static char *render(const struct np_report *r, bool json, bool color, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert_not_null(f);
	if (json)
		cr_assert_eq(np_report_json(r, f), 0);
	else
		cr_assert_eq(np_report_text(r, f, color), 0);
	fclose(f);
	return buf;
}

static json_object *parse_json(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	cr_assert_not_null(o, "invalid JSON (%s):\n%s",
			   json_tokener_error_desc(json_tokener_get_error(tok)), text);
	json_tokener_free(tok);
	return o;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
		  json_object_to_json_string(o));
	return v;
}

/* ---- np_report_build ---- */

Test(report, window_and_end_reason)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(r.rec, rec);
	cr_assert_eq(r.start_ns, START);
	cr_assert_eq(r.end_ns, END);
	cr_assert_eq(r.duration_ns, END - START);
	cr_assert_str_eq(r.end_reason, "duration");
	cr_assert_eq(r.threshold_ns, 1 * MS);
	cr_assert_eq(r.realtime_start_ns, 1700000000ull * 1000000000ull);
	cr_assert_eq(r.lost_events, 5);
	cr_assert_eq(r.lost_by_cause[0], 3);
	cr_assert_eq(r.lost_by_cause[NP_DROP_WRITER], 2);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, syscall_rows_sorted_by_total_time)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(r.n_sys, 4);
	cr_assert_str_eq(r.sys[0].name, "epoll_wait");
	cr_assert_str_eq(r.sys[1].name, "read");
	cr_assert_str_eq(r.sys[2].name, "write");
	cr_assert_str_eq(r.sys[3].name, "accept4");
	for (size_t i = 1; i < r.n_sys; i++)
		cr_assert_geq(r.sys[i - 1].total_ns, r.sys[i].total_ns);
	cr_assert_eq(r.sys[1].sys, NP_SYS_read);
	cr_assert_eq(r.sys[1].count, 100, "the latest totals win");
	cr_assert_eq(r.sys[1].errors, 3);
	cr_assert_eq(r.sys[1].eagain, 2);
	cr_assert_eq(r.sys[1].bytes, 50000);
	cr_assert_eq(r.sys[2].count, 50);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, syscall_quantiles_come_from_the_histogram)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	const struct np_sys_row *rd, *ew;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	ew = &r.sys[0];
	rd = &r.sys[1];
	/* read: all 100 calls in [16384, 32768), max 30000 */
	cr_assert(rd->p50_ns >= 16384 && rd->p50_ns <= 30000, "p50 %lu", (unsigned long)rd->p50_ns);
	cr_assert(rd->p99_ns >= rd->p90_ns && rd->p90_ns >= rd->p50_ns);
	cr_assert_leq(rd->p99_ns, 30000);
	cr_assert_eq(rd->max_ns, 30000);
	/* epoll_wait: 9 in [2^26, 2^27), 1 in [2^27, 2^28), max 200 ms */
	cr_assert(ew->p50_ns >= 1ull << 26 && ew->p50_ns <= 1ull << 27);
	cr_assert_eq(ew->p99_ns, 200 * MS);
	cr_assert_eq(ew->max_ns, 200 * MS);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, slow_calls_are_split_into_io_and_waits)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	/* read 5 ms, accept4 2 ms, write 1.5 ms; the sampled write is not slow */
	cr_assert_eq(r.slow_total, 3);
	cr_assert_eq(r.n_slow, 3);
	cr_assert_eq(r.slow[0].ev.sys, NP_SYS_read);
	cr_assert_eq(r.slow[1].ev.sys, NP_SYS_accept4);
	cr_assert_eq(r.slow[2].ev.sys, NP_SYS_write);
	cr_assert_str_eq(r.slow[0].comm, "main");
	cr_assert_str_eq(r.slow[0].local, "127.0.0.1:8080");
	cr_assert_str_eq(r.slow[0].peer, "127.0.0.2:55555");
	cr_assert_str_eq(r.slow[1].comm, "worker");
	cr_assert_str_eq(r.slow[1].local, "[::1]:8080");
	cr_assert_str_eq(r.slow[1].peer, "[2001:db8::1]:40000");
	cr_assert_str_eq(r.slow[2].comm, "ghost");
	cr_assert_str_eq(r.slow[2].local, "", "no NP_EV_ADDR: no endpoint");
	/* readiness waits, slowest first */
	cr_assert_eq(r.slow_waits_total, 2);
	cr_assert_eq(r.n_slow_waits, 2);
	cr_assert_eq(r.slow_waits[0].ev.sys, NP_SYS_epoll_wait);
	cr_assert_eq(r.slow_waits[0].ev.dur_ns, 500 * MS);
	cr_assert_eq(r.slow_waits[1].ev.sys, NP_SYS_epoll_pwait);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, slow_calls_are_capped_but_counted)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, 1), 0);
	cr_assert_eq(r.n_slow, 1);
	cr_assert_eq(r.slow_total, 3);
	cr_assert_eq(r.slow[0].ev.dur_ns, 5 * MS, "the slowest one is kept");
	cr_assert_eq(r.n_slow_waits, 1);
	cr_assert_eq(r.slow_waits_total, 2);
	np_report_fini(&r);

	cr_assert_eq(np_report_build(rec, &r, 0), 0);
	cr_assert_eq(r.n_slow, 0);
	cr_assert_eq(r.slow_total, 3);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, thread_times_split_the_window)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	const struct np_thread_row *t;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(r.n_threads, 4);
	for (size_t i = 1; i < r.n_threads; i++)
		cr_assert_lt(r.threads[i - 1].tid, r.threads[i].tid, "sorted by tid");

	t = &r.threads[1]; /* 100: the whole window, latest snapshot */
	cr_assert_eq(t->tid, 100);
	cr_assert_str_eq(t->comm, "main");
	cr_assert(t->sched_known);
	cr_assert_not(t->exited);
	cr_assert_eq(t->window_ns, END - START);
	cr_assert_eq(t->on_cpu_ns, 200 * MS);
	cr_assert_eq(t->runnable_ns, 50 * MS);
	cr_assert_eq(t->off_cpu_ns, t->window_ns - t->on_cpu_ns - t->runnable_ns);
	cr_assert_eq(t->off_cpu_ns, 750 * MS);
	cr_assert_eq(t->calls, 100);
	cr_assert_eq(t->sys_ns, 10 * MS);
	cr_assert_eq(t->wait_ns, 5 * MS);

	t = &r.threads[2]; /* 101: lived 100..600 ms into the window */
	cr_assert_eq(t->tid, 101);
	cr_assert(t->exited);
	cr_assert_eq(t->window_ns, 500 * MS);
	cr_assert_eq(t->off_cpu_ns, 400 * MS);

	t = &r.threads[3]; /* 102: between two polls */
	cr_assert_eq(t->tid, 102);
	cr_assert_not(t->sched_known);
	cr_assert(t->exited);
	cr_assert_eq(t->window_ns, 100 * MS);
	cr_assert_eq(t->off_cpu_ns, 0);

	t = &r.threads[0]; /* 99: older than the window, busier than it */
	cr_assert_eq(t->tid, 99);
	cr_assert_eq(t->window_ns, END - START, "clamped to the window's start");
	cr_assert_eq(t->off_cpu_ns, 0, "on + runnable > window: no negative off-CPU");
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, truncated_recording_ends_at_last_known_time)
{
	struct spec sp = {.no_end = true};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert(rec->truncated);
	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_str_eq(r.end_reason, "incomplete");
	/* latest: the totals at 1900 ms (the 500 ms wait ended at 1700 ms) */
	cr_assert_eq(r.end_ns, 1900 * MS);
	cr_assert_eq(r.duration_ns, 900 * MS);
	cr_assert_eq(r.threads[1].window_ns, 900 * MS);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, empty_recording_builds_an_empty_report)
{
	struct np_writer *w;
	struct np_recording *rec;
	struct np_report r;
	char err[256];
	size_t len;
	char *text;
	json_object *root;

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta(w, "netprof_version", "0.1.0");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(r.n_sys, 0);
	cr_assert_eq(r.n_slow, 0);
	cr_assert_eq(r.n_threads, 0);
	cr_assert_eq(r.duration_ns, 0);
	text = render(&r, true, false, &len);
	root = parse_json(text, len);
	cr_assert_eq(json_object_array_length(get(root, "syscalls")), 0);
	json_object_put(root);
	free(text);
	text = render(&r, false, false, &len);
	cr_assert_not_null(strstr(text, "no traced system calls"));
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* The window opens once every source is attached; the syscall totals
 * count from earlier, so the report shows them less the baseline taken as
 * the window opened. */
Test(report, syscall_counts_are_deltas_from_the_baseline)
{
	struct np_rec_sys_stats base[2], mid[2], last[2];
	const struct np_rec_sys_stats *hist;
	struct np_rec_end end = {.ts_ns = END, .reason = NP_END_DURATION};
	struct np_writer *w;
	struct np_recording *rec;
	struct np_report r;
	const struct np_sys_row *rd = NULL, *wr = NULL;
	char err[256];
	size_t n;

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START - 150 * MS); /* before the sources attached */
	cr_assert_eq(np_writer_meta_flush(w), 0);
	/* read: 40 calls before the window, one of them the slowest (1 ms) */
	base[0] = stats(START, NP_SYS_read, 40, 4 * MS, 1 * MS);
	base[0].stats.errors = 4;
	base[0].stats.bytes = 4000;
	base[0].stats.hist[12] = 39;
	base[0].stats.hist[19] = 1;
	/* write: 10 before, its slowest call comes in the window */
	base[1] = stats(START, NP_SYS_write, 10, 10000, 2000);
	base[1].stats.hist[10] = 10;
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_BASELINE, sizeof(base[0]), base, 2), 0);
	np_writer_meta_u64(w, "start_ns", START);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	mid[0] = stats(1500 * MS, NP_SYS_read, 70, 4 * MS + 150000, 1 * MS);
	mid[0].stats.errors = 5;
	mid[0].stats.bytes = 7000;
	mid[0].stats.hist[12] = 69;
	mid[0].stats.hist[19] = 1;
	mid[1] = base[1];
	mid[1].ts_ns = 1500 * MS;
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(mid[0]), mid, 2), 0);
	last[0] = stats(END, NP_SYS_read, 100, 4 * MS + 300000, 1 * MS);
	last[0].stats.errors = 7;
	last[0].stats.bytes = 10000;
	last[0].stats.hist[12] = 99;
	last[0].stats.hist[19] = 1;
	last[1] = stats(END, NP_SYS_write, 30, 90000, 50000);
	last[1].stats.hist[10] = 20;
	last[1].stats.hist[15] = 10;
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(last[0]), last, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);

	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	cr_assert_eq(r.start_ns, START, "the window opens at the baseline");
	cr_assert_eq(r.duration_ns, END - START);
	for (size_t i = 0; i < r.n_sys; i++) {
		if (r.sys[i].sys == NP_SYS_read)
			rd = &r.sys[i];
		if (r.sys[i].sys == NP_SYS_write)
			wr = &r.sys[i];
	}
	cr_assert(rd && wr);
	cr_assert_eq(rd->count, 60);
	cr_assert_eq(rd->errors, 3);
	cr_assert_eq(rd->bytes, 6000);
	cr_assert_eq(rd->total_ns, 300000);
	/* the 1 ms call predates the window: its max is bounded by the
	 * highest bucket the window's calls reached, [4096, 8192) */
	cr_assert_eq(rd->max_ns, 8191);
	cr_assert_leq(rd->p99_ns, 8191);
	cr_assert_eq(wr->count, 20);
	cr_assert_eq(wr->total_ns, 80000);
	cr_assert_eq(wr->max_ns, 50000, "a maximum above the baseline's is the window's own");
	/* the per-second history is of deltas too */
	hist = np_recording_records(rec, NP_BLK_SYS_STATS, &n);
	cr_assert_eq(n, 4);
	cr_assert_eq(hist[0].sys, NP_SYS_read);
	cr_assert_eq(hist[0].stats.count, 30);
	cr_assert_eq(hist[0].stats.hist[12], 30);
	cr_assert_eq(hist[0].stats.hist[19], 0);
	cr_assert_eq(hist[1].stats.count, 0);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* ---- JSON ---- */

Test(report, json_has_the_format_1_contract)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	json_object *root, *sys, *threads, *t102, *t100;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, true, false, &len);
	root = parse_json(text, len);
	cr_assert_eq(json_object_get_int(get(root, "format_version")), 1);
	cr_assert_null(get(root, "verdict"), "verdict is null for this version");
	cr_assert_str_eq(json_object_get_string(get(root, "netprof_version")), NETPROF_VERSION);
	cr_assert_eq(json_object_get_int64(get(get(root, "target"), "pid")), 4242);
	cr_assert_str_eq(json_object_get_string(get(get(root, "target"), "comm")), "npserver");
	cr_assert_eq(json_object_get_int64(get(get(root, "host"), "cpus")), 2);
	cr_assert_eq(json_object_get_uint64(get(get(root, "window"), "duration_ns")), END - START);
	cr_assert_eq(json_object_get_int64(get(root, "lost_events")), 5);
	cr_assert(json_object_is_type(get(root, "findings"), json_type_array));
	cr_assert(json_object_is_type(get(root, "sockets"), json_type_array));
	cr_assert_eq(json_object_array_length(get(root, "sources")), 2);

	sys = get(root, "syscalls");
	cr_assert_eq(json_object_array_length(sys), 4);
	cr_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(sys, 0), "name")),
			 "epoll_wait");
	for (size_t i = 0; i < 4; i++) {
		json_object *row = json_object_array_get_idx(sys, i);
		const char *keys[] = {"name",   "count",  "errors", "bytes",
				      "p50_ns", "p90_ns", "p99_ns", "max_ns"};

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			get(row, keys[k]);
		cr_assert_eq(json_object_get_uint64(get(row, "p50_ns")), r.sys[i].p50_ns);
	}

	threads = get(root, "threads");
	cr_assert_eq(json_object_array_length(threads), 4);
	t100 = json_object_array_get_idx(threads, 1);
	cr_assert_eq(json_object_get_int64(get(t100, "tid")), 100);
	cr_assert_eq(json_object_get_uint64(get(t100, "off_cpu_ns")), 750 * MS);
	get(t100, "samples");
	t102 = json_object_array_get_idx(threads, 3);
	cr_assert_null(get(t102, "on_cpu_ns"), "unknown scheduler time is null, not 0");
	cr_assert_null(get(t102, "off_cpu_ns"));

	cr_assert_eq(json_object_array_length(get(root, "slow_calls")), 3);
	cr_assert_str_eq(json_object_get_string(
				 get(json_object_array_get_idx(get(root, "slow_calls"), 2),
				     "error")),
			 "EPIPE");
	cr_assert_str_eq(json_object_get_string(
				 get(json_object_array_get_idx(get(root, "slow_calls"), 0),
				     "peer")),
			 "127.0.0.2:55555");
	json_object_put(root);
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

static const char hostile[] = "\xff\xfe</script><b>\"q\"\\\n\x1b[2J\x01\xc0\xaf\xed\xa0\x80 ok";

Test(report, json_stays_valid_with_hostile_strings)
{
	struct spec sp = {.comm = hostile,
			  .cmdline = hostile,
			  .hostname = hostile,
			  .kernel = hostile,
			  .netns = hostile,
			  .thread_comm = {"\xff\xfe\x1b\"</", "a\xe2\x82", "\\\"\n", "\xc3"},
			  .source_detail = hostile};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	json_object *root;
	const char *comm;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, true, false, &len);
	cr_assert(t_valid_utf8(text, len), "JSON output is not valid UTF-8");
	root = parse_json(text, len);
	comm = json_object_get_string(get(get(root, "target"), "comm"));
	cr_assert_not_null(strstr(comm, "</script>"));
	cr_assert_not_null(strstr(comm, "\"q\""));
	cr_assert_not_null(strstr(comm, "\n"));
	cr_assert_not_null(strstr(comm, " ok"));
	json_object_put(root);
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* A crafted recording can hold any 64-bit result; negating INT64_MIN is
 * undefined (UBSan aborts with halt_on_error=1). */
Test(report, renderers_survive_extreme_result_values)
{
	struct spec sp = {.extra_ret = INT64_MIN, .extra_sys = NP_SYS_write};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	json_object *root;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, true, false, &len);
	root = parse_json(text, len);
	json_object_put(root);
	free(text);
	text = render(&r, false, false, &len);
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, events_of_unknown_syscalls_are_ignored)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	for (size_t i = 0; i < r.n_slow; i++)
		cr_assert_lt(r.slow[i].ev.sys, NP_SYS_COUNT);
	for (size_t i = 0; i < r.n_slow_waits; i++)
		cr_assert_lt(r.slow_waits[i].ev.sys, NP_SYS_COUNT);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* ---- text ---- */

Test(report, text_shows_the_tables)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, false, false, &len);
	cr_assert_not_null(strstr(text, "npserver"));
	cr_assert_not_null(strstr(text, "epoll_wait"));
	cr_assert_not_null(strstr(text, "127.0.0.1:8080"));
	cr_assert_not_null(strstr(text, "EPIPE"));
	cr_assert_not_null(strstr(text, "main"));
	cr_assert_null(strchr(text, '\x1b'));
	free(text);
	text = render(&r, false, true, &len);
	cr_assert_not_null(strchr(text, '\x1b'), "colour was asked for");
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, text_marks_incomplete_recordings)
{
	struct spec sp = {.no_end = true};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, false, false, &len);
	cr_assert_not_null(strstr(text, "incomplete"));
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, text_without_color_has_no_escape_from_target_strings)
{
	struct spec sp = {.comm = "evil\x1b]0;pwned\x07",
			  .cmdline = "run \x1b[2J --now",
			  .thread_comm = {"t\x1b[31mred", "w\x1b", "\x1b\x1b", "b\x1b[0m"}};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, false, false, &len);
	cr_assert_null(memchr(text, 0x1b, len), "ESC in the text report:\n%s", text);
	cr_assert_null(memchr(text, 0x07, len), "BEL in the text report");
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* A recording may come from anywhere: every string in it reaches the
 * terminal sanitised, not only comm and cmdline. */
Test(report, text_without_color_has_no_escape_from_any_recorded_string)
{
	struct spec sp = {.hostname = "host\x1b[2J",
			  .kernel = "6.1\x1b]0;title\x07",
			  .netns = "net:[1]\x1b[31m",
			  .source_detail = "detail \x1b[5m blink"};
	struct np_recording *rec = load(&sp);
	struct np_report r;
	size_t len;
	char *text;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, false, false, &len);
	cr_assert_null(memchr(text, 0x1b, len), "ESC in the text report:\n%s", text);
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

/* The kernel cuts comm at 15 bytes, often inside a multi-byte character;
 * the text report must still be valid UTF-8 (no half characters), also
 * where it truncates columns or wraps a long command line. */
Test(report, text_is_valid_utf8_for_non_ascii_thread_names)
{
	/* "работник-1" cut by the kernel at 15 bytes: 7 letters + half of one */
	char cmdline[400] = "/srv/x";
	struct spec sp = {
		.comm = "\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xbd\xd0\xb8\xd0",
		.cmdline = cmdline,
		.thread_comm = {"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xbd\xd0\xb8\xd0",
				"x\xff\xd0\xb0\xd0\xb0\xd0\xb0\xd0\xb0\xd0\xb0\xd0\xb0",
				"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\xb9\xe3\x83", "ok"}};
	struct np_recording *rec;
	struct np_report r;
	size_t len;
	char *text;

	/* one long word of Cyrillic, then an argument: wraps inside the word */
	for (int i = 0; i < 60; i++)
		strcat(cmdline, i % 2 ? "\xd0\xb9" : "\xd1\x8f");
	strcat(cmdline, " --config /etc/\xe6\x97\xa5\xe6\x9c\xac.conf");
	rec = load(&sp);
	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	text = render(&r, false, false, &len);
	cr_assert(t_valid_utf8(text, len), "text report is not valid UTF-8:\n%s", text);
	free(text);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(report, free_is_idempotent)
{
	struct spec sp = {0};
	struct np_recording *rec = load(&sp);
	struct np_report r;

	cr_assert_eq(np_report_build(rec, &r, NP_REPORT_MAX_SLOW), 0);
	np_report_fini(&r);
	np_report_fini(&r);
	np_recording_free(rec);
}
