/* bpfutil.c - libbpf logging and error explanation (see bpfutil.h). */
#include "bpfutil.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int log_verbose;
/* The last non-debug line libbpf printed: usually the reason for a failure. */
static char last_warning[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbose)
		return vfprintf(stderr, fmt, ap);
	if (level != LIBBPF_DEBUG) {
		size_t n;

		vsnprintf(last_warning, sizeof(last_warning), fmt, ap);
		n = strlen(last_warning);
		while (n && (last_warning[n - 1] == '\n' || last_warning[n - 1] == ' '))
			last_warning[--n] = '\0';
	}
	return 0;
}

void np_bpf_setup_logging(int verbose)
{
	log_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

void np_bpf_explain(const char *what, int err, char *out, size_t outlen)
{
	if (err == -EPERM || err == -EACCES) {
		snprintf(out, outlen,
			 "cannot %s: not permitted; run as root or grant CAP_BPF, CAP_PERFMON and "
			 "CAP_NET_ADMIN%s",
			 what, geteuid() == 0 ? " (root without them: check the capability bounding set)"
					      : "");
		return;
	}
	if (last_warning[0])
		snprintf(out, outlen, "cannot %s: %s (%s)%s", what, strerror(-err), last_warning,
			 log_verbose ? "" : "; -v shows the verifier log");
	else
		snprintf(out, outlen, "cannot %s: %s", what, strerror(-err));
}

static struct btf *vmlinux_btf;
static bool vmlinux_btf_tried;

static const struct btf *kernel_btf(void)
{
	if (!vmlinux_btf_tried) {
		vmlinux_btf_tried = true;
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf || libbpf_get_error(vmlinux_btf))
			vmlinux_btf = NULL;
	}
	return vmlinux_btf;
}

const struct btf *np_bpf_kernel_btf(void)
{
	return kernel_btf();
}

static bool disabled_for_tests(const char *name)
{
	const char *list = getenv("NETPROF_DISABLE_TP");
	size_t len = strlen(name);

	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);

		if (n == len && !strncmp(list, name, len))
			return true;
		list = comma ? comma + 1 : NULL;
	}
	return false;
}

static int trace_typedef(const char *name)
{
	const struct btf *btf = kernel_btf();
	char tname[128];

	if (!btf || disabled_for_tests(name))
		return -1;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	return btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
}

bool np_bpf_have_tracepoint(const char *name)
{
	return trace_typedef(name) > 0;
}

int np_bpf_tracepoint_args(const char *name)
{
	const struct btf *btf = kernel_btf();
	const struct btf_type *t;
	int id = trace_typedef(name);

	if (id <= 0)
		return -1;
	/* typedef -> pointer -> func_proto(void *ctx, args...) */
	t = btf__type_by_id(btf, (__u32)id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	return btf_vlen(t) - 1;
}

bool np_bpf_need_tracepoint(struct bpf_program *prog, const char *name, char *missing,
			    size_t missing_len)
{
	size_t used;

	if (np_bpf_have_tracepoint(name))
		return true;
	bpf_program__set_autoload(prog, false);
	used = strlen(missing);
	if (used + 1 < missing_len)
		snprintf(missing + used, missing_len - used, "%s%s", used ? ", " : "", name);
	return false;
}

void np_bpf_probe_cleanup(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_btf_tried = false;
}
