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
size_t np_unwind(struct np_unwinder *uw, pid_t tid, const struct np_unwind_input *in, uint64_t *pcs,
		 size_t max, unsigned *flags);

/* The backend's message for the last walk that ended in NP_UW_ERROR. */
const char *np_unwind_last_error(const struct np_unwinder *uw);

#endif /* NP_UNWIND_H */
