/* symbolize.h - names for addresses: user code through libdw (ELF symbol
 * tables, DWARF with inline frames and source lines, C++ demangled).
 * Kernel code is named through /proc/kallsyms (base/ksyms.h).
 *
 * Symbolization happens at the end of a recording, once per distinct pc,
 * while the target's files are still open (addrspace.c keeps them), and
 * the names are stored in the recording.  Not here: deciding which module
 * an address is in (addrspace.c) or what a frame is (classify.c).
 */
#ifndef NP_SYMBOLIZE_H
#define NP_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/cpu/addrspace.h"

struct np_sym_frame {
	const char *function; /* NULL when unknown; valid during the callback */
	const char *file;     /* NULL without line information */
	uint32_t line;
	bool inlined; /* inlined into the frame before it */
};

typedef void (*np_sym_cb)(void *arg, const struct np_sym_frame *f);

/* Calls fn for every logical frame at `addr` in module m, outermost (the
 * function the code was compiled into) first, then the functions inlined
 * into it down to the one whose code is at addr.  Sets *elf_addr to addr
 * as an address of the ELF file (what objdump and addr2line take).
 * Returns the number of frames; 0 when nothing names the address. */
int np_symbolize_user(struct np_module *m, uint64_t addr, np_sym_cb fn, void *arg,
		      uint64_t *elf_addr);
/* Module flags learnt while symbolizing (NP_MOD_DEBUG, NP_MOD_SYMTAB) and
 * the build id as hex (buf of at least 41 bytes, "" when none). */
uint32_t np_module_info(struct np_module *m, char *build_id, size_t len);

/* Demangled C++ (Itanium ABI) name in a malloc'd string, or NULL when the
 * name is not mangled or cannot be demangled. */
char *np_demangle(const char *name);

#endif /* NP_SYMBOLIZE_H */
