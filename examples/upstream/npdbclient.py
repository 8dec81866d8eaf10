#!/usr/bin/env python3
"""npdbclient.py - a small service that calls Redis or PostgreSQL, for
netprof's upstream-protocol tests (tests/integration/test_upstream.py).

Hand-written minimal clients over TCP, no library: RESP arrays of bulk
strings for Redis; for PostgreSQL the startup packet (trust auth), simple
queries ('Q') and extended queries (Parse/Bind/Describe/Execute/Sync in one
write).  It prints "ready pid N", waits for a line on stdin, runs the
workload, prints what it did as one JSON line and exits.  Keys, values and
literals hold a secret (read from stdin, never in argv: the report shows the
command line) so the tests can check it never reaches a recording.

usage: npdbclient.py redis PORT GETS SLOWS
       npdbclient.py postgres PORT SELECTS INSERTS UPDATES
"""
import json
import os
import socket
import struct
import sys


def resp(sock, *args):
    """Sends one command; returns its reply (simple, error, integer, bulk)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        buf += chunk
        end = buf.find(b"\r\n")
        if end < 0:
            continue
        if buf[:1] == b"$":
            n = int(buf[1:end])
            if n < 0 or len(buf) >= end + 2 + n + 2:
                return buf
        else:
            return buf


def redis(port, gets, slows, secret):
    sock = socket.create_connection(("127.0.0.1", port))
    done = {"SET": 0, "GET": 0, "DEBUG": 0}
    key = b"key:" + secret
    reply = resp(sock, b"SET", key, secret)
    assert reply == b"+OK\r\n", reply
    done["SET"] += 1
    for i in range(gets):
        reply = resp(sock, b"GET", key)
        assert secret in reply, reply
        done["GET"] += 1
        if slows and i % (gets // slows) == 0 and done["DEBUG"] < slows:
            reply = resp(sock, b"DEBUG", b"SLEEP", b"0.03")
            assert reply == b"+OK\r\n", reply
            done["DEBUG"] += 1
    sock.close()
    return done


def pg_msg(kind, body):
    return kind + struct.pack("!I", len(body) + 4) + body


def pg_until_ready(sock, buf=b""):
    """Reads backend messages up to ReadyForQuery; fails on ErrorResponse."""
    while True:
        while len(buf) >= 5:
            kind, n = buf[:1], struct.unpack("!I", buf[1:5])[0]
            if len(buf) < 1 + n:
                break
            body, buf = buf[5:1 + n], buf[1 + n:]
            if kind == b"E":
                raise RuntimeError("postgres error: %r" % body)
            if kind == b"Z":
                return buf
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("postgres closed the connection")
        buf += chunk


def postgres(port, selects, inserts, updates, secret):
    sock = socket.create_connection(("127.0.0.1", port))
    done = {"STARTUP": 0, "CREATE": 0, "SELECT": 0, "INSERT": 0, "UPDATE": 0}
    params = b"user\0postgres\0database\0postgres\0\0"
    sock.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
    pg_until_ready(sock)
    done["STARTUP"] += 1
    sock.sendall(pg_msg(b"Q", b"CREATE TEMP TABLE t (v text)\0"))
    pg_until_ready(sock)
    done["CREATE"] += 1
    lit = secret.replace(b"'", b"''")
    for _ in range(inserts):
        sock.sendall(pg_msg(b"Q", b"INSERT INTO t VALUES ('" + lit + b"')\0"))
        pg_until_ready(sock)
        done["INSERT"] += 1
    for _ in range(selects):
        sock.sendall(pg_msg(b"Q", b"select count(*) from t where v = '" + lit + b"'\0"))
        pg_until_ready(sock)
        done["SELECT"] += 1
    for _ in range(updates):
        # unnamed statement, two text parameters, all in one write
        parse = pg_msg(b"P", b"\0UPDATE t SET v = $1 WHERE v = $2\0\0\0")
        vals = b"".join(struct.pack("!I", len(secret)) + secret for _ in range(2))
        bind = pg_msg(b"B", b"\0\0" + struct.pack("!HH", 0, 2) + vals + struct.pack("!H", 0))
        sock.sendall(parse + bind + pg_msg(b"D", b"P\0") + pg_msg(b"E", b"\0\0\0\0\0") +
                     pg_msg(b"S", b""))
        pg_until_ready(sock)
        done["UPDATE"] += 1
    sock.sendall(pg_msg(b"X", b""))
    sock.close()
    return done


def main(argv):
    print("ready pid %d" % os.getpid(), flush=True)
    secret = sys.stdin.readline().strip().encode()
    if argv[1] == "redis":
        done = redis(int(argv[2]), int(argv[3]), int(argv[4]), secret)
    else:
        done = postgres(int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]), secret)
    print(json.dumps(done), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
