/* test_httplabel.c - np_http_parse_label / np_http_parse_status on request
 * and status lines as the kernel side records them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "report/model/httplabel.h"

static int parse(const char *s, bool full, struct np_http_label *l)
{
	return np_http_parse_label(s, strlen(s), full, l);
}

Test(httplabel, method_and_path)
{
	struct np_http_label l;

	cr_assert_eq(parse("GET /api/items", false, &l), 0);
	cr_assert_str_eq(l.method, "GET");
	cr_assert_str_eq(l.path, "/api/items");
	cr_assert_not(l.truncated);
	cr_assert_eq(parse("DELETE /x/1", false, &l), 0);
	cr_assert_str_eq(l.method, "DELETE");
	cr_assert_eq(parse("OPTIONS *", false, &l), 0);
	cr_assert_str_eq(l.path, "*");
}

Test(httplabel, stops_at_query_fragment_space_and_controls)
{
	static const char *const in[] = {"GET /a?secret=1",   "GET /a#frag",  "GET /a HTTP/1.1",
					 "GET /a\r\nHost: x", "GET /a\x01zz", "GET /a\x7fzz"};
	struct np_http_label l;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cr_assert_eq(parse(in[i], false, &l), 0, "%zu", i);
		cr_assert_str_eq(l.path, "/a", "%zu: %s", i, l.path);
		cr_assert_not(l.truncated);
	}
}

Test(httplabel, method_without_target_is_a_label)
{
	struct np_http_label l;

	/* the kernel keeps only "/..." and "*" targets */
	cr_assert_eq(parse("CONNECT ", false, &l), 0);
	cr_assert_str_eq(l.method, "CONNECT");
	cr_assert_str_eq(l.path, "");
}

Test(httplabel, rejects_what_is_no_request_line)
{
	static const char *const bad[] = {"",
					  " GET /",
					  "get /",
					  "GET",
					  "GET/",
					  "GET\t/a",
					  "HTTP/1.1 200 OK",
					  "GET http://user:pw@h/",
					  "GETTTTTTTTTTTTTTT /",
					  "\xff\xfe /",
					  "GET */x",
					  "G3T /"};
	struct np_http_label l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0x55, sizeof(l));
		cr_assert_eq(parse(bad[i], false, &l), -EINVAL, "%zu: %s", i, bad[i]);
		cr_assert_str_eq(l.method, "", "%zu", i);
		cr_assert_str_eq(l.path, "", "%zu", i);
	}
	cr_assert_eq(np_http_parse_label(NULL, 0, false, &l), -EINVAL);
}

Test(httplabel, a_path_cut_by_the_kernel_is_marked)
{
	char buf[128];
	struct np_http_label l;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	cr_assert_eq(np_http_parse_label(buf, sizeof(buf), true, &l), 0);
	cr_assert(l.truncated);
	/* "/" and 123 'a', then "..." */
	cr_assert_eq(strlen(l.path), 124 + 3, "%zu", strlen(l.path));
	cr_assert_str_eq(l.path + strlen(l.path) - 3, "...");
	/* the same bytes with a terminator seen by the kernel: not cut */
	cr_assert_eq(np_http_parse_label(buf, 20, false, &l), 0);
	cr_assert_not(l.truncated);
	cr_assert_eq(strlen(l.path), 16);
}

Test(httplabel, never_reads_past_len)
{
	const char s[] = "GET /abcdef";
	struct np_http_label l;

	cr_assert_eq(np_http_parse_label(s, 7, false, &l), 0);
	cr_assert_str_eq(l.path, "/ab");
	cr_assert_eq(np_http_parse_label(s, 4, false, &l), 0);
	cr_assert_str_eq(l.path, "");
	cr_assert_eq(np_http_parse_label(s, 3, false, &l), -EINVAL);
}

Test(httplabel, status_lines)
{
	uint16_t st = 0;

	cr_assert_eq(np_http_parse_status("HTTP/1.1 200 OK\r\n", 17, &st), 0);
	cr_assert_eq(st, 200);
	cr_assert_eq(np_http_parse_status("HTTP/1.0 404", 12, &st), 0);
	cr_assert_eq(st, 404);
	cr_assert_eq(np_http_parse_status("HTTP/1.1 100 Continue", 21, &st), 0);
	cr_assert_eq(st, 100);
	cr_assert_eq(np_http_parse_status("HTTP/2 200 OK", 13, &st), -EINVAL);
	cr_assert_eq(np_http_parse_status("HTTP/1.1 20", 11, &st), -EINVAL);
	cr_assert_eq(np_http_parse_status("HTTP/1.1 099", 12, &st), -EINVAL);
	cr_assert_eq(np_http_parse_status("HTTP/1.1 2000", 13, &st), -EINVAL);
	cr_assert_eq(np_http_parse_status("GET / HTTP/1.1", 14, &st), -EINVAL);
	cr_assert_eq(np_http_parse_status(NULL, 0, &st), -EINVAL);
}
