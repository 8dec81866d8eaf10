/* test_netstack.c - the kernel stack part of the report, from recordings
 * written with the real writer: drop reasons with names and their top
 * locations, the target's connections, softirq per CPU, windows, JSON. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define START (1000 * MS)
#define T1 (START + 1000 * MS)
#define T2 (START + 2000 * MS)

static char tmp[PATH_MAX], path[PATH_MAX];
static struct np_recording *rec;
static struct np_report rep;

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/n.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(netstack, .init = setup, .fini = teardown);

static struct np_net_event nev(uint64_t ts, uint64_t cookie, uint32_t kind, uint32_t reason,
			       uint16_t rport)
{
	struct np_net_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = ts;
	e.cookie = cookie;
	e.kind = kind;
	e.reason = reason;
	e.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", e.laddr);
	inet_pton(AF_INET6, "2001:db8::2", e.raddr);
	e.lport = 443;
	e.rport = rport;
	return e;
}

static struct np_rec_softirq sirq(uint64_t ts, uint32_t cpu, uint64_t rx_ns, uint64_t rx_n)
{
	struct np_rec_softirq s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.cpu = cpu;
	s.rx.count = rx_n;
	s.rx.total_ns = rx_ns;
	s.rx.max_ns = rx_n ? 2 * rx_ns / rx_n : 0;
	s.rx.hist[12] = rx_n;
	s.tx.count = 1;
	s.tx.total_ns = 1000;
	s.tx.max_ns = 1000;
	s.tx.hist[9] = 1;
	s.napi.polls = rx_n;
	s.napi.work = 3 * rx_n;
	s.napi.budget = 64 * rx_n;
	s.napi.exhausted = cpu;
	return s;
}

static void write_recording(bool with_names)
{
	struct np_writer *w;
	struct np_rec_drop_reason names[3] = {{2, "NOT_SPECIFIED"},
					      {3, "NO_SOCKET"},
					      {64, "QDISC_DROP"}};
	struct np_rec_reason_count rc1[2] = {{T1, 3, 0, 10}, {T1, 64, 0, 5}};
	struct np_rec_reason_count rc2[3] = {{T2, 3, 0, 12}, {T2, 64, 0, 40}, {T2, 77, 0, 1}};
	struct np_rec_net_drop loc[6];
	struct np_net_event ev[5];
	struct np_rec_softirq s[4];
	struct np_rec_net_totals t[2];
	struct np_rec_end end = {.ts_ns = T2, .reason = NP_END_DURATION};
	static const char *const where[] = {"a+0x1", "b+0x2", "c+0x3", "d+0x4", "", "e+0x5"};
	static const uint64_t counts[] = {5, 20, 3, 12, 0, 12};
	static const uint32_t reasons[] = {64, 64, 64, 64, 64, 3};

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", START);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	if (with_names)
		cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASONS, sizeof(names[0]), names, 3), 0);
	memset(t, 0, sizeof(t));
	t[0].ts_ns = T1;
	t[0].t.drops = 15;
	t[0].t.retrans = 4;
	t[0].t.target_retrans = 2;
	t[1].ts_ns = T2;
	t[1].t.drops = 53;
	t[1].t.target_drops = 2;
	t[1].t.retrans = 9;
	t[1].t.target_retrans = 3;
	t[1].t.rcvq_full = 1;
	t[1].t.target_rcvq_full = 1;
	t[1].t.lost_events = 1;
	s[0] = sirq(T1, 0, 1 * MS, 100);
	s[1] = sirq(T1, 1, 2 * MS, 50);
	s[2] = sirq(T2, 0, 4 * MS, 300);
	s[3] = sirq(T2, 1, 2 * MS, 50);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(s[0]), s, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(t[0]), t, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASON_COUNT, sizeof(rc1[0]), rc1, 2), 0);
	ev[0] = nev(START + 100 * MS, 5, NP_NET_RETRANS, 0, 1000);
	ev[1] = nev(START + 200 * MS, 6, NP_NET_RETRANS, 0, 2000);
	ev[2] = nev(START + 300 * MS, 5, NP_NET_DROP, 64, 1000);
	ev[3] = nev(START + 400 * MS, 5, NP_NET_RETRANS, 0, 1000);
	ev[4] = nev(START + 500 * MS, 6, NP_NET_RCVQ_FULL, 0, 2000);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_EVENTS, sizeof(ev[0]), ev, 5), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_SOFTIRQ, sizeof(s[0]), s + 2, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_TOTALS, sizeof(t[0]), t + 1, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_REASON_COUNT, sizeof(rc2[0]), rc2, 3), 0);
	memset(loc, 0, sizeof(loc));
	for (int i = 0; i < 6; i++) {
		loc[i].ts_ns = T2;
		loc[i].location = 0xffffffff81000000ull + (uint64_t)i;
		loc[i].reason = reasons[i];
		loc[i].count = counts[i];
		snprintf(loc[i].where, sizeof(loc[i].where), "%s", where[i]);
	}
	cr_assert_eq(np_writer_block(w, NP_BLK_NET_DROPS, sizeof(loc[0]), loc, 6), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void build(bool with_names)
{
	char err[256];

	write_recording(with_names);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(rec, &rep, NP_REPORT_MAX_SLOW), 0);
}

static void done(void)
{
	np_report_fini(&rep);
	np_recording_free(rec);
}

Test(netstack, reasons_take_the_latest_counts_and_their_top_locations)
{
	const struct np_ns_report *ns;

	build(true);
	ns = &rep.ns;
	cr_assert(ns->present);
	cr_assert_eq(ns->t.drops, 53);
	cr_assert_eq(ns->n_reasons, 3);
	cr_assert_str_eq(ns->reasons[0].name, "QDISC_DROP");
	cr_assert_eq(ns->reasons[0].count, 40);
	cr_assert_str_eq(ns->reasons[1].name, "NO_SOCKET");
	cr_assert_eq(ns->reasons[1].count, 12);
	cr_assert_str_eq(ns->reasons[2].name, "reason 77"); /* no name recorded */
	cr_assert_eq(ns->reasons[0].n_loc, 3);
	cr_assert_str_eq(ns->reasons[0].loc[0].where, "b+0x2");
	cr_assert_str_eq(ns->reasons[0].loc[1].where, "d+0x4");
	cr_assert_str_eq(ns->reasons[0].loc[2].where, "a+0x1");
	cr_assert_str_eq(ns->reasons[1].loc[0].where, "e+0x5");
	done();
}

