"""examples/scenarios/groundtruth.py on raw tool output written by hand.

The scenario tests trust groundtruth.py to say whether a fault happened; if
its parsers misread nstat, nft, softnet_stat, ss or wrk output, a scenario
could pass without its fault.  These tests feed it known snapshots and check
the deltas, the checks and the exit status (0 as expected, 3 other verdict,
4 fault not reproduced).
"""
import json
import os
import subprocess
import sys

from conftest import TOP

GT = os.path.join(TOP, "examples", "scenarios", "groundtruth.py")

WRK = """Running 16s test @ http://10.77.8.1:8080/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.21ms   40.10ms 489.58ms   97.00%
  Latency Distribution
     50%  {p50}
     75%    3.10ms
     90%    4.80ms
     99%  {p99}
  5419 requests in 7.62s, 85.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:    711.36
"""

SS = """# uptime 100.00
{rq}      0      10.77.6.1:8080 10.77.6.2:35860 skmem:(r{r},rb32768,t0,tb69120,f1192,w0,o0,bl0,d3) bbr wscale:10,0
0      0      10.77.6.1:8080 10.77.6.2:35861 skmem:(r0,rb32768,t0,tb69120,f0,w0,o0,bl0,d0) bbr
# listen
LISTEN 2      1      10.77.6.1:8080 0.0.0.0:*
# qdisc
qdisc tbf 8001: root refcnt 2 rate 20Mbit burst 4Kb lat 200ms
 Sent 1000 bytes 10 pkt (dropped 3, overlimits 40 requeues 0)
 backlog 30280b 20p requeues 0
"""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_run(tmp_path, scenario, expect, *, srv=({}, {}), cli=({}, {}), nft=(0, 0),
             softnet=((0, 0, 0), (0, 0, 0)), wrk=("2.00ms", "9.00ms"), ss=None, verdict=None,
             target=None, xdp=(0, 50), rt_xdp=None, rx_bytes=None, qdrops=3, up=None, rps=None,
             cgroup=None, host_cpu=None, files=None):
    out = tmp_path / scenario
    raw = out / "raw"
    raw.mkdir(parents=True)
    write(raw / "scenario.env", f"scenario={scenario}\nvariant=npserver\nexpect={expect}\n"
          "target_pid=1\nserver_veth=np7-x-s\nload=wrk\n")
    for i, ph in enumerate(("before", "after")):
        write(raw / f"{ph}.uptime", f"{100 + 5 * i:.2f} 0.00\n")
        write(raw / f"{ph}.nstat.json", json.dumps({"kernel": srv[i]}))
        write(raw / f"{ph}.cli_nstat.json", json.dumps({"kernel": cli[i]}))
        if up is not None:
            write(raw / f"{ph}.up_nstat.json", json.dumps({"kernel": up[i]}))
        write(raw / f"{ph}.nft.json", json.dumps({"nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"rule": {"family": "inet", "table": "np7-drop", "chain": "in", "handle": 2, "expr": [
                {"counter": {"packets": nft[i], "bytes": 0}}, {"drop": None}]}},
            {"rule": {"family": "inet", "table": "np7-drop", "chain": "in", "handle": 3, "expr": [
                {"counter": {"packets": 1000 * i, "bytes": 0}}, {"accept": None}]}}]}))
        s = softnet[i]
        write(raw / f"{ph}.softnet_stat",
              f"{s[0]:08x} {s[1]:08x} {s[2]:08x} 00000000 00000000\n"
              "00000010 00000000 00000000 00000000 00000000\n")
        write(raw / f"{ph}.tc.json", json.dumps([{"kind": "tbf", "handle": "8001:", "dev": "np7-x-s",
                                                  "packets": 10 * i, "drops": qdrops * i,
                                                  "overlimits": 400 * i, "requeues": 0}]))
        write(raw / f"{ph}.link.json", "[]" if rx_bytes is None else json.dumps([
            {"ifname": "np7-x-s", "stats64": {"rx": {"bytes": rx_bytes[i], "packets": 10 * i},
                                              "tx": {"bytes": 0, "packets": 0}}}]))
        write(raw / f"{ph}.ethtool.txt", f"NIC statistics:\n     rx_queue_0_xdp_drops: {xdp[i]}\n")
        if rt_xdp is not None:
            # the router's two veths, as lib.sh prefixes each line
            write(raw / f"{ph}.rt_ethtool.txt",
                  f"np7-x-r NIC statistics:\nnp7-x-r      rx_queue_0_xdp_drops: {rt_xdp[0][i]}\n"
                  f"np7-x-r      rx_queue_0_xdp_packets: {1000 * i}\n"
                  f"np7-x-q NIC statistics:\nnp7-x-q      rx_queue_0_xdp_drops: {rt_xdp[1][i]}\n")
        if cgroup is not None:
            periods, throttled, ns = cgroup[i]
            write(raw / f"{ph}.cgroup_cpu_stat",
                  f"nr_periods {periods}\nnr_throttled {throttled}\nthrottled_time {ns}\n")
        if host_cpu is not None:
            busy, idle = host_cpu[i]
            # user nice system idle iowait irq softirq steal guest guest_nice
            write(raw / f"{ph}.stat", f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\n"
                  f"cpu0 {busy} 0 0 {idle} 0 0 0 0 0 0\nintr 0\n")
        # raw files a test writes whole: {"softnet_stat": (before, after)}
        for name, texts in (files or {}).items():
            write(raw / f"{ph}.{name}", texts[i])
        t = (target or ((0, 0, 0, 0), (0, 0, 0, 0)))[i]
        write(raw / f"{ph}.target.txt",
              "task 7\n"
              f"stat 7 (npworker-0) S 1 1 1 0 -1 0 0 0 0 0 {t[0]} {t[1]} 0 0 20 0 1 0\n"
              f"schedstat {t[2]} {t[3]} 10\n"
              "voluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t1\n")
    if rps is not None:
        write(raw / "rps_cpus", rps + "\n")
    write(raw / "load.txt", WRK.format(p50=wrk[0], p99=wrk[1]))
    write(raw / "ss.txt", ss or SS.format(rq=0, r=0))
    write(out / "report.json", json.dumps({"verdict": verdict, "findings": []}))
    p = subprocess.run([sys.executable, GT, str(out)], capture_output=True, text=True)
    with open(out / "groundtruth.json", encoding="utf-8") as f:
        return p, json.load(f)


