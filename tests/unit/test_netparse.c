/* test_netparse.c - the network counter parsers on the fixture trees of
 * tests/fixtures/net (see its README.md) and on damaged input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/net/netparse.h"
#include "profiler/base/procfs.h"
#include "testutil.h"

static char buf[1 << 20];

static void load(const char *tree, const char *rel)
{
	char root[PATH_MAX];
	long n;

	t_pathf(root, "%s/net/%s", t_fixtures(), tree);
	n = np_read_text(root, rel, buf, sizeof(buf));
	cr_assert_geq(n, 0, "%s/%s: %ld", root, rel, n);
}

Test(netparse, softnet_live_capture_has_cpu_index_and_backlog)
{
	struct np_softnet_row rows[8];
	int n;

	load("live", "proc/net/softnet_stat");
	n = np_parse_softnet(buf, rows, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[0].cpu, 0);
	cr_assert_eq(rows[1].cpu, 1);
	cr_assert(rows[0].has_backlog);
	cr_assert_gt(rows[0].processed, 0);
}

Test(netparse, softnet_old_layout_uses_line_number)
{
	struct np_softnet_row rows[4];

	load("cpu1", "proc/net/softnet_stat");
	cr_assert_eq(np_parse_softnet(buf, rows, 4), 1);
	cr_assert_eq(rows[0].cpu, 0);
	cr_assert_eq(rows[0].processed, 0x1e240);
	cr_assert_eq(rows[0].dropped, 2);
	cr_assert_eq(rows[0].time_squeeze, 3);
	cr_assert_eq(rows[0].received_rps, 4);
	cr_assert_eq(rows[0].flow_limit, 5);
	cr_assert_not(rows[0].has_backlog);
}

Test(netparse, softnet_64_cpus_with_offline_gap_and_unknown_column)
{
	struct np_softnet_row rows[128];
	int n;

	load("cpu64", "proc/net/softnet_stat");
	n = np_parse_softnet(buf, rows, 128);
	cr_assert_eq(n, 64);
	cr_assert_eq(rows[4].cpu, 4);
	cr_assert_eq(rows[5].cpu, 6, "CPU 5 is offline: the index column says 6");
	cr_assert_eq(rows[63].cpu, 64);
	cr_assert_eq(rows[63].processed, 0x100000 + 64);
	cr_assert_eq(rows[63].received_rps, 640);
}

Test(netparse, softnet_rejects_33_bit_values_and_caps_rows)
{
	struct np_softnet_row rows[4];

	load("huge", "proc/net/softnet_stat");
	cr_assert_eq(np_parse_softnet(buf, rows, 4), 1);
	cr_assert_eq(rows[0].processed, 0xffffffffu);
	load("cpu64", "proc/net/softnet_stat");
	cr_assert_eq(np_parse_softnet(buf, rows, 4), 4);
	cr_assert_eq(np_parse_softnet("", rows, 4), -EINVAL);
	cr_assert_eq(np_parse_softnet("1 2 3\n", rows, 4), -EINVAL);
	cr_assert_eq(np_parse_softnet("zz 00 00 00 00 00 00 00 00 00 00\n", rows, 4), -EINVAL);
}

Test(netparse, softnet_wrap_is_unwrapped_by_delta)
{
	struct np_softnet_row a, b;

	load("wrapped/a", "proc/net/softnet_stat");
	cr_assert_eq(np_parse_softnet(buf, &a, 1), 1);
	load("wrapped/b", "proc/net/softnet_stat");
	cr_assert_eq(np_parse_softnet(buf, &b, 1), 1);
	cr_assert_eq(np_u32_delta(a.processed, b.processed), 0x20);
	cr_assert_eq(np_u32_delta(a.dropped, b.dropped), 5);
	cr_assert_eq(np_u32_delta(a.time_squeeze, b.time_squeeze), 2);
}

Test(netparse, softirqs_live_and_edited)
{
	uint32_t ids[128];
	uint64_t rx[128], tx[128];

	load("live", "proc/softirqs");
	cr_assert_eq(np_parse_softirqs(buf, ids, rx, tx, 128), 2);
	cr_assert_eq(ids[1], 1);
	cr_assert_gt(rx[0], 0);
	load("cpu64", "proc/softirqs");
	cr_assert_eq(np_parse_softirqs(buf, ids, rx, tx, 128), 64);
	cr_assert_eq(ids[5], 6);
	cr_assert_eq(rx[5], 1006);
	cr_assert_eq(tx[63], 64);
	load("extra", "proc/softirqs");
	cr_assert_eq(np_parse_softirqs(buf, ids, rx, tx, 128), 2);
	cr_assert_eq(rx[1], 4446621);
	cr_assert_eq(tx[0], 3);
	/* more CPUs than the caller has room for: the first ones */
	load("cpu64", "proc/softirqs");
	cr_assert_eq(np_parse_softirqs(buf, ids, rx, tx, 3), 3);
	cr_assert_eq(rx[2], 1002);
	cr_assert_eq(np_parse_softirqs("garbage\n", ids, rx, tx, 3), -EINVAL);
	cr_assert_eq(np_parse_softirqs("   CPU0\n  TIMER: 1\n", ids, rx, tx, 3), -EINVAL);
}

