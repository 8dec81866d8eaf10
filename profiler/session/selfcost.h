/* selfcost.h - what netprof costs the host while attached, measured once a
 * second for the overhead governor (governor.h) and the report.
 *
 * Two parts: netprof's own CPU time (all its threads, user + system, from
 * getrusage) and the time its BPF programs run in the target's and the
 * kernel's context (sys_enter/sys_exit of every task, softirq hooks, ...),
 * which no rusage of netprof's shows.  The latter comes from the kernel's
 * BPF run-time statistics: bpf_enable_stats(BPF_STATS_RUN_TIME) turns them
 * on for as long as netprof holds the returned fd (no sysctl is changed),
 * and each of netprof's programs then reports its run_time_ns.  They are
 * not free: two clock reads per program run, for every BPF program on the
 * host (held all along: about 6% more CPU per request for nginx under wrk
 * on the development VM), and switching them on or off patches kernel text
 * on every CPU (about 10 ms of CPU per switch there).  So they are on for a
 * window of NP_OVH_WINDOW_NS before every NP_OVH_WINDOW_EVERY-th
 * measurement; the window's run time is scaled to its interval, and the
 * intervals in between hold that rate, scaled by the target's traced calls
 * relative to the window's (NP_OVH_BPF_HELD).
 * Iterator programs run inside netprof's own read() calls, so they are
 * left out of the BPF part (they are in its CPU time already).
 *
 * When the statistics cannot be enabled (kernels before 5.8, or no
 * CAP_SYS_ADMIN), the BPF part is estimated from the number of traced calls
 * at NP_OVH_EST_NS_PER_CALL each, and the records say so.
 */
#ifndef NP_SELFCOST_H
#define NP_SELFCOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/timeline.h"

/* BPF run time per traced system call of the target, for the estimate
 * without run-time statistics: measured with them on this project's 2-CPU
 * VM (kernel 6.18, nginx under wrk, every source on) as 2.3 to 2.6 us:
 * the run time of all of netprof's programs (sys_enter/sys_exit of every
 * task on the host, the socket and packet hooks, the scheduler tracer)
 * divided by the target's traced calls. */
#define NP_OVH_EST_NS_PER_CALL 2500ull

/* The statistics are on for this long before each measurement... */
#define NP_OVH_WINDOW_NS 200000000ull
/* ...and a window shorter than this is not used (the loop woke late). */
#define NP_OVH_WINDOW_MIN_NS 20000000ull
/* One measured interval in this many; the first one always. */
#define NP_OVH_WINDOW_EVERY 5

struct np_overhead;

/* netprof's own CPU time so far, all threads, user + system (getrusage);
 * 0 if it cannot be read. */
uint64_t np_overhead_self_cpu_ns(void);
/* Enables the run-time statistics if it can and takes the first reading;
 * only fails for lack of memory. */
int np_overhead_open(struct np_overhead **out);
/* Finds netprof's BPF programs (every loaded program fd this process
 * holds); call once the sources are loaded. */
void np_overhead_find_programs(struct np_overhead *o);
/* Switches the run-time statistics on for the window that the next
 * measurement closes (no-op when they are on or unavailable, or when this
 * measurement is not one of every NP_OVH_WINDOW_EVERY).  `closing`: the
 * window before detach, always measured, so that the BPF cost per run
 * (np_rec_bpf_cost), the diff's yardstick of host speed, is taken at both
 * ends of even a short recording. */
void np_overhead_window_open(struct np_overhead *o, uint64_t now_ns, bool closing);
/* Measures the interval since the previous call: fills wall, own CPU and
 * BPF time (from the window, scaled; estimated from `traced_calls`, the
 * cumulative number of traced calls, when there was no window). */
void np_overhead_measure(struct np_overhead *o, uint64_t now_ns, uint64_t traced_calls,
			 struct np_rec_overhead *out);
/* What each program cost in the window the last measurement closed
 * (none when it closed none, and none twice). */
size_t np_overhead_take_costs(struct np_overhead *o, const struct np_rec_bpf_cost **costs);
/* Whether run-time statistics are on; when not, why (for the report). */
bool np_overhead_bpf_stats(const struct np_overhead *o, const char **why);
/* Programs whose run time is summed. */
size_t np_overhead_programs(const struct np_overhead *o);
/* Turns the statistics off for good (closes the fd).  Called at detach. */
void np_overhead_stop(struct np_overhead *o);
void np_overhead_free(struct np_overhead *o);

#endif /* NP_SELFCOST_H */
