/* report.c - a report from a recording, in its three layers: the model's
 * tables (report/model/), then the attribution's signals and findings
 * (report/attribution/), then the timeline that draws both.  Each layer
 * reads the ones below it and never rewrites them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/attribution/findings.h"
#include "report/attribution/signals.h"
#include "report/attribution/timeline_build.h"
#include "report/model/series.h"
#include "report/report.h"

/* Signals from every source that ran, then the rules.  A new source adds
 * its np_signals_from_<source>() call here. */
static int build_attribution(const struct np_recording *rec, struct np_report *r)
{
	int rc;

	r->sig = calloc(1, sizeof(*r->sig));
	r->an = calloc(1, sizeof(*r->an));
	if (!r->sig || !r->an)
		return -ENOMEM;
	rc = np_signals_init_windows(r->sig, r->start_ns, r->duration_ns);
	if (!rc)
		rc = np_signals_from_syscalls(r->sig, rec, r);
	/* the CPU sources refine the syscall source's thread estimates, so
	 * they run after it */
	if (!rc)
		rc = np_signals_from_cpu(r->sig, rec, r);
	if (!rc)
		rc = np_signals_from_net(r->sig, rec, r);
	if (!rc)
		rc = np_signals_from_exchanges(r->sig, rec, r);
	if (!rc)
		rc = np_signals_from_netstack(r->sig, rec, r);
	/* needs the per-CPU softirq time and the thread list */
	if (!rc)
		rc = np_signals_from_steal(r->sig, rec, r);
	if (!rc)
		rc = np_signals_from_cgroup_cpu(r->sig, rec);
	if (!rc)
		rc = np_analyze(r->sig, r->an);
	return rc;
}

int np_report_build(const struct np_recording *rec, struct np_report *r, size_t max_slow)
{
	int rc = np_model_build(rec, r, max_slow);

	if (rc)
		return rc;
	rc = build_attribution(rec, r);
	if (!rc)
		rc = np_timeline_build(r);
	if (rc)
		np_report_fini(r);
	return rc;
}

void np_report_fini(struct np_report *r)
{
	np_timeline_free(r->tl);
	r->tl = NULL;
	np_analysis_fini(r->an);
	free(r->an);
	r->an = NULL;
	np_signals_fini(r->sig);
	free(r->sig);
	r->sig = NULL;
	np_model_fini(r);
}

const char *np_report_verdict_cause(const struct np_report *r)
{
	return r->an && r->an->verdict ? r->an->verdict->cause : NULL;
}
