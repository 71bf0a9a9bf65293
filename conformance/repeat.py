"""Running each case several times (--repeat N): a verdict that does not repeat is flaky."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Iterator, Sequence

from conformance.case import Case
from conformance.outcomes import Kind, Outcome, Verdict


class Repeated(Sequence[Case]):
    """The cases, each `times` times in a row: case i at indexes i * times ... i * times +
    times - 1, read from `cases` as they are asked for."""

    def __init__(self, cases: Sequence[Case], times: int):
        self.cases, self.times = cases, times

    def __len__(self) -> int:
        return len(self.cases) * self.times

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return self.cases[range(len(self))[index] // self.times]


def _same(verdict: Verdict) -> tuple:
    """What two runs of a case must share to count as one verdict: outcome, kind, blame."""
    return verdict.outcome, verdict.kind, verdict.blame


def merged(verdicts: Iterable[Verdict], times: int) -> Iterator[Verdict]:
    """One verdict per case from the verdicts of its `times` runs in a row: the first one when
    every run ended the same way; else an error of kind flaky that says how each run ended
    (the details: those of the first run that differs from the first)."""
    runs: list[Verdict] = []
    for verdict in verdicts:
        runs.append(verdict)
        if len(runs) < times:
            continue
        first = runs[0]
        other = next((v for v in runs if _same(v) != _same(first)), None)
        if other is None:
            yield first
        else:
            seen = Counter(_said(v) for v in runs)
            message = (f"flaky: run {times} times, it ended " + ", ".join(
                f"{said} {count} {'time' if count == 1 else 'times'}"
                for said, count in seen.items()))
            yield Verdict(first.case, first.clauses, Outcome.ERROR, message,
                          sum(v.seconds for v in runs), other.details, Kind.FLAKY,
                          tuple(dict.fromkeys(c for v in runs for c in v.blame)))
        runs = []


def _said(verdict: Verdict) -> str:
    """How one run ended, in a few words: 'pass', 'fail (assertion-failed)'."""
    return verdict.outcome.value + (f" ({verdict.kind.value})" if verdict.kind.value else "")
