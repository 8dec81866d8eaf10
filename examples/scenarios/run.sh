#!/usr/bin/env bash
# Reproduce one scenario of the suite by hand:
#   sudo examples/scenarios/run.sh NAME [--out DIR] [--nginx] [--duration SECS]
#   sudo examples/scenarios/run.sh --list
# NAME is a scenario id (healthy, app.cpu, stack.qdisc, ...) or its script's
# name (app_cpu).
# The scenario builds its fault inside its own network namespaces, loads the
# target from a client namespace, records it with netprof, and prints two
# lines: whether the classic tools saw the fault, and netprof's verdict next
# to the expected one.  Everything it creates is removed when it exits,
# however it exits; it sends traffic only inside those namespaces.  The
# output directory (default ./netprof-scenarios/NAME) keeps the recording,
# report.json, report.txt, groundtruth.json and raw/.
# Exit status: that of the scenario (0 as expected, 3 other verdict, 4 fault
# not reproduced, 1 error, 2 usage).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

list() {
	local f name
	for f in "$here"/*.sh; do
		name=${f##*/}; name=${name%.sh}
		case $name in lib | run | repeat) continue ;; esac
		printf '  %-22s %s\n' "$(sed -n 's/^SCN_NAME=//p' "$f")" \
			"$(sed -n '2s/^# [^:]*: //p' "$f")"
	done
}

case ${1:-} in
'' | -h | --help)
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
	echo "Scenarios:"
	list
	[ -n "${1:-}" ] && exit 0 || exit 2 ;;
--list) list; exit 0 ;;
esac
name=$1; shift
script=$here/$(printf '%s' "$name" | tr '.' '_').sh
if [ ! -f "$script" ] || [[ $name == lib || $name == run || $name == repeat ]]; then
	echo "run.sh: no scenario '$name'; one of:" >&2
	list >&2
	exit 2
fi
exec bash "$script" "$@"
