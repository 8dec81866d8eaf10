/* npserver.c - the example target service: a small HTTP/1.1 server with fault knobs.
 *
 * npserver exists to be profiled.  It is the demo target and the target of
 * the integration tests, so its syscall pattern is deliberately plain and
 * predictable: each worker thread sits in epoll_wait, takes connections with
 * accept4, and for each request does one read, optionally sleeps or burns
 * CPU, and answers with write.  The knobs (--delay-ms, --burn-us,
 * --accept-delay-ms, --read-delay-ms, --rcvbuf, --backlog, --upstream, ...)
 * each reproduce one kind of bottleneck of the classic runbook (the problems
 * people chase with ss, ethtool -S and softnet_stat) so that a test can
 * switch it on and check that netprof names it.
 *
 * What it is not: a web server.  No TLS, no chunked transfer encoding, no
 * files, no virtual hosts, no idle timeouts; anything outside the small
 * subset it understands is answered with 400 (or 501) and the connection is
 * closed.  The delays are blocking on purpose: a worker that sleeps stalls
 * every connection it owns, exactly like a real service that takes a lock
 * or reads a disk on its event-loop thread.
 *
 * Threads: one listening socket shared by all workers, each worker with its
 * own epoll instance that watches the listener with EPOLLEXCLUSIVE.  We
 * chose this over SO_REUSEPORT because it keeps a single accept queue, so
 * --backlog means exactly what it says, `ss -lnt` shows one listener, and a
 * listen-queue overflow is one counter on one socket rather than N.
 *
 * Protocol subset: request line and header fields ending in CRLF, heads up
 * to 64 KiB (else 431), Content-Length request bodies of any size (read and
 * discarded as they stream in; Expect: 100-continue is honoured), pipelined
 * requests answered in order, HTTP/1.0 closes unless it asks for
 * keep-alive.  Every response carries Content-Length and Connection.  In
 * proxy mode (--upstream) the worker fetches the same path from the
 * upstream with blocking I/O on a kept-alive connection and relays the
 * body; upstream failures become 502.
 *
 * Interface for scripts: once the socket is listening and the workers run,
 * stdout gets exactly one line, "npserver: listening on ADDR:PORT pid PID"
 * (IPv6 as [ADDR]:PORT), flushed.  SIGTERM/SIGINT stop it with status 0;
 * bad options exit 2, runtime failures 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Keep these functions as real, separately named frames so that a CPU
 * profiler sees handle_request -> compute_response -> burn_cpu.  gcc's
 * noipa also stops constprop/isra clones (burn_cpu.constprop.0), which
 * would rename the frame; clang has no noipa and does not clone here. */
#if defined(__clang__)
#define NP_NOINLINE __attribute__((noinline))
#else
#define NP_NOINLINE __attribute__((noipa))
#endif
/* Placed after a call that would otherwise be a tail call: a sibling call
 * reuses the caller's frame, and the caller then vanishes from stacks. */
#define NP_KEEP_FRAME() __asm__ __volatile__("" ::: "memory")

#define HDR_MAX_BYTES (64 * 1024)     /* request head cap: larger -> 431 */
#define IN_INIT_BYTES 4096            /* first input buffer, grows to HDR_MAX_BYTES */
#define SCRATCH_BYTES (64 * 1024)     /* per-worker sink for discarded request bodies */
#define BODY_MAX_BYTES (64ull << 20)  /* --body-bytes and upstream body cap */
#define INLINE_BODY_BYTES (16 * 1024) /* bodies up to this go out in the same write as the head */
#define PATTERN_BYTES (128 * 1024)    /* synthetic body source, written in chunks of this */
#define OUT_KEEP_BYTES (64 * 1024)    /* drained output buffers above this are freed */
#define MAX_CONNS_PER_WORKER 10000
#define MAX_THREADS 256
#define MAX_EVENTS 128
#define ACCEPT_BATCH 16 /* accepts per wakeup, so one busy listener cannot starve connections */
#define MAX_DELAY_MS 600000u      /* 10 minutes: anything larger is a typo */
#define MAX_BURN_US 10000000u     /* 10 s of CPU per request */
#define UPSTREAM_TIMEOUT_MS 10000 /* SO_RCVTIMEO/SO_SNDTIMEO on the upstream socket */
#define UPSTREAM_REQ_EXTRA 512    /* upstream request bytes besides the path */
#define CONTINUE_RESPONSE "HTTP/1.1 100 Continue\r\n\r\n"

struct config {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	unsigned port;
	unsigned threads;
	unsigned delay_ms;
	unsigned burn_us;
	unsigned backlog;
	int rcvbuf_bytes;
	bool keepalive;
	uint64_t body_bytes;
	unsigned accept_delay_ms;
	unsigned read_delay_ms;
	const char *upstream; /* NULL unless proxy mode */
	struct sockaddr_storage up_addr;
	socklen_t up_addr_len;
	char up_host[NI_MAXHOST + 16]; /* Host: header value for the upstream */
	const char *pidfile;
	/* Nagle's stall on purpose: each response's head and body in two
	 * writes, and TCP_NODELAY left off. */
	bool split_writes;
};

