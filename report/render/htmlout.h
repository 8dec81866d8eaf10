/* htmlout.h - what every HTML page netprof writes shares (htmlout.c): the
 * head with its Content-Security-Policy and embedded style, and the one
 * way a string from a recording becomes page text. */
#ifndef NP_HTMLOUT_H
#define NP_HTMLOUT_H

#include <stddef.h>
#include <stdio.h>

enum np_html_page {
	NP_HTML_REPORT, /* netprof report: rendered by its embedded script */
	NP_HTML_DIFF,   /* netprof diff: static markup and SVG, no script at all */
};

/* Writes "<!DOCTYPE html>" through "<body>\n": a CSP that forbids every
 * fetch and allows only the page's own embedded script and style by their
 * hashes, and the style itself.  `title` is a literal, not escaped. */
void np_html_begin(FILE *f, enum np_html_page page, const char *title);
/* The report page's script, as "<script>...</script>". */
void np_html_script(FILE *f);
/* Writes s as HTML text, safe in element content and in a quoted
 * attribute: & < > " ' as references, invalid UTF-8 and control
 * characters as U+FFFD.  With max_chars, at most that many characters,
 * the last of them ".." when s was longer. */
void np_html_str(FILE *f, const char *s, size_t max_chars);
/* The number of characters np_html_str() would write of s in full. */
size_t np_html_chars(const char *s);

#endif /* NP_HTMLOUT_H */
