#!/usr/bin/env bash
# What the scheduler tracer costs per context switch of a target thread, in
# the worst case: two threads of one process (tests/progs/cpuprog pingpong),
# pinned to one CPU, pass a byte back and forth over pipes, so every round
# trip is two blocking switch-outs (each taking a kernel stack), two wakeups
# and two switch-ins, all of target threads.  The process measures its own
# CPU time per round trip, which the rest of a shared machine barely moves.
#
# Modes, interleaved, ROUNDS each, medians:
#   none         no tracer
#   syscalls     netprof --no-cpu (the syscall source; pipes are not traced)
#   sched        netprof -F 0     (+ the scheduler tracer)
#   sched+cpu    netprof          (+ CPU sampling at 99 Hz)
#
# Usage: tests/bench/sched_cost.sh [ROUNDS=5] [SECONDS=3]
# (root; run it under flock /tmp/netprof-bench.lock; prints, never fails)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${1:-5}
secs=${2:-3}
netprof=${NETPROF:-$top/build/netprof}
cpuprog=${CPUPROG:-$top/build/tests/cpuprog}
[ -x "$netprof" ] && [ -x "$cpuprog" ] || { echo "sched_cost.sh: build first (ninja -C build)" >&2; exit 1; }
work=$(mktemp -d)
prog_pid= np_pid=
cleanup() {
  [ -z "$np_pid" ] || kill -INT "$np_pid" 2>/dev/null || true
  [ -z "$prog_pid" ] || kill "$prog_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

one() { # mode -> prints "us CPU per round trip"
  local mode=$1 opts
  mkfifo "$work/go"
  taskset -c 0 "$cpuprog" pingpong "$secs" < "$work/go" > "$work/out" &
  prog_pid=$!
  exec 7>"$work/go"
  sleep 0.2
  case $mode in
    none) opts= ;;
    syscalls) opts=--no-cpu ;;
    sched) opts="-F 0" ;;
    sched+cpu) opts= ;;
  esac
  if [ "$mode" != none ]; then
    "$netprof" record -v $opts -p "$prog_pid" -d $((secs + 20)) -o "$work/r.nprof" 2>"$work/np.err" &
    np_pid=$!
    for _ in $(seq 100); do grep -q "recording pid" "$work/np.err" 2>/dev/null && break; sleep 0.1; done
  fi
  echo go >&7
  exec 7>&-
  wait "$prog_pid" || true
  prog_pid=
  if [ -n "$np_pid" ]; then
    kill -INT "$np_pid" 2>/dev/null || true
    wait "$np_pid" || true
    np_pid=
  fi
  rm -f "$work/go"
  awk '/pingpong:/ {print $(NF-5)}' "$work/out"
}

modes=(none syscalls sched sched+cpu)
declare -A us
for r in $(seq "$rounds"); do
  for m in "${modes[@]}"; do
    v=$(one "$m")
    us[$m]+="$v "
    echo "round $r $m: $v us CPU per round trip"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base=$(median <<<"${us[none]}")
echo
echo "medians of $rounds rounds; a round trip is 2 switch-outs, 2 wakeups, 2 switch-ins"
printf "%-10s %14s %8s %22s\n" mode "us/round trip" ratio "added per round trip"
for m in "${modes[@]}"; do
  v=$(median <<<"${us[$m]}")
  printf "%-10s %14.3f %8.3f %19.3f us\n" "$m" "$v" "$(echo "$v / $base" | bc -l)" "$(echo "$v - $base" | bc -l)"
done