struct server {
	const struct config *cfg;
	int listen_fd;
	int stop_fd;   /* eventfd, readable once we are stopping */
	char *pattern; /* PATTERN_BYTES of body text, read-only after start */
	pthread_t main_thread;
};

/* One parsed request, kept while its body is still being read. */
struct request {
	bool head;      /* HEAD: send headers only */
	bool keepalive; /* after version, Connection: and --keepalive */
	bool healthz;
	bool expect_continue; /* Expect: 100-continue (curl sends it for uploads) */
	uint64_t content_length;
	char *path; /* malloc'd copy of the request target */
};

struct conn {
	int fd;
	uint32_t events; /* current epoll interest */
	struct conn *prev, *next;

	char *in; /* unparsed input, at most HDR_MAX_BYTES */
	size_t in_len, in_cap;
	size_t scan_off; /* where to resume looking for the end of the head */

	bool req_pending; /* head parsed, body (if any) not fully read */
	struct request req;
	uint64_t body_left; /* request body bytes still to discard */

	char *out; /* response head, plus small bodies */
	size_t out_len, out_off, out_cap;
	char *tail_owned; /* large body after out: owned buffer, or NULL = pattern */
	uint64_t tail_len, tail_off;
	size_t split_at;  /* --split-writes: where in out the first write stops (0: none) */
	bool close_after; /* close once the output has drained */
};

struct worker {
	unsigned id;
	pthread_t thread;
	struct server *srv;
	int epfd;
	struct conn *conns;
	unsigned nconns;
	char *scratch;
	int up_fd;    /* kept-alive upstream connection, or -1 */
	char *up_buf; /* upstream response head */
	char *up_req; /* upstream request */
	int err;      /* why the worker stopped, 0 on a clean stop */
};

/* epoll data.ptr markers for the two non-connection fds. */
static char listen_token;
static char stop_token;

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A plain nanosleep, restarted on EINTR, so the trace shows one
 * nanosleep per injected delay. */
static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the CPU burn chain ------------------------------------------------ */

/* Spin for burn_us microseconds of this thread's CPU time.  Measuring
 * thread CPU time rather than wall time means preemption does not shorten
 * the burn: the request really costs that much CPU.  The clock is read only
 * every 8192 multiply-adds (roughly 10 us) because CLOCK_THREAD_CPUTIME_ID
 * is a real syscall, and we want the samples to land in burn_cpu, not in
 * the kernel; the burn overshoots by at most that much. */
static __thread volatile uint64_t burn_sink;

NP_NOINLINE static void burn_cpu(unsigned burn_us)
{
	uint64_t end = now_ns(CLOCK_THREAD_CPUTIME_ID) + (uint64_t)burn_us * 1000u;
	uint64_t x = burn_sink | 1;

	do {
		for (int i = 0; i < 8192; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		burn_sink = x;
	} while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end);
}

/* ---- output ------------------------------------------------------------ */

static bool conn_out_pending(const struct conn *c)
{
	return c->out_off < c->out_len || c->tail_off < c->tail_len;
}

static int out_reserve(struct conn *c, size_t more)
{
	size_t need = c->out_len + more;
	size_t cap = c->out_cap ? c->out_cap : 512;
	char *p;

	if (need <= c->out_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

static const char *status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	default:
		return "Unknown";
	}
}

/* Queue one response.  body == NULL means the synthetic pattern body;
 * otherwise body is a malloc'd buffer whose ownership passes to the
 * connection (small ones are copied next to the head and freed). */
static int queue_response(struct worker *w, struct conn *c, int status, char *body,
			  uint64_t body_len, bool send_body, bool keepalive)
{
	char head[256];
	int head_len;
	int err;

	head_len = snprintf(head, sizeof(head),
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: %" PRIu64 "\r\n"
			    "Connection: %s\r\n"
			    "\r\n",
			    status, status_reason(status), body_len,
			    keepalive ? "keep-alive" : "close");
	if (!send_body)
		body_len = 0;
	err = out_reserve(c, (size_t)head_len + (body_len <= INLINE_BODY_BYTES ? body_len : 0));
	if (err) {
		free(body);
		return err;
	}
	memcpy(c->out + c->out_len, head, (size_t)head_len);
	c->out_len += (size_t)head_len;
	if (w->srv->cfg->split_writes && !c->split_at)
		c->split_at = c->out_len;
	if (body_len <= INLINE_BODY_BYTES) {
		/* One write per response for the common small case. */
		memcpy(c->out + c->out_len, body ? body : w->srv->pattern, body_len);
		c->out_len += body_len;
		free(body);
	} else {
		c->tail_owned = body;
		c->tail_len = body_len;
		c->tail_off = 0;
	}
	if (!keepalive)
		c->close_after = true;
	return 0;
}

/* Write as much pending output as the socket takes.  Returns 0 when done
 * or when the socket is full (conn_out_pending() tells which). */
