"""`summary RESULTS...`: a Markdown summary of runs for a CI job's summary page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from conformance.exitcodes import ExitCode
from conformance.outcomes import RECORDED, Outcome
from conformance.parser import Parser
from conformance.publish import check_destination, emit, guarded, read_runs
from conformance.report import markdown_code, markdown_text
from conformance.results import Results

#: Failing cases listed per run by default: GitHub takes at most 1 MiB of job summary.
DEFAULT_LIMIT = 50
#: How each outcome is named in counts and tables ("n/a" for a case not applicable).
OUTCOME_WORDS = {o: ("n/a" if o is Outcome.SKIP else o.value) for o in Outcome}


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
