"""The live status line: on a terminal, one line on stderr redrawn in place
once a second while recording, cleared at the end; nothing of it when
stderr is a file or with -v.

netprof runs with its stderr on a real pseudo-terminal (python's pty), as
root, against the example server under a little load."""
import os
import pty
import re
import select
import subprocess
import threading
import time

from conftest import NETPROF, load

STATUS = re.compile(r"netprof: (\d+)/([\d.]+) s  (\d+) events  (\d+) lost  cpu (-|[\d.]+%)")


def record_on_pty(pid, path, seconds, *extra):
    """Runs `netprof record` with stderr on a pty; returns (rc, bytes written to it)."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm")
    proc = subprocess.Popen([NETPROF, "record", "-p", str(pid), "-d", str(seconds), "-o", path,
                             "--sample", "1", *extra],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                            env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + seconds + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every writer of the pty is gone
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        rc = proc.wait(timeout=30)
    finally:
        os.close(master)
    return rc, out.decode(errors="replace")


def loaded(server, seconds):
    """Keeps the server busy for about `seconds` on a background thread."""
    stop = time.monotonic() + seconds

    def run():
        while time.monotonic() < stop:
            load(server, 200)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_status_line_updates_in_place_on_a_terminal(server_factory, tmp_path):
    srv = server_factory()
    t = loaded(srv, 4)
    rc, out = record_on_pty(srv.pid, str(tmp_path / "s.nprof"), 3)
    t.join(timeout=60)
    assert rc == 0, out
    # Redrawn in place: a carriage return before each, clear to end of line.
    lines = re.findall(r"\r(netprof: \d+/[^\r\n]*?)\x1b\[K", out)
    seen = [STATUS.fullmatch(l) for l in lines]
    assert lines and all(seen), repr(out)
    elapsed = [int(m.group(1)) for m in seen]
    assert len(set(elapsed)) >= 3, repr(out)  # 0, 1, 2 (and 3): once a second
    assert elapsed == sorted(elapsed), repr(out)
    assert all(m.group(2) == "3" for m in seen), repr(out)
    assert int(seen[-1].group(3)) > 0, repr(out)  # events under load
    assert seen[-1].group(5) != "-", repr(out)  # own CPU known after the first second
    # Cleared at the end: the last thing on the line is an erase, and no
    # status text follows the last one on the same line.
    tail = out[out.rindex(lines[-1]) + len(lines[-1]):]
    assert tail.startswith("\x1b[K\r\x1b[K"), repr(tail)
    assert "\n" not in "".join(lines)
    assert os.path.getsize(tmp_path / "s.nprof") > 0


def test_no_status_line_when_stderr_is_a_file(server_factory, tmp_path):
    srv = server_factory()
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as f:
        r = subprocess.run([NETPROF, "record", "-p", str(srv.pid), "-d", "2", "-o",
                            str(tmp_path / "f.nprof")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f,
                           env=dict(os.environ, TERM="xterm"), timeout=60)
    text = err.read_text(errors="replace")
    assert r.returncode == 0, text
    assert "\r" not in text and "\x1b" not in text, repr(text)
    assert not STATUS.search(text), repr(text)


def test_no_status_line_with_verbose(server_factory, tmp_path):
    # -v prints progress as lines at any time; they would land inside it.
    srv = server_factory()
    rc, out = record_on_pty(srv.pid, str(tmp_path / "v.nprof"), 2, "-v")
    assert rc == 0, out
    assert "netprof: recording pid" in out
    assert "\x1b[K" not in out and not STATUS.search(out), repr(out)
