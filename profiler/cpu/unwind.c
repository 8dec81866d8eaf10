/* unwind.c - the unwinder (unwind.h): the choice of backend and the output
 * contract (pcs[0] the sampled pc, return addresses minus one, NP_UW_*
 * flags).  The snapshot reader and frame adder every backend calls are
 * unwind_walk.c.
 *
 * Not here: the walks themselves (unwind_libdw.c, unwind_libunwind.c).
 */
#include "profiler/cpu/unwind.h"
#include "profiler/cpu/unwind_walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct np_unwinder {
	const struct np_unwind_backend_ops *ops;
	void *priv;
	struct np_addrspace *as; /* borrowed */
	const char *last_error;  /* for -v and tests */
};

static const struct np_unwind_backend_ops *const backends[NP_UNWIND_NBACKENDS] = {
	[NP_UNWIND_LIBDW] = &np_unwind_libdw_ops,
	[NP_UNWIND_LIBUNWIND] = &np_unwind_libunwind_ops,
};

int np_unwinder_new(struct np_addrspace *as, enum np_unwind_backend backend,
		    struct np_unwinder **out)
{
	struct np_unwinder *uw;
	int rc;

	if (!NP_UNWIND_SUPPORTED)
		return -ENOTSUP;
	if ((unsigned)backend >= NP_UNWIND_NBACKENDS)
		return -EINVAL;
	uw = calloc(1, sizeof(*uw));
	if (!uw)
		return -ENOMEM;
	uw->ops = backends[backend];
	uw->as = as;
	rc = uw->ops->create(as, &uw->priv);
	if (rc) {
		free(uw);
		return rc;
	}
	*out = uw;
	return 0;
}

void np_unwinder_free(struct np_unwinder *uw)
{
	if (!uw)
		return;
	uw->ops->destroy(uw->priv);
	free(uw);
}

size_t np_unwind(struct np_unwinder *uw, pid_t tid, const struct np_unwind_input *in, uint64_t *pcs,
		 size_t max, unsigned *flags)
{
	struct np_unwind_walk w = {.as = uw->as, .in = in, .pcs = pcs, .max = max};
	int rc;

	*flags = 0;
	if (!max)
		return 0;
	rc = uw->ops->walk(uw->priv, tid, &w);
	if (w.n == 0) {
		pcs[0] = in->regs[NP_UNWIND_REG_PC];
		w.n = 1;
	}
	/* A complete walk ends at a frame whose CFI marks the return address
	 * undefined (_start, clone3); a walk cut by the end of the snapshot
	 * is truncated, not wrong. */
	if (rc < 0 && !(w.flags & NP_UW_TRUNCATED) && w.n < max) {
		w.flags |= NP_UW_ERROR;
		uw->last_error = w.error;
	}
	*flags = w.flags;
	return w.n;
}

const char *np_unwind_last_error(const struct np_unwinder *uw)
{
	return uw->last_error ? uw->last_error : "";
}
