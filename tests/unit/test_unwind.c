/* test_unwind.c - the unwinders, symbolizer and stack table on this very
 * process: a stack snapshot taken the way a profiler takes one (registers
 * plus a copy of the stack from sp) must unwind through functions built
 * without frame pointers and come out named, inline frames and all, with
 * either backend (libdw, libunwind), and both must give the same pcs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "profiler/cpu/addrspace.h"
#include "profiler/cpu/sampler.h"
#include "profiler/format/recording.h"
#include "profiler/cpu/stacktab.h"
#include "profiler/base/ksyms.h"
#include "profiler/cpu/symbolize.h"
#include "testutil.h"
#include "profiler/cpu/unwind.h"

#if defined(__x86_64__)

static struct {
	struct np_unwind_input in;
	uint8_t stack[16384];
} cap;

/* How many bytes above sp are still stack (the copy must not run off it). */
static size_t stack_room(uint64_t sp)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	size_t room = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi)
			room = hi - sp;
	}
	fclose(f);
	return room;
}

/* The stack above sp holds other frames' ASan redzones: copy it the way
 * the kernel does for a perf sample, unchecked. */
__attribute__((no_sanitize_address, noinline)) static void copy_stack(uint8_t *dst, uint64_t src,
								      size_t len)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)src;

	for (size_t i = 0; i < len; i++)
		dst[i] = p[i];
}

__attribute__((noinline)) static void capture(void)
{
	static const int dwarf_of_greg[][2] = {
		{0, REG_RAX},  {1, REG_RDX},  {2, REG_RCX},  {3, REG_RBX},  {4, REG_RSI},
		{5, REG_RDI},  {6, REG_RBP},  {7, REG_RSP},  {8, REG_R8},   {9, REG_R9},
		{10, REG_R10}, {11, REG_R11}, {12, REG_R12}, {13, REG_R13}, {14, REG_R14},
		{15, REG_R15}, {16, REG_RIP},
	};
	ucontext_t uc;
	size_t room;

	getcontext(&uc);
	for (size_t i = 0; i < sizeof(dwarf_of_greg) / sizeof(dwarf_of_greg[0]); i++)
		cap.in.regs[dwarf_of_greg[i][0]] =
			(uint64_t)uc.uc_mcontext.gregs[dwarf_of_greg[i][1]];
	cap.in.stack_addr = cap.in.regs[NP_UNWIND_REG_SP];
	room = stack_room(cap.in.stack_addr);
	cap.in.stack_bytes = room < sizeof(cap.stack) ? room : sizeof(cap.stack);
	copy_stack(cap.stack, cap.in.stack_addr, cap.in.stack_bytes);
	cap.in.stack = cap.stack;
}

static volatile int depth_sink;

static inline __attribute__((always_inline)) void level_inline(void)
{
	capture();
	depth_sink++;
}

__attribute__((noinline)) static void level_c(void)
{
	level_inline();
	depth_sink++;
}

__attribute__((noinline)) static void level_b(void)
{
	level_c();
	depth_sink++;
}

__attribute__((noinline)) static void level_a(void)
{
	level_b();
	depth_sink++;
}

struct names {
	char v[64][128];
	int n;
};

static void collect(void *arg, const struct np_sym_frame *f)
{
	struct names *nm = arg;

	if (nm->n < 64)
		snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s%s", f->function ? f->function : "?",
			 f->inlined ? "[i]" : "");
}

static int find(const struct names *nm, const char *name)
{
	for (int i = 0; i < nm->n; i++)
		if (!strcmp(nm->v[i], name))
			return i;
	return -1;
}

static void own_stack(enum np_unwind_backend backend)
{
	const char *bn = np_unwind_backend_name(backend);
	struct np_addrspace *as;
	struct np_unwinder *uw;
	struct names nm = {.n = 0};
	uint64_t pcs[64], elf_addr;
	unsigned flags;
	size_t n;

	level_a();
	cr_assert_eq(np_addrspace_new("", getpid(), &as), 0);
	cr_assert_eq(np_unwinder_new(as, backend, &uw), 0);
	n = np_unwind(uw, (pid_t)syscall(SYS_gettid), &cap.in, pcs, 64, &flags);
	cr_assert_geq(n, 5, "%s: only %zu frames (flags %u: %s)", bn, n, flags,
		      np_unwind_last_error(uw));
	cr_expect_eq(pcs[0], cap.in.regs[NP_UNWIND_REG_PC], "%s: pcs[0] is the sampled pc", bn);
	/* outermost frame first within each pc, innermost pc first: collect
	 * each pc's frames innermost first */
	for (size_t i = 0; i < n; i++) {
		struct names one = {.n = 0};

		np_symbolize_user(np_addrspace_find(as, pcs[i]), pcs[i], collect, &one, &elf_addr);
		for (int k = one.n - 1; k >= 0 && nm.n < 64; k--)
			memcpy(nm.v[nm.n++], one.v[k], sizeof(nm.v[0]));
	}
	int c = find(&nm, "capture"), inl = find(&nm, "level_inline[i]"), lc = find(&nm, "level_c"),
	    lb = find(&nm, "level_b"), la = find(&nm, "level_a");
	cr_expect_geq(c, 0, "%s: no capture frame", bn);
	cr_expect_eq(inl, c + 1, "%s: inline frame at %d, capture at %d", bn, inl, c);
	cr_expect_eq(lc, inl + 1, "%s", bn);
	cr_expect_eq(lb, lc + 1, "%s", bn);
	cr_expect_eq(la, lb + 1, "%s", bn);
	np_unwinder_free(uw);
	np_addrspace_free(as);
}

