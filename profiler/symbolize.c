/* symbolize.c - user symbols through libdw, kernel symbols through
 * /proc/kallsyms (see symbolize.h).
 *
 * Inline frames are read the way eu-addr2line -i reads them: the DWARF
 * scopes at the pc, innermost first, each DW_TAG_inlined_subroutine one
 * logical frame whose caller's line is its DW_AT_call_file/call_line.
 */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "timeline.h"

/* libstdc++'s demangler: C linkage, in every C++ runtime. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *np_demangle(const char *name)
{
	int status = -1;
	char *out;

	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Inline chains deeper than this are cut at the outermost frames. */
#define MAX_INLINE 32

struct logical {
	const char *name;
	const char *file;
	uint32_t line;
};

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name)
		name = dwarf_diename(die);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return name;
}

/* The file and line an inlined subroutine was called from. */
static void call_site(Dwarf_Die *inl, Dwarf_Files *files, size_t nfiles, const char **file,
		      uint32_t *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(inl, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &v) == 0)
		*line = (uint32_t)v;
	if (files && dwarf_attr(inl, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &v) == 0 &&
	    v < nfiles)
		*file = dwarf_filesrc(files, v, NULL, NULL);
}

static void emit(np_sym_cb fn, void *arg, const char *name, const char *file, uint32_t line,
		 bool inlined)
{
	char *dem = np_demangle(name);
	struct np_sym_frame f = {.function = dem ? dem : name, .file = file, .line = line,
				 .inlined = inlined};

	fn(arg, &f);
	free(dem);
}

