"""HTTP/2 over cleartext (h2c): the kernel ships the calls of a connection
that starts with the preface (bpf/h2.bpf.h), user space times its streams
(profiler/proto/h2conn.c, profiler/sources/exchanges.c).

nginx with an h2c listener (examples/tls/nginx-tls.sh) under h2load with M
streams per connection: one exchange per stream, counted exactly, labelled
from the decoded header block, with its status and the concurrency; the
secret in the query string and in a header appears nowhere.  The same over
TLS (ALPN h2) with --tls, where the SSL uprobes ship the plaintext.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import NginxTls, Recording, TOP, free_port, report

SECRET = "hunter2secret"


def no_secret(nprof):
    """Neither the recording nor any report format holds the secret or a
    query string."""
    with open(nprof, "rb") as f:
        raw = f.read()
    assert SECRET.encode() not in raw and b"token=" not in raw
    for fmt in ("json", "text", "html", "perfetto", "otlp", "folded"):
        out = report(nprof, fmt)
        text = out if isinstance(out, str) else repr(out)
        assert SECRET not in text and "token=" not in text, fmt


def h2load(port, n, c, m, path="/index.html", scheme="http"):
    r = subprocess.run(["h2load", "-n", str(n), "-c", str(c), "-m", str(m),
                        f"{scheme}://127.0.0.1:{port}{path}?token={SECRET}",
                        "-H", f"authorization: Bearer {SECRET}"],
                       capture_output=True, text=True, timeout=120)
    m_ok = re.search(r"(\d+) succeeded", r.stdout)
    assert r.returncode == 0 and m_ok, r.stdout + r.stderr
    # HTTP/2 (h2c with prior knowledge, or h2 by ALPN), not an HTTP/1.1 fallback
    proto = "h2c" if scheme == "http" else "Application protocol: h2"
    assert proto in r.stdout, r.stdout
    return int(m_ok.group(1))


def close(a, b):
    return abs(a - b) <= max(1, 0.01 * b)


@pytest.mark.parametrize("path,n,c,m", [("/index.html", 20000, 4, 16), ("/big", 400, 2, 4)])
def test_nginx_h2c_streams(tmp_path, path, n, c, m):
    ng = NginxTls(h2c=True)
    try:
        nprof = str(tmp_path / "h2.nprof")
        rec = Recording(str(ng.proc.pid), nprof, 8, "-F", "0", "--sample", "8")
        ng.clear_log()
        ok = h2load(ng.h2c_port, n, c, m, path)
        rc, err = rec.wait()
        assert rc == 0, err
        served = ng.access_log()
        assert ok == n and len(served) == n, (ok, len(served))
        assert all(line.startswith("200 ") and line.endswith("HTTP/2.0") for line in served)
        rep = report(nprof)
        x = rep["exchanges"]
        # every stream is one exchange, each once
        assert close(x["count"], ok), (x["count"], ok)
        assert x["unanswered"] <= 1, x["unanswered"]
        h2 = x["http2"]
        assert h2["connections"] == c, h2
        assert close(h2["streams"], ok), h2
        # h2load keeps M streams open per connection: nginx sees them at once
        assert h2["max_concurrent"] == m, h2
        assert 1 <= h2["mean_concurrent"] <= m, h2
        rows = x["slowest"]
        assert rows
        for r in rows:
            assert r["protocol"] == "http2", r
            assert r["label"] == f"GET {path}" and r["status"] == 200, r
            assert 1 <= r["streams_open"] <= m and r["stream_id"] % 2 == 1, r
            assert r["comm"] == "nginx" and r["local"].endswith(f":{ng.h2c_port}"), r
        if path == "/big":
            # 256 KiB per response, written 32 KiB per writev of 8 iovecs
            assert x["bytes_out"] >= n * 262144, x["bytes_out"]
        # neither the query string nor the authorization header left netprof
        no_secret(nprof)
        text = report(nprof, "text")
        assert re.search(r"^\s+http2\s+\d+ streams on %d connections" % c, text, re.M), text
    finally:
        ng.stop()


def source(rep, name):
    return next(s for s in rep["sources"] if s["name"] == name)


@pytest.mark.parametrize("path,n,c,m", [("/index.html", 20000, 4, 16), ("/big", 400, 2, 4)])
def test_nginx_h2_over_tls_streams(tmp_path, path, n, c, m):
    """h2load over https (ALPN h2) with --tls: parsed exactly like h2c, and
    each connection's handshake is charged to its first stream."""
    ng = NginxTls(h2c=True)
    try:
        nprof = str(tmp_path / "h2tls.nprof")
        rec = Recording(str(ng.proc.pid), nprof, 8, "-F", "0", "--sample", "8", "--tls")
        ng.clear_log()
        ok = h2load(ng.https_port, n, c, m, path, scheme="https")
        rc, err = rec.wait()
        assert rc == 0, err
        served = ng.access_log()
        assert ok == n and len(served) == n, (ok, len(served))
        assert all(line.startswith("200 ") and " TLSv1." in line and line.endswith("HTTP/2.0")
                   for line in served), served[:3]
        rep = report(nprof)
        assert source(rep, "tls")["status"] == "ok", source(rep, "tls")
        x = rep["exchanges"]
        # every stream one exchange, and no HTTP/1 exchange of the ciphertext
        assert close(x["count"], ok), (x["count"], ok)
        assert x["unanswered"] <= 1, x["unanswered"]
        h2 = x["http2"]
        assert h2["connections"] == c, h2
        assert close(h2["streams"], ok), h2
        assert h2["max_concurrent"] == m, h2
        assert 1 <= h2["mean_concurrent"] <= m, h2
        # one handshake per connection, on its first stream
        assert x["tls_known"] == c, x
        assert 0 < x["tls_ns"] < x["total_ns"], x
        rows = x["slowest"]
        assert rows
        for r in rows:
            assert r["protocol"] == "http2" and r["tls"] is True, r
            assert r["label"] == f"GET {path}" and r["status"] == 200, r
            assert 1 <= r["streams_open"] <= m and r["stream_id"] % 2 == 1, r
            assert r["comm"] == "nginx" and r["local"].endswith(f":{ng.https_port}"), r
            parts = r["tls_ns"] + (r["queued_ns"] or 0) + r["app_ns"]
            assert parts == r["total_ns"], r
        if path == "/big":
            assert x["bytes_out"] >= n * 262144, x["bytes_out"]
        no_secret(nprof)
        text = report(nprof, "text")
        assert re.search(r"^\s+http2\s+\d+ streams on %d connections" % c, text, re.M), text
        assert re.search(r"^\s+tls\s", text, re.M), text
    finally:
        ng.stop()


