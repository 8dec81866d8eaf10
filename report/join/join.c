/* join.c - recordings of several hosts joined by 4-tuple (join.h): the
 * connections, the exchange pairs on them, each hop's clock offset and
 * split, the waterfall of the slowest requests and the verdict.
 */
#include "report/join/join.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "profiler/format/recording.h"
#include "report/model/httplabel.h"
#include "report/model/values.h"

#define ARRAY_GROW(p, n, cap) ((n) < (cap) ? 0 : grow((void **)&(p), &(cap), sizeof(*(p))))

static int grow(void **p, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, ncap * size);

	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

/* ---- connections ------------------------------------------------------- */

/* One connection of one recording: its events in the order they began.
 * The events are borrowed from the recording. */
struct conn {
	size_t rec;
	const struct np_xch_event **ev;
	size_t n;
	bool joined;
};

/* The time an exchange began on its own side: the request write for a
 * call, the arrival (or first read) for a served one. */
static uint64_t began(const struct np_xch_event *e)
{
	return (e->flags & NP_XEV_OUTBOUND) ? e->write_start_ns : e->start_ns;
}

static int event_order(const void *a, const void *b)
{
	const struct np_xch_event *x = *(const struct np_xch_event *const *)a;
	const struct np_xch_event *y = *(const struct np_xch_event *const *)b;
	int xo = !!(x->flags & NP_XEV_OUTBOUND), yo = !!(y->flags & NP_XEV_OUTBOUND);

	if (xo != yo)
		return xo - yo;
	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return began(x) < began(y) ? -1 : began(x) > began(y);
}

static bool same_conn(const struct np_xch_event *x, const struct np_xch_event *y)
{
	return x->cookie == y->cookie &&
	       (x->flags & NP_XEV_OUTBOUND) == (y->flags & NP_XEV_OUTBOUND);
}

static size_t addr_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* x's local end is y's remote end and the other way round. */
static bool ends_swapped(const struct np_xch_event *x, const struct np_xch_event *y)
{
	size_t n = addr_len(x->family);

	return x->family == y->family && (x->family == AF_INET || x->family == AF_INET6) &&
	       x->lport == y->rport && x->rport == y->lport && !memcmp(x->laddr, y->raddr, n) &&
	       !memcmp(x->raddr, y->laddr, n);
}

/* Splits every recording's events into connections (an event without
 * endpoints can not be joined and is left out). */
