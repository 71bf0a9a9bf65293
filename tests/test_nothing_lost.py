"""Nothing lost: results stream to disk as cases finish; stopped runs say where they stopped."""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conformance.results import read
from tests.test_cli import BROKEN, GOOD

#: A loader that takes its time over every case, so a run can be stopped half-way.
SLOW = shlex.join([sys.executable, "-c", "import time; time.sleep(0.4); print('PASS 1 x')"])


@pytest.fixture(autouse=True)
def scratch(tmp_path_factory, monkeypatch):
    """This test's own temporary directory, for every run it makes, in this process (tempfile)
    and in the runners it starts (TMPDIR): what it counts there is its own, whatever else runs
    on the machine. (Beside tmp_path, not in it: some tests list tmp_path.)"""
    own = tmp_path_factory.mktemp("scratch")
    monkeypatch.setenv("TMPDIR", str(own))
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    return own


def leftovers(where):
    """The suite's temporary directories under `where` (a test's own scratch directory)."""
    return {p for p in os.listdir(where) if p.startswith("cjs-conformance-")}


def runner(repo, *args):
    """runner.py started in its own session, its temporary directories in the test's own."""
    return subprocess.Popen([sys.executable, "runner.py", *args], cwd=repo, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def probed_then(where, code):
    """A loader command: its first run (the feature probe) only leaves a mark; every later run
    (a case) runs `code`, with `os`, `sys` and `time` imported and `where` as sys.argv[2]."""
    program = ("import os, sys, time\n"
               "if not os.path.exists(sys.argv[1]):\n"
               "    open(sys.argv[1], 'w').close()\n"
               "    sys.exit(0)\n" + code)
    return shlex.join([sys.executable, "-c", program, str(where / "probed"), str(where)])


def wait_for(condition, what, limit=120):
    """Wait until condition() holds: long enough for a loaded machine, not for ever."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {limit} s")


def gone(pid):
    """Whether the process `pid` has ended (a zombie waiting to be reaped has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def wait_for_verdicts(path, count, limit=120):
    """Wait until the results file holds its header and `count` verdicts."""
    wait_for(lambda: path.exists() and len(path.read_text().splitlines()) > count,
             f"{path} reaching {count} verdicts", limit)


@pytest.mark.parametrize("loader", [["--loader", "reference"],
                                    ["--loader-cmd", "node examples/mini-loader.js {root} {main}"]],
                         ids=["in-process", "command"])
def test_parallel_runs_give_the_same_results_in_the_same_order(repo, tmp_path, loader):
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.json"
        proc = subprocess.run([sys.executable, "runner.py", *loader, "-j", jobs, "-k", "i",
                               "--json", str(out), "-v"], cwd=repo, capture_output=True,
                              text=True, timeout=600)
        # Seconds differ from run to run: a case's "(0.12s)" and the summary's "in 3.4s".
        lines = [re.sub(r" \([0-9.]+s\)| in [0-9.]+s\b", "", line)
                 for line in proc.stdout.splitlines()]
        verdicts = [(v.case, v.outcome, v.kind, v.message) for v in read(out).verdicts]
        outputs.append((proc.returncode, lines, verdicts))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][2]) > 50


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_keeps_what_ran_and_cleans_up(repo, tmp_path, how, hostile, scratch):
    out = tmp_path / "r.json"
    proc = runner(repo, "--loader-cmd", SLOW, "-j", "1", "--json", str(out))
    wait_for_verdicts(out, 3)
    os.kill(proc.pid, how)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    results = read(out)
    assert not results.complete and len(results.verdicts) >= 2
    assert results.stopped_at and results.stopped_at not in {v.case for v in results.verdicts}
    assert f"interrupted: stopped after {len(results.verdicts)} of {len(results.planned)} cases; " \
           f"the next was {results.stopped_at}" in stderr
    assert leftovers(scratch) == set()  # the running case's directory went too (only this
    # run's directories are counted: the scratch directory is the test's own)
    said = stderr.strip().splitlines()[-1].replace(str(out), "the results file")
    said = re.sub(r"stopped after \d+ of (\d+) cases; the next was \S+;",
                  r"stopped after N of \1 cases; the next was <the first case that did not run>;",
                  said)
    hostile("Interrupted runs", f"{how.name} to the runner while a loader command runs",
            f"exit 2; {said}; the results file reads back complete=false with every finished "
            "case; no temporary directory left")


