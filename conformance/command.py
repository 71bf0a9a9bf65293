"""Any command as a loader: the modules written to a fresh directory, the command run on it."""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import select
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Callable, Mapping

from conformance.contract import Capabilities, Declaration, Ending, Execution, Program
from conformance.confine import absolute_words, confine
from conformance.descendants import Descendants, kill_group
from conformance.stopping import track, untrack

#: Bytes of stdout and of stderr kept from one run; the rest is read and dropped.
OUTPUT_LIMIT = 4 << 20
#: Seconds to wait for the output pipes to close once the process group is gone.
DRAIN_SECONDS = 5.0
#: Seconds after which output pipes still open are held by a process that escaped the kill.
PIPES_CLOSE = 0.1
#: A stdout that reached its end this many seconds before the loader did was closed early.
CLOSED_EARLY = 0.2
#: Seconds of writing a case's tree that its diagnostic mentions.
WRITING_NOTED = 0.5
PLACEHOLDERS = ("root", "main", "main_file")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MODULE_ID = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(/[A-Za-z_$][A-Za-z0-9_$]*)*")
#: A word of a command that names a script: a plain path ending in a suffix such as `.js`.
_SCRIPT = re.compile(r"[\w@+~./-]*[\w@+~-]\.[A-Za-z0-9]{1,5}")


class TemplateError(ValueError):
    """A command template that cannot work, with a message for the user."""


def parse_template(template: str) -> tuple[str, ...]:
    """Split a template with shell quoting rules and check its placeholders."""
    try:
        argv = tuple(shlex.split(template))
    except ValueError as exc:
        raise TemplateError(f"cannot split {template!r}: {exc}") from None
    if not argv:
        raise TemplateError("the loader command is empty")
    for arg in argv:
        for name in _PLACEHOLDER.findall(arg):
            if name not in PLACEHOLDERS:
                raise TemplateError(f"unknown placeholder {{{name}}} in {template!r}; "
                                    f"known: {', '.join('{%s}' % p for p in PLACEHOLDERS)}")
    return argv


def default_name(argv: tuple[str, ...]) -> str:
    """The name of a loader given only as a command (see README, 'Certify your loader'): the
    module after `-m` (`python3 -m my.loader {root}` -> my.loader), else the stem of the first
    later word naming a script (`node examples/mini-loader.js {root} {main}` -> mini-loader),
    else the program's base name (`./build/my-engine run {root}` -> my-engine). It depends on
    the command's words alone, never on the machine, so results and expectations keep it."""
    for before, word in zip(argv, argv[1:]):
        if _PLACEHOLDER.search(word):
            break
        if before == "-m":
            return word
        if not word.startswith("-") and _SCRIPT.fullmatch(word):
            return Path(word).stem
    return Path(argv[0]).name


def substitute(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class TreeTimeout(Exception):
    """Writing a case's module tree ran past the case's time limit."""

    def __init__(self, written: int, total: int, what: str = "modules"):
        super().__init__(f"wrote {written} of {total} {what}")
        self.written, self.total = written, total


#: The longest path the file system takes (Linux's PATH_MAX where it cannot say).
try:
    _PATH_MAX = os.pathconf("/", "PC_PATH_MAX")
except (OSError, ValueError, AttributeError):
    _PATH_MAX = 4096
#: Modules written between two looks at the clock.
_CLOCK_EVERY = 32


def write_tree(root: Path, modules: Mapping[str, str], deadline: float | None = None) -> None:
    """Write module id `a/b` as ROOT/a/b.js; an id that would leave ROOT is refused. With a
    `deadline` (time.monotonic()), raise TreeTimeout once it has passed: a tree of 20,000
    modules takes its time, and that time is the case's.

    Ids are checked by their form (camelCase terms: no '.', '..', or absolute path), and each
    directory and file is created afresh without following a link at its name, so nothing is
    written outside ROOT; each directory is made once, whatever the number of modules in it.
    """
    made: set[str] = set()
    for count, (module_id, source) in enumerate(modules.items()):
        if not _MODULE_ID.fullmatch(module_id):
            raise ValueError(f"module id {module_id!r} is not a top-level id of camelCase terms")
        if deadline is not None and count % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise TreeTimeout(count, len(modules))
        path = os.path.join(root, module_id + ".js")
        if len(os.fsencode(path)) >= _PATH_MAX:  # refused before a directory of it is made
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), path)
        parent, _, name = module_id.rpartition("/")
        if parent and parent not in made:
            _make_directories(root, parent, made)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        with open(os.open(path, flags, 0o644), "wb") as out:
            out.write(source.encode("utf-8", errors="surrogatepass"))


