#!/bin/bash
# tests/fuzz/run.sh SECONDS - build the libFuzzer targets with clang and run
# each one for SECONDS (default 60) on a copy of its seed corpus.
#
# Exits non-zero if a target crashes, leaks, times out or trips a sanitizer;
# the input that did it is kept and its path printed.  Nothing tracked is
# touched: the build directory defaults to build-fuzz in this tree (ignored
# by git, like build-ci; NP_FUZZ_BUILD overrides; one per tree, since a
# meson build directory belongs to one source tree) and corpora grow in a
# temporary copy.
set -euo pipefail

secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NP_FUZZ_BUILD:-$top/build-fuzz}
targets=(fuzz_recording fuzz_procfs fuzz_meta fuzz_report fuzz_netparse fuzz_perf fuzz_httplabel
         fuzz_ksyms fuzz_listenports fuzz_cgcpu fuzz_join fuzz_diff fuzz_tlslib fuzz_h2conn)

# the Redis/PostgreSQL label cut of bpf/upstreamlabel.bpf.h
targets+=(fuzz_upstreamlabel)

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" "$top" -Dfuzz=true -Db_lundef=false >/dev/null
else
	CC=clang meson setup "$build" "$top" -Dfuzz=true -Db_lundef=false >/dev/null
fi
if ! log=$(meson compile -C "$build" "${targets[@]}" fuzz_gen_seeds 2>&1); then
	printf '%s\n' "$log" | tail -40 >&2
	echo "fuzz: the targets did not build" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/netprof-fuzz.XXXXXX")
failed=()
for t in "${targets[@]}"; do
	corpus=$work/$t-corpus
	mkdir -p "$corpus" "$work/$t-artifacts"
	cp "$top/tests/fuzz/corpus/$t/"* "$corpus/"
	if [ "$t" = fuzz_recording ] || [ "$t" = fuzz_report ]; then
		# fresh seeds from this tree's writer, next to the committed ones
		mkdir -p "$work/seeds"
		"$build/tests/fuzz/fuzz_gen_seeds" "$work/seeds"
		for f in "$work/seeds"/*; do cp "$f" "$corpus/gen-$(basename "$f")"; done
	fi
	echo "== $t: ${secs}s"
	if "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$t-artifacts/" "$corpus" \
		>"$work/$t.log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$work/$t.log" || true
	else
		echo "!! $t FAILED; log: $work/$t.log" >&2
		grep -E 'ERROR|runtime error|SUMMARY|deadly signal' "$work/$t.log" | head -5 >&2 || true
		ls "$work/$t-artifacts/" >&2 || true
		failed+=("$t")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in $work)" >&2
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s without a crash"
rm -rf "$work"
