#!/usr/bin/env bash
# host.cpu_contention: CPU hogs pinned to the server's CPU.
# npserver (one worker, 100 us of CPU per request) is pinned to CPU 0 with
# taskset, and three busy loops are pinned to CPU 0 too (bounded by timeout,
# killed on exit); the load generator runs on CPU 1.  The server's thread is
# runnable but waits for the CPU.  Expected: host.cpu_contention.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=host.cpu_contention
SCN_TAG=cont
SCN_IDX=5
SCN_EXPECT=host.cpu_contention
SCN_SERVER_ARGS="--threads 1 --burn-us 100"
SCN_LOAD_PREFIX="taskset -c 1"

scn_target() {
	scn_start_target taskset -c 0
}

scn_started() {
	local i
	for i in 1 2 3; do
		# Inside the server namespace, so cleanup finds them there too.
		scn_bg "hog$i" "$SCN_RAW/hog$i.log" ip netns exec "$NS_SRV" \
			timeout -k 3 $((SCN_DURATION + 40)) taskset -c 0 sh -c 'while :; do :; done' "$P-hog"
	done
}

scn_load() {
	scn_wrk "$1" 4
}

scn_main "$@"
