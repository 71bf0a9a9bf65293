"""Expectation files: strict one-line errors, comparison against a run, and dump round trips."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from conformance.cli import main
from conformance.exitcodes import ExitCode

from conformance.expectations import (
    ASSERTION_KINDS, RECORDED_KINDS, Comparison, Expectation, Expectations, ExpectationsError,
    Standing, check_current, check_fits, compare, dump, failure_of, lines, load, stable, write)
from conformance.outcomes import RECORDED, Kind, Outcome, Verdict
from conformance.results import Results

VALID = """\
# Known failures of one loader against commonjs-conformance.
loader: node
spec: "1.1.1"
failures:
  module/id-main-program:
    outcome: fail
    kind: assertion-failed
    failure: "assertion 1 failed: m"
    reason: >-
      Node's module.id is "." for the main module
      (Module Context 3.1).
  cycles/partial-exports:
    outcome: error
    kind: loader-unavailable
  require/main-identity:
    outcome: warn
    kind: should-breached
    failure: "assertion 1 failed: m"
    reason: a SHOULD
"""

SUITE = ["module/id-main-program", "cycles/partial-exports", "require/main-identity",
         "require/function", "module/other", "paths/absent"]


def write_file(tmp_path: Path, text: str, name: str = "expected.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def verdict(case: str, outcome: Outcome, message: str = "m", details=None,
            kind: Kind | None = None) -> Verdict:
    """A verdict as the judge gives it: of the first kind that fits the outcome (unless given),
    a failed assertion's details naming it as FAIL 1 <message>."""
    kind = kind or next(k for k in Kind if outcome in k.outcomes)
    if details is None:
        details = (f"FAIL 1 {message}",) if kind in ASSERTION_KINDS else ()
    return Verdict(case, ("some.clause",), outcome, message, 0.01, tuple(details), kind)


def results(*verdicts: Verdict, loader: str = "node", spec: str = "1.1.1") -> Results:
    return Results("0.1.0", loader, spec, False, tuple(verdicts), 1.0)


# load ------------------------------------------------------------------------------------------

def test_load_valid_file(tmp_path):
    path = write_file(tmp_path, VALID)
    e = load(path)
    assert (e.path, e.loader, e.spec) == (path, "node", "1.1.1")
    assert list(e.entries) == ["module/id-main-program", "cycles/partial-exports",
                               "require/main-identity"]
    main = e.entries["module/id-main-program"]
    assert main == Expectation("module/id-main-program", Outcome.FAIL,
                               "Node's module.id is \".\" for the main module "
                               "(Module Context 3.1).", Kind.ASSERTION_FAILED,
                               "assertion 1 failed: m")
    assert main.line == 5
    partial = e.entries["cycles/partial-exports"]
    assert (partial.outcome, partial.kind, partial.failure, partial.reason) == (
        Outcome.ERROR, Kind.LOADER_UNAVAILABLE, None, "")
    assert e.legacy == ()
    assert e.entries["require/main-identity"].outcome is Outcome.WARN
    assert (e.loader_line, e.spec_line) == (2, 3)


@pytest.mark.parametrize("failures", ["failures: {}\n", "failures:\n"])
def test_load_no_failures(tmp_path, failures):
    e = load(write_file(tmp_path, "loader: node\nspec: '1.0'\n" + failures))
    assert e.spec == "1.0" and dict(e.entries) == {}


def refused(tmp_path: Path, text: str) -> tuple[Path, ExpectationsError]:
    path = write_file(tmp_path, text)
    with pytest.raises(ExpectationsError) as info:
        load(path)
    return path, info.value


HEAD = "loader: node\nspec: '1.1.1'\nfailures:\n"  # lines 1-3; entries start on line 4

