/* selfcost.c - measuring netprof's own cost while attached (overhead.h). */
#include "profiler/session/selfcost.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "profiler/collect/bpfutil.h"

#define MAX_PROGS 256

struct np_overhead {
	bool stats_ok; /* bpf_enable_stats() works here */
	int stats_fd;  /* while a window is open; -1 otherwise */
	char why[96];  /* why the statistics cannot be used */
	int prog_fds[MAX_PROGS];
	uint32_t prog_ids[MAX_PROGS];
	size_t n_progs;
	bool have_prev;
	uint64_t prev_wall_ns, prev_cpu_ns, prev_calls;
	uint64_t win_start_ns, win_bpf0_ns;                    /* the open window */
	uint64_t win_run0_ns[MAX_PROGS], win_runs0[MAX_PROGS]; /* per program at its start */
	struct np_rec_bpf_cost cost[MAX_PROGS];                /* the last closed window */
	size_t n_cost;
	uint32_t since_window; /* intervals measured since the last window */
	bool have_rate;        /* a window measured the rate below */
	double bpf_share;      /* BPF run time per wall ns, in the last window */
	uint64_t win_calls;    /* traced calls per second then */
};

uint64_t np_overhead_self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/* Sums every program's run time; also keeps each one's run time and run
 * count (and its name and type when `cost` is given) in the arrays. */
static uint64_t bpf_read_programs(const struct np_overhead *o, uint64_t *run_ns, uint64_t *runs,
				  struct np_rec_bpf_cost *cost)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < o->n_progs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(o->prog_fds[i], &info, &len))
			continue;
		sum += info.run_time_ns;
		run_ns[i] = info.run_time_ns;
		runs[i] = info.run_cnt;
		if (cost) {
			cost[i].prog_id = info.id;
			cost[i].prog_type = info.type;
			memcpy(cost[i].name, info.name, sizeof(cost[i].name));
			cost[i].name[sizeof(cost[i].name) - 1] = '\0';
		}
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
	o->stats_fd = -1;
	if (getenv("NETPROF_NO_BPF_STATS")) {
		snprintf(o->why, sizeof(o->why),
			 "BPF run-time statistics off ($NETPROF_NO_BPF_STATS)");
		*out = o;
		return 0;
	}
	/* Only a probe: the statistics are switched on per window. */
	o->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (o->stats_fd < 0) {
		int e = errno;

		snprintf(o->why, sizeof(o->why), "BPF run-time statistics unavailable (%s)",
			 e == EINVAL ? "kernel before 5.8" : strerror(e));
	} else {
		o->stats_ok = true;
		close(o->stats_fd);
	}
	o->stats_fd = -1;
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
}

void np_overhead_window_open(struct np_overhead *o, uint64_t now_ns, bool closing)
{
	if (!o->stats_ok || o->stats_fd >= 0)
		return;
	if (o->have_rate && o->since_window + 1 < NP_OVH_WINDOW_EVERY && !closing)
		return;
	o->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (o->stats_fd < 0) {
		o->stats_ok = false;
		snprintf(o->why, sizeof(o->why),
			 "BPF run-time statistics failed while recording (%s)", strerror(errno));
		return;
	}
	o->win_start_ns = now_ns;
	memset(o->win_run0_ns, 0, sizeof(o->win_run0_ns));
	memset(o->win_runs0, 0, sizeof(o->win_runs0));
	o->win_bpf0_ns = bpf_read_programs(o, o->win_run0_ns, o->win_runs0, NULL);
}

/* The window's BPF run time scaled to the interval; false when there was
 * no window long enough to say (then it stays open into the next one). */
static bool window_close(struct np_overhead *o, uint64_t now_ns, uint64_t wall_ns,
			 struct np_rec_overhead *out)
{
	uint64_t bpf, win, run_ns[MAX_PROGS] = {0}, runs[MAX_PROGS] = {0};

