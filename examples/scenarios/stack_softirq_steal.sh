#!/usr/bin/env bash
# stack.softirq.steal: receive work for someone else's traffic runs on the
# service's CPU.  npserver (one worker) is pinned to CPU 1, and RPS on the
# server's veth (rps_cpus = 2) steers every received packet's NET_RX work
# to CPU 1.  An unrelated bulk flow - npload uploading large bodies from
# the client namespace to a second npserver, both pinned to CPU 0 - makes
# that NET_RX work heavy: CPU 1 spends a large share of its time in
# softirq, and the service waits for its own CPU behind it or is
# interrupted by it.  wrk (on CPU 0, 8 connections, each pausing 2 ms
# between requests) sends a modest, paced load to the
# service.  Nothing is dropped (unlike stack.softirq's scenario, which
# overflows the backlog).  Expected: stack.softirq, naming CPU 1 and
# rps_cpus.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.softirq.steal
SCN_TAG=steal
SCN_IDX=24
SCN_EXPECT=stack.softirq
SCN_SERVER_ARGS="--threads 1"
SCN_LOAD_PREFIX="taskset -c 0"
SCN_SINK_PORT=8081

scn_fault() {
	# rps_cpus of the server veth's only receive queue: CPU 1 (mask 2).
	# Per device, inside our namespace: gone with it.
	scn_in "$NS_SRV" sh -c "echo 2 > /sys/class/net/$VETH_SRV/queues/rx-0/rps_cpus"
	scn_in "$NS_SRV" cat "/sys/class/net/$VETH_SRV/queues/rx-0/rps_cpus" >"$SCN_RAW/rps_cpus"
	# The client's veth sends MTU-sized segments (no TSO/GSO), so the bulk
	# flow is many packets, and each costs receive work on CPU 1.
	scn_in "$NS_CLI" ethtool -K "$VETH_CLI" tso off gso off >/dev/null
}

# No drops: the bulk flow's bursts would overflow the default per-CPU
# backlog (1000 packets) and make this stack.softirq's drop scenario.  The
# sysctl is host-global: saved, raised only while the flows run, restored
# on every exit path.
scn_before_load() {
	scn_sysctl net.core.netdev_max_backlog 20000
}

scn_stop_fault() {
	scn_restore_sysctls
}

scn_target() {
	scn_start_target taskset -c 1
}

# The unrelated flow: a sink (another npserver, not the target) on CPU 0
# and uploads to it from the client namespace, also on CPU 0.  Its packets
# are received through the same veth, so RPS puts their NET_RX on CPU 1.
# Both at nice -10: on a host shared with other work the flow's rate, and
# so CPU 1's softirq load, would otherwise follow that work's.
scn_started() {
	scn_before_load
	scn_bg sink "$SCN_RAW/sink.log" ip netns exec "$NS_SRV" nice -n -10 taskset -c 0 "$NPSERVER" \
		--addr "$SRV_IP" --port "$SCN_SINK_PORT" --threads 1
	scn_wait_line "$SCN_RAW/sink.log" 'listening on' 10 "$SCN_LAST_PID" ||
		scn_die "the sink did not start: $(cat "$SCN_RAW/sink.log")"
	scn_bg bulk "$SCN_RAW/bulk.log" ip netns exec "$NS_CLI" nice -n -10 taskset -c 0 "$NPLOAD" \
		--addr "$SRV_IP" --port "$SCN_SINK_PORT" --connections 2 --upload-bytes 8388608 \
		--requests 1000000000 --timeout-ms 30000 --duration-ms $(((SCN_WARMUP + SCN_DURATION + 10) * 1000))
}

scn_load() {
	scn_wrk "$1" 16 -s "$(scn_wrk_pace_script 2)"
}

scn_main "$@"
