"""Expectation files: strict one-line errors, comparison against a run, and dump round trips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.expectations import (
    Comparison, Expectation, Expectations, ExpectationsError, compare, dump, lines, load, write)
from conformance.outcomes import RECORDED, Kind, Outcome, Verdict
from conformance.results import Results

VALID = """\
# Known failures of one loader against commonjs-conformance.
loader: node
spec: "1.1.1"
failures:
  module/id-main-program:
    outcome: fail
    reason: >-
      Node's module.id is "." for the main module
      (Module Context 3.1).
  cycles/partial-exports:
    outcome: error
  require/main-identity:
    outcome: warn
    reason: a SHOULD
"""

SUITE = ["module/id-main-program", "cycles/partial-exports", "require/main-identity",
         "require/function", "module/other", "paths/absent"]


def write_file(tmp_path: Path, text: str, name: str = "expected.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def verdict(case: str, outcome: Outcome, message: str = "m", details=()) -> Verdict:
    kind = next(k for k in Kind if outcome in k.outcomes)  # the first kind that fits
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
                               "(Module Context 3.1).")
    assert main.line == 5
    assert e.entries["cycles/partial-exports"].outcome is Outcome.ERROR
    assert e.entries["cycles/partial-exports"].reason == ""
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
     "unknown key (allowed: outcome, reason)"),
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
    assert first == ("CHANGED module/id-main-program: recorded fail, now error: "
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


def test_dump_keeps_hand_written_reasons_while_the_outcome_holds(tmp_path, expectations):
    run = results(verdict("module/id-main-program", Outcome.FAIL, "assertion 1 failed"),
                  verdict("require/main-identity", Outcome.FAIL, "now it fails outright"),
                  verdict("cycles/partial-exports", Outcome.ERROR, "crashed"),
                  verdict("module/other", Outcome.FAIL, "a new failure"))
    e = load(write_file(tmp_path, dump(run, expectations), "new.yaml"))
    reasons = {c: x.reason for c, x in e.entries.items()}
    assert reasons == {
        # outcome unchanged: the hand-written reason stays
        "module/id-main-program": expectations.entries["module/id-main-program"].reason,
        # outcome changed (warn -> fail): the verdict's message replaces the reason
        "require/main-identity": "now it fails outright",
        # unchanged, but no reason had been written: the message fills it in
        "cycles/partial-exports": "crashed",
        "module/other": "a new failure",
    }


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
