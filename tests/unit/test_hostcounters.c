/* test_hostcounters.c - the host counters collector (profiler/net/
 * hostcounters.c) pointed at /proc trees captured on the development VM
 * (tests/fixtures/host: before and after 64 MB over loopback, see its
 * README) and at the edited softnet_stat of a 32-bit wrap
 * (tests/fixtures/net/wrapped).  The collector writes into a real
 * recording; the test reads the records back and checks them against the
 * parsers' reading of the same files: per-CPU counters unwrapped into
 * running totals, ticks into ns, an snmp sample only when a counter moved,
 * and the files it could not open named. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/format/recording.h"
#include "profiler/net/netcoll.h"
#include "profiler/net/netparse.h"
#include "testutil.h"

#define MS 1000000ull
#define PID 4242

static char tmp[PATH_MAX], root[PATH_MAX], rec_path[PATH_MAX];

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(root, "%s/root", tmp);
	t_pathf(rec_path, "%s/rec.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(hostcounters, .init = setup, .fini = teardown);

/* The interface collector (netdev.c, libnl) is not linked: the IRQ hints
 * of interfaces are not under test here, so there are none. */
void np_netdev_for_each(struct np_netdev *d, np_netdev_iface_cb cb, void *arg)
{
	(void)d;
	(void)cb;
	(void)arg;
}

unsigned int np_netdev_generation(const struct np_netdev *d)
{
	(void)d;
	return 0;
}

/* Replaces the content of one file of the tree in place (same inode: the
 * collector keeps its files open and re-reads them from offset 0). */
static void put(const char *rel, const char *src)
{
	char dst[PATH_MAX];
	size_t len;
	uint8_t *data = t_read_file(src, &len);
	FILE *f;

	t_pathf(dst, "%s/%s", root, rel);
	f = fopen(dst, "w");
	cr_assert_not_null(f, "%s", dst);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
}

static char *text(const char *path)
{
	size_t len;
	uint8_t *data = t_read_file(path, &len);
	char *s = realloc(data, len + 1);

	s[len] = '\0';
	return s;
}

static struct np_writer *open_writer(void)
{
	struct np_writer *w;

	cr_assert_eq(np_writer_open(rec_path, &w), 0);
	cr_assert_eq(np_writer_meta(w, "test", "hostcounters"), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	return w;
}

static struct np_recording *close_and_read(struct np_writer *w)
{
	struct np_recording *rec;
	char err[256];

	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(rec_path, &rec, err, sizeof(err)), 0, "%s", err);
	return rec;
}

static struct np_host *init_host(struct np_writer *w)
{
	struct np_netns ns = {.self_fd = -1, .target_fd = -1, .same = true};
	struct np_host *h = NULL;
	char err[256] = "";

	cr_assert_eq(np_host_init(&ns, root, PID, w, 0, &h, err, sizeof(err)), 0, "%s", err);
	return h;
}

static void snmp_value(const char *group, const char *name, int64_t value, void *arg)
{
	const char *const *want = arg;

	if (!strcmp(group, want[0]) && !strcmp(name, want[1]))
		*(int64_t *)(void *)want[2] = value;
}

/* group/name's value in a captured snmp file, parsed on its own. */
static int64_t snmp_in(const char *path, const char *group, const char *name)
{
	int64_t v = -1;
	const char *want[3] = {group, name, (const char *)&v};
	char *s = text(path);

	cr_assert_gt(np_parse_snmp(s, snmp_value, want), 0);
	free(s);
	return v;
}

