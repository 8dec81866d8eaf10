#!/usr/bin/env bash
# The netprof demo, from a fresh Debian 12 machine, as root: installs the
# dependencies, builds, starts the example server (examples/server) under wrk
# load on 127.0.0.1, attaches netprof for a few seconds, prints the text
# report and writes the recording and the JSON report to ./netprof-demo/.
#
# Usage: examples/demo.sh [SECONDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

out=netprof-demo
mkdir -p "$out"
server_log=$(mktemp)
# Two workers and a 200 us CPU burn per request: a service with work to see.
build/examples/npserver --port 0 --threads 2 --burn-us 200 >"$server_log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; kill "${load:-}" 2>/dev/null || true; rm -f "$server_log"; }
trap cleanup EXIT
for _ in $(seq 50); do grep -q "listening on" "$server_log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) pid.*/\1/p' "$server_log")
[ -n "$port" ] || { echo "demo: npserver did not start: $(cat "$server_log")" >&2; exit 1; }

echo "demo: npserver pid $server on 127.0.0.1:$port, wrk -t1 -c32 for $((secs + 3)) s" >&2
wrk -t1 -c32 -d$((secs + 3))s "http://127.0.0.1:$port/" >"$out/wrk.txt" &
load=$!
sleep 1
build/netprof -p "$server" -d "$secs" -o "$out/recording.nprof" --json "$out/report.json" \
  | tee "$out/report.txt"
wait "$load" || true
echo >&2
echo "demo: wrote $out/recording.nprof, $out/report.txt, $out/report.json" >&2
echo "demo: wrk saw $(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt") requests/s" >&2
