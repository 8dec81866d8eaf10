"""Upstream protocols on real software: a service (examples/upstream/
npdbclient.py) calling a real redis-server and a real PostgreSQL 15.

Asserted: the outbound groups carry the Redis command / first SQL keyword
with counts within 1% of what the client did (every exchange is recorded:
--sample 1), a forced slow command (DEBUG SLEEP 0.03) makes peer.slow the
verdict with the evidence naming it and its p99, and the secret the client
put in keys, values, literals and parameters appears in neither the
recording's bytes nor any report format."""
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import LineReader, NETPROF, Recording, TOP, free_port, report

CLIENT = os.path.join(TOP, "examples", "upstream", "npdbclient.py")
SECRET = "hunter2secret"
FORMATS = ("text", "json", "html", "perfetto", "folded", "pprof", "otlp")
PG_BIN = "/usr/lib/postgresql/15/bin"


def wait_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_port():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--daemonize", "no",
                             "--enable-debug-command", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    yield port
    stop(proc)


@pytest.fixture
def postgres_port():
    if not os.access(os.path.join(PG_BIN, "postgres"), os.X_OK):
        pytest.fail("postgresql-15 is not installed")
    top = tempfile.mkdtemp(prefix="netprof-pg-", dir="/tmp")
    shutil.chown(top, "postgres", "postgres")
    data = os.path.join(top, "data")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [os.path.join(PG_BIN, "initdb"), "-D", data, "-A", "trust",
                            "-U", "postgres"], check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen(as_pg + [os.path.join(PG_BIN, "postgres"), "-D", data,
                                     "-p", str(port), "-k", top,
                                     "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=60)
        yield port
    finally:
        stop(proc)
        shutil.rmtree(top, ignore_errors=True)


def run_client(tmp_path, args):
    """Starts the client, records it with every exchange kept, lets it run
    its workload, and returns (what it did, recording path)."""
    proc = subprocess.Popen(["python3", CLIENT, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = LineReader(proc.stdout)
    pid = int(out.wait_for(r"ready pid (\d+)").group(1))
    path = str(tmp_path / "up.nprof")
    try:
        rec = Recording(pid, path, 60, "--sample", "1")
        proc.stdin.write((SECRET + "\n").encode())
        proc.stdin.flush()
        done = json.loads(out.wait_for(r"^\{.*\}$", timeout=60).group(0))
        assert proc.wait(timeout=30) == 0, out.text()
        rc, err = rec.wait()
        assert rc == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
    return done, path


def groups(rep):
    return {g["label"]: g for g in rep["exchanges"]["outbound_groups"]}


def assert_count(got, want, what):
    assert abs(got - want) <= max(1, want * 0.01), f"{what}: {got} recorded, {want} made"


def assert_secret_nowhere(path):
    with open(path, "rb") as f:
        data = f.read()
    assert SECRET.encode() not in data.lower(), "the secret is in the recording"
    for fmt in FORMATS:
        r = subprocess.run([NETPROF, "report", path, "--format", fmt], capture_output=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        body = r.stdout
        if fmt == "pprof":
            body = gzip.decompress(body)
        assert SECRET.encode() not in body.lower(), f"the secret is in --format {fmt}"


def test_redis_commands_are_labelled_and_the_slow_one_is_named(tmp_path, redis_port):
    done, path = run_client(tmp_path, ["redis", str(redis_port), "400", "100"])
    rep = report(path)
    x = rep["exchanges"]
    assert x["lost_events"] == 0
    g = groups(rep)
    peer = f"127.0.0.1:{redis_port}"
    for cmd, n in done.items():
        grp = g.get(f"redis {cmd}")
        assert grp, f"no group for redis {cmd}: {sorted(g, key=str)}"
        assert grp["peer"] == peer and grp["protocol"] == "redis"
        assert_count(grp["count"], n, cmd)
    # DEBUG SLEEP 0.03: the slowest operation, about 30 ms
    slow = x["outbound_groups"][0]
    assert slow["label"] == "redis DEBUG", x["outbound_groups"]
    assert 29e6 <= slow["p99_ns"] <= 200e6, slow
    assert g["redis GET"]["p99_ns"] < 10e6
    row = next(r for r in x["slowest_outbound"] if r["label"] == "redis DEBUG")
    assert row["protocol"] == "redis" and row["method"] == "DEBUG" and row["path"] == ""
    # the verdict: peer.slow, naming the command and its p99
    v = rep["verdict"]
    assert v and v["cause"] == "peer.slow", v
    assert f"redis DEBUG p99 {slow['p99_ns'] / 1e6:.0f} ms at {peer}" in v["summary"], v
    f = next(f for f in rep["findings"] if f["cause"] == "peer.slow")
    ev = [e for e in f["evidence"] if e["metric"] == "slowest_upstream_p99"]
    assert ev and ev[0]["where"] == f"redis DEBUG to {peer}", f["evidence"]
    assert ev[0]["value"] == slow["p99_ns"]
    assert "redis DEBUG" in report(path, "text")
    assert_secret_nowhere(path)


def test_postgres_queries_are_labelled_by_their_first_keyword(tmp_path, postgres_port):
    done, path = run_client(tmp_path, ["postgres", str(postgres_port), "300", "200", "100"])
    rep = report(path)
    x = rep["exchanges"]
    assert x["lost_events"] == 0
    g = groups(rep)
    peer = f"127.0.0.1:{postgres_port}"
    for kw, n in done.items():
        grp = g.get(f"postgres {kw}")
        assert grp, f"no group for postgres {kw}: {sorted(g, key=str)}"
        assert grp["peer"] == peer and grp["protocol"] == "postgres"
        assert_count(grp["count"], n, kw)
    labels = {lab for lab in g if lab}
    assert labels <= {f"postgres {k}" for k in done} | {"postgres TERMINATE"}, labels
    assert_secret_nowhere(path)
