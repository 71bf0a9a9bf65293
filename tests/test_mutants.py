"""Proof by mutants: each broken loader fails a case citing the clause it breaks."""

import pytest

from conformance.features import resolve

from conformance import SPEC_VERSIONS
from conformance.caseload import default_root, discover, load_all
from conformance.clauses import catalogue
from conformance.mutants import CONFORMING, MUTANTS
from conformance.outcomes import CLEAN, Outcome
from conformance.reference import ReferenceLoader, loader_source
from conformance.outcomes import caught
from conformance.run import run_case

ROOT = default_root()
CASES, ERRORS = load_all(discover(ROOT), ROOT)


def test_there_are_at_least_sixty_mutants_with_distinct_names():
    assert len(MUTANTS) >= 60
    names = [m.name for m in MUTANTS + CONFORMING]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_by_a_case_citing_its_clause(mutant):
    assert not ERRORS
    clause = catalogue()[mutant.clause]
    assert clause.loader_testable, f"{mutant.clause} is not a loader-testable clause"
    source = mutant.source()
    assert source != loader_source()
    citing = [c for c in CASES if mutant.clause in c.clauses]
    assert citing, f"no case cites {mutant.clause}"
    loader = mutant.loader()
    verdicts = [run_case(case, loader, "1.1.1") for case in citing]
    hits = [v for v in verdicts if caught(v, mutant.clause)]
    assert hits, [(v.case, v.outcome.value, v.message) for v in verdicts]
    if clause.level_in("1.1.1") == "SHOULD":  # a warning in 1.1.1 is a failure in 1.1
        strict = [run_case(case, loader, "1.1") for case in citing]
        assert any(v.outcome is Outcome.FAIL for v in strict)
    else:
        assert any(v.outcome is not Outcome.WARN for v in hits)


@pytest.mark.parametrize("spec", SPEC_VERSIONS)
@pytest.mark.parametrize("sandbox", [False, True], ids=["open", "sandbox"])
def test_the_faithful_loader_passes_every_case(spec, sandbox):
    loader = ReferenceLoader(sandbox=sandbox)
    verdicts = [run_case(case, loader, spec) for case in CASES]
    wrong = [(v.case, v.outcome.value, v.message) for v in verdicts
             if v.outcome not in CLEAN]
    assert wrong == []
    assert sum(v.outcome is Outcome.PASS for v in verdicts) > 0


def test_an_edit_that_no_longer_applies_is_an_error():
    from dataclasses import replace
    broken = replace(MUTANTS[0], edits=(("no such text in loader.js", ""),))
    with pytest.raises(ValueError, match="occurs 0 times"):
        broken.source()


@pytest.mark.parametrize("variant", CONFORMING, ids=lambda m: m.name)
def test_a_conforming_variant_passes_every_case(variant):
    assert variant.clause is None and variant.source() != loader_source()
    loader = variant.loader()
    known = resolve(loader).known  # features as a run knows them: probed for a variant
    for spec in variant.versions or SPEC_VERSIONS:
        verdicts = [run_case(case, loader, spec, features=known) for case in CASES]
        wrong = [(spec, v.case, v.outcome.value, v.message) for v in verdicts
                 if not v.outcome.ok]  # advisory (a reading not met) is no failure
        assert wrong == []
