/* text_net.c - the sockets, interfaces, CPUs, TCP counters and
 * configuration sections of the text report (model: report/model/net_report.c). */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"
#include "report/render/textout.h"

#define TEXT_MAX_SOCKS 15
#define TEXT_MAX_ETH 6

static const char *roles(uint32_t role, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {{NP_IF_ROUTE, "route"},
		     {NP_IF_DEFAULT, "default route"},
		     {NP_IF_VETH_PEER, "veth peer"},
		     {NP_IF_MASTER, "bridge"}};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (role & names[i].bit)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? ", " : "", names[i].name);
	return buf;
}

/* The process column of a service's socket tables. */
static void sock_pid(struct np_text *o, const struct np_net_sock *s)
{
	if (s->pid)
		fprintf(o->f, "  %7u", s->pid);
	else
		fprintf(o->f, "  %7s", "?");
}

/* The namespace column, when some target socket lives outside the
 * primary target's network namespace. */
static void sock_netns(struct np_text *o, const struct np_net_report *n,
		       const struct np_net_sock *s)
{
	if (n->have_sock_netns)
		fprintf(o->f, "  %-6s", !s ? "netns" : s->netns_other ? "other" : "target");
}

static void text_sockets(struct np_text *o, const struct np_net_report *n)
{
	char b[4][32], title[128];
	size_t shown = 0, listeners = 0;

	snprintf(title, sizeof(title), "Sockets (%zu seen, %" PRIu64 " closed while recording)",
		 n->n_socks, n->sockets_closed);
	np_text_heading(o, title);
	if (!n->n_socks) {
		fprintf(o->f, "  none of the target's TCP/UDP sockets were seen\n");
		return;
	}
	for (size_t i = 0; i < n->n_socks; i++)
		listeners += (n->socks[i].info.flags & NP_SOCK_LISTENER) != 0;
	if (listeners) {
		if (n->have_sock_pids)
			fprintf(o->f, "  %7s", "pid");
		sock_netns(o, n, NULL);
		fprintf(o->f, "  %-5s %-28s %12s %9s %9s\n", "proto", "listening on",
			"accept queue", "limit", "somaxconn");
		for (size_t i = 0; i < n->n_socks; i++) {
			const struct np_net_sock *s = &n->socks[i];
			const char *somax = np_net_config(n, "sysctl.net.core.somaxconn");

			if (!(s->info.flags & NP_SOCK_LISTENER))
				continue;
			if (n->have_sock_pids)
				sock_pid(o, s);
			sock_netns(o, n, s);
			fprintf(o->f, "  %-5s %-28.28s %7u peak %9u %9.9s%s\n", s->proto, s->local,
				s->sum.recv_q_max, s->info.backlog_limit, somax ? somax : "?",
				np_net_backlog_clamped(n, s) ? "  (clamped by somaxconn)" : "");
		}
	}
	if (n->have_sock_pids)
		fprintf(o->f, "  %7s", "pid");
	sock_netns(o, n, NULL);
	fprintf(o->f, "  %-5s %-10s %-21s %-21s %8s %8s %7s %9s\n", "proto", "state", "local",
		"peer", "Recv-Q", "Send-Q", "retrans", "rtt max");
	for (size_t i = 0; i < n->n_socks && shown < TEXT_MAX_SOCKS; i++) {
		const struct np_net_sock *s = &n->socks[i];

		if (s->info.flags & NP_SOCK_LISTENER)
			continue;
		shown++;
		if (n->have_sock_pids)
			sock_pid(o, s);
		sock_netns(o, n, s);
		fprintf(o->f, "  %-5s %-10s ", s->proto, s->state);
		np_fput_cols(o->f, s->local, 21);
		fputc(' ', o->f);
		np_fput_cols(o->f, s->peer, 21);
		fprintf(o->f, " %8s %8s %7u %9s\n",
			np_fmt_bytes(s->sum.recv_q_max, b[0], sizeof(b[0])),
			np_fmt_bytes(s->sum.send_q_max, b[1], sizeof(b[1])), s->sum.retrans,
			s->info.proto == IPPROTO_TCP
				? np_fmt_ns((uint64_t)s->sum.rtt_us_max * 1000, b[2], sizeof(b[2]))
				: "-");
	}
	if (n->n_socks - listeners > shown)
		fprintf(o->f, "  ... and %zu more (busiest first; all are in the JSON report)\n",
			n->n_socks - listeners - shown);
	fprintf(o->f, "  Recv-Q/Send-Q: peaks over all polls; retrans: retransmitted segments.\n");
	if (n->have_sock_netns)
		fprintf(o->f,
			"  netns: target = the primary target's network namespace (net:[%" PRIu64
			"]),\n         other = another one a target process lives in.\n",
			n->netns_primary);
	(void)b[3];
	if (n->sockets_skipped_max)
		fprintf(o->f, "  %u sockets were not tracked (over the limit)\n",
			n->sockets_skipped_max);
}

