"""Finding and reading case files: safe YAML, schema validation, one-line errors."""

from __future__ import annotations

import heapq
import os
import unicodedata
from itertools import repeat
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, overload


from conformance import SPEC_VERSIONS, cache, schemas
from conformance.case import DEFAULT_MAIN, Case
from conformance.clauses import PROFILES, catalogue
from conformance.harness import HARNESS_ID
from conformance.select import Selection, selection
from conformance.text import display_path
from conformance.yamlfile import Document, YamlError, read_document

SUFFIXES = (".yaml", ".yml")
#: A case file larger than this is refused unread.
MAX_BYTES = 1 << 20
#: Values (scalars, lists, mappings) read from one case file at most: a 10,000-module case
#: holds some 20,000; a mebibyte of one-character items would take many seconds to parse.
MAX_NODES = 50_000
#: Modules in one case at most: a command loader's run writes each as a file and removes it
#: afterwards, so MAX_NODES alone would let one case hold some 25,000 (the largest real case
#: has 42).
MAX_MODULES = 1_000


class CaseError(YamlError):
    """A case file that cannot be used; str() is one line: file, line, field, problem."""


def case_id(path: Path, root: Path) -> str:
    """The stable id of a case: its path under the cases root, '/'-separated, no suffix.

    The file itself is not resolved, so a case file that is a symbolic link (even a broken
    one, or one leading out of root) has the id of where it stands.
    """
    relative = (path.parent.resolve() / path.name).relative_to(root.resolve())
    return relative.with_suffix("").as_posix()


def find(root: Path, keyword: str | Selection | None = None, profile: str | None = None) -> Suite:
    """The case files under root in id order, optionally only those a selection takes (a str is
    one -k expression, see select.parse); nothing is read yet: ids are chosen here, and a
    selection by cited clauses is applied when check() reads the files.

    The cases of a profile (clauses.PROFILES) live in ROOT/<profile>/ (ids `node/...`): a run
    of the profile takes only those, any other run none of them.

    Everything named *.yaml or *.yml counts, also what is not a regular file (a directory, a
    broken symbolic link, a named pipe), so that reading refuses it by name instead of the case
    going missing without a word; so does a file whose suffix is either in other case
    (x.YAML), which check() refuses, asking for the lower-case name (which gives the same id).
    Linked directories are not entered. (os.walk, not Path.rglob, which holds every path it
    found until it is done.)
    """
    chosen = keyword if isinstance(keyword, Selection) else \
        selection([keyword] if keyword else ())
    resolved_root = root.resolve()
    found: dict[str, list[str]] = {suffix: [] for suffix in SUFFIXES}  # ids, by suffix
    misnamed: list[str] = []
    first = True
    for directory, subdirectories, files in os.walk(os.path.join(root, profile or "")):
        if first and not profile:  # the profiles' cases are theirs alone
            subdirectories[:] = [d for d in subdirectories if d not in PROFILES]
        first = False
        prefix = None  # the directory's part of the ids, worked out at its first case file
        for name in subdirectories + files:
            dot = name.rfind(".")
            if not 0 < dot < len(name) - 1 or name[dot:].lower() not in SUFFIXES:  # Path.suffix
                continue
            if prefix is None:
                relative = Path(directory).resolve().relative_to(resolved_root)
                prefix = "".join(part + "/" for part in relative.parts)
            identifier = prefix + name[:dot]
            if chosen.keywords and not chosen.takes_id(identifier):
                continue
            if name[dot:] in SUFFIXES:
                found[name[dot:]].append(identifier)
            else:
                misnamed.append(os.path.join(directory, name))
    ids: list[str] = []
    yml: set[int] = set()
    # Each list sorted, then merged; under one id, x.yaml comes before x.yml.
    for identifier, suffix in heapq.merge(*(zip(sorted(found[s]), repeat(s)) for s in SUFFIXES)):
        if suffix == ".yml":
            yml.add(len(ids))
        ids.append(identifier)
    suite = Suite(root, ids, frozenset(yml), tuple(sorted(misnamed)))
    if chosen.clauses:
        suite.clauses = chosen.clauses
    return suite


