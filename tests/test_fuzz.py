"""Fuzzing the two doors strangers' input comes through: case files (`load`) and module trees
(`exec_tree`, `runner.py exec`). Whatever comes in, the answer is a Case or a one-line CaseError,
an Execution or a ValueError with a message; never another exception, never a file written
outside the tree."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from conformance.contract import Ending, Execution, Program
from conformance.case import Case
from conformance.caseload import CaseError, load
from conformance.cli import main as cli_main
from conformance.command import write_tree
from conformance.exitcodes import ExitCode
from conformance.reference import ReferenceLoader, exec_tree

REPO = Path(__file__).resolve().parent.parent

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALID = {
    "title": "A fuzzed case that starts out valid",
    "clauses": ["require.function"],
    "modules": {
        "program": "var t = require('conformanceHarness').start(require);\n"
                   "t.ok(true, 'x');\nt.done();\n",
        "lib/helper": "exports.x = 1;\n",
    },
}
VALID_TEXT = yaml.safe_dump(VALID, sort_keys=False)

# ---------------------------------------------------------------------------- strategies

HOSTILE_IDS = ["../../x", "../x", "/etc/passwd", "C:\\x", "C:/x", "\\\\srv\\share\\x", "a\0b",
               "a\\b", "a//b", "a/", "/", "", ".", "..", "./x", "a/./b", "a/../b", "a/../../b",
               "~/x", "x.js", "a\nb", "a b", "é", "%2e%2e/x", "constructor", "__proto__",
               "conformanceHarness", "program", "lib/helper", "$", "_/$", "a" * 201,
               "/".join(["d"] * 60), "CON", "nul"]

valid_ids = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,6}(/[A-Za-z_$][A-Za-z0-9_$]{0,6}){0,3}",
                          fullmatch=True)
module_ids = st.one_of(st.sampled_from(HOSTILE_IDS), valid_ids, st.text(max_size=30))

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
keys = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())
structures = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=5)), max_leaves=30)

JS_SNIPPETS = [
    "exports.x = 1;", "module.exports = 5;", "throw 1;", "throw new Error('boom');",
    "print(module.id, module.uri);", "print(require.main === module);", "var x = (;",
    "require.paths.push('/'); require.paths.unshift('..');", "print(JSON.stringify(exports));",
    "try { require('/etc/passwd'); } catch (e) { print(e.message); }",
    "try { require('../../../etc/passwd'); } catch (e) { print(e.message); }",
    "try { require(''); } catch (e) { print(e.message); }",
    "try { require(42); } catch (e) { print(e.message); }",
    "print(Object.keys(require('program')));", "exports.self = require(module.id);",
    "globalThis.leaked = 1;", "Object.prototype.polluted = 1;", "print('PASS 1 x');",
    "#!/usr/bin/env node\nprint(1);", "\ufeffprint('bom');", "print('\\u0000\\r\\n');",
    "Promise.resolve().then(function () { print('job'); });",
]
requires = module_ids.map(lambda i: f"try {{ print(require({json.dumps(i)})); }} "
                                    "catch (e) { print(String(e).slice(0, 80)); }")
sources = st.lists(st.one_of(st.sampled_from(JS_SNIPPETS), requires, st.text(max_size=60)),
                   max_size=4).map("\n".join)
trees = st.dictionaries(module_ids, sources, min_size=1, max_size=6)

# ---------------------------------------------------------------------------- helpers

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def note_event(text: str) -> None:
    """Count what the fuzzers reach (pytest --hypothesis-show-statistics)."""
    with contextlib.suppress(Exception):  # outside a hypothesis test: nothing to count
        event(text)


@pytest.fixture(scope="module")
def scratch():
    directory = Path(tempfile.mkdtemp(prefix="cjs-fuzz-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def check_load(root: Path, data: bytes) -> Case | CaseError:
    """Load `data` as a case file: a Case, or a CaseError that is one line naming the file and
    a line of it; anything else propagates and fails the test."""
    path = root / "area" / "fuzzed.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        case = load(path, root)
    except CaseError as error:
        text = str(error)
        note_event("CaseError: " + re.sub(r"[^a-zA-Z ]", "", error.problem)[:30])
        assert "\n" not in text and "\r" not in text, repr(text)
        assert len(text) < 2000, len(text)
        assert "fuzzed.yaml" in text
        if error.line is not None:
            try:
                lines = len(_LINE_BREAK.findall(data.decode("utf-8"))) + 1
            except UnicodeDecodeError:
                raise AssertionError(f"a line number for a file that is not UTF-8: {text}")
            assert 1 <= error.line <= lines, (error.line, lines, text)
            assert f"fuzzed.yaml:{error.line}:" in text
        return error
    note_event("loaded")
    assert isinstance(case, Case) and case.id == "area/fuzzed"
    assert case.main in case.modules
    return case


def snapshot(directory: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), directory)
            for d, dirs, files in os.walk(directory) for n in dirs + files}


# ---------------------------------------------------------------------------- the case loader


@FUZZ
@given(st.text(max_size=3000))
def test_load_arbitrary_text(scratch, text):
    check_load(scratch, text.encode("utf-8"))


@FUZZ
@given(st.binary(max_size=3000))
def test_load_arbitrary_bytes(scratch, data):
    check_load(scratch, data)


@FUZZ
@given(structures, st.booleans(), st.booleans())
def test_load_arbitrary_yaml_structures(scratch, data, flow, unicode):
    check_load(scratch, yaml.safe_dump(data, default_flow_style=flow,
                                       allow_unicode=unicode).encode("utf-8"))


FIELDS = ["title", "clauses", "modules", "main", "needs", "sandbox", "versions", "notes",
          "extra", 1, None, True]
field_values = st.one_of(
    structures, module_ids, st.lists(module_ids, max_size=3),
    st.lists(st.sampled_from(["1.0", "1.1", "1.1.1", "2.0", 1.0, 1.1]), max_size=4),
    st.lists(st.sampled_from(["require.main", "require.paths", "module.uri", "require.x"]),
             max_size=4),
    st.lists(st.sampled_from(["require.function", "module.id.top-level", "no.such-clause",
                              "require.main.identity"]), max_size=3),
    st.dictionaries(module_ids, st.one_of(sources, structures), max_size=4))


@st.composite
def perturbed_cases(draw):
    case = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(1, 4))):
        field = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["set", "delete", "module"]))
        if action == "delete":
            case.pop(field, None)
        elif action == "module" and isinstance(case.get("modules"), dict):
            case["modules"][draw(module_ids)] = draw(st.one_of(sources, structures))
        else:
            case[field] = draw(field_values)
    return case


@FUZZ
@given(perturbed_cases(), st.booleans())
def test_load_valid_looking_cases_with_perturbed_fields(scratch, case, flow):
    check_load(scratch, yaml.safe_dump(case, default_flow_style=flow,
                                       allow_unicode=True).encode("utf-8"))


@st.composite
def mutated_texts(draw):
    text = VALID_TEXT
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.sampled_from(list("\t\n\r :-[]{}&*!|>'\"#%@`,?\\\0\x85")
                                               + ["!!python/name:os.system ", "&a ", "*a",
                                                  "---\n", "...\n", "<<: ", "!!binary "]),
                               st.text(max_size=5)))
        if action == "insert":
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + len(piece):]
        else:
            text = text[:position] + piece + text[position + len(piece):]
    return text


@FUZZ
@given(mutated_texts())
def test_load_a_valid_case_with_random_edits(scratch, text):
    check_load(scratch, text.encode("utf-8", errors="surrogatepass"))


def test_the_unperturbed_case_loads(scratch):
    assert isinstance(check_load(scratch, VALID_TEXT.encode()), Case)


# ---------------------------------------------------------------------------- exec


def build_tree(base: Path, modules: dict[str, str], raw: bool) -> tuple[Path, dict[str, str]]:
    """Write the tree at base/tree with write_tree (ids it refuses are left out) or as raw
    file names; returns the root and what was written."""
    root = base / "tree"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    written = {}
    for module_id, source in modules.items():
        if raw:
            name = module_id.replace("/", "_").replace("\0", "_")
            if name in ("", ".", ".."):
                continue
            try:
                (root / (name + ".js")).write_text(source, encoding="utf-8")
            except OSError:  # a name too long for the file system
                continue
            written[name] = source
        else:
            try:
                write_tree(root, {module_id: source})
            except ValueError as exc:
                assert "module id" in str(exc)
                continue
            except OSError:  # a valid id too long for the file system
                continue
            written[module_id] = source
    return root, written


def check_exec(root: Path, main: str) -> Execution | ValueError:
    try:
        execution = exec_tree(root, main, timeout=0.3)
    except ValueError as exc:
        text = str(exc)
        note_event("ValueError")
        assert text and (str(root) in text or repr(main) in text), text
        return exc
    assert isinstance(execution, Execution)
    assert execution.ending in (Ending.EXITED, Ending.TIMED_OUT), execution
    note_event(f"ran: {execution.ending.value} {execution.exit_code}")
    return execution


def mains(data, ids) -> str:
    """A main module id: mostly one of the tree's, sometimes anything."""
    choices = [st.sampled_from(sorted(ids))] * 3 if ids else []
    return data.draw(st.one_of(*choices, module_ids))


