#!/usr/bin/env bash
# Overhead of attaching netprof to a busy service, as ratios to the same
# service unattached: nginx (Debian package, one worker) serving a small file
# on 127.0.0.1, loaded by wrk.  Modes run interleaved (baseline, netprof,
# strace -f, perf trace, a bpftrace syscall-latency histogram) so drift on a shared machine hits all of them alike;
# each mode's figure is the median of ROUNDS runs.
#
# Two figures per mode: throughput, and CPU time per request (busy time of
# all CPUs from /proc/stat, steal excluded, divided by requests served).  On
# a shared machine throughput swings with the neighbours; CPU per request
# is the steadier measure of what the tracer itself costs.
# "netprof-idle" attaches netprof to a sleeping process: the cost of hooking
# sys_enter/sys_exit (and the host-wide socket and packet tracepoints) for
# every syscall and packet on the host, before any target work.
# "netprof-plain" is the syscall source alone (--no-exchanges --no-netstack);
# "netprof-xch" adds the exchange source, "netprof" is everything,
# "netprof-nopayload" everything without reading request/response bytes.
# BPF_STATS=1 also prints each netprof program's run count and ns per run
# (bpf(BPF_ENABLE_STATS), held only while the benchmark runs).
#
# Usage: tests/bench/overhead.sh [ROUNDS=5] [SECONDS=5]   (root; a benchmark,
# not a test: it prints ratios and never fails on them)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${1:-5}
secs=${2:-5}
netprof=${NETPROF:-$top/build/netprof}
[ -x "$netprof" ] || { echo "overhead.sh: build netprof first (ninja -C build)" >&2; exit 1; }
modes=(${MODES:-baseline netprof-plain netprof-xch netprof netprof-idle strace perf-trace bpftrace})
port=18181
work=$(mktemp -d)
idle_pid=
stats_pid=
trap 'nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; [ -z "$idle_pid" ] || kill "$idle_pid";
      [ -z "$stats_pid" ] || kill "$stats_pid"; sleep 0.3; rm -rf "$work"' EXIT

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
nginx -p "$work" -c nginx.conf
sleep 0.5
master=$(cat "$work/nginx.pid")
worker=$(pgrep -P "$master" | head -1)
echo "nginx master $master, worker $worker; wrk -t1 -c50 -d${secs}s; $rounds rounds"

attach() { # mode -> starts the tracer in the background, sets tracer_pid
  tracer_pid=
  case $1 in
    baseline) ;;
    netprof|netprof-plain|netprof-xch|netprof-nopayload|netprof-idle)
      target=$worker
      extra=()
      if [ "$1" = netprof-idle ]; then
        [ -n "$idle_pid" ] || { sleep 100000 & idle_pid=$!; }
        target=$idle_pid
      fi
      [ "$1" = netprof-plain ] && extra=(--no-exchanges --no-netstack)
      [ "$1" = netprof-xch ] && extra=(--no-netstack)
      [ "$1" = netprof-nopayload ] && extra=(--no-payload)
      "$netprof" record -v -p "$target" -d $((secs + 30)) -o "$work/b.nprof" "${extra[@]}" 2>"$work/np.err" &
      tracer_pid=$!
      for _ in $(seq 100); do grep -q "recording pid" "$work/np.err" 2>/dev/null && break; sleep 0.1; done ;;
    strace)
      strace -f -qq -o /dev/null -p "$worker" & tracer_pid=$!; sleep 1 ;;
    perf-trace)
      perf trace -o /dev/null -p "$worker" 2>"$work/perf.err" & tracer_pid=$!; sleep 2
      kill -0 "$tracer_pid" 2>/dev/null || { echo "perf trace failed: $(head -1 "$work/perf.err")" >&2; exit 1; } ;;
    bpftrace)
      # the same question netprof answers for every syscall: a latency histogram
      bpftrace -e "tracepoint:raw_syscalls:sys_enter /pid == $worker/ { @s[tid] = nsecs; }
        tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @ns = hist(nsecs - @s[tid]); delete(@s[tid]); }" \
        >"$work/bt.out" 2>"$work/bt.err" & tracer_pid=$!
      # bpftrace prints "Attaching N probes..." once attached; a SIGINT before
      # that is lost, and a run before it would measure nothing.
      for _ in $(seq 300); do grep -q "^Attaching" "$work/bt.out" 2>/dev/null && break; sleep 0.1; done
      grep -q "^Attaching" "$work/bt.out" || { echo "bpftrace failed: $(head -1 "$work/bt.err")" >&2; exit 1; } ;;
  esac
}
detach() {
  [ -n "$tracer_pid" ] || return 0
  kill -INT "$tracer_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$tracer_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$tracer_pid" 2>/dev/null || true
  wait "$tracer_pid" 2>/dev/null || true
}

busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# "name run_cnt run_time_ns" for each loaded netprof program, sorted by name
prog_stats() {
  bpftool prog show -j | python3 -c '
import json, sys
rows = {}
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if n.startswith("np_"):
        r = rows.setdefault(n, [0, 0])
        r[0] += p.get("run_cnt", 0); r[1] += p.get("run_time_ns", 0)
for n in sorted(rows): print(n, rows[n][0], rows[n][1])'
}
if [ "${BPF_STATS:-0}" = 1 ]; then
  # bpf(BPF_ENABLE_STATS): run-time statistics while this helper holds the fd;
  # the kernel switches them off again when it exits, whatever happens to us.
  python3 -c '
import ctypes, os, signal, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("I", 0), 128)  # BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, attr, 128)                          # __NR_bpf, BPF_ENABLE_STATS
if fd < 0:
    sys.exit("BPF_ENABLE_STATS: " + os.strerror(ctypes.get_errno()))
print("ok", flush=True)
signal.pause()' > "$work/stats.ready" &
  stats_pid=$!
  for _ in $(seq 50); do grep -q ok "$work/stats.ready" 2>/dev/null && break; sleep 0.1; done
  grep -q ok "$work/stats.ready" || { echo "overhead.sh: cannot enable BPF stats" >&2; exit 1; }
fi

declare -A rps p99 cpu
for r in $(seq "$rounds"); do
  for m in "${modes[@]}"; do
    attach "$m"
    [ "${BPF_STATS:-0}" = 1 ] && [[ $m == netprof* ]] && prog_stats > "$work/stats0"
    t0=$(busy_ticks)
    out=$(wrk -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$port/")
    t1=$(busy_ticks)
    if [ "${BPF_STATS:-0}" = 1 ] && [[ $m == netprof* ]]; then
      prog_stats > "$work/stats1"
      reqs_now=$(awk '/requests in/ {print $1}' <<<"$out")
      LC_ALL=C join "$work/stats0" "$work/stats1" | awk -v m="$m" -v r="$reqs_now" '{
        runs = $4 - $2; ns = $5 - $3
        if (runs > 0) printf "  %-13s %-18s %10d runs %7.1f per request %7.0f ns/run %7.0f ns/request\n", m, $1, runs, runs / r, ns / runs, ns / r }'
    fi
    detach
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu[$m]+="$(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l) "
    rps[$m]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
    # wrk prints "99%  1.23ms" (us, ms or s)
    p99[$m]+="$(awk '$1=="99%" {v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+/,"",v);
                 print (u=="us" ? v/1000 : (u=="s" ? v*1000 : v))}' <<<"$out") "
    echo "round $r $m: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
[ -n "${rps[baseline]:-}" ] || { echo "(no baseline mode: no ratios)"; exit 0; }
base_rps=$(median <<<"${rps[baseline]}")
base_p99=$(median <<<"${p99[baseline]}")
base_cpu=$(median <<<"${cpu[baseline]}")
echo
echo "medians of $rounds rounds; ratios to baseline (throughput: higher is better;"
echo "p99 and CPU per request: lower is better)"
printf "%-13s %10s %8s %10s %8s %14s %8s\n" mode "req/s" ratio "p99 ms" ratio "CPU us/req" ratio
for m in "${modes[@]}"; do
  mr=$(median <<<"${rps[$m]}"); mp=$(median <<<"${p99[$m]}"); mc=$(median <<<"${cpu[$m]}")
  printf "%-13s %10.0f %8.3f %10.3f %8.2f %14.2f %8.3f\n" "$m" "$mr" "$(echo "$mr / $base_rps" | bc -l)" \
    "$mp" "$(echo "$mp / $base_p99" | bc -l)" "$mc" "$(echo "$mc / $base_cpu" | bc -l)"
done
