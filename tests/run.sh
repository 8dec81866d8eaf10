#!/usr/bin/env bash
# The whole netprof test suite, from a fresh Debian 12 machine, as root:
#   1. install dependencies            (tools/install-deps.sh)
#   2. build with -Werror, run the unit tests
#   3. build with ASan+UBSan (-Werror), run the unit tests again
#   4. run every fuzz target briefly    (NETPROF_FUZZ_SECONDS, default 20)
#   5. run the integration tests as root against examples/ (pytest)
# and print one closing line "N passed, N failed[, N skipped]".
# In CI (CI=true) a privileged test that skips counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
tools/install-deps.sh || { echo "tests/run.sh: installing dependencies failed" >&2; exit 1; }

results=$(mktemp -d)
status=0
step() { echo; echo "=== $*"; }

step "build (warnings are errors)"
if [ ! -d build-ci ]; then meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized >/dev/null || status=1; fi
ninja -C build-ci || status=1

step "unit tests"
meson test -C build-ci --print-errorlogs || status=1
cp build-ci/meson-logs/testlog.json "$results/unit.json" 2>/dev/null

step "unit tests under ASan+UBSan"
if [ ! -d build-asan ]; then
  meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || status=1
fi
ninja -C build-asan || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs || status=1
cp build-asan/meson-logs/testlog.json "$results/asan.json" 2>/dev/null

step "fuzz (short run)"
if [ -x tests/fuzz/run.sh ]; then
  if tests/fuzz/run.sh "${NETPROF_FUZZ_SECONDS:-20}"; then echo "fuzz: ok" > "$results/fuzz.txt"
  else echo "fuzz: failed" > "$results/fuzz.txt"; status=1; fi
fi

step "integration tests (root)"
NETPROF_BUILD="$top/build-ci" /usr/bin/python3 -m pytest -v -rs --junitxml="$results/integration.xml" \
  tests/integration || status=1

/usr/bin/python3 - "$results" <<'PY'
import json, os, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
passed = failed = skipped = 0
for name in ("unit.json", "asan.json"):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        failed += 1
        continue
    for line in open(p):
        t = json.loads(line)
        tap = [l for l in t.get("stdout", "").splitlines() if l.startswith(("ok ", "not ok "))]
        r = t.get("result")
        if tap:  # criterion's TAP: count its subtests; a crash fails the whole binary
            passed += sum(l.startswith("ok ") for l in tap)
            failed += sum(l.startswith("not ok ") for l in tap)
            if r not in ("OK", "EXPECTEDFAIL") and not any(l.startswith("not ok ") for l in tap):
                failed += 1
        elif r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
p = os.path.join(d, "fuzz.txt")
if os.path.exists(p):
    if "ok" in open(p).read(): passed += 1
    else: failed += 1
p = os.path.join(d, "integration.xml")
if os.path.exists(p):
    for ts in ET.parse(p).getroot().iter("testsuite"):
        t, f, e, s = (int(ts.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += t - f - e - s; failed += f + e; skipped += s
else:
    failed += 1
print()
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
rm -rf "$results"
exit $status
