#!/usr/bin/env python3
"""The JSON report's schema (docs/report.schema.json) against real reports.

Checks, as TAP:
  - the schema is a valid JSON Schema;
  - every golden JSON report in tests/fixtures/recordings validates;
  - NETPROF's JSON report of every recording there validates;
  - the schema is not vacuous: copies of a report with `verdict` removed,
    with `findings` removed, with a cause that is not in the cause table,
    and with a cause in the wrong layer are all rejected.

usage: validate_schema.py NETPROF [SCHEMA]
"""
import copy
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")
FIXTURES = os.path.join(TOP, "tests", "fixtures", "recordings")
SCHEMA = os.path.join(TOP, "docs", "report.schema.json")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    netprof = argv[1]
    schema_path = argv[2] if len(argv) == 3 else SCHEMA
    try:
        import jsonschema
    except ImportError:
        print("1..1")
        print("not ok 1 python3-jsonschema is missing: run tools/install-deps.sh")
        return 1
    dups = []

    def no_dup_keys(pairs):
        # json keeps the last of two equal keys: a property defined twice
        # (two merges each adding it) would silently lose the first
        keys = [k for k, _ in pairs]
        dups.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f, object_pairs_hook=no_dup_keys)
    cls = jsonschema.validators.validator_for(schema)

    results = []

    def check(name, ok, why=""):
        results.append((name, ok, why))

    check("the schema defines no key twice", not dups, ", ".join(sorted(set(dups))))

    try:
        cls.check_schema(schema)
        check("the schema is a valid " + cls.__name__.replace("Validator", ""), True)
    except jsonschema.SchemaError as e:
        check("the schema is a valid JSON Schema", False, e.message)
    validator = cls(schema)

    def problems(doc):
        return ["/".join(map(str, e.absolute_path)) + ": " + e.message[:300]
                for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))]

    stems = sorted(f[: -len(".nprof")] for f in os.listdir(FIXTURES) if f.endswith(".nprof"))
    if not stems:
        check("recordings in " + FIXTURES, False, "none found")
    reports = []
    for stem in stems:
        golden = os.path.join(FIXTURES, stem + ".json")
        if os.path.exists(golden):
            with open(golden, encoding="utf-8") as f:
                doc = json.load(f)
            p = problems(doc)
            check(f"golden {stem}.json validates", not p, "\n".join(p[:10]))
        r = subprocess.run([netprof, "report", os.path.join(FIXTURES, stem + ".nprof"), "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            check(f"netprof report {stem}.nprof --format json", False,
                  f"exit {r.returncode}: {r.stderr.strip()}")
            continue
        doc = json.loads(r.stdout)
        p = problems(doc)
        check(f"netprof report {stem}.nprof --format json validates", not p, "\n".join(p[:10]))
        reports.append((stem, doc))

    # Not vacuous: a report with a verdict and findings, spoiled four ways.
    base = next(((s, d) for s, d in reports if d.get("verdict") and d.get("findings")), None)
    if base is None:
        check("a report with a verdict and findings to mutate", False, "none of the recordings has one")
    else:
        stem, doc = base

        def without(key):
            d = copy.deepcopy(doc)
            del d[key]
            return d

        def finding_with(**fields):
            d = copy.deepcopy(doc)
            d["findings"][0].update(fields)
            return d

        mutants = [
            ("without verdict", without("verdict")),
            ("without findings", without("findings")),
            ("with cause app.telepathy (not in the cause table)", finding_with(cause="app.telepathy")),
            ("with stack.qdisc in layer nic", finding_with(cause="stack.qdisc", layer="nic")),
        ]
        for what, d in mutants:
            check(f"{stem} {what} is rejected", bool(problems(d)), "the schema accepted it")

    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {name}")
        if not ok:
            failed += 1
            for line in why.splitlines():
                print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
