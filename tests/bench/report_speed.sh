#!/usr/bin/env bash
# How long `netprof report` takes on a long recording of a loaded target,
# per format, and how big the HTML page gets.
#
# Records SECONDS (default 60) of the example server (build/examples/npserver,
# two workers, no CPU burn, keep-alive) under wrk at as high a rate as the
# machine reaches, then times `netprof report --format F` for text, json,
# html and perfetto, ROUNDS times each (default 5), and prints the median
# wall time of each format and the size of each output.  The targets of
# issue 6: every format within 2 s, the HTML page within 5 MB.
#
# Usage: tests/bench/report_speed.sh [SECONDS=60] [ROUNDS=5]   (root)
# RECORD_OPTS adds options to `netprof record`; e.g. RECORD_OPTS="--sample 24"
# keeps as many events as a 100k requests/s target would at the default.
# Runs under flock /tmp/netprof-bench.lock so two benchmarks never overlap.
# A benchmark, not a test: it prints figures and never fails on them.
set -euo pipefail
if [ -z "${NP_BENCH_LOCKED:-}" ]; then
  exec env NP_BENCH_LOCKED=1 flock /tmp/netprof-bench.lock "$0" "$@"
fi
cd "$(dirname "$0")/../.."
top=$PWD
secs=${1:-60}
rounds=${2:-5}
build=${NETPROF_BUILD:-$top/build}
netprof=$build/netprof
server=$build/examples/npserver
for b in "$netprof" "$server"; do
  [ -x "$b" ] || { echo "report_speed.sh: build first (ninja -C build): $b" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "report_speed.sh: wrk is needed (tools/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/np-report-speed.XXXXXX)
srv_pid= wrk_pid=
cleanup() {
  [ -z "$wrk_pid" ] || kill "$wrk_pid" 2>/dev/null || true
  [ -z "$srv_pid" ] || kill "$srv_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$server" --port 0 --threads 2 --keepalive on >"$work/server.log" 2>&1 &
srv_pid=$!
for _ in $(seq 50); do grep -q listening "$work/server.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) pid.*/\1/p' "$work/server.log")
[ -n "$port" ] || { echo "report_speed.sh: npserver did not start" >&2; cat "$work/server.log" >&2; exit 1; }

wrk -t1 -c64 -d$((secs + 4))s "http://127.0.0.1:$port/" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 1
# shellcheck disable=SC2086  # RECORD_OPTS is a list of options
"$netprof" record -p "$srv_pid" -d "$secs" -o "$work/rec.nprof" ${RECORD_OPTS:-}
wait "$wrk_pid" || true
wrk_pid=
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true
srv_pid=

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
events=$("$netprof" report "$work/rec.nprof" --format json | /usr/bin/python3 -c \
  'import json,sys; r=json.load(sys.stdin); print(r["recording"]["events"], sum(s["count"] for s in r["syscalls"]))')
echo "recording: ${secs} s of npserver under wrk at ${rps} requests/s;" \
  "$(du -h "$work/rec.nprof" | cut -f1)B on disk; events kept, syscalls traced: $events"
echo
printf '%-9s %12s %12s %12s %14s\n' format median_s min_s max_s output_bytes
for fmt in text json html perfetto; do
  times=()
  for _ in $(seq "$rounds"); do
    t0=$(date +%s.%N)
    "$netprof" report "$work/rec.nprof" --format "$fmt" -o "$work/out.$fmt"
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  median=$(echo "$sorted" | sed -n "$(( (rounds + 1) / 2 ))p")
  printf '%-9s %12.3f %12.3f %12.3f %14d\n' "$fmt" "$median" "$(echo "$sorted" | head -1)" \
    "$(echo "$sorted" | tail -1)" "$(stat -c %s "$work/out.$fmt")"
done
html_bytes=$(stat -c %s "$work/out.html")
echo
echo "HTML page: $(echo "scale=2; $html_bytes / 1048576" | bc) MiB ($html_bytes bytes; budget 5 MB)"
