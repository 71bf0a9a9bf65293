"""The judge: every way a run can end maps to one outcome with a message."""


import dataclasses
import re

import pytest

from conformance.contract import Ending, Execution
from conformance.case import Case
from conformance.judge import judge
from conformance.outcomes import Outcome
from tests.node_profile import node_catalogue  # noqa: F401  (a fixture)


def make_case(clauses=("require.function",), needs=()):
    return Case(id="area/name", path="cases/area/name.yaml", title="a case for the judge",
                clauses=tuple(clauses), modules={"program": ""}, main="program",
                needs=frozenset(needs), sandbox=None, versions=("1.0", "1.1", "1.1.1"))


def outcome(stdout, case=None, spec="1.1.1", **kw):
    return judge(case or make_case(), Execution(stdout=stdout, **kw), spec)


def test_pass_needs_an_assertion_and_done():
    v = outcome("PASS 1 a\nPASS 2 b\nDONE 2\n")
    assert v.outcome is Outcome.PASS and "2 assertion" in v.message


@pytest.mark.parametrize("stdout", ["", "some output\n", "DONE 0\n"])
def test_nothing_asserted_fails(stdout):
    assert not outcome(stdout).outcome.ok


def test_stopping_before_done_fails():
    v = outcome("PASS 1 a\n")
    assert v.outcome is Outcome.FAIL and "before done()" in v.message


def test_failed_assertion_fails_with_its_message():
    v = outcome("PASS 1 a\nFAIL 2 exports are shared: expected 1\nFAIL 3 c\nDONE 3\n")
    assert v.outcome is Outcome.FAIL
    assert v.message == "assertion 2 failed: exports are shared: expected 1 (and 1 more)"
    assert "FAIL 3 c" in v.details


def test_uncaught_error_fails_with_the_error():
    v = outcome("PASS 1 a\n", stderr="Uncaught Error: cannot find module 'x'\n", exit_code=1)
    assert v.outcome is Outcome.FAIL
    assert "cannot find module 'x'" in v.message
    assert "stderr: Uncaught Error: cannot find module 'x'" in v.details


def test_non_zero_exit_without_stderr_fails():
    v = outcome("PASS 1 a\nDONE 1\n", exit_code=3)
    assert v.outcome is Outcome.FAIL and "exit status 3" in v.message


def test_timeout_crash_and_unavailable():
    assert outcome("PASS 1 a\n", ending=Ending.TIMED_OUT, exit_code=None).outcome is Outcome.TIMEOUT
    crashed = outcome("", ending=Ending.CRASHED, exit_code=None, diagnostic="killed by SIGSEGV")
    assert crashed.outcome is Outcome.ERROR and "SIGSEGV" in crashed.message
    gone = outcome("", ending=Ending.UNAVAILABLE, exit_code=None, diagnostic="no such command")
    assert gone.outcome is Outcome.ERROR and "could not be started" in gone.message


def test_protocol_breach_is_an_error_not_a_pass():
    v = outcome("PASS 1 a\nDONE 1\nDONE 1\n")
    assert v.outcome is Outcome.ERROR and "protocol" in v.message


def test_absent_needed_feature_is_not_applicable():
    case = make_case(("require.main.identity",), needs=("require.main",))
    absent = "FEATURES require.main=absent require.paths=absent module.uri=absent\n"
    crashed = Execution(stdout=absent + "FAIL 1 main\n", exit_code=1)
    v = judge(case, crashed, "1.1.1", features={"require.main": False})
    assert v.outcome is Outcome.SKIP and "require.main" in v.message
    # Known to the run only from the program's own line: honoured from a run that reached done().
    assert outcome(absent + "FAIL 1 main\nDONE 1\n", case=case).outcome is Outcome.SKIP
    assert judge(case, crashed, "1.1.1").outcome is Outcome.FAIL


def test_present_needed_feature_is_judged():
    case = make_case(("require.main.identity",), needs=("require.main",))
    v = outcome("FEATURES require.main=present\nFAIL 1 main\nDONE 1\n", case=case)
    assert v.outcome is Outcome.FAIL


def test_needed_feature_never_reported_is_an_error():
    case = make_case(("require.main.identity",), needs=("require.main",))
    assert outcome("PASS 1 a\nDONE 1\n", case=case).outcome is Outcome.ERROR


