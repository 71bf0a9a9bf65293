"""The harness helper's line protocol, read back by conformance.harness.read."""

from conformance.harness import HARNESS_ID, read, source


def test_reads_assertions_features_and_done():
    t = read("FEATURES require.main=present require.paths=absent module.uri=present\n"
             "hello from the program\nPASS 1 first\nFAIL 2 second: expected 1\nDONE 2\n")
    assert [(a.number, a.passed, a.message) for a in t.assertions] == [
        (1, True, "first"), (2, False, "second: expected 1")]
    assert t.features == {"require.main": True, "require.paths": False, "module.uri": True}
    assert t.done == 2
    assert t.problems == ()
    assert [a.number for a in t.failures] == [2]


def test_windows_line_endings_and_empty_message():
    t = read("PASS 1\r\nDONE 1\r\n")
    assert t.assertions[0].message == "" and t.done == 1 and not t.problems


def test_missing_done_is_none():
    assert read("PASS 1 x\n").done is None


def test_protocol_problems():
    assert read("PASS 2 x\nDONE 1\n").problems  # numbering gap
    assert read("PASS 1 x\nDONE 1\nDONE 1\n").problems  # two ends
    assert read("PASS 1 x\nDONE 3\n").problems  # count mismatch
    assert read("PASS 1 x\nDONE 1\nPASS 2 y\n").problems  # assertion after the end
    assert read("FEATURES require.main=present\nFEATURES require.main=absent\n").problems


def test_lines_of_other_shapes_are_ignored():
    t = read("PASSED 1 x\nDONE\nDONE one\nxPASS 1 y\n")
    assert t.assertions == () and t.done is None and t.problems == ()


def test_helper_is_plain_es5():
    js = source()
    for modern in ("=>", "let ", "const ", "class ", "`", "...", "'use strict'"):
        assert modern not in js, modern
    assert HARNESS_ID == "conformanceHarness"
