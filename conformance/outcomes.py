"""Outcomes of a case, the Verdict that carries one, and what a verdict blames."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable


class Outcome(enum.Enum):
    """How a case ended against a loader."""

    PASS = "pass"  # every assertion held and the program reached done()
    WARN = "warn"  # only SHOULD-level clauses were breached (counts as passing)
    ADVISORY = "advisory"  # only the project's reading of the spec was not met (never a failure)
    FAIL = "fail"  # an assertion of a MUST failed, an error escaped, or the program stopped early
    BLOCKED = "blocked"  # a precondition (a clause the case relies on, not the one it tests) failed
    ERROR = "error"  # the loader misbehaved: crashed, could not start, broke the line protocol
    TIMEOUT = "timeout"  # no result within the time limit
    SKIP = "skip"  # not applicable: other spec version or mode, or a feature the loader lacks

    @property
    def ok(self) -> bool:
        """True where the outcome does not make a run fail."""
        return self in (Outcome.PASS, Outcome.WARN, Outcome.ADVISORY, Outcome.SKIP)


#: Outcomes that breach the clause they blame: what catches a mutant. A blocked verdict blames
#: a precondition, never the clause its case tests, and catches nothing.
BREACHES = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT, Outcome.WARN)
#: The least share of a one-clause mutant's recorded verdicts that must blame its clause.
PRECISION_GOAL = 0.9
#: Outcomes an expectation file records as known: every breach, and blocked cases.
RECORDED = BREACHES + (Outcome.BLOCKED,)


@dataclass(frozen=True)
class Verdict:
    """The judged result of one case against one loader."""

    case: str
    clauses: tuple[str, ...]
    outcome: Outcome
    message: str
    seconds: float
    #: Supporting lines: failed assertions, the tails of stdout and stderr, the adapter's
    #: diagnostic (command line, exit status or signal).
    details: tuple[str, ...] = ()
    #: The named cause, for machines: assertion-failed, uncaught-error, stopped-early,
    #: stdout-closed, no-assertions, no-harness-output and not-started (blocked), precondition-failed,
    #: ran-twice, timeout, loader-unavailable, loader-crashed, output-limit,
    #: protocol-violation, should-breached, reading-not-met, not-applicable; empty for a pass.
    kind: str = ""
    #: The clauses this outcome is held against: for a failure, the clauses whose assertions
    #: failed or whose part of the program was running; for a blocked case, the precondition.
    #: Empty for a pass, a skip, and failures no clause explains (the loader crashed).
    blame: tuple[str, ...] = ()


def caught(verdict: Verdict, clause: str) -> bool:
    """Whether `verdict` holds a breach of `clause` against the loader (a mutant is caught)."""
    return verdict.outcome in BREACHES and clause in verdict.blame


def precision(verdicts: Iterable[Verdict], clause: str) -> float | None:
    """How exactly a loader that breaks only `clause` is blamed: the share of its recorded
    (failing, blocked or warned) verdicts that blame `clause`, as breach or as broken
    precondition. None when no verdict is recorded."""
    recorded = [v for v in verdicts if v.outcome in RECORDED]
    if not recorded:
        return None
    return sum(clause in v.blame for v in recorded) / len(recorded)