def discover(root: Path, keyword: str | None = None, profile: str | None = None) -> list[Path]:
    """Case files under root in id order (a profile's alone, or none of a profile's: see
    find), optionally only those whose id the -k expression keyword takes, then the files
    named with a suffix in other case (which loading refuses)."""
    suite = find(root, keyword, profile)
    return [Path(suite.path(index)) for index in range(len(suite))] + \
        [Path(path) for path in suite.misnamed]


#: Module source, in characters, of the cases check() keeps for the run (see Suite): a few
#: thousand cases, the same for a suite of a thousand cases as of a million.
KEEP_CHARACTERS = 500_000


class Suite(Sequence[Case]):
    """Case files in id order, each read when it is asked for: a Suite holds their ids, not
    every Case, so a run's memory does not grow with its cases but by an id each.

    A case file is ROOT/ID.yaml or ROOT/ID.yml: its id is its path under the root, less the
    suffix (see case_id). check() reads every file once and says what is wrong with each. It
    keeps the first cases it read, up to KEEP_CHARACTERS of module source: those run as
    check() read them, not read twice. A case it did not keep is read again when asked for,
    and then only fails if its file changed in between.
    """

    #: Clause ids (--clause, set by find): check() and load() drop the cases that cite none
    #: of them. Empty: every case.
    clauses: frozenset[str] = frozenset()

    def __init__(self, root: Path, ids: list[str], yml: frozenset[int] = frozenset(),
                 misnamed: tuple[str, ...] = (), paths: Sequence[str] | None = None):
        self.root = root
        #: The case ids, in order.
        self.ids = ids
        #: The indexes of the cases whose file is named .yml (the others: .yaml).
        self._yml = yml
        #: Files named like cases but for the case of their suffix (x.YAML): not cases, each an
        #: error of check().
        self.misnamed = misnamed
        #: Each case's file, where the suite was made of given files (see of).
        self._paths = paths
        #: Index -> the digest of the bytes check() found valid: the same bytes read again
        #: when the case runs are not validated twice (16 bytes a case).
        self._valid: dict[int, bytes] = {}
        #: Index -> the Case check() read and kept (see KEEP_CHARACTERS).
        self._kept: dict[int, Case] = {}

    @classmethod
    def of(cls, paths: Iterable[Path], root: Path) -> Suite:
        """The suite of the given case files, in the order given."""
        chosen = [os.fspath(p) for p in paths]
        return cls(root, [case_id(Path(p), root) for p in chosen], paths=chosen)

    def path(self, index: int) -> str:
        """The file of the case at index (a str: see Case.path)."""
        index = range(len(self.ids))[index]
        if self._paths is not None:
            return self._paths[index]
        suffix = ".yml" if index in self._yml else ".yaml"
        return os.path.join(self.root, self.ids[index] + suffix)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Case: ...

    @overload
    def __getitem__(self, index: slice) -> Suite: ...

    def __getitem__(self, index: int | slice) -> Case | Suite:
        """The case at index, read now (CaseError if its file is malformed); a slice is a
        Suite of those files (so batches handed to worker processes carry only ids)."""
        if isinstance(index, slice):
            chosen = range(len(self.ids))[index]
            part = Suite(self.root, self.ids[index],
                         frozenset(n for n, i in enumerate(chosen) if i in self._yml),
                         paths=None if self._paths is None else self._paths[index])
            part._valid = {n: self._valid[i] for n, i in enumerate(chosen) if i in self._valid}
            part._kept = {n: self._kept[i] for n, i in enumerate(chosen) if i in self._kept}
            return part
        index = range(len(self.ids))[index]
        kept = self._kept.get(index)
        if kept is not None:
            return kept
        return _read(self.path(index), self.ids[index], self._valid.get(index))

    def __iter__(self) -> Iterator[Case]:
        return _Reading(self)

    def check(self) -> list[CaseError]:
        """Read every case file, keeping the first cases (see KEEP_CHARACTERS): every problem,
        each a one-line CaseError, in id order (see _duplicate for two files giving one id),
        then one for each file named with a suffix in other case."""
        errors: list[CaseError] = []
        room = KEEP_CHARACTERS
        dropped: set[int] = set()
        for index, read in self._each():
            if isinstance(read, CaseError):
                errors.append(read)
            elif not self._cites(read):
                dropped.add(index)
            elif room > 0:
                room -= sum(map(len, read.modules.values())) + sum(map(len, read.files.values()))
                self._kept[index] = read
        if dropped:
            self._drop(dropped)
        return errors

    def _cites(self, case: Case) -> bool:
        """Whether the case cites one of the clauses asked for (or none was asked for)."""
        return not self.clauses or not self.clauses.isdisjoint(case.clauses)

    def _drop(self, dropped: set[int]) -> None:
        """Leave out the cases at these indexes (they cite none of the clauses asked for)."""
        kept = [i for i in range(len(self.ids)) if i not in dropped]
        new = {old: n for n, old in enumerate(kept)}
        self.ids = [self.ids[i] for i in kept]
        self._yml = frozenset(new[i] for i in self._yml if i in new)
        if self._paths is not None:
            self._paths = [self._paths[i] for i in kept]
        self._valid = {new[i]: d for i, d in self._valid.items() if i in new}
        self._kept = {new[i]: c for i, c in self._kept.items() if i in new}

    def load(self) -> tuple[list[Case], list[CaseError]]:
        """Read every case file: the cases (those citing a clause asked for, see clauses),
        and every problem as check() gives it."""
        cases: list[Case] = []
        errors: list[CaseError] = []
        for _, read in self._each():
            if isinstance(read, CaseError):
                errors.append(read)
            elif self._cites(read):
                cases.append(read)
        return cases, errors

    def _each(self) -> Iterator[tuple[int | None, Case | CaseError]]:
        """Each case file read, in id order, with its index: its Case, or what is wrong with
        it; of two files giving one id, the second is an error (see _duplicate); then the
        misnamed files (index None)."""
        first: dict[str, int] = {}
        for index, identifier in enumerate(self.ids):
            folded = _folded(identifier)
            if folded == identifier:  # most ids: keep one string, not an equal second one
                folded = identifier
            earlier = first.setdefault(folded, index)
            if earlier != index:
                yield index, _duplicate(self.path(index), identifier, self.path(earlier),
                                        self.ids[earlier])
                continue
            try:
                case, self._valid[index] = _parse(self.path(index), identifier)
            except CaseError as exc:
                yield index, exc
            else:
                yield index, case
        yield from ((None, _misnamed(path)) for path in self.misnamed)


