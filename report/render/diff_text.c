/* diff_text.c - netprof diff as text: who was compared, the headline, the
 * significant changes, the configuration changes, then every compared
 * figure by section, and how significance was decided. */
#include <stdio.h>
#include <string.h>

#include "report/diff/diff.h"
#include "report/render/render.h"

static void side_line(FILE *f, const char *tag, const struct np_diff_side *s)
{
	fprintf(f,
		"%-7s %s pid %u on %s, %.1f s from %s, %llu requests (%.1f/s), verdict %s%s%s%s\n",
		tag, s->comm[0] ? s->comm : "?", s->pid, s->hostname[0] ? s->hostname : "?",
		(double)s->duration_ns / 1e9, s->start_time[0] ? s->start_time : "?",
		(unsigned long long)s->requests, s->requests_per_s,
		s->verdict ? s->verdict : "none", s->verdict ? " (" : "",
		s->verdict ? s->verdict_severity : "", s->verdict ? ")" : "");
}

/* ", KEY, KEY" of the configuration changes c is paired with, after "  <- " */
static void paired_keys(FILE *f, const struct np_diff *d, const struct np_diff_change *c)
{
	for (size_t k = 0; k < c->n_paired; k++)
		fprintf(f, "%s%s", k ? ", " : "  <- ", d->c[c->paired[k]].metric);
}

static void change_line(FILE *f, const struct np_diff *d, const struct np_diff_change *c,
			bool section)
{
	char b[160], a[160], name[200], test[64] = "";

	np_diff_fmt_value(c, false, b, sizeof(b));
	np_diff_fmt_value(c, true, a, sizeof(a));
	if (c->section == NP_DS_FINDING)
		snprintf(name, sizeof(name), "%s %s", c->where, np_diff_status_name(c->status));
	else
		snprintf(name, sizeof(name), "%s%s%s", c->metric, c->where[0] ? " " : "", c->where);
	if (c->tested)
		snprintf(test, sizeof(test), "%s p=%.2g", np_diff_method_name(c->method), c->p);
	fprintf(f, "  %s%-10s%s%-44s %14s -> %-14s %-16s %s", section ? "" : "",
		section ? np_diff_section_name(c->section) : "", section ? " " : "", name, b, a,
		np_diff_mark(c), test);
	paired_keys(f, d, c);
	fputc('\n', f);
}

/* "  => METRIC WHERE, ..." of the significant moves paired with config change k */
static void paired_moves(FILE *f, const struct np_diff *d, size_t k)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		for (size_t j = 0; d->c[i].significant && j < d->c[i].n_paired; j++)
			if (d->c[i].paired[j] == k)
				fprintf(f, "%s%s%s%s", n++ ? ", " : "  => ", d->c[i].metric,
					d->c[i].where[0] ? " " : "", d->c[i].where);
}

int np_diff_text(const struct np_diff *d, FILE *f)
{
	size_t n_cfg = 0;

	fputs("netprof diff\n", f);
	for (size_t i = 0; i < d->n_notes; i++)
		fprintf(f, "NOTE: %s\n", d->notes[i]);
	side_line(f, "before:", &d->before);
	side_line(f, "after:", &d->after);
	fprintf(f, "\nwhat changed and what it did:\n  %s\n", d->headline);

	fprintf(f, "\nsignificant changes (%zu; %zu statistical tests, Holm-corrected):\n",
		d->n_significant, d->n_tested);
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].significant)
			change_line(f, d, &d->c[i], true);
	if (!d->n_significant)
		fputs("  none\n", f);

	fputs("\nwhat changed between the two recordings (configuration):\n", f);
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].section == NP_DS_CONFIG) {
			char b[160], a[160];

			np_diff_fmt_value(&d->c[i], false, b, sizeof(b));
			np_diff_fmt_value(&d->c[i], true, a, sizeof(a));
			fprintf(f, "  %-48s %s -> %s", d->c[i].metric, b, a);
			paired_moves(f, d, i);
			fputc('\n', f);
			n_cfg++;
		}
	if (!n_cfg)
		fputs("  nothing\n", f);

	for (int s = 0; s < NP_DS_COUNT; s++) {
		size_t n = 0;

		if (s == NP_DS_CONFIG)
			continue;
		for (size_t i = 0; i < d->n; i++)
			n += d->c[i].section == (enum np_diff_section)s;
		if (!n)
			continue;
		fprintf(f, "\n%s (%zu compared figures that differ):\n",
			np_diff_section_name((enum np_diff_section)s), n);
		for (size_t i = 0; i < d->n; i++)
			if (d->c[i].section == (enum np_diff_section)s)
				change_line(f, d, &d->c[i], false);
	}
	fprintf(f, "\nmethod: %s\n", np_diff_method_text);
	return ferror(f) ? -1 : 0;
}
