/* frameclass.h - whose code a stack frame is, as a recording stores it
 * (np_rec_frame.cls), and the names reports print.  Deciding the class from
 * function and module names is cpu/classify.c's job, at record time. */
#ifndef NP_FRAMECLASS_H
#define NP_FRAMECLASS_H

#include <stdint.h>

#define NP_CLS_APP 0    /* the application's own code (its executable, JIT code) */
#define NP_CLS_LIB 1    /* shared libraries, the vdso */
#define NP_CLS_KNET 2   /* kernel network stack: TCP/IP, sockets, skb, NAPI, netfilter, qdisc */
#define NP_CLS_KERNEL 3 /* any other kernel code */
#define NP_CLS_COUNT 4

/* "app", "lib", "kernel-net", "kernel"; "?" for an unknown class. */
const char *np_class_name(uint8_t cls);

#endif /* NP_FRAMECLASS_H */
