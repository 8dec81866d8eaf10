"""Processes past --max-processes (issue 12): a service that grows past the
cap while recording has its extra processes sampled with kernel stacks
only, and the report says so: cpu_samples degraded in Sources, with how
many processes were left out, and each process's share in
target.processes[].cpu_samples_past_max_processes.

A target larger than the cap at start is refused (test_targets.py), so the
service grows while recording: nginx with 2 workers under --max-processes 3
(master and workers), reloaded with SIGHUP, forks 2 new workers.  Every
process the test starts is stopped in a finally block."""
import re
import signal
import subprocess
import time

import pytest

from conftest import NginxService, Recording, children, report

FREQ = 199


def test_workers_past_max_processes_are_said_to_be_kernel_only(tmp_path):
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        pytest.fail("wrk is needed (tools/install-deps.sh)")
    ng = NginxService(tmp_path, 2)
    try:
        old = ng.workers
        assert len(old) == 2, old
        path = str(tmp_path / "cap.nprof")
        rec = Recording.of(path, 7, "--max-overhead", "50", "-F", str(FREQ), "--max-processes",
                           "3", "-p", str(ng.pid))
        ng.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        new = []
        while len(new) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            new = [p for p in children(ng.pid) if p not in old]
        assert len(new) == 2, (old, children(ng.pid))
        wrk = subprocess.run(["wrk", "-t1", "-c8", "-d3s", "-H", "Connection: close",
                              f"http://127.0.0.1:{ng.port}/"], capture_output=True, text=True,
                             timeout=60)
        assert re.search(r"(\d+) requests in", wrk.stdout), wrk.stdout
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        src = [s for s in rep["sources"] if s["name"] == "cpu_samples"]
        assert len(src) == 1, rep["sources"]
        assert src[0]["status"] == "degraded", src
        assert "2 processes past --max-processes 3" in src[0]["detail"], src
        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        print({p: (x["cpu_samples"], x["cpu_samples_past_max_processes"])
               for p, x in procs.items()})
        for pid in new:
            p = procs[pid]
            assert p["new"], p
            # the load ran on the new workers: they were sampled, kernel only
            assert p["cpu_samples"] > 0, p
            assert p["cpu_samples_past_max_processes"] == p["cpu_samples"], p
        for pid in (ng.pid, *old):
            assert procs[pid]["cpu_samples_past_max_processes"] == 0, procs[pid]
        text = report(path, "text")
        assert re.search(r"cpu_samples\s+degraded\s+perf cpu-clock", text), text
    finally:
        ng.stop()
