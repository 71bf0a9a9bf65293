"""Proof by mutants for the node profile: each broken node-loader.js is caught by a case citing
the clause it breaks, and each conforming variant passes every case of the profile."""

import re

import pytest

from conformance.caseload import default_root, discover, load_all
from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.results import read
from conformance.clauses import catalogue
from conformance.mutants import (BY_NAME, BY_PROFILE, CONFORMING, MUTANTS, NODE_MUTANTS,
                                 NODE_VARIANTS, VARIANTS)
from conformance.outcomes import Outcome, caught
from conformance.reference import ReferenceLoader, loader_source, node_loader_source
from conformance.run import run_cases

ROOT = default_root()
CASES, ERRORS = load_all(discover(ROOT, profile="node"), ROOT)
CLAUSES = catalogue("node")


def _run(cases, loader):
    """The verdicts of `cases` on `loader`, held to the node profile."""
    return list(run_cases(cases, loader, "node"))


def test_there_are_at_least_twenty_five_node_mutants_with_names_of_their_own():
    assert len(NODE_MUTANTS) >= 25 and NODE_VARIANTS
    names = [m.name for m in MUTANTS + CONFORMING + NODE_MUTANTS + NODE_VARIANTS]
    assert len(set(names)) == len(names)
    assert all(m.profile == "node" for m in NODE_MUTANTS + NODE_VARIANTS)
    assert all(m.profile is None for m in MUTANTS + CONFORMING)
    assert BY_PROFILE["node"] == (NODE_MUTANTS, NODE_VARIANTS)
    assert BY_PROFILE[None] == (MUTANTS, CONFORMING)
    assert all(BY_NAME[m.name] is m for m in NODE_MUTANTS)
    assert all(VARIANTS[m.name] is m for m in NODE_VARIANTS)


def test_every_text_clause_of_the_profile_has_a_mutant():
    broken = {m.clause for m in NODE_MUTANTS}
    text_clauses = {c.id for c in CLAUSES.values() if not c.reading and c.loader_testable}
    assert text_clauses and text_clauses - broken == set()


def test_a_node_mutant_edits_node_loader_js_and_leaves_loader_js_alone():
    for mutant in NODE_MUTANTS + NODE_VARIANTS:
        loader = mutant.loader()
        assert loader.node_js_source == mutant.source() != node_loader_source(), mutant.name
        assert loader.js_source == loader_source(), mutant.name
        assert loader.name == ("mutant:" if mutant.clause else "variant:") + mutant.name
        assert mutant.specs(("1.1.1",)) == ("node",)
    spec_mutant = MUTANTS[0].loader()
    assert spec_mutant.node_js_source == node_loader_source() != spec_mutant.js_source


def test_an_edit_that_no_longer_applies_names_node_loader_js():
    from dataclasses import replace
    broken = replace(NODE_MUTANTS[0], edits=(("no such text in node-loader.js", ""),))
    with pytest.raises(ValueError, match="occurs 0 times in node-loader.js"):
        broken.source()


def test_the_faithful_loader_passes_every_case_of_the_profile():
    assert not ERRORS and CASES
    verdicts = _run(CASES, ReferenceLoader())
    assert [(v.case, v.outcome.value, v.message) for v in verdicts
            if v.outcome is not Outcome.PASS] == []


@pytest.mark.parametrize("mutant", NODE_MUTANTS, ids=lambda m: m.name)
def test_node_mutant_is_caught_by_a_case_citing_its_clause(mutant):
    assert not ERRORS
    clause = CLAUSES[mutant.clause]
    assert clause.loader_testable and not clause.reading, mutant.clause
    citing = [c for c in CASES if mutant.clause in c.clauses]
    assert citing, f"no case cites {mutant.clause}"
    verdicts = _run(citing, mutant.loader())
    hits = [v for v in verdicts if caught(v, mutant.clause)]
    assert hits, [(v.case, v.outcome.value, v.message) for v in verdicts]
    if clause.warns_in("node"):  # DEPRECATED: a breach is a warning, never a failure
        assert all(v.outcome is Outcome.WARN for v in hits)
    else:
        assert any(v.outcome is not Outcome.WARN for v in hits)


@pytest.mark.parametrize("variant", NODE_VARIANTS, ids=lambda m: m.name)
def test_a_node_variant_passes_every_case_of_the_profile(variant):
    assert variant.clause is None
    verdicts = _run(CASES, variant.loader())
    assert [(v.case, v.outcome.value, v.message) for v in verdicts
            if not v.outcome.ok] == []  # advisory (a reading not met) is no failure
    assert sum(v.outcome is Outcome.PASS for v in verdicts) > 0


def test_the_kill_check_and_the_variant_check_can_fail():
    from dataclasses import replace
    # A comment edited: nothing observable changes, so no case catches it.
    silent = replace(NODE_MUTANTS[0], name="silent", edits=(
        ("// LOAD_AS_FILE 1: X itself, when it is a file.", "// edited"),))
    citing = [c for c in CASES if silent.clause in c.clauses]
    assert not [v for v in _run(citing, silent.loader()) if caught(v, silent.clause)]
    # A mutant run as if it were a variant fails a case.
    assert [v for v in _run(CASES, NODE_MUTANTS[0].loader()) if not v.outcome.ok]


def test_the_mutants_command_runs_the_profile_s_own_kill_matrix(tmp_path, repo, capsys):
    cases = tmp_path / "cases"
    for name in ("lookup/extensions-js-before-json", "exports/replace-with-object"):
        target = cases / "node" / f"{name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((repo / "cases" / "node" / f"{name}.yaml").read_bytes())
    status = main(["mutants", "--profile", "node", "--cases", str(cases), "--out",
                   str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "mutant:node-json-before-js" in out and "mutant:no-cache" not in out
    assert re.search(r"mutant:node-json-before-js +node\.lookup\.extensions +caught by +1", out)
    assert re.search(r"mutant:node-no-walk-up +node\.modules\.walk-up +MISSED", out)
    assert status == ExitCode.FAILED  # two cases catch only a few of the mutants
    written = read(tmp_path / "out" / "mutant-node-json-before-js.json")
    assert written.spec == "node" and len(written.verdicts) == 2


def test_the_mutants_command_refuses_a_profile_with_a_spec(capsys):
    assert main(["mutants", "--profile", "node", "--spec", "1.0", "--out", "x"]) \
        == ExitCode.USAGE_ERROR
    assert "--profile node and --spec 1.0" in capsys.readouterr().err
