"""A service whose child lives in another network namespace than its parent
(issue 12): netprof named the parent's pid must poll the child's sockets
in the child's own namespace.  The test makes a namespace joined to ours by
a veth pair; a python3 parent in our namespace starts npserver in that
namespace with `ip netns exec`, and wrk loads it over the veth from our
namespace.  Before netprof kept a sock_diag socket per namespace, the
child's sockets were found by the fd walk but asked about in the parent's
namespace, where they are not: no queue, rtt or byte counts, and no
sockets in the report.  The namespace and every process are removed in a
finally block."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import NPSERVER, LineReader, Recording, report

SUBNET = "10.77.25"  # this test's subnet (SCN_IDX 25)
HOST_ADDR, CHILD_ADDR = f"{SUBNET}.1", f"{SUBNET}.2"

# The parent: in our namespace, does no network work, waits for its child.
PARENT = r"""
import subprocess, sys
child = subprocess.Popen(["ip", "netns", "exec", sys.argv[1], sys.argv[2], "--addr", sys.argv[3],
                          "--port", "0", "--threads", "2"])
sys.exit(child.wait())
"""

# wrk at a gentle rate (each connection waits 4 ms between requests), so
# the server is lightly loaded and the verdict must be null.
WRK_SCRIPT = "function delay()\n  return 4\nend\n"


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Netns:
    """A namespace with a veth pair: CHILD_ADDR inside, HOST_ADDR in ours."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.name = f"np7-nsT-{tag}"
        self.veth = f"np7v{tag}"
        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.veth + "h", "type", "veth", "peer", "name", self.veth + "n")
            ip("link", "set", self.veth + "n", "netns", self.name)
            ip("addr", "add", f"{HOST_ADDR}/24", "dev", self.veth + "h")
            ip("link", "set", self.veth + "h", "up")
            ip("-n", self.name, "addr", "add", f"{CHILD_ADDR}/24", "dev", self.veth + "n")
            ip("-n", self.name, "link", "set", self.veth + "n", "up")
            ip("-n", self.name, "link", "set", "lo", "up")
        except Exception:
            self.remove()
            raise

    def remove(self):
        subprocess.run(["ip", "link", "del", self.veth + "h"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def ns_inode(pid):
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def softnet_dropped():
    """The host's per-CPU input backlog drops (/proc/net/softnet_stat)."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(line.split()[1], 16) for line in f)


def run_wrk(port, seconds, script):
    r = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", script,
                        f"http://{CHILD_ADDR}:{port}/"], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"(\d+) requests in", r.stdout)
    assert r.returncode == 0 and m, r.stdout + r.stderr
    assert "Socket errors" not in r.stdout, r.stdout
    return int(m.group(1))


def stop_tree(parent, kids):
    """Ends the children (SIGTERM), then waits for the parent, killing it
    after 10 s."""
    for k in kids:
        try:
            os.kill(k, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if parent:
        try:
            parent.wait(timeout=10)
        except subprocess.TimeoutExpired:
            parent.kill()
            parent.wait()


@pytest.mark.parametrize("fds", ["bpf", "proc"])
def test_child_in_another_netns(tmp_path, monkeypatch, fds):
    """fds: the fd tables read by the BPF iterator, or from /proc
    (NETPROF_SOCKET_FDS=proc, the fallback for kernels before 6.1)."""
    if fds == "proc":
        monkeypatch.setenv("NETPROF_SOCKET_FDS", "proc")
    ns = Netns()
    parent = None
    child_pid = None
    try:
        script = tmp_path / "parent.py"
        script.write_text(PARENT)
        lua = tmp_path / "delay.lua"
        lua.write_text(WRK_SCRIPT)
        parent = subprocess.Popen([sys.executable, str(script), ns.name, NPSERVER, CHILD_ADDR],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = LineReader(parent.stdout)
        m = out.wait_for(r"listening on (\S+):(\d+) pid (\d+)")
        port, child_pid = int(m.group(2)), int(m.group(3))
        assert ns_inode(child_pid) != ns_inode(parent.pid)
        assert ns_inode(parent.pid) == ns_inode(os.getpid())

        path = str(tmp_path / "netns.nprof")
        drops0 = softnet_dropped()
        rec = Recording.of(path, 6, "-p", str(parent.pid))
        served = run_wrk(port, 3, str(lua))
        rc, err = rec.wait()
        host_drops = softnet_dropped() - drops0
        assert rc == 0, err
        rep = report(path)

        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        assert child_pid in procs, procs
        child_ino = ns_inode(child_pid)
        mine = [s for s in rep["sockets"] if s["local"].endswith(f":{port}")]
        listeners = [s for s in mine if s["listener"]]
        conns = [s for s in mine if not s["listener"] and s["proto"] == "tcp"]
        print(f"wrk: {served} requests; child: {procs[child_pid]['exchanges']} exchanges; "
              f"{len(listeners)} listener(s), {len(conns)} connection(s) of the child")
        assert len(listeners) == 1, rep["sockets"]
        assert listeners[0]["polls"] > 0 and listeners[0]["accept_q_limit"] > 0, listeners
        assert len(conns) >= 4, rep["sockets"]
        for s in mine:
            assert s["netns"] == "other" and s["netns_ino"] == child_ino, s
        # wrk's 4 connections carried requests: tcp_info was read in the
        # child's namespace (a connection wrk opened again, if any, may have
        # closed between two polls)
        full = [c for c in conns
                if c["rtt_us_max"] > 0 and c["bytes_acked"] > 0 and c["bytes_received"] > 0]
        assert len(full) >= 4, conns
        # the Sources section says how many namespaces the sockets were polled in
        src = {s["name"]: s for s in rep["sources"]}
        assert "2 network namespaces" in src["sockets"]["detail"], src["sockets"]
        assert ("fd table read from /proc" in src["sockets"]["detail"]) == (fds == "proc")

        # every request wrk completed was served inside the window (wrk
        # started after netprof attached and ended before it stopped); wrk
        # does not count the requests in flight when it stopped, 4 at most
        got = procs[child_pid]["exchanges"]
        assert served > 0 and served <= got <= served + 4 + 0.02 * served, (got, served)
        v = rep["verdict"]
        print("verdict", v and v["cause"], v and v["summary"], f"; host backlog drops {host_drops}")
        # softnet_stat is host-wide: other work on a shared machine that
        # overflows the input backlog is (rightly) stack.softirq, not this
        # service's doing; no other verdict is excused
        if v and v["cause"] == "stack.softirq" and host_drops > 0:
            return
        assert v is None, (v, rep["findings"])
    finally:
        stop_tree(parent, [child_pid] if child_pid else [])
        ns.remove()


# The parent of many children, each in a namespace of its own that holds
# one listener; prints "ready" once every child listens.
PARENT_MANY = r"""
import subprocess, sys, time
LISTEN = ("import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
          "s.listen(); print('up', flush=True); time.sleep(120)")
kids = [subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTEN],
                         stdout=subprocess.PIPE, text=True) for ns in sys.argv[1:]]
