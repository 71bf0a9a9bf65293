"""JUnit XML: parseable by any XML reader, with the counts and elements CI reporters use."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.dom import minidom

from conformance.junit import clean, render, write
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.results import Results


def run(*verdicts: Verdict, complete: bool = True) -> Results:
    return Results("0.1.0", "node", "1.1.1", False, verdicts, 12.3456, complete)


VERDICTS = (
    Verdict("require/function", ("require.function",), Outcome.PASS, "", 0.02),
    Verdict("module/id-main-program", ("module.id", "require.main"), Outcome.FAIL,
            "assertion 2 failed: module.id of the main module", 0.5,
            ("FAIL module.id of the main module: got '.'", "stderr: warning"),
            Kind.ASSERTION_FAILED),
    Verdict("cycles/partial", ("require.cycles",), Outcome.ERROR, "the loader crashed", 0.1,
            ("Segmentation fault",), Kind.LOADER_CRASHED),
    Verdict("cycles/slow", ("require.cycles",), Outcome.TIMEOUT, "no result within 10 s", 10.0,
            (), Kind.TIMEOUT),
    Verdict("paths/absent", ("require.paths",), Outcome.SKIP,
            "not applicable: the loader has no require.paths", 0.0, (), Kind.NOT_APPLICABLE),
    Verdict("module/id-read-only", ("module.id.read-only",), Outcome.WARN,
            "module.id could be assigned", 0.03, ("SHOULD module.id.read-only",),
            Kind.SHOULD_BREACHED),
)


def parse(results: Results) -> ET.Element:
    text = render(results)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in root.iter("testcase")}


def test_counts_on_testsuites_and_testsuite():
    root = parse(run(*VERDICTS))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "commonjs-conformance node Modules/1.1.1"
    for element in (root, suite):
        assert (element.get("tests"), element.get("failures"), element.get("errors"),
                element.get("skipped"), element.get("time")) == ("6", "1", "2", "1", "12.346")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props == {"suite": "0.1.0", "loader": "node", "spec": "1.1.1", "sandbox": "false",
                     "complete": "true"}
    assert suite.find("system-err") is None


def test_one_testcase_per_verdict_with_area_and_clauses():
    tcs = cases(parse(run(*VERDICTS)))
    assert list(tcs) == [v.case for v in VERDICTS]
    main = tcs["module/id-main-program"]
    assert main.get("classname") == "module" and main.get("time") == "0.500"
    assert [(p.get("name"), p.get("value")) for p in main.find("properties")] == [
        ("clause", "module.id"), ("clause", "require.main")]
    assert tcs["cycles/slow"].get("classname") == "cycles"
    passed = tcs["require/function"]
    assert [child.tag for child in passed] == ["properties"]


def test_failure_error_timeout_and_skipped_elements():
    tcs = cases(parse(run(*VERDICTS)))
    failure = tcs["module/id-main-program"].find("failure")
    assert failure.get("type") == "fail"
    assert failure.get("message") == "assertion 2 failed: module.id of the main module"
    assert failure.text == "FAIL module.id of the main module: got '.'\nstderr: warning"
    error = tcs["cycles/partial"].find("error")
    assert (error.get("type"), error.get("message"), error.text) == (
        "error", "the loader crashed", "Segmentation fault")
    timeout = tcs["cycles/slow"].find("error")
    assert (timeout.get("type"), timeout.get("message")) == ("timeout", "no result within 10 s")
    assert timeout.text == "no result within 10 s"  # no details: the message is the text
    skipped = tcs["paths/absent"].find("skipped")
    assert skipped.get("message") == "not applicable: the loader has no require.paths"
    for name in ("cycles/partial", "cycles/slow", "paths/absent"):
        assert tcs[name].find("failure") is None


def test_warning_is_a_passing_testcase_with_system_out():
    tc = cases(parse(run(*VERDICTS)))["module/id-read-only"]
    for tag in ("failure", "error", "skipped"):
        assert tc.find(tag) is None
    assert tc.find("system-out").text == ("warning: module.id could be assigned\n"
                                          "SHOULD module.id.read-only")


def test_interrupted_run_says_so():
    suite = parse(run(VERDICTS[0], complete=False)).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["complete"] == "false"
    assert "interrupted" in suite.find("system-err").text


def test_empty_run_is_valid():
    root = parse(run())
    assert root.get("tests") == "0" and list(root.iter("testcase")) == []


def test_control_characters_and_markup_still_give_well_formed_xml():
    garbage = 'boom <tag attr="x"> & \x00\x01\x1b[31mred\x7f\x08 \ud800 \ufffe ]]> end'
    v = Verdict("module/<&>\x02", ("a\x03b",), Outcome.FAIL, garbage, 0.1,
                (garbage, "second\x0bline"), Kind.ASSERTION_FAILED)
    results = Results("0.1.0", 'loader "q" <&>\x04', "1.1.1", False, (v,), 1.0)
    text = render(results)
    minidom.parseString(text.encode("utf-8"))  # a second, stricter parser
    root = ET.fromstring(text.encode("utf-8"))
    tc = root.find("testsuite/testcase")
    expected = 'boom <tag attr="x"> & \\x00\\x01\\x1b[31mred\x7f\\x08 \\ud800 \\ufffe ]]> end'
    if "\x7f" not in v.message:  # DEL escaped where the verdict is made (XML could carry it)
        expected = expected.replace("\x7f", "\\x7f")
    assert tc.find("failure").get("message") == expected
    assert tc.find("failure").text == expected + "\nsecond\\x0bline"
    assert tc.get("name") == "module/<&>\\x02"
    assert tc.find("properties/property").get("value") == "a\\x03b"
    assert root.find("testsuite").get("name") == \
        'commonjs-conformance loader "q" <&>\\x04 Modules/1.1.1'


def test_clean_keeps_what_xml_can_carry():
    text = "tab\tnewline\ncr\r \u00e9 \u4e2d \U0001f600 \ue000"
    assert clean(text) == text
    assert clean("\x00\x1f\ufffe\uffff\udfff") == "\\x00\\x1f\\ufffe\\uffff\\udfff"


def test_write_is_atomic_and_parses(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text("old", encoding="utf-8")
    write(run(*VERDICTS), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml"]
    assert ET.parse(path).getroot().get("tests") == "6"


# With the expectations the run is gated on --------------------------------------------------------

def known_failures(tmp_path) -> "Expectations":
    from conformance.expectations import load

    path = tmp_path / "known.yaml"
    path.write_text(
        "loader: node\nspec: '1.1.1'\nfailures:\n"
        "  module/id-main-program:\n    outcome: fail\n    kind: assertion-failed\n"
        "    failure: \"assertion 2 failed: module.id of the main module\"\n"
        "    reason: Node's main module.id is '.'\n"
        "  cycles/partial:\n    outcome: error\n    kind: loader-crashed\n"
        "  cycles/slow:\n    outcome: timeout\n    kind: timeout\n"
        "  require/function:\n    outcome: fail\n    kind: assertion-failed\n"
        "  require/gone:\n    outcome: fail\n    kind: stopped-early\n", encoding="utf-8")
    return load(path)


def gated(tmp_path, *verdicts: Verdict, complete: bool = True) -> ET.Element:
    suite_ids = [v.case for v in VERDICTS]
    return ET.fromstring(render(run(*verdicts, complete=complete), known_failures(tmp_path),
                                suite_ids).encode("utf-8"))


def test_known_failures_are_skipped_and_only_what_fails_the_gate_is_a_failure(tmp_path):
    root = gated(tmp_path, *VERDICTS)
    tcs = cases(root)
    # recorded, unchanged: expected failures, skipped with the recorded reason
    skipped = tcs["module/id-main-program"].find("skipped")
    assert skipped.get("message") == "expected failure: Node's main module.id is '.'"
    assert tcs["module/id-main-program"].find("failure") is None
    assert tcs["cycles/partial"].find("skipped").get("message").startswith(
        "expected failure: recorded in ")
    assert tcs["cycles/slow"].find("error") is None
    # recorded as failing, now passing: the expectations are out of date
    fixed = tcs["require/function"].find("failure")
    assert fixed.get("type") == "unexpected-pass"
    assert "update the expectations" in fixed.get("message")
    # a new warning fails the gate, so JUnit fails it too
    warned = tcs["module/id-read-only"].find("failure")
    assert warned.get("type") == "warn" and warned.get("message").startswith("new warn: ")
    # an entry naming no case
    gone = tcs["require/gone"]
    assert gone.get("classname") == "expectations"
    assert gone.find("failure").get("type") == "unknown-case"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) \
        == ("7", "3", "0", "4")
    props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert props["expectations"].endswith("known.yaml")


def test_a_recorded_failure_that_changed_is_a_failure_or_an_error(tmp_path):
    other_assertion = Verdict("module/id-main-program", ("module.id",), Outcome.FAIL,
                              "assertion 3 failed: x", 0.5, ("FAIL 3 x",), Kind.ASSERTION_FAILED)
    timed_out = Verdict("cycles/partial", ("require.cycles",), Outcome.TIMEOUT,
                        "no result within 10 s", 10.0, (), Kind.TIMEOUT)
    tcs = cases(gated(tmp_path, other_assertion, timed_out))
    failure = tcs["module/id-main-program"].find("failure")
    assert failure.get("type") == "changed"
    assert failure.get("message") == (
        "changed failure: recorded fail (assertion-failed): assertion 2 failed: module.id of the "
        "main module; now fail (assertion-failed): assertion 3 failed: x")
    error = tcs["cycles/partial"].find("error")
    assert error.get("type") == "changed"
    assert error.get("message").startswith("changed failure: recorded error (loader-crashed); "
                                           "now timeout (timeout): ")


def test_an_interrupted_run_lists_no_unknown_entries(tmp_path):
    tcs = cases(gated(tmp_path, VERDICTS[0], complete=False))
    assert list(tcs) == ["require/function"]
