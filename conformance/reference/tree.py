"""The module tree a program of the reference loader sees: the virtual one of a case, or one
read from a directory (exec), and the input loader.js takes for it."""

from __future__ import annotations

import json
import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from conformance.reference.engine import OUTPUT_LIMIT

#: Where a Program's modules live in the virtual module tree: id `a/b` is /modules/a/b.js.
VIRTUAL_ROOT = "/modules"


#: Where a node profile Program's files live: path `app/a.js` is /cjs/app/a.js.
NODE_VIRTUAL_ROOT = "/cjs"


VIRTUAL_SCHEME = "memory://"


FILE_SCHEME = "file://"


#: exec_tree reads at most this many files (.js files, or every file for the node profile)
#: and bytes below its root.
MAX_TREE_FILES = 20_000


MAX_TREE_BYTES = 64 << 20


#: ... and walks at most this many directories (symbolic links can multiply them).
MAX_TREE_DIRECTORIES = 20_000


@dataclass(frozen=True)
class Tree:
    """Module files (full path, source), the root they hang from, and the scheme of their URIs."""

    files: list[tuple[str, str]]
    root: str
    uri_scheme: str


def loader_input(tree: Tree, main: str, sandbox: bool, compiled: Sequence[str] = (),
                 output_limit: int = OUTPUT_LIMIT) -> str:
    """The JSON loader.js reads (see its header). compiled: paths whose factories may come
    precompiled, in the order execute()'s factories give them."""
    return json.dumps({"files": tree.files, "root": tree.root, "main": main,
                       "sandbox": sandbox, "uriScheme": tree.uri_scheme,
                       "outputLimit": output_limit, "compiled": list(compiled)})


def read_modules(root: Path | str) -> dict[str, str]:
    """Module id -> source of every .js file below root, as exec_tree reads them."""
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    return {posixpath.relpath(path, directory)[:-len(".js")]: source
            for path, source in read_tree(directory)}


def read_files(root: Path | str) -> dict[str, str]:
    """Path below root -> text of every file below root, as exec_files reads them: the files
    of a node profile Program."""
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    return {posixpath.relpath(path, directory): text
            for path, text in read_tree(directory, every_file=True)}


def read_tree(root: str, every_file: bool = False) -> list[tuple[str, str]]:
    """(path, source) of every .js file below `root` (of every file, with every_file: the
    node profile's package.json, .json and extensionless files), within the limits."""
    real_root = os.path.realpath(root)
    kind = "files" if every_file else ".js files"
    found: list[tuple[str, str]] = []
    total = 0
    directories = 0
    # (path as named below root, its real path, real paths of the directories above it)
    pending = [(root, real_root, (real_root,))]
    while pending:
        directory, real_directory, ancestors = pending.pop()
        directories += 1
        if directories > MAX_TREE_DIRECTORIES:
            raise ValueError(f"{root}: more than {MAX_TREE_DIRECTORIES} directories "
                             "(the limit of the reference loader)")
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise ValueError(f"{directory}: cannot list: {exc.strerror}") from None
        for entry in entries:
            path = posixpath.join(directory, entry.name)
            if not _encodable(entry.name):
                continue
            if entry.is_symlink():
                real = os.path.realpath(path)
                if not _inside(real, real_root):
                    continue
            else:
                real = posixpath.join(real_directory, entry.name)
            try:
                status = os.stat(real)
            except OSError:  # a dangling link
                continue
            if stat.S_ISDIR(status.st_mode):
                if real not in ancestors:
                    pending.append((path, real, ancestors + (real,)))
                continue
            if not (every_file or entry.name.endswith(".js")) or \
                    not stat.S_ISREG(status.st_mode):
                continue
            total += status.st_size
            if len(found) >= MAX_TREE_FILES:
                raise ValueError(f"{root}: more than {MAX_TREE_FILES} {kind} "
                                 "(the limit of the reference loader)")
            if total > MAX_TREE_BYTES:
                raise ValueError(f"{root}: its {kind} exceed {MAX_TREE_BYTES} bytes "
                                 "(the limit of the reference loader)")
            try:
                data = Path(real).read_bytes()
            except OSError as exc:
                raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
            found.append((path, data.decode("utf-8-sig", errors="replace")))
    return found


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in a file name
        return False
    return True
