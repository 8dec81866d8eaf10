/* unwind_walk.h - what the unwinding backends (unwind_libdw.c,
 * unwind_libunwind.c) are given: one walk over a stack snapshot, its reader
 * and the frame adder that keeps unwind.h's output contract.  unwind.c
 * chooses the backend; nothing outside profiler/cpu/unwind*.c includes this.
 */
#ifndef NP_UNWIND_WALK_H
#define NP_UNWIND_WALK_H

#include <stdbool.h>

#include "profiler/cpu/unwind.h"

/* One walk in progress: the snapshot and the pcs so far. */
struct np_unwind_walk {
	struct np_addrspace *as;          /* borrowed */
	const struct np_unwind_input *in; /* borrowed, for this walk */
	uint64_t *pcs;
	size_t max, n;
	unsigned flags;    /* NP_UW_* */
	const char *error; /* static text from the backend, when it failed */
};

struct np_unwind_backend_ops {
	const char *name;
	int (*create)(struct np_addrspace *as, void **priv);
	void (*destroy)(void *priv);
	/* Adds frames with np_unwind_walk_add until it returns false or the
	 * walk ends.  Returns 0 at the outermost frame (or when the walk was
	 * stopped), -1 when the unwinder gave up, with w->error set. */
	int (*walk)(void *priv, pid_t tid, struct np_unwind_walk *w);
};

extern const struct np_unwind_backend_ops np_unwind_libdw_ops;
extern const struct np_unwind_backend_ops np_unwind_libunwind_ops;

/* Reads the 8 bytes at addr from the snapshot.  False when they are not
 * all in it; flags NP_UW_TRUNCATED when addr is above the copy, where the
 * stack goes on but the snapshot does not. */
bool np_unwind_walk_read(struct np_unwind_walk *w, uint64_t addr, uint64_t *val);
/* Adds one frame: `activation` is true for the sampled pc and a pc
 * interrupted by a signal (kept as is), false for a return address (minus
 * one, so it falls inside the call).  False when the walk must stop: pcs
 * is full, or the pc is outside every module (NP_UW_ERROR: a guess through
 * code without CFI went astray). */
bool np_unwind_walk_add(struct np_unwind_walk *w, uint64_t pc, bool activation);

#endif /* NP_UNWIND_WALK_H */