	if (o->stats_fd < 0)
		return false;
	win = now_ns > o->win_start_ns ? now_ns - o->win_start_ns : 0;
	if (win < NP_OVH_WINDOW_MIN_NS || !wall_ns)
		return false;
	memset(o->cost, 0, sizeof(o->cost[0]) * o->n_progs);
	bpf = bpf_read_programs(o, run_ns, runs, o->cost);
	close(o->stats_fd);
	o->stats_fd = -1;
	o->n_cost = 0;
	for (size_t i = 0; i < o->n_progs; i++) {
		struct np_rec_bpf_cost *c = &o->cost[o->n_cost];

		if (!o->cost[i].prog_id || runs[i] <= o->win_runs0[i])
			continue; /* unreadable, or did not run in the window */
		*c = o->cost[i];  /* compacting: o->n_cost <= i */
		c->ts_ns = now_ns;
		c->window_ns = win;
		c->runs = runs[i] - o->win_runs0[i];
		c->run_ns = run_ns[i] > o->win_run0_ns[i] ? run_ns[i] - o->win_run0_ns[i] : 0;
		o->n_cost++;
	}
	if (win > wall_ns)
		win = wall_ns; /* open since before the interval: the interval's share */
	out->bpf_window_ns = win;
	out->bpf_ns = (uint64_t)((double)(bpf > o->win_bpf0_ns ? bpf - o->win_bpf0_ns : 0) *
				 (double)wall_ns / (double)win);
	return true;
}

void np_overhead_measure(struct np_overhead *o, uint64_t now_ns, uint64_t traced_calls,
			 struct np_rec_overhead *out)
{
	uint64_t cpu = np_overhead_self_cpu_ns();

	memset(out, 0, sizeof(*out));
	out->ts_ns = now_ns;
	if (o->have_prev) {
		out->wall_ns = now_ns > o->prev_wall_ns ? now_ns - o->prev_wall_ns : 0;
		out->own_cpu_ns = cpu > o->prev_cpu_ns ? cpu - o->prev_cpu_ns : 0;
		out->traced_calls = traced_calls > o->prev_calls ? traced_calls - o->prev_calls : 0;
		if (window_close(o, now_ns, out->wall_ns, out)) {
			o->since_window = 0;
			o->have_rate = true;
			o->bpf_share = (double)out->bpf_ns / (double)out->wall_ns;
			o->win_calls = out->traced_calls * 1000000000ull / out->wall_ns;
		} else if (o->have_rate) {
			/* Between windows: the last window's rate, following the
			 * target's load (its traced calls) when both are known. */
			double scale = 1.0;

			o->since_window++;
			out->flags |= NP_OVH_BPF_HELD;
			if (o->win_calls && out->traced_calls)
				scale = (double)out->traced_calls * 1e9 / (double)out->wall_ns /
					(double)o->win_calls;
			if (scale > 10)
				scale = 10;
			out->bpf_ns = (uint64_t)(o->bpf_share * scale * (double)out->wall_ns);
		} else {
			out->flags |= NP_OVH_BPF_ESTIMATED;
			out->bpf_ns = out->traced_calls * NP_OVH_EST_NS_PER_CALL;
			/* No window yet (the loop woke too late to open one):
			 * one from now on covers the next interval whole. */
			np_overhead_window_open(o, now_ns, false);
		}
	}
	o->have_prev = true;
	o->prev_wall_ns = now_ns;
	o->prev_cpu_ns = cpu;
	o->prev_calls = traced_calls;
}

size_t np_overhead_take_costs(struct np_overhead *o, const struct np_rec_bpf_cost **costs)
{
	size_t n = o->n_cost;

	*costs = o->cost;
	o->n_cost = 0;
	return n;
}

bool np_overhead_bpf_stats(const struct np_overhead *o, const char **why)
{
	if (why)
		*why = o->stats_ok ? "" : o->why;
	return o->stats_ok;
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
	}
	if (o)
		o->stats_ok = false;
}

void np_overhead_free(struct np_overhead *o)
{
	if (!o)
		return;
	np_overhead_stop(o);
	free(o);
}
