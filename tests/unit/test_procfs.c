/* test_procfs.c - /proc readers and parsers, on the fixture tree
 * (tests/fixtures/proc, see its README.md) and on damaged text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/procfs.h"
#include "testutil.h"

static char root[PATH_MAX];

static void setup(void)
{
	t_pathf(root, "%s/proc", t_fixtures());
}

TestSuite(procfs, .init = setup);

static void read_fixture(const char *rel, char *buf, size_t len)
{
	long n = np_read_text(root, rel, buf, len);

	cr_assert_gt(n, 0, "%s/%s: %ld", root, rel, n);
}

Test(procfs, parses_real_stat_capture)
{
	struct np_task_stat st;
	char buf[4096];

	read_fixture("proc/4995/stat", buf, sizeof(buf));
	cr_assert_eq(np_parse_task_stat(buf, &st), 0);
	cr_assert_str_eq(st.comm, "python3");
	cr_assert_eq(st.state, 'S');
	cr_assert_eq(st.flags, 4194304u);
	cr_assert_eq(st.flags & NP_PF_KTHREAD, 0);
	cr_assert_eq(st.num_threads, 1);
	cr_assert_eq(st.starttime, 148703u);
}

Test(procfs, parses_real_schedstat_capture)
{
	uint64_t on, runq;
	char buf[256];

	read_fixture("proc/4995/task/4995/schedstat", buf, sizeof(buf));
	cr_assert_eq(np_parse_schedstat(buf, &on, &runq), 0);
	cr_assert_eq(on, 147015989u);
	cr_assert_eq(runq, 171581727u);
}

Test(procfs, comm_containing_close_paren_space_open_paren)
{
	struct np_task_stat st;
	char buf[4096];

	read_fixture("proc/777/stat", buf, sizeof(buf));
	cr_assert_eq(np_parse_task_stat(buf, &st), 0);
	cr_assert_str_eq(st.comm, "my) (app");
	cr_assert_eq(st.state, 'Z');
	cr_assert_eq(st.starttime, 148703u);
}

Test(procfs, comm_with_space_and_thread_count)
{
	struct np_task_stat st;
	char buf[4096];

	read_fixture("proc/888/stat", buf, sizeof(buf));
	cr_assert_eq(np_parse_task_stat(buf, &st), 0);
	cr_assert_str_eq(st.comm, "web worker");
	cr_assert_eq(st.num_threads, 2);
}

Test(procfs, kernel_thread_flag)
{
	struct np_task_stat st;
	char buf[4096];

	read_fixture("proc/2/stat", buf, sizeof(buf));
	cr_assert_eq(np_parse_task_stat(buf, &st), 0);
	cr_assert_str_eq(st.comm, "kthreadd");
	cr_assert_neq(st.flags & NP_PF_KTHREAD, 0);
}

Test(procfs, zombie_state)
{
	struct np_task_stat st;

	cr_assert_eq(np_parse_task_stat("42 (dead) Z 1 1 1 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 "
					"99 0 0\n",
					&st),
		     0);
	cr_assert_eq(st.state, 'Z');
	cr_assert_eq(st.starttime, 99u);
}

Test(procfs, comm_is_truncated_to_fifteen_bytes)
{
	struct np_task_stat st;

	cr_assert_eq(np_parse_task_stat("5 (abcdefghijklmnopqrstuvwxyz) R 1 1 1 0 -1 64 0 0 0 0 0 "
					"0 "
					"0 0 20 0 3 0 7 0 0\n",
					&st),
		     0);
	cr_assert_str_eq(st.comm, "abcdefghijklmno");
	cr_assert_eq(st.num_threads, 3);
	cr_assert_eq(st.starttime, 7u);
	cr_assert_eq(np_parse_task_stat("5 () R 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 3 0 7 0 0", &st),
		     0);
	cr_assert_str_eq(st.comm, "");
}

Test(procfs, garbage_stat_is_rejected)
{
	const char *bad[] = {
		"",
		"garbage",
		"1 (x",
		"1 x) S 1 2 3 4 5 6",
		"1 )x( S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
		"1 (x)",
		"1 (x) ",
		"1 (x) S",
		"1 (x) S 1 1 1 0 -1",
		"1 (x) S 1 1 1 0 -1 flags 0 0 0 0 0 0 0 0 20 0 1 0 5",
		"1 (x) S 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 many 0 5",
		"1 (x) S 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0",
		"1 (x) S 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 -5",
		"1 (x) S 1 1 1 0 -1 99999999999999999999999 0 0 0 0 0 0 0 0 20 0 1 0 5",
		"1 (x) S 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999",
	};
	struct np_task_stat st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(np_parse_task_stat(bad[i], &st), -EINVAL, "accepted \"%s\"", bad[i]);
}

/* A read cut anywhere before the last field we need is rejected; never a
 * crash or a read past the NUL (ASan checks the exact-size copies). */