MALFORMED = [
    # (text, line, field, words the problem must contain)
    ("# comment\n- a\n- b\n", 2, "", "mapping"),
    ("just a string\n", 1, "", "mapping"),
    ("", 1, "", "empty"),
    ("loader: [\n", 2, "", "invalid YAML"),
    ("loader: node\nspec: '1.1.1'\nfailures: {}\ncomment: x\n", 4, "comment", "unknown key"),
    ("spec: '1.1.1'\nfailures: {}\n", 1, "loader", "missing"),
    ("loader: node\nfailures: {}\n", 1, "spec", "missing"),
    ("loader: node\nspec: '1.1.1'\n", 1, "failures", "missing"),
    ("loader: ''\nspec: '1.1.1'\nfailures: {}\n", 1, "loader", "non-empty string"),
    ("loader: 12\nspec: '1.1.1'\nfailures: {}\n", 1, "loader", "non-empty string"),
    ("failures: {}\nloader: [a, b]\nspec: '1.1.1'\n", 2, "loader", "non-empty string"),
    ("loader: node\nspec: 1.0\nfailures: {}\n", 2, "spec", "quote"),
    ("loader: node\nspec: 1.10\nfailures: {}\n", 2, "spec", 'spec: "1.10"'),
    ("loader: node\nspec: '2.0'\nfailures: {}\n", 2, "spec", "'2.0' is not one of"),
    ("loader: node\nspec: '1.1.1'\nfailures: [module/x]\n", 3, "failures", "mapping"),
    ("loader: node\nspec: '1.1.1'\nfailures: fail\n", 3, "failures", "mapping"),
    (HEAD + "  module/x: fail\n", 4, "failures.module/x", "mapping"),
    (HEAD + "  module/x:\n", 4, "failures.module/x", "mapping"),
    (HEAD + "  module/x:\n    reason: why\n", 4, "failures.module/x.outcome", "missing"),
    (HEAD + "  module/x: {}\n", 4, "failures.module/x.outcome", "missing"),
    (HEAD + "  module/y: {outcome: fail}\n  module/x:\n    reason: why\n    outcome: broken\n",
     7, "failures.module/x.outcome", "'broken' is not one of fail, error, timeout, warn"),
    (HEAD + "  module/x:\n    outcome: pass\n", 5, "failures.module/x.outcome", "remove"),
    (HEAD + "  module/x:\n    outcome: skip\n", 5, "failures.module/x.outcome", "remove"),
    (HEAD + "  module/x:\n    outcome: [fail]\n", 5, "failures.module/x.outcome", "not one of"),
    (HEAD + "  module/x:\n    outcome: fail\n    reason: 3\n", 6, "failures.module/x.reason",
     "string"),
    (HEAD + "  module/x:\n    outcome: fail\n    reason:\n", 6, "failures.module/x.reason",
     "string"),
    (HEAD + "  module/x:\n    outcome: fail\n    note: x\n", 6, "failures.module/x.note",
     "unknown key (allowed: failure, kind, outcome, reason)"),
    (HEAD + "  module/x:\n    outcome: fail\n    kind: exploded\n", 6, "failures.module/x.kind",
     "'exploded' is not a kind of failure an entry records (assertion-failed, "),
    (HEAD + "  module/x:\n    outcome: error\n    kind: state-leak\n", 6,
     "failures.module/x.kind", "is not a kind of failure an entry records"),
    (HEAD + "  module/x:\n    outcome: fail\n    kind: timeout\n", 6, "failures.module/x.kind",
     "'timeout' does not go with outcome fail (it goes with timeout)"),
    (HEAD + "  module/x:\n    outcome: fail\n    kind: assertion-failed\n    failure: [a]\n", 7,
     "failures.module/x.failure", "must be a string"),
    (HEAD + "  module/x: {outcome: fail}\n  other/y: {outcome: fail}\n"
     "  module/x: {outcome: error}\n", 6, "failures.module/x", "duplicate key"),
    (HEAD + "  1: {outcome: fail}\n", 4, "failures.1", "case id"),
    ("loader: node\nloader: rhino\nspec: '1.1.1'\nfailures: {}\n", 2, "loader", "duplicate"),
]


@pytest.mark.parametrize("text,line,field,words", MALFORMED,
                         ids=[f"{i}-{m[2] or 'top'}" for i, m in enumerate(MALFORMED)])
def test_malformed_file_is_one_line_naming_file_line_field(tmp_path, text, line, field, words):
    path, error = refused(tmp_path, text)
    message = str(error)
    assert "\n" not in message and "\r" not in message, message
    assert error.path == path
    assert error.line == line, message
    assert error.field == field, message
    assert f"{path.name}:{line}:" in message, message
    if field:
        assert f":{line}: {field}: " in message, message
    assert words in message, message


def test_too_large_file_is_refused_unread(tmp_path):
    path, error = refused(tmp_path, "#" * (1 << 20) + "\n")
    assert error.line is None and "at most" in str(error)
    assert not re.search(r"\.yaml:\d+:", str(error))


