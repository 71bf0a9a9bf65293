"""The runner's side of the QuickJS worker process: jobs sent, replies read, stuck workers killed.

A worker (conformance.reference.worker) is a transport.Channel: the same pool, deadline,
kill-and-restart path and pipelining as a host-protocol loader (conformance.host).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import math
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from conformance.contract import Ending, Execution
from conformance.transport import (DIED, FLOODED, STUCK, Broken, Channel, Exchange, GARBLED,
                                   Pool, StartError, pipeline)

#: Wall-clock seconds a program may take beyond twice its CPU limit before its QuickJS worker
#: is taken to be stuck in native code (where QuickJS does not check the CPU limit) and killed.
WALL_MARGIN = 1.0
#: Characters of a reply's stdout, stderr and diagnostic each at most (the worker cuts them),
#: so that a reply line has a bound: the reference loader's own output limit. loader.js keeps
#: stdout within it; an uncaught error's message has no bound of its own.
FIELD_CHARS = 1 << 20
#: What precedes a run message's input, last in its line: the input (loader.js's JSON text)
#: follows as it is, then the closing brace. No field before it can hold these bytes, and in
#: JSON text a quote inside a string is escaped, so their first occurrence is the input's.
RAW_INPUT = b', "input": '
#: Bytes of one reply line at most: stdout, stderr and the diagnostic at FIELD_CHARS characters
#: each, every character escaped (12 bytes for one beyond the BMP), and the rest.
LINE_LIMIT = 3 * 12 * FIELD_CHARS + (64 << 10)


@dataclass(frozen=True)
class Job:
    """One program for the worker: loader.js's input (JSON) and the limits to run it under."""

    js_source: str
    input: str
    timeout: float
    memory_limit: int
    stack_limit: int
    output_limit: int
    #: The key of the harness helper at the input's first "compiled" path, if it is there.
    harness_key: str | None = None


def _start() -> Channel:
    # (This module does not import the worker's: `python -m` would then find it imported.)
    # The worker watches for the runner's death by its pid (see worker.watch_parent).
    return Channel([sys.executable, "-m", "conformance.reference.worker", str(os.getpid())],
                   os.environ, None, LINE_LIMIT)


#: Workers not running anything, kept for the next run in any thread.
POOL = Pool(_start)
atexit.register(POOL.close)


