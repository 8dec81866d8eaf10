"""tests/run.sh itself: its closing line and its exit status agree in every
failure mode we can provoke (a build that fails, a warning on a rebuilt
tree, a step whose script is gone, a stale log, a skip in CI)."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import TOP

SUMMARIZE = os.path.join(TOP, "tests", "tools", "summarize.py")


def summarize(d, ci=True, allowed=None):
    env = dict(os.environ, CI="true" if ci else "false")
    r = subprocess.run([sys.executable, SUMMARIZE, str(d)], capture_output=True, text=True, env=env)
    last = r.stdout.strip().splitlines()[-1]
    return r.returncode, last, r.stdout


def write(d, name, text):
    (d / name).write_text(text)


def test_summary_all_passing(tmp_path):
    write(tmp_path, "steps", "build ok\n")
    write(tmp_path, "expect", "unit\n")
    write(tmp_path, "unit.json", '{"name": "x", "result": "OK", "stdout": "ok 1 a\\nok 2 b\\n"}\n')
    assert summarize(tmp_path)[:2] == (0, "2 passed, 0 failed")


def test_summary_counts_a_failed_build(tmp_path):
    write(tmp_path, "steps", "build failed\n")
    rc, last, _ = summarize(tmp_path)
    assert (rc, last) == (1, "0 passed, 1 failed")


def test_summary_counts_a_step_that_left_no_results(tmp_path):
    write(tmp_path, "expect", "unit\nfuzz\nintegration\n")
    write(tmp_path, "fuzz.txt", "ok\n")
    rc, last, out = summarize(tmp_path)
    assert (rc, last) == (1, "1 passed, 2 failed")
    assert "step left no result: unit" in out and "step left no result: integration" in out


def test_summary_counts_a_crashed_test_binary(tmp_path):
    write(tmp_path, "unit.json", '{"name": "x", "result": "ERROR", "stdout": "ok 1 a\\n"}\n')
    assert summarize(tmp_path)[:2] == (1, "1 passed, 1 failed")


def junit(cases):
    body = "".join(f'<testcase classname="tests.integration.test_x" name="{n}">{inner}</testcase>'
                   for n, inner in cases)
    return f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'


def test_summary_a_skip_in_ci_is_a_failure_unless_allowed(tmp_path):
    write(tmp_path, "integration.xml", junit([("test_a", ""), ("test_b", '<skipped message="no"/>')]))
    assert summarize(tmp_path, ci=True)[:2] == (1, "1 passed, 1 failed")
    assert summarize(tmp_path, ci=False)[:2] == (0, "1 passed, 0 failed, 1 skipped")


def test_allowed_skips_all_have_reasons():
    for line in open(os.path.join(TOP, "tests", "allowed_skips.txt")):
        if line.strip() and not line.startswith("#"):
            test, _, reason = line.rstrip("\n").partition("\t")
            assert "::" in test and len(reason.strip()) > 20, line


def tree_copy(tmp_path):
    """A copy of the tracked tree, without build directories."""
    dst = tmp_path / "tree"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=TOP, capture_output=True,
                           check=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(TOP, f.decode())
        if not os.path.isfile(src):
            continue
        out = dst / f.decode()
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out)
    return dst


def run_sh(tree, steps):
    r = subprocess.run(["bash", "tests/run.sh", "--steps", steps], cwd=tree, capture_output=True,
                       text=True, timeout=900, env=dict(os.environ, CI="true"))
    last = r.stdout.strip().splitlines()[-1]
    return r.returncode, last, r.stdout + r.stderr


def test_run_sh_a_missing_fuzz_script_is_a_failure(tmp_path):
    tree = tree_copy(tmp_path)
    os.unlink(tree / "tests" / "fuzz" / "run.sh")
    rc, last, out = run_sh(tree, "fuzz")
    assert (rc, last) == (1, "0 passed, 1 failed"), out


def test_run_sh_warnings_are_errors_on_a_rebuild_and_the_build_counts(tmp_path):
    tree = tree_copy(tmp_path)
    # an old build directory configured without -Werror, as a developer has
    subprocess.run(["meson", "setup", "build-ci", "-Dtests=false"], cwd=tree, check=True,
                   capture_output=True)
    src = tree / "profiler" / "base" / "array.c"
    src.write_text(src.read_text() + "\nint np_runner_test_warning(void)\n{\n\tint unused;\n\treturn 0;\n}\n")
    rc, last, out = run_sh(tree, "build,unit")
    # the build fails (-Werror applied to the old directory), and the unit
    # step it blocks left no results: two failures, exit status 1
    assert (rc, last) == (1, "0 passed, 2 failed"), out
    assert "step failed: build" in out and "step left no result: unit" in out
