/* procfs.c - small, defensive parsers for /proc text (see procfs.h). */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long np_read_text(const char *root, const char *path, char *buf, size_t len)
{
	char full[PATH_MAX];
	size_t used = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	if (snprintf(full, sizeof(full), "%s/%s", root, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (used + 1 < len) {
		ssize_t n = read(fd, buf + used, len - 1 - used);

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (long)used;
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
