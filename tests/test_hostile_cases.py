"""Hostile case files: the suite refuses each with one line naming file, line and field, exits 6,
never shows a traceback, and writes nothing outside its temporary directory.

Every input goes through `conformance.caseload.load` and, end to end, through
`python runner.py --cases DIR` with a fake loader that records where it was asked to run (it
never is: a malformed case stops the run before anything runs). tests/test_caseload.py covers
the messages in detail; this file covers what a stranger's file can do to the suite.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conformance.text import counted
from conformance.caseload import (MAX_BYTES, MAX_MODULES, MAX_NODES, CaseError, discover,
                                  find, load, load_all)
from conformance.command import write_case_tree, write_tree
from conformance.exitcodes import ExitCode
from conformance.yamlfile import MAX_DEPTH
from tests.test_caseload import CLAUSES, PROGRAM, write

REPO = Path(__file__).resolve().parent.parent
GROUP = "Hostile case files"

TITLE = "title: A small case used by the hostile tests\n"
VALID = TITLE + CLAUSES + PROGRAM
#: The line of the first line after VALID.
AFTER = VALID.count("\n") + 1

#: Runs the module tree with the reference loader after recording where it stands and what it
#: holds; argv: ROOT MAIN RECORD.
FAKE_LOADER = """\
import json, os, sys
from conformance.reference import exec_tree
root, main, record = sys.argv[1:4]
files = sorted(os.path.relpath(os.path.join(d, f), root)
               for d, _, names in os.walk(root) for f in names)
with open(record, "a", encoding="utf-8") as out:
    out.write(json.dumps({"root": root, "main": main, "files": files}) + "\\n")
execution = exec_tree(root, main)
sys.stdout.write(execution.stdout)
sys.stderr.write(execution.stderr)
sys.exit(execution.exit_code or 0)
"""


# ---------------------------------------------------------------------------- the harness


@dataclass
class Sandbox:
    """A temporary area: cases/ (one good case in it), work/ (the runner's cwd), tmp/ (its
    TMPDIR), the fake loader and its record."""

    base: Path

    @property
    def cases(self) -> Path:
        return self.base / "cases"

    @property
    def record(self) -> Path:
        return self.base / "record.jsonl"

    def write(self, name: str, text: str | bytes) -> Path:
        return write(self.cases, name, text)

    def snapshot(self) -> set[str]:
        return {os.path.relpath(os.path.join(d, n), self.base)
                for d, dirs, files in os.walk(self.base) for n in dirs + files}

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """runner.py --cases cases/ with the fake loader; checks that nothing appeared outside
        cases/ but the record and the (emptied) tmp/."""
        fake = self.base / "fake_loader.py"
        template = " ".join(shlex.quote(a) for a in (sys.executable, str(fake))) + \
            " {root} {main} " + shlex.quote(str(self.record))
        before = self.snapshot()
        env = {**os.environ, "TMPDIR": str(self.base / "tmp"), "PYTHONDONTWRITEBYTECODE": "1"}
        proc = subprocess.run(
            [sys.executable, str(REPO / "runner.py"), "--cases", str(self.cases),
             "--loader-cmd", template, "--loader-name", "fake", "--timeout", "20", *args],
            cwd=self.base / "work", env=env, capture_output=True, text=True,
            errors="backslashreplace", timeout=timeout)
        appeared = self.snapshot() - before
        assert appeared <= {"record.jsonl"}, f"written outside the case tree: {sorted(appeared)}"
        assert list((self.base / "work").iterdir()) == []
        assert list((self.base / "tmp").iterdir()) == [], "a temporary tree was left behind"
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return proc

    def runs(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    box = Sandbox(tmp_path)
    for name in ("work", "tmp"):
        (tmp_path / name).mkdir()
    (tmp_path / "fake_loader.py").write_text(FAKE_LOADER, encoding="utf-8")
    box.write("good/ok.yaml", VALID)
    return box


def refused_by_cli(box: Sandbox, path: Path, count: int = 1) -> str:
    """Run the CLI on the case directory; it must refuse `count` files, this one among them,
    with one line each, exit 6 and run nothing. Returns the line naming `path`."""
    proc = box.run()
    assert proc.returncode == ExitCode.CASE_ERROR, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"runner.py: {counted(count, 'malformed case file')}; nothing was run", \
        lines
    assert len(lines) == count + 1, lines
    mine = [line for line in lines if os.fsdecode(path.name) in line
            or repr(os.fsdecode(path.name))[1:-1] in line]
    assert len(mine) == 1, lines
    assert proc.stdout == ""
    assert box.runs() == [], "a case ran although a case file was malformed"
    return mine[0].split("cases/", 1)[-1]


def one_line(error: CaseError) -> str:
    text = str(error)
    assert "\n" not in text and "\r" not in text and "\0" not in text, repr(text)
    assert len(text) < 1000, f"{len(text)} characters"
    return text


def load_refused(path: Path, root: Path) -> CaseError:
    with pytest.raises(CaseError) as info:
        load(path, root)
    one_line(info.value)
    return info.value


# ---------------------------------------------------------------------------- the inputs

BILLION_LAUGHS = "\n".join(
    ['lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"lol{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]) + "\n"


def _module(module_id: str) -> str:
    # JSON strings are YAML double-quoted strings, so any id can be written as a key.
    return VALID + f"  {json.dumps(module_id)}: exports.x = 1;\n"


@dataclass(frozen=True)
class Hostile:
    """A case file's text, and the line and field its one-line error must name."""

    tried: str
    text: str | bytes
    line: int | None
    field: str
    words: tuple[str, ...] = ()


