"""Reading YAML with libyaml's parser under our composer, and without it: the same documents,
the same refusals, the same lines and fields."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import yaml

from conformance import yamlfile
from conformance.caseload import MAX_NODES, CaseError, default_root, discover
from conformance.yamlfile import YamlError, read_document
from tests.test_hostile_cases import HOSTILE_FILES

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


@pytest.fixture
def pure_python(monkeypatch):
    """Read as where PyYAML has no libyaml: its own parser only."""
    monkeypatch.setattr(yamlfile, "_CLoader", None)


def outcome(path: Path):
    """What reading a file gives: its data and the line of every field, or the error."""
    try:
        doc = read_document(path, 1 << 20, CaseError, MAX_NODES)
    except YamlError as exc:
        return ("refused", exc.line, exc.field, exc.problem)
    lines = []

    def walk(data, where):
        lines.append((tuple(where), doc.line(where), doc.line(where, key=True)))
        items = data.items() if isinstance(data, dict) else (
            enumerate(data) if isinstance(data, list) else ())
        for key, value in items:
            walk(value, where + [key])

    walk(doc.data, [])
    return ("read", repr(doc.data), lines)


def both_ways(path: Path, monkeypatch) -> tuple:
    with_libyaml = outcome(path)
    monkeypatch.setattr(yamlfile, "_CLoader", None)
    without = outcome(path)
    monkeypatch.undo()
    return with_libyaml, without


@needs_libyaml
def test_every_case_of_the_suite_reads_the_same_without_libyaml(monkeypatch):
    """The suite's own cases: the same data and the same line for every field either way."""
    paths = discover(default_root())
    assert paths
    for path in paths:
        with_libyaml, without = both_ways(path, monkeypatch)
        assert with_libyaml[0] == "read", with_libyaml
        assert with_libyaml == without, path


@needs_libyaml
@pytest.mark.parametrize("hostile_file", HOSTILE_FILES, ids=lambda h: h.tried)
def test_hostile_files_are_refused_alike_without_libyaml(tmp_path, monkeypatch, hostile_file):
    path = tmp_path / "hostile.yaml"
    if isinstance(hostile_file.text, bytes):
        path.write_bytes(hostile_file.text)
    else:
        path.write_text(hostile_file.text, encoding="utf-8")
    with_libyaml, without = both_ways(path, monkeypatch)
    assert with_libyaml == without  # refused, or read alike and refused by the case loader


@needs_libyaml
def test_libyaml_is_used_where_it_is_there(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    used = []
    real = yamlfile._load_with
    monkeypatch.setattr(yamlfile, "_load_with",
                        lambda cls, *args: used.append(cls) or real(cls, *args))
    assert read_document(path, 1000).data == {"a": [1, 2]}
    assert used == [yamlfile._CLoader]


@needs_libyaml
def test_what_libyaml_cannot_parse_is_worded_by_pyyaml(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text("title: x\nclauses: a: b\n", encoding="utf-8")
    with_libyaml, without = both_ways(path, monkeypatch)
    assert with_libyaml == without
    assert with_libyaml[:3] == ("refused", 2, "")
    assert with_libyaml[3].startswith("invalid YAML: mapping values are not allowed here")


@needs_libyaml
def test_libyaml_reads_a_tab_between_tokens_that_pyyaml_refuses(tmp_path, monkeypatch):
    """A known difference, kept: YAML allows a tab as separation (not as indentation); libyaml
    reads it, PyYAML's own scanner refuses it. Indentation by tab is refused either way."""
    path = tmp_path / "x.yaml"
    path.write_text("a:\tb\n", encoding="utf-8")
    with_libyaml, without = both_ways(path, monkeypatch)
    assert with_libyaml[:2] == ("read", "{'a': 'b'}")
    assert without[0] == "refused" and "'\\t'" in without[3]
    path.write_text("a:\n\tb: c\n", encoding="utf-8")
    assert [o[0] for o in both_ways(path, monkeypatch)] == ["refused", "refused"]


@pytest.mark.parametrize("text, line, field, problem", [
    ("a: &x 1\nb: *x\n", 1, "a", "YAML anchors and aliases are not allowed"),
    ("a: *nowhere\n", 1, "a", "YAML anchors and aliases are not allowed"),
    ("a:\n  &k b: 1\n", 2, "a", "YAML anchors and aliases are not allowed"),
    ("a: 1\nb: 2\na: 3\n", 3, "a", "duplicate key"),
    ("m:\n  ? [x]\n  : 1\n", 2, "m", "a key must be a plain string, not a list or mapping"),
    ('m:\n  - "\\udc00"\n', 2, "m[0]", "a lone surrogate escape"),
    ('"\\ud800": 1\n', 1, "", "a lone surrogate escape"),
    ("a: 1\n---\nb: 2\n", 2, "", "expected a single document in the stream but found another"),
])
@pytest.mark.parametrize("parser", ["libyaml", "pure-python"])
def test_what_the_composer_refuses_names_line_and_field(tmp_path, request, parser, text, line,
                                                         field, problem):
    if parser == "libyaml" and not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    if parser == "pure-python":
        request.getfixturevalue("pure_python")
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlError) as info:
        read_document(path, 1000)
    assert (info.value.line, info.value.field) == (line, field), str(info.value)
    assert problem in info.value.problem


def test_the_first_problem_in_the_file_is_the_one_named(tmp_path):
    """Checks run as the document is composed: a duplicate key before a syntax error is the
    error, as a syntax error before a duplicate key would be."""
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 2\nb: [\n", encoding="utf-8")
    with pytest.raises(YamlError, match="duplicate key") as info:
        read_document(path, 1000)
    assert info.value.line == 2
    path.write_text("b: [\na: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(YamlError, match="invalid YAML"):
        read_document(path, 1000)


def test_a_yaml_error_crosses_processes_whole(tmp_path):
    error = CaseError(tmp_path / "x.yaml", 3, "modules.a", "duplicate key")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is CaseError and str(copy) == str(error)
    assert (copy.path, copy.line, copy.field, copy.problem) == (
        error.path, error.line, error.field, error.problem)
