/* test_nicerrors.c - the nic.errors rule on counters captured from this
 * VM's real NIC.
 *
 * No real NIC error can be made on the development VM: its one device is
 * virtio_net (a paravirtual NIC whose error counters the guest cannot
 * drive), the kernel is built without netdevsim (CONFIG_NETDEVSIM is not
 * set, and there are no loadable modules), and there is no physical NIC
 * (examples/scenarios/README.md, "nic.errors").  So the rule is tested on
 * the RTM_NEWLINK replies of eth0 recorded two seconds apart
 * (tests/fixtures/netdev/link_eth0_t*.bin, read only, see its README),
 * replayed through libnl as the interface collector reads them, written
 * into a recording as the collector writes them, and reported:
 * - as captured (no errors): no nic.errors finding above info;
 * - with rx_errors and rx_crc_errors raised by 250 from the middle of the
 *   window on (the captured values otherwise): a nic.errors verdict whose
 *   evidence is those 250 errors on eth0, in the windows where they came;
 * - with three carrier changes added: a nic.errors finding on the carrier.
 * Only the error fields are edited; traffic, bytes and everything else are
 * the device's own. */
#include <criterion/criterion.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/object.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "profiler/net/linkstats.h"
#include "report/attribution/findings.h"
#include "report/report.h"
#include "testutil.h"

#define MS 1000000ull
#define S (1000 * MS)
#define POLLS 10

static char tmp[PATH_MAX], path[PATH_MAX];

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/rec.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(nicerrors, .init = setup, .fini = teardown);

static void keep(struct nl_object *o, void *arg)
{
	nl_object_get(o);
	*(struct nl_object **)arg = o;
}

/* eth0's counters at t as the interface collector reads them. */
static struct np_rec_link_sample captured(const char *t)
{
	char p[PATH_MAX];
	size_t len;
	uint8_t *buf;
	struct nl_msg *msg;
	struct nl_object *o = NULL;
	struct np_rec_link_sample s;

	t_pathf(p, "%s/netdev/link_eth0_%s.bin", t_fixtures(), t);
	buf = t_read_file(p, &len);
	cr_assert_geq(len, NLMSG_HDRLEN);
	msg = nlmsg_convert((struct nlmsghdr *)(void *)buf);
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	cr_assert_geq(nl_msg_parse(msg, keep, &o), 0);
	cr_assert_not_null(o);
	cr_assert_str_eq(rtnl_link_get_name((struct rtnl_link *)o), "eth0");
	memset(&s, 0, sizeof(s));
	np_link_sample_fill((struct rtnl_link *)o, &s);
	nl_object_put(o);
	nlmsg_free(msg);
	free(buf);
	return s;
}

/* a + (b - a) * i / n for every counter of the sample. */
static struct np_rec_link_sample between(const struct np_rec_link_sample *a,
					 const struct np_rec_link_sample *b, int i, int n)
{
	struct np_rec_link_sample s = *a;
	const uint64_t *pa = (const uint64_t *)&a->rx_packets,
		       *pb = (const uint64_t *)&b->rx_packets;
	uint64_t *ps = (uint64_t *)&s.rx_packets;
	size_t k = (offsetof(struct np_rec_link_sample, rx_nohandler) -
		    offsetof(struct np_rec_link_sample, rx_packets)) /
			   sizeof(uint64_t) +
		   1;

	for (size_t j = 0; j < k; j++)
		ps[j] = pa[j] + (pb[j] - pa[j]) * (uint64_t)i / (uint64_t)n;
	return s;
}

enum edit { AS_CAPTURED, ERRORS, CARRIER };