def test_h2_over_tls_without_tls_option(tmp_path):
    """Without --tls the same run sees only ciphertext: no crash, nothing
    labelled or taken for HTTP/2, and no plaintext anywhere."""
    ng = NginxTls(h2c=True)
    try:
        nprof = str(tmp_path / "h2notls.nprof")
        rec = Recording(str(ng.proc.pid), nprof, 6, "-F", "0", "--sample", "8")
        ok = h2load(ng.https_port, 4000, 4, 16, scheme="https")
        rc, err = rec.wait()
        assert rc == 0, err
        assert ok == 4000
        rep = report(nprof)
        assert source(rep, "tls")["status"] == "unavailable", source(rep, "tls")
        x = rep["exchanges"]
        assert "http2" not in x and "tls_known" not in x, x.keys()
        # the read/write turns of the ciphertext, unlabelled: far fewer
        # than the streams, since many share a read
        assert 0 < x["count"] < ok, x["count"]
        for r in x["slowest"]:
            assert r["label"] is None and "protocol" not in r and "tls" not in r, r
        no_secret(nprof)
    finally:
        ng.stop()


def test_h2c_without_payload(tmp_path):
    """--no-payload: no byte is read, so HTTP/2 is not followed at all."""
    ng = NginxTls(h2c=True)
    try:
        nprof = str(tmp_path / "nopayload.nprof")
        rec = Recording(str(ng.proc.pid), nprof, 4, "-F", "0", "--no-payload")
        h2load(ng.h2c_port, 500, 2, 4)
        rc, err = rec.wait()
        assert rc == 0, err
        x = report(nprof)["exchanges"]
        assert "http2" not in x
        assert all(r["label"] is None and "protocol" not in r for r in x["slowest"])
    finally:
        ng.stop()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_h2c_client_outbound(tmp_path, scheme):
    """The target is the client (h2load): its streams are outbound exchanges.

    h2load in rate mode opens 2 connections a second, so most of them start
    after netprof attached (a connection's preface must be seen); each
    carries N/C requests.  Over https (--tls) the preface is in SSL_write's
    plaintext."""
    ng = NginxTls(h2c=True)
    try:
        n, c, m = 6000, 12, 4
        port, tls = (ng.h2c_port, []) if scheme == "http" else (ng.https_port, ["--tls"])
        # the URI from a file: the recording keeps the target's command line
        uris = tmp_path / "uris"
        uris.write_text(f"{scheme}://127.0.0.1:{port}/index.html?token={SECRET}\n")
        client = subprocess.Popen(["h2load", "-n", str(n), "-c", str(c), "-m", str(m), "-r", "2",
                                   "-i", str(uris)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        nprof = str(tmp_path / "client.nprof")
        rec = Recording(str(client.pid), nprof, 30, "-F", "0", *tls)
        out = client.communicate(timeout=60)[0]
        rc, err = rec.wait()
        assert rc == 0, err
        assert f"{n} succeeded" in out, out
        x = report(nprof)["exchanges"]
        h2 = x["http2"]
        # whole connections only, each with its n / c streams
        # connections opened and done before netprof attached are not seen
        # (attaching takes seconds on a loaded machine)
        assert 1 <= h2["connections"] <= c, h2
        # one opened before netprof attached carries frames whose header
        # blocks cannot be decoded: counted as joined, never as exchanges
        assert h2["connections"] + h2["joined_connections"] <= c, h2
        assert h2["streams"] == h2["connections"] * (n // c), h2
        if tls:
            # A connection whose handshake came between the socket hooks'
            # attach and the uprobes' is not followed as HTTP/2 (its first
            # plaintext was not seen): its ciphertext turns count as
            # unlabelled HTTP/1 exchanges, as for any such TLS connection.
            assert x["outbound_count"] >= h2["streams"], (x, h2)
        else:
            assert x["outbound_count"] == h2["streams"], (x, h2)
        assert x["count"] == 0 and x["unanswered"] == 0, x
        assert h2["max_concurrent"] == m, h2
        rows = [r for r in x["slowest_outbound"] if r["label"] is not None]
        assert rows
        for r in x["slowest_outbound"]:
            assert r["label"] is not None or tls, r
        for r in rows:
            assert r["protocol"] == "http2", r
            assert r["label"] == "GET /index.html" and r["status"] == 200, r
            assert r["peer"].endswith(f":{port}"), r
            assert r.get("tls", False) is bool(tls), r
        no_secret(nprof)
    finally:
        ng.stop()


def test_h2c_joined_connections(tmp_path):
    """Connections the client opened before netprof attached: their header
    blocks depend on ones sent earlier (HPACK), so they are counted as
    joined mid-stream and none of their frames becomes an exchange (before,
    the HTTP/1 state machine made exchanges of them: served, then outbound
    ones with garbage labels)."""
    ng = NginxTls(h2c=True)
    try:
        client = subprocess.Popen(["h2load", "-c", "2", "-m", "1", "--rps", "200", "-D", "12",
                                   f"http://127.0.0.1:{ng.h2c_port}/index.html"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1)  # both connections open and busy before attaching
        nprof = str(tmp_path / "joined.nprof")
        rec = Recording(str(client.pid), nprof, 2, "-F", "0")
        rc, err = rec.wait()
        out = client.communicate(timeout=60)[0]
        assert rc == 0, err
        assert re.search(r"requests: \d+ total, \d+ started, (\d+) done, \1 succeeded", out), out
        x = report(nprof)["exchanges"]
        assert x["http2"]["joined_connections"] == 2, x["http2"]
        assert x["http2"]["connections"] == 0 and x["http2"]["streams"] == 0, x["http2"]
        assert x["count"] == 0 and x["outbound_count"] == 0, (x["count"], x["outbound_count"])
        text = report(nprof, "text")
        assert "2 connection(s) opened before recording carried HTTP/2" in text, text
    finally:
        ng.stop()


GRPC = os.path.join(TOP, "examples", "grpc", "npgrpc.py")


def test_grpc_service(tmp_path):
    """A gRPC service (Debian's python3-grpcio, h2c): one exchange per call,
    labelled as gRPC with its method; the server answers with sendmsg of 12
    iovecs (headers, message, trailers), all of which must be read."""
    py = "/usr/bin/python3"
    if subprocess.run([py, "-c", "import grpc"], capture_output=True).returncode:
        pytest.fail("python3-grpcio is needed (tools/install-deps.sh)")
    port = free_port()
    server = subprocess.Popen([py, GRPC, "serve", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        nprof = str(tmp_path / "grpc.nprof")
        rec = Recording(str(server.pid), nprof, 6, "-F", "0", "--sample", "4")
        n, conc = 400, 4
        out = subprocess.run([py, GRPC, "call", str(port), str(n), str(conc)],
                             env={**os.environ, "NPGRPC_SECRET": SECRET},
                             capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == f"{n} ok", out.stdout + out.stderr
        rc, err = rec.wait()
        assert rc == 0, err
        x = report(nprof)["exchanges"]
        assert close(x["count"], n), x["count"]
        h2 = x["http2"]
        assert h2["connections"] == 1 and close(h2["streams"], n), h2
        assert 2 <= h2["max_concurrent"] <= conc, h2
        rows = x["slowest"]
        assert rows
        for r in rows:
            assert r["protocol"] == "grpc", r
            assert r["label"] == "POST /netprof.Echo/Say" and r["status"] == 200, r
        # the metadata (HEADERS) and the message (DATA) both held the secret
        with open(nprof, "rb") as f:
            assert SECRET.encode() not in f.read()
        for fmt in ("json", "text", "otlp"):
            out = report(nprof, fmt)
            assert SECRET not in (out if isinstance(out, str) else repr(out)), fmt
    finally:
        server.terminate()
        server.wait(timeout=10)