Test(netparse, proc_stat_per_cpu_ticks)
{
	struct np_cpu_ticks rows[128];

	load("live", "proc/stat");
	cr_assert_eq(np_parse_proc_stat(buf, rows, 128), 2);
	load("cpu1", "proc/stat");
	cr_assert_eq(np_parse_proc_stat(buf, rows, 128), 1);
	cr_assert_eq(rows[0].softirq, 50);
	cr_assert_eq(rows[0].system, 200);
	load("cpu64", "proc/stat");
	cr_assert_eq(np_parse_proc_stat(buf, rows, 128), 64);
	cr_assert_eq(rows[63].cpu, 64);
	cr_assert_eq(rows[63].softirq, 6400);
	cr_assert_eq(np_parse_proc_stat("cpu0 1 2\n", rows, 128), 0);
}

struct snmp_seen {
	int count;
	int64_t retrans, maxconn, active, overflows, timeouts, future;
	bool udp_seen;
};

static void on_snmp(const char *group, const char *name, int64_t value, void *arg)
{
	struct snmp_seen *s = arg;

	s->count++;
	if (!strcmp(group, "Tcp") && !strcmp(name, "RetransSegs"))
		s->retrans = value;
	if (!strcmp(group, "Tcp") && !strcmp(name, "MaxConn"))
		s->maxconn = value;
	if (!strcmp(group, "Tcp") && !strcmp(name, "ActiveOpens"))
		s->active = value;
	if (!strcmp(group, "TcpExt") && !strcmp(name, "ListenOverflows"))
		s->overflows = value;
	if (!strcmp(group, "TcpExt") && !strcmp(name, "TCPTimeouts"))
		s->timeouts = value;
	if (!strcmp(name, "FutureCounter"))
		s->future = value;
	if (!strcmp(group, "Udp"))
		s->udp_seen = true;
}

Test(netparse, snmp_and_netstat_live)
{
	struct snmp_seen s = {0};

	load("live", "proc/net/snmp");
	cr_assert_gt(np_parse_snmp(buf, on_snmp, &s), 50);
	cr_assert_eq(s.maxconn, -1);
	cr_assert(s.udp_seen);
	/* -1: not seen; the captured netstat has ListenOverflows 0 and
	 * TCPTimeouts 3 */
	memset(&s, 0, sizeof(s));
	s.overflows = s.timeouts = -1;
	load("live", "proc/net/netstat");
	cr_assert_gt(np_parse_snmp(buf, on_snmp, &s), 50);
	cr_assert_eq(s.overflows, 0);
	cr_assert_eq(s.timeouts, 3);
}

