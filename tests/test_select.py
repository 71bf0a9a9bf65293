"""Selecting cases (-k expressions, --clause, --list) and stopping a run early (--max-fail, -x,
a loader that never started), through conformance.select and the command line."""

import shlex
import sys

import pytest

from conformance import caseload
from conformance.caseload import find
from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.results import read
from conformance.text import counted
from conformance.select import (NEVER_STARTED_AFTER, SelectionError, Stop, parse,
                                selection)
from tests.test_cli import BROKEN, GOOD, write_case

IDS = ["cycles/basic", "cycles/partial", "module/id", "require/Cycles-Twice", "sandbox/paths"]


def taken(*keywords, ids=IDS):
    """The ids the -k expressions take, in order."""
    chosen = selection(keywords)
    return [i for i in ids if chosen.takes_id(i)]


@pytest.mark.parametrize("expression, expected", [
    ("cycles", ["cycles/basic", "cycles/partial", "require/Cycles-Twice"]),
    ("cycles or module", ["cycles/basic", "cycles/partial", "module/id",
                          "require/Cycles-Twice"]),
    ("not cycles", ["module/id", "sandbox/paths"]),
    ("cycles and not partial", ["cycles/basic", "require/Cycles-Twice"]),
    ("module or cycles and basic", ["cycles/basic", "module/id"]),  # and binds tighter
    ("(module or cycles) and not (basic or twice)", ["cycles/partial", "module/id"]),
    ("not not sandbox", ["sandbox/paths"]),
    ("s/p", ["cycles/partial"]),
    ("", IDS),
])
def test_expressions_take_ids_as_pytest_k_does(expression, expected):
    assert taken(expression) == expected


def test_several_k_must_all_hold():
    assert taken("cycles", "not require") == ["cycles/basic", "cycles/partial"]
    assert taken("cycles", "module") == []


@pytest.mark.parametrize("expression, message", [
    ("cycles and", "-k 'cycles and': a word, 'not' or '(' expected, found the end at position 11"),
    ("(cycles", "-k '(cycles': ')' expected, found the end at position 8"),
    ("cycles module", "-k 'cycles module': 'and', 'or' or the end expected, found 'module' at "
                      "position 8"),
    ("or cycles", "-k 'or cycles': a word, 'not' or '(' expected, found 'or' at position 1"),
    ("cycles)", "-k 'cycles)': 'and', 'or' or the end expected, found ')' at position 7"),
    ("()", "-k '()': a word, 'not' or '(' expected, found ')' at position 2"),
    ("__import__('os').system('x')", "-k \"__import__('os').system('x')\": 'and', 'or' or the "
                                     "end expected, found '(' at position 11"),
])
def test_a_malformed_expression_names_k_and_the_position(expression, message):
    with pytest.raises(SelectionError) as error:
        parse(expression)
    assert str(error.value) == message


def test_an_unknown_clause_names_the_closest():
    with pytest.raises(SelectionError, match=r"^--clause 'require.returns-export': no such "
                       r"clause in the catalogue; the closest: require.returns-exports"):
        selection(clauses=["require.returns-export"])
    with pytest.raises(SelectionError, match="`runner.py clauses` lists them$"):
        selection(clauses=["zzzzzz"])


def test_counted_says_one_case_and_two_cases():
    assert [counted(n, "case") for n in (0, 1, 2)] == ["0 cases", "1 case", "2 cases"]
    assert counted(1, "assertion") == "1 assertion"


def cited(clause):
    return GOOD.replace("clauses: [require.returns-exports]", f"clauses: [{clause}]")


@pytest.fixture
def cases(tmp_path):
    root = tmp_path / "cases"
    write_case(root, "cycles/basic", GOOD)
    write_case(root, "cycles/partial", cited("modules.singleton"))
    write_case(root, "module/id", GOOD)
    write_case(root, "sandbox/paths", cited("modules.singleton"))
    return root


def test_the_id_filter_reads_no_file_and_the_clause_filter_applies_at_check(cases, monkeypatch):
    reads = []
    real = caseload._parse
    monkeypatch.setattr(caseload, "_parse", lambda path, *rest: reads.append(path) or
                        real(path, *rest))
    suite = find(cases, selection(["cycles or module"], ["modules.singleton"]))
    assert suite.ids == ["cycles/basic", "cycles/partial", "module/id"] and reads == []
    assert suite.check() == []
    assert len(reads) == 3  # sandbox/paths, which the -k leaves out, is never read
    assert suite.ids == ["cycles/partial"] and [c.id for c in suite] == ["cycles/partial"]
    assert find(cases, "cycles").ids == ["cycles/basic", "cycles/partial"]  # a str: one -k


