"""Judging an Execution against its Case: the runner's verdict, never the loader's."""

from __future__ import annotations

from conformance.adapter import Ending, Execution
from conformance.case import Case
from conformance.clauses import catalogue
from conformance.harness import read
from conformance.outcomes import Outcome, Verdict

#: How many of the last lines of stdout and of stderr a verdict keeps.
TAIL = 10
#: Characters of a verdict's message, and of each line of its details, that are kept.
MESSAGE_LIMIT = 2000
DETAIL_LIMIT = 500


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more)"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _should_only(case: Case, spec: str) -> bool:
    clauses = catalogue()
    return all(clauses[c].level_in(spec) == "SHOULD" for c in case.clauses)


def judge(case: Case, execution: Execution, spec: str, key: str | None = None) -> Verdict:
    """Decide the outcome of `case` from what the loader printed and how the run ended.

    `key` is the one written into this run's harness; with it, a DONE line whose check does not
    match (PASS lines printed by something other than this run's harness) is an error.
    """

    def verdict(outcome: Outcome, kind: str, message: str,
                details: tuple[str, ...] = ()) -> Verdict:
        extra: tuple[str, ...] = ()
        if outcome not in (Outcome.PASS, Outcome.SKIP):
            extra = tuple(f"stdout: {line}" for line in execution.stdout.splitlines()[-TAIL:])
            extra += tuple(f"stderr: {line}" for line in execution.stderr.splitlines()[-TAIL:])
            extra += tuple(line for line in (execution.diagnostic,) if line)
        return Verdict(case.id, case.clauses, outcome, _clip(message, MESSAGE_LIMIT),
                       execution.seconds, tuple(_clip(d, DETAIL_LIMIT) for d in details + extra),
                       kind)

    if execution.truncated:
        return verdict(Outcome.ERROR, "output-limit",
                       "the loader printed more than the output limit; it was stopped there and "
                       "the output judged no further")
    if execution.ending is Ending.TIMED_OUT:
        return verdict(Outcome.TIMEOUT, "timeout", "no result within the time limit"
                       + (f" ({_first_line(execution.diagnostic)})" if execution.diagnostic
                          else ""))
    if execution.ending is Ending.UNAVAILABLE:
        return verdict(Outcome.ERROR, "loader-unavailable",
                       f"the loader could not be started: {_first_line(execution.diagnostic)}")
    if execution.ending is Ending.CRASHED:
        return verdict(Outcome.ERROR, "loader-crashed",
                       f"the loader crashed: {_first_line(execution.diagnostic)}")

    transcript = read(execution.stdout)
    lacking = sorted(f for f in case.needs if transcript.features.get(f) is False)
    if lacking:
        return verdict(Outcome.SKIP, "not-applicable",
                       "not applicable: the loader has no " + ", ".join(lacking))
    if transcript.problems:
        return verdict(Outcome.ERROR, "protocol-violation",
                       "the output breaks the harness protocol: " + "; ".join(transcript.problems))
    if key is not None and transcript.done is not None and not transcript.checks_out(key):
        return verdict(Outcome.ERROR, "protocol-violation",
                       "the DONE line's check does not match this run: the PASS/FAIL lines were "
                       "not all printed by this run's harness")
    failures = transcript.failures
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        details = tuple(f"FAIL {a.number} {a.message}" for a in failures)
        if _should_only(case, spec):
            return verdict(Outcome.WARN, "should-breached",
                           f"assertion {first.number} failed: {first.message}{more}", details)
        return verdict(Outcome.FAIL, "assertion-failed",
                       f"assertion {first.number} failed: {first.message}{more}", details)
    if execution.exit_code != 0:
        error = _first_line(execution.stderr) or f"exit status {execution.exit_code}"
        return verdict(Outcome.FAIL, "uncaught-error", f"uncaught error after "
                       f"{len(transcript.assertions)} assertion(s): {error}")
    if transcript.inapplicable is not None:
        return verdict(Outcome.SKIP, "not-applicable", f"not applicable: {transcript.inapplicable}")
    if case.needs and not transcript.features and transcript.from_harness:
        return verdict(Outcome.ERROR, "protocol-violation", "the case needs optional features "
                       "but its program never called start(require) to report them")
    if transcript.done is None:
        if execution.stdout_closed:
            return verdict(Outcome.FAIL, "stdout-closed", f"the loader closed its stdout before "
                           f"the end marker, after {len(transcript.assertions)} assertion(s)")
        if not transcript.from_harness:
            return verdict(Outcome.FAIL, "no-harness-output", "the loader exited normally but "
                           "printed nothing of the harness (no FEATURES, PASS, FAIL or DONE line)")
        return verdict(Outcome.FAIL, "stopped-early", f"the program stopped before done(), after "
                       f"{len(transcript.assertions)} assertion(s)")
    if not transcript.assertions:
        return verdict(Outcome.FAIL, "no-assertions", "no assertion ran")
    return verdict(Outcome.PASS, "", f"{len(transcript.assertions)} assertion(s) held")
