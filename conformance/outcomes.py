"""Outcomes of a case, the Verdict that carries one, and what a verdict blames."""

from __future__ import annotations

import enum
import types
from dataclasses import InitVar, dataclass
from typing import Iterable, Mapping

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
        """True where the outcome does not make a run fail (see FAILING)."""
        return self not in FAILING


# Classes of outcomes. Every other module names these; none lists outcomes of its own. Each is
# a tuple in the order messages and files list it (an expectations file's header, its errors).

#: Failed or blocked: the program ran, or tried to, and broke a clause (the one tested or one
#: it relies on). What JUnit counts as failures.
FAILURES = (Outcome.FAIL, Outcome.BLOCKED)
#: Errored or timed out: the loader crashed, broke the harness protocol or never answered.
#: What JUnit counts as errors.
ERRORS = (Outcome.ERROR, Outcome.TIMEOUT)
#: Outcomes that make a run fail (exit 1); every other one is `ok`.
FAILING = FAILURES + ERRORS
#: Passing outcomes that still hold something against the loader: a SHOULD breached, or one
#: of the project's readings not met. Shown apart from failures.
NOTED = (Outcome.WARN, Outcome.ADVISORY)
#: Outcomes a summary does not show and whose verdict carries no output tails: a pass, and a
#: case not applicable. An expectations entry never records one.
CLEAN = (Outcome.PASS, Outcome.SKIP)
#: Outcomes that hold a breach of a MUST against the clauses they blame: the clause matrix's
#: FAIL. A blocked verdict blames a precondition, never the clause its case tests.
MUST_BREACHES = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT)
#: Outcomes that breach the clause they blame, a MUST or a SHOULD: what catches a mutant
#: (see caught). A blocked verdict catches nothing.
BREACHES = MUST_BREACHES + (Outcome.WARN,)
#: Outcomes an expectation file records as known: every breach, and blocked cases.
RECORDED = BREACHES + (Outcome.BLOCKED,)
#: The outcomes a program that ended badly (an uncaught error, stdout closed, stopped before
#: done(), no assertion) is given: held against the part of the program it ended in, a MUST
#: fails, a SHOULD warns, one of the project's readings is advisory, a precondition blocks.
ENDED_BADLY = (Outcome.FAIL, Outcome.WARN, Outcome.ADVISORY, Outcome.BLOCKED)

#: The least share of a one-clause mutant's recorded verdicts that must blame its clause.
PRECISION_GOAL = 0.9


class Kind(str, enum.Enum):
    """The named cause of a verdict, for machines. Its value is the string results files
    hold. Which outcomes each kind goes with is KIND_OUTCOMES."""

    # A pass names no cause.
    NONE = ""
    # An assertion in the part that tests a MUST clause failed.
    ASSERTION_FAILED = "assertion-failed"
    # Assertions failed only in parts that test SHOULD clauses of the targeted version.
    SHOULD_BREACHED = "should-breached"
    # Assertions failed only in parts that test the project's readings (reading.*).
    READING_NOT_MET = "reading-not-met"
    # An assertion failed in a t.given section: a clause the case relies on broke first.
    PRECONDITION_FAILED = "precondition-failed"
    # The program started, then the loader exited with a non-zero status (an error escaped).
    UNCAUGHT_ERROR = "uncaught-error"
    # The loader closed its stdout before the program's end marker.
    STDOUT_CLOSED = "stdout-closed"
    # The loader exited normally but the program never reached done().
    STOPPED_EARLY = "stopped-early"
    # The program reached done() without making an assertion.
    NO_ASSERTIONS = "no-assertions"
    # The main module ran more than once (it printed FEATURES twice): modules.singleton.
    RAN_TWICE = "ran-twice"
    # The loader exited with an error before the program reached the harness's start().
    NOT_STARTED = "not-started"
    # The loader exited normally having printed nothing of the harness at all.
    NO_HARNESS_OUTPUT = "no-harness-output"
    # No result within the time limit.
    TIMEOUT = "timeout"
    # The loader could not be started (no such command, not executable).
    LOADER_UNAVAILABLE = "loader-unavailable"
    # The loader died by a signal, or its adapter raised or handed back a malformed result.
    LOADER_CRASHED = "loader-crashed"
    # The loader printed more than the output limit and was stopped there.
    OUTPUT_LIMIT = "output-limit"
    # The output breaks the harness protocol, or its DONE check does not match this run.
    PROTOCOL_VIOLATION = "protocol-violation"
    # The case does not apply: another spec version or mode, or a feature the loader lacks.
    NOT_APPLICABLE = "not-applicable"
    # The loader (a host) carried state from an earlier program into this one: its canary
    # found a global, a changed prototype or a cached module of an earlier case.
    STATE_LEAK = "state-leak"
    # Run several times (--repeat), the case did not end the same way every time.
    FLAKY = "flaky"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """The outcomes a verdict of this kind can have (KIND_OUTCOMES)."""
        return KIND_OUTCOMES[self]