def test_missing_file_is_an_expectations_error(tmp_path):
    with pytest.raises(ExpectationsError, match="cannot read"):
        load(tmp_path / "absent.yaml")


# compare ---------------------------------------------------------------------------------------

@pytest.fixture
def expectations(tmp_path) -> Expectations:
    return load(write_file(tmp_path, VALID))


def test_all_as_recorded_is_ok(expectations):
    run = results(verdict("module/id-main-program", Outcome.FAIL),
                  verdict("cycles/partial-exports", Outcome.ERROR),
                  verdict("require/main-identity", Outcome.WARN),
                  verdict("require/function", Outcome.PASS),
                  verdict("paths/absent", Outcome.SKIP))
    c = compare(expectations, run, SUITE)
    assert c.ok
    assert c.expected == ("module/id-main-program", "cycles/partial-exports",
                          "require/main-identity")
    assert c.new == c.changed == c.fixed == c.unknown == ()
    assert lines(c) == ["expectations: 3 known failures as recorded, 0 new, 0 changed, "
                        "0 unexpected passes, 0 unknown entries"]


def test_new_failure_is_not_ok(expectations):
    run = results(verdict("module/id-main-program", Outcome.FAIL),
                  verdict("module/other", Outcome.TIMEOUT, "no result within 10 s"),
                  verdict("require/function", Outcome.WARN, "a SHOULD was breached"))
    c = compare(expectations, run, SUITE)
    assert not c.ok
    assert [v.case for v in c.new] == ["module/other", "require/function"]
    assert c.expected == ("module/id-main-program",)
    assert lines(c) == [
        "NEW TIMEOUT module/other: no result within 10 s",
        "NEW WARN require/function: a SHOULD was breached",
        "expectations: 1 known failure as recorded, 2 new, 0 changed, 0 unexpected passes, "
        "0 unknown entries"]


def test_changed_failure_is_not_ok(expectations):
    run = results(verdict("module/id-main-program", Outcome.ERROR, "the loader crashed\nbadly"))
    c = compare(expectations, run, SUITE)
    assert not c.ok
    ((entry, now),) = c.changed
    assert entry.outcome is Outcome.FAIL and now.outcome is Outcome.ERROR
    assert c.expected == c.fixed == c.new == ()
    first = lines(c)[0]
    assert first == ("CHANGED module/id-main-program: recorded fail (assertion-failed): "
                     "assertion 1 failed: m; now error (loader-unavailable): "
                     "the loader crashed\\nbadly")


@pytest.mark.parametrize("outcome,shown", [
    (Outcome.PASS, "UNEXPECTED PASS module/id-main-program: recorded fail "
                   "(update the expectations)"),
    (Outcome.SKIP, "UNEXPECTED PASS module/id-main-program: recorded fail, now not applicable "
                   "(update the expectations)"),
])
def test_unexpected_pass_is_not_ok(expectations, outcome, shown):
    c = compare(expectations, results(verdict("module/id-main-program", outcome)), SUITE)
    assert not c.ok
    assert [(e.case, v.outcome) for e, v in c.fixed] == [("module/id-main-program", outcome)]
    assert lines(c) == [shown, "expectations: 0 known failures as recorded, 0 new, 0 changed, "
                               "1 unexpected pass, 0 unknown entries"]


def test_unknown_case_id_is_not_ok(tmp_path):
    path = write_file(tmp_path, HEAD + "  module/id-main-program: {outcome: fail}\n"
                      "  module/id-mian-program:\n    outcome: fail\n")
    e = load(path)
    run = results(verdict("module/id-main-program", Outcome.FAIL))
    c = compare(e, run, SUITE)
    assert not c.ok
    assert [u.case for u in c.unknown] == ["module/id-mian-program"]
    assert c.expected == ("module/id-main-program",)
    problem = lines(c)[0]
    assert problem.startswith("UNKNOWN CASE module/id-mian-program in ")
    assert problem.endswith(f"{path.name}:5: no such case in the suite")
    assert lines(c)[-1].endswith("1 unknown entry")


def test_recorded_case_not_in_this_run_is_ignored(expectations):
    # As after -k module: only one recorded case ran; the other two are in the suite.
    run = results(verdict("module/id-main-program", Outcome.FAIL),
                  verdict("module/other", Outcome.PASS))
    c = compare(expectations, run, SUITE)
    assert c.ok
    assert c.expected == ("module/id-main-program",)
    assert c.fixed == c.unknown == ()


