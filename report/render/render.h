/* render.h - the report's output formats (report/render/): text, JSON,
 * HTML, Perfetto, folded stacks, and the pprof and OTLP exports.  Each prints the tables of a built
 * report and computes no figure the JSON lacks. */
#ifndef NP_RENDER_H
#define NP_RENDER_H

#include <stdbool.h>
#include <stdio.h>

struct np_report;

int np_report_text(const struct np_report *r, FILE *f, bool color);
int np_report_json(const struct np_report *r, FILE *f);
/* The JSON report as one malloc'd string (pretty or compact); NULL on ENOMEM. */
char *np_report_json_string(const struct np_report *r, bool pretty);
int np_report_html(const struct np_report *r, FILE *f);
int np_report_perfetto(const struct np_report *r, FILE *f);
/* Collapsed stacks, root first, one line per distinct stack:
 * "main;serve;parse 42".  Kernel frames end in "_[k]", inlined ones in
 * "_[i]" (the flamegraph.pl conventions). */
int np_report_folded(const struct np_report *r, FILE *f);
/* The CPU profile as gzipped pprof profile.proto (pprof.c): on-CPU samples
 * and cpu ns, and off-CPU ns, with thread, process and exchange labels. */
int np_report_pprof(const struct np_report *r, FILE *f);
/* The exchanges the recording holds individually as OTLP/JSON traces
 * (otlp.c: one ExportTraceServiceRequest). */
int np_report_otlp(const struct np_report *r, FILE *f);

/* netprof diff (report/diff/diff.h) as text, as JSON
 * (docs/diff.schema.json), or as one HTML page (diff_html.c), which also
 * draws the two reports d was computed from: their latency histograms and
 * folded stacks (either may be NULL: those charts are left out). */
struct np_diff;
int np_diff_text(const struct np_diff *d, FILE *f);
int np_diff_json(const struct np_diff *d, FILE *f);
char *np_diff_json_string(const struct np_diff *d, bool pretty);
int np_diff_html(const struct np_diff *d, const struct np_report *before,
		 const struct np_report *after, FILE *f);

/* netprof report A B [C ...] (report/join/join.h) as text or as JSON
 * (docs/join.schema.json). */
struct np_join;
int np_join_text(const struct np_join *j, FILE *f);
int np_join_json(const struct np_join *j, FILE *f);
char *np_join_json_string(const struct np_join *j, bool pretty);

#endif /* NP_RENDER_H */
