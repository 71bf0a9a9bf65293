"""Keeping what failed: the module tree and the exact command of a case, to rerun by hand."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from conformance import DEFAULT_SPEC
from conformance.contract import Loader, capabilities
from conformance.case import Case
from conformance.clauses import is_profile
from conformance.command import main_file, substitute, write_files, write_tree
from conformance.outcomes import Verdict
from conformance.registry import options_of
from conformance.results import Results
from conformance.run import prepare
from conformance.text import counted, one_line

#: Lines of cases that could not be kept shown at the end of a run; the rest are counted.
SHOWN_NOT_KEPT = 10
#: The file that marks a directory --keep-failed made; only a directory holding it is ever
#: replaced, so that a case id such as `src` or `.git` never removes what the user owns.
MARKER = ".commonjs-conformance-kept"


class KeepError(Exception):
    """A case that cannot be kept; str() is one line saying why (nothing was removed)."""


@dataclass(frozen=True)
class Rerun:
    """How rerun.sh runs a kept case again, judged: from the directory the suite ran in, on
    the case file under `cases`, held to `spec`, on the loader the `options` choose."""

    where: str
    cases: str
    spec: str
    options: tuple[str, ...]


def rerun_of(loader: Loader, case: Case, spec: str = DEFAULT_SPEC,
             cases: Path | None = None) -> Rerun:
    """The Rerun of a case run now, here: `cases` is the case directory (default: the one the
    case file's id places it in)."""
    if cases is None:
        cases = Path(os.path.abspath(case.path)).parents[case.id.count("/")]
    return Rerun(os.getcwd(), os.path.abspath(cases), spec, options_of(loader))


def rerun_line(loader: Loader, root: Path, main: str) -> str:
    """A shell line that runs the kept tree by hand, unjudged, on the same loader, as it
    declares (Capabilities.rerun); every word is quoted."""
    values = {"root": str(root), "main": main, "main_file": str(main_file(root, main))}
    declared = capabilities(loader).rerun
    if declared:
        return shlex.join(substitute(word, values) for word in declared)
    return shlex.join(("commonjs-conformance", "exec", str(root), main) + options_of(loader))


def judged_line(case: Case, rerun: Rerun) -> str:
    """The shell line that runs `case` again on the loader and judges it (`exec CASE-ID`),
    through this Python and this copy of the suite, whatever the directory holds."""
    package = str(Path(__file__).resolve().parent.parent)
    literal = repr(package)
    if literal == f"'{package}'" and '"' not in package:
        literal = f'"{package}"'  # so that the shell quotes it without '"'"'
    code = (f"import sys; sys.path[:0] = [{literal}]; from conformance.cli import main; "
            "sys.exit(main())")
    held = () if "--profile" in rerun.options else \
        ("--profile", rerun.spec) if is_profile(rerun.spec) else ("--spec", rerun.spec)
    return shlex.join((sys.executable, "-c", code, "exec", case.id, "--cases", rerun.cases)
                      + held + rerun.options)


def rerun_script(case: Case, loader: Loader, target: Path, rerun: Rerun | None = None) -> str:
    """rerun.sh: comments of one line each (line breaks and control characters of the case
    file escaped, so none of it can become a command), then a change to the directory the
    suite ran in and the judged run of the case there; every word is quoted."""
    rerun = rerun or rerun_of(loader, case)
    return (f"#!/bin/sh\n# {one_line(case.id)}: {one_line(case.title)}\n"
            f"# {one_line(str(case.path))}\n"
            "# Runs the case again on the same loader and judges it: exit 0 when it passes, "
            "1 when it still fails.\n"
            f"# The tree beside this file, by hand: {one_line(rerun_line(loader, target, case.main))}\n"
            f"cd {shlex.quote(rerun.where)} || exit 4\n"
            f"exec {judged_line(case, rerun)}\n")


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


def keep(case: Case, verdict: Verdict, loader: Loader, directory: Path,
         rerun: Rerun | None = None) -> Path:
    """Write DIR/<case id>/ with the case's modules, rerun.sh, verdict.txt and the marker, and
    return it. The tree is built in a hidden directory beside it and renamed into place, so an
    interruption leaves either the old tree or the new one; a directory the suite did not make
    is never replaced. Raises KeepError (one line) when the case cannot be kept."""
    target = _target(case, directory)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp",
                                     dir=target.parent))
    old = None
    try:
        program = prepare(case)
        if program.files:
            write_files(building, program.files)
        else:
            write_tree(building, program.modules)
        (building / "rerun.sh").write_text(rerun_script(case, loader, target, rerun), encoding="utf-8")
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