Test(netparse, snmp_huge_counters_and_unknown_columns)
{
	struct snmp_seen s = {0};

	load("huge", "proc/net/snmp");
	np_parse_snmp(buf, on_snmp, &s);
	cr_assert_eq((uint64_t)s.active, UINT64_MAX);
	cr_assert_eq((uint64_t)s.retrans, UINT64_MAX);
	cr_assert_not(s.udp_seen, "a value past 2^64 ends its group");
	memset(&s, 0, sizeof(s));
	load("extra", "proc/net/netstat");
	np_parse_snmp(buf, on_snmp, &s);
	cr_assert_eq(s.future, 77);
	cr_assert_eq(np_parse_snmp("Tcp: A B\nIp: 1 2\n", on_snmp, &s), -EINVAL);
	cr_assert_eq(np_parse_snmp("Tcp: A B\n", on_snmp, &s), -EINVAL);
}

Test(netparse, snmp_index_table)
{
	cr_assert_eq(np_snmp_index("Tcp", "RetransSegs"), NP_SNMP_TCP_RETRANS_SEGS);
	cr_assert_eq(np_snmp_index("TcpExt", "ListenOverflows"), NP_SNMP_LISTEN_OVERFLOWS);
	cr_assert_eq(np_snmp_index("Tcp", "ListenOverflows"), -1);
	cr_assert_str_eq(np_snmp_name(NP_SNMP_TCP_LOSS_PROBES), "TcpExt.TCPLossProbes");
	cr_assert_null(np_snmp_name(NP_SNMP_COUNT));
	for (unsigned i = 0; i < NP_SNMP_COUNT; i++)
		cr_assert_not_null(np_snmp_name(i), "%u", i);
	cr_assert(np_snmp_is_gauge(NP_SNMP_TCP_CURR_ESTAB));
}

/* The lookup is a hash table: every name finds its own slot, and names
 * that differ in the group, the case or by a prefix find none. */
Test(netparse, snmp_index_finds_every_counter_by_name)
{
	for (unsigned i = 0; i < NP_SNMP_COUNT; i++) {
		char group[32], name[64];
		const char *full = np_snmp_name(i), *dot = strchr(full, '.');

		cr_assert_not_null(dot, "%s", full);
		snprintf(group, sizeof(group), "%.*s", (int)(dot - full), full);
		snprintf(name, sizeof(name), "%s", dot + 1);
		cr_assert_eq(np_snmp_index(group, name), (int)i, "%s", full);
		cr_assert_eq(np_snmp_index(strcmp(group, "Tcp") ? "Tcp" : "Udp", name), -1, "%s",
			     full);
		name[0] = (char)(name[0] ^ 0x20);
		cr_assert_eq(np_snmp_index(group, name), -1, "%s", full);
		name[strlen(name) - 1] = '\0';
		cr_assert_eq(np_snmp_index(group, name), -1, "%s", full);
	}
	cr_assert_eq(np_snmp_index("", ""), -1);
}

struct irq_seen {
	int lines;
	uint64_t eth_total;
	size_t short_cols;
	char last_desc[128];
};

static void on_irq(const char *irq, const uint64_t *counts, size_t ncols, const char *desc,
		   void *arg)
{
	struct irq_seen *s = arg;

	s->lines++;
	if (strstr(desc, "eth0-TxRx"))
		for (size_t i = 0; i < ncols; i++)
			s->eth_total += counts[i];
	if (!strcmp(irq, "48"))
		s->short_cols = ncols;
	snprintf(s->last_desc, sizeof(s->last_desc), "%s", desc);
}

