/* fuzz_procfs.c - libFuzzer target: the /proc parsers (stat, schedstat,
 * maps lines, task syscall, cmdline) on a NUL-terminated copy of
 * arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size + 1 bytes, so ASan sees a read past the NUL */
	char *buf = malloc(size + 1);
	struct np_task_stat st;
	uint64_t on, runq;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (np_parse_task_stat(buf, &st) == 0 &&
	    strnlen(st.comm, sizeof(st.comm)) >= sizeof(st.comm))
		abort(); /* comm is always terminated */
	np_parse_schedstat(buf, &on, &runq);
	{
		struct np_map mp;
		int64_t nr;
		uint64_t arg;

		/* the line parsers take a length and must not read past it */
		if (np_parse_maps_line(buf, size, &mp) == 0 &&
		    (strnlen(mp.path, sizeof(mp.path)) >= sizeof(mp.path) || mp.end < mp.start))
			abort();
		np_parse_proc_syscall(buf, &nr, &arg);
	}
	{
		/* the raw bytes, NULs and all, exactly as long as they are */
		char line[64];
		size_t n = np_cmdline_line((const char *)data, size, line, sizeof(line));

		if (n >= sizeof(line) || strlen(line) != n)
			abort();
	}
	free(buf);
	return 0;
}
