/* npload.c - an exact-count HTTP/1.1 load client for the examples and tests.
 *
 * Tests need to say "send exactly 1000 requests" and then check that the
 * profiler counted 1000 of something; wrk and friends run for a duration
 * instead.  npload sends exactly --requests requests over --connections
 * concurrent connections (one thread, one epoll instance), reads every
 * response, and prints one summary line:
 *
 *   npload: requests=N ok=N errors=N connections=N duration_ms=X p50_us=N p99_us=N
 *
 * Every request ends as exactly one of ok (a complete 2xx response) or
 * error (non-2xx, timeout, connection failure, malformed response); it is
 * never retried, so ok + errors == requests always.  connections= counts
 * the TCP connections opened.  Latency is measured per request from the
 * moment its batch starts being written on a connected socket until its
 * response has been read completely; with --keepalive off it starts at
 * connect(), since paying the handshake is then part of every request.
 * With --pipeline K all K requests of a batch share the batch start.
 * --duration-ms bounds a run in time as well (the scenario scripts use it to
 * cover a recording window): after it no new request starts, those in
 * flight finish, and requests= is the number actually sent.  SIGINT and
 * SIGTERM end a run the same way, so a summary is always printed.
 * Percentiles are over ok requests only, from a log-linear histogram
 * (exact below 128 us, within 1/64 above).
 *
 * What it is not: a benchmark tool.  No rate control, no coordinated
 * omission correction, no TLS, no DNS: --addr must be a numeric IPv4 or
 * IPv6 address, and npload only ever connects to that one address.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IN_BYTES (64 * 1024)      /* response head cap and read size */
#define PATTERN_BYTES (64 * 1024) /* upload body source */
#define PATH_MAX_BYTES 8192
#define MAX_CONNECTIONS 10000
#define MAX_PIPELINE 1024
#define MAX_REQUESTS 1000000000000ull
#define MAX_UPLOAD_BYTES (1ull << 40)
#define MAX_TIMEOUT_MS 3600000u
#define SEND_IOV 64                 /* iovecs per sendmsg */
#define SEND_CHUNK_BYTES (1u << 20) /* bytes per sendmsg */
#define MAX_EVENTS 256

/* Log-linear histogram: values below HIST_SUB are exact, above that each
 * power of two is split into HIST_SUB / 2 buckets. */
#define HIST_SUB 128
#define HIST_BUCKETS (HIST_SUB + 57 * (HIST_SUB / 2))

struct config {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[INET6_ADDRSTRLEN + 16]; /* for Host: and messages */
	uint64_t requests;
	unsigned connections;
	bool keepalive;
	const char *path;
	bool upload;
	uint64_t upload_bytes;
	unsigned pipeline;
	unsigned timeout_ms;
	unsigned duration_ms; /* 0 = no time limit */
};

enum conn_state { C_CLOSED, C_CONNECTING, C_ACTIVE };

struct conn {
	int fd;
	uint32_t idx; /* position in load.conns */
	uint32_t gen; /* bumped per socket, to spot stale events */
	enum conn_state state;
	uint32_t events;      /* current epoll interest */
	unsigned batch;       /* requests assigned to the current batch */
	unsigned answered;    /* responses completed in this batch */
	uint64_t send_off;    /* bytes of the batch already sent */
	uint64_t start_ns;    /* batch start, for latency */
	uint64_t deadline_ns; /* batch start + timeout */
	bool must_close;      /* server said Connection: close */

	char *in;
	size_t in_len;
	bool in_body;     /* reading a response body */
	bool body_to_eof; /* body ends when the server closes */
	uint64_t body_left;
	int status;
};

struct load {
	const struct config *cfg;
	int epfd;
	struct conn *conns;
	unsigned nconns;
	char *req; /* one request head, sent once per request */
	size_t req_len;
	uint64_t per_req_bytes; /* head + upload body */
	char *pattern;
	uint64_t unassigned; /* requests not yet given to a connection */
	uint64_t total;   /* requests this run sends: --requests, less any cut by --duration-ms */
	uint64_t stop_ns; /* --duration-ms deadline, 0 = none */
	uint64_t ok, errors, opened;
	uint64_t hist[HIST_BUCKETS];
	bool reported; /* first error already printed */
};

