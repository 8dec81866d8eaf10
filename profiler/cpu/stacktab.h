/* stacktab.h - the stacks of a recording: a tree of pcs shared by every
 * sample and off-CPU wait, and at the end their symbols, modules and names
 * (the NP_BLK_STACK_*, NP_BLK_MODULES and NP_BLK_STRINGS blocks of
 * timeline.h).
 *
 * A service's processes each have their own address space: a user pc is
 * a pc of one address space, and each address space's modules get ids of
 * their own in the recording (a library mapped by four workers is four
 * modules, at the addresses each of them has it).
 *
 * Adding a stack is a few hash lookups; nothing is symbolized until
 * np_stacktab_write_symbols(), once per distinct pc.  Memory is bounded by
 * max_nodes: a stack that does not fit is cut, and the caller told.
 */
#ifndef NP_STACKTAB_H
#define NP_STACKTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/cpu/addrspace.h"
#include "profiler/format/recording.h"
#include "profiler/base/ksyms.h"
#include "profiler/cpu/symbolize.h"

struct np_stacktab;

int np_stacktab_new(size_t max_nodes, struct np_stacktab **out);
void np_stacktab_free(struct np_stacktab *st);
/* Adds one stack: user pcs (of address space `as`, which must outlive
 * the table; NULL when there are none) then kernel pcs, each innermost
 * first; the outermost user frame becomes the root and the kernel part
 * hangs below the innermost user frame.  Returns the leaf node (0 for an
 * empty stack) and sets *full when the tree had no room for all of it. */
uint32_t np_stacktab_add(struct np_stacktab *st, struct np_addrspace *as, const uint64_t *user,
			 size_t n_user, const uint64_t *kernel, size_t n_kernel, bool *full);
/* Writes the nodes added since the last call. */
int np_stacktab_flush_nodes(struct np_stacktab *st, struct np_writer *w);
/* Symbolizes every pc (user through the address space, kernel through ks,
 * which may be NULL) and writes frames, modules and the string table.
 * Call once, at the end.  *pcs is the number of distinct pcs. */
int np_stacktab_write_symbols(struct np_stacktab *st, struct np_writer *w,
			      const struct np_ksyms *ks, uint64_t *pcs);
size_t np_stacktab_nodes(const struct np_stacktab *st);

#endif /* NP_STACKTAB_H */
