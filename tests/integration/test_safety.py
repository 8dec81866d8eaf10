"""Production safety: clean detach on every way a recording ends, nothing
left behind after SIGKILL, and bad targets or options refused in one line."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import NETPROF, Recording, load, load_report, report


def run(*args, **kw):
    return subprocess.run([NETPROF, *args], capture_output=True, text=True, timeout=60, **kw)


def one_line(r):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("netprof: ")
    return lines[0]


def owned_objects(pid):
    """The BPF programs, links and maps, and the perf events, that process
    `pid` holds, from its fdinfo: robust to other tracers on the machine."""
    objs = {"prog_id": set(), "link_id": set(), "map_id": set(), "perf": set()}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]":
                objs["perf"].add(fd)
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    key, _, val = line.partition(":")
                    if key in objs:
                        objs[key].add(int(val))
        except OSError:
            pass
    return objs


def live_ids(kind):
    out = subprocess.run(["bpftool", kind, "list", "-j"], capture_output=True, text=True).stdout
    return {o["id"] for o in json.loads(out or "[]")}


def still_there(objs, timeout=5):
    """Which of `objs` still exist in the kernel (programs, links and maps
    are freed asynchronously after their last fd closes)."""
    deadline = time.monotonic() + timeout
    while True:
        left = (objs["prog_id"] & live_ids("prog")) | (objs["link_id"] & live_ids("link")) \
            | (objs["map_id"] & live_ids("map"))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT", "SIGTERM", "SIGHUP", "timeout", "target-exit"])
def test_every_ending_leaves_nothing_behind(server_factory, tmp_path, how):
    srv = server_factory()
    path = str(tmp_path / "r.nprof")
    rec = Recording(srv.pid, path, 2 if how == "timeout" else 30)
    objs = owned_objects(rec.proc.pid)
    assert objs["prog_id"] and objs["link_id"] and objs["map_id"], objs
    load(srv, 200, 2)
    if how == "target-exit":
        srv.stop()
    elif how != "timeout":
        rec.proc.send_signal(getattr(signal, how))
    rc = rec.proc.wait(timeout=30)
    assert not still_there(objs)
    if how == "SIGKILL":
        assert rc == -signal.SIGKILL
        assert os.path.exists(path + ".partial")
        return
    assert rc == 0, rec.err.text()
    rep = report(path)
    want = {"SIGINT": "signal", "SIGTERM": "signal", "SIGHUP": "signal", "timeout": "duration",
            "target-exit": "target exited"}[how]
    assert rep["window"]["end_reason"] == want
    assert not os.path.exists(path + ".partial")


ZOMBIE = r"""
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""


def test_zombie_is_refused(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", ZOMBIE], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        for _ in range(50):
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.05)
        r = run("record", "-p", str(child), "-d", "1", "-o", str(tmp_path / "z.nprof"))
        assert r.returncode == 1
        assert "zombie" in one_line(r)
        assert not os.path.exists(tmp_path / "z.nprof")
        assert not os.path.exists(str(tmp_path / "z.nprof") + ".partial")
    finally:
        parent.kill()
        parent.wait()


def test_unprivileged_user_is_told_what_is_needed(server_factory, tmp_path):
    srv = server_factory()
    os.chmod(tmp_path, 0o777)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        NETPROF, "record", "-p", str(srv.pid), "-d", "1",
                        "-o", str(tmp_path / "u.nprof")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    line = one_line(r)
    assert "not permitted" in line and "root" in line and "CAP_BPF" in line


@pytest.mark.parametrize("args", [
    ["-p", "0"], ["-p", "99999999999"], ["-p", "-5"], ["-p", "12x"],
    ["-d", "0"], ["-d", "1e9"], ["-d", "nan"], ["-d", "inf"], ["-d", ""],
    ["--threshold", "0"], ["--threshold", "-1ms"], ["--threshold", "100s"],
    ["--sample", "-1"], ["--sample", "99999999999999999999"],
    ["--ringbuf-kb", "1"], ["--ringbuf-kb", "99999999"],
    ["--poll-ms", "5"], ["--poll-ms", "1000000"],
])
def test_absurd_option_values_are_usage_errors(args, tmp_path):
    full = ["record", *args] + ([] if "-p" in args else ["-p", "1"]) + ["-o", str(tmp_path / "a")]
    r = run(*full)
    assert r.returncode == 2, (args, r.stderr)
    one_line(r)
    assert not os.listdir(tmp_path)


def test_report_of_huge_sparse_file_is_refused_quickly(tmp_path):
    p = tmp_path / "huge.nprof"
    with open(p, "wb") as f:
        f.truncate(20 << 30)  # sparse: no disk used
    t = time.monotonic()
    r = run("report", str(p))
    assert r.returncode == 1
    assert "too large" in one_line(r)
    assert time.monotonic() - t < 5


def test_report_output_through_symlink_replaces_link_not_target(server_factory, tmp_path):
    srv = server_factory()
    path = str(tmp_path / "r.nprof")
    rc, err = Recording(srv.pid, path, 1).wait()
    assert rc == 0, err
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "report.json"
    os.symlink(victim, out)
    r = run("report", path, "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious\n"
    assert not os.path.islink(out)
    assert os.stat(out).st_mode & 0o777 == 0o600
    load_report(out)


def built_with_asan():
    r = subprocess.run(["ldd", NETPROF], capture_output=True, text=True)
    return "libasan" in r.stdout


# valgrind cannot run an ASan binary; such a build has LeakSanitizer instead.
@pytest.mark.skipif(built_with_asan(), reason="NETPROF_BUILD is an ASan build")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_report_path_is_clean_under_memcheck(server_factory, tmp_path, fmt):
    srv = server_factory("--threads", "2")
    path = str(tmp_path / "m.nprof")
    rec = Recording(srv.pid, path, 30)
    load(srv, 300, 4)
    rec.proc.send_signal(signal.SIGINT)
    rc, err = rec.wait()
    assert rc == 0, err
    r = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                        "--errors-for-leak-kinds=definite,indirect", NETPROF, "report", path,
                        "--format", fmt, "-o", str(tmp_path / ("out." + fmt))],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    if fmt == "json":
        load_report(tmp_path / "out.json")
