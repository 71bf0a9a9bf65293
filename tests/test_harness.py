"""The harness helper's line protocol, read back by conformance.harness.read."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

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


def _code_only(js: str) -> str:
    """The helper's source with comments and string literals blanked out."""
    js = re.sub(r"//[^\n]*", "", js)
    return re.sub(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"", "''", js)


def test_helper_is_plain_es5():
    code = _code_only(source())
    assert "exports.start" in code and "''" in code  # the blanking left the code itself
    for modern in (r"=>", r"\blet\b", r"\bconst\b", r"\bclass\b", "`", r"\.\.\.",
                   r"\bof\b", r"\basync\b", r"\bawait\b", r"\bSymbol\b", r"\bMap\b"):
        assert not re.search(modern, code), modern
    assert "use strict" not in source()
    assert HARNESS_ID == "conformanceHarness"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_helper_falls_back_to_console_log_on_node(tmp_path):
    (tmp_path / f"{HARNESS_ID}.js").write_text(source())
    (tmp_path / "program.js").write_text(
        "var t = require('conformanceHarness').start(require);\n"
        "t.ok(true, 'holds'); t.same(1, 2, 'one is two'); t.throws(function () {}, 'throws');\n"
        "t.done(); t.ok(true, 'late');\n")
    proc = subprocess.run(["node", str(tmp_path / "program.js")], capture_output=True, text=True,
                          env={**os.environ, "NODE_PATH": str(tmp_path)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    t = read(proc.stdout)
    assert t.features == {"require.main": True, "require.paths": False, "module.uri": False}
    assert [(a.passed, a.message) for a in t.assertions] == [
        (True, "holds"),
        (False, "one is two: expected number 2, got number 1"),
        (False, "throws: nothing was thrown"),
        (False, "assertion after done(): late"),
    ]
    assert t.done == 3 and t.problems == ("assertion 4 printed after DONE",)


def test_problems_are_bounded():
    stdout = "FEATURES require.main=present\nPASS 1 a\n" * 200
    problems = read(stdout).problems
    assert len(problems) == 4 and problems[-1].startswith("and ") and "more than once" in problems[0]


def entries_for(paths, uri, module_id):
    """Run the helper's entriesFor in a bare QuickJS context with stand-in require and module."""
    import json

    import quickjs

    context = quickjs.Context()
    context.eval("var exports = {}, module = {}, print = function () {};\n" + source())
    given = {"paths": paths} if paths is not None else {}
    own = {"id": module_id} if uri is None else {"id": module_id, "uri": uri}
    return json.loads(context.eval(
        f"JSON.stringify(exports.entriesFor({json.dumps(given)}, {json.dumps(own)}, 'extra'))"))


def test_entries_for_derives_from_listed_entries_and_from_the_uri():
    assert entries_for(["/a", "/b/"], None, "program") == ["/a/extra", "/b/extra"]
    assert entries_for([], "file:/tmp/r/program.js", "program") == [
        "file:/tmp/r/extra", "/tmp/r/extra"]
    assert entries_for([], "file:///tmp/my%20r/app/main.js", "app/main") == [
        "file:///tmp/my%20r/extra", "/tmp/my r/extra"]
    assert entries_for(["/tmp/r"], "file:/tmp/r/program.js", "program") == [
        "/tmp/r/extra", "file:/tmp/r/extra"]
    assert entries_for([], "memory:///modules/program.js", "program") == ["memory:///modules/extra"]
    assert entries_for([], None, "program") == []
    assert entries_for(None, "x:program.js", "a/b/c") == []  # too shallow to strip the id


def test_the_done_check_covers_features_skip_and_feature_lines():
    """What the helper adds to its trail, the reader adds for the same lines: a run of the
    helper on QuickJS checks out, and one line more or less does not."""
    from conformance.harness import new_key
    from conformance.reference import exec_tree

    key = new_key()
    program = ("var t = require('conformanceHarness').start(require);\n"
               "t.clause('require.function');\nt.ok(true, 'x \\u2028 \\ud83d\\ude00');\n"
               "t.feature('require.main', true);\nt.feature('module.uri', false);\n"
               "t.notApplicable('why');\nt.given('modules.singleton');\nt.fail('y');\n"
               "t.done();\n")
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "program.js").write_text(program, encoding="utf-8")
        (Path(root) / f"{HARNESS_ID}.js").write_text(source(key), encoding="utf-8")
        stdout = exec_tree(root, "program").stdout
    t = read(stdout)
    assert t.checks_out(key) and t.done == 2 and t.inapplicable == "why", stdout
    assert t.trail == ("[Fppp][Crequire.function]P[frequire.main=p][fmodule.uri=a][S]"
                       "[Gmodules.singleton]F")
    assert t.assertions[0].message == "x \u2028 \U0001f600"  # U+2028 does not end a line
    lines = stdout.removesuffix("\n").split("\n")
    for index, line in enumerate(lines[:-1]):
        without = "\n".join(lines[:index] + lines[index + 1:]) + "\n"
        assert not read(without).checks_out(key), f"without {line!r}"
