"""Outcomes and verdicts: a Verdict makes its strings safe where it is made (one line each,
encodable, bounded); its kind is a Kind that fits its outcome; classes of outcomes and what
catches a mutant are defined in outcomes.py alone."""

import ast
import itertools
import json
import random
import re
from pathlib import Path

import pytest

import conformance
from conformance.contract import Ending, Execution
from conformance.case import Case
from conformance.expectations import load
from conformance.judge import judge
from conformance.outcomes import (BREACHES, CLEAN, DETAIL_LIMIT, ERRORS, FAILING, FAILURES,
                                  KIND_OUTCOMES, MAX_DETAILS, MESSAGE_LIMIT, MUST_BREACHES, NOTED,
                                  RECORDED, Kind, Outcome, Verdict, caught_by, fits)
from conformance.reference import ReferenceLoader
from conformance.results import ResultsError, read, write
from conformance.run import run_cases

BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def verdict(message, details=()):
    return Verdict("area/name", ("require.function",), Outcome.FAIL, message, 0.1, details,
                   Kind.ASSERTION_FAILED)


def test_line_breaks_of_every_kind_and_lone_surrogates_are_escaped():
    v = verdict("a\nb\u2028c\x85d\ud800e\udfff\x1bf", ("x\fy",))
    assert v.message == "a\\nb\\u2028c\\x85d\\ud800e\\udfff\x1bf"  # ESC is left to each writer
    assert v.details == ("x\\x0cy",)
    v.message.encode("utf-8")
    assert len(v.message.splitlines()) == 1


def test_message_details_and_their_number_are_bounded():
    v = verdict("m" * 60_000_000, tuple("d" * 10_000 for _ in range(100_000)))
    assert len(v.message) == MESSAGE_LIMIT and v.message.endswith("(60000000 characters in all)")
    assert len(v.details) == MAX_DETAILS and v.details[-1] == \
        f"... and {100_000 - MAX_DETAILS + 1} more lines"
    assert all(len(d) <= DETAIL_LIMIT for d in v.details)


def test_making_a_verdict_again_from_its_own_fields_changes_nothing():
    """What a results file reads back equals what was written."""
    rng = random.Random(11)
    pool = [chr(c) for c in range(0x20, 0x7f)] + list(BREAKS) + ["\ud800", "\udc00", "\U0001f600"]
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 3000)))
        once = verdict(text, (text,) * rng.randrange(0, 80))
        again = verdict(once.message, once.details)
        assert (again.message, again.details) == (once.message, once.details)
        assert not any(c in once.message for c in BREAKS + "\ud800\udc00")


# Kinds and the outcomes they go with ---------------------------------------------------------

#: Every kind string a results file has ever held: a Kind member's value must stay one of them.
WRITTEN_KINDS = {"", "assertion-failed", "should-breached", "reading-not-met",
                 "precondition-failed", "uncaught-error", "stdout-closed", "stopped-early",
                 "no-assertions", "ran-twice", "not-started", "no-harness-output", "timeout",
                 "loader-unavailable", "loader-crashed", "output-limit", "protocol-violation",
                 "not-applicable", "state-leak", "flaky"}


def test_every_kind_maps_to_at_least_one_outcome_and_every_outcome_has_a_kind():
    assert set(KIND_OUTCOMES) == set(Kind)
    assert all(KIND_OUTCOMES[kind] and kind.outcomes == KIND_OUTCOMES[kind] for kind in Kind)
    assert all(isinstance(o, Outcome) for kind in Kind for o in kind.outcomes)
    assert {o for kind in Kind for o in kind.outcomes} == set(Outcome)
    assert Kind.NONE.outcomes == (Outcome.PASS,) and Kind("").outcomes == (Outcome.PASS,)


def test_a_kind_is_the_same_string_results_files_have_always_held():
    assert {kind.value for kind in Kind} == WRITTEN_KINDS
    for kind in Kind:
        assert kind == kind.value and str(kind) == f"{kind}" == kind.value
        assert json.loads(json.dumps({"kind": kind})) == {"kind": kind.value}


def test_a_verdict_takes_a_kind_string_and_refuses_one_unknown_or_not_fitting_its_outcome():
    v = Verdict("a/b", (), Outcome.FAIL, "m", 0.1, (), "uncaught-error")
    assert v.kind is Kind.UNCAUGHT_ERROR
    with pytest.raises(ValueError, match="not a valid Kind"):
        Verdict("a/b", (), Outcome.FAIL, "m", 0.1, (), "exploded")
    with pytest.raises(ValueError, match="cannot be fail .it goes with blocked"):
        Verdict("a/b", (), Outcome.FAIL, "m", 0.1, (), Kind.NO_HARNESS_OUTPUT)
    with pytest.raises(ValueError, match="cannot be fail .it goes with pass"):
        Verdict("a/b", (), Outcome.FAIL, "m", 0.1)
    assert not fits(Outcome.PASS, Kind.TIMEOUT) and fits(Outcome.BLOCKED, Kind.STOPPED_EARLY)


