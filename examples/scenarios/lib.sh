# shellcheck shell=bash
# lib.sh - the scenario library: builds one bottleneck of the classic
# runbook on purpose inside private network namespaces, runs a real load
# through it, attaches `netprof record` to the target, and keeps the
# classic tools' view of the same window (nstat, tc -s, ethtool -S, nft
# counters, ss, softnet_stat, the client's latency) next to netprof's
# report as ground truth.
#
# It is sourced by one script per scenario (examples/scenarios/<name>.sh),
# which sets a few variables and hooks and then calls scn_main "$@".  It is
# not a general network lab: the topology is always a server namespace and a
# client namespace joined by one veth pair (plus an upstream namespace for
# peer.slow, or a router namespace between the two for stack.retransmits),
# with addresses from 10.77.0.0/16 that exist only inside those namespaces.  Nothing is sent anywhere but to loopback and to those
# addresses; nothing on the host is changed except, for the two softirq
# scenarios, net.core.netdev_max_backlog, which is saved first and restored on
# every exit path (and by the next run if this one was killed with SIGKILL).
#
# Cleanup: one function, scn_cleanup, runs from the EXIT trap (INT, TERM,
# HUP and PIPE exit through it).  In this order it restores every sysctl it
# changed, stops every process the run started (tracked pids, then whatever
# still runs inside our namespaces), removes the XDP programs, qdiscs and
# nft tables it added, and deletes the namespaces.
#
# What a scenario script defines before calling scn_main:
#   SCN_NAME      the scenario id (healthy, app.cpu, stack.qdisc, ...)
#   SCN_TAG       2-5 letters, unique per scenario: namespace and veth names
#   SCN_IDX       1..99, unique per scenario: its subnet 10.77.IDX.0/24
#   SCN_EXPECT    the verdict causes that count as right ("none" = null)
#   SCN_NGINX     1 if the scenario has an nginx variant
#   SCN_TARGET_KIND npserver (default), or nginx for a scenario whose own
#                 target is nginx (its scn_target starts it): the variant's name
#   SCN_BODY_BYTES response size of the target (npserver --body-bytes, nginx file)
#   SCN_SERVER_ARGS extra npserver options
#   SCN_LOAD_PREFIX command words before the load generator (taskset -c 1)
#   SCN_SCHEME    http (default) or https: the scheme scn_wrk asks for
#   scn_fault     hook: add the fault before the target starts (optional)
#   scn_started   hook: after the target listens, before the load (optional)
#   scn_load SECS hook: start the load in the client namespace (required)
#   scn_before_record hook: right before netprof attaches (optional)
#   scn_stop_fault hook: remove a fault that touches shared state as soon as
#                 the recording ends, before the reports are built (optional)

set -euo pipefail

SCN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCN_TOP=$(cd "$SCN_DIR/../.." && pwd)
SCN_BUILD=${NETPROF_BUILD:-$SCN_TOP/build}
NETPROF=$SCN_BUILD/netprof
NPSERVER=$SCN_BUILD/examples/npserver
NPLOAD=$SCN_BUILD/examples/npload
SCN_XDP_OBJ=$SCN_BUILD/examples/xdp_drop.bpf.o
# Every namespace, veth, nft table, qdisc handle and XDP program of the suite
# carries this prefix, so that concurrent users of the machine never collide.
P=${NETPROF_SCN_PREFIX:-np7}
SCN_LOCK=${NETPROF_BENCH_LOCK:-/tmp/netprof-bench.lock}
SCN_JOURNAL=/run/netprof-scenarios-$P.sysctl
SCN_PORT=8080

SCN_NGINX=${SCN_NGINX:-0}
SCN_TARGET_KIND=${SCN_TARGET_KIND:-npserver}
SCN_BODY_BYTES=${SCN_BODY_BYTES:-64}
SCN_SERVER_ARGS=${SCN_SERVER_ARGS:-}
SCN_LOAD_PREFIX=${SCN_LOAD_PREFIX:-}   # e.g. "taskset -c 1" for the load generator
SCN_SCHEME=${SCN_SCHEME:-http}         # https for a target that speaks TLS (wrk only)
SCN_DURATION=5          # seconds of recording (--duration)
SCN_WARMUP=1            # seconds of load before netprof attaches
SCN_USE_NGINX=0
SCN_OUT=
# 1 when the caller already holds the lock (--no-lock, or NETPROF_SCN_LOCKED=1
# for a driver that runs many scenarios under one flock).
SCN_LOCKED=${NETPROF_SCN_LOCKED:-0}

