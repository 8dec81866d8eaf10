/* symbolize.c - user symbols through libdw, kernel symbols through
 * /proc/kallsyms (see symbolize.h).
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

#include "profiler/base/procfs.h"
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
	char *names; /* the text read, names NUL-terminated in place */
	size_t names_len;
};

/* A kernel function is smaller than this; an address further past the
 * last symbol is not in it. */
#define KSYM_MAX_SIZE (1u << 20)

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One pass over the text, in place: names stay where they are in the
 * buffer (their ends overwritten with NULs), since the kernel's table has
 * over 100,000 lines and is read at the end of every recording.  Same
 * rules as np_parse_kallsyms_line() (procfs.c).  Takes ownership of buf
 * (len bytes, one more allocated for a final NUL). */
static int parse_inplace(char *buf, size_t len, struct np_kallsyms **out)
{
	struct np_kallsyms *ks = calloc(1, sizeof(*ks));
	char *p = buf, *end = buf + len;
	bool any_addr = false, sorted = true;
	uint64_t prev = 0;

	if (!ks) {
		free(buf);
		return -ENOMEM;
	}
	ks->names = buf;
	ks->names_len = len + 1;
	buf[len] = '\0';
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		char *q = p, *nm, *md = NULL;
		uint64_t addr = 0;
		int digits = 0, d;
		char type;

		p = nl ? nl + 1 : end;
		while (q < le && (d = hexdig(*q)) >= 0 && digits < 17) {
			addr = addr << 4 | (uint64_t)d;
			q++;
			digits++;
		}
		if (!digits || digits > 16 || le - q < 4 || q[0] != ' ' || q[2] != ' ')
			continue;
		type = q[1];
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		nm = q + 3;
		for (q = nm; q < le && *q != ' ' && *q != '\t'; q++)
			;
		if (q == nm)
			continue;
		if (q < le) {
			*q++ = '\0';
			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			if (le - q >= 3 && *q == '[' && le[-1] == ']' && !memchr(q, ' ', (size_t)(le - q))) {
				md = q + 1;
				le[-1] = '\0';
			}
		} else {
			*le = '\0'; /* the newline, or the final NUL */
		}
		any_addr |= addr != 0;
		sorted &= addr >= prev;
		prev = addr;
		if (ks->n == ks->cap) {
			size_t cap = ks->cap ? ks->cap * 2 : 4096;
			void *np = reallocarray(ks->v, cap, sizeof(*ks->v));

			if (!np) {
				np_kallsyms_free(ks);
				return -ENOMEM;
			}
			ks->v = np;
			ks->cap = cap;
		}
		/* offset len (the final NUL) is "" */
		ks->v[ks->n++] = (struct ksym){addr, (uint32_t)(nm - buf),
					       md ? (uint32_t)(md - buf) : (uint32_t)len};
	}
	if (ks->n && !any_addr) {
		np_kallsyms_free(ks);
		return -EPERM; /* kptr_restrict: every address reads as zero */
	}
	if (!sorted)
		qsort(ks->v, ks->n, sizeof(*ks->v), by_addr);
	*out = ks;
	return 0;
}

int np_kallsyms_parse(const char *text, size_t len, struct np_kallsyms **out)
{
	char *buf;

	if (len >= UINT32_MAX)
		return -E2BIG;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	return parse_inplace(buf, len, out);
}

int np_kallsyms_load(const char *proc_root, struct np_kallsyms **out)
{
	char path[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/proc/kallsyms", proc_root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (len + (1 << 20) + 1 > cap) {
			size_t c = cap ? cap * 2 : 16u << 20;
			char *p = c > (1u << 30) ? NULL : realloc(buf, c);

			if (!p) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap = c;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	return parse_inplace(buf, len, out);
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
