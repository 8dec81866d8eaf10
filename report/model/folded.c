/* folded.c - collapsed stacks ("a;b;c" -> count) for the flame graphs and
 * --format folded (folded.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/folded.h"

int np_folded_add(struct np_folded *f, const char *stack, uint64_t count)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct np_folded_stack *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].stack = strdup(stack);
	if (!f->v[f->n].stack)
		return -ENOMEM;
	f->v[f->n++].count = count;
	return 0;
}

void np_folded_fini(struct np_folded *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].stack);
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}
