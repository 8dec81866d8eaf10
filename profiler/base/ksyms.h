/* ksyms.h - kernel text symbols from /proc/kallsyms, to name the places
 * where the kernel dropped packets ("tcp_v4_rcv+0x1a2").
 *
 * Loaded once, after detaching, and only when there is something to name;
 * the names go into the recording, so a report made elsewhere shows them.
 * The parser is pure and fuzzed: kallsyms is text from outside.
 */
#ifndef NP_KSYMS_H
#define NP_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct np_ksyms;

/* Parses kallsyms text ("ADDR TYPE NAME [MODULE]" lines), keeping text
 * symbols (t, T, w, W).  Lines that do not parse are skipped.  Returns 0 or
 * -ENOMEM; an input with no usable line gives an empty table (all
 * addresses zero, as for a reader without CAP_SYSLOG, also gives one). */
int np_ksyms_parse(const char *text, size_t len, struct np_ksyms **out);
/* Reads and parses a kallsyms file ("/proc/kallsyms"). */
int np_ksyms_load(const char *path, struct np_ksyms **out);
size_t np_ksyms_count(const struct np_ksyms *ks);
/* Writes "name+0xoff" or "name+0xoff [module]" for addr into out, or ""
 * when no symbol precedes it.  Returns out. */
char *np_ksyms_name(const struct np_ksyms *ks, uint64_t addr, char *out, size_t outlen);
void np_ksyms_free(struct np_ksyms *ks);

#endif /* NP_KSYMS_H */
