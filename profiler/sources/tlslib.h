/* tlslib.h - which TLS library a target process uses, from its
 * /proc/PID/maps: the libssl it maps is where the tls source puts its
 * uprobes.  The parser is pure and fuzzed: /proc text is input.
 */
#ifndef NP_TLSLIB_H
#define NP_TLSLIB_H

#include <stddef.h>

/* Copies into path (NUL-terminated) the file of the first mapping in a
 * /proc/PID/maps text whose name is libssl.so or libssl.so.N...  Returns 0,
 * -ENOENT when no line maps one, -ENAMETOOLONG when the path does not fit.
 * Malformed lines are skipped. */
int np_tls_find_libssl(const char *maps, size_t len, char *path, size_t pathlen);

#endif /* NP_TLSLIB_H */