/* Set by SIGINT/SIGTERM: stop like --duration-ms does, and still print the
 * summary line. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- histogram ---------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
	return HIST_SUB + (e - 7) * (HIST_SUB / 2) + (unsigned)((v >> (e - 6)) - HIST_SUB / 2);
}

/* Midpoint of the bucket: the best single guess for any value in it. */
static uint64_t hist_value(unsigned idx)
{
	unsigned e, m;

	if (idx < HIST_SUB)
		return idx;
	e = (idx - HIST_SUB) / (HIST_SUB / 2) + 7;
	m = (idx - HIST_SUB) % (HIST_SUB / 2) + HIST_SUB / 2;
	return ((uint64_t)m << (e - 6)) + ((1ull << (e - 6)) >> 1);
}

/* Nearest-rank percentile over all recorded values, 0 if none. */
static uint64_t hist_percentile(const struct load *l, double p)
{
	uint64_t rank, seen = 0;

	if (l->ok == 0)
		return 0;
	rank = (uint64_t)(p * (double)l->ok + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += l->hist[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return 0;
}

/* ---- accounting ----------------------------------------------------------- */

static void report_error(struct load *l, const char *fmt, ...)
{
	va_list ap;

	/* One line for the first failure says what went wrong; the summary
	 * says how often. */
	if (l->reported)
		return;
	l->reported = true;
	va_start(ap, fmt);
	fputs("npload: first error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void conn_close(struct load *l, struct conn *c)
{
	(void)l;
	if (c->fd >= 0)
		close(c->fd); /* also drops it from the epoll set */
	c->fd = -1;
	c->state = C_CLOSED;
	c->events = 0;
	c->in_len = 0;
	c->in_body = false;
	c->body_to_eof = false;
	c->must_close = false;
	c->batch = c->answered = 0;
}

/* Everything still outstanding on this connection fails, once. */
static void conn_fail(struct load *l, struct conn *c, const char *what, int err)
{
	unsigned lost = c->batch - c->answered;

	if (lost) {
		l->errors += lost;
		if (err)
			report_error(l, "%s %s: %s", what, l->cfg->host, strerror(err));
		else
			report_error(l, "%s %s", what, l->cfg->host);
	}
	conn_close(l, c);
}

/* Hand the next batch of requests to c; returns how many. */
static unsigned take_batch(struct load *l, struct conn *c)
{
	uint64_t k = l->cfg->pipeline;

	if (k > l->unassigned)
		k = l->unassigned;
	l->unassigned -= k;
	c->batch = (unsigned)k;
	c->answered = 0;
	c->send_off = 0;
	return c->batch;
}

static int conn_set_events(struct load *l, struct conn *c, uint32_t want)
{
	struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)c->gen << 32 | c->idx};

	if (want == c->events)
		return 0;
	if (epoll_ctl(l->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	c->events = want;
	return 0;
}

/* ---- sending ------------------------------------------------------------- */

/* Send as much of the batch as the socket takes, request heads and upload
 * bodies gathered into one sendmsg so K pipelined requests really go out
 * back to back. */
static int conn_send(struct load *l, struct conn *c)
{
	uint64_t total = (uint64_t)c->batch * l->per_req_bytes;

	while (c->send_off < total) {
		struct iovec iov[SEND_IOV];
		struct msghdr msg = {.msg_iov = iov};
		uint64_t p = c->send_off;
		size_t bytes = 0;
		ssize_t n;
		int cnt = 0;

		while (cnt < SEND_IOV && p < total && bytes < SEND_CHUNK_BYTES) {
			uint64_t in_req = p % l->per_req_bytes;
			uint64_t len;

			if (in_req < l->req_len) {
				iov[cnt].iov_base = l->req + in_req;
				len = l->req_len - in_req;
			} else {
				uint64_t boff = (in_req - l->req_len) % PATTERN_BYTES;

				iov[cnt].iov_base = l->pattern + boff;
				len = PATTERN_BYTES - boff;
				if (len > l->per_req_bytes - in_req)
					len = l->per_req_bytes - in_req;
			}
			if (len > SEND_CHUNK_BYTES - bytes)
				len = SEND_CHUNK_BYTES - bytes;
			iov[cnt].iov_len = (size_t)len;
			p += len;
			bytes += (size_t)len;
			cnt++;
		}
		msg.msg_iovlen = (size_t)cnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->send_off += (uint64_t)n;
	}
	return 0;
}

static int conn_update(struct load *l, struct conn *c)
{
	bool more = c->send_off < (uint64_t)c->batch * l->per_req_bytes;

	return conn_set_events(l, c, EPOLLIN | (more ? EPOLLOUT : 0));
}

/* Start the current batch on a connected socket. */
static int batch_start(struct load *l, struct conn *c, bool fresh_conn_start)
{
	int err;

	if (!fresh_conn_start || l->cfg->keepalive)
		c->start_ns = now_ns();
	c->deadline_ns = c->start_ns + (uint64_t)l->cfg->timeout_ms * 1000000ull;
	err = conn_send(l, c);
	if (!err)
		err = conn_update(l, c);
	return err;
}

/* Open a new connection for the next batch.  A failure here costs that
 * batch, so the run always makes progress even against a dead port. */
static void conn_open_once(struct load *l, struct conn *c)
{
	int one = 1;
	int err;

	if (!take_batch(l, c))
		return;
	c->fd = socket(l->cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(l, c, "socket for", errno);
		return;
	}
	c->gen++;
	l->opened++;
	/* Small requests go out at once; pipelined batches are already one
	 * sendmsg, so Nagle would only add delay. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->start_ns = now_ns();
	c->deadline_ns = c->start_ns + (uint64_t)l->cfg->timeout_ms * 1000000ull;
	if (connect(c->fd, (const struct sockaddr *)&l->cfg->addr, l->cfg->addr_len) == 0) {
		c->state = C_ACTIVE;
		err = batch_start(l, c, true);
		if (err)
			conn_fail(l, c, "send to", -err);
		return;
	}
	if (errno != EINPROGRESS) {
		conn_fail(l, c, "connect to", errno);
		return;
	}
	c->state = C_CONNECTING;
	err = conn_set_events(l, c, EPOLLOUT);
	if (err)
		conn_fail(l, c, "epoll for", -err);
}

/* Keep trying until a connection is under way or nothing is left to send:
 * otherwise a synchronous failure could leave no connection open and the
 * run would wait forever for requests nobody sends. */
static void conn_open(struct load *l, struct conn *c)
{
	while (c->state == C_CLOSED && l->unassigned > 0)
		conn_open_once(l, c);
}

/* The batch on c is complete: go on with the next one on the same
 * connection, or on a new one when the connection cannot be reused. */
static void batch_done(struct load *l, struct conn *c)
{
	int err;

	if (c->must_close || !l->cfg->keepalive || c->in_len > 0 || l->unassigned == 0) {
		/* Leftover input after the last response means the server sent
		 * something we did not ask for; do not trust the connection. */
		conn_close(l, c);
		conn_open(l, c);
		return;
	}
	take_batch(l, c);
	err = batch_start(l, c, false);
	if (err)
		conn_fail(l, c, "send to", -err);
}

/* ---- receiving -------------------------------------------------------------- */

static bool token_eq(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

/* Parse a response head in c->in[0..end+4).  Returns 0 or -EBADMSG. */
static int parse_response_head(struct conn *c, const char *end)
{
	const char *buf = c->in, *line, *eol;
	bool seen_cl = false, v10, conn_close = false, conn_keep = false;
	uint64_t cl = 0;

	eol = memmem(buf, (size_t)(end + 2 - buf), "\r\n", 2);
	if (eol - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ' || (eol - buf > 12 && buf[12] != ' '))
		return -EBADMSG;
	c->status = 0;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
		c->status = c->status * 10 + (buf[i] - '0');
	}
	v10 = buf[7] == '0';
	for (line = eol + 2; line < end + 2; line = eol + 2) {
		const char *colon, *v, *ve;

		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			return -EBADMSG;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (token_eq(line, (size_t)(colon - line), "content-length")) {
			uint64_t n = 0;

			if (ve == v || ve - v > 18)
				return -EBADMSG;
			for (const char *p = v; p < ve; p++) {
				if (*p < '0' || *p > '9')
					return -EBADMSG;
				n = n * 10 + (uint64_t)(*p - '0');
			}
			if (seen_cl && n != cl)
				return -EBADMSG;
			seen_cl = true;
			cl = n;
		} else if (token_eq(line, (size_t)(colon - line), "transfer-encoding")) {
			return -EBADMSG; /* chunked is not something our targets send */
		} else if (token_eq(line, (size_t)(colon - line), "connection")) {
			for (const char *p = v; p < ve;) {
				const char *t = p, *te;

				while (p < ve && *p != ',')
					p++;
				te = p;
				while (t < te && (*t == ' ' || *t == '\t'))
					t++;
				while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
					te--;
				if (token_eq(t, (size_t)(te - t), "close"))
					conn_close = true;
				else if (token_eq(t, (size_t)(te - t), "keep-alive"))
					conn_keep = true;
				if (p < ve)
					p++;
			}
		}
	}
	if (conn_close || (v10 && !conn_keep))
		c->must_close = true;
	c->in_body = true;
	c->body_to_eof = false;
	c->body_left = 0;
	if (c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200))
		c->body_left = 0;
	else if (seen_cl)
		c->body_left = cl;
	else if (c->must_close)
		c->body_to_eof = true;
	else
		return -EBADMSG; /* no way to find the end of the body */
	return 0;
}

static void response_done(struct load *l, struct conn *c)
{
	uint64_t us = (now_ns() - c->start_ns) / 1000u;

	c->in_body = false;
	c->answered++;
	if (c->status >= 200 && c->status <= 299) {
		l->ok++;
		l->hist[hist_index(us)]++;
	} else {
		l->errors++;
		report_error(l, "HTTP status %d from %s", c->status, l->cfg->host);
	}
}

static void in_consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Consume complete responses from c->in.  Returns 0, or -EBADMSG when
 * the input cannot be a response. */
static int conn_parse(struct load *l, struct conn *c)
{
	while (c->answered < c->batch) {
		const char *end;
		int err;

		if (c->in_body) {
			size_t take;

			if (c->body_to_eof) {
				c->in_len = 0;
				return 0;
			}
			take = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
			in_consume(c, take);
			c->body_left -= take;
			if (c->body_left)
				return 0;
			if (c->status >= 100 && c->status < 200) {
				c->in_body = false; /* interim response: the real one follows */
				continue;
			}
			response_done(l, c);
			if (c->must_close && c->answered < c->batch)
				return -ECONNRESET; /* server will not answer the rest */
			continue;
		}
		end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
		if (!end)
			return c->in_len == IN_BYTES ? -EBADMSG : 0;
		err = parse_response_head(c, end);
		if (err)
			return err;
		in_consume(c, (size_t)(end + 4 - c->in));
	}
	return 0;
}

static void conn_readable(struct load *l, struct conn *c)
{
	ssize_t n;
	int err;

	if (c->in_body && !c->body_to_eof && c->in_len == 0) {
		/* Discard bodies straight from the socket, IN_BYTES at a time,
		 * but never read past this response. */
		size_t want = c->body_left < IN_BYTES ? (size_t)c->body_left : IN_BYTES;

		n = recv(c->fd, c->in, want, 0);
	} else {
		n = recv(c->fd, c->in + c->in_len, IN_BYTES - c->in_len, 0);
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_fail(l, c, "receive from", errno);
		conn_open(l, c);
		return;
	}
	if (n == 0) {
		if (c->in_body && c->body_to_eof)
			response_done(l, c);
		if (c->answered < c->batch)
			conn_fail(l, c, "connection closed early by", 0);
		else
			conn_close(l, c);
		conn_open(l, c);
		return;
	}
	c->in_len += (size_t)n;
	err = conn_parse(l, c);
	if (err == -ECONNRESET) {
		conn_fail(l, c, "Connection: close with requests still outstanding from", 0);
		conn_open(l, c);
		return;
	}
	if (err) {
		conn_fail(l, c, "malformed response from", 0);
		conn_open(l, c);
		return;
	}
	if (c->answered == c->batch)
		batch_done(l, c);
}

static void conn_event(struct load *l, struct conn *c, uint32_t events)
{
	int err;

	if (c->state == C_CONNECTING) {
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			conn_fail(l, c, "connect to", err);
			conn_open(l, c);
			return;
		}
		c->state = C_ACTIVE;
		err = batch_start(l, c, true);
		if (err) {
			conn_fail(l, c, "send to", -err);
			conn_open(l, c);
		}
		return;
	}
	/* Read before reacting to errors: the response may be in the
	 * buffer together with the reset. */
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		uint32_t gen = c->gen;

		conn_readable(l, c);
		if (c->gen != gen || c->state != C_ACTIVE)
			return;
	}
	if (events & EPOLLOUT) {
		err = conn_send(l, c);
		if (!err)
			err = conn_update(l, c);
		if (err) {
			conn_fail(l, c, "send to", -err);
			conn_open(l, c);
		}
	}
}

/* Fail batches whose deadline passed; returns ms until the next one. */
static int expire(struct load *l)
{
	uint64_t now = now_ns(), next = UINT64_MAX;

	for (unsigned i = 0; i < l->nconns; i++) {
		struct conn *c = &l->conns[i];

		if (c->state == C_CLOSED)
			continue;
		if (c->deadline_ns <= now) {
			conn_fail(l, c, "timeout waiting for", 0);
			conn_open(l, c);
			if (c->state == C_CLOSED)
				continue;
		}
		if (c->deadline_ns < next)
			next = c->deadline_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now + 999999u) / 1000000u);
}

/* ---- options ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: npload [options]\n"
		"  --addr A            server address, numeric IPv4 or IPv6 (default 127.0.0.1)\n"
		"  --port P            server port (default 8080)\n"
		"  --requests N        send exactly N requests (default 1000)\n"
		"  --connections C     concurrent connections (default 1, max %d)\n"
		"  --keepalive on|off  reuse connections; off = one connection per request "
		"(default on)\n"
		"  --path P            request path (default /)\n"
		"  --upload-bytes N    send POST with an N-byte body instead of GET\n"
		"  --pipeline K        send K requests back to back before reading (default 1, max "
		"%d)\n"
		"  --timeout-ms T      per-request timeout (default 10000)\n"
		"  --duration-ms D     start no new request after D ms; requests in flight finish\n"
		"                      and requests= then counts those sent (default: no limit)\n"
		"  --help              show this help\n"
		"Prints: npload: requests=N ok=N errors=N connections=N duration_ms=X p50_us=N "
		"p99_us=N\n"
		"Exit status: 0 if every request got a 2xx response, 1 otherwise, 2 for bad "
		"options.\n",
		MAX_CONNECTIONS, MAX_PIPELINE);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_addr(const char *s, unsigned port, struct config *cfg)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->addr;

	memset(&cfg->addr, 0, sizeof(cfg->addr));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cfg->addr_len = sizeof(*sin);
		snprintf(cfg->host, sizeof(cfg->host), "%s:%u", s, port);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		cfg->addr_len = sizeof(*sin6);
		snprintf(cfg->host, sizeof(cfg->host), "[%s]:%u", s, port);
		return 0;
	}
	return -EINVAL;
}

static bool path_ok(const char *p)
{
	if (p[0] != '/' || strlen(p) >= PATH_MAX_BYTES)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

enum {
	OPT_ADDR = 256,
	OPT_PORT,
	OPT_REQUESTS,
	OPT_CONNECTIONS,
	OPT_KEEPALIVE,
	OPT_PATH,
	OPT_UPLOAD,
	OPT_PIPELINE,
	OPT_TIMEOUT,
	OPT_DURATION,
	OPT_HELP,
};

/* Returns 0, 1 for --help, or -EINVAL after printing one line. */
static int parse_options(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{"addr", required_argument, NULL, OPT_ADDR},
		{"port", required_argument, NULL, OPT_PORT},
		{"requests", required_argument, NULL, OPT_REQUESTS},
		{"connections", required_argument, NULL, OPT_CONNECTIONS},
		{"keepalive", required_argument, NULL, OPT_KEEPALIVE},
		{"path", required_argument, NULL, OPT_PATH},
		{"upload-bytes", required_argument, NULL, OPT_UPLOAD},
		{"pipeline", required_argument, NULL, OPT_PIPELINE},
		{"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
		{"duration-ms", required_argument, NULL, OPT_DURATION},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *addr = "127.0.0.1";
	unsigned port = 8080;
	int opt, longidx = 0, err = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->requests = 1000;
	cfg->connections = 1;
	cfg->keepalive = true;
	cfg->path = "/";
	cfg->pipeline = 1;
	cfg->timeout_ms = 10000;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, &longidx)) != -1) {
		switch (opt) {
		case OPT_ADDR:
			addr = optarg;
			break;
		case OPT_PORT:
			err = parse_unsigned(optarg, 1, 65535, &port);
			break;
		case OPT_REQUESTS:
			err = parse_u64(optarg, 1, MAX_REQUESTS, &cfg->requests);
			break;
		case OPT_CONNECTIONS:
			err = parse_unsigned(optarg, 1, MAX_CONNECTIONS, &cfg->connections);
			break;
		case OPT_KEEPALIVE:
			if (strcmp(optarg, "on") == 0)
				cfg->keepalive = true;
			else if (strcmp(optarg, "off") == 0)
				cfg->keepalive = false;
			else
				err = -EINVAL;
			break;
		case OPT_PATH:
			cfg->path = optarg;
			if (!path_ok(optarg))
				err = -EINVAL;
			break;
		case OPT_UPLOAD:
			cfg->upload = true;
			err = parse_u64(optarg, 0, MAX_UPLOAD_BYTES, &cfg->upload_bytes);
			break;
		case OPT_PIPELINE:
			err = parse_unsigned(optarg, 1, MAX_PIPELINE, &cfg->pipeline);
			break;
		case OPT_TIMEOUT:
			err = parse_unsigned(optarg, 1, MAX_TIMEOUT_MS, &cfg->timeout_ms);
			break;
		case OPT_DURATION:
			err = parse_unsigned(optarg, 1, MAX_TIMEOUT_MS, &cfg->duration_ms);
			break;
		case OPT_HELP:
			return 1;
		default:
			fprintf(stderr,
				"npload: unknown option or missing value '%s' (see --help)\n",
				optind > 1 ? argv[optind - 1] : "?");
			return -EINVAL;
		}
		if (err) {
			fprintf(stderr, "npload: invalid value '%s' for --%s (see --help)\n",
				optarg, opts[longidx].name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npload: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (parse_addr(addr, port, cfg) < 0) {
		fprintf(stderr, "npload: invalid value '%s' for --addr (see --help)\n", addr);
		return -EINVAL;
	}
	if (!cfg->keepalive && cfg->pipeline > 1) {
		/* The server closes after the first answer, so the rest of a
		 * pipelined batch could never be answered. */
		fprintf(stderr, "npload: --pipeline needs --keepalive on\n");
		return -EINVAL;
	}
	return 0;
}

static int build_request(struct load *l)
{
	const struct config *cfg = l->cfg;
	int n;

	if (cfg->upload)
		n = asprintf(&l->req,
			     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: npload\r\n"
			     "Content-Type: application/octet-stream\r\nContent-Length: %" PRIu64
			     "\r\n%s\r\n",
			     cfg->path, cfg->host, cfg->upload_bytes,
			     cfg->keepalive ? "" : "Connection: close\r\n");
	else
		n = asprintf(&l->req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: npload\r\n%s\r\n",
			     cfg->path, cfg->host, cfg->keepalive ? "" : "Connection: close\r\n");
	if (n < 0) {
		l->req = NULL;
		return -ENOMEM;
	}
	l->req_len = (size_t)n;
	l->per_req_bytes = l->req_len + (cfg->upload ? cfg->upload_bytes : 0);
	return 0;
}

static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct load *l = NULL;
	struct epoll_event events[MAX_EVENTS];
	uint64_t t0, t1;
	int err, ret = 1;

	err = parse_options(argc, argv, &cfg);
	if (err == 1) {
		usage(stdout);
		return 0;
	}
	if (err)
		return 2;
	raise_nofile_limit();
	signal(SIGPIPE, SIG_IGN);
	{
		/* No SA_RESTART: epoll_wait must return EINTR so the loop sees it. */
		struct sigaction sa = {.sa_handler = on_stop_signal};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		goto nomem;
	l->cfg = &cfg;
	l->epfd = -1;
	l->unassigned = cfg.requests;
	l->total = cfg.requests;
	l->nconns = cfg.connections < cfg.requests ? cfg.connections : (unsigned)cfg.requests;
	l->conns = calloc(l->nconns, sizeof(*l->conns));
	l->pattern = malloc(PATTERN_BYTES);
	if (!l->conns || !l->pattern || build_request(l) < 0)
		goto nomem;
	for (size_t i = 0; i < PATTERN_BYTES; i++)
		l->pattern[i] = (char)('a' + i % 26);
	for (unsigned i = 0; i < l->nconns; i++) {
		l->conns[i].fd = -1;
		l->conns[i].idx = i;
		l->conns[i].in = malloc(IN_BYTES);
		if (!l->conns[i].in)
			goto nomem;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		fprintf(stderr, "npload: epoll_create1: %s\n", strerror(errno));
		goto cleanup;
	}

	t0 = now_ns();
	if (cfg.duration_ms)
		l->stop_ns = t0 + (uint64_t)cfg.duration_ms * 1000000u;
	for (unsigned i = 0; i < l->nconns; i++)
		conn_open(l, &l->conns[i]);
	while (l->ok + l->errors < l->total) {
		int timeout = expire(l);
		int n;

		if ((l->stop_ns || stop_requested) && l->unassigned) {
			uint64_t now = now_ns();

			if (stop_requested || now >= l->stop_ns) {
				/* Time is up: what was never handed to a connection is
				 * never sent.  Connections only stay open while they
				 * carry a batch, so the loop ends once those finish. */
				l->total -= l->unassigned;
				l->unassigned = 0;
			} else {
				int left = (int)((l->stop_ns - now + 999999u) / 1000000u);

				if (timeout < 0 || left < timeout)
					timeout = left;
			}
		}
		if (l->ok + l->errors >= l->total)
			break;
		n = epoll_wait(l->epfd, events, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "npload: epoll_wait: %s\n", strerror(errno));
			goto cleanup;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = &l->conns[(uint32_t)events[i].data.u64];

			/* An earlier event in this batch may have closed c and
			 * opened a new socket for it; drop the old socket's news. */
			if (c->state != C_CLOSED && c->gen == (uint32_t)(events[i].data.u64 >> 32))
				conn_event(l, c, events[i].events);
		}
	}
	t1 = now_ns();

	printf("npload: requests=%" PRIu64 " ok=%" PRIu64 " errors=%" PRIu64 " connections=%" PRIu64
	       " duration_ms=%" PRIu64 " p50_us=%" PRIu64 " p99_us=%" PRIu64 "\n",
	       l->total, l->ok, l->errors, l->opened, (t1 - t0) / 1000000u,
	       hist_percentile(l, 0.50), hist_percentile(l, 0.99));
	fflush(stdout);
	ret = l->ok == l->total ? 0 : 1;
	goto cleanup;

nomem:
	fprintf(stderr, "npload: out of memory\n");
cleanup:
	if (l) {
		for (unsigned i = 0; l->conns && i < l->nconns; i++) {
			conn_close(l, &l->conns[i]);
			free(l->conns[i].in);
		}
		if (l->epfd >= 0)
			close(l->epfd);
		free(l->conns);
		free(l->pattern);
		free(l->req);
		free(l);
	}
	return ret;
}
