"""The case cache: what the YAML reader and the case schema made of a file's bytes, by digest."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from conformance import __version__

#: The environment variable that moves the cache; "off" (or empty) turns it off.
ENVIRONMENT = "COMMONJS_CONFORMANCE_CACHE"
#: Entries larger than this are not kept: a big case is rare, and reading it is cheap next to
#: running it.
MAX_ENTRY_BYTES = 256 * 1024
#: The files whose code or content decides what a case file's bytes become and whether they
#: pass the schema: a change to any of them starts a new cache.
_DECIDERS = ("yamlfile.py", "schemas.py", "schema/case.schema.json", "cache.py")


def location() -> Path | None:
    """Where the cache is: $COMMONJS_CONFORMANCE_CACHE, else $XDG_CACHE_HOME or ~/.cache under
    commonjs-conformance/cases; None when it is off."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen is not None:
        return None if chosen.strip() in ("", "off") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "commonjs-conformance", "cases")


@functools.cache
def fingerprint() -> str:
    """A digest of this package's version and of every file in _DECIDERS."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    package = resources.files("conformance")
    for name in _DECIDERS:
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes() + b"\0")
    return digest.hexdigest()


class Cache:
    """Parsed, schema-valid case files by the digest of their bytes, one JSON file each under
    a directory named by fingerprint(). Only data that JSON gives back unchanged is kept. A
    cache that cannot be read or written is no cache: nothing fails for it, and the file is
    read the long way."""

    def __init__(self, directory: Path | None):
        self.directory = directory / fingerprint() if directory is not None else None
        self._where = os.fspath(self.directory) if self.directory is not None else ""
        self._pruned = False

    def _entry(self, digest: bytes) -> str:
        name = digest.hex()
        return os.path.join(self._where, name[:2], name + ".json")

    def get(self, digest: bytes) -> Any | None:
        """The data kept for these bytes, or None."""
        if self.directory is None:
            return None
        try:
            with open(self._entry(digest), "rb") as stream:
                text = stream.read(MAX_ENTRY_BYTES + 1)
            return json.loads(text) if len(text) <= MAX_ENTRY_BYTES else None
        except (OSError, ValueError):
            return None

    def put(self, digest: bytes, data: Any) -> None:
        """Keep `data` for these bytes: written whole or not at all (a rename), so two runs
        writing at once, or one stopped half-way, never leave a part of an entry."""
        if self.directory is None:
            return
        try:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return
        encoded = text.encode("utf-8", "surrogatepass")
        if len(encoded) > MAX_ENTRY_BYTES or json.loads(text) != data:
            return
        entry = self._entry(digest)
        try:
            if not self._pruned:
                self._prune()
            os.makedirs(os.path.dirname(entry), exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(entry), prefix=".",
                                                 suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(encoded)
                os.replace(temporary, entry)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            self.directory = None  # read-only or full: read the long way from now on

    def _prune(self) -> None:
        """Remove the caches of other fingerprints (other versions of the code) beside this
        one, the first time this one is written to."""
        self._pruned = True
        parent = self.directory.parent  # type: ignore[union-attr]
        if self.directory.is_dir() or not parent.is_dir():  # type: ignore[union-attr]
            return
        for other in parent.iterdir():
            if other.name != self.directory.name and len(other.name) == 16 \
                    and not other.is_symlink() and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)


def cases() -> Cache:
    """The cache case files are read through, where location() says now."""
    return _at(location())


@functools.cache
def _at(directory: Path | None) -> Cache:
    return Cache(directory)