HOSTILE_FILES = [
    # malformed YAML
    Hostile("unclosed flow list", TITLE + "clauses: [require.function\n" + PROGRAM, 3, "",
            ("invalid YAML",)),
    Hostile("a tab in the indentation", VALID + "\tnotes: x\n", AFTER, "", ("invalid YAML",)),
    Hostile("two documents", VALID + "---\n" + VALID, AFTER, "", ("single document",)),
    Hostile("a bare scalar instead of a mapping", "just some text\n", 1, "", ("mapping",)),
    Hostile("an empty file", "", 1, "", ("empty",)),
    Hostile("a file of only '---'", "---\n", 1, "", ()),
    # wrong types
    Hostile("title as a number", "title: 42\n" + CLAUSES + PROGRAM, 1, "title",
            ("not of type 'string'",)),
    Hostile("clauses as a mapping", TITLE + "clauses: {require.function: 1}\n" + PROGRAM, 2,
            "clauses", ("not of type 'array'",)),
    Hostile("modules as a string", TITLE + CLAUSES + "modules: program\n", 3, "modules",
            ("not of type 'object'",)),
    Hostile("a module source as a list", VALID + "  helper: [1, 2]\n", AFTER,
            "modules.helper", ("not of type 'string'",)),
    Hostile("needs as a string", TITLE + CLAUSES + "needs: require.main\n" + PROGRAM, 3,
            "needs", ("not of type 'array'",)),
    Hostile("a 20,000-item list as the title",
            "title: [" + ",".join(["x"] * 20_000) + "]\n" + CLAUSES + PROGRAM, 1, "title",
            ("is not of type 'string'",)),
    # unknown keys
    Hostile("an unknown top-level key", VALID + "expect: pass\n", AFTER, "expect",
            ("unknown key",)),
    Hostile("a null key", VALID + "~: x\n", AFTER, "None", ("unknown key",)),
    Hostile("a boolean key", VALID + "yes: x\n", AFTER, "True", ("unknown key",)),
    Hostile("a 5,000-character key (explicit: implicit keys stop at 1024)",
            VALID + "? " + "k" * 5000 + "\n: x\n", AFTER, "k" * 5000, ("unknown key",)),
    Hostile("a merge key '<<'", VALID + "<<: {a: 1}\n", AFTER, "a", ("unknown key",)),
    # module ids that would leave the case directory when written
    Hostile("module id '../../x'", _module("../../x"), AFTER, "modules.../../x",
            ("not a top-level module id",)),
    Hostile("module id '/etc/passwd'", _module("/etc/passwd"), AFTER, "modules./etc/passwd",
            ("not a top-level module id",)),
    Hostile("module id 'C:\\\\x' (absolute Windows path)", _module("C:\\x"), AFTER,
            "modules.C:\\x", ("not a top-level module id",)),
    Hostile("module id 'C:/x'", _module("C:/x"), AFTER, "modules.C:/x", ("not a top-level",)),
    Hostile("module id '\\\\\\\\server\\\\share\\\\x' (UNC path)", _module("\\\\server\\share\\x"),
            AFTER, "modules.\\\\server\\share\\x", ("not a top-level",)),
    Hostile("module id with a NUL byte 'a\\0b'", _module("a\0b"), AFTER, "modules.a\0b",
            ("not a top-level",)),
    Hostile("module id with a backslash 'a\\\\b'", _module("a\\b"), AFTER, "modules.a\\b",
            ("not a top-level",)),
    Hostile("module id with an empty term 'a//b'", _module("a//b"), AFTER, "modules.a//b",
            ("not a top-level",)),
    Hostile("module id with a trailing '/'", _module("a/"), AFTER, "modules.a/",
            ("not a top-level",)),
    Hostile("module id '.'", _module("."), AFTER, "modules..", ("not a top-level",)),
    Hostile("module id '..'", _module(".."), AFTER, "modules...", ("not a top-level",)),
    Hostile("module id 'a/./b'", _module("a/./b"), AFTER, "modules.a/./b",
            ("not a top-level",)),
    Hostile("module id 'a/../../b'", _module("a/../../b"), AFTER, "modules.a/../../b",
            ("not a top-level",)),
    Hostile("module id '~/x'", _module("~/x"), AFTER, "modules.~/x", ("not a top-level",)),
    Hostile("module id with a line break", _module("a\nb"), AFTER, "modules.a\nb",
            ("not a top-level",)),
    # JSON Schema's '$' is the end of the string (ECMA-262); Python's matches before a final \n
    Hostile("module id ending in a line break 'helper\\n'", _module("helper\n"), AFTER,
            "modules.helper\n", ("not a top-level",)),
    Hostile("module id 'a/b\\r\\n' (CR LF at its end)", _module("a/b\r\n"), AFTER,
            "modules.a/b\r\n", ("not a top-level",)),
    Hostile("main ending in a line break 'program\\n'",
            TITLE + CLAUSES + 'main: "program\\n"\n' + PROGRAM + '  "program\\n": x\n', 3,
            "main", ("does not match",)),
    Hostile("module id of 201 characters", _module("a" * 201), AFTER, "modules." + "a" * 201,
            ("201 characters", "at most 200")),
    Hostile("module id of 256 characters (127 'a/' terms, then 'bb')", _module("a/" * 127 + "bb"),
            AFTER, "modules." + "a/" * 127 + "bb", ("256 characters", "at most 200")),
    Hostile("module id of 100,000 characters", VALID + f"  ? {json.dumps('a/' * 50_000 + 'b')}"
            "\n  : x\n", AFTER, "modules." + "a/" * 50_000 + "b", ("100001 characters",)),
    Hostile("main '../../x'", TITLE + CLAUSES + "main: ../../x\n" + PROGRAM, 3, "main",
            ("does not match",)),
    Hostile("main of 5,000 characters", TITLE + CLAUSES + f"main: {'m' * 5000}\n" + PROGRAM,
            3, "main", ("5000 characters",)),
    # tags that try to build Python objects, and values of the wrong kind
    Hostile("!!python/object/apply:os.system", VALID + "notes: !!python/object/apply:os.system "
            "['touch /tmp/commonjs-conformance-pwned']\n", AFTER, "", ("python/object/apply",)),
    Hostile("!!python/object/new:os.system", VALID + "notes: !!python/object/new:os.system "
            "['true']\n", AFTER, "", ("python/object/new",)),
    Hostile("!!python/name:os.system", VALID + "notes: !!python/name:os.system ''\n", AFTER, "",
            ("python/name",)),
    Hostile("!!python/module:os", VALID + "notes: !!python/module:os ''\n", AFTER, "",
            ("python/module",)),
    Hostile("a %TAG directive aliasing python tags",
            "%TAG !p! tag:yaml.org,2002:python/\n---\n" + VALID + "notes: !p!name:os.system ''\n",
            AFTER + 2, "", ("python/name",)),
    Hostile("a local tag !foo", VALID + "notes: !foo bar\n", AFTER, "", ("!foo",)),
    Hostile("!!binary as the title", "title: !!binary aGVsbG8gd29ybGQgaGVsbG8=\n" + CLAUSES
            + PROGRAM, 1, "title", ("not of type 'string'",)),
    Hostile("!!set as the clauses", TITLE + "clauses: !!set {require.function}\n" + PROGRAM, 2,
            "clauses", ("not of type 'array'",)),
    Hostile("a timestamp as a module source", VALID + "  helper: 2001-12-14t21:59:43.10-05:00\n",
            AFTER, "modules.helper", ("datetime", "not of type 'string'")),
    Hostile("a date as main", TITLE + CLAUSES + "main: 2001-12-14\n" + PROGRAM, 3, "main",
            ("not of type 'string'",)),
    Hostile("!!int abc", VALID + "notes: !!int abc\n", AFTER, "", ("'abc'", "int")),
    Hostile("!!bool maybe", VALID + "notes: !!bool maybe\n", AFTER, "", ("'maybe'", "bool")),
    Hostile("!!timestamp noon", VALID + "notes: !!timestamp noon\n", AFTER, "",
            ("'noon'", "timestamp")),
    Hostile("a 5,000-digit integer", VALID + "notes: " + "9" * 5000 + "\n", AFTER, "",
            ("integer of 5000 characters",)),
    Hostile("a 100,000-digit hexadecimal integer", VALID + "notes: 0x" + "f" * 100_000 + "\n",
            AFTER, "", ("integer of 100002 characters",)),
    # bombs
    Hostile("an alias bomb (billion laughs)", BILLION_LAUGHS + VALID, 1, "lol0",
            ("anchors and aliases are not allowed",)),
    Hostile(f"{MAX_NODES + 1:,} one-character list items under 1 MiB",
            VALID + "notes: [" + ",".join(["x"] * (MAX_NODES + 1)) + "]\n", AFTER,
            # 12 values come before the list's items: the mapping, 4 keys, title, clauses
            # and its item, modules and its key and value, and the list
            f"notes[{MAX_NODES - 12}]", (f"more than {MAX_NODES} values",)),
    Hostile(f"a case with {MAX_MODULES + 1:,} modules",
            VALID + "".join(f"  m{i}: x\n" for i in range(MAX_MODULES)), 3, "modules",
            (f"{MAX_MODULES + 1} modules", f"at most {MAX_MODULES}")),
    Hostile("10,000 nested lists", VALID + "notes: " + "[" * 10_000 + "]" * 10_000 + "\n", AFTER,
            "notes" + "[0]" * (MAX_DEPTH - 1), (f"nested more than {MAX_DEPTH} levels",)),
    Hostile("10,000 nested mappings", VALID + "notes: " + "{a: " * 10_000 + "1" + "}" * 10_000
            + "\n", AFTER, "notes" + ".a" * (MAX_DEPTH - 1), ("nested more than",)),
    Hostile("1,000 nested block lists", VALID + "notes:\n" + "".join(
        " " * i + "-\n" for i in range(1_000)), AFTER + MAX_DEPTH + 1,
        "notes" + "[0]" * (MAX_DEPTH - 1), ("nested more than",)),
    Hostile("10,000 nested mapping keys", VALID + "x: " + "{? " * 10_000 + "a" + ": 1}" * 10_000
            + "\n", AFTER, "x" + ".?" * (MAX_DEPTH - 1), ("nested more than",)),
    # encodings and characters
    Hostile("Latin-1 text", VALID.replace("small", "sm\xe4ll").encode("latin-1"), None, "",
            ("not UTF-8",)),
    Hostile("UTF-16 with a byte order mark", VALID.encode("utf-16"), None, "", ("not UTF-8",)),
    Hostile("a raw NUL byte", VALID + "notes: a\0b\n", AFTER, "", ("U+0000",)),
    Hostile("a raw escape character (ANSI colours)", VALID + "notes: \x1b[31mred\x1b[0m\n",
            AFTER, "", ("U+001B",)),
    Hostile("a lone surrogate escape", VALID + 'notes: "\\ud800"\n', AFTER, "notes",
            ("surrogate",)),
    Hostile("a lone surrogate in a module source", VALID + '  helper: "x\\udfff"\n', AFTER,
            "modules.helper", ("surrogate",)),
]