def test_loader_mismatch_points_at_the_loader_line(expectations):
    with pytest.raises(ExpectationsError) as info:
        compare(expectations, results(loader="rhino"), SUITE)
    assert (info.value.line, info.value.field) == (2, "loader")
    assert "'node'" in str(info.value) and "'rhino'" in str(info.value)
    assert "expected.yaml:2: loader: " in str(info.value)


def test_spec_mismatch_points_at_the_spec_line(expectations):
    with pytest.raises(ExpectationsError) as info:
        compare(expectations, results(spec="1.0"), SUITE)
    assert (info.value.line, info.value.field) == (3, "spec")
    assert "Modules/1.1.1" in str(info.value) and "Modules/1.0" in str(info.value)


def test_comparison_ok_needs_every_list_empty():
    entry = Expectation("a/b", Outcome.FAIL, "")
    v = verdict("a/b", Outcome.PASS)
    assert Comparison(("x",), (), (), (), ()).ok
    assert not Comparison((), (v,), (), (), ()).ok
    assert not Comparison((), (), ((entry, v),), (), ()).ok
    assert not Comparison((), (), (), ((entry, v),), ()).ok
    assert not Comparison((), (), (), (), (entry,)).ok


# dump ------------------------------------------------------------------------------------------

def test_dump_round_trips_the_recorded_outcomes(tmp_path):
    run = results(verdict("require/function", Outcome.PASS),
                  verdict("module/z", Outcome.WARN, "warned"),
                  verdict("cycles/a", Outcome.FAIL, "assertion 2 failed"),
                  verdict("paths/absent", Outcome.SKIP),
                  verdict("module/b", Outcome.TIMEOUT, "no result within 10 s"),
                  verdict("module/a", Outcome.ERROR, "crashed"),
                  loader="mutant:no-cache", spec="1.0")
    text = dump(run)
    assert text.startswith("#") and "--write-expectations" in text.split("loader:")[0]
    path = tmp_path / "out.yaml"
    write(path, text)
    assert not (tmp_path / "out.yaml.tmp").exists()
    e = load(path)
    assert (e.loader, e.spec) == ("mutant:no-cache", "1.0")
    assert list(e.entries) == ["cycles/a", "module/a", "module/b", "module/z"]
    assert {c: x.outcome for c, x in e.entries.items()} == {
        "cycles/a": Outcome.FAIL, "module/a": Outcome.ERROR, "module/b": Outcome.TIMEOUT,
        "module/z": Outcome.WARN}
    assert e.entries["module/a"].reason == "crashed"
    assert 'spec: "1.0"' in text
    assert compare(e, run, [v.case for v in run.verdicts]).ok


def test_dump_of_a_clean_run_has_no_failures(tmp_path):
    text = dump(results(verdict("require/function", Outcome.PASS)))
    assert "failures: {}" in text
    e = load(write_file(tmp_path, text))
    assert dict(e.entries) == {} and e.loader == "node"


def test_dump_keeps_hand_written_reasons_while_the_failure_holds(tmp_path, expectations):
    run = results(verdict("module/id-main-program", Outcome.FAIL, "m"),
                  verdict("require/main-identity", Outcome.FAIL, "now it fails outright"),
                  verdict("cycles/partial-exports", Outcome.ERROR, "crashed"),
                  verdict("module/other", Outcome.FAIL, "a new failure"))
    e = load(write_file(tmp_path, dump(run, expectations), "new.yaml"))
    reasons = {c: x.reason for c, x in e.entries.items()}
    assert reasons == {
        # the same outcome, kind and failure: the hand-written reason stays
        "module/id-main-program": expectations.entries["module/id-main-program"].reason,
        # outcome changed (warn -> fail): the verdict's message replaces the reason
        "require/main-identity": "now it fails outright",
        # unchanged, but no reason had been written: the message fills it in
        "cycles/partial-exports": "crashed",
        "module/other": "a new failure",
    }
    assert {c: (x.outcome, x.kind, x.failure) for c, x in e.entries.items()} == {
        "module/id-main-program": (Outcome.FAIL, Kind.ASSERTION_FAILED, "assertion 1 failed: m"),
        "require/main-identity": (Outcome.FAIL, Kind.ASSERTION_FAILED,
                                  "assertion 1 failed: now it fails outright"),
        "cycles/partial-exports": (Outcome.ERROR, Kind.LOADER_UNAVAILABLE, None),
        "module/other": (Outcome.FAIL, Kind.ASSERTION_FAILED, "assertion 1 failed: a new failure"),
    }
    assert compare(e, run, SUITE).ok


