/* test_cgcpu.c - finding the target's cpu controller cgroup (v1, hybrid,
 * v2) and reading its quota and throttling, on fixture proc roots and on
 * malformed text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "profiler/collect/cgcpu.h"
#include "testutil.h"

Test(cgcpu, proc_cgroup_prefers_the_v1_cpu_controller)
{
	char path[128];
	uint32_t v = 0;

	cr_assert_eq(np_cgcpu_parse_proc_cgroup("4:memory:/a\n3:cpu,cpuacct:/b/c\n0::/d\n", &v,
						path, sizeof(path)),
		     0);
	cr_assert_eq(v, NP_CGCPU_V1);
	cr_assert_str_eq(path, "/b/c");
	/* cpuacct alone is not the cpu controller */
	cr_assert_eq(np_cgcpu_parse_proc_cgroup("2:cpuacct:/x\n0::/d", &v, path, sizeof(path)), 0);
	cr_assert_eq(v, NP_CGCPU_V2);
	cr_assert_str_eq(path, "/d");
	cr_assert_eq(np_cgcpu_parse_proc_cgroup("garbage\n2:cpuset\n", &v, path, sizeof(path)),
		     -ENOENT);
	cr_assert_eq(np_cgcpu_parse_proc_cgroup("", &v, path, sizeof(path)), -ENOENT);
}

Test(cgcpu, stat_max_and_v1_files)
{
	struct np_rec_cgroup_cpu r = {0};
	uint64_t q, p;

	cr_assert_eq(np_cgcpu_parse_stat("nr_periods 5\nnr_throttled 2\nthrottled_usec 7\n", &r),
		     0);
	cr_assert_eq(r.nr_periods, 5);
	cr_assert_eq(r.nr_throttled, 2);
	cr_assert_eq(r.throttled_ns, 7000);
	cr_assert_eq(np_cgcpu_parse_stat("usage_usec 5\n", &r), -ENOENT);
	cr_assert_eq(np_cgcpu_parse_max("max 100000\n", &q, &p), 0);
	cr_assert_eq(q, NP_CGCPU_NO_LIMIT);
	cr_assert_eq(p, 100000);
	cr_assert_eq(np_cgcpu_parse_max("20000 50000", &q, &p), 0);
	cr_assert_eq(q, 20000);
	cr_assert_eq(np_cgcpu_parse_max("20000", &q, &p), -EINVAL);
	cr_assert_eq(np_cgcpu_parse_max("-5 100", &q, &p), -EINVAL);
	cr_assert_eq(np_cgcpu_parse_v1("-1\n", "100000\n", &q, &p), 0);
	cr_assert_eq(q, NP_CGCPU_NO_LIMIT);
	cr_assert_eq(np_cgcpu_parse_v1("x", "100000", &q, &p), -EINVAL);
	cr_assert_eq(np_cgcpu_parse_v1("10", "0", &q, &p), -EINVAL);
}

Test(cgcpu, hybrid_host_reads_the_v1_cpu_hierarchy)
{
	char root[PATH_MAX];
	struct np_cgcpu cg;
	struct np_rec_cgroup_cpu r;

	t_pathf(root, "%s/cgroup/hybrid", t_fixtures());
	cr_assert_eq(np_cgcpu_open(root, 42, &cg), 0);
	cr_assert_eq(cg.version, NP_CGCPU_V1);
	cr_assert_str_eq(cg.path, "/netprof-test/svc");
	cr_assert(strstr(cg.dir, "/sys/fs/cgroup/cpu,cpuacct/netprof-test/svc"), "%s", cg.dir);
	cr_assert_eq(np_cgcpu_read(&cg, &r), 0);
	cr_assert_eq(r.quota_us, 20000);
	cr_assert_eq(r.period_us, 100000);
	cr_assert_eq(r.nr_periods, 82);
	cr_assert_eq(r.nr_throttled, 80);
	cr_assert_eq(r.throttled_ns, 6400000000ull);
	cr_assert_eq(np_cgcpu_open(root, 43, &cg), -ENOENT);
}

Test(cgcpu, v2_host_reads_cpu_max)
{
	char root[PATH_MAX];
	struct np_cgcpu cg;
	struct np_rec_cgroup_cpu r;

	t_pathf(root, "%s/cgroup/v2", t_fixtures());
	cr_assert_eq(np_cgcpu_open(root, 42, &cg), 0);
	cr_assert_eq(cg.version, NP_CGCPU_V2);
	cr_assert_str_eq(cg.path, "/system.slice/web.service");
	cr_assert_eq(np_cgcpu_read(&cg, &r), 0);
	cr_assert_eq(r.quota_us, 50000);
	cr_assert_eq(r.period_us, 100000);
	cr_assert_eq(r.nr_throttled, 10);
	cr_assert_eq(r.throttled_ns, 350000000ull);
}

Test(cgcpu, mountinfo_root_and_missing_hierarchy)
{
	char mnt[128], root[128];
	const char *mi = "30 22 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

	cr_assert_eq(np_cgcpu_parse_mountinfo(mi, NP_CGCPU_V2, mnt, sizeof(mnt), root,
					      sizeof(root)),
		     0);
	cr_assert_str_eq(mnt, "/sys/fs/cgroup");
	cr_assert_str_eq(root, "/docker/abc");
	cr_assert_eq(np_cgcpu_parse_mountinfo(mi, NP_CGCPU_V1, mnt, sizeof(mnt), root,
					      sizeof(root)),
		     -ENOENT);
	cr_assert_eq(np_cgcpu_parse_mountinfo("short line\n", NP_CGCPU_V2, mnt, sizeof(mnt), root,
					      sizeof(root)),
		     -ENOENT);
}
