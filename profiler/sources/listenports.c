/* listenports.c - the TCP ports a process listens on (see listenports.h). */
#include "profiler/sources/listenports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/hex.h"
#include "profiler/base/procfs.h"

/* More than this many fds are not looked at: the list only decides the
 * direction of connections opened before recording. */
#define MAX_SOCKET_INODES (1u << 20)
/* /proc/net/tcp of a host with a million connections is ~150 MB; we stop
 * reading well before, listeners come first in the kernel's hash walk
 * anyway (listening hash before established). */
#define MAX_PROC_NET_BYTES (64u << 20)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool has_inode(const uint64_t *inodes, size_t n, uint64_t ino)
{
	return bsearch(&ino, inodes, n, sizeof(*inodes), cmp_u64) != NULL;
}

/* The next whitespace-separated field of [*p, end), or NULL. */
static const char *field(const char **p, const char *end, size_t *flen)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end || *s == '\n')
		return NULL;
	*p = s;
	while (*p < end && **p != ' ' && **p != '\t' && **p != '\n')
		(*p)++;
	*flen = (size_t)(*p - s);
	return s;
}

static bool parse_line(const char *s, const char *end, const uint64_t *inodes, size_t n_inodes,
		       uint16_t *port)
{
	const char *f, *colon;
	size_t flen;
	uint64_t ino = 0;
	unsigned int p = 0;

	/* sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode */
	const char *local = NULL, *st = NULL, *inode = NULL;
	size_t local_len = 0, st_len = 0, inode_len = 0;

	for (int i = 0; i < 10; i++) {
		f = field(&s, end, &flen);
		if (!f)
			return false;
		if (i == 1)
			local = f, local_len = flen;
		else if (i == 3)
			st = f, st_len = flen;
		else if (i == 9)
			inode = f, inode_len = flen;
	}
	if (st_len != 2 || st[0] != '0' || (st[1] != 'A' && st[1] != 'a'))
		return false;
	if (inode_len == 0 || inode_len > 19)
		return false;
	for (size_t i = 0; i < inode_len; i++) {
		if (inode[i] < '0' || inode[i] > '9')
			return false;
		ino = ino * 10 + (uint64_t)(inode[i] - '0');
	}
	if (!has_inode(inodes, n_inodes, ino))
		return false;
	colon = memchr(local, ':', local_len);
	if (!colon || (size_t)(local + local_len - colon - 1) != 4)
		return false;
	for (int i = 1; i <= 4; i++) {
		int v = np_hexval(colon[i]);

		if (v < 0)
			return false;
		p = p << 4 | (unsigned int)v;
	}
	if (!p)
		return false;
	*port = (uint16_t)p;
	return true;
}

int np_listen_ports_parse(const char *text, size_t len, const uint64_t *inodes, size_t n_inodes,
			  uint16_t *ports, size_t max, size_t *n)
{
	const char *p = text, *end = text + len;
	const char *nl = memchr(p, '\n', len);

	if (!nl)
		return -EINVAL; /* not even a header */
	p = nl + 1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;
		uint16_t port;

		if (parse_line(p, line_end, inodes, n_inodes, &port)) {
			bool dup = false;

			for (size_t i = 0; i < *n; i++)
				dup |= ports[i] == port;
			if (!dup && *n < max)
				ports[(*n)++] = port;
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

/* Inodes of the sockets among pid's fds, sorted. */
static int socket_inodes(const char *proc_root, pid_t pid, uint64_t **out, size_t *n_out)
{
	char dir[4096], link[4352], target[64];
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/proc/%d/fd", proc_root, (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < MAX_SOCKET_INODES) {
		ssize_t len;
		unsigned long long ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%llu]", &ino) != 1)
			continue;
		if (NP_GROW(v, cap, n + 1)) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v[n++] = ino;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	*n_out = n;
	return 0;
}

int np_listen_ports_read(const char *proc_root, pid_t pid, uint16_t *ports, size_t max, size_t *n)
{
	static const char *const files[] = {"tcp", "tcp6"};
	uint64_t *inodes = NULL;
	size_t n_inodes = 0;
	int rc;

	*n = 0;
	rc = socket_inodes(proc_root, pid, &inodes, &n_inodes);
	if (rc || !n_inodes) {
		free(inodes);
		return rc;
	}
	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		size_t len = 0;
		char *text;

		snprintf(path, sizeof(path), "%s/proc/%d/net/%s", proc_root, (int)pid, files[i]);
		rc = np_read_file(path, MAX_PROC_NET_BYTES, &text, &len);
		if (rc) {
			/* no tcp6 file: IPv6 is off, so no IPv6 listener either */
			if (i == 1 && rc == -ENOENT)
				continue;
			break;
		}
		rc = np_listen_ports_parse(text, len, inodes, n_inodes, ports, max, n);
		free(text);
		if (rc)
			break;
	}
	free(inodes);
	return rc;
}