Test(procfs, stat_cut_at_every_length)
{
	char full[4096];
	size_t len, need;
	const char *p;
	struct np_task_stat st;

	read_fixture("proc/4995/stat", full, sizeof(full));
	len = strlen(full);
	/* starttime is field 22: after ") S" come fields 4..22 */
	p = strrchr(full, ')') + 2;
	for (int f = 3; f < 22; f++)
		p = strchr(p, ' ') + 1;
	need = (size_t)(p - full); /* offset of starttime's first digit */
	for (size_t cut = 0; cut <= len; cut++) {
		char *b = malloc(cut + 1);
		int rc;

		memcpy(b, full, cut);
		b[cut] = '\0';
		rc = np_parse_task_stat(b, &st);
		if (cut <= need)
			cr_assert_eq(rc, -EINVAL, "cut at %zu of %zu accepted", cut, len);
		else
			cr_assert_eq(rc, 0, "cut at %zu of %zu rejected", cut, len);
		free(b);
	}
}

Test(procfs, schedstat_good_forms)
{
	uint64_t on = 1, runq = 1;

	cr_assert_eq(np_parse_schedstat("1 2 3\n", &on, &runq), 0);
	cr_assert_eq(on, 1);
	cr_assert_eq(runq, 2);
	cr_assert_eq(np_parse_schedstat("18446744073709551615 0 0\n", &on, &runq), 0);
	cr_assert_eq(on, UINT64_MAX);
	cr_assert_eq(runq, 0);
	cr_assert_eq(np_parse_schedstat("  7 8", &on, &runq), 0);
	cr_assert_eq(on, 7);
	cr_assert_eq(runq, 8);
}

Test(procfs, truncated_or_garbage_schedstat_is_rejected)
{
	const char *bad[] = {"",
			     "\n",
			     "123",
			     "123 ",
			     "123\n",
			     "abc 456 1",
			     "-1 5 1",
			     "5 -1 1",
			     "1x 2 3",
			     "18446744073709551616 1 1",
			     "1 18446744073709551616 1",
			     " "};
	uint64_t on, runq;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(np_parse_schedstat(bad[i], &on, &runq), -EINVAL, "accepted \"%s\"",
			     bad[i]);
}

Test(procfs, read_text_reads_below_root)
{
	char buf[256];
	long n = np_read_text(root, "proc/888/task/889/schedstat", buf, sizeof(buf));

	cr_assert_eq(n, (long)strlen("300000000 100000000 50\n"));
	cr_assert_str_eq(buf, "300000000 100000000 50\n");
}

