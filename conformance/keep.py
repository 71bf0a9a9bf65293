"""Keeping what failed: the module tree and the exact command of a case, to rerun by hand."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from conformance.adapter import Loader
from conformance.case import Case
from conformance.command import CommandLoader, write_tree
from conformance.outcomes import Verdict
from conformance.reference import ReferenceLoader
from conformance.run import prepare


def rerun_line(loader: Loader, root: Path, main: str) -> str:
    """A shell line that runs the kept tree again on the same loader."""
    if isinstance(loader, CommandLoader):
        return loader.shell_line(root, main)
    name = loader.name
    if isinstance(loader, ReferenceLoader) and name == "reference-sandbox":
        name = "reference --sandbox"
    return f"python runner.py exec {shlex.quote(str(root))} {shlex.quote(main)} --loader {name}"


def keep(case: Case, verdict: Verdict, loader: Loader, directory: Path) -> Path:
    """Write DIR/<case id>/ with the case's modules, rerun.sh and verdict.txt; return it."""
    target = (directory / case.id).resolve()
    if target.exists():
        shutil.rmtree(target)
    write_tree(target, prepare(case).modules)
    (target / "rerun.sh").write_text(
        f"#!/bin/sh\n# {case.id}: {case.title}\n# {case.path}\n"
        f"{rerun_line(loader, target, case.main)}\n", encoding="utf-8")
    (target / "rerun.sh").chmod(0o755)
    (target / "verdict.txt").write_text(
        "\n".join([f"{verdict.outcome.value}: {verdict.message}",
                   f"clauses: {', '.join(case.clauses)}",
                   f"blames: {', '.join(verdict.blame) or 'no clause'}", *verdict.details]) + "\n",
        encoding="utf-8")
    return target
