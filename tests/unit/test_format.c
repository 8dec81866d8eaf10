/* test_format.c - np_sanitize, np_format_endpoint, np_fmt_ns/bytes. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/render/format.h"
#include "report/report.h"
#include "testutil.h"

#define FFFD "\xef\xbf\xbd"

static char *san(const char *in, bool controls)
{
	static char out[256];

	return np_sanitize(in, out, sizeof(out), controls);
}

Test(format, sanitize_keeps_valid_ascii_and_multibyte)
{
	const char *s = "plain ascii; h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";

	cr_assert_str_eq(san(s, false), s);
	cr_assert_str_eq(san(s, true), s);
	cr_assert_str_eq(san("", true), "");
}

Test(format, sanitize_replaces_lone_continuation_byte)
{
	cr_assert_str_eq(san("a\x80z", false), "a" FFFD "z");
	cr_assert_str_eq(san("\xbf", false), FFFD);
}

Test(format, sanitize_replaces_overlong_forms)
{
	/* '/' as 2, 3 and 4 bytes: every byte becomes U+FFFD, none survives */
	cr_assert_str_eq(san("\xc0\xaf", false), FFFD FFFD);
	cr_assert_str_eq(san("\xe0\x80\xaf", false), FFFD FFFD FFFD);
	cr_assert_str_eq(san("\xf0\x80\x80\xaf", false), FFFD FFFD FFFD FFFD);
	cr_assert_str_eq(san("\xc1\xbf", false), FFFD FFFD);
}

Test(format, sanitize_replaces_surrogates_and_beyond_unicode)
{
	cr_assert_str_eq(san("x\xed\xa0\x80y", false), "x" FFFD FFFD FFFD "y");
	cr_assert_str_eq(san("\xed\xbf\xbf", false), FFFD FFFD FFFD);
	cr_assert_str_eq(san("\xf4\x90\x80\x80", false), FFFD FFFD FFFD FFFD);
	cr_assert_str_eq(san("\xf5\xff\xfe", false), FFFD FFFD FFFD);
}

Test(format, sanitize_replaces_truncated_sequence_at_end)
{
	cr_assert_str_eq(san("abc\xe2\x82", false), "abc" FFFD FFFD);
	cr_assert_str_eq(san("abc\xf0\x9f\x98", false), "abc" FFFD FFFD FFFD);
	/* a lead byte followed by ASCII: the ASCII is kept */
	cr_assert_str_eq(san("\xc3(", false), FFFD "(");
}

Test(format, sanitize_replaces_controls_only_when_asked)
{
	cr_assert_str_eq(san("a\x1b[31mred\x1b[0m", true), "a?[31mred?[0m");
	cr_assert_str_eq(san("a\x1b[31mred", false), "a\x1b[31mred");
	cr_assert_str_eq(san("tab\there\rcr\x7f", true), "tab?here?cr?");
	cr_assert_str_eq(san("tab\there", false), "tab\there");
}

/* U+0080..U+009F are control characters too: U+009B is CSI, which
 * terminals honouring C1 controls treat exactly like ESC '['. */
Test(format, sanitize_replaces_c1_controls_when_asked)
{
	char *out = san("a\xc2\x9b"
			"31mred\xc2\x85",
			true);

	cr_assert_null(strstr(out, "\xc2\x9b"), "C1 CSI (U+009B) passed through: \"%s\"", out);
	cr_assert_null(strstr(out, "\xc2\x85"), "C1 NEL (U+0085) passed through");
	cr_assert_str_eq(san("\xc2\xa0", true), "\xc2\xa0", "U+00A0 is not a control");
}

Test(format, sanitize_output_is_always_valid_utf8)
{
	char in[512], out[1600];

	srand(42);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % 500);

		for (size_t i = 0; i < n; i++) {
			in[i] = (char)(rand() % 255 + 1);
		}
		in[n] = '\0';
		np_sanitize(in, out, sizeof(out), round & 1);
		cr_assert(t_valid_utf8(out, strlen(out)), "round %d gave invalid UTF-8", round);
		if (round & 1)
			for (const char *p = out; *p; p++)
				cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f,
					  "control 0x%02x left in", (unsigned char)*p);
	}
}

/* Exactly-sized heap buffers so ASan sees any byte written past the end. */
Test(format, sanitize_never_overflows_a_small_buffer)
{
	const char *inputs[] = {"hello",
				"\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93",
				"\x80\x80\x80\x80",
				"ab\xf0\x9f\x98\x80",
				"\x1b\x1b\x1b",
				"\xc3"};

	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		for (size_t len = 1; len <= 16; len++) {
			char *out = malloc(len);

			cr_assert_not_null(out);
			cr_assert_eq(np_sanitize(inputs[k], out, len, true), out);
			cr_assert_lt(strlen(out), len);
			cr_assert(t_valid_utf8(out, strlen(out)),
				  "input %zu, buffer %zu: split a multi-byte character", k, len);
			free(out);
		}
	}
}

Test(format, sanitize_with_zero_length_writes_nothing)
{
	char guard = 'G';

	np_sanitize("abc", &guard, 0, true);
	cr_assert_eq(guard, 'G');
}

