/* hostcounters.c - the host's and the target namespace's counters from
 * /proc, and the configuration snapshot the findings cite.
 *
 * Host-wide (the same whatever the namespace): /proc/net/softnet_stat,
 * /proc/softirqs, /proc/stat, /proc/interrupts and /proc/irq/N.
 * Per network namespace, read for the target's: /proc/PID/net/snmp and
 * /proc/PID/net/netstat (the task's own view), nf_conntrack_count/max and
 * the net.* sysctls.  Sysctl files resolve their namespace when they are
 * opened, so they are opened once inside the target's namespace and read
 * with pread() on every poll; a sysctl that exists only in the initial
 * namespace (net.core.netdev_max_backlog, rmem_max, ...) is read from
 * ours and the snapshot says so.
 *
 * Every file is read through the root directory (cfg->proc_root), so the
 * parsers (netparse.c) see the same text in tests as on a live host.  A
 * file that is missing only degrades its source.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/net/netcoll.h"
#include "profiler/net/netparse.h"
#include "profiler/base/procfs.h"
#include "profiler/format/timeline.h"

#define MAX_IRQS 128
#define TEXT_MAX (1u << 20)

enum hfile {
	F_SOFTNET,
	F_SOFTIRQS,
	F_STAT,
	F_INTERRUPTS,
	F_SNMP,
	F_NETSTAT,
	F_CT_COUNT,
	F_CT_MAX,
	F_COUNT
};

struct cpu_state {
	bool seen;
	uint32_t raw[5]; /* last softnet values, to unwrap */
	uint64_t acc[5];
	bool have_raw;
	struct np_rec_netcpu_sample s;
};

struct irq_state {
	uint32_t irq;
	uint32_t iface_id;
	uint64_t last[NP_NET_MAX_CPUS / 16]; /* by column; at most 64 columns kept */
	bool have_last;
};

struct np_host {
	char root[256];
	pid_t pid;
	int fd[F_COUNT];
	char *buf;
	long tick_ns;
	struct cpu_state *cpus; /* NP_NET_MAX_CPUS */
	struct np_rec_snmp_sample last_snmp;
	bool have_snmp;
	struct irq_state irqs[MAX_IRQS];
	uint32_t n_irqs;
	unsigned int netdev_gen;
	uint64_t now_ns;
	/* scratch */
	struct np_rec_snmp_sample cur_snmp;
	struct np_rec_irq_sample *is;
	uint32_t n_is;
	size_t cap_is;
	uint32_t *cols;
};

static const char *const file_names[F_COUNT] = {
	[F_SOFTNET] = "/proc/net/softnet_stat",
	[F_SOFTIRQS] = "/proc/softirqs",
	[F_STAT] = "/proc/stat",
	[F_INTERRUPTS] = "/proc/interrupts",
	[F_SNMP] = "/proc/PID/net/snmp",
	[F_NETSTAT] = "/proc/PID/net/netstat",
	[F_CT_COUNT] = "net.netfilter.nf_conntrack_count",
	[F_CT_MAX] = "net.netfilter.nf_conntrack_max",
};

/* The whole file from offset 0 into h->buf; -errno or the length.
 *
 * Reads start at 4 kB and double: a sysctl read makes the kernel allocate
 * and zero a buffer as large as the read asked for (proc_sys_call_handler),
 * which for a 1 MB read was a fifth of the host counters' poll.  A short
 * read is not the end of the file (a seq_file returns at most one buffer
 * of records per read), so reading goes on until a read returns 0. */
static long read_fd(struct np_host *h, int fd)
{
	size_t used = 0, chunk = 4096;

	if (fd < 0)
		return -ENOENT;
	while (used + 1 < TEXT_MAX) {
		size_t want = TEXT_MAX - 1 - used < chunk ? TEXT_MAX - 1 - used : chunk;
		ssize_t n = pread(fd, h->buf + used, want, (off_t)used);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if ((size_t)n == want && chunk < TEXT_MAX)
			chunk *= 2;
	}
	h->buf[used] = '\0';
	return (long)used;
}

