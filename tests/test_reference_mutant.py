"""A deliberately broken reference loader must fail the cases of the clause it breaks."""

from pathlib import Path

import pytest

from conformance.caseload import discover, load_all
from conformance.outcomes import Outcome
from conformance.reference import ReferenceLoader, loader_source
from conformance.run import run_case

CASES = Path(__file__).resolve().parent.parent / "cases"

#: The cache lookup in requireModule; without it every require runs the module anew.
CACHE_LOOKUP = "record = cache.get(topId);"
NO_CACHE = "record = undefined;"


def cases_citing(clause: str):
    cases, errors = load_all(discover(CASES), CASES)
    assert not errors, errors
    citing = [case for case in cases if clause in case.clauses]
    if not citing:
        pytest.fail(f"no case in {CASES} cites {clause}: the mutant cannot be caught")
    return citing


def no_cache_loader() -> ReferenceLoader:
    faithful = loader_source()
    assert faithful.count(CACHE_LOOKUP) == 1
    mutated = faithful.replace(CACHE_LOOKUP, NO_CACHE)
    assert mutated != faithful and NO_CACHE in mutated
    return ReferenceLoader(js_source=mutated)


def test_without_a_module_cache_a_singleton_case_fails():
    verdicts = [run_case(case, no_cache_loader(), "1.1.1")
                for case in cases_citing("modules.singleton")]
    failed = [v for v in verdicts if v.outcome is Outcome.FAIL]
    assert failed, [(v.case, v.outcome, v.message) for v in verdicts]


def test_the_faithful_loader_passes_every_singleton_case():
    for case in cases_citing("modules.singleton"):
        verdict = run_case(case, ReferenceLoader(), "1.1.1")
        assert verdict.outcome is Outcome.PASS, verdict