@functools.lru_cache(maxsize=64)
def _source_id(js_source: str) -> str:
    return hashlib.sha256(js_source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _wall_limit(job: Job) -> float:
    return 2 * job.timeout + WALL_MARGIN


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_exit_code(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value) and value >= 0


def _is_ending(value: Any) -> bool:
    return isinstance(value, str) and value in _ENDINGS


_ENDINGS = {ending.value: ending for ending in Ending}
#: Each field of a reply (every field of Execution): whether a value is fit for it, in words.
_REPLY_FIELDS = {
    "stdout": (_is_text, "a string"), "stderr": (_is_text, "a string"),
    "ending": (_is_ending, f"one of {', '.join(sorted(_ENDINGS))}"),
    "exit_code": (_is_exit_code, "an integer or null"),
    "seconds": (_is_seconds, "a finite number, not negative"),
    "diagnostic": (_is_text, "a string"), "truncated": (_is_flag, "true or false"),
    "stdout_closed": (_is_flag, "true or false"), "leak": (_is_text, "a string"),
}


def reply_problem(message: Mapping[str, Any]) -> str | None:
    """Why `message` is not a worker's reply (an Execution's fields), in one line; None when
    it is one."""
    m = message  # every reply is checked: the common case first, in one expression
    if (m.keys() == _REPLY_FIELDS.keys() and type(m["stdout"]) is str
            and type(m["stderr"]) is str and type(m["diagnostic"]) is str
            and type(m["leak"]) is str and type(m["truncated"]) is bool
            and type(m["stdout_closed"]) is bool
            and type(m["ending"]) is str and m["ending"] in _ENDINGS
            and (m["exit_code"] is None or type(m["exit_code"]) is int)
            and type(m["seconds"]) in (int, float) and 0 <= m["seconds"] < math.inf):
        return None
    missing = [name for name in _REPLY_FIELDS if name not in message]
    if missing:
        return f"no {', '.join(missing)}"
    extra = sorted(set(message) - set(_REPLY_FIELDS))
    if extra:
        return f"fields no Execution has: {', '.join(extra)[:200]}"
    for name, (fit, wanted) in _REPLY_FIELDS.items():
        if not fit(message[name]):
            return f"its {name} is {ascii(message[name])[:80]}, not {wanted}"
    return None


class _Exchange(Exchange[Job, Execution]):
    """Jobs for a QuickJS worker: each loader source sent once per worker, then run messages."""

    def messages(self, channel: Channel, job: Job) -> list[Mapping[str, Any]]:
        """The messages (see worker), the input as a string; lines() writes them."""
        source_id = _source_id(job.js_source)
        run = {"type": "run", "source": source_id, "timeout": job.timeout,
               "memory_limit": job.memory_limit, "stack_limit": job.stack_limit,
               "output_limit": job.output_limit, "harness_key": job.harness_key,
               "input": job.input}
        if source_id in channel.state.get("sources", ()):
            return [run]
        return [{"type": "source", "id": source_id, "text": job.js_source}, run]

    def lines(self, channel: Channel, job: Job) -> bytes:
        """messages() as lines, the run message's input written as the JSON text it is (see
        worker.RAW_INPUT): it is neither escaped here nor unescaped in the worker."""
        *source, run = self.messages(channel, job)
        text = run.pop("input")
        if "\n" in text:  # in JSON text, a line feed can only be white space between tokens
            text = text.replace("\n", " ")
        head = json.dumps(run).encode("ascii")
        line = head[:-1] + RAW_INPUT + text.encode("utf-8", "surrogatepass") + b"}\n"
        return (channel.encode(source) if source else b"") + line

    def sent(self, channel: Channel, job: Job) -> None:
        channel.state.setdefault("sources", set()).add(_source_id(job.js_source))

    def limit(self, job: Job) -> float:
        return _wall_limit(job)

    def reply(self, channel: Channel, job: Job, message: dict[str, Any],
              seconds: float) -> Execution | Broken:
        wrong = reply_problem(message)
        if wrong is not None:
            return Broken(GARBLED, f"a reply that is not an Execution ({wrong})")
        return Execution(**{**message, "ending": _ENDINGS[message["ending"]]})

    def broken(self, channel: Channel, job: Job, broken: Broken, seconds: float) -> Execution:
        if broken.why == STUCK:
            return Execution(stdout="", ending=Ending.TIMED_OUT, exit_code=None, seconds=seconds,
                             diagnostic=f"no answer within {_wall_limit(job):g} s of wall clock "
                                        "(QuickJS stuck in native code, where its CPU limit is "
                                        "not checked); the QuickJS worker process was killed")
        if broken.why == DIED:
            code = channel.proc.returncode
            how = (f"signal {_signal_name(-code)}" if code is not None and code < 0
                   else f"exit status {code}")
            line = channel.stderr.last_line()
            return Execution(stdout="", ending=Ending.CRASHED, exit_code=None, seconds=seconds,
                             diagnostic=f"the QuickJS worker process died ({how})"
                                        + (f"; its stderr ended: {line[:300]}" if line else ""))
        if broken.why == FLOODED:
            what = (f"the QuickJS worker process wrote {broken.detail}, more than any reply "
                    "can take; it was killed")
        else:
            what = (f"the QuickJS worker process broke its protocol: {broken.detail}; it was "
                    "killed")
        return Execution(stdout="", ending=Ending.CRASHED, exit_code=None, seconds=seconds,
                         diagnostic=f"{what}; the next program runs in a fresh one")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _unavailable(job: Job, error: StartError) -> Execution:
    return Execution(stdout="", ending=Ending.UNAVAILABLE, exit_code=None,
                     diagnostic=f"the QuickJS worker process could not be started: {error}")


_EXCHANGE = _Exchange()


def run_isolated(job: Job) -> Execution:
    """`job` run in an idle QuickJS worker process, with a wall-clock limit."""
    (execution,) = run_pipelined((job,))
    return execution


def run_pipelined(jobs: Iterable[Job]) -> Iterator[Execution]:
    """run_isolated() for each job in turn, the same Executions in the same order, but with the
    next job sent before the current one's Execution is handed back: the worker starts it at
    once, while the caller judges. A job's wall-clock limit runs from when its worker could
    start it. Ending early (close()) kills a worker that still has jobs."""
    return pipeline(jobs, POOL, _EXCHANGE, _unavailable)
