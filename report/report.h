/* report.h - the report's public header: what the command line uses.
 *
 * np_report_build() turns a loaded recording into a report in three
 * layers, each only reading the one below it: the model's tables
 * (report/model/report_model.h), the attribution's signals and findings
 * (report/attribution/), and the timeline.  The renderers
 * (report/render/render.h) print it in any format; np_report_fini() clears
 * it.  Nothing here touches the live system.
 */
#ifndef NP_REPORT_H
#define NP_REPORT_H

#include <stddef.h>

#include "profiler/format/recording.h"
#include "report/diff/diff.h"
#include "report/join/join.h"
#include "report/model/report_model.h"
#include "report/render/render.h"

/* Builds the report of `rec` into *out (zeroed first), keeping at most
 * max_slow slowest calls and exchanges of each kind; `rec` must outlive
 * it.  On failure *out is cleared.  0 or -ENOMEM. */
int np_report_build(const struct np_recording *rec, struct np_report *out, size_t max_slow);
/* Clears a report np_report_build() filled (not r itself). */
void np_report_fini(struct np_report *r);
/* The verdict's cause identifier ("stack.qdisc"), a static string that
 * outlives the report; NULL when the verdict is null. */
const char *np_report_verdict_cause(const struct np_report *r);

#endif /* NP_REPORT_H */
