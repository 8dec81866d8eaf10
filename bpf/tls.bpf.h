/* tls.bpf.h - uprobes on the SSL calls of the target's libssl (OpenSSL):
 * they tell the exchange source (exchange.bpf.h) which socket calls carry
 * TLS, where the plaintext is, and which calls are the handshake.
 * Included by syscalls.bpf.c after exchange.bpf.h, for the thread state
 * and the maps both use.
 *
 * The loader attaches them with the uprobe's pid filter to the libssl each
 * target process maps (profiler/sources/tls.c), with --tls.  A
 * uprobe traps into the kernel at every call, which is why they do as
 * little as the thread state allows: remember the call at entry, forget it
 * at return; the socket hooks inside do the rest.  Only at SSL_read's
 * return is there anything to copy, and then only the first plaintext of
 * an exchange: the kernel cuts the label from it later (fill_label) the
 * same way as from a plain request, so the query string never leaves.
 * HTTP/2 over TLS is the exception: its plaintext exists only here, so
 * SSL_read's and SSL_write's returns ship it whole (h2.bpf.h), to the same
 * user-space parser as cleartext HTTP/2, which keeps only the labels.
 *
 * Not here: other TLS libraries (GnuTLS, BoringSSL in a static binary, Go's
 * crypto/tls), kernel TLS (its records are written by the kernel).
 */
#ifndef NP_TLS_BPF_H
#define NP_TLS_BPF_H

static __always_inline struct thread_state *ssl_thread(void)
{
	return bpf_task_storage_get(&thread_state, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline void ssl_enter(__u8 which, void *ssl, __u64 buf, __u64 len, __u64 count)
{
	struct thread_state *ts = ssl_thread();

	if (!ts)
		return;
	ts->ssl_in = which;
	ts->ssl = (__u64)ssl;
	ts->ssl_cookie = 0;
	ts->ssl_arrival_ns = 0;
	ts->ssl_entry_ns = bpf_ktime_get_ns();
	ts->ssl_buf = which == NP_SSL_WRITE ? buf : 0;
	ts->ssl_len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
	ts->ssl_rbuf = which == NP_SSL_HANDSHAKE ? 0 : buf;
	ts->ssl_readbytes = count;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_write, void *ssl, const void *buf, int num)
{
	ssl_enter(NP_SSL_WRITE, ssl, (__u64)buf, num > 0 ? num : 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_write_ex, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	ssl_enter(NP_SSL_WRITE, ssl, (__u64)buf, num, (__u64)written);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_read, void *ssl, void *buf, int num)
{
	ssl_enter(NP_SSL_READ, ssl, (__u64)buf, num > 0 ? num : 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_read_ex, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	ssl_enter(NP_SSL_READ, ssl, (__u64)buf, num, (__u64)readbytes);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_handshake, void *ssl)
{
	ssl_enter(NP_SSL_HANDSHAKE, ssl, 0, 0, 0);
	return 0;
}

/* SSL_do_handshake return: nothing to read. */
SEC("uretprobe")
int BPF_KRETPROBE(np_ssl_leave)
{
	struct thread_state *ts = current_thread();

	if (ts)
		ts->ssl_in = 0;
	return 0;
}

/* Plaintext bytes an SSL_read/SSL_write moved, by its return value: the
 * count itself, or for the _ex forms 1 and the count behind the pointer.
 * The functions return an int: -1 is 0xffffffff in the register, which
 * as a long would be a count. */
static __always_inline __u64 ssl_count(const struct thread_state *ts, long ret)
{
	int r = (int)ret;
	__u64 n = r > 0 ? (__u64)r : 0;

	if (ts->ssl_readbytes) {
		if (r != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)ts->ssl_readbytes))
			n = 0;
	}
	return n;
}

/* The connection of the SSL call: its socket call said, or, for a call
 * OpenSSL served from its buffer, the SSL* does.  0: unknown. */
static __always_inline __u64 ssl_cookie_of(const struct thread_state *ts)
{
	struct ssl_key k = {.ssl = ts->ssl, .tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
	__u64 *known;

	if (ts->ssl_cookie)
		return ts->ssl_cookie;
	known = bpf_map_lookup_elem(&ssl_conns, &k);
	return known ? *known : 0;
}

/* SSL_write and SSL_write_ex return: on HTTP/2 the plaintext written is
 * shipped; HTTP/1 took its label from the first socket write inside. */
SEC("uretprobe")
int BPF_KRETPROBE(np_ssl_write_ret, long ret)
{
	struct thread_state *ts = current_thread();
	__u64 n, cookie;

	if (!ts)
		return 0;
	if (ts->ssl_in == NP_SSL_WRITE && h2_on) {
		n = ssl_count(ts, ret);
		cookie = n ? ssl_cookie_of(ts) : 0;
		if (cookie)
			h2_tls_plain(ts, cookie, 1, n);
	}
	ts->ssl_in = 0;
	return 0;
}

/* n bytes of plaintext SSL_read returned: shipped on HTTP/2, otherwise
 * the head of its connection's exchange if the exchange has none yet. */
static __always_inline void ssl_read_plain(struct thread_state *ts, __u64 n)
{
	struct tls_head *h, blank = {};
	__u64 cookie = ssl_cookie_of(ts);

	if (!cookie || (h2_on && h2_tls_plain(ts, cookie, 0, n)))
		return;
	if (bpf_map_lookup_elem(&tls_heads, &cookie))
		return; /* the rest of the request, or a body */
	bpf_map_update_elem(&tls_heads, &cookie, &blank, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&tls_heads, &cookie);
	if (!h || !payload_on)
		return;
	if (n > NP_CONN_HEAD_BYTES)
		n = NP_CONN_HEAD_BYTES;
	if (bpf_probe_read_user(h->head, n & (2 * NP_CONN_HEAD_BYTES - 1), (void *)ts->ssl_rbuf))
		return;
	h->len = (__u8)n;
}

SEC("uretprobe")
int BPF_KRETPROBE(np_ssl_read_ret, long ret)
{
	struct thread_state *ts = current_thread();
	__u64 n;

	if (!ts || ts->ssl_in != NP_SSL_READ)
		return 0;
	n = ssl_count(ts, ret);
	if (n)
		ssl_read_plain(ts, n);
	ts->ssl_in = 0;
	return 0;
}

#endif /* NP_TLS_BPF_H */
