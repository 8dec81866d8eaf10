/* fuzz_upstreamlabel.c - libFuzzer target: the Redis and PostgreSQL label
 * cut of bpf/upstreamlabel.bpf.h (the kernel side's own code) on a head
 * exactly as long as the input up to NP_CONN_HEAD_BYTES (ASan sees any read
 * past it), and the user-space validation of what it cut.  Properties: the
 * label is 1-15 upper-case letters, user space accepts it, and it is either
 * one of the fixed names of the messages without a query or a run of the
 * input's own letters - nothing else of the request can leave. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bpf/upstreamlabel.bpf.h"
#include "report/model/httplabel.h"

static const char *const fixed[] = {"BIND",    "SYNC",   "TERMINATE",  "PASSWORD",
				    "STARTUP", "CANCEL", "SSLREQUEST", "GSSENCREQUEST"};

static int from_input(const uint8_t *data, size_t size, const char *name, size_t len)
{
	for (size_t i = 0; i + len <= size; i++)
		if (!strncasecmp((const char *)data + i, name, len))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size > NP_CONN_HEAD_BYTES ? NP_CONN_HEAD_BYTES : size;
	__u8 *head = malloc(n ? n : 1);
	char name[NP_UL_NAME_MAX + 1] = {0};
	struct np_http_label l;
	__u8 proto = 0;
	__u32 len;
	int known = 0;

	if (!head)
		return 0;
	memcpy(head, data, n);
	len = np_ul_label(head, (__u32)n, name, &proto);
	if (len > NP_UL_LETTERS_MAX)
		abort();
	if (len) {
		if (proto != NP_PROTO_REDIS && proto != NP_PROTO_POSTGRES)
			abort();
		for (__u32 i = 0; i < len; i++)
			if (name[i] < 'A' || name[i] > 'Z')
				abort();
		if (np_xch_parse_label(proto, name, len, false, &l) || strcmp(l.method, name))
			abort();
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			known |= !strcmp(name, fixed[i]);
		if (!known && !from_input(head, n, name, len))
			abort();
	}
	/* the validation on raw bytes, as they come out of a recording */
	for (__u8 p = 0; p < 6; p++)
		for (int cut = 0; cut < 2; cut++)
			if (!np_xch_parse_label(p, (const char *)data, size, cut, &l) &&
			    (strnlen(l.method, sizeof(l.method)) == sizeof(l.method) ||
			     strnlen(l.path, sizeof(l.path)) == sizeof(l.path)))
				abort();
	free(head);
	return 0;
}