SCN_PIDS=()             # every background process we started
SCN_PID_NAMES=()
SCN_NETNS=()            # namespaces we created, deleted last
SCN_SYSCTL_KEYS=()      # host sysctls we changed, restored in reverse
SCN_SYSCTL_VALS=()
SCN_NFT=()              # "netns family table"
SCN_QDISC=()            # "netns dev"
SCN_XDP=()              # "netns dev"
SCN_CGROUP=             # a v1 cpu cgroup we made (host.cpu_quota), removed on exit
SCN_SAMPLER=

SCN_T0=${EPOCHREALTIME/[.,]/}
# Messages carry the seconds since the script started: the suite has a
# time budget, and this shows where it goes.
scn_log() {
	local now=${EPOCHREALTIME/[.,]/}
	printf '%s: [%6.2fs] %s\n' "${SCN_NAME:-scenario}" "$(((now - SCN_T0) / 10000))e-2" "$*" >&2
}
scn_die() { scn_log "error: $*"; exit 1; }

# ---- cleanup ---------------------------------------------------------------

scn_stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

scn_restore_sysctls() {
	local i
	for ((i = ${#SCN_SYSCTL_KEYS[@]} - 1; i >= 0; i--)); do
		sysctl -q -w "${SCN_SYSCTL_KEYS[$i]}=${SCN_SYSCTL_VALS[$i]}" >/dev/null ||
			scn_log "cannot restore ${SCN_SYSCTL_KEYS[$i]}=${SCN_SYSCTL_VALS[$i]}"
	done
	SCN_SYSCTL_KEYS=()
	SCN_SYSCTL_VALS=()
	rm -f "$SCN_JOURNAL"
}

scn_cleanup() {
	local rc=$? i ns pid item
	set +e
	trap - EXIT
	# Nothing may interrupt the cleanup half-way: a second Ctrl-C, a closed
	# stderr.  It is bounded (a few seconds at most).
	trap '' INT TERM HUP PIPE
	# Host-global settings first: they matter to everyone else.
	scn_restore_sysctls
	[ -n "$SCN_SAMPLER" ] && scn_stop_pid "$SCN_SAMPLER"
	for ((i = ${#SCN_PIDS[@]} - 1; i >= 0; i--)); do
		scn_stop_pid "${SCN_PIDS[$i]}"
	done
	# Anything still alive inside our namespaces (children of what we
	# started, a forked nginx worker) is ours too.
	for ns in "${SCN_NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for item in "${SCN_XDP[@]}"; do
		# shellcheck disable=SC2086  # "netns dev": split on purpose
		set -- $item
		ip -n "$1" link set dev "$2" xdp off 2>/dev/null
	done
	for item in "${SCN_QDISC[@]}"; do
		# shellcheck disable=SC2086  # "netns dev": split on purpose
		set -- $item
		tc -n "$1" qdisc del dev "$2" root 2>/dev/null
	done
	for item in "${SCN_NFT[@]}"; do
		# shellcheck disable=SC2086  # "netns dev": split on purpose
		set -- $item
		ip netns exec "$1" nft delete table "$2" "$3" 2>/dev/null
	done
	for ((i = ${#SCN_NETNS[@]} - 1; i >= 0; i--)); do
		ip netns del "${SCN_NETNS[$i]}" 2>/dev/null
	done
	[ -n "$SCN_CGROUP" ] && scn_cgroup_remove "$SCN_CGROUP"
	[ -n "${SCN_TMP:-}" ] && rm -rf "$SCN_TMP"
	scn_log "cleaned up"
	exit "$rc"
}

# ---- host settings we may touch -------------------------------------------

# A previous run killed with SIGKILL could not restore; its journal still
# holds the values it saved, so restore them before anything else.
scn_recover_journal() {
	local key val
	[ -f "$SCN_JOURNAL" ] || return 0
	scn_log "restoring sysctls left by an interrupted run ($SCN_JOURNAL)"
	while read -r key val; do
		[ -n "$key" ] && sysctl -q -w "$key=$val" >/dev/null
	done <"$SCN_JOURNAL"
	rm -f "$SCN_JOURNAL"
}

# Namespaces of ours that a killed run left behind (with whatever still
# runs in them).  We hold the lock (or the caller does): no other run of the
# suite is using them.
scn_recover_stale() {
	local ns pid cg mnt
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-[a-z0-9]+-(srv|cli|up|rt)\$" || true); do
		scn_log "removing namespace $ns left by an interrupted run"
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	mnt=$(scn_cgroup_v1_cpu)
	for cg in ${mnt:+"$mnt/$P"-*}; do
		[ -d "$cg" ] || continue
		scn_log "removing cgroup $cg left by an interrupted run"
		scn_cgroup_remove "$cg"
	done
}

# ---- a cgroup v1 cpu controller child (host.cpu_quota) ------------------------

# The v1 cpu hierarchy's mount point, or nothing (a v2-only host).
scn_cgroup_v1_cpu() {
	# After the "-" separator: fstype, source, super options (optional
	# fields before it vary in number).
	awk '{
		for (i = 7; i < NF && $i != "-"; i++) ;
		if ($(i + 1) == "cgroup" && ("," $(i + 3) ",") ~ /,cpu,/) { print $5; exit }
	}' /proc/self/mountinfo
}

# scn_cgroup_quota NAME QUOTA_US PERIOD_US: a child of the v1 cpu
# hierarchy limited to QUOTA_US of CPU per PERIOD_US; its path in
# SCN_CGROUP, removed on exit.
scn_cgroup_quota() {
	local mnt
	mnt=$(scn_cgroup_v1_cpu)
	[ -n "$mnt" ] || scn_die "no cgroup v1 cpu hierarchy is mounted (cgroup v2 only: cpu.max is not handled here)"
	SCN_CGROUP=$mnt/$P-$1
	mkdir "$SCN_CGROUP" || scn_die "cannot create $SCN_CGROUP"
	echo "$3" >"$SCN_CGROUP/cpu.cfs_period_us"
	echo "$2" >"$SCN_CGROUP/cpu.cfs_quota_us"
	scn_log "cgroup $SCN_CGROUP: cpu.cfs_quota_us $2 of $3 (removed on exit)"
}

# A cgroup with tasks cannot be removed: move what is left to the
# hierarchy's root first (the target is stopped by then).
scn_cgroup_remove() {
	local cg=$1 pid i
	for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
		echo "$pid" >"${cg%/*}/cgroup.procs" 2>/dev/null
	done
	for i in $(seq 50); do
		rmdir "$cg" 2>/dev/null && return 0
		sleep 0.1
	done
	scn_log "cannot remove cgroup $cg"
}

# scn_sysctl KEY VALUE: change a host sysctl; the first value seen is saved
# (in memory and in the journal) and restored on exit.
scn_sysctl() {
	local key=$1 val=$2 old k
	for k in "${SCN_SYSCTL_KEYS[@]}"; do
		[ "$k" = "$key" ] && { sysctl -q -w "$key=$val" >/dev/null; return; }
	done
	old=$(sysctl -n "$key")
	SCN_SYSCTL_KEYS+=("$key")
	SCN_SYSCTL_VALS+=("$old")
	printf '%s %s\n' "$key" "$old" >>"$SCN_JOURNAL"
	sysctl -q -w "$key=$val" >/dev/null
	scn_log "sysctl $key: $old -> $val (restored on exit)"
}

# ---- topology ---------------------------------------------------------------

scn_ns_create() {
	local ns=$1
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	SCN_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	# No IPv6: router solicitations and DAD would add packets that no
	# scenario asks for and muddy the counters.
	ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# scn_veth NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B
scn_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" addr add "$6/24" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

scn_topology() {
	: "${SCN_TAG:?}" "${SCN_IDX:?}"
	NS_SRV=$P-$SCN_TAG-srv
	NS_CLI=$P-$SCN_TAG-cli
	VETH_SRV=$P-$SCN_TAG-s
	VETH_CLI=$P-$SCN_TAG-c
	SRV_IP=10.77.$SCN_IDX.1
	CLI_IP=10.77.$SCN_IDX.2
	scn_ns_create "$NS_SRV"
	scn_ns_create "$NS_CLI"
	scn_veth "$NS_SRV" "$VETH_SRV" "$SRV_IP" "$NS_CLI" "$VETH_CLI" "$CLI_IP"
	# Each namespace has its own somaxconn (4096 by default); set it
	# explicitly so backlogs mean the same on every kernel.
	ip netns exec "$NS_SRV" sysctl -q -w net.core.somaxconn=4096 >/dev/null
}

# A router namespace between the client and the server (stack.retransmits):
# the server's veth peer is in the router, the client reaches the server
# through it on a second subnet, 10.77.(IDX+100).0/24.  Loss added in the
# router happens on the path, not on the server's host.  Call it from
# scn_fault: it replaces the direct veth pair scn_topology made.
scn_router_topology() {
	NS_RT=$P-$SCN_TAG-rt
	RT_VETH_SRV=$P-$SCN_TAG-r
	RT_VETH_CLI=$P-$SCN_TAG-q
	local rt_srv_ip=10.77.$SCN_IDX.254 rt_cli_ip=10.77.$((SCN_IDX + 100)).1
	CLI_IP=10.77.$((SCN_IDX + 100)).2
	ip -n "$NS_SRV" link del "$VETH_SRV"
	scn_ns_create "$NS_RT"
	scn_veth "$NS_SRV" "$VETH_SRV" "$SRV_IP" "$NS_RT" "$RT_VETH_SRV" "$rt_srv_ip"
	scn_veth "$NS_CLI" "$VETH_CLI" "$CLI_IP" "$NS_RT" "$RT_VETH_CLI" "$rt_cli_ip"
	# Forwarding is per namespace: only the router's.
	scn_in "$NS_RT" sysctl -q -w net.ipv4.ip_forward=1 >/dev/null
	ip -n "$NS_SRV" route add default via "$rt_srv_ip"
	ip -n "$NS_CLI" route add default via "$rt_cli_ip"
}

# A third namespace for an upstream the target calls (peer.slow).
scn_upstream_topology() {
	NS_UP=$P-$SCN_TAG-up
	VETH_UP=$P-$SCN_TAG-u
	VETH_SRV_UP=$P-$SCN_TAG-p
	UP_IP=10.77.$((SCN_IDX + 100)).1
	SRV_UP_IP=10.77.$((SCN_IDX + 100)).2
	scn_ns_create "$NS_UP"
	scn_veth "$NS_UP" "$VETH_UP" "$UP_IP" "$NS_SRV" "$VETH_SRV_UP" "$SRV_UP_IP"
}

# ---- faults -------------------------------------------------------------------

# scn_nft NS TABLE: create an inet table in NS (removed on exit); then add
# chains and rules with scn_nft_cmd.
scn_nft_table() {
	ip netns exec "$1" nft add table inet "$2"
	SCN_NFT+=("$1 inet $2")
}
scn_nft_cmd() { local ns=$1; shift; ip netns exec "$ns" nft "$@"; }

scn_tc_root() {
	local ns=$1 dev=$2; shift 2
	tc -n "$ns" qdisc add dev "$dev" root "$@"
	SCN_QDISC+=("$ns $dev")
}

scn_xdp() {
	local ns=$1 dev=$2 sec=$3
	[ -r "$SCN_XDP_OBJ" ] || scn_die "$SCN_XDP_OBJ is not built (ninja -C build)"
	ip -n "$ns" link set dev "$dev" xdpdrv obj "$SCN_XDP_OBJ" sec "$sec"
	SCN_XDP+=("$ns $dev")
}

# ---- processes ----------------------------------------------------------------

# scn_bg NAME LOG CMD...: start CMD in the background, output to LOG, and
# remember it for cleanup.  Sets SCN_LAST_PID.
scn_bg() {
	local name=$1 log=$2; shift 2
	"$@" >"$log" 2>&1 </dev/null &
	SCN_LAST_PID=$!
	SCN_PIDS+=("$SCN_LAST_PID")
	SCN_PID_NAMES+=("$name")
}

# scn_in NS CMD...: run CMD inside namespace NS.
scn_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }


scn_wait_line() {
	local file=$1 pattern=$2 secs=$3 pid=${4:-} i
	for i in $(seq $((secs * 10))); do
		grep -qE "$pattern" "$file" 2>/dev/null && return 0
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.1
	done
	grep -qE "$pattern" "$file" 2>/dev/null
}

# Start npserver in the server namespace; TARGET_PID is its pid.
# scn_start_npserver [PREFIX_CMD...] -- [ARGS...]: PREFIX_CMD e.g. taskset -c 0.
scn_start_npserver() {
	local pre=() args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	args=("$@")
	# shellcheck disable=SC2206
	args+=(${SCN_SERVER_ARGS})
	scn_bg npserver "$SCN_RAW/server.log" ip netns exec "$NS_SRV" "${pre[@]}" "$NPSERVER" \
		--addr "$SRV_IP" --port "$SCN_PORT" --body-bytes "$SCN_BODY_BYTES" "${args[@]}"
	scn_wait_line "$SCN_RAW/server.log" 'listening on' 10 "$SCN_LAST_PID" ||
		scn_die "npserver did not start: $(cat "$SCN_RAW/server.log")"
	TARGET_PID=$(sed -n 's/.*listening on .* pid \([0-9]*\).*/\1/p' "$SCN_RAW/server.log")
	TARGET_DESC="npserver ${args[*]}"
	SCN_PATH=/
}

# Start nginx (Debian package; master + one worker) in the server
# namespace with a config generated under a temp dir, serving a file of
# SCN_BODY_BYTES bytes at /body.  TARGET_PID is the worker: that is the
# process doing the network work.
scn_start_nginx() {
	local d=$SCN_TMP/nginx pre=("$@")
	command -v nginx >/dev/null || scn_die "nginx is not installed (tools/install-deps.sh)"
	mkdir -p "$d/www" "$d/tmp"
	head -c "$SCN_BODY_BYTES" /dev/zero | tr '\0' 'x' >"$d/www/body"
	chmod -R a+rX "$SCN_TMP"
	cat >"$d/nginx.conf" <<EOF
# Generated by examples/scenarios/lib.sh for scenario $SCN_NAME.
worker_processes 1;
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen $SRV_IP:$SCN_PORT backlog=511;
        root $d/www;
        location / { }
    }
}
EOF
	scn_run_nginx "$d/nginx.conf" "$d/error.log" "${pre[@]}"
	SCN_PATH=/body
}

# scn_run_nginx CONF ERROR_LOG [PREFIX_CMD...]: run nginx -c CONF (prefix:
# the conf's directory) in the server namespace and wait until it listens on
# SCN_PORT; TARGET_PID is its (first) worker.
scn_run_nginx() {
	local conf=$1 errlog=$2 master i
	shift 2
	scn_bg nginx "$SCN_RAW/server.log" ip netns exec "$NS_SRV" "$@" nginx -c "$conf" -p "$(dirname "$conf")"
	master=$SCN_LAST_PID
	TARGET_PID=
	for i in $(seq 100); do
		kill -0 "$master" 2>/dev/null || break
		TARGET_PID=$(pgrep -P "$master" | head -1 || true)
		if [ -n "$TARGET_PID" ] && scn_in "$NS_SRV" ss -Hltn "sport = :$SCN_PORT" | grep -q .; then
			break
		fi
		TARGET_PID=
		sleep 0.1
	done
	[ -n "$TARGET_PID" ] || scn_die "nginx did not start: $(cat "$SCN_RAW/server.log" "$errlog" 2>/dev/null)"
	cp "$conf" "$SCN_RAW/nginx.conf"
	TARGET_DESC="nginx worker (master $master)"
}

# shellcheck disable=SC2120  # arguments are optional (a command prefix)
scn_start_target() {
	if [ "$SCN_USE_NGINX" = 1 ]; then scn_start_nginx "$@"; else scn_start_npserver "$@" --; fi
}

# ---- load ---------------------------------------------------------------------

# scn_wrk SECS CONNS [wrk options...]: wrk in the client namespace against
# the target; its report (with --latency) goes to raw/load.txt.
scn_wrk() {
	local secs=$1 conns=$2; shift 2
	# shellcheck disable=SC2086
	scn_bg load "$SCN_RAW/load.txt" ip netns exec "$NS_CLI" $SCN_LOAD_PREFIX \
		wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s --latency "$@" "$SCN_SCHEME://$SRV_IP:$SCN_PORT$SCN_PATH"
	SCN_LOAD_PID=$SCN_LAST_PID
	SCN_LOAD_KIND=wrk
}

# scn_npload SECS [npload options...]: npload in the client namespace,
# bounded by --duration-ms; its summary line goes to raw/load.txt.
scn_npload() {
	local secs=$1; shift
	# shellcheck disable=SC2086
	scn_bg load "$SCN_RAW/load.txt" ip netns exec "$NS_CLI" $SCN_LOAD_PREFIX \
		"$NPLOAD" --addr "$SRV_IP" --port "$SCN_PORT" --path "$SCN_PATH" \
		--requests 1000000000 --duration-ms $((secs * 1000)) "$@"
	SCN_LOAD_PID=$SCN_LAST_PID
	SCN_LOAD_KIND=npload
}

# Lua for wrk: pause between requests on each connection, so that a few
# connections make a moderate, steady load rather than as much as the
# server can take.
scn_wrk_pace_script() {
	local ms=$1 f=$SCN_TMP/pace.lua
	printf 'function delay()\n  return %s\nend\n' "$ms" >"$f"
	echo "$f"
}

# ---- ground truth ---------------------------------------------------------

# One snapshot of every counter the ground truth reads, into raw/PHASE.*:
# the server namespace's TCP/IP MIB (nstat), links and their driver stats,
# qdiscs, nft counters, the host's softnet_stat, the client namespace's MIB,
# and the target's per-thread CPU, run-queue and context-switch counts.
scn_snapshot() {
	local ph=$1 r=$SCN_RAW t
	cat /proc/uptime >"$r/$ph.uptime"
	scn_in "$NS_SRV" nstat -asz --json >"$r/$ph.nstat.json" 2>/dev/null || true
	scn_in "$NS_CLI" nstat -asz --json >"$r/$ph.cli_nstat.json" 2>/dev/null || true
	ip -n "$NS_SRV" -s -s -j link show >"$r/$ph.link.json" 2>/dev/null || true
	scn_in "$NS_SRV" ethtool -S "$VETH_SRV" >"$r/$ph.ethtool.txt" 2>/dev/null || true
	tc -n "$NS_SRV" -s -j qdisc show >"$r/$ph.tc.json" 2>/dev/null || true
	scn_in "$NS_SRV" nft -j list ruleset >"$r/$ph.nft.json" 2>/dev/null || true
	if [ -n "${NS_UP:-}" ]; then
		scn_in "$NS_UP" nstat -asz --json >"$r/$ph.up_nstat.json" 2>/dev/null || true
	fi
	if [ -n "${NS_RT:-}" ]; then
		for t in "$RT_VETH_SRV" "$RT_VETH_CLI"; do
			scn_in "$NS_RT" ethtool -S "$t" | sed "s/^/$t /"
		done >"$r/$ph.rt_ethtool.txt" 2>/dev/null || true
		ip -n "$NS_RT" -s -s -j link show >"$r/$ph.rt_link.json" 2>/dev/null || true
	fi
	cat /proc/net/softnet_stat >"$r/$ph.softnet_stat"
	cat /proc/stat >"$r/$ph.stat"
	cat /proc/softirqs >"$r/$ph.softirqs"
	if [ -n "$SCN_CGROUP" ]; then
		cat "$SCN_CGROUP/cpu.stat" >"$r/$ph.cgroup_cpu_stat" 2>/dev/null || true
	fi
	{
		for t in /proc/"$TARGET_PID"/task/*; do
			[ -r "$t/stat" ] || continue
			printf 'task %s\n' "${t##*/}"
			printf 'stat %s\n' "$(cat "$t/stat" 2>/dev/null)"
			printf 'schedstat %s\n' "$(cat "$t/schedstat" 2>/dev/null)"
			grep -E '^(voluntary|nonvoluntary)_ctxt_switches' "$t/status" 2>/dev/null
		done
	} >"$r/$ph.target.txt"
}

# Every 200 ms: the server's sockets as ss sees them (queues, tcp_info,
# memory; one line each), its listener's accept queue, and the qdisc
# backlog of its veth.
scn_start_sampler() {
	local secs=$1
	(
		end=$((SECONDS + secs))
		while [ $SECONDS -lt $end ]; do
			printf '# uptime %s\n' "$(cut -d' ' -f1 /proc/uptime)"
			ip netns exec "$NS_SRV" ss -HOtnmi state established "( sport = :$SCN_PORT )" 2>/dev/null
			printf '# listen\n'
			ip netns exec "$NS_SRV" ss -Hltn "sport = :$SCN_PORT" 2>/dev/null
			printf '# qdisc\n'
			tc -n "$NS_SRV" -s qdisc show dev "$VETH_SRV" 2>/dev/null
			sleep 0.2
		done
	) >"$SCN_RAW/ss.txt" 2>&1 &
	SCN_SAMPLER=$!
}

# ---- the run ----------------------------------------------------------------

scn_usage() {
	cat <<EOF
usage: $0 [--out DIR] [--nginx] [--duration SECS] [--no-lock]
Reproduces scenario $SCN_NAME in network namespaces $P-$SCN_TAG-*, records the
target with netprof for SECS seconds (default $SCN_DURATION), and writes into DIR
(default ./netprof-scenarios/$SCN_NAME): recording.nprof, report.json,
report.txt, groundtruth.json and raw/ (the classic tools' view).
  --nginx       profile nginx (Debian package) instead of npserver$( [ "$SCN_NGINX" = 1 ] || echo ' (not available for this scenario)')
  --no-lock     do not take $SCN_LOCK (only if the caller holds it; the
                same as NETPROF_SCN_LOCKED=1)
Exit status: 0 fault reproduced and verdict as expected, 3 fault reproduced but
another verdict, 4 fault not reproduced, 1 error, 2 usage.
EOF
}

scn_parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--out) SCN_OUT=${2:?--out needs a directory}; shift 2 ;;
		--out=*) SCN_OUT=${1#--out=}; shift ;;
		--nginx) SCN_USE_NGINX=1; shift ;;
		--duration) SCN_DURATION=${2:?--duration needs seconds}; shift 2 ;;
		--no-lock) SCN_LOCKED=1; shift ;;
		-h | --help) scn_usage; exit 0 ;;
		*) scn_usage >&2; exit 2 ;;
		esac
	done
	case $SCN_DURATION in '' | *[!0-9]*) scn_usage >&2; exit 2 ;; esac
	if [ "$SCN_USE_NGINX" = 1 ] && [ "$SCN_NGINX" != 1 ]; then
		scn_log "no nginx variant for this scenario"
		exit 2
	fi
	SCN_VARIANT=$SCN_TARGET_KIND
	[ "$SCN_USE_NGINX" = 1 ] && SCN_VARIANT=nginx
	SCN_OUT=${SCN_OUT:-$PWD/netprof-scenarios/$SCN_NAME$( [ "$SCN_USE_NGINX" = 1 ] && echo -nginx)}
}

