"""The QuickJS worker's side of the reference loader: one program run by loader.js in a fresh
QuickJS context, within its limits of time, memory, stack and output."""

from __future__ import annotations

import json
import threading
import time
from typing import Callable, Sequence, TypeVar

import quickjs

from conformance.contract import Ending, Execution
from conformance.reference import bytecode

T = TypeVar("T")


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