class _Reading(Iterator[Case]):
    """A Suite's cases one by one. It does not move past a case it could not read: asked
    again, it raises again (a generator would end instead, and the cases after the one that
    broke would go missing without a word)."""

    def __init__(self, suite: Suite):
        self.suite = suite
        self.index = 0

    def __next__(self) -> Case:
        if self.index >= len(self.suite):
            raise StopIteration
        case = self.suite[self.index]
        self.index += 1
        return case


def _folded(identifier: str) -> str:
    """What two case ids that cannot both be cases share: their text with case and Unicode
    normalization set aside. Ids that differ only in case collide on a case-insensitive file
    system (where the wheel may be installed); ids that differ only in normalization ('caf\\xe9'
    and 'cafe\\u0301') are shown alike, and collide where the file system normalizes."""
    if identifier.isascii():
        return identifier.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", identifier).casefold())


def _duplicate(path: Path | str, identifier: str, earlier: Path | str,
               earlier_id: str) -> CaseError:
    """Two files giving one case id (`a/x.yaml` and `a/x.yml`), or ids that differ only in
    case or in Unicode normalization (see _folded): an error of the second file, which names
    the first."""
    if earlier_id == identifier:
        how = "the same case id"
    elif unicodedata.normalize("NFC", earlier_id) == unicodedata.normalize("NFC", identifier):
        # The two look alike: name their characters.
        return CaseError(path, None, "", f"its case id {ascii(identifier)} differs only in "
                         f"Unicode normalization from {ascii(earlier_id)}, the id of "
                         f"{display_path(earlier)}, and is shown alike; rename or remove one of "
                         "them")
    else:
        how = f"a case id differing only in case from {earlier_id!r}"
    return CaseError(path, None, "", f"{how} as {display_path(earlier)} ({identifier!r}); "
                     "rename or remove one of them")


