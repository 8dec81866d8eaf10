#!/usr/bin/env bash
# stack.softirq: a tiny per-CPU backlog and RPS make softnet drop packets.
# veth delivers received packets through the per-CPU backlog (netif_rx).
# RPS on the server's veth sends all of them to CPU 1 while the client runs
# on CPU 0, and net.core.netdev_max_backlog (host-global: saved, lowered to
# SCN_BACKLOG only while recording, restored on every exit path) is so
# small that bursts overflow it: /proc/net/softnet_stat counts drops (and
# time squeeze).  Expected: stack.softirq.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.softirq
SCN_TAG=sirq
SCN_IDX=11
SCN_EXPECT=stack.softirq
SCN_BACKLOG=${SCN_BACKLOG:-8}
SCN_LOAD_PREFIX="taskset -c 0"

scn_fault() {
	# rps_cpus of the server veth's only receive queue: CPU 1 (mask 2).
	# Per device, inside our namespace: gone with it.
	scn_in "$NS_SRV" sh -c "echo 2 > /sys/class/net/$VETH_SRV/queues/rx-0/rps_cpus"
	# The ground truth counts the drops on the CPUs of this mask.
	scn_in "$NS_SRV" cat "/sys/class/net/$VETH_SRV/queues/rx-0/rps_cpus" >"$SCN_RAW/rps_cpus"
}

scn_target() {
	scn_start_target taskset -c 1
}

# Lowered only for the recording window (netprof's attach included).
scn_before_record() {
	scn_sysctl net.core.netdev_max_backlog "$SCN_BACKLOG"
}

# The sysctl is host-global: put it back as soon as the recording ends
# (cleanup would restore it anyway).
scn_stop_fault() {
	scn_restore_sysctls
}

scn_load() {
	scn_wrk "$1" 64
}

scn_main "$@"
