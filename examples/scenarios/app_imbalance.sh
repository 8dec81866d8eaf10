#!/usr/bin/env bash
# app.imbalance: one hot keep-alive connection pins the load to one worker.
# npserver runs 4 worker threads sharing one listener (EPOLLEXCLUSIVE);
# every request burns 2 ms of CPU.  The load is a single keep-alive
# connection, as from a proxy or a client library that keeps one
# connection per upstream: whichever worker accepted it serves every
# request, saturated, while its three siblings idle.  (With many
# connections the kernel's choice of worker is not deterministic: one
# worker took them all in 5 of 9 trials.)  Expected: app.imbalance, the
# busy worker named, before app.cpu.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=app.imbalance
SCN_TAG=imb
SCN_IDX=23
SCN_EXPECT=app.imbalance
SCN_SERVER_ARGS="--threads 4 --burn-us 2000"

scn_load() {
	scn_wrk "$1" 1
}

scn_main "$@"
