/* sections.h - the sections of the text and JSON reports that each source
 * keeps in files of their own (text_<source>.c, json_<source>.c), called by
 * text.c and json.c.  Renderers only: they print the model's tables. */
#ifndef NP_SECTIONS_H
#define NP_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "report/render/textout.h"

struct json_object;
struct np_report;
struct np_net_report;
struct np_ovh_report;
struct np_thread_row;

/* Text: thread time accounting, profile, off-CPU waits (text_cpu.c). */
void np_cpu_text(struct np_text *o, const struct np_report *r);
void np_net_text(struct np_text *o, const struct np_net_report *n, uint64_t start_ns);
void np_xch_report_text(struct np_text *o, const struct np_report *r);
void np_ns_report_text(struct np_text *o, const struct np_report *r);
void np_ovh_report_text(struct np_text *t, const struct np_report *r);
/* The caveat the report's findings carry when detail was shed ("" when
 * nothing was): which detail is thinner from when on. */
void np_ovh_caveat(const struct np_ovh_report *o, char *out, size_t outlen);

/* JSON: the cpu_profile section (NULL without samples), and the
 * scheduler's fields of one entry of `threads` (json_cpu.c). */
struct json_object *np_cpu_json(const struct np_report *r);
void np_cpu_thread_json(const struct np_thread_row *t, struct json_object *o);
/* The `exchanges` section (docs/report.schema.json), or NULL when not collected. */
struct json_object *np_xch_json(const struct np_report *r);
/* The `netstack` section; NULL when not collected.  Its per-CPU softirq
 * time goes into json.c's `cpus` array. */
struct json_object *np_ns_json(const struct np_report *r);
/* The `overhead` section (netprof's own cost, what the governor shed);
 * NULL when no governor ran. */
struct json_object *np_ovh_json(const struct np_report *r);

#endif /* NP_SECTIONS_H */
