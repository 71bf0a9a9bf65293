"""The terminal view: live progress while cases run, then failures and a summary.

Everything it writes that a user, a loader or a case file supplied (loader names, case ids,
messages, details) goes through text.one_line: escaped, on one line, unable to redraw the
terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence, TextIO

from conformance.caseload import CaseError, find
from conformance.features import Features
from conformance.outcomes import Outcome, Verdict
from conformance.case import area_of
from conformance.results import Results
from conformance.text import one_line

MARKS = {
    Outcome.PASS: ".",
    Outcome.WARN: "w",
    Outcome.ADVISORY: "a",
    Outcome.FAIL: "F",
    Outcome.BLOCKED: "b",
    Outcome.ERROR: "E",
    Outcome.TIMEOUT: "T",
    Outcome.SKIP: "s",
}
#: How many of the cases testing a clause a blocked case points to.
MAX_POINTERS = 5
#: Summary words, in the order the closing line lists them.
WORDS = {
    Outcome.PASS: "passed",
    Outcome.WARN: "warned",
    Outcome.ADVISORY: "advisory",
    Outcome.FAIL: "failed",
    Outcome.BLOCKED: "blocked",
    Outcome.ERROR: "errors",
    Outcome.TIMEOUT: "timed out",
    Outcome.SKIP: "skipped",
}


class Progress:
    """One line per area, a mark per case as it finishes (or one line per case, verbose)."""

    def __init__(self, out: TextIO, verbose: bool = False):
        self.out = out
        self.verbose = verbose
        self.area: str | None = None

    def header(self, loader: str, spec: str, count: int, suite: str) -> None:
        self.out.write(f"commonjs-conformance {suite}: {count} cases, loader "
                       f"{one_line(loader)}, Modules/{spec}\n")

    def confinement(self, level: str) -> None:
        """How the loader's runs are confined, if they are."""
        what = {"bwrap": "bwrap: the file system read-only but for the case's directory, "
                         "the home directory hidden, no network",
                "environment": "a clean environment, private HOME and working directory "
                               "(bwrap is not available: files are reachable by absolute "
                               "path)"}
        if level:
            self.out.write(f"confined: {what.get(level, one_line(level))}\n")

    def features(self, features: Features) -> None:
        """The optional features the run goes by, and where a declaration and the probe
        disagree."""
        self.out.write(f"features: {one_line(features.describe())}\n")
        for line in features.conflicts:
            self.out.write(f"note: {one_line(line)}; the declaration is used\n")
        if features.probe_failed and len(features.sources) < len(features.states()):
            self.out.write(f"note: the feature probe told nothing "
                           f"({one_line(features.probe_failed)}); each case's own report is "
                           "used\n")

    def __call__(self, verdict: Verdict) -> None:
        if self.verbose:
            self.out.write(f"{verdict.outcome.value.upper():8} {one_line(verdict.case)} "
                           f"({verdict.seconds:.3f}s) {one_line(verdict.message)}\n")
        else:
            area = area_of(verdict.case)
            if area != self.area:
                if self.area is not None:
                    self.out.write("\n")
                self.out.write(f"{one_line(area):<14}")
                self.area = area
            self.out.write(MARKS[verdict.outcome])
        self.out.flush()

    def finish(self) -> None:
        if self.area is not None and not self.verbose:
            self.out.write("\n")


def closing_line(results: Results) -> str:
    """'N passed, N failed, ...' over the outcomes that occurred, always naming passed and failed."""
    counts = results.tally.counts
    parts = [f"{counts[o]} {WORDS[o]}" for o in WORDS
             if counts[o] or o is Outcome.PASS or o is Outcome.FAIL]
    return ", ".join(parts)


def summary(results: Results, out: TextIO,
            citing: Mapping[str, Sequence[str]] | None = None) -> None:
    """Failures with their details, a table by area, and the closing line (all from the run's
    tally: a summary needs no passing verdict). `citing` maps a clause to the cases that test
    it, shown beside each case blocked on that clause."""
    citing = citing or {}
    tally = results.tally
    bad = [v for v in tally.shown if not v.outcome.ok]
    warned = [v for v in tally.shown if v.outcome is Outcome.WARN]
    advisory = [v for v in tally.shown if v.outcome is Outcome.ADVISORY]
    for title, group in (("failures", bad), ("warnings (SHOULD clauses)", warned),
                         ("advisories (the project's readings, not failures)", advisory)):
        if not group:
            continue
        out.write(f"\n{'=' * 20} {title} {'=' * 20}\n")
        for v in group:
            clauses = one_line(", ".join(v.blame or v.clauses))
            out.write(f"{v.outcome.value.upper()} {one_line(v.case)} [{clauses}]\n"
                      f"    {one_line(v.message)}\n")
            if v.outcome is Outcome.BLOCKED:
                for clause in v.blame:
                    direct = [c for c in citing.get(clause, ()) if c != v.case]
                    if direct:
                        shown = one_line(", ".join(direct[:MAX_POINTERS]))
                        more = f" and {len(direct) - MAX_POINTERS} more" if \
                            len(direct) > MAX_POINTERS else ""
                        out.write(f"    {one_line(clause)} is tested by: {shown}{more}\n")
            for line in v.details:
                out.write(f"      {one_line(line)}\n")
    by_area = tally.areas
    columns = [o for o in WORDS if any(c[o] for c in by_area.values())]
    out.write("\n" + f"{'area':<14}" + "".join(f"{WORDS[o]:>10}" for o in columns) + "\n")
    for area in sorted(by_area):
        out.write(f"{one_line(area):<14}" + "".join(f"{by_area[area][o]:>10}" for o in columns)
                  + "\n")
    state = "" if results.complete else f" (interrupted: {one_line(results.where_stopped())})"
    out.write(f"\n{one_line(results.loader)}, Modules/{results.spec}: {closing_line(results)} "
              f"in {results.seconds:.2f}s{state}\n")


def citing(root: Path, results: Results) -> dict[str, list[str]]:
    """For the clauses blocked cases blame: the cases under root that test each (read only
    when some case was blocked)."""
    wanted = {c for v in results.tally.shown if v.outcome is Outcome.BLOCKED for c in v.blame}
    if not wanted:
        return {}
    found: dict[str, list[str]] = {c: [] for c in wanted}
    try:
        for case in find(root, None):
            for clause in wanted.intersection(case.clauses):
                found[clause].append(case.id)
    except CaseError:
        pass  # a case file that broke since the run read it: point to what was found
    return found


class TerminalReporter:
    """The terminal view as a reporter: the run's header, live progress, then the summary.
    `root` is the case directory, where the summary finds the cases that test a clause a
    blocked case blames."""

    lists_cases = False

    def __init__(self, out: TextIO, verbose: bool, features: Features, root: Path):
        self.progress = Progress(out, verbose)
        self.out = out
        self.features = features
        self.root = root

    def start(self, plan: Results) -> None:
        self.progress.header(plan.loader, plan.spec, len(plan.planned), plan.suite)
        self.progress.features(self.features)
        self.progress.confinement(plan.confinement)

    def verdict(self, verdict: Verdict) -> None:
        self.progress(verdict)

    def finish(self, results: Results) -> None:
        self.progress.finish()
        summary(results, self.out, citing(self.root, results))
