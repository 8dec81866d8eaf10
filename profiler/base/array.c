/* array.c - growing a heap array (array.h). */
#include "profiler/base/array.h"

#include <stdint.h>
#include <stdlib.h>

#define NP_GROW_MIN_ITEMS 16

int np_grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;
	void *p;

	if (need <= c)
		return 0;
	if (!elem)
		return -EINVAL;
	if (c < NP_GROW_MIN_ITEMS)
		c = NP_GROW_MIN_ITEMS;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -ENOMEM;
		c *= 2;
	}
	if (c > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*v, c * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}
