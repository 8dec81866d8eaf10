/* upstreamlabel.bpf.h - the label of a Redis (RESP) or PostgreSQL request:
 * the command name or the first keyword of the query, and nothing else.
 *
 * Plain bounded C over the request head a connection kept (np_conn.head),
 * without maps or helpers: the kernel side (exchange.bpf.h) runs it to cut
 * the label there, so that keys, values, statement names and query
 * parameters never leave the kernel, and the unit tests and the fuzz target
 * run the very same code in user space.  The loops over the bytes are a
 * step function, np_ul_step(), that sees one byte at a time: the kernel
 * side drives it with bpf_loop() (the verifier checks the step once, where
 * unrolled scans of every position made it walk over a million paths) and
 * user space with a plain loop, np_ul_label().  Every index is bounded by
 * `n` and masked to the head's size.
 *
 * What gets a label (names of 1-NP_UL_LETTERS_MAX letters, upper-cased):
 *   RESP array     "*N\r\n$L\r\nCMD\r\n..."  -> redis CMD
 *   RESP inline    "CMD args\r\n"            -> redis CMD (the line must end
 *                                               inside the head and hold
 *                                               no "HTTP/")
 *   PG 'Q' query   'Q' len query\0           -> postgres KEYWORD
 *   PG 'P' parse   'P' len name\0 query\0 .. -> postgres KEYWORD
 *   PG messages without a query: 'B' bind (a prepared statement run again)
 *   BIND, 'S' alone SYNC, 'X' TERMINATE, 'p' PASSWORD (never its bytes),
 *   and the untyped startup packets STARTUP, SSLREQUEST, GSSENCREQUEST,
 *   CANCEL.
 * A query that starts with anything but a keyword (a comment, a
 * parenthesis) and any other bytes get no label at all.  HTTP/1.x request
 * lines are tried first by the caller.
 */
#ifndef NP_UPSTREAMLABEL_BPF_H
#define NP_UPSTREAMLABEL_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "connstate.h"
#include "exchange.h"

#define NP_UL_INLINE static inline __attribute__((always_inline))
#define NP_UL_NAME_MAX 16    /* bytes kept for a name */
#define NP_UL_LETTERS_MAX 15 /* longest name: user space keeps it NUL-terminated */
#define NP_UL_MASK (NP_CONN_HEAD_BYTES - 1)
#define NP_UL_PG_NAME_MAX 64  /* longest prepared-statement name skipped */
#define NP_UL_PG_SPACE_MAX 16 /* whitespace skipped before the keyword */
#define NP_UL_DIGITS_MAX 6    /* of a RESP count or length */

_Static_assert((NP_CONN_HEAD_BYTES & NP_UL_MASK) == 0, "the head size is a power of two");

/* np_ul_scan.mode: where the scan is */
enum np_ul_mode {
	UL_FAIL = 0, /* no label */
	UL_DONE,     /* name complete */
	UL_R_START,  /* RESP: '*' or the first letter of an inline command */
	UL_R_COUNT,  /* digits of "*N" */
	UL_R_COUNT_LF,
	UL_R_DOLLAR,
	UL_R_LEN, /* digits of "$L" */
	UL_R_LEN_LF,
	UL_R_BULK,   /* the L letters of the command, then '\r' */
	UL_R_INLINE, /* letters of an inline command, then ' ' or '\r' */
	UL_R_REST,   /* the rest of the inline line (never copied) */
	UL_R_LF,
	UL_P_NAME,  /* PostgreSQL 'P': the statement name up to its NUL (skipped) */
	UL_P_SPACE, /* whitespace before the query's first keyword */
	UL_P_WORD,  /* the keyword, up to the first byte that is not a letter */
};

struct np_ul_scan {
	__u32 start, n; /* the bytes [start, n) of the head are scanned */
	__u32 num;      /* digits so far; the RESP length wanted */
	__u32 count;    /* digits, skipped bytes */
	__u32 len;      /* letters of the name so far */
	__u8 mode;      /* enum np_ul_mode */
	__u8 proto;     /* enum np_xch_proto of a label found */
	char name[NP_UL_NAME_MAX];
};

