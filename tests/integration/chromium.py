"""Headless Chromium driven over its DevTools protocol, standard library only.

Chromium is started with --remote-debugging-pipe: it reads protocol
commands from fd 3 and writes replies and events to fd 4, each a JSON
message ended by a NUL byte.  No port is opened and no network is used.

    with Browser() as b:
        page = b.open("file:///tmp/report.html")
        page.errors      # console errors, uncaught exceptions, log errors
        page.dialogs     # alert()/confirm()/prompt() that the page opened
        page.eval("document.title")
        page.screenshot("/tmp/shot.png")
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Browser:
    def __init__(self, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="np6-chromium-")
        cmd_r, self._cmd_w = os.pipe()
        self._evt_r, evt_w = os.pipe()

        def child_fds():
            # the protocol pipes must be fds 3 and 4 in Chromium
            os.dup2(cmd_r, 3)
            os.dup2(evt_w, 4)

        exe = chromium_path()
        if not exe:
            raise RuntimeError("chromium is not installed (tools/install-deps.sh installs it)")
        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_ARGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=child_fds, close_fds=False)
        os.close(cmd_r)
        os.close(evt_w)
        self._buf = b""
        self._next_id = 0
        self.events = []

    # --- protocol ----------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from Chromium")
            import select
            r, _, _ = select.select([self._evt_r], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                continue
            chunk = os.read(self._evt_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe: " +
                                   self.proc.stderr.read().decode(errors="replace")[-2000:])
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=None):
        self._next_id += 1
        mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self._on_event(m)

    def _on_event(self, m):
        self.events.append(m)
        if m.get("method") == "Page.javascriptDialogOpening":
            # never leave a dialog blocking the page; the test sees it in .dialogs
            os.write(self._cmd_w, json.dumps({
                "id": 10 ** 9 + len(self.events), "method": "Page.handleJavaScriptDialog",
                "params": {"accept": True}, "sessionId": m.get("sessionId")}).encode() + b"\0")

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self._on_event(self._read_message(min(deadline, time.monotonic() + 0.1)))
            except TimeoutError:
                pass

    def open(self, url, width=1300, height=900):
        targets = self.send("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        session = self.send("Target.attachToTarget",
                            {"targetId": page["targetId"], "flatten": True})["sessionId"]
        return Page(self, session, url, width, height)

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    os.write(self._cmd_w, json.dumps({"id": 0, "method": "Browser.close"}).encode()
                             + b"\0")
                    self.proc.wait(timeout=10)
                except Exception:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._cmd_w, self._evt_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session, url, width, height):
        self.b = browser
        self.session = session
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(domain + ".enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.first_event = len(browser.events)
        self.send("Page.navigate", {"url": url})
        self._wait_for("Page.loadEventFired", 30)

    def send(self, method, params=None):
        return self.b.send(method, params, session=self.session)

    def _mine(self):
        return [e for e in self.b.events[self.first_event:] if e.get("sessionId") == self.session]

    def _wait_for(self, method, timeout):
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self._mine()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method}")
            self.b.pump(0.1)

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_until(self, expr, timeout=20):
        deadline = time.monotonic() + timeout
        while not self.eval(expr):
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true: {expr}")
            self.b.pump(0.1)

    @property
    def errors(self):
        out = []
        for e in self._mine():
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console." + p["type"] + ": " + json.dumps(p.get("args"))[:500])
            elif m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails"))[:1000])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", "")[:500])
        return out

    @property
    def dialogs(self):
        return [e["params"] for e in self._mine() if e.get("method") == "Page.javascriptDialogOpening"]

    @property
    def requests(self):
        """URLs of every request the page made (the page itself included)."""
        return [e["params"]["request"]["url"] for e in self._mine()
                if e.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path):
        size = self.eval("JSON.stringify([document.documentElement.scrollWidth,"
                         " document.documentElement.scrollHeight])")
        w, h = json.loads(size)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": max(w, 800), "height": min(max(h, 600), 6000), "deviceScaleFactor": 1,
                   "mobile": False})
        self.b.pump(0.3)
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
