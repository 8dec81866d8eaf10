#!/usr/bin/env python3
"""The closing line of tests/run.sh, and its exit status, from one place.

usage: summarize.py RESULTS_DIR

RESULTS_DIR holds what tests/run.sh's steps left:
  steps          one line per step: "NAME ok" or "NAME failed" (a build, a
                 missing log, a script that is not there: any step that did
                 not run to its end counts as one failure)
  unit.json, asan.json   meson's testlog.json of the unit suites
  fuzz.txt       "ok" or "failed"
  integration.xml        pytest's JUnit XML
A step listed in `expect` (one name a line) whose results are missing counts
as a failure, so a step cannot vanish silently.

Skips: under CI=true every skipped test is a failure, unless its id is in
tests/allowed_skips.txt ("test id<TAB>reason"); outside CI a skip is a skip.

Prints "N passed, N failed[, N skipped]" last, and exits 1 exactly when it
printed a failure (0 otherwise), so the line and the status always agree.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOWED = os.path.join(HERE, "..", "allowed_skips.txt")


def allowed_skips(path=ALLOWED):
    out = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            test, _, reason = line.partition("\t")
            if not reason.strip():
                raise SystemExit(f"summarize: {path}: '{test}' has no reason")
            out[test.strip()] = reason.strip()
    return out


def summarize(d, ci, allowed):
    passed = failed = skipped = 0
    notes = []

    def skip(test_id):
        nonlocal failed, skipped
        if ci and test_id not in allowed:
            failed += 1
            notes.append(f"skipped in CI (not in tests/allowed_skips.txt): {test_id}")
        else:
            skipped += 1

    seen = set()
    p = os.path.join(d, "steps")
    if os.path.exists(p):
        for line in open(p):
            name, _, result = line.strip().partition(" ")
            if not name:
                continue
            seen.add(name)
            if result != "ok":
                failed += 1
                notes.append(f"step failed: {name}")
    for suite in ("unit", "asan"):
        p = os.path.join(d, suite + ".json")
        if not os.path.exists(p):
            continue
        seen.add(suite)
        for line in open(p):
            t = json.loads(line)
            tap = [l for l in t.get("stdout", "").splitlines() if l.startswith(("ok ", "not ok "))]
            r = t.get("result")
            name = f"{suite}:{t.get('name', '?')}"
            if tap:  # criterion's TAP: count its subtests; a crash fails the whole binary
                for l in tap:
                    if l.startswith("not ok "):
                        failed += 1
                        notes.append(f"{name}: {l}")
                    elif "# SKIP" in l:
                        skip(f"{name}: {l.split('# SKIP')[0].strip()}")
                    else:
                        passed += 1
                if r not in ("OK", "EXPECTEDFAIL") and not any(l.startswith("not ok ") for l in tap):
                    failed += 1
                    notes.append(f"{name}: {r}")
            elif r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skip(name)
            else:
                failed += 1
                notes.append(f"{name}: {r}")
    p = os.path.join(d, "fuzz.txt")
    if os.path.exists(p):
        seen.add("fuzz")
        if open(p).read().strip() == "ok":
            passed += 1
        else:
            failed += 1
            notes.append("fuzz: failed")
    p = os.path.join(d, "integration.xml")
    if os.path.exists(p):
        seen.add("integration")
        try:
            root = ET.parse(p).getroot()
        except ET.ParseError as e:
            failed += 1
            notes.append(f"integration.xml unreadable: {e}")
            root = None
        for tc in root.iter("testcase") if root is not None else ():
            test_id = f"{tc.get('classname', '')}::{tc.get('name', '')}"
            if tc.find("failure") is not None or tc.find("error") is not None:
                failed += 1
                notes.append(f"failed: {test_id}")
            elif tc.find("skipped") is not None:
                skip(test_id)
            else:
                passed += 1
    p = os.path.join(d, "expect")
    if os.path.exists(p):
        for name in open(p).read().split():
            if name not in seen:
                failed += 1
                notes.append(f"step left no result: {name}")
    return passed, failed, skipped, notes


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ci = os.environ.get("CI") == "true"
    passed, failed, skipped, notes = summarize(argv[1], ci, allowed_skips())
    for n in notes:
        print("  " + n)
    print()
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