static int build_conns(const struct np_recording *const *recs, size_t n_rec,
		       const struct np_xch_event ***evp, struct conn **out, size_t *n_out)
{
	size_t total = 0, k = 0, n = 0, cap = 0;
	const struct np_xch_event **ev;
	struct conn *c = NULL;

	for (size_t r = 0; r < n_rec; r++) {
		size_t m;

		np_recording_records(recs[r], NP_BLK_XCH_EVENTS, &m);
		total += m;
	}
	ev = calloc(total ? total : 1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	*evp = ev;
	for (size_t r = 0; r < n_rec; r++) {
		size_t m, first = k;
		const struct np_xch_event *e = np_recording_records(recs[r], NP_BLK_XCH_EVENTS, &m);

		for (size_t i = 0; i < m; i++)
			if (e[i].rport && (e[i].family == AF_INET || e[i].family == AF_INET6))
				ev[k++] = &e[i];
		qsort(ev + first, k - first, sizeof(*ev), event_order);
		for (size_t i = first; i < k; i++) {
			if (i > first && same_conn(ev[i - 1], ev[i])) {
				c[n - 1].n++;
				continue;
			}
			if (ARRAY_GROW(c, n, cap)) {
				free(c);
				return -ENOMEM;
			}
			c[n++] = (struct conn){.rec = r, .ev = &ev[i], .n = 1};
		}
	}
	*out = c;
	*n_out = n;
	return 0;
}

/* ---- pairs ----------------------------------------------------------------- */

struct pair {
	size_t hop;
	const struct np_xch_event *c, *s; /* the caller's call, the callee's served exchange */
	bool ok;                          /* its times agree with the hop's offset */
};

/* Monotonic times past this (9 years of uptime) are not believed: below
 * it every difference, and every sum of offsets along NP_JOIN_MAX_RECORDINGS
 * hops, fits an int64_t. */
#define TIME_MAX_NS (1ull << 58)

/* t - off - t0, wrapping: the times come from files made elsewhere. */
static int64_t rel_ns(uint64_t t, int64_t off, int64_t t0)
{
	return (int64_t)(t - (uint64_t)off - (uint64_t)t0);
}

static bool pair_clock(const struct np_xch_event *c, const struct np_xch_event *s,
		       struct np_clock_pair *p)
{
	if (!c->write_start_ns || !s->start_ns || !s->write_start_ns)
		return false;
	if (c->write_start_ns >= TIME_MAX_NS || c->total_ns >= TIME_MAX_NS ||
	    s->start_ns >= TIME_MAX_NS || s->write_start_ns >= TIME_MAX_NS)
		return false;
	p->t1 = (int64_t)c->write_start_ns;
	p->t2 = (int64_t)s->start_ns;
	p->t3 = (int64_t)s->write_start_ns;
	p->t4 = (int64_t)(c->write_start_ns + c->total_ns);
	return true;
}

/* The callee's events aligned to the caller's with callee index = caller
 * index + shift.  Returns how many pairs agree on one offset. */
static size_t shift_score(const struct conn *cc, const struct conn *sc, long shift,
			  struct np_clock_pair *buf)
{
	struct np_clock_offset o;
	size_t m = 0;

	for (size_t i = 0; i < cc->n; i++) {
		long k = (long)i + shift;

		if (k < 0 || (size_t)k >= sc->n)
			continue;
		if (pair_clock(cc->ev[i], sc->ev[k], &buf[m]))
			m++;
	}
	if (np_clock_offset_estimate(buf, m, &o))
		return 0;
	return o.used;
}

static long best_shift(const struct conn *cc, const struct conn *sc, struct np_clock_pair *buf)
{
	long best = 0;
	size_t best_score = shift_score(cc, sc, 0, buf);

	for (long d = 1; d <= NP_JOIN_MAX_SHIFT; d++)
		for (int sign = -1; sign <= 1; sign += 2) {
			size_t s = shift_score(cc, sc, d * sign, buf);

			if (s > best_score) {
				best_score = s;
				best = d * sign;
			}
		}
	return best;
}

static size_t hop_of(struct np_join *j, size_t caller, size_t callee, size_t *cap)
{
	for (size_t h = 0; h < j->n_hops; h++)
		if (j->hops[h].caller == caller && j->hops[h].callee == callee)
			return h;
	if (ARRAY_GROW(j->hops, j->n_hops, *cap))
		return SIZE_MAX;
	memset(&j->hops[j->n_hops], 0, sizeof(j->hops[0]));
	j->hops[j->n_hops].caller = caller;
	j->hops[j->n_hops].callee = callee;
	return j->n_hops++;
}

/* Joins every outbound connection to a served one in another recording
 * and pairs their exchanges. */
static int join_conns(struct np_join *j, struct conn *c, size_t n_c, struct pair **pairs,
		      size_t *n_pairs)
{
	size_t cap = 0, hop_cap = 0, max_n = 1;
	struct np_clock_pair *buf;
	struct pair *p = NULL;

	for (size_t i = 0; i < n_c; i++)
		max_n = c[i].n > max_n ? c[i].n : max_n;
	buf = calloc(max_n, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n_c; i++) {
		const struct conn *cc = &c[i];
		struct conn *sc = NULL;
		size_t h;
		long shift;

		if (!(cc->ev[0]->flags & NP_XEV_OUTBOUND))
			continue;
		for (size_t k = 0; k < n_c && !sc; k++)
			if (c[k].rec != cc->rec && !c[k].joined &&
			    !(c[k].ev[0]->flags & NP_XEV_OUTBOUND) &&
			    ends_swapped(cc->ev[0], c[k].ev[0]))
				sc = &c[k];
		if (!sc)
			continue;
		c[i].joined = sc->joined = true;
		h = hop_of(j, cc->rec, sc->rec, &hop_cap);
		if (h == SIZE_MAX)
			goto nomem;
		j->hops[h].connections++;
		shift = best_shift(cc, sc, buf);
		for (size_t e = 0; e < cc->n; e++) {
			long k = (long)e + shift;

			if (k < 0 || (size_t)k >= sc->n) {
				j->hops[h].unpaired++;
				continue;
			}
			if (ARRAY_GROW(p, *n_pairs, cap))
				goto nomem;
			p[(*n_pairs)++] = (struct pair){.hop = h, .c = cc->ev[e], .s = sc->ev[k]};
		}
		/* the callee's events that no call of this connection met */
		j->hops[h].unpaired += sc->n - (cc->n < sc->n ? cc->n : sc->n);
	}
	free(buf);
	*pairs = p;
	return 0;
nomem:
	free(buf);
	free(p);
	return -ENOMEM;
}

/* ---- per hop ------------------------------------------------------------- */

struct split {
	uint64_t peer, network, callee, queued, app, peer_of_callee;
};

static struct split split_of(const struct np_xch_event *c, const struct np_xch_event *s)
{
	struct split x = {0};
	uint64_t after_read;

	x.peer = c->total_ns;
	x.callee = s->write_start_ns - s->start_ns;
	x.network = x.peer > x.callee ? x.peer - x.callee : 0;
	x.queued = (s->flags & NP_XEV_ARRIVAL) && s->read_start_ns > s->start_ns
			   ? s->read_start_ns - s->start_ns
			   : 0;
	if (x.queued > x.callee)
		x.queued = x.callee;
	after_read = x.callee - x.queued;
	x.peer_of_callee = s->peer_ns < after_read ? s->peer_ns : after_read;
	x.app = after_read - x.peer_of_callee;
	return x;
}

static int u64_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int hop_stats(struct np_join *j, size_t h, struct pair *p, size_t n_p)
{
	struct np_join_hop *hop = &j->hops[h];
	struct np_clock_pair *cp = calloc(n_p ? n_p : 1, sizeof(*cp));
	uint64_t *net = calloc(n_p ? n_p : 1, sizeof(*net));
	uint64_t *peer = calloc(n_p ? n_p : 1, sizeof(*peer));
	size_t m = 0, k = 0;
	uint64_t req_net = 0; /* wrapping: signed, summed as two's complement */

	if (!cp || !net || !peer) {
		free(cp);
		free(net);
		free(peer);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_p; i++)
		if (p[i].hop == h && pair_clock(p[i].c, p[i].s, &cp[m]))
			m++;
	if (np_clock_offset_estimate(cp, m, &hop->clock) == -ENOMEM) {
		free(cp);
		free(net);
		free(peer);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_p; i++) {
		struct np_clock_pair q;
		struct split x;

		if (p[i].hop != h)
			continue;
		/* a pair agrees when the offset interval it allows meets the
		 * hop's: [t3 - t4, t2 - t1] against [lo, hi] */
		if (!hop->clock.known || !pair_clock(p[i].c, p[i].s, &q) || q.t4 < q.t1 ||
		    q.t3 < q.t2 || q.t3 - q.t4 > hop->clock.hi_ns ||
		    q.t2 - q.t1 < hop->clock.lo_ns) {
			hop->inconsistent++;
			continue;
		}
		p[i].ok = true;
		x = split_of(p[i].c, p[i].s);
		hop->exchanges++;
		hop->peer_ns += x.peer;
		hop->network_ns += x.network;
		hop->callee_ns += x.callee;
		hop->callee_queued_ns += x.queued;
		hop->callee_app_ns += x.app;
		hop->callee_peer_ns += x.peer_of_callee;
		req_net += (uint64_t)(q.t2 - q.t1) - (uint64_t)hop->clock.offset_ns;
		net[k] = x.network;
		peer[k++] = x.peer;
	}
	qsort(net, k, sizeof(*net), u64_order);
	qsort(peer, k, sizeof(*peer), u64_order);
	hop->network_p50_ns = pct(net, k, 0.5);
	hop->network_p90_ns = pct(net, k, 0.9);
	hop->network_max_ns = k ? net[k - 1] : 0;
	hop->peer_p50_ns = pct(peer, k, 0.5);
	hop->network_share = hop->peer_ns ? (double)hop->network_ns / (double)hop->peer_ns : 0;
	hop->request_net_ns = (int64_t)req_net;
	hop->response_net_ns = (int64_t)(hop->network_ns - req_net);
	free(cp);
	free(net);
	free(peer);
	return 0;
}

/* Each recording's offset from the first, along the hops that join them. */
static void recording_offsets(struct np_join *j)
{
	j->rec[0].offset_known = true;
	for (size_t round = 0; round < j->n_rec; round++)
		for (size_t h = 0; h < j->n_hops; h++) {
			const struct np_join_hop *hop = &j->hops[h];
			struct np_join_recording *a = &j->rec[hop->caller],
						 *b = &j->rec[hop->callee];

			if (!hop->clock.known || a->offset_known == b->offset_known)
				continue;
			if (a->offset_known) {
				b->offset_ns = rel_ns((uint64_t)a->offset_ns, -hop->clock.offset_ns,
						      0);
				b->uncertainty_ns = a->uncertainty_ns + hop->clock.uncertainty_ns;
				b->offset_known = true;
			} else {
				a->offset_ns = rel_ns((uint64_t)b->offset_ns, hop->clock.offset_ns,
						      0);
				a->uncertainty_ns = b->uncertainty_ns + hop->clock.uncertainty_ns;
				a->offset_known = true;
			}
		}
}

/* ---- requests across hops ------------------------------------------------ */

struct chain_index {
	const struct pair **v; /* ok pairs by (caller recording, tid, request write) */
	size_t n;
	const struct np_join *j;
};

static const struct np_join *order_join; /* qsort has no argument */

static int chain_order(const void *a, const void *b)
{
	const struct pair *x = *(const struct pair *const *)a, *y = *(const struct pair *const *)b;
	size_t xr = order_join->hops[x->hop].caller, yr = order_join->hops[y->hop].caller;

	if (xr != yr)
		return xr < yr ? -1 : 1;
	if (x->c->tid != y->c->tid)
		return x->c->tid < y->c->tid ? -1 : 1;
	return x->c->write_start_ns < y->c->write_start_ns
		       ? -1
		       : x->c->write_start_ns > y->c->write_start_ns;
}

/* The next hop of served exchange s of recording r: the longest call its
 * thread made between its first read and its first response write. */
static const struct pair *next_hop(const struct chain_index *ix, size_t r,
				   const struct np_xch_event *s)
{
	const struct pair *best = NULL;
	size_t lo = 0, hi = ix->n;
	uint64_t from = s->read_start_ns ? s->read_start_ns : s->start_ns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pair *q = ix->v[mid];
		size_t qr = ix->j->hops[q->hop].caller;

		if (qr < r || (qr == r && (q->c->tid < s->tid ||
					   (q->c->tid == s->tid && q->c->write_start_ns < from))))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ix->n; i++) {
		const struct pair *q = ix->v[i];

		if (ix->j->hops[q->hop].caller != r || q->c->tid != s->tid ||
		    q->c->write_start_ns > s->write_start_ns)
			break;
		if (!best || q->c->total_ns > best->c->total_ns)
			best = q;
	}
	return best;
}

