#!/usr/bin/python3
"""npgrpc.py - a gRPC service and its client, for netprof's HTTP/2 tests.

    npgrpc.py serve PORT [DELAY_MS]   a unary method /netprof.Echo/Say on
                                      127.0.0.1:PORT (h2c: gRPC without TLS),
                                      answering after DELAY_MS (default 0)
    npgrpc.py call PORT N [CONC]      N calls over one channel, CONC at once
                                      (default 4); prints "N ok"

Debian's python3-grpcio, with no generated code: the method takes and gives
raw bytes.  Each call carries a secret in its metadata (`authorization`,
in the HEADERS frame) and in its message (DATA): neither may appear in a
recording.  The secret comes from the environment (NPGRPC_SECRET), not the
command line, which recordings keep.
"""
import concurrent.futures
import os
import sys
import time

import grpc

METHOD = "/netprof.Echo/Say"


def serve(port, delay_ms):
    def say(request, context):
        if delay_ms:
            time.sleep(delay_ms / 1000)
        return b"ok:" + request[:8]

    handler = grpc.method_handlers_generic_handler(
        "netprof.Echo", {"Say": grpc.unary_unary_rpc_method_handler(say)})
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=8),
                         handlers=[handler])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("listening", flush=True)
    server.wait_for_termination()


def call(port, n, conc):
    secret = os.environ.get("NPGRPC_SECRET", "")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        say = ch.unary_unary(METHOD)
        meta = [("authorization", f"Bearer {secret}")]
        with concurrent.futures.ThreadPoolExecutor(max_workers=conc) as pool:
            done = list(pool.map(lambda i: say(f"{secret}-{i}".encode(), metadata=meta,
                                               timeout=30), range(n)))
    print(f"{sum(1 for d in done if d.startswith(b'ok:'))} ok", flush=True)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    elif len(sys.argv) >= 4 and sys.argv[1] == "call":
        call(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 4)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