Test(hostcounters, captured_polls_give_running_totals_and_one_snmp_sample_per_change)
{
	char t0[PATH_MAX], t1[PATH_MAX], p[PATH_MAX];
	struct np_softnet_row r0[8], r1[8];
	struct np_writer *w;
	struct np_host *h;
	struct np_recording *rec;
	const struct np_rec_netcpu_sample *cs;
	const struct np_rec_snmp_sample *ss;
	size_t n_cs, n_ss;
	int n0, n1, in_segs = np_snmp_index("Tcp", "InSegs");
	long tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
	struct np_cpu_ticks st[8];
	char *s;
	const char *files[] = {
		"proc/net/softnet_stat", "proc/softirqs",      "proc/stat",
		"proc/interrupts",       "proc/4242/net/snmp", "proc/4242/net/netstat"};

	t_pathf(t0, "%s/host/t0", t_fixtures());
	t_pathf(t1, "%s/host/t1", t_fixtures());
	t_copytree(t0, root);
	w = open_writer();
	h = init_host(w);
	cr_assert_eq(np_host_poll(h, w, 100 * MS), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		t_pathf(p, "%s/%s", t1, files[i]);
		put(files[i], p);
	}
	cr_assert_eq(np_host_poll(h, w, 200 * MS), 0);
	cr_assert_eq(np_host_poll(h, w, 300 * MS), 0); /* nothing moved */
	np_host_free(h);
	rec = close_and_read(w);

	t_pathf(p, "%s/proc/net/softnet_stat", t0);
	s = text(p);
	n0 = np_parse_softnet(s, r0, 8);
	free(s);
	t_pathf(p, "%s/proc/net/softnet_stat", t1);
	s = text(p);
	n1 = np_parse_softnet(s, r1, 8);
	free(s);
	cr_assert_gt(n0, 0);
	cr_assert_eq(n0, n1);

	cs = np_recording_records(rec, NP_BLK_NETCPU_SAMPLE, &n_cs);
	cr_assert_eq(n_cs, 3 * (size_t)n0, "one sample per CPU per poll");
	for (int c = 0; c < n0; c++) {
		const struct np_rec_netcpu_sample *a = &cs[c], *b = &cs[n0 + c];

		cr_assert_eq(a->cpu, r0[c].cpu);
		cr_assert_eq(a->ts_ns, 100 * MS);
		cr_assert_eq(b->ts_ns, 200 * MS);
		cr_assert_eq(a->processed, r0[c].processed);
		cr_assert_eq(b->processed, a->processed + (r1[c].processed - r0[c].processed));
		cr_assert(a->have & NP_CPU_SOFTNET);
		cr_assert(a->have & NP_CPU_SOFTIRQS);
		cr_assert(a->have & NP_CPU_STAT);
	}
	/* the loopback transfer went through the CPUs' backlogs */
	{
		uint64_t before = 0, after = 0;

		for (int c = 0; c < n0; c++) {
			before += cs[c].processed;
			after += cs[n0 + c].processed;
		}
		cr_assert_gt(after, before + 100);
	}
	t_pathf(p, "%s/proc/stat", t1);
	s = text(p);
	cr_assert_eq(np_parse_proc_stat(s, st, 8), n1);
	free(s);
	cr_assert_eq(cs[n0].user_ns, st[0].user * (uint64_t)tick_ns);
	cr_assert_eq(cs[n0].softirq_ns, st[0].softirq * (uint64_t)tick_ns);

	ss = np_recording_records(rec, NP_BLK_SNMP_SAMPLE, &n_ss);
	cr_assert_eq(n_ss, 2, "the third poll changed nothing and wrote no snmp sample");
	cr_assert_geq(in_segs, 0);
	cr_assert(ss[0].present & (1ull << in_segs));
	t_pathf(p, "%s/proc/4242/net/snmp", t0);
	cr_assert_eq(ss[0].v[in_segs], (uint64_t)snmp_in(p, "Tcp", "InSegs"));
	t_pathf(p, "%s/proc/4242/net/snmp", t1);
	cr_assert_eq(ss[1].v[in_segs], (uint64_t)snmp_in(p, "Tcp", "InSegs"));
	cr_assert_gt(ss[1].v[in_segs], ss[0].v[in_segs] + 500, "64 MB of segments");
	np_recording_free(rec);
}

/* processed and dropped wrap 32 bits between two polls: the running
 * totals go on past 2^32. */
Test(hostcounters, softnet_counters_are_unwrapped_across_polls)
{
	char p[PATH_MAX];
	struct np_writer *w;
	struct np_host *h;
	struct np_recording *rec;
	const struct np_rec_netcpu_sample *cs;
	size_t n;

	t_pathf(p, "%s/net/wrapped/a", t_fixtures());
	t_copytree(p, root);
	w = open_writer();
	h = init_host(w);
	cr_assert_eq(np_host_poll(h, w, 100 * MS), 0);
	t_pathf(p, "%s/net/wrapped/b/proc/net/softnet_stat", t_fixtures());
	put("proc/net/softnet_stat", p);
	cr_assert_eq(np_host_poll(h, w, 200 * MS), 0);
	np_host_free(h);
	rec = close_and_read(w);
	cs = np_recording_records(rec, NP_BLK_NETCPU_SAMPLE, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(cs[0].processed, 0xfffffff0u);
	cr_assert_eq(cs[1].processed, 0x100000010ull);
	cr_assert_eq(cs[0].dropped, 0xfffffffeu);
	cr_assert_eq(cs[1].dropped, 0x100000003ull);
	cr_assert_eq(cs[1].time_squeeze, 0x12);
	cr_assert(cs[1].have & NP_CPU_SOFTNET);
	cr_assert_eq(cs[1].have & (NP_CPU_SOFTIRQS | NP_CPU_STAT), 0, "no other file in this tree");
	np_recording_free(rec);
}

Test(hostcounters, missing_files_are_named_and_none_is_an_error)
{
	char p[PATH_MAX], missing[512];
	struct np_writer *w;
	struct np_host *h;
	struct np_netns ns = {.self_fd = -1, .target_fd = -1, .same = true};
	char err[256] = "";

	t_pathf(p, "%s/net/missing", t_fixtures());
	t_copytree(p, root);
	w = open_writer();
	h = init_host(w);
	cr_assert_eq(np_host_status(h, false, missing, sizeof(missing)), 2);
	cr_assert_str_eq(missing, "/proc/softirqs, /proc/stat");
	cr_assert_eq(np_host_status(h, true, missing, sizeof(missing)), 4);
	cr_assert_not_null(strstr(missing, "/proc/PID/net/snmp"));
	np_host_free(h);
	h = NULL;
	t_pathf(p, "%s/empty", tmp);
	t_mkdirs(p);
	cr_assert_eq(np_host_init(&ns, p, PID, w, 0, &h, err, sizeof(err)), -ENOENT);
	cr_assert_null(h);
	cr_assert_not_null(strstr(err, "none of the /proc counter files"), "%s", err);
	np_writer_free(w);
}
