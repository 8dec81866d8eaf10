/* array.h - growing a heap array: the one place that doubles a capacity,
 * checks the multiplication for overflow and keeps the old block when
 * realloc fails.  Not a container type: callers keep their own pointer,
 * count and capacity, as C arrays of structs are the clearest shape for
 * the tables netprof builds. */
#ifndef NP_ARRAY_H
#define NP_ARRAY_H

#include <errno.h>
#include <stddef.h>

/* Makes room for at least `need` items of `elem` bytes in the array *v of
 * capacity *cap (items): the capacity doubles, and starts at 16 items.
 * Returns 0, or -ENOMEM with *v and *cap unchanged (the array is still the
 * caller's to free).  New items are not zeroed. */
int np_grow(void **v, size_t *cap, size_t need, size_t elem);

/* np_grow for a typed pointer: NP_GROW(t->rows, t->cap, t->n + 1). */
#define NP_GROW(arr, cap, need) \
	({ \
		void *np_grow_v_ = (arr); \
		int np_grow_rc_ = np_grow(&np_grow_v_, &(cap), (need), sizeof(*(arr))); \
		(arr) = np_grow_v_; \
		np_grow_rc_; \
	})

#endif /* NP_ARRAY_H */
