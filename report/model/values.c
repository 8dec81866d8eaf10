/* values.c - small value helpers the model builds its tables with and the
 * layers above share: endpoint strings, a saturating double -> uint64_t,
 * the names of the recording's end reasons, untrusted strings made valid
 * UTF-8.  Nothing here prints. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "profiler/format/recording.h"
#include "report/model/values.h"

void np_format_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *out,
			size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	if (family == AF_INET && inet_ntop(AF_INET, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "%s:%u", ip, port);
	else if (family == AF_INET6 && inet_ntop(AF_INET6, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "[%s]:%u", ip, port);
	else if (outlen)
		out[0] = '\0';
}

uint64_t np_u64_sat(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

const char *np_end_reason_name(uint32_t reason)
{
	switch (reason) {
	case NP_END_DURATION:
		return "duration";
	case NP_END_SIGNAL:
		return "signal";
	case NP_END_TARGET_EXITED:
		return "target exited";
	case NP_END_ERROR:
		return "error";
	default:
		return "incomplete";
	}
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
size_t np_utf8_len(const unsigned char *s)
{
	unsigned int c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *np_sanitize(const char *s, char *out, size_t outlen, bool controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!outlen)
		return out;
	while (*p) {
		size_t n = np_utf8_len(p);

		if (n == 0) {
			if (o + 3 >= outlen)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			p++;
			continue;
		}
		if (o + n >= outlen)
			break;
		/* C0 controls, DEL, and the C1 controls U+0080..U+009F (U+009B is
		 * CSI to some terminals). */
		if (controls && ((n == 1 && (*p < 0x20 || *p == 0x7f)) ||
				 (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)))
			out[o++] = '?';
		else
			memcpy(out + o, p, n), o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

int np_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}