static int open_rel(const struct np_host *h, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", h->root, rel);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* ---- per-CPU ---- */

static struct cpu_state *cpu(struct np_host *h, uint32_t id)
{
	struct cpu_state *c;

	if (id >= NP_NET_MAX_CPUS)
		return NULL;
	c = &h->cpus[id];
	if (!c->seen) {
		memset(&c->s, 0, sizeof(c->s));
		c->seen = true;
	}
	return c;
}

static void poll_softnet(struct np_host *h)
{
	struct np_softnet_row rows[256];
	int n;

	if (read_fd(h, h->fd[F_SOFTNET]) < 0)
		return;
	n = np_parse_softnet(h->buf, rows, sizeof(rows) / sizeof(rows[0]));
	for (int i = 0; i < n; i++) {
		struct cpu_state *c = cpu(h, rows[i].cpu);
		uint32_t raw[5] = {rows[i].processed, rows[i].dropped, rows[i].time_squeeze,
				   rows[i].received_rps, rows[i].flow_limit};

		if (!c)
			continue;
		for (int k = 0; k < 5; k++) {
			/* 32-bit counters: add the modular difference, so a wrap
			 * between two polls is counted right. */
			c->acc[k] = c->have_raw ? c->acc[k] + np_u32_delta(c->raw[k], raw[k])
						: raw[k];
			c->raw[k] = raw[k];
		}
		c->have_raw = true;
		c->s.processed = c->acc[0];
		c->s.dropped = c->acc[1];
		c->s.time_squeeze = c->acc[2];
		c->s.received_rps = c->acc[3];
		c->s.flow_limit = c->acc[4];
		c->s.backlog = rows[i].backlog;
		c->s.have |= NP_CPU_SOFTNET | (rows[i].has_backlog ? NP_CPU_BACKLOG : 0);
	}
}

static void poll_softirqs(struct np_host *h)
{
	uint32_t ids[NP_NET_MAX_CPUS];
	uint64_t *rx = calloc(NP_NET_MAX_CPUS, sizeof(*rx)),
		 *tx = calloc(NP_NET_MAX_CPUS, sizeof(*tx));
	int n;

	if (rx && tx && read_fd(h, h->fd[F_SOFTIRQS]) >= 0 &&
	    (n = np_parse_softirqs(h->buf, ids, rx, tx, NP_NET_MAX_CPUS)) > 0) {
		for (int i = 0; i < n; i++) {
			struct cpu_state *c = cpu(h, ids[i]);

			if (!c)
				continue;
			c->s.net_rx = rx[i];
			c->s.net_tx = tx[i];
			c->s.have |= NP_CPU_SOFTIRQS;
		}
	}
	free(rx);
	free(tx);
}

static void poll_stat(struct np_host *h)
{
	struct np_cpu_ticks *rows = calloc(NP_NET_MAX_CPUS, sizeof(*rows));
	int n;

	if (rows && read_fd(h, h->fd[F_STAT]) >= 0 &&
	    (n = np_parse_proc_stat(h->buf, rows, NP_NET_MAX_CPUS)) > 0) {
		uint64_t t = (uint64_t)h->tick_ns;

		for (int i = 0; i < n; i++) {
			struct cpu_state *c = cpu(h, rows[i].cpu);

			if (!c)
				continue;
			c->s.user_ns = rows[i].user * t;
			c->s.nice_ns = rows[i].nice * t;
			c->s.system_ns = rows[i].system * t;
			c->s.idle_ns = rows[i].idle * t;
			c->s.iowait_ns = rows[i].iowait * t;
			c->s.irq_ns = rows[i].irq * t;
			c->s.softirq_ns = rows[i].softirq * t;
			c->s.steal_ns = rows[i].steal * t;
			c->s.have |= NP_CPU_STAT;
		}
	}
	free(rows);
}

static int write_cpus(struct np_host *h, struct np_writer *w)
{
	struct np_rec_netcpu_sample out[256];
	uint32_t n = 0;
	int rc = 0;

	for (uint32_t i = 0; i < NP_NET_MAX_CPUS; i++) {
		struct cpu_state *c = &h->cpus[i];

		if (!c->seen || !c->s.have)
			continue;
		c->s.ts_ns = h->now_ns;
		c->s.cpu = i;
		out[n++] = c->s;
		c->s.have = 0;
		if (n == 256) {
			rc = np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(out[0]), out, n);
			n = 0;
		}
	}
	if (n && !rc)
		rc = np_writer_block(w, NP_BLK_NETCPU_SAMPLE, sizeof(out[0]), out, n);
	return rc;
}

/* ---- snmp ---- */

static void on_snmp(const char *group, const char *name, int64_t value, void *arg)
{
	struct np_rec_snmp_sample *s = arg;
	int i = np_snmp_index(group, name);

	if (i < 0)
		return;
	s->v[i] = (uint64_t)value;
	s->present |= 1ull << i;
}

