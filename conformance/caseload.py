"""Finding and reading case files: safe YAML, schema validation, one-line errors."""

from __future__ import annotations

import functools
import json
import reprlib
from importlib import resources
from pathlib import Path
from typing import Iterable

import jsonschema

from conformance import SPEC_VERSIONS
from conformance.case import DEFAULT_MAIN, Case
from conformance.clauses import catalogue
from conformance.harness import HARNESS_ID
from conformance.text import display_path
from conformance.yamlfile import Document, YamlError, field_name, read_document

SUFFIXES = (".yaml", ".yml")
#: A case file larger than this is refused unread.
MAX_BYTES = 1 << 20
#: Values (scalars, lists, mappings) read from one case file at most: a 10,000-module case
#: holds some 20,000; a mebibyte of one-character items would take many seconds to parse.
MAX_NODES = 50_000


class CaseError(YamlError):
    """A case file that cannot be used; str() is one line: file, line, field, problem."""


def case_id(path: Path, root: Path) -> str:
    """The stable id of a case: its path under the cases root, '/'-separated, no suffix.

    The file itself is not resolved, so a case file that is a symbolic link (even a broken
    one, or one leading out of root) has the id of where it stands.
    """
    relative = (path.parent.resolve() / path.name).relative_to(root.resolve())
    return relative.with_suffix("").as_posix()


def discover(root: Path, keyword: str | None = None) -> list[Path]:
    """Case files under root in id order, optionally only those whose id contains keyword.

    Everything named *.yaml or *.yml counts, also what is not a regular file (a directory, a
    broken symbolic link, a named pipe), so that load refuses it by name instead of the case
    going missing without a word.
    """
    paths = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES)
    if keyword:
        paths = [p for p in paths if keyword in case_id(p, root)]
    return sorted(paths, key=lambda p: case_id(p, root))


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    text = resources.files("conformance").joinpath("schema/case.schema.json").read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxfrozenset = _SHORT.maxdict = 4
_SHORT.maxlevel = 3


def _message(error: jsonschema.ValidationError) -> str:
    """The validator's message, with a long value it quotes at its start shortened."""
    message = error.message
    full = repr(error.instance)
    if len(full) > 60 and message.startswith(full):
        message = _SHORT.repr(error.instance) + message[len(full):]
    return message


def _schema_error(doc: Document) -> CaseError | None:
    errors = list(_validator().iter_errors(doc.data))
    if not errors:
        return None
    error = min(errors, key=lambda e: (doc.line(list(e.absolute_path)), len(e.absolute_path)))
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = sorted((k for k in error.instance if k not in allowed), key=str)
        names = ", ".join(sorted(allowed))
        # The key as data (None for `~:`) finds its line; as text, it names the field.
        return CaseError(doc.path, doc.line(where + extra[:1], key=True),
                         field_name(where + [str(k) for k in extra[:1]]),
                         f"unknown key (allowed: {names})")
    if error.validator == "required":
        return doc.error(where, error.message)
    if "propertyNames" in error.schema_path:
        name = error.instance
        if error.validator == "maxLength":
            return doc.error(where + [name], f"a module id of {len(name)} characters; at most "
                             f"{error.validator_value}", key=True)
        return doc.error(where + [name], f"{_SHORT.repr(name)} is not a top-level module id "
                         "(camelCase terms joined by '/', no '.' or '..')", key=True)
    if error.validator == "maxLength" and where == ["main"]:
        return doc.error(where, f"a module id of {len(error.instance)} characters; at most "
                         f"{error.validator_value}")
    if error.validator == "enum" and isinstance(error.instance, float):
        return doc.error(where, f"{_message(error)}; quote version numbers, as '1.0'")
    return doc.error(where, _message(error))


def load(path: Path, root: Path) -> Case:
    """Read and validate one case file; raises CaseError with file, line and field."""
    identifier = case_id(path, root)
    if not identifier.isprintable():
        raise CaseError(path, None, "", "the case id (the file's path under the case "
                        "directory) must be printable text: it is shown on one line, in "
                        "results and reports")
    doc = read_document(path, MAX_BYTES, CaseError, MAX_NODES)
    if not isinstance(doc.data, dict):
        raise CaseError(path, 1, "", "a case file holds a mapping (title, clauses, modules, ...)")
    problem = _schema_error(doc)
    if problem:
        raise problem
    data = doc.data
    clauses = catalogue()
    for index, clause_id in enumerate(data["clauses"]):
        if clause_id not in clauses:
            raise doc.error(["clauses", index], f"no clause {clause_id!r} in the catalogue")
    modules = data["modules"]
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
    return Case(
        id=identifier,
        path=path,
        title=data["title"],
        clauses=tuple(data["clauses"]),
        modules=dict(modules),
        main=main,
        needs=frozenset(data.get("needs", ())),
        sandbox=data.get("sandbox"),
        versions=tuple(v for v in SPEC_VERSIONS if v in versions),
    )


def load_all(paths: Iterable[Path], root: Path) -> tuple[list[Case], list[CaseError]]:
    """Load every file, collecting all errors rather than stopping at the first.

    Two files giving one case id (`a/x.yaml` and `a/x.yml`), or ids that differ only in case
    (they collide on a case-insensitive file system, where the wheel may be installed), are
    an error of the second file, which names the first.
    """
    cases, errors = [], []
    first: dict[str, tuple[str, Path]] = {}
    for path in paths:
        identifier = case_id(path, root)
        earlier_id, earlier = first.setdefault(identifier.casefold(), (identifier, path))
        if earlier != path:
            how = ("the same case id" if earlier_id == identifier else
                   f"a case id differing only in case from {earlier_id!r}")
            errors.append(CaseError(path, None, "", f"{how} as {display_path(earlier)} "
                                    f"({identifier!r}); rename or remove one of them"))
            continue
        try:
            cases.append(load(path, root))
        except CaseError as exc:
            errors.append(exc)
    return cases, errors


def default_root() -> Path:
    """The suite's own cases: packaged beside the code in a wheel, else the checkout's cases/."""
    here = Path(__file__).resolve().parent
    packaged = here / "cases"
    return packaged if packaged.is_dir() else here.parent / "cases"
