"""The reference loader: CommonJS Modules/1.1.1 in a fresh QuickJS context per program."""

from __future__ import annotations

import functools
import json
import os
import posixpath
import stat
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import quickjs

from conformance.adapter import (DEFAULT_TIMEOUT, Capabilities, Declaration, Ending, Execution,
                                 Program)
from conformance.harness import HARNESS_ID, key_in
from conformance.reference import bytecode
from conformance.reference.process import Job, run_isolated, run_pipelined

T = TypeVar("T")

#: Where a Program's modules live in the virtual module tree: id `a/b` is /modules/a/b.js.
VIRTUAL_ROOT = "/modules"
VIRTUAL_SCHEME = "memory://"
FILE_SCHEME = "file://"

MEMORY_LIMIT = 256 << 20
#: Native stack of the thread QuickJS runs on. A 10,000-module require chain nests some 40,000
#: calls, far beyond a default thread's 8 MiB; only the pages touched are ever committed.
THREAD_STACK = 256 << 20
#: Native stack QuickJS may use: a 10,000-module chain fits. Not more: a deeper stack lets a
#: runaway recursion exhaust MEMORY_LIMIT first, and QuickJS then recurses without bound in
#: its own code while it builds the out-of-memory error's backtrace.
STACK_LIMIT = 64 << 20
#: Characters of printed output kept; beyond it output is dropped and the drop noted.
OUTPUT_LIMIT = 1 << 20
#: Extra memory granted after a run ended out of memory, so its output can still be read.
REPORT_HEADROOM = 32 << 20

#: exec_tree reads at most this many .js files and bytes below its root.
MAX_TREE_FILES = 20_000
MAX_TREE_BYTES = 64 << 20
#: ... and walks at most this many directories (symbolic links can multiply them).
MAX_TREE_DIRECTORIES = 20_000

#: The global through which loader.js receives its input (it deletes it at once).
INPUT_GLOBAL = "commonjsLoaderInput"
#: The global function through which loader.js is driven (it deletes it before the program).
CONTROL_GLOBAL = "commonjsLoaderControl"


def on_big_stack(call: Callable[[], T]) -> T:
    """Run `call` on a new thread with a THREAD_STACK-sized stack, and return its result: for
    the whole of a run of programs (the worker's serve loop), not for each one."""
    result: list = []

    def target() -> None:
        try:
            result.append((True, call()))
        except BaseException as exc:  # handed back to the caller, who raises it
            result.append((False, exc))

    previous = threading.stack_size(THREAD_STACK)
    try:
        thread = threading.Thread(target=target, name="quickjs")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value


@functools.cache
def loader_source() -> str:
    """The JavaScript of the reference loader, read once."""
    return resources.files(__name__).joinpath("loader.js").read_text("utf-8")


class ReferenceLoader:
    """The reference loader; sandbox=True drops require.paths and module.uri. Programs run in a
    QuickJS worker process (one per program running at once, kept between runs), so nothing
    they do can hang or crash the run."""

    def __init__(self, sandbox: bool = False, js_source: str | None = None,
                 memory_limit: int = MEMORY_LIMIT, stack_limit: int = STACK_LIMIT,
                 name: str | None = None):
        self.sandbox = sandbox
        self.name = name or ("reference-sandbox" if sandbox else "reference")
        # The stock loader.js has every feature a non-sandbox may have, and a sandbox keeps
        # require.main only; an edited copy (a mutant or variant) declares nothing and is probed.
        features = {} if js_source is not None else {
            "require.main": True, "require.paths": not sandbox, "module.uri": not sandbox}
        self.declaration = Declaration(sandbox=sandbox, spec="1.1.1", features=features)
        self.js_source = loader_source() if js_source is None else js_source
        self.memory_limit = memory_limit
        self.stack_limit = stack_limit
        # run() waits on a QuickJS worker process; run_all pipelines; `exec` runs a tree in
        # place. A kept tree is rerun through `exec` with this loader's name.
        rerun = ("python", "runner.py", "exec", "{root}", "{main}", "--loader", "reference",
                 "--sandbox") if self.name == "reference-sandbox" else ()
        self.capabilities = Capabilities(waits_on_process=True, pipelines=True,
                                         runs_trees=True, rerun=rerun)

    def run(self, program: Program) -> Execution:
        return run_isolated(self._job(program))

    def run_tree(self, root: Path, main: str, timeout: float) -> Execution:
        """The module tree in directory `root` run where it is (see exec_tree)."""
        return exec_tree(root, main, sandbox=self.sandbox, timeout=timeout,
                         js_source=self.js_source)

    def run_all(self, programs: Iterable[Program]) -> Iterator[Execution]:
        """run() for each program in turn, pipelined (process.run_pipelined): the worker
        starts the next program while the caller judges the last."""
        return run_pipelined(self._job(program) for program in programs)

    def _job(self, program: Program) -> Job:
        files = [(f"{VIRTUAL_ROOT}/{module_id}.js", source)
                 for module_id, source in program.modules.items()]
        tree = _Tree(files, VIRTUAL_ROOT, VIRTUAL_SCHEME)
        key = key_in(program.modules.get(HARNESS_ID, ""))
        compiled = [f"{VIRTUAL_ROOT}/{HARNESS_ID}.js"] if key else []
        return Job(self.js_source, loader_input(tree, program.main, self.sandbox, compiled),
                   program.timeout, self.memory_limit, self.stack_limit, OUTPUT_LIMIT, key)


