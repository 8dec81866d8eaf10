/* folded.h - collapsed stacks: one per line in --format folded
 * ("main;serve;parse 42"), and the flame graphs' input (folded.c). */
#ifndef NP_FOLDED_H
#define NP_FOLDED_H

#include <stddef.h>
#include <stdint.h>

struct np_folded_stack {
	char *stack; /* frames joined by ';', root first */
	uint64_t count;
};

struct np_folded {
	struct np_folded_stack *v;
	size_t n, cap;
	const char *unit; /* "samples" or "ns" */
};

/* Appends a copy of `stack` with its count; 0 or -ENOMEM. */
int np_folded_add(struct np_folded *f, const char *stack, uint64_t count);
/* Frees the stacks, not f itself (an embedded or caller-owned struct); accepts NULL. */
void np_folded_fini(struct np_folded *f);

#endif /* NP_FOLDED_H */