static int conn_flush(struct worker *w, struct conn *c)
{
	while (conn_out_pending(c)) {
		const char *p;
		size_t len;
		ssize_t n;

		if (c->out_off < c->out_len) {
			p = c->out + c->out_off;
			len = c->out_len - c->out_off;
			if (c->split_at > c->out_off && c->split_at < c->out_len)
				len = c->split_at - c->out_off;
		} else if (c->tail_owned) {
			p = c->tail_owned + c->tail_off;
			len = (size_t)(c->tail_len - c->tail_off);
		} else {
			size_t off = (size_t)(c->tail_off % PATTERN_BYTES);

			p = w->srv->pattern + off;
			len = PATTERN_BYTES - off;
			if (len > c->tail_len - c->tail_off)
				len = (size_t)(c->tail_len - c->tail_off);
		}
		n = write(c->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (c->out_off < c->out_len)
			c->out_off += (size_t)n;
		else
			c->tail_off += (uint64_t)n;
	}
	c->out_off = c->out_len = c->split_at = 0;
	if (c->out_cap > OUT_KEEP_BYTES) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	free(c->tail_owned);
	c->tail_owned = NULL;
	c->tail_len = c->tail_off = 0;
	return 0;
}

/* ---- request parsing ----------------------------------------------------- */

static void request_clear(struct request *req)
{
	free(req->path);
	memset(req, 0, sizeof(*req));
}

static bool is_tchar(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static bool token_eq(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

static int parse_content_length(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 18)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EBADMSG;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Connection: is a comma-separated token list; we only care about two. */
static void parse_connection(const char *p, size_t len, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		start = i;
		while (i < len && p[i] != ',')
			i++;
		end = i;
		while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (token_eq(p + start, end - start, "close"))
			*close = true;
		else if (token_eq(p + start, end - start, "keep-alive"))
			*keep = true;
	}
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};

/* Parse one request head from buf[0..len).  Returns 0 and sets *head_len,
 * -EAGAIN if the head is not complete yet, -EBADMSG if malformed,
 * -EOPNOTSUPP for Transfer-Encoding (not supported), -ENOMEM.
 * *scan_off remembers how far we already looked for the blank line so a
 * head trickling in byte by byte is not rescanned from the start. */
static int parse_request_head(const char *buf, size_t len, size_t *scan_off, bool keepalive_allowed,
			      struct request *req, size_t *head_len)
{
	const char *end, *line, *eol, *sp1, *sp2, *p;
	size_t skip = 0, from;
	bool seen_cl = false, conn_close = false, conn_keep = false, v11, known = false;
	uint64_t cl = 0;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (skip + 2 <= len && buf[skip] == '\r' && buf[skip + 1] == '\n')
		skip += 2;
	from = *scan_off > 3 ? *scan_off - 3 : 0;
	if (from < skip)
		from = skip;
	end = len - from >= 4 ? memmem(buf + from, len - from, "\r\n\r\n", 4) : NULL;
	if (!end) {
		*scan_off = len;
		return -EAGAIN;
	}
	*scan_off = 0;
	*head_len = (size_t)(end - buf) + 4;

	/* Request line: METHOD SP target SP HTTP/1.x */
	line = buf + skip;
	eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	if (!sp1)
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if ((size_t)(sp1 - line) == strlen(methods[i]) &&
		    memcmp(line, methods[i], strlen(methods[i])) == 0) {
			known = true;
			req->head = i == 1;
		}
	}
	if (!known)
		return -EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || (sp1[1] != '/' && sp1[1] != '*'))
		return -EBADMSG;
	for (p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return -EBADMSG;
	if (eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return -EBADMSG;
	v11 = sp2[8] == '1';

	/* Header fields: name ":" OWS value OWS, no folding, no control bytes. */
	for (line = eol + 2; line < end + 2; line = eol + 2) {
		const char *colon, *v, *ve;

		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line)
			return -EBADMSG;
		for (p = line; p < colon; p++)
			if (!is_tchar((unsigned char)*p))
				return -EBADMSG;
		for (p = colon + 1; p < eol; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
				return -EBADMSG;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (token_eq(line, (size_t)(colon - line), "content-length")) {
			uint64_t n;

			if (parse_content_length(v, (size_t)(ve - v), &n) < 0 ||
			    (seen_cl && n != cl))
				return -EBADMSG;
			seen_cl = true;
			cl = n;
		} else if (token_eq(line, (size_t)(colon - line), "connection")) {
			parse_connection(v, (size_t)(ve - v), &conn_close, &conn_keep);
		} else if (token_eq(line, (size_t)(colon - line), "transfer-encoding")) {
			return -EOPNOTSUPP;
		} else if (token_eq(line, (size_t)(colon - line), "expect")) {
			req->expect_continue = v11 && token_eq(v, (size_t)(ve - v), "100-continue");
		}
	}

	req->content_length = cl;
	req->keepalive = keepalive_allowed && (v11 ? !conn_close : (conn_keep && !conn_close));
	req->healthz = (size_t)(sp2 - sp1 - 1) >= 8 && memcmp(sp1 + 1, "/healthz", 8) == 0 &&
		       (sp2 == sp1 + 9 || sp1[9] == '?');
	req->path = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (!req->path)
		return -ENOMEM;
	return 0;
}

/* ---- proxy mode -------------------------------------------------------- */

static void upstream_close(struct worker *w)
{
	if (w->up_fd >= 0)
		close(w->up_fd);
	w->up_fd = -1;
}

static int upstream_connect(struct worker *w)
{
	const struct config *cfg = w->srv->cfg;
	struct timeval tv = {.tv_sec = UPSTREAM_TIMEOUT_MS / 1000,
			     .tv_usec = (UPSTREAM_TIMEOUT_MS % 1000) * 1000};
	int one = 1;
	int fd, err;

	fd = socket(cfg->up_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Blocking I/O with timeouts: the worker waits on the peer, which is
	 * the point of proxy mode, but never forever. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		err = -errno;
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&cfg->up_addr, cfg->up_addr_len) < 0) {
		err = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto fail;
	}
	w->up_fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

static int read_errno(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

/* Parse the upstream response head: status, Content-Length, Connection. */
static int parse_upstream_head(const char *buf, const char *end, int *status, uint64_t *cl,
			       bool *close)
{
	const char *line, *eol;
	bool seen_cl = false, keep = false;

	eol = memmem(buf, (size_t)(end + 2 - buf), "\r\n", 2);
	if (eol - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	*close = buf[7] == '0';
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
			if (parse_content_length(v, (size_t)(ve - v), cl) < 0)
				return -EBADMSG;
			seen_cl = true;
		} else if (token_eq(line, (size_t)(colon - line), "connection")) {
			bool c = false;

			parse_connection(v, (size_t)(ve - v), &c, &keep);
			if (c)
				*close = true;
			else if (keep)
				*close = false;
		} else if (token_eq(line, (size_t)(colon - line), "transfer-encoding")) {
			return -EOPNOTSUPP;
		}
	}
	/* We only speak Content-Length framing to the upstream. */
	return seen_cl ? 0 : -EBADMSG;
}

/* One request/response exchange on w->up_fd.  *got_any tells the caller
 * whether the upstream answered at all, so a kept-alive connection that
 * the upstream had already closed can be retried once on a fresh one. */
NP_NOINLINE static int upstream_exchange(struct worker *w, const char *path, int *status,
					 char **body_out, uint64_t *body_len, bool *got_any)
{
	const struct config *cfg = w->srv->cfg;
	size_t req_len, off = 0, have = 0;
	const char *end = NULL;
	uint64_t cl = 0, got;
	bool up_close = false;
	char *body = NULL;
	ssize_t n;
	int err;

	*got_any = false;
	req_len = (size_t)snprintf(w->up_req, HDR_MAX_BYTES + UPSTREAM_REQ_EXTRA,
				   "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: npserver\r\n\r\n",
				   path, cfg->up_host);
	while (off < req_len) {
		n = write(w->up_fd, w->up_req + off, req_len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return read_errno();
		}
		off += (size_t)n;
	}

	while (!end) {
		if (have == HDR_MAX_BYTES)
			return -EBADMSG;
		n = read(w->up_fd, w->up_buf + have, HDR_MAX_BYTES - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return read_errno();
		}
		if (n == 0)
			return -ECONNRESET;
		*got_any = true;
		have += (size_t)n;
		if (have >= 4)
			end = memmem(w->up_buf, have, "\r\n\r\n", 4);
	}
	err = parse_upstream_head(w->up_buf, end, status, &cl, &up_close);
	if (err)
		return err;
	if (cl > BODY_MAX_BYTES)
		return -EFBIG;
	body = malloc(cl ? cl : 1);
	if (!body)
		return -ENOMEM;
	got = have - (size_t)(end + 4 - w->up_buf);
	if (got > cl) {
		err = -EBADMSG; /* bytes after the response we asked for */
		goto fail;
	}
	memcpy(body, end + 4, got);
	while (got < cl) {
		n = read(w->up_fd, body + got, cl - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = read_errno();
			goto fail;
		}
		if (n == 0) {
			err = -ECONNRESET;
			goto fail;
		}
		got += (uint64_t)n;
	}
	if (up_close)
		upstream_close(w);
	*body_out = body;
	*body_len = cl;
	return 0;
fail:
	free(body);
	return err;
}

/* Fetch req->path from the upstream; on any failure the client gets 502. */
NP_NOINLINE static int proxy_request(struct worker *w, struct conn *c)
{
	char *body = NULL;
	uint64_t body_len = 0;
	int status = 0, err = 0;
	bool got_any = false;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = w->up_fd >= 0;

		if (!reused) {
			err = upstream_connect(w);
			if (err)
				break;
		}
		err = upstream_exchange(w, c->req.path, &status, &body, &body_len, &got_any);
		NP_KEEP_FRAME();
		if (!err)
			break;
		upstream_close(w);
		/* Only a silent stale keep-alive connection is worth a retry. */
		if (!reused || got_any)
			break;
	}
	if (err || status < 200 || status > 299) {
		free(body);
		return queue_response(w, c, 502, NULL, 0, true, c->req.keepalive);
	}
	return queue_response(w, c, 200, body, body_len, !c->req.head, c->req.keepalive);
}

/* ---- request handling ---------------------------------------------------- */

NP_NOINLINE static int compute_response(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->srv->cfg;
	int err;

	if (cfg->burn_us)
		burn_cpu(cfg->burn_us);
	if (cfg->upstream)
		err = proxy_request(w, c);
	else
		err = queue_response(w, c, 200, NULL, cfg->body_bytes, !c->req.head,
				     c->req.keepalive);
	NP_KEEP_FRAME();
	return err;
}

/* Called once the whole request (head and body) has been read. */
NP_NOINLINE static int handle_request(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->srv->cfg;
	char *ok;
	int err;

	if (c->req.healthz) {
		ok = strdup("ok\n");
		if (!ok)
			return -ENOMEM;
		return queue_response(w, c, 200, ok, 3, !c->req.head, c->req.keepalive);
	}
	if (cfg->delay_ms)
		sleep_ms(cfg->delay_ms);
	err = compute_response(w, c);
	NP_KEEP_FRAME();
	return err;
}

/* ---- connections --------------------------------------------------------- */

static void in_consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static int in_append(struct conn *c, const char *p, size_t n)
{
	if (c->in_cap - c->in_len < n) {
		size_t cap = c->in_cap ? c->in_cap : IN_INIT_BYTES;
		char *q;

		while (cap - c->in_len < n && cap < HDR_MAX_BYTES)
			cap *= 2;
		if (cap - c->in_len < n)
			return -ENOBUFS;
		q = realloc(c->in, cap);
		if (!q)
			return -ENOMEM;
		c->in = q;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return 0;
}

/* Queue an error answer that ends the connection. */
static int conn_reject(struct worker *w, struct conn *c, int status)
{
	char *body = NULL;
	int len = asprintf(&body, "%s\n", status_reason(status));

	if (len < 0)
		return -ENOMEM;
	return queue_response(w, c, status, body, (uint64_t)len, true, false);
}

/* Answer every complete request in the input buffer, in order, stopping
 * when the socket will not take more output (the rest is answered on
 * EPOLLOUT) or more input is needed.  A negative return closes the
 * connection; -ESHUTDOWN means "done, as announced by Connection: close". */
static int conn_process(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->srv->cfg;
	size_t head_len = 0;
	int err;

	for (;;) {
		if (conn_out_pending(c))
			return 0;
		if (c->close_after)
			return -ESHUTDOWN;
		if (c->req_pending) {
			size_t take = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;

			in_consume(c, take);
			c->body_left -= take;
			if (c->body_left)
				return 0;
			err = handle_request(w, c);
			request_clear(&c->req);
			c->req_pending = false;
		} else {
			if (c->in_len == 0) {
				/* Idle keep-alive connections hold no buffers. */
				free(c->in);
				c->in = NULL;
				c->in_cap = 0;
				return 0;
			}
			err = parse_request_head(c->in, c->in_len, &c->scan_off, cfg->keepalive,
						 &c->req, &head_len);
			if (err == 0) {
				in_consume(c, head_len);
				c->req_pending = true;
				c->body_left = c->req.content_length;
				if (!c->req.expect_continue || c->body_left == 0 || c->in_len > 0)
					continue;
				/* The client waits for this before sending the body. */
				err = out_reserve(c, sizeof(CONTINUE_RESPONSE) - 1);
				if (!err) {
					memcpy(c->out + c->out_len, CONTINUE_RESPONSE,
					       sizeof(CONTINUE_RESPONSE) - 1);
					c->out_len += sizeof(CONTINUE_RESPONSE) - 1;
				}
			} else {
				request_clear(
					&c->req); /* a failed parse may have filled some fields */
				if (err == -EAGAIN) {
					if (c->in_len < HDR_MAX_BYTES)
						return 0;
					err = conn_reject(w, c, 431);
				} else if (err == -EBADMSG) {
					err = conn_reject(w, c, 400);
				} else if (err == -EOPNOTSUPP) {
					err = conn_reject(w, c, 501);
				}
			}
		}
		if (err)
			return err;
		/* One write per response keeps the trace readable:
		 * read -> (sleep/burn) -> write, request by request. */
		err = conn_flush(w, c);
		if (err)
			return err;
	}
}

/* One read per readiness event.  While a large request body is being
 * discarded the data goes to the worker's scratch buffer, so uploads of
 * any size stream through without being buffered. */
static int conn_read(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->srv->cfg;
	ssize_t n;

	if (cfg->read_delay_ms)
		sleep_ms(cfg->read_delay_ms);
	if (c->req_pending && c->in_len == 0 && c->body_left > 0) {
		size_t take;

		n = read(c->fd, w->scratch, SCRATCH_BYTES);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
											 : -errno;
		if (n == 0)
			return -ECONNRESET;
		take = (uint64_t)n < c->body_left ? (size_t)n : (size_t)c->body_left;
		c->body_left -= take;
		return in_append(c, w->scratch + take, (size_t)n - take);
	}
	if (c->in_len == c->in_cap) {
		char *q;
		size_t cap = c->in_cap ? c->in_cap * 2 : IN_INIT_BYTES;

		if (cap > HDR_MAX_BYTES)
			return -ENOBUFS; /* cannot happen: a full head buffer is answered with 431 */
		q = realloc(c->in, cap);
		if (!q)
			return -ENOMEM;
		c->in = q;
		c->in_cap = cap;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET; /* peer is done; anything it sent was answered already */
	c->in_len += (size_t)n;
	return 0;
}

static void conn_free(struct worker *w, struct conn *c)
{
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	request_clear(&c->req);
	free(c->in);
	free(c->out);
	free(c->tail_owned);
	free(c);
}

/* Read while there is no output backlog, write while there is: a client
 * that does not read its responses stops getting its requests read,
 * which bounds what we buffer for it. */
static int conn_update_interest(struct worker *w, struct conn *c)
{
	uint32_t want = conn_out_pending(c) ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = {.events = want, .data.ptr = c};

	if (want == c->events)
		return 0;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->events = want;
	return 0;
}

static void conn_event(struct worker *w, struct conn *c, uint32_t events)
{
	int err = 0;

	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_free(w, c);
		return;
	}
	if (events & EPOLLOUT) {
		err = conn_flush(w, c);
		if (!err)
			err = conn_process(w, c);
	} else if (events & EPOLLIN) {
		err = conn_read(w, c);
		if (!err)
			err = conn_process(w, c);
	}
	if (!err)
		err = conn_update_interest(w, c);
	if (err)
		conn_free(w, c);
}

static void accept_some(struct worker *w)
{
	const struct config *cfg = w->srv->cfg;
	/* With an accept delay take one connection per wakeup, so the
	 * pattern is exactly nanosleep -> accept4 and the rest wait in the
	 * listen queue, which is the scenario being simulated. */
	unsigned batch = cfg->accept_delay_ms ? 1 : ACCEPT_BATCH;

	for (unsigned i = 0; i < batch; i++) {
		struct epoll_event ev;
		struct conn *c;
		int one = 1;
		int fd;

		if (cfg->accept_delay_ms)
			sleep_ms(cfg->accept_delay_ms);
		fd = accept4(w->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN: another worker got it; EMFILE & co: try next wakeup */
		}
		if (w->nconns >= MAX_CONNS_PER_WORKER) {
			close(fd);
			continue;
		}
		/* Responses are single small writes; Nagle would hold back the
		 * second of two pipelined answers until the first is acked. */
		if (!cfg->split_writes)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			return;
		}
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		w->nconns++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[MAX_EVENTS];
	char name[16];
	bool stop = false;

	snprintf(name, sizeof(name), "npworker-%u", w->id);
	pthread_setname_np(pthread_self(), name);
	while (!stop) {
		int n = epoll_wait(w->epfd, events, MAX_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->err = -errno;
			pthread_kill(w->srv->main_thread, SIGUSR1);
			break;
		}
		for (int i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;

			if (ptr == &stop_token)
				stop = true;
			else if (ptr == &listen_token)
				accept_some(w);
			else
				conn_event(w, ptr, events[i].events);
		}
	}
	while (w->conns)
		conn_free(w, w->conns);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->epfd >= 0)
		close(w->epfd);
	upstream_close(w);
	free(w->scratch);
	free(w->up_buf);
	free(w->up_req);
}

static int worker_init(struct worker *w, struct server *srv, unsigned id)
{
	struct epoll_event ev;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->srv = srv;
	w->up_fd = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	w->scratch = malloc(SCRATCH_BYTES);
	if (!w->scratch)
		return -ENOMEM;
	if (srv->cfg->upstream) {
		w->up_buf = malloc(HDR_MAX_BYTES);
		w->up_req = malloc(HDR_MAX_BYTES + UPSTREAM_REQ_EXTRA);
		if (!w->up_buf || !w->up_req)
			return -ENOMEM;
	}
	/* EPOLLEXCLUSIVE: one connection wakes one worker, not all of them. */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = &listen_token;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0)
		return -errno;
	/* Level-triggered and never drained, so it wakes every worker. */
	ev.events = EPOLLIN;
	ev.data.ptr = &stop_token;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->stop_fd, &ev) < 0)
		return -errno;
	return 0;
}

