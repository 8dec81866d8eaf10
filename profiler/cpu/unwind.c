/* unwind.c - DWARF unwinding of a stack snapshot with libdwfl (unwind.h).
 *
 * libdwfl unwinds "threads" of a "process" whose state comes from
 * callbacks (dwfl_attach_state).  Here the process is the target, attached
 * once, and the thread being unwound is whatever snapshot np_unwind() was
 * given: set_initial_registers hands libdwfl the sampled registers and
 * memory_read answers from the copied stack.  libdwfl caches each module's
 * CFI, so the cost per sample is the walk itself.
 */
#include "profiler/cpu/unwind.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	uint64_t *pcs;
	size_t max, n;
	struct np_addrspace *as; /* borrowed from the unwinder */
	bool lost; /* the walk left mapped code: what follows is guesswork */
};

struct np_unwinder {
	struct np_addrspace *as; /* borrowed from the CPU collector */
	bool attached;
	const struct np_unwind_input *in; /* the snapshot being unwound */
	unsigned flags;
	const char *last_error; /* for -v and tests */
};

static bool get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl;
	(void)tid;
	*thread_argp = dwfl_arg;
	return true;
}

static pid_t next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl;
	(void)dwfl_arg;
	(void)thread_argp;
	return 0; /* threads are only reached through get_thread */
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
	struct np_unwinder *uw = dwfl_arg;
	const struct np_unwind_input *in = uw->in;

	(void)dwfl;
	if (addr >= in->stack_addr && addr - in->stack_addr <= in->stack_bytes &&
	    in->stack_bytes - (addr - in->stack_addr) >= sizeof(*result)) {
		memcpy(result, in->stack + (addr - in->stack_addr), sizeof(*result));
		return true;
	}
	/* Above the copy: the stack goes on, the snapshot does not. */
	if (addr >= in->stack_addr + in->stack_bytes && addr - in->stack_addr < (64u << 20))
		uw->flags |= NP_UW_TRUNCATED;
	return false;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct np_unwinder *uw = thread_arg;

	return dwfl_thread_state_registers(thread, 0, NP_UNWIND_NREGS, uw->in->regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

int np_unwinder_new(struct np_addrspace *as, struct np_unwinder **out)
{
	struct np_unwinder *uw;

	if (!NP_UNWIND_SUPPORTED)
		return -ENOTSUP;
	uw = calloc(1, sizeof(*uw));
	if (!uw)
		return -ENOMEM;
	uw->as = as;
	*out = uw;
	return 0;
}

void np_unwinder_free(struct np_unwinder *uw)
{
	free(uw);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	/* A frame-pointer guess through code without CFI can land anywhere:
	 * a return address outside every mapping ends the walk. */
	if (w->n && !np_addrspace_find(w->as, pc)) {
		w->lost = true;
		return DWARF_CB_ABORT;
	}
	/* A return address points after the call: look up the call itself. */
	w->pcs[w->n++] = activation ? pc : pc - 1;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t np_unwind(struct np_unwinder *uw, pid_t tid, const struct np_unwind_input *in,
		 uint64_t *pcs, size_t max, unsigned *flags)
{
	Dwfl *dwfl = np_addrspace_dwfl(uw->as);
	struct walk w = {.pcs = pcs, .max = max, .n = 0, .as = uw->as};
	int rc;

	*flags = 0;
	if (!max)
		return 0;
	if (!uw->attached) {
		/* Needs one module with an ELF to learn the architecture;
		 * retried on the next sample if none could be opened yet. */
		uw->attached = dwfl_attach_state(dwfl, NULL, np_addrspace_pid(uw->as),
						 &thread_callbacks, uw);
		if (!uw->attached) {
			pcs[0] = in->regs[NP_UNWIND_REG_PC];
			*flags = NP_UW_ERROR;
			return 1;
		}
	}
	uw->in = in;
	uw->flags = 0;
	rc = dwfl_getthread_frames(dwfl, tid, frame_cb, &w);
	uw->in = NULL;
	if (w.n == 0) {
		pcs[0] = in->regs[NP_UNWIND_REG_PC];
		w.n = 1;
	}
	*flags = uw->flags;
	if (w.lost)
		*flags |= NP_UW_ERROR;
	/* A complete walk ends at a frame whose CFI marks the return address
	 * undefined (_start, clone3) with 0; a walk cut by the end of the
	 * snapshot is truncated, not wrong. */
	if (rc == -1 && !(*flags & NP_UW_TRUNCATED) && w.n < max) {
		*flags |= NP_UW_ERROR;
		uw->last_error = dwfl_errmsg(-1);
	}
	return w.n;
}

const char *np_unwind_last_error(const struct np_unwinder *uw)
{
	return uw->last_error ? uw->last_error : "";
}
