#!/usr/bin/env python3
"""Golden reports: every recording in tests/fixtures/recordings reported in
every format must match the stored output byte for byte.

usage: golden.py NETPROF            compare (exit 1 on any difference)
       golden.py --update NETPROF   rewrite the stored outputs
"""
import difflib
import os
import subprocess
import sys
import tempfile

FORMATS = ("text", "json", "html", "perfetto", "folded", "otlp")
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "recordings")


def main(argv):
    update = "--update" in argv
    args = [a for a in argv if a != "--update"]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    netprof = args[0]
    recordings = sorted(f for f in os.listdir(FIXTURES) if f.endswith(".nprof"))
    if not recordings:
        print("golden: no recordings in " + FIXTURES, file=sys.stderr)
        return 1
    failed = 0
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rec in recordings:
            stem = rec[: -len(".nprof")]
            for fmt in FORMATS:
                n += 1
                want_path = os.path.join(FIXTURES, stem + "." + fmt)
                out = os.path.join(tmp, stem + "." + fmt)
                r = subprocess.run([netprof, "report", os.path.join(FIXTURES, rec),
                                    "--format", fmt, "-o", out],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    print(f"not ok {n} {stem}.{fmt}: exit {r.returncode}: {r.stderr.strip()}")
                    failed += 1
                    continue
                got = open(out, "rb").read()
                if update:
                    with open(want_path, "wb") as f:
                        f.write(got)
                    print(f"ok {n} {stem}.{fmt} (updated)")
                    continue
                want = open(want_path, "rb").read() if os.path.exists(want_path) else b""
                if got == want:
                    print(f"ok {n} {stem}.{fmt}")
                    continue
                failed += 1
                print(f"not ok {n} {stem}.{fmt}: differs from the golden output")
                diff = difflib.unified_diff(want.decode(errors="replace").splitlines(),
                                            got.decode(errors="replace").splitlines(),
                                            "golden", "now", lineterm="", n=1)
                for i, line in enumerate(diff):
                    if i >= 40:
                        print("#   ...")
                        break
                    print("#   " + line)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
