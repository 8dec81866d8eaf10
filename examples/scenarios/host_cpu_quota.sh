#!/usr/bin/env bash
# host.cpu_quota: a CFS quota throttles the service while the CPUs idle.
# npserver (one worker, 3 ms of CPU per request) runs in a cgroup v1 cpu
# controller child limited to 20 ms of CPU per 100 ms period, under two
# closed-loop connections: it wants more than its quota, so it waits for
# the next period with both CPUs mostly free.  Expected: host.cpu_quota,
# not host.cpu_contention (no other work holds the CPUs) and not app.cpu
# alone (the code is not what got slower).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=host.cpu_quota
SCN_TAG=quota
SCN_IDX=22
SCN_EXPECT=host.cpu_quota
SCN_SERVER_ARGS="--threads 1 --burn-us 3000"

scn_fault() {
	scn_cgroup_quota quota 20000 100000
}

scn_started() {
	echo "$TARGET_PID" >"$SCN_CGROUP/cgroup.procs"
}

scn_load() {
	scn_wrk "$1" 2
}

scn_main "$@"
