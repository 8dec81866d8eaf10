/* bpfutil.c - libbpf logging and error explanation (see bpfutil.h). */
#include "profiler/collect/bpfutil.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profiler/base/procfs.h"
#include "profiler/collect/targets.h"
#include "bpf/netprof.h"

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
	/* EACCES from a program load is the verifier refusing it (bpf() itself
	 * says EPERM without the capabilities): the program, not the user. */
	if (err == -EACCES && geteuid() == 0) {
		snprintf(out, outlen, "cannot %s: the kernel's verifier rejected a program%s%s%s",
			 what, last_warning[0] ? " (" : "", last_warning,
			 last_warning[0] ? ")" : "");
		if (!log_verbose)
			snprintf(out + strlen(out), outlen - strlen(out),
				 "; -v shows the verifier log");
		return;
	}
	if (err == -EPERM || err == -EACCES) {
		snprintf(out, outlen,
			 "cannot %s: not permitted; run as root or grant CAP_BPF, CAP_PERFMON and "
			 "CAP_NET_ADMIN%s",
			 what,
			 geteuid() == 0 ? " (root without them: check the capability bounding set)"
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

/* "sock/sk_data_ready" -> "sk_data_ready" */
static const char *tp_name(const char *tracepoint)
{
	const char *slash = strchr(tracepoint, '/');

	return slash ? slash + 1 : tracepoint;
}

static int trace_typedef(const char *tracepoint)
{
	const struct btf *btf = kernel_btf();
	const char *name = tp_name(tracepoint);
	char tname[128];

	if (!btf || disabled_for_tests(name))
		return -1;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	return btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
}

/* The string section of the kernel's BTF, read raw: asking whether a
 * tracepoint exists is then a string search, without the ~0.2 s it takes to
 * parse all of the BTF (libbpf parses it again while loading anyway). */
static char *btf_strs;
static size_t btf_strs_len;
static bool btf_strs_tried;

static void load_btf_strings(void)
{
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
	} h;
	FILE *f;
	long size;
	char *buf = NULL;

	btf_strs_tried = true;
	f = fopen("/sys/kernel/btf/vmlinux", "rbe");
	if (!f)
		return;
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != 0xeB9F || fseek(f, 0, SEEK_END) ||
	    (size = ftell(f)) < 0)
		goto out;
	if ((uint64_t)h.hdr_len + h.str_off + h.str_len > (uint64_t)size || !h.str_len)
		goto out;
	buf = malloc(h.str_len + 1);
	if (!buf || fseek(f, (long)(h.hdr_len + h.str_off), SEEK_SET) ||
	    fread(buf, h.str_len, 1, f) != 1) {
		free(buf);
		goto out;
	}
	buf[h.str_len] = '\0';
	btf_strs = buf;
	btf_strs_len = h.str_len;
out:
	fclose(f);
}

/* 1: tracefs says it exists, 0: tracefs says it does not, -1: no tracefs. */
static int tracefs_has(const char *tracepoint)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events", roots[i]);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", roots[i], tracepoint);
		return access(path, F_OK) == 0;
	}
	return -1;
}

bool np_bpf_have_tracepoint(const char *tracepoint)
{
	const char *name = tp_name(tracepoint);
	char needle[136];
	int n;

	if (disabled_for_tests(name))
		return false;
	if (strchr(tracepoint, '/') && (n = tracefs_has(tracepoint)) >= 0)
		return n;
	if (!btf_strs_tried)
		load_btf_strings();
	if (!btf_strs)
		return trace_typedef(tracepoint) > 0; /* unusual layout: parse it all */
	n = snprintf(needle, sizeof(needle), "%cbtf_trace_%s", '\0', name);
	/* with its terminating NUL: the whole string, not a prefix */
	return n > 0 && (size_t)n + 1 < sizeof(needle) &&
	       memmem(btf_strs, btf_strs_len + 1, needle, (size_t)n + 1) != NULL;
}

int np_bpf_tracepoint_args(const char *tracepoint)
{
	const struct btf *btf = kernel_btf();
	const struct btf_type *t;
	int id = trace_typedef(tracepoint);

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

bool np_bpf_need_tracepoint(struct bpf_program *prog, const char *tracepoint, char *missing,
			    size_t missing_len)
{
	size_t used;

	if (np_bpf_have_tracepoint(tracepoint))
		return true;
	bpf_program__set_autoload(prog, false);
	used = strlen(missing);
	if (used + 1 < missing_len)
		snprintf(missing + used, missing_len - used, "%s%s", used ? ", " : "",
			 tp_name(tracepoint));
	return false;
}

void np_bpf_probe_cleanup(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_btf_tried = false;
	free(btf_strs);
	btf_strs = NULL;
	btf_strs_len = 0;
	btf_strs_tried = false;
}

int np_bpf_iter_read(struct bpf_link *link, size_t rec_bytes,
		     void (*fn)(void *arg, const void *rec), void *arg)
{
	int it = bpf_iter_create(bpf_link__fd(link)), rc;

	if (it < 0)
		return -errno;
	rc = np_read_records(it, rec_bytes, fn, arg);
	close(it);
	return rc;
}

int np_targetmap_open(struct np_targetset *ts, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	size_t len = NP_TARGET_PID_LIMIT / 8;
	void *p;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "np_targets", sizeof(uint32_t), (uint32_t)len, 1,
			    &opts);
	if (fd < 0) {
		np_bpf_explain("create the target map", -errno, err, errlen);
		return -errno;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int rc = -errno;

		close(fd);
		snprintf(err, errlen, "cannot map the target map: %s", strerror(-rc));
		return rc;
	}
	ts->map_fd = fd;
	ts->bits = p;
	ts->bits_len = len;
	for (size_t i = 0; i < ts->n; i++)
		if (!(ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED)))
			np_targetmap_mark(ts, ts->v[i].pid, true);
	return 0;
}

int np_targetmap_use(struct bpf_map *map, const struct np_targetset *ts)
{
	if (!ts || ts->map_fd < 0)
		return 0;
	return bpf_map__reuse_fd(map, ts->map_fd);
}

void np_targetmap_mark(struct np_targetset *ts, int pid, bool on)
{
	uint64_t bit;

	if (!ts->bits || pid <= 0 || pid >= NP_TARGET_PID_LIMIT)
		return;
	bit = 1ull << (pid % 64);
	if (on)
		__atomic_fetch_or(&ts->bits[pid / 64], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&ts->bits[pid / 64], ~bit, __ATOMIC_RELAXED);
}

bool np_targetmap_test(const struct np_targetset *ts, int pid)
{
	if (!ts->bits || pid <= 0 || pid >= NP_TARGET_PID_LIMIT)
		return false;
	return (__atomic_load_n(&ts->bits[pid / 64], __ATOMIC_RELAXED) >> (pid % 64)) & 1;
}

void np_targetmap_close(struct np_targetset *ts)
{
	if (ts->bits)
		munmap(ts->bits, ts->bits_len);
	if (ts->map_fd >= 0)
		close(ts->map_fd);
	ts->bits = NULL;
	ts->map_fd = -1;
}