def _misnamed(path: str) -> CaseError:
    """A file named like a case but for the case of its suffix (x.YAML): refused, not skipped
    without a word; renamed, it keeps its id."""
    dot = path.rfind(".")
    return CaseError(path, None, "", f"a case file is named *.yaml or *.yml in lower case; "
                     f"rename it to {os.path.basename(path[:dot])}{path[dot:].lower()} (the "
                     "case id stays the same)")


def _schema_error(doc: Document) -> CaseError | None:
    """The first schema error of a case file, with module ids' and file paths' own messages."""
    return schemas.first_error(doc, "case", _module_id_error)


#: What a file path of a profile case is, in the words of its errors.
FILE_PATH = ("a path of segments joined by '/' (letters, digits and _$@+-., not starting "
             "with '.'; at most 16 segments of 64 characters)")


def _shape_error(doc: Document, error: Any) -> CaseError:
    """The case's shape (the schema's `oneOf`) in words: modules for a Modules/1.1.1 case,
    files for a case of the node profile; or the first problem of the shape it has."""
    data = error.instance
    if "files" in data and "modules" in data:
        return doc.error(["files"], "a case holds modules (Modules/1.1.1) or files (the node "
                         "profile), not both", key=True)
    if "files" not in data and "modules" not in data:
        return doc.error([], "'modules' is a required property (or 'files', in a case of the "
                         "node profile)")
    branch = int("files" in data)
    if branch:
        barred = [key for key, rule in error.schema["oneOf"][1]["properties"].items()
                  if rule is False and key in data]
        if barred:
            return doc.error([barred[0]], f"a case of the node profile has no {barred[0]!r} "
                             "(it holds files, and main names one of them)", key=True)
    for sub in error.context:
        if sub.relative_schema_path[0] == branch and list(sub.absolute_path) == ["main"]:
            if branch:
                return doc.error(["main"], f"the main file is {FILE_PATH}, ending in .js")
            return _module_id_error(doc, sub) or doc.error(["main"], schemas._message(sub))
    return doc.error([], schemas._message(error))


def _module_id_error(doc: Document, error: Any) -> CaseError | None:
    where = list(error.absolute_path)
    if error.validator == "oneOf" and not where:
        return _shape_error(doc, error)
    if "propertyNames" in error.schema_path and where[:1] == ["files"]:
        name = error.instance
        if error.validator == "maxLength":
            return doc.error(where + [name], f"a file path of {len(name)} characters; at most "
                             f"{error.validator_value}", key=True)
        return doc.error(where + [name], f"{schemas.short(name)} is not {FILE_PATH}", key=True)
    if "propertyNames" in error.schema_path:
        name = error.instance
        if error.validator == "maxLength":
            return doc.error(where + [name], f"a module id of {len(name)} characters; at most "
                             f"{error.validator_value}", key=True)
        return doc.error(where + [name], f"{schemas.short(name)} is not a top-level module id "
                         "(camelCase terms joined by '/', no '.' or '..')", key=True)
    if error.validator == "maxLength" and where == ["main"]:
        return doc.error(where, f"a module id of {len(error.instance)} characters; at most "
                         f"{error.validator_value}")
    return None


def load(path: Path, root: Path) -> Case:
    """Read and validate one case file; raises CaseError with file, line and field."""
    return _read(os.fspath(path), case_id(path, root))


