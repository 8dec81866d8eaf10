/* status.c - the text of the live status line (status.h).
 *
 * For: turning the session's progress numbers into one short line, e.g.
 *   "netprof: 3/10 s  1234 events  0 lost  cpu 0.8%"
 * Not for: deciding whether to show it or drawing it; that is main.c's,
 * which alone knows whether stderr is a terminal.
 *
 * The line stays well under 80 columns for any realistic value, so the
 * carriage return that redraws it never has a wrapped line to fight.
 */
#include "profiler/cli/status.h"

#include <stdio.h>

#define NS_PER_S 1000000000ull

double np_status_cpu_share(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns)
{
	if (!wall_ns || cpu1_ns < cpu0_ns)
		return -1;
	return (double)(cpu1_ns - cpu0_ns) / (double)wall_ns;
}

int np_status_format(const struct np_status *s, char *buf, size_t len)
{
	/* Whole elapsed seconds; the total as given (-d 2.5 shows "1/2.5 s").
	 * The loop may report a little after the deadline: elapsed stops at
	 * the total rather than show "11/10 s". */
	uint64_t elapsed_ns = s->total_ns && s->elapsed_ns > s->total_ns ? s->total_ns
									 : s->elapsed_ns;
	char cpu[32];

	if (s->cpu_share < 0)
		snprintf(cpu, sizeof(cpu), "-");
	else
		snprintf(cpu, sizeof(cpu), "%.1f%%", s->cpu_share * 100);
	return snprintf(buf, len, "netprof: %llu/%g s  %llu events  %llu lost  cpu %s",
			(unsigned long long)(elapsed_ns / NS_PER_S), (double)s->total_ns / 1e9,
			(unsigned long long)s->events, (unsigned long long)s->lost, cpu);
}