def _make_directories(root: Path, relative: str, made: set[str]) -> None:
    """ROOT/relative and the directories above it, each a real directory (not a link)."""
    terms = relative.split("/")
    for depth in range(1, len(terms) + 1):
        prefix = "/".join(terms[:depth])
        if prefix in made:
            continue
        path = os.path.join(root, prefix)
        try:
            os.mkdir(path)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise ValueError(f"directory {prefix!r} exists and is not a directory "
                                 f"(a link?) under {root}") from None
        made.add(prefix)


#: A file path of a node profile case, as the case schema has it ($defs/filePath): checked
#: again here, so that no path given to write_files leaves its root.
_FILE_PATH = re.compile(r"[A-Za-z0-9_$@+-][A-Za-z0-9_$@.+-]{0,63}"
                        r"(/[A-Za-z0-9_$@+-][A-Za-z0-9_$@.+-]{0,63}){0,15}")


def is_file_path(main: str) -> bool:
    """Whether a program's main names a file (a node profile program: `app/program.js`)
    rather than a module id (`program`, whose file is program.js): ids hold no '.'."""
    return "." in main


def main_file(root: Path, main: str) -> Path:
    """The main module's file under root: the path itself, or the id's file (ID.js)."""
    return root / (main if is_file_path(main) else f"{main}.js")


