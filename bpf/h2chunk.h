/* h2chunk.h - one socket call of an HTTP/2 connection, as the kernel side
 * (bpf/h2.bpf.h) ships it to user space (profiler/sources/exchanges.c),
 * where profiler/proto/h2conn.c parses it.  A record is this header
 * followed by `kept` bytes of the call's buffer.  Kernel to user space
 * only: never in a recording (the streams parsed from it are).
 */
#ifndef NP_H2CHUNK_H
#define NP_H2CHUNK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Most bytes kept of one call: nginx writes ~32 KiB (four DATA frames)
 * per writev, and a cut inside a frame header desynchronizes the parser. */
#define NP_H2_SHIP_MAX (64u * 1024)

/* np_h2_rec.kind */
#define NP_H2REC_BYTES 0 /* a read or a write */
#define NP_H2REC_CLOSE 1 /* the connection ended: user space frees it */

/* np_h2_rec.flags */
#define NP_H2REC_F_TLS 0x01 /* plaintext of a TLS connection (SSL uprobes) */

struct np_h2_rec {
	__u64 cookie;
	__u64 call_start_ns, call_end_ns;
	__u64 arrival_ns; /* reads: first data arrival behind the read, or 0 */
	__u64 offset;     /* of the call's first byte in its direction */
	__u32 len;        /* bytes the call moved */
	__u32 kept;       /* of them, the first `kept` follow this header */
	__u8 dir;         /* enum np_h2_dir (0 read, 1 write) */
	__u8 kind;        /* NP_H2REC_* */
	__u8 role;        /* NP_ROLE_* */
	__u8 flags;       /* NP_H2REC_F_* */
	__u32 tid;        /* the thread of the call */
	/* the connection's endpoints, so that its streams show them */
	__u8 family;
	__u8 pad;
	__u16 lport, rport; /* host order */
	__u8 pad2[2];
	__u8 laddr[16], raddr[16];
	/* TLS: the handshake, on the connection's first record after it */
	__u64 tls_ns;
};

#endif /* NP_H2CHUNK_H */