@pytest.mark.parametrize("hostile_file", HOSTILE_FILES, ids=lambda h: h.tried)
def test_hostile_case_file_is_one_line_and_exit_6(box, hostile, hostile_file):
    path = box.write("bad/hostile.yaml", hostile_file.text)
    started = time.perf_counter()
    error = load_refused(path, box.cases)
    assert time.perf_counter() - started < 5
    assert error.line == hostile_file.line, str(error)
    assert error.field == hostile_file.field, str(error)
    text = str(error)
    assert text.startswith(os.path.relpath(path) + (f":{error.line}:" if error.line else ":"))
    for word in hostile_file.words:
        assert word.lower() in text.lower(), f"{word!r} not in {text!r}"
    shown = refused_by_cli(box, path)
    assert shown.startswith("bad/hostile.yaml" + (f":{error.line}:" if error.line else ":"))
    assert not Path("/tmp/commonjs-conformance-pwned").exists()
    hostile(GROUP, hostile_file.tried, f"exit 6: `{shown}`")


def test_a_file_over_one_mebibyte_is_refused_unread(box, hostile):
    path = box.write("bad/huge.yaml", VALID + "notes: " + "x" * MAX_BYTES + "\n")
    error = load_refused(path, box.cases)
    assert error.line is None and f"at most {MAX_BYTES}" in str(error)
    shown = refused_by_cli(box, path)
    hostile(GROUP, "a file over 1 MiB", f"exit 6, refused unread: `{shown}`")


