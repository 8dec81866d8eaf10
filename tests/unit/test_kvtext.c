/* test_kvtext.c - format/kvtext.c, the key=value text codec of the META
 * and NET_CONFIG blocks: what np_kvtext_put writes and np_kvtext_parse
 * reads back.  (Escaping itself: test_recording.c.) */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/kvtext.h"

static void free_pairs(struct np_meta_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

Test(kvtext, put_writes_one_escaped_line_per_pair)
{
	struct np_kvtext t = {0};

	cr_assert_eq(np_kvtext_put(&t, "cmdline", "a\nb\\c"), 0);
	cr_assert_eq(np_kvtext_put(&t, "empty", ""), 0);
	cr_assert_eq(t.len, strlen("cmdline=a\\nb\\\\c\nempty=\n"));
	cr_assert_eq(memcmp(t.buf, "cmdline=a\\nb\\\\c\nempty=\n", t.len), 0);
	np_kvtext_fini(&t);
	cr_assert_null(t.buf);
	cr_assert_eq(t.len, 0);
	np_kvtext_fini(&t);
}

Test(kvtext, put_grows_past_any_first_capacity)
{
	struct np_kvtext t = {0};
	char value[5000];

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (int i = 0; i < 50; i++)
		cr_assert_eq(np_kvtext_put(&t, "k", value), 0);
	cr_assert_eq(t.len, 50 * (2 + sizeof(value) - 1 + 1));
	cr_assert_geq(t.cap, t.len);
	np_kvtext_fini(&t);
}

Test(kvtext, what_is_put_parses_back)
{
	static const char *const values[] = {"plain", "", "tab\there", "\x01\x7f\xff", "a=b=c"};
	struct np_kvtext t = {0};
	struct np_meta_kv *kv = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(np_kvtext_put(&t, "key", values[i]), 0);
	cr_assert_eq(np_kvtext_parse(t.buf, t.len, &kv, &n, &cap), 0);
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(kv[i].key, "key");
		cr_assert_str_eq(kv[i].value, values[i]);
	}
	free_pairs(kv, n);
	np_kvtext_fini(&t);
}

Test(kvtext, parse_appends_skips_lines_without_equals_and_keeps_empty_keys)
{
	static const char a[] = "one=1\nno equals here\n=anon\nlast=\\x4";
	static const char b[] = "two=2";
	struct np_meta_kv *kv = NULL;
	size_t n = 0, cap = 0;

	cr_assert_eq(np_kvtext_parse(a, sizeof(a) - 1, &kv, &n, &cap), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(kv[0].key, "one");
	cr_assert_str_eq(kv[0].value, "1");
	cr_assert_str_eq(kv[1].key, "");
	cr_assert_str_eq(kv[1].value, "anon");
	cr_assert_str_eq(kv[2].key, "last");
	cr_assert_str_eq(kv[2].value, ""); /* a bad escape: the key stays */
	cr_assert_eq(np_kvtext_parse(b, sizeof(b) - 1, &kv, &n, &cap), 0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(kv[3].key, "two");
	free_pairs(kv, n);
}

Test(kvtext, parse_of_nothing_is_nothing)
{
	struct np_meta_kv *kv = NULL;
	size_t n = 0, cap = 0;

	cr_assert_eq(np_kvtext_parse("", 0, &kv, &n, &cap), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(np_kvtext_parse("\n\n\n", 3, &kv, &n, &cap), 0);
	cr_assert_eq(n, 0);
	free(kv);
}
