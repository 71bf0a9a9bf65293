"""Outcomes of a case and the Verdict that carries one."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    """How a case ended against a loader."""

    PASS = "pass"  # every assertion held and the program reached done()
    WARN = "warn"  # only SHOULD-level clauses were breached (counts as passing)
    FAIL = "fail"  # an assertion failed, an error escaped, or the program stopped early
    ERROR = "error"  # the loader misbehaved: crashed, could not start, broke the line protocol
    TIMEOUT = "timeout"  # no result within the time limit
    SKIP = "skip"  # not applicable: other spec version or mode, or a feature the loader lacks

    @property
    def ok(self) -> bool:
        """True where the outcome does not make a run fail."""
        return self in (Outcome.PASS, Outcome.WARN, Outcome.SKIP)


#: Outcomes that breach the spec: what expectation files record and what catches a mutant.
BREACHES = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT, Outcome.WARN)


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
    #: stdout-closed, no-harness-output, no-assertions, timeout, loader-unavailable,
    #: loader-crashed, output-limit, protocol-violation, should-breached, not-applicable;
    #: empty for a pass.
    kind: str = ""
