#!/usr/bin/env python3
"""netprof diff on the golden recordings (tests/fixtures/recordings), as TAP:

  - every diff's JSON validates against docs/diff.schema.json, and the
    schema rejects spoiled copies (no `changes`, a significant change
    without a test);
  - healthy vs stack_qdisc: stack.qdisc appeared and significant, and its
    key metric (request tx time, rank test) significant;
  - healthy vs healthy (one file twice): no significant change, no change;
  - app_cpu vs healthy: app.cpu gone;
  - text output: the headline and the method are printed, and the same
    input gives byte-identical output;
  - refusals: a recording of a newer format version is refused with one
    line (exit 1); one recording only is a usage error (exit 2);
  - HTML (healthy vs app_cpu, healthy vs stack_qdisc): the page parses with
    balanced tags, uses only static elements (no script, no event handler,
    nothing fetched), has a row per significant change of the JSON and the
    configuration changes, latency distributions, and for app_cpu an
    on-CPU flame graph with frames both grown (red: burn_cpu) and shrunk
    (blue).
No root needed.

usage: diff_golden.py NETPROF [SCHEMA]
"""
import copy
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")
REC = os.path.join(TOP, "tests", "fixtures", "recordings")


# The diff page is static markup and SVG: anything else is a bug or an
# injection.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "div",
             "nav", "a", "span", "table", "thead", "tbody", "tr", "th", "td", "details",
             "summary", "figure", "figcaption", "svg", "g", "rect", "text", "line", "path"}
VOID_TAGS = {"meta"}
SVG_SELF_CLOSING = {"rect", "line", "path"}


