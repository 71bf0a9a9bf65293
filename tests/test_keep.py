"""--keep-failed: kept trees, rerun.sh that judges the case again, and no stale trees."""

import os
import subprocess
import sys
from pathlib import Path

from conformance.case import Case
from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.keep import MARKER, KeepReporter, kept_trees
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.registry import resolve
from conformance.results import Results
from tests.test_cli import BROKEN, GOOD
from tests.test_exec import cases

REPO = Path(__file__).resolve().parent.parent
#: A Python loader found only from the directory the suite runs in: the reference loader.
HERE_ONLY = """\
from conformance.reference import ReferenceLoader


def make():
    return ReferenceLoader(name="here-only")
"""


def runner(cwd, *args):
    return subprocess.run([sys.executable, str(REPO / "runner.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_rerun_sh_runs_from_the_run_directory_and_judges_the_case(tmp_path):
    """rerun.sh works from anywhere (it changes to where the suite ran, where the loader's
    module is), exits 1 while the case fails and 0 once it passes."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "here_only_loader.py").write_text(HERE_ONLY)
    root = cases(tmp_path / "cases", **{"area/broken": BROKEN, "area/good": GOOD})
    first = runner(work, "--cases", str(root), "--loader", "here_only_loader:make",
                   "--spec", "1.1", "--keep-failed", "kept")
    assert first.returncode == ExitCode.FAILED, first.stderr
    script = work / "kept" / "area" / "broken" / "rerun.sh"
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/bin/sh" and all(line.startswith("# ") for line in lines[1:5])
    assert lines[5] == f"cd {work} || exit 4" and lines[6].startswith("exec ")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = subprocess.run(["sh", str(script)], cwd=elsewhere, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == ExitCode.FAILED, again.stdout[-2000:] + again.stderr[-2000:]
    assert "1 case, loader here-only, Modules/1.1" in again.stdout  # the same loader and spec
    assert "FAIL     area/broken" in again.stdout and "FAIL 1 one is two" in again.stdout
    assert list(elsewhere.iterdir()) == []
    (root / "area" / "broken.yaml").write_text(GOOD)  # the fix
    fixed = subprocess.run(["sh", str(script)], cwd=elsewhere, capture_output=True, text=True,
                           timeout=600)
    assert fixed.returncode == ExitCode.OK, fixed.stdout[-2000:] + fixed.stderr[-2000:]
    assert "PASS     area/broken" in fixed.stdout


def test_a_rerun_of_a_command_loader_keeps_its_relative_paths(tmp_path):
    """A --loader-cmd naming a script relative to the run's directory reruns from anywhere."""
    work = tmp_path / "work"
    (work / "tools").mkdir(parents=True)
    (work / "tools" / "fails.py").write_text("import sys; print('no'); sys.exit(3)\n")
    root = cases(tmp_path / "cases", **{"area/good": GOOD})
    first = runner(work, "--cases", str(root), "--loader-cmd",
                   f"{sys.executable} tools/fails.py {{root}} {{main}}", "--keep-failed", "kept")
    assert first.returncode == ExitCode.FAILED, first.stderr
    again = subprocess.run(["sh", str(work / "kept" / "area" / "good" / "rerun.sh")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == ExitCode.FAILED, again.stderr[-2000:]
    assert "loader fails," in again.stdout and "can't open file" not in again.stdout + again.stderr


def test_a_run_removes_the_trees_an_earlier_run_kept_that_no_longer_fail(tmp_path, capsys):
    root = cases(tmp_path / "cases", **{"one/broken": BROKEN, "two/deep/broken": BROKEN,
                                        "three/broken": BROKEN})
    kept = tmp_path / "kept"
    argv = ["--cases", str(root), "--keep-failed", str(kept), "-j", "1"]
    assert main(argv) == ExitCode.FAILED
    assert sorted(kept_trees(kept)) == ["one/broken", "three/broken", "two/deep/broken"]
    (kept / "two" / "notes.txt").write_text("the user's")  # beside a kept tree: not ours
    (kept / "three" / "mine").mkdir()                     # the user's folder, no marker
    (root / "two" / "deep" / "broken.yaml").write_text(GOOD)
    (root / "three" / "broken.yaml").write_text(GOOD)
    capsys.readouterr()
    assert main(argv) == ExitCode.FAILED
    assert sorted(kept_trees(kept)) == ["one/broken"]
    assert "removed 2 case trees an earlier run kept" in capsys.readouterr().out
    assert not (kept / "two" / "deep").exists()                # emptied, so removed
    assert (kept / "two" / "notes.txt").read_text() == "the user's"
    assert (kept / "three" / "mine").is_dir() and not (kept / "three" / "broken").exists()
    # A run of other cases leaves this directory with none of the earlier run's trees.
    assert main(argv + ["-k", "two"]) == ExitCode.OK
    assert list(kept_trees(kept)) == [] and not (kept / "one").exists()
    assert sorted(p.name for p in kept.iterdir()) == ["three", "two"]


def test_only_marked_trees_are_removed_never_through_a_link(tmp_path):
    kept = tmp_path / "kept"
    outside = tmp_path / "outside"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / MARKER).write_text("")
    (kept / "area").mkdir(parents=True)
    (kept / "linked").symlink_to(outside)
    (kept / "area" / "unmarked").mkdir()
    (kept / "area" / "unmarked" / "program.js").write_text("")
    (kept / "area" / ".hidden").mkdir()
    (kept / "area" / ".hidden" / MARKER).write_text("")
    reporter = KeepReporter(kept, [], resolve("reference"))
    reporter.finish(Results("0", "reference", "1.1.1", False, (), 0.0))
    assert (outside / "x" / MARKER).is_file()
    assert (kept / "area" / "unmarked" / "program.js").is_file()
    assert (kept / "area" / ".hidden" / MARKER).is_file()


def case(case_id, tmp_path):
    return Case(case_id, str(tmp_path / "cases" / f"{case_id}.yaml"), "t",
                ("require.returns-exports",), {"program": "t.done();"}, "program",
                frozenset(), None, ("1.1.1",))


def test_an_interrupted_run_keeps_the_trees_of_the_cases_it_did_not_reach(tmp_path):
    kept = tmp_path / "kept"
    planned = [case(f"area/c{n}", tmp_path) for n in range(3)]
    for each in planned:
        (kept / each.id).mkdir(parents=True)
        (kept / each.id / MARKER).write_text("")
    reporter = KeepReporter(kept, planned, resolve("reference"))
    reporter.start(Results("0", "reference", "1.1.1", False, (), 0.0))
    reporter.verdict(Verdict("area/c0", (), Outcome.PASS, "ok", 0.0))
    reporter.verdict(Verdict("area/c1", (), Outcome.FAIL, "m", 0.0, (), Kind.ASSERTION_FAILED))
    reporter.finish(Results("0", "reference", "1.1.1", False, (), 0.0, complete=False,
                            planned=tuple(c.id for c in planned)))
    assert sorted(kept_trees(kept)) == ["area/c1", "area/c2"]  # c0 passed; c2 never ran
    assert (kept / "area" / "c1" / "rerun.sh").is_file()        # c1 kept anew
    assert os.access(kept / "area" / "c1" / "rerun.sh", os.X_OK)
