/* test_array.c - np_grow: doubling, overflow refusal, the array kept on
 * failure. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "profiler/base/array.h"

Test(array, grows_to_need_by_doubling_from_sixteen)
{
	int *v = NULL;
	size_t cap = 0;

	cr_assert_eq(NP_GROW(v, cap, 1), 0);
	cr_assert_not_null(v);
	cr_expect_eq(cap, 16);
	v[15] = 7;
	cr_assert_eq(NP_GROW(v, cap, 17), 0);
	cr_expect_eq(cap, 32);
	cr_expect_eq(v[15], 7, "contents kept");
	cr_assert_eq(NP_GROW(v, cap, 100), 0);
	cr_expect_eq(cap, 128);
	free(v);
}

Test(array, no_change_when_room_left)
{
	char *v = malloc(20);
	char *before = v;
	size_t cap = 20;

	cr_assert_eq(NP_GROW(v, cap, 20), 0);
	cr_expect_eq(v, before);
	cr_expect_eq(cap, 20);
	free(v);
}

Test(array, refuses_sizes_that_overflow_and_keeps_the_array)
{
	uint64_t *v = malloc(16 * sizeof(*v));
	uint64_t *before = v;
	size_t cap = 16;

	v[3] = 42;
	cr_expect_eq(NP_GROW(v, cap, SIZE_MAX / 4), -ENOMEM);
	cr_expect_eq(v, before, "the old block is still the caller's");
	cr_expect_eq(cap, 16);
	cr_expect_eq(v[3], 42);
	cr_expect_eq(NP_GROW(v, cap, SIZE_MAX), -ENOMEM);
	free(v);
}

Test(array, zero_sized_items_are_a_caller_bug)
{
	void *v = NULL;
	size_t cap = 0;

	cr_expect_eq(np_grow(&v, &cap, 1, 0), -EINVAL);
	cr_expect_null(v);
}
