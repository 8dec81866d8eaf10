/* fuzz_ksyms.c - libFuzzer target: the /proc/kallsyms parser and the
 * address naming on any bytes (not NUL-terminated: the parser takes a
 * length).  Property: names are terminated and fit the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct np_ksyms *ks = NULL;
	char out[64];
	static const uint64_t probes[] = {
		0,         1, 0xffffffff81000000ull, 0xffffffff81001a2bull, 0xffffffffc0a01000ull,
		UINT64_MAX};

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (np_ksyms_parse(buf, size, &ks) == 0) {
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			np_ksyms_name(ks, probes[i], out, sizeof(out));
			if (strnlen(out, sizeof(out)) == sizeof(out))
				abort();
		}
		np_ksyms_free(ks);
	}
	free(buf);
	return 0;
}
