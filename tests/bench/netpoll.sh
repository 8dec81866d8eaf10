#!/usr/bin/env bash
# tests/bench/netpoll.sh [SOCKETS] [SECONDS] [RATE] - CPU cost of one poll
# of all network sources (sockets, NIC, host counters) for a target holding
# SOCKETS (default 1000) keep-alive connections, idle, or with RATE requests
# a second spread over them in turn (default 0: idle).
#
# netprof measures every poll itself (CPU time of its polling thread,
# kernel work on its behalf included) and stores it in the recording; this
# script prints the median, p95 and max over the run, split by source, and
# how many sockets sock_diag was asked about per poll (the others' queues
# come from the fd walk).  NETPROF_SOCKET_FDS=proc measures the /proc
# fallback.
# Runs under flock /tmp/netprof-bench.lock so benchmarks never overlap.
set -euo pipefail
[ "${NP_BENCH_LOCKED:-}" = 1 ] || exec env NP_BENCH_LOCKED=1 flock /tmp/netprof-bench.lock "$0" "$@"
n=${1:-1000}
secs=${2:-5}
rate=${3:-0}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NETPROF_BUILD:-$top/build}
work=$(mktemp -d)
srv=; cli=
cleanup() {
	[ -n "$cli" ] && kill "$cli" 2>/dev/null || true
	[ -n "$srv" ] && kill "$srv" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$build/examples/npserver" --port 0 --keepalive on >"$work/srv.log" 2>&1 &
srv=$!
for _ in $(seq 50); do grep -q listening "$work/srv.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$work/srv.log")
# The client holds n connections open, each after one request, until told
# to stop; with a rate, it then sends requests on them in turn.
/usr/bin/python3 - "$port" "$n" "$rate" >"$work/cli.log" 2>&1 <<'PY' &
import socket, sys, time
port, n, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    conns.append(s)
for s in conns:
    s.recv(65536)
print("ready", flush=True)
if rate <= 0:
    time.sleep(3600)
t, i = time.monotonic(), 0
while True:
    conns[i % n].sendall(req)
    conns[i % n].recv(65536)
    i += 1
    t += 1 / rate
    time.sleep(max(0, t - time.monotonic()))
PY
cli=$!
for _ in $(seq 300); do grep -q ready "$work/cli.log" && break; sleep 0.1; done
grep -q ready "$work/cli.log" || { echo "netpoll.sh: client did not connect" >&2; cat "$work/cli.log" >&2; exit 1; }
"$build/netprof" record -p "$srv" -d "$secs" -o "$work/r.nprof" >/dev/null 2>&1
"$build/netprof" report "$work/r.nprof" --format json >"$work/r.json"
/usr/bin/python3 - "$work/r.json" "$n" "$rate" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["network"]["polling"]
ms = lambda ns: ns / 1e6
print(f"netpoll: {p['polls']} polls, up to {p['sockets_max']} target sockets "
      f"(client held {sys.argv[2]}, {sys.argv[3]} requests/s)")
print(f"netpoll: CPU per poll of all sources: median {ms(p['cpu_ns_p50']):.3f} ms, "
      f"p95 {ms(p['cpu_ns_p95']):.3f} ms, max {ms(p['cpu_ns_max']):.3f} ms")
print(f"netpoll: median by part: sockets {ms(p['sockets_cpu_ns_p50']):.3f} ms, "
      f"nic {ms(p['nic_cpu_ns_p50']):.3f} ms, host counters {ms(p['host_cpu_ns_p50']):.3f} ms")
if float(sys.argv[3]) > 0:
    got = sum(s.get("bytes_received", 0) for s in d["sockets"]) / 27  # bytes of one request
    print(f"netpoll: requests the target received while recording: {got / (d['window']['duration_ns'] / 1e9):.0f}/s")
if "sockdiag_sockets_p50" in p:
    src = next(s for s in d["sources"] if s["name"] == "sockets")["detail"]
    how = "BPF iterator" if "BPF iterator" in src else "/proc"
    print(f"netpoll: sockets read by sock_diag per poll: median {p['sockdiag_sockets_p50']}; "
          f"fd table from {how}")
PY
