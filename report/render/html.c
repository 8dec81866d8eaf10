/* html.c - the self-contained HTML report (--format html).
 *
 * One file that opens from file:// with no network: the page's script and
 * style (report/html/report.js, report.css) are embedded at build time by
 * report/html/embed.py and written by htmlout.c, and the data is one JSON document inside
 * <script type="application/json">, which the page's script parses and
 * renders with textContent (never innerHTML), so no string from the target
 * or the host can become markup or code.  The JSON is written HTML-safe
 * (<, >, &, ' and U+2028/2029 escaped), so nothing in it can end the script
 * element either.
 *
 * A Content-Security-Policy forbids every fetch (default-src 'none') and
 * allows only the embedded script and style, by their SHA-256 hashes: even
 * markup that got in some other way could not run a script or load
 * anything.
 *
 * The timeline is downsampled for the page (a 60 s recording of a busy
 * target has hundreds of thousands of sampled calls); every point inside a
 * finding's windows is kept.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/attribution/findings.h"
#include "report/model/report_model.h"
#include "report/model/series.h"
#include "report/render/format.h"
#include "report/render/htmlout.h"
#include "report/render/render.h"
#include "report/render/sections.h"

/* About 5 MB is the budget of a page; these caps keep a long, busy
 * recording well under it (see tests/bench/report_speed.sh). */
#define HTML_MAX_POINTS 3000 /* per series, outside the findings' windows */
#define HTML_KEEP_CAP 20000  /* per series, inside them */
/* All series together: about 20 bytes a point on the page, so 3 MB of
 * timeline at most; beyond it both caps are halved until it fits. */
#define HTML_MAX_TOTAL_POINTS 150000
#define HTML_MAX_STACKS 20000           /* folded stacks per flame graph */
#define HTML_MAX_STACK_BYTES (1u << 20) /* of folded text per flame graph */

/* The JSON report made safe for a <script> element: '<', '>', '&', '\''
 * and U+2028/2029 can only occur inside JSON strings, where \u escapes
 * mean the same characters. */
static void put_html_safe_json(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&' || *p == '\'')
			fprintf(f, "\\u%04x", *p);
		else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			fprintf(f, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029), p += 2;
		else
			fputc(*p, f);
	}
}

static const char *kind_name(enum np_series_kind k)
{
	switch (k) {
	case NP_SERIES_COUNTER:
		return "counter";
	case NP_SERIES_GAUGE:
		return "gauge";
	case NP_SERIES_STATE:
		return "state";
	default:
		return "events";
	}
}

static uint64_t rel_us(uint64_t ns, uint64_t start)
{
	return ns > start ? (ns - start) / 1000 : 0;
}

static void put_series(FILE *f, const struct np_series *s, uint64_t start)
{
	bool tids = false;

	fputs("{\"name\":", f);
	np_json_str(f, s->name, true);
	fputs(",\"unit\":", f);
	np_json_str(f, s->unit, true);
	fprintf(f, ",\"kind\":\"%s\",\"tid\":%u,\"total\":%zu,\"labels\":[", kind_name(s->kind),
		s->tid, s->n_total);
	for (size_t i = 0; i < s->n_labels; i++) {
		if (i)
			fputc(',', f);
		np_json_str(f, s->labels[i], true);
	}
	fputs("],\"t\":[", f);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, i ? ",%" PRIu64 : "%" PRIu64, rel_us(s->p[i].ts_ns, start));
	fputs("],\"d\":[", f);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, i ? ",%" PRIu64 : "%" PRIu64, s->p[i].dur_ns / 1000);
	fputs("],\"v\":[", f);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, i ? ",%.6g" : "%.6g", s->p[i].v);
	fputs("]", f);
	if (s->n_labels > 1) {
		fputs(",\"l\":[", f);
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, i ? ",%u" : "%u", s->p[i].label);
		fputs("]", f);
	}
	for (size_t i = 0; i < s->n && !tids; i++)
		tids = s->p[i].tid != 0;
	if (tids) {
		fputs(",\"p\":[", f);
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, i ? ",%u" : "%u", s->p[i].tid);
		fputs("]", f);
	}
	fputs("}", f);
}