NP_UL_INLINE int np_ul_letter(__u8 ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* Adds a letter to the name; 0 when the name would be too long. */
NP_UL_INLINE int np_ul_add(struct np_ul_scan *s, __u8 ch)
{
	if (s->len >= NP_UL_LETTERS_MAX)
		return 0;
	s->name[s->len & (NP_UL_NAME_MAX - 1)] = (char)(ch & ~0x20);
	s->len++;
	return 1;
}

/* Adds a digit to s->num; 0 when there are too many. */
NP_UL_INLINE int np_ul_digit(struct np_ul_scan *s, __u8 ch)
{
	if (ch < '0' || ch > '9' || s->count >= NP_UL_DIGITS_MAX)
		return 0;
	s->num = s->num * 10 + (ch - '0');
	s->count++;
	return 1;
}

/* Byte i of "HTTP/". */
NP_UL_INLINE __u8 np_ul_http_char(__u32 i)
{
	return i == 0 ? 'H' : i == 1 || i == 2 ? 'T' : i == 3 ? 'P' : '/';
}

NP_UL_INLINE __u8 np_ul_redis_step(struct np_ul_scan *s, __u8 ch)
{
	switch (s->mode) {
	case UL_R_START:
		if (ch == '*')
			return UL_R_COUNT;
		return np_ul_letter(ch) && np_ul_add(s, ch) ? UL_R_INLINE : UL_FAIL;
	case UL_R_COUNT:
		if (np_ul_digit(s, ch))
			return UL_R_COUNT;
		return ch == '\r' && s->num ? UL_R_COUNT_LF : UL_FAIL;
	case UL_R_COUNT_LF:
		return ch == '\n' ? UL_R_DOLLAR : UL_FAIL;
	case UL_R_DOLLAR:
		s->num = 0;
		s->count = 0;
		return ch == '$' ? UL_R_LEN : UL_FAIL;
	case UL_R_LEN:
		if (np_ul_digit(s, ch))
			return UL_R_LEN;
		return ch == '\r' && s->num && s->num <= NP_UL_LETTERS_MAX ? UL_R_LEN_LF : UL_FAIL;
	case UL_R_LEN_LF:
		return ch == '\n' ? UL_R_BULK : UL_FAIL;
	case UL_R_BULK:
		if (s->len == s->num)
			return ch == '\r' ? UL_DONE : UL_FAIL;
		return np_ul_letter(ch) && np_ul_add(s, ch) ? UL_R_BULK : UL_FAIL;
	case UL_R_INLINE:
		if (np_ul_letter(ch))
			return np_ul_add(s, ch) ? UL_R_INLINE : UL_FAIL;
		return ch == ' ' ? UL_R_REST : ch == '\r' ? UL_R_LF : UL_FAIL;
	case UL_R_REST:
		/* the line must end inside the head, so that any text that
		 * starts with a word is not taken for a command, and hold no
		 * "HTTP/": an HTTP request line whose target is no path */
		if (ch == '\r')
			return UL_R_LF;
		s->count = ch == np_ul_http_char(s->count) ? s->count + 1 : ch == 'H';
		return ch >= ' ' && ch < 0x7f && s->count < 5 ? UL_R_REST : UL_FAIL;
	case UL_R_LF:
		return ch == '\n' ? UL_DONE : UL_FAIL;
	default:
		return UL_FAIL;
	}
}

NP_UL_INLINE __u8 np_ul_pg_step(struct np_ul_scan *s, __u8 ch)
{
	switch (s->mode) {
	case UL_P_NAME:
		/* the statement name is skipped, never copied */
		if (!ch)
			return UL_P_SPACE;
		return ++s->count < NP_UL_PG_NAME_MAX ? UL_P_NAME : UL_FAIL;
	case UL_P_SPACE:
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			return ++s->count < NP_UL_PG_NAME_MAX + NP_UL_PG_SPACE_MAX ? UL_P_SPACE
										   : UL_FAIL;
		return np_ul_letter(ch) && np_ul_add(s, ch) ? UL_P_WORD : UL_FAIL;
	case UL_P_WORD:
		if (np_ul_letter(ch))
			return np_ul_add(s, ch) ? UL_P_WORD : UL_FAIL;
		return UL_DONE;
	default:
		return UL_FAIL;
	}
}

/* One byte of the scan; 1 when it is over (done or failed). */
NP_UL_INLINE int np_ul_step(struct np_ul_scan *s, __u8 ch)
{
	if (s->mode == UL_DONE || s->mode == UL_FAIL)
		return 1;
	s->mode = s->mode >= UL_P_NAME ? np_ul_pg_step(s, ch) : np_ul_redis_step(s, ch);
	return s->mode == UL_DONE || s->mode == UL_FAIL;
}

NP_UL_INLINE void np_ul_begin_redis(struct np_ul_scan *s, __u32 n)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->n = n > NP_CONN_HEAD_BYTES ? NP_CONN_HEAD_BYTES : n;
	s->mode = UL_R_START;
	s->proto = NP_PROTO_REDIS;
}

