"""Keeping what failed: the module tree and the exact command of a case, to rerun by hand."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from conformance.contract import Loader, capabilities
from conformance.case import Case
from conformance.command import substitute, write_tree
from conformance.outcomes import Verdict
from conformance.results import Results
from conformance.run import prepare
from conformance.text import one_line

#: Lines of cases that could not be kept shown at the end of a run; the rest are counted.
SHOWN_NOT_KEPT = 10
#: The file that marks a directory --keep-failed made; only a directory holding it is ever
#: replaced, so that a case id such as `src` or `.git` never removes what the user owns.
MARKER = ".commonjs-conformance-kept"


class KeepError(Exception):
    """A case that cannot be kept; str() is one line saying why (nothing was removed)."""


def rerun_line(loader: Loader, root: Path, main: str) -> str:
    """A shell line that runs the kept tree again on the same loader, as it declares
    (Capabilities.rerun); every word is quoted."""
    words = capabilities(loader).rerun or ("python", "runner.py", "exec", "{root}", "{main}",
                                           "--loader", loader.name)
    return shlex.join(substitute(word, {"root": str(root), "main": main,
                                        "main_file": str(root / f"{main}.js")})
                      for word in words)


def rerun_script(case: Case, loader: Loader, target: Path) -> str:
    """rerun.sh: comments of one line each (line breaks and control characters of the case
    file escaped, so none of it can become a command), then the quoted command."""
    return (f"#!/bin/sh\n# {one_line(case.id)}: {one_line(case.title)}\n"
            f"# {one_line(str(case.path))}\n{rerun_line(loader, target, case.main)}\n")


def _target(case: Case, directory: Path) -> Path:
    """DIR/<case id>, refused when the id could name something hidden or climb out of DIR."""
    parts = case.id.split("/")
    if any(not part or part.startswith(".") for part in parts):
        raise KeepError(f"{one_line(case.id)}: not kept: a case id whose part starts with '.' "
                        "could name a file of the user's (.git, .ssh)")
    base = Path(directory).resolve()
    target = base.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if base != target.parent.resolve() and base not in target.parent.resolve().parents:
        raise KeepError(f"{one_line(case.id)}: not kept: {target.parent} leads outside {base}")
    if target.is_symlink() or (target.exists() and not (target / MARKER).is_file()):
        raise KeepError(f"{one_line(case.id)}: not kept: {target} exists and was not made by "
                        "--keep-failed (it is left alone)")
    return target


def keep(case: Case, verdict: Verdict, loader: Loader, directory: Path) -> Path:
    """Write DIR/<case id>/ with the case's modules, rerun.sh, verdict.txt and the marker, and
    return it. The tree is built in a hidden directory beside it and renamed into place, so an
    interruption leaves either the old tree or the new one; a directory the suite did not make
    is never replaced. Raises KeepError (one line) when the case cannot be kept."""
    target = _target(case, directory)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp",
                                     dir=target.parent))
    old = None
    try:
        write_tree(building, prepare(case).modules)
        (building / "rerun.sh").write_text(rerun_script(case, loader, target), encoding="utf-8")
        (building / "rerun.sh").chmod(0o755)
        (building / "verdict.txt").write_text(
            "\n".join([f"{verdict.outcome.value}: {verdict.message}",
                       f"clauses: {', '.join(case.clauses)}",
                       f"blames: {', '.join(verdict.blame) or 'no clause'}", *verdict.details])
            + "\n", encoding="utf-8", errors="backslashreplace")
        (building / MARKER).write_text("made by commonjs-conformance --keep-failed; the "
                                       "suite replaces this directory\n", encoding="utf-8")
        os.chmod(building, 0o777 & ~_umask())
        if target.exists():  # marked by _target's check: a tree an earlier run kept
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old",
                                        dir=target.parent))
            os.replace(target, old / "tree")
        os.replace(building, target)
    except (OSError, ValueError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise KeepError(f"{one_line(case.id)}: not kept: {one_line(str(exc))}") from None
    except BaseException:  # interrupted: leave no half-built tree behind
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target


class KeepReporter:
    """--keep-failed as a reporter: each case that did not pass is kept as its verdict comes;
    at the finish, where they are, and a line for each case that could not be kept (the first
    SHOWN_NOT_KEPT, the rest counted). A case that cannot be kept is only such a line: it is
    no lost output. `cases` are the planned cases, in the order their verdicts come."""

    lists_cases = False

    def __init__(self, directory: Path, cases: Sequence[Case], loader: Loader):
        self.directory = directory
        self.cases = cases
        self.loader = loader
        self.not_kept: list[str] = []
        self._index = 0

    def start(self, plan: Results) -> None:
        pass

    def verdict(self, verdict: Verdict) -> None:
        index, self._index = self._index, self._index + 1
        if verdict.outcome.ok:
            return
        try:
            keep(self.cases[index], verdict, self.loader, self.directory)
        except KeepError as exc:
            self.not_kept.append(str(exc))

    def finish(self, results: Results) -> None:
        if not results.ok:
            print(f"kept the cases that did not pass under {self.directory}/<case id>/",
                  file=sys.stdout)
        for line in self.not_kept[:SHOWN_NOT_KEPT]:
            print(line, file=sys.stderr)
        if len(self.not_kept) > SHOWN_NOT_KEPT:
            print(f"... and {len(self.not_kept) - SHOWN_NOT_KEPT} more case(s) not kept",
                  file=sys.stderr)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
