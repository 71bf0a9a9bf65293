"""Optional features: declared, probed once per run, cross-checked; never guessed from a
program that did not run."""

import shutil
import sys

import pytest

from conformance.contract import Declaration
from conformance.caseload import default_root, discover, load
from conformance.command import CommandLoader
from conformance.features import probe, resolve
from conformance.mutants import BY_NAME, VARIANTS
from conformance.outcomes import Outcome
from conformance.run import run_cases

ROOT = default_root()


def cases_needing(feature):
    found = [load(p, ROOT) for p in discover(ROOT)]
    return [c for c in found
            if feature in c.needs and c.sandbox is not True and "1.1.1" in c.versions]


def bundler_like(repo, tmp_path):
    """examples/mini-loader.js made to behave as a bundler does: `require.main` in a module's
    code is rewritten to the main module, so the `require` function itself, passed around as
    a value, has no `main` property. (Its regular expression spares the one string that holds
    `require.main=`, the harness's FEATURES line, as a bundler spares strings.)"""
    source = (repo / "examples" / "mini-loader.js").read_text()
    edits = [
        ("    Object.defineProperty(require, 'main', {value: mainModule, enumerable: true});\n",
         ""),
        ("'(function (require, exports, module) {' + fs.readFileSync(file, 'utf8')",
         "'(function (require, exports, module, __main) {' + "
         "fs.readFileSync(file, 'utf8').replace(/require\\.main\\b(?!=)/g, '__main')"),
        ("factory.call(undefined, makeRequire(topId), record.exports, module);",
         "factory.call(undefined, makeRequire(topId), record.exports, module, mainModule);"),
    ]
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    script = tmp_path / "bundler-like.js"
    script.write_text(source)
    return CommandLoader(f"node {script} {{root}} {{main}}", name="bundler-like")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_a_require_lacking_main_only_when_passed_around_still_has_its_main_cases_judged(
        repo, tmp_path):
    loader = bundler_like(repo, tmp_path)
    features = resolve(loader)
    assert features.known["require.main"] is True and features.sources["require.main"] == "probed"
    main_cases = cases_needing("require.main")
    assert len(main_cases) >= 5
    # Read from the require handed to the harness, main looks absent: every case is skipped.
    guessed = list(run_cases(main_cases, loader, "1.1.1", jobs=4))
    assert {v.outcome for v in guessed} == {Outcome.SKIP}
    # With the probe, each case is judged, and this loader's main is right everywhere.
    judged = list(run_cases(main_cases, loader, "1.1.1", jobs=4, features=features.known))
    assert all(v.outcome in (Outcome.PASS, Outcome.WARN, Outcome.ADVISORY) for v in judged), \
        [(v.case, v.outcome, v.message) for v in judged if not v.outcome.ok]
    assert sum(v.outcome is Outcome.PASS for v in judged) >= 5


def test_a_program_that_cannot_start_does_not_fail_a_features_cases(tmp_path):
    build_fails = CommandLoader(
        f"{sys.executable} -c \"import sys; sys.exit('bundle failed: cannot resolve modules')\"",
        name="broken-bundler")
    features = resolve(build_fails)
    assert features.known == {} and "did not run to its end" in features.probe_failed
    paths_cases = cases_needing("require.paths")
    assert len(paths_cases) >= 5
    verdicts = list(run_cases(paths_cases, build_fails, "1.1.1", jobs=4,
                              features=features.known))
    assert {(v.outcome, v.kind) for v in verdicts} == {(Outcome.BLOCKED, "not-started")}
    assert all(v.blame == () for v in verdicts)
    assert "bundle failed: cannot resolve modules" in verdicts[0].message


def test_a_feature_present_in_one_module_only_is_present():
    """A loader whose require.main exists only in the main module has require.main: the main
    cases run, and where a clause asks for one value everywhere they say so."""
    loader = VARIANTS["main-only-in-main"].loader()
    found, failed = probe(loader)
    assert failed == "" and found["require.main"] is True
    paths_only_in_main = BY_NAME["paths-only-in-main"].loader()
    assert probe(paths_only_in_main)[0]["require.paths"] is True


def test_absent_everywhere_is_absent_and_the_cases_are_skipped():
    loader = VARIANTS["no-main"].loader()
    features = resolve(loader)
    assert features.known["require.main"] is False
    verdicts = list(run_cases(cases_needing("require.main"), loader, "1.1.1",
                              features=features.known))
    assert {v.outcome for v in verdicts} == {Outcome.SKIP}
    assert "has no require.main" in verdicts[0].message


def test_a_declaration_the_probe_contradicts_is_noted_and_wins():
    loader = VARIANTS["no-main"].loader()
    loader.declaration = Declaration(features={"require.main": True})
    features = resolve(loader)
    assert features.known["require.main"] is True
    assert features.sources["require.main"] == "declared"
    assert features.conflicts == ("require.main is declared present but the probe found it "
                                  "absent",)
