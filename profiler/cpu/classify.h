/* classify.h - whose code a frame is: the application's, a library's, the
 * kernel's network stack or the rest of the kernel; and which kernel
 * frames begin softirq processing.
 *
 * Pure functions of names, so the rules are unit-tested on captured stacks
 * (tests/fixtures/stacks) and the report can explain them.
 */
#ifndef NP_CLASSIFY_H
#define NP_CLASSIFY_H

#include <stdint.h>

/* NP_CLS_KNET or NP_CLS_KERNEL for a kernel function (and the module it is
 * in, "" for vmlinux); ORs NP_FR_SOFTIRQ into *flags for the functions
 * that run softirq handlers. */
uint8_t np_classify_kernel(const char *function, const char *module, uint8_t *flags);
/* NP_CLS_APP or NP_CLS_LIB from a user module's NP_MOD_* flags. */
uint8_t np_classify_user(uint32_t module_flags);

#endif /* NP_CLASSIFY_H */
