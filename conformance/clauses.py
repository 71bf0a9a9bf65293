"""The clause catalogue: every normative statement of Modules/1.0, 1.1 and 1.1.1."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Mapping

import yaml

LEVELS = ("MUST", "SHOULD", "MAY", "DEFINITION")
BINDS = ("loader", "author", "suite")
#: text: the statement is the spec's wording; reading: the project's reading of open wording.
BASES = ("text", "reading")


@dataclass(frozen=True)
class Clause:
    """One normative statement, with the wording's level in each spec version that has it."""

    id: str
    ref: Mapping[str, str]
    level: Mapping[str, str]
    binds: str
    testable: bool
    text: str
    basis: str = "text"
    #: The spec's sentence, verbatim: what a failure blaming this clause rests on.
    quote: str = ""
    #: For a reading, the clause whose wording it reads.
    reads: str | None = None

    @property
    def reading(self) -> bool:
        """Whether this is the project's reading rather than the spec's text."""
        return self.basis == "reading"

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
        if clause.basis not in BASES:
            raise ValueError(f"clauses.yaml: clause {clause.id!r} has basis {clause.basis!r}")
        if clause.reading and clause.reads not in clauses:
            raise ValueError(f"clauses.yaml: reading {clause.id!r} reads no earlier clause")
        if clause.id in clauses:
            raise ValueError(f"clauses.yaml: clause {clause.id!r} is listed twice")
        clauses[clause.id] = clause
    return clauses
