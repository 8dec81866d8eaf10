/* timeline_build.h - builds the report's timeline (timeline_build.c) from the model's
 * tables and the attribution's signals and findings. */
#ifndef NP_TIMELINE_BUILD_H
#define NP_TIMELINE_BUILD_H

struct np_report;

/* Fills r->tl from what the report has (signals' windows, threads,
 * syscalls, network counters, the findings' spans).  0 or -ENOMEM. */
int np_timeline_build(struct np_report *r);

#endif /* NP_TIMELINE_BUILD_H */
