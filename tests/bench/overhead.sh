#!/usr/bin/env bash
# Overhead of attaching netprof to a busy service, as ratios to the same
# service unattached: nginx (Debian package, one worker) serving a small file
# on 127.0.0.1, loaded by wrk.  Modes run interleaved (baseline, netprof,
# strace -f, perf trace, a bpftrace syscall-latency histogram) so drift on a shared machine hits all of them alike;
# each mode's figure is the median of ROUNDS runs.
#
# "floor" is the cheapest syscall hook this kernel allows (np_floor,
# tests/bench/floor.c): a raw_tp sys_enter/sys_exit pair that compares the
# current tgid with a .rodata constant and returns.  No syscall tracer can
# cost less, so every mode is given as a ratio to the floor as well as to
# the baseline.
#
# Two figures per mode: throughput, and CPU time per request (the CPU time
# of the nginx worker, wrk and the tracer itself, divided by requests
# served).  On a shared machine throughput swings with the neighbours; CPU
# per request is the steadier measure of what the tracer costs, and other
# processes on the machine do not enter it.
# "netprof-idle" attaches netprof to a sleeping process: the cost of hooking
# sys_enter/sys_exit (and the host-wide socket and packet tracepoints) for
# every syscall and packet on the host, before any target work.
# Modes of netprof (options in mode_opts below): "netprof" is the default,
# every source on; "netprof-syscalls" the syscall source and the polled
# counters only; "netprof-nocpu" without CPU samples and the scheduler
# tracer; "netprof-noxch" without exchanges and kernel stack events;
# "netprof-nopayload" without reading request/response bytes; "netprof-b"
# is "netprof" with the build in NETPROF_B (an A/B of two builds in one run);
# "netprof-tree" names nginx's master, so netprof follows master and worker
# (a process tree, the multi-process target filter) under the same load.
# "netprof-nogov" without the overhead governor (--max-overhead 0: no
# measurement, no BPF run-time statistics, nothing shed); "netprof-gov90"
# with a budget never reached (it measures every second, with the BPF
# statistics on, but sheds nothing): the two differ by the measurement's
# cost alone.  The default "netprof" mode runs the governor at its default
# budget, and sheds when over it.
# The fixed-rate part follows the saturation rounds: h2load --h1 at half
# the baseline's saturation throughput (RATE_CLIENTS clients, 10 by
# default, each at --rps), so that latency and not throughput is the figure.
# It runs RATE_MODES ("baseline netprof" by default; empty: none),
# interleaved for ROUNDS rounds, and prints the client's p50 and p99 (from
# h2load's per-request log) and the server side's CPU per request (worker
# and tracer), with netprof's extra CPU per request over the baseline.
# BPF_STATS=1 also prints each netprof program's run count and ns per run
# (bpf(BPF_ENABLE_STATS), held only while the benchmark runs).
#
# Usage: [MODES="..."] [RATE_MODES="..."] tests/bench/overhead.sh [ROUNDS=5] [SECONDS=5]
# (root; a benchmark, not a test: it prints ratios and never fails on them)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${1:-5}
secs=${2:-5}
netprof=${NETPROF:-$top/build/netprof}
[ -x "$netprof" ] || { echo "overhead.sh: build netprof first (ninja -C build)" >&2; exit 1; }
floor=${NP_FLOOR:-$top/build/tests/bench/np_floor}
modes=(${MODES:-baseline floor netprof-syscalls netprof netprof-idle strace perf-trace bpftrace})
rate_modes=(${RATE_MODES-baseline netprof})
rate_clients=${RATE_CLIENTS:-10}
[[ " ${modes[*]} " != *" floor "* ]] || [ -x "$floor" ] ||
  { echo "overhead.sh: build np_floor first (ninja -C build)" >&2; exit 1; }
