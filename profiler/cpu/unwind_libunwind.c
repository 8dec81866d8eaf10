/* unwind_libunwind.c - the libunwind unwinding backend (unwind.h), chosen
 * with --unwinder libunwind.  Modelled on perf's unwind-libunwind-local.c.
 *
 * libunwind's remote unwinding (unw_create_addr_space) works through
 * accessors, and here they answer from the sample alone:
 *   access_reg      the sampled registers (libunwind's x86_64 numbering is
 *                   the DWARF numbering of unwind.h);
 *   access_mem      the stack snapshot, and for any other address the
 *                   bytes of the module's file mapped there (the CFI tables
 *                   and code libunwind reads): never the live process;
 *   find_proc_info  the module's .eh_frame_hdr binary search table, handed
 *                   to dwarf_search_unwind_table as a remote table; then
 *                   .debug_frame through dwarf_find_debug_frame where
 *                   libunwind was built with it (not Debian's x86_64
 *                   libunwind 1.6, as perf's NO_LIBUNWIND_DEBUG_FRAME).
 * Where no module has CFI for a pc (JIT code), libunwind falls back to the
 * frame pointer, as libdw does.  The address space caches what it learnt
 * per pc (UNW_CACHE_GLOBAL); modules are only ever added to np_addrspace,
 * so that stays true.
 */
#include "profiler/cpu/unwind_walk.h"

#include <errno.h>
#include <gelf.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>

#if NP_UNWIND_SUPPORTED
_Static_assert(UNW_X86_64_RSP == NP_UNWIND_REG_SP && UNW_X86_64_RIP == NP_UNWIND_REG_PC &&
		       UNW_TDEP_LAST_REG + 1 == NP_UNWIND_NREGS,
	       "libunwind's x86_64 registers are numbered as DWARF numbers them");
#endif

/* Not in libunwind's public headers; exported by it all the same (perf
 * declares them the same way). */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);
#define dwarf_search_unwind_table UNW_OBJ(dwarf_search_unwind_table)
#ifdef NP_HAVE_LIBUNWIND_DEBUG_FRAME
extern int UNW_OBJ(dwarf_find_debug_frame)(int found, unw_dyn_info_t *di_debug, unw_word_t ip,
					   unw_word_t segbase, const char *obj_name,
					   unw_word_t start, unw_word_t end);
#define dwarf_find_debug_frame UNW_OBJ(dwarf_find_debug_frame)
#endif

#define MAX_LOADS 8

/* .eh_frame_hdr encodings (DW_EH_PE_*) */
#define PE_OMIT 0xff
#define PE_FORMAT 0x0f
#define PE_ABSPTR 0x00
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_DATAREL 0x30

/* What this backend learnt of one module, on first use. */
struct mod_cfi {
	bool probed;
	bool have_table;     /* .eh_frame_hdr with its binary search table */
	uint64_t segbase;    /* address of .eh_frame_hdr */
	uint64_t table_data; /* address of the table */
	uint64_t table_len;  /* in words */
	const uint8_t *raw;  /* the file's bytes, owned by libelf */
	size_t raw_bytes;
	uint64_t bias; /* address = p_vaddr + bias */
	unsigned n_loads;
	struct {
		uint64_t vaddr, filesz, offset;
	} loads[MAX_LOADS];
};

struct libunwind_unwinder {
	struct np_addrspace *as; /* borrowed */
	unw_addr_space_t uas;
	struct mod_cfi *cfi; /* by module id - 1 */
	size_t n_cfi;
	struct np_unwind_walk *w; /* the walk in progress */
};

/* Copies len bytes at the module's address addr out of its file; bytes
 * past the file's part of the segment (.bss) read as zero. */
static bool cfi_read(const struct mod_cfi *mc, uint64_t addr, void *dst, size_t len)
{
	uint64_t a = addr - mc->bias;

	for (unsigned i = 0; i < mc->n_loads; i++) {
		uint64_t off, have;

		if (a < mc->loads[i].vaddr || a - mc->loads[i].vaddr >= mc->loads[i].filesz)
			continue;
		off = mc->loads[i].offset + (a - mc->loads[i].vaddr);
		if (off >= mc->raw_bytes)
			return false;
		have = mc->loads[i].filesz - (a - mc->loads[i].vaddr);
		if (have > mc->raw_bytes - off)
			have = mc->raw_bytes - off;
		if (have > len)
			have = len;
		memcpy(dst, mc->raw + off, have);
		memset((uint8_t *)dst + have, 0, len - have);
		return true;
	}
	return false;
}