@pytest.mark.parametrize("now", [
    verdict("module/id-main-program", Outcome.FAIL, "another assertion's message"),
    verdict("module/id-main-program", Outcome.FAIL, "m", kind=Kind.UNCAUGHT_ERROR),
], ids=["another-failure", "another-kind"])
def test_dump_replaces_the_reason_of_a_failure_that_changed(tmp_path, expectations, now):
    e = load(write_file(tmp_path, dump(results(now), expectations), "new.yaml"))
    assert e.entries["module/id-main-program"].reason == now.message


def test_dump_ignores_reasons_written_for_another_loader(tmp_path, expectations):
    run = results(verdict("module/id-main-program", Outcome.FAIL, "rhino's message"),
                  loader="rhino")
    e = load(write_file(tmp_path, dump(run, expectations), "new.yaml"))
    assert e.entries["module/id-main-program"].reason == "rhino's message"


AWKWARD = [
    "key: value 'single' \"double\" | pipe # hash",
    "first line\nsecond: line | with # marks\n  indented 'third'",
    "ends with newline\n",
    "trailing spaces   \n  and leading",
    "- looks like a list item",
    "| looks like a block",
    "> folded?",
    "yes",
    "1.0",
    "",
    "loader garbage \x1b[31m\x00\x07\r\n\u2028\x85 end",
    "a # not a comment: really",
    "long " * 60,
]


def hand_written(reasons: dict[str, str], loader: str = "node") -> Expectations:
    """An expectations file as a person edited it: reasons of any shape (a verdict's own
    message is one line; a hand-written reason need not be)."""
    return Expectations(Path("e.yaml"), loader, "1.1.1", {
        case: Expectation(case, Outcome.FAIL, reason) for case, reason in reasons.items()})


def test_awkward_reasons_survive_dump_and_load(tmp_path):
    loader = "loader: with 'quotes' # and more"
    run = results(*(verdict(f"area/case-{i:02}", Outcome.FAIL, "") for i in range(len(AWKWARD))),
                  loader=loader)
    previous = hand_written({f"area/case-{i:02}": m for i, m in enumerate(AWKWARD)}, loader)
    path = tmp_path / "awkward.yaml"
    write(path, dump(run, previous))
    e = load(path)
    assert e.loader == "loader: with 'quotes' # and more"
    assert [e.entries[f"area/case-{i:02}"].reason for i in range(len(AWKWARD))] == AWKWARD


def test_multi_line_reasons_are_written_as_blocks():
    text = dump(results(verdict("a/b", Outcome.FAIL)),
                hand_written({"a/b": "first line\nsecond line"}))
    assert "reason: |-\n      first line\n      second line\n" in text


