/* hashtab.c - open-addressing hash table (see hashtab.h).
 *
 * The load (keys and removed slots) stays at most one half, so a probe
 * ends at an empty slot after a few steps; removing leaves a marker, and
 * the markers go when the table is next rebuilt.
 */
#include "profiler/base/hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY 0u
#define REMOVED UINT32_MAX
#define MIN_CAP 16

uint64_t np_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

uint64_t np_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

/* The slot of key, or the empty slot where a probe for it ends. */
static size_t slot_of(const struct np_hashtab *t, uint64_t key)
{
	size_t mask = t->cap - 1;
	size_t j = np_hash64(key) & mask;

	while (t->vals[j] != EMPTY && (t->vals[j] == REMOVED || t->keys[j] != key))
		j = (j + 1) & mask;
	return j;
}

/* Moves every key into fresh arrays of cap slots (dropping the removed). */
static int rebuild(struct np_hashtab *t, size_t cap)
{
	struct np_hashtab r = {.cap = cap};

	r.keys = calloc(cap, sizeof(*r.keys));
	r.vals = calloc(cap, sizeof(*r.vals));
	if (!r.keys || !r.vals) {
		free(r.keys);
		free(r.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (t->vals[i] == EMPTY || t->vals[i] == REMOVED)
			continue;
		j = slot_of(&r, t->keys[i]);
		r.keys[j] = t->keys[i];
		r.vals[j] = t->vals[i];
		r.n++;
	}
	np_hashtab_fini(t);
	*t = r;
	return 0;
}

int np_hashtab_reserve(struct np_hashtab *t, size_t n)
{
	size_t cap = t->cap ? t->cap : MIN_CAP;

	while (cap / 2 < n + t->removed) {
		if (cap > SIZE_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	return cap == t->cap ? 0 : rebuild(t, cap);
}

uint32_t np_hashtab_get(const struct np_hashtab *t, uint64_t key)
{
	if (!t->cap)
		return 0;
	return t->vals[slot_of(t, key)];
}

int np_hashtab_put(struct np_hashtab *t, uint64_t key, uint32_t value)
{
	size_t j;

	if (value == EMPTY || value == REMOVED)
		return -EINVAL;
	if (t->cap) {
		j = slot_of(t, key);
		if (t->vals[j] != EMPTY) {
			t->vals[j] = value;
			return 0;
		}
	}
	if ((t->n + t->removed + 1) * 2 > t->cap) {
		/* Twice the room for the keys; the same when only removed
		 * slots filled it. */
		size_t cap = t->cap ? t->cap : MIN_CAP;
		int rc;

		while ((t->n + 1) * 2 > cap / 2 && cap <= SIZE_MAX / 4)
			cap *= 2;
		rc = rebuild(t, cap);
		if (rc)
			return rc;
	}
	j = slot_of(t, key);
	t->keys[j] = key;
	t->vals[j] = value;
	t->n++;
	return 0;
}

bool np_hashtab_del(struct np_hashtab *t, uint64_t key)
{
	size_t j;

	if (!t->cap)
		return false;
	j = slot_of(t, key);
	if (t->vals[j] == EMPTY)
		return false;
	t->vals[j] = REMOVED;
	t->n--;
	t->removed++;
	return true;
}

void np_hashtab_fini(struct np_hashtab *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}