static int poll_snmp(struct np_host *h, struct np_writer *w)
{
	struct np_rec_snmp_sample *s = &h->cur_snmp, a, b;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	s->ts_ns = h->now_ns;
	if (read_fd(h, h->fd[F_SNMP]) >= 0)
		np_parse_snmp(h->buf, on_snmp, s);
	if (read_fd(h, h->fd[F_NETSTAT]) >= 0)
		np_parse_snmp(h->buf, on_snmp, s);
	if (read_fd(h, h->fd[F_CT_COUNT]) >= 0 && !np_parse_u64_text(h->buf, &v)) {
		s->conntrack_count = v;
		s->have_extra |= NP_SNMP_HAVE_CONNTRACK;
	}
	if (read_fd(h, h->fd[F_CT_MAX]) >= 0 && !np_parse_u64_text(h->buf, &v)) {
		s->conntrack_max = v;
		s->have_extra |= NP_SNMP_HAVE_CONNTRACK_MAX;
	}
	if (!s->present && !s->have_extra)
		return 0;
	a = *s;
	b = h->last_snmp;
	a.ts_ns = b.ts_ns = 0;
	if (h->have_snmp && !memcmp(&a, &b, sizeof(a)))
		return 0;
	h->last_snmp = *s;
	h->have_snmp = true;
	return np_writer_block(w, NP_BLK_SNMP_SAMPLE, sizeof(*s), s, 1);
}

/* ---- IRQs ---- */

struct irq_scan {
	struct np_host *h;
	bool collect; /* sampling (vs discovery) */
	/* discovery */
	const char *tokens[MAX_IRQS];
	uint32_t token_iface[MAX_IRQS];
	uint32_t n_tokens;
	uint32_t want[MAX_IRQS], want_iface[MAX_IRQS];
	char want_desc[MAX_IRQS][64];
	uint32_t n_want;
};

static struct irq_state *find_irq(struct np_host *h, uint32_t irq)
{
	for (uint32_t i = 0; i < h->n_irqs; i++)
		if (h->irqs[i].irq == irq)
			return &h->irqs[i];
	return NULL;
}

static void queue_is(struct np_host *h, uint32_t irq, uint32_t cpu_id, uint64_t count)
{
	if (NP_GROW(h->is, h->cap_is, (size_t)h->n_is + 1))
		return;
	h->is[h->n_is++] = (struct np_rec_irq_sample){.ts_ns = h->now_ns,
						      .irq = irq,
						      .cpu = cpu_id,
						      .count = count};
}

/* A token matches as a whole word of the IRQ's description: "eth0" in
 * "eth0-TxRx-0" or "virtio2-input.0", not in "eth01". */
static bool has_token(const char *desc, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = strstr(desc, tok); p; p = strstr(p + 1, tok)) {
		bool start = p == desc || p[-1] == ' ' || p[-1] == '@' || p[-1] == ',';
		char after = p[n];

		if (start && (after == '\0' || after == '-' || after == '_' || after == ' ' ||
			      after == '@' || after == ':'))
			return true;
	}
	return false;
}

static void on_irq(const char *irq, const uint64_t *counts, size_t ncols, const char *desc,
		   void *arg)
{
	struct irq_scan *sc = arg;
	struct np_host *h = sc->h;
	char *end;
	unsigned long n = strtoul(irq, &end, 10);
	struct irq_state *st;

	if (*end || end == irq)
		return; /* NMI, LOC, ... */
	if (!sc->collect) {
		bool known = false;

		for (uint32_t i = 0; i < sc->n_want; i++) {
			if (sc->want[i] == n) {
				snprintf(sc->want_desc[i], sizeof(sc->want_desc[i]), "%s", desc);
				known = true;
			}
		}
		for (uint32_t i = 0; !known && i < sc->n_tokens && sc->n_want < MAX_IRQS; i++) {
			if (has_token(desc, sc->tokens[i])) {
				snprintf(sc->want_desc[sc->n_want], sizeof(sc->want_desc[0]), "%s",
					 desc);
				sc->want[sc->n_want] = (uint32_t)n;
				sc->want_iface[sc->n_want++] = sc->token_iface[i];
				break;
			}
		}
		return;
	}
	st = find_irq(h, (uint32_t)n);
	if (!st)
		return;
	for (size_t c = 0; c < ncols && c < sizeof(st->last) / sizeof(st->last[0]); c++) {
		if (!st->have_last || st->last[c] != counts[c])
			queue_is(h, st->irq, h->cols[c], counts[c]);
		st->last[c] = counts[c];
	}
	st->have_last = true;
}

