#!/usr/bin/env bash
# What the TLS uprobes cost: nginx with `ssl` (examples/tls/nginx-tls.sh, one
# worker) on 127.0.0.1 under wrk over https, in three modes run interleaved
# so that drift on a shared machine hits all of them alike: "baseline" (no
# tracer), "netprof-notls" (netprof's default, --no-tls) and "netprof" (with
# --tls: uprobes on SSL_read/SSL_write/SSL_do_handshake of nginx's libssl).  Each
# figure is the median of ROUNDS runs.
#
# A uprobe traps into the kernel at every call it watches (and a uretprobe
# again at the return), so its cost is mostly that trap, which the BPF run
# time does not show.  The figure that counts is the nginx worker's CPU time
# per request, netprof minus netprof-notls: every extra microsecond the
# uprobes put on the worker.  BPF_STATS=1 also prints the SSL programs' run
# counts and ns per run (bpf(BPF_ENABLE_STATS), held only while this runs).
# CLOSE=1 sends "Connection: close": a handshake per request.
#
# Usage: [CLOSE=1] [BPF_STATS=1] tests/bench/tls.sh [ROUNDS=5] [SECONDS=5]
# (root; a benchmark, not a test: it prints figures and never fails on them)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${1:-5}
secs=${2:-5}
netprof=${NETPROF:-$top/build/netprof}
[ -x "$netprof" ] || { echo "tls.sh: build netprof first (ninja -C build)" >&2; exit 1; }
modes=(baseline netprof-notls netprof)
declare -A mode_opts=([netprof]="--tls" [netprof-notls]="")
close=()
[ "${CLOSE:-0}" = 1 ] && close=(-H "Connection: close")
work=$(mktemp -d)
stats_pid=
trap 'nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true;
      [ -z "$stats_pid" ] || kill "$stats_pid"; sleep 0.3; rm -rf "$work"' EXIT
# mktemp -d is 0700: nginx's worker (user nobody) could not read the page.
chmod 755 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash examples/tls/nginx-tls.sh "$work" "$port" 0 1 > /dev/null
chmod 755 "$work/html"
sed -i 's/^daemon off;/daemon on;/; s|access_log [^;]*np;|access_log off;|' "$work/nginx.conf"
# nginx daemonizes: close the fds it would inherit (a benchmark lock among them).
python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
  nginx -p "$work" -c "$work/nginx.conf"
sleep 0.5
master=$(cat "$work/nginx.pid")
worker=$(pgrep -P "$master" | head -1)
echo "nginx (TLS) master $master, worker $worker; wrk -t1 -c50 -d${secs}s ${close[*]}; $rounds rounds"

attach() { # mode -> starts netprof in the background, sets tracer_pid
  tracer_pid=
  [ "$1" = baseline ] && return 0
  # shellcheck disable=SC2086 # the options are words
  "$netprof" record -v ${mode_opts[$1]} -p "$master" -d $((secs + 30)) -o "$work/b.nprof" \
    2>"$work/np.err" &
  tracer_pid=$!
  for _ in $(seq 300); do grep -q "netprof: recording" "$work/np.err" 2>/dev/null && break; sleep 0.1; done
  grep -q "netprof: recording" "$work/np.err" || { echo "netprof failed: $(head -3 "$work/np.err")" >&2; exit 1; }
}
detach() {
  [ -n "$tracer_pid" ] || return 0
  kill -INT "$tracer_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$tracer_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$tracer_pid" 2>/dev/null || true
  wait "$tracer_pid" 2>/dev/null || true
}
proc_ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
# "name run_cnt run_time_ns" of the loaded SSL programs
prog_stats() {
  bpftool prog show -j | python3 -c '
import json, sys
rows = {}
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if n.startswith("np_ssl"):
        r = rows.setdefault(n, [0, 0])
        r[0] += p.get("run_cnt", 0); r[1] += p.get("run_time_ns", 0)
for n in sorted(rows): print(n, rows[n][0], rows[n][1])'
}
if [ "${BPF_STATS:-0}" = 1 ]; then
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
  grep -q ok "$work/stats.ready" || { echo "tls.sh: cannot enable BPF stats" >&2; exit 1; }
fi

declare -A rps wcpu tcpu bpfns
for r in $(seq "$rounds"); do
  for m in "${modes[@]}"; do
    attach "$m"
    [ "${BPF_STATS:-0}" = 1 ] && [ "$m" = netprof ] && prog_stats > "$work/stats0"
    w0=$(proc_ticks "$worker"); tr0=$(proc_ticks "$tracer_pid")
    wrk -t1 -c50 -d"${secs}s" "${close[@]}" "https://127.0.0.1:$port/index.html" > "$work/wrk.out"
    w1=$(proc_ticks "$worker"); tr1=$(proc_ticks "$tracer_pid")
    reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
    if [ "${BPF_STATS:-0}" = 1 ] && [ "$m" = netprof ]; then
      prog_stats > "$work/stats1"
      LC_ALL=C join "$work/stats0" "$work/stats1" | awk -v r="$reqs" '{
        runs = $4 - $2; ns = $5 - $3
        if (runs > 0) printf "  %-18s %10d runs %5.1f per request %6.0f ns/run %6.0f ns/request\n", $1, runs, runs / r, ns / runs, ns / r
        tot += ns } END { printf "  BPF run time of the SSL programs: %.0f ns/request\n", tot / r }' | tee "$work/bpf.out"
      bpfns[$m]+="$(awk '/BPF run time/ {print $(NF-1)}' "$work/bpf.out" | sed 's|ns/request||') "
    fi
    detach
    ! grep -q "Non-2xx" "$work/wrk.out" || echo "  (not all 2xx: $(grep "Non-2xx" "$work/wrk.out" | xargs))"
    rps[$m]+="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out") "
    wcpu[$m]+="$(echo "($w1 - $w0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l) "
    tcpu[$m]+="$(echo "($tr1 - $tr0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l) "
    echo "round $r $m: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.out") req/s"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base_rps=$(median <<<"${rps[baseline]}")
base_w=$(median <<<"${wcpu[baseline]}")
echo
echo "medians of $rounds rounds (throughput: higher is better; CPU per request: lower is better)"
printf "%-14s %9s %7s %11s %7s %11s\n" mode "req/s" ratio "worker us" ratio "netprof us"
for m in "${modes[@]}"; do
  mr=$(median <<<"${rps[$m]}"); mw=$(median <<<"${wcpu[$m]}"); mt=$(median <<<"${tcpu[$m]}")
  printf "%-14s %9.0f %7.3f %11.2f %7.3f %11.2f\n" "$m" "$mr" "$(echo "$mr / $base_rps" | bc -l)" \
    "$mw" "$(echo "$mw / $base_w" | bc -l)" "$mt"
done
notls=$(median <<<"${wcpu[netprof-notls]}"); tls=$(median <<<"${wcpu[netprof]}")
printf "uprobes: %.2f us of worker CPU per request (netprof minus netprof-notls)\n" \
  "$(echo "$tls - $notls" | bc -l)"
[ -z "${bpfns[netprof]:-}" ] ||
  printf "of which BPF run time of the SSL programs: %.0f ns per request\n" "$(median <<<"${bpfns[netprof]}")"
echo "worker us: CPU of the nginx worker per request (user + system, the probes' work in its context included)"
