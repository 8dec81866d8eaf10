#!/usr/bin/env bash
# stack.nagle: the service answers in two small writes with Nagle on.
# npserver --split-writes writes each response's head and its 64-byte body
# in two write() calls and leaves TCP_NODELAY off: Nagle's algorithm keeps
# the body back until the client ACKs the head, and the client (Linux, in
# its interactive mode on a keep-alive connection) delays that ACK by
# ~40 ms.  4 keep-alive connections (wrk).  Expected: stack.nagle.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.nagle
SCN_TAG=ngl
SCN_IDX=17
SCN_EXPECT=stack.nagle
SCN_SERVER_ARGS="--split-writes"

scn_load() {
	scn_wrk "$1" 4
}

scn_main "$@"