def test_a_mebibyte_of_values_is_refused_within_seconds(box, hostile):
    items = (MAX_BYTES - len(VALID) - 20) // 2
    path = box.write("bad/many.yaml", VALID + "notes: [" + ",".join(["x"] * items) + "]\n")
    assert path.stat().st_size <= MAX_BYTES
    started = time.perf_counter()
    error = load_refused(path, box.cases)
    seconds = time.perf_counter() - started
    assert "values in one file" in str(error) and seconds < 5
    shown = refused_by_cli(box, path)
    hostile(GROUP, f"{items:,} one-character list items in just under 1 MiB (parsing them all "
            "took 11 s)", f"exit 6 within 5 s: `{shown}`")


# ---------------------------------------------------------------------------- duplicate ids


@pytest.mark.parametrize("first, second, words", [
    ("a/x.yaml", "a/x.yml", ("the same case id", "'a/x'")),
    ("a/x.yaml", "a/X.yaml", ("differing only in case", "'a/X'")),
    ("A/x.yaml", "a/x.yml", ("differing only in case", "'A/x'")),
])
def test_two_files_giving_one_case_id(box, hostile, first, second, words):
    one, two = box.write(first, VALID), box.write(second, VALID)
    if os.path.samefile(one, two):
        pytest.skip("a case-insensitive file system holds one of the two files")
    # The first in id order is kept ('A' sorts before 'a'), the second refused.
    one, two = [p for p in discover(box.cases) if p in (one, two)]
    cases, errors = load_all(discover(box.cases), box.cases)
    assert sorted(c.id for c in cases) == sorted({"good/ok", one.relative_to(box.cases)
                                                  .with_suffix("").as_posix()})
    [error] = errors
    text = one_line(error)
    assert error.path == two and error.line is None
    assert text.startswith(os.path.relpath(two) + ": ")
    assert os.path.relpath(one) in text, text
    for word in words:
        assert word in text, text
    shown = refused_by_cli(box, two)
    hostile(GROUP, f"two files `{first}` and `{second}`",
            f"load_all loads the first, refuses the second naming both; exit 6: `{shown}`")


