/* unwind_libdw.c - the libdw unwinding backend (unwind.h), the default.
 *
 * libdwfl unwinds "threads" of a "process" whose state comes from
 * callbacks (dwfl_attach_state).  Here the process is the target, attached
 * once, and the thread being unwound is whatever snapshot np_unwind() was
 * given: set_initial_registers hands libdwfl the sampled registers and
 * memory_read answers from the copied stack.  libdwfl caches each module's
 * CFI, so the cost per sample is the walk itself.
 */
#include "profiler/cpu/unwind_walk.h"

#include <errno.h>
#include <stdlib.h>

struct libdw_unwinder {
	struct np_addrspace *as; /* borrowed */
	bool attached;
	struct np_unwind_walk *w; /* the walk in progress */
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
	struct libdw_unwinder *u = dwfl_arg;
	uint64_t v;

	(void)dwfl;
	if (!np_unwind_walk_read(u->w, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct libdw_unwinder *u = thread_arg;

	return dwfl_thread_state_registers(thread, 0, NP_UNWIND_NREGS, u->w->in->regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int libdw_create(struct np_addrspace *as, void **priv)
{
	struct libdw_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->as = as;
	*priv = u;
	return 0;
}

static void libdw_destroy(void *priv)
{
	free(priv);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct np_unwind_walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	return np_unwind_walk_add(w, pc, activation) ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int libdw_walk(void *priv, pid_t tid, struct np_unwind_walk *w)
{
	struct libdw_unwinder *u = priv;
	Dwfl *dwfl = np_addrspace_dwfl(u->as);
	int rc;

	if (!u->attached) {
		/* Needs one module with an ELF to learn the architecture;
		 * retried on the next sample if none could be opened yet. */
		u->attached = dwfl_attach_state(dwfl, NULL, np_addrspace_pid(u->as),
						&thread_callbacks, u);
		if (!u->attached) {
			w->error = dwfl_errmsg(-1);
			return -1;
		}
	}
	u->w = w;
	rc = dwfl_getthread_frames(dwfl, tid, frame_cb, w);
	u->w = NULL;
	if (rc == -1) {
		w->error = dwfl_errmsg(-1);
		return -1;
	}
	return 0;
}

const struct np_unwind_backend_ops np_unwind_libdw_ops = {
	.name = "libdw",
	.create = libdw_create,
	.destroy = libdw_destroy,
	.walk = libdw_walk,
};
