/* test_hashtab.c - base/hashtab.c, the one hash table of the profiler
 * (stack tree, socket inodes, snmp names) and its hash functions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "profiler/base/hashtab.h"

Test(hashtab, empty_table_finds_nothing)
{
	struct np_hashtab t = {0};

	cr_assert_eq(np_hashtab_get(&t, 0), 0);
	cr_assert_eq(np_hashtab_get(&t, 42), 0);
	cr_assert(!np_hashtab_del(&t, 42));
	np_hashtab_fini(&t);
	np_hashtab_fini(&t);
}

Test(hashtab, put_get_replace_and_reserved_values)
{
	struct np_hashtab t = {0};

	cr_assert_eq(np_hashtab_put(&t, 0, 7), 0); /* key 0 is a key like any */
	cr_assert_eq(np_hashtab_put(&t, 1ull << 63, 8), 0);
	cr_assert_eq(np_hashtab_get(&t, 0), 7);
	cr_assert_eq(np_hashtab_get(&t, 1ull << 63), 8);
	cr_assert_eq(np_hashtab_put(&t, 0, 9), 0);
	cr_assert_eq(np_hashtab_get(&t, 0), 9);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(np_hashtab_put(&t, 5, 0), -EINVAL);
	cr_assert_eq(np_hashtab_put(&t, 5, UINT32_MAX), -EINVAL);
	cr_assert_eq(np_hashtab_put(&t, 5, NP_HASHTAB_MAX_VALUE), 0);
	cr_assert_eq(np_hashtab_get(&t, 5), NP_HASHTAB_MAX_VALUE);
	np_hashtab_fini(&t);
}

Test(hashtab, grows_and_keeps_every_key)
{
	struct np_hashtab t = {0};

	for (uint32_t i = 0; i < 100000; i++)
		cr_assert_eq(np_hashtab_put(&t, (uint64_t)i * 4096, i + 1), 0);
	cr_assert_eq(t.n, 100000);
	cr_assert_leq(t.n * 2, t.cap); /* at most half full */
	for (uint32_t i = 0; i < 100000; i++)
		cr_assert_eq(np_hashtab_get(&t, (uint64_t)i * 4096), i + 1);
	cr_assert_eq(np_hashtab_get(&t, 1), 0);
	np_hashtab_fini(&t);
}

/* The socket table removes and adds all the time within a reserved size:
 * removed slots must not fill the table, nor hide the keys behind them. */
Test(hashtab, removal_keeps_probes_whole_and_reserved_room_stays)
{
	struct np_hashtab t = {0};
	size_t cap;

	cr_assert_eq(np_hashtab_reserve(&t, 64), 0);
	cap = t.cap;
	cr_assert_geq(cap, 128);
	for (uint64_t round = 0; round < 1000; round++) {
		for (uint64_t k = 0; k < 64; k++)
			cr_assert_eq(np_hashtab_put(&t, round * 64 + k, (uint32_t)k + 1), 0);
		for (uint64_t k = 0; k < 64; k += 2)
			cr_assert(np_hashtab_del(&t, round * 64 + k));
		for (uint64_t k = 1; k < 64; k += 2)
			cr_assert_eq(np_hashtab_get(&t, round * 64 + k), (uint32_t)k + 1);
		for (uint64_t k = 1; k < 64; k += 2)
			cr_assert(np_hashtab_del(&t, round * 64 + k));
		cr_assert_eq(t.n, 0);
	}
	cr_assert_eq(t.cap, cap); /* rebuilt in place of growing */
	cr_assert(!np_hashtab_del(&t, 3));
	np_hashtab_fini(&t);
}

Test(hashtab, hash_functions_are_the_usual_ones)
{
	/* FNV-1a 64 of "" and "a" (the published test vectors) */
	cr_assert_eq(np_hash_bytes(NP_HASH_BYTES_INIT, "", 0), 0xcbf29ce484222325ull);
	cr_assert_eq(np_hash_bytes(NP_HASH_BYTES_INIT, "a", 1), 0xaf63dc4c8601ec8cull);
	/* incremental: "ab" = "a" then "b" */
	cr_assert_eq(np_hash_bytes(np_hash_bytes(NP_HASH_BYTES_INIT, "a", 1), "b", 1),
		     np_hash_bytes(NP_HASH_BYTES_INIT, "ab", 2));
	/* fmix64 keeps 0 at 0 and spreads neighbours apart */
	cr_assert_eq(np_hash64(0), 0);
	cr_assert_neq(np_hash64(1) >> 60, np_hash64(2) >> 60);
}
