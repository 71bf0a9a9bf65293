"""Glue that runs a case's module tree on a gallery engine installed by scripts/install-loaders.

Each driver is a module run as `python3 -m conformance.drivers.<engine> ROOT MAIN`; it exits
with the program's status, 1 with the message on stderr for an uncaught error, and MISSING
with a one-line message when the engine is not installed. MAIN is a module id (`program`,
a Modules/1.1.1 tree) or, in the node profile, the main file's path under ROOT
(`app/src/program.js`, see conformance.command.is_file_path): then the driver runs that file
the way the engine runs a real project's entry file, with nothing added to its lookup.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from conformance import command

#: Exit status of a driver whose engine is not installed.
MISSING = 3
#: The variable naming the cache directory scripts/install-loaders fills.
CACHE_VARIABLE = "COMMONJS_CONFORMANCE_LOADERS"


def cache_dir() -> Path:
    """Where scripts/install-loaders put the engines: $COMMONJS_CONFORMANCE_LOADERS, else
    ~/.cache/commonjs-conformance/loaders. A node profile run gives the driver a private empty
    HOME, so when $HOME holds no cache the user's home from the password database is tried."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen:
        return Path(chosen)
    below = Path(".cache") / "commonjs-conformance" / "loaders"
    default = Path.home() / below
    if not default.is_dir():
        try:
            own = Path(pwd.getpwuid(os.getuid()).pw_dir) / below
        except KeyError:  # a user id with no entry: only $HOME can say
            return default
        if own.is_dir():
            return own
    return default


def missing(engine: str, why: str = "") -> NoReturn:
    """Stop, saying the engine is not installed and how to install it."""
    detail = f" ({why})" if why else ""
    sys.stderr.write(f"{engine} is not installed in {cache_dir()}{detail}; "
                     f"run scripts/install-loaders {engine}\n")
    raise SystemExit(MISSING)


def npm_binary(engine: str, name: str | None = None) -> Path:
    """The path of an npm package's binary in the cache; exits MISSING when absent."""
    path = cache_dir() / "npm" / "node_modules" / ".bin" / (name or engine)
    if not os.access(path, os.X_OK):
        missing(engine, f"no {path.name} in node_modules/.bin")
    return path


def npm_package(engine: str, name: str) -> Path:
    """The directory of an npm package in the cache; exits MISSING when absent."""
    path = cache_dir() / "npm" / "node_modules" / name
    if not (path / "package.json").is_file():
        missing(engine, f"no npm package {name}")
    return path


def python_module(engine: str, name: str):
    """Import a PyPI package from the cache's python directory; exits MISSING when absent."""
    folder = str(cache_dir() / "python")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return __import__(name)
    except ImportError as exc:
        missing(engine, f"import {name}: {exc}")


def python_path(engine: str, name: str) -> str:
    """The cache's python directory, checked to hold package `name` without importing it."""
    folder = cache_dir() / "python"
    if not (folder / name / "__init__.py").is_file():
        missing(engine, f"no Python package {name}")
    return str(folder)


def arguments(usage: str, count: int = 2) -> list[str]:
    """The command line's arguments, exactly `count` of them, else usage on stderr and exit 2."""
    args = sys.argv[1:]
    if len(args) != count:
        sys.stderr.write(f"usage: python3 -m {usage}\n")
        raise SystemExit(2)
    return args


def main_file(root: str, main: str) -> Path:
    """The main file under `root`: the file of module id `main` (ID.js), or in the node
    profile the path `main` itself."""
    return command.main_file(Path(root), main)


def is_profile(main: str) -> bool:
    """Whether MAIN is a node profile program's main file (a path) rather than a module id."""
    return command.is_file_path(main)


def replace(argv: Sequence[str | os.PathLike], env: dict[str, str] | None = None) -> NoReturn:
    """Become the engine's process: its output, status and signals are the driver's own."""
    sys.stdout.flush()
    args = [str(a) for a in argv]
    os.execve(args[0], args, env if env is not None else dict(os.environ))


def run(argv: Sequence[str | os.PathLike], **kwargs) -> NoReturn:
    """Run a command in the driver's place, passing on its output and exit status."""
    sys.stdout.flush()
    try:
        proc = subprocess.run([str(a) for a in argv], **kwargs)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    raise SystemExit(proc.returncode if proc.returncode >= 0 else 128 - proc.returncode)


def uncaught(error: object) -> NoReturn:
    """Report an error the program did not catch, as an engine would: stderr, status 1."""
    sys.stdout.flush()
    sys.stderr.write(f"uncaught error: {error}\n")
    raise SystemExit(1)


def bundle_and_run(engine: str, build: Callable[[Path], tuple[list, dict]],
                   cwd: str | None = None) -> NoReturn:
    """Build a bundle with the command `build(out_file)` gives, run from `cwd` (default: where
    the driver runs), then run the bundle on Node.

    The bundle is written to a fresh directory outside the tree, so a require the bundler left
    for run time is resolved from there, as it would be where the bundle is shipped. A failed
    build passes on the bundler's message and status (1 if it gave none).
    """
    node = shutil.which("node")
    if node is None:
        missing(engine, "Node.js runs the bundle and is not on PATH")
    folder = Path(tempfile.mkdtemp(prefix=f"cjs-{engine}-"))
    try:
        out_file = folder / "bundle.js"
        argv, env = build(out_file)
        built = subprocess.run([str(a) for a in argv], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if built.returncode != 0 or not out_file.is_file():
            sys.stderr.write(f"{engine} failed to bundle the program:\n{built.stdout}")
            raise SystemExit(built.returncode or 1)
        sys.stdout.flush()
        status = subprocess.run([node, str(out_file)]).returncode
    except KeyboardInterrupt:
        status = 130
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    raise SystemExit(status if status >= 0 else 128 - status)
