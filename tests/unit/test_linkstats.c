/* test_linkstats.c - the interface collector's reading of rtnetlink
 * replies (profiler/net/linkstats.h), on RTM_NEWLINK and RTM_NEWQDISC
 * replies recorded on the development VM from lo and a veth in a namespace
 * (tests/fixtures/netdev, tests/tools/capture_netdev.py), parsed by libnl
 * as netdev.c gets them.  The expected numbers are iproute2's and
 * ethtool's reading of the same counters at the same moment (ip -s -s -j
 * link, tc -s -j qdisc, ethtool -S), not netprof's. */
#include <criterion/criterion.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/object.h>
#include <netlink/route/qdisc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/net/linkstats.h"
#include "testutil.h"

static uint8_t *fixture(const char *name, size_t *len)
{
	char p[PATH_MAX];

	t_pathf(p, "%s/netdev/%s", t_fixtures(), name);
	return t_read_file(p, len);
}

/* A value of a key=value file written by the capture tool. */
static unsigned long long kv(const char *file, const char *key)
{
	size_t len, klen = strlen(key);
	uint8_t *raw = fixture(file, &len);
	char *text = realloc(raw, len + 1);
	unsigned long long v = 0;
	bool found = false;

	cr_assert_not_null(text);
	text[len] = '\0';
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			v = strtoull(line + klen + 1, NULL, 10);
			found = true;
		}
	free(text);
	cr_assert(found, "%s has no %s", file, key);
	return v;
}

static void keep(struct nl_object *o, void *arg)
{
	struct nl_object **out = arg;

	nl_object_get(o);
	*out = o;
}

/* The one object libnl makes of one recorded message at off. */
static struct nl_object *parse_at(const uint8_t *buf, size_t len, size_t off, size_t *next)
{
	struct nlmsghdr h;
	struct nl_msg *msg;
	struct nl_object *o = NULL;

	cr_assert_leq(off + sizeof(h), len);
	memcpy(&h, buf + off, sizeof(h));
	cr_assert_leq(off + h.nlmsg_len, len);
	*next = off + NLMSG_ALIGN(h.nlmsg_len);
	if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR)
		return NULL;
	msg = nlmsg_convert((struct nlmsghdr *)(void *)(buf + off));
	cr_assert_not_null(msg);
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	cr_assert_geq(nl_msg_parse(msg, keep, &o), 0);
	nlmsg_free(msg);
	cr_assert_not_null(o);
	return o;
}

static struct np_rec_link_sample link_sample(const char *ifname, const char *t)
{
	char name[64];
	size_t len, next;
	uint8_t *buf;
	struct nl_object *o;
	struct np_rec_link_sample s;

	snprintf(name, sizeof(name), "link_%s_%s.bin", ifname, t);
	buf = fixture(name, &len);
	o = parse_at(buf, len, 0, &next);
	cr_assert_str_eq(rtnl_link_get_name((struct rtnl_link *)o), ifname);
	memset(&s, 0, sizeof(s));
	np_link_sample_fill((struct rtnl_link *)o, &s);
	nl_object_put(o);
	free(buf);
	return s;
}

static void check_against_ip(const char *ifname, const char *t)
{
	char file[64];
	struct np_rec_link_sample s = link_sample(ifname, t);

	snprintf(file, sizeof(file), "ip_%s_%s.txt", ifname, t);
	cr_assert_eq(s.rx_packets, kv(file, "rx.packets"), "%s", file);
	cr_assert_eq(s.tx_packets, kv(file, "tx.packets"), "%s", file);
	cr_assert_eq(s.rx_bytes, kv(file, "rx.bytes"), "%s", file);
	cr_assert_eq(s.tx_bytes, kv(file, "tx.bytes"), "%s", file);
	cr_assert_eq(s.rx_errors, kv(file, "rx.errors"), "%s", file);
	cr_assert_eq(s.tx_errors, kv(file, "tx.errors"), "%s", file);
	cr_assert_eq(s.rx_dropped, kv(file, "rx.dropped"), "%s", file);
	cr_assert_eq(s.tx_dropped, kv(file, "tx.dropped"), "%s", file);
	cr_assert_eq(s.rx_crc_errors, kv(file, "rx.crc_errors"), "%s", file);
	cr_assert_eq(s.rx_missed_errors, kv(file, "rx.missed_errors"), "%s", file);
	cr_assert_eq(s.tx_carrier_errors, kv(file, "tx.carrier_errors"), "%s", file);
	cr_assert_eq(s.carrier_changes, kv(file, "tx.carrier_changes"), "%s", file);
}

Test(linkstats, recorded_links_read_as_iproute2_reads_them)
{
	const char *ifs[] = {"lo", "t18a"}, *ts[] = {"t0", "t1"};

	for (int i = 0; i < 2; i++)
		for (int t = 0; t < 2; t++)
			check_against_ip(ifs[i], ts[t]);
	cr_assert_eq(link_sample("t18a", "t1").operstate, IF_OPER_UP);
	cr_assert_eq(link_sample("lo", "t1").operstate, IF_OPER_UNKNOWN);
}

/* The traffic between the two captures moved the counters: a sample is
 * written; one identical but for its time is not. */
Test(linkstats, a_link_sample_is_written_only_when_it_moved)
{
	struct np_rec_link_sample a = link_sample("lo", "t0"), b = link_sample("lo", "t1"), c;

	a.ts_ns = 100;
	b.ts_ns = 200;
	cr_assert_gt(b.rx_packets, a.rx_packets);
	cr_assert(np_link_sample_changed(&a, &b));
	c = b;
	c.ts_ns = 300;
	cr_assert_not(np_link_sample_changed(&b, &c));
	c.carrier_changes++;
	cr_assert(np_link_sample_changed(&b, &c));
}