def _case(clauses, relies=(), needs=(), main="program"):
    return Case(id="area/name", path="cases/area/name.yaml", title="a case for the judge",
                clauses=tuple(clauses), modules={main: ""}, main=main, needs=frozenset(needs),
                sandbox=None, versions=("1.0", "1.1", "1.1.1"), relies=tuple(relies))


def _judged_over_a_grid():
    """(kind, outcome) -> one verdict the judge gives for it, over cases of every level (a
    MUST, a precondition, a SHOULD, a reading, a feature, a nested main), transcripts that end
    in every part of a program and every way, and every way a loader can end."""
    cases = [_case(("require.function",)),
             _case(("require.cycles",), relies=("modules.singleton",)),
             _case(("module.id.read-only",)),
             _case(("reading.relative-passed-require",)),
             _case(("require.paths",), needs=("require.paths",)),
             _case(("ids.relative",), relies=("ids.terms",), main="app/main")]
    stdouts = ["", "noise\n", "PASS 2 out of order\n",
               "FEATURES require.paths=absent\nSKIP lacks it\nDONE 0\n",
               "FEATURES \nPASS 1 a\nFEATURES \nPASS 2 a\nDONE 2\n"]
    for part in ("", "CLAUSE require.cycles\n", "GIVEN modules.singleton\n",
                 "CLAUSE module.id.read-only\n", "CLAUSE reading.relative-passed-require\n"):
        for end in ("", "PASS 1 a\n", "FAIL 1 a\n", "DONE 0\n", "PASS 1 a\nDONE 1\n",
                    "FAIL 1 a\nDONE 1\n"):
            stdouts.append("FEATURES \n" + part + end)
    endings = [{}, {"exit_code": 1, "stderr": "Error: cannot find module 'app/main'\n"},
               {"ending": Ending.TIMED_OUT, "exit_code": None},
               {"ending": Ending.CRASHED, "exit_code": None},
               {"ending": Ending.UNAVAILABLE, "exit_code": None},
               {"truncated": True}, {"stdout_closed": True},
               {"leak": "globals an earlier case set: x"}]
    seen = {}
    for case, stdout, ending in itertools.product(cases, stdouts, endings):
        v = judge(case, Execution(stdout=stdout, **ending), "1.1.1")
        seen.setdefault((v.kind, v.outcome), v)
    return seen


def test_the_judge_gives_every_kind_with_exactly_the_outcomes_it_maps_to():
    """Every pair of KIND_OUTCOMES is one the judge gives (or, for flaky, --repeat's merge of
    verdicts that differ), and they give no other."""
    from conformance.repeat import merged

    seen = _judged_over_a_grid()
    pass_, fail = (next(v for (k, o), v in seen.items() if o is outcome)
                   for outcome in (Outcome.PASS, Outcome.FAIL))
    for v in merged([pass_, fail], 2):
        seen.setdefault((v.kind, v.outcome), v)
    assert all(type(kind) is Kind for kind, _ in seen)
    assert set(seen) == {(kind, o) for kind in Kind for o in kind.outcomes}


def test_every_verdict_of_the_suite_on_the_reference_and_on_mutants_has_a_kind_that_fits():
    """Verdict refuses a kind that does not fit, so every test that runs cases checks this;
    here the whole suite on the reference loader and on mutants that break it three ways."""
    from conformance.caseload import default_root, discover, load_all
    from conformance.mutants import MUTANTS

    cases, errors = load_all(discover(default_root()), default_root())
    assert not errors
    loaders = [ReferenceLoader()] + [m.loader() for m in MUTANTS[:3]]
    kinds = set()
    for loader in loaders:
        for v in run_cases(cases, loader, "1.1.1"):
            assert type(v.kind) is Kind and fits(v.outcome, v.kind), v
            kinds.add(v.kind)
    assert {Kind.NONE, Kind.NOT_APPLICABLE} < kinds


# Files written before --------------------------------------------------------------------------

GALLERY = sorted((Path(__file__).parent.parent / "docs" / "gallery-results").glob("*.json"))
#: A results file as a run before blocked verdicts existed wrote it: no-harness-output was a fail.
OLD = [{"format": 2, "suite": "0.1.0", "loader": "old", "spec": "1.1.1", "sandbox": False,
        "planned": ["a/one", "a/two", "a/three"]},
       {"id": "a/one", "clauses": ["require.function"], "outcome": "fail",
        "kind": "no-harness-output", "message": "m", "seconds": 0.1, "details": [], "blame": []},
       {"id": "a/two", "clauses": ["module.id"], "outcome": "advisory", "kind": "uncaught-error",
        "message": "m", "seconds": 0.1, "details": [], "blame": ["module.id"]},
       {"id": "a/three", "clauses": ["module.id"], "outcome": "pass", "kind": "",
        "message": "1 assertion(s) held", "seconds": 0.1, "details": [], "blame": []},
       {"end": True, "complete": True, "seconds": 0.3, "summary": {}}]


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_a_results_file_written_before_still_reads_with_the_same_kinds(path, tmp_path):
    assert GALLERY
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    written = [(line["id"], line["outcome"], line["kind"]) for line in lines if "outcome" in line]
    results = read(path)
    assert [(v.case, v.outcome.value, v.kind.value) for v in results.verdicts] == written
    assert all(fits(v.outcome, v.kind) for v in results.verdicts)
    write(results, tmp_path / "again.json")
    assert [(v.case, v.outcome.value, v.kind.value)
            for v in read(tmp_path / "again.json").verdicts] == written


