#!/usr/bin/env bash
# stack.socket_buffers: the receive path charges a buffer per packet that a small SO_RCVBUF cannot hold.
# npserver (one worker) reads every upload as fast as it can, with
# SO_RCVBUF 4096 (rb 8192).  The client sends over a 256-byte MTU with TSO
# and GSO off, so each packet carries 204 bytes; native XDP (a program that
# passes everything) on the server's veth makes veth copy every packet into
# a page-pool buffer of its own, as a NIC driver gives each frame a whole
# receive buffer.  The socket's memory (truesize) then runs past its
# buffer long before its data does: TCP prunes and collapses the receive
# queue (TcpExtPruneCalled, TcpExtTCPRcvCollapsed) while the application
# keeps reading.  Four npload connections upload 256 KiB bodies.
# Expected: stack.socket_buffers.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.socket_buffers
SCN_TAG=sbuf
SCN_IDX=20
SCN_EXPECT=stack.socket_buffers
SCN_SERVER_ARGS="--threads 1 --rcvbuf 4096"
SCN_MTU=256

scn_fault() {
	ip -n "$NS_SRV" link set dev "$VETH_SRV" mtu "$SCN_MTU"
	ip -n "$NS_CLI" link set dev "$VETH_CLI" mtu "$SCN_MTU"
	# One packet per segment: no 64 KiB GSO packets for veth to pass whole.
	scn_in "$NS_CLI" ethtool -K "$VETH_CLI" tso off gso off
	scn_xdp "$NS_SRV" "$VETH_SRV" xdp/pass
}

scn_load() {
	scn_npload "$1" --connections 4 --upload-bytes 262144 --timeout-ms 20000
}

scn_main "$@"
