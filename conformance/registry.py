"""Loaders by name, loader file, command template or Python class, with what they declare."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import os
import shlex
import shutil
import sys
import weakref
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable, Mapping

from conformance.clauses import PROFILES
from conformance.contract import FEATURES, Declaration, Loader
from conformance.command import CommandLoader, TemplateError, parse_template
from conformance.confine import level as confinement_level
from conformance.host import HostLoader
from conformance.text import one_line
from conformance import schemas
from conformance.yamlfile import Document, YamlError, read_document

#: The entry-point group through which an installed package registers a loader by name.
ENTRY_POINTS = "commonjs_conformance.loaders"
#: How a loader file's command is run: once per case on a module directory, or as a host.
PROTOCOLS = ("command", "host")
#: The range of a time limit per case, in seconds. Below the floor no loader can start; past
#: the ceiling (or at infinity, or NaN) a hung case would hold the run for good.
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 86400.0


class LoaderError(Exception):
    """A loader that cannot be set up, with a message for the user."""


class LoaderFileError(YamlError, LoaderError):
    """A loader file that cannot be used; one line naming the file, line and field."""


def timeout_problem(value: object) -> str | None:
    """Why value cannot be a time limit per case, or None when it can (a finite number of
    seconds from MIN_TIMEOUT to MAX_TIMEOUT)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "a time limit is a number of seconds"
    if not math.isfinite(value):
        return f"a time limit must be finite, not {value}"
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        return f"a time limit is from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g} seconds, not {value:g}"
    return None


def _reference(sandbox: bool) -> Callable[[], Loader]:
    def make() -> Loader:
        from conformance.reference import ReferenceLoader
        return ReferenceLoader(sandbox=sandbox)
    return make


BUILTIN: dict[str, Callable[[], Loader]] = {
    "reference": _reference(False),
    "reference-sandbox": _reference(True),
}


def shipped() -> dict[str, Path]:
    """The shipped loader files (conformance/data/loaders: node, rhino, ...), by name."""
    folder = resources.files("conformance").joinpath("data/loaders")
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".yaml")}


def command_loader(template: str, *, name: str | None = None, sandbox: bool = False,
                   env: Mapping[str, str] | None = None, spec: str | None = None,
                   timeout: float | None = None, features: Mapping[str, bool] | None = None,
                   install: str | None = None,
                   profiles: frozenset[str] = frozenset(PROFILES)) -> CommandLoader:
    """A loader that runs `template`; LoaderError when it cannot work on this machine. A
    command runs files as well as modules: given alone, it runs every profile (a loader file
    says which it runs)."""
    try:
        loader = CommandLoader(template, name=name, env=env,
                               declaration=Declaration(sandbox=sandbox, spec=spec,
                                                       timeout=timeout,
                                                       features=dict(features or {}),
                                                       profiles=frozenset(profiles)))
    except TemplateError as exc:
        raise LoaderError(str(exc)) from None
    _check_program(loader.argv[0], install)
    return loader


def host_loader(template: str, *, name: str, sandbox: bool = False,
                env: Mapping[str, str] | None = None, spec: str | None = None,
                timeout: float | None = None, features: Mapping[str, bool] | None = None,
                install: str | None = None, source: Path | None = None) -> HostLoader:
    """A loader run as a host (see conformance.host); LoaderError when it cannot work here."""
    try:
        loader = HostLoader(template, name=name, env=env, source=source,
                            declaration=Declaration(sandbox=sandbox, spec=spec, timeout=timeout,
                                                    features=dict(features or {})))
    except (TemplateError, ValueError) as exc:
        raise LoaderError(str(exc)) from None
    _check_program(loader.argv[0], install)
    return loader


def _check_program(program: str, install: str | None) -> None:
    """LoaderError when `program` cannot be run: not on PATH, or not executable."""
    if shutil.which(program) is None:
        hint = f" ({install})" if install else ""
        if os.sep in program and os.path.isfile(program):
            raise LoaderError(f"the loader command {program!r} is not executable{hint}")
        raise LoaderError(f"the loader command {program!r} is not found on PATH{hint}")