#: Each kind and the outcomes it goes with: the one definition. Most go with one outcome. The
#: kinds of a program that ended badly go with every outcome of ENDED_BADLY: the judge keeps
#: the kind of ending and holds it against the part of the program it ended in.
KIND_OUTCOMES: Mapping[Kind, tuple[Outcome, ...]] = types.MappingProxyType({
    Kind.NONE: (Outcome.PASS,),
    Kind.ASSERTION_FAILED: (Outcome.FAIL,),
    Kind.SHOULD_BREACHED: (Outcome.WARN,),
    Kind.READING_NOT_MET: (Outcome.ADVISORY,),
    Kind.PRECONDITION_FAILED: (Outcome.BLOCKED,),
    Kind.UNCAUGHT_ERROR: ENDED_BADLY,
    Kind.STDOUT_CLOSED: ENDED_BADLY,
    Kind.STOPPED_EARLY: ENDED_BADLY,
    Kind.NO_ASSERTIONS: ENDED_BADLY,
    Kind.RAN_TWICE: (Outcome.FAIL,),
    Kind.NOT_STARTED: (Outcome.BLOCKED,),
    Kind.NO_HARNESS_OUTPUT: (Outcome.BLOCKED,),
    Kind.TIMEOUT: (Outcome.TIMEOUT,),
    Kind.LOADER_UNAVAILABLE: (Outcome.ERROR,),
    Kind.LOADER_CRASHED: (Outcome.ERROR,),
    Kind.OUTPUT_LIMIT: (Outcome.ERROR,),
    Kind.PROTOCOL_VIOLATION: (Outcome.ERROR,),
    Kind.NOT_APPLICABLE: (Outcome.SKIP,),
    Kind.STATE_LEAK: (Outcome.ERROR,),
    Kind.FLAKY: (Outcome.ERROR,),
})
#: Kinds no expectations file records, and no run is green with: faults of the loader's
#: isolation between cases, not of the case they land on, and verdicts that do not repeat.
UNRECORDABLE: tuple[Kind, ...] = (Kind.STATE_LEAK, Kind.FLAKY)
#: The kind of a verdict on failed assertions, by the outcome the levels of their clauses
#: decide (a MUST fails, a SHOULD warns, a reading is advisory).
FAILED_ASSERTION_KINDS: Mapping[Outcome, Kind] = types.MappingProxyType({
    Outcome.FAIL: Kind.ASSERTION_FAILED, Outcome.WARN: Kind.SHOULD_BREACHED,
    Outcome.ADVISORY: Kind.READING_NOT_MET})


def fits(outcome: Outcome, kind: Kind) -> bool:
    """Whether a verdict with `outcome` may have `kind` (KIND_OUTCOMES)."""
    return outcome in KIND_OUTCOMES[kind]


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
    #: The named cause (see Kind); its string is accepted too. Kind.NONE for a pass.
    kind: Kind = Kind.NONE
    #: The clauses this outcome is held against: for a failure, the clauses whose assertions
    #: failed or whose part of the program was running; for a blocked case, the precondition.
    #: Empty for a pass, a skip, and failures no clause explains (the loader crashed).
    blame: tuple[str, ...] = ()
    #: True for a verdict read back from a results file: its kind must still be a Kind, but
    #: need not fit its outcome, because files written before blocked verdicts existed hold
    #: fail verdicts of kind no-harness-output.
    read_back: InitVar[bool] = False

    def __post_init__(self, read_back: bool) -> None:
        """Every string made safe where a verdict is made, so that no writer downstream (the
        terminal, results, JUnit, kept trees, expectations, reports) meets text it cannot
        encode or that breaks its lines (see text.safe_line); the message and each detail
        bounded, and the number of details too. The kind is a Kind (ValueError for any other
        string) that fits the outcome (ValueError otherwise, unless read back)."""
        kind = Kind(self.kind)
        if not read_back and not fits(self.outcome, kind):
            raise ValueError(f"a verdict of kind {kind.value!r} cannot be {self.outcome.value}"
                             f" (it goes with {', '.join(o.value for o in kind.outcomes)})")
        details = tuple(self.details)
        if len(details) > MAX_DETAILS:
            details = details[:MAX_DETAILS - 1] + (
                f"... and {len(details) - MAX_DETAILS + 1} more lines",)
        fields = {"case": safe_line(str(self.case)),
                  "clauses": tuple(safe_line(str(c)) for c in self.clauses),
                  "message": _bounded(self.message, MESSAGE_LIMIT),
                  "details": tuple(_bounded(d, DETAIL_LIMIT) for d in details),
                  "kind": kind,
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
    """Whether `verdict` holds a breach of `clause` against the loader: a verdict that
    catches a mutant breaking `clause`."""
    return verdict.outcome in BREACHES and clause in verdict.blame


def caught_by(verdicts: Iterable[Verdict], clause: str) -> list[str]:
    """The cases whose verdicts catch a mutant breaking `clause` (see caught), in order; a
    mutant none catches is missed."""
    return [v.case for v in verdicts if caught(v, clause)]


def precision(verdicts: Iterable[Verdict], clause: str) -> float | None:
    """How exactly a loader that breaks only `clause` is blamed: the share of its recorded
    (failing, blocked or warned) verdicts that blame `clause`, as breach or as broken
    precondition. None when no verdict is recorded."""
    recorded = [v for v in verdicts if v.outcome in RECORDED]
    if not recorded:
        return None
    return sum(clause in v.blame for v in recorded) / len(recorded)
