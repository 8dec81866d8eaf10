/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/format/timeline.h"

const char *t_fixtures(void)
{
	const char *env = getenv("NP_FIXTURES");

	return env && *env ? env : NP_FIXTURES;
}

void t_mkdtemp(char *out)
{
	const char *tmp = getenv("TMPDIR");

	t_pathf(out, "%s/nptest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(out), "mkdtemp %s: %s", out, strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void t_rmtree(const char *path)
{
	struct stat st;

	if (!path || !path[0] || lstat(path, &st) < 0)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void t_pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && n < PATH_MAX, "path too long: %s...", out);
}

void t_mkdirs(const char *path)
{
	char buf[PATH_MAX];

	t_pathf(buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		cr_assert(mkdir(buf, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", buf,
			  strerror(errno));
		*p = '/';
	}
	cr_assert(mkdir(buf, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", buf, strerror(errno));
}

void t_copytree(const char *src, const char *dst)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	cr_assert(lstat(src, &st) == 0, "lstat %s: %s", src, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		cr_assert(n >= 0, "readlink %s", src);
		target[n] = '\0';
		cr_assert(symlink(target, dst) == 0, "symlink %s: %s", dst, strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode)) {
		size_t len;
		uint8_t *data = t_read_file(src, &len);

		t_write_file(dst, data, len);
		free(data);
		return;
	}
	cr_assert(S_ISDIR(st.st_mode), "%s: not a file, directory or symlink", src);
	t_mkdirs(dst);
	d = opendir(src);
	cr_assert_not_null(d, "opendir %s", src);
	while ((de = readdir(d))) {
		char s[PATH_MAX], t[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		t_pathf(s, "%s/%s", src, de->d_name);
		t_pathf(t, "%s/%s", dst, de->d_name);
		t_copytree(s, t);
	}
	closedir(d);
}

uint8_t *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	cr_assert(!ferror(f), "read %s", path);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

void t_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len, "write %s", path);
	cr_assert_eq(fclose(f), 0, "close %s", path);
}

bool t_valid_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < len;) {
		unsigned int c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4, cp = c & 0x07;
		else
			return false;
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

size_t t_block_ends(const uint8_t *data, size_t len, size_t *out, size_t max)
{
	struct np_file_header fh;
	size_t off, n = 0;

	cr_assert_geq(len, sizeof(fh));
	memcpy(&fh, data, sizeof(fh));
	off = fh.header_bytes;
	out[n++] = off;
	while (off < len) {
		struct np_block_header bh;

		cr_assert_leq(off + sizeof(bh), len, "block header past the end at %zu", off);
		memcpy(&bh, data + off, sizeof(bh));
		off += sizeof(bh) + bh.payload_bytes;
		cr_assert_leq(off, len, "block payload past the end");
		cr_assert_lt(n, max);
		out[n++] = off;
	}
	return n;
}
