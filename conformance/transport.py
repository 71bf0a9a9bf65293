"""Long-lived processes that take requests as JSON lines: started, fed ahead, read against a
deadline, killed with all their descendants and replaced when anything goes wrong."""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Iterator, Mapping, Sequence, TypeVar

from conformance.stopping import track, untrack
from conformance.descendants import Descendants, kill_group

#: Bytes asked of a process's stdout at once.
READ_SIZE = 1 << 16
#: Bytes of a process's stderr kept (the last ones) for a diagnostic.
STDERR_KEPT = 8 << 10
#: Requests a pipelined run keeps sent ahead of the one whose reply it waits for.
AHEAD = 1
#: Only requests this small are sent ahead: a pipe holds them whole, so sending one never
#: waits on a process busy writing a large reply that nobody reads yet.
AHEAD_BYTES = 48 << 10


@dataclass(frozen=True)
class Broken:
    """Why a process gave no reply; it has been killed."""

    #: STUCK (past the deadline), DIED (it ended), FLOODED (a line past the limit), GARBLED (a
    #: line that is not a JSON object).
    why: str
    detail: str = ""


STUCK, DIED, FLOODED, GARBLED = "stuck", "died", "flooded", "garbled"


class StartError(Exception):
    """A process that could not be started, or did not begin as its protocol says."""


class _Stderr(threading.Thread):
    """Reads a process's stderr to its end, keeping the last STDERR_KEPT bytes."""

    def __init__(self, pipe) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.kept = bytearray()

    def run(self) -> None:
        try:
            while chunk := self.pipe.read1(READ_SIZE):
                self.kept += chunk
                del self.kept[:-STDERR_KEPT]
        except (OSError, ValueError):
            pass

    def last_line(self) -> str:
        lines = self.kept.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""


class _Spawner(threading.Thread):
    """The thread that starts every long-lived process. A process started with a parent-death
    signal dies when the thread that started it ends (prctl PR_SET_PDEATHSIG): this thread
    lives as long as the runner, so a process outlives the run's worker threads, and dies
    with the runner."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="transport-spawner")
        self.requests: "queue.SimpleQueue" = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            start, done = self.requests.get()
            try:
                done.append(start())
            except BaseException as exc:  # handed to the caller
                done.append(exc)
            done.event.set()


class _Result(list):
    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _spawn(start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
    """start() run in the spawner thread; its result, or what it raised."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive() or _spawner.pid != os.getpid():
            _spawner = _Spawner()
            _spawner.pid = os.getpid()
            _spawner.start()
    result = _Result()
    _spawner.requests.put((start, result))
    result.event.wait()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


