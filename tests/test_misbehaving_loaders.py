"""Misbehaving loaders: the suite stays up, names what went wrong, and loses or damages nothing.

Each loader here is a small Python script in tests/fake_loaders/, run as a command loader on real
cases of the suite: through CommandLoader + run_case, and end to end through the command line
(`conformance.cli.main` in this process, and `python runner.py` in a child). For each one the
tests check:

- a named outcome and kind (never a pass), and a diagnostic in the verdict's details naming the
  command line, the exit status or signal, and the last lines of stdout and stderr;
- that nothing of the loader's process group is left running afterwards, and that the run did
  not wait for what the loader left behind;
- that the temporary module trees (cjs-conformance-*) are gone;
- that a run of several cases reaches every case, and a following run with a good loader is
  unaffected.

Time is only ever checked as a generous bound that proves "did not hang".

Behaviour found wrong in the product is shown by tests marked xfail(strict=True).
"""

from __future__ import annotations

import dataclasses
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import command, descendants, junit
from conformance.caseload import case_id, default_root, discover, load_all
from conformance.cli import main
from conformance.command import OUTPUT_LIMIT, CommandLoader
from conformance.exitcodes import ExitCode
from conformance.outcomes import Outcome, Verdict
from conformance.results import Results
from conformance.results import read as read_results
from conformance.results import write as write_results
from conformance.run import run_case

REPO = Path(__file__).resolve().parent.parent
FAKES = Path(__file__).resolve().parent / "fake_loaders"
PY = sys.executable
SPEC = "1.1.1"
GROUP = "Misbehaving loaders"
#: The FEATURES line the fakes print, newline included.
FEATURES = "FEATURES require.main=present require.paths=present module.uri=present\n"
#: Real cases of the suite the fake loaders run on (one needs an optional feature).
CASE_IDS = ("cycles/partial-exports", "main/same-everywhere", "require/singleton")
#: The case the single-case tests use.
CASE = "require/singleton"
#: The adapter's wait for output pipes to close during these tests (see the scratch fixture).
LONG_DRAIN = 60.0
#: Seconds within which a loader's leftovers must be seen gone.
GONE_WITHIN = 5.0
#: A bound on any single run that proves it did not hang (the time limits used are 1-5 s).
HANG_BOUND = 20.0

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.name != "posix",
                                reason="process checks read /proc (Linux)")


# --- processes ---------------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    """Whether pid runs (a zombie, killed and waiting for its parent to reap it, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def members(pgid: int) -> list[int]:
    """Live processes whose process group or session is pgid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[0] not in ("Z", "X") and pgid in (int(fields[2]),
                                                                    int(fields[3])):
                found.append(int(entry.name))
    return found


def gone(check, within: float = GONE_WITHIN) -> bool:
    """Poll `check` for a short bounded time; True as soon as it holds."""
    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class Scratch:
    """One test's surroundings: an own temporary directory (so other runs on the machine do
    not disturb the before/after listing) and the pid file the fake loaders write."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.pidfile = tmp_path / "pids"
        self.before: set[str] = set()

    def trees(self) -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob("cjs-conformance-*")}

    def pids(self, role: str | None = None) -> list[int]:
        if not self.pidfile.exists():
            return []
        rows = [line.split() for line in self.pidfile.read_text().splitlines() if line.strip()]
        return [int(pid) for pid, kind in rows if role in (None, kind)]

    @property
    def env(self) -> dict[str, str]:
        return {"FAKE_LOADER_PIDS": str(self.pidfile)}

    def assert_clean(self, *, children: bool = True) -> None:
        """No module tree left in the temporary directory; nothing left of any loader's process
        group; (children=True) every process the fakes started on purpose is dead."""
        assert tempfile.gettempdir() == str(self.tmp)
        assert self.trees() == self.before, "a temporary module tree was left behind"
        loaders = self.pids("loader")
        for pid in loaders:
            assert gone(lambda: not members(pid)), \
                f"processes of loader {pid}'s group or session survived: {members(pid)}"
        if children:
            for pid in self.pids("child"):
                assert gone(lambda: not alive(pid)), f"child {pid} of a loader survived"

    def kill_leftovers(self) -> None:
        """End what a failing (or xfail) test left: only the pids our fakes recorded."""
        for pid in self.pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"fake_loaders" in cmdline and alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def scratch(tmp_path, monkeypatch):
    # A run that waited for its pipes would take the whole drain: with a long one, "it did
    # not wait" is told apart from "the machine was slow" by a wide margin.
    monkeypatch.setattr(command, "DRAIN_SECONDS", LONG_DRAIN)
    s = Scratch(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(s.tmp))
    monkeypatch.setenv("TMPDIR", str(s.tmp))
    s.before = s.trees()
    yield s
    s.kill_leftovers()


