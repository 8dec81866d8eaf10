#!/usr/bin/env python3
"""Records NETLINK_SOCK_DIAG requests and the kernel's replies for the unit
tests (tests/fixtures/sockdiag/, tests/unit/test_sockreq.c).

On 127.0.0.1 only: a listener with a backlog of 4 and three connections it
does not accept, and one accepted connection whose receiver does not read.
The accepted socket is asked about exactly (as sockdiag.c asks: one
SOCK_DIAG_BY_FAMILY request without NLM_F_DUMP, tcp_info and memory info)
at three polls: after 3000 bytes arrived, after 7000 more, and after the
receiver read everything.  The listeners are dumped once (LISTEN state only), filtered in the kernel
by the bytecode of "local port == the listener's or remote port == 9".

usage: capture_sockdiag.py OUTDIR          (as root, or any user: sock_diag
                                            answers about one's own sockets)
"""
import os
import platform
import socket
import struct
import sys
import time

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
INET_DIAG_INFO, INET_DIAG_SKMEMINFO = 2, 7
STATES_WANTED = sum(1 << s for s in (1, 2, 4, 5, 7, 8, 9, 10, 11))
NOCOOKIE = 0xFFFFFFFF


def bytecode(sports, dports):
    """iproute2 ss's port filter, as sockdiag.c builds it: per port an
    S_EQ/D_EQ condition (yes: next op, no: skip the jump), then a jump to
    the end (accept) after each but the last."""
    ports = [(11, p) for p in sports] + [(12, p) for p in dports]
    total = 12 * (len(ports) - 1) + 8
    out = b""
    for i, (code, port) in enumerate(ports):
        out += struct.pack("=BBH", code, 8, 12) + struct.pack("=BBH", 0, 0, port)
        if i + 1 < len(ports):
            out += struct.pack("=BBH", 1, 4, total - len(out))
    return out


def request(seq, lport, rport, laddr, raddr, states, flags, bc=b""):
    ext = (1 << (INET_DIAG_SKMEMINFO - 1)) | (1 << (INET_DIAG_INFO - 1))
    body = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, ext, 0, states)
    body += struct.pack(">HH", lport, rport)
    body += socket.inet_aton(laddr) + bytes(12) + socket.inet_aton(raddr) + bytes(12)
    body += struct.pack("=III", 0, NOCOOKIE, NOCOOKIE)
    if bc:  # INET_DIAG_REQ_BYTECODE
        body += struct.pack("=HH", 4 + len(bc), 1) + bc + bytes(-len(bc) % 4)
    return struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, flags, seq, 0) + body


def ask(nl, req, dump):
    nl.send(req)
    out = b""
    while True:
        chunk = nl.recv(65536)
        out += chunk
        if not dump:
            return out
        # a dump ends with NLMSG_DONE (type 3)
        off = 0
        done = False
        while off + 16 <= len(chunk):
            ln, typ = struct.unpack_from("=IH", chunk, off)
            done |= typ == 3
            off += (ln + 3) & ~3
        if done:
            return out


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    lport = lst.getsockname()[1]
    cli = socket.create_connection(("127.0.0.1", lport))
    srv, _ = lst.accept()
    waiting = [socket.create_connection(("127.0.0.1", lport)) for _ in range(3)]
    cport = cli.getsockname()[1]
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    meta = {
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "listen_port": lport,
        "listen_inode": os.fstat(lst.fileno()).st_ino,
        "listen_backlog": 4,
        "accept_queue": len(waiting),
        "local_port": lport,
        "remote_port": cport,
        "inode": os.fstat(srv.fileno()).st_ino,
    }
    req = request(1, lport, cport, "127.0.0.1", "127.0.0.1", STATES_WANTED, NLM_F_REQUEST)
    open(os.path.join(outdir, "exact_request.bin"), "wb").write(req)
    sent = 0
    for poll, nbytes in enumerate((3000, 7000, 0), 1):
        if nbytes:
            cli.sendall(b"x" * nbytes)
            sent += nbytes
        else:
            got = 0
            while got < sent:
                got += len(srv.recv(65536))
        time.sleep(0.05)
        reply = ask(nl, req, False)
        open(os.path.join(outdir, f"exact_reply_{poll}.bin"), "wb").write(reply)
        meta[f"recv_q_{poll}"] = sent if nbytes else 0
    dump = request(2, 0, 0, "0.0.0.0", "0.0.0.0", 1 << 10, NLM_F_REQUEST | NLM_F_DUMP,
                   bytecode([lport], [9]))
    open(os.path.join(outdir, "listen_request.bin"), "wb").write(dump)
    open(os.path.join(outdir, "listen_dump.bin"), "wb").write(ask(nl, dump, True))
    with open(os.path.join(outdir, "capture.txt"), "w") as f:
        for k, v in meta.items():
            f.write(f"{k}={v}\n")
    for s in waiting + [cli, srv, lst, nl]:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/sockdiag")
