/* stats.c - bootstrap, Mann-Whitney U and Holm (stats.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff/stats.h"

uint64_t np_rng_next(struct np_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t np_rng_below(struct np_rng *r, size_t n)
{
	/* Lemire's multiply-shift: bias below 2^-32 for the n used here. */
	return (size_t)(((unsigned __int128)np_rng_next(r) * n) >> 64);
}

uint64_t np_seed_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double resample_mean(struct np_rng *r, const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[np_rng_below(r, n)];
	return s / (double)n;
}

static double mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

int np_bootstrap_mean_diff(const double *x, size_t nx, const double *y, size_t ny,
			   unsigned int resamples, double level, uint64_t seed, struct np_boot *out)
{
	struct np_rng rng = {seed};
	double *d;
	size_t le = 0, ge = 0, ilo, ihi;

	memset(out, 0, sizeof(*out));
	if (!nx || !ny || !resamples || !(level > 0 && level < 1))
		return -EINVAL;
	d = malloc(sizeof(*d) * resamples);
	if (!d)
		return -ENOMEM;
	for (unsigned int b = 0; b < resamples; b++) {
		double mx = resample_mean(&rng, x, nx);

		d[b] = resample_mean(&rng, y, ny) - mx;
		le += d[b] <= 0;
		ge += d[b] >= 0;
	}
	qsort(d, resamples, sizeof(*d), cmp_double);
	ilo = (size_t)floor((1 - level) / 2 * (resamples - 1));
	ihi = (size_t)ceil((1 + level) / 2 * (resamples - 1));
	if (ihi >= resamples)
		ihi = resamples - 1;
	out->diff = mean(y, ny) - mean(x, nx);
	out->lo = d[ilo];
	out->hi = d[ihi];
	out->p = 2 * fmin((double)(le + 1), (double)(ge + 1)) / (double)(resamples + 1);
	/* A handful of windows cannot carry a small p: never below what an
	 * exact permutation test of the same windows could reach. */
	out->p = fmax(out->p, np_permutation_p_floor(nx, ny));
	if (out->p > 1)
		out->p = 1;
	out->resamples = resamples;
	free(d);
	return 0;
}

double np_permutation_p_floor(size_t nx, size_t ny)
{
	/* 2 / C(nx + ny, nx), in floating point */
	double c = 1;
	size_t k = nx < ny ? nx : ny, n = nx + ny;

	for (size_t i = 1; i <= k; i++)
		c = c * (double)(n - k + i) / (double)i;
	return fmin(1, 2 / c);
}

struct ranked {
	double v;
	size_t at; /* index in x, or nx + index in y */
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/* Mid-ranks of x then y into rank[nx + ny]; the tie term sum(t^3 - t). */
static int mid_ranks(const double *x, size_t nx, const double *y, size_t ny, double *rank,
		     double *ties)
{
	size_t n = nx + ny;
	struct ranked *all = malloc(sizeof(*all) * n);

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		all[i] = (struct ranked){x[i], i};
	for (size_t i = 0; i < ny; i++)
		all[nx + i] = (struct ranked){y[i], nx + i};
	qsort(all, n, sizeof(*all), cmp_ranked);
	*ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && all[j].v == all[i].v)
			j++;
		/* ranks i+1 .. j share their mean */
		double r = (double)(i + 1 + j) / 2, t = (double)(j - i);

		for (size_t k = i; k < j; k++)
			rank[all[k].at] = r;
		*ties += t * t * t - t;
		i = j;
	}
	free(all);
	return 0;
}

/* Batch means: how much more the mean of NP_MWU_BATCHES runs of
 * consecutive values varies than independent values' would. */
