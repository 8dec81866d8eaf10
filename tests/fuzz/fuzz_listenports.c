/* fuzz_listenports.c - libFuzzer target: the /proc/net/tcp{,6} listener
 * parser on any bytes.  Properties: never more ports than room, no
 * duplicates, no port 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/sources/listenports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t inodes[] = {0, 1, 1001, 4242, 123456789};
	char *buf = malloc(size ? size : 1);
	uint16_t ports[4];
	size_t n = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	np_listen_ports_parse(buf, size, inodes, 5, ports, 4, &n);
	if (n > 4)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!ports[i])
			abort();
		for (size_t j = i + 1; j < n; j++)
			if (ports[i] == ports[j])
				abort();
	}
	free(buf);
	return 0;
}
