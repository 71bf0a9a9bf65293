"""The terminal view: live progress while cases run, then failures and a summary.

Everything it writes that a user, a loader or a case file supplied (loader names, case ids,
messages, details, titles, notes) goes through text.one_line: escaped, on one line, unable to
redraw the terminal. Its own colours and the live status line are written only to a terminal
(see wants_color and Progress)."""

from __future__ import annotations

import os
import shutil
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, TextIO

from conformance.caseload import CaseError, find
from conformance.clauses import catalogue, is_profile, spec_name
from conformance.features import Features
from conformance.outcomes import CLEAN, Outcome, Verdict
from conformance.case import Case, area_of
from conformance.results import Results
from conformance.text import one_line

MARKS = {
    Outcome.PASS: ".",
    Outcome.WARN: "w",
    Outcome.ADVISORY: "a",
    Outcome.FAIL: "F",
    Outcome.BLOCKED: "b",
    Outcome.ERROR: "E",
    Outcome.TIMEOUT: "T",
    Outcome.SKIP: "s",
}
#: The mark of a known failure: one recorded in the expectations, unchanged.
KNOWN_MARK = "x"
#: How many of the cases testing a clause a blocked case points to.
MAX_POINTERS = 5
#: Summary words, in the order the closing line lists them.
WORDS = {
    Outcome.PASS: "passed",
    Outcome.WARN: "warned",
    Outcome.ADVISORY: "advisory",
    Outcome.FAIL: "failed",
    Outcome.BLOCKED: "blocked",
    Outcome.ERROR: "errors",
    Outcome.TIMEOUT: "timed out",
    Outcome.SKIP: "skipped",
}
#: The prefix of every not-applicable message; the summary groups skips by what follows it.
NOT_APPLICABLE = "not applicable: "
#: Distinct skip reasons counted at most; the rest are counted as one "other reasons" (a
#: loader's program words its own reasons, so their number is not the suite's to bound).
MAX_SKIP_REASONS = 20
#: Characters of a known failure's reason shown at least, however long its line's head.
KNOWN_REASON = 40


def _clipped(text: str, room: int) -> str:
    """text cut to `room` characters, ending in '...' where it was cut."""
    return text if len(text) <= room else text[:room - 3].rstrip() + "..."


#: Columns the text of a failure (title, notes, the spec's sentence) is wrapped to.
WRAP = 96
#: Where a known failure's reason comes from: the recorded reason of a verdict that is an
#: expected, unchanged failure; None for any other verdict.
Known = Callable[[Verdict], "str | None"]

#: ANSI styles, by the name the view uses.
STYLES = {"pass": "32", "fail": "31", "warn": "33", "advisory": "36", "skip": "2",
          "known": "35", "dim": "2", "bold": "1"}
#: The style of each outcome's mark and word.
OUTCOME_STYLES = {
    Outcome.PASS: "pass", Outcome.WARN: "warn", Outcome.ADVISORY: "advisory",
    Outcome.FAIL: "fail", Outcome.BLOCKED: "fail", Outcome.ERROR: "fail",
    Outcome.TIMEOUT: "fail", Outcome.SKIP: "skip",
}