def test_a_killed_run_leaves_a_readable_results_file(repo, tmp_path, hostile):
    out = tmp_path / "r.json"
    # A killed runner cannot remove its case directory: it is left in the test's scratch.
    proc = runner(repo, "--loader-cmd", SLOW, "-j", "1", "--json", str(out))
    wait_for_verdicts(out, 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    results = read(out)
    assert not results.complete and len(results.verdicts) >= 2
    assert results.where_stopped().startswith(f"stopped after {len(results.verdicts)} of ")
    hostile("Interrupted runs", "SIGKILL to the runner and its loader mid-run",
            "the results file reads back as incomplete, with every finished case, saying "
            "'stopped after N of M cases; the next was <case>'")


def test_interrupting_a_parallel_run_ends_the_running_loaders(repo, tmp_path):
    """Two loaders that would run for 10 minutes, each noting its process id: Ctrl-C ends
    both (no time limit could have: the case time limit is longer still)."""
    out, pids = tmp_path / "r.json", tmp_path / "pids"
    pids.mkdir()
    loader = probed_then(pids, "open(os.path.join(sys.argv[2], str(os.getpid())), 'w')"
                               ".close()\ntime.sleep(600)\n")
    proc = runner(repo, "--loader-cmd", loader, "-j", "2", "--timeout", "3600", "--json",
                  str(out))
    running = lambda: [int(p.name) for p in pids.iterdir() if p.name.isdigit()]
    wait_for(lambda: len(running()) == 2, "two loaders running at once")
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert not read(out).complete
    wait_for(lambda: all(gone(pid) for pid in running()), "the loaders ending")


def test_a_results_file_cut_mid_line_still_reads(tmp_path):
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, "runner.py", "-k", "cycles", "--json", str(out)],
                   cwd=os.path.dirname(os.path.dirname(__file__)), check=True,
                   capture_output=True)
    text = out.read_text()
    out.write_text(text[: text.rindex('{"end"') - 40])  # killed while writing a verdict line
    results = read(out)
    assert not results.complete and results.verdicts


# What the user owns: kept cases, expectations, output files ----------------------------------

def case_dir(where, **cases):
    """A case directory: case id (with / for folders) -> YAML text."""
    for case_id, text in cases.items():
        path = where / f"{case_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return where


