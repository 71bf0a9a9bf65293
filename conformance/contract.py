"""The one contract between the runner and every loader: a Program in, an Execution out."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

#: Seconds a loader may take for one program (CPU seconds on the reference loader), unless the
#: loader declares or the user gives another.
DEFAULT_TIMEOUT = 10.0

#: Optional features a loader may lack; cases name the ones they need.
FEATURES = ("require.main", "require.paths", "module.uri")


@dataclass(frozen=True)
class Program:
    """A prepared case as a loader sees it: module sources (harness included) and the main id;
    or, for a case of the node profile, its files and the main file's path.

    It carries nothing about what must happen: the runner alone judges the result.
    """

    name: str
    modules: Mapping[str, str]
    main: str
    timeout: float
    #: A node profile case's files, path under the root -> text, the harness helper included
    #: (conformanceHarness.js beside the main file); `modules` is then empty and `main` is the
    #: main file's path. Empty for a Modules/1.1.1 case.
    files: Mapping[str, str] = field(default_factory=dict)


class Ending(enum.Enum):
    """How the loader's run of a program ended."""

    EXITED = "exited"  # the loader finished on its own and reported an exit status
    TIMED_OUT = "timed-out"  # the time limit ran out and the run was stopped
    CRASHED = "crashed"  # the loader died (a signal, or an internal error of the adapter)
    UNAVAILABLE = "unavailable"  # the loader could not be started at all


@dataclass(frozen=True)
class Execution:
    """What came back from running a Program: printed output and how the run ended."""

    stdout: str
    stderr: str = ""
    ending: Ending = Ending.EXITED
    exit_code: int | None = 0
    seconds: float = 0.0
    #: A diagnostic from the adapter itself (command line, signal, reason it could not start).
    diagnostic: str = ""
    #: Output beyond the adapter's limit was dropped.
    truncated: bool = False
    #: The loader closed its stdout while it went on running.
    stdout_closed: bool = False
    #: State the loader was seen to carry from an earlier program into this one (a global, a
    #: changed prototype, a cached module), in one line; "" when none was seen.
    leak: str = ""


@dataclass(frozen=True)
class Declaration:
    """What a loader says of itself, where a running program cannot find it out."""

    sandbox: bool = False
    #: Features the loader declares, True (has) or False (lacks); the rest are detected.
    features: Mapping[str, bool] = field(default_factory=dict)
    #: The spec version it claims, if any: the run's default target.
    spec: str | None = None
    #: Seconds a case may take on it, if it needs other than the runner's default.
    timeout: float | None = None
    #: How its runs are confined (conformance.confine: "environment" or "bwrap"); "" when
    #: they are not.
    confinement: str = ""
    #: The profiles beyond Modules/1.1.1 it runs (docs/node-profile.md): "node".
    profiles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Capabilities:
    """How the runner may drive a loader: declared by the loader, never probed."""

    #: run() waits on another process (a command, a host, a QuickJS worker) and ends it at the
    #: time limit itself: -j N runs it in N threads. Otherwise run() computes in this process,
    #: and the runner watches the time from a thread of its own.
    waits_on_process: bool = False
    #: An in-process loader that can be copied into forked worker processes (it pickles): -j N
    #: runs it in N of them. Otherwise in N threads.
    forks: bool = False
    #: It offers run_all(programs) -> Iterator[Execution]: run() of each program in turn, the
    #: Executions in the same order, taking the next program from the iterable before handing
    #: back the last Execution if it likes. A sequential run (-j 1) goes through it, and
    #: close()s the iterator when it stops early.
    pipelines: bool = False
    #: It offers run_tree(root: Path, main: str, timeout: float) -> Execution: a module tree on
    #: disk run where it is (`exec`). Otherwise the tree is read and run as a Program.
    runs_trees: bool = False
    #: The words of a shell command that reruns a kept module tree, with {root} and {main};
    #: each word is quoted once they are filled in. Empty: `runner.py exec` with the loader's
    #: name.
    rerun: tuple[str, ...] = ()


#: What a loader that declares nothing may be driven as.
UNDECLARED = Capabilities()


def capabilities(loader: "Loader") -> Capabilities:
    """What `loader` declares it offers; a Python loader of the user's that declares nothing
    offers the least (run() alone, watched from a thread)."""
    return getattr(loader, "capabilities", UNDECLARED)


@runtime_checkable
class Loader(Protocol):
    """Anything that can run a Program: in-process Python code or an external command. What
    else it offers the runner it declares in `capabilities` (a Capabilities; a loader that has
    none offers run() alone)."""

    name: str
    declaration: Declaration

    def run(self, program: Program) -> Execution: ...