@dataclass(frozen=True)
class _Tree:
    """Module files (full path, source), the root they hang from, and the scheme of their URIs."""

    files: list[tuple[str, str]]
    root: str
    uri_scheme: str


def loader_input(tree: _Tree, main: str, sandbox: bool, compiled: Sequence[str] = (),
                 output_limit: int = OUTPUT_LIMIT) -> str:
    """The JSON loader.js reads (see its header). compiled: paths whose factories may come
    precompiled, in the order execute()'s factories give them."""
    return json.dumps({"files": tree.files, "root": tree.root, "main": main,
                       "sandbox": sandbox, "uriScheme": tree.uri_scheme,
                       "outputLimit": output_limit, "compiled": list(compiled)})


def execute(js_source: str, input_json: str, timeout: float,
            memory_limit: int = MEMORY_LIMIT, stack_limit: int = STACK_LIMIT,
            output_limit: int = OUTPUT_LIMIT, loader_bytecode: bytes | None = None,
            factories: Sequence[bytes] = ()) -> Execution:
    """Run loader `js_source` on `input_json` (see loader_input) in a fresh QuickJS context.

    loader_bytecode, when given, is js_source compiled (see .compiled); factories are scripts
    that hand the loader the factories of the input's "compiled" paths, compiled ahead of time
    from those files' sources. Should any of them throw, the program runs again from source.
    """
    started = time.perf_counter()
    cpu_deadline = time.process_time() + timeout
    context = quickjs.Context()
    context.set_time_limit(timeout)
    context.set_memory_limit(memory_limit)
    context.set_max_stack_size(stack_limit)
    context.set(INPUT_GLOBAL, input_json)

    try:
        if loader_bytecode is None:
            context.eval(js_source)
        elif not all(bytecode.run_script(context, script)
                     for script in (loader_bytecode, *factories)):
            return execute(js_source, input_json, timeout, memory_limit, stack_limit,
                           output_limit)
        control = context.get(CONTROL_GLOBAL)
        if not isinstance(control, quickjs.Object):
            raise TypeError(f"it defined no function {CONTROL_GLOBAL}")
    except (quickjs.JSException, TypeError) as exc:
        if isinstance(exc, quickjs.JSException) and _interrupted(exc):
            return _timed_out("", [], timeout, started)
        return Execution(stdout="", ending=Ending.CRASHED, exit_code=None,
                         seconds=time.perf_counter() - started,
                         diagnostic=f"the reference loader failed to start: {_summary(exc)}")

    report: dict | str = {}
    uncaught = None
    timed_out = False
    try:
        text = control("run")
        if context.execute_pending_job():  # promise jobs may print more: read it again later
            timed_out = not _drain_jobs(context, cpu_deadline)
        else:
            report = _parsed_report(text)
    except quickjs.JSException as exc:  # the time limit, or a second error while reporting one
        timed_out = _interrupted(exc)
        uncaught = None if timed_out else "Uncaught " + _summary(exc)
    if not report:
        report = _report(context, control, memory_limit)
    malformed = None
    if isinstance(report, str):
        malformed = (f"the program's reply was malformed: {report} (loader.js writes it with "
                     "JSON.stringify, which the program may have replaced)")
        report = {}

    stdout = report.get("stdout", "")
    notes = []
    if report.get("truncated"):
        notes.append(f"reference loader: output beyond {output_limit} characters was dropped")
    if malformed and timed_out:
        notes.append(f"reference loader: {malformed}")
    elif not report:
        notes.append("reference loader: the output could not be read back")
    if timed_out:
        return _timed_out(stdout, notes, timeout, started, bool(report.get("truncated")))
    if malformed:
        # The printed output travels in the report, which could not be read: none is kept.
        return Execution(stdout="", stderr=f"{uncaught}\n" if uncaught else "",
                         ending=Ending.CRASHED, exit_code=None,
                         seconds=time.perf_counter() - started, diagnostic=malformed)
    uncaught = report.get("error") or uncaught
    stderr = [uncaught] if uncaught else []
    return Execution(stdout=stdout, stderr="".join(line + "\n" for line in stderr + notes),
                     ending=Ending.EXITED, exit_code=1 if uncaught else 0,
                     seconds=time.perf_counter() - started,
                     truncated=bool(report.get("truncated")))


def _drain_jobs(context: quickjs.Context, cpu_deadline: float) -> bool:
    """Run pending promise jobs, as a host does once the main module returned.

    False when CPU time ran out: QuickJS turns the time limit inside a job into a rejection,
    so the deadline is checked between jobs.
    """
    while time.process_time() <= cpu_deadline:
        if not context.execute_pending_job():
            return True
    return False