@settings(FUZZ, max_examples=100)
@given(trees, st.data(), st.booleans())
def test_exec_tree_on_arbitrary_module_trees(scratch, modules, data, raw):
    base = scratch / "exec"
    base.mkdir(exist_ok=True)
    (base / "outside.js").write_text("print('outside');\n")
    before = snapshot(base) - {p for p in snapshot(base) if p.startswith("tree")}
    root, written = build_tree(base, modules, raw)
    main = mains(data, written)
    result = check_exec(root, main)
    after = snapshot(base)
    assert {p for p in after if not p.startswith("tree")} == before, "written outside the tree"
    if isinstance(result, Execution):
        assert "outside" not in result.stdout.splitlines()
    elif main in written and _plain(main):
        raise AssertionError(f"exec_tree refused a written main module: {result}")


def _plain(main: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*(/[A-Za-z_$][A-Za-z0-9_$]*)*", main))


@settings(FUZZ, max_examples=100)
@given(trees, st.data(), st.booleans())
def test_the_reference_loader_on_arbitrary_in_memory_trees(modules, data, sandbox):
    """The in-memory door: ids that never reach a disk, as a Python loader's caller may pass."""
    main = mains(data, modules)
    execution = ReferenceLoader(sandbox=sandbox).run(Program("fuzz", modules, main, 0.3))
    assert isinstance(execution, Execution)
    assert execution.ending in (Ending.EXITED, Ending.TIMED_OUT), execution
    note_event(f"ran: {execution.ending.value} {execution.exit_code}")


@settings(FUZZ, max_examples=60)
@given(trees, st.data())
def test_runner_exec_in_process(scratch, modules, data):
    base = scratch / "cli"
    base.mkdir(exist_ok=True)
    root, written = build_tree(base, modules, raw=False)
    main = mains(data, written)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(["exec", str(root), main, "--timeout", "0.3"])
    assert status in (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE_ERROR), status
    note_event(f"exit {status}")
    if status == ExitCode.USAGE_ERROR:
        assert err.getvalue().startswith("runner.py exec: error: "), err.getvalue()
    assert snapshot(base) <= {"tree"} | {p for p in snapshot(base) if p.startswith("tree")}


@settings(FUZZ, max_examples=8)
@given(trees, st.data())
def test_runner_exec_as_a_command(scratch, modules, data):
    base = scratch / "subprocess"
    base.mkdir(exist_ok=True)
    root, written = build_tree(base, modules, raw=False)
    main = mains(data, written)
    assume("\0" not in main)  # no NUL can travel in an argument
    # `--` before ROOT and MAIN: a drawn id may start with '-' and must not read as an option.
    proc = subprocess.run([sys.executable, str(REPO / "runner.py"), "exec", "--timeout", "0.3",
                           "--", str(root), main], capture_output=True, text=True,
                          errors="backslashreplace", timeout=60, cwd=base)
    assert proc.returncode in (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE_ERROR), proc
    assert "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode == ExitCode.USAGE_ERROR:
        assert proc.stderr.startswith("runner.py exec: error: "), proc.stderr
    assert set(os.listdir(base)) == {"tree"}