static void ep(uint8_t family, const char *text, uint16_t port, char *out, size_t outlen)
{
	uint8_t addr[16] = {0};

	if (family == AF_INET)
		cr_assert_eq(inet_pton(AF_INET, text, addr), 1);
	else if (family == AF_INET6)
		cr_assert_eq(inet_pton(AF_INET6, text, addr), 1);
	np_format_endpoint(family, addr, port, out, outlen);
}

Test(format, endpoint_ipv4)
{
	char out[NP_ENDPOINT_LEN];

	ep(AF_INET, "127.0.0.1", 8080, out, sizeof(out));
	cr_assert_str_eq(out, "127.0.0.1:8080");
	ep(AF_INET, "255.255.255.255", 65535, out, sizeof(out));
	cr_assert_str_eq(out, "255.255.255.255:65535");
	ep(AF_INET, "0.0.0.0", 0, out, sizeof(out));
	cr_assert_str_eq(out, "0.0.0.0:0");
}

Test(format, endpoint_ipv6)
{
	char out[NP_ENDPOINT_LEN];

	ep(AF_INET6, "::1", 443, out, sizeof(out));
	cr_assert_str_eq(out, "[::1]:443");
	ep(AF_INET6, "2001:db8::1", 40000, out, sizeof(out));
	cr_assert_str_eq(out, "[2001:db8::1]:40000");
	ep(AF_INET6, "::ffff:10.1.2.3", 80, out, sizeof(out));
	cr_assert_str_eq(out, "[::ffff:10.1.2.3]:80");
	/* the longest one fits NP_ENDPOINT_LEN */
	ep(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, out, sizeof(out));
	cr_assert_str_eq(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535");
}

Test(format, endpoint_without_ip_family_is_empty)
{
	char out[NP_ENDPOINT_LEN] = "junk";
	uint8_t addr[16] = {1, 2, 3, 4};

	np_format_endpoint(AF_UNIX, addr, 80, out, sizeof(out));
	cr_assert_str_eq(out, "");
	strcpy(out, "junk");
	np_format_endpoint(0, addr, 80, out, sizeof(out));
	cr_assert_str_eq(out, "");
}

Test(format, endpoint_truncates_to_small_buffer)
{
	char *out = malloc(8);

	ep(AF_INET6, "2001:db8::1", 40000, out, 8);
	cr_assert_eq(strlen(out), 7);
	free(out);
}

Test(format, fmt_ns_picks_units)
{
	char b[32];

	cr_assert_str_eq(np_fmt_ns(0, b, sizeof(b)), "0 ns");
	cr_assert_str_eq(np_fmt_ns(999, b, sizeof(b)), "999 ns");
	cr_assert_str_eq(np_fmt_ns(1000, b, sizeof(b)), "1.0 us");
	cr_assert_str_eq(np_fmt_ns(850000, b, sizeof(b)), "850.0 us");
	cr_assert_str_eq(np_fmt_ns(1500000, b, sizeof(b)), "1.50 ms");
	cr_assert_str_eq(np_fmt_ns(2000000000ull, b, sizeof(b)), "2.00 s");
	cr_assert_str_eq(np_fmt_ns(90ull * 1000000000ull, b, sizeof(b)), "90.00 s");
	np_fmt_ns(UINT64_MAX, b, sizeof(b));
	cr_assert(strlen(b) > 2 && !strcmp(b + strlen(b) - 2, " s"), "%s", b);
}

/* 999999 ns is 1.00 ms, not "1000.0 us": the unit must be chosen after
 * rounding to the printed precision. */
Test(format, fmt_ns_never_prints_a_thousand_of_a_unit)
{
	const uint64_t edges[] = {999999ull, 999999999ull, 999950ull, 999995000ull};
	char b[32];

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		np_fmt_ns(edges[i], b, sizeof(b));
		cr_assert(strncmp(b, "1000", 4) != 0, "%lu ns printed as \"%s\"",
			  (unsigned long)edges[i], b);
	}
}

Test(format, fmt_ns_truncates_to_buffer)
{
	char *b = malloc(4);

	np_fmt_ns(1500000, b, 4);
	cr_assert_str_eq(b, "1.5");
	free(b);
}

Test(format, fmt_bytes_picks_units)
{
	char b[32];

	cr_assert_str_eq(np_fmt_bytes(0, b, sizeof(b)), "0 B");
	cr_assert_str_eq(np_fmt_bytes(1023, b, sizeof(b)), "1023 B");
	cr_assert_str_eq(np_fmt_bytes(1024, b, sizeof(b)), "1.0 KiB");
	cr_assert_str_eq(np_fmt_bytes(3u << 19, b, sizeof(b)), "1.5 MiB");
	cr_assert_str_eq(np_fmt_bytes(3ull << 30, b, sizeof(b)), "3.0 GiB");
}

Test(format, end_reason_names)
{
	cr_assert_str_eq(np_end_reason_name(NP_END_DURATION), "duration");
	cr_assert_str_eq(np_end_reason_name(NP_END_SIGNAL), "signal");
	cr_assert_str_eq(np_end_reason_name(NP_END_TARGET_EXITED), "target exited");
	cr_assert_str_eq(np_end_reason_name(NP_END_ERROR), "error");
	cr_assert_str_eq(np_end_reason_name(0), "incomplete");
	cr_assert_str_eq(np_end_reason_name(12345), "incomplete");
}
