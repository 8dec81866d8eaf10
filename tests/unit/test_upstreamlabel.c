/* test_upstreamlabel.c - Redis and PostgreSQL labels: the kernel side's own
 * code (bpf/upstreamlabel.bpf.h, compiled here as user space) on request
 * heads as clients write them, the user-space validation of what it cut,
 * and the grouping of outbound exchanges per peer, protocol and label.
 *
 * The privacy rule is checked on every case that has one: the label is the
 * command or keyword, and no key, value, statement name or literal of the
 * request appears in it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/upstreamlabel.bpf.h"
#include "profiler/format/recording.h"
#include "report/model/exchange_report.h"
#include "report/model/httplabel.h"

#define SECRET "hunter2secret"

/* The label of bytes b[0..n) as the kernel cuts it, NUL-terminated. */
static unsigned label_of(const void *b, size_t n, char out[NP_UL_NAME_MAX + 1], __u8 *proto)
{
	__u8 head[NP_CONN_HEAD_BYTES] = {0};
	unsigned len;

	*proto = 0;
	memset(out, 0, NP_UL_NAME_MAX + 1);
	if (n > sizeof(head))
		n = sizeof(head);
	memcpy(head, b, n);
	len = np_ul_label(head, (__u32)n, out, proto);
	cr_assert_leq(len, NP_UL_NAME_MAX);
	out[len] = '\0';
	return len;
}

static void expect(const void *b, size_t n, __u8 want_proto, const char *want)
{
	char name[NP_UL_NAME_MAX + 1];
	__u8 proto;
	unsigned len = label_of(b, n, name, &proto);
	struct np_http_label l;

	if (!want) {
		cr_assert_eq(len, 0, "got label \"%s\"", name);
		return;
	}
	cr_assert_eq(proto, want_proto);
	cr_assert_str_eq(name, want);
	cr_assert_null(strstr(name, "HUNTER"));
	/* what user space makes of it */
	cr_assert_eq(np_xch_parse_label(proto, name, len, false, &l), 0);
	cr_assert_str_eq(l.method, want);
	cr_assert_str_eq(l.path, "");
}

#define EXPECT(lit, proto, want) expect(lit, sizeof(lit) - 1, proto, want)

Test(upstreamlabel, resp_arrays_give_the_command_name_only)
{
	EXPECT("*2\r\n$3\r\nGET\r\n$13\r\n" SECRET "\r\n", NP_PROTO_REDIS, "GET");
	EXPECT("*3\r\n$3\r\nset\r\n$13\r\n" SECRET "\r\n$1\r\nv\r\n", NP_PROTO_REDIS, "SET");
	EXPECT("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$4\r\n0.03\r\n", NP_PROTO_REDIS, "DEBUG");
	EXPECT("*1\r\n$4\r\nPING\r\n", NP_PROTO_REDIS, "PING");
	/* the declared length must be the name's */
	EXPECT("*2\r\n$4\r\nGET\r\n$1\r\nk\r\n", 0, NULL);
	/* a name that is not letters, or longer than 16 */
	EXPECT("*2\r\n$8\r\nJSON.GET\r\n$1\r\nk\r\n", 0, NULL);
	EXPECT("*1\r\n$17\r\nABCDEFGHIJKLMNOPQ\r\n", 0, NULL);
	EXPECT("*1\r\n$16\r\nABCDEFGHIJKLMNOP\r\n", 0, NULL);
	EXPECT("*1\r\n$15\r\nABCDEFGHIJKLMNO\r\n", NP_PROTO_REDIS, "ABCDEFGHIJKLMNO");
	/* found by fuzz_upstreamlabel: 16 letters, one more than user space keeps */
	EXPECT("ttttttttttttPING\r\n", 0, NULL);
	EXPECT("*0\r\n", 0, NULL);
	EXPECT("*1\r\n$3\r\nGE", 0, NULL); /* cut inside the name */
	EXPECT("*1234567\r\n$3\r\nGET\r\n", 0, NULL);
}

Test(upstreamlabel, inline_commands_need_the_line_end_in_the_head)
{
	EXPECT("PING\r\n", NP_PROTO_REDIS, "PING");
	EXPECT("get " SECRET "\r\n", NP_PROTO_REDIS, "GET");
	EXPECT("GET " SECRET, 0, NULL);
	EXPECT("GET " SECRET "\n", 0, NULL);
	/* an HTTP request line whose target is no path stays HTTP's */
	EXPECT("GET http://user:" SECRET "@host/ HTTP/1.1\r\n", 0, NULL);
	EXPECT("CONNECT host:443 HTTP/1.1\r\n", 0, NULL);
	EXPECT("GET HHTTP/\r\n", 0, NULL);
	EXPECT("SET k HTTP\r\n", NP_PROTO_REDIS, "SET");
}

static size_t pg_msg(uint8_t *out, char type, const void *body, size_t n)
{
	uint32_t len = htonl((uint32_t)(n + 4));

	out[0] = (uint8_t)type;
	memcpy(out + 1, &len, 4);
	memcpy(out + 5, body, n);
	return n + 5;
}