static void label_of(const struct np_xch_event *e, char *out, size_t len)
{
	struct np_http_label l;
	size_t n = e->label_len < NP_XCH_LABEL_BYTES ? e->label_len : NP_XCH_LABEL_BYTES;

	out[0] = '\0';
	if ((e->flags & NP_XEV_LABEL) && e->proto == NP_PROTO_HTTP1 &&
	    !np_http_parse_label(e->label, n, e->label_cut, &l))
		snprintf(out, len, "%s %s", l.method, l.path);
}

static int add_part(struct np_join *j, size_t *cap, enum np_join_layer layer, size_t hop,
		    uint64_t ns)
{
	for (size_t i = 0; i < j->n_parts; i++)
		if (j->parts[i].layer == layer && j->parts[i].hop == hop) {
			j->parts[i].ns += ns;
			return 0;
		}
	if (ARRAY_GROW(j->parts, j->n_parts, *cap))
		return -ENOMEM;
	j->parts[j->n_parts++] = (struct np_join_part){.layer = layer, .hop = hop, .ns = ns};
	return 0;
}

/* Follows one root request down the hops into w, adding its time to the
 * parts. */
static int follow(struct np_join *j, const struct chain_index *ix, const struct pair *root,
		  struct np_join_waterfall *w, size_t *part_cap)
{
	const struct pair *p = root;
	int64_t t0 = rel_ns(root->c->write_start_ns, j->rec[j->hops[root->hop].caller].offset_ns,
			    0);

