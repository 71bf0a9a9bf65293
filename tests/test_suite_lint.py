"""Suite lint: the real cases keep to the spec's letter and to the suite's own rules."""

import re
import sys

import pytest

from conformance.caseload import case_id, default_root, discover, load, load_all
from conformance.clauses import catalogue

ROOT = default_root()
PATHS = discover(ROOT)
AREAS = {"require", "identifiers", "exports", "module", "main", "paths", "cycles", "errors",
         "sandbox"}
START = "var t = require('conformanceHarness').start(require);"
#: Ids that runtimes answer with a built-in module of their own: a case module named so would
#: fail a loader for a reason that has nothing to do with the clause the case cites.
BUILTIN_NAMES = {
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
    "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2",
    "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "sea", "sqlite", "stream", "string_decoder", "sys",
    "test", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
    "worker_threads", "zlib",
}

#: What no module source may do: newer syntax than ES5, or rely on what the spec leaves open.
FORBIDDEN = {
    "let/const": re.compile(r"\b(let|const)\s+[A-Za-z_$]"),
    "an arrow function": re.compile(r"=>"),
    "a class": re.compile(r"\bclass\s+[A-Za-z_$]"),
    "a template string": re.compile(r"`"),
    "strict mode": re.compile(r"use strict"),
    "module.exports (only exports is specified)": re.compile(r"module\s*\.\s*exports"),
    "assignment to exports itself": re.compile(r"(^|[^.\w$])exports\s*=[^=]"),
    ".js in a module id": re.compile(r"require\(\s*['\"][^'\"]*\.js['\"]"),
    "a file system or PATH (storage is unspecified)":
        re.compile(r"__dirname|__filename|\bprocess\s*\.|require\s*\.\s*resolve|\bfs\b"),
}


def code_only(js: str) -> str:
    """Source with comments and string literals blanked, so words in them do not count."""
    js = re.sub(r"/\*.*?\*/", " ", js, flags=re.S)
    js = re.sub(r"//[^\n]*", "", js)
    return re.sub(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"", "''", js)


def top_level_code(js: str) -> str:
    """The parts of the code at brace depth 0: the module's top scope, outside any function."""
    depth, out = 0, []
    for char in code_only(js):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def test_top_level_code_sees_only_the_top_scope():
    js = "var a = this; function f() { return this; } // this\n var s = 'this';"
    assert re.findall(r"\bthis\b", top_level_code(js)) == ["this"]


def test_every_area_has_cases_and_the_spec_sample_is_there():
    ids = [case_id(p, ROOT) for p in PATHS]
    assert {i.split("/", 1)[0] for i in ids} >= AREAS
    assert "require/spec-sample" in ids


def test_every_case_loads():
    cases, errors = load_all(PATHS, ROOT)
    assert [str(e) for e in errors] == []
    assert len(cases) == len(PATHS)


def test_no_two_cases_are_the_same_program():
    cases, _ = load_all(PATHS, ROOT)
    seen = {}
    for case in cases:
        key = (case.main, tuple(sorted(case.modules.items())))
        assert key not in seen, f"{case.id} repeats {seen[key]}"
        seen[key] = case.id


@pytest.mark.parametrize("path", PATHS, ids=lambda p: case_id(p, ROOT))
def test_case_keeps_the_rules(path):
    case = load(path, ROOT)
    for part in case.id.split("/"):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", part), f"{part}: names are kebab-case"
    assert len(case.title.split()) >= 5, "a title is a sentence saying what the case shows"
    for clause in case.clauses:
        assert catalogue()[clause].loader_testable, f"{clause} is not a loader-testable clause"

    main = case.modules[case.main].strip()
    assert main.startswith(START), "the main module starts the harness first"
    assert main.endswith("t.done();"), "t.done(); is the main module's last statement"
    assert code_only(main).count("t.done()") == 1
    uses = {"module": False, "require.paths": False, "module.uri": False}
    for module_id, source in case.modules.items():
        assert module_id.split("/")[0] not in BUILTIN_NAMES, \
            f"{module_id}: a runtime answers this id with a built-in module"
        code = code_only(source)
        for what, pattern in FORBIDDEN.items():
            assert not pattern.search(code), f"{module_id} uses {what}"
        assert not re.search(r"\bthis\b", top_level_code(source)), \
            f"{module_id} uses this at top level (unspecified)"
        if module_id != case.main:
            assert ".start(" not in code, f"{module_id}: only the main module calls start()"
        uses["module"] |= bool(re.search(r"(?<![.\w$])module\b", code))
        uses["require.paths"] |= "require.paths" in code
        uses["module.uri"] |= bool(re.search(r"\.uri\b", code))
    if uses["module"]:
        assert "1.0" not in case.versions, "Modules/1.0 has no free variable module"
    for feature in ("require.paths", "module.uri"):
        if uses[feature] and case.sandbox is not True:
            assert feature in case.needs, f"uses {feature} outside a sandbox without needing it"


