#!/usr/bin/env bash
# peer.slow.split: the upstream writes each reply in two parts with Nagle on.
# As peer.slow, but the upstream npserver answers at once with
# --split-writes: its reply's head and body go out in two writes, TCP_NODELAY
# off, so the body waits for the target's (delayed, ~40 ms) ACK of the head.
# The target reads the head at once and then blocks for the body.  Expected:
# peer.slow, with the upstream's replies arriving in two parts ~40 ms apart.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=peer.slow.split
SCN_TAG=psplit
SCN_IDX=26
SCN_EXPECT=peer.slow

scn_fault() {
	scn_upstream_topology
	scn_bg upstream "$SCN_RAW/upstream.log" ip netns exec "$NS_UP" "$NPSERVER" \
		--addr "$UP_IP" --port "$SCN_PORT" --threads 8 --split-writes
	scn_wait_line "$SCN_RAW/upstream.log" 'listening on' 10 "$SCN_LAST_PID" ||
		scn_die "upstream did not start: $(cat "$SCN_RAW/upstream.log")"
	SCN_SERVER_ARGS="--threads 4 --upstream $UP_IP:$SCN_PORT"
}

scn_load() {
	scn_wrk "$1" 1
}

scn_main "$@"
