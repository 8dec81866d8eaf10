/* listenports.h - the TCP ports a process listens on.
 *
 * The exchange source needs them to tell, for a connection that was open
 * before recording started, whether the target serves it (its local port is
 * one the target listens on) or made it.  Read once at start from
 * /proc/PID/fd (socket inodes) and /proc/PID/net/tcp{,6} (the target's own
 * network namespace).  The parser is pure and fuzzed: /proc text is input.
 */
#ifndef NP_LISTENPORTS_H
#define NP_LISTENPORTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Adds to ports[*n] (at most max, no duplicates) the local port of every
 * listening entry (state 0A) of a /proc/net/tcp or tcp6 text whose inode is
 * in `inodes` (sorted ascending).  Malformed lines are skipped.  Returns 0,
 * or -EINVAL when the text has no header line. */
int np_listen_ports_parse(const char *text, size_t len, const uint64_t *inodes, size_t n_inodes,
			  uint16_t *ports, size_t max, size_t *n);

/* The ports pid listens on (proc_root "" for the live system).  Returns 0
 * when the list is complete (an empty one then means "listens on nothing"),
 * or a negative errno when a file could not be read or parsed; the ports
 * found before the error are kept. */
int np_listen_ports_read(const char *proc_root, pid_t pid, uint16_t *ports, size_t max, size_t *n);

#endif /* NP_LISTENPORTS_H */
