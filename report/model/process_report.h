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
	/* Served exchanges' total latency, from the recorded exchange events
	 * of the process's threads (np_proc_report_latency) */
	uint64_t xch_events;     /* events the percentiles come from */
	bool have_latency;       /* false: none, or the fast ones unknown */
	uint64_t p50_ns, p99_ns; /* estimated when latency_sampled */
};

/* A TCP listener of the service and the processes whose fd tables hold
 * it: one shared by the workers, or with SO_REUSEPORT one per worker. */
struct np_listener {
	uint64_t inode;
	char endpoint[64]; /* "127.0.0.1:80", "[::]:443" */
	uint16_t port;
	bool reuseport;
	const uint32_t *pids; /* ascending; into the report's pid array */
	size_t n_pids;
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
	struct np_spread accepts, exchanges, on_cpu_ns, runq_ns;
	/* over the workers with have_latency (latency_workers of them) */
	struct np_spread p50_ns, p99_ns;
	size_t latency_workers;
	/* the percentiles weigh 1-in-N sampled events by N (slow ones are all
	 * recorded): estimates, exact only when every exchange was recorded */
	bool latency_sampled;
	/* by port, then endpoint; from NP_BLK_LISTEN_HOLDERS, which
	 * recordings before it do not have (n_listeners 0) */
	struct np_listener *listeners;
	size_t n_listeners;
	uint32_t *listener_pids;
};

int np_proc_report_build(const struct np_recording *rec, struct np_proc_report *out);
/* Each process's served exchange latency (p50, p99 of total) from the
 * events ev[0..n) (bpf/exchange.h), which hold every exchange slower than
 * the threshold and 1 in sample_every of the others (0: none of them, and
 * the percentiles are left unknown).  A worker's threads are told by the
 * recording's thread-to-process map.  0 or -ENOMEM. */
struct np_xch_event;
int np_proc_report_latency(struct np_proc_report *p, const struct np_xch_event *ev, size_t n,
			   uint32_t sample_every);
/* The process of a thread, 0 when not known. */
uint32_t np_proc_report_pid_of(const struct np_proc_report *p, uint32_t tid);
const char *np_proc_role_name(enum np_proc_role role);
void np_proc_report_fini(struct np_proc_report *p);

#endif /* NP_PROCESS_REPORT_H */
