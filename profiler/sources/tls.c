/* tls.c - the tls source: attaches the SSL uprobes (bpf/tls.bpf.h) to the
 * libssl each target process maps, with the uprobe's pid filter, so that
 * the exchange source sees the plaintext of TLS connections and their
 * handshakes.
 *
 * Processes are found in the target set at start and, once a second while
 * recording, among those that joined it (a new nginx worker): a process is
 * traced from the poll after it appeared.  A process whose executable
 * carries the SSL functions itself (a statically linked OpenSSL or
 * BoringSSL) cannot be traced this way without its symbols being where
 * libbpf looks, and one that maps no libssl has no TLS of OpenSSL's:
 * the first makes the source degraded, with the reason; the second is
 * only counted.  Connections whose first bytes were a TLS handshake record
 * read outside any traced SSL call (the exchange source counts them, with
 * payload reading on) mean a TLS library the uprobes do not know: degraded
 * too, said once recording ends.
 *
 * Not here: what the uprobes do (tls.bpf.h, exchange.bpf.h).
 */
#include "profiler/sources/tls.h"

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/procfs.h"
#include "profiler/collect/targets.h"
#include "profiler/sources/exchanges.h"
#include "profiler/sources/syscalls.h"
#include "profiler/sources/tlslib.h"
#include "bpf/exchange.h"
#include "bpf/syscalls.skel.h"

#define MAPS_MAX_BYTES (4u << 20)
#define RESCAN_NS 1000000000ull
#define MAX_TRACED 1024

/* One uprobe: which program on which function, entry or return. */
struct probe {
	const char *func;
	bool ret;
};

static const struct probe probes[] = {
	{.func = "SSL_write", .ret = false},        {.func = "SSL_write", .ret = true},
	{.func = "SSL_write_ex", .ret = false},     {.func = "SSL_write_ex", .ret = true},
	{.func = "SSL_read", .ret = false},         {.func = "SSL_read", .ret = true},
	{.func = "SSL_read_ex", .ret = false},      {.func = "SSL_read_ex", .ret = true},
	{.func = "SSL_do_handshake", .ret = false}, {.func = "SSL_do_handshake", .ret = true},
};
#define N_PROBES (sizeof(probes) / sizeof(probes[0]))

static struct bpf_program *probe_prog(struct np_syscalls_bpf *skel, const struct probe *p)
{
	if (!strcmp(p->func, "SSL_write"))
		return p->ret ? skel->progs.np_ssl_write_ret : skel->progs.np_ssl_write;
	if (!strcmp(p->func, "SSL_write_ex"))
		return p->ret ? skel->progs.np_ssl_write_ret : skel->progs.np_ssl_write_ex;
	if (!strcmp(p->func, "SSL_read"))
		return p->ret ? skel->progs.np_ssl_read_ret : skel->progs.np_ssl_read;
	if (!strcmp(p->func, "SSL_read_ex"))
		return p->ret ? skel->progs.np_ssl_read_ret : skel->progs.np_ssl_read_ex;
	return p->ret ? skel->progs.np_ssl_leave : skel->progs.np_ssl_handshake;
}

struct traced {
	pid_t pid;
	uint64_t starttime; /* tells a reused pid apart */
	struct bpf_link *links[N_PROBES];
};

struct tls {
	struct np_syscalls_bpf *skel; /* borrowed from the syscall source */
	const struct np_config *cfg;  /* borrowed */
	struct traced *v;
	size_t n, cap;
	size_t seen;       /* target processes looked at */
	size_t no_libssl;  /* ... that map no libssl */
	size_t static_tls; /* ... whose executable has SSL_read itself */
	size_t failed;     /* ... whose libssl took no uprobe */
	char libssl[1024]; /* the first libssl path traced, for the Sources row */
	char static_exe[128];
	char fail_why[256];
	uint64_t untraced; /* TLS handshakes read outside a traced SSL call */
	uint64_t last_scan_ns;
};

/* Does the ELF file define `name` (in .symtab or .dynsym)? */
static bool elf_defines(const char *path, const char *name)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *e;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && !found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				found = true;
				break;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

