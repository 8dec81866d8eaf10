/* textout.h - the few layout helpers every section of the text report
 * uses, so each source's section can live in its own file. */
#ifndef NP_TEXTOUT_H
#define NP_TEXTOUT_H

#include <stdbool.h>
#include <stdio.h>

#define NP_TEXT_WIDTH 100

struct np_text {
	FILE *f;
	bool color; /* ANSI bold for headings; only on a terminal */
};

void np_text_heading(struct np_text *o, const char *title);
/* Prints `text` from column `col`, wrapping at spaces so no line passes
 * NP_TEXT_WIDTH; continuation lines start at column `indent`. */
void np_text_wrapped(struct np_text *o, const char *text, int col, int indent);

#endif /* NP_TEXTOUT_H */
