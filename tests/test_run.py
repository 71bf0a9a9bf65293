"""Running cases (conformance.run): a loader's run_all is used for sequential runs and judged
exactly as run() would be, whatever the loader does."""

import dataclasses
import os
import time
from pathlib import Path

import pytest

from conformance.contract import Capabilities, Declaration, Ending, Execution
from conformance.caseload import discover, load_all
from conformance.outcomes import Outcome
from conformance.reference import ReferenceLoader
from conformance.results import read
from conformance.run import AHEAD_PER_JOB, run_case, run_cases
from tests.node_profile import node_catalogue  # noqa: F401  (a fixture)

CASES = Path(__file__).resolve().parent.parent / "cases"
SPEC = "1.1.1"


def suite():
    cases, errors = load_all(discover(CASES), CASES)
    assert not errors
    return cases


def essence(verdict):
    return dataclasses.replace(verdict, seconds=0.0)


class OneAtATime:
    """The reference loader without run_all."""

    def __init__(self, sandbox: bool = False):
        self.inner = ReferenceLoader(sandbox=sandbox)
        self.name, self.declaration = self.inner.name, self.inner.declaration

    def run(self, program):
        return self.inner.run(program)


def test_sequential_runs_through_run_all_judge_as_run_case_does():
    cases = suite()
    for sandbox in (False, True):
        piped = [essence(v) for v in run_cases(cases, ReferenceLoader(sandbox=sandbox), SPEC)]
        single = [essence(run_case(c, OneAtATime(sandbox), SPEC)) for c in cases]
        assert piped == single
        assert {v.outcome for v in piped} <= {Outcome.PASS, Outcome.SKIP}
        assert sum(v.outcome is Outcome.SKIP for v in piped) < len(cases) / 2


class Recording:
    """A loader whose run_all echoes each program's name and records what was asked of it."""

    name = "recording"
    declaration = Declaration()
    capabilities = Capabilities(pipelines=True)

    def __init__(self, fail_after: int | None = None):
        self.fail_after = fail_after
        self.ran: list[str] = []
        self.closed = False

    def run(self, program):
        self.ran.append("run:" + program.name)
        return Execution(stdout="", ending=Ending.EXITED, exit_code=0)

    def run_all(self, programs):
        try:
            for index, program in enumerate(programs):
                if self.fail_after is not None and index >= self.fail_after:
                    raise RuntimeError("adapter bug")
                self.ran.append("run_all:" + program.name)
                yield Execution(stdout="", ending=Ending.EXITED, exit_code=0)
        finally:
            self.closed = True


def test_a_run_all_that_raises_fails_that_case_and_the_rest_run_one_at_a_time():
    cases = [c for c in suite() if c.sandbox is not True and SPEC in c.versions][:5]
    loader = Recording(fail_after=2)
    verdicts = list(run_cases(cases, loader, SPEC))
    assert [v.case for v in verdicts] == [c.id for c in cases]
    assert "adapter raised RuntimeError: adapter bug" in verdicts[2].message
    assert loader.ran == [f"run_all:{c.id}" for c in cases[:2]] + \
        [f"run:{c.id}" for c in cases[3:]]


def test_stopping_a_sequential_run_early_closes_run_all():
    cases = [c for c in suite() if c.sandbox is not True and SPEC in c.versions][:5]
    loader = Recording()
    verdicts = run_cases(cases, loader, SPEC)
    next(verdicts)
    verdicts.close()
    assert loader.closed


class Counting:
    """A sequence of cases that counts how often each is read (a suite may load each case
    from its file when it is read)."""

    def __init__(self, cases):
        self.cases, self.reads = list(cases), [0] * len(cases)

    def __len__(self):
        return len(self.cases)

    def __getitem__(self, index):
        self.reads[index] += 1
        return self.cases[index]


def test_a_sequential_run_reads_each_case_once():
    cases = Counting(suite())
    verdicts = list(run_cases(cases, ReferenceLoader(), SPEC))
    assert [v.case for v in verdicts] == [c.id for c in cases.cases]
    assert cases.reads == [1] * len(cases)


class Breaking(Counting):
    """Counting, but the case at index `broken` cannot be read (its file broke mid-run)."""

    def __init__(self, cases, broken: int):
        super().__init__(cases)
        self.broken = broken

    def __getitem__(self, index):
        if index == self.broken:
            raise ValueError("case file broke")
        return super().__getitem__(index)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_case_that_cannot_be_read_mid_run_stops_it_after_the_cases_before(jobs):
    cases = Breaking(suite()[:12], broken=7)
    verdicts = run_cases(cases, ReferenceLoader(), SPEC, jobs=jobs)
    got = []
    with pytest.raises(ValueError, match="case file broke"):
        for verdict in verdicts:
            got.append(verdict)
    assert [v.case for v in got] == [c.id for c in cases.cases[:7]]
    assert all(v.outcome in (Outcome.PASS, Outcome.SKIP) for v in got)  # none blamed


@pytest.mark.parametrize("pipelines", [True, False], ids=["lanes", "threads"])
def test_a_parallel_run_reads_only_a_few_cases_ahead(pipelines):
    """-j 2: a loader that pipelines runs in lanes (each a pipeline of its own), another in
    threads taking a case each; either way, cases are read a few at a time, each once."""
    from conformance import transport
    from conformance.run import LANE_AHEAD

    loader = ReferenceLoader()
    if not pipelines:
        loader.capabilities = dataclasses.replace(loader.capabilities, pipelines=False)
    cases = Counting(suite())
    verdicts = run_cases(cases, loader, SPEC, jobs=2)
    next(verdicts)
    time.sleep(0.5)  # time for the lanes to fill their queues and stop
    ahead = (2 * (LANE_AHEAD + transport.AHEAD + 2) if pipelines
             else 2 * AHEAD_PER_JOB + 1)
    assert sum(cases.reads) <= ahead < len(cases)
    rest = list(verdicts)
    assert len(rest) == len(cases) - 1 and cases.reads == [1] * len(cases)


