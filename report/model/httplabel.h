/* httplabel.h - the label of an exchange: "METHOD /path" of an HTTP/1.x
 * request line, from the bytes the kernel side recorded.
 *
 * The bytes come from the traced process's memory, cut by the BPF program
 * at the first '?', '#', space or control byte after the path: untrusted
 * input of at most NP_XCH_LABEL_BYTES bytes, possibly from a recording made
 * elsewhere.  This parser accepts only what a request line can hold and
 * never reads past `len`.  It is pure (no I/O) and has a fuzz target.
 */
#ifndef NP_HTTPLABEL_H
#define NP_HTTPLABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_HTTP_METHOD_MAX 16
#define NP_HTTP_PATH_MAX 128

struct np_http_label {
	/* enum np_xch_proto (bpf/exchange.h).  For Redis and PostgreSQL the
	 * command or first keyword is in `method` and `path` is empty. */
	uint8_t proto;
	char method[NP_HTTP_METHOD_MAX]; /* "GET", NUL-terminated */
	char path[NP_HTTP_PATH_MAX + 4]; /* "/a/b", or "/a/b..." when cut */
	bool truncated;                  /* the path went on past what was kept */
};

/* Parses buf[0..len): a method of 1-15 upper-case letters, one space, and a
 * request target - origin form ("/...") or "*" - of visible ASCII, or no
 * target at all (the kernel drops other forms: an absolute URI may carry
 * credentials).  The target ends at len or at the
 * first '?', '#', space or control byte; `full` says the kernel kept all it
 * could (len hit the limit without a terminator), which marks the path
 * truncated.  Returns 0, or -EINVAL when the bytes are not a request line. */
int np_http_parse_label(const char *buf, size_t len, bool full, struct np_http_label *out);

/* Parses the label of a Redis or PostgreSQL request (bpf/upstreamlabel.bpf.h
 * cut it in the kernel): 1-15 upper-case letters, never cut (`cut` false),
 * for proto NP_PROTO_REDIS or NP_PROTO_POSTGRES.  Returns 0 or -EINVAL. */
int np_upstream_parse_label(uint8_t proto, const char *buf, size_t len, bool cut,
			    struct np_http_label *out);

/* The label of a recorded exchange by its protocol: the Redis/PostgreSQL
 * name for those, the HTTP request line otherwise. */
int np_xch_parse_label(uint8_t proto, const char *buf, size_t len, bool cut,
		       struct np_http_label *out);

/* "redis", "postgres", or NULL for the HTTP protocols. */
const char *np_label_proto_name(uint8_t proto);

/* The label as shown: "GET /path", or "redis GET", "postgres SELECT". */
void np_label_format(const struct np_http_label *l, char *buf, size_t len);

/* The status of "HTTP/1.x NNN" at the start of buf, or -EINVAL. */
int np_http_parse_status(const char *buf, size_t len, uint16_t *status);

#endif /* NP_HTTPLABEL_H */
