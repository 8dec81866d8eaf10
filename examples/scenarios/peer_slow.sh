#!/usr/bin/env bash
# peer.slow: the target proxies every request to an upstream that takes 50 ms.
# A second npserver (--delay-ms 50, 8 workers) runs in a third namespace
# behind its own veth pair; the target (npserver --upstream, 4 workers) waits
# on it with its local queues empty (one client connection, so nothing
# queues locally while the worker waits).  Expected: peer.slow.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=peer.slow
SCN_TAG=peer
SCN_IDX=4
SCN_EXPECT=peer.slow

scn_fault() {
	scn_upstream_topology
	scn_bg upstream "$SCN_RAW/upstream.log" ip netns exec "$NS_UP" "$NPSERVER" \
		--addr "$UP_IP" --port "$SCN_PORT" --threads 8 --delay-ms 50
	scn_wait_line "$SCN_RAW/upstream.log" 'listening on' 10 "$SCN_LAST_PID" ||
		scn_die "upstream did not start: $(cat "$SCN_RAW/upstream.log")"
	SCN_SERVER_ARGS="--threads 4 --upstream $UP_IP:$SCN_PORT"
}

scn_load() {
	scn_wrk "$1" 1
}

scn_main "$@"
