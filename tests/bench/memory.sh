#!/usr/bin/env bash
# memory.sh - netprof's memory and file descriptors over a long recording of a
# loaded target: nginx (Debian package, one worker) under wrk on 127.0.0.1.
#
# Every 5 s it samples netprof's RSS and fd count; at the end it prints the
# peak RSS (VmHWM), RSS and fd count in the first and last fifth of the run
# (flat means no leak), the recording's size, and whether `netprof report`
# accepts the recording and counts the requests wrk says it made.
#
# Usage: tests/bench/memory.sh [SECONDS=60] [EXTRA NETPROF OPTIONS...]
#   e.g. tests/bench/memory.sh 1800        # the 30-minute soak
# Root; a benchmark, not a test: it prints figures and fails only when
# something did not run.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || true
netprof=${NETPROF:-$top/build/netprof}
[ -x "$netprof" ] || { echo "memory.sh: build netprof first (ninja -C build)" >&2; exit 1; }
port=18182
work=$(mktemp -d)
np_pid=
wrk_pid=
cleanup() {
  [ -z "$wrk_pid" ] || kill "$wrk_pid" 2>/dev/null || true
  [ -z "$np_pid" ] || kill -INT "$np_pid" 2>/dev/null || true
  nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

chmod 755 "$work" # nginx's worker (user nobody) reads the page: else every response is a 403
mkdir -p "$work/html" "$work/logs"
head -c 512 /dev/urandom | base64 > "$work/html/index.html"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $work/html; }
}
CONF
# nginx daemonizes: close the fds it would inherit (the benchmark lock of
# `flock FILE cmd` among them), or a leftover nginx holds the lock forever.
python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
  nginx -p "$work" -c nginx.conf
sleep 0.5
worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)

wrk -t1 -c50 -d$((secs + 20))s "http://127.0.0.1:$port/" > "$work/wrk.out" &
wrk_pid=$!
sleep 1
"$netprof" record -v -p "$worker" -d "$secs" -o "$work/rec.nprof" "$@" 2> "$work/np.err" &
np_pid=$!
for _ in $(seq 100); do grep -q "recording pid" "$work/np.err" 2>/dev/null && break; sleep 0.1; done

samples="$work/samples"
: > "$samples"
while kill -0 "$np_pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$np_pid/status" 2>/dev/null || true)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$np_pid/status" 2>/dev/null || true)
  fds=$(ls "/proc/$np_pid/fd" 2>/dev/null | wc -l)
  [ -n "$rss" ] && echo "$(date +%s) $rss $hwm $fds" >> "$samples"
  sleep 5
done
wait "$np_pid" || { echo "memory.sh: netprof failed: $(tail -3 "$work/np.err")" >&2; exit 1; }
np_pid=
kill "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
wrk_pid=

n=$(wc -l < "$samples")
fifth=$(( n / 5 > 0 ? n / 5 : 1 ))
avg() { awk -v c="$1" '{s += $c} END {printf "%.0f", NR ? s / NR : 0}'; }
first_rss=$(head -n "$fifth" "$samples" | avg 2); last_rss=$(tail -n "$fifth" "$samples" | avg 2)
first_fds=$(head -n "$fifth" "$samples" | avg 4); last_fds=$(tail -n "$fifth" "$samples" | avg 4)
peak=$(awk '{if ($3 > m) m = $3} END {print m + 0}' "$samples")
size=$(stat -c %s "$work/rec.nprof")
report_ok=no
t0=$(date +%s.%N)
if "$netprof" report "$work/rec.nprof" --format json -o "$work/rep.json"; then report_ok=yes; fi
t1=$(date +%s.%N)
echo
echo "netprof record for ${secs} s of nginx under wrk -c50 ($n samples)"
echo "  peak RSS (VmHWM)          $((peak / 1024)) MiB"
echo "  RSS first/last fifth      $((first_rss / 1024)) / $((last_rss / 1024)) MiB"
echo "  open fds first/last fifth $first_fds / $last_fds"
echo "  recording size            $((size / 1024 / 1024)) MiB"
echo "  report                    $report_ok ($(echo "$t1 - $t0" | bc) s)"
python3 - "$work/rep.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
calls = {s["name"]: s["count"] for s in rep["syscalls"]}
print("  traced calls             ", sum(calls.values()), "; lost events", rep["lost_events"],
      "; end", rep["window"]["end_reason"])
PY
