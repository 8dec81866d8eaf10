/* sampler.c - perf_event cpu-clock sampling of the target's threads
 * (see sampler.h).
 *
 * Ring protocol: the kernel advances data_head, we read records from
 * data_tail up to it and then publish data_tail, with the barriers of
 * perf's own tools (acquire on head, release on tail).  A record that
 * wraps around the end of the ring is copied out whole first.
 */
#include "profiler/cpu/sampler.h"
#include "profiler/cpu/unwind.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <asm/perf_regs.h>

#include "profiler/base/array.h"
#include "profiler/base/procfs.h"
#endif

struct ring {
	int fd;
	uint32_t tid;       /* the thread the event was opened on */
	uint64_t opened_ns; /* CLOCK_MONOTONIC at open */
	struct perf_event_mmap_page *meta;
	uint8_t *data;
	size_t data_bytes;
	bool closed;
};

struct np_cpu_sampler {
	struct np_cpu_sampler_opts o;
	struct perf_event_attr attr;
	uint32_t n_regs;
	int ep;
	struct ring *rings;
	size_t n_rings, cap_rings;
	/* tid -> ring index + 1, open addressing */
	uint32_t *tid_keys, *tid_vals;
	size_t tid_cap;
	struct np_cpu_sampler_stats st;
	uint8_t *copy; /* a wrapped record, reassembled */
	np_exec_cb on_exec;
	void *on_exec_arg;
	size_t page;
};

