"""Reading case files: every bad input is refused with one line naming file, line and field."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from conformance import caseload
from conformance.caseload import (MAX_BYTES, CaseError, Suite, case_id, discover, find, load,
                                   load_all)
from conformance.clauses import catalogue
from conformance.harness import HARNESS_ID

CASES_ROOT = Path(__file__).resolve().parents[1] / "cases"

TITLE = "title: A small case used by the loader tests\n"
CLAUSES = "clauses: [require.function]\n"
PROGRAM = (
    "modules:\n"
    "  program: |\n"
    "    var t = require('conformanceHarness').start(require);\n"
    "    t.same(typeof require, 'function', 'require is a function');\n"
    "    t.done();\n"
)
VALID = TITLE + CLAUSES + PROGRAM


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(root: Path, text: str | bytes, name: str = "case.yaml") -> tuple[Path, CaseError]:
    """Write a case file, load it, and return the CaseError it must raise."""
    path = write(root, name, text)
    with pytest.raises(CaseError) as info:
        load(path, root)
    return path, info.value


def check(path: Path, error: CaseError, line: int | None, field: str, *words: str) -> None:
    """The error is one line that names the file, the line and the field, and says what is wrong."""
    text = str(error)
    assert "\n" not in text and "\r" not in text, f"not one line: {text!r}"
    assert path.name in text, text
    assert error.path.resolve() == path.resolve()
    assert error.line == line, text
    if line is None:
        assert not re.search(r"\.ya?ml:\d+:", text), text
    else:
        assert f"{path.name}:{line}:" in text, text
    assert error.field == field, text
    if field:
        # A field holding control characters may be shown escaped.
        shown = {field, field.encode("unicode_escape").decode("ascii")}
        assert any(f" {form}: " in text for form in shown), text
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in {text!r}"


# --- YAML-level problems ---------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = TITLE + "clauses: a: b\n" + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 2, "", "invalid YAML")


def test_yaml_tab_indentation_names_the_line(tmp_path):
    text = TITLE + CLAUSES + "modules:\n\tprogram: x\n"
    path, error = refused(tmp_path, text)
    check(path, error, 4, "", "invalid YAML")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system"])
def test_python_object_tag_is_refused_and_nothing_runs(tmp_path, tag):
    marker = tmp_path / "ran"
    text = f"title: {tag} [\"touch {marker}\"]\n" + CLAUSES + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 1, "", "python/object")
    assert not marker.exists(), "the tag was constructed: a command ran"


def test_python_name_tag_is_refused(tmp_path):
    path, error = refused(tmp_path, "title: !!python/name:os.system\n" + CLAUSES + PROGRAM)
    check(path, error, 1, "", "invalid YAML")


def test_alias_is_refused(tmp_path):
    # The node an alias repeats is the anchored one, so the report points at the anchor.
    text = "title: &t A title that is used twice here\n" + CLAUSES + "notes: *t\n" + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 1, "title", "anchors and aliases are not allowed")


def test_alias_of_a_module_source_is_refused(tmp_path):
    text = TITLE + CLAUSES + PROGRAM + "  helper: &src |\n    exports.x = 1;\n  copy: *src\n"
    path, error = refused(tmp_path, text)
    check(path, error, 8, "modules.helper", "anchors and aliases are not allowed")


def test_lone_anchor_is_refused(tmp_path):
    text = "title: &t A title with an anchor\n" + CLAUSES + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 1, "title", "anchor")


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    text = "\n".join(lines) + "\n" + TITLE + CLAUSES + PROGRAM
    path, error = refused(tmp_path, text)  # refused at the first anchor: nothing expanded
    message = str(error)
    assert "\n" not in message and path.name in message and "alias" in message
    assert error.line is not None and 1 <= error.line <= 10


def test_duplicate_top_level_key(tmp_path):
    text = TITLE + CLAUSES + "title: Another title for the same case\n" + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 3, "title", "duplicate key")


def test_duplicate_module_id(tmp_path):
    text = TITLE + CLAUSES + PROGRAM + "  helper: x\n  program: y\n"
    path, error = refused(tmp_path, text)
    check(path, error, 9, "modules.program", "duplicate key")


def test_complex_key_is_a_case_error(tmp_path):
    text = TITLE + CLAUSES + PROGRAM + "  ? [a, b]\n  : x\n"
    path, error = refused(tmp_path, text)
    assert path.name in str(error) and error.line == 8


def test_key_with_line_break_stays_one_line(tmp_path):
    text = TITLE + CLAUSES + PROGRAM + '"odd\\nkey": 1\n'
    path, error = refused(tmp_path, text)
    assert "\n" not in str(error) and error.line == 8


@pytest.mark.parametrize("text", ["- title\n- clauses\n", "just some text\n", "42\n"])
def test_top_level_not_a_mapping(tmp_path, text):
    path, error = refused(tmp_path, text)
    check(path, error, 1, "", "mapping")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file(tmp_path, text):
    path, error = refused(tmp_path, text)
    check(path, error, 1, "", "empty")


def test_two_documents(tmp_path):
    path, error = refused(tmp_path, VALID + "---\n" + VALID)
    check(path, error, 8, "", "single document")


# --- Schema problems -------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["title", "clauses", "modules"])
def test_missing_required_field(tmp_path, missing):
    parts = {"title": TITLE, "clauses": CLAUSES, "modules": PROGRAM}
    text = "notes: Something to keep the file a mapping.\n"
    text += "".join(part for name, part in parts.items() if name != missing)
    path, error = refused(tmp_path, text)
    check(path, error, 1, "", missing, "required")


def test_unknown_key_names_it(tmp_path):
    path, error = refused(tmp_path, VALID + "expect: pass\n")
    check(path, error, 8, "expect", "unknown key")


def test_clauses_not_a_list(tmp_path):
    path, error = refused(tmp_path, TITLE + "clauses: foo\n" + PROGRAM)
    check(path, error, 2, "clauses", "not of type 'array'")


def test_clauses_empty(tmp_path):
    path, error = refused(tmp_path, TITLE + "clauses: []\n" + PROGRAM)
    check(path, error, 2, "clauses")


def test_module_source_not_a_string(tmp_path):
    text = TITLE + CLAUSES + "modules:\n  program: |\n    t.done();\n  helper: 42\n"
    path, error = refused(tmp_path, text)
    check(path, error, 6, "modules.helper", "not of type 'string'")


def test_modules_not_a_mapping(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + "modules: [program]\n")
    check(path, error, 3, "modules", "not of type 'object'")


def test_title_too_short(tmp_path):
    path, error = refused(tmp_path, "title: Short\n" + CLAUSES + PROGRAM)
    check(path, error, 1, "title")


def test_title_not_a_string(tmp_path):
    path, error = refused(tmp_path, "title: 2001-12-14\n" + CLAUSES + PROGRAM)
    check(path, error, 1, "title", "not of type 'string'")


def test_sandbox_not_a_boolean(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + 'sandbox: "yes"\n' + PROGRAM)
    check(path, error, 3, "sandbox", "boolean")


def test_unknown_need(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + "needs: [require.main, require.foo]\n" + PROGRAM)
    check(path, error, 3, "needs[1]", "require.foo")


def test_unknown_clause_id(tmp_path):
    text = TITLE + "clauses:\n  - require.function\n  - require.nothing-like-this\n" + PROGRAM
    path, error = refused(tmp_path, text)
    check(path, error, 4, "clauses[1]", "require.nothing-like-this", "catalogue")


BAD_IDS = ["../x", "/abs", "a//b", "a\\b", "x.js", "a\0b", "./x", "a/", "1abc"]


def _with_module(module_id: str) -> str:
    # JSON strings are YAML double-quoted strings, so any id can be written as a key.
    return TITLE + CLAUSES + PROGRAM + f"  {json.dumps(module_id)}: exports.x = 1;\n"


@pytest.mark.parametrize("module_id", BAD_IDS, ids=repr)
def test_bad_module_id_is_refused(tmp_path, module_id):
    path, error = refused(tmp_path, _with_module(module_id))
    text = str(error)
    assert "\n" not in text and "\0" not in text and path.name in text
    assert error.field.startswith("modules"), text


@pytest.mark.parametrize("module_id", BAD_IDS, ids=repr)
def test_bad_module_id_is_reported_as_not_top_level(tmp_path, module_id):
    path, error = refused(tmp_path, _with_module(module_id))
    check(path, error, 8, f"modules.{module_id}", "not a top-level module id")


def test_bad_main_id(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + "main: ../program\n" + PROGRAM)
    check(path, error, 3, "main")


def test_main_not_among_modules(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + "main: app/start\n" + PROGRAM)
    check(path, error, 3, "main", "'app/start'", "not among the modules")


def test_default_main_missing(tmp_path):
    text = TITLE + CLAUSES + "modules:\n  start: |\n    t.done();\n"
    path, error = refused(tmp_path, text)
    check(path, error, 4, "modules", "'program'", "not among the modules")


def test_harness_id_is_reserved(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + PROGRAM + f"  {HARNESS_ID}: x\n")
    check(path, error, 8, f"modules.{HARNESS_ID}", "harness")


def test_a_case_holds_at_most_max_modules_modules(tmp_path):
    many = VALID + "".join(f"  m{i}: x\n" for i in range(caseload.MAX_MODULES - 1))
    assert len(load(write(tmp_path, "most.yaml", many), tmp_path).modules) == caseload.MAX_MODULES
    path, error = refused(tmp_path, many + "  oneMore: x\n")
    check(path, error, 3, "modules", f"{caseload.MAX_MODULES + 1} modules",
          f"at most {caseload.MAX_MODULES}")


def test_ids_differing_only_in_case(tmp_path):
    text = TITLE + CLAUSES + PROGRAM + "  lib/helper: x\n  lib/Helper: y\n"
    path, error = refused(tmp_path, text)
    check(path, error, 9, "modules.lib/Helper", "'lib/helper'", "only in case")


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_unquoted_version_gets_quoting_hint(tmp_path, version):
    path, error = refused(tmp_path, TITLE + CLAUSES + f"versions: [{version}]\n" + PROGRAM)
    check(path, error, 3, "versions[0]", "quote")


def test_unknown_version(tmp_path):
    path, error = refused(tmp_path, TITLE + CLAUSES + "versions: ['1.1.1', '2.0']\n" + PROGRAM)
    check(path, error, 3, "versions[1]", "'2.0'")


def test_version_lacking_a_cited_clause(tmp_path):
    assert "1.0" not in catalogue()["module.id.top-level"].versions
    text = TITLE + "clauses: [require.function, module.id.top-level]\nversions: ['1.1', '1.0']\n"
    path, error = refused(tmp_path, text + PROGRAM)
    check(path, error, 3, "versions[1]", "1.0")


def test_clauses_sharing_no_version(tmp_path, monkeypatch):
    # The catalogue has no such pair today; a stand-in catalogue with one shows the check works.
    import conformance.caseload as caseload
    from conformance.clauses import Clause

    def clause(cid, versions):
        return Clause(id=cid, ref={v: "x" for v in versions}, level={v: "MUST" for v in versions},
                      binds="loader", testable=True, text="x")

    fake = {"old.only": clause("old.only", ["1.0"]), "new.only": clause("new.only", ["1.1.1"])}
    monkeypatch.setattr(caseload, "catalogue", lambda spec=None: fake)
    path, error = refused(tmp_path, TITLE + "clauses: [old.only, new.only]\n" + PROGRAM)
    check(path, error, 2, "clauses", "no spec version")


# --- File-level problems ---------------------------------------------------------------------


def test_not_utf8(tmp_path):
    data = VALID.replace("A small case", "A sm\xe4ll case").encode("latin-1")
    path, error = refused(tmp_path, data)
    check(path, error, None, "", "UTF-8")


def test_file_over_one_mebibyte(tmp_path, monkeypatch):
    padding = ("# " + "x" * 98 + "\n") * (MAX_BYTES // 100 + 1)
    path = write(tmp_path, "big.yaml", VALID + padding)
    assert path.stat().st_size > MAX_BYTES

    def unread(self, *args, **kwargs):
        raise AssertionError("an oversized case file was read")

    monkeypatch.setattr(Path, "read_bytes", unread)
    monkeypatch.setattr(Path, "read_text", unread)
    with pytest.raises(CaseError) as info:
        load(path, tmp_path)
    check(path, info.value, None, "", str(MAX_BYTES))


def test_file_of_exactly_the_limit_is_read(tmp_path):
    filler = MAX_BYTES - len(VALID.encode()) - len("notes: \n")
    path = write(tmp_path, "edge.yaml", VALID + "notes: " + "x" * filler + "\n")
    assert path.stat().st_size == MAX_BYTES
    assert load(path, tmp_path).title == "A small case used by the loader tests"


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(CaseError) as info:
        load(path, tmp_path)
    check(path, info.value, None, "", "cannot read")


# --- Valid cases -----------------------------------------------------------------------------


def test_valid_case_loads_with_id_from_path_and_defaults(tmp_path):
    path = write(tmp_path, "a/b.yaml", VALID)
    case = load(path, tmp_path)
    assert case.id == "a/b"
    assert case.area == "a"
    assert case.path == str(path)  # a str: see Case.path
    assert case.title == "A small case used by the loader tests"
    assert case.clauses == ("require.function",)
    assert case.main == "program"
    assert set(case.modules) == {"program"}
    assert case.modules["program"].startswith("var t = require('conformanceHarness')")
    assert case.needs == frozenset()
    assert case.sandbox is None
    assert case.versions == ("1.0", "1.1", "1.1.1")


def test_versions_derived_from_clauses(tmp_path):
    text = TITLE + "clauses: [require.function, module.id.top-level]\n" + PROGRAM
    case = load(write(tmp_path, "module/id.yaml", text), tmp_path)
    assert case.versions == ("1.1", "1.1.1")


def test_explicit_fields_are_kept(tmp_path):
    text = (TITLE + "clauses: [require.main.identity]\nmain: app/start\n"
            "needs: [require.main]\nsandbox: false\nversions: ['1.1.1', '1.1']\n"
            "notes: Why the case is as it is.\n"
            "modules:\n  app/start: |\n    t.done();\n  app/lib/helper: |\n    exports.x = 1;\n")
    case = load(write(tmp_path, "main/x.yml", text), tmp_path)
    assert case.id == "main/x"
    assert case.main == "app/start"
    assert case.needs == frozenset({"require.main"})
    assert case.sandbox is False
    assert case.versions == ("1.1", "1.1.1")
    assert set(case.modules) == {"app/start", "app/lib/helper"}


def test_case_id_is_the_path_without_suffix(tmp_path):
    path = write(tmp_path, "cycles/deep/three-way.yaml", VALID)
    assert case_id(path, tmp_path) == "cycles/deep/three-way"


def test_discover_finds_case_files_in_id_order_and_filters_by_keyword(tmp_path):
    for name in ("require/two.yaml", "require/one.yml", "cycles/one.yaml", "zeta.yaml"):
        write(tmp_path, name, VALID)
    write(tmp_path, "README.md", "not a case")
    write(tmp_path, "require/notes.txt", "not a case")
    ids = [case_id(p, tmp_path) for p in discover(tmp_path)]
    assert ids == ["cycles/one", "require/one", "require/two", "zeta"]
    ids = [case_id(p, tmp_path) for p in discover(tmp_path, "one")]
    assert ids == ["cycles/one", "require/one"]
    ids = [case_id(p, tmp_path) for p in discover(tmp_path, "require/")]
    assert ids == ["require/one", "require/two"]
    assert discover(tmp_path, "no-such-keyword") == []


def test_load_all_collects_every_error(tmp_path):
    write(tmp_path, "a/good.yaml", VALID)
    write(tmp_path, "a/bad.yaml", TITLE + "clauses: foo\n" + PROGRAM)
    write(tmp_path, "b/empty.yaml", "")
    cases, errors = load_all(discover(tmp_path), tmp_path)
    assert [c.id for c in cases] == ["a/good"]
    assert sorted(e.path.name for e in errors) == ["bad.yaml", "empty.yaml"]


# --- Suite: the case files found, read as they are asked for ---------------------------------


def test_find_lists_ids_in_order_and_reads_nothing(tmp_path, monkeypatch):
    for name in ("b/x.yml", "a/y.yaml", "a/x.yaml", "a/x.yml", "a/x-y.yaml", "top.yml"):
        write(tmp_path, name, VALID)
    write(tmp_path, "a/notes.txt", "not a case")
    monkeypatch.setattr("conformance.caseload._read", lambda *a: pytest.fail("read too soon"))
    suite = find(tmp_path)
    # id order, as discover gives it: 'a/x' before 'a/x-y'; x.yaml before x.yml under one id
    assert suite.ids == ["a/x", "a/x", "a/x-y", "a/y", "b/x", "top"]
    assert [Path(suite.path(i)).relative_to(tmp_path).as_posix() for i in range(len(suite))] == [
        "a/x.yaml", "a/x.yml", "a/x-y.yaml", "a/y.yaml", "b/x.yml", "top.yml"]
    assert discover(tmp_path) == [Path(suite.path(i)) for i in range(len(suite))]
    assert find(tmp_path, "x").ids == ["a/x", "a/x", "a/x-y", "b/x"]
    part = suite[3:]
    assert isinstance(part, Suite) and part.ids == ["a/y", "b/x", "top"]
    assert part.path(1) == str(tmp_path / "b" / "x.yml")


def test_a_suite_reads_each_case_when_asked(tmp_path):
    write(tmp_path, "a/one.yaml", VALID)
    path = write(tmp_path, "a/two.yml", VALID)
    suite = find(tmp_path)
    assert suite.check() == []
    assert [case.id for case in suite] == ["a/one", "a/two"]
    assert suite[-1].path == str(path) and suite[1:][0].id == "a/two"
    assert len(pickle.loads(pickle.dumps(suite[1:]))) == 1  # batches cross to worker processes
    with pytest.raises(IndexError):
        suite[2]


def test_a_suite_reads_a_case_each_time_and_keeps_none(tmp_path, monkeypatch):
    for index in range(3):
        write(tmp_path, f"a/c{index}.yaml", VALID)
    reads = []
    real = caseload._read
    monkeypatch.setattr(caseload, "_read",
                        lambda path, i, *rest, **kw: reads.append(i) or real(path, i, *rest, **kw))
    suite = find(tmp_path)
    assert [case.id for case in suite] == reads == ["a/c0", "a/c1", "a/c2"]
    assert suite[1] == suite[1] and reads[3:] == ["a/c1", "a/c1"]
    assert vars(suite).keys() == {"root", "ids", "_yml", "misnamed", "_paths", "_valid", "_kept"}
    assert not suite._kept


def test_check_reads_every_file_and_collects_every_problem(tmp_path):
    write(tmp_path, "a/good.yaml", VALID)
    write(tmp_path, "a/bad.yaml", TITLE + "clauses: foo\n" + PROGRAM)
    write(tmp_path, "b/empty.yaml", "")
    write(tmp_path, "c/x.yaml", VALID)
    write(tmp_path, "c/x.yml", VALID)
    errors = find(tmp_path).check()
    assert [(e.path.relative_to(tmp_path).as_posix(), e.line) for e in errors] == [
        ("a/bad.yaml", 2), ("b/empty.yaml", 1), ("c/x.yml", None)]
    assert "the same case id as" in errors[-1].problem and "c/x.yaml" in errors[-1].problem


def test_a_case_file_that_breaks_after_the_check_is_an_error_when_read(tmp_path, monkeypatch):
    monkeypatch.setattr(caseload, "KEEP_CHARACTERS", 0)  # a kept case is not read again
    path = write(tmp_path, "a/one.yaml", VALID)
    suite = find(tmp_path)
    assert suite.check() == []
    write(tmp_path, "a/one.yaml", TITLE)
    with pytest.raises(CaseError) as info:
        suite[0]
    assert info.value.path == path


def test_reading_does_not_move_past_a_case_that_broke(tmp_path, monkeypatch):
    """Asked again, the iterator raises again: the cases after the broken one cannot go
    missing without a word (a generator would just end)."""
    monkeypatch.setattr(caseload, "KEEP_CHARACTERS", 0)
    for name in ("a/one", "a/two", "a/three"):
        write(tmp_path, f"{name}.yaml", VALID)
    suite = find(tmp_path)
    assert suite.check() == []
    write(tmp_path, "a/three.yaml", TITLE)  # 'a/three' sorts between 'a/one' and 'a/two'
    cases = iter(suite)
    assert next(cases).id == "a/one"
    for _ in range(2):
        with pytest.raises(CaseError):
            next(cases)


@pytest.mark.parametrize("name, field, says", [
    (".git.yaml", None, "has no part that starts with '.'"),
    ("area/.hidden.yaml", None, "has no part that starts with '.'"),
    ("area/title.yaml", "title", "a title is one line"),
])
def test_hidden_ids_and_multi_line_titles_are_refused(tmp_path, hostile, name, field, says):
    title = "a title\\nrm -rf ~" if field else "A case whose file name hides it from view"
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'title: "{title}"\nclauses: [require.function]\nmodules:\n'
                    "  program: |\n    var t = require('conformanceHarness').start(require);\n"
                    "    t.ok(typeof require === 'function', 'f');\n    t.done();\n")
    with pytest.raises(CaseError, match=re.escape(says)):
        load(path, tmp_path)
    hostile("Hostile case files", f"a case file named {name}" if not field else
            "a case title with a line break and a command after it",
            "refused as a malformed case file, naming the file" + (" and the title" if field
                                                                 else ""))


def test_given_files_and_a_found_suite_load_alike_with_one_duplicate_check(tmp_path):
    write(tmp_path, "a/good.yaml", VALID)
    write(tmp_path, "c/x.yaml", VALID)
    write(tmp_path, "c/X.yaml", VALID)
    found = find(tmp_path).load()
    given = load_all(discover(tmp_path), tmp_path)
    for cases, errors in (found, given):
        assert [c.id for c in cases] == ["a/good", "c/X"] or [c.id for c in cases] == [
            "a/good", "c/x"]
        assert len(errors) == 1 and "a case id differing only in case" in errors[0].problem


def test_a_case_the_check_found_valid_is_not_validated_again_unless_its_file_changed(
        tmp_path, monkeypatch):
    monkeypatch.setattr(caseload, "KEEP_CHARACTERS", 0)  # kept cases are not read at all
    monkeypatch.setenv("COMMONJS_CONFORMANCE_CACHE", "off")  # the check's own memory only
    path = write(tmp_path, "a/one.yaml", VALID)
    checked = []
    real = caseload._schema_error
    monkeypatch.setattr(caseload, "_schema_error", lambda doc: checked.append(1) or real(doc))
    suite = find(tmp_path)
    assert suite.check() == [] and len(checked) == 1
    assert suite[0].id == "a/one" and len(checked) == 1  # the same bytes: not again
    assert suite[0:1][0].id == "a/one" and len(checked) == 1  # nor in a batch
    path.write_text(VALID.replace("title:", "title: x", 1) if "title:" in VALID else VALID + "\n")
    suite[0]
    assert len(checked) == 2  # changed bytes are validated again


def test_the_check_keeps_the_first_cases_it_read_and_they_run_as_read(tmp_path, monkeypatch):
    for index in range(4):
        write(tmp_path, f"a/c{index}.yaml", VALID)
    size = sum(map(len, find(tmp_path)[0].modules.values()))
    monkeypatch.setattr(caseload, "KEEP_CHARACTERS", 2 * size)  # room for two cases
    suite = find(tmp_path)
    assert suite.check() == []
    assert sorted(suite._kept) == [0, 1]
    reads = []
    real = caseload._read
    monkeypatch.setattr(caseload, "_read",
                        lambda path, i, *rest, **kw: reads.append(i) or real(path, i, *rest, **kw))
    for index in range(4):
        (tmp_path / f"a/c{index}.yaml").write_text(VALID.replace("title:", "title: new", 1))
    titles = [case.title for case in suite]
    assert reads == ["a/c2", "a/c3"]  # the kept ones are not read again
    assert titles[:2] == [suite[0].title] * 2 and titles[2] != titles[0]
    assert [case.id for case in suite[1:3]] == ["a/c1", "a/c2"] and reads[2:] == ["a/c2"]


# --- Cases of the node profile (cases/node/: files, not modules) ------------------------------

from tests.node_profile import CASES as PROFILE_CASES, node_catalogue  # noqa: E402,F401

NODE_CASE = (
    "title: A node profile case for the loader tests\n"
    "clauses: [node.exports.replace]\n"
    "files:\n"
    "  program.js: |\n"
    "    var t = require('./conformanceHarness.js').start(require);\n"
    "    t.done();\n"
    "  lib/a.js: |\n"
    "    module.exports = 1;\n"
)


def node_refused(root: Path, text: str) -> tuple[Path, CaseError]:
    return refused(root, text, "node/area/case.yaml")


def test_a_profile_case_has_files_a_main_file_and_the_profile_as_version(node_catalogue,
                                                                          tmp_path):
    case = load(write(tmp_path, "node/area/case.yaml", NODE_CASE), tmp_path)
    assert (case.id, case.main, case.versions, case.modules) == (
        "node/area/case", "program.js", ("node",), {})
    assert case.files == {"program.js": "var t = require('./conformanceHarness.js')"
                                        ".start(require);\nt.done();\n",
                          "lib/a.js": "module.exports = 1;\n"}
    nested = NODE_CASE.replace("files:", "main: lib/a.js\nfiles:")
    assert load(write(tmp_path, "node/area/nested.yaml", nested), tmp_path).main == "lib/a.js"


def test_profile_cases_are_found_only_by_the_profile(node_catalogue):
    assert find(PROFILE_CASES).ids == ["require/returns-exports"]
    assert find(PROFILE_CASES, profile="node").ids == [
        "node/exports/replace-with-function", "node/lookup/exact-wrong-on-purpose",
        "node/module/parent-wrong-on-purpose", "node/nested/main-in-a-subdirectory"]
    assert find(PROFILE_CASES, "nested", profile="node").ids == [
        "node/nested/main-in-a-subdirectory"]
    assert [p.name for p in discover(PROFILE_CASES)] == ["returns-exports.yaml"]
    cases, errors = load_all(discover(PROFILE_CASES, profile="node"), PROFILE_CASES)
    assert errors == [] and len(cases) == 4


@pytest.mark.parametrize("change, line, field, says", [
    (("program.js: |", "../x.js: |"), 4, "files.../x.js", "not a path of segments"),
    (("program.js: |", ".hidden.js: |"), 4, "files..hidden.js", "not a path of segments"),
    (("program.js: |", "a//b.js: |"), 4, "files.a//b.js", "not a path of segments"),
    (("lib/a.js: |", "lib/conformanceHarness.js: |"), 7, "files.lib/conformanceHarness.js",
     "harness helper"),
    (("lib/a.js: |", "Program.js: |"), 7, "files.Program.js", "only in case"),
    (("lib/a.js: |", "program.js/x.js: |"), 4, "files.program.js", "a directory of"),
    (("lib/a.js: |", "LIB/nul.txt: |"), 7, "files.LIB/nul.txt", "Windows reserves"),
    (("files:", "main: lib/a.txt\nfiles:"), 3, "main", "ending in .js"),
    (("files:", "main: lib/b.js\nfiles:"), 3, "main", "'lib/b.js' is not among the files"),
    (("files:", "needs: [require.main]\nfiles:"), 3, "needs", "has no 'needs'"),
    (("files:", "versions: ['1.1.1']\nfiles:"), 3, "versions", "has no 'versions'"),
    (("files:", "modules: {program: x}\nfiles:"), 4, "files", "not both"),
    (("[node.exports.replace]", "[require.function]"), 2, "clauses[0]",
     "in the node profile's catalogue"),
])
def test_a_profile_case_breaking_a_path_rule_is_refused_in_one_line(node_catalogue, tmp_path,
                                                                    change, line, field, says,
                                                                    hostile):
    path, error = node_refused(tmp_path, NODE_CASE.replace(*change, 1))
    check(path, error, line, field, says)
    hostile("Hostile case files", f"a node profile case with `{change[1].split(':')[0]}`",
            f"refused before anything runs, one line naming the file, line {line} and the "
            f"field {field}: '...{says}...'")


def test_a_case_shape_follows_its_directory(node_catalogue, tmp_path):
    path, error = refused(tmp_path, NODE_CASE, "area/case.yaml")
    check(path, error, 3, "files", "only a case under node/ holds files")
    path, error = node_refused(tmp_path, VALID)
    check(path, error, 1, "", "case of the node profile", "holds files")
    path, error = refused(tmp_path, VALID.replace("[require.function]", "[node.exports.replace]"))
    check(path, error, 2, "clauses[0]", "no clause 'node.exports.replace' in the catalogue")


# --- the case cache (conformance/cache.py) ---------------------------------------------------

def test_a_case_read_again_is_neither_parsed_nor_validated_again(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONJS_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path / "cases", "case.yaml", VALID)
    first = load(path, tmp_path / "cases")
    validated = []
    real = caseload._schema_error
    monkeypatch.setattr(caseload, "_schema_error", lambda doc: validated.append(doc) or real(doc))
    again = load(path, tmp_path / "cases")
    assert again == first and validated == []
    write(tmp_path / "cases", "case.yaml", VALID.replace("is a function", "is a Function"))
    changed = load(path, tmp_path / "cases")
    assert len(validated) == 1 and "is a Function" in changed.modules["program"]


def test_a_case_the_schema_refuses_is_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONJS_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    for _ in range(2):  # refused the second time too, with the same words
        path, error = refused(tmp_path, TITLE + PROGRAM)
        check(path, error, 1, "", "clauses")
    assert list((tmp_path / "cache").rglob("*.json")) == []


def test_a_cached_case_still_names_the_line_of_a_later_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONJS_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    text = TITLE + "clauses: [require.function, no.such.clause]\n" + PROGRAM
    for _ in range(2):  # the schema passes it (and the cache keeps it); the catalogue does not
        path, error = refused(tmp_path, text)
        check(path, error, 2, "clauses[1]", "no clause 'no.such.clause'")
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1
