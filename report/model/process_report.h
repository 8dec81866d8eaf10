/* process_report.h - the processes of a service: who they are (master,
 * worker, other), what each did, and how the load was spread over the
 * workers.  Built from NP_BLK_PROCESSES and NP_BLK_THREAD_PIDS; a
 * recording of one process has neither, and `have` stays false. */
#ifndef NP_PROCESS_REPORT_H
#define NP_PROCESS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/recording.h"

enum np_proc_role { NP_ROLE_OTHER = 0, NP_ROLE_MASTER, NP_ROLE_WORKER };

struct np_proc_row {
	uint32_t pid, ppid, flags, threads; /* flags: NP_PROCREC_* */
	enum np_proc_role role;
	char comm[16];
	char cmdline[128];
	uint64_t on_cpu_ns, runq_ns, accepts, exchanges;
};

/* min/max/total of one figure over the workers */
struct np_spread {
	uint64_t min, max, total;
};

struct np_proc_report {
	bool have;
	struct np_proc_row *v; /* by pid */
	size_t n;
	struct np_rec_thread_pid *tp; /* by tid */
	size_t n_tp;
	size_t workers; /* rows with role worker (or, with none, every live row) */
	struct np_spread accepts, exchanges, on_cpu_ns;
};

int np_proc_report_build(const struct np_recording *rec, struct np_proc_report *out);
/* The process of a thread, 0 when not known. */
uint32_t np_proc_report_pid_of(const struct np_proc_report *p, uint32_t tid);
const char *np_proc_role_name(enum np_proc_role role);
void np_proc_report_fini(struct np_proc_report *p);

#endif /* NP_PROCESS_REPORT_H */
