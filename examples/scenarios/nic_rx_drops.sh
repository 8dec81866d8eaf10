#!/usr/bin/env bash
# nic.rx_drops: an XDP program drops 5% of the packets the server's veth receives.
# examples/scenarios/xdp_drop.bpf.c (built by meson) runs in native mode on
# the server's veth and drops a random 5% of the TCP packets arriving from
# the client, before the stack sees them; veth counts them in ethtool -S
# (rx_queue_0_xdp_drops).  16 KiB responses to 8 connections.
# Expected: nic.rx_drops.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=nic.rx_drops
SCN_TAG=nic
SCN_IDX=10
SCN_EXPECT=nic.rx_drops
SCN_NGINX=1
SCN_BODY_BYTES=16384

scn_fault() {
	scn_xdp "$NS_SRV" "$VETH_SRV" xdp/drop5
}

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