Test(netparse, interrupts)
{
	uint32_t ids[128];
	struct irq_seen s = {0};

	load("live", "proc/interrupts");
	cr_assert_eq(np_parse_interrupts(buf, ids, 128, on_irq, &s), 2);
	cr_assert_gt(s.lines, 10);
	memset(&s, 0, sizeof(s));
	load("cpu64", "proc/interrupts");
	cr_assert_eq(np_parse_interrupts(buf, ids, 128, on_irq, &s), 64);
	cr_assert_eq(s.short_cols, 10);
	cr_assert_str_eq(s.last_desc, "Local timer interrupts");
	/* IRQ 40..47, column c counts c * irq */
	uint64_t want = 0;
	for (int irq = 40; irq < 48; irq++)
		for (int c = 0; c < 65; c++)
			if (c != 5)
				want += (uint64_t)c * irq;
	cr_assert_eq(s.eth_total, want);
	cr_assert_eq(np_parse_interrupts("no header\n", ids, 128, on_irq, &s), -EINVAL);
}

Test(netparse, cpumask_and_cpulist)
{
	cr_assert_eq(np_cpumask_count("00000003\n"), 2);
	cr_assert_eq(np_cpumask_count("0"), 0);
	cr_assert_eq(np_cpumask_count("ff,ffffffff"), 40);
	cr_assert_eq(np_cpumask_count("xyz"), -EINVAL);
	cr_assert_eq(np_cpumask_count(""), -EINVAL);
	cr_assert_eq(np_cpulist_count("0-3,8,10-11\n"), 7);
	cr_assert_eq(np_cpulist_count("\n"), 0);
	cr_assert_eq(np_cpulist_count("3-1"), -EINVAL);
	cr_assert_eq(np_cpulist_count("1,,2"), -EINVAL);
	cr_assert_eq(np_cpulist_count("0-99999"), -EINVAL);
}

Test(netparse, socket_links_and_numbers)
{
	uint64_t v;

	cr_assert_eq(np_parse_socket_link("socket:[12345]", &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(np_parse_socket_link("pipe:[12345]", &v), -EINVAL);
	cr_assert_eq(np_parse_socket_link("socket:[12345", &v), -EINVAL);
	cr_assert_eq(np_parse_socket_link("socket:[12345]x", &v), -EINVAL);
	cr_assert_eq(np_parse_socket_link("socket:[99999999999999999999]", &v), -EINVAL);
	cr_assert_eq(np_parse_u64_text(" 262144\n", &v), 0);
	cr_assert_eq(v, 262144);
	cr_assert_eq(np_parse_u64_text("12 13", &v), -EINVAL);
}

Test(netparse, missing_files_are_errors_not_crashes)
{
	char root[PATH_MAX];

	t_pathf(root, "%s/net/missing", t_fixtures());
	cr_assert_eq(np_read_text(root, "proc/softirqs", buf, sizeof(buf)), -ENOENT);
	cr_assert_gt(np_read_text(root, "proc/net/softnet_stat", buf, sizeof(buf)), 0);
}

/* A SOCK_DIAG reply built by hand: header, inet_diag_msg, tcp_info, skmeminfo. */
static size_t build_reply(uint8_t *out, size_t tcpinfo_len, uint16_t type)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)out;
	struct inet_diag_msg *m = (struct inet_diag_msg *)(out + NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*m));
	struct nlattr *a;
	struct tcp_info ti;
	uint32_t mem[SK_MEMINFO_VARS];

	memset(out, 0, 1024);
	nlh->nlmsg_type = type;
	m->idiag_family = AF_INET;
	m->idiag_state = 1;
	m->id.idiag_sport = htons(8080);
	m->id.idiag_dport = htons(40000);
	m->id.idiag_src[0] = htonl(0x7f000001);
	m->idiag_rqueue = 1234;
	m->idiag_wqueue = 5;
	m->idiag_inode = 987654;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 250;
	ti.tcpi_total_retrans = 7;
	ti.tcpi_snd_cwnd = 10;
	ti.tcpi_delivery_rate = 1000000;
	ti.tcpi_rwnd_limited = 42;
	a = (struct nlattr *)(out + off);
	a->nla_type = INET_DIAG_INFO;
	a->nla_len = (uint16_t)(NLA_HDRLEN + tcpinfo_len);
	memcpy(out + off + NLA_HDRLEN, &ti, tcpinfo_len);
	off += NLA_ALIGN(a->nla_len);
	for (int i = 0; i < SK_MEMINFO_VARS; i++)
		mem[i] = 100 + (uint32_t)i;
	a = (struct nlattr *)(out + off);
	a->nla_type = INET_DIAG_SKMEMINFO;
	a->nla_len = NLA_HDRLEN + sizeof(mem);
	memcpy(out + off + NLA_HDRLEN, mem, sizeof(mem));
	off += NLA_ALIGN(a->nla_len);
	nlh->nlmsg_len = (uint32_t)off;
	return off;
}