	memset(w, 0, sizeof(*w));
	w->total_ns = root->c->total_ns;
	while (p && w->n < NP_JOIN_MAX_DEPTH) {
		const struct np_join_hop *hop = &j->hops[p->hop];
		struct np_join_step *st = &w->steps[w->n++];
		struct split x = split_of(p->c, p->s);
		const struct pair *next = next_hop(ix, hop->callee, p->s);
		int rc;

		st->hop = p->hop;
		st->start_ns = rel_ns(p->c->write_start_ns, j->rec[hop->caller].offset_ns, t0);
		st->peer_ns = x.peer;
		st->network_ns = x.network;
		st->callee_queued_ns = x.queued;
		st->callee_app_ns = x.app;
		st->callee_peer_ns = x.peer_of_callee;
		st->callee_arrival_ns = rel_ns(p->s->start_ns, j->rec[hop->callee].offset_ns, t0);
		label_of(p->c, st->label, sizeof(st->label));
		rc = add_part(j, part_cap, NP_JL_NETWORK, p->hop, x.network);
		if (!rc)
			rc = add_part(j, part_cap, NP_JL_QUEUED, p->hop, x.queued);
		/* without a joined next hop the callee's calls stay its own */
		if (!rc)
			rc = add_part(j, part_cap, next ? NP_JL_APP : NP_JL_PEER, p->hop,
				      next ? x.app : x.peer_of_callee);
		if (!rc && !next)
			rc = add_part(j, part_cap, NP_JL_APP, p->hop, x.app);
		if (rc)
			return rc;
		p = next;
	}
	return 0;
}

