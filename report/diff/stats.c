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
	int from_y;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

int np_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct np_mwu *out)
{
	size_t n = nx + ny;
	struct ranked *all;
	double ry = 0, ties = 0, mu, var, u, cc;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	if (!nx || !ny)
		return -EINVAL;
	all = malloc(sizeof(*all) * n);
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		all[i] = (struct ranked){x[i], 0};
	for (size_t i = 0; i < ny; i++)
		all[nx + i] = (struct ranked){y[i], 1};
	qsort(all, n, sizeof(*all), cmp_ranked);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && all[j].v == all[i].v)
			j++;
		/* ranks i+1 .. j share their mean */
		double rank = (double)(i + 1 + j) / 2, t = (double)(j - i);

		for (size_t k = i; k < j; k++)
			if (all[k].from_y)
				ry += rank;
		ties += t * t * t - t;
		i = j;
	}
	free(all);
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
	out->z = (u - mu + cc) / sqrt(var);
	out->p = erfc(fabs(out->z) / sqrt(2));
	if (out->p > 1)
		out->p = 1;
	return 0;
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
