"""The Case value: one YAML case file, validated and ready to run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from conformance import PROFILES

DEFAULT_MAIN = "program"


def area_of(case_id: str) -> str:
    """The folder a case lives in under the cases directory (require, cycles, sandbox, ...),
    or under its profile's folder (node/exports/x: exports)."""
    parts = case_id.split("/", 2)
    return parts[1] if parts[0] in PROFILES and len(parts) > 2 else parts[0]


@dataclass(frozen=True)
class Case:
    """A module tree, its main module, the clauses it checks and what it needs to apply."""

    id: str
    #: The case file, as os functions take it. Not a Path: pathlib interns every part of every
    #: path it builds, for good, so a run that made one per case would grow with the suite.
    path: str
    title: str
    clauses: tuple[str, ...]
    modules: Mapping[str, str]
    main: str
    needs: frozenset[str]
    #: True: sandboxes only; False: non-sandboxes only; None: both.
    sandbox: bool | None
    versions: tuple[str, ...]
    #: Clauses the case relies on without testing them (its preconditions).
    relies: tuple[str, ...] = ()
    #: What the case file's `notes:` say of it (why it is written so), shown with a failure.
    notes: str = ""
    #: A node profile case's files, path under the case root -> exact text; `modules` is then
    #: empty, `main` the main file's path and `versions` ("node",). Empty for a spec case.
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def area(self) -> str:
        """The folder the case lives in under cases/: require, cycles, sandbox, ..."""
        return area_of(self.id)