for k in kids:
    k.stdout.readline()
print("ready", " ".join(str(k.pid) for k in kids), flush=True)
for k in kids:
    k.wait()
"""


def test_namespaces_past_the_cap_are_said(tmp_path):
    """17 children in 17 namespaces: with the parent's, 18 namespaces, of
    which the recorder polls 16 (MAX_NETNS in profiler/net/sockdiag.c); the
    other two children's listeners are not polled, and Sources says so."""
    tag = os.getpid() % 100000
    names = [f"np7-nsT-{tag}-{i}" for i in range(17)]
    parent = None
    kids = []
    try:
        for n in names:
            ip("netns", "add", n)
            ip("-n", n, "link", "set", "lo", "up")
        script = tmp_path / "parent.py"
        script.write_text(PARENT_MANY)
        parent = subprocess.Popen([sys.executable, str(script), *names],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        m = LineReader(parent.stdout).wait_for(r"ready ([\d ]+)", timeout=60)
        kids = [int(x) for x in m.group(1).split()]
        path = str(tmp_path / "cap.nprof")
        rec = Recording.of(path, 2, "-p", str(parent.pid))
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        src = {s["name"]: s for s in rep["sources"]}["sockets"]
        print(src)
        assert src["status"] == "degraded", src
        assert "polled in 16 network namespaces" in src["detail"], src
        assert "2 sockets in 2 more namespaces not polled" in src["detail"], src
        inos = {ns_inode(k) for k in kids}
        listeners = [s for s in rep["sockets"] if s["listener"]]
        assert len(listeners) == 15, listeners
        assert all(s["netns"] == "other" and s["netns_ino"] in inos for s in listeners)
        assert len({s["netns_ino"] for s in listeners}) == 15
        text = " ".join(report(path, "text").split())  # as wrapped
        assert "polled in 16 network namespaces" in text
        # causes that need the sockets cannot be found, and the report says so
        m = re.search(r"Not fully measured in this recording, so causes that need them "
                      r"cannot be found: ([a-z_, ]+)", text)
        assert m and "sockets" in m.group(1).split(", "), text[:2000]
    finally:
        stop_tree(parent, kids)
        for n in names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