def kept_trees(directory: Path) -> Iterator[str]:
    """The case ids of the trees under `directory` that --keep-failed made (they hold MARKER),
    in no set order. Links are not followed, hidden directories (a tree being built or
    replaced) are not entered, and neither is a kept tree."""
    base = Path(directory)
    for folder, subfolders, _ in os.walk(base):
        if folder != str(base) and os.path.isfile(os.path.join(folder, MARKER)):
            subfolders[:] = []
            yield Path(folder).relative_to(base).as_posix()
            continue
        subfolders[:] = [name for name in subfolders if not name.startswith(".")
                         and not os.path.islink(os.path.join(folder, name))]


def remove_stale(directory: Path, spared: set[str]) -> tuple[list[str], list[str]]:
    """Remove the trees an earlier run kept under `directory` whose case ids are not in
    `spared`, then the folders above them left empty (up to `directory`, not it). Only a
    directory holding MARKER is removed; a tree is renamed aside before it is removed, so an
    interruption never leaves half of one under its case id. Returns the ids removed and a
    line for each tree that could not be."""
    base = Path(directory).resolve()
    removed, problems = [], []
    for case_id in sorted(set(kept_trees(base)) - spared):
        tree = base.joinpath(*case_id.split("/"))
        try:
            aside = Path(tempfile.mkdtemp(prefix=f".{tree.name}.", suffix=".old", dir=tree.parent))
            os.replace(tree, aside / "tree")
        except OSError as exc:
            problems.append(f"{one_line(case_id)}: the tree an earlier run kept was not removed: "
                            f"{one_line(exc.strerror or str(exc))}")
            continue
        shutil.rmtree(aside, ignore_errors=True)
        removed.append(case_id)
        folder = tree.parent
        while folder != base and base in folder.parents:
            try:
                folder.rmdir()  # only when empty: a folder holding anything else stays
            except OSError:
                break
            folder = folder.parent
    return removed, problems


class KeepReporter:
    """--keep-failed as a reporter: each case that did not pass is kept as its verdict comes;
    at the finish, the trees an earlier run kept that are not failures of this run are removed
    (those of the cases an interrupted run did not reach stay), then where they are, and a
    line for each case that could not be kept (the first SHOWN_NOT_KEPT, the rest counted). A
    case that cannot be kept is only such a line: it is no lost output. `cases` are the
    planned cases, in the order their verdicts come."""

    lists_cases = False

    def __init__(self, directory: Path, cases: Sequence[Case], loader: Loader):
        self.directory = directory
        self.cases = cases
        self.loader = loader
        self.not_kept: list[str] = []
        #: The cases of this run that did not pass, kept or not.
        self.failed: set[str] = set()
        self.spec = DEFAULT_SPEC
        self._index = 0

    def start(self, plan: Results) -> None:
        self.spec = plan.spec

    def verdict(self, verdict: Verdict) -> None:
        index, self._index = self._index, self._index + 1
        if verdict.outcome.ok:
            return
        case = self.cases[index]
        self.failed.add(case.id)
        root = getattr(self.cases, "root", None)
        try:
            keep(case, verdict, self.loader, self.directory,
                 rerun_of(self.loader, case, self.spec, root))
        except KeepError as exc:
            self.not_kept.append(str(exc))

    def finish(self, results: Results) -> None:
        ids = getattr(self.cases, "ids", None)
        if ids is None:
            ids = [case.id for case in self.cases]
        unreached = set(ids[self._index:])
        removed, problems = remove_stale(self.directory, self.failed | unreached)
        self.not_kept += problems
        if not results.ok:
            print(f"kept the cases that did not pass under {self.directory}/<case id>/",
                  file=sys.stdout)
        if removed:
            print(f"removed {counted(len(removed), 'case tree')} an earlier run kept under "
                  f"{self.directory} that did not fail in this run", file=sys.stdout)
        for line in self.not_kept[:SHOWN_NOT_KEPT]:
            print(line, file=sys.stderr)
        if len(self.not_kept) > SHOWN_NOT_KEPT:
            print(f"... and {counted(len(self.not_kept) - SHOWN_NOT_KEPT, 'more case', 'more cases')} not kept",
                  file=sys.stderr)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
