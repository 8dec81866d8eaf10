/* netparse.c - pure parsers for network counters (see netparse.h). */
#include "profiler/net/netparse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "profiler/base/hex.h"

/* ---- small text helpers ---- */

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *line_end(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl : p + strlen(p);
}

/* An unsigned number in `base` at p, up to `end`; NULL when there is none
 * or it does not fit 64 bits. */
static const char *num_u64(const char *p, const char *end, int base, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = p;

	for (; p < end; p++) {
		int d = np_hexval(*p);

		if (d < 0 || d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return NULL;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (p == s)
		return NULL;
	*out = v;
	return p;
}

/* ---- /proc/net/softnet_stat ---- */

int np_parse_softnet(const char *buf, struct np_softnet_row *rows, size_t max)
{
	size_t n = 0, line = 0;

	for (const char *p = buf; *p && n < max; line++) {
		const char *end = line_end(p);
		uint64_t col[16];
		size_t ncol = 0;
		const char *q = p;

		while (q < end && ncol < 16) {
			q = skip_blank(q);
			if (q >= end)
				break;
			q = num_u64(q, end, 16, &col[ncol]);
			if (!q || (q < end && *q != ' ' && *q != '\t'))
				break;
			ncol++;
		}
		/* Columns 0..10 exist since 2.6; a line with fewer, or a value
		 * that is not a 32-bit hex number, is not a softnet line. */
		bool ok = ncol >= 11;

		for (size_t i = 0; ok && i < ncol; i++)
			ok = col[i] <= UINT32_MAX;
		if (ok) {
			struct np_softnet_row *r = &rows[n++];

			memset(r, 0, sizeof(*r));
			/* Column 12 is the CPU number (5.10+): lines exist only for
			 * online CPUs, so the line number is a guess without it. */
			r->cpu = ncol >= 13 ? (uint32_t)col[12] : (uint32_t)line;
			r->processed = (uint32_t)col[0];
			r->dropped = (uint32_t)col[1];
			r->time_squeeze = (uint32_t)col[2];
			r->received_rps = (uint32_t)col[9];
			r->flow_limit = (uint32_t)col[10];
			if (ncol >= 12) {
				r->backlog = (uint32_t)col[11];
				r->has_backlog = true;
			}
		}
		p = *end ? end + 1 : end;
	}
	return n ? (int)n : -EINVAL;
}

/* ---- /proc/softirqs and /proc/interrupts share the "CPUn" header ---- */

static int parse_cpu_header(const char *p, const char *end, uint32_t *cpu_ids, size_t max)
{
	size_t n = 0;

	while (p < end) {
		uint64_t id;

		p = skip_blank(p);
		if (p >= end)
			break;
		if (strncmp(p, "CPU", 3))
			return -EINVAL;
		p = num_u64(p + 3, end, 10, &id);
		if (!p || id >= NP_NET_MAX_CPUS)
			return -EINVAL;
		if (n < max)
			cpu_ids[n] = (uint32_t)id;
		n++;
	}
	if (!n)
		return -EINVAL;
	return (int)(n < max ? n : max);
}

/* Up to `max` decimal numbers after p; returns how many, *rest at the
 * first thing that is not one. */
static size_t parse_counts(const char *p, const char *end, uint64_t *v, size_t max,
			   const char **rest)
{
	size_t n = 0;

	while (n < max) {
		const char *q = skip_blank(p), *r;

		if (q >= end)
			break;
		r = num_u64(q, end, 10, &v[n]);
		if (!r || (r < end && *r != ' ' && *r != '\t'))
			break;
		n++;
		p = r;
	}
	*rest = p;
	return n;
}

int np_parse_softirqs(const char *buf, uint32_t *cpu_ids, uint64_t *net_rx, uint64_t *net_tx,
		      size_t max)
{
	const char *p = buf, *end = line_end(p);
	int ncols = parse_cpu_header(p, end, cpu_ids, max);
	bool seen = false;

	if (ncols < 0)
		return ncols;
	memset(net_rx, 0, (size_t)ncols * sizeof(*net_rx));
	memset(net_tx, 0, (size_t)ncols * sizeof(*net_tx));
	for (p = *end ? end + 1 : end; *p; p = *end ? end + 1 : end) {
		const char *name = skip_blank(p), *rest;
		uint64_t *dst;

		end = line_end(p);
		if (!strncmp(name, "NET_RX:", 7))
			dst = net_rx;
		else if (!strncmp(name, "NET_TX:", 7))
			dst = net_tx;
		else
			continue;
		parse_counts(name + 7, end, dst, (size_t)ncols, &rest);
		seen = true;
	}
	return seen ? ncols : -EINVAL;
}

/* ---- /proc/stat ---- */

int np_parse_proc_stat(const char *buf, struct np_cpu_ticks *rows, size_t max)
{
	size_t n = 0;

	for (const char *p = buf, *end; *p && n < max; p = *end ? end + 1 : end) {
		uint64_t id, v[8] = {0};
		const char *q, *rest;

		end = line_end(p);
		if (strncmp(p, "cpu", 3) || p[3] < '0' || p[3] > '9')
			continue;
		q = num_u64(p + 3, end, 10, &id);
		if (!q || id >= NP_NET_MAX_CPUS)
			continue;
		/* user nice system idle iowait irq softirq steal: the first
		 * seven exist since 2.6.0, steal since 2.6.11. */
		if (parse_counts(q, end, v, 8, &rest) < 7)
			continue;
		rows[n] = (struct np_cpu_ticks){.cpu = (uint32_t)id,
						.user = v[0],
						.nice = v[1],
						.system = v[2],
						.idle = v[3],
						.iowait = v[4],
						.irq = v[5],
						.softirq = v[6],
						.steal = v[7]};
		n++;
	}
	return (int)n;
}

/* ---- /proc/net/snmp, /proc/net/netstat ---- */

int np_parse_snmp(const char *buf, np_snmp_cb cb, void *arg)
{
	int count = 0;
	const char *p = buf;

	while (*p) {
		const char *h = p, *hend = line_end(h), *v, *vend, *colon;
		char group[32], name[64];
		size_t glen;

		if (!*hend)
			break;
		v = hend + 1;
		vend = line_end(v);
		colon = memchr(h, ':', (size_t)(hend - h));
		glen = colon ? (size_t)(colon - h) : 0;
		/* The values line repeats the header's "Group:" prefix. */
		if (!colon || glen == 0 || glen >= sizeof(group) || (size_t)(vend - v) <= glen ||
		    memcmp(h, v, glen + 1)) {
			p = v;
			continue;
		}
		memcpy(group, h, glen);
		group[glen] = '\0';
		const char *hn = colon + 1, *vn = v + glen + 1;

		for (;;) {
			const char *ns, *ne, *vs;
			int64_t value;
			uint64_t mag;
			bool neg;

			ns = skip_blank(hn);
			vs = skip_blank(vn);
			if (ns >= hend || vs >= vend)
				break;
			ne = ns;
			while (ne < hend && *ne != ' ' && *ne != '\t')
				ne++;
			neg = *vs == '-';
			vn = num_u64(vs + neg, vend, 10, &mag);
			if (!vn || (vn < vend && *vn != ' ' && *vn != '\t'))
				break;
			/* Counters are unsigned 64-bit in the kernel; only
			 * MaxConn-like fields are negative. */
			value = neg ? (mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag)
				    : (int64_t)mag;
			if ((size_t)(ne - ns) < sizeof(name)) {
				memcpy(name, ns, (size_t)(ne - ns));
				name[ne - ns] = '\0';
				cb(group, name, value, arg);
				count++;
			}
			hn = ne;
		}
		p = *vend ? vend + 1 : vend;
	}
	return count ? count : -EINVAL;
}

/* ---- /proc/interrupts ---- */

int np_parse_interrupts(const char *buf, uint32_t *cpu_ids, size_t max, np_irq_cb cb, void *arg)
{
	const char *p = buf, *end = line_end(p);
	int ncols = parse_cpu_header(p, end, cpu_ids, max);
	uint64_t *counts;

	if (ncols < 0)
		return ncols;
	counts = calloc((size_t)ncols, sizeof(*counts));
	if (!counts)
		return -ENOMEM;
	for (p = *end ? end + 1 : end; *p; p = *end ? end + 1 : end) {
		const char *name = skip_blank(p), *colon, *rest;
		char irq[16], desc[128];
		size_t n, dlen;

		end = line_end(p);
		colon = memchr(name, ':', (size_t)(end - name));
		if (!colon || colon == name || (size_t)(colon - name) >= sizeof(irq))
			continue;
		memcpy(irq, name, (size_t)(colon - name));
		irq[colon - name] = '\0';
		n = parse_counts(colon + 1, end, counts, (size_t)ncols, &rest);
		rest = skip_blank(rest);
		dlen = (size_t)(end - rest);
		while (dlen && (rest[dlen - 1] == ' ' || rest[dlen - 1] == '\t'))
			dlen--;
		if (dlen >= sizeof(desc))
			dlen = sizeof(desc) - 1;
		memcpy(desc, rest, dlen);
		desc[dlen] = '\0';
		cb(irq, counts, n, desc, arg);
	}
	free(counts);
	return ncols;
}

/* ---- CPU masks and lists ---- */

int np_cpumask_count(const char *buf)
{
	int count = 0, digits = 0;

	for (const char *p = skip_blank(buf); *p && *p != '\n'; p++) {
		int d = np_hexval(*p);

		if (*p == ',')
			continue;
		if (d < 0)
			return -EINVAL;
		count += __builtin_popcount((unsigned)d);
		digits++;
	}
	return digits ? count : -EINVAL;
}

int np_cpulist_count(const char *buf)
{
	const char *p = skip_blank(buf), *end = line_end(p);
	int count = 0;

	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return 0; /* an empty list is an empty set */
	while (p < end) {
		uint64_t lo, hi;

		p = num_u64(p, end, 10, &lo);
		if (!p)
			return -EINVAL;
		hi = lo;
		if (p < end && *p == '-') {
			p = num_u64(p + 1, end, 10, &hi);
			if (!p)
				return -EINVAL;
		}
		if (hi < lo || hi >= NP_NET_MAX_CPUS)
			return -EINVAL;
		count += (int)(hi - lo + 1);
		if (p < end && *p != ',')
			return -EINVAL;
		if (p < end)
			p++;
	}
	return count;
}

int np_parse_socket_link(const char *s, uint64_t *inode)
{
	const char *end;

	if (strncmp(s, "socket:[", 8))
		return -EINVAL;
	end = num_u64(s + 8, s + strlen(s), 10, inode);
	if (!end || end[0] != ']' || end[1] != '\0')
		return -EINVAL;
	return 0;
}

int np_parse_u64_text(const char *buf, uint64_t *out)
{
	const char *p = skip_blank(buf), *end = line_end(p);
	const char *q = num_u64(p, end, 10, out);

	if (!q)
		return -EINVAL;
	q = skip_blank(q);
	return q == end ? 0 : -EINVAL;
}

/* ---- NETLINK_SOCK_DIAG ---- */

/* A tcp_info field is used only when the kernel's tcp_info reaches it:
 * older kernels send a shorter struct. */
#define TI_HAS(len, field) \
	((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))
#define TI_GET(dst, ti, len, field) \
	do { \
		if (TI_HAS(len, field)) \
			(dst) = (ti)->field; \
	} while (0)

static void decode_tcpinfo(const void *data, size_t len, struct np_sockdiag_obs *o)
{
	struct tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, data, len < sizeof(ti) ? len : sizeof(ti));
	o->have_tcpinfo = true;
	o->tcpinfo_len = (uint32_t)len;
	TI_GET(o->ca_state, &ti, len, tcpi_ca_state);
	TI_GET(o->unacked, &ti, len, tcpi_unacked);
	TI_GET(o->sacked, &ti, len, tcpi_sacked);
	TI_GET(o->lost, &ti, len, tcpi_lost);
	TI_GET(o->retransmits_now, &ti, len, tcpi_retrans);
	TI_GET(o->rtt_us, &ti, len, tcpi_rtt);
	TI_GET(o->rttvar_us, &ti, len, tcpi_rttvar);
	TI_GET(o->snd_ssthresh, &ti, len, tcpi_snd_ssthresh);
	TI_GET(o->snd_cwnd, &ti, len, tcpi_snd_cwnd);
	TI_GET(o->rcv_space, &ti, len, tcpi_rcv_space);
	TI_GET(o->total_retrans, &ti, len, tcpi_total_retrans);
	TI_GET(o->bytes_acked, &ti, len, tcpi_bytes_acked);
	TI_GET(o->bytes_received, &ti, len, tcpi_bytes_received);
	TI_GET(o->segs_out, &ti, len, tcpi_segs_out);
	TI_GET(o->segs_in, &ti, len, tcpi_segs_in);
	TI_GET(o->notsent_bytes, &ti, len, tcpi_notsent_bytes);
	TI_GET(o->min_rtt_us, &ti, len, tcpi_min_rtt);
	TI_GET(o->delivery_rate, &ti, len, tcpi_delivery_rate);
	TI_GET(o->busy_us, &ti, len, tcpi_busy_time);
	TI_GET(o->rwnd_limited_us, &ti, len, tcpi_rwnd_limited);
	TI_GET(o->sndbuf_limited_us, &ti, len, tcpi_sndbuf_limited);
	TI_GET(o->bytes_sent, &ti, len, tcpi_bytes_sent);
	TI_GET(o->bytes_retrans, &ti, len, tcpi_bytes_retrans);
}

static void decode_skmeminfo(const uint8_t *data, size_t len, struct np_sockdiag_obs *o)
{
	uint32_t v[SK_MEMINFO_VARS] = {0};
	size_t n = len / sizeof(uint32_t);

	if (n > SK_MEMINFO_VARS)
		n = SK_MEMINFO_VARS;
	memcpy(v, data, n * sizeof(uint32_t));
	/* SK_MEMINFO_OPTMEM and earlier exist since 3.x; BACKLOG and DROPS
	 * were added later. */
	if (n <= SK_MEMINFO_OPTMEM)
		return;
	o->have_meminfo = true;
	o->rmem_alloc = v[SK_MEMINFO_RMEM_ALLOC];
	o->rcvbuf = v[SK_MEMINFO_RCVBUF];
	o->wmem_alloc = v[SK_MEMINFO_WMEM_ALLOC];
	o->sndbuf = v[SK_MEMINFO_SNDBUF];
	o->fwd_alloc = v[SK_MEMINFO_FWD_ALLOC];
	o->wmem_queued = v[SK_MEMINFO_WMEM_QUEUED];
	o->optmem = v[SK_MEMINFO_OPTMEM];
	if (n > SK_MEMINFO_BACKLOG)
		o->backlog = v[SK_MEMINFO_BACKLOG];
	if (n > SK_MEMINFO_DROPS) {
		o->sk_drops = v[SK_MEMINFO_DROPS];
		o->have_drops = true;
	}
}

int np_sockdiag_decode(const void *msg, size_t len, uint16_t expect_type, struct np_sockdiag_obs *o)
{
	const struct nlmsghdr *nlh = msg;
	struct inet_diag_msg dm;
	const uint8_t *p, *end;

	memset(o, 0, sizeof(*o));
	if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len)
		return -EINVAL;
	if (nlh->nlmsg_type != expect_type)
		return -ENOMSG;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(dm))
		return -EINVAL;
	memcpy(&dm, (const uint8_t *)msg + NLMSG_HDRLEN, sizeof(dm));
	if (dm.idiag_family != AF_INET && dm.idiag_family != AF_INET6)
		return -EINVAL;
	o->family = dm.idiag_family;
	o->state = dm.idiag_state;
	o->timer = dm.idiag_timer;
	o->retrans = dm.idiag_retrans;
	o->sport = ntohs(dm.id.idiag_sport);
	o->dport = ntohs(dm.id.idiag_dport);
	memcpy(o->src, dm.id.idiag_src, 16);
	memcpy(o->dst, dm.id.idiag_dst, 16);
	o->ifindex = dm.id.idiag_if;
	o->cookie = (uint64_t)dm.id.idiag_cookie[1] << 32 | dm.id.idiag_cookie[0];
	o->uid = dm.idiag_uid;
	o->inode = dm.idiag_inode;
	o->rqueue = dm.idiag_rqueue;
	o->wqueue = dm.idiag_wqueue;

	p = (const uint8_t *)msg + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(dm));
	end = (const uint8_t *)msg + nlh->nlmsg_len;
	while (p < end && (size_t)(end - p) >= sizeof(struct nlattr)) {
		struct nlattr a;
		size_t alen, plen;

		memcpy(&a, p, sizeof(a));
		alen = a.nla_len;
		if (alen < sizeof(a) || alen > (size_t)(end - p))
			return -EINVAL;
		plen = alen - NLA_HDRLEN;
		switch (a.nla_type & NLA_TYPE_MASK) {
		case INET_DIAG_INFO:
			if (plen >= offsetof(struct tcp_info, tcpi_rto))
				decode_tcpinfo(p + NLA_HDRLEN, plen, o);
			break;
		case INET_DIAG_SKMEMINFO:
			decode_skmeminfo(p + NLA_HDRLEN, plen, o);
			break;
		case INET_DIAG_CONG: {
			size_t n = strnlen((const char *)p + NLA_HDRLEN, plen);

			if (n >= sizeof(o->cong))
				n = sizeof(o->cong) - 1;
			memcpy(o->cong, p + NLA_HDRLEN, n);
			o->cong[n] = '\0';
			break;
		}
		default:
			break;
		}
		if (NLA_ALIGN(alen) >= (size_t)(end - p))
			break;
		p += NLA_ALIGN(alen);
	}
	return 0;
}
