"""The listening sockets of a service (issue 12): each TCP listener with the
processes whose fd tables hold it, and whether SO_REUSEPORT is set, which
`ss` does not show: nginx with `listen ... reuseport` has one socket per
worker, without it one socket all workers share.  Loopback only; nginx is
stopped in a finally block."""
import os
import signal
import subprocess
import time

import pytest

from conftest import NETPROF, children, free_port, report

NGINX_CONF = """user root root;
worker_processes 4;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d};
  proxy_temp_path {d};
  fastcgi_temp_path {d};
  uwsgi_temp_path {d};
  scgi_temp_path {d};
  server {{ listen 127.0.0.1:{port}{opts}; location / {{ return 200 "hello\\n"; }} }}
}}
"""


def record_nginx(tmp_path, opts):
    if not os.access("/usr/sbin/nginx", os.X_OK):
        pytest.skip("nginx is not installed (Debian nginx-light)")
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=tmp_path, port=port, opts=opts))
    ng = subprocess.Popen(["/usr/sbin/nginx", "-c", str(conf), "-p", str(tmp_path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while len(children(ng.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(ng.pid)
        assert len(workers) == 4, workers
        path = str(tmp_path / "ng.nprof")
        r = subprocess.run([NETPROF, "record", "-d", "2", "-F", "0", "-o", path, "-p",
                            str(ng.pid)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        rep = report(path)
        mine = [x for x in rep["target"]["listeners"] if x["port"] == port]
        return ng.pid, workers, port, mine, report(path, "text")
    finally:
        ng.send_signal(signal.SIGQUIT)
        try:
            ng.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ng.kill()
            ng.wait()


def test_reuseport_gives_a_listener_per_worker(tmp_path):
    master, workers, port, listeners, text = record_nginx(tmp_path, " reuseport")
    assert len(listeners) == 4, listeners
    for x in listeners:
        assert x["reuseport"], x
        assert x["endpoint"] == f"127.0.0.1:{port}"
        # nginx opens them all in the master; each worker inherits every
        # one (and polls its own)
        assert master in x["pids"] and set(workers) <= set(x["pids"]), x
    assert text.count(f"listener 127.0.0.1:{port} with SO_REUSEPORT, open in pids") == 4, text


def test_one_listener_shared_by_the_workers(tmp_path):
    master, workers, port, listeners, text = record_nginx(tmp_path, "")
    assert len(listeners) == 1, listeners
    x = listeners[0]
    assert not x["reuseport"], x
    assert sorted(x["pids"]) == sorted([master, *workers]), x
    assert f"listener 127.0.0.1:{port}, open in pids" in text, text
