"""The Case value: one YAML case file, validated and ready to run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_MAIN = "program"


@dataclass(frozen=True)
class Case:
    """A module tree, its main module, the clauses it checks and what it needs to apply."""

    id: str
    path: Path
    title: str
    clauses: tuple[str, ...]
    modules: Mapping[str, str]
    main: str
    needs: frozenset[str]
    #: True: sandboxes only; False: non-sandboxes only; None: both.
    sandbox: bool | None
    versions: tuple[str, ...]

    @property
    def area(self) -> str:
        """The folder the case lives in under cases/: require, cycles, sandbox, ..."""
        return self.id.split("/", 1)[0]
