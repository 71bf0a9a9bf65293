"""The clause catalogue: every normative statement of Modules/1.0, 1.1 and 1.1.1."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Mapping

from conformance import SPEC_VERSIONS
from conformance.yamlfile import read_document

LEVELS = ("MUST", "SHOULD", "MAY", "DEFINITION")
BINDS = ("loader", "author", "suite")
#: text: the statement is the spec's wording; reading: the project's reading of open wording.
BASES = ("text", "reading")
#: The catalogue file is read up to this size.
MAX_BYTES = 1 << 20
#: The public copy of each spec version: its page on the CommonJS wiki (no longer edited; the
#: text has no stated licence, so the package quotes single sentences and links the rest).
SPEC_PAGES = {version: f"http://wiki.commonjs.org/wiki/Modules/{version}"
              for version in SPEC_VERSIONS}
#: The Internet Archive's copy of a page, the capture nearest to 2014 (the wiki went quiet in
#: November 2014); the section anchors work there too.
ARCHIVE = "https://web.archive.org/web/2014/{page}"
#: The section a clause's ref names: the words before its number, ';' or '(' ("Require 1.5.2",
#: "Module Context 1.5 (Modules/Meta 2.1)", "Preamble").
_SECTION = re.compile(r"[A-Za-z][A-Za-z ]*?(?=\s*(?:\d|;|\(|,|$))")
#: Sections with no heading of their own on the page: the text above the first heading.
_UNHEADED = ("Preamble",)


def archived(url: str) -> str:
    """The Internet Archive's copy of a wiki URL (the anchor kept)."""
    return ARCHIVE.format(page=url)


def section_link(spec: str, ref: str) -> str:
    """The URL of the section `ref` names on the wiki page of `spec`: the heading's anchor as
    MediaWiki makes it (spaces become '_': #Module_Context), or the page for the preamble."""
    match = _SECTION.match(ref.strip())
    section = match.group() if match else ""
    page = SPEC_PAGES[spec]
    if not section or section in _UNHEADED:
        return page
    return f"{page}#{section.replace(' ', '_')}"


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

    @property
    def newest(self) -> str:
        """The newest spec version that has this clause."""
        return max(self.level, key=SPEC_VERSIONS.index)

    def link(self, spec: str | None = None) -> str:
        """The URL of the clause's section on the wiki page of `spec` (a version that has the
        clause; default: the newest that does)."""
        spec = spec if spec in self.ref else self.newest
        return section_link(spec, self.ref[spec])


@functools.cache
def catalogue() -> Mapping[str, Clause]:
    """All clauses by id, in catalogue order."""
    with resources.as_file(resources.files("conformance") / "data" / "clauses.yaml") as path:
        entries = read_document(path, MAX_BYTES).data
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
