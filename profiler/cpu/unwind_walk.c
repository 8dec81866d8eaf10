/* unwind_walk.c - the snapshot reader and frame adder every unwinding
 * backend uses (unwind_walk.h). */
#include "profiler/cpu/unwind_walk.h"

#include <string.h>

/* Reads farther above the copy than this are not the stack any more. */
#define STACK_REACH_BYTES (64u << 20)

bool np_unwind_walk_read(struct np_unwind_walk *w, uint64_t addr, uint64_t *val)
{
	const struct np_unwind_input *in = w->in;

	if (addr >= in->stack_addr && addr - in->stack_addr <= in->stack_bytes &&
	    in->stack_bytes - (addr - in->stack_addr) >= sizeof(*val)) {
		memcpy(val, in->stack + (addr - in->stack_addr), sizeof(*val));
		return true;
	}
	if (addr >= in->stack_addr + in->stack_bytes && addr - in->stack_addr < STACK_REACH_BYTES)
		w->flags |= NP_UW_TRUNCATED;
	return false;
}

bool np_unwind_walk_add(struct np_unwind_walk *w, uint64_t pc, bool activation)
{
	if (w->n >= w->max)
		return false;
	/* A frame-pointer guess through code without CFI can land anywhere:
	 * a return address outside every mapping ends the walk. */
	if (w->n && !np_addrspace_find(w->as, pc)) {
		w->flags |= NP_UW_ERROR;
		return false;
	}
	/* A return address points after the call: look up the call itself. */
	w->pcs[w->n++] = activation ? pc : pc - 1;
	return w->n < w->max;
}
