#!/usr/bin/env bash
# Unwinding + symbolization rate of netprof's CPU profiler next to perf's, on
# the same workload: nginx (Debian package: stripped, no frame pointers, one
# worker) on 127.0.0.1 under wrk, sampled at the same time by
#   perf record --call-graph dwarf,STACK -F HZ -p WORKER   (unwinds in perf report)
#   netprof record -F HZ --stack-kb STACK/1024 -p WORKER   (unwinds while recording)
#
# Rates are samples per second of CPU time:
#   netprof: its own measure of the CPU it spent unwinding and symbolizing
#            (cpu_profile.unwind_ns + symbolize_ns; kallsyms and DWARF loading
#            included)
#   perf:    the CPU time (user + sys) of `perf report --stdio` with call
#            graphs, and, stricter, of that minus `perf report -g none` (the
#            part that is unwinding and call-chain symbolization)
# ROUNDS runs; medians.  A benchmark, not a test: it prints and never fails.
#
# Usage: tests/bench/unwind_rate.sh [ROUNDS=3] [SECONDS=10] [HZ=999]
# (root; run it under flock /tmp/netprof-bench.lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${1:-3}
secs=${2:-10}
hz=${3:-999}
stack=16384
netprof=${NETPROF:-$top/build/netprof}
[ -x "$netprof" ] || { echo "unwind_rate.sh: build netprof first (ninja -C build)" >&2; exit 1; }
port=18183
work=$(mktemp -d)
wrk_pid=
trap '[ -z "$wrk_pid" ] || kill "$wrk_pid" 2>/dev/null; nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true;
      sleep 0.3; rm -rf "$work"' EXIT

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
echo "nginx worker $worker; wrk -t1 -c50; ${secs}s at ${hz} Hz, ${stack}-byte stacks; $rounds rounds"

cpu_s() { # command... -> prints its user+sys CPU seconds
  /usr/bin/time -f "%U %S" -o "$work/time" "$@" >/dev/null 2>&1
  awk '{print $1 + $2}' "$work/time"
}

np_rates= perf_rates= perf_strict_rates=
for r in $(seq "$rounds"); do
  wrk -t1 -c50 -d"$((secs + 6))s" "http://127.0.0.1:$port/" >/dev/null &
  wrk_pid=$!
  sleep 1
  perf record -q -F "$hz" --call-graph "dwarf,$stack" -p "$worker" -o "$work/perf.data" \
    -- sleep "$secs" 2>/dev/null &
  perf_pid=$!
  "$netprof" record -F "$hz" --stack-kb $((stack / 1024)) -p "$worker" -d "$secs" \
    -o "$work/np.nprof" 2>/dev/null
  wait "$perf_pid" || true
  wait "$wrk_pid" || true
  wrk_pid=
  read -r np_samples np_ns < <("$netprof" report "$work/np.nprof" --format json |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["cpu_profile"]; print(c["samples"], c["unwind_ns"] + c["symbolize_ns"])')
  perf_samples=$(perf script -i "$work/perf.data" -F tid 2>/dev/null | wc -l)
  t_full=$(cpu_s perf report -i "$work/perf.data" --stdio --no-children -g caller)
  t_none=$(cpu_s perf report -i "$work/perf.data" --stdio --no-children -g none)
  np_rate=$(echo "$np_samples / ($np_ns / 1000000000)" | bc -l)
  perf_rate=$(echo "$perf_samples / $t_full" | bc -l)
  delta=$(echo "$t_full - $t_none" | bc -l)
  perf_strict=$(echo "if ($delta > 0.001) $perf_samples / $delta else 0" | bc -l)
  printf "round %d: netprof %d samples in %.3f s CPU (%.0f/s); perf %d samples, report %.3f s CPU (%.0f/s), of which call graphs %.3f s (%.0f/s)\n" \
    "$r" "$np_samples" "$(echo "$np_ns / 1000000000" | bc -l)" "$np_rate" "$perf_samples" "$t_full" "$perf_rate" "$delta" "$perf_strict"
  np_rates+="$np_rate "; perf_rates+="$perf_rate "; perf_strict_rates+="$perf_strict "
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
np=$(median <<<"$np_rates"); pf=$(median <<<"$perf_rates"); ps=$(median <<<"$perf_strict_rates")
echo
echo "medians of $rounds rounds (samples unwound and symbolized per CPU second; higher is better)"
printf "%-34s %12s %8s\n" "" "samples/s" "ratio"
printf "%-34s %12.0f %8.2f\n" "netprof (unwind + symbolize)" "$np" 1
printf "%-34s %12.0f %8.2f\n" "perf report (whole report)" "$pf" "$(echo "$np / $pf" | bc -l)"
printf "%-34s %12.0f %8.2f\n" "perf report (call-graph part only)" "$ps" "$(echo "if ($ps > 0) $np / $ps else 0" | bc -l)"
echo "ratio: netprof's rate divided by perf's (above 1: netprof is faster)"