class Page(html.parser.HTMLParser):
    """Tag balance, elements and attributes, and the text of each table."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs = [], [], set(), set()
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.rects = []  # (fill, data-grew, title) of the on-CPU flame graph
        self.svg_id, self.title = None, None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(k for k, _ in attrs)
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("class", "")
            self.tables.setdefault(self.table, [])
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "svg":
            self.svg_id = a.get("id")
        elif tag == "title" and self.svg_id:
            self.title = ""
        elif tag == "rect" and self.svg_id == "oncpu-svg":
            self.rects.append((a.get("fill"), a.get("data-grew"), self.last_title))
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in SVG_SELF_CLOSING:
            self.errors.append(f"self-closing <{tag}/>")
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "svg":
            self.svg_id = None
        elif tag == "title" and self.title is not None:
            self.last_title, self.title = self.title, None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.title is not None:
            self.title += data

    last_title = None


def main(argv):
    netprof = argv[1]
    schema_path = argv[2] if len(argv) > 2 else os.path.join(TOP, "docs", "diff.schema.json")
    results = []

    def check(name, ok, why=""):
        results.append((name, bool(ok), why))

    def run(*args):
        return subprocess.run([netprof, "diff", *args], capture_output=True, text=True, timeout=60)

    def diff_json(a, b):
        r = run(os.path.join(REC, a + ".nprof"), os.path.join(REC, b + ".nprof"), "-f", "json")
        check(f"diff_{a}_{b}_exits_0", r.returncode == 0, r.stderr)
        return json.loads(r.stdout) if r.returncode == 0 else None

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
        errs = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        return (not errs), "; ".join(f"{list(e.path)}: {e.message}" for e in errs[:3])

    pairs = {}
    for a, b in (("healthy", "stack_qdisc"), ("healthy", "healthy"), ("app_cpu", "healthy"),
                 ("healthy", "peer_slow"), ("stack_qdisc", "healthy")):
        d = diff_json(a, b)
        pairs[(a, b)] = d
        if d is not None:
            ok, why = valid(d)
            check(f"diff_{a}_{b}_validates", ok, why)

    def change(d, section, metric, where=None):
        for c in d["changes"]:
            if c["section"] == section and c["metric"] == metric and (where is None or c["where"] == where):
                return c
        return None

    d = pairs[("healthy", "stack_qdisc")]
    if d:
        f = change(d, "finding", "finding", "stack.qdisc")
        check("qdisc_appeared_significant", f and f["change"] == "appeared" and f["significant"], f)
        tx = change(d, "exchange", "request_tx_p50_ns", "")
        check("qdisc_key_metric_tx_significant",
              tx and tx["significant"] and tx["method"] == "mann-whitney" and tx["after"] > tx["before"], tx)
        check("qdisc_headline_names_it", "stack.qdisc appeared" in d["headline"], d["headline"])
        check("qdisc_verdicts", d["verdict_before"] is None and d["verdict_after"]["cause"] == "stack.qdisc")
        # the schema is not vacuous
        spoiled = copy.deepcopy(d)
        del spoiled["changes"]
        check("schema_rejects_missing_changes", not valid(spoiled)[0])
        spoiled = copy.deepcopy(d)
        for c in spoiled["changes"]:
            if c["method"] == "mann-whitney" and c["significant"]:
                c["test"]["large_enough"] = False
                break
        check("schema_rejects_significant_but_too_small", not valid(spoiled)[0])
        spoiled = copy.deepcopy(d)
        spoiled["changes"][0]["section"] = "astrology"
        check("schema_rejects_unknown_section", not valid(spoiled)[0])
    d = pairs[("stack_qdisc", "healthy")]
    if d:
        f = change(d, "finding", "finding", "stack.qdisc")
        check("qdisc_gone_in_reverse", f and f["change"] == "gone" and f["significant"], f)
    d = pairs[("healthy", "healthy")]
    if d:
        check("same_file_no_significant_change", d["significant"] == 0 and
              not any(c["significant"] for c in d["changes"]), d["headline"])
        check("same_file_no_change_at_all", d["changes"] == [], d["changes"][:2])
        check("same_file_headline", d["headline"] == "no significant change", d["headline"])
    d = pairs[("app_cpu", "healthy")]
    if d:
        f = change(d, "finding", "finding", "app.cpu")
        check("app_cpu_gone", f and f["change"] == "gone" and f["significant"], f)
        check("app_cpu_headline_names_it", "app.cpu gone" in d["headline"], d["headline"])
    d = pairs[("healthy", "peer_slow")]
    if d:
        f = change(d, "finding", "finding", "peer.slow")
        check("peer_slow_appeared", f and f["change"] == "appeared" and f["significant"], f)
        p = change(d, "exchange", "request_peer_p50_ns", "")
        check("peer_slow_key_metric_peer_significant", p and p["significant"], p)

    a, b = os.path.join(REC, "healthy.nprof"), os.path.join(REC, "stack_qdisc.nprof")
    t1, t2 = run(a, b), run(a, b)
    check("text_exits_0", t1.returncode == 0, t1.stderr)
    check("text_is_deterministic", t1.stdout == t2.stdout)
    check("text_has_headline_and_method",
          "what changed and what it did:" in t1.stdout and "\nmethod: " in t1.stdout
          and "stack.qdisc appeared" in t1.stdout)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "d.json")
        r = run(a, b, "-f", "json", "-o", out)
        check("output_file_written", r.returncode == 0 and json.load(open(out))["kind"] == "diff",
              r.stderr)
        newer = os.path.join(tmp, "newer.nprof")
        shutil.copy(b, newer)
        with open(newer, "r+b") as f:
            f.seek(8)
            (v,) = struct.unpack("<I", f.read(4))
            f.seek(8)
            f.write(struct.pack("<I", v + 1))
        r = run(a, newer)
        check("newer_format_version_refused_in_one_line",
              r.returncode == 1 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
              and "version" in r.stderr, f"exit {r.returncode}: {r.stderr}")
    for before, after in (("healthy", "app_cpu"), ("healthy", "stack_qdisc")):
        name = f"html_{before}_{after}"
        pa, pb = os.path.join(REC, before + ".nprof"), os.path.join(REC, after + ".nprof")
        r = run(pa, pb, "-f", "html")
        d = json.loads(run(pa, pb, "-f", "json").stdout)
        check(f"{name}_exits_0", r.returncode == 0 and r.stdout.startswith("<!DOCTYPE html>"),
              r.stderr)
        page = Page()
        page.feed(r.stdout)
        page.close()
        check(f"{name}_tags_balanced", not page.errors and page.stack == [],
              "; ".join(page.errors[:5]) + f" open: {page.stack}")
        check(f"{name}_only_static_elements", page.tags <= PAGE_TAGS, page.tags - PAGE_TAGS)
        check(f"{name}_no_handlers_or_fetches",
              not any(k.startswith("on") or k in ("src", "srcset", "xlink:href")
                      for k in page.attrs), page.attrs)
        check(f"{name}_csp_forbids_scripts",
              "content=\"default-src 'none'; style-src" in r.stdout
              and "script-src" not in r.stdout, "")
        sig = page.tables.get("significant", [])[1:]
        want = [c for c in d["changes"] if c["significant"]]
        check(f"{name}_significant_table", len(sig) == len(want) == d["significant"] and
              all(row[0] == c["section"] and (c["where"] in row[1] if c["section"] == "finding"
                                              else row[1].startswith(c["metric"]))
                  and row[4] == c["method"] for row, c in zip(sig, want)),
              f"{len(sig)} rows, {len(want)} significant: {sig[:3]}")
        cfg = [c for c in d["changes"] if c["section"] == "config"]
        rows = page.tables.get("config", [])[1:]
        check(f"{name}_config_table", len(rows) == len(cfg) and
              all(row[0].startswith(c["metric"]) for row, c in zip(rows, cfg)),
              f"{rows} vs {[c['metric'] for c in cfg]}")
        check(f"{name}_headline", d["headline"] in html.unescape(r.stdout), d["headline"])
        check(f"{name}_latency_distributions", r.stdout.count('<svg class="dist"') >= 3)
        if after == "app_cpu":
            grew = [t for fill, g, t in page.rects if g == "yes"]
            shrank = [t for fill, g, t in page.rects if g == "no"]
            burn = [(fill, g) for fill, g, t in page.rects if t and t.startswith("burn_cpu\n")]
            check(f"{name}_flame_red_and_blue", grew and shrank, f"{len(grew)} grew, {len(shrank)} shrank")
            check(f"{name}_burn_cpu_grew_red", burn and all(g == "yes" for _, g in burn) and
                  all(int(fill[1:3], 16) > 2 * int(fill[5:7], 16) for fill, _ in burn), burn)
        else:
            # stack_qdisc's recording has no on-CPU stacks: no difference to colour
            check(f"{name}_one_sided_flame_said",
                  "Only the before recording has these stacks" in r.stdout
                  and not any(g for _, g, _ in page.rects), page.rects[:2])

    r = run(a)
    check("one_recording_is_a_usage_error", r.returncode == 2 and "--help" in r.stderr, r.stderr)
    r = run(a, b, "-f", "perfetto")
    check("unknown_diff_format_is_a_usage_error", r.returncode == 2, r.stderr)

    print(f"1..{len(results)}")
    failed = 0
    for n, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {n} {name}")
        if not ok:
            failed += 1
            for line in str(why).splitlines()[:5]:
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