def test_lanes_give_the_verdicts_of_a_sequential_run_in_case_order():
    sequential = [(v.case, v.outcome, v.kind) for v in run_cases(suite(), ReferenceLoader(), SPEC)]
    for jobs in (2, 3):
        assert [(v.case, v.outcome, v.kind)
                for v in run_cases(suite(), ReferenceLoader(), SPEC, jobs=jobs)] == sequential


def _sleepy_cases(root: Path) -> Path:
    """Two cases, the first of which the sleepy loader sleeps through."""
    for name, word in (("a/sleeps", "SLEEP"), ("b/answers", "")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{name}.yaml").write_text(
            "title: A case the sleepy loader runs\nclauses: [modules.singleton]\nmodules:\n  program: |\n"
            f"    // {word}\n    var t = require('conformanceHarness').start(require);\n"
            "    t.clause('modules.singleton');\n    t.done();\n", encoding="utf-8")
    return root


@pytest.fixture
def sleepy():
    from tests.fake_loaders import sleepy
    sleepy.RELEASE.clear()
    yield sleepy
    sleepy.RELEASE.set()  # the thread the run gave up on ends now


def test_an_in_process_loader_that_sleeps_times_out_and_the_run_goes_on(tmp_path, sleepy):
    root = _sleepy_cases(tmp_path / "cases")
    cases, errors = load_all(discover(root), root)
    assert not errors
    started = time.monotonic()
    verdicts = list(run_cases(cases, sleepy.SleepyLoader(), SPEC, timeout=0.5))
    assert time.monotonic() - started < sleepy.LIFETIME / 2
    # the next case ran and was judged on what the loader printed (FEATURES alone)
    assert [(v.case, v.outcome is Outcome.TIMEOUT) for v in verdicts] == [("a/sleeps", True),
                                                                          ("b/answers", False)]
    assert "did not return within 2 s of wall clock" in verdicts[0].message


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_gives_a_sleeping_in_process_loader_a_timeout(tmp_path, capsys, sleepy,
                                                                       hostile, jobs):
    from conformance.cli import main
    root = _sleepy_cases(tmp_path / "cases")
    out = tmp_path / "r.json"
    started = time.monotonic()
    code = main(["--cases", str(root), "--loader", "tests.fake_loaders.sleepy:SleepyLoader",
                 "--timeout", "0.5", "-j", jobs, "--json", str(out)])
    took = time.monotonic() - started
    assert took < sleepy.LIFETIME / 2, "the run waited for the sleeping loader"
    assert code == 1
    verdicts = read(out).verdicts
    # the next case ran and was judged on what the loader printed (FEATURES alone)
    assert [(v.case, v.outcome is Outcome.TIMEOUT) for v in verdicts] == [("a/sleeps", True),
                                                                          ("b/answers", False)]
    hostile("Misbehaving loaders", f"an in-process Python loader (--loader module:Class) that "
                                   f"sleeps through a case, --timeout 0.5, -j {jobs}",
            f"timeout: {verdicts[0].message}; the next case ran (the loader runs in a thread "
            "the run stops waiting for)")


class Undeclared(Recording):
    """A loader that has run_all and looks as if it waited on a process, but declares neither."""

    capabilities = Capabilities()
    waits_on_process = True


def test_the_runner_goes_by_what_a_loader_declares_not_by_what_it_has():
    cases = [c for c in suite() if c.sandbox is not True and SPEC in c.versions][:3]
    loader = Undeclared()
    list(run_cases(cases, loader, SPEC))
    assert loader.ran == [f"run:{c.id}" for c in cases]  # run_all was not declared


class Forking:
    """An in-process loader that declares it may run in forked worker processes."""

    name = "forking"
    declaration = Declaration()
    capabilities = Capabilities(forks=True)

    def run(self, program):
        return Execution(stdout=f"pid {os.getpid()}\n")


def test_a_loader_that_declares_forks_runs_in_worker_processes_with_jobs():
    cases = [c for c in suite() if c.sandbox is not True and SPEC in c.versions][:8]
    verdicts = list(run_cases(cases, Forking(), SPEC, jobs=2))
    pids = {line for v in verdicts for line in v.details if line.startswith("stdout: pid")}
    assert pids and f"stdout: pid {os.getpid()}" not in pids


def test_a_profile_case_is_prepared_as_files_with_the_harness_beside_the_main_file(
        node_catalogue):
    from conformance.caseload import load
    from conformance.harness import key_in
    from conformance.run import not_applicable, prepare
    from tests.node_profile import CASES

    case = load(CASES / "node/nested/main-in-a-subdirectory.yaml", CASES)
    program = prepare(case, 5.0, "0123456789abcdef")
    assert (program.modules, program.main, program.timeout) == ({}, "app/src/program.js", 5.0)
    assert set(program.files) == {"app/src/program.js", "app/src/here.js", "app/lib/there.js",
                                  "app/src/conformanceHarness.js"}
    assert key_in(program.files["app/src/conformanceHarness.js"]) == "0123456789abcdef"
    top = load(CASES / "node/exports/replace-with-function.yaml", CASES)
    assert "conformanceHarness.js" in prepare(top).files
    loader = ReferenceLoader()
    assert not_applicable(case, loader, "node") is None
    assert not_applicable(case, loader, "1.1.1") == ("not applicable: the case is of the node "
                                                     "profile, the run of the Modules/1.1.1")