Test(unwind, own_stack_through_functions_without_frame_pointers)
{
	own_stack(NP_UNWIND_LIBDW);
}

Test(unwind, libunwind_own_stack_through_functions_without_frame_pointers)
{
	own_stack(NP_UNWIND_LIBUNWIND);
}

Test(unwind, both_backends_give_the_same_frames)
{
	struct np_addrspace *as;
	struct np_unwinder *dw, *lu;
	uint64_t a[64], b[64];
	unsigned fa, fb;
	size_t na, nb;

	level_a();
	cr_assert_eq(np_addrspace_new("", getpid(), &as), 0);
	cr_assert_eq(np_unwinder_new(as, NP_UNWIND_LIBDW, &dw), 0);
	cr_assert_eq(np_unwinder_new(as, NP_UNWIND_LIBUNWIND, &lu), 0);
	na = np_unwind(dw, (pid_t)syscall(SYS_gettid), &cap.in, a, 64, &fa);
	nb = np_unwind(lu, (pid_t)syscall(SYS_gettid), &cap.in, b, 64, &fb);
	cr_expect_eq(fa, 0, "libdw flags %u: %s", fa, np_unwind_last_error(dw));
	cr_expect_eq(fb, 0, "libunwind flags %u: %s", fb, np_unwind_last_error(lu));
	cr_assert_eq(na, nb, "libdw %zu frames, libunwind %zu", na, nb);
	for (size_t i = 0; i < na; i++)
		cr_expect_eq(a[i], b[i], "frame %zu: libdw %#llx, libunwind %#llx", i,
			     (unsigned long long)a[i], (unsigned long long)b[i]);
	cr_expect_eq(np_unwinder_new(as, NP_UNWIND_NBACKENDS, &dw), -EINVAL);
	np_unwinder_free(lu);
	np_unwinder_free(dw);
	np_unwinder_free(NULL);
	np_addrspace_free(as);
}

Test(unwind, unmapped_pc_and_short_copies_do_not_crash)
{
	for (int b = 0; b < NP_UNWIND_NBACKENDS; b++) {
		const char *bn = np_unwind_backend_name(b);
		struct np_addrspace *as;
		struct np_unwinder *uw;
		struct np_unwind_input in;
		uint64_t pcs[64];
		unsigned flags;
		size_t n;

		level_a();
		cr_assert_eq(np_addrspace_new("", getpid(), &as), 0);
		cr_assert_eq(np_unwinder_new(as, b, &uw), 0);
		/* a pc in no mapping, garbage on the stack */
		in = cap.in;
		in.regs[NP_UNWIND_REG_PC] = 0x10;
		n = np_unwind(uw, (pid_t)syscall(SYS_gettid), &in, pcs, 64, &flags);
		cr_expect_geq(n, 1, "%s", bn);
		cr_expect_eq(pcs[0], 0x10, "%s", bn);
		/* a copy too short to hold the caller's frame */
		in = cap.in;
		in.stack_bytes = 16;
		n = np_unwind(uw, (pid_t)syscall(SYS_gettid), &in, pcs, 64, &flags);
		cr_expect_geq(n, 1, "%s", bn);
		cr_expect(flags & (NP_UW_TRUNCATED | NP_UW_ERROR), "%s: flags %u after %zu frames",
			  bn, flags, n);
		/* no stack at all */
		in = cap.in;
		in.stack_bytes = 0;
		np_unwind(uw, (pid_t)syscall(SYS_gettid), &in, pcs, 64, &flags);
		/* room for one frame only */
		n = np_unwind(uw, (pid_t)syscall(SYS_gettid), &cap.in, pcs, 1, &flags);
		cr_expect_eq(n, 1, "%s", bn);
		cr_expect_eq(pcs[0], cap.in.regs[NP_UNWIND_REG_PC], "%s", bn);
		np_unwinder_free(uw);
		np_addrspace_free(as);
	}
}

