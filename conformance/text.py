"""Text to show a person: on one line, control characters escaped; paths relative if they can be."""

from __future__ import annotations

import os
import re
from pathlib import Path

#: What ends a line somewhere (str.splitlines, Unicode, YAML, JavaScript) and lone surrogates,
#: which no UTF encoding can write.
_UNSAFE = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029\ud800-\udfff]")


def safe_line(text: str) -> str:
    """Text every writer can take as one line: line breaks of every kind and lone surrogates
    escaped (as \\n, \\u2028, \\ud800); other characters are left to each writer."""
    return _UNSAFE.sub(lambda match: repr(match.group())[1:-1], text)


def one_line(text: str) -> str:
    """Characters that are not printable escaped (as \\n, \\x1b, \\u2028, a lone surrogate as
    \\ud800), so that text from a file or a loader stays on one line, cannot redraw a terminal
    and can be encoded as UTF-8."""
    if text.isprintable():  # most text: no copy
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def display_path(path: Path) -> str:
    """The path relative to the working directory, where there is one."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """`count` and the noun in the number it takes: '1 case', '2 cases', '0 cases'."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
