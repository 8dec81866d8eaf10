/* fuzz_meta.c - libFuzzer target: the key=value text codec
 * (format/kvtext.h) of META and NET_CONFIG blocks.
 *
 * np_meta_unescape and np_kvtext_parse must cope with any bytes; and for
 * any NUL-free string, escape then unescape must give the string back, the
 * escaped form must be one line of printable ASCII, and a pair put as
 * text must parse back to itself. */
#include <errno.h>
#include <stdint.h>
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

	/* parse of raw input: no key holds '=' or a newline */
	{
		struct np_meta_kv *kv = NULL;
		size_t nkv = 0, cap = 0;

		np_kvtext_parse((const char *)data, size, &kv, &nkv, &cap);
		for (size_t i = 0; i < nkv; i++)
			if (strpbrk(kv[i].key, "=\n") || strlen(kv[i].value) > size)
				abort();
		free_pairs(kv, nkv);
	}

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
	{
		struct np_kvtext t = {0};
		struct np_meta_kv *kv = NULL;
		size_t nkv = 0, cap = 0;

		if (np_kvtext_put(&t, "k", in) == 0 &&
		    (np_kvtext_parse(t.buf, t.len, &kv, &nkv, &cap) != 0 || nkv != 1 ||
		     strcmp(kv[0].key, "k") || strcmp(kv[0].value, in)))
			abort();
		free_pairs(kv, nkv);
		np_kvtext_fini(&t);
	}
	free(back);
	free(esc);
	free(in);
	return 0;
}
