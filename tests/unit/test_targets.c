/* test_targets.c - the pid list parser, the cgroup v2 mount, and --cgroup,
 * --unit and --container resolution on a fake tree (a proc root whose
 * mountinfo points the v2 mount into a temporary directory). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "profiler/collect/targets.h"
#include "testutil.h"

static char tmp[PATH_MAX];

static void setup(void)
{
	tmp[0] = '\0';
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(targets, .init = setup, .fini = teardown);

Test(targets, pid_lists)
{
	pid_t pids[4];
	size_t n = 0;

	cr_assert(np_parse_pid_list("12", pids, &n, 4));
	cr_assert(np_parse_pid_list("13,14", pids, &n, 4));
	cr_assert_eq(n, 3);
	cr_assert_eq(pids[0], 12);
	cr_assert_eq(pids[2], 14);
	n = 0;
	cr_assert_not(np_parse_pid_list("12,x", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("12,,13", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("-1", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("0", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("1,2,3,4,5", pids, &n, 4));
	n = 0;
	cr_assert_not(np_parse_pid_list("12,", pids, &n, 4));
}

/* tmp/root/proc/self/mountinfo with cgroup2 at `mnt`; tmp/root<mnt> made. */
static void fake_host(const char *mnt)
{
	char path[PATH_MAX], line[PATH_MAX + 128];

	t_mkdtemp(tmp);
	t_pathf(path, "%s/root/proc/self", tmp);
	t_mkdirs(path);
	snprintf(line, sizeof(line),
		 "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		 "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		 "40 30 0:37 / %s rw,relatime - cgroup2 cgroup2 rw\n",
		 mnt);
	t_pathf(path, "%s/root/proc/self/mountinfo", tmp);
	t_write_file(path, line, strlen(line));
	t_pathf(path, "%s/root%s", tmp, mnt);
	t_mkdirs(path);
}

static void fake_cgroup(const char *mnt, const char *rel, const char *procs)
{
	char path[PATH_MAX];

	t_pathf(path, "%s/root%s/%s", tmp, mnt, rel);
	t_mkdirs(path);
	t_pathf(path, "%s/root%s/%s/cgroup.procs", tmp, mnt, rel);
	t_write_file(path, procs, strlen(procs));
}

Test(targets, finds_the_v2_mount_on_a_hybrid_host)
{
	char root[PATH_MAX], out[PATH_MAX], want[PATH_MAX];

	fake_host("/sys/fs/cgroup/unified");
	t_pathf(root, "%s/root", tmp);
	cr_assert_eq(np_cgroup2_mount(root, out, sizeof(out)), 0);
	t_pathf(want, "%s/sys/fs/cgroup/unified", root);
	cr_assert_str_eq(out, want);
}

static int resolve(const struct np_target_spec *spec, struct np_targetset *ts, char *err)
{
	static char root[PATH_MAX]; /* ts keeps a pointer to it */

	t_pathf(root, "%s/root", tmp);
	return np_targets_resolve(root, spec, ts, err, 512);
}

Test(targets, bad_cgroup_targets_are_one_line)
{
	struct np_targetset ts;
	char err[512];

	fake_host("/sys/fs/cgroup");
	fake_cgroup("/sys/fs/cgroup", "empty", "");
	fake_cgroup("/sys/fs/cgroup", "a/docker-abcdef1234.scope", "");
	fake_cgroup("/sys/fs/cgroup", "b/docker-abcdef5678.scope", "");

	struct np_target_spec empty = {.cgroup = "empty"};
	cr_assert_eq(resolve(&empty, &ts, err), -EINVAL);
	cr_assert(strstr(err, "holds no process"), "%s", err);
	np_targets_fini(&ts);

	struct np_target_spec unit = {.unit = "nope"};
	cr_assert_eq(resolve(&unit, &ts, err), -EINVAL);
	cr_assert(strstr(err, "no systemd unit nope.service"), "%s", err);
	np_targets_fini(&ts);

	struct np_target_spec two = {.container = "abcdef"};
	cr_assert_eq(resolve(&two, &ts, err), -EINVAL);
	cr_assert(strstr(err, "matches 2 cgroups"), "%s", err);
	np_targets_fini(&ts);

	struct np_target_spec none = {.container = "0123456789"};
	cr_assert_eq(resolve(&none, &ts, err), -EINVAL);
	cr_assert(strstr(err, "no cgroup holds container id"), "%s", err);
	np_targets_fini(&ts);

	/* one match: resolved (and empty, which is refused as such) */
	struct np_target_spec one = {.container = "abcdef1234"};
	cr_assert_eq(resolve(&one, &ts, err), -EINVAL);
	cr_assert(strstr(err, "holds no process"), "%s", err);
	cr_assert_str_eq(ts.cgroup_name, "/a/docker-abcdef1234.scope");
	np_targets_fini(&ts);
	cr_assert(!strchr(err, '\n'));
}

Test(targets, units_in_the_system_and_user_slices)
{
	struct np_targetset ts;
	char err[512];

	fake_host("/sys/fs/cgroup/unified");
	fake_cgroup("/sys/fs/cgroup/unified", "system.slice/web.service", "");
	fake_cgroup("/sys/fs/cgroup/unified",
		    "user.slice/user-1000.slice/user@1000.service/app.slice/api.service", "");

	struct np_target_spec sys = {.unit = "web"};
	resolve(&sys, &ts, err);
	cr_assert_str_eq(ts.cgroup_name, "/system.slice/web.service");
	np_targets_fini(&ts);

	struct np_target_spec user = {.unit = "api.service"};
	resolve(&user, &ts, err);
	cr_assert_str_eq(ts.cgroup_name,
			 "/user.slice/user-1000.slice/user@1000.service/app.slice/api.service");
	np_targets_fini(&ts);
}