static void text_ifaces(struct np_text *o, const struct np_net_report *n)
{
	char r[64];

	np_text_heading(o, "Interfaces (deltas over the window)");
	if (!n->n_ifs) {
		fprintf(o->f, "  none found\n");
		return;
	}
	fprintf(o->f, "  %-12s %-6s %10s %10s %8s %8s %8s  %s\n", "name", "netns", "rx pkts",
		"tx pkts", "rx drop", "tx drop", "driver", "qdisc drops overlim backlog");
	for (size_t i = 0; i < n->n_ifs; i++) {
		const struct np_net_iface *f = &n->ifs[i];

		fprintf(o->f,
			"  %-12.12s %-6.6s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64,
			f->info.name, f->info.netns, f->delta.rx_packets, f->delta.tx_packets,
			f->delta.rx_dropped + f->delta.rx_missed_errors, f->delta.tx_dropped,
			f->driver_drops);
		if (f->root)
			fprintf(o->f, "  %.10s %" PRIu64 " %" PRIu64 " %uB/%up\n", f->root->kind,
				f->root->drops, f->root->overlimits, f->root->backlog_max_bytes,
				f->root->qlen_max);
		else
			fprintf(o->f, "  -\n");
		fprintf(o->f, "  %14s%s%s%s%s%s\n", "", f->info.kind[0] ? f->info.kind : "device",
			f->info.driver[0] ? " / " : "", f->info.driver, f->info.role ? "; " : "",
			roles(f->info.role, r, sizeof(r)));
		for (size_t k = 0; k < f->n_eth && k < TEXT_MAX_ETH; k++)
			fprintf(o->f, "  %14s%-32s +%" PRIu64 "\n", "", f->eth[k].name,
				f->eth[k].delta);
	}
}

static void text_cpus(struct np_text *o, const struct np_net_report *n)
{
	char b[3][32];

	np_text_heading(o, "CPUs (network softirqs and backlog, whole host)");
	if (!n->n_cpus) {
		fprintf(o->f, "  no per-CPU counters were read\n");
		return;
	}
	fprintf(o->f, "  %4s %10s %6s %10s %10s %8s %8s %8s %10s\n", "cpu", "NET_RX", "share",
		"NET_TX", "processed", "dropped", "squeeze", "rps", "softirq");
	for (size_t i = 0; i < n->n_cpus; i++) {
		const struct np_net_cpu *c = &n->cpus[i];

		fprintf(o->f,
			"  %4u %10" PRIu64 " %5.1f%% %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %8" PRIu64 " %10s\n",
			c->cpu, c->net_rx, c->net_rx_share * 100, c->net_tx, c->processed,
			c->dropped, c->time_squeeze, c->received_rps,
			np_fmt_ns(c->softirq_ns, b[0], sizeof(b[0])));
	}
	(void)b;
	fprintf(o->f,
		"  NET_RX/NET_TX: softirqs raised; softirq: all softirq time (/proc/stat).\n");
}

