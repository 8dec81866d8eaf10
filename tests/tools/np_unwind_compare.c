/* np_unwind_compare.c - unwinds the same samples with both backends of
 * unwind.h (libdw, libunwind) and says how often each completes a stack
 * and how far they agree (tests/integration/test_unwinders.py).
 *
 *   np_unwind_compare -p PID [-d SECS] [-F HZ] [-s STACK_KB] [-v]
 *
 * Samples every thread of PID for SECS with the profiler's own sampler
 * (perf cpu-clock, user registers and a copy of the user stack), keeps the
 * samples, then unwinds each of them once with libdw and once with
 * libunwind, over one address space.  Prints, one "key value..." line each:
 *
 *   samples N
 *   backend NAME complete N rate PCT truncated N errors N frames N us_per_sample X
 *   agreement PCT frames N stacks N identical N
 *
 * "rate" is complete stacks (no NP_UW_TRUNCATED, no NP_UW_ERROR) over
 * samples; "agreement" counts, over the stacks complete with both, the
 * frames at the same depth with the same pc, out of the longer stack's
 * frames.  -v prints the stacks that differ.  Needs root (CAP_PERFMON).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profiler/cpu/addrspace.h"
#include "profiler/cpu/sampler.h"
#include "profiler/cpu/unwind.h"

#define MAX_SAMPLES 20000
#define MAX_FRAMES 127
#define REFRESH_NS 200000000ull

struct saved {
	pid_t tid;
	struct np_unwind_input in; /* in.stack points into stack */
	uint8_t *stack;
};

struct capture {
	struct np_addrspace *as;
	struct saved *v;
	size_t n;
	uint64_t dropped;
};

