"""The listening sockets of a service (issue 12): each TCP listener with the
processes whose fd tables hold it, and whether SO_REUSEPORT is set, which
`ss` does not show: nginx with `listen ... reuseport` has one socket per
worker, without it one socket all workers share.  Loopback only; nginx is
stopped in a finally block."""
import subprocess

from conftest import NETPROF, NginxService, report

def record_nginx(tmp_path, opts):
    ng = NginxService(tmp_path, 4, opts)
    try:
        assert len(ng.workers) == 4, ng.workers
        path = str(tmp_path / "ng.nprof")
        r = subprocess.run([NETPROF, "record", "-d", "2", "-F", "0", "-o", path, "-p",
                            str(ng.pid)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        rep = report(path)
        mine = [x for x in rep["target"]["listeners"] if x["port"] == ng.port]
        return ng.pid, ng.workers, ng.port, mine, report(path, "text")
    finally:
        ng.stop()


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
