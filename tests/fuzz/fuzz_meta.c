/* fuzz_meta.c - libFuzzer target: META escaping.
 *
 * np_meta_unescape must cope with any bytes; and for any NUL-free string,
 * escape then unescape must give the string back, and the escaped form
 * must be one line of printable ASCII. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *esc, *back, *out;
	size_t need, got;
	int n;

	/* unescape of raw input into an exactly-sized buffer */
	out = malloc(size + 1);
	if (!out)
		return 0;
	n = np_meta_unescape((const char *)data, size, out, size + 1);
	if (n > (int)size || (n < 0 && n != -EINVAL))
		abort();
	free(out);

	/* round trip of the input as a C string */
	in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	need = np_meta_escape(in, NULL, 0);
	esc = malloc(need + 1);
	back = malloc(strlen(in) + 1);
	if (!esc || !back)
		abort();
	got = np_meta_escape(in, esc, need + 1);
	if (got != need || strlen(esc) != need)
		abort();
	for (size_t i = 0; i < need; i++)
		if ((unsigned char)esc[i] < 0x20 || (unsigned char)esc[i] > 0x7e)
			abort();
	n = np_meta_unescape(esc, need, back, strlen(in) + 1);
	if (n != (int)strlen(in) || memcmp(back, in, strlen(in) + 1))
		abort();
	free(back);
	free(esc);
	free(in);
	return 0;
}
