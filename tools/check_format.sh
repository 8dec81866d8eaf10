#!/usr/bin/env bash
# The format check: every C source of the repository must be as clang-format
# leaves it under the checked-in .clang-format.
#
# For: CI and a quick look before committing; --fix rewrites the files in
# place.  Not for: sources that are not ours or not in the tree: generated
# headers (vmlinux.h, *.skel.h, sysnames.h, html_assets.h) live only in build
# directories, which are never scanned.
#
# Which files: the C sources git tracks (*.c, *.h); outside a git checkout,
# every *.c and *.h below the top except build*/ and hidden directories.
# Formatting differs between clang-format releases, and .clang-format was
# written for Debian 12's clang-format 14 (tools/install-deps.sh installs
# it); another major version is used but named in a warning.
#
# usage: tools/check_format.sh [--fix] [FILE...]
#        CLANG_FORMAT=clang-format-14 tools/check_format.sh
# exit 0 when every file is formatted, 1 listing the ones that are not
# (or that clang-format cannot read), 2 when clang-format is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
if [ "${1:-}" = --fix ]; then
	fix=1
	shift
fi
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "check_format: $cf not found; install clang-format (tools/install-deps.sh)" >&2
	exit 2
fi
major=$("$cf" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p')
if [ "$major" != 14 ]; then
	echo "check_format: warning: $cf is version ${major:-unknown}; .clang-format is tuned for 14," \
		"other versions may disagree" >&2
fi

if [ $# -gt 0 ]; then
	files=("$@")
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files -- '*.c' '*.h')
else
	mapfile -t files < <(find . \( -name 'build*' -o -name '.*' \) -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi

present=()
for f in "${files[@]}"; do
	[ -f "$f" ] && present+=("$f")
done
[ ${#present[@]} -gt 0 ] || { echo "check_format: no C sources" >&2; exit 1; }

bad=()
if [ $fix = 1 ]; then
	for f in "${present[@]}"; do
		"$cf" -i --style=file "$f" || bad+=("$f")
	done
else
	# One run over every file: --dry-run names each place that would
	# change as "FILE:LINE:COL: error: code should be clang-formatted";
	# a file it cannot read or parse fails the run and is listed too.
	out=$("$cf" --dry-run -Werror --ferror-limit=1 --style=file "${present[@]}" 2>&1) || true
	mapfile -t bad < <(printf '%s\n' "$out" | sed -n 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: .*/\1/p' | sort -u)
	if [ ${#bad[@]} -eq 0 ] && ! "$cf" --dry-run -Werror --style=file "${present[@]}" >/dev/null 2>&1; then
		printf '%s\n' "$out" >&2
		echo "check_format: clang-format failed" >&2
		exit 1
	fi
fi

if [ ${#bad[@]} -gt 0 ]; then
	if [ $fix = 1 ]; then
		echo "check_format: clang-format failed on:" >&2
	else
		echo "check_format: ${#bad[@]} of ${#present[@]} files are not formatted" \
			"(tools/check_format.sh --fix, or clang-format -i FILE):" >&2
	fi
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi
[ $fix = 1 ] || echo "check_format: ${#present[@]} files formatted"
