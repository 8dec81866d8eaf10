"""Real pre-forking servers from Debian packages as the target (issue 12):
gunicorn's sync workers and php-fpm's static pool, each named by its
master's pid.  The per-worker rows must agree with what the servers
themselves say they served and with /proc's CPU times.  Loopback only;
every process a test starts is stopped in a finally block.

Not installed: the test skips, except under CI=true, where a missing
package is a failure (tools/install-deps.sh installs both)."""
import collections
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import NGINX, Recording, children, cpu_ticks, free_port, report

TICK = os.sysconf("SC_CLK_TCK")
GUNICORN = "/usr/bin/gunicorn"
PHP_FPM = "/usr/sbin/php-fpm8.2"


def require(path, package):
    if os.access(path, os.X_OK):
        return
    msg = f"{path} is not installed (Debian {package}; tools/install-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def php_fpm():
    """Debian names the binary after the PHP version; take whichever is there."""
    found = sorted(p for p in os.listdir("/usr/sbin") if re.fullmatch(r"php-fpm\d+\.\d+", p))
    return os.path.join("/usr/sbin", found[-1]) if found else PHP_FPM


def wait_for_workers(pid, n, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(pid)
        if len(kids) >= n:
            return kids
        time.sleep(0.1)
    raise AssertionError(f"pid {pid} has children {children(pid)}, wanted {n}")


def wait_for_port(port, timeout=20):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def stop(proc, sig):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_wrk(port, seconds, close):
    args = ["wrk", "-t2", "-c8", f"-d{seconds}s"]
    if close:
        args += ["-H", "Connection: close"]
    r = subprocess.run(args + [f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"(\d+) requests in", r.stdout)
    assert r.returncode == 0 and m, r.stdout + r.stderr
    return int(m.group(1))


def assert_cpu_matches(p, ticks):
    """netprof's on-CPU time of a worker against /proc's utime+stime over
    the load.  The ticks are read just before and after wrk, the recording
    spans a little more, and the workers are idle around the load; each
    tick is charged whole, so 3 ticks of slack for small counts (as
    test_targets does for nginx)."""
    cpu_ns = ticks * 1e9 / TICK
    print(f"pid {p['pid']}: on-CPU {p['on_cpu_ns'] / 1e6:.0f} ms, /proc {cpu_ns / 1e6:.0f} ms")
    assert abs(p["on_cpu_ns"] - cpu_ns) <= max(0.05 * cpu_ns, 3e9 / TICK), \
        (p["pid"], p["on_cpu_ns"], cpu_ns)


def assert_accepts_match(procs, workers, served, empty, exact=False):
    """Accepts against the server's own account of each worker's
    connections, read when the recording has ended: the requests it served,
    plus the connections it accepted and closed without a request (`empty`:
    wrk opens some it never writes to).  Within 1%, or 2 of a small count,
    as test_targets bounds nginx's; `exact` where the server's count is
    exact too.  A worker already blocked in accept() when netprof attached
    entered that call before the window: its accept is counted from its
    exit (it was one short per worker before)."""
    for w in workers:
        p = procs[w]
        want = served[w] + empty[w]
        print(f"pid {w}: {p['accepts']} accepts, {served[w]} served, {empty[w]} empty")
        assert served[w] > 0, (p, served)
        if exact:
            assert p["accepts"] == want, (w, p["accepts"], served[w])
        assert want - max(2, 0.01 * want) <= p["accepts"] \
            <= want + max(2, 0.01 * want), (w, p["accepts"], served[w], empty[w])


def assert_service_verdict(rep, procs, master):
    """The verdict is the service's: the master accepts nothing, the
    workers are busy, so there must be one."""
    v = rep["verdict"]
    print("verdict", v and v["cause"], v and v["summary"])
    assert rep["target"]["service"].startswith(f"pid {master}"), rep["target"]
    assert procs[master]["accepts"] == 0, procs[master]
    assert v is not None, (rep["findings"], rep["breakdown"])


# A WSGI app that burns about 1 ms of CPU per request and appends one byte
# to a file of its own worker's pid: the file's growth is the number of
# requests that worker served.
WSGI_APP = r"""
import os, time

DIR = os.path.dirname(os.path.abspath(__file__))


def app(environ, start_response):
    end = time.thread_time() + 0.001
    while time.thread_time() < end:
        pass
    with open(os.path.join(DIR, f"served.{os.getpid()}"), "a") as f:
        f.write("x")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]
"""


# gunicorn's debug line for a connection closed before any request came
EMPTY_CONNECTION = re.compile(r"\[(\d+)\] \[DEBUG\] Closing connection\. *$", re.M)


def served_by_pid(d, prefix):
    out = {}
    for name in os.listdir(d):
        if name.startswith(prefix):
            out[int(name[len(prefix):])] = os.path.getsize(os.path.join(d, name))
    return out


def test_gunicorn_sync_workers(tmp_path):
    """gunicorn -k sync: each worker accepts a connection, serves one
    request and closes it (the sync worker forces Connection: close; wrk
    asks for it too), so a worker's accepts are its requests, plus the
    connections that brought none, which its debug log names."""
    require(GUNICORN, "gunicorn")
    (tmp_path / "npapp.py").write_text(WSGI_APP)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    srv = subprocess.Popen([GUNICORN, "-w", "4", "-k", "sync", "-b", f"127.0.0.1:{port}",
                            "--chdir", str(tmp_path), "--log-level", "debug",
                            "--error-logfile", str(log), "npapp:app"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers = wait_for_workers(srv.pid, 4)
        wait_for_port(port)
        assert len(workers) == 4, workers
        path = str(tmp_path / "gu.nprof")
        rec = Recording.of(path, 7, "-p", str(srv.pid), "-F", "0")
        served0 = served_by_pid(tmp_path, "served.")
        log_start = log.stat().st_size
        before = {w: cpu_ticks(w) for w in workers}
        total = run_wrk(port, 4, close=True)
        time.sleep(0.3)  # the requests wrk left in flight are answered
        after = {w: cpu_ticks(w) for w in workers}
        rc, err = rec.wait()
        assert rc == 0, err
        # counted at the window's end: on a contended host the last
        # requests can take longer than the pause above
        served1 = served_by_pid(tmp_path, "served.")
        served = {w: served1.get(w, 0) - served0.get(w, 0) for w in workers}
        with open(log, encoding="utf-8", errors="replace") as f:
            f.seek(log_start)
            empty = collections.Counter(int(m.group(1))
                                        for m in EMPTY_CONNECTION.finditer(f.read()))
        assert set(served1) <= set(workers), (served1, workers)  # no worker restarted
        rep = report(path)
        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        assert procs[srv.pid]["role"] == "master", procs[srv.pid]
        for w in workers:
            p = procs[w]
            assert p["role"] == "worker" and p["ppid"] == srv.pid, p
            print(f"pid {w}: {p['exchanges']} exchanges")
            assert abs(served[w] - p["exchanges"]) <= max(2, 0.01 * served[w]), (p, served[w])
            assert_cpu_matches(p, after[w] - before[w])
        # sync workers wait in select() and accept without blocking: none
        # is inside accept() at attach
        assert_accepts_match(procs, workers, served, empty)
        # every request wrk completed was served, and at most its 8
        # connections' last ones besides
        assert 0 <= sum(served.values()) - total <= 8, (served, total)
        assert rep["target"]["worker_spread"]["workers"] == 4
        assert_service_verdict(rep, procs, srv.pid)
    finally:
        stop(srv, signal.SIGTERM)


FPM_CONF = """[global]
pid = {d}/fpm.pid
error_log = {d}/fpm.log
daemonize = no

[np]
user = root
group = root
listen = 127.0.0.1:{port}
pm = static
pm.max_children = 3
access.log = {d}/access.log
access.format = "%p"
"""

# About 1 ms of PHP per request.
PHP_SCRIPT = """<?php
$end = hrtime(true) + 1000000;
$x = 0;
while (hrtime(true) < $end) { $x++; }
echo "ok\\n";
"""

FPM_NGINX_CONF = """user root root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d};
  proxy_temp_path {d};
  fastcgi_temp_path {d};
  uwsgi_temp_path {d};
  scgi_temp_path {d};
  server {{
    listen 127.0.0.1:{port};
    location / {{
      fastcgi_pass 127.0.0.1:{fpm_port};
      fastcgi_param SCRIPT_FILENAME {d}/burn.php;
      fastcgi_param REQUEST_METHOD $request_method;
    }}
  }}
}}
"""


def test_php_fpm_static_pool(tmp_path):
    """php-fpm with pm = static and 3 children behind nginx (fastcgi_pass,
    which opens a new FastCGI connection per request without
    fastcgi_keep_conn): each request is one accept in the php-fpm child
    that serves it, whose pid the pool's access log writes (%p).  The
    target is php-fpm's master only; nginx is the load's way in."""
    fpm = php_fpm()
    require(fpm, "php-fpm")
    require(NGINX, "nginx-light")
    # php-fpm refuses to run as root without -R; its children then run as
    # root too, so they can read and write pytest's 0700 directory
    d = str(tmp_path)
    fpm_port, port = free_port(), free_port()
    with open(os.path.join(d, "fpm.conf"), "w", encoding="utf-8") as f:
        f.write(FPM_CONF.format(d=d, port=fpm_port))
    with open(os.path.join(d, "burn.php"), "w", encoding="utf-8") as f:
        f.write(PHP_SCRIPT)
    with open(os.path.join(d, "nginx.conf"), "w", encoding="utf-8") as f:
        f.write(FPM_NGINX_CONF.format(d=d, port=port, fpm_port=fpm_port))
    srv = subprocess.Popen([fpm, "-R", "-F", "-y", os.path.join(d, "fpm.conf")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    front = None
    try:
        workers = wait_for_workers(srv.pid, 3)
        assert len(workers) == 3, workers
        wait_for_port(fpm_port)
        front = subprocess.Popen([NGINX, "-c", os.path.join(d, "nginx.conf"), "-p", d],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        log = os.path.join(d, "access.log")
        path = str(tmp_path / "fpm.nprof")
        rec = Recording.of(path, 7, "-p", str(srv.pid), "-F", "0")
        with open(log, encoding="utf-8") as f:
            skip = len(f.read().split())  # the port probes' requests, if any
        before = {w: cpu_ticks(w) for w in workers}
        total = run_wrk(port, 4, close=False)
        time.sleep(0.3)  # the child logs after it answered
        after = {w: cpu_ticks(w) for w in workers}
        rc, err = rec.wait()
        assert rc == 0, err
        with open(log, encoding="utf-8") as f:  # all of the window's requests
            served = collections.Counter(int(x) for x in f.read().split()[skip:])
        assert set(served) <= set(workers), (served, workers)
        assert abs(sum(served.values()) - total) <= 8, (served, total)
        rep = report(path)
        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        assert set(procs) == {srv.pid, *workers}, procs  # nginx is not the target
        assert procs[srv.pid]["role"] == "master", procs[srv.pid]
        for w in workers:
            p = procs[w]
            assert p["role"] == "worker" and p["ppid"] == srv.pid, p
            assert_cpu_matches(p, after[w] - before[w])
        # an idle php-fpm child waits inside accept() when netprof attaches:
        # that accept counts from its exit, and the access log is exact
        assert_accepts_match(procs, workers, served, collections.Counter(), exact=True)
        assert rep["target"]["worker_spread"]["workers"] == 3
        assert_service_verdict(rep, procs, srv.pid)
    finally:
        if front:
            stop(front, signal.SIGQUIT)
        stop(srv, signal.SIGQUIT)
