#!/usr/bin/env python3
"""Records rtnetlink replies and ethtool statistics of real interfaces for
the unit tests (tests/fixtures/netdev/, tests/unit/test_linkstats.c).

Run as root.  Makes two namespaces, t18-nd and t18-nd-peer, joined by a
veth pair (t18a in t18-nd, 10.18.0.1/24; t18b in the peer, 10.18.0.2/24),
and records, in t18-nd, before (t0) and after (t1) 300 UDP datagrams to
port 9 (nobody listens) of the peer and of 127.0.0.1:
  link_<if>_<t>.bin   the RTM_NEWLINK answer to an RTM_GETLINK of lo and t18a
  qdisc_<t>.bin       the RTM_NEWQDISC dump (all interfaces), up to NLMSG_DONE
  ip_<if>_<t>.txt     the same counters as iproute2 reads them
                      (`ip -s -s -j link show`), key=value, for comparison
  ethtool_<t>.txt     `ethtool -S t18a` (the veth driver's statistics)
  tc_<t>.txt          `tc -s -j qdisc show dev t18a`, key=value
The namespaces are deleted at the end.

With a device name (capture_netdev.py OUTDIR --device eth0) it only reads
that device in the current namespace, twice two seconds apart, and sends
nothing: link_<dev>_<t>.bin, ip_<dev>_<t>.txt and ethtool_<dev>_<t>.txt.

usage: capture_netdev.py OUTDIR [--device DEV]
"""
import json
import os
import platform
import socket
import struct
import subprocess
import sys
import time

NS, PEER = "t18-nd", "t18-nd-peer"
RTM_GETLINK, RTM_GETQDISC = 18, 38
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300


def sh(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def rtnl(req):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.send(req)
    out = b""
    while True:
        chunk = s.recv(1 << 16)
        out += chunk
        off, done = 0, False
        while off + 16 <= len(chunk):
            ln, typ = struct.unpack_from("=IH", chunk, off)
            done |= typ in (2, 3)  # NLMSG_ERROR, NLMSG_DONE
            off += (ln + 3) & ~3
        if done or not struct.unpack_from("=H", chunk, 6)[0] & 2:  # not NLM_F_MULTI
            s.close()
            return out


def get_link(ifindex):
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0)
    return rtnl(struct.pack("=IHHII", 16 + len(body), RTM_GETLINK, NLM_F_REQUEST, 1, 0) + body)


def dump_qdiscs():
    body = struct.pack("=BxxxiIII", socket.AF_UNSPEC, 0, 0, 0, 0)
    return rtnl(struct.pack("=IHHII", 16 + len(body), RTM_GETQDISC,
                            NLM_F_REQUEST | NLM_F_DUMP, 2, 0) + body)


def flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, f"{prefix}{k}.")
        elif isinstance(v, (int, str)):
            yield f"{prefix}{k}", v


def read_device(out, name, t):
    idx = socket.if_nametoindex(name)
    open(os.path.join(out, f"link_{name}_{t}.bin"), "wb").write(get_link(idx))
    j = json.loads(subprocess.run(["ip", "-s", "-s", "-j", "link", "show", "dev", name],
                                  check=True, capture_output=True, text=True).stdout)[0]
    with open(os.path.join(out, f"ip_{name}_{t}.txt"), "w") as f:
        f.write(f"ifindex={idx}\n")
        for k, v in flat(j.get("stats64", {})):
            f.write(f"{k}={v}\n")
        f.write(f"operstate={j.get('operstate')}\n")


def device(out, name):
    for t in ("t0", "t1"):
        read_device(out, name, t)
        drv = subprocess.run(["ethtool", "-i", name], capture_output=True, text=True).stdout
        st = subprocess.run(["ethtool", "-S", name], capture_output=True, text=True)
        open(os.path.join(out, f"ethtool_{name}_{t}.txt"), "w").write(
            drv + "\n" + (st.stdout or st.stderr))
        if t == "t0":
            time.sleep(2)
    with open(os.path.join(out, f"CAPTURED_{name}"), "w") as f:
        f.write(f"captured {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} on "
                f"{platform.release()}, device {name}, read only\n")


