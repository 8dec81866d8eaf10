/* jsonout.h - the JSON helpers every section of the JSON report uses
 * (jsonout.c).  Strings always go through np_jstr(), which makes them
 * valid UTF-8 first. */
#ifndef NP_JSONOUT_H
#define NP_JSONOUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

json_object *np_jstr(const char *s);
json_object *np_ju64(uint64_t v);
/* The document as text (pretty: indented, for people; else one line), and
 * root put.  NULL on no memory; free() the text. */
char *np_json_text(json_object *root, bool pretty);
/* Writes text and a newline to f, and frees text: 0, or -1 when text is
 * NULL or the write failed. */
int np_json_write(char *text, FILE *f);

#endif /* NP_JSONOUT_H */
