#!/usr/bin/env bash
# Flake rate of one scenario: runs its integration tests N times in a row
# (each run: the scenario once, then test_fault_is_real, test_verdict,
# test_evidence, test_evidence_values, test_nic_not_blamed and
# test_host_unchanged) and prints, per test, how many runs passed, plus the
# scenario's wall time per run.
#   sudo examples/scenarios/repeat.sh NAME N [--nginx] [--out DIR]
# NAME as for run.sh (healthy, app.cpu, ...).  Each run's output stays in
# DIR/run-I (default ./netprof-scenarios/repeat-NAME-VARIANT).
# Exit status 0 when every test passed in every run.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
name=${1:?usage: repeat.sh NAME N [--nginx] [--out DIR]}
n=${2:?usage: repeat.sh NAME N [--nginx] [--out DIR]}
shift 2
variant=npserver
out=
while [ $# -gt 0 ]; do
	case $1 in
	--nginx) variant=nginx; shift ;;
	--out) out=$2; shift 2 ;;
	*) echo "repeat.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
# NAME as run.sh takes it (host.cpu_contention) or as its script is named
# (host_cpu_contention): the script's SCN_NAME is the test id's.
script=examples/scenarios/$(printf '%s' "$name" | tr '.' '_').sh
[ -f "$script" ] || { echo "repeat.sh: no scenario '$name' (examples/scenarios/run.sh --list)" >&2; exit 2; }
name=$(sed -n 's/^SCN_NAME=//p' "$script")
# A scenario whose own target is nginx (app.cpu.tls) names its one variant so.
kind=$(sed -n 's/^SCN_TARGET_KIND=//p' "$script")
[ "$variant" = nginx ] || variant=${kind:-npserver}
out=${out:-$PWD/netprof-scenarios/repeat-$name-$variant}
export NETPROF_BUILD=${NETPROF_BUILD:-$top/build}
mkdir -p "$out"
t=tests/integration/test_scenarios.py
id="$name-$variant"
ids=("$t::test_fault_is_real[$id]" "$t::test_verdict[$id]" "$t::test_evidence[$id]")
# only the scenarios that expect a verdict have values to check
case $name in healthy | elsewhere.udp_overflow) ;; *) ids+=("$t::test_evidence_values[$id]") ;; esac
[ "$name" = nic.rx_drops ] || ids+=("$t::test_nic_not_blamed[$id]")
[ "$name" = stack.retransmits ] && ids+=("$t::test_path_loss_is_not_blamed_on_the_host")
ids+=("$t::test_host_unchanged")
# One hold of the benchmark lock for the whole series: the runs are "in a
# row", and they do not wait for the lock between runs.
exec {lockfd}>>"${NETPROF_BENCH_LOCK:-/tmp/netprof-bench.lock}"
flock -w 900 "$lockfd" || { echo "repeat.sh: waited 15 minutes for the benchmark lock" >&2; exit 1; }
export NETPROF_SCN_LOCKED=1
for i in $(seq "$n"); do
	rm -rf "$out/run-$i"
	start=$SECONDS
	NETPROF_SCN_OUT=$out/run-$i /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--junitxml="$out/run-$i.xml" "${ids[@]}" >"$out/run-$i.log" 2>&1 || true
	# The scenario's own time, from taking the lock to the end of cleanup.
	s=$(sed -n 's/.*\[ *\([0-9.]*\)s\] holding .*/\1/p' "$out/run-$i/$id/run.log" 2>/dev/null | head -1)
	e=$(sed -n 's/.*\[ *\([0-9.]*\)s\] cleaned up.*/\1/p' "$out/run-$i/$id/run.log" 2>/dev/null | tail -1)
	took=$(awk -v s="${s:-0}" -v e="${e:-0}" 'BEGIN { printf "%.1f", e - s }')
	echo "run $i/$n: $(tail -1 "$out/run-$i.log") (scenario ${took} s, pytest $((SECONDS - start)) s)"
done
/usr/bin/python3 - "$out" "$n" "$id" <<'PY'
import glob, os, re, sys, xml.etree.ElementTree as ET
out, n, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
passed, all_ok, secs = {}, 0, []
for i in range(1, n + 1):
    p = os.path.join(out, f"run-{i}.xml")
    ok = os.path.exists(p)
    if ok:
        for tc in ET.parse(p).getroot().iter("testcase"):
            name = re.sub(r"\[.*", "", tc.get("name"))
            good = not any(c.tag in ("failure", "error", "skipped") for c in tc)
            passed[name] = passed.get(name, 0) + good
            ok = ok and good
    all_ok += ok
print(f"\n{case}: {n} runs")
for k, v in passed.items():
    print(f"  {k:24s} passed {v}/{n}  (flake rate {100.0 * (n - v) / n:.0f}%)")
print(f"  {'all tests':24s} passed {all_ok}/{n}")
sys.exit(0 if all_ok == n else 1)
PY
