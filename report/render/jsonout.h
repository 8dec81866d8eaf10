/* jsonout.h - the JSON helpers json.c shares with the sections that other
 * report files build (exchanges.c, netstack.c).  Strings always go through
 * np_jstr(), which makes them valid UTF-8 first. */
#ifndef NP_JSONOUT_H
#define NP_JSONOUT_H

#include <json-c/json.h>
#include <stdint.h>

struct np_report;

json_object *np_jstr(const char *s);
json_object *np_ju64(uint64_t v);

/* The `exchanges` section (docs/report.schema.json), or NULL when not collected. */
json_object *np_xch_json(const struct np_report *r);

/* The `netstack` section; NULL when not collected.  Its per-CPU softirq
 * time goes into json.c's `cpus` array. */
json_object *np_ns_json(const struct np_report *r);

/* The `overhead` section (netprof's own cost, what the governor shed);
 * NULL when no governor ran. */
json_object *np_ovh_json(const struct np_report *r);

#endif /* NP_JSONOUT_H */