Test(netparse, sockdiag_decode_full_reply)
{
	uint8_t msg[1024];
	size_t len = build_reply(msg, sizeof(struct tcp_info), SOCK_DIAG_BY_FAMILY);
	struct np_sockdiag_obs o;

	cr_assert_eq(np_sockdiag_decode(msg, len, SOCK_DIAG_BY_FAMILY, &o), 0);
	cr_assert_eq(o.sport, 8080);
	cr_assert_eq(o.dport, 40000);
	cr_assert_eq(o.inode, 987654);
	cr_assert_eq(o.rqueue, 1234);
	cr_assert(o.have_tcpinfo);
	cr_assert_eq(o.rtt_us, 250);
	cr_assert_eq(o.total_retrans, 7);
	cr_assert_eq(o.delivery_rate, 1000000);
	cr_assert_eq(o.rwnd_limited_us, 42);
	cr_assert(o.have_meminfo);
	cr_assert_eq(o.rcvbuf, 101);
	cr_assert_eq(o.sk_drops, 100 + SK_MEMINFO_DROPS);
	cr_assert_eq(np_sockdiag_decode(msg, len, TCPDIAG_GETSOCK, &o), -ENOMSG);
}

Test(netparse, sockdiag_decode_short_tcp_info_of_an_old_kernel)
{
	uint8_t msg[1024];
	size_t short_len = offsetof(struct tcp_info, tcpi_pacing_rate);
	size_t len = build_reply(msg, short_len, SOCK_DIAG_BY_FAMILY);
	struct np_sockdiag_obs o;

	cr_assert_eq(np_sockdiag_decode(msg, len, SOCK_DIAG_BY_FAMILY, &o), 0);
	cr_assert_eq(o.rtt_us, 250);
	cr_assert_eq(o.total_retrans, 7);
	cr_assert_eq(o.delivery_rate, 0, "beyond what the kernel sent");
	cr_assert_eq(o.rwnd_limited_us, 0);
}

Test(netparse, sockdiag_decode_rejects_damage)
{
	uint8_t msg[1024];
	size_t len = build_reply(msg, sizeof(struct tcp_info), SOCK_DIAG_BY_FAMILY);
	struct np_sockdiag_obs o;
	struct nlattr *a = (struct nlattr *)(msg + NLMSG_HDRLEN +
					     NLMSG_ALIGN(sizeof(struct inet_diag_msg)));

	cr_assert_eq(np_sockdiag_decode(msg, 10, SOCK_DIAG_BY_FAMILY, &o), -EINVAL);
	cr_assert_eq(np_sockdiag_decode(msg, len - 1, SOCK_DIAG_BY_FAMILY, &o), -EINVAL);
	a->nla_len = 2000;
	cr_assert_eq(np_sockdiag_decode(msg, len, SOCK_DIAG_BY_FAMILY, &o), -EINVAL);
	len = build_reply(msg, sizeof(struct tcp_info), SOCK_DIAG_BY_FAMILY);
	((struct inet_diag_msg *)(msg + NLMSG_HDRLEN))->idiag_family = AF_UNIX;
	cr_assert_eq(np_sockdiag_decode(msg, len, SOCK_DIAG_BY_FAMILY, &o), -EINVAL);
}
