#!/usr/bin/env bash
# elsewhere.udp_overflow: the target is healthy; another process overflows
# its own buffers.  In the target's namespace, a python3 process that is
# not the target sends about 2000 datagrams a second over loopback to a UDP
# socket of its own with a tiny SO_RCVBUF that it never reads: every
# datagram past the first few is dropped, and the namespace's
# UdpRcvbufErrors and the host's kfree_skb SOCKET_RCVBUFF count them.
# The target (npserver, paced load as in healthy) never drops anything.
# Counters of the namespace and the host are not the target's: netprof
# must give no verdict, and report the drops at info as elsewhere.
# Usage: examples/scenarios/elsewhere_udp_overflow.sh [--out DIR] [--duration SECS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=elsewhere.udp_overflow
SCN_TAG=eudp
SCN_IDX=12
SCN_EXPECT=none
SCN_BODY_BYTES=1024

# Paced (a send every 10 ms in bursts of 20): the flood must cost the
# 2-CPU host next to nothing, so that only its drops can mislead.
SCN_FLOOD_PY='
import socket, sys, time
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
rx.bind(("127.0.0.1", 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("flooding", rx.getsockname(), flush=True)
payload = b"x" * 512
while True:
    for _ in range(20):
        tx.sendto(payload, rx.getsockname())
    time.sleep(0.01)
'

scn_started() {
	scn_bg flood "$SCN_RAW/flood.log" ip netns exec "$NS_SRV" python3 -c "$SCN_FLOOD_PY"
	scn_wait_line "$SCN_RAW/flood.log" '^flooding' 10 "$SCN_LAST_PID" ||
		scn_die "the UDP flooder did not start: $(tail -3 "$SCN_RAW/flood.log")"
}

scn_load() {
	scn_wrk "$1" 4 -s "$(scn_wrk_pace_script 2)"
}

scn_main "$@"
