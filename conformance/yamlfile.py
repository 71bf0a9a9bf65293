"""Reading YAML files safely, with errors that name the file, the line and the field."""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from conformance.text import display_path, one_line


#: Nesting deeper than this is refused: no file this suite reads needs a tenth of it, and the
#: parser, the constructor and the schema validator all recurse once per level.
MAX_DEPTH = 64
#: At most this many YAML nodes (scalars, lists, mappings) are read from one file: parsing a
#: mebibyte of one-character list items would otherwise take many seconds.
MAX_NODES = 100_000
#: An integer literal longer than this is refused (Python refuses to print huge ones).
MAX_INT_CHARACTERS = 64
#: Characters of a field name and of a problem shown in an error message; the rest is elided.
SHOWN_FIELD = 100
SHOWN_PROBLEM = 400


class YamlError(Exception):
    """A file that cannot be used; str() is one line: file, line, field, problem."""

    def __init__(self, path: Path | str, line: int | None, field: str, problem: str):
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = one_line(display_path(self.path)) + (f":{self.line}" if self.line else "")
        field = f" {_clip(one_line(self.field), SHOWN_FIELD)}:" if self.field else ""
        return f"{where}:{field} {_clip(one_line(self.problem), SHOWN_PROBLEM)}"


def _clip(text: str, limit: int) -> str:
    """At most about `limit` characters of text, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


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
                    if _names(key_node, part):
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


def _names(key_node: yaml.Node, part: Any) -> bool:
    """Whether a mapping's key node is the key `part` of the parsed data (which is not always
    a string: `1:`, `true:` and `~:` are keys too)."""
    if key_node.value == str(part):
        return True
    if isinstance(part, str) or not isinstance(key_node, yaml.ScalarNode):
        return False
    try:
        value = yaml.constructor.SafeConstructor().construct_object(key_node)
    except Exception:  # a key that cannot be built names nothing
        return False
    return type(value) is type(part) and value == part


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a document, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file"


def _read_bytes(path: Path, max_bytes: int, error_class: type[YamlError]) -> bytes:
    """At most max_bytes of a regular file; anything else is refused before it is opened,
    so a named pipe or a device cannot block the read or feed it without end."""

    def refuse(problem: str) -> YamlError:
        return error_class(path, None, "", problem)

    try:
        status = path.stat()
    except OSError as exc:
        if path.is_symlink() and not os.path.lexists(os.path.realpath(path)):
            raise refuse(f"a broken symbolic link (to {os.readlink(path)})") from None
        raise refuse(f"cannot read: {exc.strerror}") from None
    problem = _not_regular(status.st_mode)
    if problem:
        raise refuse(problem)
    if status.st_size > max_bytes:
        raise refuse(f"file is {status.st_size} bytes; at most {max_bytes} are read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "rb") as stream:
            problem = _not_regular(os.fstat(stream.fileno()).st_mode)  # swapped since stat()
            if problem:
                raise refuse(problem)
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:  # it grew since stat()
        raise refuse(f"file is over {max_bytes} bytes; at most {max_bytes} are read")
    return data


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_at(text: str, position: int) -> int:
    """The line number, as YAML counts lines, of character `position` of text."""
    return len(_LINE_BREAK.findall(text, 0, position)) + 1


def read_document(path: Path, max_bytes: int,
                  error_class: type[YamlError] = YamlError,
                  max_nodes: int = MAX_NODES) -> Document:
    """Parse one YAML document safely; raises error_class naming the file and line."""
    data = _read_bytes(path, max_bytes, error_class)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error_class(path, None, "", f"not UTF-8 (byte {exc.start})") from None
    loader = None
    try:
        loader = _Loader(text, max_nodes)  # refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            raise error_class(path, 1, "", "the file is empty")
        _check_nodes(path, node, loader.anchored, error_class)
        data = loader.construct_document(node)
    except _Refused as exc:
        raise error_class(path, exc.line, exc.field, exc.problem) from None
    except yaml.reader.ReaderError as exc:
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise error_class(path, _line_at(text, exc.position), "",
                          f"invalid YAML: character U+{character:04X} is not allowed in a YAML "
                          "file (write it as an escape in a double-quoted string)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise error_class(path, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise error_class(path, None, "", f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(path, node, data, error_class)


class _Refused(Exception):
    """A document this module will not read, found while composing or constructing it."""

    def __init__(self, line: int, field: str, problem: str):
        super().__init__(problem)
        self.line = line
        self.field = field
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, remembering which nodes carry an anchor, bounding the nesting
    depth and the number of nodes, and naming the line of a value it cannot build."""

    def __init__(self, stream: str, max_nodes: int = MAX_NODES):
        super().__init__(stream)
        self.anchored: set[int] = set()
        self.max_nodes = max_nodes
        self.nodes = 0
        #: The field being composed: keys and list indexes from the top.
        self.where: list[Any] = []

    def compose_node(self, parent, index):
        event = self.peek_event()
        if parent is None:  # the top
            part = None
        elif isinstance(index, yaml.Node):  # a mapping's value: its key names it
            part = index.value if isinstance(index, yaml.ScalarNode) else "?"
        else:  # a list item (its index) or a mapping's key (None: keys nest too)
            part = index if isinstance(index, int) else "?"
        if part is not None:
            self.where.append(part)
        try:
            self.nodes += 1
            if len(self.where) > MAX_DEPTH:
                raise _Refused(event.start_mark.line + 1, field_name(self.where[:MAX_DEPTH]),
                               f"nested more than {MAX_DEPTH} levels deep")
            if self.nodes > self.max_nodes:
                raise _Refused(event.start_mark.line + 1, field_name(self.where),
                               f"more than {self.max_nodes} values in one file")
            anchor = None if isinstance(event, yaml.AliasEvent) else getattr(event, "anchor", None)
            node = super().compose_node(parent, index)
        finally:
            if part is not None:
                self.where.pop()
        if anchor is not None:
            self.anchored.add(id(node))
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, _Refused):
            raise
        except Exception as exc:  # !!int abc, !!bool maybe, !!timestamp noon, ...
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {_clip(repr(node.value), 60)} as {node.tag}: "
                f"{type(exc).__name__}: {exc}", node.start_mark) from None

    def construct_yaml_int(self, node):
        if len(node.value) > MAX_INT_CHARACTERS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {len(node.value)} characters; at most "
                f"{MAX_INT_CHARACTERS} (quote it if it is text)", node.start_mark)
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _check_nodes(path: Path, root: yaml.Node, anchored: set[int],
                 error_class: type[YamlError]) -> None:
    """Refuse anchors and aliases (so alias bombs), keys that are not plain scalars,
    duplicate keys, which PyYAML would accept, and lone surrogates, which no file can hold;
    walks in document order."""
    seen: set[int] = set()
    queue: deque[tuple[yaml.Node, tuple[Any, ...]]] = deque([(root, ())])
    while queue:
        node, where = queue.popleft()
        if id(node) in seen or id(node) in anchored:
            raise error_class(path, node.start_mark.line + 1, field_name(where),
                            "YAML anchors and aliases are not allowed")
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and not _encodable(node.value):
            raise error_class(path, node.start_mark.line + 1, field_name(where),
                              "a lone surrogate escape (\\uD800 to \\uDFFF) is no character "
                              "and cannot be written as UTF-8")
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


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