def checks(gt):
    return {c["name"]: (c["value"], c["ok"]) for c in gt["checks"]}


def test_netfilter_fault_seen(tmp_path):
    p, gt = make_run(tmp_path, "stack.netfilter", "stack.netfilter stack.retransmits",
                     srv=({"TcpRetransSegs": 100}, {"TcpRetransSegs": 113}),
                     cli=({"TcpRetransSegs": 5}, {"TcpRetransSegs": 25}), nft=(7, 407),
                     verdict={"cause": "stack.retransmits", "layer": "stack"})
    assert p.returncode == 0, p.stdout + p.stderr
    c = checks(gt)
    # only the drop rule's counter counts, not the accept rule's
    assert c["nft_dropped_packets"] == (400, True)
    assert c["conn_retrans_segs"] == (33, True)
    assert c["load_requests"] == (5419, True)
    n = gt["numbers"]
    assert n["window_s"] == 5.0
    assert n["load"]["errors"] == 3
    assert n["load"]["p50_ms"] == 2.0 and n["load"]["p99_ms"] == 9.0
    assert "as expected" in p.stdout


def test_no_fault_is_exit_4(tmp_path):
    p, gt = make_run(tmp_path, "stack.netfilter", "stack.netfilter stack.retransmits",
                     nft=(7, 7), verdict={"cause": "stack.netfilter", "layer": "stack"})
    assert p.returncode == 4, p.stdout
    assert not gt["fault_reproduced"]
    assert "NOT reproduced" in p.stdout
    assert checks(gt)["nft_dropped_packets"] == (0, False)


def test_other_verdict_is_exit_3(tmp_path):
    p, gt = make_run(tmp_path, "stack.qdisc", "stack.qdisc", wrk=("666.17ms", "1.20s"),
                     ss=SS.format(rq=0, r=0), verdict={"cause": "app.cpu", "layer": "application"})
    assert p.returncode == 3, p.stdout
    c = checks(gt)
    assert c["qdisc_overlimits"] == (400, True)
    # 3 drops over the window + a 20-packet backlog seen by the sampler
    assert c["qdisc_drops_or_backlog"] == (23, True)
    assert c["load_p50_ms"] == (666.17, True)
    assert gt["numbers"]["ss"]["qdisc_backlog_max_bytes"] == 30280
    assert gt["verdict"] == "app.cpu" and not gt["verdict_as_expected"]


