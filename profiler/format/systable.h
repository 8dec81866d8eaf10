/* systable.h - the traced syscalls' names, kinds and numbers: the id->name
 * table for enum np_sys (bpf/netprof.h), which recordings store by id.
 * Used by the recorder (to attach to the right numbers) and by the report
 * (to print names).  Not the list itself: that is NP_SYSCALLS. */
#ifndef NP_SYSTABLE_H
#define NP_SYSTABLE_H

#include "bpf/netprof.h"

/* Maps enum np_sys to its name; NULL when out of range. */
const char *np_sys_name(unsigned int sys);
/* Its NP_KIND_* (bpf/netprof.h); 0 when out of range. */
int np_sys_kind(unsigned int sys);
/* The kernel's syscall number of `sys` on this architecture, or -1. */
int np_sys_nr(unsigned int sys);

#endif /* NP_SYSTABLE_H */