def snapshot(out, t):
    if os.environ.get("NETNS_CHILD") != "1":
        raise SystemExit("snapshot runs inside the namespace")
    for name in ("lo", "t18a"):
        idx = socket.if_nametoindex(name)
        open(os.path.join(out, f"link_{name}_{t}.bin"), "wb").write(get_link(idx))
        j = json.loads(subprocess.run(["ip", "-s", "-s", "-j", "link", "show", "dev", name],
                                      check=True, capture_output=True, text=True).stdout)[0]
        with open(os.path.join(out, f"ip_{name}_{t}.txt"), "w") as f:
            f.write(f"ifindex={idx}\n")
            for k, v in flat(j.get("stats64", {})):
                f.write(f"{k}={v}\n")
            f.write(f"operstate={j.get('operstate')}\n")
            f.write(f"link_carrier_changes={j.get('link_carrier_changes', '')}\n")
    open(os.path.join(out, f"qdisc_{t}.bin"), "wb").write(dump_qdiscs())
    j = json.loads(subprocess.run(["tc", "-s", "-j", "qdisc", "show", "dev", "t18a"],
                                  check=True, capture_output=True, text=True).stdout)
    with open(os.path.join(out, f"tc_{t}.txt"), "w") as f:
        for q in j:
            for k, v in flat(q):
                f.write(f"{q['handle']}.{k}={v}\n")
    open(os.path.join(out, f"ethtool_{t}.txt"), "w").write(
        subprocess.run(["ethtool", "-S", "t18a"], check=True, capture_output=True,
                       text=True).stdout)


def main(out):
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    if len(sys.argv) > 3 and sys.argv[2] == "--device":
        device(out, sys.argv[3])
        return
    if len(sys.argv) > 2:  # re-invoked inside the namespace: one snapshot
        snapshot(out, sys.argv[2])
        return
    for ns in (NS, PEER):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", NS, "link", "add", "t18a", "type", "veth", "peer", "name", "t18b",
           "netns", PEER)
        # no IPv6: its neighbour discovery would send packets on its own,
        # between a netlink dump and iproute2's reading of the same counters
        for ns in (NS, PEER):
            sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
            sh("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        sh("ip", "-n", NS, "addr", "add", "10.18.0.1/24", "dev", "t18a")
        sh("ip", "-n", PEER, "addr", "add", "10.18.0.2/24", "dev", "t18b")
        for ns, dev in ((NS, "t18a"), (NS, "lo"), (PEER, "t18b"), (PEER, "lo")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        # a queueing qdisc, so its counters move (a veth has noqueue)
        sh("tc", "-n", NS, "qdisc", "add", "dev", "t18a", "root", "handle", "1:", "pfifo",
           "limit", "500")
        time.sleep(1)
        env = dict(os.environ, NETNS_CHILD="1")
        me = os.path.abspath(__file__)
        subprocess.run(["ip", "netns", "exec", NS, sys.executable, me, out, "t0"], check=True,
                       env=env)
        sh(sys.executable, "-c", "import socket, time\n"
           "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
           "for i in range(300):\n"
           "    s.sendto(b'x' * 1000, ('10.18.0.2', 9))\n"
           "    s.sendto(b'y' * 100, ('127.0.0.1', 9))\n"
           "    time.sleep(0.001)\n", ns=NS)
        time.sleep(0.5)
        subprocess.run(["ip", "netns", "exec", NS, sys.executable, me, out, "t1"], check=True,
                       env=env)
        with open(os.path.join(out, "CAPTURED"), "w") as f:
            f.write(f"captured {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} on "
                    f"{platform.release()}, namespaces {NS} and {PEER}\n")
    finally:
        for ns in (NS, PEER):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/netdev")