static int poll_irqs(struct np_host *h, struct np_writer *w)
{
	struct irq_scan sc = {.h = h, .collect = true};

	if (!h->n_irqs || read_fd(h, h->fd[F_INTERRUPTS]) < 0)
		return 0;
	h->n_is = 0;
	np_parse_interrupts(h->buf, h->cols, NP_NET_MAX_CPUS, on_irq, &sc);
	return h->n_is ? np_writer_block(w, NP_BLK_IRQ_SAMPLE, sizeof(*h->is), h->is, h->n_is) : 0;
}

struct iface_tokens {
	struct irq_scan *sc;
	char names[MAX_IRQS][64];
	uint32_t n;
	struct np_host *h;
};

static void add_token(struct iface_tokens *t, uint32_t id, const char *s)
{
	size_t len = strlen(s);

	/* A cut name could match another device's /proc/interrupts lines. */
	if (t->n >= MAX_IRQS || !len || len >= sizeof(t->names[0]))
		return;
	memcpy(t->names[t->n], s, len + 1);
	t->sc->tokens[t->sc->n_tokens] = t->names[t->n];
	t->sc->token_iface[t->sc->n_tokens++] = id;
	t->n++;
}

static void add_msi_irqs(struct irq_scan *sc, uint32_t id, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && sc->n_want < MAX_IRQS) {
		char *end;
		unsigned long n = strtoul(de->d_name, &end, 10);

		if (*end || end == de->d_name)
			continue;
		sc->want[sc->n_want] = (uint32_t)n;
		sc->want_iface[sc->n_want++] = id;
	}
	closedir(d);
}

/* The IRQs of an interface: its device's MSI vectors (and those of the
 * device's parent: virtio-net hangs off a PCI function), and /proc/interrupts
 * lines naming the interface or its device ("eth0-TxRx-0",
 * "virtio2-input.0").  Virtual interfaces (lo, veth, bridges) have none. */