def wants_color(out: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for `out`: never where NO_COLOR is set to anything (https://no-color.org),
    always where FORCE_COLOR is set to anything but 0, else only on a terminal."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "0") != "0":
        return True
    return is_terminal(out)


def is_terminal(out: TextIO) -> bool:
    """Whether `out` is a terminal (a stream that cannot say is not one)."""
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


@dataclass(frozen=True)
class Paint:
    """The view's own words in colour, or as they are (on=False)."""

    on: bool = False

    def __call__(self, text: str, style: str) -> str:
        """Text in one of the STYLES (as it is where colour is off)."""
        return f"\x1b[{STYLES[style]}m{text}\x1b[0m" if self.on and text else text


PLAIN = Paint(False)


@dataclass(frozen=True)
class About:
    """What a failure shows of its case file: the title, and the notes where it has some."""

    title: str
    notes: str = ""

    @classmethod
    def of(cls, case: Case) -> About:
        """What a failure shows of `case`."""
        return cls(case.title, case.notes)


def _left(seconds: float) -> str:
    """An estimate of time left, to the second: '~7s left', '~2m05s left'."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"~{whole}s left"
    return f"~{whole // 60}m{whole % 60:02d}s left"


class Progress:
    """One line per area, a mark per case as it finishes (or one line per case, verbose).

    With `live` (a terminal), a status line follows the marks: the count, the case that runs
    now and an estimate of the time left ("[42/156] cycles/basic  ~3s left"), erased before
    anything else is written and redrawn after it; it never makes the line wrap."""

    def __init__(self, out: TextIO, verbose: bool = False, *, live: bool = False,
                 paint: Paint = PLAIN, clock: Callable[[], float] = time.monotonic):
        self.out = out
        self.verbose = verbose
        self.live = live
        self.paint = paint
        self.clock = clock
        self.area: str | None = None
        self.planned: Sequence[str] = ()
        self.done = 0
        self.started = 0.0
        self.column = 0  # where the cursor stands on the current line
        self.status = 0  # characters of the status line on the screen

    def header(self, loader: str, spec: str, count: int, suite: str) -> None:
        self.out.write(f"commonjs-conformance {suite}: {count} case{'s' * (count != 1)}, "
                       f"loader {one_line(loader)}, {spec_name(spec)}\n")

    def confinement(self, level: str) -> None:
        """How the loader's runs are confined, if they are."""
        what = {"bwrap": "bwrap: the file system read-only but for the case's directory, "
                         "the home directory hidden, no network",
                "environment": "a clean environment, private HOME and working directory "
                               "(bwrap is not available: files are reachable by absolute "
                               "path)"}
        if level:
            self.out.write(f"confined: {what.get(level, one_line(level))}\n")

    def features(self, features: Features) -> None:
        """The optional features the run goes by, and where a declaration and the probe
        disagree."""
        self.out.write(f"features: {one_line(features.describe())}\n")
        for line in features.conflicts:
            self.out.write(f"note: {one_line(line)}; the declaration is used\n")
        if features.probe_failed and len(features.sources) < len(features.states()):
            self.out.write(f"note: the feature probe told nothing "
                           f"({one_line(features.probe_failed)}); each case's own report is "
                           "used\n")

    def begin(self, planned: Sequence[str]) -> None:
        """The cases are about to run, in this order: the clock starts."""
        self.planned = planned
        self.started = self.clock()
        self._draw()

    def __call__(self, verdict: Verdict, known: str | None = None) -> None:
        """Show one verdict; `known`: the recorded reason where it is a known failure."""
        self._erase()
        style = "known" if known is not None else OUTCOME_STYLES[verdict.outcome]
        if self.verbose:
            word = "KNOWN" if known is not None else verdict.outcome.value.upper()
            said = (f"{verdict.outcome.value}, recorded: {one_line(known)}"
                    if known is not None else one_line(verdict.message))
            self._write(f"{self.paint(f'{word:8}', style)} {one_line(verdict.case)} "
                        f"({verdict.seconds:.3f}s) {said}\n")
        else:
            area = area_of(verdict.case)
            if area != self.area:
                if self.area is not None:
                    self._write("\n")
                self._write(f"{one_line(area):<14}")
                self.area = area
            self._write(self.paint(KNOWN_MARK if known is not None else MARKS[verdict.outcome],
                                   style), width=1)
        self.done += 1
        self._draw()
        self.out.flush()

    def finish(self) -> None:
        self._erase()
        if self.area is not None and not self.verbose:
            self._write("\n")
        self.out.flush()

    def _write(self, text: str, width: int | None = None) -> None:
        """Write text; `width`: the columns it takes, where colour codes make it longer."""
        self.out.write(text)
        if text.endswith("\n"):
            self.column = 0
        else:
            self.column += len(text) if width is None else width

    def _draw(self) -> None:
        """The status line after what is on the current line, cut to the room left on it."""
        if not self.live or self.done >= len(self.planned):
            return
        total = len(self.planned)
        text = f"  [{self.done + 1}/{total}] {one_line(self.planned[self.done])}"
        if self.done:
            elapsed = self.clock() - self.started
            text += f"  {_left(elapsed / self.done * (total - self.done))}"
        columns = shutil.get_terminal_size().columns
        here = self.column % columns
        if self.column and not here:
            return  # the line is full: the cursor waits to wrap
        text = text[:columns - here - 1]
        if len(text) < 8:
            return
        self.out.write(self.paint(text, "dim"))
        self.status = len(text)
        self.out.flush()

    def _erase(self) -> None:
        """Take the status line off the screen, the cursor back where it was."""
        if self.status:
            self.out.write(f"\x1b[{self.status}D\x1b[K")
            self.status = 0


def closing_line(results: Results) -> str:
    """'N passed, N failed, ...' over the outcomes that occurred, always naming passed and failed."""
    counts = results.tally.counts
    parts = [f"{counts[o]} {WORDS[o]}" for o in WORDS
             if counts[o] or o is Outcome.PASS or o is Outcome.FAIL]
    return ", ".join(parts)


def skip_reason(verdict: Verdict) -> str:
    """Why a case was not applicable, in the words after 'not applicable: '."""
    message = verdict.message
    return message[len(NOT_APPLICABLE):] if message.startswith(NOT_APPLICABLE) else message


def skip_line(reasons: Mapping[str, int]) -> str:
    """'36 not applicable: 20 the loader has no require.paths, 10 ...', most frequent first."""
    total = sum(reasons.values())
    parts = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return (f"{total} not applicable: "
            + ", ".join(f"{n} {one_line(reason)}" for reason, n in parts))


def _wrapped(text: str, indent: str) -> list[str]:
    """Text on lines of at most WRAP columns, each escaped and indented."""
    lines = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(one_line(paragraph), WRAP, initial_indent=indent,
                               subsequent_indent=indent) or []
    return lines


def clause_lines(clause_id: str, spec: str, paint: Paint = PLAIN) -> list[str]:
    """A cited clause as a failure shows it: id, level in `spec`, section, the spec's sentence
    and the link to its section (only the id, for a clause the catalogue lacks)."""
    clause = catalogue(spec).get(clause_id)
    if clause is None:
        return [f"    {paint(one_line(clause_id), 'bold')}: not in the catalogue"]
    level = clause.level_in(spec) or "not in " + spec_name(spec)
    ref = clause.ref.get(spec) or clause.ref[clause.newest]
    lines = [f"    {paint(clause.id, 'bold')} ({level}, {ref}{', a reading' * clause.reading})"]
    lines += _wrapped(f"spec: {clause.quote}", "      ")
    lines.append(f"      {clause.link(spec)}")
    return lines


def details_lines(details: Iterable[str]) -> list[str]:
    """A verdict's details, each once: a line of the program's stdout that repeats a detail
    already shown (a FAIL line, listed first as the failed assertion) is left out."""
    seen: set[str] = set()
    lines = []
    for line in details:
        if line.startswith("stdout: ") and line[len("stdout: "):] in seen:
            continue
        seen.add(line)
        lines.append(f"      {one_line(line)}")
    return lines


def _heading(title: str) -> str:
    """A section's heading line."""
    return f"{'=' * 20} {title} {'=' * 20}"


def summary(results: Results, out: TextIO,
            citing: Mapping[str, Sequence[str]] | None = None,
            known: Mapping[str, str] | None = None,
            skipped: Mapping[str, int] | None = None,
            about: Mapping[str, About] | None = None,
            paint: Paint = PLAIN) -> None:
    """Failures with their details, a table by area, and the closing line (all from the run's
    tally: a summary needs no passing verdict).

    `citing` maps a clause to the cases that test it, shown beside each case blocked on that
    clause. `known` maps a known failure's case to its recorded reason: those come after the
    new and changed ones, one line each. `skipped` counts the not-applicable cases by reason;
    `about` gives each failing case's title and notes."""
    citing = citing or {}
    known = known or {}
    about = about or {}
    tally = results.tally
    new = [v for v in tally.shown if v.case not in known]
    bad = [v for v in new if not v.outcome.ok]
    warned = [v for v in new if v.outcome is Outcome.WARN]
    advisory = [v for v in new if v.outcome is Outcome.ADVISORY]
    recorded = [v for v in tally.shown if v.case in known]
    for title, group in (("failures", bad), ("warnings (SHOULD or DEPRECATED clauses)", warned),
                         ("advisories (the project's readings, not failures)", advisory)):
        if not group:
            continue
        out.write(f"\n{paint(_heading(title), 'bold')}\n")
        for v in group:
            out.write("".join(line + "\n" for line in _failure(v, results.spec, citing,
                                                               about.get(v.case), paint)))
    if recorded:
        out.write(f"\n{paint(_heading('known failures (recorded, unchanged)'), 'bold')}\n")
        for v in recorded:
            clauses = one_line(", ".join(v.blame or v.clauses))
            head = f"{one_line(v.case)} [{clauses}] {v.outcome.value}: "
            reason = one_line(known[v.case])
            reason = reason[len(v.outcome.value) + 2:] if reason.startswith(
                f"{v.outcome.value}: ") else reason  # said once
            # One line: the reason as far as the screen is wide; the file has all of it.
            room = max(KNOWN_REASON, WRAP - len(KNOWN_MARK) - 1 - len(head))
            out.write(f"{paint(KNOWN_MARK, 'known')} {head}{_clipped(reason, room)}\n")
    by_area = tally.areas
    columns = [o for o in WORDS if any(c[o] for c in by_area.values())]
    out.write("\n" + f"{'area':<14}" + "".join(f"{WORDS[o]:>10}" for o in columns) + "\n")
    for area in sorted(by_area):
        out.write(f"{one_line(area):<14}" + "".join(f"{by_area[area][o]:>10}" for o in columns)
                  + "\n")
    if skipped:
        out.write(f"\n{skip_line(skipped)}\n")
    state = "" if results.complete else f" (incomplete: {one_line(results.where_stopped())})"
    ok = results.ok
    out.write(f"\n{one_line(results.loader)}, {spec_name(results.spec)}: "
              f"{paint(closing_line(results), 'pass' if ok else 'fail')} "
              f"in {results.seconds:.2f}s{state}\n")


def _failure(v: Verdict, spec: str, citing: Mapping[str, Sequence[str]],
             about: About | None, paint: Paint) -> list[str]:
    """The lines that explain one failing (or warned, or advisory) verdict: outcome, case and
    clauses; the case's title and notes; the message; each cited clause's text and link;
    where a blocked case's clause is tested; the details."""
    clauses = v.blame or v.clauses
    word = paint(v.outcome.value.upper(), OUTCOME_STYLES[v.outcome])
    lines = [f"{word} {one_line(v.case)} [{one_line(', '.join(clauses))}]"]
    if about is not None:
        lines += _wrapped(about.title, "    ")
        if about.notes:
            lines += _wrapped("notes: " + " ".join(about.notes.split()), "    ")
    lines.append(f"    {one_line(v.message)}")
    for clause in clauses:
        lines += clause_lines(clause, spec, paint)
    if v.outcome is Outcome.BLOCKED:
        for clause in v.blame:
            direct = [c for c in citing.get(clause, ()) if c != v.case]
            if direct:
                shown = one_line(", ".join(direct[:MAX_POINTERS]))
                more = f" and {len(direct) - MAX_POINTERS} more" if \
                    len(direct) > MAX_POINTERS else ""
                lines.append(f"    {one_line(clause)} is tested by: {shown}{more}")
    return lines + details_lines(v.details)


def citing(root: Path, results: Results) -> dict[str, list[str]]:
    """For the clauses blocked cases blame: the cases under root that test each (read only
    when some case was blocked)."""
    wanted = {c for v in results.tally.shown if v.outcome is Outcome.BLOCKED for c in v.blame}
    if not wanted:
        return {}
    found: dict[str, list[str]] = {c: [] for c in wanted}
    try:
        for case in find(root, None):
            for clause in wanted.intersection(case.clauses):
                found[clause].append(case.id)
    except CaseError:
        pass  # a case file that broke since the run read it: point to what was found
    return found


def describe(root: Path, ids: Iterable[str]) -> dict[str, About]:
    """The title and notes of each of the given cases under root (a case whose file cannot be
    read now is left out: its failure is shown without them)."""
    wanted = set(ids)
    if not wanted:
        return {}
    suite = find(root, None)
    found = {}
    for index, identifier in enumerate(suite.ids):
        if identifier in wanted:
            try:
                found[identifier] = About.of(suite[index])
            except CaseError:
                pass
    return found


class TerminalReporter:
    """The terminal view as a reporter: the run's header, live progress, then the summary.

    `root` is the case directory, where the summary finds the cases that test a clause a
    blocked case blames, and each failing case's title and notes. `known` tells a known
    failure (its recorded reason) from a new or changed one (None). `color`: True or False,
    or None to decide by the stream and the environment (wants_color). The live status line
    is drawn only when `out` is a terminal; `clock` times it."""

    lists_cases = False

    def __init__(self, out: TextIO, verbose: bool, features: Features, root: Path, *,
                 known: Known | None = None, color: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.paint = Paint(wants_color(out) if color is None else color)
        self.progress = Progress(out, verbose, live=is_terminal(out), paint=self.paint,
                                 clock=clock)
        self.out = out
        self.features = features
        self.root = root
        self.known = known
        #: Case id -> recorded reason, for each known failure seen.
        self.recorded: dict[str, str] = {}
        #: Not-applicable reason -> cases.
        self.skipped: Counter[str] = Counter()

    def start(self, plan: Results) -> None:
        self.progress.header(plan.loader, plan.spec, len(plan.planned), plan.suite)
        if not is_profile(plan.spec):  # a profile has no optional features
            self.progress.features(self.features)
        self.progress.confinement(plan.confinement)
        self.progress.begin(plan.planned)

    def verdict(self, verdict: Verdict) -> None:
        reason = None
        if verdict.outcome is Outcome.SKIP:
            why = skip_reason(verdict)
            if why not in self.skipped and len(self.skipped) >= MAX_SKIP_REASONS:
                why = "other reasons"
            self.skipped[why] += 1
        elif verdict.outcome not in CLEAN and self.known is not None:
            reason = self.known(verdict)
            if reason is not None:
                self.recorded[verdict.case] = reason
        self.progress(verdict, reason)

    def finish(self, results: Results) -> None:
        self.progress.finish()
        failing = [v.case for v in results.tally.shown if v.case not in self.recorded]
        try:
            about = describe(self.root, failing)
        except OSError:
            about = {}  # the case directory is gone: failures are shown without titles
        summary(results, self.out, citing(self.root, results), self.recorded, self.skipped,
                about, self.paint)
