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

static __always_inline void ssl_enter(__u8 which, void *ssl, __u64 buf, __u64 len, __u64 readbytes)
{
	struct thread_state *ts = ssl_thread();

	if (!ts)
		return;
	ts->ssl_in = which;
	ts->ssl = (__u64)ssl;
	ts->ssl_cookie = 0;
	ts->ssl_entry_ns = bpf_ktime_get_ns();
	ts->ssl_buf = which == NP_SSL_WRITE ? buf : 0;
	ts->ssl_len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
	ts->ssl_rbuf = which == NP_SSL_READ ? buf : 0;
	ts->ssl_readbytes = readbytes;
}

SEC("uprobe")
int BPF_KPROBE(np_ssl_write, void *ssl, const void *buf, int num)
{
	ssl_enter(NP_SSL_WRITE, ssl, (__u64)buf, num > 0 ? num : 0, 0);
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

/* SSL_write, SSL_write_ex and SSL_do_handshake return: nothing to read. */
SEC("uretprobe")
int BPF_KRETPROBE(np_ssl_leave)
{
	struct thread_state *ts = current_thread();

	if (ts)
		ts->ssl_in = 0;
	return 0;
}

/* The plaintext SSL_read returned becomes the head of its connection's
 * exchange if the exchange has none yet. */
SEC("uretprobe")
int BPF_KRETPROBE(np_ssl_read_ret, long ret)
{
	struct thread_state *ts = current_thread();
	struct tls_head *h, blank = {};
	__u64 cookie, n = ret > 0 ? (__u64)ret : 0;

	if (!ts || ts->ssl_in != NP_SSL_READ)
		return 0;
	ts->ssl_in = 0;
	if (ts->ssl_readbytes) {
		/* SSL_read_ex: 1 and *readbytes, or 0 */
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)ts->ssl_readbytes))
			n = 0;
	}
	if (!n)
		return 0;
	cookie = ts->ssl_cookie;
	if (!cookie) {
		/* Served from OpenSSL's buffer: no socket call said which. */
		struct ssl_key k = {.ssl = ts->ssl,
				    .tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
		__u64 *known = bpf_map_lookup_elem(&ssl_conns, &k);

		if (!known)
			return 0;
		cookie = *known;
	}
	if (bpf_map_lookup_elem(&tls_heads, &cookie))
		return 0; /* the rest of the request, or a body */
	bpf_map_update_elem(&tls_heads, &cookie, &blank, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&tls_heads, &cookie);
	if (!h || !payload_on)
		return 0;
	if (n > NP_CONN_HEAD_BYTES)
		n = NP_CONN_HEAD_BYTES;
	if (bpf_probe_read_user(h->head, n & (2 * NP_CONN_HEAD_BYTES - 1), (void *)ts->ssl_rbuf))
		return 0;
	h->len = (__u8)n;
	return 0;
}

#endif /* NP_TLS_BPF_H */
