/* format.c - turning numbers and untrusted strings into printable text:
 * the helpers every renderer shares (never used by the model). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/model/values.h"
#include "report/render/format.h"

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

void np_json_str(FILE *f, const char *s, bool html_safe)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n = np_utf8_len(p);

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
