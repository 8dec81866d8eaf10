"""CPU samples of a whole service (issue 12): every process of the target is
sampled, unwound and symbolized in its own address space, those forked after
attach too, and the reports name the process of each thread.  Loopback only;
every process a test starts is stopped in a finally block."""
import collections
import gzip
import os
import re
import subprocess
import sys

import pytest

from conftest import NETPROF, NginxService, Recording, cpu_ticks, report

TICK = os.sysconf("SC_CLK_TCK")
FREQ = 199

def samples_by_pid(rep):
    by_pid = collections.Counter()
    for t in rep["cpu_profile"]["threads"]:
        assert t["pid"] is not None, t
        by_pid[t["pid"]] += t["samples"]
    return by_pid


def named_user_frames(rep, pid):
    """Functions of the process's user code with a name: its own address
    space symbolized them."""
    return {f["function"] for t in rep["cpu_profile"]["threads"] if t["pid"] == pid
            for f in t["top"] if f["class"] in ("app", "lib") and not f["function"].startswith("[")}


def expected_samples(ticks, freq):
    return ticks / TICK * freq


def assert_consistent(samples, ticks, freq, who, low):
    """Samples against the kernel's utime+stime over the same span.

    /proc's times are tick-based accounting: each tick is charged whole to
    the task running then, a count whose error is about sqrt(ticks) ticks
    (7% at 200).  Samples come from a cpu-clock timer that runs while the
    thread does: they can be lost (a dropped record, the first moments of a
    thread before its event opened, the stop of a thread switched out many
    times a second: `perf record -e cpu-clock -F 199` of these nginx
    workers on the development machine's 6.18 kernel also gets 19% fewer
    than the ticks say, and netprof 14 to 21%), never invented.  So the
    count must lie between `low` and 1.1 times what the ticks predict, 3
    ticks' worth either side for small counts."""
    want = expected_samples(ticks, freq)
    slack = 3 * freq / TICK
    print(f"pid {who}: {samples} samples, {want:.0f} expected from {ticks} ticks")
    assert low * want - slack <= samples <= 1.1 * want + slack, (who, samples, want, ticks)


def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return v, i


def fields(buf):
    """(field number, value) of a protobuf message: ints, or bytes."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        kind = key & 7
        if kind == 0:
            v, i = varint(buf, i)
        elif kind == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif kind == 1:
            v, i = buf[i:i + 8], i + 8
        elif kind == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(kind)
        yield key >> 3, v


def sample_fields(smp, packed):
    """A pprof Sample's packed integers of field `packed` (1: location ids,
    2: values) and its numeric labels by key (Label.key = 1, num = 3)."""
    ints, labels = [], {}
    for num, v in fields(smp):
        if num == packed:
            j = 0
            while j < len(v):
                x, j = varint(v, j)
                ints.append(x)
        elif num == 3:
            lb = dict(fields(v))
            labels[lb.get(1, 0)] = lb.get(3, 0)
    return ints, labels


def pprof_samples_by_pid(path):
    """On-CPU samples per pid label of a pprof profile (profile.proto:
    Profile.sample = 2, string_table = 6; Sample.value = 2, label = 3;
    Label.key = 1, num = 3)."""
    with gzip.open(path) as f:
        prof = f.read()
    strings, samples = [], []
    for num, v in fields(prof):
        if num == 6:
            strings.append(v.decode())
        elif num == 2:
            samples.append(v)
    by_pid = collections.Counter()
    for smp in samples:
        values, labels = sample_fields(smp, 2)
        pid = labels.get(strings.index("pid"))
        if values and values[0]:
            by_pid[pid] += values[0]
    return by_pid


def pprof_functions_by_pid(path):
    """The function names in each pid's on-CPU samples of a pprof profile
    (profile.proto: Profile.sample = 2, location = 4, function = 5,
    string_table = 6; Sample.location_id = 1, label = 3; Location.id = 1,
    line = 4; Line.function_id = 1; Function.id = 1, name = 2)."""
    with gzip.open(path) as f:
        prof = f.read()
    strings, samples, loc_funcs, func_name = [], [], {}, {}
    for num, v in fields(prof):
        if num == 6:
            strings.append(v.decode())
        elif num == 2:
            samples.append(v)
        elif num == 4:
            loc = dict((k, x) for k, x in fields(v) if k == 1)
            loc_funcs[loc.get(1, 0)] = [dict(fields(line)).get(1, 0)
                                        for k, line in fields(v) if k == 4]
        elif num == 5:
            fn = dict(fields(v))
            func_name[fn.get(1, 0)] = fn.get(2, 0)
    by_pid = collections.defaultdict(set)
    for smp in samples:
        locs, labels = sample_fields(smp, 1)
        pid = labels.get(strings.index("pid"))
        for loc in locs:
            for fid in loc_funcs.get(loc, []):
                by_pid[pid].add(strings[func_name.get(fid, 0)])
    return by_pid


def start_nginx(tmp_path, workers):
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        pytest.skip("wrk is not installed")
    return NginxService(tmp_path, workers)


def record(path, duration, *args):
    """netprof record at FREQ with room for the sampler's cost."""
    return Recording.of(path, duration, "--max-overhead", "50", "-F", str(FREQ), *args)