static int part_order(const void *a, const void *b)
{
	const struct np_join_part *x = a, *y = b;

	return x->ns > y->ns ? -1 : x->ns < y->ns;
}

static bool is_callee(const struct np_join *j, size_t r)
{
	for (size_t h = 0; h < j->n_hops; h++)
		if (j->hops[h].callee == r && j->hops[h].exchanges)
			return true;
	return false;
}

static int waterfalls(struct np_join *j, struct pair *p, size_t n_p)
{
	struct chain_index ix = {.j = j};
	size_t part_cap = 0;
	int rc = 0;

	ix.v = calloc(n_p ? n_p : 1, sizeof(*ix.v));
	if (!ix.v)
		return -ENOMEM;
	for (size_t i = 0; i < n_p; i++)
		if (p[i].ok)
			ix.v[ix.n++] = &p[i];
	order_join = j;
	qsort(ix.v, ix.n, sizeof(*ix.v), chain_order);
	for (size_t i = 0; i < n_p && !rc; i++) {
		struct np_join_waterfall w;
		size_t slot;

		if (!p[i].ok || is_callee(j, j->hops[p[i].hop].caller))
			continue;
		rc = follow(j, &ix, &p[i], &w, &part_cap);
		j->roots++;
		j->end_to_end_ns += w.total_ns;
		/* keep the NP_JOIN_SLOWEST slowest, slowest first */
		slot = j->n_slowest;
		while (slot > 0 && j->slowest[slot - 1].total_ns < w.total_ns)
			slot--;
		if (slot >= NP_JOIN_SLOWEST)
			continue;
		if (j->n_slowest < NP_JOIN_SLOWEST)
			j->n_slowest++;
		memmove(&j->slowest[slot + 1], &j->slowest[slot],
			(j->n_slowest - 1 - slot) * sizeof(w));
		j->slowest[slot] = w;
	}
	free(ix.v);
	if (rc)
		return rc;
	if (j->n_parts)
		qsort(j->parts, j->n_parts, sizeof(*j->parts), part_order);
	while (j->n_parts && !j->parts[j->n_parts - 1].ns) /* nothing to say of an empty part */
		j->n_parts--;
	for (size_t i = 0; i < j->n_parts; i++)
		j->parts[i].share = j->end_to_end_ns
					    ? (double)j->parts[i].ns / (double)j->end_to_end_ns
					    : 0;
	return 0;
}

/* ---- connections that did not join --------------------------------------- */

static void addr_text(uint8_t family, const uint8_t *a, uint16_t port, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	if (!port)
		snprintf(out, len, "%s", ip);
	else if (family == AF_INET6)
		snprintf(out, len, "[%s]:%u", ip, (unsigned)port);
	else
		snprintf(out, len, "%s:%u", ip, (unsigned)port);
}

/* Listed per recording, direction and far end: a call by the address and
 * port it was made to, a served connection by the listening port and the
 * caller's address (its port is ephemeral). */