int np_symbolize_user(struct np_module *m, uint64_t addr, np_sym_cb fn, void *arg,
		      uint64_t *elf_addr)
{
	Dwfl_Module *mod = m ? m->dwmod : NULL;
	struct logical chain[MAX_INLINE];
	const char *symname, *file = NULL;
	Dwarf_Addr bias = 0, dbias = 0;
	Dwarf_Die *cudie, *scopes = NULL;
	Dwfl_Line *dl;
	GElf_Off symoff;
	GElf_Sym sym;
	int line = 0, nscopes, n = 0;

	*elf_addr = m ? addr - m->start : addr;
	if (!mod || !dwfl_module_getelf(mod, &bias))
		return 0;
	*elf_addr = addr - bias;
	dl = dwfl_module_getsrc(mod, addr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	cudie = dwfl_module_addrdie(mod, addr, &dbias);
	nscopes = cudie ? dwarf_getscopes(cudie, addr - dbias, &scopes) : 0;
	if (nscopes > 0) {
		/* dwarf_getscopes follows an inlined function into its
		 * abstract definition; the chain of the concrete tree (inline
		 * instance, blocks, the function it was inlined into) comes
		 * from the innermost DIE's own parents. */
		Dwarf_Die inner = scopes[0], *chain_dies = NULL;
		Dwarf_Files *files = NULL;
		size_t nfiles = 0;
		const char *next_file = file;
		uint32_t next_line = line > 0 ? (uint32_t)line : 0;
		int nchain;

		free(scopes);
		scopes = NULL;
		nchain = dwarf_getscopes_die(&inner, &chain_dies);
		dwarf_getsrcfiles(cudie, &files, &nfiles);
		for (int i = 0; i < nchain && n < MAX_INLINE; i++) {
			int tag = dwarf_tag(&chain_dies[i]);

			if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
				continue;
			chain[n].name = die_name(&chain_dies[i]);
			chain[n].file = next_file;
			chain[n].line = next_line;
			n++;
			if (tag == DW_TAG_subprogram)
				break;
			call_site(&chain_dies[i], files, nfiles, &next_file, &next_line);
		}
		free(chain_dies);
	}
	/* The function the code is in, by the ELF symbol table, when DWARF
	 * has no name for it (or no DWARF at all). */
	symname = dwfl_module_addrinfo(mod, addr, &symoff, &sym, NULL, NULL, NULL);
	if (n > 0 && !chain[n - 1].name)
		chain[n - 1].name = symname;
	if (n == 0 && symname) {
		chain[0] = (struct logical){symname, file, line > 0 ? (uint32_t)line : 0};
		n = 1;
	}
	for (int i = n - 1; i >= 0; i--)
		emit(fn, arg, chain[i].name, chain[i].file, chain[i].line, i != n - 1);
	free(scopes);
	return n;
}

uint32_t np_module_info(struct np_module *m, char *build_id, size_t len)
{
	const unsigned char *bits;
	GElf_Addr vaddr, bias;
	uint32_t flags = 0;
	int n;

	if (len)
		build_id[0] = '\0';
	if (!m || !m->dwmod)
		return 0;
	n = dwfl_module_build_id(m->dwmod, &bits, &vaddr);
	for (int i = 0; i < n && (size_t)(2 * i + 2) < len; i++)
		snprintf(build_id + 2 * i, 3, "%02x", bits[i]);
	if (dwfl_module_getsymtab(m->dwmod) > 0)
		flags |= NP_MOD_SYMTAB;
	if (dwfl_module_getdwarf(m->dwmod, &bias))
		flags |= NP_MOD_DEBUG;
	return flags;
}

/* ---- kallsyms ---- */

struct ksym {
	uint64_t addr;
	uint32_t name;   /* offset into names */
	uint32_t module; /* offset into names; 0 = vmlinux ("" at offset 0) */
};

struct np_kallsyms {
	struct ksym *v;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};

/* A kernel function is smaller than this; an address further past the
 * last symbol is not in it. */
#define KSYM_MAX_SIZE (1u << 20)

static long intern(struct np_kallsyms *ks, const char *s)
{
	size_t len = strlen(s) + 1;

	if (ks->names_len + len > ks->names_cap) {
		size_t cap = ks->names_cap ? ks->names_cap * 2 : 1 << 16;
		char *p;

		while (cap < ks->names_len + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -1;
		p = realloc(ks->names, cap);
		if (!p)
			return -1;
		ks->names = p;
		ks->names_cap = cap;
	}
	memcpy(ks->names + ks->names_len, s, len);
	ks->names_len += len;
	return (long)(ks->names_len - len);
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int np_kallsyms_parse(const char *text, size_t len, struct np_kallsyms **out)
{
	struct np_kallsyms *ks = calloc(1, sizeof(*ks));
	char last_module[64] = "";
	long last_module_off = 0;
	size_t pos = 0;
	bool any_addr = false;

	if (!ks || intern(ks, "") < 0)
		goto nomem;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		struct np_ksym_line kl;
		long name, mod;

		pos += ll + 1;
		if (np_parse_kallsyms_line(line, ll, &kl))
			continue;
		any_addr |= kl.addr != 0;
		if (ks->n == ks->cap) {
			size_t cap = ks->cap ? ks->cap * 2 : 4096;
			void *p = reallocarray(ks->v, cap, sizeof(*ks->v));

			if (!p)
				goto nomem;
			ks->v = p;
			ks->cap = cap;
		}
		name = intern(ks, kl.name);
		/* modules come in runs: intern each run's name once */
		if (!kl.module[0]) {
			mod = 0;
		} else if (!strcmp(kl.module, last_module)) {
			mod = last_module_off;
		} else {
			mod = intern(ks, kl.module);
			snprintf(last_module, sizeof(last_module), "%s", kl.module);
			last_module_off = mod;
		}
		if (name < 0 || mod < 0)
			goto nomem;
		ks->v[ks->n++] = (struct ksym){kl.addr, (uint32_t)name, (uint32_t)mod};
	}
	if (ks->n && !any_addr) {
		np_kallsyms_free(ks);
		return -EPERM; /* kptr_restrict: every address reads as zero */
	}
	qsort(ks->v, ks->n, sizeof(*ks->v), by_addr);
	*out = ks;
	return 0;
nomem:
	np_kallsyms_free(ks);
	return -ENOMEM;
}

int np_kallsyms_load(const char *proc_root, struct np_kallsyms **out)
{
	char path[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/proc/kallsyms", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (len + 65536 > cap) {
			size_t c = cap ? cap * 2 : 1 << 20;
			char *p = c > (256u << 20) ? NULL : realloc(buf, c);

			if (!p) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap = c;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	rc = np_kallsyms_parse(buf, len, out);
	free(buf);
	return rc;
}

void np_kallsyms_free(struct np_kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->v);
	free(ks->names);
	free(ks);
}

bool np_kallsyms_lookup(const struct np_kallsyms *ks, uint64_t addr, const char **name,
			const char **module, uint64_t *offset)
{
	size_t lo = 0, hi = ks ? ks->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - ks->v[lo - 1].addr >= KSYM_MAX_SIZE)
		return false;
	*name = ks->names + ks->v[lo - 1].name;
	*module = ks->names + ks->v[lo - 1].module;
	*offset = addr - ks->v[lo - 1].addr;
	return true;
}

size_t np_kallsyms_count(const struct np_kallsyms *ks)
{
	return ks ? ks->n : 0;
}
