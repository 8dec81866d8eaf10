#!/usr/bin/env python3
"""The layer check: every #include between folders must point down.

    bpf                     BPF programs and the ABI headers they share
    profiler/base           small infrastructure (files, arrays, hashing, kallsyms)
    profiler/format         the recording: writer, reader, records, id->name tables
    profiler/collect        the collector interface, options, target, BPF loading
    profiler/proto          application protocols parsed from captured bytes (pure)
    profiler/sources|cpu|net  one collector per source (online, root)
    profiler/session        lifecycle, event loop, governor
    profiler/cli            the command line: the one place that sees both sides
    report/model            report tables built from a recording
    report/attribution      signals, rules, findings, breakdown
    report/diff             two reports compared: changes and their significance
    report/join             recordings of one moment on several hosts joined by 4-tuple
    report/render           text, JSON, HTML, Perfetto, folded (and the diff)
    report                  report/report.h, the report's public header

A folder may include its own headers and those of the folders in ALLOWED.
The report reaches the recorder only through profiler/format and
profiler/base.  The check also fails on a bare include of a project header
(it must name its folder) and on any cycle between folders.

usage: check_layers.py [REPO]       exit 0 clean, 1 with one line per breach
"""
import os
import re
import sys

RECORDER_BASE = {"bpf", "profiler/base", "profiler/format"}
COLLECT = RECORDER_BASE | {"profiler/collect"}
ALLOWED = {
    "bpf": set(),
    "profiler/base": set(),
    "profiler/format": {"bpf", "profiler/base"},
    "profiler/collect": RECORDER_BASE,
    "profiler/proto": RECORDER_BASE,
    "profiler/sources": COLLECT | {"profiler/proto"},
    "profiler/cpu": COLLECT,
    "profiler/net": COLLECT,
    "profiler/session": COLLECT | {"profiler/sources", "profiler/cpu", "profiler/net"},
    "profiler/cli": COLLECT | {"profiler/session", "report"},
    "report/model": RECORDER_BASE,
    "report/attribution": RECORDER_BASE | {"report/model"},
    "report/diff": RECORDER_BASE | {"report/model", "report/attribution"},
    "report/join": RECORDER_BASE | {"report/model", "report/attribution"},
    "report/render": RECORDER_BASE | {"report/model", "report/attribution", "report/diff",
                                      "report/join"},
    "report": RECORDER_BASE | {"report/model", "report/attribution", "report/diff", "report/join",
                               "report/render"},
}
# Headers generated into the build directory at these paths: vmlinux.h and
# the skeletons (bpftool) beside the BPF programs, and two tables.
GENERATED = {"bpf/vmlinux.h", "profiler/cpu/sysnames.h", "report/render/html_assets.h",
             "report/render/profile.pb-c.h"} | {
    f"bpf/{n}.skel.h" for n in ("syscalls", "sched", "netstack", "netfds")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    return os.path.dirname(path)


def main(argv):
    repo = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    sources = []
    for top in ("bpf", "profiler", "report"):
        for dirpath, _, names in os.walk(os.path.join(repo, top)):
            for name in names:
                if name.endswith((".c", ".h")):
                    sources.append(os.path.relpath(os.path.join(dirpath, name), repo))
    known = set(sources) | GENERATED
    breaches = []
    edges = {}
    for src in sorted(sources):
        here = folder_of(src)
        if here not in ALLOWED:
            breaches.append(f"{src}: folder {here} has no place in the layers (add it to ALLOWED)")
            continue
        text = open(os.path.join(repo, src), encoding="utf-8", errors="replace").read()
        for name in INCLUDE.findall(text):
            if here == "bpf" and "/" not in name:
                target = "bpf/" + name  # BPF programs build with -I bpf
            elif name.endswith(".skel.h") and name.startswith("bpf/"):
                target = name
            else:
                target = name
            if target not in known:
                breaches.append(f'{src}: #include "{name}" names no project header '
                                f"(project includes name their folder from the repository root)")
                continue
            there = folder_of(target)
            if there == here:
                continue
            edges.setdefault(here, set()).add(there)
            if there not in ALLOWED[here]:
                breaches.append(f'{src}: #include "{name}": {here} may not include {there}')
    # Cycles between folders (a breach above usually makes one; say so too).
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                breaches.append("cycle between folders: " + " -> ".join(cyc))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    for b in breaches:
        print(b)
    n_edges = sum(len(v) for v in edges.values())
    print(f"check_layers: {len(sources)} files, {n_edges} folder edges, {len(breaches)} breaches")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
