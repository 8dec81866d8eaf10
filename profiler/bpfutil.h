/* bpfutil.h - libbpf set-up shared by every BPF collector: logging, and
 * turning a load failure into one line a user can act on. */
#ifndef NP_BPFUTIL_H
#define NP_BPFUTIL_H

#include <stddef.h>

/* Routes libbpf's messages: everything to stderr with -v, otherwise kept so
 * the last warning can explain a failure. */
void np_bpf_setup_logging(int verbose);
/* Explains a failed open/load/attach (err is a negative errno) in `out`. */
void np_bpf_explain(const char *what, int err, char *out, size_t outlen);

#endif /* NP_BPFUTIL_H */
