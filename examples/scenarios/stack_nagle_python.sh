#!/usr/bin/env bash
# stack.nagle.python: Python's http.server answers in two writes, Nagle on.
# A ThreadingHTTPServer speaking HTTP/1.1 (keep-alive) whose handler does
# what most handlers do: send_response/send_header/end_headers (one write
# of the head: StreamRequestHandler's wfile is unbuffered, wbufsize=0) and
# then wfile.write(body).  socketserver leaves TCP_NODELAY off
# (disable_nagle_algorithm = False), so the body waits for the client's
# delayed ACK of the head.  4 keep-alive connections (wrk).  Expected:
# stack.nagle.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
SCN_NAME=stack.nagle.python
SCN_TAG=nglpy
SCN_IDX=18
SCN_EXPECT=stack.nagle

scn_target() {
	local py=$SCN_TMP/nagle_http.py
	cat >"$py" <<'PY'
import http.server
import os
import sys

BODY = b"x" * 64


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()  # the head: one write
        self.wfile.write(BODY)  # the body: a second one

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
print(f"listening on {sys.argv[1]}:{sys.argv[2]} pid {os.getpid()}", flush=True)
srv.serve_forever()
PY
	scn_bg python "$SCN_RAW/server.log" ip netns exec "$NS_SRV" /usr/bin/python3 "$py" \
		"$SRV_IP" "$SCN_PORT"
	scn_wait_line "$SCN_RAW/server.log" 'listening on' 10 "$SCN_LAST_PID" ||
		scn_die "the Python server did not start: $(cat "$SCN_RAW/server.log")"
	TARGET_PID=$(sed -n 's/.*listening on .* pid \([0-9]*\).*/\1/p' "$SCN_RAW/server.log")
	TARGET_DESC="python3 http.server (ThreadingHTTPServer, HTTP/1.1)"
	SCN_PATH=/
}

scn_load() {
	scn_wrk "$1" 4
}

scn_main "$@"
