"""Suite lint: the real cases keep to the spec's letter and to the suite's own rules."""

import re

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
