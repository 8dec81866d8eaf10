/* format.h - turning numbers and untrusted strings into printable text
 * (format.c): the helpers the renderers share. */
#ifndef NP_FORMAT_H
#define NP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/model/values.h" /* np_sanitize() */

/* The name of the errno in a syscall result ("EAGAIN"), or NULL when the
 * result is not an error. */
const char *np_errno_name(int64_t ret);
/* Prints the first `cols` characters of UTF-8 `s` (never a partial
 * character), padded with spaces to `cols`. */
void np_fput_cols(FILE *f, const char *s, int cols);
/* Writes s as a JSON string: invalid UTF-8 becomes U+FFFD, quotes,
 * backslashes and control characters are escaped, and with html_safe also
 * < > & ' U+2028 U+2029, so the string can sit inside an HTML <script>. */
void np_json_str(FILE *f, const char *s, bool html_safe);
/* "1.50 ms", "850.0 us", "2.00 s" into buf; returns buf. */
const char *np_fmt_ns(uint64_t ns, char *buf, size_t len);
/* "1.5 KiB", "512 B" into buf; returns buf. */
const char *np_fmt_bytes(uint64_t b, char *buf, size_t len);

#endif /* NP_FORMAT_H */
