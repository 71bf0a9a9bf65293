"""Judging an Execution against its Case: the runner's verdict, never the loader's."""

from __future__ import annotations

import math
import re
from typing import Mapping

from conformance.contract import Ending, Execution
from conformance.case import Case
from conformance.clauses import catalogue
from conformance.harness import HARNESS_ID, BOM, Section, Transcript, read
from conformance.outcomes import CLEAN, FAILED_ASSERTION_KINDS, Kind, Outcome, Verdict

#: How many of the last lines of stdout, and of stderr, a verdict keeps. (The Verdict itself
#: bounds and escapes its message and details: see outcomes.Verdict.)
TAIL = 10
STDERR_TAIL = 20
#: The clause a main module that runs twice breaks: a module's code runs once.
SINGLETON = "modules.singleton"
#: The clause that makes a nested id name a module: what a case with a nested main relies on.
TERMS = "ids.terms"
#: The node profile's clause a nested main file relies on to find the harness beside it.
NODE_RELATIVE = "node.specifier.relative"


def _lines(text: str) -> list[str]:
    """The lines of a loader's output as it ends them, at line feeds only (a form feed or a
    U+2028 is part of a line), without a carriage return before the line feed or a byte-order
    mark at their start."""
    if not text:
        return []
    return [line.removesuffix("\r").lstrip(BOM) for line in text.removesuffix("\n").split("\n")]


def _tail(text: str, count: int) -> list[str]:
    """The last `count` lines of text (see _lines), without splitting all of it."""
    return _lines("\n".join(text.removesuffix("\n").rsplit("\n", count)[-count:]))


def _first_line(text: str) -> str:
    for line in _lines(text):
        if line.strip():
            return line.strip()
    return ""


_FIELDS = (("stdout", str), ("stderr", str), ("diagnostic", str), ("ending", Ending),
           ("truncated", bool), ("stdout_closed", bool))


def malformed(execution: object) -> str | None:
    """What is wrong with what a loader's adapter handed back as an Execution, or None: the
    judge reads nothing of a report it has not checked."""
    if not isinstance(execution, Execution):
        return f"it handed back {type(execution).__name__}, not an Execution"
    for name, kind in _FIELDS:
        if not isinstance(getattr(execution, name), kind):
            return f"its {name} is {type(getattr(execution, name)).__name__}, not {kind.__name__}"
    code, seconds = execution.exit_code, execution.seconds
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        return f"its exit_code is {type(code).__name__}, not int or None"
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or \
            not math.isfinite(seconds):
        return "its seconds are not a finite number"
    return None


_ERROR_START = re.compile(r"\s*(?:Uncaught\s+)?(?:[A-Z]\w*)?(?:Error|Exception)\b")
_ERROR_INSIDE = re.compile(r"\b[A-Z]\w*(?:Error|Exception): ")
#: Tools that report in their own words: 'error: ...', '[ERROR] ...'.
_ERROR_WORD = re.compile(r"(?i)\berror\b\s*[:\]]")


def error_line(stderr: str) -> str:
    """The line of an uncaught error's report that states the error itself ('Error: Cannot
    find module ...'), rather than the file name or source line engines print before it."""
    lines = [line.strip() for line in _lines(stderr) if line.strip()]
    for pattern in (_ERROR_START, _ERROR_INSIDE, _ERROR_WORD):
        for line in lines:
            if pattern.match(line) if pattern is _ERROR_START else pattern.search(line):
                return line
    return lines[0] if lines else ""


def _where(transcript: Transcript, case: Case) -> tuple[Section | None, tuple[str, ...]]:
    """The section the program was in when it ended, and the clauses that part tests: an
    unsectioned case's part tests every clause it cites; before the first section of a case
    that relies on something, the program was establishing its preconditions."""
    section = transcript.section
    if section is not None:
        return section, (section.clause,)
    if case.relies and transcript.features_lines:
        return Section(True, case.relies[0]), case.relies
    return None, case.clauses


def _classify(clauses: tuple[str, ...], spec: str) -> tuple[Outcome, tuple[str, ...]]:
    """The outcome a breach of `clauses` gives under `spec`, and the clauses it blames: only
    readings breached gives advisory; only clauses whose breach warns (SHOULD, DEPRECATED:
    clauses.WARNING_LEVELS), warn; otherwise fail, blaming the clauses of the text."""
    known = catalogue(spec)
    text = tuple(c for c in clauses if not (c in known and known[c].reading))
    if not text:
        return Outcome.ADVISORY, clauses
    if all(c in known and known[c].warns_in(spec) for c in text):
        return Outcome.WARN, text
    return Outcome.FAIL, text