def test_two_files_whose_names_differ_only_in_unicode_normalization(box, hostile):
    """'café' composed (U+00E9) and decomposed (e and U+0301): two ids the terminal shows alike.
    The second is refused, naming both files and spelling both ids in ASCII."""
    composed, decomposed = "a/caf\u00e9.yaml", "a/cafe\u0301.yaml"
    one, two = box.write(composed, VALID), box.write(decomposed, VALID)
    if os.path.samefile(one, two):
        pytest.skip("the file system normalizes names: it holds one of the two files")
    first, second = [p for p in discover(box.cases) if p in (one, two)]
    cases, errors = load_all(discover(box.cases), box.cases)
    assert len(cases) == 2 and len(errors) == 1  # good/ok and the first of the two
    text = one_line(errors[0])
    assert errors[0].path == second and os.path.relpath(first) in text
    assert "Unicode normalization" in text and "'a/caf\\xe9'" in text \
        and "'a/cafe\\u0301'" in text, text
    assert [str(e) for e in find(box.cases).check()] == [str(errors[0])]
    shown = refused_by_cli(box, second)
    hostile(GROUP, "two files `a/caf\u00e9.yaml` (U+00E9) and `a/cafe\u0301.yaml` (e, U+0301), "
            "shown alike", f"exit 6, the second refused naming both: `{shown}`")


