"""The pytest plugin: every case file is a pytest item named by its case id."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from conformance import DEFAULT_SPEC, PROFILES, SPEC_VERSIONS, expectations
from conformance.clauses import is_profile
from conformance.contract import Loader
from conformance.caseload import SUFFIXES, CaseError, case_id, default_root, find, load
from conformance.case import Case
from conformance.expectations import Expectations, ExpectationsError, Standing
from conformance.features import Features, resolve as resolve_features
from conformance.registry import LoaderError, from_options, timeout_problem
from conformance.outcomes import UNRECORDABLE, Outcome, Verdict
from conformance.run import DEFAULT_TIMEOUT, run_case
from conformance.text import display_path

_LOADER = pytest.StashKey[Loader]()
_SPEC = pytest.StashKey[str]()
_TIMEOUT = pytest.StashKey[float]()
_KNOWN = pytest.StashKey[Expectations]()
#: The loader's optional features as the run knows them: declared, else probed once per
#: process (as the command line does), so that a case needing a feature the loader lacks is
#: not applicable rather than failed.
_FEATURES = pytest.StashKey[Features]()


class ConformanceWarning(UserWarning):
    """A case breached only SHOULD-level clauses."""


class CaseFailed(Exception):
    """A case did not pass; carries its verdict, and what the expectations say of it, for the
    failure report."""

    def __init__(self, verdict: Verdict, against: str = ""):
        super().__init__(verdict.message)
        self.verdict = verdict
        self.against = against


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("commonjs-conformance", "CommonJS Modules conformance cases")
    group.addoption("--loader", default=None,
                    help="loader to run the cases against (default: reference; "
                         "as runner.py --loader)")
    group.addoption("--loader-cmd", default=None, metavar="TEMPLATE",
                    help="any command as the loader, with {root}, {main}, {main_file}")
    group.addoption("--loader-file", type=Path, default=None, metavar="FILE",
                    help="a loader file (name, command, env, sandbox, spec, timeout)")
    group.addoption("--loader-name", default=None, help="the name of a --loader-cmd loader")
    group.addoption("--loader-sandbox", action="store_true",
                    help="the --loader-cmd loader is a sandbox (or: run the reference as one)")
    group.addoption("--loader-env", action="append", metavar="KEY=VALUE",
                    help="an environment variable for --loader-cmd (repeatable)")
    group.addoption("--spec", default=None, choices=SPEC_VERSIONS,
                    help=f"spec version to hold the loader to (default: what it claims, "
                         f"else {DEFAULT_SPEC})")
    group.addoption("--profile", default=None, choices=PROFILES,
                    help="run a profile's cases (under <cases root>/<profile>/) instead of "
                         "Modules/1.1.1's, as runner.py --profile")
    group.addoption("--case-timeout", type=float, default=None,
                    help="time limit per case, in seconds")
    group.addoption("--cases-root", type=Path, default=None,
                    help="directory whose YAML files are cases (default: the suite's own)")
    group.addoption("--conformance", action="store_true",
                    help="collect the cases under --cases-root (default: the suite's own, "
                         "wherever it is installed) without naming their directory")
    group.addoption("--expectations", type=Path, default=None, metavar="FILE",
                    help="the loader's known failures (an expectations file): a case that "
                         "ends as recorded is xfail with its reason; a new or changed failure, "
                         "or an unexpected pass, fails")


def _root(config: pytest.Config) -> Path:
    return (config.getoption("--cases-root") or default_root()).resolve()


def _collected(config: pytest.Config, path: Path) -> bool:
    """Whether a YAML file is one of the run's cases: under the cases root, and in the
    profile's folder when --profile is given, else in none of the profiles' folders."""
    root = _root(config)
    resolved = path.resolve()
    if root not in resolved.parents:
        return False
    folder = resolved.relative_to(root).parts[0]
    profile = config.getoption("--profile")
    return folder == profile if profile else folder not in PROFILES


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    # x.YAML is collected too, as caseload.find sees it, so that loading refuses it by name
    # (asking for the lower-case suffix) rather than the case going missing without a word.
    if file_path.suffix.lower() not in SUFFIXES:
        return None
    if not _collected(parent.config, file_path):
        return None
    return CaseFile.from_parent(parent, path=file_path)


def pytest_configure(config: pytest.Config) -> None:
    """Set up the loader once, so that a bad choice is a usage error before anything runs."""
    profile = config.getoption("--profile")
    if profile and config.getoption("--spec"):
        raise pytest.UsageError(f"--profile {profile} and --spec {config.getoption('--spec')}: "
                                "a run holds a loader to a spec version or to a profile")
    try:
        loader = from_options(config.getoption("--loader"), config.getoption("--loader-cmd"),
                              config.getoption("--loader-file"), config.getoption("--loader-name"),
                              config.getoption("--loader-sandbox"),
                              config.getoption("--loader-env"), profile=profile)
    except LoaderError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LOADER] = loader
    config.stash[_SPEC] = (profile or config.getoption("--spec") or loader.declaration.spec
                           or DEFAULT_SPEC)
    given = config.getoption("--case-timeout")
    problem = timeout_problem(given) if given is not None else None
    if problem:
        raise pytest.UsageError(f"--case-timeout: {problem}")
    config.stash[_TIMEOUT] = given or loader.declaration.timeout or DEFAULT_TIMEOUT
    path = config.getoption("--expectations")
    if path is not None:
        config.stash[_KNOWN] = _expectations(path, loader.name, config.stash[_SPEC],
                                             _root(config))
    if config.getoption("--conformance"):
        # Collect the cases root itself, so an installed suite runs without the user naming
        # its place in site-packages; paths given on the command line are collected too.
        root = str(_root(config))
        given_paths = config.args_source is pytest.Config.ArgsSource.ARGS
        config.args = [*config.args, root] if given_paths else [root]


def _expectations(path: Path, loader: str, spec: str, root: Path) -> Expectations:
    """The expectations file for this loader and spec; a usage error (one line: file, line,
    field) when it is malformed or out of date, records another loader or spec version, or
    names a case that is not under the cases root: the runner's checks, before anything runs."""
    try:
        known = expectations.load(path)
        expectations.check_fits(known, loader, spec)
        expectations.check_current(known)
    except ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None
    unknown = known.unknown(find(root, profile=spec if is_profile(spec) else None).ids)
    if unknown:
        entry = min(unknown, key=lambda e: e.line or 0)
        where = display_path(path) + (f":{entry.line}" if entry.line else "")
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise pytest.UsageError(f"{where}: failures: {entry.case!r} is no case under "
                                f"{root}{more}; remove the entry or fix its id")
    return known


