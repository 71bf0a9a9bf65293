"""Reading YAML files safely, with errors that name the file, the line and the field."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from conformance.cache import Cache
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

    def __reduce__(self):  # pickled as its parts (it crosses from worker processes)
        return type(self), (self.path, self.line, self.field, self.problem)

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

    path: Path | str
    #: The document's nodes; None for data taken from the cache, until a line is asked for.
    root: yaml.Node | None
    data: Any
    error_class: type[YamlError] = YamlError
    #: A digest of the file's bytes: the same digest, the same document.
    digest: bytes = b""
    #: The file's text, kept while root is None (to find a line in).
    text: str = ""
    #: The data came from the cache: these bytes passed the schema before (conformance.cache).
    cached: bool = False

    def line(self, field_path: Sequence[Any], key: bool = False) -> int:
        if self.root is None:
            self.root = _load(self.path, self.text, MAX_NODES, self.error_class)[0]
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


def _read_bytes(path: Path | str, max_bytes: int, error_class: type[YamlError]) -> bytes:
    """At most max_bytes of a regular file; anything else is refused before it is opened,
    so a named pipe or a device cannot block the read or feed it without end."""

    def refuse(problem: str) -> YamlError:
        return error_class(path, None, "", problem)

    try:
        status = os.stat(path)
    except OSError as exc:
        if os.path.islink(path) and not os.path.lexists(os.path.realpath(path)):
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


def read_document(path: Path | str, max_bytes: int,
                  error_class: type[YamlError] = YamlError,
                  max_nodes: int = MAX_NODES, cache: Cache | None = None) -> Document:
    """Parse one YAML document safely; raises error_class naming the file and line. With a
    cache, bytes it holds are not parsed again: their data comes from it (Document.cached)."""
    raw = _read_bytes(path, max_bytes, error_class)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error_class(path, None, "", f"not UTF-8 (byte {exc.start})") from None
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    kept = cache.get(digest) if cache is not None else None
    if kept is not None:
        return Document(path, None, kept, error_class, digest, text, cached=True)
    try:
        node, data = _load(path, text, max_nodes, error_class)
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
    return Document(path, node, data, error_class, digest)


#: What the parser itself (not the composer or constructor) raises on a file it cannot read.
_SYNTAX_ERRORS = (yaml.reader.ReaderError, yaml.scanner.ScannerError, yaml.parser.ParserError)


def _load(path: Path | str, text: str, max_nodes: int,
          error_class: type[YamlError]) -> tuple[yaml.Node, Any]:
    """The document's root node and its data.

    libyaml's parser (C) reads the text where PyYAML has it; our composer builds the nodes
    from its events, so every check is the same as over PyYAML's own (pure-Python) parser. A
    file libyaml cannot parse is parsed again by PyYAML's parser, whose messages say what is
    wrong in the words this suite has always used. (libyaml also reads a few spellings
    PyYAML's parser refuses, as YAML allows: a tab between tokens, a '?' inside a plain
    scalar in a flow collection.)
    """
    if _CLoader is not None:
        try:
            return _load_with(_CLoader, path, text, max_nodes, error_class)
        except _SYNTAX_ERRORS:
            pass  # PyYAML's parser words the problem
    return _load_with(_PyLoader, path, text, max_nodes, error_class)


def _load_with(loader_class: type[_Composer], path: Path | str, text: str, max_nodes: int,
               error_class: type[YamlError]) -> tuple[yaml.Node, Any]:
    loader = None
    try:
        loader = loader_class(text, max_nodes)  # the pure-Python reader refuses control
        node = loader.compose()                 # characters at once
        if node is None:
            raise error_class(path, 1, "", "the file is empty")
        return node, loader.construct_document(node)
    finally:
        if loader is not None:
            loader.dispose()


class _Refused(Exception):
    """A document this module will not read, found while composing or constructing it."""

    def __init__(self, line: int, field: str, problem: str):
        super().__init__(problem)
        self.line = line
        self.field = field
        self.problem = problem


class _Composer(yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Builds the nodes of one document from a parser's events (libyaml's or PyYAML's own),
    refusing as it goes what PyYAML would accept and this suite does not: anchors and aliases
    (so alias bombs), keys that are not plain scalars, duplicate keys, lone surrogates (no
    file can hold them), nesting deeper than MAX_DEPTH and more than max_nodes values. Then
    PyYAML's safe constructor builds the data, naming the line of a value it cannot build.

    A refusal names the line and the field: keys and list indexes from the top ('?' for a
    key that is itself being composed; a key's own problems name its mapping).
    """

    def __init__(self, max_nodes: int = MAX_NODES):
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.max_nodes = max_nodes
        self.nodes = 0

    def compose(self) -> yaml.Node | None:
        """The document's root node, None for an empty stream (as Composer.get_single_node)."""
        self.get_event()  # stream start
        node = None
        if not self.check_event(yaml.StreamEndEvent):
            start = self.get_event().start_mark  # document start
            node = self._node([], False)
            self.get_event()  # document end
            if not self.check_event(yaml.StreamEndEvent):
                raise yaml.composer.ComposerError(
                    "expected a single document in the stream", start,
                    "but found another document", self.get_event().start_mark)
        self.get_event()  # stream end
        return node

    def _node(self, where: list[Any], is_key: bool) -> yaml.Node:
        """The node the next event starts; `where` is its field (see the class)."""
        event = self.get_event()
        line = event.start_mark.line + 1
        self.nodes += 1
        if len(where) > MAX_DEPTH:
            raise _Refused(line, field_name(where[:MAX_DEPTH]),
                           f"nested more than {MAX_DEPTH} levels deep")
        if self.nodes > self.max_nodes:
            raise _Refused(line, field_name(where), f"more than {self.max_nodes} values in one file")
        field = where[:-1] if is_key else where
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise _Refused(line, field_name(field), "YAML anchors and aliases are not allowed")
        tag = event.tag
        if isinstance(event, yaml.ScalarEvent):
            if not (event.value.isascii() or _encodable(event.value)):
                raise _Refused(line, field_name(field), "a lone surrogate escape (\\uD800 to "
                               "\\uDFFF) is no character and cannot be written as UTF-8")
            if tag is None or tag == "!":
                tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
            return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                   style=event.style)
        if isinstance(event, yaml.SequenceStartEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.SequenceNode, None, event.implicit)
            node = yaml.SequenceNode(tag, [], event.start_mark, None,
                                     flow_style=event.flow_style)
            while not self.check_event(yaml.SequenceEndEvent):
                where.append(len(node.value))
                node.value.append(self._node(where, False))
                where.pop()
        else:  # a mapping
            if tag is None or tag == "!":
                tag = self.resolve(yaml.MappingNode, None, event.implicit)
            node = yaml.MappingNode(tag, [], event.start_mark, None,
                                    flow_style=event.flow_style)
            keys: set[str] = set()
            while not self.check_event(yaml.MappingEndEvent):
                where.append("?")
                key = self._node(where, True)
                where.pop()
                if not isinstance(key, yaml.ScalarNode):
                    raise _Refused(key.start_mark.line + 1, field_name(where),
                                   "a key must be a plain string, not a list or mapping")
                if key.value in keys:
                    raise _Refused(key.start_mark.line + 1, field_name(where + [key.value]),
                                   "duplicate key")
                keys.add(key.value)
                where.append(key.value)
                node.value.append((key, self._node(where, False)))
                where.pop()
        node.end_mark = self.get_event().end_mark
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


_Composer.add_constructor("tag:yaml.org,2002:int", _Composer.construct_yaml_int)


class _PyLoader(_Composer, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """Our composer over PyYAML's pure-Python reader, scanner and parser."""

    def __init__(self, stream: str, max_nodes: int = MAX_NODES):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Composer.__init__(self, max_nodes)


if yaml.__with_libyaml__:
    class _LibyamlLoader(_Composer, yaml.cyaml.CParser):
        """Our composer over libyaml's parser (C): the same nodes, some ten times sooner."""

        def __init__(self, stream: str, max_nodes: int = MAX_NODES):
            yaml.cyaml.CParser.__init__(self, stream)
            _Composer.__init__(self, max_nodes)

#: The loader tried first: libyaml's where PyYAML was built with it.
_CLoader: type[_Composer] | None = _LibyamlLoader if yaml.__with_libyaml__ else None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