Test(procfs, read_text_missing_file_is_enoent)
{
	char buf[64] = "x";

	cr_assert_eq(np_read_text(root, "proc/4995/nonexistent", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(np_read_text("/nonexistent-root-dir", "proc/1/stat", buf, sizeof(buf)),
		     -ENOENT);
}

Test(procfs, read_text_truncates_to_buffer)
{
	char full[4096];
	long n_full = np_read_text(root, "proc/4995/stat", full, sizeof(full));

	cr_assert_gt(n_full, 20);
	for (size_t len = 1; len <= 20; len++) {
		char *b = malloc(len);
		long n = np_read_text(root, "proc/4995/stat", b, len);

		cr_assert_eq(n, (long)len - 1);
		cr_assert_eq(b[len - 1], '\0');
		cr_assert_eq(memcmp(b, full, len - 1), 0);
		free(b);
	}
}

Test(procfs, read_text_bad_arguments)
{
	char buf[16], longpath[PATH_MAX + 16];

	cr_assert_eq(np_read_text(root, "proc/4995/stat", buf, 0), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	cr_assert_eq(np_read_text(root, longpath, buf, sizeof(buf)), -ENAMETOOLONG);
	cr_assert_lt(np_read_text(root, "proc/4995", buf, sizeof(buf)), 0, "a directory");
}

/* np_read_file: the one whole-file reader (kallsyms, /proc/net/tcp). */
Test(procfs, read_file_reads_a_file_larger_than_one_read)
{
	char dir[PATH_MAX], path[PATH_MAX], *buf;
	size_t n = 300000, len;
	uint8_t *want = malloc(n);

	cr_assert_not_null(want);
	for (size_t i = 0; i < n; i++)
		want[i] = (uint8_t)('a' + i % 26);
	t_mkdtemp(dir);
	t_pathf(path, "%s/big", dir);
	t_write_file(path, want, n);
	cr_assert_eq(np_read_file(path, 1u << 30, &buf, &len), 0);
	cr_assert_eq(len, n);
	cr_assert_eq(memcmp(buf, want, n), 0);
	cr_assert_eq(buf[len], '\0');
	free(buf);
	free(want);
	t_rmtree(dir);
}

Test(procfs, read_file_cuts_at_the_limit_and_terminates)
{
	char dir[PATH_MAX], path[PATH_MAX], *buf;
	size_t len;

	t_mkdtemp(dir);
	t_pathf(path, "%s/f", dir);
	t_write_file(path, "0123456789", 10);
	cr_assert_eq(np_read_file(path, 4, &buf, &len), 0);
	cr_assert_eq(len, 4);
	cr_assert_str_eq(buf, "0123");
	free(buf);
	t_write_file(path, "", 0);
	cr_assert_eq(np_read_file(path, 4, &buf, &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(buf, "");
	free(buf);
	t_rmtree(dir);
}

/* Copies before np_read_file went on with what they had read (or with
 * nothing) after a failed read; a failed read is an error now. */
Test(procfs, read_file_errors_leave_nothing_to_free)
{
	char *buf = (char *)1;
	size_t len = 1;

	cr_assert_eq(np_read_file("/nonexistent/file", 100, &buf, &len), -ENOENT);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(np_read_file("/", 100, &buf, &len), -EISDIR);
	cr_assert_null(buf);
}

Test(procfs, read_file_reads_proc_files_whose_size_is_zero)
{
	char *buf;
	size_t len;

	cr_assert_eq(np_read_file("/proc/self/stat", 1u << 20, &buf, &len), 0);
	cr_assert_gt(len, 0);
	cr_assert_eq(strlen(buf), len);
	free(buf);
}

/* np_read_records: the one reader of BPF iterator output (the fd walk of
 * the socket source, the live threads of the syscall source). */
struct rec24 {
	uint64_t a, b, c;
};

static void sum_records(void *arg, const void *rec)
{
	const struct rec24 *r = rec;
	uint64_t *sum = arg;

	cr_assert_eq(r->b, r->a * 2);
	cr_assert_eq((uintptr_t)rec % 8, 0);
	sum[0] += r->a;
	sum[1]++;
}

Test(procfs, read_records_joins_records_cut_between_reads)
{
	struct rec24 recs[1000];
	uint64_t sum[2] = {0, 0}, want = 0;
	size_t off = 0, chunk = 1;
	int fds[2];

	for (uint64_t i = 0; i < 1000; i++) {
		recs[i] = (struct rec24){.a = i, .b = 2 * i, .c = 7};
		want += i;
	}
	cr_assert_eq(pipe(fds), 0);
	/* odd-sized writes, so reads end inside records; the pipe holds it all */
	while (off < sizeof(recs)) {
		size_t n = chunk < sizeof(recs) - off ? chunk : sizeof(recs) - off;

		cr_assert_eq(write(fds[1], (char *)recs + off, n), (ssize_t)n);
		off += n;
		chunk = chunk * 3 % 997 + 1;
	}
	cr_assert_eq(write(fds[1], "xyz", 3), 3); /* a partial record at the end */
	close(fds[1]);
	cr_assert_eq(np_read_records(fds[0], sizeof(struct rec24), sum_records, sum), 0);
	close(fds[0]);
	cr_assert_eq(sum[1], 1000);
	cr_assert_eq(sum[0], want);
}

Test(procfs, read_records_errors)
{
	uint64_t sum[2] = {0, 0};

	cr_assert_eq(np_read_records(-1, 24, sum_records, sum), -EBADF);
	cr_assert_eq(np_read_records(0, 0, sum_records, sum), -EINVAL);
	cr_assert_eq(np_read_records(0, 5000, sum_records, sum), -EINVAL);
	cr_assert_eq(sum[1], 0);
}

Test(procfs, maps_lines)
{
	static const char file[] = "55d0c8a00000-55d0c8a2e000 r--p 00000000 fe:01 1835043          "
				   "          "
				   "/usr/sbin/nginx\n";
	static const char deleted[] = "7f1c2a228000-7f1c2a3a0000 r-xp 00028000 08:01 262 "
				      "/usr/lib/x86_64-linux-gnu/libc.so.6 "
				      "(deleted)";
	static const char anon[] = "7ffd5a3c2000-7ffd5a3e3000 rw-p 00000000 00:00 0   [stack]\n";
	static const char jit[] = "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 \n";
	struct np_map m;

	cr_assert_eq(np_parse_maps_line(file, sizeof(file) - 1, &m), 0);
	cr_expect_eq(m.start, 0x55d0c8a00000ull);
	cr_expect_eq(m.end, 0x55d0c8a2e000ull);
	cr_expect_str_eq(m.perms, "r--p");
	cr_expect_eq(m.offset, 0);
	cr_expect_eq(m.dev_major, 0xfe);
	cr_expect_eq(m.inode, 1835043);
	cr_expect_str_eq(m.path, "/usr/sbin/nginx");
	cr_assert_eq(np_parse_maps_line(deleted, sizeof(deleted) - 1, &m), 0);
	cr_expect_eq(m.offset, 0x28000);
	cr_expect_str_eq(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)");
	cr_assert_eq(np_parse_maps_line(anon, sizeof(anon) - 1, &m), 0);
	cr_expect_str_eq(m.path, "[stack]");
	cr_assert_eq(np_parse_maps_line(jit, sizeof(jit) - 1, &m), 0);
	cr_expect_str_eq(m.path, "");
	cr_expect_str_eq(m.perms, "rwxp");
}

Test(procfs, maps_lines_damaged)
{
	static const char *const bad[] = {
		"",
		"7f-",
		"7f-80",
		"80-7f r-xp 0 00:00 0",
		"7f-80 r-x 0 00:00 0",
		"7f-80 r-xp zz 00:00 0",
		"7f-80 r-xp 0 0000 0",
		"7f-80 r-xp 0 00:00 x",
		"11112222333344445-80 r-xp 0 00:00 0",
	};
	struct np_map m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(np_parse_maps_line(bad[i], strlen(bad[i]), &m), -EINVAL, "%s", bad[i]);
	/* the length is respected: the path stops where the line is cut */
	cr_assert_eq(np_parse_maps_line("7f-80 r-xp 0 00:00 1 /bin/sh", 25, &m), 0);
	cr_expect_str_eq(m.path, "/bin");
}

Test(procfs, task_syscall)
{
	int64_t nr;
	uint64_t arg;

	cr_assert_eq(np_parse_proc_syscall("232 0x5 0x7ffd 0x200 0xffffffff 0x0 0x0 0x7ffd5a "
					   "0x7f61\n",
					   &nr, &arg),
		     0);
	cr_expect_eq(nr, 232);
	cr_expect_eq(arg, 5);
	cr_assert_eq(np_parse_proc_syscall("-1 0x7ffd5a3e1c28 0x7f61e0d5ae4f\n", &nr, &arg), 0);
	cr_expect_eq(nr, -1);
	cr_expect_eq(np_parse_proc_syscall("running\n", &nr, &arg), -EAGAIN);
	cr_expect_eq(np_parse_proc_syscall("", &nr, &arg), -EINVAL);
	cr_assert_eq(np_parse_proc_syscall("0 0xzz", &nr, &arg), 0);
	cr_expect_eq(arg, 0);
}

/* ---- np_proc_tasks ------------------------------------------------------- */

struct tids {
	uint32_t v[8];
	size_t n;
};

static void collect_tid(void *arg, uint32_t tid)
{
	struct tids *t = arg;

	cr_assert_lt(t->n, 8);
	t->v[t->n++] = tid;
}

static bool has_tid(const struct tids *t, uint32_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == tid)
			return true;
	return false;
}

Test(procfs, task_walk_lists_every_thread)
{
	struct tids t = {0};

	cr_assert_eq(np_proc_tasks(root, 888, collect_tid, &t), 0);
	cr_assert_eq(t.n, 2);
	cr_assert(has_tid(&t, 888) && has_tid(&t, 889));
}

Test(procfs, task_walk_of_a_missing_process_is_enoent)
{
	struct tids t = {0};

	/* 2 (kthreadd) is captured without its task directory */
	cr_assert_eq(np_proc_tasks(root, 99999, collect_tid, &t), -ENOENT);
	cr_assert_eq(np_proc_tasks(root, 2, collect_tid, &t), -ENOENT);
	cr_assert_eq(t.n, 0);
}

/* Only numbers that can be a pid_t are threads: not ".", "..", nor a name
 * with a number in front, nor 0, nor one past INT_MAX. */
Test(procfs, task_walk_skips_what_cannot_be_a_tid)
{
	static const char *const junk[] = {"0", "12x", "x12", "-5", "2147483648", "99999999999"};
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct tids t = {0};

	t_mkdtemp(tmp);
	t_copytree(root, tmp);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		t_pathf(dir, "%s/proc/888/task/%s", tmp, junk[i]);
		t_mkdirs(dir);
	}
	t_pathf(dir, "%s/proc/888/task/2147483647", tmp);
	t_mkdirs(dir);
	cr_assert_eq(np_proc_tasks(tmp, 888, collect_tid, &t), 0);
	cr_assert_eq(t.n, 3);
	cr_assert(has_tid(&t, 888) && has_tid(&t, 889) && has_tid(&t, 2147483647u));
	t_rmtree(tmp);
}

static const char *line(const char *raw, size_t n, size_t outlen)
{
	static char out[256];

	np_cmdline_line(raw, n, out, outlen);
	return out;
}

/* What the recording keeps of a command line: arguments joined by spaces,
 * without the secrets a URL's query string or a password argument carry. */
Test(procfs, cmdline_drops_query_strings_and_secret_values)
{
	static const char wrk[] = "wrk\0-c8\0https://127.0.0.1:8443/index.html?token=hunter2\0";
	static const char db[] = "app\0--db-password=hunter2\0--port=80\0DB_TOKEN=hunter2\0x";
	static const char path[] = "curl\0/search?q=hunter2\0plain?arg\0";

	cr_assert_str_eq(line(wrk, sizeof(wrk) - 1, 256),
			 "wrk -c8 https://127.0.0.1:8443/index.html?\u2026");
	cr_assert_str_eq(line(db, sizeof(db) - 1, 256),
			 "app --db-password=\u2026 --port=80 DB_TOKEN=\u2026 x");
	/* a path's query goes too; a '?' in a word that is no URL stays */
	cr_assert_str_eq(line(path, sizeof(path) - 1, 256), "curl /search?\u2026 plain?arg");
	cr_assert_null(strstr(line(wrk, sizeof(wrk) - 1, 256), "hunter2"));
}

Test(procfs, cmdline_fits_its_buffer)
{
	static const char wrk[] = "wrk\0https://h/x?token=hunter2\0";

	/* no room for the mark: the cut still holds, the mark is left out */
	cr_assert_str_eq(line(wrk, sizeof(wrk) - 1, 17), "wrk https://h/x?");
	cr_assert_str_eq(line(wrk, sizeof(wrk) - 1, 4), "wrk");
	cr_assert_str_eq(line("", 0, 8), "");
}