# --- loaders and cases -------------------------------------------------------------------------

def argv(fake: str, *args: str) -> list[str]:
    return [PY, str(FAKES / fake), *args]


def template(fake: str, *args: str) -> str:
    return shlex.join(argv(fake, *args)) + " {root} {main}"


def fake(scratch: Scratch, fake_name: str, *args: str) -> CommandLoader:
    return CommandLoader(template(fake_name, *args), name=f"fake {fake_name}", env=scratch.env)


@pytest.fixture(scope="module")
def cases():
    root = default_root()
    loaded, errors = load_all([p for p in discover(root) if case_id(p, root) in CASE_IDS], root)
    assert not errors
    by_id = {c.id: c for c in loaded}
    assert set(by_id) == set(CASE_IDS)
    return by_id


@pytest.fixture
def case_dir(tmp_path):
    """A case directory holding copies of the real cases CASE_IDS."""
    target = tmp_path / "cases"
    for name in CASE_IDS:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(default_root() / f"{name}.yaml", target / f"{name}.yaml")
    return target


def run(case, loader, timeout: float = 1.0) -> tuple[Verdict, float]:
    started = time.perf_counter()
    verdict = run_case(case, loader, SPEC, timeout)
    return verdict, time.perf_counter() - started


def shown(text: str) -> str:
    """A verdict message as the hostile-inputs table shows it: machine paths shortened."""
    return text.replace(str(FAKES), "tests/fake_loaders").replace(PY, "python")


def did(verdict: Verdict, extra: str = "") -> str:
    return f"{verdict.outcome.value}/{verdict.kind}: {shown(verdict.message)}" + extra


def assert_diagnosed(verdict: Verdict, command: list[str] | None, *, status: int | None = None,
                     signal_name: str | None = None, stdout_last: str | None = None,
                     stderr_last: str | None = None) -> None:
    """The details name the command line, the exit status or signal, and the tails."""
    details = verdict.details
    if command is not None:
        line = "command: " + shlex.join(command)
        assert any(line in d for d in details), (line, details)
        assert any("{root}" in d for d in details if line in d), \
            "the module directory should read as {root}"
    if status is not None:
        assert any(f"exit status {status};" in d for d in details), details
    if signal_name is not None:
        assert any(f"killed by {signal_name};" in d for d in details), details
    if stdout_last is not None:
        assert [d for d in details if d.startswith("stdout: ")][-1] == f"stdout: {stdout_last}"
    if stderr_last is not None:
        assert [d for d in details if d.startswith("stderr: ")][-1] == f"stderr: {stderr_last}"


# --- 1. a command that cannot be started --------------------------------------------------------

def test_a_command_that_is_not_found_is_unavailable(cases, scratch, hostile):
    missing = str(FAKES / "no-such-loader")
    verdict, seconds = run(cases[CASE], CommandLoader(f"{shlex.quote(missing)} {{root}} {{main}}"))
    assert (verdict.outcome, verdict.kind) == (Outcome.ERROR, "loader-unavailable")
    assert verdict.message.startswith(f"the loader could not be started: {missing}: "
                                      "No such file or directory; command: ")
    assert_diagnosed(verdict, [missing])
    assert seconds < HANG_BOUND
    scratch.assert_clean()
    hostile(GROUP, "the loader command does not exist (CommandLoader)", did(verdict))


