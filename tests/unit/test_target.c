/* test_target.c - np_target_open and thread tracking on the fixture tree.
 * Tests that change the tree work on a copy in a temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profiler/collect/target.h"
#include "testutil.h"

static char fixture_root[PATH_MAX];
static char tmp[PATH_MAX];

static void setup(void)
{
	t_pathf(fixture_root, "%s/proc", t_fixtures());
	tmp[0] = '\0';
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(target, .init = setup, .fini = teardown);

/* A private copy of the fixture tree at tmp/<sub>; returns its root. */
static const char *copy_fixture(const char *sub, char *root, size_t len)
{
	t_mkdtemp(tmp);
	(void)len;
	t_pathf(root, "%s/%s", tmp, sub);
	t_copytree(fixture_root, root);
	return root;
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];

	t_pathf(path, "%s/%s", root, rel);
	t_write_file(path, text, strlen(text));
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

Test(target, opens_real_capture)
{
	struct np_target t;
	char err[256] = "";

	cr_assert_eq(np_target_open(fixture_root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.pid, 4995);
	cr_assert_str_eq(t.comm, "python3");
	cr_assert_str_eq(t.cmdline, "/root/.pyenv/versions/3.11.7/bin/python3 -m http.server 18080 "
				    "--bind 127.0.0.1");
	cr_assert_eq(t.threads, 1);
	cr_assert_eq(t.starttime, 148703u);
	cr_assert_str_eq(t.exe, "", "no exe link in the fixture");
}

Test(target, refuses_kernel_thread)
{
	struct np_target t;
	char err[256] = "";

	cr_assert_lt(np_target_open(fixture_root, 2, &t, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "kernel thread"), "err: %s", err);
	cr_assert_null(strchr(err, '\n'));
}

Test(target, refuses_zombie)
{
	struct np_target t;
	char err[256] = "";

	cr_assert_eq(np_target_open(fixture_root, 777, &t, err, sizeof(err)), -ESRCH);
	cr_assert_not_null(strstr(err, "zombie"), "err: %s", err);
	cr_assert_not_null(strstr(err, "my) (app"), "names the process: %s", err);
}

Test(target, refuses_missing_process)
{
	struct np_target t;
	char err[256] = "";

	cr_assert_eq(np_target_open(fixture_root, 99999, &t, err, sizeof(err)), -ESRCH);
	cr_assert_not_null(strstr(err, "no process"), "err: %s", err);
	cr_assert_not_null(strstr(err, "99999"), "err: %s", err);
}

Test(target, refuses_unparseable_stat)
{
	char root[PATH_MAX], err[256] = "";
	struct np_target t;

	copy_fixture("r", root, sizeof(root));
	put(root, "proc/4995/stat", "4995 (python3");
	cr_assert_eq(np_target_open(root, 4995, &t, err, sizeof(err)), -EINVAL);
	cr_assert_gt(strlen(err), 0);
}

Test(target, cmdline_empty_and_oversized)
{
	char root[PATH_MAX], path[PATH_MAX], err[256] = "";
	struct np_target t;
	char *big = malloc(10001);

	copy_fixture("r", root, sizeof(root));
	put(root, "proc/4995/cmdline", "");
	cr_assert_eq(np_target_open(root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(t.cmdline, "");

	for (int i = 0; i < 10000; i++)
		big[i] = i % 2 ? '\0' : 'a';
	big[10000] = '\0';
	t_pathf(path, "%s/proc/4995/cmdline", root);
	t_write_file(path, big, 10000);
	cr_assert_eq(np_target_open(root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(t.cmdline), sizeof(t.cmdline) - 1);
	cr_assert_eq(strspn(t.cmdline, "a "), sizeof(t.cmdline) - 1, "NULs became spaces");
	free(big);
}

static void add_links(const char *root)
{
	char path[PATH_MAX];

	t_pathf(path, "%s/proc/4995/exe", root);
	cr_assert_eq(symlink("/usr/bin/python3.11", path), 0);
	t_pathf(path, "%s/proc/4995/ns", root);
	t_mkdirs(path);
	t_pathf(path, "%s/proc/4995/ns/net", root);
	cr_assert_eq(symlink("net:[4026531840]", path), 0);
}

Test(target, reads_exe_and_netns_links)
{
	char root[PATH_MAX], err[256] = "";
	struct np_target t;

	copy_fixture("r", root, sizeof(root));
	add_links(root);
	cr_assert_eq(np_target_open(root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(t.exe, "/usr/bin/python3.11");
	cr_assert_str_eq(t.netns, "net:[4026531840]");
}

/* The root is a parameter so that tests (and a containerised host /proc)
 * can point elsewhere: a long root must work as well as "/". */
Test(target, reads_exe_and_netns_links_under_a_long_root)
{
	char root[PATH_MAX], err[256] = "";
	struct np_target t;

	copy_fixture("a-rather-long-directory-name/holding-a-copy-of-the-proc-fixture", root,
		     sizeof(root));
	add_links(root);
	cr_assert_eq(np_target_open(root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(t.exe, "/usr/bin/python3.11", "exe link under %s (%zu bytes) not read",
			 root, strlen(root));
	cr_assert_str_eq(t.netns, "net:[4026531840]");
}

Test(target, alive_tells_reused_pid_and_zombie_apart)
{
	struct np_target t;
	char err[256] = "";

	cr_assert_eq(np_target_open(fixture_root, 4995, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert(np_target_alive(fixture_root, &t));
	t.starttime++;
	cr_assert_not(np_target_alive(fixture_root, &t), "a reused pid is another process");
	t.pid = 777;
	t.starttime = 148703;
	cr_assert_not(np_target_alive(fixture_root, &t), "a zombie is not alive");
	t.pid = 99999;
	cr_assert_not(np_target_alive(fixture_root, &t));
}

Test(target, threads_poll_finds_both_threads)
{
	struct np_threads th;
	struct np_thread *a, *b;

	cr_assert_eq(np_threads_init(&th, fixture_root, 888, 1000), 0);
	cr_assert_eq(np_threads_poll(&th, 1000), 0);
	cr_assert_eq(th.n, 2);
	a = np_threads_find(&th, 888);
	b = np_threads_find(&th, 889);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_str_eq(a->comm, "web worker");
	cr_assert_str_eq(b->comm, "worker:1");
	cr_assert_eq(a->on_ns, 500000000u);
	cr_assert_eq(a->runq_ns, 20000000u);
	cr_assert_eq(b->on_ns, 300000000u);
	cr_assert_eq(b->runq_ns, 100000000u);
	/* present when the window opened: counted from there */
	cr_assert_eq(a->base_on_ns, 500000000u);
	cr_assert_eq(b->base_runq_ns, 100000000u);
	cr_assert_eq(a->first_ns, 1000u);
	cr_assert_not(a->exited);
	cr_assert_not(b->exited);
	cr_assert_not(a->no_sched);
	cr_assert_null(np_threads_find(&th, 890));
	np_threads_fini(&th);
	cr_assert_null(th.v);
	np_threads_fini(&th); /* twice is fine */
}

Test(target, threads_poll_on_missing_process_fails)
{
	struct np_threads th;

	np_threads_init(&th, fixture_root, 99999, 0);
	cr_assert_eq(np_threads_poll(&th, 1), -ENOENT);
	np_threads_fini(&th);
}

Test(target, thread_removed_between_polls_is_marked_exited)
{
	char root[PATH_MAX], path[PATH_MAX];
	struct np_threads th;
	struct np_thread *t;

	copy_fixture("r", root, sizeof(root));
	np_threads_init(&th, root, 888, 1000);
	cr_assert_eq(np_threads_poll(&th, 1000), 0);
	put(root, "proc/888/task/888/schedstat", "600000000 25000000 120\n");
	t_pathf(path, "%s/proc/888/task/889", root);
	t_rmtree(path);
	cr_assert_eq(np_threads_poll(&th, 2000), 0);
	cr_assert_eq(th.n, 2, "the exited thread is kept");
	t = np_threads_find(&th, 889);
	cr_assert(t->exited);
	cr_assert_eq(t->last_ns, 1000u, "last seen on the first poll");
	t = np_threads_find(&th, 888);
	cr_assert_not(t->exited);
	cr_assert_eq(t->last_ns, 2000u);
	cr_assert_eq(t->on_ns, 600000000u);
	cr_assert_eq(t->base_on_ns, 500000000u);
	np_threads_fini(&th);
}

/* A thread born after the window opened has all its scheduler time inside
 * the window.  Its birth comes from starttime (CLOCK_BOOTTIME ticks), so
 * this also checks the BOOTTIME-MONOTONIC offset, which is 0 on a host that
 * never suspended. */
Test(target, thread_created_during_the_window_counts_from_zero)
{
	char root[PATH_MAX], dir[PATH_MAX], stat[512];
	struct np_threads th;
	struct np_thread *t;
	long ticks = sysconf(_SC_CLK_TCK);
	uint64_t start = clock_ns(CLOCK_MONOTONIC);
	/* born one tick from now, so after the window opened */
	uint64_t born_ticks = clock_ns(CLOCK_BOOTTIME) / (1000000000ull / (uint64_t)ticks) + 1;

	copy_fixture("r", root, sizeof(root));
	np_threads_init(&th, root, 888, start);
	cr_assert_eq(np_threads_poll(&th, start), 0);
	t_pathf(dir, "%s/proc/888/task/890", root);
	t_mkdirs(dir);
	snprintf(stat, sizeof(stat),
		 "890 (worker:2) S 1 4992 1164 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n",
		 (unsigned long long)born_ticks);
	put(root, "proc/888/task/890/stat", stat);
	put(root, "proc/888/task/890/schedstat", "7000000 1000000 3\n");
	cr_assert_eq(np_threads_poll(&th, start + 5000000000ull), 0);
	t = np_threads_find(&th, 890);
	cr_assert_not_null(t);
	cr_assert_str_eq(t->comm, "worker:2");
	cr_assert_eq(t->base_on_ns, 0, "all of its CPU time is inside the window");
	cr_assert_eq(t->base_runq_ns, 0);
	cr_assert_gt(t->first_ns, start);
	cr_assert_leq(t->first_ns, start + 5000000000ull);
	cr_assert_eq(t->on_ns, 7000000u);
	np_threads_fini(&th);
}

Test(target, old_thread_first_seen_late_counts_from_then)
{
	char root[PATH_MAX], path[PATH_MAX], src[PATH_MAX];
	struct np_threads th;
	struct np_thread *t;
	/* The fixture thread was born 1487 s after boot; open the window an
	 * hour after now so that is "long before" even on a host that booted
	 * a minute ago. */
	uint64_t start = clock_ns(CLOCK_MONOTONIC) + 3600ull * 1000000000ull;

	copy_fixture("r", root, sizeof(root));
	t_pathf(path, "%s/proc/888/task/889", root);
	t_rmtree(path);
	np_threads_init(&th, root, 888, start);
	cr_assert_eq(np_threads_poll(&th, start), 0);
	cr_assert_eq(th.n, 1);
	/* 889 reappears (fixture starttime is long before the window) */
	t_pathf(src, "%s/proc/888/task/889", fixture_root);
	t_copytree(src, path);
	cr_assert_eq(np_threads_poll(&th, start + 100), 0);
	t = np_threads_find(&th, 889);
	cr_assert_not_null(t);
	cr_assert_eq(t->first_ns, start + 100);
	cr_assert_eq(t->base_on_ns, 300000000u);
	np_threads_fini(&th);
}

Test(target, add_exited_thread_has_no_scheduler_times)
{
	struct np_threads th;
	struct np_thread *t;

	np_threads_init(&th, fixture_root, 888, 0);
	t = np_threads_add_exited(&th, 4242, "short-lived-thread-name", 10, 20);
	cr_assert_not_null(t);
	cr_assert_eq(t->tid, 4242);
	cr_assert_str_eq(t->comm, "short-lived-thr");
	cr_assert(t->exited);
	cr_assert(t->no_sched);
	cr_assert_eq(t->first_ns, 10);
	cr_assert_eq(t->last_ns, 20);
	cr_assert_eq(np_threads_find(&th, 4242), t);
	np_threads_fini(&th);
}
