/* stats.h - the statistics of netprof diff: a seeded bootstrap over
 * per-window values, the Mann-Whitney U rank test with the normal
 * approximation, and Holm's step-down correction across all tests of one
 * diff.  Deterministic: the same inputs give the same output. */
#ifndef NP_DIFF_STATS_H
#define NP_DIFF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: a small, fixed PRNG, so a diff prints the same every time. */
struct np_rng {
	uint64_t s;
};
uint64_t np_rng_next(struct np_rng *r);
/* Uniform in [0, n); n > 0. */
size_t np_rng_below(struct np_rng *r, size_t n);
/* A seed from a string (FNV-1a), so each metric's resampling does not
 * depend on which metrics came before it. */
uint64_t np_seed_of(const char *s);

struct np_boot {
	double diff;   /* mean(y) - mean(x) */
	double lo, hi; /* percentile interval of the resampled differences */
	double p;      /* two-sided bootstrap p-value */
	unsigned int resamples;
};

#define NP_BOOT_RESAMPLES 9999

/* Resamples x and y (each with replacement, independently) `resamples`
 * times and takes mean(y*) - mean(x*).  [lo, hi] is the central `level`
 * interval (0.95: the 2.5th and 97.5th percentiles); p is
 * 2 * min(share of differences <= 0, share >= 0), each counted as
 * (k + 1) / (B + 1), capped at 1 (1 when every difference is 0), and
 * at least np_permutation_p_floor(nx, ny).  Needs
 * nx, ny >= 1; 0, -EINVAL or -ENOMEM. */
int np_bootstrap_mean_diff(const double *x, size_t nx, const double *y, size_t ny,
			   unsigned int resamples, double level, uint64_t seed,
			   struct np_boot *out);

/* 2 / C(nx + ny, nx): the smallest two-sided p an exact permutation test
 * of nx against ny values can give; the bootstrap's p is never below it
 * (two windows a side: 0.33; five: 0.008). */
double np_permutation_p_floor(size_t nx, size_t ny);

struct np_mwu {
	double u;      /* U of the second sample (y): pairs where y > x, ties half */
	double z;      /* normal approximation, tie-corrected, continuity-corrected */
	double p;      /* two-sided */
	double effect; /* common-language effect size U / (nx * ny): P(y > x) */
	double deff;   /* the variance's inflation for dependence (1: none; batched test) */
};

/* Mann-Whitney U of y against x.  Needs nx, ny >= 1; 0, -EINVAL or
 * -ENOMEM. */
int np_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct np_mwu *out);

/* Batches a side is cut into for the batch-means estimate below. */
#define NP_MWU_BATCHES 10
/* The same test for samples in time order whose neighbours are not
 * independent (events that share the CPUs' state for seconds): U's
 * variance is multiplied by the design effect, estimated by batch means -
 * each side cut into NP_MWU_BATCHES runs of consecutive values, the
 * variance of the runs' mean placements (a value's count of the other
 * side's values below it) over what independent values would give (at
 * least 1; sides of fewer than 2 batches of 5 count as independent).
 * Without it, 2700 requests a side called a 16 ns move of a 1.1 ms median
 * significant at p = 1e-113. */
int np_mann_whitney_batched(const double *x, size_t nx, const double *y, size_t ny,
			    struct np_mwu *out);

/* Holm's step-down procedure at family-wise level alpha: reject[i] for
 * p[i]; 0 or -ENOMEM. */
int np_holm(const double *p, size_t n, double alpha, bool *reject);

#endif /* NP_DIFF_STATS_H */