class Channel:
    """One long-lived process: a JSON object per line on its stdin, one per line back."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None,
                 line_limit: int) -> None:
        """Start `argv` in `cwd` (None: this process's) with `env` and the marks that find its
        descendants; a line from it longer than `line_limit` bytes is a flood."""
        self.argv = list(argv)
        self.line_limit = line_limit
        self.parent = os.getpid()
        self.family = Descendants(long_lived=True)
        #: What the process has been told that later requests may count on (its own use).
        self.state: dict[str, Any] = {}
        self.unread = bytearray()
        #: Bytes at the start of `unread` already searched for a line's end (and holding none).
        self.scanned = 0
        self.proc = _spawn(lambda: subprocess.Popen(
            self.argv, cwd=cwd, env={**env, **self.family.env}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=self.family.preexec()))
        self.family.started(self.proc.pid)
        track(self.proc.pid)
        self.stderr = _Stderr(self.proc.stderr)
        self.stderr.start()

    def usable(self) -> bool:
        return self.parent == os.getpid() and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the process and all it started; wait for it."""
        if self.proc.returncode is None:  # once reaped, its pid may be another's
            kill_group(self.proc.pid)
        self.proc.wait()
        self.family.kill()
        untrack(self.proc.pid)
        self.family.finished()
        self.stderr.join(1.0)
        try:  # stdout stays open: replies the process wrote before it ended can still be read
            self.proc.stdin.close()
        except OSError:
            pass

    def ending(self) -> str:
        """How the process ended, with the last line of its stderr."""
        code = self.proc.returncode
        if code is None:
            how = "it was still running"
        elif code < 0:
            how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        line = self.stderr.last_line()
        return how + (f"; its stderr ended: {line[:300]}" if line else "")

    @staticmethod
    def encode(messages: Iterable[Mapping[str, Any]]) -> bytes:
        """Each message as a line of JSON, every character beyond ASCII escaped: the line is
        valid UTF-8 whatever the strings hold, and a lone surrogate (a program may print one)
        travels as its \\uXXXX escape, which JSON parsers give back as that code unit."""
        return b"".join(json.dumps(m).encode("ascii") + b"\n" for m in messages)

    def send(self, messages: Iterable[Mapping[str, Any]]) -> bool:
        """Write each message as a line; False when the process is gone (it is then killed)."""
        return self.write(self.encode(messages))

    def write(self, data: bytes) -> bool:
        """Write lines made by encode(); False when the process is gone (it is then killed)."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError):  # a broken pipe
            self.kill()
            return False
        return True

    def receive(self, deadline: float) -> dict[str, Any] | Broken:
        """The next line as a JSON object; or, the process killed, why it gave none by
        `deadline` (monotonic)."""
        fd = self.proc.stdout.fileno()
        while True:
            # Only the bytes read since the last search: a long line arrives in many reads.
            end = self.unread.find(b"\n", self.scanned)
            if end >= 0:
                line = bytes(self.unread[:end])
                del self.unread[:end + 1]
                self.scanned = 0
                return self._parse(line)
            self.scanned = len(self.unread)
            if len(self.unread) > self.line_limit:
                self.kill()
                return Broken(FLOODED, f"a line longer than {self.line_limit} bytes")
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self.kill()
                return Broken(STUCK)
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                self.kill()
                return Broken(DIED, self.ending())
            self.unread += chunk

    def _parse(self, line: bytes) -> dict[str, Any] | Broken:
        if len(line) > self.line_limit:
            self.kill()
            return Broken(FLOODED, f"a line of {len(line)} bytes (limit {self.line_limit})")
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            self.kill()
            shown = line[:120].decode("utf-8", "replace")
            return Broken(GARBLED, f"not a line of JSON ({type(exc).__name__}): {shown!r}")
        if not isinstance(message, dict):
            self.kill()
            return Broken(GARBLED, f"a JSON {type(message).__name__}, not an object")
        return message


J = TypeVar("J")
R = TypeVar("R")


@dataclass
class Pool:
    """Idle channels of one kind, kept for the next caller in any thread."""

    start: Callable[[], Channel]
    idle: list[Channel] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> Channel:
        """An idle channel, or a new one (StartError when none can be started). It counts as
        running (stopping.track) until released, so that a stopped run kills it."""
        found = None
        with self.lock:
            while self.idle and found is None:
                candidate = self.idle.pop()
                if candidate.usable():
                    found = candidate
        if found is None:
            try:
                return self.start()  # tracked from its start
            except OSError as exc:
                raise StartError(exc.strerror or str(exc)) from None
        track(found.proc.pid)
        return found

    def release(self, channel: Channel) -> None:
        untrack(channel.proc.pid)
        if channel.usable():
            with self.lock:
                self.idle.append(channel)

    def close(self) -> None:
        """Kill every idle channel this process started (a forked child leaves its parent's
        alone)."""
        with self.lock:
            idle, self.idle = self.idle, []
        for channel in idle:
            if channel.parent == os.getpid():
                track(channel.proc.pid)
                channel.kill()


class Exchange(Generic[J, R]):
    """What a pipeline needs to know of one kind of request (see pipeline)."""

    def messages(self, channel: Channel, job: J) -> list[Mapping[str, Any]]:
        """The messages that make `channel` run `job`."""
        raise NotImplementedError

    def lines(self, channel: Channel, job: J) -> bytes:
        """messages() as the lines written (Channel.encode); an exchange that can write its
        lines more cheaply than through json.dumps gives them here."""
        return channel.encode(self.messages(channel, job))

    def sent(self, channel: Channel, job: J) -> None:
        """`job`'s messages were written to `channel`."""

    def limit(self, job: J) -> float:
        """Seconds `job` may take from when its channel is free to run it."""
        raise NotImplementedError

    def reply(self, channel: Channel, job: J, message: dict[str, Any],
              seconds: float) -> R | Broken:
        """The result of `job` from its reply; a Broken (the channel is then killed) when the
        reply breaks the protocol."""
        raise NotImplementedError

    def broken(self, channel: Channel, job: J, broken: Broken, seconds: float) -> R:
        """The result of `job` whose channel broke."""
        raise NotImplementedError


def pipeline(jobs: Iterable[J], pool: Pool, exchange: Exchange[J, R],
             unavailable: Callable[[J, StartError], R]) -> Iterator[R]:
    """A result for each job, in order, the next job sent before the current one's result is
    handed back: the process starts it at once, while the caller judges. A job's limit runs
    from when its channel could start it. A channel that breaks is killed, and the jobs sent
    to it go to a fresh one. Ending early (close()) kills a channel that still has jobs."""
    source = iter(jobs)
    sent: deque[J] = deque()
    channel: Channel | None = None
    free_since = time.monotonic()
    exhausted = False
    try:
        while True:
            while not exhausted and len(sent) <= AHEAD:
                job = next(source, None)
                if job is None:
                    exhausted = True
                    break
                if not sent and (channel is None or not channel.usable()):
                    if channel is not None:
                        untrack(channel.proc.pid)
                    try:
                        channel = pool.acquire()
                    except StartError as exc:
                        channel = None
                        yield unavailable(job, exc)
                        continue
                    free_since = time.monotonic()
                data = exchange.lines(channel, job)
                if sent and len(data) > AHEAD_BYTES:
                    source = _chain(job, source)  # sent once the channel is free
                    break
                if not channel.write(data):
                    sent.append(job)  # its receive() reports DIED
                    break
                exchange.sent(channel, job)
                if not sent:
                    free_since = time.monotonic()
                sent.append(job)
            if not sent:
                return
            # The job stays in `sent` until answered: stopped while it runs (Ctrl-C, close()),
            # this kills its channel rather than hand a busy one back to the pool.
            job = sent[0]
            message = channel.receive(free_since + exchange.limit(job))
            seconds = time.monotonic() - free_since
            result = (exchange.reply(channel, job, message, seconds)
                      if not isinstance(message, Broken) else message)
            if isinstance(result, Broken):
                if channel.usable():
                    channel.kill()
                broken_channel, channel = channel, None
                sent.popleft()
                source, sent = _chain(*sent, source), deque()
                yield exchange.broken(broken_channel, job, result, seconds)
            else:
                sent.popleft()
                yield result
            free_since = time.monotonic()
    finally:
        if channel is not None:
            if sent:
                channel.kill()
            else:
                pool.release(channel)


def _chain(*items):
    """The jobs given, then the rest of the iterator that is the last argument."""
    *first, rest = items
    yield from first
    yield from rest
