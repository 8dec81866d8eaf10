"""netprof report A B C: three recordings made at once, joined.

Topology (names npjn-*, removed again on every exit path):

  client ns (python http.client, keep-alive)  10.X.1.1
     <-veth->  10.X.1.2 proxy ns (nginx, proxy_pass, upstream keepalive)  10.X.2.1
     <-veth->  10.X.2.2 upstream ns (npserver, 8 KiB bodies)

with a tbf shaper (1 Mbit/s, 10000-byte bucket) on the upstream's egress:
its responses to the proxy.  That link's MTU is 9000, so a response (the
head and 8 KiB of body, written at once) is one segment: the proxy's first
response byte comes with its last, and the join's network (to the first
byte) holds the whole transfer.  The client sends requests back to back on
one connection, so each response takes all the tokens the bucket has and
the next one waits for its own: its wire bytes * 8 / 1 Mbit/s, about 68 ms
(less the tokens of the few hundred microseconds between two responses,
under 5%).  A few requests first, spaced 150 ms apart, find the bucket
full: their quick round trips bound the clock offsets tightly.

Three netprof processes record the client, the nginx master (and its
worker) and npserver at once (--sample 1: every exchange an event); the
join must put the shaper's wait on the proxy -> upstream network, nothing
beyond noise on the client -> proxy network, clock offsets within 100 us of
zero, and recover a shift of hours put into one recording's clock.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import BUILD, NETPROF, NPSERVER, TOP, LineReader

SHIFT_CLOCK = os.path.join(BUILD, "tests", "np_shift_clock")
RATE_BPS = 1_000_000
# npserver's head (about 100 bytes) + 8192 of body + TCP (with timestamps),
# IP and Ethernet headers
RESPONSE_WIRE_BYTES = 100 + 8192 + 32 + 20 + 14
SHAPER_NS = RESPONSE_WIRE_BYTES * 8 * 1_000_000_000 // RATE_BPS
REQUESTS = 30
SPACED = 6

CLIENT = r"""
import http.client, os, sys, time
host, port, n, spaced = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("pid", os.getpid(), flush=True)
sys.stdin.readline()
for i in range(spaced):
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", "/spaced")
    c.getresponse().read()
    c.close()
    time.sleep(0.15)
c = http.client.HTTPConnection(host, port, timeout=10)
for i in range(n):
    c.request("GET", "/big")
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
print("done", flush=True)
"""


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise AssertionError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


class Topo:
    def __init__(self):
        n = os.getpid() % 200 + 20
        self.n = n
        self.ns = {k: f"npjn-{k}{n}" for k in ("c", "p", "u")}
        self.ip = {"c": f"10.77.{n}.1", "p1": f"10.77.{n}.2", "p2": f"10.78.{n}.1",
                   "u": f"10.78.{n}.2"}
        self.work = tempfile.mkdtemp(prefix="npjn-")
        self.procs, self.nginx_pid = [], None
        self.cleanup_links()
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            self.x(ns, "ip", "link", "set", "lo", "up")
        self.link("c", f"npjnc{n}", "p", f"npjnpc{n}", self.ip["c"], self.ip["p1"])
        self.link("p", f"npjnpu{n}", "u", f"npjnu{n}", self.ip["p2"], self.ip["u"], mtu=9000)
        # the shaper: the upstream's egress, its responses to the proxy
        self.x(self.ns["u"], "tc", "qdisc", "add", "dev", f"npjnu{n}", "root", "tbf", "rate",
               "1mbit", "burst", "10000", "limit", "300000")

    def x(self, ns, *args, check=True):
        return sh("ip", "netns", "exec", ns, *args, check=check)

    def link(self, a, a_if, b, b_if, a_ip, b_ip, mtu=1500):
        sh("ip", "link", "add", a_if, "netns", self.ns[a], "mtu", str(mtu), "type", "veth",
           "peer", "name", b_if, "mtu", str(mtu), "netns", self.ns[b])
        self.x(self.ns[a], "ip", "addr", "add", f"{a_ip}/24", "dev", a_if)
        self.x(self.ns[b], "ip", "addr", "add", f"{b_ip}/24", "dev", b_if)
        self.x(self.ns[a], "ip", "link", "set", a_if, "up")
        self.x(self.ns[b], "ip", "link", "set", b_if, "up")

    def popen(self, ns, *args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns], *args], **kw)
        self.procs.append(p)
        return p

    def upstream(self):
        p = self.popen("u", NPSERVER, "--addr", self.ip["u"], "--port", "0", "--body-bytes",
                       "8192", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        m = LineReader(p.stdout).wait_for(r"listening on (\S+):(\d+) pid (\d+)")
        return int(m.group(2)), int(m.group(3))

    def nginx(self, upstream_port):
        w = self.work
        for d in ("logs", "tmp"):
            os.makedirs(f"{w}/{d}", exist_ok=True)
        with open(f"{w}/nginx.conf", "w") as f:
            f.write(f"""worker_processes 1;