_SECTION = re.compile(r"\bt\.(clause|given)\(\s*(?:'([^']*)'|\"([^\"]*)\"|([^)]*))\)")


def sections_of(case) -> tuple[list[str], list[str]]:
    """The clause ids the case's modules open sections for with t.clause(...) and t.given(...)."""
    tested, given = [], []
    for source in case.modules.values():
        for match in _SECTION.finditer(source):
            assert match.group(4) is None, f"t.{match.group(1)} takes a string literal"
            (tested if match.group(1) == "clause" else given).append(
                match.group(2) or match.group(3))
    return tested, given


def test_sections_name_cited_clauses():
    case = type("C", (), {"modules": {"m": "t.clause('a.b'); t.given(\"c.d\")"}})()
    assert sections_of(case) == (["a.b"], ["c.d"])


@pytest.mark.parametrize("path", PATHS, ids=lambda p: case_id(p, ROOT))
def test_case_attributes_each_assertion(path):
    """A verdict blames the clause that broke: a case citing several clauses, or relying on
    one, opens a section for each (t.clause for what it tests, t.given for what it relies on),
    and a case citing a reading beside the spec's text keeps them apart the same way."""
    case = load(path, ROOT)
    tested, given = sections_of(case)
    assert set(tested) <= set(case.clauses), "t.clause names a clause the case does not cite"
    assert set(given) <= set(case.relies), "t.given names a clause not listed under relies"
    assert set(case.relies) <= set(given), "every clause under relies gets a t.given section"
    if len(case.clauses) > 1 or case.relies:
        assert set(case.clauses) <= set(tested), \
            "a case citing several clauses, or relying on one, opens a t.clause section for each"
        main = code_only(case.modules[case.main])
        first = min(main.find(".clause("), main.find(".given(")
                    if ".given(" in main else len(main))
        assert main.find(".start(") < first, "the main module starts the harness first"


# --- The node profile's cases (cases/node/): the rules that apply to files ---------------------

NODE_PATHS = discover(ROOT, profile="node")
NODE_START = "var t = require('./conformanceHarness.js').start(require);"
#: Syntax newer than ES5, which a profile case keeps clear of as the spec's cases do (the
#: rules of the spec's letter, such as no module.exports, are what the profile is about).
NEWER_SYNTAX = {k: FORBIDDEN[k] for k in ("let/const", "an arrow function", "a class",
                                          "a template string")}
#: What a case's package.json never holds: fields of what the profile leaves out (ESM,
#: "exports"/"imports" maps).
OUT_OF_SCOPE_FIELDS = ("exports", "imports", "type")
_BARE = re.compile(r"\brequire(?:\s*\.\s*resolve)?\(\s*'([^'./][^']*)'")


def _js(case) -> dict[str, str]:
    """The JavaScript files of a profile case, path -> text."""
    return {path: text for path, text in case.files.items() if path.endswith(".js")}


def test_every_profile_case_loads_and_none_repeats_another():
    cases, errors = load_all(NODE_PATHS, ROOT)
    assert [str(e) for e in errors] == []
    assert len(cases) == len(NODE_PATHS)
    seen = {}
    for case in cases:
        key = (case.main, tuple(sorted(case.files.items())))
        assert key not in seen, f"{case.id} repeats {seen[key]}"
        seen[key] = case.id


