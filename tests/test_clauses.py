"""The clause catalogue, and the suite's coverage of it."""

import subprocess
import sys

import pytest

from conformance import SPEC_VERSIONS
from conformance.caseload import default_root, discover, load_all
from conformance.cli import MIN_CASES
from conformance.clauses import BINDS, LEVELS, catalogue
from conformance.report import case_counts

MIN_TOTAL = 120


def test_catalogue_entries_are_well_formed():
    clauses = catalogue()
    assert len(clauses) >= 30
    for clause in clauses.values():
        assert clause.level and set(clause.level) <= set(SPEC_VERSIONS), clause.id
        assert set(clause.ref) == set(clause.level), clause.id
        assert set(clause.level.values()) <= set(LEVELS), clause.id
        assert clause.binds in BINDS and isinstance(clause.testable, bool), clause.id
        assert len(clause.text) > 20, clause.id
        if clause.binds != "loader":
            assert not clause.testable, f"{clause.id}: only loader clauses are judged"


def test_version_differences_are_recorded():
    clauses = catalogue()
    assert clauses["module.id.read-only"].level == {"1.1": "MUST", "1.1.1": "SHOULD"}
    assert clauses["require.main.program"].versions == ("1.1",)
    assert "1.0" not in clauses["context.module"].versions
    assert clauses["require.cycles"].versions == SPEC_VERSIONS


def test_every_loader_testable_clause_has_enough_cases():
    root = default_root()
    cases, errors = load_all(discover(root), root)
    assert not errors
    counts = case_counts(cases)
    short = {c.id: counts.get(c.id, 0) for c in catalogue().values()
             if c.loader_testable and counts.get(c.id, 0) < MIN_CASES}
    assert short == {}
    assert len(cases) >= MIN_TOTAL


def test_every_loader_testable_clause_of_the_node_profile_has_enough_cases():
    root = default_root()
    cases, errors = load_all(discover(root, profile="node"), root)
    assert not errors
    counts = case_counts(cases)
    short = {c.id: counts.get(c.id, 0) for c in catalogue("node").values()
             if c.loader_testable and counts.get(c.id, 0) < MIN_CASES}
    assert short == {}
    assert len(cases) >= 100  # the profile is a suite, not a sample