struct result {
	uint64_t *pcs; /* MAX_FRAMES per sample */
	size_t *n;
	unsigned *flags;
	uint64_t complete, truncated, errors, frames, ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_sample(void *arg, const struct np_perf_sample *s)
{
	struct capture *c = arg;
	struct saved *sv;

	if (!s->regs_abi || !s->n_regs)
		return;
	if (c->n == MAX_SAMPLES) {
		c->dropped++;
		return;
	}
	sv = &c->v[c->n];
	np_perf_sample_unwind_input(s, &sv->in);
	sv->stack = malloc(s->stack_bytes ? s->stack_bytes : 1);
	if (!sv->stack) {
		c->dropped++;
		return;
	}
	memcpy(sv->stack, s->stack, s->stack_bytes);
	sv->in.stack = sv->stack;
	sv->tid = (pid_t)s->tid;
	/* as the collector does: a pc in no known module, re-read the maps */
	if (!np_addrspace_find(c->as, sv->in.regs[NP_UNWIND_REG_PC]))
		np_addrspace_refresh(c->as, mono_ns(), REFRESH_NS);
	c->n++;
}

static int unwind_all(const struct capture *c, enum np_unwind_backend b, struct result *r)
{
	struct np_unwinder *uw;
	uint64_t t0;
	int rc = np_unwinder_new(c->as, b, &uw);

	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->pcs = calloc(c->n ? c->n : 1, MAX_FRAMES * sizeof(*r->pcs));
	r->n = calloc(c->n ? c->n : 1, sizeof(*r->n));
	r->flags = calloc(c->n ? c->n : 1, sizeof(*r->flags));
	if (!r->pcs || !r->n || !r->flags) {
		np_unwinder_free(uw);
		return -ENOMEM;
	}
	t0 = mono_ns();
	for (size_t i = 0; i < c->n; i++) {
		r->n[i] = np_unwind(uw, c->v[i].tid, &c->v[i].in, r->pcs + i * MAX_FRAMES,
				    MAX_FRAMES, &r->flags[i]);
		r->frames += r->n[i];
		if (r->flags[i] & NP_UW_TRUNCATED)
			r->truncated++;
		else if (r->flags[i] & NP_UW_ERROR)
			r->errors++;
		else
			r->complete++;
	}
	r->ns = mono_ns() - t0;
	np_unwinder_free(uw);
	return 0;
}

static void result_fini(struct result *r)
{
	free(r->pcs);
	free(r->n);
	free(r->flags);
}

static void print_pc(struct np_addrspace *as, uint64_t pc)
{
	const struct np_module *m = np_addrspace_find(as, pc);
	const char *base = m ? strrchr(m->path, '/') : NULL;

	fprintf(stderr, " %s+%#" PRIx64, m ? (base ? base + 1 : m->path) : "?",
		m ? pc - m->start : pc);
}

static void print_stack(struct np_addrspace *as, const char *name, const uint64_t *pcs, size_t n)
{
	fprintf(stderr, "  %-9s", name);
	for (size_t i = 0; i < n; i++)
		print_pc(as, pcs[i]);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct np_cpu_sampler_opts o = {.frequency_hz = 499,
					.stack_bytes = 16384,
					.ring_pages = 64,
					.max_threads = 256};
	struct capture c = {0};
	struct np_cpu_sampler *s;
	struct result r[NP_UNWIND_NBACKENDS];
	uint64_t agree = 0, compared = 0, stacks = 0, identical = 0, deadline, next_scan;
	double secs = 3;
	pid_t pid = 0;
	int opt, rc, verbose = 0;

	while ((opt = getopt(argc, argv, "p:d:F:s:v")) != -1) {
		switch (opt) {
		case 'p':
			pid = (pid_t)atoi(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'F':
			o.frequency_hz = (uint32_t)atoi(optarg);
			break;
		case 's':
			o.stack_bytes = (uint32_t)atoi(optarg) * 1024;
			break;
		case 'v':
			verbose++;
			break;
		default:
			fprintf(stderr, "usage: np_unwind_compare -p PID [-d SECS] [-F HZ] "
					"[-s STACK_KB] [-v]\n");
			return 2;
		}
	}
	if (pid <= 0 || secs <= 0 || !o.frequency_hz || o.stack_bytes < 4096 ||
	    o.stack_bytes > 65528) {
		fprintf(stderr, "np_unwind_compare: give -p PID, and sane -d, -F, -s\n");
		return 2;
	}
	unsetenv("DEBUGINFOD_URLS");
	c.v = calloc(MAX_SAMPLES, sizeof(*c.v));
	if (!c.v)
		return 1;
	rc = np_addrspace_new("", pid, &c.as);
	if (rc) {
		fprintf(stderr, "np_unwind_compare: maps of pid %d: %s\n", (int)pid, strerror(-rc));
		return 1;
	}
	rc = np_cpu_sampler_new(&o, &s);
	if (!rc)
		rc = np_cpu_sampler_scan(s, "", pid) < 0 ? -EPERM : 0;
	if (rc) {
		fprintf(stderr, "np_unwind_compare: cannot sample pid %d: %s\n", (int)pid,
			strerror(-rc));
		return 1;
	}
	deadline = mono_ns() + (uint64_t)(secs * 1e9);
	next_scan = mono_ns() + 1000000000ull;
	while (mono_ns() < deadline) {
		struct pollfd pfd = {.fd = np_cpu_sampler_fd(s), .events = POLLIN};

		poll(&pfd, 1, 100);
		np_cpu_sampler_drain(s, on_sample, &c);
		if (mono_ns() >= next_scan) {
			np_cpu_sampler_scan(s, "", pid);
			next_scan = mono_ns() + 1000000000ull;
		}
	}
	np_cpu_sampler_disable(s);
	np_cpu_sampler_drain(s, on_sample, &c);
	np_cpu_sampler_free(s);

	printf("samples %zu\n", c.n);
	if (c.dropped)
		printf("dropped %" PRIu64 "\n", c.dropped);
	for (int b = 0; b < NP_UNWIND_NBACKENDS; b++) {
		rc = unwind_all(&c, b, &r[b]);
		if (rc) {
			fprintf(stderr, "np_unwind_compare: %s: %s\n", np_unwind_backend_name(b),
				strerror(-rc));
			return 1;
		}
		printf("backend %s complete %" PRIu64 " rate %.2f truncated %" PRIu64
		       " errors %" PRIu64 " frames %" PRIu64 " us_per_sample %.1f\n",
		       np_unwind_backend_name(b), r[b].complete,
		       c.n ? 100.0 * (double)r[b].complete / (double)c.n : 0.0, r[b].truncated,
		       r[b].errors, r[b].frames, c.n ? (double)r[b].ns / 1e3 / (double)c.n : 0.0);
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct result *a = &r[NP_UNWIND_LIBDW], *u = &r[NP_UNWIND_LIBUNWIND];
		const uint64_t *pa = a->pcs + i * MAX_FRAMES, *pu = u->pcs + i * MAX_FRAMES;
		size_t lo = a->n[i] < u->n[i] ? a->n[i] : u->n[i];
		size_t hi = a->n[i] < u->n[i] ? u->n[i] : a->n[i];
		uint64_t same = 0;

		if (a->flags[i] || u->flags[i])
			continue;
		for (size_t k = 0; k < lo; k++)
			same += pa[k] == pu[k];
		stacks++;
		agree += same;
		compared += hi;
		if (same == hi) {
			identical++;
		} else if (verbose) {
			fprintf(stderr, "sample %zu tid %d differs:\n", i, (int)c.v[i].tid);
			print_stack(c.as, "libdw", pa, a->n[i]);
			print_stack(c.as, "libunwind", pu, u->n[i]);
		}
	}
	if (verbose > 1)
		for (size_t i = 0; i < c.n; i++)
			for (int b = 0; b < NP_UNWIND_NBACKENDS; b++)
				if (r[b].flags[i]) {
					fprintf(stderr, "sample %zu %s flags %u:", i,
						np_unwind_backend_name(b), r[b].flags[i]);
					print_stack(c.as, "", r[b].pcs + i * MAX_FRAMES, r[b].n[i]);
				}
	printf("agreement %.2f frames %" PRIu64 " stacks %" PRIu64 " identical %" PRIu64 "\n",
	       compared ? 100.0 * (double)agree / (double)compared : 0.0, compared, stacks,
	       identical);
	for (int b = 0; b < NP_UNWIND_NBACKENDS; b++)
		result_fini(&r[b]);
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].stack);
	free(c.v);
	np_addrspace_free(c.as);
	return 0;
}