[ ${#rate_modes[@]} = 0 ] || command -v h2load > /dev/null ||
  { echo "overhead.sh: the fixed-rate part needs h2load (nghttp2-client); RATE_MODES= skips it" >&2; exit 1; }
declare -A mode_opts=(
  [netprof]="" [netprof-idle]="" [netprof-syscalls]="--no-cpu --no-exchanges --no-netstack"
  [netprof-nocpu]="--no-cpu" [netprof-noxch]="--no-exchanges --no-netstack"
  [netprof-nopayload]="--no-payload"
  [netprof-nogov]="--max-overhead 0" [netprof-gov90]="--max-overhead 90" [netprof-b]="" [netprof-tree]="")
port=18181
work=$(mktemp -d)
idle_pid=
stats_pid=
trap 'nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; [ -z "$idle_pid" ] || kill "$idle_pid";
      [ -z "$stats_pid" ] || kill "$stats_pid"; sleep 0.3; rm -rf "$work"' EXIT

# mktemp -d is 0700: nginx's worker (user nobody) could not read the page and
# every response would be a 403, a cheaper path than serving the file.
chmod 755 "$work"
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
master=$(cat "$work/nginx.pid")
worker=$(pgrep -P "$master" | head -1)
echo "nginx master $master, worker $worker; wrk -t1 -c50 -d${secs}s; $rounds rounds"

attach() { # mode -> starts the tracer in the background, sets tracer_pid
  tracer_pid=
  case $1 in
    baseline) ;;
    floor)
      "$floor" "$worker" $((secs + 30)) > "$work/floor.out" 2>&1 & tracer_pid=$!
      for _ in $(seq 100); do grep -q attached "$work/floor.out" 2>/dev/null && break; sleep 0.1; done
      grep -q attached "$work/floor.out" || { echo "np_floor failed: $(head -1 "$work/floor.out")" >&2; exit 1; } ;;
    netprof*)
      [ -n "${mode_opts[$1]+set}" ] || { echo "overhead.sh: unknown mode $1" >&2; exit 1; }
      target=$worker
      # the whole service named by its master: the multi-process filter
      # (a bitmap of tgids) against the one-tgid compare, same load
      [ "$1" != netprof-tree ] || target=$master
      if [ "$1" = netprof-idle ]; then
        [ -n "$idle_pid" ] || { sleep 100000 & idle_pid=$!; }
        target=$idle_pid
      fi
      bin=$netprof
      if [ "$1" = netprof-b ]; then
        bin=${NETPROF_B:?mode netprof-b: set NETPROF_B to another netprof binary}
      fi
      # shellcheck disable=SC2086 # the options are words
      "$bin" record -v ${mode_opts[$1]} -p "$target" -d $((secs + 30)) -o "$work/b.nprof" \
        2>"$work/np.err" &
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

# CPU time (ticks) of the processes taking part: the nginx worker, and the
# tracer when there is one.  wrk's own time comes from `times` below.  Other
# processes on a shared machine do not count.
proc_ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }

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

declare -A rps p99 cpu wcpu
for r in $(seq "$rounds"); do
  for m in "${modes[@]}"; do
    attach "$m"
    [ "${BPF_STATS:-0}" = 1 ] && [[ $m == netprof* ]] && prog_stats > "$work/stats0"
    w0=$(proc_ticks "$worker"); tr0=$(proc_ticks "$tracer_pid")
    TIMEFORMAT="%U %S"
    { time wrk -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$port/" > "$work/wrk.out"; } 2> "$work/wrk.time"
    out=$(cat "$work/wrk.out")
    w1=$(proc_ticks "$worker"); tr1=$(proc_ticks "$tracer_pid")
    if [ "${BPF_STATS:-0}" = 1 ] && [[ $m == netprof* ]]; then
      prog_stats > "$work/stats1"
      reqs_now=$(awk '/requests in/ {print $1}' <<<"$out")
      LC_ALL=C join "$work/stats0" "$work/stats1" | awk -v m="$m" -v r="$reqs_now" '{
        runs = $4 - $2; ns = $5 - $3
        if (runs > 0) printf "  %-13s %-18s %10d runs %7.1f per request %7.0f ns/run %7.0f ns/request\n", m, $1, runs, runs / r, ns / runs, ns / r }'
      LC_ALL=C join "$work/stats0" "$work/stats1" | awk -v r="$reqs_now" '{
        if ($4 > $2) print $1, ($4 - $2) / r, ($5 - $3) / ($4 - $2) }' > "$work/progs.$m.$r"
    fi
    detach
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    wrk_s=$(awk '{print $1 + $2}' "$work/wrk.time")
    cpu[$m]+="$(echo "(($w1 - $w0 + $tr1 - $tr0) / $(getconf CLK_TCK) + $wrk_s) * 1000000 / $reqs" | bc -l) "
    wcpu[$m]+="$(echo "($w1 - $w0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l) "
    rps[$m]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
    # wrk prints "99%  1.23ms" (us, ms or s)
    p99[$m]+="$(awk '$1=="99%" {v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+/,"",v);
                 print (u=="us" ? v/1000 : (u=="s" ? v*1000 : v))}' <<<"$out") "
    echo "round $r $m: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s"
    ! grep -q "Non-2xx" <<<"$out" || echo "  (not all 2xx: $(grep "Non-2xx" <<<"$out" | xargs))"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
[ -n "${rps[baseline]:-}" ] || { echo "(no baseline mode: no ratios)"; exit 0; }
base_rps=$(median <<<"${rps[baseline]}")
base_p99=$(median <<<"${p99[baseline]}")
base_cpu=$(median <<<"${cpu[baseline]}")
# Without a floor mode its columns are left out (printed as "-").
floor_rps=; floor_cpu=
if [ -n "${rps[floor]:-}" ]; then
  floor_rps=$(median <<<"${rps[floor]}"); floor_cpu=$(median <<<"${cpu[floor]}")