NP_UL_INLINE __u32 np_ul_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

NP_UL_INLINE void np_ul_fixed(struct np_ul_scan *s, const char *name, __u32 len)
{
	for (__u32 i = 0; i < len && i < NP_UL_NAME_MAX; i++)
		s->name[i] = name[i];
	s->len = len;
	s->mode = UL_DONE;
}

/* The untyped packets a client opens with: int32 length, int32 code. */
NP_UL_INLINE void np_ul_pg_startup(struct np_ul_scan *s, __u32 len, __u32 code)
{
	if (len < 8 || len > 10000)
		return;
	if (code == 196608) /* protocol 3.0 */
		np_ul_fixed(s, "STARTUP", 7);
	else if (code == 80877103 && len == 8)
		np_ul_fixed(s, "SSLREQUEST", 10);
	else if (code == 80877104 && len == 8)
		np_ul_fixed(s, "GSSENCREQUEST", 13);
	else if (code == 80877102 && len == 16)
		np_ul_fixed(s, "CANCEL", 6);
}

/* Starts the PostgreSQL scan from the first 8 bytes b of the head (zero
 * past n): a message without a query is decided here (mode UL_DONE or
 * UL_FAIL), a query ('Q', 'P') is left to np_ul_step() from s->start. */
NP_UL_INLINE void np_ul_begin_pg(struct np_ul_scan *s, const __u8 b[8], __u32 n)
{
	__u32 len = np_ul_be32(b + 1);

	__builtin_memset(s, 0, sizeof(*s));
	s->n = n > NP_CONN_HEAD_BYTES ? NP_CONN_HEAD_BYTES : n;
	s->proto = NP_PROTO_POSTGRES;
	s->mode = UL_FAIL;
	if (n >= 8 && !b[0])
		np_ul_pg_startup(s, np_ul_be32(b), np_ul_be32(b + 4));
	if (n < 5 || len < 4 || len > (1u << 30))
		return;
	s->start = 5;
	switch (b[0]) {
	case 'Q':
		s->mode = len > 5 ? UL_P_SPACE : UL_FAIL;
		s->count = NP_UL_PG_NAME_MAX; /* no name: only the whitespace counts */
		break;
	case 'P':
		s->mode = UL_P_NAME;
		break;
	case 'B':
		if (len >= 12)
			np_ul_fixed(s, "BIND", 4);
		break;
	case 'S':
		if (len == 4 && n == 5)
			np_ul_fixed(s, "SYNC", 4);
		break;
	case 'X':
		if (len == 4 && n == 5)
			np_ul_fixed(s, "TERMINATE", 9);
		break;
	case 'p':
		if (len > 4)
			np_ul_fixed(s, "PASSWORD", 8);
		break;
	}
}

/* The name a finished scan found: its length (at most NP_UL_LETTERS_MAX, not
 * NUL-terminated) in out, or 0. */
NP_UL_INLINE __u32 np_ul_result(const struct np_ul_scan *s, char *out, __u8 *proto)
{
	if (s->mode != UL_DONE || !s->len || s->len > NP_UL_LETTERS_MAX)
		return 0;
	for (__u32 i = 0; i < NP_UL_NAME_MAX; i++)
		out[i] = s->name[i];
	*proto = s->proto;
	return s->len;
}

/* User space's driver (tests, fuzzing): the label of the n kept bytes h,
 * as the kernel side's bpf_loop() over np_ul_step() finds it.  Redis is
 * tried first, then PostgreSQL; HTTP/1.x before both, by the caller. */
NP_UL_INLINE __u32 np_ul_label(const __u8 *h, __u32 n, char *out, __u8 *proto)
{
	struct np_ul_scan s;
	__u8 b[8] = {0};
	__u32 len;

	np_ul_begin_redis(&s, n);
	for (__u32 i = s.start; i < s.n; i++)
		if (np_ul_step(&s, h[i & NP_UL_MASK]))
			break;
	len = np_ul_result(&s, out, proto);
	if (len)
		return len;
	for (__u32 i = 0; i < 8 && i < n; i++)
		b[i] = h[i];
	np_ul_begin_pg(&s, b, n);
	for (__u32 i = s.start; i < s.n && s.mode != UL_DONE && s.mode != UL_FAIL; i++)
		if (np_ul_step(&s, h[i & NP_UL_MASK]))
			break;
	return np_ul_result(&s, out, proto);
}

#endif /* NP_UPSTREAMLABEL_BPF_H */
