/* fuzz_cgcpu.c - libFuzzer target: the cgroup CPU parsers (/proc/PID/cgroup,
 * mountinfo, cpu.stat, cpu.max, cfs_quota_us) on a NUL-terminated copy of
 * arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/collect/cgcpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size + 1 bytes, so ASan sees a read past the NUL */
	char *buf = malloc(size + 1);
	char path[128], mnt[256], root[256];
	struct np_rec_cgroup_cpu r = {0};
	uint32_t v;
	uint64_t q, p;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (np_cgcpu_parse_proc_cgroup(buf, &v, path, sizeof(path)) == 0 &&
	    strnlen(path, sizeof(path)) >= sizeof(path))
		abort();
	np_cgcpu_parse_mountinfo(buf, NP_CGCPU_V1, mnt, sizeof(mnt), root, sizeof(root));
	np_cgcpu_parse_mountinfo(buf, NP_CGCPU_V2, mnt, sizeof(mnt), root, sizeof(root));
	np_cgcpu_parse_stat(buf, &r);
	if (np_cgcpu_parse_max(buf, &q, &p) == 0 && !p)
		abort();
	np_cgcpu_parse_v1(buf, buf, &q, &p);
	free(buf);
	return 0;
}
