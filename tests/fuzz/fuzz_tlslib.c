/* fuzz_tlslib.c - libFuzzer target: finding the libssl in a /proc/PID/maps
 * text, on any bytes.  Properties: a path found is NUL-terminated within
 * its buffer, absolute, and named libssl.so or libssl.so.*. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/sources/tlslib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	char path[64];
	const char *name;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!np_tls_find_libssl(buf, size, path, sizeof(path))) {
		if (!memchr(path, '\0', sizeof(path)) || path[0] != '/')
			abort();
		name = strrchr(path, '/') + 1;
		if (strncmp(name, "libssl.so", 9) || (name[9] && name[9] != '.'))
			abort();
	}
	free(buf);
	return 0;
}