static int put_timeline(FILE *f, const struct np_report *r)
{
	struct np_timeline *tl;
	bool first_track = true;

	if (!r->tl) {
		fputs("null", f);
		return 0;
	}
	{
		size_t max_points = HTML_MAX_POINTS, keep_cap = HTML_KEEP_CAP;

		tl = np_timeline_downsample(r->tl, max_points, keep_cap);
		while (tl && np_timeline_points(tl) > HTML_MAX_TOTAL_POINTS && max_points > 200) {
			np_timeline_free(tl);
			max_points /= 2;
			keep_cap /= 2;
			tl = np_timeline_downsample(r->tl, max_points, keep_cap);
		}
	}
	if (!tl)
		return -1;
	fprintf(f, "{\"duration_us\":%" PRIu64 ",\"window_us\":%" PRIu64 ",\"tracks\":[",
		r->duration_ns / 1000, r->sig ? r->sig->window_ns / 1000 : 0);
	/* Tracks in the order their first series was added. */
	for (size_t i = 0; i < tl->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(tl->s[j]->track, tl->s[i]->track);
		if (seen)
			continue;
		fputs(first_track ? "\n{\"name\":" : ",\n{\"name\":", f);
		first_track = false;
		np_json_str(f, tl->s[i]->track, true);
		fputs(",\"series\":[", f);
		for (size_t j = i, k = 0; j < tl->n; j++) {
			if (strcmp(tl->s[j]->track, tl->s[i]->track))
				continue;
			if (k++)
				fputc(',', f);
			put_series(f, tl->s[j], r->start_ns);
		}
		fputs("]}", f);
	}
	fputs("],\"spans\":[", f);
	for (size_t i = 0, k = 0; i < r->an->n_findings; i++) {
		const struct np_finding *fd = &r->an->findings[i];

		for (size_t s = 0; s < fd->n_spans; s++) {
			fputs(k++ ? ",{\"cause\":" : "{\"cause\":", f);
			np_json_str(f, fd->cause, true);
			fprintf(f,
				",\"severity\":\"%s\",\"start_us\":%" PRIu64 ",\"end_us\":%" PRIu64
				"}",
				np_severity_name(fd->severity),
				rel_us(fd->spans[s].start_ns, r->start_ns),
				rel_us(fd->spans[s].end_ns, r->start_ns));
		}
	}
	fputs("]}", f);
	np_timeline_free(tl);
	return 0;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct np_folded_stack *x = *(const struct np_folded_stack *const *)a;
	const struct np_folded_stack *y = *(const struct np_folded_stack *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->stack, y->stack);
}

/* The heaviest stacks; what does not fit is summed into one "[other]". */
static void put_folded(FILE *f, const struct np_folded *fo)
{
	const struct np_folded_stack **order;
	uint64_t total = 0, rest = 0;
	size_t n;

	if (!fo || !fo->n) {
		fputs("null", f);
		return;
	}
	order = malloc(fo->n * sizeof(*order));
	if (!order) {
		fputs("null", f);
		return;
	}
	for (size_t i = 0; i < fo->n; i++) {
		order[i] = &fo->v[i];
		total += fo->v[i].count;
	}
	qsort(order, fo->n, sizeof(*order), by_count_desc);
	n = fo->n < HTML_MAX_STACKS ? fo->n : HTML_MAX_STACKS;
	{
		/* deep stacks are long lines: cap the bytes too */
		size_t bytes = 0;

		for (size_t i = 0; i < n; i++) {
			bytes += strlen(order[i]->stack) + 16;
			if (bytes > HTML_MAX_STACK_BYTES) {
				n = i;
				break;
			}
		}
	}
	for (size_t i = n; i < fo->n; i++)
		rest += order[i]->count;
	fputs("{\"unit\":", f);
	np_json_str(f, fo->unit ? fo->unit : "samples", true);
	fprintf(f, ",\"total\":%" PRIu64 ",\"stacks\":[", total);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",[" : "[", f);
		np_json_str(f, order[i]->stack, true);
		fprintf(f, ",%" PRIu64 "]", order[i]->count);
	}
	if (rest)
		fprintf(f, "%s[\"[other stacks]\",%" PRIu64 "]", n ? "," : "", rest);
	fputs("]}", f);
	free(order);
}

static void put_rules(FILE *f)
{
	fputs("[", f);
	for (size_t i = 0; i < np_rules_count(); i++) {
		struct np_rule_row row;

		np_rule_row_get(i, &row);
		fputs(i ? ",{\"cause\":" : "{\"cause\":", f);
		np_json_str(f, row.cause, true);
		fputs(",\"metric\":", f);
		np_json_str(f, row.metric, true);
		fputs(",\"unit\":", f);
		np_json_str(f, row.unit, true);
		fprintf(f, ",\"info\":%g,\"warning\":%g,\"critical\":%g,\"condition\":", row.info,
			row.warn, row.crit);
		np_json_str(f, row.condition, true);
		fputs("}", f);
	}
	fputs("]", f);
}

int np_report_html(const struct np_report *r, FILE *f)
{
	char *json = np_report_json_string(r, false);
	int rc = 0;

	if (!json)
		return -1;
	np_html_begin(f, NP_HTML_REPORT, "netprof report");
	fputs("<div id=\"app\"><noscript>This report needs "
	      "JavaScript; the same data is in netprof report --format json.</noscript></div>\n"
	      "<script type=\"application/json\" id=\"np-data\">{\"report\":",
	      f);
	put_html_safe_json(f, json);
	free(json);
	fputs(",\n\"timeline\":", f);
	if (put_timeline(f, r))
		rc = -1;
	fputs(",\n\"flame\":{\"oncpu\":", f);
	put_folded(f, r->oncpu);
	fputs(",\"offcpu\":", f);
	put_folded(f, r->offcpu);
	fputs("},\n\"rules\":", f);
	put_rules(f);
	fputs("}</script>\n", f);
	np_html_script(f);
	fputs("</body>\n</html>\n", f);
	return rc || ferror(f) ? -1 : 0;
}
