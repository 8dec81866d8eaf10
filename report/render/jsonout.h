/* jsonout.h - the JSON helpers every section of the JSON report uses
 * (jsonout.c).  Strings always go through np_jstr(), which makes them
 * valid UTF-8 first. */
#ifndef NP_JSONOUT_H
#define NP_JSONOUT_H

#include <json-c/json.h>
#include <stdint.h>

json_object *np_jstr(const char *s);
json_object *np_ju64(uint64_t v);

#endif /* NP_JSONOUT_H */
