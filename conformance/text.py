"""Text to show a person: on one line, control characters escaped; paths relative if they can be."""

from __future__ import annotations

import os
from pathlib import Path


def one_line(text: str) -> str:
    """Control characters escaped (as \\n, \\x1b), so that text from a file or a loader stays
    on one line and cannot redraw a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def display_path(path: Path) -> str:
    """The path relative to the working directory, where there is one."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
