"""Judging an Execution against its Case: the runner's verdict, never the loader's."""

from __future__ import annotations

from conformance.adapter import Ending, Execution
from conformance.case import Case
from conformance.clauses import catalogue
from conformance.harness import read
from conformance.outcomes import Outcome, Verdict

#: How many lines of stderr a verdict keeps.
STDERR_TAIL = 10


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _should_only(case: Case, spec: str) -> bool:
    clauses = catalogue()
    return all(clauses[c].level_in(spec) == "SHOULD" for c in case.clauses)


def judge(case: Case, execution: Execution, spec: str) -> Verdict:
    """Decide the outcome of `case` from what the loader printed and how the run ended."""

    def verdict(outcome: Outcome, message: str, details: tuple[str, ...] = ()) -> Verdict:
        tail = tuple(execution.stderr.splitlines()[-STDERR_TAIL:])
        extra = tuple(line for line in (execution.diagnostic,) if line)
        return Verdict(case.id, case.clauses, outcome, message, execution.seconds,
                       details + tuple(f"stderr: {line}" for line in tail) + extra)

    if execution.ending is Ending.TIMED_OUT:
        return verdict(Outcome.TIMEOUT, f"no result within the time limit ({execution.diagnostic})"
                       if execution.diagnostic else "no result within the time limit")
    if execution.ending in (Ending.CRASHED, Ending.UNAVAILABLE):
        word = "crashed" if execution.ending is Ending.CRASHED else "could not be started"
        return verdict(Outcome.ERROR, f"the loader {word}: {_first_line(execution.diagnostic)}")

    transcript = read(execution.stdout)
    lacking = sorted(f for f in case.needs if transcript.features.get(f) is False)
    if lacking:
        return verdict(Outcome.SKIP, "not applicable: the loader has no " + ", ".join(lacking))
    if transcript.problems:
        return verdict(Outcome.ERROR, "the output breaks the harness protocol: "
                       + "; ".join(transcript.problems))
    failures = transcript.failures
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        outcome = Outcome.WARN if _should_only(case, spec) else Outcome.FAIL
        details = tuple(f"FAIL {a.number} {a.message}" for a in failures)
        return verdict(outcome, f"assertion {first.number} failed: {first.message}{more}", details)
    if execution.exit_code != 0:
        error = _first_line(execution.stderr) or f"exit status {execution.exit_code}"
        return verdict(Outcome.FAIL, f"uncaught error after {len(transcript.assertions)} "
                       f"assertion(s): {error}")
    if transcript.inapplicable is not None:
        return verdict(Outcome.SKIP, f"not applicable: {transcript.inapplicable}")
    if case.needs and not transcript.features:
        return verdict(Outcome.ERROR, "the case needs optional features but its program never "
                       "called start(require) to report them")
    if transcript.done is None:
        return verdict(Outcome.FAIL, f"the program stopped before done(), after "
                       f"{len(transcript.assertions)} assertion(s)")
    if not transcript.assertions:
        return verdict(Outcome.FAIL, "no assertion ran")
    return verdict(Outcome.PASS, f"{len(transcript.assertions)} assertion(s) held")
