/* test_hex.c - np_hexval (base/hex.h), the one hex digit of the parsers of
 * kernel text and of the recording's escaped metadata. */
#include <criterion/criterion.h>

#include "profiler/base/hex.h"

Test(hex, digits_of_both_cases)
{
	const char *lower = "0123456789abcdef", *upper = "0123456789ABCDEF";

	for (int i = 0; i < 16; i++) {
		cr_assert_eq(np_hexval(lower[i]), i);
		cr_assert_eq(np_hexval(upper[i]), i);
	}
}

Test(hex, every_other_character_is_minus_one)
{
	int n = 0;

	for (int c = -128; c < 128; c++)
		n += np_hexval((char)c) >= 0;
	cr_assert_eq(n, 22);
	cr_assert_eq(np_hexval('g'), -1);
	cr_assert_eq(np_hexval('G'), -1);
	cr_assert_eq(np_hexval(' '), -1);
	cr_assert_eq(np_hexval('\0'), -1);
	cr_assert_eq(np_hexval('x'), -1);
	cr_assert_eq(np_hexval((char)0xe0), -1);
}
