#!/usr/bin/env bash
# app.backpressure: clients upload faster than a slow reader reads.
# npserver --read-delay-ms 20 --rcvbuf 16384 (one worker) sleeps before each
# read, with a small receive buffer; four npload connections upload 256 KiB
# bodies.  The receive queues sit at their limit and the server advertises a
# zero window.  Expected: app.backpressure.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=app.backpressure
SCN_TAG=bp
SCN_IDX=6
SCN_EXPECT=app.backpressure
SCN_SERVER_ARGS="--threads 1 --read-delay-ms 20 --rcvbuf 16384"

scn_load() {
	scn_npload "$1" --connections 4 --upload-bytes 262144 --timeout-ms 20000
}

scn_main "$@"