/* One encoded value of .eh_frame_hdr at *pos; false for an encoding the
 * table cannot use. */
static bool read_encoded(const struct mod_cfi *mc, uint64_t *pos, uint8_t enc, uint64_t *val)
{
	uint8_t b[8];
	size_t len;

	switch (enc & PE_FORMAT) {
	case PE_ABSPTR:
	case PE_UDATA8:
	case PE_SDATA8:
		len = 8;
		break;
	case PE_UDATA4:
	case PE_SDATA4:
		len = 4;
		break;
	case PE_UDATA2:
	case PE_SDATA2:
		len = 2;
		break;
	default:
		return false;
	}
	if (!cfi_read(mc, *pos, b, len))
		return false;
	*val = 0;
	memcpy(val, b, len); /* little endian, as every supported target */
	*pos += len;
	return true;
}

/* Finds the module's file bytes, its loads and its .eh_frame_hdr table. */
static void probe(struct mod_cfi *mc, const struct np_module *m)
{
	uint64_t hdr = 0, pos, eh_frame, count;
	uint8_t h[4];
	size_t n_phdrs;
	Dwarf_Addr bias;
	Elf *elf;

	mc->probed = true;
	if (!m->dwmod || !(elf = dwfl_module_getelf(m->dwmod, &bias)))
		return;
	mc->raw = (const uint8_t *)elf_rawfile(elf, &mc->raw_bytes);
	if (!mc->raw || elf_getphdrnum(elf, &n_phdrs))
		return;
	mc->bias = bias;
	for (size_t i = 0; i < n_phdrs; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && mc->n_loads < MAX_LOADS) {
			mc->loads[mc->n_loads].vaddr = ph.p_vaddr;
			mc->loads[mc->n_loads].filesz = ph.p_filesz;
			mc->loads[mc->n_loads].offset = ph.p_offset;
			mc->n_loads++;
		} else if (ph.p_type == PT_GNU_EH_FRAME) {
			hdr = ph.p_vaddr + bias;
		}
	}
	/* version 1, then the encodings of eh_frame_ptr, fde_count and the
	 * table; libunwind reads the table as pairs of datarel sdata4. */
	if (!hdr || !cfi_read(mc, hdr, h, sizeof(h)) || h[0] != 1 ||
	    h[3] != (PE_DATAREL | PE_SDATA4) || h[2] == PE_OMIT)
		return;
	pos = hdr + 4;
	if (!read_encoded(mc, &pos, h[1], &eh_frame) || !read_encoded(mc, &pos, h[2], &count) ||
	    !count)
		return;
	mc->segbase = hdr;
	mc->table_data = pos;
	mc->table_len = count * 2 * sizeof(int32_t) / sizeof(unw_word_t);
	mc->have_table = true;
}

static struct mod_cfi *cfi_of(struct libunwind_unwinder *u, const struct np_module *m)
{
	struct mod_cfi *mc;

	if (m->id > u->n_cfi) {
		size_t n = u->n_cfi ? u->n_cfi : 16;
		void *p;

		while (n < m->id)
			n *= 2;
		p = reallocarray(u->cfi, n, sizeof(*u->cfi));
		if (!p)
			return NULL;
		u->cfi = p;
		memset(u->cfi + u->n_cfi, 0, (n - u->n_cfi) * sizeof(*u->cfi));
		u->n_cfi = n;
	}
	mc = &u->cfi[m->id - 1];
	if (!mc->probed)
		probe(mc, m);
	return mc;
}

static int find_proc_info(unw_addr_space_t uas, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, void *arg)
{
	struct libunwind_unwinder *u = arg;
	struct np_module *m = np_addrspace_find(u->as, ip);
	struct mod_cfi *mc = m ? cfi_of(u, m) : NULL;
	int rc = -UNW_ENOINFO;

	if (!mc)
		return -UNW_ENOINFO;
	if (mc->have_table) {
		unw_dyn_info_t di = {
			.format = UNW_INFO_FORMAT_REMOTE_TABLE,
			.start_ip = m->start,
			.end_ip = m->end,
			.u.rti = {.segbase = mc->segbase,
				  .table_data = mc->table_data,
				  .table_len = mc->table_len},
		};

		rc = dwarf_search_unwind_table(uas, ip, &di, pi, need_unwind_info, arg);
	}
#ifdef NP_HAVE_LIBUNWIND_DEBUG_FRAME
	if (rc < 0 && !(m->flags & NP_MOD_VDSO)) {
		unw_dyn_info_t di;
		/* .debug_frame addresses are the file's: relocate by the bias */
		memset(&di, 0, sizeof(di));
		if (dwarf_find_debug_frame(0, &di, ip, mc->bias, m->path, m->start, m->end))
			rc = dwarf_search_unwind_table(uas, ip, &di, pi, need_unwind_info, arg);
	}
#endif
	return rc;
}