daemon on;
pid {w}/nginx.pid;
error_log {w}/logs/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {w}/tmp/body;
  proxy_temp_path {w}/tmp/proxy;
  fastcgi_temp_path {w}/tmp/fastcgi;
  uwsgi_temp_path {w}/tmp/uwsgi;
  scgi_temp_path {w}/tmp/scgi;
  upstream up {{ server {self.ip['u']}:{upstream_port}; keepalive 4; }}
  server {{
    listen {self.ip['p1']}:8080;
    location / {{
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
        self.x(self.ns["p"], "/usr/sbin/nginx", "-p", w, "-c", "nginx.conf")
        for _ in range(50):
            if os.path.exists(f"{w}/nginx.pid"):
                break
            time.sleep(0.1)
        self.nginx_pid = int(open(f"{w}/nginx.pid").read())
        return 8080, self.nginx_pid

    def client(self, port):
        p = self.popen("c", sys.executable, "-c", CLIENT, self.ip["p1"], str(port),
                       str(REQUESTS), str(SPACED), stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = LineReader(p.stdout)
        pid = int(out.wait_for(r"pid (\d+)").group(1))
        return p, out, pid

    def cleanup_links(self):
        for ns in self.ns.values():
            sh("ip", "netns", "del", ns, check=False)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.nginx_pid:
            try:
                os.kill(self.nginx_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            time.sleep(0.3)
        self.cleanup_links()
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture
def topo():
    t = Topo()
    yield t
    t.cleanup()


def hop(doc, caller, callee):
    for h in doc["hops"]:
        if h["caller"] == caller and h["callee"] == callee:
            return h
    raise AssertionError(f"no hop {caller} -> {callee} in "
                         f"{[(h['caller'], h['callee']) for h in doc['hops']]}")


def join(*paths):
    """The joined report, validated against docs/join.schema.json."""
    import jsonschema  # python3-jsonschema (tools/install-deps.sh)
    r = subprocess.run([NETPROF, "report", *map(str, paths), "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    with open(os.path.join(TOP, "docs", "join.schema.json"), encoding="utf-8") as f:
        jsonschema.validate(doc, json.load(f))
    return doc


def test_three_recordings_of_a_proxied_request_join(topo, tmp_path):
    up_port, up_pid = topo.upstream()
    ng_port, ng_pid = topo.nginx(up_port)
    client, out, client_pid = topo.client(ng_port)
    paths = {k: tmp_path / f"{k}.nprof" for k in ("client", "nginx", "upstream")}
    pids = {"client": client_pid, "nginx": ng_pid, "upstream": up_pid}
    # three recorders at once: each must keep to its own target
    recs = {k: subprocess.Popen([NETPROF, "record", "-v", "-p", str(pids[k]), "-d", "12",
                                 "--sample", "1", "-o", str(paths[k])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for k in paths}
    errs = {k: LineReader(p.stderr) for k, p in recs.items()}
    for k in recs:
        errs[k].wait_for(r"netprof: recording pid", timeout=60)
    client.stdin.write(b"go\n")
    client.stdin.flush()
    out.wait_for(r"done", timeout=60)
    for k, p in recs.items():
        assert p.wait(timeout=90) == 0, errs[k].text()

    doc = join(paths["client"], paths["nginx"], paths["upstream"])
    (tmp_path / "join.json").write_text(json.dumps(doc, indent=1))
    names = [r["name"] for r in doc["recordings"]]
    # the client's name is its interpreter's (python3, python3.11, ...)
    assert names[0].startswith("python") and names[1:] == ["nginx", "npserver"], names
    front = hop(doc, names[0], "nginx")
    back = hop(doc, "nginx", "npserver")
    # every request joined on both hops
    assert front["exchanges"] >= REQUESTS + SPACED - 1, front
    assert back["exchanges"] >= REQUESTS + SPACED - 1, back
    # one host: the clocks agree, and the estimate says so within 100 us
    for r in doc["recordings"][1:]:
        assert r["clock"] is not None, r
        assert abs(r["clock"]["offset_ns"]) <= 100_000, r
    # the shaper's wait is the back hop's network: the back-to-back
    # requests (most of them) wait SHAPER_NS for their one segment
    assert abs(back["network_p50_ns"] - SHAPER_NS) <= 0.2 * SHAPER_NS, (back, SHAPER_NS)
    # the front hop's network is noise: under 5% of its peer time
    assert front["network_share"] < 0.05, front
    assert "network between nginx and npserver" in doc["verdict"], doc["verdict"]
    assert doc["slowest"] and len(doc["slowest"][0]["steps"]) == 2, doc["slowest"]
    assert doc["unjoined_connections"] == 0, doc["unjoined"]

    # the upstream's clock moved by hours, as another host's would be
    shift = 3 * 3600 * 1_000_000_000 + 987_654_321
    shifted = tmp_path / "upstream-shifted.nprof"
    subprocess.run([SHIFT_CLOCK, str(paths["upstream"]), str(shifted), str(shift)], check=True)
    doc2 = join(paths["client"], paths["nginx"], shifted)
    up = doc2["recordings"][2]["clock"]
    assert abs(up["offset_ns"] - shift) <= 100_000, (up, shift)
    back2 = hop(doc2, "nginx", "npserver")
    assert back2["network_ns"] == back["network_ns"], (back2, back)
