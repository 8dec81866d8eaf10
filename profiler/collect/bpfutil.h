/* bpfutil.h - libbpf set-up shared by every BPF collector: logging, and
 * turning a load failure into one line a user can act on. */
#ifndef NP_BPFUTIL_H
#define NP_BPFUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Routes libbpf's messages: everything to stderr with -v, otherwise kept so
 * the last warning can explain a failure. */
void np_bpf_setup_logging(int verbose);
/* Explains a failed open/load/attach (err is a negative errno) in `out`. */
void np_bpf_explain(const char *what, int err, char *out, size_t outlen);

/* True when this kernel has the tracepoint "group/name" ("sock/sk_data_ready")
 * for a tp_btf program.  Asks tracefs when it is mounted (cheap), else
 * looks for btf_trace_<name> among the kernel's BTF strings.  For tests, a
 * name listed in $NETPROF_DISABLE_TP (comma-separated, without the group) is
 * reported missing, which is how a kernel without it is simulated. */
bool np_bpf_have_tracepoint(const char *tracepoint);
/* Number of arguments of the tracepoint (without the context), -1 if
 * unknown: for tracepoints whose signature grew between kernels.  Parses
 * the kernel's BTF (a fraction of a second, once). */
int np_bpf_tracepoint_args(const char *tracepoint);
/* Switches off autoload of `prog` unless the tracepoint exists; records
 * the missing one (comma-separated) in missing[]. Returns true if kept. */
struct bpf_program;
bool np_bpf_need_tracepoint(struct bpf_program *prog, const char *tracepoint, char *missing,
			    size_t missing_len);
/* The running kernel's BTF (cached), or NULL. */
struct btf;
const struct btf *np_bpf_kernel_btf(void);
/* Runs a BPF iterator once: calls fn for every record of rec_bytes it
 * writes (np_read_records).  Returns 0 or a negative errno. */
struct bpf_link;
int np_bpf_iter_read(struct bpf_link *link, size_t rec_bytes,
		     void (*fn)(void *arg, const void *rec), void *arg);
/* The target bitmap (bpf/targets.bpf.h) of a service: created once, filled
 * with the live members of `ts`, mapped into ts->bits. */
struct np_targetset;
int np_targetmap_open(struct np_targetset *ts, char *err, size_t errlen);
/* Before load: points an object's np_targets map at the shared one and
 * sets its target_tgid/target_multi constants (rodata, as given). */
struct bpf_map;
int np_targetmap_use(struct bpf_map *map, const struct np_targetset *ts);
void np_targetmap_mark(struct np_targetset *ts, int pid, bool on);
bool np_targetmap_test(const struct np_targetset *ts, int pid);
void np_targetmap_close(struct np_targetset *ts);
/* Frees what the probes above cached. */
void np_bpf_probe_cleanup(void);

#endif /* NP_BPFUTIL_H */