def test_a_results_file_with_a_kind_that_no_longer_fits_its_outcome_still_reads(tmp_path):
    path = tmp_path / "old.json"
    path.write_text("".join(json.dumps(line) + "\n" for line in OLD), encoding="utf-8")
    results = read(path)
    assert [(v.outcome, v.kind) for v in results.verdicts] == [
        (Outcome.FAIL, Kind.NO_HARNESS_OUTPUT), (Outcome.ADVISORY, Kind.UNCAUGHT_ERROR),
        (Outcome.PASS, Kind.NONE)]
    assert not results.ok
    write(results, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text(encoding="utf-8").splitlines()[1] == \
        json.dumps(OLD[1])


def test_a_results_file_with_an_unknown_kind_names_its_line(tmp_path):
    path = tmp_path / "odd.json"
    lines = OLD[:2] + [dict(OLD[2], kind="exploded")] + OLD[3:]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"odd\.json:3: kind 'exploded' is not one of"):
        read(path)


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "expectations")
                                        .glob("*.yaml")), ids=lambda p: p.stem)
def test_an_expectations_file_written_before_still_loads(path):
    entries = load(path).entries
    assert all(e.outcome in RECORDED for e in entries.values())


# One definition --------------------------------------------------------------------------------

PACKAGE = Path(conformance.__file__).parent
MEMBERS = {o.name for o in Outcome}


def _outcome_member(node):
    """Whether node is Outcome.X, or something read off it (Outcome.X.value)."""
    while isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "Outcome":
            return node.attr in MEMBERS
        node = node.value
    return False


def _sources():
    return [(path, ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(PACKAGE.rglob("*.py")) if path.name != "outcomes.py"]


def test_no_module_but_outcomes_builds_a_tuple_list_or_set_of_outcomes():
    """Classes of outcomes (FAILING, BREACHES, RECORDED, ...) are named in outcomes.py. (A
    tuple that pairs an outcome with something else is a record, not a class of outcomes.)"""
    found = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path, tree in _sources()
             for node in ast.walk(tree)
             if isinstance(node, (ast.Tuple, ast.List, ast.Set))
             and node.elts and all(_outcome_member(e) for e in node.elts)]
    assert found == []


def test_what_catches_a_mutant_is_decided_only_in_outcomes():
    """BREACHES is read only by caught (and RECORDED, built on it): every other module asks
    caught or caught_by."""
    found = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path, tree in _sources()
             for node in ast.walk(tree)
             if isinstance(node, (ast.Name, ast.alias))
             and getattr(node, "id", getattr(node, "name", None)) == "BREACHES"]
    assert found == []
    assert caught_by([Verdict("a/x", ("c",), Outcome.WARN, "m", 0, (), Kind.SHOULD_BREACHED,
                              ("c",)),
                      Verdict("a/y", ("c",), Outcome.BLOCKED, "m", 0, (),
                              Kind.PRECONDITION_FAILED, ("c",)),
                      Verdict("a/z", ("c",), Outcome.FAIL, "m", 0, (), Kind.ASSERTION_FAILED,
                              ("d",))], "c") == ["a/x"]


def test_named_classes_of_outcomes_agree_with_each_other():
    assert set(FAILING) == set(FAILURES) | set(ERRORS)
    assert {o for o in Outcome if o.ok} == set(Outcome) - set(FAILING)
    assert set(Outcome) == set(FAILING) | set(NOTED) | set(CLEAN)
    assert set(BREACHES) == set(MUST_BREACHES) | {Outcome.WARN}
    assert set(RECORDED) == set(BREACHES) | {Outcome.BLOCKED}
    assert Outcome.BLOCKED not in BREACHES and not set(CLEAN) & set(RECORDED)


def test_the_readme_lists_every_kind_with_the_outcomes_it_goes_with():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z-]+)` \| ([a-z, ]+?)(?: \(.*?\))? \|", readme, re.M)
    listed = {kind: tuple(outcome.split(", ")) for kind, outcome in rows if kind in WRITTEN_KINDS}
    assert listed == {kind.value: tuple(o.value for o in kind.outcomes)
                      for kind in Kind if kind is not Kind.NONE}
