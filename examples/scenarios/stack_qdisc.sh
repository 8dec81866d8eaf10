#!/usr/bin/env bash
# stack.qdisc: a token bucket shapes the server's egress to 20 Mbit/s.
# tbf (rate 20mbit burst 32kbit latency 200ms) on the server's veth; 200 KB
# responses to 8 connections.  Responses queue in the qdisc (overlimits,
# backlog, drops).  Expected: stack.qdisc.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.qdisc
SCN_TAG=qd
SCN_IDX=9
SCN_EXPECT=stack.qdisc
SCN_NGINX=1
SCN_BODY_BYTES=200000

scn_fault() {
	scn_tc_root "$NS_SRV" "$VETH_SRV" tbf rate 20mbit burst 32kbit latency 200ms
}

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
