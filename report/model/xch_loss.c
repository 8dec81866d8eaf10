/* xch_loss.c - requests hit by packet loss (see xch_loss.h). */
#include "report/model/xch_loss.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct weighted_ns {
	uint64_t ns, weight;
};

static int by_ns(const void *a, const void *b)
{
	const struct weighted_ns *x = a, *y = b;

	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* The smallest latency at or below which half of the weight lies. */
static uint64_t weighted_median(struct weighted_ns *w, size_t n)
{
	uint64_t sum = 0, cum = 0;

	if (!n)
		return 0;
	qsort(w, n, sizeof(*w), by_ns);
	for (size_t i = 0; i < n; i++)
		sum += w[i].weight;
	for (size_t i = 0; i < n; i++) {
		cum += w[i].weight;
		if (cum * 2 > sum)
			return w[i].ns;
	}
	return w[n - 1].ns;
}

static int by_cookie_then_ts(const void *a, const void *b)
{
	const struct np_net_event *x = *(const struct np_net_event *const *)a;
	const struct np_net_event *y = *(const struct np_net_event *const *)b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* The first drop in drops[n] (sorted) on `cookie` at or after `from`. */
static size_t first_drop(const struct np_net_event *const *drops, size_t n, uint64_t cookie,
			 uint64_t from)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct np_net_event *d = drops[mid];

		if (d->cookie < cookie || (d->cookie == cookie && d->ts_ns < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Every distinct reason seen, before the largest are kept: the kernel has
 * about a hundred; a crafted recording's further ones are not counted. */
#define ALL_REASONS 256

struct reason_acc {
	struct np_xch_loss_reason v[ALL_REASONS];
	size_t n;
};

static void add_reason(struct reason_acc *acc, uint32_t reason, uint64_t weight)
{
	size_t i;

	for (i = 0; i < acc->n; i++)
		if (acc->v[i].reason == reason)
			break;
	if (i == acc->n) {
		if (acc->n == ALL_REASONS)
			return;
		acc->n++;
		memset(&acc->v[i], 0, sizeof(acc->v[i]));
		acc->v[i].reason = reason;
	}
	acc->v[i].requests += weight;
}

static int by_requests_desc(const void *a, const void *b)
{
	const struct np_xch_loss_reason *x = a, *y = b;

	if (x->requests != y->requests)
		return x->requests > y->requests ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

int np_xch_loss_build(const struct np_xch_event *ev, size_t n, const struct np_net_event *net,
		      size_t n_net, uint32_t sample_every,
		      void (*name)(void *ctx, uint32_t reason, char *buf, size_t len), void *ctx,
		      struct np_xch_loss *out)
{
	const struct np_net_event **drops = NULL;
	struct weighted_ns *hit = NULL, *rest = NULL;
	struct reason_acc *acc = NULL;
	size_t n_drops = 0, n_hit = 0, n_rest = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->known = sample_every > 0;
	if (!n)
		return 0;
	hit = calloc(n, sizeof(*hit));
	rest = calloc(n, sizeof(*rest));
	drops = calloc(n_net + 1, sizeof(*drops));
	acc = calloc(1, sizeof(*acc));
	if (!hit || !rest || !drops || !acc) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_net; i++)
		if (net[i].kind == NP_NET_DROP && net[i].cookie)
			drops[n_drops++] = &net[i];
	qsort(drops, n_drops, sizeof(*drops), by_cookie_then_ts);
	for (size_t i = 0; i < n; i++) {
		const struct np_xch_event *e = &ev[i];
		uint64_t w = e->flags & NP_XEV_SLOW ? 1 : sample_every;
		uint64_t end = e->start_ns + e->total_ns;
		size_t d = n_drops;
		bool dropped = false;

		if (e->flags & NP_XEV_OUTBOUND || !w)
			continue;
		out->requests += w;
		if (e->cookie && n_drops)
			d = first_drop(drops, n_drops, e->cookie, e->start_ns);
		dropped = d < n_drops && drops[d]->cookie == e->cookie && drops[d]->ts_ns <= end;
		if (!e->retrans && !dropped) {
			rest[n_rest++] = (struct weighted_ns){e->total_ns, w};
			continue;
		}
		hit[n_hit++] = (struct weighted_ns){e->total_ns, w};
		out->hit_requests += w;
		out->hit_events++;
		out->retrans_events += e->retrans > 0;
		out->drop_events += dropped;
		/* each reason once per request, over its first drops (bounded:
		 * a connection dropping thousands inside one exchange says no
		 * more by them) */
		for (size_t k = d; dropped && k < n_drops && k < d + 64 &&
				   drops[k]->cookie == e->cookie && drops[k]->ts_ns <= end;
		     k++) {
			bool seen = false;

			for (size_t j = d; j < k && !seen; j++)
				seen = drops[j]->reason == drops[k]->reason;
			if (!seen)
				add_reason(acc, drops[k]->reason, w);
		}
	}
	out->hit_p50_ns = weighted_median(hit, n_hit);
	out->others_p50_ns = weighted_median(rest, n_rest);
	qsort(acc->v, acc->n, sizeof(acc->v[0]), by_requests_desc);
	out->n_reasons = acc->n < NP_XCH_LOSS_REASONS ? acc->n : NP_XCH_LOSS_REASONS;
	for (size_t i = 0; i < out->n_reasons; i++) {
		out->reasons[i] = acc->v[i];
		if (name)
			name(ctx, out->reasons[i].reason, out->reasons[i].name,
			     sizeof(out->reasons[i].name));
	}
out:
	free(acc);
	free(hit);
	free(rest);
	free(drops);
	return rc;
}

double np_xch_loss_share(const struct np_xch_loss *l)
{
	if (!l->known || !l->requests)
		return 0;
	return (double)l->hit_requests / (double)l->requests;
}