#endif

static const char kallsyms_text[] = "ffffffff81000000 T _stext\n"
				    "ffffffff81001000 t tcp_sendmsg\n"
				    "ffffffff81002000 D some_data\n"
				    "ffffffff81003000 T handle_softirqs\n"
				    "ffffffff81004000 T schedule\n"
				    "ffffffffc0001000 t nf_conntrack_in\t[nf_conntrack]\n"
				    "ffffffffc0002000 t ext4_map_blocks\t[ext4]\n";

Test(stacktab, shares_prefixes_caps_nodes_and_writes_kernel_symbols)
{
	struct np_stacktab *st;
	struct np_ksyms *ks;
	struct np_recording *rec;
	struct np_writer *w;
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	uint64_t k1[] = {0xffffffff81001004,
			 0xffffffff81003010}; /* tcp_sendmsg < handle_softirqs */
	uint64_t k2[] = {0xffffffff81004000, 0xffffffff81003010};
	uint64_t k3[] = {0xffffffffc0001000, 0xffffffff81004000, 0xffffffff81003010};
	uint64_t pcs;
	uint32_t a, b, c;
	bool full;
	size_t n;

	cr_assert_eq(np_ksyms_parse(kallsyms_text, sizeof(kallsyms_text) - 1, &ks), 0);
	cr_assert_eq(np_stacktab_new(4, &st), 0);
	a = np_stacktab_add(st, NULL, NULL, 0, k1, 2, &full);
	cr_expect(!full);
	b = np_stacktab_add(st, NULL, NULL, 0, k2, 2, &full);
	cr_expect(!full);
	cr_expect_eq(np_stacktab_add(st, NULL, NULL, 0, k1, 2, &full), a, "same stack, same leaf");
	cr_expect_eq(np_stacktab_nodes(st), 3, "the root is shared");
	c = np_stacktab_add(st, NULL, NULL, 0, k3, 3, &full);
	cr_expect_eq(np_stacktab_nodes(st), 4);
	cr_expect(!full);
	cr_expect_neq(c, b);
	np_stacktab_add(st, NULL, NULL, 0, (uint64_t[]){0xffffffff81000000}, 1, &full);
	cr_expect(full, "the fifth node does not fit");

	t_mkdtemp(dir);
	t_pathf(path, "%s/s.nprof", dir);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta(w, "pid", "1"), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_stacktab_flush_nodes(st, w), 0);
	cr_assert_eq(np_stacktab_write_symbols(st, w, ks, &pcs), 0);
	cr_expect_eq(pcs, 5, "the pc of the stack that did not fit is known all the same");
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	const struct np_rec_frame *fr = np_recording_records(rec, NP_BLK_STACK_FRAMES, &n);
	const char *strings = np_recording_records(rec, NP_BLK_STRINGS, &(size_t){0});
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		const char *name = strings + fr[i].function;

		cr_expect(fr[i].flags & NP_FR_KERNEL);
		if (!strcmp(name, "tcp_sendmsg"))
			cr_expect_eq(fr[i].cls, NP_CLS_KNET);
		else if (!strcmp(name, "handle_softirqs"))
			cr_expect(fr[i].flags & NP_FR_SOFTIRQ);
		else if (!strcmp(name, "nf_conntrack_in"))
			cr_expect_eq(fr[i].cls, NP_CLS_KNET);
		else if (strcmp(name, "_stext"))
			cr_expect_str_eq(name, "schedule");
	}
	np_recording_records(rec, NP_BLK_STACK_NODES, &n);
	cr_expect_eq(n, 4);
	np_recording_free(rec);
	np_stacktab_free(st);
	np_ksyms_free(ks);
	t_rmtree(dir);
}

/* One pc in two address spaces (two processes): two pcs, each with a module
 * of its own space, numbered apart in the recording. */
