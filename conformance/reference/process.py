"""The runner's side of the QuickJS worker process: jobs sent, replies read, stuck workers killed."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

from conformance.adapter import Ending, Execution
from conformance.command import kill_group, track, untrack
from conformance.reference import worker

#: Wall-clock seconds a program may take beyond twice its CPU limit before its QuickJS worker
#: is taken to be stuck in native code (where QuickJS does not check the CPU limit) and killed.
WALL_MARGIN = 1.0
#: Why a worker gave no Execution.
STUCK, DIED = "stuck", "died"
#: Jobs a pipelined run keeps sent ahead of the one whose reply it waits for.
AHEAD = 1
#: Bytes asked of the worker's pipe at once.
READ_SIZE = 1 << 16
#: Only jobs this small are sent ahead: a pipe holds them whole, so sending one never waits
#: on a worker busy writing a large reply that nobody reads yet.
AHEAD_BYTES = 48 << 10


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


class _Worker:
    """One QuickJS worker process (conformance.reference.worker) and the loader sources it has."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        # The worker watches for the runner's death by its pid (see worker.watch_parent).
        self.proc = subprocess.Popen([sys.executable, "-m", "conformance.reference.worker",
                                      str(self.pid)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.sources: set[str] = set()
        #: Bytes read from the worker and not yet taken as a reply.
        self.unread = bytearray()

    def usable(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.returncode is None:  # once reaped, its pid may be another's
            kill_group(self.proc.pid)
        self.proc.wait()
        untrack(self.proc.pid)

    def message(self, job: Job) -> bytes:
        """The bytes that make the worker run `job` (with its loader source, if new to it)."""
        source_id = _source_id(job.js_source)
        run = worker.encode(("run", source_id, job.input, job.timeout, job.memory_limit,
                             job.stack_limit, job.output_limit, job.harness_key))
        if source_id in self.sources:
            return run
        return worker.encode(("source", source_id, job.js_source)) + run

    def send(self, job: Job, data: bytes) -> bool:
        """Send message(job); False when the worker is gone (it is then killed)."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError:  # a broken pipe
            self.kill()
            return False
        self.sources.add(_source_id(job.js_source))
        return True

    def receive(self, deadline: float) -> Execution | str:
        """The next Execution; or, the worker killed, why: STUCK past `deadline` (monotonic),
        or DIED."""
        fd = self.proc.stdout.fileno()
        while True:
            if len(self.unread) >= worker.HEADER.size:
                end = worker.HEADER.size + worker.HEADER.unpack_from(self.unread)[0]
                if len(self.unread) >= end:
                    reply = pickle.loads(memoryview(self.unread)[worker.HEADER.size:end])
                    del self.unread[:end]
                    return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self.kill()
                return STUCK
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                self.kill()
                return DIED
            self.unread += chunk


#: Workers not running anything, kept for the next run in any thread.
_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _acquire() -> _Worker:
    """An idle worker, or a new one: a worker runs one caller's jobs at a time. It counts as
    running (command.track) until released, so that a stopped run kills it."""
    found = None
    with _idle_lock:
        while _idle and found is None:
            candidate = _idle.pop()
            if candidate.usable():
                found = candidate
    found = found or _Worker()
    track(found.proc.pid)
    return found


def _release(runner: _Worker) -> None:
    """Keep a worker that finished all it was sent for the next caller."""
    untrack(runner.proc.pid)
    if runner.usable():
        with _idle_lock:
            _idle.append(runner)


@functools.lru_cache(maxsize=64)
def _source_id(js_source: str) -> str:
    return hashlib.sha256(js_source.encode("utf-8")).hexdigest()[:16]


def _wall_limit(job: Job) -> float:
    return 2 * job.timeout + WALL_MARGIN


def _failure(why: str, job: Job, runner: _Worker, seconds: float) -> Execution:
    """The Execution of a job whose worker was killed: STUCK or DIED."""
    if why == STUCK:
        return Execution(stdout="", ending=Ending.TIMED_OUT, exit_code=None, seconds=seconds,
                         diagnostic=f"no answer within {_wall_limit(job):g} s of wall clock "
                                    "(QuickJS stuck in native code, where its CPU limit is not "
                                    "checked); the QuickJS worker process was killed")
    code = runner.proc.returncode
    how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit status {code}"
    return Execution(stdout="", ending=Ending.CRASHED, exit_code=None, seconds=seconds,
                     diagnostic=f"the QuickJS worker process died ({how})")


def run_isolated(job: Job) -> Execution:
    """`job` run in an idle QuickJS worker process, with a wall-clock limit."""
    (execution,) = run_pipelined((job,))
    return execution


def run_pipelined(jobs: Iterable[Job]) -> Iterator[Execution]:
    """run_isolated() for each job in turn, the same Executions in the same order, but with the
    next job sent before the current one's Execution is handed back: the worker starts it at
    once, while the caller judges. A job's wall-clock limit runs from when its worker could
    start it. Ending early (close()) kills a worker that still has jobs."""
    source = iter(jobs)
    sent: deque[Job] = deque()
    runner: _Worker | None = None
    free_since = time.monotonic()  # when the worker finished the job before the oldest sent
    exhausted = False
    try:
        while True:
            while not exhausted and len(sent) <= AHEAD:
                job = next(source, None)
                if job is None:
                    exhausted = True
                    break
                if not sent and (runner is None or not runner.usable()):
                    if runner is not None:
                        untrack(runner.proc.pid)
                    runner = _acquire()  # (with jobs sent, a dead worker is told by receive)
                data = runner.message(job)
                if sent and len(data) > AHEAD_BYTES:  # sent once the worker is free
                    source = _chain(job, source)
                    break
                if not runner.send(job, data):
                    sent.append(job)  # its receive() reports DIED
                    break
                if not sent:
                    free_since = time.monotonic()
                sent.append(job)
            if not sent:
                return
            # The job stays in `sent` until answered: stopped while it runs (Ctrl-C, close()),
            # this kills its worker rather than hand a busy one back to the pool.
            job = sent[0]
            reply = runner.receive(free_since + _wall_limit(job))
            sent.popleft()
            if isinstance(reply, str):
                # Jobs sent to the killed worker go to a fresh one.
                failed, runner = runner, None
                source, sent = _chain(*sent, source), deque()
                yield _failure(reply, job, failed, time.monotonic() - free_since)
            else:
                yield reply
            free_since = time.monotonic()
    finally:
        if sent and runner is not None:
            runner.kill()
        elif runner is not None:
            _release(runner)


def _chain(*items):
    """The jobs given, then the rest of the iterator that is the last argument."""
    *first, rest = items
    yield from first
    yield from rest
