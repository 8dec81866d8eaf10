/* htmlout.c - the head and the text escaping of netprof's HTML pages
 * (htmlout.h).  The only file that includes the embedded assets, so each
 * page's Content-Security-Policy names exactly the bytes it inlines. */
#include <string.h>

#include "report/render/html_assets.h"
#include "report/model/values.h"
#include "report/render/htmlout.h"

void np_html_begin(FILE *f, enum np_html_page page, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	if (page == NP_HTML_REPORT)
		fprintf(f,
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			"'none'; script-src 'sha256-%s'; style-src 'sha256-%s'; img-src data:; "
			"base-uri 'none'; form-action 'none'\">\n",
			np_html_js_sha256, np_html_css_sha256);
	else
		/* no script-src: default-src 'none' forbids every script */
		fprintf(f,
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			"'none'; style-src 'sha256-%s' 'sha256-%s'; img-src data:; "
			"base-uri 'none'; form-action 'none'\">\n",
			np_html_css_sha256, np_html_diff_css_sha256);
	fprintf(f,
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<meta name=\"generator\" content=\"netprof " NETPROF_VERSION "\">\n"
		"<title>%s</title>\n<style>",
		title);
	fputs(np_html_css, f);
	fputs("</style>\n", f);
	if (page == NP_HTML_DIFF) {
		fputs("<style>", f);
		fputs(np_html_diff_css, f);
		fputs("</style>\n", f);
	}
	fputs("</head>\n<body>\n", f);
}

void np_html_script(FILE *f)
{
	fputs("<script>", f);
	fputs(np_html_js, f);
	fputs("</script>\n", f);
}

/* Length of the character at p as written (0 for the end), and whether it
 * is written as U+FFFD. */
static size_t next_char(const unsigned char *p, bool *bad)
{
	size_t n;

	*bad = false;
	if (!*p)
		return 0;
	n = np_utf8_len(p);
	if (!n) {
		*bad = true;
		return 1;
	}
	if (n == 1 && ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f))
		*bad = true;
	return n;
}

size_t np_html_chars(const char *s)
{
	size_t chars = 0, n;
	bool bad;

	for (const unsigned char *p = (const unsigned char *)s; (n = next_char(p, &bad)); p += n)
		chars++;
	return chars;
}

void np_html_str(FILE *f, const char *s, size_t max_chars)
{
	size_t left = max_chars, n;
	bool bad, cut = max_chars && np_html_chars(s) > max_chars;

	if (cut)
		left = max_chars > 2 ? max_chars - 2 : 0;
	for (const unsigned char *p = (const unsigned char *)s; (n = next_char(p, &bad)); p += n) {
		if (max_chars && !left--)
			break;
		if (bad)
			fputs("\xef\xbf\xbd", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '"')
			fputs("&quot;", f);
		else if (*p == '\'')
			fputs("&#39;", f);
		else
			fwrite(p, 1, n, f);
	}
	if (cut)
		fputs(max_chars > 1 ? ".." : ".", f);
}