def test_write_replaces_atomically(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("old", encoding="utf-8")
    write(path, "loader: node\nspec: '1.1.1'\nfailures: {}\n")
    assert load(path).loader == "node"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.yaml"]


def test_the_schema_admits_exactly_the_outcomes_a_run_records():
    from conformance.schemas import validator

    entry = validator("expectations").schema["properties"]["failures"]["additionalProperties"]
    assert entry["properties"]["outcome"]["enum"] == [o.value for o in RECORDED]


# What identifies a failure -----------------------------------------------------------------------

def test_a_failed_assertion_is_identified_by_the_first_failing_assertion():
    v = Verdict("a/b", ("c",), Outcome.FAIL, "assertion 3 failed: x: expected 1, got 2 (and 1 more)",
                0.1, ("FAIL 3 x: expected 1, got 2", "FAIL 4 y", "stdout: FAIL 3 x",
                      "stderr: noise at 12:03:44"), Kind.ASSERTION_FAILED)
    assert failure_of(v) == "assertion 3 failed: x: expected 1, got 2"
    # a precondition's failure and a SHOULD breached alike; the "warn: " prefix is the outcome's
    given = Verdict("a/b", ("c",), Outcome.BLOCKED, "blocked: ...", 0.1,
                    ("FAIL 1 the precondition",), Kind.PRECONDITION_FAILED, ("c",))
    assert failure_of(given) == "assertion 1 failed: the precondition"


def test_run_specific_parts_of_a_failure_are_placeholders():
    message = ("uncaught error after 2 assertion(s): Error: Cannot find module './x' Require "
               "stack: - /tmp/cjs-esbuild-4id250df/bundle.js in {root}/a.js; global "
               "conformanceHarnessState0123456789abcdef, key 89abcdef01234567.")
    v = Verdict("a/b", ("c",), Outcome.FAIL, message, 0.1, (), Kind.UNCAUGHT_ERROR)
    assert failure_of(v) == ("uncaught error after 2 assertion(s): Error: Cannot find module "
                             "'./x' Require stack: - {tmp}/bundle.js in {root}/a.js; global "
                             "conformanceHarnessState{key}, key {key}.")
    assert stable("/tmp/cjs-esbuild-aaaa/bundle.js") == stable("/tmp/cjs-esbuild-bbbb/bundle.js")
    assert stable("deadbeefdeadbeef0") == "deadbeefdeadbeef0"  # 17 digits: no key


@pytest.mark.parametrize("kind,outcome", [(Kind.TIMEOUT, Outcome.TIMEOUT),
                                          (Kind.LOADER_CRASHED, Outcome.ERROR),
                                          (Kind.PROTOCOL_VIOLATION, Outcome.ERROR)])
def test_kinds_whose_message_says_nothing_stable_are_identified_by_the_kind(kind, outcome):
    v = Verdict("a/b", ("c",), outcome, "killed after 10 s; command: x /tmp/y", 10.0, (), kind)
    assert failure_of(v) is None


def test_the_schema_admits_the_kinds_an_entry_records():
    from conformance.schemas import validator

    entry = validator("expectations").schema["properties"]["failures"]["additionalProperties"]
    assert entry["properties"]["kind"]["enum"] == [k.value for k in RECORDED_KINDS]
    assert "state-leak" not in entry["properties"]["kind"]["enum"]
    assert Kind.NOT_APPLICABLE not in RECORDED_KINDS and Kind.NONE not in RECORDED_KINDS


# The gate's one decision -------------------------------------------------------------------------

@pytest.mark.parametrize("now,standing", [
    (verdict("module/id-main-program", Outcome.FAIL, "m"), Standing.EXPECTED),
    (verdict("module/id-main-program", Outcome.FAIL, "another"), Standing.CHANGED),
    (verdict("module/id-main-program", Outcome.FAIL, "m", kind=Kind.UNCAUGHT_ERROR),
     Standing.CHANGED),
    (verdict("module/id-main-program", Outcome.FAIL, "m", details=("FAIL 2 m",)),
     Standing.CHANGED),
    (verdict("module/id-main-program", Outcome.BLOCKED, "m"), Standing.CHANGED),
    (verdict("module/id-main-program", Outcome.PASS), Standing.FIXED),
    (verdict("module/id-main-program", Outcome.ADVISORY), Standing.FIXED),
    (verdict("module/other", Outcome.FAIL), Standing.NEW),
    (verdict("module/other", Outcome.WARN), Standing.NEW),
    (verdict("module/other", Outcome.PASS), Standing.CLEAN),
    (verdict("module/other", Outcome.ADVISORY), Standing.CLEAN),
    # a loader-unavailable error recorded without a failure: any message of that kind
    (verdict("cycles/partial-exports", Outcome.ERROR, "another message"), Standing.EXPECTED),
    (verdict("cycles/partial-exports", Outcome.ERROR, "m", kind=Kind.STATE_LEAK), Standing.NEW),
], ids=lambda x: x.value if isinstance(x, Standing) else x.case)
def test_standing_and_known_decide_alike(expectations, now, standing):
    assert expectations.standing(now)[0] is standing
    reason = expectations.known(now)
    assert (reason is not None) == (standing is Standing.EXPECTED)
    if standing is Standing.EXPECTED and now.case == "module/id-main-program":
        assert reason == expectations.entries[now.case].reason
    if standing is Standing.EXPECTED and now.case == "cycles/partial-exports":  # no reason
        assert reason.startswith("recorded in ") and reason.endswith("expected.yaml")


def test_an_entry_without_a_failure_accepts_any_failure_of_its_kind(tmp_path):
    e = load(write_file(tmp_path, HEAD + "  a/b: {outcome: fail, kind: assertion-failed}\n"))
    assert e.standing(verdict("a/b", Outcome.FAIL, "whatever"))[0] is Standing.EXPECTED
    assert e.standing(verdict("a/b", Outcome.FAIL, "m", kind=Kind.STOPPED_EARLY))[0] \
        is Standing.CHANGED


LEGACY = HEAD + "  a/b:\n    outcome: fail\n    reason: by hand\n  a/c:\n    outcome: fail\n"


def test_a_file_of_outcomes_alone_loads_but_the_gate_refuses_it(tmp_path):
    path = write_file(tmp_path, LEGACY)
    e = load(path)
    assert [x.case for x in e.legacy] == ["a/b", "a/c"]
    with pytest.raises(ExpectationsError) as info:
        check_current(e)
    message = str(info.value)
    assert "\n" not in message
    assert f"{path.name}:4: failures.a/b.kind: missing" in message
    assert "--write-expectations" in message and "reasons are kept" in message


def test_rewriting_a_file_of_outcomes_alone_keeps_reasons_where_the_outcome_holds(tmp_path):
    old = load(write_file(tmp_path, LEGACY))
    run = results(verdict("a/b", Outcome.FAIL, "x"), verdict("a/c", Outcome.FAIL, "y"))
    e = load(write_file(tmp_path, dump(run, old), "new.yaml"))
    assert e.entries["a/b"].reason == "by hand" and e.entries["a/c"].reason == "y"
    assert e.legacy == () and e.entries["a/b"].failure == "assertion 1 failed: x"
    check_current(e)


def test_check_fits_names_the_field(expectations):
    check_fits(expectations, "node", "1.1.1")
    for loader, spec, field in (("rhino", "1.1.1", "loader"), ("node", "1.0", "spec")):
        with pytest.raises(ExpectationsError) as info:
            check_fits(expectations, loader, spec)
        assert info.value.field == field and "\n" not in str(info.value)


# End to end: the command line on a small case tree -------------------------------------------------

CASE = """\
title: {title}
clauses: [require.returns-exports]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
{body}
    t.done();
"""


def case_tree(root: Path, **bodies: str) -> Path:
    for case_id, body in bodies.items():
        path = root / f"{case_id.replace('__', '/')}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines_ = "\n".join("    " + line for line in body.splitlines())
        path.write_text(CASE.format(title=case_id, body=lines_), encoding="utf-8")
    return root


BODIES = {
    "area__broken": "t.same(1, 2, 'one is two');",
    "area__good": "t.same(1, 1, 'one is one');",
    "area__other": "t.ok(false, 'this never holds');",
}
CHANGES = {  # area/broken, changed: the gate must notice each
    "another-message": "t.same(1, 3, 'one is three');",
    "uncaught-error": "t.ok(true, 'fine');\nthrow new Error('boom');",
    "another-assertion": "t.ok(true, 'first holds');\nt.same(1, 2, 'one is two');",
}


def junit_cases(path: Path) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.parse(path).getroot().iter("testcase")}


