"""The two unwinders (--unwinder libdw|libunwind) on the same samples.

tests/np_unwind_compare samples a live process with netprof's own sampler
(perf cpu-clock, user registers and a copy of the user stack), then unwinds
every sample once with libdw and once with libunwind.  On a program built
without frame pointers (tests/progs/cpuprog.c) and on nginx under wrk
load, both must complete most stacks and agree on >= 99% of the frames of
the stacks both complete.  Each backend's rate is printed (pytest -s).

Also: `netprof record --unwinder libunwind` end to end, and a bad value.
Runs as root (perf_event); see conftest.py.  Traffic only to 127.0.0.1.
"""
import os
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, LineReader, NETPROF, free_port, report

CPUPROG = os.path.join(BUILD, "tests", "cpuprog")
COMPARE = os.path.join(BUILD, "tests", "np_unwind_compare")
MIN_AGREEMENT = 99.0
MIN_RATE = 90.0


def need(prog):
    path = shutil.which(prog) or (f"/usr/sbin/{prog}" if os.access(f"/usr/sbin/{prog}", os.X_OK)
                                  else None)
    if not path:
        msg = f"{prog} is not installed (tools/install-deps.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def compare(pid, secs=3):
    r = subprocess.run([COMPARE, "-p", str(pid), "-d", str(secs)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = {"backends": {}}
    for line in r.stdout.splitlines():
        words = line.split()
        if words[0] == "backend":
            res["backends"][words[1]] = {k: float(v) for k, v in zip(words[2::2], words[3::2])}
        elif words[0] == "agreement":
            res["agreement"] = float(words[1])
            res.update({k: int(v) for k, v in zip(words[2::2], words[3::2])})
        else:
            res[words[0]] = int(words[1])
    return res, r.stdout


def check(name, res, text):
    print(f"\n{name}:\n{text}", end="")
    for b in ("libdw", "libunwind"):
        st = res["backends"][b]
        print(f"{name}: {b} completes {st['rate']:.2f}% of {res['samples']} samples")
    print(f"{name}: agreement {res['agreement']:.2f}% of {res['frames']} frames "
          f"in {res['stacks']} stacks complete with both")
    assert res["samples"] >= 100, text
    for b in ("libdw", "libunwind"):
        assert res["backends"][b]["rate"] >= MIN_RATE, text
    assert res["stacks"] >= 0.8 * res["samples"], text
    assert res["agreement"] >= MIN_AGREEMENT, text


@pytest.fixture
def cpuprog():
    procs = []

    def start(mode, secs):
        p = subprocess.Popen([CPUPROG, mode, str(secs)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(p)
        return int(LineReader(p.stdout).wait_for(r"cpuprog: ready pid (\d+)").group(1))

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


@pytest.fixture
def nginx(tmp_path):
    binary = need("nginx")
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("netprof unwinder test\n" * 200)
    port = free_port()
    conf = tmp_path / "nginx.conf"
    temp = tmp_path / "tmp"
    # workers as root: pytest's temporary directories are root's alone
    conf.write_text(f"""daemon off;
user root root;
master_process on;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
    uwsgi_temp_path {temp}; scgi_temp_path {temp};
    server {{ listen 127.0.0.1:{port}; root {html}; }}
}}
""")
    master = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and worker is None:
        r = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
        if r.stdout.split():
            worker = int(r.stdout.split()[0])
        else:
            time.sleep(0.1)
    assert worker, f"nginx started no worker: {(tmp_path / 'error.log').read_text()}"
    yield worker, port
    master.terminate()
    try:
        master.wait(timeout=5)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait()


def test_both_unwinders_agree_on_a_program_without_frame_pointers(cpuprog):
    pid = cpuprog("hot", 10)
    res, text = compare(pid, 3)
    check("cpuprog hot", res, text)


def test_both_unwinders_agree_on_nginx_under_load(nginx):
    wrk = need("wrk")
    worker, port = nginx
    load = subprocess.Popen([wrk, "-t1", "-c16", "-d8s", f"http://127.0.0.1:{port}/index.html"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.5)
        res, text = compare(worker, 4)
    finally:
        out, _ = load.communicate(timeout=30)
    assert "Non-2xx" not in out, out
    check("nginx", res, text)


def test_record_with_libunwind(cpuprog, tmp_path):
    pid = cpuprog("hot", 10)
    path = str(tmp_path / "uw.nprof")
    r = subprocess.run([NETPROF, "record", "-p", str(pid), "-d", "3", "-o", path,
                        "--unwinder", "libunwind"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    prof = report(path)["cpu_profile"]
    assert prof["unwinder"] == "libunwind"
    assert prof["samples"] > 10, prof  # one busy thread, on a shared machine
    assert prof["complete_stacks"] >= 0.9 * prof["samples"], prof
    text = report(path, "text")
    assert "unwinder: libunwind" in text
    folded = report(path, "folded")
    assert "outer_level;middle_level;hot_function" in folded


def test_bad_unwinder_is_a_usage_error():
    r = subprocess.run([NETPROF, "record", "-p", "1", "--unwinder", "libfoo"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "libfoo" in r.stderr