/* ---- setup ----------------------------------------------------------------- */

static int open_listener(const struct config *cfg, int *fd_out, unsigned *port_out)
{
	struct sockaddr_storage ss = cfg->addr;
	socklen_t len = sizeof(ss);
	int one = 1;
	int fd, err;

	fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail_errno;
	/* Set before listen() so accepted sockets inherit it and the window
	 * scale is negotiated for it. */
	if (cfg->rcvbuf_bytes > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->rcvbuf_bytes,
						sizeof(cfg->rcvbuf_bytes)) < 0)
		goto fail_errno;
	if (bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) < 0)
		goto fail_errno;
	if (listen(fd, (int)cfg->backlog) < 0)
		goto fail_errno;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail_errno;
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	return 0;
fail_errno:
	err = -errno;
	close(fd);
	return err;
}

/* Write the pid file atomically: scripts that see it see all of it. */
static int write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", (int)getpid()) < 0)
		err = -EIO;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void format_addr(const struct sockaddr_storage *ss, unsigned port, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host,
			  sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, port);
	}
}

/* Fill the synthetic body with readable text: lines of 64 bytes. */
static char *make_pattern(void)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW"
				       "XYZ.-";
	char *p = malloc(PATTERN_BYTES);

	if (!p)
		return NULL;
	for (size_t i = 0; i < PATTERN_BYTES; i++)
		p[i] = (i % 64 == 63) ? '\n' : alphabet[i % 64];
	return p;
}