def test_clauses_command_lists_every_clause_with_its_count(repo):
    proc = subprocess.run([sys.executable, "runner.py", "clauses"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for clause_id in catalogue():
        assert clause_id in proc.stdout
    assert f"every loader-testable clause has at least {MIN_CASES} cases" in proc.stdout


def _plain(text):
    """Text without quoting marks and with single spaces, to compare the spec's wording."""
    for mark in ('``', '"', "'"):
        text = text.replace(mark, "")
    return " ".join(text.split())


def test_every_clause_quotes_the_spec_verbatim(repo):
    """A failure rests on the spec's own sentence: each clause carries it, word for word as
    the spec text holds it (1.1.1, or the version the clause is from)."""
    spec = _plain((repo.parent / "shared" / "spec" / "modules-1.1.1.txt").read_text()
                  if (repo.parent / "shared" / "spec").is_dir() else "")
    for clause in catalogue().values():
        assert clause.quote, f"{clause.id} quotes no sentence"
        if spec:
            assert _plain(clause.quote) in spec, clause.id


def test_readings_are_marked_and_read_a_clause_of_the_text():
    clauses = catalogue()
    readings = [c for c in clauses.values() if c.reading]
    assert {c.id for c in readings} >= {"reading.relative-passed-require",
                                        "reading.inner-dot-terms", "reading.main-same-everywhere"}
    for clause in readings:
        assert clauses[clause.reads].basis == "text"
    assert "above" in clauses["ids.relative"].text and "no case judges" in clauses["ids.relative"].text


from conformance.cli import main
from conformance.clauses import SPEC_PAGES, archived, section_link
from conformance.exitcodes import ExitCode

WIKI = "http://wiki.commonjs.org/wiki/Modules/"
CITING_CYCLES = """\
title: A case that cites require.cycles, for the clause view
clauses: [require.cycles]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
    t.ok(true, 'nothing');
    t.done();
"""


def test_each_clause_links_the_heading_of_its_section_on_the_public_spec_page():
    clauses = catalogue()
    assert clauses["require.cycles"].link() == WIKI + "1.1.1#Require"
    assert clauses["require.cycles"].link("1.0") == WIKI + "1.0#Module_Context"
    assert clauses["module.id.read-only"].link() == WIKI + "1.1.1#Module_Context"
    assert clauses["ids.relative"].link() == WIKI + "1.1.1#Module_Identifiers"
    assert clauses["unspecified.path"].link() == WIKI + "1.1.1#Unspecified"
    assert clauses["modules.singleton"].link() == WIKI + "1.1.1"  # the preamble: the page
    assert clauses["require.main.program"].link() == WIKI + "1.1#Module_Context"  # 1.1 only
    anchors = {"", "#Require", "#Module_Context", "#Module_Identifiers", "#Unspecified"}
    for clause in clauses.values():
        for version in clause.ref:
            link = clause.link(version)
            assert link.startswith(SPEC_PAGES[version]), clause.id
            assert link[len(SPEC_PAGES[version]):] in anchors, (clause.id, link)
    assert section_link("1.1", "Module Context 1.6.1 (Modules/Meta 2.2.1)") == \
        WIKI + "1.1#Module_Context"
    assert archived(WIKI + "1.1.1#Require").startswith("https://web.archive.org/web/")
    assert archived(WIKI + "1.1.1#Require").endswith("/" + WIKI + "1.1.1#Require")


def test_clauses_prints_the_spec_sentence_of_every_clause(capsys):
    assert main(["clauses"]) == ExitCode.OK
    flat = " ".join(capsys.readouterr().out.split())
    for clause in catalogue().values():
        assert " ".join(clause.quote.split()) in flat, clause.id


def test_clauses_id_shows_one_clause_with_its_link_and_cases(tmp_path, capsys):
    (tmp_path / "cycles").mkdir()
    (tmp_path / "cycles" / "one.yaml").write_text(CITING_CYCLES)
    (tmp_path / "cycles" / "two.yaml").write_text(CITING_CYCLES.replace("cycles]",
                                                                        "returns-exports]"))
    assert main(["clauses", "require.cycles", "--cases", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    clause = catalogue()["require.cycles"]
    assert out.startswith("require.cycles\n")
    assert "1.0: MUST, 1.1: MUST, 1.1.1: MUST" in out and "binds     loader" in out
    flat = " ".join(out.split())
    assert " ".join(clause.quote.split()) in flat and " ".join(clause.text.split()) in flat
    assert f"Require 1.3: {WIKI}1.1.1#Require" in out
    assert archived(WIKI + "1.1.1#Require") in out
    assert "cases     1\n          cycles/one\n" in out and "cycles/two" not in out


def test_clauses_with_an_unknown_id_is_a_one_line_usage_error(capsys):
    assert main(["clauses", "require.nothing"]) == ExitCode.USAGE_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "'require.nothing'" in captured.err


def test_the_readme_links_the_public_spec_not_a_path_outside_the_repository(repo):
    readme = (repo / "README.md").read_text()
    assert "../shared/" not in readme
    assert f"]({WIKI}1.1.1)" in readme and "web.archive.org" in readme


# The node profile's catalogue (docs/node-profile.md), read from the tests' own small one.
from tests.node_profile import node_catalogue  # noqa: E402,F401  (a fixture)
from conformance import clauses as clauses_module  # noqa: E402


def test_the_profile_has_a_catalogue_of_its_own(node_catalogue):
    node = catalogue("node")
    assert list(node) == ["node.exports.replace", "node.specifier.relative", "node.lookup.exact",
                          "node.module.parent", "node.module.loaded",
                          "reading.node.loaded-while-running"]
    assert all(clause.versions == ("node",) for clause in node.values())
    assert not set(node) & set(catalogue()), "the spec's catalogue never holds the profile's"
    for version in SPEC_VERSIONS:  # every spec version is judged by the spec's catalogue
        assert catalogue(version) is catalogue()
    assert node["node.module.parent"].newest == "node"


def test_deprecated_warns_and_states_fails_as_should_and_must_do(node_catalogue):
    node = catalogue("node")
    assert node["node.module.parent"].warns_in("node")
    assert not node["node.exports.replace"].warns_in("node")
    spec = catalogue()
    assert spec["module.id.read-only"].warns_in("1.1.1")
    assert not spec["module.id.read-only"].warns_in("1.1")
    assert clauses_module.WARNING_LEVELS == {"SHOULD", "DEPRECATED"}


def test_a_node_clause_links_to_its_heading_at_the_recorded_commit(node_catalogue):
    node = catalogue("node")
    page = ("https://github.com/nodejs/node/blob/73a97d47f348883cbe768da7511de767e6790175/"
            "doc/api/modules.md")
    assert node["node.module.parent"].link() == page + "#moduleparent"
    assert node["node.lookup.exact"].link("node") == page + "#all-together"
    assert node["node.specifier.relative"].link() == page + "#file-modules"


def test_a_profile_catalogue_with_a_spec_level_or_version_is_refused(tmp_path, monkeypatch):
    for wrong, says in (("level: {node: MUST}", "has level 'MUST'"),
                        ("level: {'1.1.1': STATES}", "keyed by node")):
        path = tmp_path / "node-clauses.yaml"
        path.write_text(f"- id: node.x\n  ref: {{node: File modules}}\n  {wrong}\n"
                        "  binds: loader\n  testable: true\n  text: a clause of the profile\n")
        monkeypatch.setitem(clauses_module.CATALOGUE_FILES, "node", str(path))
        clauses_module._catalogue.cache_clear()
        try:
            with pytest.raises(ValueError, match=says):
                catalogue("node")
        finally:
            monkeypatch.undo()
            clauses_module._catalogue.cache_clear()


def test_a_profile_whose_catalogue_is_not_there_has_no_clauses(tmp_path, monkeypatch):
    monkeypatch.setitem(clauses_module.CATALOGUE_FILES, "node", str(tmp_path / "none.yaml"))
    clauses_module._catalogue.cache_clear()
    try:
        assert catalogue("node") == {}
    finally:
        monkeypatch.undo()
        clauses_module._catalogue.cache_clear()


def test_clauses_command_of_the_profile_lists_its_catalogue_and_cases(node_catalogue, capsys):
    from conformance.cli import main
    from tests.node_profile import CASES

    assert main(["clauses", "--profile", "node", "--cases", str(CASES)]) == 1  # 1 case a clause
    shown = capsys.readouterr().out
    assert f"{'clause':28} node" in shown
    for clause_id in node_catalogue:
        assert clause_id in shown
    assert "node.module.parent           DEPRECATED" in shown
    assert "require.function" not in shown, "the spec's clauses are not the profile's"
    assert "6 clauses, 6 testable against a loader; 4 cases." in shown
    assert "at commit 73a97d47f348883cbe768da7511de767e6790175" in shown
    assert main(["clauses", "--profile", "node", "--cases", str(CASES),
                 "node.module.parent"]) == 0
    shown = capsys.readouterr().out
    assert "level     node: DEPRECATED" in shown and "node/module/parent-wrong-on-purpose" in shown
    assert "modules.md#moduleparent" in shown
    assert main(["clauses", "--profile", "node", "require.function"]) == 4
    assert "no clause 'require.function' in the node profile's catalogue" in \
        capsys.readouterr().err
    assert main(["clauses", "--cases", str(CASES), "node.module.parent"]) == 4
