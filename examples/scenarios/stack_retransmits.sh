#!/usr/bin/env bash
# stack.retransmits: a router on the path drops 5% of the packets it forwards.
# The client reaches the server through a third namespace that routes
# between two veth pairs; XDP on both of the router's veths (native mode,
# section xdp/drop5) drops a random 5% of the TCP packets it receives, in
# both directions, as a lossy link or an overloaded router would.  The
# server's host drops nothing: the loss is on the path, and all the server
# sees is TCP retransmitting its responses (and the client its requests and
# ACKs).  16 KiB responses to 8 connections.  Expected: stack.retransmits,
# and no cause that names a drop on the server's host.
#
# Why XDP and not an nft rule in the router's forward chain: the router
# namespace shares the server's kernel, and netfilter drops anywhere on it
# are kfree_skb(NETFILTER_DROP), host-wide; with the server's retransmits
# next to them netprof rightly says stack.netfilter (a container host's
# FORWARD chain dropping a pod's packets looks exactly like this).  XDP
# drops are counted only in the router's veth statistics, which are not
# the target's interfaces: the loss is as invisible to the server's host
# as a router elsewhere would make it.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.retransmits
SCN_TAG=rtx
SCN_IDX=19
SCN_EXPECT=stack.retransmits
SCN_BODY_BYTES=16384

scn_fault() {
	scn_router_topology
	# Both directions: the client's requests and ACKs, the server's responses.
	scn_xdp "$NS_RT" "$RT_VETH_SRV" xdp/drop5
	scn_xdp "$NS_RT" "$RT_VETH_CLI" xdp/drop5
}

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