Test(netstack, names_missing_from_the_recording_are_numbers)
{
	build(false);
	cr_assert_str_eq(rep.ns.reasons[0].name, "reason 64");
	done();
}

Test(netstack, connections_cpus_and_windows)
{
	const struct np_ns_report *ns;

	build(true);
	ns = &rep.ns;
	cr_assert_eq(ns->n_conns, 2);
	cr_assert_eq(ns->conns[0].cookie, 5);
	cr_assert_eq(ns->conns[0].retrans, 2);
	cr_assert_eq(ns->conns[0].drops, 1);
	cr_assert_eq(ns->conns[0].last_drop_reason, 64);
	cr_assert_str_eq(ns->conns[0].local, "[2001:db8::1]:443");
	cr_assert_str_eq(ns->conns[0].peer, "[2001:db8::2]:1000");
	cr_assert_eq(ns->conns[1].rcvq_full, 1);
	cr_assert_eq(ns->n_cpus, 2);
	cr_assert_eq(ns->cpus[0].rx.total_ns, 4 * MS);
	cr_assert_eq(ns->cpus[0].rx.count, 300);
	cr_assert_eq(ns->cpus[1].napi.exhausted, 1);
	cr_assert_eq(ns->n_windows, 2);
	cr_assert_eq(ns->windows[0].drops, 15);
	cr_assert_eq(ns->windows[1].drops, 38);
	cr_assert_eq(ns->windows[1].retrans, 5);
	cr_assert_eq(ns->windows[0].net_rx_ns, 3 * MS);
	cr_assert_eq(ns->windows[1].net_rx_ns, 3 * MS);
	cr_assert_eq(rep.lost_events, 1);
	done();
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

Test(netstack, json_sections)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	json_object *o, *ns, *cpus, *c0;

	build(true);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_json(&rep, f), 0);
	fclose(f);
	o = json_tokener_parse(buf);
	cr_assert(o);
	ns = get(o, "netstack");
	cr_assert_eq(json_object_get_uint64(get(ns, "drops")), 53);
	cr_assert_eq(json_object_get_uint64(get(get(ns, "target"), "retransmits")), 3);
	cr_assert_str_eq(json_object_get_string(
				 get(json_object_array_get_idx(get(ns, "drop_reasons"), 0),
				     "reason")),
			 "QDISC_DROP");
	cr_assert_eq(json_object_array_length(get(ns, "connections")), 2);
	cpus = get(o, "cpus");
	cr_assert_eq(json_object_array_length(cpus), 2);
	c0 = json_object_array_get_idx(cpus, 0);
	cr_assert_eq(json_object_get_uint64(get(c0, "net_rx_ns")), 4 * MS);
	cr_assert_eq(json_object_get_uint64(get(c0, "net_tx_ns")), 1000);
	cr_assert_null(get(c0, "softnet_dropped"));
	json_object_put(o);
	free(buf);
	done();
}

Test(netstack, text_section)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;

	build(true);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_text(&rep, f, false), 0);
	fclose(f);
	cr_assert(strstr(buf, "QDISC_DROP"));
	cr_assert(strstr(buf, "b+0x2 (20), d+0x4 (12), a+0x1 (5)"), "%s", buf);
	cr_assert(strstr(buf, "[2001:db8::1]:443 -> [2001:db8::2]:1000"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		cr_assert_leq(strlen(line), 100, "too wide: %s", line);
	free(buf);
	done();
}
