/* textout.c - the layout helpers every section of the text report uses
 * (textout.h). */
#include <string.h>

#include "report/render/textout.h"

void np_text_heading(struct np_text *o, const char *title)
{
	fprintf(o->f, "\n%s%s%s\n", o->color ? "\033[1m" : "", title, o->color ? "\033[0m" : "");
}

void np_text_wrapped(struct np_text *o, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		int room = NP_TEXT_WIDTH - col;
		int len = (int)strlen(p), cut = len;

		if (len > room) {
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0) {
				/* one long word: break it, but not inside a character */
				cut = room;
				while (cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80)
					cut--;
				if (cut == 0)
					cut = room;
			}
		}
		fprintf(o->f, "%.*s\n", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(o->f, "%*s", indent, "");
		col = indent;
	}
	if (!*text)
		fputc('\n', o->f);
}