#: What a loader file's field must be, in the words its error gives.
_FIELD_RULES = {
    "name": "'name' must be a non-empty string",
    "command": "'command' must be a non-empty string",
    "protocol": f"protocol is one of {', '.join(PROTOCOLS)}",
    "env": "env maps variable names to strings (quote numbers)",
    "sandbox": "sandbox is true or false",
    "timeout": "timeout is a number of seconds",
    "features": f"features maps {', '.join(FEATURES)} to true or false",
    "install": "install is a string telling how to get the loader",
    "profiles": f"profiles maps a profile ({', '.join(PROFILES)}) to what changes in a run of "
                "it: {command: ..., env: {...}}, or {} for nothing",
}


def _worded(doc: Document, error: Any) -> LoaderFileError | None:
    """A schema error of a loader file in the words of its field's rule."""
    where = list(error.absolute_path)
    if error.validator == "required" and not where:
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing and missing[0] in _FIELD_RULES:
            return doc.error([], _FIELD_RULES[missing[0]])
    if (where[:1] == ["env"] or where[:1] == ["profiles"] and where[2:3] == ["env"]) \
            and "propertyNames" in error.schema_path:
        return doc.error(where + [error.instance], "a variable name is letters, digits and "
                         "'_', not starting with a digit", key=True)
    if where == ["spec"]:
        return doc.error(where, schemas.spec_problem(doc, error.instance))
    if where and where[0] in _FIELD_RULES:
        return doc.error(where[:1], _FIELD_RULES[where[0]])
    return None


def beside(command: str, directory: Path) -> str:
    """A loader file's command with its paths taken from the file's `directory`: {loader_dir}
    is that directory, and a relative word that names a file there (it holds a '/' or ends in
    a suffix, such as `./build/my-engine` or `driver.js`) is made absolute. Every other word
    (`node`, `run`, options, placeholders, a path that exists only where the suite runs) is
    left as it is."""
    words = parse_template(command.replace("{loader_dir}", shlex.quote(str(directory))))
    resolved = []
    for word in words:
        if (not word.startswith("-") and not os.path.isabs(word) and "{" not in word
                and ("/" in word or Path(word).suffix) and (directory / word).is_file()):
            word = os.path.normpath(directory / word)
        resolved.append(word)
    return shlex.join(resolved)


def from_file(path: Path, profile: str | None = None) -> CommandLoader | HostLoader:
    """The command loader a loader file describes (see README, 'Certify your loader'); for a
    run of `profile`, with that profile's command and env where the file gives them."""
    doc = read_document(Path(path), 1 << 16, LoaderFileError)
    data = doc.data
    if not isinstance(data, dict):
        raise LoaderFileError(path, 1, "", "a loader file holds a mapping (name, command, ...)")
    wrong = schemas.first_error(doc, "loader", _worded)
    if wrong is not None:
        raise wrong
    profiles = data.get("profiles") or {}
    protocol = data.get("protocol", "command")
    if profiles and protocol == "host":
        raise doc.error(["profiles"], "profiles go with protocol: command (a host is given "
                        "module trees only)")
    override = profiles.get(profile) or {}
    env = override["env"] if "env" in override else data.get("env") or {}
    sandbox = data.get("sandbox", False)
    spec = data.get("spec")
    timeout = data.get("timeout")
    if timeout is not None and timeout_problem(timeout):
        raise doc.error(["timeout"], str(timeout_problem(timeout)))
    features = data.get("features") or {}
    install = data.get("install")
    directory = Path(path).resolve().parent
    where = ["profiles", profile, "command"] if "command" in override else ["command"]
    try:
        command = beside(override.get("command", data["command"]), directory)
    except TemplateError as exc:
        raise doc.error(where, str(exc)) from None
    env = {k: v.replace("{loader_dir}", str(directory)) for k, v in env.items()}
    try:
        if protocol == "host":
            return host_loader(command, name=data["name"], sandbox=sandbox, env=env, spec=spec,
                               timeout=timeout, features=features, install=install,
                               source=Path(path).resolve())
        return command_loader(command, name=data["name"], sandbox=sandbox, env=env,
                              spec=spec, timeout=timeout, features=features, install=install,
                              profiles=frozenset(profiles))
    except LoaderError as exc:
        raise doc.error(where, str(exc)) from None


