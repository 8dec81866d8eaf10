/* netns.c - entering the target's network namespace, and the
 * configuration block writer the network parts share. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/net/netcoll.h"

int np_netns_open(const char *proc_root, pid_t pid, struct np_netns *ns, char *err, size_t errlen)
{
	char path[256];
	struct stat a, b;

	memset(ns, 0, sizeof(*ns));
	ns->self_fd = ns->target_fd = -1;
	snprintf(path, sizeof(path), "%s/proc/self/ns/net", proc_root);
	ns->self_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->self_fd < 0 || fstat(ns->self_fd, &a) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open our network namespace: %s", strerror(e));
		np_netns_close(ns);
		return -e;
	}
	snprintf(path, sizeof(path), "%s/proc/%d/ns/net", proc_root, (int)pid);
	ns->target_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->target_fd < 0 || fstat(ns->target_fd, &b) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open the network namespace of pid %d: %s", (int)pid,
			 strerror(e));
		np_netns_close(ns);
		return -e;
	}
	ns->self_ino = (uint64_t)a.st_ino;
	ns->target_ino = (uint64_t)b.st_ino;
	ns->same = a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	if (ns->same) {
		close(ns->target_fd);
		ns->target_fd = -1;
		return 0;
	}
	/* Prove now that we may switch, so a missing CAP_SYS_ADMIN is one
	 * clear message at start and not a failure in every poll. */
	if (setns(ns->target_fd, CLONE_NEWNET) < 0) {
		int e = errno;

		snprintf(err, errlen,
			 "cannot enter the network namespace of pid %d: %s (needs CAP_SYS_ADMIN)",
			 (int)pid, strerror(e));
		np_netns_close(ns);
		return -e;
	}
	if (setns(ns->self_fd, CLONE_NEWNET) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot return to our network namespace: %s", strerror(e));
		np_netns_close(ns);
		return -e;
	}
	return 0;
}

int np_netns_enter(const struct np_netns *ns)
{
	if (ns->same)
		return 0;
	return setns(ns->target_fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int np_netns_leave(const struct np_netns *ns)
{
	if (ns->same)
		return 0;
	return setns(ns->self_fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

void np_netns_close(struct np_netns *ns)
{
	if (ns->self_fd >= 0)
		close(ns->self_fd);
	if (ns->target_fd >= 0)
		close(ns->target_fd);
	ns->self_fd = ns->target_fd = -1;
}

void np_conf_put(struct np_conf *c, const char *key, const char *value)
{
	if (!c->error)
		c->error = np_kvtext_put(&c->text, key, value);
}

void np_conf_putf(struct np_conf *c, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	np_conf_put(c, key, buf);
}

int np_conf_flush(struct np_conf *c, struct np_writer *w)
{
	int rc = c->error;

	if (!rc && c->text.len)
		rc = np_writer_block(w, NP_BLK_NET_CONFIG, 1, c->text.buf, (uint32_t)c->text.len);
	np_kvtext_fini(&c->text);
	c->error = 0;
	return rc;
}
