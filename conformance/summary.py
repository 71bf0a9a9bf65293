"""`summary RESULTS...`: a Markdown summary of runs for a CI job's summary page; and the reading
and writing the publishing commands (summary, badge, diff, html) share."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

from conformance.exitcodes import ExitCode
from conformance.outcomes import RECORDED, Outcome
from conformance.report import markdown_code, markdown_text
from conformance.results import (OutputError, Results, ResultsError, check_output, read,
                                 write_atomically)
from conformance.text import one_line

#: Failing cases listed per run by default: GitHub takes at most 1 MiB of job summary.
DEFAULT_LIMIT = 50
#: How each outcome is named in counts and tables ("n/a" for a case not applicable).
OUTCOME_WORDS = {o: ("n/a" if o is Outcome.SKIP else o.value) for o in Outcome}


class Refused(Exception):
    """A publishing command that cannot go on: its exit status and the one line saying why."""

    def __init__(self, status: ExitCode, line: str):
        super().__init__(status, line)
        self.status, self.line = status, line


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line exiting 4 (2 is an interruption's status)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE_ERROR, f"{self.prog}: error: {message}\n")


def guarded(prog: str, body: Callable[[], int]) -> int:
    """Run a command's body; a Refused becomes its one line on stderr and its exit status."""
    try:
        return int(body())
    except Refused as refused:
        print(f"{prog}: {refused.line}", file=sys.stderr)
        return refused.status


def read_runs(paths: Iterable[Path]) -> list[Results]:
    """Each results file read; Refused (usage error, one line naming file and line) at the
    first that cannot be read."""
    runs = []
    for path in paths:
        try:
            runs.append(read(path))
        except ResultsError as exc:
            raise Refused(ExitCode.USAGE_ERROR, one_line(str(exc))) from None
    return runs


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_destination(output: Path | None, inputs: Sequence[Path], option: str = "-o") -> None:
    """Refused (usage error) unless the output can be written and is none of the inputs (a
    results file is never overwritten by a view of it). Checked before anything is read."""
    if output is None:
        return
    for path in inputs:
        if _same_file(output, path):
            raise Refused(ExitCode.USAGE_ERROR, f"error: {option} {output} is the input {path}; "
                          "it would be overwritten")
    try:
        check_output(output, option)
    except OutputError as exc:
        raise Refused(ExitCode.USAGE_ERROR, f"error: {exc}") from None


def emit(output: Path | None, text: str, what: str) -> None:
    """Write text to output atomically (Refused with an output error when that fails), or to
    stdout when no output is given."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_atomically(output, text, what)
    except OutputError as exc:
        raise Refused(ExitCode.OUTPUT_ERROR, str(exc)) from None


def applicable(run: Results) -> tuple[int, int]:
    """(passed, applicable) cases of a run: passed counts warnings and advisories, which do not
    fail a run; applicable is every case that ran but those not applicable."""
    applicable_ = run.tally.done - run.count(Outcome.SKIP)
    return applicable_ - sum(run.count(o) for o in Outcome if not o.ok), applicable_


def counts(run: Results) -> str:
    """The run's non-zero counts per outcome, in the outcomes' order: '12 pass, 1 fail'."""
    return ", ".join(f"{run.count(o)} {OUTCOME_WORDS[o]}" for o in Outcome if run.count(o)) \
        or "no case"


def render(runs: Sequence[Results], limit: int = DEFAULT_LIMIT) -> str:
    """The Markdown summary: per run, a line with loader, spec and counts, then its failing,
    blocked and warned cases with the clauses blamed and the message (at most `limit`)."""
    out = ["### CommonJS conformance", ""]
    for run in runs:
        passed, total = applicable(run)
        verdict = "passed" if run.ok and total else ("nothing tested" if not total
                                                     else "**FAILED**")
        stopped = f"; {run.where_stopped()}" if not run.complete else ""
        out += [f"**{markdown_text(run.loader)}** on Modules/{markdown_text(run.spec)}"
                f"{' (sandbox)' if run.sandbox else ''}: {verdict}, {passed}/{total} "
                f"applicable cases passed ({counts(run)}{markdown_text(stopped)})", ""]
        shown = [v for v in run.verdicts if v.outcome in RECORDED]
        if not shown:
            continue
        out += ["| case | blames | outcome | message |", "| --- | --- | --- | --- |"]
        for v in shown[:limit]:
            blame = ", ".join(markdown_code(c) for c in v.blame) or "—"
            out.append(f"| {markdown_code(v.case)} | {blame} | {v.outcome.value} | "
                       f"{markdown_text(v.message)} |")
        if len(shown) > limit:
            out.append(f"\n... and {len(shown) - limit} more")
        out.append("")
    return "\n".join(out)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a limit is 0 or more")
    return value


def summary_command(argv: Sequence[str]) -> int:
    """`summary RESULTS...`: print (or write) the Markdown summary of runs."""
    p = Parser(prog="runner.py summary",
               description="Markdown for a CI job summary page ($GITHUB_STEP_SUMMARY): per "
                           "run a line with loader, spec and counts per outcome, then its "
                           "failing cases with the clause blamed and the message. Exit 0 when "
                           "every file was read, whatever the runs' verdicts.")
    p.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write FILE (replaced whole); default: stdout, to append to "
                        "$GITHUB_STEP_SUMMARY with >>")
    p.add_argument("--limit", type=_limit, default=DEFAULT_LIMIT, metavar="N",
                   help=f"failing cases listed per run at most (default {DEFAULT_LIMIT})")
    args = p.parse_args(argv)

    def body() -> int:
        check_destination(args.output, args.results)
        emit(args.output, render(read_runs(args.results), args.limit), "the summary")
        return ExitCode.OK

    return guarded(p.prog, body)
