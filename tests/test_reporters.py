"""Reporters: the fan-out calls each output in order, and one that fails costs no other."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conformance import cli
from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.reporters import Reporters
from conformance.results import OutputError, Results, read, verdict_json

PLAN = Results("0.1.0", "reference", "1.1.1", False, (), 0.0, False, ("a/one", "a/two"))
ONE = Verdict("a/one", ("modules.singleton",), Outcome.PASS, "", 0.1)
TWO = Verdict("a/two", ("modules.singleton",), Outcome.FAIL, "one is two", 0.2, (),
              Kind.ASSERTION_FAILED)


class Recorder:
    """A reporter that notes every call in a shared log; `fail` makes one kind of call raise
    (from the `at`-th such call on)."""

    def __init__(self, name: str, log: list, lists_cases: bool = False,
                 fail: str | None = None, error: Exception | None = None, at: int = 1):
        self.name, self.log, self.lists_cases = name, log, lists_cases
        self.fail, self.error, self.at = fail, error, at
        self.calls = {"start": 0, "verdict": 0, "finish": 0}
        self.plan: Results | None = None
        self.verdicts: list[Verdict] = []
        self.results: Results | None = None

    def _note(self, event: str, value) -> None:
        self.calls[event] += 1
        self.log.append((self.name, event, value))
        if event == self.fail and self.calls[event] >= self.at:
            raise self.error or OutputError(f"could not write {self.name}: the disk is full")

    def start(self, plan: Results) -> None:
        self.plan = plan
        self._note("start", plan.loader)

    def verdict(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)
        self._note("verdict", verdict.case)

    def finish(self, results: Results) -> None:
        self.results = results
        self._note("finish", results.complete)


def stream(reporters: Reporters, *verdicts: Verdict, complete: bool = True) -> Results:
    """The stream the command line sends: the plan, each verdict, the final results."""
    reporters.start(PLAN)
    for verdict in verdicts:
        reporters.verdict(verdict)
    results = reporters.results(complete, 1.5)
    reporters.finish(results)
    return results


def test_each_event_goes_to_every_reporter_in_order():
    log: list = []
    reporters = Reporters([Recorder("a", log), None, Recorder("b", log)])
    stream(reporters, ONE, TWO)
    assert log == [("a", "start", "reference"), ("b", "start", "reference"),
                   ("a", "verdict", "a/one"), ("b", "verdict", "a/one"),
                   ("a", "verdict", "a/two"), ("b", "verdict", "a/two"),
                   ("a", "finish", True), ("b", "finish", True)]
    assert reporters.errors == []


def test_the_results_keep_every_verdict_only_where_a_reporter_lists_cases():
    counted = stream(Reporters([Recorder("a", [])]), ONE, TWO, complete=False)
    assert counted.verdicts == () and counted.tally.done == 2 and not counted.complete
    assert counted.planned == PLAN.planned and counted.seconds == 1.5
    assert counted.where_stopped() == "stopped after 2 of 2 cases"
    listed = stream(Reporters([Recorder("a", []), Recorder("b", [], lists_cases=True)]),
                    ONE, TWO)
    assert listed.verdicts == (ONE, TWO) and listed.count(Outcome.FAIL) == 1


@pytest.mark.parametrize("event", ["verdict", "finish"])
def test_a_reporter_that_cannot_write_costs_no_other(event):
    log: list = []
    first, failing, last = Recorder("a", log), Recorder("b", log, fail=event), \
        Recorder("c", log)
    reporters = Reporters([first, failing, last])
    stream(reporters, ONE, TWO)
    for other in (first, last):
        assert other.verdicts == [ONE, TWO] and other.results is not None
    # Called no more after it failed, and its line is kept.
    assert failing.calls == {"start": 1, "verdict": 1 if event == "verdict" else 2,
                             "finish": 1 if event == "finish" else 0}
    assert reporters.errors == ["could not write b: the disk is full"]
    assert reporters.failed(failing) and not reporters.failed(first)
    assert not reporters.failed(last)


def test_a_reporter_that_fails_on_a_later_verdict_has_its_error_once():
    log: list = []
    failing, last = Recorder("b", log, fail="verdict", at=2), Recorder("c", log)
    reporters = Reporters([failing, last])
    stream(reporters, ONE, TWO, ONE)
    assert failing.verdicts == [ONE, TWO] and last.verdicts == [ONE, TWO, ONE]
    assert reporters.errors == ["could not write b: the disk is full"]


def test_a_bug_in_one_reporter_still_lets_the_others_have_the_event_then_is_raised():
    log: list = []
    buggy, last = Recorder("a", log, fail="verdict", error=ValueError("a bug")), \
        Recorder("b", log)
    reporters = Reporters([buggy, last])
    reporters.start(PLAN)
    with pytest.raises(ValueError, match="a bug"):
        reporters.verdict(ONE)
    assert last.verdicts == [ONE] and reporters.errors == []


def test_a_reporter_that_refuses_the_start_stops_the_run_there():
    log: list = []
    refusing, later = Recorder("a", log, fail="start"), Recorder("b", log)
    with pytest.raises(OutputError):
        Reporters([refusing, later]).start(PLAN)
    assert later.calls["start"] == 0


# Through the command line ------------------------------------------------------------------

def added(monkeypatch, *extra: Recorder) -> None:
    """Add reporters at the end of the list the command line builds, as a new output would."""
    monkeypatch.setattr(cli, "Reporters", lambda reporters: Reporters([*reporters, *extra]))


def test_a_reporter_added_to_the_list_sees_every_verdict_of_a_real_run(tmp_path, monkeypatch,
                                                                      capsys):
    log: list = []
    new = Recorder("new", log, lists_cases=True)
    added(monkeypatch, new)
    out = tmp_path / "r.json"
    assert main(["-k", "cycles/", "-j", "2", "--json", str(out)]) == ExitCode.OK
    written = read(out)
    assert new.plan is not None and new.plan.planned == written.planned
    assert len(written.planned) >= 3
    # Every verdict, in the planned order, as the results file has it (seconds rounded there).
    assert list(map(verdict_json, new.verdicts)) == list(map(verdict_json, written.verdicts))
    assert new.results is not None and new.results.complete
    assert new.results.verdicts == tuple(new.verdicts)
    assert new.results.tally.done == len(written.planned)
    assert [event for _, event, _ in log] == \
        ["start"] + ["verdict"] * len(written.planned) + ["finish"]
    assert f": {len(written.planned)} passed, 0 failed in " in capsys.readouterr().out


@pytest.mark.parametrize("event", ["verdict", "finish"])
def test_a_reporter_that_cannot_write_is_one_line_and_every_other_output_is_written(
        tmp_path, monkeypatch, capsys, event):
    added(monkeypatch, Recorder("the new view", [], fail=event))
    out, xml = tmp_path / "r.json", tmp_path / "junit.xml"
    code = main(["-k", "cycles/", "--json", str(out), "--junit", str(xml)])
    captured = capsys.readouterr()
    assert code == ExitCode.OUTPUT_ERROR
    assert captured.err.splitlines() == ["runner.py: could not write the new view: the disk "
                                         "is full"]
    assert read(out).complete and len(read(out).verdicts) == len(read(out).planned)
    assert ET.parse(xml).getroot().get("tests") == str(len(read(out).planned))
    assert "passed, 0 failed in" in captured.out  # the summary is still shown


def test_the_expectations_are_still_compared_when_another_output_is_lost(tmp_path, monkeypatch,
                                                                          capsys):
    added(monkeypatch, Recorder("the new view", [], fail="finish"))
    known = tmp_path / "known.yaml"
    known.write_text('loader: reference\nspec: "1.1.1"\nfailures: {}\n')
    assert main(["-k", "cycles/", "--expectations", str(known)]) == ExitCode.OUTPUT_ERROR
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].startswith("expectations: 0 known failures as recorded")
    assert captured.err.splitlines() == ["runner.py: could not write the new view: the disk "
                                         "is full"]
