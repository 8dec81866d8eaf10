/* httplabel.c - "METHOD /path" from recorded request bytes (httplabel.h). */
#include "report/model/httplabel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/exchange.h"

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

/* The bytes that end a path for us (the kernel cuts there too). */
static bool ends_path(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '?' || c == '#';
}

int np_http_parse_label(const char *buf, size_t len, bool full, struct np_http_label *out)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t m = 0, i, n = 0;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -EINVAL;
	while (m < len && is_upper(p[m]))
		m++;
	if (m == 0 || m >= NP_HTTP_METHOD_MAX || m >= len || p[m] != ' ')
		return -EINVAL;
	i = m + 1;
	memcpy(out->method, p, m);
	/* No target kept: the kernel keeps only origin ("/...") and asterisk
	 * forms, because an absolute URI may carry user:password@. */
	if (i == len)
		return 0;
	if (p[i] != '/' && !(p[i] == '*' && (i + 1 == len || ends_path(p[i + 1])))) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	for (; i < len && !ends_path(p[i]) && n < NP_HTTP_PATH_MAX; i++)
		out->path[n++] = (char)p[i];
	/* Stopped by the length alone: the kernel kept all it could, or we did. */
	if ((i == len && full) || (i < len && !ends_path(p[i]))) {
		out->truncated = true;
		memcpy(out->path + n, "...", 4);
	}
	return 0;
}

int np_http_parse_status(const char *buf, size_t len, uint16_t *status)
{
	const unsigned char *p = (const unsigned char *)buf;

	if (!buf || len < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return -EINVAL;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
	if (p[9] == '0')
		return -EINVAL;
	if (len > 12 && p[12] != ' ' && p[12] != '\r')
		return -EINVAL;
	*status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	return 0;
}

int np_upstream_parse_label(uint8_t proto, const char *buf, size_t len, bool cut,
			    struct np_http_label *out)
{
	memset(out, 0, sizeof(*out));
	if (!buf || cut || len == 0 || len >= NP_HTTP_METHOD_MAX ||
	    (proto != NP_PROTO_REDIS && proto != NP_PROTO_POSTGRES))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!is_upper((unsigned char)buf[i]))
			return -EINVAL;
	memcpy(out->method, buf, len);
	out->proto = proto;
	return 0;
}

int np_xch_parse_label(uint8_t proto, const char *buf, size_t len, bool cut,
		       struct np_http_label *out)
{
	if (proto == NP_PROTO_REDIS || proto == NP_PROTO_POSTGRES)
		return np_upstream_parse_label(proto, buf, len, cut, out);
	return np_http_parse_label(buf, len, cut, out);
}

const char *np_label_proto_name(uint8_t proto)
{
	switch (proto) {
	case NP_PROTO_REDIS:
		return "redis";
	case NP_PROTO_POSTGRES:
		return "postgres";
	default:
		return NULL;
	}
}

void np_label_format(const struct np_http_label *l, char *buf, size_t len)
{
	const char *proto = np_label_proto_name(l->proto);

	if (proto)
		snprintf(buf, len, "%s %s", proto, l->method);
	else
		snprintf(buf, len, "%s%s%s", l->method, l->path[0] ? " " : "", l->path);
}