def test_should_only_case_warns_in_111_but_fails_in_11():
    case = make_case(("module.id.read-only",))
    failing = "PASS 1 a\nFAIL 2 module.id unchanged\nDONE 2\n"
    assert outcome(failing, case=case, spec="1.1.1").outcome is Outcome.WARN
    assert outcome(failing, case=case, spec="1.1").outcome is Outcome.FAIL
    mixed = make_case(("module.id.read-only", "module.id.top-level"))
    assert outcome(failing, case=mixed, spec="1.1.1").outcome is Outcome.FAIL


def test_program_saying_not_applicable_is_skipped_unless_something_failed():
    v = outcome("SKIP nothing to derive a directory from\nDONE 0\n")
    assert v.outcome is Outcome.SKIP and "nothing to derive" in v.message
    assert outcome("FAIL 1 a\nSKIP why\nDONE 1\n").outcome is Outcome.FAIL
    assert outcome("SKIP why\n", exit_code=1, stderr="Uncaught x").outcome is Outcome.BLOCKED


def test_done_check_must_match_the_runs_key():
    from conformance.harness import check
    good = f"PASS 1 a\nFAIL 2 b\nDONE 2 {check('k', 'PF')}\n"
    assert judge(make_case(), Execution(stdout=good), "1.1.1", "k").outcome is Outcome.FAIL
    canned = f"PASS 1 a\nDONE 1 {check('other', 'P')}\n"
    v = judge(make_case(), Execution(stdout=canned), "1.1.1", "k")
    assert (v.outcome, v.kind) == (Outcome.ERROR, "protocol-violation")
    unchecked = judge(make_case(), Execution(stdout="PASS 1 a\nDONE 1\n"), "1.1.1", "k")
    assert unchecked.kind == "protocol-violation"
    assert judge(make_case(), Execution(stdout=f"PASS 1 a\nDONE 1 {check('k', 'P')}\n"),
                 "1.1.1", "k").outcome is Outcome.PASS


@pytest.mark.parametrize("stdout, kw, outcome, kind", [
    ("PASS 1 a\n" + "x" * 100, {"truncated": True}, Outcome.ERROR, "output-limit"),
    ("PASS 1 a\n", {"stdout_closed": True}, Outcome.FAIL, "stdout-closed"),
    ("PASS 1 a\n", {}, Outcome.FAIL, "stopped-early"),
    ("\x00\xff garbage \x1b[31m\n", {}, Outcome.BLOCKED, "no-harness-output"),
    ("DONE 0\n", {}, Outcome.FAIL, "no-assertions"),
    ("PASS 1 a\n", {"exit_code": 1}, Outcome.FAIL, "uncaught-error"),
    ("", {"ending": Ending.TIMED_OUT, "exit_code": None}, Outcome.TIMEOUT, "timeout"),
    ("", {"ending": Ending.CRASHED, "exit_code": None}, Outcome.ERROR, "loader-crashed"),
    ("", {"ending": Ending.UNAVAILABLE, "exit_code": None}, Outcome.ERROR, "loader-unavailable"),
])
def test_every_ending_has_a_named_kind(stdout, kw, outcome, kind):
    v = judge(make_case(), Execution(stdout=stdout, **kw), "1.1.1")
    assert (v.outcome, v.kind) == (outcome, kind)
    assert any(line.startswith("stdout: ") for line in v.details) or not stdout


def test_a_program_that_never_started_blames_nothing_unless_its_nested_main_relies_on_terms():
    flat = make_case(("require.cycles",))
    v = outcome("", case=flat, exit_code=1, stderr="Error: cannot find module 'program'\n")
    assert (v.outcome, v.kind, v.blame) == (Outcome.BLOCKED, "not-started", ())
    nested = dataclasses.replace(make_case(("ids.relative",)), main="app/main",
                                 relies=("ids.terms",))
    v = outcome("", case=nested, exit_code=1, stderr="Error: cannot find module 'app/main'\n")
    assert (v.outcome, v.blame) == (Outcome.BLOCKED, ("ids.terms",))
    assert "nested id app/main" in v.message
    # A build that failed for another reason (a module the bundler could not find) blames none.
    v = outcome("", case=nested, exit_code=1,
                stderr="{root}/app/main.js:8:3:\n[ERROR] Could not resolve 'nowhere'\n")
    assert (v.outcome, v.blame) == (Outcome.BLOCKED, ())