def test_keep_failed_removes_only_what_it_made(tmp_path, capsys, hostile):
    from conformance.cli import main
    from conformance.exitcodes import ExitCode
    from conformance.keep import MARKER

    # (A case file .git.yaml is refused as malformed before anything runs: test_caseload.)
    cases = case_dir(tmp_path / "cases", **{"src": BROKEN, "area/broken": BROKEN,
                                            "area/good": GOOD})
    kept = tmp_path / "project"  # --keep-failed . in a checkout: .git and src are the user's
    (kept / ".git").mkdir(parents=True)
    (kept / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (kept / "src").mkdir()
    (kept / "src" / "main.c").write_text("int main() {}\n")
    argv = ["--cases", str(cases), "--keep-failed", str(kept), "-j", "1"]
    assert main(argv) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert (kept / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (kept / "src" / "main.c").read_text() == "int main() {}\n"
    assert sorted(p.name for p in (kept / "src").iterdir()) == ["main.c"]
    assert f"src: not kept: {kept / 'src'} exists and was not made by --keep-failed" in err
    assert (kept / "area" / "broken" / MARKER).is_file()
    # A second run replaces the tree it made itself, and leaves nothing beside it.
    (kept / "area" / "broken" / "stale.js").write_text("old")
    assert main(argv) == ExitCode.FAILED
    assert not (kept / "area" / "broken" / "stale.js").exists()
    assert (kept / "area" / "broken" / "program.js").is_file()
    assert sorted(p.name for p in (kept / "area").iterdir()) == ["broken"]
    hostile("Nothing the user owns is lost",
            "`--keep-failed DIR` where DIR holds the user's `.git` and `src`, with a failing case "
            "file `src.yaml` (a case file `.git.yaml` is refused as malformed)",
            "both left untouched; one line: `src: not kept: DIR/src exists and was not made by "
            "--keep-failed`; only directories holding the suite's marker file are ever replaced")


def test_keep_refuses_an_id_with_a_hidden_part_and_a_path_through_a_link(tmp_path):
    from conformance.case import Case
    from conformance.keep import KeepError, keep
    from conformance.registry import resolve
    from conformance.outcomes import Kind, Outcome, Verdict

    outside = tmp_path / "outside"
    outside.mkdir()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "area").symlink_to(outside)
    verdict = Verdict("x", (), Outcome.FAIL, "m", 0.0, (), Kind.ASSERTION_FAILED)
    loader = resolve("reference")
    for case_id, words in (("area/.ssh", "starts with '.'"), ("area/x", "leads outside")):
        case = Case(case_id, str(tmp_path / "c.yaml"), "t", ("require.returns-exports",),
                    {"program": "t.done();"}, "program", frozenset(), None, ("1.1.1",))
        with pytest.raises(KeepError, match=words):
            keep(case, verdict, loader, kept)
    assert list(outside.iterdir()) == []


OTHER_LOADER = """\
loader: node
spec: "1.1.1"
failures:
  area/broken:
    outcome: fail
    reason: a reason a person wrote by hand
"""


def test_write_expectations_refuses_a_file_of_another_loader_unless_forced(tmp_path, capsys,
                                                                           hostile):
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{"area/broken": BROKEN, "area/good": GOOD})
    path = tmp_path / "node-expected.yaml"
    path.write_text(OTHER_LOADER, encoding="utf-8")
    out = tmp_path / "r.json"
    code = main(["--cases", str(cases), "--write-expectations", str(path), "--json", str(out)])
    err = capsys.readouterr().err
    assert code == ExitCode.EXPECTATIONS_ERROR
    assert path.read_text(encoding="utf-8") == OTHER_LOADER
    assert not out.exists()  # refused before the run
    said = err.strip().splitlines()[-1]
    assert "node-expected.yaml:1: loader: the file records loader 'node', this run is " \
           "'reference'" in said and "--force" in said
    for spec_file in ("1.0",):  # the same loader under another spec version
        other_spec = OTHER_LOADER.replace("node", "reference").replace('"1.1.1"', '"1.0"')
        path.write_text(other_spec, encoding="utf-8")
        assert main(["--cases", str(cases), "--write-expectations", str(path)]) \
            == ExitCode.EXPECTATIONS_ERROR
        assert "the file records spec Modules/1.0" in capsys.readouterr().err
    # --force replaces it (and a recording run exits 0 once the file is written)
    assert main(["--cases", str(cases), "--write-expectations", str(path), "--force"]) \
        == ExitCode.OK
    text = path.read_text(encoding="utf-8")
    assert "loader: reference" in text and "by hand" not in text
    hostile("Nothing the user owns is lost",
            "`--write-expectations` onto a file recorded for another loader (or spec version), "
            "holding hand-written reasons",
            f"exit 7 before the run, the file unchanged: `{said.split(': ', 1)[1]}`; "
            "`--force` replaces it")