static void build(enum edit how, struct np_recording **rec, struct np_report *r)
{
	struct np_rec_link_sample a = captured("t0"), b = captured("t1");
	struct np_rec_iface ifc;
	struct np_rec_end end = {.ts_ns = S + S, .reason = NP_END_DURATION};
	struct np_writer *w;
	char err[256];

	memset(&ifc, 0, sizeof(ifc));
	ifc.ts_ns = S;
	ifc.ifindex = 4;
	ifc.role = NP_IF_TARGET_NS | NP_IF_DEFAULT;
	ifc.flags = IFF_UP | IFF_RUNNING;
	ifc.mtu = 1500;
	snprintf(ifc.name, sizeof(ifc.name), "eth0");
	snprintf(ifc.driver, sizeof(ifc.driver), "virtio_net");
	snprintf(ifc.netns, sizeof(ifc.netns), "target");
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta_u64(w, "start_ns", S);
	np_writer_meta_u64(w, "poll_ms", 100);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	np_writer_block(w, NP_BLK_IFACE, sizeof(ifc), &ifc, 1);
	for (int i = 0; i < POLLS; i++) {
		struct np_rec_link_sample s = between(&a, &b, i, POLLS - 1);

		s.ts_ns = S + (uint64_t)i * 100 * MS;
		s.id = 0;
		if (how == ERRORS && i >= POLLS / 2) {
			s.rx_errors += 250;
			s.rx_crc_errors += 250;
		}
		if (how == CARRIER && i >= POLLS / 2)
			s.carrier_changes += 3;
		np_writer_block(w, NP_BLK_LINK_SAMPLE, sizeof(s), &s, 1);
	}
	np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(np_report_build(*rec, r, 10), 0);
}

static const struct np_finding *find(const struct np_report *r, const char *cause)
{
	cr_assert_not_null(r->an);
	for (size_t i = 0; i < r->an->n_findings; i++)
		if (!strcmp(r->an->findings[i].cause, cause))
			return &r->an->findings[i];
	return NULL;
}

static const struct np_evidence *evidence(const struct np_finding *f, const char *metric)
{
	for (size_t i = 0; i < f->n_ev; i++)
		if (!strcmp(f->ev[i].metric, metric))
			return &f->ev[i];
	return NULL;
}

Test(nicerrors, the_captured_device_has_no_errors_and_no_finding)
{
	struct np_rec_link_sample a = captured("t0"), b = captured("t1");
	struct np_recording *rec;
	struct np_report r;
	const struct np_finding *f;

	/* the capture is of a working NIC that carried traffic */
	cr_assert_gt(a.rx_packets, 0);
	cr_assert_geq(b.rx_packets, a.rx_packets);
	cr_assert_eq(b.rx_errors + b.tx_errors, 0);
	build(AS_CAPTURED, &rec, &r);
	cr_assert_eq(r.net.n_ifs, 1);
	cr_assert_eq(r.net.ifs[0].delta.rx_packets, b.rx_packets - a.rx_packets);
	cr_assert_eq(r.net.ifs[0].delta.rx_bytes, b.rx_bytes - a.rx_bytes);
	f = find(&r, "nic.errors");
	cr_assert(!f || f->severity < NP_SEV_WARNING, "%s", f ? f->summary : "");
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(nicerrors, errors_on_the_captured_counters_make_the_verdict)
{
	struct np_recording *rec;
	struct np_report r;
	const struct np_finding *f;
	const struct np_evidence *ev;

	build(ERRORS, &rec, &r);
	cr_assert_eq(r.net.ifs[0].delta.rx_errors, 250);
	f = find(&r, "nic.errors");
	cr_assert_not_null(f);
	cr_assert_geq(f->severity, NP_SEV_WARNING);
	cr_assert_str_eq(f->layer, "nic");
	cr_assert_not_null(r.an->verdict);
	cr_assert_str_eq(r.an->verdict->cause, "nic.errors");
	ev = evidence(f, "nic_errors");
	cr_assert_not_null(ev);
	cr_assert_float_eq(ev->value, 250, 1e-9);
	cr_assert_str_eq(ev->where, "eth0");
	cr_assert_not_null(strstr(f->summary, "eth0"), "%s", f->summary);
	np_report_fini(&r);
	np_recording_free(rec);
}

Test(nicerrors, carrier_changes_on_the_captured_counters_are_found)
{
	struct np_recording *rec;
	struct np_report r;
	const struct np_finding *f;
	const struct np_evidence *ev;

	build(CARRIER, &rec, &r);
	f = find(&r, "nic.errors");
	cr_assert_not_null(f);
	cr_assert_geq(f->severity, NP_SEV_WARNING);
	ev = evidence(f, "carrier_changes");
	cr_assert_not_null(ev);
	cr_assert_float_eq(ev->value, 3, 1e-9);
	cr_assert_str_eq(ev->where, "eth0");
	np_report_fini(&r);
	np_recording_free(rec);
}
