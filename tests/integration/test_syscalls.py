"""The syscall source, end to end: counts, latencies, threads, addresses."""
import os
import re
import socket
import subprocess
import sys
import threading
import time

from conftest import NETPROF, LineReader, Recording, check_report, load, load_report, report, syscall


def ok_calls(rep, name):
    s = syscall(rep, name)
    return s["count"] - s["errors"]


def within(value, expected, rel=0.01, extra=0):
    return abs(value - expected) <= expected * rel + extra


def test_keepalive_counts_match_requests(server_factory, tmp_path):
    srv = server_factory("--keepalive", "on", "--body-bytes", "100")
    path = str(tmp_path / "ka.nprof")
    rec = Recording(srv.pid, path, 30)
    load(srv, 2000, 4, "on")
    rec.proc.send_signal(2)  # SIGINT ends it early and still writes
    rc, err = rec.wait()
    assert rc == 0, err
    rep = report(path)
    assert rep["format_version"] == 1
    assert rep["window"]["end_reason"] == "signal"
    assert rep["recording"]["complete"] is True
    assert ok_calls(rep, "accept4") == 4
    # one write per response, one read per request (plus one EOF read per connection)
    assert within(ok_calls(rep, "write"), 2000), syscall(rep, "write")
    assert within(ok_calls(rep, "read"), 2000, extra=4), syscall(rep, "read")
    assert syscall(rep, "write")["bytes"] >= 2000 * 100
    assert syscall(rep, "epoll_wait")["count"] > 0
    assert rep["lost_events"] == 0
    w = syscall(rep, "write")
    assert 0 < w["p50_ns"] <= w["p90_ns"] <= w["p99_ns"] <= w["max_ns"]
    assert rep["target"]["pid"] == srv.pid and rep["target"]["comm"] == "npserver"


def test_close_per_request_counts(server_factory, tmp_path):
    srv = server_factory("--keepalive", "off")
    path = str(tmp_path / "close.nprof")
    rec = Recording(srv.pid, path, 30)
    load(srv, 1000, 2, "off")
    rec.proc.send_signal(15)  # SIGTERM too
    rc, err = rec.wait()
    assert rc == 0, err
    rep = report(path)
    assert within(ok_calls(rep, "accept4"), 1000), syscall(rep, "accept4")
    assert within(ok_calls(rep, "write"), 1000), syscall(rep, "write")
    assert within(syscall(rep, "close")["count"], 1000), syscall(rep, "close")


BLOCKING_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()          # wait until the test says netprof is attached
c, _ = s.accept()
while True:
    data = c.recv(4096)       # blocks until the client sends: a slow recvfrom
    if not data:
        break
    c.sendall(b"ok")
