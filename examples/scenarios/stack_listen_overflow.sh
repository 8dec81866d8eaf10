#!/usr/bin/env bash
# stack.listen_overflow: a tiny backlog, a slow accept loop and many clients.
# npserver --backlog 1 --accept-delay-ms 50 --keepalive off accepts at most
# 20 connections a second; npload opens 200 concurrent connections, one per
# request.  The accept queue overflows (TcpExtListenOverflows/ListenDrops)
# and clients retry their SYNs.  Expected: stack.listen_overflow.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.listen_overflow
SCN_TAG=lo
SCN_IDX=7
SCN_EXPECT=stack.listen_overflow
SCN_SERVER_ARGS="--threads 1 --backlog 1 --accept-delay-ms 50 --keepalive off"

scn_load() {
	scn_npload "$1" --keepalive off --connections 200 --timeout-ms 4000
}

scn_main "$@"
