"""Shared helpers for netprof's integration tests.

They run the real netprof binary as root against the example programs in
examples/.  Not root: every test skips with a message, except in CI
(CI=true), where a skipped privileged test is a failure.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("NETPROF_BUILD", os.path.join(TOP, "build"))
NETPROF = os.path.join(BUILD, "netprof")
NPSERVER = os.path.join(BUILD, "examples", "npserver")
NPLOAD = os.path.join(BUILD, "examples", "npload")
SCHEMA = os.path.join(TOP, "docs", "report.schema.json")


@pytest.fixture(autouse=True)
def require_root():
    if os.geteuid() != 0:
        msg = "needs root (BPF tracepoints); run tests/run.sh as root"
        if os.environ.get("CI") == "true":
            pytest.fail("privileged test cannot be skipped in CI: " + msg)
        pytest.skip(msg)
    for path in (NETPROF, NPSERVER, NPLOAD):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is not built (NETPROF_BUILD={BUILD})")


class LineReader:
    """Collects a pipe's lines on a thread so tests can wait for one."""

    def __init__(self, pipe):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.thread.start()

    def _run(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        pipe.close()

    def wait_for(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in {self.lines!r}")
                self.cond.wait(left)

    def text(self):
        self.thread.join(timeout=5)
        with self.cond:
            return "\n".join(self.lines)


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen([NPSERVER, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = LineReader(self.proc.stdout)
        m = self.out.wait_for(r"listening on (\S+):(\d+) pid (\d+)")
        self.addr, self.port, self.pid = m.group(1), int(m.group(2)), int(m.group(3))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server_factory():
    servers = []

    def start(*args):
        s = Server(*args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """The pids whose parent is `pid`, sorted."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return sorted(int(x) for x in out.split())


class Recording:
    """`netprof record` running in the background, attached once started."""

    def __init__(self, pid, path, duration, *extra):
        self.path = path
        self.proc = subprocess.Popen([NETPROF, "record", "-v", "-p", str(pid), "-d", str(duration),
                                      "-o", path, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = LineReader(self.proc.stderr)
        self.out = LineReader(self.proc.stdout)
        self.err.wait_for(r"netprof: recording pid", timeout=30)

    def wait(self, timeout=60):
        rc = self.proc.wait(timeout=timeout)
        return rc, self.err.text()


def load(server, requests, connections=1, keepalive="on", *extra):
    r = subprocess.run([NPLOAD, "--addr", server.addr, "--port", str(server.port),
                        "--requests", str(requests), "--connections", str(connections),
                        "--keepalive", keepalive, *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


_validator = None


def check_report(doc):
    """Validates a JSON report against docs/report.schema.json (loaded once)
    and returns it; a report that breaks the contract fails the test."""
    global _validator
    if _validator is None:
        import jsonschema  # python3-jsonschema (tools/install-deps.sh)
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        _validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(_validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    assert not errors, "JSON report breaks docs/report.schema.json:\n" + "\n".join(
        "/".join(map(str, e.absolute_path)) + ": " + e.message[:300] for e in errors[:10])
    return doc


def load_report(path):
    """Reads a JSON report netprof wrote to a file, validated."""
    with open(path, encoding="utf-8") as f:
        return check_report(json.load(f))


def report(path, fmt="json", extra=()):
    r = subprocess.run([NETPROF, "report", path, "--format", fmt, *extra],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return check_report(json.loads(r.stdout)) if fmt == "json" else r.stdout


def syscall(rep, name):
    for s in rep["syscalls"]:
        if s["name"] == name:
            return s
    return {"name": name, "count": 0, "errors": 0, "eagain": 0, "bytes": 0}
