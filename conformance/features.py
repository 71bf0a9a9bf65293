"""Which optional features a loader has: what it declares, else what one probe program shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from conformance.contract import DEFAULT_TIMEOUT, FEATURES, Loader, Program
from conformance.harness import HARNESS_ID, new_key, read, source

#: The probe: every module reads the features through its own free variables, written out
#: literally (a bundler that rewrites `require.main` in the source rewrites these too), at
#: load time and in a later call, from the main module, a top-level one, a nested one and one
#: required late. The names are built at run time, out of a rewriter's reach. Plain ES5.
_REPORT = ("t.feature('require' + '.main', typeof require.main !== 'undefined');\n"
           "t.feature('require' + '.paths', 'paths' in require);\n"
           "t.feature('module' + '.uri', typeof module === 'object' && module !== null && "
           "'uri' in module);\n")
PROBE_MODULES = {
    "program": ("var t = require('" + HARNESS_ID + "');\n" + _REPORT
                + "require('probeTop');\nrequire('probe/nested/leaf').later();\n"
                + "var lazy = function () { return require('probeLazy'); };\nlazy();\n"
                + "t.ok(true, 'the probe ran');\nt.done();\n"),
    "probeTop": "var t = require('" + HARNESS_ID + "');\n" + _REPORT,
    "probe/nested/leaf": ("var t = require('" + HARNESS_ID + "');\n" + _REPORT
                          + "exports.later = function () {\n" + _REPORT + "};\n"),
    "probeLazy": "var t = require('" + HARNESS_ID + "');\n" + _REPORT,
}


@dataclass(frozen=True)
class Features:
    """What a run knows of the loader's optional features, and where each fact came from."""

    #: Feature -> True (has it) or False (lacks it); a feature not here is unknown, and each
    #: case's own FEATURES line decides for it.
    known: Mapping[str, bool]
    #: Feature -> "declared", "probed" or "unknown".
    sources: Mapping[str, str]
    #: Where the probe contradicts the declaration, one line each.
    conflicts: tuple[str, ...] = ()
    #: Why the probe told nothing (the program did not run to its end), or "".
    probe_failed: str = ""

    def states(self) -> dict[str, str]:
        """Feature -> 'present (declared)', 'absent (probed)' or 'unknown'."""
        return {name: (f"{'present' if self.known[name] else 'absent'} ({self.sources[name]})"
                       if name in self.known else "unknown") for name in FEATURES}

    def describe(self) -> str:
        """One line: 'require.main present (declared), module.uri unknown, ...'."""
        return ", ".join(f"{name} {state}" for name, state in self.states().items())


def probe(loader: Loader, timeout: float = DEFAULT_TIMEOUT) -> tuple[dict[str, bool], str]:
    """Run the probe program on `loader`: feature -> present anywhere (True), absent everywhere
    (False); and why nothing could be learnt, or ""."""
    key = new_key()
    modules = dict(PROBE_MODULES)
    modules[HARNESS_ID] = source(key)
    try:
        execution = loader.run(Program("probe/features", modules, "program", timeout))
    except Exception as exc:  # an adapter bug: the probe tells nothing, the run goes on
        return {}, f"the loader raised {type(exc).__name__}: {exc}"
    transcript = read(execution.stdout)
    if (transcript.done is None or transcript.failures or transcript.problems
            or not transcript.checks_out(key)):
        return {}, ("the probe program did not run to its end "
                    f"({execution.ending.value}, exit status {execution.exit_code})")
    # One module with the feature shows the loader has it: the cases then judge the modules
    # that lack it, where a clause asks for the same value in every module.
    return {name: any(states) for name, states in transcript.probed.items()}, ""


def resolve(loader: Loader, timeout: float = DEFAULT_TIMEOUT) -> Features:
    """The declared features, the probe's answer for the rest, and where the two disagree."""
    declared = dict(loader.declaration.features)
    probed, failed = probe(loader, timeout)
    known = {**probed, **declared}
    sources = {name: ("declared" if name in declared else "probed") for name in known}
    conflicts = tuple(
        f"{name} is declared {'present' if declared[name] else 'absent'} but the probe found it "
        f"{'present' if probed[name] else 'absent'}"
        for name in FEATURES if name in declared and name in probed
        and declared[name] != probed[name])
    return Features(known, sources, conflicts, failed)
