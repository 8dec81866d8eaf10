/* symbolize.c - user symbols through libdw (see symbolize.h); kernel
 * symbols are base/ksyms.c's.
 *
 * Inline frames are read the way eu-addr2line -i reads them: the DWARF
 * scopes at the pc, innermost first, each DW_TAG_inlined_subroutine one
 * logical frame whose caller's line is its DW_AT_call_file/call_line.
 */
#include "profiler/cpu/symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/timeline.h"

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
	struct np_sym_frame f = {.function = dem ? dem : name,
				 .file = file,
				 .line = line,
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