static void iface_irq_hints(uint32_t id, const char *name, bool in_target_ns, const char *sysfs,
			    void *arg)
{
	struct iface_tokens *t = arg;
	char path[512], link[512];
	ssize_t n;

	if (in_target_ns || !sysfs[0])
		return;
	snprintf(path, sizeof(path), "%s/device", sysfs);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return; /* no device: a virtual interface */
	link[n] = '\0';
	add_token(t, id, name);
	add_token(t, id, strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	snprintf(path, sizeof(path), "%s/device/msi_irqs", sysfs);
	add_msi_irqs(t->sc, id, path);
	snprintf(path, sizeof(path), "%s/device/../msi_irqs", sysfs);
	add_msi_irqs(t->sc, id, path);
}

static void read_trimmed(const char *root, const char *rel, char *out, size_t len)
{
	long n = np_read_text(root, rel, out, len);

	if (n < 0) {
		out[0] = '\0';
		return;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

void np_host_set_ifaces(struct np_host *h, struct np_writer *w, uint64_t now_ns,
			struct np_netdev *d)
{
	struct irq_scan sc = {.h = h, .collect = false};
	struct iface_tokens *t;
	struct np_conf c = {0};

	if (!d || np_netdev_generation(d) == h->netdev_gen)
		return;
	h->netdev_gen = np_netdev_generation(d);
	h->now_ns = now_ns;
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->sc = &sc;
	t->h = h;
	np_netdev_for_each(d, iface_irq_hints, t);
	if (read_fd(h, h->fd[F_INTERRUPTS]) >= 0)
		np_parse_interrupts(h->buf, h->cols, NP_NET_MAX_CPUS, on_irq, &sc);
	for (uint32_t i = 0; i < sc.n_want && h->n_irqs < MAX_IRQS; i++) {
		struct np_rec_irq_info info = {.ts_ns = now_ns,
					       .irq = sc.want[i],
					       .iface_id = sc.want_iface[i]};
		char rel[96], key[64];

		if (find_irq(h, sc.want[i]) || !sc.want_desc[i][0])
			continue; /* already known, or not in /proc/interrupts */
		memcpy(info.desc, sc.want_desc[i], sizeof(info.desc));
		h->irqs[h->n_irqs++] = (struct irq_state){.irq = sc.want[i],
							  .iface_id = sc.want_iface[i]};
		snprintf(rel, sizeof(rel), "proc/irq/%u/smp_affinity_list", info.irq);
		read_trimmed(h->root, rel, info.affinity, sizeof(info.affinity));
		snprintf(rel, sizeof(rel), "proc/irq/%u/effective_affinity_list", info.irq);
		read_trimmed(h->root, rel, info.effective, sizeof(info.effective));
		np_writer_block(w, NP_BLK_IRQ_INFO, sizeof(info), &info, 1);
		snprintf(key, sizeof(key), "irq.%u.iface", info.irq);
		np_conf_putf(&c, key, "%u", info.iface_id);
		snprintf(key, sizeof(key), "irq.%u.smp_affinity_list", info.irq);
		np_conf_put(&c, key, info.affinity);
		if (info.effective[0]) {
			snprintf(key, sizeof(key), "irq.%u.effective_affinity_list", info.irq);
			np_conf_put(&c, key, info.effective);
		}
	}
	np_conf_flush(&c, w);
	free(t);
	/* Descriptions come with the first sample pass. */
	if (h->n_irqs && h->fd[F_INTERRUPTS] < 0)
		h->fd[F_INTERRUPTS] = open_rel(h, "proc/interrupts");
}

/* ---- configuration ---- */

static const struct {
	const char *name;
	bool per_ns; /* exists in every namespace */
} sysctls[] = {
	{"net.core.somaxconn", true},
	{"net.ipv4.tcp_max_syn_backlog", true},
	{"net.ipv4.tcp_rmem", true},
	{"net.ipv4.tcp_wmem", true},
	{"net.ipv4.tcp_mem", false},
	{"net.ipv4.tcp_congestion_control", true},
	{"net.ipv4.tcp_slow_start_after_idle", true},
	{"net.ipv4.tcp_notsent_lowat", true},
	{"net.ipv4.tcp_autocorking", true},
	{"net.ipv4.tcp_moderate_rcvbuf", true},
	{"net.ipv4.tcp_syncookies", true},
	{"net.ipv4.tcp_abort_on_overflow", true},
	{"net.ipv4.ip_local_port_range", true},
	{"net.core.netdev_max_backlog", false},
	{"net.core.netdev_budget", false},
	{"net.core.netdev_budget_usecs", false},
	{"net.core.dev_weight", false},
	{"net.core.rmem_max", false},
	{"net.core.wmem_max", false},
	{"net.core.rmem_default", false},
	{"net.core.wmem_default", false},
	{"net.core.rps_sock_flow_entries", false},
	{"net.core.default_qdisc", false},
	{"net.netfilter.nf_conntrack_max", true},
};

static void sysctl_path(const char *name, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "proc/sys/%s", name);

	for (size_t i = 9; i < n && i < len; i++)
		if (out[i] == '.')
			out[i] = '/';
}

/* Inside the target's namespace when `inside`: only its per-namespace
 * sysctls resolve there. */
static void read_sysctls(struct np_host *h, struct np_conf *c, bool inside, bool *done)
{
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
		char rel[128], val[256], key[160];
		long n;

		if (done[i])
			continue;
		sysctl_path(sysctls[i].name, rel, sizeof(rel));
		n = np_read_text(h->root, rel, val, sizeof(val));
		if (n < 0)
			continue;
		while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' '))
			val[--n] = '\0';
		for (char *p = val; *p; p++)
			if (*p == '\t')
				*p = ' ';
		snprintf(key, sizeof(key), "sysctl.%s", sysctls[i].name);
		np_conf_put(c, key, val);
		snprintf(key, sizeof(key), "sysctl_scope.%s", sysctls[i].name);
		np_conf_put(c, key, inside ? "target" : "host");
		done[i] = true;
	}
}