@pytest.mark.parametrize("name", ["a/Upper.YAML", "a/mixed.Yml", "a/odd.yAmL"])
def test_a_case_file_with_a_suffix_in_other_case_is_refused_by_name(box, hostile, name):
    path = box.write(name, VALID)
    error = load_refused(path, box.cases)
    stem, suffix = name.rsplit(".", 1)
    assert f"rename it to {stem.split('/')[-1]}.{suffix.lower()}" in str(error)
    assert [e.path for e in find(box.cases).check()] == [path]
    assert [e.path for e in load_all(discover(box.cases), box.cases)[1]] == [path]
    assert find(box.cases, "nothing-matches").check() == []
    shown = refused_by_cli(box, path)
    # Renamed, it is a case with the id it would have had.
    path.rename(path.with_suffix(path.suffix.lower()))
    assert sorted(find(box.cases).ids) == sorted(["good/ok", stem])
    hostile(GROUP, f"a case file named `{name}`", f"exit 6: `{shown}`")


def test_the_pytest_plugin_collects_duplicates_one_by_one(pytester, hostile):
    """The plugin loads files one at a time (load, not load_all): both files become items with
    the same name, told apart only by their file in the node id. A known gap, recorded; and a
    broken symbolic link is not collected at all (pytest only visits files)."""
    root = pytester.path / "cases"
    for name in ("a/x.yaml", "a/x.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(VALID, encoding="utf-8")
    (root / "a" / "gone.yaml").symlink_to("nowhere.yaml")
    result = pytester.runpytest("--cases-root", str(root), "cases", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["cases/a/x.yaml::a/x", "cases/a/x.yml::a/x"])
    assert "gone" not in result.stdout.str()
    hostile(GROUP, "`a/x.yaml` and `a/x.yml` (and a broken link `a/gone.yaml`) under the "
            "pytest plugin", "both files collected as items named `a/x` (node ids "
            "`cases/a/x.yaml::a/x`, `cases/a/x.yml::a/x`); the broken link is not collected "
            "and nothing is said (the plugin collects file by file; `load_all` is not used)")


# ---------------------------------------------------------------------------- odd files


def _make_directory(box: Sandbox) -> Path:
    path = box.cases / "bad" / "dir.yaml"
    path.mkdir(parents=True)
    return path


def _make_broken_link(box: Sandbox) -> Path:
    path = box.cases / "bad" / "broken.yaml"
    path.parent.mkdir(parents=True)
    path.symlink_to(Path("..") / ".." / "nowhere.yaml")  # relative: the message is stable
    return path


def _make_link_loop(box: Sandbox) -> Path:
    path = box.cases / "bad" / "loop.yaml"
    path.parent.mkdir(parents=True)
    path.symlink_to(path)
    return path


def _make_fifo(box: Sandbox) -> Path:
    path = box.cases / "bad" / "fifo.yaml"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    return path


def _make_device_link(box: Sandbox) -> Path:
    path = box.cases / "bad" / "zero.yaml"
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")
    return path


def _make_unreadable(box: Sandbox) -> Path:
    path = box.write("bad/secret.yaml", VALID)
    path.chmod(0)
    return path


def _make_newline_name(box: Sandbox) -> Path:
    return box.write("bad/two\nlines.yaml", VALID)


def _make_undecodable_name(box: Sandbox) -> Path:
    (box.cases / "bad").mkdir(parents=True)
    raw = os.fsencode(box.cases / "bad") + b"/caf\xe9.yaml"
    with open(raw, "wb") as out:
        out.write(VALID.encode())
    return Path(os.fsdecode(raw))


ODD_FILES: list[tuple[str, Callable[[Sandbox], Path], tuple[str, ...]]] = [
    ("a directory named x.yaml", _make_directory, ("is a directory",)),
    ("a broken symbolic link", _make_broken_link, ("broken symbolic link", "nowhere.yaml")),
    ("a symbolic link to itself", _make_link_loop, ("cannot read", "symbolic links")),
    ("a named pipe (reading it would block for ever)", _make_fifo, ("named pipe",)),
    ("a symbolic link to /dev/zero (endless)", _make_device_link, ("character device",)),
    ("a file without read permission", _make_unreadable, ("cannot read", "permission")),
    ("a file name with a line break", _make_newline_name, ("printable",)),
    ("a file name that is not UTF-8", _make_undecodable_name, ("printable",)),
]


@pytest.mark.parametrize("tried, make, words", ODD_FILES, ids=[o[0] for o in ODD_FILES])
def test_odd_files_are_refused_by_name(box, hostile, tried, make, words):
    if make is _make_unreadable and os.geteuid() == 0:
        pytest.skip("root reads any file")
    if make is _make_device_link and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    path = make(box)
    assert path in discover(box.cases), "the odd file is not even seen: a case went missing"
    error = load_refused(path, box.cases)
    assert error.line is None and error.field == ""
    for word in words:
        assert word.lower() in str(error).lower(), str(error)
    shown = refused_by_cli(box, path)
    hostile(GROUP, tried, f"exit 6: `{shown}`")


def test_a_case_file_linked_from_outside_has_the_id_of_the_link(box, hostile):
    outside = box.base / "elsewhere" / "real.yaml"
    outside.parent.mkdir()
    outside.write_text(VALID, encoding="utf-8")
    link = box.cases / "linked" / "case.yaml"
    link.parent.mkdir()
    link.symlink_to(outside)
    assert [p.name for p in discover(box.cases, "linked")] == ["case.yaml"]
    assert load(link, box.cases).id == "linked/case"
    proc = box.run("-k", "linked", "-v")
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    assert "linked/case" in proc.stdout
    hostile(GROUP, "a case file that is a symbolic link to a file outside the case directory",
            "loaded under the id of the link (`linked/case`) and run; before, `-k` and the "
            "case id raised ValueError with a traceback")


# ---------------------------------------------------------------------------- valid odd ids


def test_odd_but_valid_module_ids_stay_inside_the_temporary_tree(box, hostile):
    """Ids the schema allows, written to disk by the runner: each lands inside the fresh
    temporary directory, which is gone afterwards; nothing appears anywhere else."""
    odd = ["$", "_", "$$/_/$", "constructor", "__proto__", "toString", "hasOwnProperty",
           "CON", "nul", "aux/com1", "A" * 200, "/".join(["d"] * 100)]
    requires = "".join(f"    t.same(require({json.dumps(i)}).id, {json.dumps(i)}, 'id');\n"
                       for i in odd)
    text = (TITLE + CLAUSES + "modules:\n  program: |\n"
            "    var t = require('conformanceHarness').start(require);\n" + requires
            + "    t.done();\n" + "".join(f"  {json.dumps(i)}: exports.id = module.id;\n"
                                          for i in odd))
    box.write("odd/ids.yaml", text)
    proc = box.run("-v")
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    # good/ok and odd/ids, besides the run's one feature probe
    runs = [r for r in box.runs() if "probeTop.js" not in r["files"]]
    assert len(runs) == 2
    tmp = str(box.base / "tmp")
    for run in runs:
        assert run["root"].startswith(tmp + os.sep), run["root"]
        assert not any(f.startswith("..") or os.path.isabs(f) for f in run["files"])
    ids_run = next(r for r in runs if "$.js" in r["files"])
    assert {f"{i}.js" for i in odd} <= set(ids_run["files"])
    hostile(GROUP, "valid but odd module ids (`$`, `__proto__`, `constructor`, `CON`, `nul`, "
            "a 200-character id, 100 nested terms)",
            "written inside the fresh temporary directory and run; the directory is removed "
            "afterwards and nothing appears anywhere else (`CON`/`nul` would be reserved names "
            "on Windows)")


# ---------------------------------------------------------------------------- write_tree

WRITE_TREE_IDS = ["../../x", "../x", "/etc/passwd", "/tmp/x", "C:\\x", "C:/x", "\\\\srv\\x",
                  "a\0b", "a\\b", "a//b", "a/", "/", "", ".", "..", "a/./b", "a/../b",
                  "a/../../b", "./x", "~/x", "x.js", "a\nb", "a b", "é", "%2e%2e/x",
                  "a/b\0/../../../x", "a/" * 5000 + ".."]


@pytest.mark.parametrize("bad", WRITE_TREE_IDS, ids=lambda i: repr(i)[:40])
@pytest.mark.parametrize("writer", ["write_tree", "write_case_tree"])
def test_write_tree_with_hostile_ids_writes_nothing_outside(tmp_path, hostile, bad, writer):
    area = tmp_path / "area"
    root = area / "root"
    root.mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    modules = {"first": "exports.ok = 1;", bad: "HOSTILE", "last": "x"}
    before = {p for p in tmp_path.rglob("*")}
    with pytest.raises(ValueError) as info:
        if writer == "write_tree":
            write_tree(root, modules)
        else:
            write_case_tree(root, modules)
    assert repr(bad)[:20] in str(info.value) or len(bad) > 100
    appeared = {p for p in tmp_path.rglob("*")} - before
    assert all(root in p.parents for p in appeared), sorted(map(str, appeared))
    for path in appeared:
        if path.is_file():
            assert path.read_text() != "HOSTILE"
    if writer == "write_tree":
        hostile(GROUP, f"`write_tree` with module id {bad[:30]!r}" + ("..." if len(bad) > 30
                                                                       else ""),
                f"ValueError: {str(info.value)[:90]}; nothing written outside the root")


@pytest.mark.parametrize("module_id, tried", [
    ("a" * 300, "a 300-character term"),
    ("a/" * 5000 + "b", "5,001 terms (a 10,000-character path)"),
])
def test_write_tree_with_an_overlong_valid_id(tmp_path, hostile, module_id, tried):
    """An id of valid terms whose path exceeds the file system's limits (the schema keeps case
    ids to 200 characters, so only direct callers can get here)."""
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(OSError) as info:
        write_tree(root, {module_id: "x"})
    appeared = [p for p in tmp_path.rglob("*") if p != root]
    assert all(root in p.parents and p.is_dir() for p in appeared)
    hostile(GROUP, f"`write_tree` with a valid id of {tried}",
            f"OSError, not the documented ValueError: {info.value.strerror}; nothing written "
            "outside the root (directories of the first terms may stay inside it)")


def test_write_tree_takes_shell_and_url_syntax_literally(tmp_path, hostile):
    root = tmp_path / "root"
    root.mkdir()
    write_tree(root, {"$HOME/x": "1", "$PWD": "2", "_/$/__": "3"})
    assert (root / "$HOME" / "x.js").read_text() == "1"
    assert (root / "$PWD.js").read_text() == "2" and (root / "_" / "$" / "__.js").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["root"]
    hostile(GROUP, "`write_tree` with ids `$HOME/x`, `$PWD` (valid: `$` is an identifier "
            "character)", "written literally inside the root; nothing is expanded")


# ---------------------------------------------------------------------------- a whole run


def test_many_hostile_files_at_once_are_each_one_line(box, hostile):
    """Every hostile input of this file in one case directory: one line each, no traceback."""
    expected = []
    for index, item in enumerate(HOSTILE_FILES):
        expected.append(box.write(f"bad/h{index:03}.yaml", item.text))
    for index, (_, make, _) in enumerate(ODD_FILES):
        if make in (_make_unreadable,):
            continue
        path = make(Sandbox(box.base / f"odd{index}"))
        target = box.cases / "odd" / f"{index}-{path.name}"
        target.parent.mkdir(exist_ok=True)
        os.rename(path, target)
        expected.append(target)
    box.write("dup/x.yaml", VALID)
    expected.append(box.write("dup/x.yml", VALID))
    started = time.perf_counter()
    proc = box.run(timeout=120)
    assert time.perf_counter() - started < 60
    assert proc.returncode == ExitCode.CASE_ERROR
    lines = proc.stderr.splitlines()
    assert lines[-1] == (f"runner.py: {counted(len(expected), 'malformed case file')}; "
                         "nothing was run")
    assert len(lines) == len(expected) + 1
    assert box.runs() == []
    hostile(GROUP, f"all {len(expected)} hostile files above in one case directory",
            "exit 6 within a minute, one line per file, nothing ran")