def judge(case: Case, execution: Execution, spec: str, key: str | None = None,
          features: Mapping[str, bool] | None = None) -> Verdict:
    """Decide the outcome of `case` from what the loader printed and how the run ended.

    `key` is the one written into this run's harness; with it, a DONE line whose check does not
    match (PASS lines printed by something other than this run's harness) is an error.
    `features` are what the run knows of the loader's optional features (declared or probed);
    a feature it does not know is taken from the program's FEATURES line.

    The program's FEATURES and SKIP lines count only from a run that reached done() (with a
    matching check, where there is a key) and broke no rule of the protocol: a loader that
    prints 'SKIP' and runs nothing is not skipped, and a second FEATURES line never turns
    failures into skips (it is the main module running twice, or a protocol violation).
    """
    problem = malformed(execution)
    if problem:
        return Verdict(case.id, case.clauses, Outcome.ERROR, "the loader crashed: its adapter "
                       f"handed back a malformed result ({problem})", 0.0, (), Kind.LOADER_CRASHED)
    if execution.leak:
        return Verdict(case.id, case.clauses, Outcome.ERROR, "the loader carried state from an "
                       f"earlier case into this one ({execution.leak}): no verdict from this "
                       "loader can be trusted until it runs each case in a fresh module "
                       "system", execution.seconds, (execution.diagnostic,), Kind.STATE_LEAK)
    transcript = read(execution.stdout)
    started = transcript.features_lines > 0 or bool(transcript.assertions)
    confirmed = transcript.done is not None and not transcript.problems and \
        (key is None or transcript.checks_out(key))

    def verdict(outcome: Outcome, kind: Kind, message: str, details: tuple[str, ...] = (),
                blame: tuple[str, ...] = ()) -> Verdict:
        extra: tuple[str, ...] = ()
        if outcome not in CLEAN:
            extra = tuple(f"stdout: {line}" for line in _tail(execution.stdout, TAIL))
            extra += tuple(f"stderr: {line}" for line in _tail(execution.stderr, STDERR_TAIL))
            extra += tuple(line for line in (execution.diagnostic,) if line)
        return Verdict(case.id, case.clauses, outcome, message, execution.seconds,
                       details + extra, kind, blame)

    def breach(outcome: Outcome, kind: Kind, message: str, details: tuple[str, ...] = ()):
        """A verdict for a program that ended badly, held against the part it ended in: a
        precondition blocks the case; a reading or a SHOULD clause softens a failure. A timeout
        or a crash stays what it is, blaming that part."""
        if not started:
            return verdict(outcome, kind, message, details)
        section, clauses = _where(transcript, case)
        if outcome is not Outcome.FAIL:
            return verdict(outcome, kind, message, details, clauses)
        if section is not None and section.given:
            return blocked(clauses, message, details, kind)
        judged, blame = _classify(clauses, spec)
        if judged is Outcome.FAIL:
            return verdict(outcome, kind, message, details, blame)
        return verdict(judged, kind, f"{judged.value}: {message}", details, blame)

    def blocked(clauses: tuple[str, ...], message: str, details: tuple[str, ...] = (),
                kind: Kind = Kind.PRECONDITION_FAILED):
        names = ", ".join(clauses)
        return verdict(Outcome.BLOCKED, kind,
                       f"blocked: the case relies on {names}, which did not hold here ({message});"
                       f" the cases citing {names} test it directly", details, clauses)

    def not_started(message: str, kind: Kind = Kind.NOT_STARTED):
        """Blocked before anything ran: no clause is blamed, unless the case relies on ids.terms
        for a main module with a nested id and the loader's error names that id (it could not
        find the main module)."""
        if case.files:  # the node profile: the harness beside a nested main file
            clause, named = NODE_RELATIVE, f"./{HARNESS_ID}.js"
            why = (f"its main file {case.main} is nested, and finding {named} beside it relies "
                   f"on {clause}")
        else:
            clause, named = TERMS, case.main
            why = f"its main module has the nested id {case.main}, which relies on {TERMS}"
        if "/" in case.main and clause in case.relies and \
                named in error_line(execution.stderr):
            return verdict(Outcome.BLOCKED, kind, f"{message}; {why}", blame=(clause,))
        return verdict(Outcome.BLOCKED, kind, message)

    if execution.truncated:
        return verdict(Outcome.ERROR, Kind.OUTPUT_LIMIT,
                       "the loader printed more than the output limit; it was stopped there and "
                       "the output judged no further")
    if execution.ending is Ending.TIMED_OUT:
        return breach(Outcome.TIMEOUT, Kind.TIMEOUT, "no result within the time limit"
                      + (f" ({_first_line(execution.diagnostic)})" if execution.diagnostic
                         else ""))
    if execution.ending is Ending.UNAVAILABLE:
        return verdict(Outcome.ERROR, Kind.LOADER_UNAVAILABLE,
                       f"the loader could not be started: {_first_line(execution.diagnostic)}")
    if execution.ending is Ending.CRASHED:
        return breach(Outcome.ERROR, Kind.LOADER_CRASHED,
                      f"the loader crashed: {_first_line(execution.diagnostic)}")
    if transcript.features_lines > 1 and not transcript.renumbered:
        return verdict(Outcome.FAIL, Kind.RAN_TWICE,
                       "the main module ran more than once (it printed FEATURES "
                       f"{transcript.features_lines} times): a module's code must run once, and "
                       "the main module is a module like any other (was it loaded once as a file "
                       "and again by its id?)", blame=(SINGLETON,))

    known = features or {}
    reported = transcript.features if confirmed else {}
    lacking = sorted(f for f in case.needs if known.get(f, reported.get(f)) is False)
    if lacking:
        return verdict(Outcome.SKIP, Kind.NOT_APPLICABLE,
                       "not applicable: the loader has no " + ", ".join(lacking))
    if transcript.problems:
        return verdict(Outcome.ERROR, Kind.PROTOCOL_VIOLATION,
                       "the output breaks the harness protocol: " + "; ".join(transcript.problems))
    if key is not None and transcript.done is not None and not transcript.checks_out(key):
        return verdict(Outcome.ERROR, Kind.PROTOCOL_VIOLATION,
                       "the DONE line's check does not match this run: the PASS/FAIL lines were "
                       "not all printed by this run's harness")
    failures = transcript.failures
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        details = tuple(f"FAIL {a.number} {a.message}" for a in failures)
        message = f"assertion {first.number} failed: {first.message}{more}"
        if first.section is not None and first.section.given:
            return blocked((first.section.clause,), message, details)
        failed: list[str] = []
        for assertion in failures:
            if assertion.section is not None and assertion.section.given:
                break  # what failed after a broken precondition says nothing more
            for clause in ((assertion.section.clause,) if assertion.section else case.clauses):
                if clause not in failed:
                    failed.append(clause)
        judged, blame = _classify(tuple(failed), spec)
        prefix = "" if judged is Outcome.FAIL else f"{judged.value}: "
        return verdict(judged, FAILED_ASSERTION_KINDS[judged], prefix + message, details, blame)
    if execution.exit_code != 0:
        error = error_line(execution.stderr) or f"exit status {execution.exit_code}"
        if not started:
            return not_started(f"the program never started (its main module did not reach "
                               f"the harness's start()): {error}")
        return breach(Outcome.FAIL, Kind.UNCAUGHT_ERROR, f"uncaught error after "
                      f"{len(transcript.assertions)} assertion(s): {error}")
    if confirmed and transcript.inapplicable is not None:
        return verdict(Outcome.SKIP, Kind.NOT_APPLICABLE,
                       f"not applicable: {transcript.inapplicable}")
    unknown = [f for f in case.needs if f not in known]
    if unknown and not transcript.features and transcript.from_harness:
        return verdict(Outcome.ERROR, Kind.PROTOCOL_VIOLATION, "the case needs optional features "
                       "but its program never called start(require) to report them")
    if transcript.done is None:
        unheeded = "; its SKIP line counts only from a program that reaches done()" \
            if transcript.inapplicable is not None else ""
        if execution.stdout_closed:
            return breach(Outcome.FAIL, Kind.STDOUT_CLOSED, f"the loader closed its stdout before "
                          f"the end marker, after {len(transcript.assertions)} assertion(s)"
                          + unheeded)
        if not transcript.from_harness:
            return not_started("the loader exited normally but printed nothing of the harness "
                               "(no FEATURES, PASS, FAIL or DONE line): the program never "
                               "started", Kind.NO_HARNESS_OUTPUT)
        return breach(Outcome.FAIL, Kind.STOPPED_EARLY, f"the program stopped before done(), after "
                      f"{len(transcript.assertions)} assertion(s){unheeded}")
    if not transcript.assertions:
        return breach(Outcome.FAIL, Kind.NO_ASSERTIONS, "no assertion ran")
    return verdict(Outcome.PASS, Kind.NONE, f"{len(transcript.assertions)} assertion(s) held")