"""


def test_slow_calls_have_latency_and_addresses(tmp_path):
    """A blocking recv that waits ~150 ms for the client must be reported as a
    slow call of that latency, with the connection's endpoints."""
    srv = subprocess.Popen([sys.executable, "-c", BLOCKING_SERVER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        path = str(tmp_path / "slow.nprof")
        rec = Recording(srv.pid, path, 30, "--threshold", "20ms")
        srv.stdin.write("go\n")
        srv.stdin.flush()
        c = socket.create_connection(("127.0.0.1", port))
        local_port = c.getsockname()[1]
        for _ in range(3):
            time.sleep(0.15)
            c.sendall(b"x")
            assert c.recv(16) == b"ok"
        c.close()
        srv.wait(timeout=10)
        rc, err = rec.wait()
        assert rc == 0, err
        assert "exited" in err
    finally:
        if srv.poll() is None:
            srv.kill()
    rep = report(path)
    assert rep["window"]["end_reason"] == "target exited"
    slow = [c for c in rep["slow_calls"] if c["syscall"] == "recvfrom"]
    assert len(slow) >= 3, rep["slow_calls"]
    for call in slow[:3]:
        assert 0.12e9 <= call["duration_ns"] <= 0.6e9, call
        assert call["peer"] == f"127.0.0.1:{local_port}", call
        assert call["local"] == f"127.0.0.1:{port}", call
        assert call["fd"] >= 3 and call["result"] == 1
    # nothing faster than the threshold is listed as slow
    assert all(c["duration_ns"] >= 20e6 for c in rep["slow_calls"] + rep["slow_waits"])


def test_threads_created_while_recording_are_traced(tmp_path):
    """Python's ThreadingHTTPServer starts a thread per connection, after
    netprof attached: their calls must be counted and the threads listed."""
    srv = subprocess.Popen([sys.executable, "-c",
                            "import http.server as h, sys\n"
                            "s = h.ThreadingHTTPServer(('127.0.0.1', 0), h.SimpleHTTPRequestHandler)\n"
                            "print(s.server_address[1], flush=True)\n"
                            "s.serve_forever()\n"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           cwd=str(tmp_path))
    try:
        port = int(srv.stdout.readline())
        path = str(tmp_path / "threads.nprof")
        rec = Recording(srv.pid, path, 30)
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                while c.recv(65536):
                    pass
        rec.proc.send_signal(2)
        rc, err = rec.wait()
        assert rc == 0, err
    finally:
        srv.kill()
        srv.wait()
    rep = report(path)
    assert ok_calls(rep, "accept4") == 20
    main_tid = srv.pid
    others = [t for t in rep["threads"] if t["tid"] != main_tid and t["syscalls"] > 0]
    assert len(others) >= 10, rep["threads"]
    assert sum(t["syscalls"] for t in others) >= 20


def bpf_prog_ids(pid):
    """{id: name} of the loaded BPF programs; with `pid`, only those whose
    fds or links that process holds (from /proc/PID/fdinfo)."""
    out = subprocess.run(["bpftool", "-j", "prog", "list"], capture_output=True, text=True,
                         check=True).stdout
    import json
    names = {p["id"]: p.get("name", "") for p in json.loads(out)}
    if pid is None:
        return names
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            info = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        m = re.search(r"^prog_id:\s*(\d+)", info, re.M)
        if m:
            held.add(int(m.group(1)))
    return {i: names.get(i, "") for i in held}


def test_killed_profiler_leaves_a_readable_partial_recording(server_factory, tmp_path):
    srv = server_factory()
    path = str(tmp_path / "killed.nprof")
    rec = Recording(srv.pid, path, 30)
    load(srv, 500, 2)
    time.sleep(2.5)  # totals are snapshotted every second
    ours = bpf_prog_ids(rec.proc.pid)
    assert {"np_sys_enter", "np_sys_exit", "np_sched_switch"} <= set(ours.values()), ours
    rec.proc.kill()
    rec.proc.wait()
    assert not os.path.exists(path)
    partial = path + ".partial"
    r = subprocess.run([NETPROF, "report", partial, "--format", "json"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "incomplete" in r.stderr
    import json
    rep = check_report(json.loads(r.stdout))
    assert rep["recording"]["complete"] is False
    assert within(ok_calls(rep, "write"), 500), syscall(rep, "write")
    # that nothing of ours survives the kill is test_safety's job


def test_recording_and_report_are_private(server_factory, tmp_path):
    srv = server_factory()
    path = str(tmp_path / "mode.nprof")
    rec = Recording(srv.pid, path, 1)
    rc, err = rec.wait()
    assert rc == 0, err
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    out = str(tmp_path / "r.json")
    r = subprocess.run([NETPROF, "report", path, "--format", "json", "-o", out])
    assert r.returncode == 0
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    load_report(out)


def test_one_shot_prints_text_and_writes_json(server_factory, tmp_path):
    srv = server_factory()
    js = str(tmp_path / "one.json")
    # -v prints "recording pid" once attached: load only then, however long
    # loading the BPF programs takes on a busy machine
    p = subprocess.Popen([NETPROF, "-v", "-p", str(srv.pid), "-d", "3", "--json", js],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = LineReader(p.stderr)
    out = LineReader(p.stdout)
    err.wait_for(r"netprof: recording pid", timeout=30)
    load(srv, 300, 2)
    assert p.wait(timeout=60) == 0, err.text()

    class R:
        stdout = out.text()
    r = R
    assert "System calls" in r.stdout and "npserver" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 100
    rep = load_report(js)
    assert rep["verdict"] is None
    assert ok_calls(rep, "write") >= 300