def write_files(root: Path, files: Mapping[str, str], deadline: float | None = None) -> None:
    """Write each file of a node profile program at ROOT/path, its text as UTF-8. Nothing is
    written outside ROOT: a path is segments that never start with '.'; each directory is made
    with os.mkdir (an existing one must be a real directory, not a link); each file is created
    afresh (O_CREAT|O_EXCL|O_NOFOLLOW), after its parent's real path was checked to be under
    ROOT's. With a `deadline`, raise TreeTimeout once it has passed."""
    real_root = os.path.realpath(root)
    made: set[str] = set()
    for count, (file_path, text) in enumerate(files.items()):
        if not _FILE_PATH.fullmatch(file_path) or len(file_path) > 200:
            raise ValueError(f"file path {file_path!r} is not segments joined by '/' (no "
                             "segment starting with '.')")
        if deadline is not None and count % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise TreeTimeout(count, len(files), "files")
        path = os.path.join(root, file_path)
        if len(os.fsencode(path)) >= _PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), path)
        parent = file_path.rpartition("/")[0]
        if parent and parent not in made:
            _make_directories(root, parent, made)
        real_parent = os.path.realpath(os.path.join(root, parent))
        if real_parent != real_root and not real_parent.startswith(real_root + os.sep):
            raise ValueError(f"the directory of {file_path!r} leads outside {root}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with open(os.open(path, flags, 0o644), "wb") as out:
            out.write(text.encode("utf-8", errors="surrogatepass"))


def write_case_tree(base: Path, modules: Mapping[str, str],
                    deadline: float | None = None,
                    files: Mapping[str, str] | None = None) -> Path:
    """Write the modules (or a node profile program's files) at BASE/root and return that
    root: the case's whole tree, nothing beside or above it, so that a kept copy of the tree
    reproduces the run."""
    root = base / "root"
    root.mkdir(exist_ok=True)
    if files:
        write_files(root, files, deadline)
    else:
        write_tree(root, modules, deadline)
    return root


class _Reader(threading.Thread):
    """Reads a pipe to its end, keeping the first `limit` bytes; past the limit it calls
    `on_overflow` once (which stops the loader) and drops the rest."""

    def __init__(self, pipe: IO[bytes], limit: int, on_overflow: Callable[[], None]):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.limit = limit
        self.on_overflow = on_overflow
        self.kept = bytearray()
        self.dropped = 0
        #: When the pipe reached its end (perf_counter), or None while it is open.
        self.closed_at: float | None = None

    def run(self) -> None:
        try:
            while chunk := self.pipe.read1(65536):
                room = self.limit - len(self.kept)
                self.kept += chunk[:room]
                if len(chunk) > room:
                    if not self.dropped:
                        self.on_overflow()
                    self.dropped += len(chunk) - room
        except (OSError, ValueError):
            pass
        self.closed_at = time.perf_counter()

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for proc to end, at most `timeout` seconds; False when it did not.

    Popen.wait(timeout) polls with sleeps that grow to 50 ms, so a loader ending at 64 ms was
    seen at 113 ms; a pidfd (Linux) wakes the moment it ends.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux, or an old kernel
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        if not select.select([pidfd], [], [], timeout)[0]:
            return False
    finally:
        os.close(pidfd)
    proc.wait()
    return True


def run_command(argv: list[str], cwd: Path, env: Mapping[str, str], timeout: float,
                output_limit: int = OUTPUT_LIMIT, limit: float | None = None,
                shown: str | None = None) -> Execution:
    """Run argv in its own process group; when it ends, times out or floods its output, kill
    it and all its descendants (see conformance.descendants). `limit`: the time limit a
    timeout names, when `timeout` is what is left of it; `shown`: the command as messages
    name it (default: argv)."""
    command = shown or shlex.join(argv)
    started = time.perf_counter()
    family = Descendants()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env={**env, **family.env},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                preexec_fn=family.preexec())
    except OSError as exc:
        family.kill()
        return Execution(stdout="", ending=Ending.UNAVAILABLE, exit_code=None,
                         seconds=time.perf_counter() - started,
                         diagnostic=f"{argv[0]}: {exc.strerror or exc}; command: {command}")
    family.started(proc.pid)
    track(proc.pid)
    flooded = threading.Event()

    def stop_flood() -> None:
        flooded.set()
        kill_group(proc.pid)

    readers = [_Reader(proc.stdout, output_limit, stop_flood),
               _Reader(proc.stderr, output_limit, stop_flood)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        timed_out = not _wait(proc, timeout)
    finally:
        exited_at = time.perf_counter()
        kill_group(proc.pid)  # also the children a finished command left behind
        proc.wait()
        family.kill()
        untrack(proc.pid)
        family.finished()
    for reader in readers:
        reader.join(PIPES_CLOSE)
    if any(reader.is_alive() for reader in readers):
        family.kill_pipe_holders([proc.stdout.fileno(), proc.stderr.fileno()])
    deadline = time.monotonic() + DRAIN_SECONDS
    for reader in readers:
        reader.join(max(0.0, deadline - time.monotonic()))
    seconds = time.perf_counter() - started
    out, err = readers
    notes = [f"{name}: {r.dropped} bytes beyond {output_limit} were dropped"
             for name, r in (("stdout", out), ("stderr", err)) if r.dropped]
    closed_early = out.closed_at is not None and out.closed_at < exited_at - CLOSED_EARLY
    if closed_early:
        notes.append(f"stdout was closed {exited_at - out.closed_at:.1f} s before the loader "
                     "ended")
    flags = {"truncated": flooded.is_set(), "stdout_closed": closed_early}
    if flooded.is_set():
        how = f"stopped at the output limit of {output_limit} bytes"
        ending, code = Ending.EXITED, None
    elif timed_out:
        how = f"killed after {timeout if limit is None else limit:g} s"
        ending, code = Ending.TIMED_OUT, None
    elif proc.returncode < 0:
        how = f"killed by {_signal_name(-proc.returncode)}"
        ending, code = Ending.CRASHED, None
    else:
        how = f"exit status {proc.returncode}"
        ending, code = Ending.EXITED, proc.returncode
    return Execution(out.text(), err.text(), ending, code, seconds,
                     "; ".join([f"{how}; command: {command}"] + notes), **flags)


def _placeholders(execution: Execution, base: Path) -> Execution:
    """The run's output with its temporary directory written as {root}, so that messages,
    results and reports are the same from run to run."""
    spots = ((str(base / "root"), "{root}"), (str(base), "{root}/.."))

    def clean(text: str) -> str:
        for path, placeholder in spots:
            text = text.replace(path, placeholder)
        return text

    return dataclasses.replace(execution, stdout=clean(execution.stdout),
                               stderr=clean(execution.stderr),
                               diagnostic=clean(execution.diagnostic))


class CommandLoader:
    """A loader that is an external command, given as a template with {root}, {main}, {main_file}."""

    def __init__(self, template: str, *, name: str | None = None,
                 declaration: Declaration = Declaration(),
                 env: Mapping[str, str] | None = None, confined: bool = False):
        self.argv = parse_template(template)
        self.template = template
        self.name = name or default_name(self.argv)
        self.declaration = declaration
        self.env = dict(env or {})
        #: Run confined (see conformance.confine): a clean environment, private HOME and
        #: working directory, and with bwrap a read-only file system.
        self.confined = confined
        # run() waits on the command; `exec` runs it on a tree in place; a kept tree is rerun
        # with the command itself (and its variables).
        variables = tuple(f"{k}={v}" for k, v in self.env.items())
        self.capabilities = Capabilities(
            waits_on_process=True, runs_trees=True,
            rerun=(("env",) + variables if variables else ()) + tuple(self.argv))

    def run_tree(self, root: Path, main: str, timeout: float) -> Execution:
        """The command run on the module tree in directory `root`, where it is (a node profile
        tree when `main` is a file path: see command_for)."""
        if not Path(root).is_dir():
            raise ValueError(f"{root}: not a directory")
        home = None
        if is_file_path(main):
            home = Path(tempfile.mkdtemp(prefix="cjs-conformance-home-"))
        try:
            argv, env = self.command_for(Path(root).resolve(), main, home)
            return run_command(argv, Path.cwd(), env, timeout)
        finally:
            if home is not None:
                shutil.rmtree(home, ignore_errors=True)

    def _own_env(self, root: Path, main: str) -> dict[str, str]:
        values = {"root": str(root), "main": main, "main_file": str(main_file(root, main))}
        return {k: substitute(v, values) for k, v in self.env.items()}

    def command_for(self, root: Path, main: str,
                    home: Path | None = None) -> tuple[list[str], dict[str, str]]:
        """The command's words and environment for the tree at root. For a node profile
        program (main a file path), `home` is a private empty directory: the environment has
        no NODE_PATH of the user's, and HOME is that directory (Node's GLOBAL_FOLDERS read
        $HOME/.node_modules), so that nothing outside the case's files can be found."""
        values = {"root": str(root), "main": main, "main_file": str(main_file(root, main))}
        words = absolute_words(self.argv) if self.confined else self.argv
        argv = [substitute(arg, values) for arg in words]
        inherited = dict(os.environ)
        if is_file_path(main):
            inherited.pop("NODE_PATH", None)
            if home is not None:
                inherited["HOME"] = str(home)
        return argv, {**inherited, **self._own_env(root, main)}

    def run(self, program: Program) -> Execution:
        """Write the tree and run the command on it: both within the program's time limit."""
        started = time.perf_counter()
        deadline = time.monotonic() + program.timeout
        base = Path(tempfile.mkdtemp(prefix="cjs-conformance-"))
        try:
            try:
                root = write_case_tree(base, program.modules, deadline, program.files)
            except TreeTimeout as exc:
                return Execution(stdout="", ending=Ending.TIMED_OUT, exit_code=None,
                                 seconds=time.perf_counter() - started,
                                 diagnostic=f"writing the module tree took longer than the time "
                                            f"limit of {program.timeout:g} s ({exc}); the loader "
                                            "was not started")
            writing = time.perf_counter() - started
            home = None
            if program.files:  # a node profile program: a private, empty HOME
                home = base / "home"
                home.mkdir()
            argv, env = self.command_for(root, program.main, home)
            # Run where the suite was started, so that relative paths in the template work.
            cwd, shown = Path.cwd(), shlex.join(argv)
            if self.confined:
                argv, env, cwd = confine(argv, env, base, self._own_env(root, program.main))
                shown += f" (confined: {self.declaration.confinement or 'environment'})"
            execution = run_command(argv, cwd, env,
                                    max(0.0, deadline - time.monotonic()),
                                    limit=program.timeout, shown=shown)
            if writing >= WRITING_NOTED:
                execution = dataclasses.replace(
                    execution, diagnostic=f"{execution.diagnostic}; writing the module tree "
                                          f"took {writing:.1f} s of the time limit")
            execution = dataclasses.replace(execution, seconds=time.perf_counter() - started)
        finally:
            if base.is_symlink():  # the loader swapped its directory for a link: not followed
                base.unlink()
            else:
                shutil.rmtree(base, ignore_errors=True)
        return _placeholders(execution, base)