def test_two_runs_streaming_to_the_same_results_file(repo, tmp_path, capsys, hostile):
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{f"area/case{i}": GOOD for i in range(6)})
    out, gate = tmp_path / "r.json", tmp_path / "gate"
    gate.mkdir()
    # The first run's cases wait until the second run has been refused: the first is still
    # streaming then, however slow the machine.
    held = probed_then(gate, "end = time.monotonic() + 300\n"
                             "while not os.path.exists(os.path.join(sys.argv[2], 'open')) "
                             "and time.monotonic() < end:\n"
                             "    time.sleep(0.05)\n"
                             "print('PASS 1 x')\n")
    first = runner(repo, "--cases", str(cases), "--loader-cmd", held, "-j", "1", "--json",
                   str(out))
    wait_for_verdicts(out, 0)  # the header: the file is locked
    code = main(["--cases", str(cases), "--json", str(out)])
    err = capsys.readouterr().err
    (gate / "open").touch()
    first.communicate(timeout=300)
    assert code == ExitCode.USAGE_ERROR
    assert f"the results file {out} is being written by another run; nothing was run" in err
    results = read(out)
    assert results.complete and [v.case for v in results.verdicts] == \
        [f"area/case{i}" for i in range(6)]
    hostile("Nothing the user owns is lost",
            "two runs given the same `--json` file at once",
            "the file is locked while a run streams it: the second run is refused with exit 4 "
            "(`the results file ... is being written by another run; nothing was run`) and the "
            "first run's file reads back whole")


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch,
                                                                   capsys, hostile):
    from conformance import results as results_module
    from conformance.cli import main
    from conformance.results import Results, write

    source = tmp_path / "r.json"
    write(Results("0.1", "reference", "1.1.1", False, (), 1.0), source)
    report = tmp_path / "REPORT.md"
    report.write_text("the old report\n")

    def interrupted(fd):  # Ctrl-C as the new text reaches the disk
        raise KeyboardInterrupt

    monkeypatch.setattr(results_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["report", str(source), "-o", str(report)])
    assert report.read_text() == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REPORT.md", "r.json"]
    hostile("Nothing the user owns is lost",
            "`report -o REPORT.md` interrupted while the new report is written",
            "the old REPORT.md is intact and no temporary file is left: every file but the "
            "streamed results is written beside its place and renamed into it")


@pytest.mark.parametrize("option, where, words", [
    ("--junit", "missing/junit.xml", "--junit {out}: no directory {parent}"),
    ("--json", "missing/r.json", "--json {out}: no directory {parent}"),
    ("--write-expectations", "missing/e.yaml", "--write-expectations {out}: no directory "
                                               "{parent}"),
    ("--json", ".", "--json {out}: is a directory"),
    ("--keep-failed", "file.txt/kept", "--keep-failed {out}: {parent} is not a directory"),
])
def test_output_paths_are_checked_before_the_run(tmp_path, capsys, hostile, option, where,
                                                  words):
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{"area/good": GOOD})
    (tmp_path / "file.txt").write_text("")
    out = tmp_path / where
    code = main(["--cases", str(cases), option, str(out)])
    captured = capsys.readouterr()
    assert code == ExitCode.USAGE_ERROR
    assert words.format(out=out, parent=out.parent) in captured.err
    assert "nothing was run" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # no case ran: not even the header was printed
    hostile("Nothing the user owns is lost", f"`{option}` into {where.split('/')[0]!r} ("
            + ("a missing directory" if "missing" in where else "not a place for a file") + ")",
            "exit 4 before any case runs, one line: `" + words.replace("{out}", "PATH")
            .replace("{parent}", "DIR") + "`")


