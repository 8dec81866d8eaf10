/* jsonout.c - the JSON helpers every section of the JSON report uses
 * (jsonout.h). */
#include <stdlib.h>
#include <string.h>

#include "report/render/format.h"
#include "report/render/jsonout.h"

json_object *np_jstr(const char *s)
{
	size_t cap = strlen(s ? s : "") * 3 + 1;
	char *buf = malloc(cap);
	json_object *o;

	if (!buf)
		return NULL;
	np_sanitize(s ? s : "", buf, cap, false);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

json_object *np_ju64(uint64_t v)
{
	return json_object_new_uint64(v);
}
