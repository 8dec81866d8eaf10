#!/usr/bin/env python3
"""netprof's --help: the same text for every command, ending with EXAMPLES
that still parse, and the same options as the README's option table.

Each example runs with pid 1234 replaced by one that cannot exist and any
shell redirection dropped, in an empty directory: it must fail at run time
(exit 1, "no process" or a missing recording), never as a usage error (2).
A recording option given to report or diff is a usage error that names the
option.
No root needed.

usage: check_help.py NETPROF README.md      TAP on stdout, exit 1 on a failure
"""
import os
import re
import subprocess
import sys
import tempfile

NO_PID = "4194000"  # a pid no process has (netprof takes up to 4194304)
OPTION = re.compile(r"(?:-\w, )?--[a-z][a-z-]*")


def help_options(text):
    """Options described in --help: lines that start with an option."""
    opts = set()
    for line in text.splitlines():
        m = re.match(r"\s+((?:-\w, )?--[a-z][a-z-]*)", line)
        if m:
            opts.add(m.group(1))
    return opts


def readme_options(text):
    """Options in the README's Usage table: rows that start with one, in the
    section "## Usage" only (other tables document the example programs)."""
    m = re.search(r"^## Usage\n(.*?)(?=^## )", text, re.M | re.S)
    return set(re.findall(r"^\| `((?:-\w, )?--[a-z][a-z-]*)", m.group(1) if m else "", re.M))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    netprof, readme = os.path.abspath(argv[1]), argv[2]
    results = []

    def check(name, ok, why=""):
        results.append((name, ok, why))

    texts = {}
    for cmd in ([], ["record"], ["report"], ["diff"]):
        r = subprocess.run([netprof, *cmd, "--help"], capture_output=True, text=True, timeout=30)
        texts[" ".join(cmd) or "netprof"] = r.stdout
        check(f"help_of_{'_'.join(cmd) or 'netprof'}_exits_0", r.returncode == 0 and not r.stderr,
              r.stderr)
    main_text = texts["netprof"]
    check("every_command_prints_the_same_help", len(set(texts.values())) == 1)

    tail = main_text.rstrip("\n").split("\n\n")[-1].splitlines()
    check("help_ends_with_examples", tail and tail[0] == "EXAMPLES:", "\n".join(tail[:2]))
    examples = [l.strip() for l in tail[1:] if l.startswith("    netprof")]
    explained = [l for l in tail[1:] if l.startswith("        ")]
    check("examples_are_several_and_each_explained",
          len(examples) >= 3 and len(explained) == len(examples),
          f"{len(examples)} examples, {len(explained)} explanations")

    with tempfile.TemporaryDirectory() as tmp:
        for i, ex in enumerate(examples):
            words = ex.split()
            if ">" in words:
                words = words[:words.index(">")]
            words = [NO_PID if w == "1234" else w for w in words[1:]]
            r = subprocess.run([netprof, *words], capture_output=True, text=True, cwd=tmp,
                               timeout=30)
            check(f"example_{i + 1}_parses", r.returncode == 1 and "--help" not in r.stderr,
                  f"{ex}: exit {r.returncode}: {r.stderr.strip()}")

    # A recording option given to report or diff: the message names the
    # option, however its value was written, never the value.
    for cmd, words, name in (
            (["report", "x.nprof"], ["--threshold", "1ms"], "--threshold"),
            (["report", "x.nprof"], ["--threshold=1ms"], "--threshold"),
            (["report", "x.nprof"], ["-d", "5"], "-d"),
            (["report", "x.nprof"], ["--no-cpu"], "--no-cpu"),
            (["diff", "a.nprof", "b.nprof"], ["--sample", "3"], "--sample")):
        r = subprocess.run([netprof, *cmd, *words], capture_output=True, text=True, timeout=30)
        want = f"{name} is an option of record, not of {cmd[0]}"
        check(f"{cmd[0]}_{'_'.join(words)}_names_the_option".replace("-", ""),
              r.returncode == 2 and want in r.stderr,
              f"exit {r.returncode}: {r.stderr.strip()} (wanted: {want})")

    in_help = help_options(main_text)
    in_readme = readme_options(open(readme, encoding="utf-8").read())
    check("readme_table_lists_every_option_of_help", in_help <= in_readme,
          f"missing from README: {sorted(in_help - in_readme)}")
    check("help_lists_every_option_of_the_readme_table", in_readme <= in_help,
          f"missing from --help: {sorted(in_readme - in_help)}")

    print(f"1..{len(results)}")
    failed = 0
    for n, (name, ok, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {n} {name}")
        if not ok:
            failed += 1
            for line in str(why).splitlines():
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
