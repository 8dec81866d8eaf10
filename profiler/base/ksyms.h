/* ksyms.h - kernel text symbols from /proc/kallsyms: the one kallsyms
 * table of netprof.  It names the kernel frames of CPU samples
 * (cpu/stacktab.c) and the places where the kernel dropped packets
 * ("tcp_v4_rcv+0x1a2", sources/netstack.c).
 *
 * Loaded once, at the end of a recording, and only when there is something
 * to name; the names go into the recording, so a report made elsewhere
 * shows them.  The parser is pure and fuzzed (tests/fuzz/fuzz_ksyms.c):
 * kallsyms is text from outside.
 */
#ifndef NP_KSYMS_H
#define NP_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_ksyms;

/* Parses kallsyms text ("ADDR TYPE NAME [MODULE]" lines), keeping text
 * symbols (t, T, w, W) sorted by address.  Skipped: lines that do not
 * parse, names with control characters, and symbols at address zero.
 * Returns 0; -EPERM when there were text symbols but every address was
 * zero (kptr_restrict hides them from readers without CAP_SYSLOG: nothing
 * can be named, and the caller can say why); -ENOMEM; -E2BIG for text of
 * 4 GiB or more. */
int np_ksyms_parse(const char *text, size_t len, struct np_ksyms **out);
/* Reads and parses proc_root/proc/kallsyms ("" or "/" on a live system, a
 * fixture tree in tests).  Returns as np_ksyms_parse, or the read's
 * -errno. */
int np_ksyms_load(const char *proc_root, struct np_ksyms **out);
size_t np_ksyms_count(const struct np_ksyms *ks);
/* The symbol at or below addr: its name, its module ("" for the kernel
 * image) and addr's offset into it.  The strings are borrowed from ks.
 * False when addr is below every symbol, a megabyte or more past the one
 * below it, or ks is NULL. */
bool np_ksyms_lookup(const struct np_ksyms *ks, uint64_t addr, const char **name,
		     const char **module, uint64_t *offset);
/* Writes "name+0xoff" or "name+0xoff [module]" for addr into out, or ""
 * when np_ksyms_lookup finds nothing.  Returns out. */
char *np_ksyms_name(const struct np_ksyms *ks, uint64_t addr, char *out, size_t outlen);
void np_ksyms_free(struct np_ksyms *ks);

#endif /* NP_KSYMS_H */