def _instantiate(target: Any, what: str) -> Loader:
    """A loader from a class that has run(), a factory function written in Python, or a ready
    instance. Nothing else is called: `sys:exit` or `os:abort` names a callable, not a loader."""
    if isinstance(target, Loader) and not isinstance(target, type):
        return target
    if not (inspect.isclass(target) and callable(getattr(target, "run", None))
            or inspect.isfunction(target)):
        raise LoaderError(f"{what} is {_kind(target)}, not a loader class (with name, "
                          "declaration and run()), a factory function or a loader")
    try:
        loader = target()
    except Exception as exc:
        raise LoaderError(f"{what} failed to start: {type(exc).__name__}: {exc}") from None
    except SystemExit as exc:  # a factory that tries to end the run is refused, not obeyed
        raise LoaderError(f"{what} called sys.exit({exc.code!r}) instead of returning a "
                          "loader") from None
    if not isinstance(loader, Loader) or isinstance(loader, type):
        raise LoaderError(f"{what} gave {loader!r}, which has no name, declaration and run()")
    return loader


def _kind(target: Any) -> str:
    if inspect.isclass(target):
        return f"the class {target.__qualname__}, which has no run()"
    if inspect.isbuiltin(target):
        return f"the built-in {getattr(target, '__name__', target)!r}"
    if inspect.ismodule(target):
        return f"the module {target.__name__}"
    return f"a {type(target).__name__}"


def _python_loader(name: str) -> Any:
    """What `module:Class` names (also `module:factory` or `module:Class.attribute`), the
    module imported with the current directory on sys.path, as `python -m` would have it;
    LoaderError in one line when the module or the name in it is missing."""
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise LoaderError(f"--loader {name!r}: a Python loader is given as module:Class")
    try:
        here = os.getcwd()
    except OSError as exc:
        raise LoaderError(f"cannot load {name!r}: the current directory is gone "
                          f"({exc.strerror})") from None
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name + ".").startswith(missing + "."):
            raise LoaderError(f"cannot load {name!r}: no module {missing!r} in the current "
                              f"directory ({here}) or on the Python path") from None
        raise LoaderError(f"cannot load {name!r}: importing {module_name} failed: "
                          f"{one_line(str(exc))}") from None
    except Exception as exc:  # a syntax error, or an error its code raised
        raise LoaderError(f"cannot load {name!r}: importing {module_name} raised "
                          f"{type(exc).__name__}: {one_line(str(exc))}") from None
    except SystemExit as exc:  # a module that tries to end the run is refused, not obeyed
        raise LoaderError(f"cannot load {name!r}: importing {module_name} called "
                          f"sys.exit({exc.code!r})") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            where = getattr(module, "__file__", None) or module_name
            raise LoaderError(f"cannot load {name!r}: {module_name} ({where}) has no "
                              f"{attribute!r}") from None
        target = getattr(target, part)
    return target


def _entry_point(name: str) -> metadata.EntryPoint | None:
    for entry in metadata.entry_points(group=ENTRY_POINTS):
        if entry.name == name:
            return entry
    return None


def known() -> list[str]:
    """Every loader name resolve() accepts, apart from mutant:, variant: and module:Class."""
    names = list(BUILTIN) + sorted(shipped())
    names += sorted(e.name for e in metadata.entry_points(group=ENTRY_POINTS))
    return names


def resolve(name: str, profile: str | None = None) -> Loader:
    """The loader called `name`: built-in, shipped loader file, mutant:/variant:, an installed
    package's entry point, or package.module:Class for a Python loader run in-process; a
    loader file as it runs `profile` (see from_file)."""
    if name in BUILTIN:
        return BUILTIN[name]()
    if name.startswith(("mutant:", "variant:")):
        from conformance.mutants import BY_NAME, VARIANTS
        kind, _, short = name.partition(":")
        table = BY_NAME if kind == "mutant" else VARIANTS
        if short not in table:
            raise LoaderError(f"unknown {kind} {name!r}; known: {', '.join(table)}")
        return table[short].loader()
    if name in shipped():
        return from_file(shipped()[name], profile)
    entry = _entry_point(name)
    if entry is not None:
        try:
            return _instantiate(entry.load(), f"entry point {name!r}")
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"entry point {name!r} ({entry.value}) failed to load: "
                              f"{type(exc).__name__}: {exc}") from None
    if ":" in name:
        return _instantiate(_python_loader(name), name)
    raise LoaderError(f"unknown loader {name!r}; known: {', '.join(known())}, mutant:NAME, "
                      "variant:NAME, package.module:Class")