static int snapshot_config(struct np_host *h, const struct np_netns *ns, struct np_writer *w)
{
	bool done[sizeof(sysctls) / sizeof(sysctls[0])] = {0};
	struct np_conf c = {0};
	char buf[256];

	np_conf_putf(&c, "netns.target_ino", "%llu", (unsigned long long)ns->target_ino);
	np_conf_putf(&c, "netns.netprof_ino", "%llu", (unsigned long long)ns->self_ino);
	np_conf_put(&c, "netns.same", ns->same ? "1" : "0");
	read_trimmed(h->root, "sys/devices/system/cpu/online", buf, sizeof(buf));
	if (buf[0]) {
		np_conf_put(&c, "cpus.online", buf);
		np_conf_putf(&c, "cpus.online.count", "%d", np_cpulist_count(buf));
	}
	if (!np_netns_enter(ns)) {
		read_sysctls(h, &c, !ns->same, done);
		/* nf_conntrack_count follows the namespace of whoever opened it */
		if (h->fd[F_CT_COUNT] < 0)
			h->fd[F_CT_COUNT] = open_rel(h,
						     "proc/sys/net/netfilter/nf_conntrack_count");
		if (h->fd[F_CT_MAX] < 0)
			h->fd[F_CT_MAX] = open_rel(h, "proc/sys/net/netfilter/nf_conntrack_max");
		np_netns_leave(ns);
	}
	read_sysctls(h, &c, false, done);
	return np_conf_flush(&c, w);
}

int np_host_poll(struct np_host *h, struct np_writer *w, uint64_t now_ns)
{
	int rc;

	h->now_ns = now_ns;
	poll_softnet(h);
	poll_softirqs(h);
	poll_stat(h);
	rc = write_cpus(h, w);
	if (!rc)
		rc = poll_snmp(h, w);
	if (!rc)
		rc = poll_irqs(h, w);
	return rc;
}

int np_host_init(const struct np_netns *ns, const char *proc_root, pid_t pid, struct np_writer *w,
		 uint64_t now_ns, struct np_host **out, char *err, size_t errlen)
{
	struct np_host *h = calloc(1, sizeof(*h));
	char rel[96];
	long hz;

	if (!h)
		return -ENOMEM;
	snprintf(h->root, sizeof(h->root), "%s", proc_root);
	h->pid = pid;
	h->now_ns = now_ns;
	hz = sysconf(_SC_CLK_TCK);
	h->tick_ns = 1000000000L / (hz > 0 ? hz : 100);
	h->buf = malloc(TEXT_MAX);
	h->cpus = calloc(NP_NET_MAX_CPUS, sizeof(*h->cpus));
	h->cols = calloc(NP_NET_MAX_CPUS, sizeof(*h->cols));
	if (!h->buf || !h->cpus || !h->cols) {
		np_host_free(h);
		return -ENOMEM;
	}
	for (int i = 0; i < F_COUNT; i++)
		h->fd[i] = -1;
	h->fd[F_SOFTNET] = open_rel(h, "proc/net/softnet_stat");
	h->fd[F_SOFTIRQS] = open_rel(h, "proc/softirqs");
	h->fd[F_STAT] = open_rel(h, "proc/stat");
	snprintf(rel, sizeof(rel), "proc/%d/net/snmp", (int)pid);
	h->fd[F_SNMP] = open_rel(h, rel);
	snprintf(rel, sizeof(rel), "proc/%d/net/netstat", (int)pid);
	h->fd[F_NETSTAT] = open_rel(h, rel);
	snapshot_config(h, ns, w);
	if (h->fd[F_SOFTNET] < 0 && h->fd[F_SOFTIRQS] < 0 && h->fd[F_STAT] < 0 &&
	    h->fd[F_SNMP] < 0 && h->fd[F_NETSTAT] < 0) {
		snprintf(err, errlen, "none of the /proc counter files can be read");
		np_host_free(h);
		return -ENOENT;
	}
	*out = h;
	return 0;
}

/* "missing: a, b" for the files of [first, last] that could not be
 * opened; "" when all are there.  Returns how many are missing. */
static int missing(const struct np_host *h, int first, int last, char *out, size_t len)
{
	size_t used = 0;
	int n = 0;

	out[0] = '\0';
	for (int i = first; i <= last; i++) {
		if (h->fd[i] >= 0)
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 n ? ", " : "", file_names[i]);
		n++;
	}
	return n;
}

int np_host_status(const struct np_host *h, bool tcp, char *missing_out, size_t len)
{
	return tcp ? missing(h, F_SNMP, F_CT_MAX, missing_out, len)
		   : missing(h, F_SOFTNET, F_STAT, missing_out, len);
}

void np_host_free(struct np_host *h)
{
	if (!h)
		return;
	for (int i = 0; i < F_COUNT; i++)
		if (h->fd[i] >= 0)
			close(h->fd[i]);
	free(h->buf);
	free(h->cpus);
	free(h->cols);
	free(h->is);
	free(h);
}