static bool already_traced(const struct tls *t, const struct np_proc *p)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == p->pid && t->v[i].starttime == p->starttime)
			return true;
	return false;
}

/* Attaches every probe of one process to the libssl at `path` (as the
 * process sees it, under /proc/PID/root).  SSL_read_ex and SSL_write_ex
 * are missing from OpenSSL before 1.1.1: those alone may fail. */
static int attach_process(struct tls *t, struct traced *tr, const char *path, char *why,
			  size_t whylen)
{
	size_t ok = 0;

	for (size_t i = 0; i < N_PROBES; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = probes[i].func,
			    .retprobe = probes[i].ret);
		struct bpf_link *l;

		l = bpf_program__attach_uprobe_opts(probe_prog(t->skel, &probes[i]), tr->pid, path,
						    0, &o);
		if (!l) {
			bool optional = strstr(probes[i].func, "_ex") != NULL;

			if (!optional) {
				snprintf(why, whylen, "uprobe on %s in %.160s: %s", probes[i].func,
					 path, strerror(errno));
				return -errno;
			}
			continue;
		}
		tr->links[i] = l;
		ok++;
	}
	return ok ? 0 : -ENOENT;
}

static void detach_process(struct traced *tr)
{
	for (size_t i = 0; i < N_PROBES; i++) {
		bpf_link__destroy(tr->links[i]);
		tr->links[i] = NULL;
	}
}

/* Looks at one target process: traces its libssl, or counts why not. */
static void take_process(struct tls *t, const struct np_proc *p)
{
	char rel[64], path[4096], lib[1024], why[256] = "";
	struct traced *tr;
	size_t len = 0;
	char *maps = NULL;
	int rc;

	if (already_traced(t, p) || t->n >= MAX_TRACED)
		return;
	t->seen++;
	snprintf(path, sizeof(path), "%s/proc/%d/maps", t->cfg->proc_root, (int)p->pid);
	if (np_read_file(path, MAPS_MAX_BYTES, &maps, &len))
		return; /* gone already */
	rc = np_tls_find_libssl(maps, len, lib, sizeof(lib));
	free(maps);
	if (rc) {
		snprintf(path, sizeof(path), "%s/proc/%d/exe", t->cfg->proc_root, (int)p->pid);
		if (elf_defines(path, "SSL_read")) {
			if (!t->static_tls++)
				snprintf(t->static_exe, sizeof(t->static_exe), "%d (%s)",
					 (int)p->pid, p->comm);
		} else {
			t->no_libssl++;
		}
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct traced *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return;
		t->v = v;
		t->cap = cap;
	}
	tr = &t->v[t->n];
	memset(tr, 0, sizeof(*tr));
	tr->pid = p->pid;
	tr->starttime = p->starttime;
	snprintf(rel, sizeof(rel), "/proc/%d/root", (int)p->pid);
	snprintf(path, sizeof(path), "%s%s%s", t->cfg->proc_root, rel, lib);
	if (attach_process(t, tr, path, why, sizeof(why))) {
		detach_process(tr);
		if (!t->failed++)
			snprintf(t->fail_why, sizeof(t->fail_why), "%s", why);
		return;
	}
	if (!t->libssl[0])
		snprintf(t->libssl, sizeof(t->libssl), "%s", lib);
	t->n++;
}

/* Every live process of the target: the set, or the one pid. */
static void scan_targets(struct tls *t)
{
	const struct np_targetset *ts = t->cfg->targets;

	if (!ts) {
		struct np_proc one = {.pid = t->cfg->pid};

		take_process(t, &one);
		return;
	}
	for (size_t i = 0; i < ts->n; i++)
		if (!(ts->v[i].flags & (NP_PROC_GONE_AT_START | NP_PROC_EXITED)))
			take_process(t, &ts->v[i]);
}

