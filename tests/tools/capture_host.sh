#!/bin/sh
# Captures two snapshots of the host counter files netprof's host collector
# reads (profiler/net/hostcounters.c), one before and one after 64 MB sent
# over a loopback TCP connection, into OUTDIR/t0 and OUTDIR/t1 (layout of a
# proc root: proc/net/softnet_stat, proc/softirqs, proc/stat,
# proc/interrupts, proc/4242/net/snmp, proc/4242/net/netstat).
# usage: tests/tools/capture_host.sh OUTDIR
set -eu
out=${1:-tests/fixtures/host}
snap() {
	d=$out/$1/proc
	mkdir -p "$d/net" "$d/4242/net"
	cp /proc/net/softnet_stat "$d/net/softnet_stat"
	cp /proc/softirqs /proc/stat /proc/interrupts "$d/"
	cp /proc/self/net/snmp /proc/self/net/netstat "$d/4242/net/"
}
snap t0
python3 - <<'PY'
import socket, threading
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(1)
def sink():
    c, _ = lst.accept()
    while c.recv(1 << 16):
        pass
t = threading.Thread(target=sink); t.start()
s = socket.create_connection(lst.getsockname())
buf = b"x" * (1 << 16)
for _ in range(1024):
    s.sendall(buf)
s.close(); t.join()
PY
snap t1
{
	echo "captured $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r), $(nproc) CPUs"
} >"$out/CAPTURED"
