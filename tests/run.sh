#!/usr/bin/env bash
# The whole netprof test suite, from a fresh Debian 12 machine, as root:
#   deps         install dependencies             (tools/install-deps.sh)
#   build        build with -Werror               (build-ci)
#   unit         criterion unit tests, the golden reports, the layer check
#   asan         the same under ASan+UBSan, with -Werror (build-asan)
#   fuzz         every fuzz target briefly        (NETPROF_FUZZ_SECONDS, default 20)
#   integration  the integration tests as root against examples/ (pytest)
# and print one closing line "N passed, N failed[, N skipped]"
# (tests/tools/summarize.py), whose verdict is also the exit status.
#
# usage: tests/run.sh [--steps LIST]   LIST: comma-separated step names
#                                      (default: all of them, in order)
# A step that fails to build or leaves no results counts as a failure; in
# CI (CI=true) a skipped test is a failure unless tests/allowed_skips.txt
# lists it with its reason.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
all_steps=deps,build,unit,asan,fuzz,integration
steps=$all_steps
if [ "${1:-}" = --steps ] && [ -n "${2:-}" ]; then
	steps=$2
elif [ $# -gt 0 ]; then
	echo "usage: tests/run.sh [--steps $all_steps]" >&2
	exit 2
fi
for s in ${steps//,/ }; do
	case ",$all_steps," in *",$s,"*) ;; *) echo "tests/run.sh: no step '$s'" >&2; exit 2 ;; esac
done
want() { case ",$steps," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step() { echo; echo "=== $*"; }
# result NAME ok|failed: a step's own outcome (builds, scripts)
result() { echo "$1 $2" >> "$results/steps"; }
# expect NAME: this step must leave results, or it counts as a failure
expect() { echo "$1" >> "$results/expect"; }

# meson setup on a new directory, or the same options applied to an old
# one, so -Dwerror=true holds on every run, not only the first.
configure() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		rm -rf "$dir"
		meson setup "$dir" "$@" >/dev/null
	fi
}

# meson test into NAME.json; the previous run's log is removed first so it
# can never be counted again.
unit_suite() {
	local name=$1 dir=$2; shift 2
	rm -f "$dir/meson-logs/testlog.json"
	"$@" meson test -C "$dir" --print-errorlogs
	if [ -f "$dir/meson-logs/testlog.json" ]; then
		cp "$dir/meson-logs/testlog.json" "$results/$name.json"
	fi
}

if want deps; then
	step "dependencies"
	if tools/install-deps.sh; then result deps ok; else
		result deps failed
		echo "tests/run.sh: installing dependencies failed" >&2
	fi
fi

build_ok=false
if want build || want unit || want integration; then
	step "build (warnings are errors)"
	if configure build-ci -Dwerror=true -Dbuildtype=debugoptimized && ninja -C build-ci; then
		result build ok
		build_ok=true
	else
		result build failed
	fi
fi

if want unit; then
	step "unit tests"
	expect unit
	$build_ok && unit_suite unit build-ci env
fi

if want asan; then
	step "unit tests under ASan+UBSan"
	expect asan
	if configure build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false &&
		ninja -C build-asan; then
		result asan-build ok
		unit_suite asan build-asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	else
		result asan-build failed
	fi
fi

if want fuzz; then
	step "fuzz (short run)"
	expect fuzz
	if [ ! -f tests/fuzz/run.sh ]; then
		echo "tests/run.sh: tests/fuzz/run.sh is missing" >&2
	elif bash tests/fuzz/run.sh "${NETPROF_FUZZ_SECONDS:-20}"; then
		echo ok > "$results/fuzz.txt"
	else
		echo failed > "$results/fuzz.txt"
	fi
fi

if want integration; then
	step "integration tests (root)"
	expect integration
	if $build_ok; then
		NETPROF_BUILD="$top/build-ci" /usr/bin/python3 -m pytest -v -rs \
			--junitxml="$results/integration.xml" tests/integration
	fi
fi

/usr/bin/python3 tests/tools/summarize.py "$results"
