/* addrspace.h - the target process's address space as libdwfl sees it:
 * its mappings from /proc/PID/maps grouped into modules (executable,
 * libraries, vdso, anonymous executable memory), each reported to one Dwfl
 * so the unwinder finds CFI and the symbolizer finds symbols and DWARF.
 *
 * ELF files are opened through /proc/PID/map_files/START-END, which names
 * the file that is really mapped even when it was deleted or replaced on
 * disk since (a package upgrade under a running service), and kept open
 * for the life of the address space, so symbolizing works after the
 * process exits.  Modules are only ever added: a pc keeps pointing at the
 * module it was seen in.  An address space is of one image: after an
 * execve the process gets a new one (cpucoll.c), and the old one, kept for
 * the stacks recorded in it, opens a file it had not opened yet by path
 * when the range in map_files now holds another inode.
 *
 * Not here: unwinding (unwind.c) and naming (symbolize.c).
 */
#ifndef NP_ADDRSPACE_H
#define NP_ADDRSPACE_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct np_addrspace;

struct np_module {
	uint32_t id;    /* from 1, in the order modules were found */
	uint32_t flags; /* NP_MOD_* (timeline.h) */
	char *path;     /* "/usr/sbin/nginx", "[vdso]", "[anon]" */
	uint64_t start, end;
	uint64_t map_start, map_end; /* the mapping of file offset 0, for map_files */
	uint64_t inode;
	Dwfl_Module *dwmod;      /* NULL for anonymous memory */
	struct np_addrspace *as; /* borrowed: the address space that owns this module */
	bool used;               /* some recorded pc is in it */
	void *image;             /* the vdso, copied out of the process */
	size_t image_bytes;
};

struct np_addrspace;

/* Reads the maps of `pid` (under proc_root, "" on a live system) and
 * reports its modules.  Returns 0 or -errno. */
int np_addrspace_new(const char *proc_root, pid_t pid, struct np_addrspace **out);
void np_addrspace_free(struct np_addrspace *as);
/* Re-reads the maps and reports modules that appeared (dlopen, JIT).
 * Rate-limited: does nothing when called again within min_interval_ns. */
int np_addrspace_refresh(struct np_addrspace *as, uint64_t now_ns, uint64_t min_interval_ns);
Dwfl *np_addrspace_dwfl(struct np_addrspace *as);
pid_t np_addrspace_pid(const struct np_addrspace *as);
/* The module containing addr, or NULL. */
struct np_module *np_addrspace_find(struct np_addrspace *as, uint64_t addr);
/* All modules found so far, in id order (module i has id i + 1). */
struct np_module *const *np_addrspace_modules(const struct np_addrspace *as, size_t *n);

#endif /* NP_ADDRSPACE_H */