def test_every_nginx_worker_is_sampled(tmp_path):
    ng = start_nginx(tmp_path, 2)
    port = ng.port
    try:
        workers = ng.workers
        assert len(workers) == 2, workers
        path = str(tmp_path / "ng.nprof")
        rec = record(path, 7, "-p", str(ng.pid))
        before = {w: cpu_ticks(w) for w in workers}
        # A new connection per request: the accepts, and so the work,
        # spread over the workers.
        wrk = subprocess.run(["wrk", "-t1", "-c8", "-d4s", "-H", "Connection: close",
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                             timeout=60)
        after = {w: cpu_ticks(w) for w in workers}
        rc, err = rec.wait()
        assert rc == 0, err
        assert re.search(r"(\d+) requests in", wrk.stdout), wrk.stdout
        rep = report(path)
        src = {s["name"]: s for s in rep["sources"]}["cpu_samples"]
        assert src["status"] == "ok", src
        cp = rep["cpu_profile"]
        assert cp["frequency_hz"] == FREQ, "the governor lowered the frequency"
        by_pid = samples_by_pid(rep)
        assert set(by_pid) <= {ng.pid, *workers}, by_pid
        for p in rep["target"]["processes"]:
            assert p["cpu_samples"] == by_pid[p["pid"]], (p, by_pid)
        ticks = {w: after[w] - before[w] for w in workers}
        for w in workers:
            assert ticks[w] >= 20, (w, ticks, "the worker did too little to compare")
            assert by_pid[w] > 0, (w, by_pid)
            assert_consistent(by_pid[w], ticks[w], FREQ, w, 0.6)
            # Whatever the timer loses, it loses alike in every worker:
            # each one's share of the samples is its share of the ticks,
            # within the ticks' own error (sqrt(n) of n ticks).
            share = by_pid[w] / sum(by_pid[x] for x in workers)
            tick_share = ticks[w] / sum(ticks.values())
            err = 2 * (ticks[w] ** 0.5) / sum(ticks.values()) + 0.05
            assert abs(share - tick_share) <= err, (w, share, tick_share, by_pid, ticks)
        # pprof: each on-CPU sample carries its own process's pid
        pprof = str(tmp_path / "ng.pb.gz")
        r = subprocess.run([NETPROF, "report", path, "--format", "pprof", "-o", pprof],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert pprof_samples_by_pid(pprof) == by_pid
        # unwound and named in each worker's own address space: nginx's own
        # functions in its stacks (its ten hottest functions, the JSON's
        # per-thread top, can all be the kernel's when it mostly sends)
        names = pprof_functions_by_pid(pprof)
        for w in workers:
            ngx = {n for n in names[w] if n.startswith("ngx_")}
            print(f"pid {w}: {len(names[w])} functions, {len(ngx)} of nginx's")
            assert ngx, (w, sorted(names[w])[:40])
        text = report(path, "text")
        for w in workers:
            assert re.search(rf"Thread \d+ \(nginx\) of pid {w}: \d+ samples", text), text
    finally:
        ng.stop()


SPINNER = r"""
import os, sys, time
sys.stdin.readline()            # netprof is attached: fork now
pid = os.fork()
if pid == 0:
    end = time.process_time() + 1.0
    n = 0
    while time.process_time() < end:
        n += sum(i * i for i in range(1000))
    os._exit(0)
print(pid, flush=True)
os.waitpid(pid, 0)
print("done", flush=True)
sys.stdin.readline()
"""


def test_process_forked_after_attach_is_sampled(tmp_path):
    srv = subprocess.Popen([sys.executable, "-c", SPINNER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        path = str(tmp_path / "fork.nprof")
        rec = record(path, 5, "-p", str(srv.pid))
        srv.stdin.write("go\n")
        srv.stdin.flush()
        child = int(srv.stdout.readline())
        assert srv.stdout.readline().strip() == "done"
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        assert procs[child]["new"], procs
        by_pid = samples_by_pid(rep)
        # one second of CPU in the child, busy without a switch: only its
        # first moments, before the sampler heard of it, go unsampled
        assert_consistent(by_pid[child], TICK, FREQ, child, 0.85)
        assert named_user_frames(rep, child), [t for t in rep["cpu_profile"]["threads"]
                                               if t["pid"] == child]
    finally:
        srv.kill()
        srv.wait()
