#!/usr/bin/env python3
"""--format pprof, read back by an independent decoder: python3-protobuf with
a module protoc generates from the same profile.proto, here and now.

For every golden recording: the file is gzip; the profile is well formed
(three sample types, three values per sample, every id it refers to exists,
string 0 is ""); its on-CPU samples rebuilt into collapsed stacks are
exactly `--format folded` of the same recording (every stack, every count;
a frame is a kernel frame when its address is a kernel address, an inlined
one when it is not the last line of its location); cpu ns = samples x
period; its off-CPU ns are the JSON report's off-CPU time; the pid label is
the target's; the files samples ran in carry their build ids.

usage: check_pprof.py NETPROF PROFILE.PROTO      TAP on stdout, exit 1 on a failure
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "recordings")
KERNEL_START = 1 << 63  # x86-64 and arm64 kernel addresses have the top bit set


def load_pb2(proto, tmp):
    subprocess.run(["protoc", "--proto_path=" + os.path.dirname(proto), "--python_out=" + tmp,
                    os.path.basename(proto)], check=True)
    sys.path.insert(0, tmp)
    import profile_pb2  # noqa: E402  (generated just now)
    return profile_pb2


def report(netprof, rec, fmt, out):
    subprocess.run([netprof, "report", rec, "--format", fmt, "-o", out], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def folded_from_profile(p):
    """Collapsed on-CPU stacks rebuilt from the profile, as netprof folds them."""
    s = p.string_table
    locs = {l.id: l for l in p.location}
    fns = {f.id: f for f in p.function}
    out = Counter()
    for smp in p.sample:
        if smp.value[0] == 0:
            continue
        frames = []
        for lid in reversed(smp.location_id):  # root first
            loc = locs[lid]
            kernel = loc.address >= KERNEL_START
            lines = list(loc.line)
            for k in range(len(lines) - 1, -1, -1):  # outermost (the caller) first
                name = s[fns[lines[k].function_id].name].replace(";", ":")
                if kernel:
                    name += "_[k]"
                elif k < len(lines) - 1:  # inlined into the line after it
                    name += "_[i]"
                frames.append(name)
        out[";".join(frames) if frames else "[no stack]"] += smp.value[0]
    return out


def parse_folded(text):
    out = Counter()
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        out[stack] += int(n)
    return out


def check_one(pb2, netprof, stem, tmp, check):
    rec = os.path.join(FIXTURES, stem + ".nprof")
    pp, fo, js = (os.path.join(tmp, stem + e) for e in (".pb.gz", ".folded", ".json"))
    report(netprof, rec, "pprof", pp)
    report(netprof, rec, "folded", fo)
    report(netprof, rec, "json", js)
    raw = open(pp, "rb").read()
    check(f"{stem}_is_gzip", raw[:2] == b"\x1f\x8b")
    p = pb2.Profile()
    p.ParseFromString(gzip.decompress(raw))
    s = p.string_table
    check(f"{stem}_string_0_is_empty", len(s) > 0 and s[0] == "")
    types = [(s[t.type], s[t.unit]) for t in p.sample_type]
    check(f"{stem}_sample_types",
          types == [("samples", "count"), ("cpu", "nanoseconds"), ("off_cpu", "nanoseconds")],
          str(types))
    check(f"{stem}_default_sample_type_is_cpu", s[p.default_sample_type] == "cpu")
    locs = {l.id for l in p.location}
    fns = {f.id for f in p.function}
    maps = {m.id for m in p.mapping}
    bad = [smp for smp in p.sample
           if len(smp.value) != 3 or not smp.location_id or any(i not in locs for i in smp.location_id)]
    bad += [l for l in p.location
            if (l.mapping_id and l.mapping_id not in maps) or not l.line
            or any(ln.function_id not in fns for ln in l.line)]
    bad += [lb for smp in p.sample for lb in smp.label
            if not 0 < lb.key < len(s) or not 0 <= lb.str < len(s)]
    check(f"{stem}_every_id_resolves", not bad, repr(bad[:1]))

    folded = parse_folded(open(fo).read())
    got = folded_from_profile(p)
    check(f"{stem}_sample_sum_equals_folded",
          sum(smp.value[0] for smp in p.sample) == sum(folded.values()),
          f"pprof {sum(smp.value[0] for smp in p.sample)} folded {sum(folded.values())}")
    missing = [k for k in folded if k not in got]
    check(f"{stem}_every_folded_stack_present", not missing, repr(missing[:2]))
    check(f"{stem}_stacks_and_counts_equal_folded", got == folded,
          repr(sorted(set(got.items()) ^ set(folded.items()))[:2]))
    check(f"{stem}_cpu_ns_is_samples_times_period",
          all(smp.value[1] == smp.value[0] * p.period for smp in p.sample) and
          (p.period > 0 or not got))

    j = json.load(open(js))
    cp = j.get("cpu_profile") or {}
    want_off = sum((w.get("total_ns") or 0) for w in cp.get("off_cpu_waits") or [])
    got_off = sum(smp.value[2] for smp in p.sample)
    check(f"{stem}_off_cpu_ns_equals_json", got_off == want_off, f"pprof {got_off} json {want_off}")
    pids = {lb.num for smp in p.sample for lb in smp.label if s[lb.key] == "pid"}
    check(f"{stem}_pid_label_is_target", pids <= {j["target"]["pid"]} and (pids or not p.sample),
          str(pids))
    tids = {lb.num for smp in p.sample for lb in smp.label if s[lb.key] == "tid"}
    check(f"{stem}_every_on_cpu_sample_has_a_thread",
          all(any(s[lb.key] == "tid" for lb in smp.label) for smp in p.sample if smp.value[0]),
          str(len(tids)))
    xl = {s[lb.str] for smp in p.sample for lb in smp.label if s[lb.key] == "exchange"}
    check(f"{stem}_exchange_labels_are_request_lines",
          all(len(x.split(" ", 1)) == 2 and x.split(" ", 1)[1].startswith("/") for x in xl),
          repr(sorted(xl)[:3]))
    # files the samples ran in carry their build ids (modules no sample
    # touched were never opened, so a recording has none for them)
    used = {l.mapping_id for l in p.location if l.mapping_id}
    files = [m for m in p.mapping if m.id in used and s[m.filename].startswith("/")]
    check(f"{stem}_sampled_files_have_build_ids",
          all(len(s[m.build_id]) >= 16 for m in files), [s[m.filename] for m in files])
    check(f"{stem}_time_is_the_window",
          p.time_nanos == j["window"]["start_realtime_ns"] and
          p.duration_nanos == j["window"]["duration_ns"])


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    netprof, proto = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    results = []

    def check(name, ok, why=""):
        results.append((name, bool(ok), why))

    stems = sorted(f[:-len(".nprof")] for f in os.listdir(FIXTURES) if f.endswith(".nprof"))
    with tempfile.TemporaryDirectory() as tmp:
        pb2 = load_pb2(proto, tmp)
        for stem in stems:
            check_one(pb2, netprof, stem, tmp, check)
    print(f"1..{len(results)}")
    for i, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {name}" + ("" if ok or not why else f": {why}"))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