@pytest.fixture
def recorded(tmp_path, capsys) -> tuple[Path, Path]:
    """A case tree whose failures are recorded, with a reason written by hand."""
    cases = case_tree(tmp_path / "cases", **BODIES)
    known = tmp_path / "known.yaml"
    assert main(["--cases", str(cases), "--write-expectations", str(known)]) == ExitCode.OK
    text = known.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["failures"]["area/broken"]["kind"] == "assertion-failed"
    assert data["failures"]["area/broken"]["failure"] == \
        "assertion 1 failed: one is two: expected number 2, got number 1"
    data["failures"]["area/broken"]["reason"] = "written by hand"
    known.write_text(yaml.safe_dump(data), encoding="utf-8")
    capsys.readouterr()
    return cases, known


def test_write_expectations_exits_0_once_written_though_cases_failed(recorded, capsys):
    cases, known = recorded
    assert main(["--cases", str(cases), "--write-expectations", str(known)]) == ExitCode.OK
    assert load(known).entries["area/broken"].reason == "written by hand"
    assert "recorded 2 known failures" in capsys.readouterr().out


def test_an_unchanged_run_passes_the_gate_and_junit_skips_the_known_failures(recorded, tmp_path,
                                                                             capsys):
    cases, known = recorded
    junit = tmp_path / "junit.xml"
    assert main(["--cases", str(cases), "--expectations", str(known), "--junit", str(junit)]) \
        == ExitCode.OK
    assert "2 known failures as recorded, 0 new, 0 changed" in capsys.readouterr().out
    root = ET.parse(junit).getroot()
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("0", "0", "2")
    tcs = junit_cases(junit)
    assert tcs["area/broken"].find("skipped").get("message") == \
        "expected failure: written by hand"
    assert tcs["area/other"].find("skipped").get("message").startswith(
        "expected failure: assertion 1 failed: this never holds")
    assert [child.tag for child in tcs["area/good"]] == ["properties"]


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_recorded_failure_that_fails_otherwise_fails_the_gate_and_junit(recorded, tmp_path,
                                                                          capsys, change):
    cases, known = recorded
    case_tree(cases, area__broken=CHANGES[change])
    junit = tmp_path / "junit.xml"
    assert main(["--cases", str(cases), "--expectations", str(known), "--junit", str(junit)]) \
        == ExitCode.FAILED
    out = capsys.readouterr().out
    assert "CHANGED area/broken: recorded fail (assertion-failed): assertion 1 failed: one is " \
           "two: expected number 2, got number 1; now fail (" in out
    assert "1 known failure as recorded, 0 new, 1 changed" in out
    root = ET.parse(junit).getroot()
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "0", "1")
    tcs = junit_cases(junit)
    failure = tcs["area/broken"].find("failure")
    assert failure.get("type") == "changed"
    assert failure.get("message").startswith("changed failure: recorded fail (assertion-failed)")
    assert tcs["area/other"].find("skipped") is not None


