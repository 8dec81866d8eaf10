#!/usr/bin/env bash
# app.cpu: every request burns 2 ms of CPU in the server's own code.
# npserver --burn-us 2000 (one worker) spends its time in handle_request ->
# compute_response -> burn_cpu; a closed-loop load of 8 connections keeps it
# busy.  Expected: app.cpu with burn_cpu named as the hot function.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=app.cpu
SCN_TAG=cpu
SCN_IDX=2
SCN_EXPECT=app.cpu
SCN_SERVER_ARGS="--threads 1 --burn-us 2000"

scn_load() {
	scn_wrk "$1" 8
}

scn_main "$@"
