/* overhead.c - measuring netprof's own cost while attached (overhead.h). */
#include "overhead.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bpfutil.h"

#define MAX_PROGS 256

struct np_overhead {
	int stats_fd; /* bpf_enable_stats(); -1 when off */
	char why[96]; /* why the statistics are off */
	int prog_fds[MAX_PROGS];
	uint32_t prog_ids[MAX_PROGS];
	size_t n_progs;
	bool have_prev;
	uint64_t prev_wall_ns, prev_cpu_ns, prev_bpf_ns, prev_calls;
};

static uint64_t own_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t bpf_run_ns(const struct np_overhead *o)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < o->n_progs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(o->prog_fds[i], &info, &len) == 0)
			sum += info.run_time_ns;
	}
	return sum;
}

int np_overhead_open(struct np_overhead **out)
{
	struct np_overhead *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	/* For tests: what a kernel without the statistics (or a process
	 * without CAP_SYS_ADMIN) gets. */
	if (getenv("NETPROF_NO_BPF_STATS")) {
		o->stats_fd = -1;
		snprintf(o->why, sizeof(o->why),
			 "BPF run-time statistics off ($NETPROF_NO_BPF_STATS)");
		*out = o;
		return 0;
	}
	o->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (o->stats_fd < 0) {
		int e = errno;

		snprintf(o->why, sizeof(o->why), "BPF run-time statistics unavailable (%s)",
			 e == EINVAL ? "kernel before 5.8" : strerror(e));
		o->stats_fd = -1;
	}
	*out = o;
	return 0;
}

/* Iterators (attach_btf_id names a bpf_iter_* function) run in netprof's
 * own reads; their time is in netprof's CPU time already. */
static bool is_iterator(const struct bpf_prog_info *info)
{
	const struct btf *btf;
	const struct btf_type *t;
	const char *name;

	if (info->type != BPF_PROG_TYPE_TRACING || !info->attach_btf_id)
		return false;
	btf = np_bpf_kernel_btf();
	if (!btf || info->attach_btf_obj_id)
		return false; /* module BTF: not an iterator of the kernel's */
	t = btf__type_by_id(btf, info->attach_btf_id);
	name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	return name && !strncmp(name, "bpf_iter_", 9);
}

void np_overhead_find_programs(struct np_overhead *o)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	o->n_progs = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && o->n_progs < MAX_PROGS) {
		char path[64], link[64];
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		bool dup = false;
		ssize_t n;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:bpf-prog"))
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || is_iterator(&info))
			continue;
		for (size_t i = 0; i < o->n_progs; i++)
			dup |= o->prog_ids[i] == info.id;
		if (dup)
			continue;
		o->prog_ids[o->n_progs] = info.id;
		o->prog_fds[o->n_progs++] = fd;
	}
	closedir(d);
	/* Run time counted before the first measurement is not this window's. */
	o->prev_bpf_ns = bpf_run_ns(o);
}

void np_overhead_measure(struct np_overhead *o, uint64_t now_ns, uint64_t traced_calls,
			 struct np_rec_overhead *out)
{
	uint64_t cpu = own_cpu_ns();
	uint64_t bpf = o->stats_fd >= 0 ? bpf_run_ns(o) : 0;

	memset(out, 0, sizeof(*out));
	out->ts_ns = now_ns;
	if (o->stats_fd < 0)
		out->flags |= NP_OVH_BPF_ESTIMATED;
	if (o->have_prev) {
		out->wall_ns = now_ns > o->prev_wall_ns ? now_ns - o->prev_wall_ns : 0;
		out->own_cpu_ns = cpu > o->prev_cpu_ns ? cpu - o->prev_cpu_ns : 0;
		out->traced_calls = traced_calls > o->prev_calls ? traced_calls - o->prev_calls : 0;
		if (o->stats_fd >= 0)
			out->bpf_ns = bpf > o->prev_bpf_ns ? bpf - o->prev_bpf_ns : 0;
		else
			out->bpf_ns = out->traced_calls * NP_OVH_EST_NS_PER_CALL;
	}
	o->have_prev = true;
	o->prev_wall_ns = now_ns;
	o->prev_cpu_ns = cpu;
	o->prev_calls = traced_calls;
	if (o->stats_fd >= 0)
		o->prev_bpf_ns = bpf;
}

bool np_overhead_bpf_stats(const struct np_overhead *o, const char **why)
{
	if (why)
		*why = o->stats_fd >= 0 ? "" : o->why;
	return o->stats_fd >= 0;
}

size_t np_overhead_programs(const struct np_overhead *o)
{
	return o->n_progs;
}

void np_overhead_stop(struct np_overhead *o)
{
	if (o && o->stats_fd >= 0) {
		close(o->stats_fd);
		o->stats_fd = -1;
		snprintf(o->why, sizeof(o->why), "stopped at detach");
	}
}

void np_overhead_free(struct np_overhead *o)
{
	if (!o)
		return;
	np_overhead_stop(o);
	free(o);
}
