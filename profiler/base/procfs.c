/* procfs.c - small, defensive parsers for /proc text (see procfs.h). */
#include "profiler/base/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/hex.h"

/* Reads fd into buf[*used, len) until the end of the file or len bytes.
 * Returns 0 or a negative errno; *used counts what was read either way. */
static int read_into(int fd, char *buf, size_t len, size_t *used)
{
	while (*used < len) {
		ssize_t n = read(fd, buf + *used, len - *used);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		*used += (size_t)n;
	}
	return 0;
}

long np_read_text(const char *root, const char *path, char *buf, size_t len)
{
	char full[PATH_MAX];
	size_t used = 0;
	int fd, rc;

	if (len == 0)
		return -EINVAL;
	if (snprintf(full, sizeof(full), "%s/%s", root, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_into(fd, buf, len - 1, &used);
	close(fd);
	if (rc)
		return rc;
	buf[used] = '\0';
	return (long)used;
}

int np_read_records(int fd, size_t rec_bytes, void (*fn)(void *arg, const void *rec), void *arg)
{
	uint64_t buf[2048]; /* 16 KiB, 8-byte aligned */
	size_t room, have = 0;

	if (!rec_bytes || rec_bytes > 4096)
		return -EINVAL;
	room = sizeof(buf) / rec_bytes * rec_bytes;
	for (;;) {
		ssize_t n = read(fd, (char *)buf + have, room - have);
		size_t whole;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		have += (size_t)n;
		whole = have / rec_bytes;
		for (size_t i = 0; i < whole; i++)
			fn(arg, (char *)buf + i * rec_bytes);
		have -= whole * rec_bytes;
		memmove(buf, (char *)buf + whole * rec_bytes, have);
	}
}

/* The first read asks for 64 KiB; each next one for as much again as has
 * been read, so a 10 MB kallsyms takes about ten reads. */
#define READ_FILE_FIRST (64u << 10)

int np_read_file(const char *path, size_t max_bytes, char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, used = 0;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		size_t want = used < READ_FILE_FIRST ? READ_FILE_FIRST : used, before = used;

		if (want > max_bytes - used)
			want = max_bytes - used;
		rc = NP_GROW(buf, cap, used + want + 1); /* + 1: the final NUL */
		if (rc)
			break;
		rc = read_into(fd, buf, used + want, &used);
		if (rc || used < before + want || used == max_bytes)
			break; /* an error, the end of the file, or the limit */
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

/* Parses an unsigned decimal field; returns the position after it. */
static const char *field_u64(const char *p, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return NULL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno)
		return NULL;
	*out = v;
	return end;
}

static const char *field_i64(const char *p, int64_t *out)
{
	char *end;
	long long v;

	while (*p == ' ')
		p++;
	if (!((*p >= '0' && *p <= '9') || *p == '-'))
		return NULL;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno || end == p)
		return NULL;
	*out = v;
	return end;
}

static const char *skip_fields(const char *p, int n)
{
	while (n-- > 0) {
		while (*p == ' ')
			p++;
		if (!*p)
			return NULL;
		while (*p && *p != ' ')
			p++;
	}
	return p;
}

int np_parse_task_stat(const char *buf, struct np_task_stat *out)
{
	const char *open = strchr(buf, '(');
	/* comm may itself contain ") ", so the last ')' ends it. */
	const char *close = strrchr(buf, ')');
	const char *p;
	uint64_t flags;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return -EINVAL;
	out->state = *p++;
	/* fields 4..8: ppid pgrp session tty_nr tpgid, then 9: flags */
	p = skip_fields(p, 5);
	if (!p || !(p = field_u64(p, &flags)))
		return -EINVAL;
	out->flags = (uint32_t)flags;
	/* 10..19: minflt cminflt majflt cmajflt utime stime cutime cstime priority nice */
	p = skip_fields(p, 10);
	if (!p || !(p = field_i64(p, &out->num_threads)))
		return -EINVAL;
	p = skip_fields(p, 1); /* itrealvalue */
	if (!p || !field_u64(p, &out->starttime))
		return -EINVAL;
	return 0;
}

int np_parse_schedstat(const char *buf, uint64_t *on_cpu_ns, uint64_t *runq_ns)
{
	const char *p = field_u64(buf, on_cpu_ns);

	if (!p || !field_u64(p, runq_ns))
		return -EINVAL;
	return 0;
}

static bool hex_field(const char **pp, const char *end, uint64_t *out, char stop)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	for (; p < end && *p != stop; p++, digits++) {
		int d = np_hexval(*p);

		if (d < 0)
			return false;
		if (digits >= 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || p >= end)
		return false;
	*out = v;
	*pp = p + 1; /* past the stop character */
	return true;
}

static size_t line_length(const char *line, size_t len)
{
	const char *nl = memchr(line, '\n', len);
	const char *nul = memchr(line, '\0', len);
	size_t n = len;

	if (nl && (size_t)(nl - line) < n)
		n = (size_t)(nl - line);
	if (nul && (size_t)(nul - line) < n)
		n = (size_t)(nul - line);
	return n;
}

int np_parse_maps_line(const char *line, size_t len, struct np_map *out)
{
	const char *p = line, *end = line + line_length(line, len);
	uint64_t major, minor;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!hex_field(&p, end, &out->start, '-') || !hex_field(&p, end, &out->end, ' '))
		return -EINVAL;
	if (out->end < out->start || end - p < 5 || p[4] != ' ')
		return -EINVAL;
	memcpy(out->perms, p, 4);
	p += 5;
	if (!hex_field(&p, end, &out->offset, ' ') || !hex_field(&p, end, &major, ':') ||
	    !hex_field(&p, end, &minor, ' '))
		return -EINVAL;
	out->dev_major = (uint32_t)major;
	out->dev_minor = (uint32_t)minor;
	out->inode = 0;
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	while (p < end && *p >= '0' && *p <= '9') {
		if (out->inode > UINT64_MAX / 10)
			return -EINVAL;
		out->inode = out->inode * 10 + (uint64_t)(*p++ - '0');
	}
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (n >= sizeof(out->path))
		n = sizeof(out->path) - 1;
	memcpy(out->path, p, n);
	out->path[n] = '\0';
	return 0;
}

