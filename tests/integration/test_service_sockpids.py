"""Which process holds each socket (issue 12): the recording has one
NP_BLK_SOCK_PIDS record per (socket, process), however many polls walk the
fd tables and however the holders of a shared listener alternate in the
walk.  Reads the recording's blocks directly (profiler/format/timeline.h).
Every process the test starts is stopped in a finally block."""
import collections
import struct

from conftest import NginxService, Recording

NP_BLK_SOCK_PIDS = 46
BLOCK_HEADER = struct.Struct("<IHHIIII")  # magic, type, reserved, record_bytes, count, payload, crc
NP_BLOCK_MAGIC = 0x4b42504e


def sock_pid_records(path):
    data = open(path, "rb").read()
    assert data[:8] == b"NPROFREC"
    off = struct.unpack_from("<I", data, 16)[0]  # header_bytes
    out = []
    while off + BLOCK_HEADER.size <= len(data):
        magic, typ, _, rec_bytes, count, payload, _ = BLOCK_HEADER.unpack_from(data, off)
        assert magic == NP_BLOCK_MAGIC, off
        body = off + BLOCK_HEADER.size
        if typ == NP_BLK_SOCK_PIDS:
            for i in range(count):
                inode, pid = struct.unpack_from("<QI", data, body + i * rec_bytes)
                out.append((inode, pid))
        off = body + payload
    return out


def test_each_socket_holder_is_recorded_once(tmp_path):
    ng = NginxService(tmp_path, 2)
    try:
        assert len(ng.workers) == 2, ng.workers
        path = str(tmp_path / "pids.nprof")
        # 3 s at the default 100 ms poll: some 30 walks of the fd tables
        rec = Recording.of(path, 3, "-F", "0", "-p", str(ng.pid))
        rc, err = rec.wait()
        assert rc == 0, err
        pairs = sock_pid_records(path)
        repeated = {k: n for k, n in collections.Counter(pairs).items() if n > 1}
        assert not repeated, repeated
        holders = collections.defaultdict(set)
        for inode, pid in pairs:
            holders[inode].add(pid)
        # nginx's listener: open in the master and both workers
        assert {ng.pid, *ng.workers} in holders.values(), dict(holders)
    finally:
        ng.stop()
