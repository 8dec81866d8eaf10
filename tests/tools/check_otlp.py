#!/usr/bin/env python3
"""--format otlp against the OTLP/JSON shape and the JSON report.

For every golden recording: the document validates against
tests/fixtures/otlp-trace.schema.json (python3-jsonschema), and a copy
spoiled on purpose (a base64 span id, a numeric time) does not; its SERVER
and CLIENT spans are the exchanges the recording holds individually (the
JSON report's exchanges.events), and the resource says how many more the
recording counted only in aggregate (count + outbound_count - events); span
ids are unique; every parent is a span of the same trace, and each child
lies inside its parent; the slowest served exchange of the JSON report is a
SERVER span of the same duration, path and status; the resource names the
host and the process.

usage: check_otlp.py NETPROF SCHEMA      TAP on stdout, exit 1 on a failure
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "recordings")
INTERNAL, SERVER, CLIENT = 1, 2, 3


def report(netprof, rec, fmt, out):
    subprocess.run([netprof, "report", rec, "--format", fmt, "-o", out], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def attrs(obj):
    out = {}
    for kv in obj.get("attributes", []):
        v = kv["value"]
        out[kv["key"]] = int(v["intValue"]) if "intValue" in v else next(iter(v.values()))
    return out


def check_one(validator, netprof, stem, tmp, check):
    rec = os.path.join(FIXTURES, stem + ".nprof")
    ot, js = os.path.join(tmp, stem + ".otlp.json"), os.path.join(tmp, stem + ".json")
    report(netprof, rec, "otlp", ot)
    report(netprof, rec, "json", js)
    text = open(ot, encoding="utf-8").read()
    check(f"{stem}_is_one_line", text.count("\n") == 1 and text.endswith("\n"))
    doc = json.loads(text)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    check(f"{stem}_validates", not errors, errors[0].message if errors else "")
    spans = [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    if spans:
        bad = copy.deepcopy(doc)
        bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "AAECAwQFBgc="
        check(f"{stem}_schema_rejects_base64_ids", not validator.is_valid(bad))
        bad = copy.deepcopy(doc)
        bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = 1
        check(f"{stem}_schema_rejects_numeric_times", not validator.is_valid(bad))

    j = json.load(open(js, encoding="utf-8"))
    x = j["exchanges"]
    served = [s for s in spans if s["kind"] == SERVER]
    client = [s for s in spans if s["kind"] == CLIENT]
    res = attrs(doc["resourceSpans"][0]["resource"])
    if x is None:
        check(f"{stem}_no_exchanges_no_spans", not spans)
    else:
        check(f"{stem}_exchange_spans_equal_recorded_exchanges",
              len(served) + len(client) == x["events"],
              f"{len(served)} server + {len(client)} client spans, {x['events']} events")
        check(f"{stem}_server_and_client_spans_within_counts",
              len(served) <= x["count"] and len(client) <= x["outbound_count"])
        check(f"{stem}_aggregated_only_count",
              res.get("netprof.exchanges.aggregated_only") ==
              x["count"] + x["outbound_count"] - x["events"],
              str(res.get("netprof.exchanges.aggregated_only")))
    ids = [s["spanId"] for s in spans]
    check(f"{stem}_span_ids_unique", len(ids) == len(set(ids)))
    by_id = {s["spanId"]: s for s in spans}
    orphans, outside = [], []
    for s in spans:
        if int(s["endTimeUnixNano"]) < int(s["startTimeUnixNano"]):
            outside.append(s)
        p = by_id.get(s.get("parentSpanId"))
        if "parentSpanId" not in s:
            continue
        if not p or p["traceId"] != s["traceId"]:
            orphans.append(s)
        elif s["kind"] == INTERNAL and not (
                int(p["startTimeUnixNano"]) <= int(s["startTimeUnixNano"]) and
                int(s["endTimeUnixNano"]) <= int(p["endTimeUnixNano"])):
            outside.append(s)
    check(f"{stem}_every_parent_in_the_same_trace", not orphans, repr(orphans[:1]))
    check(f"{stem}_children_inside_parents", not outside, repr(outside[:1]))
    check(f"{stem}_internal_spans_have_exchange_parents",
          all(by_id[s["parentSpanId"]]["kind"] == SERVER for s in spans if s["kind"] == INTERNAL))
    if x and x["slowest"]:
        top = x["slowest"][0]
        match = [s for s in served
                 if int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"]) == top["total_ns"]
                 and attrs(s).get("url.path") == top["path"]
                 and attrs(s).get("http.response.status_code") == top["status"]]
        check(f"{stem}_slowest_exchange_is_a_span", match, json.dumps(top)[:200])
    check(f"{stem}_resource_host_and_process",
          res.get("host.name") == j["host"]["hostname"] and
          res.get("process.pid") == j["target"]["pid"] and
          res.get("process.command_line") == j["target"]["cmdline"] and
          res.get("netprof.netns") == j["target"]["netns"], repr(res))
    start = j["window"]["start_realtime_ns"]
    check(f"{stem}_times_are_wall_clock",
          all(abs(int(s["startTimeUnixNano"]) - start) < 3600 * 10**9 for s in spans))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    netprof = os.path.abspath(argv[1])
    import jsonschema
    schema = json.load(open(argv[2], encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    results = []

    def check(name, ok, why=""):
        results.append((name, bool(ok), why))

    try:
        cls.check_schema(schema)
        check("schema_is_valid", True)
    except jsonschema.SchemaError as e:
        check("schema_is_valid", False, e.message)
    validator = cls(schema)
    stems = sorted(f[:-len(".nprof")] for f in os.listdir(FIXTURES) if f.endswith(".nprof"))
    with tempfile.TemporaryDirectory() as tmp:
        for stem in stems:
            check_one(validator, netprof, stem, tmp, check)
    print(f"1..{len(results)}")
    for i, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {name}" + ("" if ok or not why else f": {why}"))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