def test_softnet_columns_are_hex(tmp_path):
    p, gt = make_run(tmp_path, "stack.softirq", "stack.softirq", rps="1",
                     softnet=((0x100, 0x0a, 0x01), (0x300, 0x1f, 0x02)))
    c = checks(gt)
    assert c["softnet_dropped"] == (0x15, True)
    assert c["softnet_dropped_or_squeezed"] == (0x16, True)
    assert gt["numbers"]["softnet"][0] == {"cpu": 0, "processed": 0x200, "dropped": 0x15,
                                            "time_squeeze": 1}
    assert p.returncode == 3  # the fault is there; the verdict (null) is not


def test_softnet_drops_on_the_steered_cpu(tmp_path):
    """stack.softirq: the drops must be on the CPU RPS steers to (the
    fixture's drops are all on CPU 0, the first line)."""
    def run(name, mask):
        return make_run(tmp_path / name, "stack.softirq", "stack.softirq", rps=mask,
                        softnet=((0x100, 0x0a, 0x01), (0x300, 0x1f, 0x02)),
                        verdict={"cause": "stack.softirq", "layer": "stack"})

    p, gt = run("steered-cpu0", "1")
    assert p.returncode == 0, p.stdout
    assert gt["numbers"]["rps_cpus"] == [0]
    assert checks(gt)["softnet_dropped_on_rps_cpus_share"] == (1.0, True)
    # steered to CPU 1, dropped on CPU 0: someone else's drops
    p, gt = run("steered-cpu1", "2")
    assert p.returncode == 4, p.stdout
    assert gt["numbers"]["rps_cpus"] == [1]
    assert checks(gt)["softnet_dropped_on_rps_cpus_share"] == (0.0, False)


def test_softirq_steal_needs_cpu1_busy_in_softirq_without_drops(tmp_path):
    """stack.softirq.steal: RPS to CPU 1 alone, CPU 1 processing nearly
    every backlog packet and in softirq 30% of the window or more, no
    backlog drop, and the server waiting for its CPU."""
    def run(name, mask="2", cpu1_processed=0x90000, cpu1_softirq=200, dropped=0, wait_ns=3 * 10**8):
        def softnet(i):
            return (f"{0x1000 * i:08x} 00000000 00000000 00000000 00000000\n"
                    f"{cpu1_processed * i:08x} {dropped * i:08x} 00000000 00000000 00000000\n")

        def stat(i):
            # user nice system idle iowait irq softirq steal guest guest_nice
            return (f"cpu  {1000 * i} 0 0 0 0 0 0 0 0 0\n"
                    f"cpu0 {500 * i} 0 0 0 0 0 0 0 0 0\n"
                    f"cpu1 {(500 - cpu1_softirq) * i} 0 0 0 0 0 {cpu1_softirq * i} 0 0 0\n")
        files = {"softnet_stat": (softnet(0), softnet(1)), "stat": (stat(0), stat(1)),
                 "softirqs": ("       CPU0  CPU1\n NET_RX: 10 20\n",
                              "       CPU0  CPU1\n NET_RX: 5010 6020\n")}
        return make_run(tmp_path / name, "stack.softirq.steal", "stack.softirq", rps=mask,
                        files=files, target=((0, 0, 0, 0), (0, 0, 10**8, wait_ns)),
                        verdict={"cause": "stack.softirq", "layer": "stack"})

    p, gt = run("steal")
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["rps_cpus_cpu1_only"] == (1, True)
    assert c["softnet_processed_on_cpu1_share"] == (round(0x90000 / 0x91000, 3), True)
    assert c["cpu1_softirq_share"] == (0.4, True)
    assert c["softnet_dropped"] == (0, True)
    assert c["target_runqueue_wait_of_demand"] == (0.75, True)
    assert gt["numbers"]["net_rx_raised"] == [5000, 6000]
    # RPS to both CPUs: not steered onto the server's CPU
    p, gt = run("both-cpus", mask="3")
    assert p.returncode == 4, p.stdout
    assert checks(gt)["rps_cpus_cpu1_only"] == (0, False)
    # the receive work stayed on CPU 0 (no RPS in effect)
    p, gt = run("cpu0-work", cpu1_processed=0x10)
    assert p.returncode == 4, p.stdout
    assert not checks(gt)["softnet_processed_on_cpu1_share"][1]
    # CPU 1 hardly in softirq
    p, gt = run("quiet-cpu1", cpu1_softirq=25)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["cpu1_softirq_share"] == (0.05, False)
    # backlog drops: the other softirq scenario
    p, gt = run("drops", dropped=0x40)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["softnet_dropped"] == (0x40, False)
    # the server never waited for its CPU
    p, gt = run("no-wait", wait_ns=0)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["target_runqueue_wait_of_demand"] == (0, False)