@pytest.mark.parametrize("path", NODE_PATHS, ids=lambda p: case_id(p, ROOT))
def test_profile_case_keeps_the_rules(path):
    import json

    case = load(path, ROOT)
    assert case.id.startswith("node/") and case.files and not case.modules
    for part in case.id.split("/"):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", part), f"{part}: names are kebab-case"
    assert len(case.title.split()) >= 5, "a title is a sentence saying what the case shows"
    for clause in case.clauses:
        assert catalogue("node")[clause].loader_testable, f"{clause} is not loader-testable"
    main = case.files[case.main].strip()
    assert main.startswith(NODE_START), f"the main file starts with {NODE_START}"
    assert main.endswith("t.done();"), "t.done(); is the main file's last statement"
    assert code_only(main).count("t.done()") == 1
    for file_path, source in _js(case).items():
        code = code_only(source)
        for what, pattern in NEWER_SYNTAX.items():
            assert not pattern.search(code), f"{file_path} uses {what}"
        assert not re.search(r"\bthis\b", top_level_code(source)), \
            f"{file_path} uses this at top level (the docs never say what it is: V1)"
        if file_path != case.main:
            assert ".start(" not in code, f"{file_path}: only the main file calls start()"
        for name in _BARE.findall(source):
            assert name.split("/")[0] not in BUILTIN_NAMES, \
                f"{file_path}: {name!r} names a built-in module (out of the profile)"
    syntax_error = "reading.node.json-syntax-error" in case.clauses
    for file_path, text in case.files.items():
        if not file_path.endswith(".json") or syntax_error:
            continue
        data = json.loads(text)  # every .json file parses, but in a case about one that does not
        if file_path.split("/")[-1] == "package.json" and isinstance(data, dict):
            for field in OUT_OF_SCOPE_FIELDS:
                assert field not in data, f"{file_path} has {field!r} (out of the profile)"


@pytest.mark.parametrize("path", NODE_PATHS, ids=lambda p: case_id(p, ROOT))
def test_profile_case_attributes_each_assertion(path):
    """As test_case_attributes_each_assertion, over the profile case's JavaScript files."""
    case = load(path, ROOT)
    as_modules = type("C", (), {"modules": _js(case)})()
    tested, given = sections_of(as_modules)
    assert set(tested) <= set(case.clauses), "t.clause names a clause the case does not cite"
    assert set(given) <= set(case.relies), "t.given names a clause not listed under relies"
    assert set(case.relies) <= set(given), "every clause under relies gets a t.given section"
    if len(case.clauses) > 1 or case.relies:
        assert set(case.clauses) <= set(tested), \
            "a case citing several clauses, or relying on one, opens a t.clause section for each"
        main = code_only(case.files[case.main])
        first = min(main.find(".clause("), main.find(".given(")
                    if ".given(" in main else len(main))
        assert main.find(".start(") < first, "the main file starts the harness first"


def test_the_profile_lint_catches_what_it_is_for(monkeypatch, tmp_path):
    """The rules above fail on a case that breaks them (run on a case written here)."""
    from tests.node_profile import CATALOGUE
    from conformance import clauses

    monkeypatch.setitem(clauses.CATALOGUE_FILES, "node", str(CATALOGUE))
    clauses._catalogue.cache_clear()
    try:
        bad = tmp_path / "node" / "area" / "uses-fs.yaml"
        bad.parent.mkdir(parents=True)
        bad.write_text("title: A case that requires a built-in module here\n"
                       "clauses: [node.exports.replace]\nfiles:\n  program.js: |\n"
                       "    var t = require('./conformanceHarness.js').start(require);\n"
                       "    var fs = require('fs');\n    t.done();\n")
        monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
        with pytest.raises(AssertionError, match="names a built-in module"):
            test_profile_case_keeps_the_rules(bad)
        bad.write_text(bad.read_text().replace("var fs = require('fs');", "let x = 1;"))
        with pytest.raises(AssertionError, match="uses let/const"):
            test_profile_case_keeps_the_rules(bad)
    finally:
        monkeypatch.undo()
        clauses._catalogue.cache_clear()
