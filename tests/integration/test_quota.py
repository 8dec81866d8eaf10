"""host.cpu_quota end to end: a CPU-bound npserver moved into a cgroup v1
cpu controller child limited to 20% of a CPU (cfs_quota_us 20000 of
100000), under load.  Its threads wait for the next quota period, which
the scheduler shows as run-queue time: the verdict must name the quota,
not other work (host.cpu_contention).  Needs a v1 cpu hierarchy (this
host's hybrid layout); skips without one.

Holds the benchmark lock (/tmp/netprof-bench.lock) like test_verdicts.py:
run-queue time is host-wide evidence that other tests change on purpose."""
import fcntl
import os
import signal
import time

import pytest

from conftest import Recording, load, report


@pytest.fixture(autouse=True, scope="module")
def bench_lock():
    with open("/tmp/netprof-bench.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def v1_cpu_mount():
    for line in open("/proc/self/mountinfo"):
        pre, _, post = line.partition(" - ")
        fields = post.split()
        if len(fields) >= 3 and fields[0] == "cgroup" and "cpu" in fields[2].split(","):
            return pre.split()[4]
    return None


@pytest.fixture
def quota_cgroup():
    mnt = v1_cpu_mount()
    if not mnt:
        pytest.skip("no cgroup v1 cpu hierarchy mounted")
    path = os.path.join(mnt, f"netprof-quota-{os.getpid()}")
    os.mkdir(path)
    try:
        with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
            f.write("100000")
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write("20000")
        yield mnt, path
    finally:
        # a cgroup with tasks cannot be removed: the server is stopped by
        # then, but move anything left back to the root first
        try:
            for pid in open(os.path.join(path, "cgroup.procs")).read().split():
                with open(os.path.join(mnt, "cgroup.procs"), "w") as f:
                    f.write(pid)
        except OSError:
            pass
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)


def test_cpu_limited_cgroup_is_host_cpu_quota(quota_cgroup, server_factory, tmp_path):
    mnt, cg = quota_cgroup
    srv = server_factory("--threads", "1", "--burn-us", "3000")
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(srv.pid))
    path = str(tmp_path / "quota.nprof")
    rec = Recording(srv.pid, path, 60)
    load(srv, 150, 2, "on")
    time.sleep(0.3)
    rec.proc.send_signal(signal.SIGINT)
    rc, err = rec.wait()
    assert rc == 0, err
    rep = report(path)
    v = rep["verdict"]
    assert v and v["cause"] == "host.cpu_quota" and v["layer"] == "application", rep["findings"]
    f = [f for f in rep["findings"] if f["cause"] == "host.cpu_quota"][0]
    ev = {e["metric"]: e for e in f["evidence"]}
    assert ev["cpu_quota_us"]["value"] == 20000, f
    assert ev["cpu_period_us"]["value"] == 100000, f
    assert ev["nr_throttled"]["value"] > 0, f
    assert ev["throttled_period_share"]["value"] >= 0.5, f
    assert "cpu.cfs_quota_us" in f["advice"], f
    assert os.path.basename(cg) in f["advice"], f
    # the run-queue time is the quota's: no verdict of other work
    for f in rep["findings"]:
        if f["cause"] == "host.cpu_contention":
            assert f["severity"] == "info", f