def test_a_profile_case_whose_nested_main_cannot_find_the_harness_blames_relative_paths():
    case = dataclasses.replace(make_case(("node.cache.same-file",)), modules={},
                               files={"app/program.js": "", "app/x.js": ""},
                               main="app/program.js", versions=("node",),
                               relies=("node.specifier.relative",))
    missing = "Uncaught Error: Cannot find module './conformanceHarness.js'\n"
    v = judge(case, Execution(stdout="", stderr=missing, exit_code=1), "node")
    assert (v.outcome, v.blame) == (Outcome.BLOCKED, ("node.specifier.relative",))
    assert "main file app/program.js is nested" in v.message
    # Not relied on, or another error: no clause is blamed.
    bare = dataclasses.replace(case, relies=())
    assert judge(bare, Execution(stdout="", stderr=missing, exit_code=1), "node").blame == ()
    other = "Uncaught SyntaxError: Unexpected token\n"
    assert judge(case, Execution(stdout="", stderr=other, exit_code=1), "node").blame == ()


def test_sections_blame_the_clause_that_broke():
    case = dataclasses.replace(make_case(("require.cycles", "context.exports")),
                               relies=("modules.singleton",))
    given = "FEATURES \nGIVEN modules.singleton\nFAIL 1 required twice, ran twice\n"
    v = outcome(given, case=case, exit_code=1, stderr="boom")
    assert (v.outcome, v.kind, v.blame) == (Outcome.BLOCKED, "precondition-failed",
                                             ("modules.singleton",))
    v = outcome("FEATURES \nGIVEN modules.singleton\n", case=case, exit_code=1, stderr="boom")
    assert (v.outcome, v.kind, v.blame) == (Outcome.BLOCKED, "uncaught-error",
                                             ("modules.singleton",))
    tested = ("FEATURES \nGIVEN modules.singleton\nPASS 1 once\nCLAUSE require.cycles\n"
              "FAIL 2 partial exports\nCLAUSE context.exports\nPASS 3 x\nDONE 3\n")
    v = outcome(tested, case=case)
    assert (v.outcome, v.blame) == (Outcome.FAIL, ("require.cycles",))
    error = "FEATURES \nGIVEN modules.singleton\nPASS 1 once\nCLAUSE context.exports\n"
    v = outcome(error, case=case, exit_code=1, stderr="at x.js:3\nTypeError: boom\n    at y\n")
    assert (v.outcome, v.kind, v.blame) == (Outcome.FAIL, "uncaught-error", ("context.exports",))
    assert v.message.endswith("TypeError: boom")
    before = "FEATURES \n"
    v = outcome(before, case=case, exit_code=1, stderr="Error: x")
    assert (v.outcome, v.blame) == (Outcome.BLOCKED, ("modules.singleton",))


def test_a_reading_is_advisory_and_a_should_warns():
    case = make_case(("ids.relative", "reading.relative-passed-require"))
    reading = ("FEATURES \nCLAUSE ids.relative\nPASS 1 own\n"
               "CLAUSE reading.relative-passed-require\nFAIL 2 passed\nDONE 2\n")
    v = outcome(reading, case=case)
    assert (v.outcome, v.kind, v.blame) == (Outcome.ADVISORY, "reading-not-met",
                                             ("reading.relative-passed-require",))
    assert v.outcome.ok
    both = reading.replace("PASS 1 own", "FAIL 1 own")
    v = outcome(both, case=case)
    assert (v.outcome, v.blame) == (Outcome.FAIL, ("ids.relative",))
    crashed = "FEATURES \nCLAUSE reading.relative-passed-require\n"
    v = outcome(crashed, case=case, exit_code=1, stderr="Error: cannot find module 'x'")
    assert v.outcome is Outcome.ADVISORY


