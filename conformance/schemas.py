"""The JSON Schemas of the suite's files and messages, and their errors as one line each.

Case files, loader files and expectation files are YAML checked against a schema in
conformance/schema/; the host protocol's messages are JSON checked the same way. A file's
first error is reported with its file, line and field (see yamlfile.Document.error).
"""

from __future__ import annotations

import functools
import json
import re
import reprlib
from importlib import resources
from typing import Any, Callable, Iterator

import jsonschema
import yaml

from conformance.yamlfile import Document, YamlError, field_name

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxfrozenset = _SHORT.maxdict = 4
_SHORT.maxlevel = 3


def short(value: Any) -> str:
    """A value as a message quotes it: long strings and containers shortened."""
    return _SHORT.repr(value)


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of conformance/schema/NAME.schema.json."""
    text = resources.files("conformance").joinpath(f"schema/{name}.schema.json").read_text(
        "utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    whole = jsonschema.validators.extend(cls, {"pattern": _pattern})
    return whole(_inline(schema, schema.get("$defs", {})))


def problem(name: str, instance: Any) -> str | None:
    """Why `instance` is not valid under schema `name`, in one line; None when it is."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return (f"{where}: " if where else "") + _message(error)[:300]


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """The `pattern` keyword as JSON Schema means it (ECMA-262 regular expressions), where `$`
    is the end of the string: Python's `$` also matches before a final line feed, and would let
    a module id 'program\\n' through."""
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _ecma(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled with each `$` that is an anchor (not escaped, not in a character
    class) meaning the end of the string, as in ECMA-262 without the multiline flag."""
    out, in_class, index = [], False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(r"\Z" if char == "$" and not in_class else char)
        index += 1
    return re.compile("".join(out))


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with each `"$ref": "#/$defs/NAME"` replaced by the keywords of that
    definition (where they do not clash with the $ref's siblings): the same checks, without
    a reference lookup per module id, a third of the validation time."""
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref", "")
    if reference.startswith("#/$defs/"):
        definition = definitions[reference[len("#/$defs/"):]]
        if not node.keys() & definition.keys():
            node = {**{k: v for k, v in node.items() if k != "$ref"}, **definition}
    return {key: _inline(value, definitions) for key, value in node.items()}


def _message(error: jsonschema.ValidationError) -> str:
    """The validator's message, with a long value it quotes at its start shortened."""
    message = error.message
    full = repr(error.instance)
    if len(full) > 60 and message.startswith(full):
        message = _SHORT.repr(error.instance) + message[len(full):]
    return message


def first_error(doc: Document, name: str,
                special: Callable[[Document, Any], YamlError | None] | None = None
                ) -> YamlError | None:
    """The first error (by line) of the YAML document `doc` under schema `name`, as the
    document's own error type, one line; `special` may word an error its own way."""
    errors = list(validator(name).iter_errors(doc.data))
    if not errors:
        return None
    # The earliest line first. A `oneOf` says which shape the whole document has (a case's
    # modules or files): it stands at the line of the first error of the shape the document
    # meant (a case's `main`), and after every other error when that cannot be told.
    error = min(errors, key=lambda e: (_line(doc, e), e.validator == "oneOf",
                                       len(e.absolute_path)))
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = sorted((k for k in error.instance if k not in allowed), key=str)
        names = ", ".join(sorted(allowed))
        # The key as data (None for `~:`) finds its line; as text, it names the field.
        return doc.error_class(doc.path, doc.line(where + extra[:1], key=True),
                               field_name(where + [str(k) for k in extra[:1]]),
                               f"unknown key (allowed: {names})")
    worded = special(doc, error) if special else None
    if worded is not None:
        return worded
    if error.validator == "required":
        return doc.error(where, error.message)
    if error.validator == "enum" and isinstance(error.instance, float):
        return doc.error(where, f"{_message(error)}; quote version numbers, as '1.0'")
    return doc.error(where, _message(error))


def _line(doc: Document, error: Any) -> float:
    """The line an error is reported at: its field's; for a `oneOf`, the first line among the
    errors of the branch the document meant (the one whose required keys it has, then the
    one it breaks least), or after every line when it has none."""
    if error.validator != "oneOf":
        return doc.line(list(error.absolute_path))
    branches: dict[Any, list[Any]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if not branches:
        return float("inf")
    meant = min(branches.values(),
                key=lambda subs: (sum(e.validator == "required" for e in subs), len(subs)))
    lines = [_line(doc, sub) for sub in meant if sub.absolute_path]
    return min(lines) if lines else float("inf")


def spec_problem(doc: Document, value: Any) -> str:
    """Why `value`, the `spec` field of the YAML document `doc`, is no spec version: a number
    (YAML reads an unquoted 1.1 as one) is told to be quoted, as written in the file."""
    from conformance import SPEC_VERSIONS
    versions = ", ".join(repr(v) for v in SPEC_VERSIONS)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _scalar_text(doc, "spec") or str(value)
        return f"{text} is read as a number, not one of {versions}; quote it: spec: \"{text}\""
    return f"{short(value)} is not one of {versions}"


def _scalar_text(doc: Document, key: str) -> str | None:
    """The source text of a top-level scalar value, as written (1.10 stays 1.10)."""
    if isinstance(doc.root, yaml.MappingNode):
        for key_node, value_node in doc.root.value:
            if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
                return value_node.value
    return None