static double batch_deff(const double *r, size_t n)
{
	size_t b = NP_MWU_BATCHES, m;
	double mean = 0, var = 0, bmean = 0, bvar = 0, *bm;

	if (n / b < 5)
		b = n / 5;
	if (b < 2)
		return 1;
	m = n / b;
	bm = malloc(sizeof(*bm) * b);
	if (!bm)
		return 1;
	for (size_t i = 0; i < n; i++)
		mean += r[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (r[i] - mean) * (r[i] - mean);
	var /= (double)(n - 1);
	for (size_t j = 0; j < b; j++) {
		/* the last batch takes the remainder */
		size_t lo = j * m, hi = j + 1 == b ? n : lo + m;

		bm[j] = 0;
		for (size_t i = lo; i < hi; i++)
			bm[j] += r[i];
		bm[j] /= (double)(hi - lo);
		bmean += bm[j];
	}
	bmean /= (double)b;
	for (size_t j = 0; j < b; j++)
		bvar += (bm[j] - bmean) * (bm[j] - bmean);
	bvar /= (double)(b - 1);
	free(bm);
	if (var <= 0)
		return 1;
	return bvar / (var / (double)m);
}

/* The design effect of U from each side's placements: a value's count of
 * the other side's values below it (its joint rank less its rank in its own
 * side). U is the sum of one side's placements, so how much their batch
 * means vary is how much time-clustering inflates U's variance. Joint ranks
 * would not do: two sides that do not overlap at all leave each side's
 * joint ranks as its own ranks, and a trend within the slower side (a load
 * that builds up) then read as a design effect of 30 that hid a 300-fold
 * move; their placements are constant, which is independence. */
static int placement_deff(const double *x, size_t nx, const double *y, size_t ny,
			  const double *joint, double *deff)
{
	double *own = malloc(sizeof(*own) * (nx > ny ? nx : ny)), t, d;
	double *pl = malloc(sizeof(*pl) * (nx + ny));
	int rc = (own && pl) ? 0 : -ENOMEM;

	if (!rc)
		rc = mid_ranks(x, nx, NULL, 0, own, &t);
	for (size_t i = 0; !rc && i < nx; i++)
		pl[i] = joint[i] - own[i];
	if (!rc)
		rc = mid_ranks(y, ny, NULL, 0, own, &t);
	for (size_t i = 0; !rc && i < ny; i++)
		pl[nx + i] = joint[nx + i] - own[i];
	if (!rc) {
		/* the two sides' estimates pooled; never below independence */
		d = (batch_deff(pl, nx) + batch_deff(pl + nx, ny)) / 2;
		*deff = d > 1 ? d : 1;
	}
	free(own);
	free(pl);
	return rc;
}

static int mwu(const double *x, size_t nx, const double *y, size_t ny, bool batched,
	       struct np_mwu *out)
{
	size_t n = nx + ny;
	double *rank, ry = 0, ties = 0, mu, var, u, cc;
	int rc;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	out->deff = 1;
	if (!nx || !ny)
		return -EINVAL;
	rank = malloc(sizeof(*rank) * n);
	if (!rank)
		return -ENOMEM;
	rc = mid_ranks(x, nx, y, ny, rank, &ties);
	if (rc) {
		free(rank);
		return rc;
	}
	for (size_t i = 0; i < ny; i++)
		ry += rank[nx + i];
	if (batched) {
		rc = placement_deff(x, nx, y, ny, rank, &out->deff);
		if (rc) {
			free(rank);
			return rc;
		}
	}
	free(rank);
	u = ry - (double)ny * (double)(ny + 1) / 2;
	mu = (double)nx * (double)ny / 2;
	var = (double)nx * (double)ny / 12 *
	      ((double)(n + 1) - (n > 1 ? ties / ((double)n * (double)(n - 1)) : 0));
	out->u = u;
	out->effect = u / ((double)nx * (double)ny);
	if (var <= 0) {
		out->z = 0;
		out->p = 1;
		return 0;
	}
	cc = u > mu ? -0.5 : u < mu ? 0.5 : 0;
	out->z = (u - mu + cc) / sqrt(var * out->deff);
	out->p = erfc(fabs(out->z) / sqrt(2));
	if (out->p > 1)
		out->p = 1;
	return 0;
}

int np_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct np_mwu *out)
{
	return mwu(x, nx, y, ny, false, out);
}

int np_mann_whitney_batched(const double *x, size_t nx, const double *y, size_t ny,
			    struct np_mwu *out)
{
	return mwu(x, nx, y, ny, true, out);
}

struct pidx {
	double p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

int np_holm(const double *p, size_t n, double alpha, bool *reject)
{
	struct pidx *s;

	if (!n)
		return 0;
	s = malloc(sizeof(*s) * n);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct pidx){p[i], i};
		reject[i] = false;
	}
	qsort(s, n, sizeof(*s), cmp_pidx);
	for (size_t k = 0; k < n; k++) {
		if (!(s[k].p <= alpha / (double)(n - k)))
			break;
		reject[s[k].i] = true;
	}
	free(s);
	return 0;
}
