"""Finding and reading case files: safe YAML, schema validation, one-line errors."""

from __future__ import annotations

import functools
import json
import os
from collections import deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import jsonschema
import yaml

from conformance import SPEC_VERSIONS
from conformance.case import DEFAULT_MAIN, Case
from conformance.clauses import catalogue
from conformance.harness import HARNESS_ID

SUFFIXES = (".yaml", ".yml")
#: A case file larger than this is refused unread.
MAX_BYTES = 1 << 20


class CaseError(Exception):
    """A case file that cannot be used; str() is one line: file, line, field, problem."""

    def __init__(self, path: Path | str, line: int | None, field: str, problem: str):
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = _display(self.path) + (f":{self.line}" if self.line else "")
        field = f" {self.field}:" if self.field else ""
        return _one_line(f"{where}:{field} {self.problem}")


def _one_line(text: str) -> str:
    """Escape control characters so that a message stays on one line, whatever a key holds."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def case_id(path: Path, root: Path) -> str:
    """The stable id of a case: its path under the cases root, '/'-separated, no suffix."""
    relative = path.resolve().relative_to(root.resolve())
    return relative.with_suffix("").as_posix()


def discover(root: Path, keyword: str | None = None) -> list[Path]:
    """Case files under root in id order, optionally only those whose id contains keyword."""
    paths = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())
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


def _field(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Document:
    """A parsed YAML document that can say on which line each field stands."""

    path: Path
    root: yaml.Node
    data: Any

    def line(self, field_path: Sequence[Any], key: bool = False) -> int:
        node = self.root
        for part in field_path:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        node = key_node if key and part == field_path[-1] else value_node
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
            else:
                break
        return node.start_mark.line + 1

    def error(self, field_path: Sequence[Any], problem: str, key: bool = False) -> CaseError:
        return CaseError(self.path, self.line(field_path, key), _field(field_path), problem)


def _parse(path: Path) -> _Document:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CaseError(path, None, "", f"cannot read: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise CaseError(path, None, "", f"file is {size} bytes; a case may have {MAX_BYTES} at most")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(path, None, "", f"not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise CaseError(path, None, "", f"cannot read: {exc.strerror}") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise CaseError(path, 1, "", "the file is empty")
        _check_nodes(path, node, loader.anchored)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise CaseError(path, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise CaseError(path, None, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return _Document(path, node, data)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, remembering which nodes carry an anchor."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.anchored: set[int] = set()

    def compose_node(self, parent, index):
        event = self.peek_event()
        anchor = None if isinstance(event, yaml.AliasEvent) else getattr(event, "anchor", None)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self.anchored.add(id(node))
        return node


def _check_nodes(path: Path, root: yaml.Node, anchored: set[int]) -> None:
    """Refuse anchors and aliases (so alias bombs), keys that are not plain scalars, and
    duplicate keys, which PyYAML would accept; walks in document order."""
    seen: set[int] = set()
    queue: deque[tuple[yaml.Node, tuple[Any, ...]]] = deque([(root, ())])
    while queue:
        node, where = queue.popleft()
        if id(node) in seen or id(node) in anchored:
            raise CaseError(path, node.start_mark.line + 1, _field(where),
                            "YAML anchors and aliases are not allowed in case files")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise CaseError(path, key_node.start_mark.line + 1, _field(where),
                                    "a key must be a plain string, not a list or mapping")
                if key_node.value in keys:
                    raise CaseError(path, key_node.start_mark.line + 1,
                                    _field(where + (key_node.value,)), "duplicate key")
                keys.add(key_node.value)
                queue.append((key_node, where))
                queue.append((value_node, where + (key_node.value,)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                queue.append((item, where + (index,)))


def _schema_error(doc: _Document) -> CaseError | None:
    errors = list(_validator().iter_errors(doc.data))
    if not errors:
        return None
    error = min(errors, key=lambda e: (doc.line(list(e.absolute_path)), len(e.absolute_path)))
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = sorted(str(k) for k in error.instance if k not in allowed)
        names = ", ".join(sorted(allowed))
        return doc.error(where + extra[:1], f"unknown key (allowed: {names})", key=True)
    if error.validator == "required":
        return doc.error(where, error.message)
    if "propertyNames" in error.schema_path:
        name = error.instance
        return doc.error(where + [name], f"{name!r} is not a top-level module id "
                         "(camelCase terms joined by '/', no '.' or '..')", key=True)
    if error.validator == "enum" and isinstance(error.instance, float):
        return doc.error(where, f"{error.message}; quote version numbers, as '1.0'")
    return doc.error(where, error.message)


def load(path: Path, root: Path) -> Case:
    """Read and validate one case file; raises CaseError with file, line and field."""
    doc = _parse(path)
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
        id=case_id(path, root),
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
    """Load every file, collecting all errors rather than stopping at the first."""
    cases, errors = [], []
    for path in paths:
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
