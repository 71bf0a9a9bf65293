"""Outcomes of a case, the Verdict that carries one, and what a verdict blames."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable

from conformance.text import safe_line

#: Characters of a verdict's message, and of each line of its details, that are kept (before
#: escaping), and how many lines of details.
MESSAGE_LIMIT = 2000
DETAIL_LIMIT = 500
MAX_DETAILS = 60


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

    def __post_init__(self) -> None:
        """Every string made safe where a verdict is made, so that no writer downstream (the
        terminal, results, JUnit, kept trees, expectations, reports) meets text it cannot
        encode or that breaks its lines (see text.safe_line); the message and each detail
        bounded, and the number of details too."""
        details = tuple(self.details)
        if len(details) > MAX_DETAILS:
            details = details[:MAX_DETAILS - 1] + (
                f"... and {len(details) - MAX_DETAILS + 1} more lines",)
        fields = {"case": safe_line(str(self.case)),
                  "clauses": tuple(safe_line(str(c)) for c in self.clauses),
                  "message": _bounded(self.message, MESSAGE_LIMIT),
                  "details": tuple(_bounded(d, DETAIL_LIMIT) for d in details),
                  "kind": safe_line(str(self.kind)),
                  "blame": tuple(safe_line(str(c)) for c in self.blame)}
        for name, value in fields.items():
            object.__setattr__(self, name, value)


def _bounded(text: object, limit: int) -> str:
    """`text` on one line (see text.safe_line), in at most `limit` characters: a longer one is
    cut and says how long it was. Bounding its own result changes nothing, so a verdict read
    back from a results file equals the one written."""
    text = str(text)
    head = safe_line(text[:limit])
    if len(text) <= limit and len(head) <= limit:
        return head
    note = f"... ({len(text)} characters in all)"
    return head[:max(limit - len(note), 0)] + note


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
