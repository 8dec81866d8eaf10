/* status.h - the live status line netprof shows on a terminal while it
 * records: elapsed/total seconds, events written and lost, and netprof's
 * own CPU over the last second.
 *
 * Only the text: a pure function of the numbers, so it is unit-tested.
 * Whether to show it (stderr is a terminal, no -v) and drawing it in place
 * are the command line's (main.c); the numbers come from the session's
 * progress callback (profiler/session/session.h).
 */
#ifndef NP_STATUS_H
#define NP_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct np_status {
	uint64_t elapsed_ns;
	uint64_t total_ns; /* the requested duration */
	uint64_t events;   /* individual events written so far */
	uint64_t lost;     /* events that could not be recorded so far */
	/* netprof's CPU over the last interval, as a share of one CPU (0.012
	 * is 1.2%); negative when not known yet */
	double cpu_share;
};

/* netprof's CPU, as a share of one CPU, between two readings of its CPU
 * time (getrusage, all threads) taken `wall_ns` apart; -1 when the interval
 * is empty or the clock went backwards. */
double np_status_cpu_share(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns);

/* Writes the line (no "\r", no escape sequences, no newline) into buf, at
 * most len - 1 characters and always terminated when len > 0.  Returns the
 * length snprintf would have written. */
int np_status_format(const struct np_status *s, char *buf, size_t len);

#endif /* NP_STATUS_H */
