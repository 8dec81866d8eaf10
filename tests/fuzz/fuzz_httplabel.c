/* fuzz_httplabel.c - libFuzzer target: the exchange label and status
 * parsers on raw bytes, exactly as long as the input (ASan sees any read
 * past the end).  Properties: a parsed label is terminated, a method of
 * upper-case letters, and a path of visible ASCII that starts with '/' or
 * '*' (or is empty) and never holds '?' or '#'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/model/httplabel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct np_http_label l;
	uint16_t status;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (int full = 0; full < 2; full++) {
		size_t n, m;

		if (np_http_parse_label(buf, size, full, &l))
			continue;
		n = strnlen(l.path, sizeof(l.path));
		m = strnlen(l.method, sizeof(l.method));
		if (n == sizeof(l.path) || m == 0 || m == sizeof(l.method))
			abort();
		for (size_t i = 0; i < m; i++)
			if (l.method[i] < 'A' || l.method[i] > 'Z')
				abort();
		if (n && l.path[0] != '/' && l.path[0] != '*')
			abort();
		for (size_t i = 0; i < n; i++)
			if (l.path[i] <= ' ' || l.path[i] >= 0x7f || l.path[i] == '?' ||
			    l.path[i] == '#')
				abort();
	}
	if (np_http_parse_status(buf, size, &status) == 0 && (status < 100 || status > 999))
		abort();
	free(buf);
	return 0;
}
