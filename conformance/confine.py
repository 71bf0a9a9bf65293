"""Confined runs of a loader command: what a case program can reach of the user's machine.

A case program runs with the user's rights. Confined (`--confine`), a loader command gets:

- always: a clean environment (PATH, locale and time zone kept, the loader's own variables
  added), and a private HOME, TMPDIR and working directory inside the case's temporary
  directory, removed with it;
- where bubblewrap (`bwrap`) works: besides, a file system that is read-only everywhere but
  the case's directory and a fresh /tmp, the user's home directory hidden (but for what the
  loader itself needs from it, read-only), no network, and a PID namespace of its own.

Without bwrap a program can still reach the user's files by absolute path: the level in
force is named in the run's header and results.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

#: Variables of the user's environment a confined loader still gets.
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
#: The confinement levels, from weakest to strongest.
ENVIRONMENT = "environment"
BWRAP = "bwrap"


@functools.cache
def bwrap() -> str | None:
    """The bwrap program, if it is installed and can make its namespaces here."""
    program = shutil.which("bwrap")
    if program is None:
        return None
    try:
        probe = subprocess.run([program, "--ro-bind", "/", "/", "--dev", "/dev", "--proc",
                                "/proc", "--unshare-net", "--unshare-pid", "--unshare-ipc",
                                "--die-with-parent", "true"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return program if probe.returncode == 0 else None


def level() -> str:
    """The confinement a confined run gets on this machine."""
    return BWRAP if bwrap() else ENVIRONMENT


def _under(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _needed(argv: Sequence[str], env: Mapping[str, str], hidden: Path,
            base: Path) -> list[Path]:
    """What the loader may need from inside a hidden directory, to be shown read-only: the
    installation its program, this Python and this package belong to (the first directory
    below `hidden`: ~/.bun, ~/.pyenv), and each absolute path its command and variables name."""
    import conformance

    installed = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve(),
                 Path(conformance.__file__).resolve().parent.parent]
    found = shutil.which(argv[0], path=env.get("PATH")) if argv else None
    if found:
        installed += [Path(found), Path(found).resolve()]
    named = [Path(part) for text in [*argv[1:], *env.values()]
             for part in text.split(os.pathsep) if os.path.isabs(part)]
    shown: list[Path] = []
    for path, whole in [(p, True) for p in installed] + [(p, False) for p in named]:
        if path == hidden or not _under(path, hidden) or _under(path, base):
            continue
        if whole:
            path = hidden / path.relative_to(hidden).parts[0]
        if path.exists() and not any(_under(path, s) for s in shown):
            shown.append(path)
    return shown


def _hidden() -> list[Path]:
    """The user's home directory and /tmp: replaced by empty ones in a bwrap run."""
    found = [Path("/tmp")]
    home = Path(os.path.expanduser("~"))
    if home != Path("/") and home.is_dir() and not _under(Path("/tmp"), home):
        found.append(home)
    return found


def absolute_words(template: Sequence[str]) -> list[str]:
    """The words of a command template with each one that names a file or directory from
    where the suite runs (examples/host.js, ./loader) made absolute: a confined run's working
    directory is private. Words with a placeholder are left as they are."""
    return [str(Path(word).absolute()) if word and "{" not in word and not os.path.isabs(word)
            and (index > 0 or os.sep in word) and os.path.exists(word) else word
            for index, word in enumerate(template)]


def confine(argv: list[str], env: Mapping[str, str], base: Path,
            extra: Mapping[str, str]) -> tuple[list[str], dict[str, str], Path]:
    """The command, environment and working directory of a confined run of `argv` on a case
    whose temporary directory is `base`; `extra`: the loader's own variables."""
    private = {name: base / name for name in ("home", "tmp", "work")}
    for folder in private.values():
        folder.mkdir(exist_ok=True)
    clean = {k: env[k] for k in KEPT_VARIABLES if k in env}
    from conformance.drivers import CACHE_VARIABLE, cache_dir

    clean[CACHE_VARIABLE] = str(cache_dir())  # where the gallery's engines are, home or not
    clean.update(HOME=str(private["home"]), TMPDIR=str(private["tmp"]), **extra)
    program = bwrap()
    if program is None:
        return argv, clean, private["work"]
    wrapped = [program, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for hidden in _hidden():
        wrapped += ["--tmpfs", str(hidden)]
        for path in _needed(argv, {**env, **clean}, hidden, base):
            wrapped += ["--ro-bind", str(path), str(path)]
    wrapped += ["--bind", str(base), str(base), "--unshare-net", "--unshare-pid",
                "--unshare-ipc", "--die-with-parent", "--chdir", str(private["work"]), "--"]
    return wrapped + list(argv), clean, private["work"]
