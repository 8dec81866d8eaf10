/* test_net.c - the network part of the report (report/model/net_report.c) from a
 * recording written with the real writer: deltas, driver drops without
 * double counting, qdisc backlog peaks, per-window series, listeners'
 * backlog clamping, the JSON contract fields, and sockets in other network
 * namespaces than the primary target's. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/format/recording.h"
#include "report/report.h"
#include "testutil.h"

static char tmp[PATH_MAX], path[PATH_MAX];
/* write_recording() adds NP_BLK_SOCK_NETNS records: socket 12 in a second
 * namespace, socket 13 (never polled) in a third past the cap. */
static bool with_netns;

#define NS_PRIMARY 4026531840ull
#define NS_CHILD 4026532999ull
#define NS_PAST_CAP 4026533000ull

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/net.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(net, .init = setup, .fini = teardown);

#define S 1000000000ull /* start of the window */
#define MS 1000000ull

static void write_recording(void)
{
	struct np_writer *w;
	struct np_rec_iface ifc = {.ts_ns = S,
				   .id = 0,
				   .ifindex = 3,
				   .role = NP_IF_ROUTE,
				   .num_rx_queues = 1,
				   .num_tx_queues = 1};
	struct np_rec_ethtool_name names[3] = {{0, 0, "rx_queue_0_xdp_drops"},
					       {0, 1, "rx_drops"},
					       {0, 2, "rx_queue_0_xdp_packets"}};
	struct np_rec_sock_info si[2] = {{.ts_ns = S,
					  .inode = 11,
					  .id = 0,
					  .family = AF_INET,
					  .proto = IPPROTO_TCP,
					  .state = 10,
					  .flags = NP_SOCK_LISTENER,
					  .lport = 8080,
					  .backlog_limit = 4096},
					 {.ts_ns = S,
					  .inode = 12,
					  .id = 1,
					  .family = AF_INET,
					  .proto = IPPROTO_TCP,
					  .state = 1,
					  .lport = 8080,
					  .rport = 5555}};
	struct np_rec_sock_summary sum[2] = {
		{.ts_ns = S + 900 * MS, .id = 0, .polls = 9, .recv_q_max = 17, .state_last = 10},
		{.ts_ns = S + 900 * MS,
		 .id = 1,
		 .polls = 9,
		 .recv_q_max = 65536,
		 .retrans = 3,
		 .rtt_us_max = 900,
		 .state_last = 1}};
	struct np_rec_end end = {.ts_ns = S + S, .reason = NP_END_DURATION};
	const char cfg[] = "sysctl.net.core.somaxconn=4096\nif.0.name=np4v0\n";

	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", S);
	np_writer_meta_u64(w, "poll_ms", 100);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	snprintf(ifc.name, sizeof(ifc.name), "np4v0");
	snprintf(ifc.kind, sizeof(ifc.kind), "veth");
	snprintf(ifc.netns, sizeof(ifc.netns), "target");
	np_writer_block(w, NP_BLK_NET_CONFIG, 1, cfg, sizeof(cfg) - 1);
	np_writer_block(w, NP_BLK_IFACE, sizeof(ifc), &ifc, 1);
	np_writer_block(w, NP_BLK_ETHTOOL_NAME, sizeof(names[0]), names, 3);
	np_writer_block(w, NP_BLK_SOCK_INFO, sizeof(si[0]), si, 2);
	if (with_netns) {
		/* 13 twice: its identity changed while its namespace was out of reach */
		struct np_rec_sock_netns ns[] = {
			{.inode = 12, .netns_ino = NS_CHILD, .primary_ino = NS_PRIMARY, .pid = 7},
			{.inode = 13,
			 .netns_ino = NS_PAST_CAP,
			 .primary_ino = NS_PRIMARY,
			 .pid = 8,
			 .flags = NP_SOCKNS_UNPOLLED},
			{.inode = 13,
			 .netns_ino = NS_PAST_CAP,
			 .primary_ino = NS_PRIMARY,
			 .pid = 8,
			 .flags = NP_SOCKNS_UNPOLLED},
		};

		np_writer_block(w, NP_BLK_SOCK_NETNS, sizeof(ns[0]), ns, 3);
	}
	for (int i = 0; i < 10; i++) {
		uint64_t ts = S + (uint64_t)i * 100 * MS;
		struct np_rec_net_poll p = {.ts_ns = ts,
					    .sockets = 2,
					    .recv_q_max = i == 5 ? 65536 : 0,
					    .sock_cpu_ns = 100000 + (uint64_t)i};
		/* XDP drops 10 per poll after t=0.5s; the aggregate counter says the same */
		uint64_t drops = i > 5 ? (uint64_t)(i - 5) * 10 : 0;
		struct np_rec_ethtool_sample es[2] = {{ts, 0, 0, drops}, {ts, 0, 1, drops}};
		struct np_rec_link_sample ls = {.ts_ns = ts,
						.id = 0,
						.rx_packets = 1000 + (uint64_t)i * 100,
						.tx_packets = 500 + (uint64_t)i * 50};
		struct np_rec_qdisc_sample qs = {.ts_ns = ts,
						 .id = 0,
						 .handle = 0x10000,
						 .parent = 0xffffffff,
						 .drops = (uint64_t)i,
						 .backlog_bytes = i == 3 ? 30000 : 0};
		struct np_rec_netcpu_sample cs[2] = {{.ts_ns = ts,
						      .cpu = 0,
						      .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS,
						      .processed = 0xfffffff0ull +
								   (uint64_t)i * 0x10,
						      .net_rx = (uint64_t)i * 90},
						     {.ts_ns = ts,
						      .cpu = 1,
						      .have = NP_CPU_SOFTNET | NP_CPU_SOFTIRQS,
						      .net_rx = (uint64_t)i * 10,
						      .dropped = i >= 8 ? 4 : 0}};
		struct np_rec_snmp_sample sn = {.ts_ns = ts,
						.present = (1ull << NP_SNMP_TCP_RETRANS_SEGS) |
							   (1ull << NP_SNMP_LISTEN_OVERFLOWS)};

		sn.v[NP_SNMP_TCP_RETRANS_SEGS] = 100 + (uint64_t)i * 2;
		sn.v[NP_SNMP_LISTEN_OVERFLOWS] = i >= 7 ? 3 : 0;
		np_writer_block(w, NP_BLK_NET_POLL, sizeof(p), &p, 1);
		np_writer_block(w, NP_BLK_ETHTOOL_SAMPLE, sizeof(es[0]), es, 2);
		np_writer_block(w, NP_BLK_LINK_SAMPLE, sizeof(ls), &ls, 1);
		np_writer_block(w, NP_BLK_QDISC_SAMPLE, sizeof(qs), &qs, 1);
		np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(cs[0]), cs, 2);
		np_writer_block(w, NP_BLK_SNMP_SAMPLE, sizeof(sn), &sn, 1);
	}
	np_writer_block(w, NP_BLK_SOCK_SUMMARY, sizeof(sum[0]), sum, 2);
	np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static void build(struct np_recording **rec, struct np_report *r)
{
	char err[256];

	write_recording();
	cr_assert_eq(np_recording_read(path, rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(*rec, r, 10), 0);
}

Test(net, interface_deltas_and_driver_drops_not_double_counted)
{
	struct np_recording *rec;
	struct np_report r;
	const struct np_net_iface *f;

	build(&rec, &r);
	cr_assert_eq(r.net.n_ifs, 1);
	f = &r.net.ifs[0];
	cr_assert_str_eq(f->info.name, "np4v0");
	cr_assert_eq(f->delta.rx_packets, 900);
	cr_assert_eq(f->delta.tx_packets, 450);
	cr_assert_eq(f->driver_drops, 40, "per-queue and aggregate both say 40");
	cr_assert_not_null(f->root);
	cr_assert_eq(f->root->drops, 9);
	cr_assert_eq(f->root->backlog_max_bytes, 30000);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(net, cpus_sockets_counters)
{
	struct np_recording *rec;
	struct np_report r;

	build(&rec, &r);
	cr_assert_eq(r.net.n_cpus, 2);
	cr_assert_eq(r.net.cpus[0].processed, 0x90, "unwrapped counters difference");
	cr_assert_eq(r.net.cpus[0].net_rx, 810);
	cr_assert_eq(r.net.cpus[1].dropped, 4);
	cr_assert_float_eq(r.net.cpus[0].net_rx_share, 0.9, 1e-9);
	cr_assert_eq(r.net.snmp_delta[NP_SNMP_TCP_RETRANS_SEGS], 18);
	cr_assert_eq(r.net.snmp_delta[NP_SNMP_LISTEN_OVERFLOWS], 3);
	cr_assert_eq(r.net.n_socks, 2);
	cr_assert_eq(r.net.socks[0].info.id, 1, "busiest first");
	cr_assert_str_eq(r.net.socks[0].state, "ESTAB");
	cr_assert_str_eq(r.net.socks[1].state, "LISTEN");
	cr_assert(np_net_backlog_clamped(&r.net, &r.net.socks[1]));
	cr_assert_eq(r.net.n_polls, 10);
	cr_assert_eq(r.net.poll_cpu_max_ns, 100009);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(net, windows_say_when_counters_moved)
{
	struct np_recording *rec;
	struct np_report r;
	uint64_t overflow_windows = 0, drops = 0, backlog_peak = 0;

	build(&rec, &r);
	cr_assert_eq(r.net.window_ns, 100 * MS);
	cr_assert_eq(r.net.n_windows, 10);
	for (size_t i = 0; i < r.net.n_windows; i++) {
		const struct np_net_window *w = &r.net.windows[i];

		if (w->snmp[NP_SNMP_LISTEN_OVERFLOWS]) {
			overflow_windows++;
			cr_assert_eq(i, 7, "the overflow happened in the poll at 0.7 s");
		}
		drops += w->driver_drops;
		if (w->qdisc_backlog_max_bytes > backlog_peak)
			backlog_peak = w->qdisc_backlog_max_bytes;
	}
	cr_assert_eq(overflow_windows, 1);
	cr_assert_eq(drops, 40);
	cr_assert_eq(backlog_peak, 30000);
	cr_assert_eq(r.net.windows[5].recv_q_max, 65536);
	cr_assert_eq(r.net.windows[9].net_rx_cpu[0], 90);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(net, json_has_contract_fields)
{
	struct np_recording *rec;
	struct np_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	json_object *root, *a, *o, *q;

	build(&rec, &r);
	f = open_memstream(&buf, &len);
	cr_assert_eq(np_report_json(&r, f), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	cr_assert_not_null(root);
	cr_assert(json_object_object_get_ex(root, "sockets", &a));
	o = json_object_array_get_idx(a, 0);
	for (const char *const *k =
		     (const char *const[]){"proto", "state", "local", "peer", "recv_q_max",
					   "send_q_max", "retrans", "rtt_us_max", NULL};
	     *k; k++)
		cr_assert(json_object_object_get_ex(o, *k, NULL), "sockets[].%s", *k);
	cr_assert(json_object_object_get_ex(root, "interfaces", &a));
	o = json_object_array_get_idx(a, 0);
	for (const char *const *k = (const char *const[]){"name", "netns", "rx_packets",
							  "tx_packets", "rx_dropped", "tx_dropped",
							  "driver_drops", "qdisc", NULL};
	     *k; k++)
		cr_assert(json_object_object_get_ex(o, *k, NULL), "interfaces[].%s", *k);
	cr_assert(json_object_object_get_ex(o, "qdisc", &q));
	for (const char *const *k =
		     (const char *const[]){"kind", "drops", "overlimits", "backlog_max", NULL};
	     *k; k++)
		cr_assert(json_object_object_get_ex(q, *k, NULL), "qdisc.%s", *k);
	cr_assert(json_object_object_get_ex(root, "cpus", &a));
	o = json_object_array_get_idx(a, 0);
	for (const char *const *k = (const char *const[]){"cpu", "net_rx_ns", "net_tx_ns",
							  "softnet_dropped", "time_squeeze", NULL};
	     *k; k++)
		cr_assert(json_object_object_get_ex(o, *k, NULL), "cpus[].%s", *k);
	json_object_put(root);
	free(buf);
	np_report_fini(&r);
	np_recording_free(rec);
}

static json_object *report_json(struct np_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	json_object *root;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(np_report_json(r, f), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	free(buf);
	cr_assert_not_null(root);
	return root;
}

Test(net, sockets_of_a_child_in_another_netns)
{
	struct np_recording *rec;
	struct np_report r;
	json_object *root, *a, *o, *v;
	char note[512];
	bool degraded;

	with_netns = true;
	build(&rec, &r);
	with_netns = false;
	cr_assert(r.net.have_sock_netns);
	cr_assert_eq(r.net.netns_primary, NS_PRIMARY);
	cr_assert_eq(r.net.netns_polled, 2, "the primary and the child's");
	cr_assert_eq(r.net.netns_unpolled, 1);
	cr_assert_eq(r.net.sockets_unpolled, 1, "each socket once");
	cr_assert_eq(r.net.socks[0].info.inode, 12);
	cr_assert(r.net.socks[0].netns_other);
	cr_assert_eq(r.net.socks[0].netns_ino, NS_CHILD);
	cr_assert(!r.net.socks[1].netns_other);
	cr_assert_eq(r.net.socks[1].netns_ino, NS_PRIMARY);
	np_net_netns_note(&r.net, note, sizeof(note), &degraded);
	cr_assert(degraded, "a namespace was not polled");
	cr_assert(strstr(note, "polled in 2 network namespaces"), "%s", note);
	cr_assert(strstr(note, "1 socket in 1 more namespace not polled"), "%s", note);
	cr_assert(strstr(note, "primary target's namespace only"), "%s", note);

	root = report_json(&r);
	cr_assert(json_object_object_get_ex(root, "sockets", &a));
	o = json_object_array_get_idx(a, 0);
	cr_assert(json_object_object_get_ex(o, "netns", &v));
	cr_assert_str_eq(json_object_get_string(v), "other");
	cr_assert(json_object_object_get_ex(o, "netns_ino", &v));
	cr_assert_eq((uint64_t)json_object_get_uint64(v), NS_CHILD);
	o = json_object_array_get_idx(a, 1);
	cr_assert(json_object_object_get_ex(o, "netns", &v));
	cr_assert_str_eq(json_object_get_string(v), "target");
	json_object_put(root);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(net, one_netns_says_nothing_more)
{
	struct np_recording *rec;
	struct np_report r;
	json_object *root, *a;
	char note[512];
	bool degraded;

	build(&rec, &r);
	cr_assert(!r.net.have_sock_netns);
	np_net_netns_note(&r.net, note, sizeof(note), &degraded);
	cr_assert_str_eq(note, "");
	cr_assert(!degraded);
	root = report_json(&r);
	cr_assert(json_object_object_get_ex(root, "sockets", &a));
	cr_assert(!json_object_object_get_ex(json_object_array_get_idx(a, 0), "netns", NULL),
		  "old recordings render as before");
	json_object_put(root);
	np_report_fini(&r);
	np_recording_free(rec);
}
