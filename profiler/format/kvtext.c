/* kvtext.c - the key=value text codec (see kvtext.h). */
#include "profiler/format/kvtext.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/array.h"
#include "profiler/base/hex.h"

size_t np_meta_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
		char buf[4];
		size_t k = 0;

		if (*s == '\\') {
			buf[k++] = '\\';
			buf[k++] = '\\';
		} else if (*s == '\n') {
			buf[k++] = '\\';
			buf[k++] = 'n';
		} else if (*s < 0x20 || *s > 0x7e) {
			buf[k++] = '\\';
			buf[k++] = 'x';
			buf[k++] = hex[*s >> 4];
			buf[k++] = hex[*s & 15];
		} else {
			buf[k++] = (char)*s;
		}
		for (size_t i = 0; i < k; i++, n++)
			if (n + 1 < outlen)
				out[n] = buf[i];
	}
	if (outlen)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

int np_meta_unescape(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return -ENOSPC;
	for (size_t i = 0; i < inlen; i++) {
		char c = in[i];

		if (c == '\\') {
			if (i + 1 >= inlen)
				return -EINVAL;
			c = in[++i];
			if (c == 'n') {
				c = '\n';
			} else if (c == 'x') {
				int hi, lo;

				if (inlen - i < 3)
					return -EINVAL;
				hi = np_hexval(in[i + 1]);
				lo = np_hexval(in[i + 2]);
				if (hi < 0 || lo < 0)
					return -EINVAL;
				c = (char)(hi << 4 | lo);
				i += 2;
			} else if (c != '\\') {
				return -EINVAL;
			}
		}
		if (n + 1 >= outlen)
			return -ENOSPC;
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

int np_kvtext_put(struct np_kvtext *t, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = np_meta_escape(value, NULL, 0);
	size_t need = t->len + klen + 1 + vlen + 1; /* "key=value\n" */

	/* + 1: np_meta_escape writes its NUL, the newline then replaces it */
	if (NP_GROW(t->buf, t->cap, need + 1))
		return -ENOMEM;
	memcpy(t->buf + t->len, key, klen);
	t->buf[t->len + klen] = '=';
	np_meta_escape(value, t->buf + t->len + klen + 1, vlen + 1);
	t->buf[need - 1] = '\n';
	t->len = need;
	return 0;
}

void np_kvtext_fini(struct np_kvtext *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

int np_kvtext_parse(const char *text, size_t len, struct np_meta_kv **kv, size_t *n, size_t *cap)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(line_end - p));

		if (eq) {
			size_t vlen = (size_t)(line_end - eq - 1);
			struct np_meta_kv *e;

			if (NP_GROW(*kv, *cap, *n + 1))
				return -ENOMEM;
			e = &(*kv)[*n];
			e->key = strndup(p, (size_t)(eq - p));
			e->value = malloc(vlen + 1);
			if (!e->key || !e->value) {
				free(e->key);
				free(e->value);
				return -ENOMEM;
			}
			(*n)++;
			if (np_meta_unescape(eq + 1, vlen, e->value, vlen + 1) < 0)
				e->value[0] = '\0';
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
