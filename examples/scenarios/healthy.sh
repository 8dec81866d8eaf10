#!/usr/bin/env bash
# healthy: no fault; the example server (or nginx) under a moderate, paced load.
# Four connections, each pausing 2 ms between requests (about 1500 requests/s),
# far below what one worker can serve.  netprof must give no verdict and no
# finding above info.
# Usage: examples/scenarios/healthy.sh [--out DIR] [--nginx] [--duration SECS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=healthy
SCN_TAG=hl
SCN_IDX=1
SCN_EXPECT=none
SCN_NGINX=1
SCN_BODY_BYTES=1024

scn_load() {
	scn_wrk "$1" 4 -s "$(scn_wrk_pace_script 2)"
}

scn_main "$@"
