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

char *np_json_text(json_object *root, bool pretty)
{
	int flags = (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			    : JSON_C_TO_STRING_PLAIN) |
		    JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *text;
	char *out = NULL;

	if (!root)
		return NULL;
	text = json_object_to_json_string_ext(root, flags);
	if (text)
		out = strdup(text);
	json_object_put(root);
	return out;
}

int np_json_write(char *text, FILE *f)
{
	int rc = 0;

	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		rc = -1;
	free(text);
	return rc;
}
