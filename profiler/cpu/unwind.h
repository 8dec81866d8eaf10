/* unwind.h - DWARF CFI unwinding of a user stack snapshot.
 *
 * The input is what a profiler copies at a sample: the user registers and
 * the top of the user stack.  That snapshot is treated as a tiny remote
 * address space, as perf does: the unwinder gets register and memory
 * accessors over it, and the CFI of the modules in np_addrspace.  A read
 * of the stack outside the snapshot ends the walk; nothing ever reads the
 * live process.
 *
 * Two backends behind this one interface, as perf has them:
 *   libdw      (unwind_libdw.c, the default) libdwfl's unwinder over
 *              .eh_frame and .debug_frame; where a module has no CFI (JIT
 *              code) it falls back to the frame pointer.
 *   libunwind  (unwind_libunwind.c) libunwind's remote unwinder; CFI from
 *              each module's .eh_frame_hdr table (and .debug_frame where
 *              the library was built with it), code bytes and tables read
 *              from the module's file, never from the process.
 * unwind.c holds what both share: the snapshot reader, the output
 * contract (pcs[0] the sampled pc, return addresses minus one, the flags)
 * and the check that a walk stays inside mapped code.
 *
 * Knows nothing about perf: sampler.c turns perf's register layout into
 * the DWARF numbering used here.
 */
#ifndef NP_UNWIND_H
#define NP_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profiler/collect/config.h" /* enum np_unwind_backend */
#include "profiler/cpu/addrspace.h"

#if defined(__x86_64__)
/* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, then rip. */
#define NP_UNWIND_NREGS 17
#define NP_UNWIND_REG_SP 7
#define NP_UNWIND_REG_PC 16
#define NP_UNWIND_SUPPORTED 1
#else
#define NP_UNWIND_NREGS 1
#define NP_UNWIND_REG_SP 0
#define NP_UNWIND_REG_PC 0
#define NP_UNWIND_SUPPORTED 0
#endif

struct np_unwind_input {
	uint64_t regs[NP_UNWIND_NREGS]; /* DWARF register numbering */
	uint64_t stack_addr;            /* address of stack[0] (the sp) */
	const uint8_t *stack;
	size_t stack_bytes;
};

/* np_unwind() result flags */
#define NP_UW_TRUNCATED 0x1 /* a read went past the end of the snapshot */
#define NP_UW_ERROR 0x2     /* no CFI and no usable frame pointer, or bad data */

struct np_unwinder;

/* An unwinder of `as` (borrowed: it must outlive the unwinder) with the
 * given backend.  0, -ENOTSUP on an architecture without register
 * numbering here, -ENOMEM, or -EINVAL for an unknown backend. */
int np_unwinder_new(struct np_addrspace *as, enum np_unwind_backend backend,
		    struct np_unwinder **out);
void np_unwinder_free(struct np_unwinder *uw);
/* Writes up to `max` pcs, innermost first, into pcs.  pcs[0] is the
 * sampled pc; every other is a return address minus one, so that it falls
 * inside the call instruction (the right function and line).  Returns the
 * number of pcs and sets *flags (NP_UW_*). */
size_t np_unwind(struct np_unwinder *uw, pid_t tid, const struct np_unwind_input *in,
		 uint64_t *pcs, size_t max, unsigned *flags);

/* The backend's message for the last walk that ended in NP_UW_ERROR. */
const char *np_unwind_last_error(const struct np_unwinder *uw);

/* ---- For the backends (unwind_libdw.c, unwind_libunwind.c) only ---- */

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

#endif /* NP_UNWIND_H */
