/* tlslib.c - the libssl a process maps (tlslib.h). */
#include "profiler/sources/tlslib.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "profiler/base/procfs.h"

/* "libssl.so" alone or followed by ".N..." (libssl.so.3, libssl.so.1.1);
 * not libssl3.so (NSS) nor libssl.so-something. */
static bool is_libssl(const char *path)
{
	static const char base[] = "libssl.so";
	const char *name = strrchr(path, '/');
	size_t n = sizeof(base) - 1;

	name = name ? name + 1 : path;
	if (strncmp(name, base, n))
		return false;
	return name[n] == '\0' || name[n] == '.';
}

int np_tls_find_libssl(const char *maps, size_t len, char *path, size_t pathlen)
{
	size_t at = 0;

	while (at < len) {
		const char *line = maps + at, *nl = memchr(line, '\n', len - at);
		size_t line_len = nl ? (size_t)(nl - line) : len - at;
		struct np_map m;
		size_t plen;

		at += line_len + 1;
		if (np_parse_maps_line(line, line_len, &m) || m.path[0] != '/' ||
		    !is_libssl(m.path))
			continue;
		plen = strlen(m.path);
		if (plen + 1 > pathlen)
			return -ENAMETOOLONG;
		memcpy(path, m.path, plen + 1);
		return 0;
	}
	return -ENOENT;
}
