"""The socket, NIC, softirq and counter sources end to end, each test in a
network namespace of its own (np4-*) joined to the host by a veth pair,
removed again on every exit path.

Topology per test:  host np4hN (10.44.N.1)  <-veth->  np4tN (10.44.N.2) in
netns np4-tN, where the target server runs.  Traffic goes only between the
two ends of the pair."""
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import NETPROF, NPLOAD, NPSERVER, TOP, LineReader, report

_ids = itertools.count(1)


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise AssertionError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


class Topo:
    def __init__(self):
        n = (os.getpid() + next(_ids)) % 250 + 1
        self.ns = f"np4-t{n}"
        self.host_if, self.ns_if = f"np4h{n}", f"np4t{n}"
        self.host_ip, self.ns_ip = f"10.44.{n}.1", f"10.44.{n}.2"
        self.procs = []
        self.cleanup()
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        sh("ip", "link", "set", self.ns_if, "netns", self.ns)
        sh("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        self.nsx("ip", "addr", "add", f"{self.ns_ip}/24", "dev", self.ns_if)
        self.nsx("ip", "link", "set", self.ns_if, "up")
        self.nsx("ip", "link", "set", "lo", "up")
        self.nsx("ip", "route", "add", "default", "via", self.host_ip)

    def nsx(self, *args, check=True):
        return sh("ip", "netns", "exec", self.ns, *args, check=check)

    def server(self, *args):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, NPSERVER, "--addr", self.ns_ip,
                              "--port", "0", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.procs.append(p)
        out = LineReader(p.stdout)
        m = out.wait_for(r"listening on (\S+):(\d+) pid (\d+)")
        return int(m.group(2)), int(m.group(3))

    def cleanup(self):
        for p in getattr(self, "procs", []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if getattr(self, "nft_table", None):
            sh("nft", "delete", "table", "netdev", self.nft_table, check=False)
        sh("ip", "link", "del", self.host_if, check=False)
        sh("ip", "netns", "del", self.ns, check=False)


@pytest.fixture
def topo():
    t = Topo()
    yield t
    t.cleanup()


def record(pid, path, secs, during):
    """Runs netprof record for `secs`, calling during() once it is attached."""
    p = subprocess.Popen([NETPROF, "record", "-p", str(pid), "-d", str(secs), "-o", path, "-v"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = LineReader(p.stderr)
    err.wait_for(r"netprof: recording pid", timeout=30)
    try:
        during()
    finally:
        rc = p.wait(timeout=secs + 60)
    assert rc == 0, err.text()
    return report(path)


def load(t, port, requests, connections=4, *extra, check=True):
    r = subprocess.run([NPLOAD, "--addr", t.ns_ip, "--port", str(port), "--requests",
                        str(requests), "--connections", str(connections), *extra],
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def iface(rep, name):
    for i in rep["interfaces"]:
        if i["name"] == name:
            return i
    raise AssertionError(f"no interface {name} in {[i['name'] for i in rep['interfaces']]}")


def source(rep, name):
    return next(s for s in rep["sources"] if s["name"] == name)


def test_target_in_own_namespace_is_found_and_polled(topo, tmp_path):
    port, pid = topo.server("--keepalive", "on")
    rep = record(pid, str(tmp_path / "ns.nprof"), 3, lambda: load(topo, port, 30000, 4))
    assert source(rep, "sockets")["status"] == "ok", source(rep, "sockets")
    assert "setns" in source(rep, "sockets")["detail"]
    listeners = [s for s in rep["sockets"] if s.get("listener")]
    assert len(listeners) == 1 and listeners[0]["local"] == f"{topo.ns_ip}:{port}"
    conns = [s for s in rep["sockets"] if not s.get("listener")]
    assert len(conns) == 4, rep["sockets"]
    assert all(s["peer"].startswith(topo.host_ip + ":") for s in conns)
    assert all(s["rtt_us_max"] > 0 for s in conns)
    target_if = iface(rep, topo.ns_if)
    assert target_if["netns"] == "target" and target_if["kind"] == "veth"
    assert target_if["rx_packets"] >= 2000 and target_if["tx_packets"] >= 2000
    peer = iface(rep, topo.host_if)
    assert peer["netns"] == "host" and "veth_peer" in peer["roles"]
    assert rep["network"]["config"]["netns.same"] == "0"
    assert rep["network"]["counters"]["Tcp.PassiveOpens"] >= 4
    assert len(rep["cpus"]) == os.cpu_count()
    assert sum(c["net_rx"] for c in rep["cpus"]) > 0


def test_slow_reader_shows_recv_q_growth(topo, tmp_path):
    port, pid = topo.server("--read-delay-ms", "300", "--rcvbuf", "65536")

    def during():
        # Requests carry a large body the server reads slowly: the kernel
        # holds it in the socket's receive queue.
        load(topo, port, 8, 2, "--upload-bytes", "200000", "--timeout-ms", "2500", check=False)

    rep = record(pid, str(tmp_path / "slow.nprof"), 3, during)
    conns = [s for s in rep["sockets"] if not s.get("listener")]
    assert conns, rep["sockets"]
    top = max(s["recv_q_max"] for s in conns)
    assert top >= 10000, conns
    assert max(w["recv_q_max"] for w in rep["network"]["windows"]) == top


def test_tbf_shows_qdisc_backlog_and_drops(topo, tmp_path):
    # egress of the server's veth: 2 Mbit/s with a small queue
    topo.nsx("tc", "qdisc", "add", "dev", topo.ns_if, "root", "tbf", "rate", "2mbit",
             "burst", "4kb", "limit", "30kb")
    port, pid = topo.server("--body-bytes", "2000000")
    rep = record(pid, str(tmp_path / "tbf.nprof"), 3,
                 lambda: load(topo, port, 6, 3, check=False))
    q = iface(rep, topo.ns_if)["qdisc"]
    assert q["kind"] == "tbf", q
    assert q["backlog_max"] > 0, q
    assert q["overlimits"] > 0, q
    assert any(w["qdisc_backlog_max"] > 0 for w in rep["network"]["windows"])


def test_tbf_drops(topo, tmp_path):
    # UDP cannot back off: a flood through a tiny tbf queue must drop
    topo.nsx("tc", "qdisc", "add", "dev", topo.ns_if, "root", "tbf", "rate", "1mbit",
             "burst", "2kb", "limit", "3kb")
    code = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"s.connect(('{topo.host_ip}',9))\nprint('ready',flush=True)\ninput()\n"
            "end=time.time()+1.5\n"
            "while time.time()<end:\n  try: s.send(b'x'*1200)\n  except OSError: pass\n"
            "input()\n")
    p = subprocess.Popen(["ip", "netns", "exec", topo.ns, sys.executable, "-c", code],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    topo.procs.append(p)
    assert p.stdout.readline().strip() == "ready"

    def during():
        p.stdin.write("\n")
        p.stdin.flush()
        time.sleep(2)

    rep = record(p.pid, str(tmp_path / "tbfdrop.nprof"), 3, during)
    p.stdin.write("\n")
    p.stdin.flush()
    q = iface(rep, topo.ns_if)["qdisc"]
    assert q["drops"] > 0, q
    assert sum(w["qdisc_drops"] for w in rep["network"]["windows"]) == q["drops"]
    udp = [s for s in rep["sockets"] if s["proto"] == "udp"]
    assert udp and udp[0]["peer"] == f"{topo.host_ip}:9"


def test_nft_random_drops_show_retransmits(topo, tmp_path):
    # Drop 15% of the server's TCP segments where they arrive on the host
    # end of the pair (netdev ingress hook of our own veth, in a table of
    # our own): the loss happens on the path, so the server retransmits.  A
    # drop on the server's own output or egress would be returned to TCP as
    # a local error and never counted as a retransmission.
    topo.nft_table = f"np4d{topo.host_if[4:]}"
    sh("nft", "add", "table", "netdev", topo.nft_table)
    sh("nft", "add", "chain", "netdev", topo.nft_table, "in",
       f"{{ type filter hook ingress device {topo.host_if} priority 0 ; }}")
    sh("nft", "add", "rule", "netdev", topo.nft_table, "in", "meta", "l4proto", "tcp",
       "numgen", "random", "mod", "100", "<", "15", "drop")
    port, pid = topo.server("--body-bytes", "50000")
    rep = record(pid, str(tmp_path / "nft.nprof"), 4,
                 lambda: load(topo, port, 3000, 4, check=False))
    assert rep["network"]["counters"]["Tcp.RetransSegs"] > 0
    assert sum(s["retrans"] for s in rep["sockets"]) > 0
    assert sum(w["retrans"] for w in rep["network"]["windows"]) == \
        rep["network"]["counters"]["Tcp.RetransSegs"]


def test_xdp_drops_show_in_driver_counters(topo, tmp_path):
    obj = str(tmp_path / "xdp_drop.o")
    src = os.path.join(TOP, "tests", "integration", "bpf", "xdp_drop.bpf.c")
    arch = sh("gcc", "-print-multiarch").stdout.strip()
    sh("clang", "-O2", "-g", "-target", "bpf", f"-I/usr/include/{arch}", "-c", src, "-o", obj)
    # drop 30% of what the server's veth receives
    topo.nsx("ip", "link", "set", "dev", topo.ns_if, "xdp", "obj", obj, "sec", "xdp")
    port, pid = topo.server()
    rep = record(pid, str(tmp_path / "xdp.nprof"), 4,
                 lambda: load(topo, port, 300, 4, check=False))
    f = iface(rep, topo.ns_if)
    moved = {e["name"]: e["delta"] for e in f["ethtool"]}
    xdp = sum(v for k, v in moved.items() if "xdp_drops" in k)
    assert xdp > 0, moved
    assert f["driver_drops"] >= xdp
    assert sum(w["driver_drops"] for w in rep["network"]["windows"]) == f["driver_drops"]


# A client on the host that holds `idle` keep-alive connections (one request
# each, then quiet), one busy connection (a request every 50 ms), and on
# command opens one more connection or closes an idle one, printing the
# CLOCK_MONOTONIC time of each (Python's time.monotonic() is that clock, the
# one netprof timestamps with).
_CLIENT = r"""
import socket, sys, threading, time
addr, port, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
def conn():
    s = socket.create_connection((addr, port))
    s.sendall(req)
    s.recv(65536)
    return s
conns = [conn() for _ in range(idle)]
busy = conn()
stop = threading.Event()
def spin():
    while not stop.is_set():
        busy.sendall(req)
        busy.recv(65536)
        time.sleep(0.05)
threading.Thread(target=spin, daemon=True).start()
print("ready", busy.getsockname()[1], conns[0].getsockname()[1], flush=True)
for line in sys.stdin:
    if line.startswith("open"):
        t = time.monotonic()
        x = conn()
        print("opened", t, x.getsockname()[1], flush=True)
    elif line.startswith("close"):
        t = time.monotonic()
        conns[0].close()
        print("closed", t, flush=True)
    else:
        break
stop.set()
"""


@pytest.mark.parametrize("fds", ["bpf", "proc"])
def test_every_socket_every_poll_and_new_ones_at_once(topo, tmp_path, fds):
    """Every socket's state and queues are read on every poll and its
    tcp_info at least once, while sock_diag is asked only about the busy
    sockets and a slice of the idle ones (BPF fd walk); a connection opened
    while recording is seen at the next poll and a closed one is final."""
    idle = 200
    port, pid = topo.server("--keepalive", "on")
    cli = subprocess.Popen([sys.executable, "-c", _CLIENT, topo.ns_ip, str(port), str(idle)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    topo.procs.append(cli)
    ready = cli.stdout.readline().split()
    assert ready[0] == "ready", ready
    busy_port, closed_port = int(ready[1]), int(ready[2])
    events = {}

    def during():
        time.sleep(0.8)
        cli.stdin.write("open\n")
        cli.stdin.flush()
        opened = cli.stdout.readline().split()
        events["open"], events["open_port"] = float(opened[1]), int(opened[2])
        time.sleep(0.6)
        cli.stdin.write("close\n")
        cli.stdin.flush()
        events["close"] = float(cli.stdout.readline().split()[1])

    env_before = os.environ.get("NETPROF_SOCKET_FDS")
    os.environ["NETPROF_SOCKET_FDS"] = fds
    try:
        rep = record(pid, str(tmp_path / f"every-{fds}.nprof"), 3, during)
    finally:
        if env_before is None:
            del os.environ["NETPROF_SOCKET_FDS"]
        else:
            os.environ["NETPROF_SOCKET_FDS"] = env_before
    cli.stdin.write("quit\n")
    cli.stdin.flush()

    detail = source(rep, "sockets")["detail"]
    assert ("BPF iterator" in detail) == (fds == "bpf"), detail
    start_s = rep["window"]["start_ns"] / 1e9
    polls = rep["network"]["polling"]["polls"]
    conns = {int(s["peer"].rsplit(":", 1)[1]): s for s in rep["sockets"] if not s["listener"]}
    assert len(conns) == idle + 2, sorted(conns)
    assert all(s["rtt_us_max"] > 0 for s in conns.values())
    late = {events["open_port"], closed_port}
    for p, s in conns.items():
        if p not in late:
            # queues and state on every poll, idle or not
            assert s["polls"] == polls and not s["closed"], (p, s, polls)
    assert conns[busy_port]["bytes_received"] > 0

    new = conns[events["open_port"]]
    seen = start_s + new["first_offset_ns"] / 1e9 - events["open"]
    assert 0 <= seen <= (0.35 if fds == "bpf" else 1.5), (seen, new)
    gone = conns[closed_port]
    assert gone["closed"], gone
    last = start_s + gone["last_offset_ns"] / 1e9 - events["close"]
    assert -0.35 <= last <= 0.05, (last, gone)
    if fds == "bpf":
        # sock_diag is asked about the busy connection and about one idle
        # socket in ten per poll; the fd walk reads the others' queues
        assert rep["network"]["polling"]["sockdiag_sockets_p50"] <= idle // 4, rep["network"]["polling"]