static int write_status(const struct tls *t, struct np_writer *w)
{
	if (t->untraced && !t->static_tls && !t->failed)
		return np_writer_source(
			w, "tls", NP_SOURCE_DEGRADED,
			"%" PRIu64 " connections began a TLS handshake outside any traced SSL call "
			"(a TLS library other than the libssl of the %zu processes traced: Go, "
			"GnuTLS, a static one); their exchanges have no labels",
			t->untraced, t->n);
	if (t->static_tls || t->failed)
		return np_writer_source(
			w, "tls", NP_SOURCE_DEGRADED,
			"%zu of %zu processes traced (libssl %s)%s%s%s%s%s; their TLS exchanges "
			"are timed without labels or handshake",
			t->n, t->seen, t->libssl[0] ? t->libssl : "none",
			t->static_tls ? "; statically linked TLS library (SSL_read in the "
					"executable) in process "
				      : "",
			t->static_exe, t->failed ? "; " : "", t->failed ? t->fail_why : "",
			t->static_tls > 1 || t->failed > 1 ? " and others" : "");
	if (!t->n)
		return np_writer_source(w, "tls", NP_SOURCE_OK,
					"no target process maps libssl: no TLS of OpenSSL's to "
					"see");
	return np_writer_source(w, "tls", NP_SOURCE_OK,
				"uprobes on SSL_read/SSL_write(_ex) and SSL_do_handshake of %s in "
				"%zu processes%s",
				t->libssl, t->n,
				t->cfg->no_payload ? "; no plaintext read (--no-payload)" : "");
}

static void tls_destroy(void *state)
{
	struct tls *t = state;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		detach_process(&t->v[i]);
	free(t->v);
	free(t);
}

static int tls_init(const struct np_collector_ctx *ctx, struct np_writer *w, void **state,
		    char *err, size_t errlen)
{
	struct tls *t;
	int rc;

	if (!ctx->xch->tls) {
		snprintf(err, errlen, "%s",
			 !ctx->cfg->tls ? "off (the default; --tls turns it on)"
					: "needs the exchange source, which is off");
		return -ENOTSUP;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->skel = np_syscalls_skel(ctx->syscalls);
	t->cfg = ctx->cfg;
	t->last_scan_ns = ctx->start_ns;
	scan_targets(t);
	rc = write_status(t, w);
	if (rc) {
		snprintf(err, errlen, "cannot write the recording: %s", strerror(-rc));
		tls_destroy(t);
		return rc;
	}
	*state = t;
	return 0;
}

/* The exchange source's count of TLS handshakes no uprobe saw, summed
 * over CPUs and slots (0 when unreadable). */
static uint64_t untraced_handshakes(const struct tls *t)
{
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(t->skel->maps.xch_stats);
	size_t value_bytes = (sizeof(struct np_xch_stats) + 7) & ~(size_t)7;
	uint64_t sum = 0;
	char *v;

	if (ncpus <= 0 || fd < 0)
		return 0;
	v = calloc((size_t)ncpus, value_bytes);
	if (!v)
		return 0;
	for (uint32_t slot = 0; slot < 2; slot++) {
		if (bpf_map_lookup_elem(fd, &slot, v))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += ((const struct np_xch_stats *)(v + (size_t)c * value_bytes))
				       ->tls_untraced;
	}
	free(v);
	return sum;
}

/* The status again, with the processes found while recording and the
 * handshakes no uprobe saw: a source's latest status is the one reported. */
static int tls_finish(void *state, struct np_writer *w, uint64_t now)
{
	struct tls *t = state;

	(void)now;
	t->untraced = untraced_handshakes(t);
	return write_status(t, w);
}

/* Processes that joined the target since the last look. */
static int tls_poll(void *state, struct np_writer *w, uint64_t now)
{
	struct tls *t = state;

	(void)w;
	if (now - t->last_scan_ns < RESCAN_NS || !t->cfg->targets)
		return 0;
	t->last_scan_ns = now;
	scan_targets(t);
	return 0;
}

static void tls_detach(void *state)
{
	struct tls *t = state;

	for (size_t i = 0; i < t->n; i++)
		detach_process(&t->v[i]);
}

static const char *const tls_sources[] = {"tls", NULL};

const struct np_collector_ops np_tls_collector = {
	.name = "tls",
	.init = tls_init,
	.poll = tls_poll,
	.detach = tls_detach,
	.finish = tls_finish,
	.destroy = tls_destroy,
	.sources = tls_sources,
};