Test(upstreamlabel, postgres_simple_and_extended_queries_give_the_first_keyword)
{
	static const char q[] = "  select * from t where pw = '" SECRET "';";
	static const char p[] = "stmt_" SECRET "\0UPDATE t SET pw = $1 WHERE id = $2\0\0\0";
	static const char c[] = "/* " SECRET " */ SELECT 1";
	uint8_t b[256], name[100];

	expect(b, pg_msg(b, 'Q', q, sizeof(q)), NP_PROTO_POSTGRES, "SELECT");
	expect(b, pg_msg(b, 'P', p, sizeof(p)), NP_PROTO_POSTGRES, "UPDATE");
	expect(b, pg_msg(b, 'P', "\0WITH x AS (SELECT 1)", 22), NP_PROTO_POSTGRES, "WITH");
	/* a comment first: no keyword, no label */
	expect(b, pg_msg(b, 'Q', c, sizeof(c)), 0, NULL);
	/* a statement name longer than what is skipped */
	memset(name, 'n', sizeof(name));
	expect(b, pg_msg(b, 'P', name, sizeof(name)), 0, NULL);
}

Test(upstreamlabel, postgres_messages_without_a_query)
{
	uint8_t b[64], start[] = {0, 0, 0, 41, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'h', 'u', 'n'};
	uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

	expect(start, sizeof(start), NP_PROTO_POSTGRES, "STARTUP");
	expect(ssl, sizeof(ssl), NP_PROTO_POSTGRES, "SSLREQUEST");
	expect(b, pg_msg(b, 'X', "", 0), NP_PROTO_POSTGRES, "TERMINATE");
	expect(b, pg_msg(b, 'S', "", 0), NP_PROTO_POSTGRES, "SYNC");
	expect(b, pg_msg(b, 'p', SECRET, sizeof(SECRET)), NP_PROTO_POSTGRES, "PASSWORD");
	expect(b, pg_msg(b, 'B', "\0stmt\0\0\0\0\0\0\0", 13), NP_PROTO_POSTGRES, "BIND");
	/* an unknown type byte */
	expect(b, pg_msg(b, 'Z', "xx", 2), 0, NULL);
}

Test(upstreamlabel, http_and_other_bytes_get_no_upstream_label)
{
	/* HTTP is tried first by the kernel side; this code alone does not
	 * take a request line with a path for an inline command: the line
	 * "GET /a HTTP/1.1\r\n" would be one, which is why HTTP goes first */
	EXPECT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, NULL);
	EXPECT("", 0, NULL);
	EXPECT("\0\0\0\0\0\0\0\0", 0, NULL);
}

Test(upstreamlabel, user_space_rejects_what_the_kernel_would_not_cut)
{
	struct np_http_label l;

	cr_assert_eq(np_upstream_parse_label(NP_PROTO_REDIS, "get", 3, false, &l), -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_REDIS, "GET K", 5, false, &l), -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_REDIS, "GET", 3, true, &l), -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_HTTP1, "GET", 3, false, &l), -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_POSTGRES, "", 0, false, &l), -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_POSTGRES, "ABCDEFGHIJKLMNOP", 16, false, &l),
		     -EINVAL);
	cr_assert_eq(np_upstream_parse_label(NP_PROTO_POSTGRES, "SELECT", 6, false, &l), 0);
	cr_assert_eq(l.proto, NP_PROTO_POSTGRES);
}

static struct np_xch_event out_event(uint16_t rport, uint8_t proto, const char *label,
				     uint64_t total_ns)
{
	struct np_xch_event e = {0};

	e.flags = NP_XEV_OUTBOUND | NP_XEV_SAMPLED | NP_XEV_LABEL;
	e.family = 2; /* AF_INET */
	e.raddr[0] = 127;
	e.raddr[3] = 1;
	e.rport = rport;
	e.proto = proto;
	e.total_ns = total_ns;
	e.label_len = (uint8_t)strlen(label);
	memcpy(e.label, label, e.label_len);
	return e;
}

Test(upstreamlabel, outbound_groups_per_peer_protocol_and_label)
{
	struct np_recording rec = {0};
	struct np_xch_event ev[300];
	struct np_xch_out_group *g;
	size_t n = 0, ng;

	for (int i = 0; i < 200; i++)
		ev[n++] = out_event(6379, NP_PROTO_REDIS, "GET", 100000 + (uint64_t)i * 1000);
	for (int i = 0; i < 50; i++)
		ev[n++] = out_event(6379, NP_PROTO_REDIS, "DEBUG", 30000000 + (uint64_t)i * 100000);
	for (int i = 0; i < 40; i++)
		ev[n++] = out_event(5432, NP_PROTO_POSTGRES, "SELECT", 2000000);
	/* a served exchange and an invalid label are no group of their own */
	ev[n] = out_event(5432, NP_PROTO_POSTGRES, "SELECT", 1);
	ev[n++].flags &= (uint8_t)~NP_XEV_OUTBOUND;
	ev[n++] = out_event(5432, NP_PROTO_POSTGRES, "select", 5);
	cr_assert_eq(np_xch_out_groups(&rec, ev, n, &g, &ng), 0);
	cr_assert_eq(ng, 4);
	cr_assert_str_eq(g[0].label, "redis DEBUG");
	cr_assert_str_eq(g[0].peer, "127.0.0.1:6379");
	cr_assert_eq(g[0].count, 50);
	cr_assert_eq(g[0].p50_ns, 30000000 + 24 * 100000);
	cr_assert_eq(g[0].p99_ns, 30000000 + 49 * 100000);
	cr_assert_str_eq(g[1].label, "postgres SELECT");
	cr_assert_eq(g[1].count, 40);
	cr_assert_str_eq(g[2].label, "redis GET");
	cr_assert_eq(g[2].count, 200);
	cr_assert_eq(g[2].p50_ns, 100000 + 99 * 1000);
	cr_assert_eq(g[2].max_ns, 100000 + 199 * 1000);
	cr_assert_str_eq(g[3].label, ""); /* "select": not a valid label */
	cr_assert_eq(g[3].count, 1);
	free(g);
}
