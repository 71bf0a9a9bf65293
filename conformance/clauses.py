"""The clause catalogue: every normative statement of Modules/1.0, 1.1 and 1.1.1."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Mapping

import yaml

LEVELS = ("MUST", "SHOULD", "MAY", "DEFINITION")
BINDS = ("loader", "author", "suite")


@dataclass(frozen=True)
class Clause:
    """One normative statement, with the wording's level in each spec version that has it."""

    id: str
    ref: Mapping[str, str]
    level: Mapping[str, str]
    binds: str
    testable: bool
    text: str

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(self.level)

    def level_in(self, spec: str) -> str | None:
        """The keyword for this clause in `spec`, or None where that version lacks it."""
        return self.level.get(spec)

    @property
    def loader_testable(self) -> bool:
        return self.binds == "loader" and self.testable


@functools.cache
def catalogue() -> Mapping[str, Clause]:
    """All clauses by id, in catalogue order."""
    text = resources.files("conformance").joinpath("data/clauses.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)
    clauses = {}
    for entry in entries:
        clause = Clause(**entry)
        if clause.id in clauses:
            raise ValueError(f"clauses.yaml: clause {clause.id!r} is listed twice")
        clauses[clause.id] = clause
    return clauses
