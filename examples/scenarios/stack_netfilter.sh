#!/usr/bin/env bash
# stack.netfilter / stack.retransmits: nft drops 5% of the packets sent to the server.
# An nft table in the server namespace drops a random 5% of the TCP segments
# arriving for port 8080 (input hook, with a counter), as a firewall rule
# gone wrong would; 16 KiB responses to 8 connections.  The kernel frees
# them with drop reason NETFILTER_DROP in the server's namespace, and TCP
# retransmits on the server's connections (the client its requests and ACKs,
# the server its responses).
# Expected: stack.netfilter or stack.retransmits, naming the drop reason.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.netfilter
SCN_TAG=nf
SCN_IDX=8
SCN_EXPECT="stack.netfilter stack.retransmits"
SCN_NGINX=1
SCN_BODY_BYTES=16384
SCN_DROP_PCT=${SCN_DROP_PCT:-5}

scn_fault() {
	scn_nft_table "$NS_SRV" "$P-drop"
	scn_nft_cmd "$NS_SRV" add chain inet "$P-drop" in '{ type filter hook input priority 0; }'
	scn_nft_cmd "$NS_SRV" add rule inet "$P-drop" in tcp dport "$SCN_PORT" \
		numgen random mod 100 '<' "$SCN_DROP_PCT" counter drop
}

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