static void put_unwind_info(unw_addr_space_t uas, unw_proc_info_t *pi, void *arg)
{
	(void)uas;
	(void)pi;
	(void)arg;
}

static int get_dyn_info_list_addr(unw_addr_space_t uas, unw_word_t *addr, void *arg)
{
	(void)uas;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int access_mem(unw_addr_space_t uas, unw_word_t addr, unw_word_t *valp, int write, void *arg)
{
	struct libunwind_unwinder *u = arg;
	const struct np_unwind_input *in = u->w->in;
	struct np_module *m;
	struct mod_cfi *mc;
	uint64_t v;

	(void)uas;
	if (write)
		return -UNW_EINVAL;
	/* The stack first: it is most of the reads. */
	if (addr >= in->stack_addr && addr - in->stack_addr < in->stack_bytes) {
		if (!np_unwind_walk_read(u->w, addr, &v))
			return -UNW_EINVAL;
		*valp = v;
		return 0;
	}
	/* CFI tables and code: from the module's file (the vdso lies just
	 * above the stack, so this comes before the truncation check). */
	m = np_addrspace_find(u->as, addr);
	mc = m ? cfi_of(u, m) : NULL;
	if (mc && cfi_read(mc, addr, valp, sizeof(*valp)))
		return 0;
	np_unwind_walk_read(u->w, addr, &v); /* flags a read past the copy */
	return -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t uas, unw_regnum_t regnum, unw_word_t *valp, int write,
		      void *arg)
{
	struct libunwind_unwinder *u = arg;

	(void)uas;
	if (write)
		return -UNW_EREADONLYREG;
	if (regnum < 0 || regnum >= NP_UNWIND_NREGS)
		return -UNW_EBADREG;
	*valp = u->w->in->regs[regnum];
	return 0;
}

static int access_fpreg(unw_addr_space_t uas, unw_regnum_t regnum, unw_fpreg_t *val, int write,
			void *arg)
{
	(void)uas;
	(void)regnum;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EINVAL;
}

static int resume(unw_addr_space_t uas, unw_cursor_t *c, void *arg)
{
	(void)uas;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t uas, unw_word_t addr, char *buf, size_t len,
			 unw_word_t *offp, void *arg)
{
	(void)uas;
	(void)addr;
	(void)buf;
	(void)len;
	(void)offp;
	(void)arg;
	return -UNW_EINVAL;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

static int libunwind_create(struct np_addrspace *as, void **priv)
{
	struct libunwind_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->as = as;
	u->uas = unw_create_addr_space(&accessors, 0);
	if (!u->uas) {
		free(u);
		return -ENOMEM;
	}
	unw_set_caching_policy(u->uas, UNW_CACHE_GLOBAL);
	*priv = u;
	return 0;
}

static void libunwind_destroy(void *priv)
{
	struct libunwind_unwinder *u = priv;

	if (!u)
		return;
	unw_destroy_addr_space(u->uas);
	free(u->cfi);
	free(u);
}

static int libunwind_walk(void *priv, pid_t tid, struct np_unwind_walk *w)
{
	struct libunwind_unwinder *u = priv;
	unw_cursor_t c;
	unw_word_t pc;
	int rc;

	(void)tid;
	u->w = w;
	rc = unw_init_remote(&c, u->uas, u);
	if (rc < 0)
		goto out;
	if (unw_get_reg(&c, UNW_REG_IP, &pc) < 0 || !np_unwind_walk_add(w, pc, true))
		goto out;
	for (;;) {
		/* the frame a signal interrupted resumes at its pc, not after
		 * a call (dwfl_frame_pc's "activation") */
		bool activation = unw_is_signal_frame(&c) > 0;

		rc = unw_step(&c);
		if (rc <= 0)
			break;
		if (unw_get_reg(&c, UNW_REG_IP, &pc) < 0 || pc == 0) {
			rc = 0;
			break;
		}
		if (!np_unwind_walk_add(w, pc, activation))
			break;
	}
out:
	u->w = NULL;
	if (rc < 0) {
		w->error = unw_strerror(rc);
		return -1;
	}
	return 0;
}

const struct np_unwind_backend_ops np_unwind_libunwind_ops = {
	.name = "libunwind",
	.create = libunwind_create,
	.destroy = libunwind_destroy,
	.walk = libunwind_walk,
};
