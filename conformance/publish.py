"""What the commands that render results files (summary, badge, diff, html) share: a refusal
in one line, reading the runs, and writing one output atomically."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

from conformance.exitcodes import ExitCode
from conformance.results import (OutputError, Results, ResultsError, check_output, read,
                                 write_atomically)
from conformance.text import one_line


class Refused(Exception):
    """A publishing command that cannot go on: its exit status and the one line saying why."""

    def __init__(self, status: ExitCode, line: str):
        super().__init__(status, line)
        self.status, self.line = status, line


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