def test_a_write_that_fails_at_the_end_keeps_the_rest(tmp_path, monkeypatch, capsys, hostile):
    import errno

    from conformance import results as results_module
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{"area/good": GOOD, "area/broken": BROKEN})
    out, xml = tmp_path / "r.json", tmp_path / "junit.xml"

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results_module.os, "fsync", full_disk)
    code = main(["--cases", str(cases), "--json", str(out), "--junit", str(xml)])
    captured = capsys.readouterr()
    assert code == ExitCode.OUTPUT_ERROR
    assert "Traceback" not in captured.err
    line = f"runner.py: could not write JUnit XML {xml}: No space left on device"
    assert line in captured.err.splitlines()
    assert "FAIL area/broken" in captured.out  # the summary is still shown
    assert read(out).complete and len(read(out).verdicts) == 2  # and the results kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases", "r.json"]
    hostile("Nothing the user owns is lost", "a full disk when the JUnit XML is written at the "
            "end of a run",
            "exit 9; one line `runner.py: could not write JUnit XML PATH: No space left on "
            "device`; the summary is shown and the results file is complete; no temporary "
            "file left")


def test_an_output_directory_removed_during_the_run(tmp_path, capsys, hostile):
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{"area/good": GOOD})
    gone = tmp_path / "gone"
    gone.mkdir()
    remover = shlex.join(["sh", "-c", f"rm -rf {shlex.quote(str(gone))}; echo PASS 1 x"])
    out = tmp_path / "r.json"
    code = main(["--cases", str(cases), "--loader-cmd", remover, "--json", str(out),
                 "--junit", str(gone / "junit.xml")])
    captured = capsys.readouterr()
    assert code == ExitCode.OUTPUT_ERROR and "Traceback" not in captured.err
    assert f"runner.py: could not write JUnit XML {gone / 'junit.xml'}: No such file or " \
           "directory" in captured.err.splitlines()
    assert read(out).complete
    hostile("Nothing the user owns is lost", "the loader removes the directory of `--junit` "
            "during the run", "exit 9 and one line naming the file and why; every other "
            "output (results, summary) is still written")


def test_a_second_ctrl_c_while_cleaning_up_and_writing(tmp_path, monkeypatch, capsys, hostile,
                                                       scratch):
    import xml.etree.ElementTree as ET

    from conformance import command, junit
    from conformance.cli import main
    from conformance.exitcodes import ExitCode

    cases = case_dir(tmp_path / "cases", **{f"area/case{i}": GOOD for i in range(3)})
    probed, pressed = (shlex.quote(str(tmp_path / name)) for name in ("probed", "pressed"))
    # The first run of the loader is the feature probe; the second (the first case) presses
    # Ctrl-C on the runner, which is this process (the loader's parent).
    loader = shlex.join(["sh", "-c", f"if [ -e {probed} ]; then touch {pressed}; "
                         f"kill -INT $PPID; sleep 30; else touch {probed}; fi"])
    real_rmtree, real_render = command.shutil.rmtree, junit.render

    def rmtree(*args, **kwargs):  # a second Ctrl-C as the case directory is removed
        if (tmp_path / "pressed").exists():
            os.kill(os.getpid(), signal.SIGINT)
        return real_rmtree(*args, **kwargs)

    def render(*args, **kwargs):  # and a third as the JUnit XML is written
        os.kill(os.getpid(), signal.SIGINT)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(command.shutil, "rmtree", rmtree)
    monkeypatch.setattr(junit, "render", render)
    out, xml = tmp_path / "r.json", tmp_path / "junit.xml"
    code = main(["--cases", str(cases), "--loader-cmd", loader, "-j", "1", "--json", str(out),
                 "--junit", str(xml)])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err and "still writing the results" in err
    assert list(scratch.iterdir()) == []  # the case directory went
    suite = ET.parse(xml).getroot().find("testsuite")
    assert suite.find("properties/property[@name='complete']").get("value") == "false"
    assert not read(out).complete
    hostile("Interrupted runs", "a second and a third Ctrl-C: while the running case's "
            "directory is removed, and while the JUnit XML is written",
            "both noted (`still writing the results and removing temporary files; one "
            "moment`) and waited out: exit 2, no temporary directory left, the JUnit XML and "
            "the results file written whole")
