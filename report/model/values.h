/* values.h - small value helpers of the report model (values.c). */
#ifndef NP_VALUES_H
#define NP_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_ENDPOINT_LEN 64 /* "[ffff:...:ffff]:65535" fits */

/* "1.2.3.4:80", "[::1]:80", or "" when the event has no endpoints. */
void np_format_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *out,
			size_t outlen);
/* v as a uint64_t, saturated: negative or NaN is 0, too large is
 * UINT64_MAX (a plain cast of an out-of-range double is undefined). */
uint64_t np_u64_sat(double v);

/* qsort comparator of uint64_t, ascending. */
int np_u64_cmp(const void *a, const void *b);
/* "duration", "signal", "target exited", "error"; "incomplete" otherwise. */
const char *np_end_reason_name(uint32_t reason);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t np_utf8_len(const unsigned char *s);
/* Copies s with invalid UTF-8 replaced by U+FFFD and, when `controls` is
 * set, control characters replaced by '?' (for terminals).  Returns out. */
char *np_sanitize(const char *s, char *out, size_t outlen, bool controls);

#endif /* NP_VALUES_H */