static void note_unjoined(struct np_join *j, const struct conn *c)
{
	const struct np_xch_event *e = c->ev[0];
	bool out = e->flags & NP_XEV_OUTBOUND;
	char local[64], remote[64];

	j->unjoined_connections++;
	addr_text(e->family, e->laddr, out ? 0 : e->lport, local, sizeof(local));
	addr_text(e->family, e->raddr, out ? e->rport : 0, remote, sizeof(remote));
	for (size_t i = 0; i < j->n_unjoined; i++) {
		struct np_join_unjoined *u = &j->unjoined[i];

		if (u->rec == c->rec && u->outbound == out && !strcmp(u->local, local) &&
		    !strcmp(u->remote, remote)) {
			u->exchanges += c->n;
			return;
		}
	}
	if (j->n_unjoined == NP_JOIN_MAX_UNJOINED)
		return;
	j->unjoined[j->n_unjoined++] = (struct np_join_unjoined){.rec = c->rec,
								 .outbound = out,
								 .exchanges = c->n};
	snprintf(j->unjoined[j->n_unjoined - 1].local, 64, "%s", local);
	snprintf(j->unjoined[j->n_unjoined - 1].remote, 64, "%s", remote);
}

static uint16_t port_of(const char *endpoint)
{
	const char *colon = strrchr(endpoint, ':');

	return colon ? (uint16_t)atoi(colon + 1) : 0;
}

/* A call that joined nothing and a served connection in another recording
 * on the port it called: the addresses were rewritten on the way. */
static void nat_note(struct np_join *j)
{
	for (size_t a = 0; a < j->n_unjoined; a++) {
		const struct np_join_unjoined *x = &j->unjoined[a];

		if (!x->outbound)
			continue;
		for (size_t b = 0; b < j->n_unjoined; b++) {
			const struct np_join_unjoined *y = &j->unjoined[b];

			if (y->outbound || y->rec == x->rec || !port_of(x->remote) ||
			    port_of(x->remote) != port_of(y->local))
				continue;
			snprintf(j->nat_note, sizeof(j->nat_note),
				 "%s called %s and %s served %s from %s: the 4-tuples differ, as "
				 "NAT or a proxy between them makes them",
				 j->rec[x->rec].name, x->remote, j->rec[y->rec].name, y->local,
				 y->remote);
			return;
		}
	}
}

/* ---- recordings ------------------------------------------------------------ */

static void describe(struct np_join *j, const struct np_recording *const *recs,
		     const char *const *paths)
{
	bool hosts_differ = false;

	for (size_t r = 0; r < j->n_rec; r++) {
		struct np_join_recording *d = &j->rec[r];
		const char *comm = np_recording_meta(recs[r], "comm");
		const char *host = np_recording_meta(recs[r], "hostname");
		size_t n;
		const struct np_rec_xch_config *cfg = np_recording_records(recs[r],
									   NP_BLK_XCH_CONFIG, &n);

		/* names from the recordings go to terminals: made printable */
		np_sanitize(comm ? comm : "?", d->comm, sizeof(d->comm), true);
		np_sanitize(host ? host : "", d->hostname, sizeof(d->hostname), true);
		np_sanitize(paths[r] ? paths[r] : "", d->path, sizeof(d->path), true);
		d->pid = (uint32_t)np_recording_meta_u64(recs[r], "pid", 0);
		np_recording_records(recs[r], NP_BLK_XCH_EVENTS, &n);
		d->events = n;
		if (cfg) {
			d->sample_every = cfg->sample_every;
			d->slow_ns = cfg->slow_ns;
		}
		if (!cfg || cfg->sample_every != 1)
			j->sampled = true;
		if (strcmp(d->hostname, j->rec[0].hostname))
			hosts_differ = true;
	}
	for (size_t r = 0; r < j->n_rec; r++) {
		struct np_join_recording *d = &j->rec[r];
		bool dup = false;

		for (size_t k = 0; k < j->n_rec; k++)
			dup |= k != r && !strcmp(j->rec[k].comm, d->comm) &&
			       !strcmp(j->rec[k].hostname, d->hostname);
		if (hosts_differ)
			snprintf(d->name, sizeof(d->name), "%.30s@%.30s", d->comm, d->hostname);
		else
			snprintf(d->name, sizeof(d->name), "%.60s", d->comm);
		if (dup) /* two processes of one name: the pid tells them apart */
			snprintf(d->name + strlen(d->name), sizeof(d->name) - strlen(d->name),
				 "[%u]", d->pid);
	}
}

