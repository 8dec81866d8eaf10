"""Failures: one clear line on stderr and the documented exit status."""
import os
import subprocess

from conftest import NETPROF, Recording


def run(*args):
    return subprocess.run([NETPROF, *args], capture_output=True, text=True, timeout=60)


def one_line(r):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("netprof: ")
    return lines[0]


def test_no_such_process():
    r = run("record", "-p", "4194000", "-d", "1", "-o", "/tmp/never.nprof")
    assert r.returncode == 1
    assert "no process with pid 4194000" in one_line(r)


def test_kernel_thread_is_refused():
    r = run("record", "-p", "2", "-d", "1", "-o", "/tmp/never.nprof")
    assert r.returncode == 1
    assert "kernel thread" in one_line(r)


def test_usage_errors_exit_2():
    for args in (["record"], ["-p", "abc"], ["record", "-p", "1", "-d", "-3"],
                 ["record", "-p", "1", "--threshold", "5parsecs"], ["frobnicate"],
                 ["report"], ["report", "x.nprof", "--format", "xml"],
                 ["record", "-p", "1", "--poll-ms", "0"]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "see netprof --help" in one_line(r)


def test_report_rejects_garbage(tmp_path):
    p = tmp_path / "garbage.nprof"
    p.write_bytes(b"this is not a recording at all, just text\n" * 10)
    r = run("report", str(p))
    assert r.returncode == 1
    assert "not a netprof recording" in one_line(r)


def test_report_rejects_corruption(server_factory, tmp_path):
    srv = server_factory()
    path = str(tmp_path / "c.nprof")
    rc, err = Recording(srv.pid, path, 1).wait()
    assert rc == 0, err
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.nprof"
    bad.write_bytes(bytes(data))
    r = run("report", str(bad))
    assert r.returncode == 1
    assert "corrupt" in one_line(r)


def test_output_through_symlink_is_refused(server_factory, tmp_path):
    srv = server_factory()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out.nprof"
    os.symlink(victim, str(out) + ".partial")
    r = run("record", "-p", str(srv.pid), "-d", "1", "-o", str(out))
    assert r.returncode == 1
    assert "symbolic link" in one_line(r)
    assert victim.read_text() == "precious\n"


def test_unwritable_output(server_factory, tmp_path):
    srv = server_factory()
    r = run("record", "-p", str(srv.pid), "-d", "1", "-o", "/proc/netprof-cannot-write.nprof")
    assert r.returncode == 1
    assert "cannot write" in one_line(r)


def test_missing_capabilities_are_named(server_factory, tmp_path):
    srv = server_factory()
    r = subprocess.run(["capsh", "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--",
                        "-c", f"{NETPROF} record -p {srv.pid} -d 1 -o {tmp_path}/x.nprof"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    line = one_line(r)
    assert "CAP_BPF" in line and "CAP_PERFMON" in line