def parse_env(pairs: list[str] | None) -> dict[str, str]:
    """KEY=VALUE strings as a mapping; LoaderError naming a malformed one."""
    env = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        # a variable's name is checked as in a loader file's env (conformance/schema)
        if not sep or schemas.problem("loader", {"name": "-", "command": "-", "env": {key: ""}}):
            raise LoaderError(f"--env takes KEY=VALUE (KEY letters, digits and '_', not "
                              f"starting with a digit), not {pair!r}")
        env[key] = value
    return env


def check_profile(loader: Loader, profile: str | None) -> None:
    """LoaderError, one line, when a run of `profile` is asked of a loader that does not
    declare it (Declaration.profiles); nothing when no profile is asked."""
    if profile and profile not in loader.declaration.profiles:
        runs = ", ".join(sorted(loader.declaration.profiles)) or "none"
        raise LoaderError(f"the loader {loader.name!r} does not declare the {profile} profile "
                          f"(profiles it runs: {runs}); a loader file lists it under "
                          f"profiles: {{{profile}: {{}}}}, and --loader-cmd runs any profile")


def from_options(loader: str | None = None, loader_cmd: str | None = None,
                 loader_file: Path | None = None, loader_name: str | None = None,
                 sandbox: bool = False, env: list[str] | None = None,
                 confine: bool = False, profile: str | None = None) -> Loader:
    """The loader that command-line options choose (the CLI's and pytest's alike), as it runs
    `profile` (refused with LoaderError when it does not declare it); options_of() gives those
    options back."""
    chosen = _from_options(loader, loader_cmd, loader_file, loader_name, sandbox, env, profile)
    check_profile(chosen, profile)
    if loader_cmd is not None:
        words = ["--loader-cmd", loader_cmd]
        words += ["--loader-name", loader_name] if loader_name is not None else []
        words += ["--sandbox"] if sandbox else []
        for pair in env or ():
            words += ["--env", pair]
    elif loader_file is not None:
        words = ["--loader-file", os.path.abspath(loader_file)]
    else:
        words = ["--loader", "reference-sandbox" if sandbox else loader or "reference"]
    if confine:
        words.append("--confine")
    if profile:
        words += ["--profile", profile]
    _remember(chosen, tuple(words))
    if confine:
        if not isinstance(chosen, CommandLoader):
            raise LoaderError("--confine goes with a loader command (--loader-cmd, "
                              "--loader-file, or a loader file such as node); an in-process "
                              "loader runs inside the suite")
        chosen.confined = True
        chosen.declaration = dataclasses.replace(chosen.declaration,
                                                 confinement=confinement_level())
    return chosen


#: The options from_options() chose each loader by, while the loader lives.
_CHOSEN: "weakref.WeakKeyDictionary[Any, tuple[str, ...]]" = weakref.WeakKeyDictionary()


def _remember(loader: Loader, words: tuple[str, ...]) -> None:
    try:
        _CHOSEN[loader] = words
    except TypeError:  # a loader of the user's that cannot be weakly referenced or hashed
        pass


def options_of(loader: Loader) -> tuple[str, ...]:
    """The command-line options that choose `loader` again (those from_options() was given,
    the paths made absolute); `--loader NAME` for a loader it did not make."""
    try:
        return _CHOSEN[loader]
    except (KeyError, TypeError):
        return ("--loader", loader.name)


def _from_options(loader: str | None, loader_cmd: str | None, loader_file: Path | None,
                  loader_name: str | None, sandbox: bool, env: list[str] | None,
                  profile: str | None = None) -> Loader:
    given = (("--loader", loader), ("--loader-cmd", loader_cmd), ("--loader-file", loader_file),
             ("--loader-name", loader_name))
    for option, value in given:  # an empty value never falls back to the reference loader
        if value is not None and not str(value).strip():
            raise LoaderError(f"{option} is empty")
    chosen = [o for o, v in given[:3] if v is not None]
    if len(chosen) > 1:
        raise LoaderError(f"choose one of {' and '.join(chosen)}")
    if loader_cmd is not None:
        return command_loader(loader_cmd, name=loader_name, sandbox=sandbox,
                              env=parse_env(env))
    if loader_name is not None or env:
        raise LoaderError("--loader-name and --env go with --loader-cmd")
    if loader_file is not None:
        if sandbox:
            raise LoaderError("a loader file says itself whether it is a sandbox (sandbox: true)")
        return from_file(loader_file, profile)
    name = loader or "reference"
    if sandbox:
        if name != "reference":
            raise LoaderError("--sandbox goes with the reference loader or --loader-cmd")
        name = "reference-sandbox"
    return resolve(name, profile)