const char *np_join_layer_name(enum np_join_layer l)
{
	switch (l) {
	case NP_JL_NETWORK:
		return "network";
	case NP_JL_QUEUED:
		return "queued";
	case NP_JL_APP:
		return "app";
	case NP_JL_PEER:
		return "peer";
	}
	return "?";
}

/* Whether a recording's own verdict cause names the layer the join found:
 * a callee's queue and own work are the application's layer (app.*,
 * host.* for the CPU it was given), its calls the peer's. */
static bool cause_fits(const char *cause, enum np_join_layer l)
{
	switch (l) {
	case NP_JL_QUEUED:
	case NP_JL_APP:
		return !strncmp(cause, "app.", 4) || !strncmp(cause, "host.", 5);
	case NP_JL_PEER:
		return !strncmp(cause, "peer.", 5);
	case NP_JL_NETWORK:
		break;
	}
	return false;
}

void np_join_part_name(const struct np_join *j, const struct np_join_part *p, char *buf, size_t len)
{
	const struct np_join_hop *h = &j->hops[p->hop];
	const char *cause = j->rec[h->callee].cause;
	const char *role = is_callee(j, h->caller) ? "upstream" : "server";

	if (p->layer == NP_JL_NETWORK)
		snprintf(buf, len, "network between %s and %s", j->rec[h->caller].name,
			 j->rec[h->callee].name);
	else if (cause[0] && cause_fits(cause, p->layer))
		snprintf(buf, len, "%s %s: %s", role, j->rec[h->callee].name, cause);
	else if (cause[0])
		snprintf(buf, len, "%s %s: %s (its own report: %s)", role, j->rec[h->callee].name,
			 np_join_layer_name(p->layer), cause);
	else
		snprintf(buf, len, "%s %s: %s", role, j->rec[h->callee].name,
			 np_join_layer_name(p->layer));
}

/* The largest part, and the largest network part when that is another. */
static void verdict(struct np_join *j)
{
	char top[200], net[200];
	const struct np_join_part *n = NULL;

	if (!j->n_parts || !j->end_to_end_ns) {
		snprintf(j->verdict, sizeof(j->verdict),
			 "no request could be followed across the recordings");
		return;
	}
	np_join_part_name(j, &j->parts[0], top, sizeof(top));
	for (size_t i = 0; i < j->n_parts && !n; i++)
		if (j->parts[i].layer == NP_JL_NETWORK)
			n = &j->parts[i];
	if (!n || n == &j->parts[0]) {
		snprintf(j->verdict, sizeof(j->verdict), "%s, %.0f%% of the time", top,
			 100 * j->parts[0].share);
		return;
	}
	np_join_part_name(j, n, net, sizeof(net));
	snprintf(j->verdict, sizeof(j->verdict), "%s, %.0f%% of the time; %s: %.0f%%", top,
		 100 * j->parts[0].share, net, 100 * n->share);
}

void np_join_set_causes(struct np_join *j, const char *const *causes)
{
	for (size_t i = 0; i < j->n_rec; i++)
		snprintf(j->rec[i].cause, sizeof(j->rec[i].cause), "%s",
			 causes && causes[i] ? causes[i] : "");
	verdict(j);
}

int np_join_compute(const struct np_recording *const *recs, const char *const *paths, size_t n,
		    struct np_join *j)
{
	const struct np_xch_event **ev = NULL;
	struct conn *c = NULL;
	struct pair *p = NULL;
	size_t n_c = 0, n_p = 0;
	int rc;

	memset(j, 0, sizeof(*j));
	if (n < 2 || n > NP_JOIN_MAX_RECORDINGS)
		return -EINVAL;
	j->n_rec = n;
	describe(j, recs, paths);
	rc = build_conns(recs, n, &ev, &c, &n_c);
	if (!rc)
		rc = join_conns(j, c, n_c, &p, &n_p);
	for (size_t h = 0; h < j->n_hops && !rc; h++)
		rc = hop_stats(j, h, p, n_p);
	if (!rc) {
		recording_offsets(j);
		rc = waterfalls(j, p, n_p);
	}
	if (!rc) {
		for (size_t i = 0; i < n_c; i++)
			if (!c[i].joined)
				note_unjoined(j, &c[i]);
		nat_note(j);
		verdict(j);
	}
	free(p);
	free(c);
	free(ev);
	if (rc)
		np_join_fini(j);
	return rc;
}

void np_join_fini(struct np_join *j)
{
	free(j->hops);
	free(j->parts);
	memset(j, 0, sizeof(*j));
}
