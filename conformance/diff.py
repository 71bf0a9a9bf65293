"""`diff A B`: the cases whose verdict changed between two results files, as a table."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from conformance.exitcodes import ExitCode
from conformance.outcomes import Outcome, Verdict
from conformance.report import markdown_code, markdown_text
from conformance.results import Results
from conformance.parser import Parser
from conformance.publish import Refused, guarded, read_runs
from conformance.text import counted, one_line


class Change(enum.Enum):
    """How a case's verdict differs between run A and run B; the table lists them in this
    order."""

    NEW_FAILURE = "new failure"  # did not fail in A (or was not applicable), fails in B
    FIXED = "fixed"  # failed in A, passes in B (a warning or advisory counts as passing)
    CHANGED = "changed"  # any other change of outcome, kind or blamed clauses
    ONLY_A = "only in A"
    ONLY_B = "only in B"


@dataclass(frozen=True)
class Difference:
    """One case whose verdict changed: its verdict in A and in B (None where it did not run)."""

    case: str
    change: Change
    before: Verdict | None
    after: Verdict | None


def _verdict_key(v: Verdict) -> tuple:
    """What makes two verdicts the same verdict: outcome, kind and the clauses blamed (the
    message and the time taken may differ)."""
    return v.outcome, v.kind, v.blame


def _change(before: Verdict, after: Verdict) -> Change | None:
    if _verdict_key(before) == _verdict_key(after):
        return None
    if before.outcome.ok and not after.outcome.ok:
        return Change.NEW_FAILURE
    if not before.outcome.ok and after.outcome.ok and after.outcome is not Outcome.SKIP:
        return Change.FIXED
    return Change.CHANGED


def _by_id(run: Results, path: Path) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    for v in run.verdicts:
        if v.case in verdicts:
            raise Refused(ExitCode.USAGE_ERROR, f"{path}: case {one_line(v.case)!r} has two "
                          "verdicts: not the results file of one run")
        verdicts[v.case] = v
    return verdicts


def compare(a: Results, b: Results, a_path: Path = Path("A"),
            b_path: Path = Path("B")) -> list[Difference]:
    """The cases whose verdict differs between a and b, ordered by Change, then as run A
    listed them (then run B, for cases only in B). Refused if a file holds a case twice."""
    before, after = _by_id(a, a_path), _by_id(b, b_path)
    found = []
    for case, old in before.items():
        new = after.get(case)
        change = Change.ONLY_A if new is None else _change(old, new)
        if change:
            found.append(Difference(case, change, old, new))
    found += [Difference(case, Change.ONLY_B, None, new)
              for case, new in after.items() if case not in before]
    order = list(Change)
    return sorted(found, key=lambda d: order.index(d.change))  # stable: run order kept


def cell(v: Verdict | None) -> str:
    """A verdict in a table: 'fail (assertion-failed) blames require.cycles', or '—'."""
    if v is None:
        return "—"
    kind = f" ({v.kind.value})" if v.kind.value else ""
    blame = f" blames {', '.join(v.blame)}" if v.blame else ""
    return f"{v.outcome.value}{kind}{blame}"


def _message(d: Difference) -> str:
    """The message worth reading: B's, unless the case is fixed or gone, then A's."""
    shown = d.before if d.change in (Change.FIXED, Change.ONLY_A) else d.after
    return shown.message if shown else ""


def _run_line(name: str, run: Results, path: Path) -> str:
    stopped = f"; {run.where_stopped()}" if not run.complete else ""
    return (f"{name}: {run.loader} on Modules/{run.spec}{' (sandbox)' if run.sandbox else ''}, "
            f"{path}, {run.tally.done} cases{stopped}")


def tally(differences: Sequence[Difference], a: Results, b: Results) -> str:
    """One line: how many cases changed, of each Change."""
    if not differences:
        return f"no verdict changed ({a.tally.done} cases in A, {b.tally.done} in B)"
    counts = [(sum(d.change is c for d in differences), c) for c in Change]
    parts = [counted(n, c.value, "new failures") if c is Change.NEW_FAILURE else f"{n} {c.value}"
             for n, c in counts if n]
    return f"{counted(len(differences), 'verdict')} changed: {', '.join(parts)}"


def _notes(a: Results, b: Results) -> list[str]:
    notes = []
    if a.loader != b.loader:
        notes.append("the runs are of two loaders")
    if a.spec != b.spec:
        notes.append("the runs hold the loader to two spec versions")
    if a.sandbox != b.sandbox:
        notes.append("one run is of a sandbox, the other not")
    return notes


def render_text(a: Results, b: Results, a_path: Path, b_path: Path,
                differences: Sequence[Difference]) -> str:
    """The comparison for a terminal: the two runs, a table in aligned columns, the tally."""
    out = [one_line(_run_line("A", a, a_path)), one_line(_run_line("B", b, b_path))]
    out += [f"note: {n}" for n in _notes(a, b)]
    if differences:
        rows = [("change", "case", "A", "B", "message")] + [
            (d.change.value, one_line(d.case), one_line(cell(d.before)),
             one_line(cell(d.after)), one_line(_message(d))) for d in differences]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        out.append("")
        out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4]
                for row in rows]
    out += ["", tally(differences, a, b)]
    return "\n".join(line.rstrip() for line in out) + "\n"


def render_markdown(a: Results, b: Results, a_path: Path, b_path: Path,
                    differences: Sequence[Difference]) -> str:
    """The comparison as Markdown: the two runs, a table, the tally."""
    out = [f"- {markdown_text(_run_line('A', a, a_path))}", f"- {markdown_text(_run_line('B', b, b_path))}"]
    out += [f"- note: {n}" for n in _notes(a, b)]
    out.append("")
    if differences:
        out += ["| change | case | A | B | message |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {d.change.value} | {markdown_code(d.case)} | {markdown_text(cell(d.before))} | "
                f"{markdown_text(cell(d.after))} | {markdown_text(_message(d))} |" for d in differences]
        out.append("")
    out.append(tally(differences, a, b))
    return "\n".join(out) + "\n"


def diff_command(argv: Sequence[str]) -> int:
    """`diff A B`: print what changed; exit 0 when no verdict changed, 1 when one did."""
    p = Parser(prog="runner.py diff",
               description="Compare two results files (two versions of a loader, or two "
                           "loaders): the cases whose verdict (outcome, kind, clauses blamed) "
                           "changed, new failures first, then fixed, other changes, and cases "
                           "in one run only. Exit 0 when nothing changed, 1 when a verdict "
                           "changed (a CI job can gate on it; with --new-failures, only when "
                           "a case fails in B that did not in A), 4 when a file cannot be "
                           "read.")
    p.add_argument("a", type=Path, metavar="A", help="the results file of the earlier run")
    p.add_argument("b", type=Path, metavar="B", help="the results file of the later run")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--new-failures", action="store_true",
                   help="exit 1 only for a new failure, so that fixing a case passes the gate")
    args = p.parse_args(argv)

    def body() -> int:
        a, b = read_runs([args.a, args.b])
        differences = compare(a, b, args.a, args.b)
        render = render_markdown if args.markdown else render_text
        print(render(a, b, args.a, args.b, differences), end="")
        gating = [d for d in differences
                  if not args.new_failures or d.change is Change.NEW_FAILURE]
        return ExitCode.FAILED if gating else ExitCode.OK

    return guarded(p.prog, body)
