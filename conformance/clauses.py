"""The clause catalogues: every normative statement of Modules/1.0, 1.1 and 1.1.1, and,
apart, what Node's documentation states of its CommonJS loader (the node profile)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping

from conformance import PROFILES, SPEC_VERSIONS
from conformance.yamlfile import read_document

#: The levels of the spec's clauses (the spec's keywords).
LEVELS = ("MUST", "SHOULD", "MAY", "DEFINITION")
#: The levels of a profile's clauses: the docs state it without hedging, or mark it deprecated.
PROFILE_LEVELS = ("STATES", "DEPRECATED")
#: The levels whose breach is a warning, not a failure (a reading's breach is advisory at most,
#: whatever its level): the one place a level decides an outcome.
WARNING_LEVELS = frozenset({"SHOULD", "DEPRECATED"})
#: Each catalogue's file under conformance/data: the spec's (key None) and each profile's. A
#: profile's catalogue that is not there yet is empty.
CATALOGUE_FILES: dict[str | None, str] = {None: "clauses.yaml", "node": "node-clauses.yaml"}
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


#: The page a node clause's ref names a section of, at the commit of Node's repository the
#: catalogue's header records ({commit}; "main" where it records none).
NODE_PAGE = "https://github.com/nodejs/node/blob/{commit}/doc/api/modules.md"
_COMMIT = re.compile(r"\bcommit ([0-9a-f]{40})\b")
#: A heading as GitHub's anchors spell it: lower case, spaces as '-', other punctuation gone.
_NOT_IN_ANCHOR = re.compile(r"[^a-z0-9 _-]")


def is_profile(spec: str | None) -> bool:
    """Whether a run's `spec` is a profile (node) rather than a version of Modules."""
    return spec in PROFILES


def spec_name(spec: str) -> str:
    """What a run under `spec` holds a loader to, as messages and suite names say it:
    Modules/1.1.1, or the node profile ('node profile')."""
    return f"{spec} profile" if is_profile(spec) else f"Modules/{spec}"


def archived(url: str) -> str:
    """The Internet Archive's copy of a wiki URL (the anchor kept)."""
    return ARCHIVE.format(page=url)


def section_link(spec: str, ref: str) -> str:
    """The URL of the section `ref` names on the wiki page of `spec`: the heading's anchor as
    MediaWiki makes it (spaces become '_': #Module_Context), or the page for the preamble."""
    match = _SECTION.match(ref.strip())
    section = match.group() if match else ""
    if is_profile(spec):
        return _profile_link(spec, ref)
    page = SPEC_PAGES[spec]
    if not section or section in _UNHEADED:
        return page
    return f"{page}#{section.replace(' ', '_')}"


def _profile_link(profile: str, ref: str) -> str:
    """The URL of the first heading a node clause's ref names ("The module object:
    module.loaded; ..." -> #moduleloaded; "All together: LOAD_AS_FILE 2" -> #all-together), on
    modules.md at the commit the catalogue records."""
    first = ref.split(";")[0]
    before, colon, after = first.partition(":")
    heading = before if not colon or before.strip() == "All together" else after
    heading = re.split(r"[,(]", heading)[0].replace("`", "").strip().lower()
    page = NODE_PAGE.format(commit=source_commit(profile) or "main")
    if not heading or "(introduction)" in first:
        return page
    return f"{page}#{_NOT_IN_ANCHOR.sub('', heading).replace(' ', '-')}"


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

    def warns_in(self, spec: str) -> bool:
        """Whether a breach of this clause under `spec` is a warning rather than a failure."""
        return self.level_in(spec) in WARNING_LEVELS

    @property
    def newest(self) -> str:
        """The newest spec version that has this clause (a profile's clause: the profile)."""
        return max(self.level, key=(SPEC_VERSIONS + PROFILES).index)

    def link(self, spec: str | None = None) -> str:
        """The URL of the clause's section on the wiki page of `spec` (a version that has the
        clause; default: the newest that does)."""
        spec = spec if spec in self.ref else self.newest
        return section_link(spec, self.ref[spec])


def catalogue(spec: str | None = None) -> Mapping[str, Clause]:
    """The clauses a run under `spec` is judged by, by id, in catalogue order: a profile's
    (`catalogue("node")`), else the spec's (every version's: `catalogue()`)."""
    return _catalogue(spec if is_profile(spec) else None)


def _file(which: str | None) -> Path:
    """The catalogue file of `which` (None: the spec's): CATALOGUE_FILES under
    conformance/data, or an absolute path there (the tests' own catalogue)."""
    name = CATALOGUE_FILES[which]
    if Path(name).is_absolute():
        return Path(name)
    return Path(str(resources.files("conformance") / "data" / name))


@functools.cache
def source_commit(profile: str) -> str | None:
    """The commit of the documentation a profile's catalogue was written from, as its header
    comment records it ("... at commit <40 hex digits> ..."), or None."""
    path = _file(profile)
    try:
        with open(path, encoding="utf-8") as text:
            header = "".join(line for line, _ in zip(text, range(40)) if line.startswith("#"))
    except OSError:
        return None
    match = _COMMIT.search(header)
    return match.group(1) if match else None


@functools.cache
def _catalogue(which: str | None) -> Mapping[str, Clause]:
    path = _file(which)
    name = path.name
    if which is not None and not path.exists():
        return {}
    entries = read_document(path, MAX_BYTES).data or []
    versions, levels = ((which,), PROFILE_LEVELS) if which else (SPEC_VERSIONS, LEVELS)
    clauses: dict[str, Clause] = {}
    for entry in entries:
        clause = Clause(**entry)
        if clause.basis not in BASES:
            raise ValueError(f"{name}: clause {clause.id!r} has basis {clause.basis!r}")
        if clause.reading and clause.reads not in clauses:
            raise ValueError(f"{name}: reading {clause.id!r} reads no earlier clause")
        if clause.id in clauses:
            raise ValueError(f"{name}: clause {clause.id!r} is listed twice")
        if not clause.level or not set(clause.level) <= set(versions) \
                or set(clause.ref) != set(clause.level):
            raise ValueError(f"{name}: clause {clause.id!r} has level and ref keyed by "
                             f"{', '.join(versions)} (and only those)")
        wrong = [v for v in clause.level.values() if v not in levels]
        if wrong:
            raise ValueError(f"{name}: clause {clause.id!r} has level {wrong[0]!r}; levels here "
                             f"are {', '.join(levels)}")
        clauses[clause.id] = clause
    return clauses