def test_a_command_that_is_not_executable_is_unavailable(cases, scratch, hostile):
    script = FAKES / "not_executable.py"
    assert script.exists() and not os.access(script, os.X_OK)
    verdict, _ = run(cases[CASE], CommandLoader(f"{shlex.quote(str(script))} {{root}} {{main}}"))
    assert (verdict.outcome, verdict.kind) == (Outcome.ERROR, "loader-unavailable")
    assert "Permission denied" in verdict.message
    assert_diagnosed(verdict, [str(script)])
    scratch.assert_clean()
    hostile(GROUP, "the loader command is a file without its executable bit (CommandLoader)",
            did(verdict))


def test_the_command_line_refuses_a_missing_command_before_running_anything(case_dir, tmp_path,
                                                                             capsys, hostile):
    out = tmp_path / "results.json"
    code = main(["--cases", str(case_dir), "--loader-cmd", "no-such-loader-command {root} {main}",
                 "--json", str(out)])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE_ERROR
    assert "'no-such-loader-command' is not found on PATH" in err
    assert not out.exists()
    hostile(GROUP, "`--loader-cmd` names a command that is not on PATH",
            f"exit {int(code)} before any case ran: {err.strip()}")


def test_the_command_line_says_a_command_is_not_executable(case_dir, capsys):
    script = str(FAKES / "not_executable.py")
    code = main(["--cases", str(case_dir), "--loader-cmd", f"{script} {{root}} {{main}}"])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE_ERROR
    assert "not executable" in err or "Permission denied" in err, err


# --- 2. hangs -----------------------------------------------------------------------------------

def test_a_loader_reading_stdin_gets_end_of_file_and_does_not_hang(cases, scratch, hostile):
    verdict, seconds = run(cases[CASE], fake(scratch, "hang.py", "stdin"), timeout=30)
    assert seconds < 10, "stdin should be at its end at once, not wait for the time limit"
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert_diagnosed(verdict, None, stdout_last="read 0 bytes from stdin")
    scratch.assert_clean()
    hostile(GROUP, "the loader reads its stdin to the end before doing anything",
            did(verdict, " (stdin is /dev/null: it read 0 bytes at once)"))


@pytest.mark.parametrize("mode, stdout_last, stderr_last", [
    ("sleep", None, None),
    ("pass-then-sleep", "PASS 2 the last line before the hang",
     "fake loader: waiting for something that never happens"),
    ("stop", "PASS 1 printed before stopping", None),
], ids=["sleep", "pass-then-sleep", "stop"])
def test_a_hung_loader_times_out(cases, scratch, hostile, mode, stdout_last, stderr_last):
    verdict, seconds = run(cases[CASE], fake(scratch, "hang.py", mode), timeout=1)
    assert seconds < HANG_BOUND and verdict.seconds < HANG_BOUND
    assert (verdict.outcome, verdict.kind) == (Outcome.TIMEOUT, "timeout")
    assert verdict.message.startswith("no result within the time limit (killed after 1 s; "
                                      "command: " + shlex.join(argv("hang.py", mode)))
    assert_diagnosed(verdict, argv("hang.py", mode), stdout_last=stdout_last,
                     stderr_last=stderr_last)
    if stdout_last is None:
        assert not [d for d in verdict.details if d.startswith(("stdout:", "stderr:"))]
    scratch.assert_clean()
    tried = {"sleep": "the loader prints nothing and sleeps forever",
             "pass-then-sleep": "the loader prints PASS lines, then sleeps past the time limit",
             "stop": "the loader stops itself with SIGSTOP"}[mode]
    hostile(GROUP, tried, did(verdict, " (1 s limit; the group was killed)"))


# --- 3. processes left running ------------------------------------------------------------------

@pytest.mark.parametrize("mode, tried", [
    ("ignore-term", "the loader exits, leaving a grandchild that ignores SIGTERM and holds its "
                    "stdout"),
    ("daemon", "the loader exits, leaving a daemon-like double-forked child in its session"),
], ids=["ignore-term", "daemon"])
def test_processes_a_loader_leaves_behind_are_killed(cases, scratch, hostile, mode, tried):
    verdict, seconds = run(cases[CASE], fake(scratch, "children.py", mode), timeout=30)
    children = scratch.pids("child")
    assert children, "the fake should have recorded the processes it left"
    # ignore-term's processes hold the output pipes: had they not been killed at once, the
    # adapter would have waited LONG_DRAIN for the pipes (and they live 60 s)
    assert seconds < LONG_DRAIN / 2, "the run waited for the processes the loader left behind"
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert any(d.startswith("stdout: fake loader ") for d in verdict.details)
    scratch.assert_clean()
    for pid in children:
        assert not alive(pid)
    hostile(GROUP, tried, did(verdict, "; the run did not wait for the child, which was killed "
                                       "with the loader's process group"))