def _read(path: str, identifier: str, valid: bytes | None = None) -> Case:
    """Read and validate the case file at path, whose id is identifier. `valid`: the digest
    of bytes of this file already found valid (their schema check is not repeated)."""
    return _parse(path, identifier, valid)[0]


def _parse(path: str, identifier: str, valid: bytes | None = None) -> tuple[Case, bytes]:
    """_read()'s Case, with the digest of the bytes it was read from."""
    if path[path.rfind("."):] not in SUFFIXES:
        raise _misnamed(path)
    if not identifier.isprintable():
        raise CaseError(path, None, "", "the case id (the file's path under the case "
                        "directory) must be printable text: it is shown on one line, in "
                        "results and reports")
    if any(part.startswith(".") for part in identifier.split("/")):
        raise CaseError(path, None, "", "a case id (the file's path under the case directory) "
                        "has no part that starts with '.': such names are hidden files and "
                        "folders, .git among them, which --keep-failed must never touch")
    # Bytes the cache holds passed the schema before (in this run or an earlier one): they
    # are neither parsed nor validated again; what follows the schema is checked every time.
    store = cache.cases()
    doc = read_document(path, MAX_BYTES, CaseError, MAX_NODES, store)
    if not isinstance(doc.data, dict):
        raise CaseError(path, 1, "", "a case file holds a mapping (title, clauses, modules, ...)")
    if not doc.cached and doc.digest != valid:
        problem = _schema_error(doc)
        if problem:
            raise problem
        store.put(doc.digest, doc.data)
    data = doc.data
    if len(data["title"].splitlines()) > 1 or data["title"] != data["title"].strip("\r\n"):
        raise doc.error(["title"], "a title is one line (it is shown on one line, and written "
                        "into rerun.sh as a comment)")
    profile = profile_of(identifier)
    if profile and "files" not in data:
        raise doc.error([], f"a case under {profile}/ is a case of the {profile} profile: it "
                        "holds files (path -> text), not modules")
    if not profile and "files" in data:
        raise doc.error(["files"], f"only a case under {'/, '.join(PROFILES)}/ holds files (a "
                        "case of that profile); a Modules/1.1.1 case holds modules", key=True)
    clauses = catalogue(profile)
    where = f"the {profile} profile's catalogue" if profile else "the catalogue"
    for index, clause_id in enumerate(data["clauses"]):
        if clause_id not in clauses:
            raise doc.error(["clauses", index], f"no clause {clause_id!r} in {where}")
    for index, clause_id in enumerate(data.get("relies", ())):
        if clause_id not in clauses:
            raise doc.error(["relies", index], f"no clause {clause_id!r} in {where}")
        if clause_id in data["clauses"]:
            raise doc.error(["relies", index], f"{clause_id!r} is cited as tested; a case relies "
                            "only on clauses it does not test")
    if profile:
        return _profile_case(doc, path, identifier, profile), doc.digest
    modules = data["modules"]
    if len(modules) > MAX_MODULES:
        raise doc.error(["modules"], f"{len(modules)} modules; a case holds at most "
                        f"{MAX_MODULES} (each is a file written for every run)", key=True)
    if HARNESS_ID in modules:
        raise doc.error(["modules", HARNESS_ID], "this id is the harness helper's", key=True)
    folded: dict[str, str] = {}
    for module_id in modules:
        other = folded.setdefault(module_id.lower(), module_id)
        if other != module_id:
            raise doc.error(["modules", module_id], f"differs from {other!r} only in case, "
                            "which collides on case-insensitive file systems", key=True)
    main = data.get("main", DEFAULT_MAIN)
    if main not in modules:
        raise doc.error(["main"] if "main" in data else ["modules"],
                        f"the main module {main!r} is not among the modules")
    common = [v for v in SPEC_VERSIONS
              if all(v in clauses[c].versions for c in data["clauses"])]
    versions = data.get("versions", common)
    for index, version in enumerate(versions):
        if version not in common:
            raise doc.error(["versions", index], f"not every clause cited exists in {version}")
    if not versions:
        raise doc.error(["clauses"], "the clauses cited share no spec version")
    case = Case(
        id=identifier,
        path=path,
        title=data["title"],
        clauses=tuple(data["clauses"]),
        relies=tuple(data.get("relies", ())),
        modules=dict(modules),
        main=main,
        needs=frozenset(data.get("needs", ())),
        sandbox=data.get("sandbox"),
        versions=tuple(v for v in SPEC_VERSIONS if v in versions),
        notes=data.get("notes", ""),
    )
    return case, doc.digest


