#!/usr/bin/env bash
# stack.kernel_cpu: the server's time goes to kernel network work.
# npserver (one worker, pinned to CPU 1) sends 256 KiB responses with
# segmentation offloads (TSO, GSO) off on its veth: every ~1.4 KB segment
# walks TCP, IP, the qdisc and the veth separately, and veth delivers it to
# the client's TCP in the same call, on the same CPU.  The load runs on
# CPU 0; RPS on the client's veth keeps each flow's receive work on one CPU
# so that nothing arrives out of order (spurious retransmissions otherwise).
# /proc shows the worker's time almost all in the kernel.  Expected:
# stack.kernel_cpu, naming the offloads that are off.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.kernel_cpu
SCN_TAG=kcpu
SCN_IDX=21
SCN_EXPECT=stack.kernel_cpu
SCN_BODY_BYTES=262144
SCN_SERVER_ARGS="--threads 1"
SCN_LOAD_PREFIX="taskset -c 0"

scn_fault() {
	scn_in "$NS_SRV" ethtool -K "$VETH_SRV" tso off gso off >/dev/null
	scn_in "$NS_CLI" sh -c "echo 2 > /sys/class/net/$VETH_CLI/queues/rx-0/rps_cpus"
	scn_in "$NS_SRV" sh -c "echo 2 > /sys/class/net/$VETH_SRV/queues/rx-0/rps_cpus"
	# The ground truth reads the offloads as they were while recording.
	scn_in "$NS_SRV" ethtool -k "$VETH_SRV" >"$SCN_RAW/offloads.txt"
}

scn_target() {
	scn_start_target taskset -c 1
}

scn_load() {
	scn_wrk "$1" 4
}

scn_main "$@"