def _against(known: Expectations, verdict: Verdict) -> str:
    """Why verdict fails a run checked against known, as the line its failure report starts
    with; "" when it does not (a recorded failure, unchanged, is then xfail with its reason)."""
    standing, entry = known.standing(verdict)
    where = display_path(known.path)
    if standing is Standing.EXPECTED:
        pytest.xfail(f"recorded {verdict.outcome.value}: {known.known(verdict)}")
    if standing is Standing.NEW:
        if verdict.kind in UNRECORDABLE:
            return f"never recorded: a {verdict.kind.value} fails every checked run"
        return f"new {verdict.outcome.value}: {where} does not record this case"
    if standing is Standing.CHANGED:
        return f"changed: {where} records {entry.describe()}; now {expectations.now(verdict)}"
    if standing is Standing.FIXED:
        now = "not applicable" if verdict.outcome is Outcome.SKIP else verdict.outcome.value
        return (f"unexpected {now}: {where} records {entry.outcome.value}; update the "
                "expectations")
    return ""


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
        loader = config.stash[_LOADER]
        if _FEATURES not in config.stash:  # a profile has no optional features to probe
            config.stash[_FEATURES] = (Features({}, {}) if is_profile(config.stash[_SPEC]) else
                                       resolve_features(loader, config.stash[_TIMEOUT]))
        verdict = run_case(self.case, loader, config.stash[_SPEC], config.stash[_TIMEOUT],
                           config.stash[_FEATURES].known)
        known = config.stash.get(_KNOWN, None)
        if known is not None:
            against = _against(known, verdict)  # xfails a recorded failure, unchanged
            if against:
                raise CaseFailed(verdict, against)
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
        lines = [excinfo.value.against] if excinfo.value.against else []
        lines += [
            f"case {self.case.id} ({self.path})",
            f"  {self.case.title}",
            f"  clauses: {', '.join(self.case.clauses)}",
            f"  {verdict.outcome.value}: {verdict.message}",
        ]
        lines += [f"    {line}" for line in verdict.details]
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, 0, f"case {self.case.id}"
