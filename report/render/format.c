/* format.c - turning numbers and untrusted strings into printable text. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "report/report.h"

void np_format_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *out,
			size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	if (family == AF_INET && inet_ntop(AF_INET, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "%s:%u", ip, port);
	else if (family == AF_INET6 && inet_ntop(AF_INET6, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "[%s]:%u", ip, port);
	else if (outlen)
		out[0] = '\0';
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *np_sanitize(const char *s, char *out, size_t outlen, bool controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!outlen)
		return out;
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			if (o + 3 >= outlen)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			p++;
			continue;
		}
		if (o + n >= outlen)
			break;
		/* C0 controls, DEL, and the C1 controls U+0080..U+009F (U+009B is
		 * CSI to some terminals). */
		if (controls && ((n == 1 && (*p < 0x20 || *p == 0x7f)) ||
				 (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)))
			out[o++] = '?';
		else
			memcpy(out + o, p, n), o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

uint64_t np_u64_sat(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

const char *np_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	/* The unit is chosen on the rounded value: 999999 ns is "1.00 ms",
	 * never "1000.0 us". */
	if (ns >= 999995000ull)
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	else if (ns >= 999950ull)
		snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
	else if (ns >= 1000ull)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	return buf;
}

const char *np_errno_name(int64_t ret)
{
	/* Only -4095..-1 are errors; anything else is a value, and negating
	 * INT64_MIN would be undefined. */
	if (ret >= 0 || ret < -4095)
		return NULL;
	return strerrorname_np((int)-ret);
}

void np_fput_cols(FILE *f, const char *s, int cols)
{
	const unsigned char *p = (const unsigned char *)s;
	int used = 0;

	while (*p && used < cols) {
		size_t n = 1;

		while ((p[n] & 0xc0) == 0x80)
			n++;
		fwrite(p, 1, n, f);
		p += n;
		used++;
	}
	for (; used < cols; used++)
		fputc(' ', f);
}

const char *np_fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ull << 30)
		snprintf(buf, len, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= 1ull << 20)
		snprintf(buf, len, "%.1f MiB", (double)b / (double)(1ull << 20));
	else if (b >= 1ull << 10)
		snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
	return buf;
}

const char *np_end_reason_name(uint32_t reason)
{
	switch (reason) {
	case NP_END_DURATION:
		return "duration";
	case NP_END_SIGNAL:
		return "signal";
	case NP_END_TARGET_EXITED:
		return "target exited";
	case NP_END_ERROR:
		return "error";
	default:
		return "incomplete";
	}
}

void np_json_str(FILE *f, const char *s, bool html_safe)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", f); /* invalid UTF-8: the replacement character */
			p++;
			continue;
		}
		if (n == 1) {
			unsigned char c = *p;

			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else if (html_safe && (c == '<' || c == '>' || c == '&' || c == '\''))
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		} else if (html_safe && n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
			   (p[2] == 0xa8 || p[2] == 0xa9)) {
			/* U+2028/2029 end a line inside older JavaScript parsers */
			fprintf(f, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
	fputc('"', f);
}
