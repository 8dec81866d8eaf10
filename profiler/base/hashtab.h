/* hashtab.h - the one hash table of netprof: a 64-bit key to a 32-bit
 * value (an id or an index + 1), open addressing with linear probing, and
 * the hash functions, once.
 *
 * Used for the stack tree's pcs, nodes and strings (cpu/stacktab.c), the
 * socket table's inodes (net/sockdiag.c) and the snmp counter names
 * (format/snmp.c), and the report's function table (report/model/cpu_report.c).
 * String keys are hashed to 64 bits (np_hash_bytes) and
 * a caller that must tell two strings of one hash apart probes on, key + 1,
 * comparing the strings (see np_hashtab_get's note).
 *
 * Not a general container: values 0 and UINT32_MAX are reserved (empty and
 * removed slots), and keys are not hashed again by the caller.
 */
#ifndef NP_HASHTAB_H
#define NP_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_HASHTAB_MAX_VALUE (UINT32_MAX - 1)

struct np_hashtab {
	uint64_t *keys;
	uint32_t *vals; /* 0: empty, UINT32_MAX: removed */
	size_t cap;     /* 0 or a power of two */
	size_t n;       /* keys present */
	size_t removed; /* slots holding a removed key */
};

/* 64-bit integer finalizer (MurmurHash3's fmix64): every input bit moves
 * every output bit, so ids, addresses and inodes spread over the table. */
uint64_t np_hash64(uint64_t k);
/* FNV-1a over n bytes, continuing from h (start with NP_HASH_BYTES_INIT). */
#define NP_HASH_BYTES_INIT 14695981039346656037ull
uint64_t np_hash_bytes(uint64_t h, const void *p, size_t n);

/* Makes room for n keys in all, so that as many puts never allocate.
 * Returns 0 or -ENOMEM. */
int np_hashtab_reserve(struct np_hashtab *t, size_t n);
/* The value of key, or 0 when absent. */
uint32_t np_hashtab_get(const struct np_hashtab *t, uint64_t key);
/* Sets key's value (1..NP_HASHTAB_MAX_VALUE), adding the key when absent.
 * Returns 0, -EINVAL for a reserved value, or -ENOMEM (the table is then
 * unchanged). */
int np_hashtab_put(struct np_hashtab *t, uint64_t key, uint32_t value);
/* Removes key; false when it was absent. */
bool np_hashtab_del(struct np_hashtab *t, uint64_t key);
/* Frees the arrays of an embedded table and empties it. */
void np_hashtab_fini(struct np_hashtab *t);

#endif /* NP_HASHTAB_H */