uint64_t np_cpu_sampler_regs_mask(uint32_t *n_regs)
{
#if defined(__x86_64__)
	uint64_t mask = 0;

	for (int r = PERF_REG_X86_AX; r <= PERF_REG_X86_IP; r++)
		mask |= 1ull << r;
	for (int r = PERF_REG_X86_R8; r <= PERF_REG_X86_R15; r++)
		mask |= 1ull << r;
	*n_regs = (uint32_t)__builtin_popcountll(mask);
	return mask;
#else
	*n_regs = 0;
	return 0;
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* perf's register order -> DWARF numbering (unwind.h). */
void np_perf_sample_unwind_input(const struct np_perf_sample *s, struct np_unwind_input *in)
{
	memset(in, 0, sizeof(*in));
#if defined(__x86_64__)
	/* Mask bit order: ax bx cx dx si di bp sp ip r8..r15. */
	static const int dwarf_of[] = {0, 3, 2, 1, 4, 5, 6, 7, 16, 8, 9, 10, 11, 12, 13, 14, 15};

	for (uint32_t i = 0; i < s->n_regs && i < sizeof(dwarf_of) / sizeof(dwarf_of[0]); i++)
		in->regs[dwarf_of[i]] = s->regs[i];
#endif
	in->stack = s->stack;
	in->stack_bytes = s->stack_bytes;
	in->stack_addr = in->regs[NP_UNWIND_REG_SP];
}

int np_perf_parse_sample(const void *rec, size_t len, uint32_t n_regs, struct np_perf_sample *out)
{
	const uint8_t *p = rec, *end;
	struct perf_event_header h;
	uint32_t res;
	uint64_t v;

#define TAKE(dst, n) \
	do { \
		if ((size_t)(end - p) < (n)) \
			return -EINVAL; \
		memcpy((dst), p, (n)); \
		p += (n); \
	} while (0)

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	if (h.type != PERF_RECORD_SAMPLE || h.size < sizeof(h) || h.size > len)
		return -EINVAL;
	end = p + h.size;
	p += sizeof(h);
	out->kernel_mode = (h.misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;
	TAKE(&out->ip, 8);
	TAKE(&out->pid, 4);
	TAKE(&out->tid, 4);
	TAKE(&out->ts_ns, 8);
	TAKE(&out->cpu, 4);
	TAKE(&res, 4);
	TAKE(&out->n_callchain, 8);
	if (out->n_callchain > (size_t)(end - p) / 8)
		return -EINVAL;
	out->callchain = (const uint64_t *)p;
	p += out->n_callchain * 8;
	TAKE(&out->regs_abi, 8);
	if (out->regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
		if ((size_t)(end - p) / 8 < n_regs)
			return -EINVAL;
		out->regs = (const uint64_t *)p;
		out->n_regs = n_regs;
		p += (size_t)n_regs * 8;
	}
	TAKE(&v, 8); /* stack size as asked */
	if (v) {
		uint64_t dyn;

		if (v > (size_t)(end - p) || (size_t)(end - p) - v < 8)
			return -EINVAL;
		out->stack = p;
		p += v;
		TAKE(&dyn, 8);
		out->stack_bytes = dyn < v ? dyn : v;
	}
#undef TAKE
	return 0;
}

/* The sample_id trailer sample_id_all appends to non-sample records, for
 * the sampler's sample_type: {pid, tid}, time, {cpu, res}. */
#define SAMPLE_ID_BYTES 24

int np_perf_parse_exec(const void *rec, size_t len, struct np_perf_exec *out)
{
	const uint8_t *p = rec;
	struct perf_event_header h;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	/* header, pid and tid, at least 8 bytes of NUL-padded comm, trailer */
	if (h.type != PERF_RECORD_COMM || !(h.misc & PERF_RECORD_MISC_COMM_EXEC) || h.size > len ||
	    h.size < sizeof(h) + 8 + 8 + SAMPLE_ID_BYTES)
		return -EINVAL;
	memcpy(&out->pid, p + sizeof(h), 4);
	memcpy(&out->tid, p + sizeof(h) + 4, 4);
	memcpy(&out->ts_ns, p + h.size - SAMPLE_ID_BYTES + 8, 8);
	return 0;
}

static size_t tid_slot(struct np_cpu_sampler *s, uint32_t tid)
{
	size_t j = (tid * 2654435761u) & (s->tid_cap - 1);

	while (s->tid_keys[j] && s->tid_keys[j] != tid)
		j = (j + 1) & (s->tid_cap - 1);
	return j;
}

static int ring_of_tid(struct np_cpu_sampler *s, uint32_t tid)
{
	size_t j = tid_slot(s, tid);

	return s->tid_keys[j] ? (int)s->tid_vals[j] - 1 : -1;
}

int np_cpu_sampler_new(const struct np_cpu_sampler_opts *o, struct np_cpu_sampler **out)
{
	struct np_cpu_sampler *s;
	uint64_t mask;

	mask = np_cpu_sampler_regs_mask(&(uint32_t){0});
	if (!mask)
		return -ENOTSUP; /* no register map for this architecture */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	/* a power of two at least twice the thread cap */
	for (s->tid_cap = 64; s->tid_cap < 2 * (size_t)o->max_threads; s->tid_cap *= 2)
		;
	s->tid_keys = calloc(s->tid_cap, sizeof(*s->tid_keys));
	s->tid_vals = calloc(s->tid_cap, sizeof(*s->tid_vals));
	s->copy = malloc(1 << 16);
	if (s->ep < 0 || !s->tid_keys || !s->tid_vals || !s->copy) {
		np_cpu_sampler_free(s);
		return -ENOMEM;
	}
	struct perf_event_attr *a = &s->attr;

	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	a->freq = 1;
	a->sample_freq = o->frequency_hz;
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |
			 PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	a->sample_regs_user = np_cpu_sampler_regs_mask(&s->n_regs);
	a->sample_stack_user = o->stack_bytes;
	a->exclude_callchain_user = 1; /* user stacks come from DWARF, not frame pointers */
	a->sample_max_stack = 64;
	a->exclude_hv = 1;
	a->inherit = 0; /* mmap of inherited per-thread events is refused */
	/* An exec is told in the thread's own ring, between its last sample
	 * of the old image and its first of the new (np_perf_parse_exec). */
	a->comm = 1;
	a->comm_exec = 1;
	a->sample_id_all = 1;
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)((size_t)o->ring_pages * s->page / 2);
	*out = s;
	return 0;
}

int np_cpu_sampler_add_thread(struct np_cpu_sampler *s, pid_t tid)
{
	struct epoll_event ev = {.events = EPOLLIN};
	size_t map_bytes = (size_t)(s->o.ring_pages + 1) * s->page, j;
	struct ring *r;
	void *map;
	int fd, rc;

	if (ring_of_tid(s, (uint32_t)tid) >= 0)
		return 0;
	if (s->n_rings >= s->o.max_threads) {
		s->st.failed++;
		return -ENOSPC;
	}
	if (NP_GROW(s->rings, s->cap_rings, s->n_rings + 1))
		return -ENOMEM;
	fd = (int)syscall(SYS_perf_event_open, &s->attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	r = &s->rings[s->n_rings];
	*r = (struct ring){
		.fd = fd,
		.tid = (uint32_t)tid,
		.opened_ns = mono_ns(),
		.meta = map,
		.data = (uint8_t *)map + s->page,
		.data_bytes = (size_t)s->o.ring_pages * s->page,
	};
	ev.data.u32 = (uint32_t)s->n_rings;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	j = tid_slot(s, (uint32_t)tid);
	s->tid_keys[j] = (uint32_t)tid;
	s->tid_vals[j] = (uint32_t)s->n_rings + 1;
	s->n_rings++;
	s->st.threads++;
	return 0;
fail:
	/* ESRCH: the thread exited between the scan and the open. */
	if (rc != -ESRCH) {
		s->st.failed++;
		if (!s->st.first_error)
			s->st.first_error = rc;
	}
	return rc;
}

struct scan_arg {
	struct np_cpu_sampler *s;
	int opened, err;
};

static void scan_task(void *arg, uint32_t tid)
{
	struct scan_arg *a = arg;
	int rc;

	if (ring_of_tid(a->s, tid) >= 0)
		return;
	rc = np_cpu_sampler_add_thread(a->s, (pid_t)tid);
	if (!rc)
		a->opened++;
	else if (rc != -ESRCH && !a->err)
		a->err = rc;
}

int np_cpu_sampler_scan(struct np_cpu_sampler *s, const char *proc_root, pid_t pid)
{
	struct scan_arg a = {.s = s};
	int rc = np_proc_tasks(proc_root, (int)pid, scan_task, &a);

	if (rc)
		return rc;
	return a.opened || !a.err ? a.opened : a.err;
}

int np_cpu_sampler_fd(const struct np_cpu_sampler *s)
{
	return s->ep;
}

static void handle(struct np_cpu_sampler *s, const struct ring *r, const uint8_t *rec, size_t len,
		   np_sample_cb cb, void *arg)
{
	struct perf_event_header h;
	struct np_perf_sample smp;

	memcpy(&h, rec, sizeof(h));
	switch (h.type) {
	case PERF_RECORD_SAMPLE:
		if (np_perf_parse_sample(rec, len, s->n_regs, &smp))
			return;
		/* per-thread events, not inherited: the thread opened on */
		if (smp.tid != r->tid) {
			s->st.foreign++;
			return;
		}
		cb(arg, &smp);
		break;
	case PERF_RECORD_LOST:
		if (len >= sizeof(h) + 16) {
			uint64_t lost;

			memcpy(&lost, rec + sizeof(h) + 8, 8);
			s->st.lost += lost;
		}
		break;
	case PERF_RECORD_THROTTLE:
		s->st.throttled++;
		break;
	case PERF_RECORD_COMM: {
		struct np_perf_exec e;

		if (s->on_exec && !np_perf_parse_exec(rec, len, &e))
			s->on_exec(s->on_exec_arg, &e);
		break;
	}
	default:
		break;
	}
}

static void drain_ring(struct np_cpu_sampler *s, struct ring *r, np_sample_cb cb, void *arg)
{
	uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->meta->data_tail;
	size_t mask = r->data_bytes - 1;

	while (tail < head) {
		struct perf_event_header h;
		size_t off = tail & mask, first;
		const uint8_t *rec;

		if (head - tail < sizeof(h))
			break;
		/* the header itself may wrap */
		first = r->data_bytes - off;
		if (first >= sizeof(h)) {
			memcpy(&h, r->data + off, sizeof(h));
		} else {
			memcpy(&h, r->data + off, first);
			memcpy((uint8_t *)&h + first, r->data, sizeof(h) - first);
		}
		if (h.size < sizeof(h) || h.size > head - tail)
			break; /* never happens with a sane kernel; stop rather than loop */
		if (first >= h.size) {
			rec = r->data + off;
		} else {
			memcpy(s->copy, r->data + off, first);
			memcpy(s->copy + first, r->data, h.size - first);
			rec = s->copy;
		}
		handle(s, r, rec, h.size, cb, arg);
		tail += h.size;
	}
	__atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
}

static void close_ring(struct np_cpu_sampler *s, struct ring *r)
{
	if (r->closed)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, r->fd, NULL);
	munmap(r->meta, r->data_bytes + s->page);
	close(r->fd);
	r->closed = true;
}

void np_cpu_sampler_on_exec(struct np_cpu_sampler *s, np_exec_cb cb, void *arg)
{
	s->on_exec = cb;
	s->on_exec_arg = arg;
}

void np_cpu_sampler_drain(struct np_cpu_sampler *s, np_sample_cb cb, void *arg)
{
	struct epoll_event evs[64];
	int n;

	/* Clear the readiness of the rings that woke us, then read them all:
	 * a ring below its watermark still has samples.  The ring of a thread
	 * that exited stays mapped, since threads it created write into it,
	 * but leaves the epoll set: it would report EPOLLHUP forever. */
	do {
		n = epoll_wait(s->ep, evs, 64, 0);
		for (int i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u32;

			if (idx < s->n_rings && evs[i].events & (EPOLLHUP | EPOLLERR))
				epoll_ctl(s->ep, EPOLL_CTL_DEL, s->rings[idx].fd, NULL);
		}
	} while (n == 64);
	for (size_t i = 0; i < s->n_rings; i++)
		if (!s->rings[i].closed)
			drain_ring(s, &s->rings[i], cb, arg);
}

/* The kernel turns a cpu-clock event's frequency into a fixed hrtimer
 * period when it opens the event and clears attr.freq
 * (perf_swevent_init_hrtimer), so PERF_EVENT_IOC_PERIOD then takes a period
 * in ns, not a frequency: a frequency passed there would be taken as a
 * period of a few ns and the event would fire at the hrtimer's floor. */
int np_cpu_sampler_set_frequency(struct np_cpu_sampler *s, uint32_t hz)
{
	uint64_t v = hz ? 1000000000ull / hz : 0;
	int rc = 0;

	if (!hz)
		return -EINVAL;
	s->o.frequency_hz = hz;
	s->attr.sample_freq = hz;
	for (size_t i = 0; i < s->n_rings; i++)
		if (!s->rings[i].closed && ioctl(s->rings[i].fd, PERF_EVENT_IOC_PERIOD, &v) < 0 &&
		    !rc)
			rc = -errno;
	return rc;
}

void np_cpu_sampler_disable(struct np_cpu_sampler *s)
{
	for (size_t i = 0; i < s->n_rings; i++)
		if (!s->rings[i].closed)
			ioctl(s->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
}

void np_cpu_sampler_stats(const struct np_cpu_sampler *s, struct np_cpu_sampler_stats *st)
{
	*st = s->st;
}

void np_cpu_sampler_free(struct np_cpu_sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_rings; i++)
		close_ring(s, &s->rings[i]);
	if (s->ep >= 0)
		close(s->ep);
	free(s->rings);
	free(s->tid_keys);
	free(s->tid_vals);
	free(s->copy);
	free(s);
}