fi
ratio() { if [ -n "$2" ]; then printf %.3f "$(echo "$1 / $2" | bc -l)"; else echo -; fi; }
exec > >(tee "$work/summary.txt")
echo
echo "medians of $rounds rounds; ratios to baseline and to the floor (throughput: higher"
echo "is better; p99 and CPU per request: lower is better)"
base_wcpu=$(median <<<"${wcpu[baseline]}")
printf "%-17s %9s %7s %7s %8s %7s %11s %7s %7s %11s %7s\n" mode "req/s" ratio floor "p99 ms" ratio \
  "CPU us/req" ratio floor "worker us" ratio
for m in "${modes[@]}"; do
  mr=$(median <<<"${rps[$m]}"); mp=$(median <<<"${p99[$m]}"); mc=$(median <<<"${cpu[$m]}")
  mw=$(median <<<"${wcpu[$m]}")
  printf "%-17s %9.0f %7.3f %7s %8.3f %7.2f %11.2f %7.3f %7s %11.2f %7.3f\n" "$m" "$mr" \
    "$(echo "$mr / $base_rps" | bc -l)" "$(ratio "$mr" "$floor_rps")" \
    "$mp" "$(echo "$mp / $base_p99" | bc -l)" "$mc" "$(echo "$mc / $base_cpu" | bc -l)" \
    "$(ratio "$mc" "$floor_cpu")" "$mw" "$(echo "$mw / $base_wcpu" | bc -l)"
done
echo "worker us: CPU of the nginx worker per request (user + system, tracer work in its context included)"

# Per program, target busy (netprof) and idle (netprof-idle): medians over
# the rounds of runs per request and ns per run (BPF_STATS=1).
program_table() {
  python3 - "$work" "${modes[@]}" <<'PY'
import glob, os, statistics, sys
work = sys.argv[1]
names = {"netprof": "busy", "netprof-idle": "idle", "netprof-tree": "tree"}
modes = {m: names.get(m, m) for m in sys.argv[2:]
         if m.startswith("netprof") and glob.glob(os.path.join(work, f"progs.{m}.*"))}
rows = {}
for m in modes:
    for f in glob.glob(os.path.join(work, f"progs.{m}.*")):
        for line in open(f):
            name, runs, ns = line.split()
            r = rows.setdefault(name, {}).setdefault(m, ([], []))
            r[0].append(float(runs)); r[1].append(float(ns))
if not rows:
    sys.exit(0)
def cell(name, m):
    r = rows[name].get(m)
    if not r:
        return ["-", "-", "-"]
    runs, ns = statistics.median(r[0]), statistics.median(r[1])
    return [f"{runs:.2f}", f"{ns:.0f}", f"{runs * ns:.0f}"]
first = next(iter(modes))
key = lambda n: -float(cell(n, first)[2]) if rows[n].get(first) else 0
print("| program | " + " | ".join(f"{modes[m]}: runs/request | ns/run | ns/request" for m in modes) + " |")
print("|---|" + "---|---|---|" * len(modes))
tot = {m: 0.0 for m in modes}
for n in sorted(rows, key=key):
    cells = []
    for m in modes:
        c = cell(n, m)
        tot[m] += float(c[2]) if c[2] != "-" else 0
        cells += c
    print(f"| `{n}` | " + " | ".join(cells) + " |")
print("| all | " + " | ".join(f" | | {tot[m]:.0f}" for m in modes) + " |")
PY
}
if [ "${BPF_STATS:-0}" = 1 ]; then
  echo
  echo "per program: medians of $rounds rounds (busy: netprof on the loaded worker; idle: netprof-idle;"
  echo "tree: netprof on nginx's master and worker; netprof-b: the build in NETPROF_B)"
  program_table | tee "$work/programs.md"
fi
# UPDATE_README=1 writes these tables into README.md between their markers,
# so the README shows the last full run, with its date and settings.
# UPDATE_README=1 writes every block; a list ("programs", "modes,fixed-rate")
# only those.
update_readme() {
  [ "${UPDATE_README:-0}" = 1 ] || [[ ",${UPDATE_README:-}," == *",$1,"* ]] || return 0
  python3 - "$top/README.md" "$1" "$2" "$3" <<'PY'
import re, sys
readme, marker, body, note = sys.argv[1:]
text = open(readme).read()
start, end = f"<!-- overhead.sh: {marker} -->", f"<!-- /overhead.sh: {marker} -->"
if start not in text or end not in text:
    sys.exit(f"overhead.sh: {readme} has no {start} ... {end}")
block = f"{start}\n{note}\n\n{open(body).read().rstrip()}\n{end}"
text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
open(readme, "w").write(text)
PY
}
if [ "${UPDATE_README:-0}" != 0 ]; then
  sleep 0.5 # tee writes what it was given
  note="Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs, kernel $(uname -r): \`${BPF_STATS:+BPF_STATS=$BPF_STATS }MODES=\"${modes[*]}\" $0 $rounds $secs\`, medians of $rounds rounds of $secs s."
  { echo '```'; sed -n '/^medians of/,/^worker us:/p' "$work/summary.txt"; echo '```'; } > "$work/modes.md"
  update_readme modes "$work/modes.md" "$note"
  [ ! -s "$work/programs.md" ] || update_readme programs "$work/programs.md" "$note"
