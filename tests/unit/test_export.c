/* test_export.c - the pure helpers of the pprof and OTLP exports
 * (report/render/export.h): the string table, the thread-and-time lookup,
 * wall-clock times and ids. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/render/export.h"

Test(export, strtab_starts_with_the_empty_string_and_dedups)
{
	struct np_strtab t;

	cr_assert_eq(np_strtab_init(&t), 0);
	cr_assert_eq(t.n, 1);
	cr_assert_str_eq(t.v[0], "");
	cr_assert_eq(np_strtab_id(&t, ""), 0);
	cr_assert_eq(np_strtab_id(&t, NULL), 0);
	cr_assert_eq(np_strtab_id(&t, "main"), 1);
	cr_assert_eq(np_strtab_id(&t, "serve"), 2);
	cr_assert_eq(np_strtab_id(&t, "main"), 1);
	cr_assert_eq(t.n, 3);
	np_strtab_fini(&t);
}

Test(export, strtab_keeps_many_strings_in_order)
{
	struct np_strtab t;
	char buf[32];

	cr_assert_eq(np_strtab_init(&t), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "fn%d", i);
		cr_assert_eq(np_strtab_id(&t, buf), i + 1);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(buf, sizeof(buf), "fn%d", i);
		cr_assert_eq(np_strtab_id(&t, buf), i + 1);
		cr_assert_str_eq(t.v[i + 1], buf);
	}
	np_strtab_fini(&t);
}

Test(export, strtab_stores_valid_utf8_only)
{
	struct np_strtab t;
	int64_t a, b;

	cr_assert_eq(np_strtab_init(&t), 0);
	a = np_strtab_id(&t, "bad\xff");
	cr_assert_str_eq(t.v[a], "bad\xef\xbf\xbd");
	/* the same bad bytes again: the same entry, not a second one */
	b = np_strtab_id(&t, "bad\xff");
	cr_assert_eq(a, b);
	/* and its sanitized form is that entry too */
	cr_assert_eq(np_strtab_id(&t, "bad\xef\xbf\xbd"), a);
	np_strtab_fini(&t);
}

Test(export, tspan_finds_the_span_holding_a_time)
{
	struct np_tspan v[] = {
		{.tid = 7, .value = 0, .start_ns = 100, .end_ns = 200},
		{.tid = 5, .value = 1, .start_ns = 100, .end_ns = 300},
		{.tid = 7, .value = 2, .start_ns = 300, .end_ns = 400},
		{.tid = 7, .value = 3, .start_ns = 320, .end_ns = 340}, /* nested */
	};
	const struct np_tspan *s;

	np_tspan_sort(v, 4);
	cr_assert_eq(v[0].tid, 5);
	s = np_tspan_find(v, 4, 7, 150);
	cr_assert(s && s->value == 0);
	cr_assert_null(np_tspan_find(v, 4, 7, 200)); /* end is exclusive */
	cr_assert_null(np_tspan_find(v, 4, 7, 99));
	cr_assert_null(np_tspan_find(v, 4, 7, 250));
	s = np_tspan_find(v, 4, 5, 250);
	cr_assert(s && s->value == 1);
	cr_assert_null(np_tspan_find(v, 4, 6, 150));
	/* inside the nested span: the one that started last */
	s = np_tspan_find(v, 4, 7, 330);
	cr_assert(s && s->value == 3);
	/* after the nested one ended, the outer one still holds */
	s = np_tspan_find(v, 4, 7, 350);
	cr_assert(s && s->value == 2);
	cr_assert_null(np_tspan_find(NULL, 0, 7, 150));
}

Test(export, unix_ns_from_the_clock_pair)
{
	const uint64_t rt = 1796581197939556298ull, mono = 143886497698ull;

	cr_assert_eq(np_unix_ns(rt, mono, mono), rt);
	cr_assert_eq(np_unix_ns(rt, mono, mono + 1500), rt + 1500);
	cr_assert_eq(np_unix_ns(rt, mono, mono - 1500), rt - 1500);
	cr_assert_eq(np_unix_ns(0, mono, mono + 5), 0); /* no realtime: unknown */
	cr_assert_eq(np_unix_ns(10, 100, 0), 0);        /* saturates below */
	cr_assert_eq(np_unix_ns(UINT64_MAX - 5, 0, 100), UINT64_MAX);
}

Test(export, ids_are_hex_deterministic_and_distinct)
{
	char a[33], b[33], c[17], d[17];

	np_hex_id(42, 0, 16, a);
	np_hex_id(42, 0, 16, b);
	cr_assert_str_eq(a, b);
	cr_assert_eq(strlen(a), 32);
	cr_assert_eq(strspn(a, "0123456789abcdef"), 32);
	np_hex_id(42, 1, 16, b);
	cr_assert_str_neq(a, b);
	np_hex_id(43, 0, 16, b);
	cr_assert_str_neq(a, b);
	np_hex_id(42, 0, 8, c);
	np_hex_id(42, 1, 8, d);
	cr_assert_eq(strlen(c), 16);
	cr_assert_str_neq(c, d);
	/* 100000 span ids: no repeat, none all zeros */
	{
		static char ids[100000][17];
		int dup = 0;

		for (int i = 0; i < 100000; i++) {
			np_hex_id(7, (uint64_t)i, 8, ids[i]);
			cr_assert_str_neq(ids[i], "0000000000000000");
		}
		qsort(ids, 100000, sizeof(ids[0]), (int (*)(const void *, const void *))strcmp);
		for (int i = 1; i < 100000; i++)
			dup += !strcmp(ids[i - 1], ids[i]);
		cr_assert_eq(dup, 0);
	}
}