static void text_tcp(struct np_text *o, const struct np_net_report *n)
{
	int shown = 0;

	np_text_heading(o, "TCP/IP counters (target's namespace, deltas)");
	if (!n->have_snmp) {
		fprintf(o->f, "  not read\n");
		return;
	}
	for (unsigned int i = 0; i < NP_SNMP_COUNT; i++) {
		if (!(n->snmp_present & (1ull << i)) || np_snmp_is_gauge(i) || !n->snmp_delta[i])
			continue;
		fprintf(o->f, "  %-30s %12" PRIu64 "%s", np_snmp_name(i), n->snmp_delta[i],
			++shown % 2 ? "   " : "\n");
	}
	if (shown % 2)
		fputc('\n', o->f);
	if (!shown)
		fprintf(o->f, "  no counter moved\n");
	if (n->have_conntrack)
		fprintf(o->f, "  conntrack entries: %" PRIu64 " peak of %" PRIu64 "\n",
			n->conntrack_max_seen, n->conntrack_limit);
}

static void text_config(struct np_text *o, const struct np_net_report *n)
{
	static const char *const keys[] = {
		"sysctl.net.core.somaxconn",          "sysctl.net.ipv4.tcp_max_syn_backlog",
		"sysctl.net.core.netdev_max_backlog", "sysctl.net.core.netdev_budget",
		"sysctl.net.core.rmem_max",           "sysctl.net.core.wmem_max",
		"sysctl.net.ipv4.tcp_rmem",           "sysctl.net.ipv4.tcp_wmem",
	};
	char key[96];

	np_text_heading(o, "Configuration");
	if (!n->n_config) {
		fprintf(o->f, "  not recorded\n");
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = np_net_config(n, keys[i]);

		if (v)
			fprintf(o->f, "  %-36s %s\n", keys[i] + 7, v);
	}
	for (size_t i = 0; i < n->n_ifs; i++) {
		const struct np_net_iface *f = &n->ifs[i];
		const char *rps, *ring;

		snprintf(key, sizeof(key), "if.%u.rx-0.rps_cpus.cpus", f->info.id);
		rps = np_net_config(n, key);
		snprintf(key, sizeof(key), "if.%u.ring.rx", f->info.id);
		ring = np_net_config(n, key);
		fprintf(o->f, "  %-12.12s rx queues %u, tx queues %u, RPS on rx-0: %s%s\n",
			f->info.name, f->info.num_rx_queues, f->info.num_tx_queues,
			rps ? (strcmp(rps, "0") ? rps : "off") : "unknown",
			rps && strcmp(rps, "0") ? " CPUs" : "");
		if (ring) {
			snprintf(key, sizeof(key), "if.%u.ring.rx_max", f->info.id);
			fprintf(o->f, "  %-12s rx ring %s of %s\n", "", ring,
				np_net_config(n, key) ?: "?");
		}
	}
	for (size_t i = 0; i < n->n_irqs; i++)
		fprintf(o->f, "  IRQ %-4u %-28.28s affinity %s, %" PRIu64 " interrupts\n",
			n->irqs[i].info.irq, n->irqs[i].info.desc, n->irqs[i].info.affinity,
			n->irqs[i].total);
}

void np_net_text(struct np_text *o, const struct np_net_report *n, uint64_t start_ns)
{
	char b[3][32];

	(void)start_ns;
	if (!n->have_sockets && !n->have_nic && !n->have_host)
		return;
	text_sockets(o, n);
	text_ifaces(o, n);
	text_cpus(o, n);
	text_tcp(o, n);
	text_config(o, n);
	if (n->n_polls)
		fprintf(o->f,
			"\n  Network polling CPU per poll: median %s, p95 %s, max %s (%zu polls, "
			"%u "
			"sockets)\n",
			np_fmt_ns(n->poll_cpu_p50_ns, b[0], sizeof(b[0])),
			np_fmt_ns(n->poll_cpu_p95_ns, b[1], sizeof(b[1])),
			np_fmt_ns(n->poll_cpu_max_ns, b[2], sizeof(b[2])), n->n_polls,
			n->poll_sockets_max);
}