fi

[ ${#rate_modes[@]} -gt 0 ] || exit 0
# ---- fixed rate: half the baseline's saturation throughput ----
rate=$(echo "$base_rps / 2" | bc)
per_client=$(( (rate + rate_clients - 1) / rate_clients ))
echo
echo "fixed rate: h2load --h1 -c$rate_clients --rps $per_client (~$((per_client * rate_clients)) req/s) -D${secs}s; $rounds rounds"
# "p50 p99" in ms of a per-request log (3rd column: us until the response ended)
latency_quantiles() {
  awk '{print $3}' "$1" | sort -g | awk '{a[NR]=$1} END {
    if (!NR) { print "0 0"; exit }
    i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
    printf "%.3f %.3f\n", a[i50] / 1000, a[i99] / 1000 }'
}
declare -A rp50 rp99 rcpu rrps
for r in $(seq "$rounds"); do
  for m in "${rate_modes[@]}"; do
    attach "$m"
    w0=$(proc_ticks "$worker"); tr0=$(proc_ticks "$tracer_pid")
    h2load --h1 -c"$rate_clients" --rps "$per_client" -D"$secs" --log-file="$work/h2.log" \
      "http://127.0.0.1:$port/" > "$work/h2.out" 2>&1 || true
    w1=$(proc_ticks "$worker"); tr1=$(proc_ticks "$tracer_pid")
    detach
    reqs=$(awk '/^requests:/ {print $8}' "$work/h2.out")
    [ -n "$reqs" ] && [ "$reqs" -gt 0 ] ||
      { echo "round $r $m: no request succeeded: $(grep -E "^(requests|status codes):" "$work/h2.out" | xargs)"; continue; }
    read -r q50 q99 < <(latency_quantiles "$work/h2.log")
    rp50[$m]+="$q50 "; rp99[$m]+="$q99 "
    rrps[$m]+="$(awk '/^finished in/ {print $4}' "$work/h2.out") "
    rcpu[$m]+="$(echo "($w1 - $w0 + $tr1 - $tr0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l) "
    echo "round $r $m: p50 $q50 ms, p99 $q99 ms"
  done
done
[ -n "${rp99[baseline]:-}" ] || { echo "(no fixed-rate baseline: no ratios)"; exit 0; }
b50=$(median <<<"${rp50[baseline]}"); b99=$(median <<<"${rp99[baseline]}"); bc_=$(median <<<"${rcpu[baseline]}")
echo
echo "fixed rate, medians of $rounds rounds; ratios to baseline (lower is better)"
printf "%-17s %9s %8s %7s %8s %7s %11s %7s %11s\n" mode "req/s" "p50 ms" ratio "p99 ms" ratio \
  "CPU us/req" ratio "extra us"
for m in "${rate_modes[@]}"; do
  [ -n "${rp99[$m]:-}" ] || continue
  m50=$(median <<<"${rp50[$m]}"); m99=$(median <<<"${rp99[$m]}"); mc=$(median <<<"${rcpu[$m]}")
  printf "%-17s %9.0f %8.3f %7.2f %8.3f %7.2f %11.2f %7.3f %11.2f\n" "$m" "$(median <<<"${rrps[$m]}")" \
    "$m50" "$(echo "$m50 / $b50" | bc -l)" "$m99" "$(echo "$m99 / $b99" | bc -l)" "$mc" \
    "$(echo "$mc / $bc_" | bc -l)" "$(echo "$mc - $bc_" | bc -l)"
done
echo "CPU us/req: the nginx worker and the tracer (h2load is left out: it paces the same at any cost);"
echo "extra us: CPU per request over the baseline's"
if [ "${UPDATE_README:-0}" != 0 ]; then
  sleep 0.5 # tee writes what it was given
  { echo '```'; sed -n '/^fixed rate, medians/,/^extra us:/p' "$work/summary.txt"; echo '```'; } > "$work/rate.md"
  update_readme fixed-rate "$work/rate.md" "$note (h2load: $rate_clients clients at $per_client req/s each)"
fi
