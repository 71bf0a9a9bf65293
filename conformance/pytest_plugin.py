"""The pytest plugin: every case file is a pytest item named by its case id."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from conformance import DEFAULT_SPEC, SPEC_VERSIONS
from conformance.adapter import Loader
from conformance.caseload import SUFFIXES, CaseError, case_id, default_root, load
from conformance.case import Case
from conformance.loaders import BUILTIN, LoaderError, resolve
from conformance.outcomes import Outcome, Verdict
from conformance.run import DEFAULT_TIMEOUT, run_case

_LOADER = pytest.StashKey[Loader]()


class ConformanceWarning(UserWarning):
    """A case breached only SHOULD-level clauses."""


class CaseFailed(Exception):
    """A case did not pass; carries its verdict for the failure report."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("commonjs-conformance", "CommonJS Modules conformance cases")
    group.addoption("--loader", default="reference",
                    help=f"loader to run the cases against (known: {', '.join(BUILTIN)})")
    group.addoption("--spec", default=DEFAULT_SPEC, choices=SPEC_VERSIONS,
                    help="spec version to hold the loader to")
    group.addoption("--case-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="time limit per case, in seconds")
    group.addoption("--cases-root", type=Path, default=None,
                    help="directory whose YAML files are cases (default: the suite's own)")


def _root(config: pytest.Config) -> Path:
    return (config.getoption("--cases-root") or default_root()).resolve()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in SUFFIXES:
        return None
    if _root(parent.config) not in file_path.resolve().parents:
        return None
    return CaseFile.from_parent(parent, path=file_path)


def pytest_configure(config: pytest.Config) -> None:
    """Set up the loader once, so that a bad --loader is a usage error before anything runs."""
    try:
        config.stash[_LOADER] = resolve(config.getoption("--loader"))
    except LoaderError as exc:
        raise pytest.UsageError(str(exc)) from None


class CaseFile(pytest.File):
    """One YAML case file; a malformed one is a one-line collection error."""

    def collect(self):
        root = _root(self.config)
        try:
            case = load(self.path, root)
        except CaseError as exc:
            raise self.CollectError(str(exc)) from None
        yield CaseItem.from_parent(self, name=case_id(self.path, root), case=case)


class CaseItem(pytest.Item):
    """One case run against the loader chosen by --loader."""

    def __init__(self, *, case: Case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        config = self.config
        verdict = run_case(self.case, config.stash[_LOADER], config.getoption("--spec"),
                           config.getoption("--case-timeout"))
        if verdict.outcome is Outcome.SKIP:  # reported at the case file, not at this line
            raise pytest.skip.Exception(verdict.message, _use_item_location=True)
        if verdict.outcome is Outcome.WARN:
            warnings.warn(ConformanceWarning(f"{self.case.id}: {verdict.message}"))
        if not verdict.outcome.ok:
            raise CaseFailed(verdict)

    def repr_failure(self, excinfo, style=None):
        if not isinstance(excinfo.value, CaseFailed):
            return super().repr_failure(excinfo, style)
        verdict = excinfo.value.verdict
        lines = [
            f"case {self.case.id} ({self.path})",
            f"  {self.case.title}",
            f"  clauses: {', '.join(self.case.clauses)}",
            f"  {verdict.outcome.value}: {verdict.message}",
        ]
        lines += [f"    {line}" for line in verdict.details]
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, 0, f"case {self.case.id}"
