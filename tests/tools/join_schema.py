#!/usr/bin/env python3
"""netprof report A B C on the synthetic recordings of tests/unit/joinfix.h
(written by np_join_fixture), as TAP:

  - the JSON validates against docs/join.schema.json, plain, with the
    upstream's clock shifted by hours, and with a NAT between proxy and
    upstream; the schema rejects spoiled copies (no verdict, a share over
    1, an unknown layer);
  - the shift is recovered within 100 us, and the NAT's connections are
    listed with a note;
  - text output names the verdict and is byte-identical run to run;
  - refusals: a format joined recordings do not have is a usage error
    (exit 2), a missing recording one line (exit 1).
No root needed.

usage: join_schema.py NETPROF NP_JOIN_FIXTURE SCHEMA
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

SHIFT = 3 * 3600 * 1_000_000_000 + 123_456_789
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def main(argv):
    netprof, fixture, schema_path = argv[1], argv[2], argv[3]
    try:
        import jsonschema
    except ImportError:
        print("1..1\nnot ok 1 python3-jsonschema is missing: run tools/install-deps.sh")
        return 1
    schema = json.load(open(schema_path, encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def valid(doc):
        errs = list(validator.iter_errors(doc))
        return not errs, "; ".join(e.message[:200] for e in errs[:3])

    with tempfile.TemporaryDirectory(prefix="np-join-") as tmp:
        docs = {}
        for case, extra in (("plain", []), ("shifted", [str(SHIFT)]), ("nat", ["0", "nat"])):
            d = os.path.join(tmp, case)
            os.mkdir(d)
            r = run(fixture, d, *extra)
            check(f"{case}_fixture_written", r.returncode == 0, r.stderr)
            paths = [os.path.join(d, n) for n in ("client.nprof", "proxy.nprof", "upstream.nprof")]
            r = run(netprof, "report", *paths, "--format", "json")
            check(f"{case}_json_exit_0", r.returncode == 0, r.stderr)
            try:
                docs[case] = json.loads(r.stdout)
            except ValueError as e:
                check(f"{case}_json_parses", False, str(e))
                continue
            ok, why = valid(docs[case])
            check(f"{case}_validates", ok, why)
            t1 = run(netprof, "report", *paths)
            t2 = run(netprof, "report", *paths)
            check(f"{case}_text_stable", t1.returncode == 0 and t1.stdout == t2.stdout, t1.stderr)
            check(f"{case}_text_has_verdict", "verdict: " + docs[case].get("verdict", "?") in t1.stdout)

        plain = docs.get("plain", {})
        check("plain_verdict_names_the_shaped_hop",
              "network between nginx and npserver" in plain.get("verdict", ""), plain.get("verdict"))
        up = docs.get("shifted", {}).get("recordings", [{}] * 3)[2].get("clock") or {}
        check("shift_recovered_within_100us", abs(up.get("offset_ns", 0) - SHIFT) <= 100_000, up)
        nat = docs.get("nat", {})
        check("nat_connections_listed", nat.get("unjoined_connections") == 2 and nat.get("nat_note"),
              nat.get("unjoined"))

        if plain:
            spoiled = copy.deepcopy(plain)
            del spoiled["verdict"]
            check("schema_rejects_missing_verdict", not valid(spoiled)[0])
            spoiled = copy.deepcopy(plain)
            spoiled["hops"][0]["network_share"] = 1.5
            check("schema_rejects_share_over_one", not valid(spoiled)[0])
            spoiled = copy.deepcopy(plain)
            spoiled["breakdown"][0]["layer"] = "cpu"
            check("schema_rejects_unknown_layer", not valid(spoiled)[0])

        d = os.path.join(tmp, "plain")
        paths = [os.path.join(d, n) for n in ("client.nprof", "proxy.nprof")]
        r = run(netprof, "report", *paths, "--format", "html")
        check("html_of_joined_is_usage_error", r.returncode == 2 and r.stderr.count("\n") == 1,
              r.stderr)
        r = run(netprof, "report", paths[0], os.path.join(tmp, "missing.nprof"))
        check("missing_recording_is_one_line", r.returncode == 1 and r.stderr.count("\n") == 1,
              r.stderr)

    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {name}")
        if not ok and detail:
            print("  # " + str(detail).replace("\n", "\n  # "))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
