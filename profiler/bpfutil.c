/* bpfutil.c - libbpf logging and error explanation (see bpfutil.h). */
#include "bpfutil.h"

#include <bpf/libbpf.h>
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