/* The root qdisc of t18a from the recorded dump. */
static struct np_rec_qdisc_sample qdisc_sample(const char *t, uint32_t ifindex)
{
	char name[64];
	size_t len, off = 0;
	uint8_t *buf;
	struct np_rec_qdisc_sample q;
	int found = 0;

	snprintf(name, sizeof(name), "qdisc_%s.bin", t);
	buf = fixture(name, &len);
	memset(&q, 0, sizeof(q));
	while (off < len) {
		struct nl_object *o = parse_at(buf, len, off, &off);

		if (!o)
			break;
		if ((uint32_t)rtnl_tc_get_ifindex((struct rtnl_tc *)o) == ifindex) {
			np_qdisc_sample_fill((struct rtnl_tc *)o, &q);
			found++;
		}
		nl_object_put(o);
	}
	free(buf);
	cr_assert_eq(found, 1, "one qdisc on ifindex %u", ifindex);
	return q;
}

Test(linkstats, recorded_qdisc_reads_as_tc_reads_it_and_is_tracked)
{
	uint32_t ifindex = (uint32_t)kv("ip_t18a_t0.txt", "ifindex");
	struct np_rec_qdisc_sample q0 = qdisc_sample("t0", ifindex),
				   q1 = qdisc_sample("t1", ifindex), *last = NULL;
	uint32_t n = 0;
	const char *ts[] = {"t0", "t1"};
	struct np_rec_qdisc_sample *qs[] = {&q0, &q1};

	for (int t = 0; t < 2; t++) {
		char file[32];

		snprintf(file, sizeof(file), "tc_%s.txt", ts[t]);
		cr_assert_str_eq(qs[t]->kind, "pfifo");
		cr_assert_eq(qs[t]->handle, 0x10000, "1:");
		cr_assert_eq(qs[t]->bytes, kv(file, "1:.bytes"), "%s: %llu", file,
			     (unsigned long long)qs[t]->bytes);
		cr_assert_eq(qs[t]->packets, kv(file, "1:.packets"), "%s", file);
		cr_assert_eq(qs[t]->drops, kv(file, "1:.drops"), "%s", file);
		cr_assert_eq(qs[t]->overlimits, kv(file, "1:.overlimits"), "%s", file);
		cr_assert_eq(qs[t]->requeues, kv(file, "1:.requeues"), "%s", file);
		cr_assert_eq(qs[t]->backlog_bytes, kv(file, "1:.backlog"), "%s", file);
		cr_assert_eq(qs[t]->qlen, kv(file, "1:.qlen"), "%s", file);
	}
	cr_assert_gt(q1.packets, q0.packets + 250, "300 datagrams went through it");
	/* first sight, moved, unchanged, another qdisc on the interface */
	cr_assert(np_qdisc_track(&last, &n, &q0));
	cr_assert(np_qdisc_track(&last, &n, &q1));
	q1.ts_ns = 12345;
	cr_assert_not(np_qdisc_track(&last, &n, &q1));
	cr_assert_eq(n, 1);
	q0.handle = 0x20000;
	cr_assert(np_qdisc_track(&last, &n, &q0));
	cr_assert_eq(n, 2);
	free(last);
}

/* `ethtool -S t18a` before and after: the counters the veth driver lists. */
static uint32_t ethtool_values(const char *t, uint64_t *v, uint32_t max)
{
	char name[32];
	size_t len;
	char *text, *save = NULL;
	uint32_t n = 0;

	snprintf(name, sizeof(name), "ethtool_%s.txt", t);
	text = (char *)fixture(name, &len);
	text = realloc(text, len + 1);
	cr_assert_not_null(text);
	text[len] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strrchr(line, ':');

		if (!colon || !colon[1] || n == max)
			continue; /* the "NIC statistics:" header */
		v[n++] = strtoull(colon + 1, NULL, 10);
	}
	free(text);
	return n;
}

Test(linkstats, ethtool_counters_written_when_nonzero_then_when_changed)
{
	uint64_t v0[256], v1[256];
	uint32_t n0 = ethtool_values("t0", v0, 256), n1 = ethtool_values("t1", v1, 256);
	uint32_t idx[256], k, nonzero = 0, changed = 0;

	cr_assert_gt(n0, 5);
	cr_assert_eq(n0, n1);
	for (uint32_t i = 0; i < n0; i++) {
		nonzero += v0[i] != 0;
		changed += v0[i] != v1[i];
	}
	cr_assert_gt(nonzero, 0, "peer_ifindex at least");
	k = np_ethtool_changed(v0, NULL, n0, false, idx);
	cr_assert_eq(k, nonzero);
	for (uint32_t i = 0; i < k; i++)
		cr_assert_neq(v0[idx[i]], 0);
	k = np_ethtool_changed(v1, v0, n0, true, idx);
	cr_assert_eq(k, changed);
	for (uint32_t i = 0; i < k; i++)
		cr_assert_neq(v0[idx[i]], v1[idx[i]]);
	/* a counter going to zero is a change too */
	v1[0] = v0[0] + 1;
	k = np_ethtool_changed(v0, v1, n0, true, idx);
	cr_assert_geq(k, 1);
	cr_assert_eq(idx[0], 0);
}