Test(stacktab, a_pc_of_each_address_space_names_its_own_module)
{
	struct np_addrspace *as1, *as2;
	struct np_stacktab *st;
	struct np_recording *rec;
	struct np_writer *w;
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	uint64_t pc = (uint64_t)(uintptr_t)&np_stacktab_add, pcs;
	uint32_t leaf1, leaf2;
	size_t n_mods1, n_fr, n_mods;
	bool full;

	cr_assert_eq(np_addrspace_new("", getpid(), &as1), 0);
	cr_assert_eq(np_addrspace_new("", getpid(), &as2), 0);
	np_addrspace_modules(as1, &n_mods1);
	cr_assert_gt(n_mods1, 0);
	cr_assert_eq(np_stacktab_new(16, &st), 0);
	leaf1 = np_stacktab_add(st, as1, &pc, 1, NULL, 0, &full);
	leaf2 = np_stacktab_add(st, as2, &pc, 1, NULL, 0, &full);
	cr_expect_neq(leaf1, leaf2, "the same address in two processes is two pcs");
	cr_expect_eq(np_stacktab_add(st, as1, &pc, 1, NULL, 0, &full), leaf1);

	t_mkdtemp(dir);
	t_pathf(path, "%s/s.nprof", dir);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta(w, "pid", "1"), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_stacktab_flush_nodes(st, w), 0);
	cr_assert_eq(np_stacktab_write_symbols(st, w, NULL, &pcs), 0);
	cr_expect_eq(pcs, 2);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	const struct np_rec_frame *fr = np_recording_records(rec, NP_BLK_STACK_FRAMES, &n_fr);
	const struct np_rec_module *mods = np_recording_records(rec, NP_BLK_MODULES, &n_mods);
	const char *strings = np_recording_records(rec, NP_BLK_STRINGS, &(size_t){0});
	uint32_t mod_of[3] = {0};

	/* both spaces' modules, then the kernel */
	cr_assert_eq(n_mods, 2 * n_mods1 + 1);
	for (size_t i = 0; i < n_mods; i++)
		cr_expect_eq(mods[i].id, i + 1, "ids run on from one space to the next");
	for (size_t i = 0; i < n_fr; i++) {
		cr_assert(fr[i].pc == 1 || fr[i].pc == 2);
		cr_expect(!(fr[i].flags & NP_FR_NOSYM));
		cr_expect_str_eq(strings + fr[i].function, "np_stacktab_add");
		mod_of[fr[i].pc] = fr[i].module;
	}
	cr_expect_leq(mod_of[1], n_mods1, "the first space's pc is in its modules");
	cr_expect_eq(mod_of[2], mod_of[1] + n_mods1, "the second's is its own copy");
	cr_expect_str_eq(strings + mods[mod_of[1] - 1].name, strings + mods[mod_of[2] - 1].name);
	np_recording_free(rec);
	np_stacktab_free(st);
	np_addrspace_free(as2);
	np_addrspace_free(as1);
	t_rmtree(dir);
}

/* A PERF_RECORD_COMM as the kernel writes one for an exec, with the
 * sample_id trailer of the sampler's sample_type (tid, time, cpu). */
static size_t comm_record(uint8_t *buf, uint16_t misc, const char *comm)
{
	struct perf_event_header h = {.type = PERF_RECORD_COMM, .misc = misc};
	uint32_t ids[2] = {4242, 4243}, cpu[2] = {3, 0};
	uint64_t ts = 123456789;
	size_t comm_bytes = (strlen(comm) + 1 + 7) & ~(size_t)7, off = sizeof(h);

	memset(buf, 0, 128);
	memcpy(buf + off, ids, 8);
	off += 8;
	memcpy(buf + off, comm, strlen(comm));
	off += comm_bytes;
	memcpy(buf + off, ids, 8); /* the trailer's pid, tid */
	memcpy(buf + off + 8, &ts, 8);
	memcpy(buf + off + 16, cpu, 8);
	off += 24;
	h.size = (uint16_t)off;
	memcpy(buf, &h, sizeof(h));
	return off;
}

Test(sampler, parses_the_exec_record_and_rejects_a_rename_or_a_short_one)
{
	uint8_t buf[128];
	struct np_perf_exec e;
	size_t len = comm_record(buf, PERF_RECORD_MISC_COMM_EXEC, "new_image");

	cr_assert_eq(np_perf_parse_exec(buf, len, &e), 0);
	cr_expect_eq(e.pid, 4242);
	cr_expect_eq(e.tid, 4243);
	cr_expect_eq(e.ts_ns, 123456789);
	cr_expect_eq(np_perf_parse_exec(buf, len - 1, &e), -EINVAL, "the record runs past len");
	cr_expect_eq(np_perf_parse_exec(buf, 4, &e), -EINVAL, "no whole header");
	/* prctl(PR_SET_NAME) also writes a COMM record: not an exec */
	len = comm_record(buf, 0, "renamed");
	cr_expect_eq(np_perf_parse_exec(buf, len, &e), -EINVAL);
	/* a header claiming less than pid, tid, comm and trailer */
	len = comm_record(buf, PERF_RECORD_MISC_COMM_EXEC, "x");
	((struct perf_event_header *)buf)->size = sizeof(struct perf_event_header) + 8 + 8 + 23;
	cr_expect_eq(np_perf_parse_exec(buf, len, &e), -EINVAL);
	buf[0] = PERF_RECORD_SAMPLE;
	cr_expect_eq(np_perf_parse_exec(buf, len, &e), -EINVAL);
}
