"""The HTML report in a real browser, and the Perfetto export's format.

Each page is opened from file:// in headless Chromium (Debian's package),
driven over the DevTools protocol (chromium.py).  A page must load with no
console error, no uncaught exception, no dialog (an alert() would mean a
string from the target ran as code), no request but the page itself, and
its self-check (#np-selfcheck, written by the page's script) must say the
timeline and the flame graph rendered.  A screenshot of each page is kept
under $NETPROF_BUILD/test-artifacts/ and its path printed.  The diff page
(netprof diff --format html) has no script: it must load as cleanly, with
its own style applied (a CSP hash that did not match would drop it).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BUILD, NETPROF, Recording, load, report
from chromium import Browser, chromium_path

ARTIFACTS = os.path.join(BUILD, "test-artifacts")
FIXTURE = os.path.join(BUILD, "tests", "np_html_fixture")


@pytest.fixture(scope="module")
def browser():
    if not chromium_path():
        pytest.fail("chromium is not installed: run tools/install-deps.sh")
    b = Browser()
    yield b
    b.close()


def open_report(browser, path, shot_name):
    page = browser.open("file://" + os.path.abspath(path))
    page.wait_until("(document.getElementById('np-selfcheck') || {}).textContent && "
                    "JSON.parse(document.getElementById('np-selfcheck').textContent).status !== 'running'")
    check = json.loads(page.eval("document.getElementById('np-selfcheck').textContent"))
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = page.screenshot(os.path.join(ARTIFACTS, shot_name))
    print(f"screenshot: {shot}")
    assert os.path.getsize(shot) > 10000
    return page, check


def assert_clean(page, check, path):
    assert page.errors == [], page.errors
    assert page.dialogs == [], page.dialogs
    url = "file://" + os.path.abspath(path)
    assert [u for u in page.requests if u != url] == [], page.requests
    assert check["status"] == "ok", check
    assert check["errors"] == [], check


def record_server(server_factory, tmp_path, seconds=3, requests=3000):
    srv = server_factory("--threads", "2", "--burn-us", "100")
    path = str(tmp_path / "server.nprof")
    rec = Recording(srv.pid, path, 30)
    load(srv, requests, 8, "on")
    time.sleep(seconds)
    rec.proc.send_signal(signal.SIGINT)
    rc, err = rec.wait()
    assert rc == 0, err
    return path


def test_html_report_of_loaded_server(server_factory, tmp_path, browser):
    rec = record_server(server_factory, tmp_path)
    html = str(tmp_path / "server.html")
    r = subprocess.run([NETPROF, "report", rec, "--format", "html", "-o", html],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = open(html, encoding="utf-8").read()
    # one file, nothing fetched: no external URL anywhere in the markup
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    page, check = open_report(browser, html, "server.png")
    assert_clean(page, check, html)
    assert check["timeline"]["tracks"] >= 3 and check["timeline"]["drawn"] > 0, check
    # the CPU source ran: the flame graph draws the server's stacks
    assert not check["flame"].get("empty") and check["flame"]["frames"] > 0, check["flame"]
    assert not page.eval("document.body.innerText.includes('No CPU samples in this recording')")
    # the verdict and the breakdown match the JSON report
    rep = report(rec)
    if rep["verdict"]:
        assert page.eval(f"document.body.innerText.includes({json.dumps(rep['verdict']['cause'])})")
    else:
        assert page.eval("document.body.innerText.includes('No bottleneck found')")
    assert page.eval("document.querySelectorAll('.bar > div').length") == 5
    # tables sort when a header is clicked
    first = page.eval("document.querySelector('#syscalls ~ .tablewrap td').textContent")
    page.eval("document.querySelector('#syscalls ~ .tablewrap th').click()")
    page.eval("document.querySelector('#syscalls ~ .tablewrap th').click()")
    assert page.eval("document.querySelector('#syscalls ~ .tablewrap th').getAttribute('aria-sort')")
    assert first


HOSTILE_TARGET = textwrap.dedent(r"""
    import ctypes, socket, sys, threading
    libc = ctypes.CDLL(None)
    libc.prctl(15, b"<script>alert(1)", 0, 0, 0)      # PR_SET_NAME: the comm
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0)); s.listen(16)
    print(s.getsockname()[1], flush=True)
    def serve(c):
        libc.prctl(15, b"<img src=x onerr", 0, 0, 0)
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
""")


def test_html_escapes_hostile_target_names(tmp_path, browser):
    """A process named <script>alert(1)</script> must not run code in the
    report: its comm, command line and thread names are shown as text."""
    argv0 = "<script>alert(1)</script>"
    srv = subprocess.Popen(["bash", "-c", f'exec -a "$0" {sys.executable} -c "$1"', argv0,
                            HOSTILE_TARGET], stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        path = str(tmp_path / "hostile.nprof")
        rec = Recording(srv.pid, path, 30)
        import socket
        for _ in range(20):
            c = socket.create_connection(("127.0.0.1", port))
            for _ in range(20):
                c.sendall(b"GET / HTTP/1.1\r\n\r\n")
                c.recv(100)
            c.close()
        time.sleep(1.5)
        rec.proc.send_signal(signal.SIGINT)
        rc, err = rec.wait()
        assert rc == 0, err
    finally:
        srv.kill()
        srv.wait()
    rep = report(path)
    assert rep["target"]["cmdline"].startswith(argv0)
    assert any(t["comm"].startswith("<img") for t in rep["threads"]), rep["threads"]
    html = str(tmp_path / "hostile.html")
    r = subprocess.run([NETPROF, "report", path, "--format", "html", "-o", html],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    raw = open(html, encoding="utf-8").read()
    assert raw.count("<script") == 2 and raw.count("</script>") == 2
    assert "<img" not in raw
    page, check = open_report(browser, html, "hostile.png")
    assert_clean(page, check, html)
    assert page.eval("document.querySelectorAll('script').length") == 2
    assert page.eval("document.querySelectorAll('img').length") == 0
    assert page.eval(f"document.body.innerText.includes({json.dumps(argv0)})")
    assert page.eval("document.title").startswith("netprof: <script>alert(1")
    # the Perfetto export of the same recording stays valid JSON
    out = subprocess.run([NETPROF, "report", path, "--format", "perfetto"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0
    validate_trace(json.loads(out.stdout))


def test_flame_graph_renders_searches_and_zooms(server_factory, tmp_path, browser):
    assert os.access(FIXTURE, os.X_OK), f"{FIXTURE} is not built"
    rec = record_server(server_factory, tmp_path, seconds=1, requests=500)
    html = str(tmp_path / "flame.html")
    r = subprocess.run([FIXTURE, rec, html], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    raw = open(html, encoding="utf-8").read()
    assert raw.count("<script") == 2 and "<img" not in raw
    page, check = open_report(browser, html, "flame.png")
    assert_clean(page, check, html)
    f = check["flame"]
    assert f["ok"] and f["oncpu"] == 7 and f["offcpu"] == 3 and f["frames"] >= 10, f
    assert f["search_matched"] > 0
    # searching through the UI highlights and reports the matched share
    page.eval("var s = document.querySelector('#flame ~ div input[type=search]');"
              "s.value = 'burn_cpu'; s.dispatchEvent(new Event('input'))")
    info = page.eval("document.querySelector('#flame ~ div .toolbar span.muted').textContent")
    assert info.startswith("Matched: 67.4%"), info  # 620 of 920 samples
    # the off-CPU tab renders too, and hostile symbols stay text
    page.eval("document.querySelectorAll('#flame + .toolbar button')[1].click()")
    assert page.eval("document.querySelector('#flame ~ div canvas') !== null")
    assert page.errors == [] and page.dialogs == []


def validate_trace(doc):
    """The Chrome trace-event format's rules that viewers rely on."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    open_b = {}
    seen_ph = set()
    for e in doc["traceEvents"]:
        for k in ("ph", "pid", "tid", "name"):
            assert k in e, e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert isinstance(e["name"], str)
        ph = e["ph"]
        seen_ph.add(ph)
        assert ph in ("M", "X", "C", "i", "B", "E", "b", "e"), e
        if ph != "M":
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        if ph == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index",
                                 "thread_sort_index"), e
            if e["name"].endswith("_name"):
                assert isinstance(e["args"]["name"], str), e
            else:
                assert isinstance(e["args"]["sort_index"], int), e
        if ph == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
        if ph == "C":
            assert all(isinstance(v, (int, float)) for v in e["args"].values()), e
        if ph == "i":
            assert e.get("s") in ("g", "p", "t"), e
        if ph in ("B", "E"):
            key = (e["pid"], e["tid"])
            open_b[key] = open_b.get(key, 0) + (1 if ph == "B" else -1)
            assert open_b[key] >= 0, f"E without B on {key}"
        if ph in ("b", "e"):
            assert "id" in e and "cat" in e
            key = ("async", e["cat"], e["id"])
            open_b[key] = open_b.get(key, 0) + (1 if ph == "b" else -1)
            assert open_b[key] >= 0, f"async end without begin: {key}"
    assert all(v == 0 for v in open_b.values()), open_b
    return seen_ph


GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "recordings")


@pytest.mark.parametrize("after", ["app_cpu", "stack_qdisc"])
def test_diff_page_loads_clean(tmp_path, browser, after):
    before = os.path.join(GOLDEN, "healthy.nprof")
    other = os.path.join(GOLDEN, after + ".nprof")
    html = str(tmp_path / f"diff-{after}.html")
    r = subprocess.run([NETPROF, "diff", before, other, "--format", "html", "-o", html],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    d = json.loads(subprocess.run([NETPROF, "diff", before, other, "--format", "json"],
                                  capture_output=True, text=True, timeout=60).stdout)
    page = browser.open("file://" + os.path.abspath(html))
    page.wait_until("document.readyState === 'complete'")
    os.makedirs(ARTIFACTS, exist_ok=True)
    print(f"screenshot: {page.screenshot(os.path.join(ARTIFACTS, f'diff-{after}.png'))}")
    assert page.errors == [], page.errors
    assert page.dialogs == [], page.dialogs
    url = "file://" + os.path.abspath(html)
    assert [u for u in page.requests if u != url] == [], page.requests
    assert page.eval("document.querySelectorAll('script').length") == 0
    # diff.css applied: the swatches have its colours
    assert page.eval("getComputedStyle(document.querySelector('.sw-after')).backgroundColor") \
        == "rgb(217, 130, 43)"
    assert page.eval("document.querySelectorAll('table.significant tbody tr').length") \
        == d["significant"]
    assert page.eval("document.querySelectorAll('svg.dist').length") >= 3
    rects = page.eval("document.querySelectorAll('#oncpu-svg rect').length")
    assert rects > 5
    if after == "app_cpu":
        for grew in ("yes", "no"):
            assert page.eval(f"document.querySelectorAll('#oncpu-svg rect[data-grew={grew}]')"
                             ".length") > 0, grew
        # the flame graph is laid out: burn_cpu's frame is wider than a tenth
        w = page.eval("Math.max(...[...document.querySelectorAll('#oncpu-svg g')]"
                      ".filter(g => g.querySelector('title').textContent.startsWith('burn_cpu\\n'))"
                      ".map(g => g.querySelector('rect').getBoundingClientRect().width))")
        assert w > page.eval("document.getElementById('oncpu-svg').getBoundingClientRect().width") / 10


def test_perfetto_export_follows_trace_event_format(server_factory, tmp_path):
    rec = record_server(server_factory, tmp_path, seconds=2, requests=2000)
    out = str(tmp_path / "trace.json")
    r = subprocess.run([NETPROF, "report", rec, "--format", "perfetto", "-o", out],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.load(open(out))
    seen = validate_trace(doc)
    assert {"M", "X", "C"} <= seen, seen
    events = doc["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert any(n.startswith("npworker") for n in names), names
    # syscall slices sit on real threads, in microseconds within the window
    dur_us = doc["otherData"]["duration_ns"] / 1000
    slices = [e for e in events if e["ph"] == "X" and e.get("cat") == "event"]
    assert slices and all(0 <= e["ts"] <= dur_us + 1 for e in slices)
    assert {e["name"] for e in slices} & {"read", "write", "epoll_wait"}
    rep = report(rec)
    instants = [e for e in events if e["ph"] == "i"]
    assert len(instants) == len(rep["findings"])