int np_parse_proc_syscall(const char *buf, int64_t *nr, uint64_t *arg1)
{
	const char *p;

	*arg1 = 0;
	while (*buf == ' ')
		buf++;
	if (!strncmp(buf, "running", 7))
		return -EAGAIN;
	p = field_i64(buf, nr);
	if (!p)
		return -EINVAL;
	if (*nr < 0) {
		*nr = -1;
		return 0;
	}
	while (*p == ' ')
		p++;
	if (p[0] == '0' && p[1] == 'x') {
		p += 2;
		hex_field(&p, p + strcspn(p, " \n") + 1, arg1, p[strcspn(p, " \n")]);
	}
	return 0;
}

int np_proc_tasks(const char *root, int pid, void (*fn)(void *arg, uint32_t tid), void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/task", root, pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		/* "." and ".."; and a tid is a pid_t, so above INT_MAX it is
		 * no thread of a real /proc */
		if (*end || end == de->d_name || tid == 0 || tid > INT_MAX)
			continue;
		fn(arg, (uint32_t)tid);
	}
	closedir(d);
	return 0;
}

/* Whether NAME (of NAME=VALUE, NAME without its leading dashes) names a
 * secret. */
static bool secret_name(const char *a, size_t n)
{
	static const char *const words[] = {"pass",   "secret",  "token",
					    "apikey", "api_key", "api-key"};

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t k = strlen(words[w]);

		for (size_t i = 0; i + k <= n; i++)
			if (!strncasecmp(a + i, words[w], k))
				return true;
	}
	return false;
}

static void put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *o + 1 < outlen; i++)
		out[(*o)++] = s[i];
}

size_t np_cmdline_line(const char *raw, size_t n, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (!outlen)
		return 0;
	while (i < n) {
		const char *a = raw + i;
		size_t len = strnlen(a, n - i), keep = len;
		const char *cut = NULL;
		const char *q = memchr(a, '?', len), *eq = memchr(a, '=', len);

		if (q && (memmem(a, len, "://", 3) || a[0] == '/')) {
			keep = (size_t)(q - a) + 1;
			cut = "\u2026"; /* the query string: parameters, tokens */
		} else if (eq && secret_name(a, (size_t)(eq - a))) {
			keep = (size_t)(eq - a) + 1;
			cut = "\u2026";
		}
		if (o)
			put(out, outlen, &o, " ", 1);
		put(out, outlen, &o, a, keep);
		if (cut && o + strlen(cut) < outlen)
			put(out, outlen, &o, cut, strlen(cut));
		i += len + 1;
	}
	out[o] = '\0';
	return o;
}

size_t np_read_cmdline(const char *root, int pid, char *out, size_t outlen)
{
	char path[64], raw[4096];
	long n;

	snprintf(path, sizeof(path), "proc/%d/cmdline", pid);
	n = np_read_text(root, path, raw, sizeof(raw));
	if (n < 0)
		n = 0;
	return np_cmdline_line(raw, (size_t)n, out, outlen);
}