ESCAPES = {
    "new-group": "a child that moves to a process group of its own in the loader's session "
                 "(setpgid, as a shell's job control does)",
    "new-session": "a child that calls setsid(), leaving both the loader's group and session",
}


@pytest.mark.parametrize("mode", sorted(ESCAPES))
def test_a_child_that_leaves_the_group_does_not_hold_up_the_run(cases, scratch, hostile, mode):
    verdict, seconds = run(cases[CASE], fake(scratch, "children.py", mode), timeout=30)
    assert seconds < 10, "the run waited for the child the loader left behind"
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert scratch.trees() == scratch.before
    (loader,) = scratch.pids("loader")
    assert gone(lambda: not alive(loader))
    for pid in scratch.pids("child"):
        assert gone(lambda: not alive(pid)), f"child {pid} ({mode}) survived"
    hostile(GROUP, f"the loader exits, leaving {ESCAPES[mode]}",
            did(verdict, "; the run did not wait, and the child was killed through the "
                         "environment mark every process of the run inherits"))


@pytest.mark.parametrize("mode", sorted(ESCAPES))
def test_a_child_that_leaves_the_group_is_killed(cases, scratch, mode):
    run(cases[CASE], fake(scratch, "children.py", mode), timeout=5)
    children = scratch.pids("child")
    assert children
    for pid in children:
        assert gone(lambda: not alive(pid)), f"child {pid} ({mode}) survived"


def test_an_escaped_child_holding_stdout_does_not_hang_the_run(cases, scratch, hostile):
    """A setsid() child keeps the loader's stdout open: the group kill cannot reach it, the
    run's other means do, and the run does not wait for the pipe."""
    verdict, seconds = run(cases[CASE], fake(scratch, "children.py",
                                             "new-session-holding-stdout"), timeout=5)
    assert seconds < LONG_DRAIN / 2
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert any(d.startswith("stdout: fake loader ") for d in verdict.details)
    assert scratch.trees() == scratch.before
    for pid in scratch.pids("child"):
        assert gone(lambda: not alive(pid)), f"child {pid} survived"
    hostile(GROUP, "the loader exits, leaving a setsid() child that keeps its stdout open",
            did(verdict, f" after {seconds:.1f} s; the child was killed with the run"))


CLEAN_ENV = {
    "clean-env": "a child that calls setsid() and execs with an empty environment (as "
                 "`setsid env -i` does), leaving the group, the session and the environment mark",
    "clean-env-holding-stdout": "the same child, keeping the loader's stdout open",
}


@pytest.mark.parametrize("mode", sorted(CLEAN_ENV))
def test_a_child_that_sheds_its_environment_is_killed_and_does_not_hold_up_the_run(
        cases, scratch, hostile, mode):
    verdict, seconds = run(cases[CASE], fake(scratch, "children.py", mode), timeout=30)
    assert seconds < LONG_DRAIN / 2, "the run waited for the child the loader left behind"
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert any(d.startswith("stdout: fake loader ") for d in verdict.details)
    children = scratch.pids("child")
    assert children
    for pid in children:
        assert gone(lambda: not alive(pid)), f"child {pid} ({mode}) survived"
    scratch.assert_clean()
    how = ("its own cgroup" if descendants.cgroup_parent() else
           "the runner being the child subreaper")
    hostile(GROUP, f"the loader exits, leaving {CLEAN_ENV[mode]}",
            did(verdict, f" at once; the child was killed through {how}"
                         + (" (and as a holder of the output pipe)" if "stdout" in mode
                            else "")))


def test_an_escaped_child_does_not_recreate_the_case_directory(cases, scratch, hostile):
    verdict, _ = run(cases[CASE], fake(scratch, "children.py", "clean-env-writer"), timeout=30)
    (child,) = scratch.pids("child")
    assert gone(lambda: not alive(child))
    time.sleep(1.5)  # past the second after which the child would have written
    assert scratch.trees() == scratch.before, "the case directory was recreated"
    hostile(GROUP, "the loader exits, leaving a child without the environment mark that "
                   "recreates the case directory a second later and writes into it",
            did(verdict, "; the child was killed with the run, and nothing was written"))


