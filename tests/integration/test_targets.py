"""A whole service as the target (issue 12): -p PID[,PID...] with children,
--cgroup, --unit, --container, processes forked while recording, and the
bad targets that are one line and exit 2.  Loopback only; every cgroup and
process a test makes is removed in a finally block."""
import collections
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from conftest import NETPROF, NginxService, Recording, cpu_ticks, load, report

TICK = os.sysconf("SC_CLK_TCK")


def cgroup2_mount():
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    pytest.skip("no cgroup v2 hierarchy mounted")


def run_netprof(*args):
    return subprocess.run([NETPROF, *args], capture_output=True, text=True, timeout=60)


def processes(rep):
    return {p["pid"]: p for p in rep["target"]["processes"]}


def start_npserver(*args):
    from conftest import Server
    return Server(*args)


def move_to_cgroup(path, pid):
    with open(os.path.join(path, "cgroup.procs"), "w", encoding="utf-8") as f:
        f.write(str(pid))


def leave_cgroup(mount, pid):
    try:
        move_to_cgroup(mount, pid)
    except OSError:
        pass


def test_nginx_workers_by_master_pid(tmp_path):
    ng = NginxService(tmp_path, 4, log_pids=True)
    port = ng.port
    try:
        workers = ng.workers
        assert len(workers) == 4, workers
        path = str(tmp_path / "ng.nprof")
        rec = Recording.of(path, 6, "-p", str(ng.pid), "-F", "0")
        (tmp_path / "access.log").write_text("")  # nothing from before the window
        before = {w: cpu_ticks(w) for w in workers}
        # A new connection per request: every request is one accept.
        wrk = subprocess.run(["wrk", "-t2", "-c8", "-d3s", "-H", "Connection: close",
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                             timeout=60)
        after = {w: cpu_ticks(w) for w in workers}
        rc, err = rec.wait()
        assert rc == 0, err
        m = re.search(r"(\d+) requests in", wrk.stdout)
        assert m, wrk.stdout
        served = collections.Counter(int(x) for x in
                                     (tmp_path / "access.log").read_text().split())
        rep = report(path)
        procs = processes(rep)
        assert procs[ng.pid]["role"] == "master"
        assert rep["target"]["service"].startswith(f"pid {ng.pid}")
        total_accepts = 0
        for w in workers:
            p = procs[w]
            assert p["role"] == "worker" and p["ppid"] == ng.pid
            want = served[w]
            assert want > 0, served
            assert abs(p["accepts"] - want) <= max(2, 0.01 * want), (w, p, want)
            assert abs(p["exchanges"] - want) <= max(2, 0.01 * want), (w, p, want)
            cpu_ns = (after[w] - before[w]) * 1e9 / TICK
            assert abs(p["on_cpu_ns"] - cpu_ns) <= max(0.05 * cpu_ns, 3e9 / TICK), \
                (w, p["on_cpu_ns"], cpu_ns)
            total_accepts += p["accepts"]
        assert abs(total_accepts - int(m.group(1))) <= max(8, 0.01 * int(m.group(1)))
        spread = rep["target"]["worker_spread"]
        assert spread["workers"] == 4
        assert spread["accepts_min"] == min(procs[w]["accepts"] for w in workers)
        # each worker's latency, from its recorded exchanges (1 in 64 of
        # the fast ones, the default --sample), and its run-queue wait
        assert spread["latency_sampled"]
        for w in workers:
            p = procs[w]
            assert 0 < p["exchanges_recorded"] <= p["exchanges"], p
            assert 0 < p["exchange_p50_ns"] <= p["exchange_p99_ns"], p
        p99s = [procs[w]["exchange_p99_ns"] for w in workers]
        assert spread["exchange_p99_ns_min"] == min(p99s)
        assert spread["exchange_p99_ns_max"] == max(p99s)
        runq = [procs[w]["runnable_ns"] for w in workers]
        assert spread["runnable_ns_min"] == min(runq) and spread["runnable_ns_max"] == max(runq)
        assert max(runq) > 0, runq
        # every thread and socket row names its process
        for t in rep["threads"]:
            assert t["pid"] in procs, t
        assert rep["sockets"] and all(s["pid"] in procs for s in rep["sockets"]), \
            [s for s in rep["sockets"] if s.get("pid") not in procs][:3]
        text = report(path, "text")
        assert "Processes" in text and "worker" in text
    finally:
        ng.stop()


def test_two_unrelated_pids(tmp_path):
    a = start_npserver()
    b = start_npserver()
    try:
        path = str(tmp_path / "ab.nprof")
        rec = Recording.of(path, 4, "-p", f"{a.pid},{b.pid}", "-F", "0")
        load(a, 300, 1, "off")
        load(b, 200, 1, "off")
        b.stop()  # exits while recording: reported, the rest goes on
        rc, err = rec.wait()
        assert rc == 0, err
        assert f"pid {b.pid} (npserver) exited while recording" in err
        rep = report(path)
        procs = processes(rep)
        assert procs[a.pid]["role"] == "other" and procs[b.pid]["role"] == "other"
        assert procs[a.pid]["accepts"] == 300 and procs[b.pid]["accepts"] == 200
        # the second server's port is a listening port of the service too
        assert procs[a.pid]["exchanges"] == 300 and procs[b.pid]["exchanges"] == 200
        assert procs[b.pid]["exited"] and not procs[a.pid]["exited"]
    finally:
        a.stop()
        b.stop()


def test_pid_gone_at_start_is_reported(tmp_path):
    a = start_npserver()
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        path = str(tmp_path / "gone.nprof")
        r = run_netprof("record", "-p", f"{dead.pid},{a.pid}", "-d", "1", "-o", path)
        assert r.returncode == 0, r.stderr
        assert f"no process with pid {dead.pid}; profiling the others" in r.stderr
        procs = processes(report(path))
        assert procs[dead.pid]["gone_at_start"] and not procs[a.pid]["gone_at_start"]
    finally:
        a.stop()


def cgroup_test(tmp_path, relpath, option, value):
    mount = cgroup2_mount()
    cg = os.path.join(mount, relpath)
    made = []
    parts = relpath.split("/")
    for i in range(len(parts)):
        d = os.path.join(mount, *parts[:i + 1])
        if not os.path.isdir(d):
            os.mkdir(d)
            made.append(d)
    a = start_npserver()
    b = start_npserver()
    try:
        move_to_cgroup(cg, a.pid)
        move_to_cgroup(cg, b.pid)
        path = str(tmp_path / "cg.nprof")
        rec = Recording.of(path, 4, option, value, "-F", "0")
        load(a, 150, 1, "off")
        load(b, 250, 1, "off")
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        procs = processes(rep)
        assert set(procs) == {a.pid, b.pid}, procs
        assert procs[a.pid]["accepts"] == 150 and procs[b.pid]["accepts"] == 250
        assert procs[a.pid]["exchanges"] == 150 and procs[b.pid]["exchanges"] == 250
        assert rep["target"]["cgroup"] == "/" + relpath
    finally:
        a.stop()
        b.stop()
        for d in reversed(made):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


def test_cgroup(tmp_path):
    name = f"npt-{uuid.uuid4().hex[:8]}"
    cgroup_test(tmp_path, name, "--cgroup", name)


def test_unit(tmp_path):
    cgroup_test(tmp_path, "system.slice/npt-test.service", "--unit", "npt-test")


def test_container(tmp_path):
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    cgroup_test(tmp_path, f"npt-ctr/docker-{cid}.scope", "--container", cid[:12])


FORKER = r"""
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()          # netprof is attached: fork the worker now
pid = os.fork()
if pid == 0:
    while True:
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        c.close()
print(pid, flush=True)
os.waitpid(pid, 0)
"""


def test_worker_forked_after_attach(tmp_path):
    srv = subprocess.Popen([sys.executable, "-c", FORKER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    child = None
    try:
        port = int(srv.stdout.readline())
        path = str(tmp_path / "fork.nprof")
        rec = Recording.of(path, 4, "-p", str(srv.pid), "-F", "0")
        srv.stdin.write("go\n")
        srv.stdin.flush()
        child = int(srv.stdout.readline())
        n = 100
        for _ in range(n):
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                while c.recv(4096):
                    pass
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        procs = processes(rep)
        assert procs[child]["new"] and procs[child]["role"] == "worker"
        assert procs[srv.pid]["role"] == "master"
        assert procs[child]["accepts"] == n
        assert any(t.get("pid") == child for t in rep["threads"])
    finally:
        if child:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        srv.kill()
        srv.wait()


def one_line_exit_2(*args):
    r = run_netprof("record", "-d", "1", "-o", "/tmp/npt-never.nprof", *args)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2, (args, r.stderr)
    assert len(lines) == 1, (args, r.stderr)
    assert not os.path.exists("/tmp/npt-never.nprof")
    return lines[0]


def test_bad_targets():
    mount = cgroup2_mount()
    empty = os.path.join(mount, f"npt-empty-{uuid.uuid4().hex[:8]}")
    cid = uuid.uuid4().hex
    twins = [os.path.join(mount, f"npt-twin{i}-{cid}") for i in (1, 2)]
    os.mkdir(empty)
    try:
        for d in twins:
            os.mkdir(d)
        assert "holds no process" in one_line_exit_2("--cgroup", os.path.basename(empty))
        assert "no cgroup" in one_line_exit_2("--cgroup", "npt-does-not-exist")
        assert "no systemd unit" in one_line_exit_2("--unit", "npt-no-such-unit")
        assert "no cgroup holds container id" in one_line_exit_2("--container",
                                                                  uuid.uuid4().hex)
        assert "matches 2 cgroups" in one_line_exit_2("--container", cid)
        assert "invalid pid list" in one_line_exit_2("-p", "12,abc")
        assert "invalid pid list" in one_line_exit_2("-p", "12,,13")
        assert "too large" in one_line_exit_2("-p", "1", "--max-processes", "2")
        assert "too large" in one_line_exit_2("--cgroup", "/", "--max-processes", "2")
        assert "one kind of target" in one_line_exit_2("-p", "1", "--cgroup", "/")
    finally:
        for d in [empty] + twins:
            try:
                os.rmdir(d)
            except OSError:
                pass