def _report(context: quickjs.Context, control: quickjs.Object,
            memory_limit: int) -> dict | str:
    """What loader.js collected (see _parsed_report), or {} if it cannot say."""
    try:
        context.set_memory_limit(memory_limit + REPORT_HEADROOM)
        return _parsed_report(control("report"))
    except quickjs.JSException:
        return {}


#: The fields of loader.js's report: the Python types their JSON values may have, and those
#: types in words.
REPORT_FIELDS = (("stdout", (str,), "a string"), ("truncated", (bool,), "true or false"),
                 ("error", (str, type(None)), "a string or null"))


def _parsed_report(reply: object) -> dict | str:
    """loader.js's report, {"stdout": text, "truncated": bool, "error": text or null}, read
    from the JSON text `reply`; or, when it is not that, what is wrong with it. loader.js makes
    that text with the JSON.stringify of the context the program ran in, so a program that
    replaced it can hand back anything."""
    if not isinstance(reply, str):
        return f"JSON.stringify gave {_js_kind(reply)}, not a string"
    try:
        report = json.loads(reply)
    except (ValueError, RecursionError):
        return f"JSON.stringify gave text that is not JSON: {_shown(reply)}"
    if not isinstance(report, dict):
        return f"JSON.stringify gave a JSON {_json_kind(report)}, not an object: {_shown(reply)}"
    for name, kinds, wanted in REPORT_FIELDS:
        if name not in report:
            return f"the report has no {name!r}: {_shown(reply)}"
        if not isinstance(report[name], kinds):
            return (f"the report's {name!r} is a JSON {_json_kind(report[name])}, not "
                    f"{wanted}: {_shown(reply)}")
    return report


def _json_kind(value: object) -> str:
    """The JSON type name of a value json.loads gives."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _js_kind(value: object) -> str:
    """What a JavaScript value quickjs hands back is, in JavaScript's words."""
    if value is None:
        return "undefined or null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return "an object or a function"


def _shown(text: str, limit: int = 60) -> str:
    """text as a short, one-line quotation."""
    return ascii(text) if len(text) <= limit else \
        ascii(text[:limit]) + f"... ({len(text)} characters)"


def _timed_out(stdout: str, notes: list[str], timeout: float, started: float,
               truncated: bool = False) -> Execution:
    return Execution(stdout=stdout, stderr="".join(line + "\n" for line in notes),
                     ending=Ending.TIMED_OUT, exit_code=None, truncated=truncated,
                     seconds=time.perf_counter() - started,
                     diagnostic=f"stopped at the CPU time limit of {timeout:g} s")


def _interrupted(exc: quickjs.JSException) -> bool:
    return str(exc).startswith("InternalError: interrupted")


def _summary(exc: BaseException) -> str:
    """The first line of a QuickJS exception and its innermost frame: never the whole stack."""
    lines = str(exc).splitlines()
    first = lines[0] if lines else type(exc).__name__
    frame = next((line.strip() for line in lines[1:2] if line.strip().startswith("at ")), "")
    return first + (f"\n    {frame}" if frame else "")


# ---------------------------------------------------------------------------- real directories

def exec_tree(root: Path | str, main: str, sandbox: bool = False,
              timeout: float = DEFAULT_TIMEOUT, js_source: str | None = None) -> Execution:
    """Run module `main` of the module tree in directory `root`: id `a/b` is ROOT/a/b.js.

    Every .js file below ROOT is read up front (symbolic links leading out of ROOT are not
    followed); raises ValueError when ROOT is no directory, holds too much, or lacks MAIN.js.
    """
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    files = dict(_read_tree(directory))
    main_path = posixpath.normpath(posixpath.join(directory, f"{main}.js"))
    if not main or main_path not in files:
        hint = " (give the module id, without .js)" if main.endswith(".js") else ""
        raise ValueError(f"{root}: no main module {main!r}: "
                         f"{posixpath.join(directory, main + '.js')} does not exist{hint}")
    main_id = posixpath.relpath(main_path, directory)[:-len(".js")]
    tree = _Tree(list(files.items()), directory, FILE_SCHEME)
    return run_isolated(Job(js_source or loader_source(), loader_input(tree, main_id, sandbox),
                            timeout, MEMORY_LIMIT, STACK_LIMIT, OUTPUT_LIMIT))


def read_modules(root: Path | str) -> dict[str, str]:
    """Module id -> source of every .js file below root, as exec_tree reads them."""
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    return {posixpath.relpath(path, directory)[:-len(".js")]: source
            for path, source in _read_tree(directory)}


def _read_tree(root: str) -> list[tuple[str, str]]:
    """(path, source) of every .js file below `root`, within the limits."""
    real_root = os.path.realpath(root)
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
            if not entry.name.endswith(".js") or not stat.S_ISREG(status.st_mode):
                continue
            total += status.st_size
            if len(found) >= MAX_TREE_FILES:
                raise ValueError(f"{root}: more than {MAX_TREE_FILES} .js files "
                                 "(the limit of the reference loader)")
            if total > MAX_TREE_BYTES:
                raise ValueError(f"{root}: its .js files exceed {MAX_TREE_BYTES} bytes "
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