scn_main() {
	local rec_log rc
	scn_parse_args "$@"
	[ "$(id -u)" = 0 ] || scn_die "needs root (network namespaces, BPF): sudo $0"
	for f in "$NETPROF" "$NPSERVER" "$NPLOAD"; do
		[ -x "$f" ] || scn_die "$f is not built: meson setup build && ninja -C build (or set NETPROF_BUILD)"
	done
	if [ "$SCN_LOCKED" != 1 ]; then
		# Benchmarks on this machine never overlap: wait for the others.
		exec {SCN_LOCK_FD}>>"$SCN_LOCK"
		flock -w 900 "$SCN_LOCK_FD" || scn_die "waited 15 minutes for $SCN_LOCK"
		scn_log "holding $SCN_LOCK"
	fi
	trap scn_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	scn_recover_journal
	scn_recover_stale
	rm -rf "$SCN_OUT"
	mkdir -p "$SCN_OUT/raw"
	SCN_RAW=$SCN_OUT/raw
	SCN_TMP=$(mktemp -d /tmp/netprof-scn.XXXXXX)

	scn_topology
	if declare -F scn_fault >/dev/null; then scn_fault; fi
	# shellcheck disable=SC2119
	if declare -F scn_target >/dev/null; then scn_target; else scn_start_target; fi
	if declare -F scn_started >/dev/null; then scn_started; fi
	scn_log "target $TARGET_DESC pid $TARGET_PID in $NS_SRV at $SRV_IP:$SCN_PORT"

	# The load covers warm-up, netprof's attach and the whole recording;
	# it is stopped (SIGINT: both wrk and npload then print their summary)
	# as soon as the recording ends.
	scn_load $((SCN_WARMUP + SCN_DURATION + 10))
	sleep "$SCN_WARMUP"

	if declare -F scn_before_record >/dev/null; then scn_before_record; fi
	rec_log=$SCN_RAW/netprof-record.log
	scn_bg netprof "$rec_log" "$NETPROF" record -v -p "$TARGET_PID" -d "$SCN_DURATION" \
		-o "$SCN_OUT/recording.nprof"
	local rec_pid=$SCN_LAST_PID
	scn_wait_line "$rec_log" 'netprof: recording pid' 30 "$rec_pid" ||
		scn_die "netprof did not attach: $(tail -5 "$rec_log")"
	scn_log "netprof attached (pid $rec_pid), recording $SCN_DURATION s"
	scn_snapshot before
	scn_start_sampler $((SCN_DURATION + 2))
	rc=0
	wait "$rec_pid" || rc=$?
	scn_snapshot after
	scn_stop_pid "$SCN_SAMPLER"
	SCN_SAMPLER=
	[ "$rc" = 0 ] || scn_die "netprof record failed ($rc): $(tail -5 "$rec_log")"
	if declare -F scn_stop_fault >/dev/null; then scn_stop_fault; fi

	scn_log "recording done; stopping the load"
	kill -INT "$SCN_LOAD_PID" 2>/dev/null || true
	# Both stop on SIGINT and print their summary; give in-flight
	# requests a moment.
	for _ in $(seq 80); do kill -0 "$SCN_LOAD_PID" 2>/dev/null || break; sleep 0.1; done
	scn_stop_pid "$SCN_LOAD_PID"

	scn_log "load stopped; writing the reports"
	"$NETPROF" report "$SCN_OUT/recording.nprof" --format json -o "$SCN_OUT/report.json"
	"$NETPROF" report "$SCN_OUT/recording.nprof" --format text -o "$SCN_OUT/report.txt"
	cat >"$SCN_RAW/scenario.env" <<EOF
scenario=$SCN_NAME
variant=$SCN_VARIANT
expect=$SCN_EXPECT
target_pid=$TARGET_PID
target=$TARGET_DESC
server_netns=$NS_SRV
server_netns_inode=$(stat -L -c %i "/run/netns/$NS_SRV")
server_veth=$VETH_SRV
server_addr=$SRV_IP:$SCN_PORT
load=$SCN_LOAD_KIND
duration_s=$SCN_DURATION
body_bytes=$SCN_BODY_BYTES
EOF
	rc=0
	/usr/bin/env python3 "$SCN_DIR/groundtruth.py" "$SCN_OUT" || rc=$?
	scn_log "output in $SCN_OUT; cleaning up"
	exit "$rc"
}