def profile_of(identifier: str) -> str | None:
    """The profile a case belongs to by its id (`node/...`: node), or None (Modules/1.1.1)."""
    first = identifier.split("/", 1)[0]
    return first if first in PROFILES and "/" in identifier else None


#: The name the runner gives the harness helper's file, beside the main file of a profile case.
HARNESS_FILE = HARNESS_ID + ".js"
#: Names Windows reserves (with any extension): a file so named cannot be written there.
_RESERVED = frozenset(["con", "prn", "aux", "nul"] + [f"com{n}" for n in range(1, 10)]
                      + [f"lpt{n}" for n in range(1, 10)])


def _profile_case(doc: Document, path: str, identifier: str, profile: str) -> Case:
    """The Case of a profile's case file (schema-valid, clauses checked): its files checked
    for what the schema cannot say (paths alike but for case, a path that is both a file and a
    directory, reserved names, the main file among them)."""
    data = doc.data
    files = data["files"]
    if len(files) > MAX_MODULES:
        raise doc.error(["files"], f"{len(files)} files; a case holds at most {MAX_MODULES} "
                        "(each is a file written for every run)", key=True)
    folded: dict[str, str] = {}
    directories: dict[str, str] = {}  # every directory a path names, folded -> the path
    for file_path in files:
        segments = file_path.split("/")
        if segments[-1] == HARNESS_FILE:
            raise doc.error(["files", file_path], f"{HARNESS_FILE} is the name of the harness "
                            "helper the runner writes beside the main file", key=True)
        for segment in segments:
            if segment.endswith(".") or segment.split(".")[0].lower() in _RESERVED:
                raise doc.error(["files", file_path], f"the name {segment!r} cannot be written "
                                "on every file system (it ends in '.', or Windows reserves it)",
                                key=True)
        other = folded.setdefault(file_path.lower(), file_path)
        if other != file_path:
            raise doc.error(["files", file_path], f"differs from {other!r} only in case, which "
                            "collides on case-insensitive file systems", key=True)
        for depth in range(1, len(segments)):
            directories.setdefault("/".join(segments[:depth]).lower(), file_path)
    for file_path in files:
        inside = directories.get(file_path.lower())
        if inside is not None:
            raise doc.error(["files", file_path], f"is a file, and a directory of {inside!r}",
                            key=True)
    main = data.get("main", DEFAULT_MAIN + ".js")
    if main not in files:
        raise doc.error(["main"] if "main" in data else ["files"],
                        f"the main file {main!r} is not among the files")
    return Case(
        id=identifier,
        path=path,
        title=data["title"],
        clauses=tuple(data["clauses"]),
        relies=tuple(data.get("relies", ())),
        modules={},
        main=main,
        needs=frozenset(),
        sandbox=None,
        versions=(profile,),
        notes=data.get("notes", ""),
        files=dict(files),
    )


def load_all(paths: Iterable[Path], root: Path) -> tuple[list[Case], list[CaseError]]:
    """Read the given case files (see Suite.load), collecting every error rather than
    stopping at the first."""
    return Suite.of(paths, root).load()


def default_root() -> Path:
    """The suite's own cases: packaged beside the code in a wheel, else the checkout's cases/."""
    here = Path(__file__).resolve().parent
    packaged = here / "cases"
    return packaged if packaged.is_dir() else here.parent / "cases"