def test_a_main_module_run_twice_breaks_modules_singleton():
    twice = "FEATURES require.main=present\nPASS 1 a\nFEATURES require.main=present\nPASS 2 a\n"
    v = outcome(twice + "DONE 2\n")
    assert (v.outcome, v.kind, v.blame) == (Outcome.FAIL, "ran-twice", ("modules.singleton",))
    replayed = "FEATURES \nPASS 1 a\nDONE 1\nFEATURES \nPASS 1 a\nDONE 1\n"
    assert outcome(replayed).kind == "protocol-violation"


def test_the_error_line_is_the_error_not_the_first_line():
    from conformance.judge import error_line
    node = ("/tmp/x/root/program.js:3\n    throw new Error('boom');\n    ^\n\n"
            "Error: Cannot find module 'x'\n    at Object.<anonymous> (/tmp/x.js:3:11)\n")
    assert error_line(node) == "Error: Cannot find module 'x'"
    rhino = "js: uncaught JavaScript runtime exception: TypeError: Cannot call x\n"
    assert error_line(rhino) == rhino.strip()
    assert error_line("just some words\n") == "just some words"
    esbuild = "{root}/app/main.js:8:3:\n\u2718 [ERROR] Could not resolve 'nothing'\n"
    assert error_line(esbuild) == "\u2718 [ERROR] Could not resolve 'nothing'"


# ---------------------------------------------------------------- lines a run must confirm


def _checked(key, lines, trail):
    """The lines, then a DONE line with the check the harness computes over `trail`."""
    from conformance.harness import check
    count = len(re.sub(r"\[[^]]*\]", "", trail))  # one P or F per assertion
    return "".join(line + "\n" for line in lines) + f"DONE {count} {check(key, trail)}\n"


def test_a_skip_line_counts_only_from_a_run_that_reached_done_with_its_check():
    # `echo SKIP x` as the loader: nothing ran, so nothing is skipped.
    v = outcome("SKIP x\n")
    assert (v.outcome, v.kind) == (Outcome.FAIL, "stopped-early")
    assert "SKIP line counts only" in v.message
    assert outcome("FEATURES \nSKIP x\n", stdout_closed=True).kind == "stdout-closed"
    features = "FEATURES require.main=present require.paths=present module.uri=present"
    # The harness's notApplicable() puts [S] into the check: a SKIP line it did not print breaks it.
    honest = _checked("k", [features, "SKIP no directory"], "[Fppp][S]")
    assert judge(make_case(), Execution(stdout=honest), "1.1.1", "k").outcome is Outcome.SKIP
    forged = _checked("k", [features, "SKIP forged", "FAIL 1 x"], "[Fppp]F")
    v = judge(make_case(), Execution(stdout=forged), "1.1.1", "k")
    assert (v.outcome, v.kind) == (Outcome.ERROR, "protocol-violation")
    late = "FEATURES \nFAIL 1 x\nDONE 1\nSKIP too late\n"
    assert outcome(late).kind == "protocol-violation"


def test_a_features_line_counts_only_from_a_run_that_reached_done_with_its_check():
    case = make_case(("require.main.identity",), needs=("require.main",))
    absent = "FEATURES require.main=absent require.paths=absent module.uri=absent"
    honest = _checked("k", [absent, "FAIL 1 x"], "[Faaa]F")
    assert judge(case, Execution(stdout=honest), "1.1.1", "k").outcome is Outcome.SKIP
    # The states are in the check: a FEATURES line that says other than start() reported is caught.
    forged = _checked("k", [absent, "FAIL 1 x"], "[Fppp]F")
    v = judge(case, Execution(stdout=forged), "1.1.1", "k")
    assert (v.outcome, v.kind) == (Outcome.ERROR, "protocol-violation")
    # A run's features, declared or probed, win over the program's line.
    v = judge(case, Execution(stdout=honest), "1.1.1", "k", {"require.main": True})
    assert v.outcome is Outcome.FAIL