def test_junit_fails_new_failures_unexpected_passes_and_unknown_entries(recorded, tmp_path,
                                                                       capsys):
    cases, known = recorded
    case_tree(cases, area__broken="t.same(1, 1, 'fixed');", area__good="t.fail('broken now');")
    data = yaml.safe_load(known.read_text(encoding="utf-8"))
    data["failures"]["area/gone"] = {"outcome": "fail", "kind": "stopped-early"}
    known.write_text(yaml.safe_dump(data), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    assert main(["--cases", str(cases), "--expectations", str(known), "--junit", str(junit)]) \
        == ExitCode.FAILED
    tcs = junit_cases(junit)
    assert tcs["area/broken"].find("failure").get("type") == "unexpected-pass"
    assert tcs["area/good"].find("failure").get("type") == "fail"
    assert tcs["area/gone"].find("failure").get("type") == "unknown-case"
    assert tcs["area/other"].find("skipped") is not None
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "3", "1")


@pytest.mark.parametrize("field,args", [("loader", ["--loader-name", "someone-else"]),
                                        ("spec", ["--spec", "1.0"])])
def test_a_file_for_another_loader_or_spec_is_refused_before_anything_runs(recorded, tmp_path,
                                                                           capsys, field, args):
    cases, known = recorded
    data = yaml.safe_load(known.read_text(encoding="utf-8"))
    data["loader"] = "fake"
    known.write_text(yaml.safe_dump(data), encoding="utf-8")
    pids = tmp_path / "pids"
    fake = Path(__file__).parent / "fake_loaders" / "tamper.py"
    command = ["--loader-cmd", f"{sys.executable} {fake} honest {{root}} {{main}}",
               "--env", f"FAKE_LOADER_PIDS={pids}", "--loader-name", "fake"]
    out = tmp_path / "r.json"
    code = main(["--cases", str(cases), "--expectations", str(known), "--json", str(out)]
                + command + args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.EXPECTATIONS_ERROR
    assert len(err) == 1 and f"known.yaml:" in err[0] and f": {field}: " in err[0], err
    assert not pids.exists() and not out.exists()  # not even the feature probe ran


def test_an_old_file_is_refused_by_the_gate_and_rerecorded_with_its_reasons(tmp_path, capsys):
    cases = case_tree(tmp_path / "cases", **BODIES)
    known = write_file(tmp_path, "loader: reference\nspec: '1.1.1'\nfailures:\n"
                       "  area/broken: {outcome: fail, reason: by hand}\n"
                       "  area/other: {outcome: fail}\n", "known.yaml")
    assert main(["--cases", str(cases), "--expectations", str(known)]) \
        == ExitCode.EXPECTATIONS_ERROR
    (said,) = capsys.readouterr().err.strip().splitlines()
    assert "known.yaml:4: failures.area/broken.kind: missing" in said
    assert main(["--cases", str(cases), "--write-expectations", str(known)]) == ExitCode.OK
    assert load(known).entries["area/broken"].reason == "by hand"
    assert main(["--cases", str(cases), "--expectations", str(known)]) == ExitCode.OK
