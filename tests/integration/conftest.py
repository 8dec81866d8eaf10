"""Shared helpers for netprof's integration tests.

They run the real netprof binary as root against the example programs in
examples/.  Not root: every test skips with a message, except in CI
(CI=true), where a skipped privileged test is a failure.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
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
        self._start(path, duration, ["-p", str(pid), *extra])

    @classmethod
    def of(cls, path, duration, *args):
        """The same with any target options (-p LIST, --cgroup, --unit, ...)."""
        rec = cls.__new__(cls)
        rec._start(path, duration, list(args))
        return rec

    def _start(self, path, duration, args):
        self.path = path
        self.proc = subprocess.Popen([NETPROF, "record", "-v", "-d", str(duration), "-o", path,
                                      *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = LineReader(self.proc.stderr)
        self.out = LineReader(self.proc.stdout)
        self.err.wait_for(r"netprof: recording ", timeout=30)

    def wait(self, timeout=60):
        rc = self.proc.wait(timeout=timeout)
        return rc, self.err.text()


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


NGINX = "/usr/sbin/nginx"

_NGINX_SERVICE_CONF = """user root root;
worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  {log}
  client_body_temp_path {d};
  proxy_temp_path {d};
  fastcgi_temp_path {d};
  uwsgi_temp_path {d};
  scgi_temp_path {d};
  server {{ listen 127.0.0.1:{port}{opts}; location / {{ return 200 "hello\\n"; }} }}
}}
"""


class NginxService:
    """nginx (Debian package) as a master with WORKERS workers answering
    "hello" on a free port, configured in `d`; `opts` are extra listen
    options (" reuseport"); with `log_pids` each request's worker pid goes
    to d/access.log."""

    def __init__(self, d, workers, opts="", log_pids=False):
        if not os.access(NGINX, os.X_OK):
            pytest.skip("nginx is not installed (Debian nginx-light)")
        self.port = free_port()
        log = (f"log_format bypid '$pid';\n  access_log {d}/access.log bypid;" if log_pids
               else "access_log off;")
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(_NGINX_SERVICE_CONF.format(d=d, port=self.port, workers=workers, opts=opts,
                                               log=log))
        self.proc = subprocess.Popen([NGINX, "-c", conf, "-p", str(d)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 10
        while len(children(self.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        self.workers = children(self.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class NginxTls:
    """nginx as examples/tls/nginx-tls.sh configures it, in a directory of its
    own: https (ALPN h2, so HTTP/1.1 or HTTP/2) on a free port, and with
    `h2c` cleartext HTTP/2 on another; `tool` is the load generator the test
    needs.  d/logs/access.log has one line per request."""

    def __init__(self, workers=1, h2c=False, tool="h2load"):
        if not os.access(NGINX, os.X_OK) or not shutil.which(tool):
            pytest.fail(f"nginx and {tool} are needed (tools/install-deps.sh)")
        # nginx's workers run as nobody: pytest's 0700 directories are
        # closed to them, so the site lives in a directory of its own
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="np-nginx-tls-"))
        self.https_port = free_port()
        self.h2c_port = free_port() if h2c else 0
        subprocess.run(["bash", os.path.join(TOP, "examples", "tls", "nginx-tls.sh"),
                        str(self.dir), str(self.https_port), str(self.h2c_port), str(workers)],
                       check=True, capture_output=True)
        for d in (self.dir, self.dir / "html"):
            os.chmod(d, 0o755)
        self.proc = subprocess.Popen([NGINX, "-c", str(self.dir / "nginx.conf"), "-p",
                                      str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while len(children(self.proc.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children(self.proc.pid)) == workers

    def access_log(self):
        return (self.dir / "logs" / "access.log").read_text().splitlines()

    def clear_log(self):
        (self.dir / "logs" / "access.log").write_text("")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


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
