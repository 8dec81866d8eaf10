#!/usr/bin/env bash
# app.blocked: every request sleeps 20 ms on the worker thread.
# npserver --delay-ms 20 (one worker) blocks in nanosleep, the way a service
# blocks on a lock or a disk read on its event loop; 8 connections queue
# behind it.  Expected: app.blocked.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=app.blocked
SCN_TAG=blk
SCN_IDX=3
SCN_EXPECT=app.blocked
SCN_SERVER_ARGS="--threads 1 --delay-ms 20"

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