static void raise_nofile_limit(void)
{
	struct rlimit rl;

	/* Best effort: the default soft limit of 1024 is below what
	 * connection-storm scenarios need. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- options ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: npserver [options]\n"
		"  --addr A             listen address, IPv4 or IPv6 literal (default 127.0.0.1)\n"
		"  --port P             listen port, 0 = ephemeral (default 8080)\n"
		"  --threads N          worker threads, each with its own epoll (default 1, max "
		"%d)\n"
		"  --delay-ms D         sleep D ms per request before responding (default 0)\n"
		"  --burn-us U          burn U us of CPU per request in burn_cpu() (default 0)\n"
		"  --backlog N          listen backlog (default 511)\n"
		"  --rcvbuf BYTES       SO_RCVBUF for accepted sockets, 0 = kernel default "
		"(default 0)\n"
		"  --keepalive on|off   keep connections open between requests (default on)\n"
		"  --body-bytes N       response body size, max 64 MiB (default 64)\n"
		"  --accept-delay-ms D  sleep D ms before each accept (default 0)\n"
		"  --read-delay-ms D    sleep D ms before each read of a connection (default 0)\n"
		"  --upstream HOST:PORT proxy mode: fetch each path from this HTTP server\n"
		"  --pidfile FILE       write the pid here once listening\n"
		"  --split-writes       write each response's head and body in two writes,\n"
		"                       without TCP_NODELAY: Nagle holds the body until\n"
		"                       the client's (delayed) ACK of the head\n"
		"  --help               show this help\n"
		"GET /healthz is always answered at once, without delay or burn.\n",
		MAX_THREADS);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, max, &v) < 0 || v < min)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Accepts "1.2.3.4", "::1" and "[::1]". */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	memset(ss, 0, sizeof(*ss));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* HOST:PORT or [V6]:PORT, resolved once at startup. */
static int parse_upstream(const char *s, struct config *cfg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char host[NI_MAXHOST];
	const char *h = s, *colon;
	bool bracket = s[0] == '[';
	size_t hlen;
	unsigned port;

	if (bracket) {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return -EINVAL; /* a bare IPv6 literal needs brackets */
	}
	if (hlen == 0 || hlen >= sizeof(host) || parse_unsigned(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -EHOSTUNREACH;
	memcpy(&cfg->up_addr, res->ai_addr, res->ai_addrlen);
	cfg->up_addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	set_port(&cfg->up_addr, port);
	snprintf(cfg->up_host, sizeof(cfg->up_host), "%s%s%s:%u", bracket ? "[" : "", host,
		 bracket ? "]" : "", port);
	cfg->upstream = s;
	return 0;
}

enum {
	OPT_ADDR = 256,
	OPT_PORT,
	OPT_THREADS,
	OPT_DELAY,
	OPT_BURN,
	OPT_BACKLOG,
	OPT_RCVBUF,
	OPT_KEEPALIVE,
	OPT_BODY,
	OPT_ACCEPT_DELAY,
	OPT_READ_DELAY,
	OPT_UPSTREAM,
	OPT_PIDFILE,
	OPT_SPLIT_WRITES,
	OPT_HELP,
};

/* Returns 0, 1 for --help, or -EINVAL after printing one line. */
static int parse_options(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{"addr", required_argument, NULL, OPT_ADDR},
		{"port", required_argument, NULL, OPT_PORT},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"delay-ms", required_argument, NULL, OPT_DELAY},
		{"burn-us", required_argument, NULL, OPT_BURN},
		{"backlog", required_argument, NULL, OPT_BACKLOG},
		{"rcvbuf", required_argument, NULL, OPT_RCVBUF},
		{"keepalive", required_argument, NULL, OPT_KEEPALIVE},
		{"body-bytes", required_argument, NULL, OPT_BODY},
		{"accept-delay-ms", required_argument, NULL, OPT_ACCEPT_DELAY},
		{"read-delay-ms", required_argument, NULL, OPT_READ_DELAY},
		{"upstream", required_argument, NULL, OPT_UPSTREAM},
		{"pidfile", required_argument, NULL, OPT_PIDFILE},
		{"split-writes", no_argument, NULL, OPT_SPLIT_WRITES},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *addr = "127.0.0.1";
	unsigned rcvbuf = 0;
	int opt, longidx = 0, err = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8080;
	cfg->threads = 1;
	cfg->backlog = 511;
	cfg->keepalive = true;
	cfg->body_bytes = 64;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, &longidx)) != -1) {
		const char *name = optind > 1 ? argv[optind - 1] : "?";

		switch (opt) {
		case OPT_ADDR:
			addr = optarg;
			break;
		case OPT_PORT:
			err = parse_unsigned(optarg, 0, 65535, &cfg->port);
			break;
		case OPT_THREADS:
			err = parse_unsigned(optarg, 1, MAX_THREADS, &cfg->threads);
			break;
		case OPT_DELAY:
			err = parse_unsigned(optarg, 0, MAX_DELAY_MS, &cfg->delay_ms);
			break;
		case OPT_BURN:
			err = parse_unsigned(optarg, 0, MAX_BURN_US, &cfg->burn_us);
			break;
		case OPT_BACKLOG:
			err = parse_unsigned(optarg, 1, 65535, &cfg->backlog);
			break;
		case OPT_RCVBUF:
			err = parse_unsigned(optarg, 0, INT_MAX / 2, &rcvbuf);
			cfg->rcvbuf_bytes = (int)rcvbuf;
			break;
		case OPT_KEEPALIVE:
			if (strcmp(optarg, "on") == 0)
				cfg->keepalive = true;
			else if (strcmp(optarg, "off") == 0)
				cfg->keepalive = false;
			else
				err = -EINVAL;
			break;
		case OPT_BODY:
			err = parse_u64(optarg, BODY_MAX_BYTES, &cfg->body_bytes);
			break;
		case OPT_ACCEPT_DELAY:
			err = parse_unsigned(optarg, 0, MAX_DELAY_MS, &cfg->accept_delay_ms);
			break;
		case OPT_READ_DELAY:
			err = parse_unsigned(optarg, 0, MAX_DELAY_MS, &cfg->read_delay_ms);
			break;
		case OPT_UPSTREAM:
			err = parse_upstream(optarg, cfg);
			if (err == -EHOSTUNREACH) {
				fprintf(stderr, "npserver: cannot resolve upstream '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_PIDFILE:
			cfg->pidfile = optarg;
			break;
		case OPT_SPLIT_WRITES:
			cfg->split_writes = true;
			break;
		case OPT_HELP:
			return 1;
		default:
			fprintf(stderr,
				"npserver: unknown option or missing value '%s' (see --help)\n",
				name);
			return -EINVAL;
		}
		if (err) {
			fprintf(stderr, "npserver: invalid value '%s' for --%s (see --help)\n",
				optarg, opts[longidx].name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npserver: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (parse_addr(addr, &cfg->addr, &cfg->addr_len) < 0) {
		fprintf(stderr, "npserver: invalid value '%s' for --addr (see --help)\n", addr);
		return -EINVAL;
	}
	set_port(&cfg->addr, cfg->port);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct server srv = {.cfg = &cfg, .listen_fd = -1, .stop_fd = -1};
	struct worker *workers = NULL;
	unsigned started = 0, port = 0;
	char where[INET6_ADDRSTRLEN + 16];
	bool pidfile_written = false;
	sigset_t sigs;
	uint64_t one = 1;
	int err, sig, ret = 1;

	err = parse_options(argc, argv, &cfg);
	if (err == 1) {
		usage(stdout);
		return 0;
	}
	if (err)
		return 2;

	raise_nofile_limit();
	signal(SIGPIPE, SIG_IGN);
	/* Workers inherit this mask; only main() takes the signals, with
	 * sigwaitinfo, so no handler ever runs on a worker mid-request. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	srv.main_thread = pthread_self();

	srv.pattern = make_pattern();
	workers = calloc(cfg.threads, sizeof(*workers));
	if (!srv.pattern || !workers) {
		fprintf(stderr, "npserver: out of memory\n");
		goto cleanup;
	}
	err = open_listener(&cfg, &srv.listen_fd, &port);
	if (err) {
		format_addr(&cfg.addr, cfg.port, where, sizeof(where));
		fprintf(stderr, "npserver: cannot listen on %s: %s\n", where, strerror(-err));
		goto cleanup;
	}
	srv.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv.stop_fd < 0) {
		fprintf(stderr, "npserver: eventfd: %s\n", strerror(errno));
		goto cleanup;
	}
	for (; started < cfg.threads; started++) {
		err = worker_init(&workers[started], &srv, started);
		if (!err)
			err = -pthread_create(&workers[started].thread, NULL, worker_main,
					      &workers[started]);
		if (err) {
			worker_free(&workers[started]);
			fprintf(stderr, "npserver: cannot start worker %u: %s\n", started,
				strerror(-err));
			goto stop;
		}
	}
	if (cfg.pidfile) {
		err = write_pidfile(cfg.pidfile);
		if (err) {
			fprintf(stderr, "npserver: cannot write %s: %s\n", cfg.pidfile,
				strerror(-err));
			goto stop;
		}
		pidfile_written = true;
	}
	format_addr(&cfg.addr, port, where, sizeof(where));
	printf("npserver: listening on %s pid %d\n", where, (int)getpid());
	fflush(stdout);

	for (;;) {
		sig = sigwaitinfo(&sigs, NULL);
		if (sig == SIGINT || sig == SIGTERM) {
			ret = 0;
			break;
		}
		if (sig == SIGUSR1) {
			/* A worker failed; its error is reported below. */
			break;
		}
	}

stop:
	if (write(srv.stop_fd, &one, sizeof(one)) < 0)
		fprintf(stderr, "npserver: cannot stop workers: %s\n", strerror(errno));
	for (unsigned i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].err) {
			fprintf(stderr, "npserver: worker %u failed: %s\n", i,
				strerror(-workers[i].err));
			ret = 1;
		}
		worker_free(&workers[i]);
	}
cleanup:
	if (pidfile_written)
		unlink(cfg.pidfile);
	if (srv.stop_fd >= 0)
		close(srv.stop_fd);
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	free(workers);
	free(srv.pattern);
	return ret;
}
