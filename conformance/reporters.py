"""Reporters: every output of a run subscribes to one stream of its plan, verdicts and results.

A reporter is told `start(plan)` once, before any case runs (the planned Results: loader, spec,
the ids of the cases, features, confinement; no verdict yet), `verdict(v)` for each verdict in
the planned order as it is reached, and `finish(results)` once at the end, with the final
Results (complete or not). The terminal, the results file, JUnit XML, kept cases and
expectation files are each one reporter; adding an output is adding a reporter to the list the
command line builds.

A reporter that cannot write its output raises OutputError (one line saying what was lost). The
fan-out, Reporters, collects that line, calls that reporter no more, and goes on with the
others, so that one lost file never costs another.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Protocol

from conformance.outcomes import Verdict
from conformance.results import OutputError, Results, Tally


class Reporter(Protocol):
    """One output of a run, fed the stream of its plan, verdicts and results."""

    #: True when finish() needs every verdict in results.verdicts (a view that lists every
    #: case); otherwise the run keeps only its tally, and memory stays flat in its size.
    lists_cases: bool

    def start(self, plan: Results) -> None:
        """Before any case runs. An OutputError here refuses the run: nothing is run."""

    def verdict(self, verdict: Verdict) -> None:
        """Each verdict, in the planned order, as it is reached."""

    def finish(self, results: Results) -> None:
        """The end of the run, also of one that was interrupted (results.complete is False)."""


class AtFinish:
    """A reporter that does its work at the finish alone: start and each verdict are nothing
    to it."""

    def start(self, plan: Results) -> None:
        pass

    def verdict(self, verdict: Verdict) -> None:
        pass


class Reporters:
    """Calls each reporter in order, for every event of the stream, and counts the stream as
    it passes (a Tally, and every verdict where a reporter lists cases) so that `results()`
    gives the final Results.

    A reporter whose verdict() or finish() raises OutputError is called no more; its line is
    kept in `errors` and the others go on. Any other exception (a bug) also lets the reporters
    after it have the event, and is raised again after them. start() stops at the first
    reporter that raises: a run refused by one output (a results file another run holds) does
    not begin, so the reporter that can refuse comes first."""

    lists_cases = False

    def __init__(self, reporters: Iterable[Reporter | None]):
        #: The reporters, in the order they are called; None (an output not asked for) is left
        #: out.
        self.reporters: list[Reporter] = [r for r in reporters if r is not None]
        #: One line for each reporter that lost its output, in the order they failed.
        self.errors: list[str] = []
        self.tally = Tally()
        self.lists_cases = any(r.lists_cases for r in self.reporters)
        self._verdicts: list[Verdict] = []
        self._plan: Results | None = None
        self._lost: set[int] = set()  # id() of each reporter that lost its output

    def start(self, plan: Results) -> None:
        self._plan = plan
        for reporter in self.reporters:
            reporter.start(plan)

    def verdict(self, verdict: Verdict) -> None:
        self.tally.add(verdict)
        if self.lists_cases:
            self._verdicts.append(verdict)
        self._each(lambda reporter: reporter.verdict(verdict))

    def finish(self, results: Results) -> None:
        self._each(lambda reporter: reporter.finish(results))

    def failed(self, reporter: Reporter) -> bool:
        """Whether `reporter` lost its output (and was called no more)."""
        return id(reporter) in self._lost

    def results(self, complete: bool, seconds: float) -> Results:
        """The run's Results: the plan with what the stream brought (every verdict only where
        a reporter lists cases; the tally always)."""
        if self._plan is None:
            raise RuntimeError("results() before start()")
        return dataclasses.replace(self._plan, verdicts=tuple(self._verdicts), tally=self.tally,
                                   complete=complete, seconds=seconds)

    def _each(self, call: Callable[[Reporter], None]) -> None:
        bug: Exception | None = None
        for reporter in self.reporters:
            if id(reporter) in self._lost:
                continue
            try:
                call(reporter)
            except OutputError as exc:
                self._lost.add(id(reporter))
                self.errors.append(str(exc))
            except Exception as exc:
                bug = bug or exc
        if bug is not None:
            raise bug
