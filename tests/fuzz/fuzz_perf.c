/* fuzz_perf.c - libFuzzer target: what the CPU sampler reads from the
 * kernel and /proc, on arbitrary bytes: one perf sample record
 * (np_perf_parse_sample), one exec's comm record (np_perf_parse_exec)
 * and a whole /proc/kallsyms text
 * (np_ksyms_parse and lookups). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/cpu/sampler.h"
#include "profiler/base/ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_perf_sample s;
	struct np_perf_exec e;
	struct np_ksyms *ks;
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	/* 17 registers: the x86_64 layout the sampler asks for */
	if (np_perf_parse_sample(copy, size, 17, &s) == 0) {
		volatile uint64_t sum = 0;

		for (uint64_t i = 0; i < s.n_callchain; i++)
			sum += s.callchain[i];
		for (uint32_t i = 0; i < s.n_regs; i++)
			sum += s.regs[i];
		for (uint64_t i = 0; i < s.stack_bytes; i++)
			sum += s.stack[i];
		(void)sum;
	}
	/* its fields are copied out: ASan checks the reads */
	(void)np_perf_parse_exec(copy, size, &e);
	if (np_ksyms_parse((const char *)copy, size, &ks) == 0) {
		const char *name, *mod;
		uint64_t off;

		for (uint64_t a = 0; a < 64; a++)
			if (np_ksyms_lookup(ks, a * 0x0400000000000000ull, &name, &mod, &off) &&
			    (strlen(name) > size || strlen(mod) > size))
				abort();
		np_ksyms_free(ks);
	}
	free(copy);
	return 0;
}