@pytest.mark.parametrize("mode", ["clean-env", "clean-env-holding-stdout"])
def test_without_a_cgroup_the_subreaper_kills_a_child_that_sheds_its_environment(
        cases, scratch, monkeypatch, mode):
    monkeypatch.setattr(descendants, "cgroup_parent", lambda: None)
    if descendants.prctl() is None:
        pytest.skip("no prctl (not Linux)")
    monkeypatch.setattr(descendants, "_REAPER", descendants._REAPER)  # restored afterwards
    try:
        verdict, seconds = run(cases[CASE], fake(scratch, "children.py", mode), timeout=30)
    finally:  # the rest of the session's orphans go to init again
        descendants.prctl()(descendants.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    assert seconds < LONG_DRAIN / 2
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    for pid in scratch.pids("child"):
        assert gone(lambda: not alive(pid)), f"child {pid} ({mode}) survived"


# --- 4. crashes and exit statuses ---------------------------------------------------------------

@pytest.mark.parametrize("mode, name", [("segv", "SIGSEGV"), ("kill", "SIGKILL"),
                                        ("abort", "SIGABRT")])
def test_a_crash_by_signal_is_named(cases, scratch, hostile, mode, name):
    verdict, seconds = run(cases[CASE], fake(scratch, "crash.py", mode), timeout=5)
    assert seconds < HANG_BOUND
    assert (verdict.outcome, verdict.kind) == (Outcome.ERROR, "loader-crashed")
    assert verdict.message.startswith(f"the loader crashed: killed by {name}; command: ")
    assert_diagnosed(verdict, argv("crash.py", mode), signal_name=name,
                     stdout_last="PASS 1 the last line before the end",
                     stderr_last=f"fake loader: about to {mode}")
    scratch.assert_clean()
    hostile(GROUP, f"the loader dies by {name} after printing FEATURES and PASS 1", did(verdict))


@pytest.mark.parametrize("status", [1, 2, 127])
def test_a_non_zero_exit_is_an_uncaught_error_with_its_status(cases, scratch, hostile, status):
    mode = f"exit-{status}"
    verdict, _ = run(cases[CASE], fake(scratch, "crash.py", mode), timeout=5)
    stderr = "sh: 1: nodee: not found" if status == 127 else f"fake loader: about to {mode}"
    assert (verdict.outcome, verdict.kind) == (Outcome.FAIL, "uncaught-error")
    assert verdict.message == f"uncaught error after 1 assertion(s): {stderr}"
    assert_diagnosed(verdict, argv("crash.py", mode), status=status,
                     stdout_last="PASS 1 the last line before the end", stderr_last=stderr)
    scratch.assert_clean()
    hostile(GROUP, f"the loader exits with status {status} after printing PASS 1",
            did(verdict, f" (details: exit status {status} and the command line)"))


# --- 5. garbage and floods ----------------------------------------------------------------------

@pytest.mark.parametrize("stream", ["stdout", "stderr"])
@pytest.mark.parametrize("kind", ["random", "invalid-utf8", "nul", "ansi"])
def test_garbage_is_no_harness_output_and_survives_every_view(cases, scratch, hostile, tmp_path,
                                                              kind, stream):
    verdict, _ = run(cases[CASE], fake(scratch, "garbage.py", kind, stream), timeout=5)
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert_diagnosed(verdict, None, **{f"{stream}_last": "end of garbage"})
    # the results file and the JUnit XML hold the case and its garbage, readable
    results = Results("test", "fake", SPEC, False, (verdict,), 1.0)
    write_results(results, tmp_path / "r.json")
    (back,) = read_results(tmp_path / "r.json").verdicts
    assert dataclasses.replace(back, seconds=verdict.seconds) == verdict
    tree = ET.fromstring(junit.render(results))
    failure = tree.find("testsuite/testcase/failure")
    assert failure is not None and "end of garbage" in failure.text
    scratch.assert_clean()
    hostile(GROUP, f"the loader prints garbage ({kind}) on {stream} and exits 0",
            did(verdict, "; the results file and JUnit XML stay readable"))


def test_the_terminal_report_escapes_a_loaders_control_characters(case_dir, capsys):
    code = main(["--cases", str(case_dir), "-v", "--timeout", "5",
                 "--loader-cmd", template("garbage.py", "ansi", "stdout")])
    out = capsys.readouterr().out
    assert code == ExitCode.FAILED
    assert "\x1b" not in out and not re.search("[\x00-\x08\x0b-\x1f\x7f]", out)


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_gigabyte_of_output_is_bounded_in_memory(cases, scratch, hostile, stream):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    verdict, seconds = run(cases[CASE], fake(scratch, "flood.py", stream, "1024"), timeout=15)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown < 200, f"the runner's peak memory grew by {grown:.0f} MiB on 1 GiB of output"
    assert seconds < HANG_BOUND
    note = re.compile(rf"{stream}: \d+ bytes beyond {OUTPUT_LIMIT} were dropped")
    assert any(note.search(d) for d in verdict.details), verdict.details
    assert any("stopped at the output limit" in d for d in verdict.details)
    assert_diagnosed(verdict, argv("flood.py", stream, "1024"))
    scratch.assert_clean()
    hostile(GROUP, f"the loader prints 1 GiB on {stream}, then exits 0",
            did(verdict, f"; the loader was stopped once {OUTPUT_LIMIT >> 20} MiB were kept, the "
                         "details count the bytes dropped, the runner's peak memory grew by less "
                         "than 200 MiB"))


def test_an_endless_printer_is_stopped_at_the_output_bound(cases, scratch):
    verdict, seconds = run(cases[CASE], fake(scratch, "flood.py", "stdout", "forever"),
                           timeout=3)
    scratch.assert_clean()
    assert (verdict.kind, seconds < 2) == ("output-limit", True), (verdict.kind, seconds)


def test_output_dropped_after_the_end_marker_is_not_a_pass(cases, scratch):
    verdict, _ = run(cases[CASE], fake(scratch, "tamper.py", "flood-after"), timeout=10)
    scratch.assert_clean()
    assert verdict.outcome is not Outcome.PASS, verdict


# --- 6. stdout closed early ---------------------------------------------------------------------

def test_a_loader_that_closes_stdout_early_is_named(cases, scratch, hostile):
    verdict, seconds = run(cases[CASE], fake(scratch, "close_stdout.py", "after-pass"),
                           timeout=5)
    assert seconds < HANG_BOUND
    assert (verdict.outcome, verdict.kind) == (Outcome.FAIL, "stdout-closed")
    assert verdict.message == ("the loader closed its stdout before the end marker, after 1 "
                               "assertion(s)")
    assert_diagnosed(verdict, argv("close_stdout.py", "after-pass"), status=0,
                     stdout_last="PASS 1 the last line before stdout was closed",
                     stderr_last="fake loader: stdout closed, still working")
    assert re.search(r"stdout was closed \d\.\d s before the loader ended", verdict.details[-1])
    scratch.assert_clean()
    hostile(GROUP, "the loader prints PASS 1, closes stdout, works on for 1 s, exits 0",
            did(verdict))


def test_closing_stdout_before_any_output_is_named_stdout_closed(cases, scratch):
    verdict, _ = run(cases[CASE], fake(scratch, "close_stdout.py", "at-once"), timeout=5)
    assert verdict.kind == "stdout-closed"


# --- a loader that swaps its tree for links ----------------------------------------------------

@pytest.mark.parametrize("mode, what", [
    ("link-outer", "the decoy directory above its module tree"),
    ("link-base", "the run's whole temporary directory"),
], ids=["link-outer", "link-base"])
def test_a_loader_that_swaps_its_tree_for_a_link_cannot_get_anything_deleted(
        cases, scratch, hostile, tmp_path, mode, what):
    precious = tmp_path / "precious"
    (precious / "inner").mkdir(parents=True)
    (precious / "keep.txt").write_text("keep me")
    (precious / "inner" / "also.txt").write_text("and me")
    loader = CommandLoader(template("vandal.py", mode), env={**scratch.env,
                                                             "PRECIOUS": str(precious)})
    verdict, _ = run(cases[CASE], loader, timeout=5)
    assert (verdict.outcome, verdict.kind) == (Outcome.BLOCKED, "no-harness-output")
    assert any(d.endswith("now points at the precious directory") for d in verdict.details)
    assert (precious / "keep.txt").read_text() == "keep me"
    assert (precious / "inner" / "also.txt").read_text() == "and me"
    leftovers = scratch.trees() - scratch.before
    assert all(os.path.islink(os.path.join(tempfile.gettempdir(), n)) for n in leftovers)
    hostile(GROUP, f"the loader replaces {what} with a symbolic link to another directory",
            did(verdict, "; the linked directory was left untouched"
                + ("; the link itself was left in the temporary directory (xfail test)"
                   if leftovers else "")))


def test_a_temporary_directory_swapped_for_a_link_is_removed(cases, scratch, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    loader = CommandLoader(template("vandal.py", "link-base"), env={**scratch.env,
                                                                    "PRECIOUS": str(precious)})
    run(cases[CASE], loader, timeout=5)
    assert precious.is_dir()
    assert scratch.trees() == scratch.before


# --- 7. output the program never printed --------------------------------------------------------

@pytest.mark.parametrize("mode, tried, message", [
    ("canned", "the loader prints `PASS 1 x` and `DONE 1` without running anything",
     "the DONE line's check does not match this run"),
    ("canned-check", "the loader prints `PASS 1 x` and `DONE 1 deadbeef` (a made-up check)",
     "the DONE line's check does not match this run"),
    ("dup-done", "the loader runs the program for real, then prints its DONE line again",
     "the output breaks the harness protocol: DONE printed more than once"),
    ("replay", "the loader runs the program for real and prints its output twice",
     "the output breaks the harness protocol: FEATURES printed more than once"),
], ids=["canned", "canned-check", "dup-done", "replay"])
def test_output_the_program_did_not_print_is_a_protocol_violation(cases, scratch, hostile, mode,
                                                                  tried, message):
    honest, _ = run(cases[CASE], fake(scratch, "tamper.py", "honest"), timeout=10)
    assert honest.outcome is Outcome.PASS, honest  # the same loader, untampered, passes
    verdict, _ = run(cases[CASE], fake(scratch, "tamper.py", mode), timeout=10)
    assert (verdict.outcome, verdict.kind) == (Outcome.ERROR, "protocol-violation")
    assert verdict.message.startswith(message), verdict.message
    last = "DONE 1 deadbeef" if mode == "canned-check" else "DONE 1" if mode == "canned" else None
    if last:
        assert_diagnosed(verdict, None, stdout_last=last)
    else:
        assert [d for d in verdict.details if re.match(r"stdout: DONE \d+ ", d)]
    scratch.assert_clean()
    hostile(GROUP, tried, did(verdict))


@pytest.mark.parametrize("fake_name, args", [("garbage.py", ("nul", "stdout")),
                                             ("tamper.py", ("canned",))],
                         ids=["garbage", "canned"])
def test_a_failing_verdict_names_the_command_also_after_exit_status_0(cases, scratch, fake_name,
                                                                      args):
    verdict, _ = run(cases[CASE], fake(scratch, fake_name, *args), timeout=10)
    assert not verdict.outcome.ok
    assert_diagnosed(verdict, argv(fake_name, *args), status=0)


# --- the run goes on: several cases end to end, then a good loader ------------------------------

END_TO_END = [
    # (fake, args, outcome, kind, timeout)
    ("hang.py", ("sleep",), "timeout", "timeout", 1),
    ("hang.py", ("pass-then-sleep",), "timeout", "timeout", 1),
    ("children.py", ("ignore-term",), "blocked", "no-harness-output", 5),
    ("crash.py", ("segv",), "error", "loader-crashed", 5),
    ("crash.py", ("exit-127",), "fail", "uncaught-error", 5),
    ("garbage.py", ("random", "stdout"), "blocked", "no-harness-output", 5),
    ("flood.py", ("stdout", "64"), "error", "output-limit", 10),
    ("close_stdout.py", ("after-pass",), "fail", "stdout-closed", 5),
    ("tamper.py", ("canned",), "error", "protocol-violation", 10),
    ("tamper.py", ("replay",), "error", "protocol-violation", 10),
]


@pytest.mark.parametrize("fake_name, args, outcome, kind, timeout", END_TO_END,
                         ids=[" ".join((f, *a)) for f, a, *_ in END_TO_END])
def test_a_run_with_a_misbehaving_loader_reaches_every_case_and_the_next_run_is_unaffected(
        case_dir, tmp_path, scratch, capsys, hostile, fake_name, args, outcome, kind, timeout):
    bad_json, good_json = tmp_path / "bad.json", tmp_path / "good.json"
    started = time.perf_counter()
    code = main(["--cases", str(case_dir), "--loader-cmd", template(fake_name, *args),
                 "--loader-name", "misbehaving", "--env", f"FAKE_LOADER_PIDS={scratch.pidfile}",
                 "--timeout", str(timeout), "--json", str(bad_json)])
    seconds = time.perf_counter() - started
    bad_out = capsys.readouterr().out
    assert code == ExitCode.FAILED
    assert seconds < HANG_BOUND * 2
    results = read_results(bad_json)
    assert results.complete
    assert [v.case for v in results.verdicts] == sorted(CASE_IDS)
    assert {v.kind for v in results.verdicts} == {kind}
    # A case that relies on a precondition it had not yet checked is blocked, not failed.
    assert {v.outcome.value for v in results.verdicts} <= {outcome, "blocked"}
    assert any(v.outcome.value == outcome for v in results.verdicts)
    assert "misbehaving, Modules/1.1.1: 0 passed" in bad_out
    assert results.verdicts[0].message in bad_out  # the summary shows each failure
    scratch.assert_clean()

    code = main(["--cases", str(case_dir), "--loader-cmd", template("tamper.py", "honest"),
                 "--loader-name", "good", "--env", f"FAKE_LOADER_PIDS={scratch.pidfile}",
                 "--timeout", "10", "--json", str(good_json)])
    good_out = capsys.readouterr().out
    assert code == ExitCode.OK, good_out
    good = read_results(good_json)
    assert [(v.case, v.outcome) for v in good.verdicts] == [(c, Outcome.PASS)
                                                            for c in sorted(CASE_IDS)]
    scratch.assert_clean()
    first = results.verdicts[0]
    hostile(GROUP, f"a run of {len(CASE_IDS)} cases on `{shown(template(fake_name, *args))}`",
            f"every case reached, each {outcome}/{kind} (e.g. {shown(first.message)}); exit "
            f"1; the next run with a good loader passed all {len(CASE_IDS)}")


def test_runner_py_end_to_end_with_a_crashing_then_a_good_loader(case_dir, tmp_path, scratch,
                                                                 hostile):
    env = {**os.environ, "TMPDIR": str(scratch.tmp)}
    outputs = {}
    for name, tmpl in (("bad", template("crash.py", "abort")), ("good", template("tamper.py",
                                                                                 "honest"))):
        proc = subprocess.run([PY, "runner.py", "--cases", str(case_dir), "--loader-cmd", tmpl,
                               "--env", f"FAKE_LOADER_PIDS={scratch.pidfile}", "--timeout", "10",
                               "--json", str(tmp_path / f"{name}.json")],
                              cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=HANG_BOUND * 3)
        outputs[name] = (proc.returncode, read_results(tmp_path / f"{name}.json"), proc.stdout)
    code, bad, out = outputs["bad"]
    assert code == ExitCode.FAILED
    assert [(v.case, v.kind) for v in bad.verdicts] == [(c, "loader-crashed")
                                                        for c in sorted(CASE_IDS)]
    assert "the loader crashed: killed by SIGABRT" in out
    assert "stderr: fake loader: about to abort" in out  # the summary shows the tails too
    code, good, out = outputs["good"]
    assert code == ExitCode.OK and all(v.outcome is Outcome.PASS for v in good.verdicts)
    scratch.assert_clean()
    hostile(GROUP, "`python runner.py` on a loader that aborts on every case, then on a good one",
            f"exit 1, every case error/loader-crashed ({shown(bad.verdicts[0].message)}); "
            "then exit 0, every case passed")
