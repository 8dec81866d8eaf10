/* export.c - pure helpers of the pprof and OTLP exports (export.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/values.h"
#include "report/render/export.h"

int np_strtab_init(struct np_strtab *t)
{
	memset(t, 0, sizeof(*t));
	return np_strtab_id(t, "") == 0 ? 0 : -ENOMEM;
}

int64_t np_strtab_id(struct np_strtab *t, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	/* invalid UTF-8 becomes U+FFFD: 3 bytes for each byte at most */
	char *copy = malloc(len * 3 + 1);
	uint64_t key;
	uint32_t v;

	if (!copy)
		return -ENOMEM;
	np_sanitize(s ? s : "", copy, len * 3 + 1, false);
	key = np_hash_bytes(NP_HASH_BYTES_INIT, copy, strlen(copy));
	/* two strings of one hash: the second is probed for at key + 1 */
	for (; (v = np_hashtab_get(&t->ids, key)); key++)
		if (!strcmp(t->v[v - 1], copy)) {
			free(copy);
			return v - 1;
		}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		char **nv = ncap < NP_HASHTAB_MAX_VALUE ? realloc(t->v, ncap * sizeof(*nv)) : NULL;

		if (!nv) {
			free(copy);
			return -ENOMEM;
		}
		t->v = nv;
		t->cap = ncap;
	}
	if (np_hashtab_put(&t->ids, key, (uint32_t)t->n + 1)) {
		free(copy);
		return -ENOMEM;
	}
	t->v[t->n++] = copy;
	return (int64_t)t->n - 1;
}

void np_strtab_fini(struct np_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	np_hashtab_fini(&t->ids);
	memset(t, 0, sizeof(*t));
}

static int tspan_order(const void *a, const void *b)
{
	const struct np_tspan *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

void np_tspan_sort(struct np_tspan *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), tspan_order);
}

const struct np_tspan *np_tspan_find(const struct np_tspan *v, size_t n, uint32_t tid, uint64_t ts)
{
	size_t lo = 0, hi = n;

	/* the first span past (tid, ts) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].tid < tid || (v[mid].tid == tid && v[mid].start_ns <= ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = 0; k < 64 && lo > 0; k++) {
		const struct np_tspan *s = &v[--lo];

		if (s->tid != tid)
			break;
		if (ts < s->end_ns)
			return s;
	}
	return NULL;
}

uint64_t np_unix_ns(uint64_t realtime_ns, uint64_t start_ns, uint64_t mono_ns)
{
	if (!realtime_ns)
		return 0;
	if (mono_ns >= start_ns) {
		uint64_t d = mono_ns - start_ns;

		return d > UINT64_MAX - realtime_ns ? UINT64_MAX : realtime_ns + d;
	}
	return start_ns - mono_ns > realtime_ns ? 0 : realtime_ns - (start_ns - mono_ns);
}

void np_hex_id(uint64_t seed, uint64_t n, size_t bytes, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	uint64_t h1 = np_hash64(seed ^ np_hash64(n + 1));
	uint64_t h2 = np_hash64(h1 ^ 0x9e3779b97f4a7c15ull);
	bool zero = true;

	if (bytes > sizeof(b))
		bytes = sizeof(b);
	for (size_t i = 0; i < 8; i++) {
		b[i] = (uint8_t)(h1 >> (8 * i));
		b[8 + i] = (uint8_t)(h2 >> (8 * i));
	}
	for (size_t i = 0; i < bytes; i++)
		zero = zero && !b[i];
	if (zero && bytes)
		b[bytes - 1] = 1;
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * bytes] = '\0';
}
