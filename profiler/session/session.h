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
	int signal;          /* for NP_END_SIGNAL */
	uint64_t duration_ns;
	uint64_t events;     /* individual events recorded */
	uint64_t lost;       /* events that could not be recorded */
};

/* Returns 0 when a recording was written to cfg->output (even if the target
 * exited mid-way), or a negative errno with a one-line reason in err. */
int np_session_record(const struct np_config *cfg, struct np_session_result *res, char *err,
		      size_t errlen);

#endif /* NP_SESSION_H */