def test_rps_mask_words(tmp_path):
    p, gt = make_run(tmp_path, "stack.softirq", "stack.softirq", rps="00000000,00000003")
    assert gt["numbers"]["rps_cpus"] == [0, 1]


def test_peer_slow_needs_the_upstream_contacted(tmp_path):
    """peer.slow: the upstream namespace received segments, at least one
    per client request (wrk's 711.36 requests/s over the 5 s window)."""
    def run(name, segs):
        return make_run(tmp_path / name, "peer.slow", "peer.slow", wrk=("52.00ms", "60.00ms"),
                        up=({"TcpInSegs": 10}, {"TcpInSegs": 10 + segs}),
                        verdict={"cause": "peer.slow", "layer": "peer"})

    p, gt = run("called", 7200)
    assert p.returncode == 0, p.stdout
    assert checks(gt)["upstream_in_segs_per_request"] == (round(7200 / 5 / 711.36, 3), True)
    # a target that answered without its upstream (a cache, a sleep)
    p, gt = run("not-called", 0)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["upstream_in_segs_per_request"] == (0.0, False)


def test_split_upstream_replies_need_the_targets_delayed_acks(tmp_path):
    """peer.slow.split: each request waits ~40 ms because the target's
    namespace delays its ACK of the reply's first part (wrk's 711.36
    requests/s over the 5 s window)."""
    def run(name, acks, p50="44.00ms"):
        return make_run(tmp_path / name, "peer.slow.split", "peer.slow", wrk=(p50, "60.00ms"),
                        srv=({"TcpExtDelayedACKs": 5}, {"TcpExtDelayedACKs": 5 + acks}),
                        up=({"TcpInSegs": 10}, {"TcpInSegs": 7210}),
                        verdict={"cause": "peer.slow", "layer": "peer"})

    p, gt = run("split", 3500)
    assert p.returncode == 0, p.stdout
    assert checks(gt)["srv_delayed_acks_per_request"] == (round(3500 / 5 / 711.36, 3), True)
    # replies in one part: no delayed ACK held them, and no 40 ms wait
    p, gt = run("whole", 10, p50="1.20ms")
    assert p.returncode == 4, p.stdout
    assert checks(gt)["srv_delayed_acks_per_request"][1] is False
    assert checks(gt)["load_p50_ms"][1] is False


def test_backpressure_reads_ss(tmp_path):
    ss = "".join(SS.format(rq=21720, r=31000) for _ in range(3))
    p, gt = make_run(tmp_path, "app.backpressure", "app.backpressure",
                     srv=({"TcpExtTCPToZeroWindowAdv": 1}, {"TcpExtTCPToZeroWindowAdv": 47}), ss=ss,
                     verdict={"cause": "app.backpressure", "layer": "application"})
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["recv_q_max_bytes"] == (21720, True)
    assert c["recv_q_full_samples"] == (3, True)  # r 31000 >= 90% of rb 32768
    assert c["zero_window_adverts"] == (46, True)
    ssn = gt["numbers"]["ss"]
    assert ssn["samples"] == 3 and ssn["accept_q_max"] == 2 and ssn["accept_q_limit"] == 1


