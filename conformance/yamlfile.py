"""Reading YAML files safely, with errors that name the file, the line and the field."""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml


class YamlError(Exception):
    """A file that cannot be used; str() is one line: file, line, field, problem."""

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


def field_name(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Document:
    """A parsed YAML document that can say on which line each field stands."""

    path: Path
    root: yaml.Node
    data: Any
    error_class: type[YamlError] = YamlError

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

    def error(self, field_path: Sequence[Any], problem: str, key: bool = False) -> YamlError:
        return self.error_class(self.path, self.line(field_path, key), field_name(field_path), problem)


def read_document(path: Path, max_bytes: int,
                  error_class: type[YamlError] = YamlError) -> Document:
    """Parse one YAML document safely; raises error_class naming the file and line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error_class(path, None, "", f"cannot read: {exc.strerror}") from None
    if size > max_bytes:
        raise error_class(path, None, "", f"file is {size} bytes; at most {max_bytes} are read")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error_class(path, None, "", f"not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise error_class(path, None, "", f"cannot read: {exc.strerror}") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise error_class(path, 1, "", "the file is empty")
        _check_nodes(path, node, loader.anchored, error_class)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise error_class(path, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise error_class(path, None, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Document(path, node, data, error_class)


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


def _check_nodes(path: Path, root: yaml.Node, anchored: set[int],
                 error_class: type[YamlError]) -> None:
    """Refuse anchors and aliases (so alias bombs), keys that are not plain scalars, and
    duplicate keys, which PyYAML would accept; walks in document order."""
    seen: set[int] = set()
    queue: deque[tuple[yaml.Node, tuple[Any, ...]]] = deque([(root, ())])
    while queue:
        node, where = queue.popleft()
        if id(node) in seen or id(node) in anchored:
            raise error_class(path, node.start_mark.line + 1, field_name(where),
                            "YAML anchors and aliases are not allowed")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise error_class(path, key_node.start_mark.line + 1, field_name(where),
                                    "a key must be a plain string, not a list or mapping")
                if key_node.value in keys:
                    raise error_class(path, key_node.start_mark.line + 1,
                                    field_name(where + (key_node.value,)), "duplicate key")
                keys.add(key_node.value)
                queue.append((key_node, where))
                queue.append((value_node, where + (key_node.value,)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                queue.append((item, where + (index,)))
