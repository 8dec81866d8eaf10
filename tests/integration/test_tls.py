"""TLS: the uprobes on the target's libssl (bpf/tls.bpf.h, profiler/sources/tls.c).

nginx with `ssl` (examples/tls/nginx-tls.sh) under wrk over https: the
exchanges carry their labels and statuses from the plaintext, their counts
match nginx's access log, the handshakes are timed as their own component,
and a secret in the query string appears nowhere.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import NginxTls, Recording, report

SECRET = "hunter2secret"


def wrk(port, secs, *extra):
    r = subprocess.run(["wrk", "-t2", "-c8", f"-d{secs}s", *extra,
                        f"https://127.0.0.1:{port}/index.html?token={SECRET}"],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"(\d+) requests in", r.stdout)
    assert m and "Non-2xx" not in r.stdout, r.stdout + r.stderr
    return int(m.group(1))


def source(rep, name):
    return next(s for s in rep["sources"] if s["name"] == name)


def test_nginx_https_labels_counts_handshakes(tmp_path):
    ng = NginxTls(workers=2, tool="wrk")
    try:
        path = str(tmp_path / "tls.nprof")
        rec = Recording(str(ng.proc.pid), path, 8, "-F", "0", "--sample", "8", "--tls")
        ng.clear_log()
        wrk(ng.https_port, 2)  # keep-alive: 8 handshakes
        # a new connection, so a handshake, per request
        closed = wrk(ng.https_port, 2, "-H", "Connection: close")
        rc, err = rec.wait()
        assert rc == 0, err
        served = ng.access_log()
        assert served and all(line.startswith("200 ") for line in served), served[:3]
        rep = report(path)
        assert source(rep, "tls")["status"] == "ok", source(rep, "tls")
        x = rep["exchanges"]
        # every request nginx logged, each once
        assert abs(x["count"] - len(served)) <= max(2, 0.01 * len(served)), \
            (x["count"], len(served))
        # a close_notify read is no request
        assert x["unanswered"] <= 8, x["unanswered"]
        # one handshake per connection: 8 kept alive, one per closed request
        assert abs(x["tls_known"] - (8 + closed)) <= max(8, 0.01 * closed), \
            (x["tls_known"], closed)
        assert 0 < x["tls_ns"] < x["total_ns"]
        rows = x["slowest"]
        assert rows
        for r in rows:
            assert r["tls"] is True, r
            assert r["label"] == "GET /index.html" and r["status"] == 200, r
            assert r["tls_ns"] <= r["total_ns"], r
        with_hs = [r for r in rows if r["tls_ns"]]
        assert with_hs, "no slow exchange carried a handshake"
        for r in with_hs:
            parts = r["tls_ns"] + (r["queued_ns"] or 0) + r["app_ns"] + (r["tx_ns"] or 0)
            assert parts == r["total_ns"], r
        # the query string never left the kernel
        with open(path, "rb") as f:
            raw = f.read()
        assert SECRET.encode() not in raw and b"token=" not in raw
        for fmt in ("json", "text", "html", "perfetto", "otlp"):
            out = report(path, fmt)
            text = out if isinstance(out, str) else repr(out)
            assert SECRET not in text and "token=" not in text, fmt
        text = report(path, "text")
        assert re.search(r"^\s+tls\s", text, re.M), text
        otlp = report(path, "otlp")
        assert '"netprof.tls"' in otlp and '"netprof.tls_ns"' in otlp
    finally:
        ng.stop()


def test_no_tls_and_no_payload(tmp_path):
    ng = NginxTls(workers=1, tool="wrk")
    try:
        for opts in (["--tls", "--no-tls"], ["--tls", "--no-payload"]):
            opt = opts[-1]
            path = str(tmp_path / f"{opt}.nprof")
            rec = Recording(str(ng.proc.pid), path, 4, "-F", "0", *opts)
            ng.clear_log()
            wrk(ng.https_port, 1, "-H", "Connection: close")
            rc, err = rec.wait()
            assert rc == 0, err
            served = len(ng.access_log())
            rep = report(path)
            x = rep["exchanges"]
            rows = x["slowest"]
            assert all(r["label"] is None for r in rows), rows[:2]
            if opt == "--no-tls":
                assert source(rep, "tls")["status"] == "unavailable"
                assert "--tls turns it on" in source(rep, "tls")["detail"]
                assert "tls_known" not in x and all("tls" not in r for r in rows)
            else:
                # timing and handshakes, without a byte of plaintext
                assert source(rep, "tls")["status"] == "ok"
                assert abs(x["count"] - served) <= max(2, 0.01 * served), (x["count"], served)
                assert abs(x["tls_known"] - served) <= max(8, 0.01 * served)
    finally:
        ng.stop()


STATIC_TLS = r"""
#include <openssl/ssl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	/* OpenSSL linked in: SSL_read is in this executable, no libssl mapped */
	printf("%p\n", (void *)SSL_read);
	fflush(stdout);
	pause();
	return 0;
}
"""


def test_static_tls_library_is_degraded(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    lib = "/usr/lib/x86_64-linux-gnu"
    if not cc or not os.path.exists(f"{lib}/libssl.a"):
        pytest.fail("needs cc and libssl-dev (libssl.a)")
    src = tmp_path / "static_tls.c"
    src.write_text(STATIC_TLS)
    exe = str(tmp_path / "static_tls")
    subprocess.run([cc, "-o", exe, str(src), f"{lib}/libssl.a", f"{lib}/libcrypto.a",
                    "-lpthread", "-ldl"], check=True, capture_output=True)
    p = subprocess.Popen([exe], stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        path = str(tmp_path / "static.nprof")
        rec = Recording(str(p.pid), path, 1, "-F", "0", "--tls")
        rc, err = rec.wait()
        assert rc == 0, err
        tls = source(report(path), "tls")
        assert tls["status"] == "degraded", tls
        assert "statically linked" in tls["detail"] and f"{p.pid} (static_tls)" in tls["detail"]
    finally:
        p.kill()
        p.wait()


RAW_SERVER = r"""
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(4096)  # a ClientHello, read by no TLS library
    c.close()
"""


def test_tls_outside_any_traced_library_is_degraded(tmp_path):
    # a server that reads TLS bytes itself: no libssl mapped, no SSL call
    srv = subprocess.Popen(["python3", "-c", RAW_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        maps = open(f"/proc/{srv.pid}/maps").read()
        assert "libssl" not in maps
        path = str(tmp_path / "raw.nprof")
        rec = Recording(str(srv.pid), path, 3, "-F", "0", "--tls")
        for _ in range(3):
            subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        rc, err = rec.wait()
        assert rc == 0, err
        tls = source(report(path), "tls")
        assert tls["status"] == "degraded", tls
        assert tls["detail"].startswith("3 connections began a TLS handshake outside"), tls
    finally:
        srv.kill()
        srv.wait()