def test_healthy_null_verdict_and_cpu(tmp_path):
    tck = os.sysconf("SC_CLK_TCK")
    p, gt = make_run(tmp_path, "healthy", "none", wrk=("79.00us", "2.93ms"),
                     target=((10, 5, 10**9, 0), (10 + tck // 10, 5, 10**9 + 2 * 10**8, 10**8)))
    assert p.returncode == 4, p.stdout  # the wrk output has socket errors: not healthy
    c = checks(gt)
    assert c["load_errors"] == (3, False)
    assert c["load_p99_ms"] == (2.93, True)
    assert c["busiest_thread_cpu_share"] == (0.04, True)  # 0.2 s on CPU in 5 s
    t = gt["numbers"]["target_threads"][0]
    assert t["comm"] == "npworker-0" and t["wait_ns"] == 10**8 and t["user_s"] == 0.1


def test_tls_handshakes_need_new_connections_and_a_free_cpu(tmp_path):
    """app.cpu.tls: one new connection per request (passive opens against
    wrk's rate over the 5 s window), and a worker busy with its own CPU, not
    waiting for one that other work holds."""
    tck = os.sysconf("SC_CLK_TCK")

    def run(name, opens, run_s, wait_s):
        return make_run(tmp_path / name, "app.cpu.tls", "app.cpu",
                        srv=({"TcpPassiveOpens": 100}, {"TcpPassiveOpens": 100 + opens}),
                        target=((0, 0, 0, 0), (int(run_s * 0.95 * tck), int(run_s * 0.05 * tck),
                                               int(run_s * 1e9), int(wait_s * 1e9))),
                        verdict={"cause": "app.cpu", "layer": "application"})

    p, gt = run("handshakes", 3600, 4.2, 0.6)
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["srv_passive_opens"] == (3600, True)
    assert c["connections_per_request"] == (round(3600 / (711.36 * 5), 3), True)
    assert c["busiest_thread_busy_share"] == (0.96, True)
    assert c["target_runqueue_wait_of_demand"] == (0.125, True)
    # keepalive: a handful of connections for thousands of requests
    p, gt = run("keepalive", 120, 4.2, 0.6)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["connections_per_request"][1] is False
    # other work holds the CPUs: then host.cpu_contention is the truth
    p, gt = run("contended", 3600, 2.0, 2.9)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["target_runqueue_wait_of_demand"] == (round(2.9 / 4.9, 3), False)


def test_imbalance_needs_one_busy_worker_and_idle_siblings(tmp_path):
    """app.imbalance: of the npworker threads, the busiest on CPU or
    runnable nearly all the window, the median of the others nearly idle."""
    def run(name, busy):
        out = tmp_path / name
        p, _ = make_run(out, "app.imbalance", "app.imbalance", wrk=("2.10ms", "3.00ms"),
                        verdict={"cause": "app.imbalance", "layer": "application"})
        raw = out / "app.imbalance" / "raw"
        for i, ph in enumerate(("before", "after")):
            write(raw / f"{ph}.target.txt", "".join(
                f"task {10 + k}\nstat {10 + k} (npworker-{k}) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n"
                f"schedstat {int(b * 5e9) * i} 0 10\n" for k, b in enumerate(busy)))
        p = subprocess.run([sys.executable, GT, str(out / "app.imbalance")], capture_output=True,
                           text=True)
        with open(out / "app.imbalance" / "groundtruth.json", encoding="utf-8") as f:
            return p, json.load(f)

    p, gt = run("one-hot", (0.95, 0.0, 0.02, 0.01))
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["workers"] == (4, True)
    assert c["busiest_thread_busy_share"] == (0.95, True)
    assert c["sibling_median_busy_share"] == (0.01, True)
    p, gt = run("all-busy", (0.9, 0.8, 0.7, 0.6))
    assert p.returncode == 4, p.stdout
    assert checks(gt)["sibling_median_busy_share"] == (0.7, False)
    # one worker only
    p, gt = run("single", (0.95,))
    assert p.returncode == 4, p.stdout
    assert checks(gt)["workers"] == (1, False)


def test_quota_needs_throttling_and_free_cpus(tmp_path):
    """host.cpu_quota: the cgroup throttled in most periods for much of
    the window (cpu.stat), the server held to its quota, and the host's
    CPUs idle enough that no other work is the reason it waited."""
    def run(name, throttled, throttled_ns, run_s, idle):
        return make_run(tmp_path / name, "host.cpu_quota", "host.cpu_quota",
                        cgroup=((100, 90, 10**9), (150, 90 + throttled, 10**9 + throttled_ns)),
                        host_cpu=((1000, 5000), (1000 + 1000 - idle, 5000 + idle)),
                        target=((0, 0, 0, 0), (0, 0, int(run_s * 1e9), 0)),
                        verdict={"cause": "host.cpu_quota", "layer": "application"})

    p, gt = run("throttled", 50, 3 * 10**9, 1.0, 700)
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["cgroup_throttled_periods_share"] == (1.0, True)
    assert c["cgroup_throttled_s_per_s"] == (0.6, True)
    assert c["target_cpu_share"] == (0.2, True)
    assert c["host_idle_share"] == (0.7, True)
    # a quota it rarely reaches
    p, gt = run("rarely", 10, 2 * 10**8, 1.0, 700)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["cgroup_throttled_periods_share"] == (0.2, False)
    # busy CPUs: other work may be why it waited
    p, gt = run("busy-host", 50, 3 * 10**9, 1.0, 100)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["host_idle_share"] == (0.1, False)
    # no cgroup snapshot at all: nothing was throttled
    p, gt = make_run(tmp_path / "none", "host.cpu_quota", "host.cpu_quota",
                     verdict={"cause": "host.cpu_quota", "layer": "application"})
    assert p.returncode == 4, p.stdout


def test_path_loss_is_the_routers_not_the_servers(tmp_path):
    """stack.retransmits: the router's XDP drops (both of its veths), the
    server's own retransmits, and nothing dropped on the server's host."""
    def run(name, **kw):
        return make_run(tmp_path / name, "stack.retransmits", "stack.retransmits",
                        srv=({"TcpRetransSegs": 10}, {"TcpRetransSegs": 1370}),
                        rt_xdp=((5, 1347), (1, 339)),
                        verdict={"cause": "stack.retransmits", "layer": "stack"}, **kw)

    p, gt = run("path", xdp=(0, 0), qdrops=0)
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["router_xdp_drops"] == (1342 + 338, True)  # xdp_packets is not a drop
    assert c["srv_retrans_segs"] == (1360, True)
    assert c["srv_local_drops"] == (0, True)
    # the server's own veth dropped too: not loss on the path alone
    p, gt = run("local-xdp", xdp=(0, 50), qdrops=0)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["srv_local_drops"] == (50, False)
    # ... or its qdisc
    p, gt = run("local-qdisc", xdp=(0, 0), qdrops=3)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["srv_local_drops"] == (3, False)
    # a socket of the server dropped for lack of buffer: a local drop
    p, gt = make_run(tmp_path / "local-rcvq", "stack.retransmits", "stack.retransmits",
                     srv=({"TcpRetransSegs": 10, "TcpExtTCPRcvQDrop": 0},
                          {"TcpRetransSegs": 1370, "TcpExtTCPRcvQDrop": 3}),
                     rt_xdp=((5, 1347), (1, 339)), xdp=(0, 0), qdrops=0)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["srv_local_drops"] == (3, False)


def test_socket_buffers_need_pruning_and_a_reading_server(tmp_path):
    """stack.socket_buffers: prune/collapse counters, a queue at its
    buffer in ss, small buffers, and far more bytes in than one buffer per
    connection (a server that stopped reading lets in no more)."""
    full = "".join(SS.format(rq=3468, r=8320).replace("rb32768", "rb8192").replace(
        "r0,rb32768", "r0,rb8192") for _ in range(2))

    def run(name, rx):
        return make_run(tmp_path / name, "stack.socket_buffers", "stack.socket_buffers",
                        srv=({"TcpExtPruneCalled": 5, "TcpExtTCPRcvCollapsed": 5},
                             {"TcpExtPruneCalled": 1013, "TcpExtTCPRcvCollapsed": 1013}),
                        ss=full, rx_bytes=(10**6, 10**6 + rx),
                        verdict={"cause": "stack.socket_buffers", "layer": "stack"})

    p, gt = run("reading", 40 * 2**20)
    assert p.returncode == 0, p.stdout
    c = checks(gt)
    assert c["srv_prune_collapse"] == (2016, True)
    assert c["recv_q_full_samples"] == (2, True)
    assert c["rcvbuf_max_bytes"] == (8192, True)
    assert c["srv_rx_bytes_per_buffer"] == (5120.0, True)
    # a reader that stopped: four buffers' worth came in, then zero windows
    p, gt = run("stopped", 4 * 8192)
    assert p.returncode == 4, p.stdout
    assert checks(gt)["srv_rx_bytes_per_buffer"] == (4.0, False)