def list_run(capsys, *argv):
    status = main(["--list", *argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_list_prints_the_selected_cases_and_runs_none(cases, tmp_path, capsys):
    marker = tmp_path / "ran"
    loader = f"{shlex.quote(sys.executable)} -c \"open({str(marker)!r}, 'w')\""
    status, out, err = list_run(capsys, "--cases", str(cases), "-k", "cycles or module",
                                "-k", "not basic", "--loader-cmd", loader)
    assert status == ExitCode.OK and not marker.exists()
    assert out == [
        "cycles/partial  A required module's exports come back from require  "
        "[modules.singleton]",
        "module/id  A required module's exports come back from require  "
        "[require.returns-exports]"]
    assert err == "2 cases selected\n"
    status, out, err = list_run(capsys, "--cases", str(cases), "--clause", "modules.singleton",
                                "--clause", "require.returns-exports", "-k", "sandbox")
    assert status == ExitCode.OK and [line.split()[0] for line in out] == ["sandbox/paths"]
    assert err == "1 case selected\n"


def test_list_and_run_exit_5_when_nothing_is_selected(cases, capsys):
    status, out, err = list_run(capsys, "--cases", str(cases), "-k", "cycles",
                                "--clause", "require.accepts-id")
    assert (status, out) == (ExitCode.NO_CASES, [])
    assert err == "runner.py: no case matches -k 'cycles' --clause require.accepts-id\n"
    assert main(["--cases", str(cases), "-k", "nothing"]) == ExitCode.NO_CASES
    assert capsys.readouterr().err == "runner.py: no case matches -k 'nothing'\n"


def test_list_stops_at_a_malformed_case_as_a_run_would(cases, capsys):
    write_case(cases, "module/bad", "title: [\n")
    status, out, err = list_run(capsys, "--cases", str(cases))
    assert status == ExitCode.CASE_ERROR and out == []
    assert "module/bad.yaml:" in err and err.endswith("runner.py: 1 malformed case file\n")


@pytest.mark.parametrize("argv, said", [
    (["-k", "cycles and"], "runner.py: error: -k 'cycles and': a word, 'not' or '(' expected, "
                           "found the end at position 11"),
    (["--clause", "modules.singletn"], "runner.py: error: --clause 'modules.singletn': no such "
                                       "clause in the catalogue; the closest: modules.singleton"),
])
def test_a_bad_selection_is_one_line_and_exit_4(cases, capsys, argv, said):
    for extra in ([], ["--list"]):
        assert main(["--cases", str(cases), *argv, *extra]) == ExitCode.USAGE_ERROR
        captured = capsys.readouterr()
        assert captured.err == said + "\n" and captured.out == ""


def verdict(case, kind=Kind.NOT_STARTED, message="the program never started: Error: boom"):
    outcome = kind.outcomes[0]
    return Verdict(case, ("require.returns-exports",), outcome, message, 0.0, (), kind)


def test_stop_when_the_first_applicable_cases_never_started_alike():
    stop = Stop()
    skip = verdict("s", Kind.NOT_APPLICABLE, "not applicable: sandboxes only")
    said = [stop.after(v) for v in (verdict("a"), skip, verdict("b"), skip, verdict("c"))]
    assert said[:4] == [None] * 4 and NEVER_STARTED_AFTER == 3
    assert said[4] == ("the loader never started: the program never started: Error: boom "
                       "(the first 3 cases it was given all ended so)")


@pytest.mark.parametrize("third", [
    verdict("c", Kind.NONE, "1 assertion held"),
    verdict("c", Kind.ASSERTION_FAILED, "assertion 1 failed"),
    verdict("c", Kind.UNCAUGHT_ERROR, "the program never started: Error: boom"),
    verdict("c", Kind.NOT_STARTED, "the program never started: Error: other"),
    verdict("c", Kind.TIMEOUT, "no result within 10 s"),
])
def test_a_loader_that_runs_or_differs_is_never_stopped_as_not_started(third):
    stop = Stop()
    assert [stop.after(v) for v in (verdict("a"), verdict("b"), third)] == [None] * 3
    assert all(stop.after(verdict(c)) is None for c in "defgh")  # the rule is off for the run


def test_stop_after_max_fail_cases_that_did_not_pass():
    stop = Stop(2)
    seen = [stop.after(verdict(c, Kind.ASSERTION_FAILED, f"failed {c}")) if c != "p"
            else stop.after(verdict(c, Kind.NONE, "held")) for c in "apb"]
    assert seen == [None, None, "stopped at --max-fail 2: 2 cases did not pass"]
    assert Stop(1).after(verdict("a", Kind.ASSERTION_FAILED, "x")) == \
        "stopped at --max-fail 1: 1 case did not pass"


def test_a_loader_that_never_starts_stops_the_run_with_one_line(tmp_path, capsys):
    for index in range(6):
        write_case(tmp_path / "cases", f"area/c{index}", GOOD)
    out = tmp_path / "r.json"
    loader = f"{shlex.quote(sys.executable)} -c \"import sys; sys.exit('cannot open engine.so')\""
    status = main(["--cases", str(tmp_path / "cases"), "--loader-cmd", loader,
                   "--loader-name", "broken", "--json", str(out), "-j", "2"])
    err = capsys.readouterr().err.splitlines()
    assert status == ExitCode.FAILED
    assert err[-1] == ("runner.py: the loader never started: the program never started (its "
                       "main module did not reach the harness's start()): cannot open "
                       "engine.so (the first 3 cases it was given all ended so); stopped after "
                       "3 of 6 cases; the next was area/c3")
    results = read(out)
    assert not results.complete and [v.case for v in results.verdicts] == \
        ["area/c0", "area/c1", "area/c2"]


def test_a_loader_that_runs_programs_and_fails_them_runs_every_case(tmp_path, capsys):
    for index in range(5):
        write_case(tmp_path / "cases", f"area/c{index}", BROKEN)
    out = tmp_path / "r.json"
    assert main(["--cases", str(tmp_path / "cases"), "--json", str(out)]) == ExitCode.FAILED
    results = read(out)
    assert results.complete and [v.outcome for v in results.verdicts] == [Outcome.FAIL] * 5


@pytest.mark.parametrize("argv, ran", [(["-x"], 1), (["--max-fail", "2"], 2),
                                       (["--max-fail", "2", "-j", "2"], 2),
                                       (["--max-fail", "9"], 5)])
def test_max_fail_stops_after_that_many_failures(tmp_path, capsys, argv, ran):
    write_case(tmp_path / "cases", "area/z-good", GOOD)
    for index in range(4):
        write_case(tmp_path / "cases", f"area/c{index}", BROKEN)
    out = tmp_path / "r.json"
    status = main(["--cases", str(tmp_path / "cases"), "--json", str(out), *argv])
    results = read(out)
    assert status == ExitCode.FAILED and len(results.verdicts) == ran
    assert results.complete == (ran == 5)
    err = capsys.readouterr().err
    if ran < 5:
        assert err.splitlines()[-1] == (
            f"runner.py: stopped at --max-fail {ran}: {counted(ran, 'case')} did not pass; "
            f"stopped after {ran} of 5 cases; the next was area/c{ran}")
    else:
        assert "stopped" not in err


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_max_fail_takes_a_number_of_one_or_more(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--max-fail", value])
    assert stop.value.code == ExitCode.USAGE_ERROR
    assert f"argument --max-fail: {value!r} is not a number of cases, 1 or more" in \
        capsys.readouterr().err


def test_a_gated_run_stops_at_a_new_failure_never_at_a_known_one(tmp_path, capsys):
    """With --expectations, -x stops at the first failure the file does not record as it ended:
    the recorded ones are the run's expected result, not a reason to stop."""
    root = tmp_path / "cases"
    for name in ("area/a-known", "area/b-known", "area/c-good", "area/d-new", "area/e-good"):
        write_case(root, name, BROKEN if "known" in name else GOOD)
    known = tmp_path / "known.yaml"
    assert main(["--cases", str(root), "--write-expectations", str(known)]) == ExitCode.OK
    write_case(root, "area/d-new", BROKEN)  # a failure the file does not record
    out = tmp_path / "r.json"
    capsys.readouterr()
    status = main(["--cases", str(root), "--expectations", str(known), "-x", "--json", str(out)])
    results = read(out)
    assert status == ExitCode.FAILED
    assert [v.case for v in results.verdicts] == ["area/a-known", "area/b-known", "area/c-good",
                                                  "area/d-new"]
    assert "stopped at --max-fail 1: 1 case did not pass" in capsys.readouterr().err
