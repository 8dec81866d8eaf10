/* shed.c - the shed steps' source names (shed.h). */
#include "profiler/format/shed.h"

const char *np_shed_step_source(unsigned step)
{
	static const char *const names[NP_SHED_STEPS + 1] = {
		"", "syscalls", "exchanges", "netstack", "cpu_samples", "cpu_samples",
	};

	return step <= NP_SHED_STEPS ? names[step] : "";
}
