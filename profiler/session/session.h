/* session.h - one recording: attach, collect until the end, detach, write.
 *
 * The session owns the event loop; collectors never block.  It ends at the
 * requested duration, on SIGINT/SIGTERM/SIGHUP, or when the target exits,
 * and in every case writes what was collected.
 */
#ifndef NP_SESSION_H
#define NP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/collect/config.h"
#include "profiler/format/timeline.h"

struct np_session_result {
	enum np_end_reason reason;
	int signal; /* for NP_END_SIGNAL */
	uint64_t duration_ns;
	uint64_t events; /* individual events recorded */
	uint64_t lost;   /* events that could not be recorded */
};

/* Where the recording stands, reported to np_session_hooks.progress. */
struct np_session_progress {
	uint64_t elapsed_ns;  /* since tracing was attached */
	uint64_t duration_ns; /* requested (-d) */
	uint64_t events;      /* individual events recorded so far */
	uint64_t lost;        /* events that could not be recorded so far */
	uint64_t self_cpu_ns; /* netprof's CPU time so far: all threads, user + system */
};

/* What the caller wants to hear while the session records; any member may
 * be NULL.  progress is called from the event loop once when recording
 * starts and then about once a second (within one --poll-ms), never after
 * np_session_record returns; it must not block. */
struct np_session_hooks {
	void (*progress)(const struct np_session_progress *p, void *arg);
	void *arg;
};

/* Returns 0 when a recording was written to cfg->output (even if the target
 * exited mid-way), or a negative errno with a one-line reason in err.
 * hooks may be NULL. */
int np_session_record(const struct np_config *cfg, const struct np_session_hooks *hooks,
		      struct np_session_result *res, char *err, size_t errlen);

#endif /* NP_SESSION_H */