def test_a_second_features_line_is_never_a_way_to_skip():
    case = make_case(("require.main.identity",), needs=("require.main",))
    present = "FEATURES require.main=present require.paths=present module.uri=present"
    absent = "FEATURES require.main=absent require.paths=absent module.uri=absent"
    # Consistent numbering: the main module ran twice (modules.singleton).
    twice = _checked("k", [present, "FAIL 1 x", absent, "FAIL 2 y"], "[Fppp]F[Faaa]F")
    v = judge(case, Execution(stdout=twice), "1.1.1", "k")
    assert (v.outcome, v.kind, v.blame) == (Outcome.FAIL, "ran-twice", ("modules.singleton",))
    # Numbering restarted: output replayed or forged.
    replayed = _checked("k", [present, "FAIL 1 x", absent, "FAIL 1 y"], "[Fppp]F[Faaa]F")
    v = judge(case, Execution(stdout=replayed), "1.1.1", "k")
    assert (v.outcome, v.kind) == (Outcome.ERROR, "protocol-violation")
    # Without DONE, the first line is not honoured either.
    assert outcome(absent + "\nFAIL 1 x\n", case=case, exit_code=1).outcome is Outcome.FAIL


# ---------------------------------------------------------------- reports the judge reads


@pytest.mark.parametrize("stdout", [
    "PASS " + "9" * 5000 + " x\nDONE 1\n",
    "FEATURES \nPASS 1 a\nDONE " + "9" * 5000 + "\n",
    "FAIL " + "1" * 4301 + "\n",
], ids=["pass", "done", "fail"])
def test_numbers_of_thousands_of_digits_are_a_protocol_violation(stdout):
    v = outcome(stdout)
    assert (v.outcome, v.kind) == (Outcome.ERROR, "protocol-violation"), v
    assert "-digit number" in v.message


@pytest.mark.parametrize("bad, says", [
    (None, "NoneType, not an Execution"),
    ("PASS 1 a\nDONE 1\n", "str, not an Execution"),
    (Execution(stdout=b"PASS 1 a\nDONE 1\n"), "stdout is bytes"),
    (Execution(stdout="", stderr=None), "stderr is NoneType"),
    (Execution(stdout="", ending="exited"), "ending is str"),
    (Execution(stdout="", exit_code="0"), "exit_code is str"),
    (Execution(stdout="", exit_code=True), "exit_code is bool"),
    (Execution(stdout="", seconds=float("nan")), "seconds"),
    (Execution(stdout="", truncated="no"), "truncated is str"),
])
def test_a_malformed_execution_is_an_error_of_its_case(bad, says):
    v = judge(make_case(), bad, "1.1.1")
    assert (v.outcome, v.kind) == (Outcome.ERROR, "loader-crashed")
    assert says in v.message


def test_a_byte_order_mark_before_the_output_is_not_part_of_it():
    bom = "\ufeff"
    v = outcome(bom + "FEATURES \nPASS 1 a\nDONE 1\n")
    assert v.outcome is Outcome.PASS, v
    v = outcome(bom + "FEATURES \n", exit_code=1, stderr=bom + "Error: boom\n")
    assert v.message.endswith("uncaught error after 0 assertion(s): Error: boom")


def test_lines_end_at_line_feeds_only():
    """A form feed, U+2028 and friends are inside a line, as print() wrote it."""
    v = outcome("FEATURES \nFAIL 1 a\x0cb\u2028c\x85d\x0be\nDONE 1\n")
    assert v.message == "assertion 1 failed: a\\x0cb\\u2028c\\x85d\\x0be"
    v = outcome("FEATURES \n", exit_code=1, stderr="Error: one\u2028two\n")
    assert v.message.endswith("Error: one\\u2028two")


def test_in_the_node_profile_a_deprecated_clause_warns_and_a_stated_one_fails(node_catalogue):
    case = dataclasses.replace(make_case(("node.module.parent", "node.exports.replace")),
                               id="node/area/name", versions=("node",))
    parent = "FEATURES \nCLAUSE node.module.parent\nFAIL 1 parent\nDONE 1\n"
    v = outcome(parent, case=case, spec="node")
    assert (v.outcome, v.kind, v.blame) == (Outcome.WARN, "should-breached",
                                             ("node.module.parent",))
    exports = parent.replace("node.module.parent", "node.exports.replace")
    v = outcome(exports, case=case, spec="node")
    assert (v.outcome, v.blame) == (Outcome.FAIL, ("node.exports.replace",))
    reading = parent.replace("node.module.parent", "reading.node.loaded-while-running")
    assert outcome(reading, case=case, spec="node").outcome is Outcome.ADVISORY
